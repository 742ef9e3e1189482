//! Reading the changes log: history, feeds and followers start here.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use super::Store;

/// One row of the changes log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Store {
    /// Changes with a sequence number above `after_seq`, oldest first.
    pub async fn changes_since(&self, after_seq: i64, limit: i64) -> anyhow::Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, entity, entity_id, action, actor, at, before_doc, after_doc FROM changes \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// Every change to one record (by entity and id), oldest first: its
    /// history.
    pub async fn changes_of(&self, entity: &str, entity_id: &str) -> anyhow::Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, entity, entity_id, action, actor, at, before_doc, after_doc FROM changes \
             WHERE entity = $1 AND entity_id = $2 ORDER BY seq",
        )
        .bind(entity)
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// The newest sequence number, or 0 for an empty log.
    pub async fn last_change_seq(&self) -> anyhow::Result<i64> {
        let row = sqlx::query("SELECT MAX(seq) FROM changes").fetch_one(&self.pool).await?;
        Ok(row.get::<Option<i64>, _>(0).unwrap_or(0))
    }
}

pub(super) fn change_from_row(r: &sqlx::any::AnyRow) -> anyhow::Result<Change> {
    let doc = |i: usize| -> anyhow::Result<Option<Value>> {
        r.get::<Option<String>, _>(i).map(|t| serde_json::from_str(&t)).transpose().map_err(Into::into)
    };
    Ok(Change {
        seq: r.get(0),
        entity: r.get(1),
        entity_id: r.get(2),
        action: r.get(3),
        actor: r.get(4),
        at: r.get(5),
        before: doc(6)?,
        after: doc(7)?,
    })
}
