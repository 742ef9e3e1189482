//! What people search for, kept without personal data: the normalised
//! query text and counts, nothing about who asked.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::Store;

#[derive(Debug, Default)]
pub struct Analytics {
    pending: Mutex<HashMap<String, (u64, u64)>>,
}

pub use crate::store::QueryStat;

/// Lower case, single spaces, at most 200 characters.
pub fn normalise(q: &str) -> String {
    let joined = q.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    joined.chars().take(200).collect()
}

impl Analytics {
    pub fn record(&self, q: &str, total: usize) {
        let key = normalise(q);
        if key.is_empty() {
            return;
        }
        let mut pending = self.pending.lock().expect("analytics lock");
        let e = pending.entry(key).or_default();
        e.0 += 1;
        if total == 0 {
            e.1 += 1;
        }
    }

    /// Saves the counts gathered since the last flush.
    pub async fn flush(&self, store: &Store) -> anyhow::Result<()> {
        let batch: Vec<(String, (u64, u64))> =
            std::mem::take(&mut *self.pending.lock().expect("analytics lock")).into_iter().collect();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = store.record_searches(&batch).await {
            // Put them back so the next flush tries again.
            let mut pending = self.pending.lock().expect("analytics lock");
            for (k, (n, z)) in batch {
                let entry = pending.entry(k).or_default();
                entry.0 += n;
                entry.1 += z;
            }
            return Err(e);
        }
        Ok(())
    }
}
