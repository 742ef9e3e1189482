//! Writing many entries at once, prepared before the write lock is taken.
//!
//! Reading what is there, comparing documents, building every row and
//! sending the rows to the database are the slow part of a large import;
//! they happen outside the write transaction, against the store as of one
//! change sequence number, into temporary tables of the connection. The
//! transaction then only checks that nothing it relies on changed since
//! (preparing and staging again inside it if something did) and copies the
//! staged rows with one statement per table, so other writers wait
//! seconds, not minutes.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use serde_json::Value;
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::Backend;
use super::write::{Action, ChangeLog, Outcome, WriteError, document};
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
    /// Entries whose stored documents the plan relies on: those it writes.
    writes_to: HashSet<String>,
    /// Entries outside the set it links to, whose existence it relies on.
    links_to: HashSet<String>,
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
    conn: &mut AnyConnection,
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
        out.extend(sqlx::query(&sql).bind(batch).fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The temporary tables rows are staged in, and how each is made.
const STAGE_TABLES: [(&str, &str); 5] = [
    (
        "stage_entries",
        "CREATE TEMPORARY TABLE stage_entries (ord INTEGER PRIMARY KEY, id TEXT NOT NULL, slug TEXT NOT NULL, sort_title TEXT NOT NULL, \
         entry_type TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL, owner_id TEXT NOT NULL, mandated INTEGER NOT NULL, \
         comply_by TEXT, document TEXT NOT NULL)",
    ),
    (
        "stage_terms",
        "CREATE TEMPORARY TABLE stage_terms (entry_id TEXT NOT NULL, vocabulary TEXT NOT NULL, term TEXT NOT NULL)",
    ),
    ("stage_updated", "CREATE TEMPORARY TABLE stage_updated (id TEXT PRIMARY KEY)"),
    (
        "stage_links",
        "CREATE TEMPORARY TABLE stage_links (entry_id TEXT NOT NULL, kind TEXT NOT NULL, target_id TEXT NOT NULL)",
    ),
    (
        "stage_changes",
        "CREATE TEMPORARY TABLE stage_changes (ord INTEGER PRIMARY KEY, entity_id TEXT NOT NULL, action TEXT NOT NULL, before_doc TEXT, after_doc TEXT)",
    ),
];

/// Drops the staging tables from `conn`, if it has them.
pub(super) async fn unstage(conn: &mut AnyConnection) -> Result<(), WriteError> {
    for (table, _) in STAGE_TABLES {
        sqlx::query(&format!("DROP TABLE IF EXISTS {table}")).execute(&mut *conn).await?;
    }
    Ok(())
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
        return Ok(PreparedEntries { seq, writes: Vec::new(), writes_to: HashSet::new(), links_to: HashSet::new() });
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

    let writes_to: HashSet<String> = slugs.iter().map(|s| (*s).to_owned()).collect();
    let mut links_to: HashSet<String> = HashSet::new();
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
            links_to.extend(links.iter().map(|(_, t)| t.clone()).filter(|t| !writes_to.contains(t)));
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
    Ok(PreparedEntries { seq, writes, writes_to, links_to })
}

impl PreparedEntries {
    /// Whether the plan still holds inside the write transaction: no
    /// organisation changed, no entry it writes changed, and every entry it
    /// links to is still there under the same slug (an edit to a linked
    /// entry's other fields does not matter).
    pub(super) async fn still_holds(&self, tx: &mut Transaction<'_, Any>) -> Result<bool, WriteError> {
        if self.writes.is_empty() {
            return Ok(true);
        }
        let rows = sqlx::query("SELECT entity, before_doc, after_doc FROM changes WHERE seq > $1")
            .bind(self.seq)
            .fetch_all(&mut **tx)
            .await?;
        let slug_of = |doc: Option<String>| -> Result<Option<String>, ()> {
            match doc {
                None => Ok(None),
                Some(doc) => serde_json::from_str::<Value>(&doc)
                    .ok()
                    .and_then(|d| d.get("slug").and_then(Value::as_str).map(str::to_owned))
                    .map(Some)
                    .ok_or(()),
            }
        };
        for row in rows {
            let entity: String = row.get(0);
            match entity.as_str() {
                "organisation" => return Ok(false),
                "entry" => {
                    let (Ok(before), Ok(after)) = (slug_of(row.get(1)), slug_of(row.get(2))) else { return Ok(false) };
                    let written = [&before, &after].into_iter().flatten().any(|s| self.writes_to.contains(s));
                    let gone = before.as_ref().is_some_and(|b| self.links_to.contains(b) && after.as_ref() != Some(b));
                    if written || gone {
                        return Ok(false);
                    }
                }
                _ => {}
            }
        }
        Ok(true)
    }

    /// Sends the changed entries' rows, terms and change-log rows to
    /// temporary tables on `conn`, in batches. This is the slow part of
    /// writing (each batch arrives as JSON to take apart), and temporary
    /// tables are the connection's own: other writers are not held up.
    pub(super) async fn stage(
        &self,
        conn: &mut AnyConnection,
        backend: Backend,
        progress: Option<&(dyn Fn(usize) + Send + Sync)>,
    ) -> Result<(), WriteError> {
        unstage(conn).await?;
        for table in STAGE_TABLES {
            sqlx::query(table.1).execute(&mut *conn).await?;
        }
        let changed: Vec<&EntryWrite> =
            self.writes.iter().filter(|w| !matches!(w.outcome, Outcome::Unchanged)).collect();
        if let Some(progress) = progress {
            progress(self.writes.len() - changed.len());
        }
        for (n, chunk) in changed.chunks(JSON_BATCH).enumerate() {
            let first = n * JSON_BATCH;
            let rows: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    serde_json::json!([
                        (first + i) as i64,
                        w.id,
                        w.slug,
                        w.sort_title,
                        w.entry_type,
                        w.category,
                        w.status,
                        w.owner_id,
                        i64::from(w.mandated),
                        w.comply_by,
                        w.after.to_string()
                    ])
                })
                .collect();
            insert_json_rows(
                conn,
                backend,
                "INSERT INTO stage_entries (ord, id, slug, sort_title, entry_type, category, status, owner_id, mandated, comply_by, document)",
                "",
                &[0, 8],
                &rows,
            )
            .await?;
            let terms: Vec<Value> =
                chunk.iter().flat_map(|w| w.terms.iter().map(|(v, t)| serde_json::json!([w.id, v, t]))).collect();
            insert_json_rows(conn, backend, "INSERT INTO stage_terms (entry_id, vocabulary, term)", "", &[], &terms)
                .await?;
            let changes: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let action = if w.before.is_some() { Action::Update } else { Action::Create };
                    serde_json::json!([
                        (first + i) as i64,
                        w.id,
                        action.as_str(),
                        w.before.as_ref().map(Value::to_string),
                        w.after.to_string()
                    ])
                })
                .collect();
            insert_json_rows(
                conn,
                backend,
                "INSERT INTO stage_changes (ord, entity_id, action, before_doc, after_doc)",
                "",
                &[0],
                &changes,
            )
            .await?;
            if let Some(progress) = progress {
                progress(chunk.len());
            }
        }
        let updated: Vec<Value> = changed
            .iter()
            .filter(|w| matches!(w.outcome, Outcome::Updated))
            .map(|w| serde_json::json!([w.id]))
            .collect();
        insert_json_rows(conn, backend, "INSERT INTO stage_updated (id)", "", &[], &updated).await?;
        let links = self.link_rows(conn, &changed).await?;
        insert_json_rows(conn, backend, "INSERT INTO stage_links (entry_id, kind, target_id)", "", &[], &links).await?;
        Ok(())
    }

    /// The links of the changed entries, each target by its id (in this set
    /// or already stored: the plan relies on those not changing).
    async fn link_rows(&self, conn: &mut AnyConnection, changed: &[&EntryWrite]) -> Result<Vec<Value>, WriteError> {
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
        for row in where_in(conn, "SELECT slug, id FROM entries", "slug", &wanted_refs).await? {
            target_ids.insert(row.get(0), row.get(1));
        }
        let mut rows = Vec::new();
        for w in changed {
            for (kind, target) in &w.links {
                let target_id = target_ids.get(target).ok_or_else(|| {
                    anyhow::anyhow!("entry `{}`: {kind} names `{target}`, which does not exist", w.slug)
                })?;
                rows.push(serde_json::json!([w.id, kind, target_id]));
            }
        }
        Ok(rows)
    }

    /// Copies the staged rows into the store's tables, one statement per
    /// table, inside the write transaction: entries, their terms and links,
    /// and their change-log rows, numbered in the entries' order.
    pub(super) async fn write(&self, tx: &mut Transaction<'_, Any>, log: &mut ChangeLog<'_>) -> Result<(), WriteError> {
        if self.writes.iter().all(|w| matches!(w.outcome, Outcome::Unchanged)) {
            return Ok(());
        }
        // A new row gets its creation time; an existing one keeps it.
        sqlx::query(
            "INSERT INTO entries (id, slug, sort_title, entry_type, category, status, owner_id, mandated, comply_by, document, created_at, updated_at) \
             SELECT id, slug, sort_title, entry_type, category, status, owner_id, mandated, comply_by, document, CAST($1 AS TEXT), CAST($1 AS TEXT) \
             FROM stage_entries WHERE true \
             ON CONFLICT (id) DO UPDATE SET sort_title = excluded.sort_title, entry_type = excluded.entry_type, \
             category = excluded.category, status = excluded.status, owner_id = excluded.owner_id, mandated = excluded.mandated, \
             comply_by = excluded.comply_by, document = excluded.document, updated_at = excluded.updated_at",
        )
        .bind(log.at())
        .execute(&mut **tx)
        .await?;
        // An updated entry's terms and links are replaced; a new one has none.
        for statement in [
            "DELETE FROM entry_terms WHERE entry_id IN (SELECT id FROM stage_updated)",
            "DELETE FROM entry_links WHERE entry_id IN (SELECT id FROM stage_updated)",
            "INSERT INTO entry_terms (entry_id, vocabulary, term) SELECT entry_id, vocabulary, term FROM stage_terms",
            // Rows first, links second, so entries in one set may link to
            // each other in any order.
            "INSERT INTO entry_links (entry_id, kind, target_id) SELECT entry_id, kind, target_id FROM stage_links \
             WHERE true ON CONFLICT DO NOTHING",
        ] {
            sqlx::query(statement).execute(&mut **tx).await?;
        }
        sqlx::query(
            "INSERT INTO changes (entity, entity_id, action, actor, at, before_doc, after_doc) \
             SELECT 'entry', entity_id, action, CAST($1 AS TEXT), CAST($2 AS TEXT), before_doc, after_doc FROM stage_changes ORDER BY ord",
        )
        .bind(log.actor())
        .bind(log.at())
        .execute(&mut **tx)
        .await?;
        let last = max_seq(tx).await?;
        log.logged_up_to(last);
        Ok(())
    }
}
