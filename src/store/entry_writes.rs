//! Writing many entries at once, prepared before the write lock is taken.
//!
//! Reading what is there, comparing documents and building every row is
//! the slow part of a large import; it happens outside the write
//! transaction, against the store as of one change sequence number. The
//! transaction then only checks that nothing it relies on changed since
//! (preparing again inside it if something did) and sends the rows in
//! batches, so other writers wait seconds, not minutes.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use serde_json::Value;
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::Backend;
use super::write::{Action, ChangeLog, LogRow, Outcome, WriteError, document};
use crate::catalogue::{Entry, Organisation, Vocabulary};

/// One entry's write, worked out in advance.
pub(super) struct EntryWrite {
    pub outcome: Outcome,
    pub id: String,
    slug: String,
    before: Option<Value>,
    after: Value,
    owner_id: String,
    sort_title: String,
    entry_type: &'static str,
    category: String,
    status: &'static str,
    mandated: bool,
    comply_by: Option<String>,
    terms: Vec<(&'static str, String)>,
    links: Vec<(&'static str, String)>,
}

/// Every entry write of a change set, as of change `seq`.
pub(super) struct PreparedEntries {
    pub seq: i64,
    pub writes: Vec<EntryWrite>,
    /// Entries whose state the plan relies on (written, linked to), by slug.
    relies_on: HashSet<String>,
}

/// Values per `IN (...)` list: well under SQLite's and PostgreSQL's limits
/// on bound values.
const BATCH: usize = 400;

/// Rows sent in one statement as one JSON array (binding thousands of
/// values one by one costs more than the database's own work).
const JSON_BATCH: usize = 2000;

/// `SELECT` of the columns of each row of a JSON array of arrays bound as
/// `$1`, in array order; `integers` are the columns that are numbers.
fn json_rows(backend: Backend, columns: usize, integers: &[usize]) -> String {
    let cells: Vec<String> = (0..columns)
        .map(|i| match backend {
            Backend::Sqlite => format!("value ->> {i}"),
            Backend::Postgres if integers.contains(&i) => format!("(x ->> {i})::bigint"),
            Backend::Postgres => format!("x ->> {i}"),
        })
        .collect();
    match backend {
        Backend::Sqlite => format!("SELECT {} FROM json_each($1) WHERE true ORDER BY key", cells.join(", ")),
        Backend::Postgres => format!(
            "SELECT {} FROM json_array_elements($1::json) WITH ORDINALITY AS t(x, n) WHERE true ORDER BY n",
            cells.join(", ")
        ),
    }
}

/// Inserts rows (each a JSON array of its column values) in batches.
pub(super) async fn insert_json_rows(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    insert: &str,
    tail: &str,
    integers: &[usize],
    rows: &[Value],
) -> Result<Vec<sqlx::any::AnyRow>, WriteError> {
    let mut out = Vec::new();
    let Some(width) = rows.first().and_then(Value::as_array).map(Vec::len) else { return Ok(out) };
    let sql = format!("{insert} {}{tail}", json_rows(backend, width, integers));
    for chunk in rows.chunks(JSON_BATCH) {
        let batch = Value::Array(chunk.to_vec()).to_string();
        out.extend(sqlx::query(&sql).bind(batch).fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

async fn max_seq(conn: &mut AnyConnection) -> Result<i64, WriteError> {
    let row = sqlx::query("SELECT MAX(seq) FROM changes").fetch_one(&mut *conn).await?;
    Ok(row.get::<Option<i64>, _>(0).unwrap_or(0))
}

/// Runs `statement` (a `SELECT` or `DELETE`) for the rows whose `column`
/// is one of `values`, a list at a time; answers the rows selected.
async fn where_in(
    conn: &mut AnyConnection,
    statement: &str,
    column: &str,
    values: &[&str],
) -> Result<Vec<sqlx::any::AnyRow>, WriteError> {
    let mut out = Vec::new();
    for chunk in values.chunks(BATCH) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{statement} WHERE {column} IN ({})", marks.join(", "));
        let mut q = sqlx::query(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Works out every entry write of a change set against the store as it is
/// on `conn` now. `organisations` are those written first in the same set.
pub(super) async fn prepare(
    conn: &mut AnyConnection,
    entries: &[Entry],
    organisations: &[Organisation],
) -> Result<PreparedEntries, WriteError> {
    let seq = max_seq(conn).await?;
    if entries.is_empty() {
        return Ok(PreparedEntries { seq, writes: Vec::new(), relies_on: HashSet::new() });
    }
    // Organisation ids by slug: the store's, then new ones from the set
    // (an organisation already stored keeps its id).
    let mut org_ids: HashMap<String, String> = sqlx::query("SELECT slug, id FROM organisations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for org in organisations {
        org_ids.entry(org.slug.to_string()).or_insert_with(|| org.id.to_string());
    }
    let slugs: Vec<&str> = entries.iter().map(|e| e.slug.as_str()).collect();
    let mut existing: HashMap<String, (String, String)> = HashMap::new();
    for row in where_in(conn, "SELECT slug, id, document FROM entries", "slug", &slugs).await? {
        existing.insert(row.get(0), (row.get(1), row.get(2)));
    }
    // New entries must not take an id another entry has.
    let new_ids: Vec<String> =
        entries.iter().filter(|e| !existing.contains_key(e.slug.as_str())).map(|e| e.id.to_string()).collect();
    let new_id_refs: Vec<&str> = new_ids.iter().map(String::as_str).collect();
    let taken: HashSet<String> =
        where_in(conn, "SELECT id FROM entries", "id", &new_id_refs).await?.iter().map(|r| r.get(0)).collect();

    let mut relies_on: HashSet<String> = slugs.iter().map(|s| (*s).to_owned()).collect();
    let mut writes = Vec::with_capacity(entries.len());
    for entry in entries {
        let slug = entry.slug.to_string();
        let (outcome, id, before) = match existing.get(&slug) {
            None => {
                let id = entry.id.to_string();
                if taken.contains(&id) {
                    return Err(WriteError::DuplicateId { slug, id });
                }
                (Outcome::Created, id, None)
            }
            Some((id, stored)) => {
                let before: Value = serde_json::from_str(stored).context("entry document")?;
                (Outcome::Updated, id.clone(), Some(before))
            }
        };
        // The id is the entry's identity: an update keeps the stored one.
        let mut entry = entry.clone();
        entry.id = id.parse().context("entry id in the store")?;
        let after = document(&entry);
        let outcome = if before.as_ref() == Some(&after) { Outcome::Unchanged } else { outcome };
        let owner_id = org_ids
            .get(entry.owner.as_str())
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("organisation `{}` does not exist", entry.owner))?;
        let terms = std::iter::once((Vocabulary::Category, &entry.category))
            .chain(entry.care_settings.iter().map(|t| (Vocabulary::CareSetting, t)))
            .chain(entry.topics.iter().map(|t| (Vocabulary::Topic, t)))
            .chain(entry.technologies.iter().map(|t| (Vocabulary::Technology, t)))
            .map(|(v, t)| (v.key(), t.to_string()))
            .collect();
        let links: Vec<(&'static str, String)> = entry.links().map(|(k, t)| (k, t.to_string())).collect();
        if !matches!(outcome, Outcome::Unchanged) {
            relies_on.extend(links.iter().map(|(_, t)| t.clone()));
        }
        writes.push(EntryWrite {
            outcome,
            id,
            slug,
            before,
            sort_title: entry.title.to_lowercase(),
            entry_type: entry.entry_type.as_str(),
            category: entry.category.to_string(),
            status: entry.status.slug(),
            mandated: entry.mandated,
            comply_by: entry.comply_by.map(|d| d.to_string()),
            owner_id,
            terms,
            links,
            after,
        });
    }
    Ok(PreparedEntries { seq, writes, relies_on })
}

impl PreparedEntries {
    /// Whether the plan still holds inside the write transaction: no entry
    /// it writes or links to, and no organisation, was changed since it
    /// was prepared.
    pub(super) async fn still_holds(&self, tx: &mut Transaction<'_, Any>) -> Result<bool, WriteError> {
        if self.writes.is_empty() {
            return Ok(true);
        }
        let rows = sqlx::query("SELECT entity, before_doc, after_doc FROM changes WHERE seq > $1")
            .bind(self.seq)
            .fetch_all(&mut **tx)
            .await?;
        for row in &rows {
            let entity: String = row.get(0);
            match entity.as_str() {
                "organisation" => return Ok(false),
                "entry" => {
                    for doc in [row.get::<Option<String>, _>(1), row.get::<Option<String>, _>(2)].into_iter().flatten()
                    {
                        let slug = serde_json::from_str::<Value>(&doc)
                            .ok()
                            .and_then(|d| d.get("slug").and_then(Value::as_str).map(str::to_owned));
                        if slug.is_none_or(|s| self.relies_on.contains(&s)) {
                            return Ok(false);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(true)
    }

    /// Writes the entries' rows, their terms and their change log rows, in
    /// batches. Links are written after, once every row exists.
    pub(super) async fn write(
        &self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        log: &mut ChangeLog<'_>,
        progress: Option<&(dyn Fn(usize) + Send + Sync)>,
    ) -> Result<(), WriteError> {
        let changed: Vec<&EntryWrite> =
            self.writes.iter().filter(|w| !matches!(w.outcome, Outcome::Unchanged)).collect();
        if let Some(progress) = progress {
            progress(self.writes.len() - changed.len());
        }
        let at = log.at().to_owned();
        for chunk in changed.chunks(JSON_BATCH) {
            let rows: Vec<Value> = chunk
                .iter()
                .map(|w| {
                    serde_json::json!([
                        w.id,
                        w.slug,
                        w.sort_title,
                        w.entry_type,
                        w.category,
                        w.status,
                        w.owner_id,
                        i64::from(w.mandated),
                        w.comply_by,
                        w.after.to_string(),
                        at,
                        at
                    ])
                })
                .collect();
            // A new row gets its creation time; an existing one keeps it.
            insert_json_rows(
                tx,
                backend,
                "INSERT INTO entries (id, slug, sort_title, entry_type, category, status, owner_id, mandated, comply_by, document, created_at, updated_at)",
                " ON CONFLICT (id) DO UPDATE SET sort_title = excluded.sort_title, entry_type = excluded.entry_type, \
                 category = excluded.category, status = excluded.status, owner_id = excluded.owner_id, mandated = excluded.mandated, \
                 comply_by = excluded.comply_by, document = excluded.document, updated_at = excluded.updated_at",
                &[7],
                &rows,
            )
            .await?;
            let updated: Vec<&str> =
                chunk.iter().filter(|w| matches!(w.outcome, Outcome::Updated)).map(|w| w.id.as_str()).collect();
            where_in(tx, "DELETE FROM entry_terms", "entry_id", &updated).await?;
            let terms: Vec<Value> =
                chunk.iter().flat_map(|w| w.terms.iter().map(|(v, t)| serde_json::json!([w.id, v, t]))).collect();
            insert_json_rows(tx, backend, "INSERT INTO entry_terms (entry_id, vocabulary, term)", "", &[], &terms)
                .await?;
            let changes: Vec<LogRow<'_>> = chunk
                .iter()
                .map(|w| {
                    let action = if w.before.is_some() { Action::Update } else { Action::Create };
                    ("entry", w.id.as_str(), action, w.before.as_ref(), Some(&w.after))
                })
                .collect();
            log.append_many(tx, backend, &changes).await?;
            if let Some(progress) = progress {
                progress(chunk.len());
            }
        }
        Ok(())
    }

    /// Replaces the links of every changed entry, each target by its id
    /// (in this set or already stored).
    pub(super) async fn write_links(&self, tx: &mut Transaction<'_, Any>, backend: Backend) -> Result<(), WriteError> {
        let changed: Vec<&EntryWrite> =
            self.writes.iter().filter(|w| !matches!(w.outcome, Outcome::Unchanged)).collect();
        let ids: Vec<&str> = changed.iter().map(|w| w.id.as_str()).collect();
        where_in(tx, "DELETE FROM entry_links", "entry_id", &ids).await?;
        let mut target_ids: HashMap<String, String> =
            self.writes.iter().map(|w| (w.slug.clone(), w.id.clone())).collect();
        let wanted: Vec<String> = changed
            .iter()
            .flat_map(|w| w.links.iter().map(|(_, t)| t.clone()))
            .filter(|t| !target_ids.contains_key(t))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let wanted_refs: Vec<&str> = wanted.iter().map(String::as_str).collect();
        for row in where_in(tx, "SELECT slug, id FROM entries", "slug", &wanted_refs).await? {
            target_ids.insert(row.get(0), row.get(1));
        }
        let mut rows: Vec<Value> = Vec::new();
        for w in &changed {
            for (kind, target) in &w.links {
                let target_id = target_ids.get(target).ok_or_else(|| {
                    anyhow::anyhow!("entry `{}`: {kind} names `{target}`, which does not exist", w.slug)
                })?;
                rows.push(serde_json::json!([w.id, kind, target_id]));
            }
        }
        insert_json_rows(
            tx,
            backend,
            "INSERT INTO entry_links (entry_id, kind, target_id)",
            " ON CONFLICT DO NOTHING",
            &[],
            &rows,
        )
        .await?;
        Ok(())
    }
}
