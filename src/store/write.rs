//! The one place that writes to the store.

use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use super::{Backend, Store, entry_writes, now};
use crate::catalogue::{Entry, GlossaryTerm, Organisation, Page, PageKind, Slug, Term, Vocabulary};

/// A batch of writes applied together or not at all.
#[derive(Debug, Default, Clone)]
pub struct ChangeSet {
    pub terms: Vec<(Vocabulary, Term)>,
    pub organisations: Vec<Organisation>,
    pub entries: Vec<Entry>,
    pub delete_entries: Vec<Slug>,
    pub pages: Vec<(PageKind, Page)>,
    pub glossary: Vec<GlossaryTerm>,
    /// Revisions these entries come from, marked published in the same
    /// transaction.
    pub published_revisions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// What a change set did (or, on a dry run, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub entries_created: usize,
    pub entries_updated: usize,
    pub entries_unchanged: usize,
    pub entries_deleted: usize,
    pub organisations_created: usize,
    pub organisations_updated: usize,
    pub organisations_unchanged: usize,
    pub terms_created: usize,
    pub terms_updated: usize,
    pub terms_unchanged: usize,
    pub content_created: usize,
    pub content_updated: usize,
    pub content_unchanged: usize,
    /// The last change log sequence number written, if any.
    pub last_seq: Option<i64>,
}

/// Why a change set was refused, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("entry `{slug}` cannot be deleted: {}", .linked_from.iter().map(|(s, k)| format!("`{s}` lists it in {k}")).collect::<Vec<_>>().join(", "))]
    StillLinked { slug: String, linked_from: Vec<(String, String)> },
    #[error("entry `{0}` does not exist")]
    NoSuchEntry(String),
    #[error("entry `{slug}` has id {id}, which another entry already has")]
    DuplicateId { slug: String, id: String },
    #[error("the name `{0}` is taken: choose another slug")]
    NameTaken(String),
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Database(e.into())
    }
}

pub(super) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl Store {
    /// Applies a change set in one transaction, appending one change log
    /// row per record that changed. With `dry_run` everything is done and
    /// then rolled back, so the summary is exactly what a real run would do.
    pub async fn apply(
        &self,
        set: &ChangeSet,
        actor: &str,
        dry_run: bool,
        progress: Option<&(dyn Fn(usize) + Send + Sync)>,
    ) -> Result<Summary, WriteError> {
        // The entries' writes are worked out before the write lock is
        // taken (see `entry_writes`), so other writers wait only while
        // rows are sent.
        let started = std::time::Instant::now();
        let mut conn = self.pool.acquire().await?;
        let prepared = entry_writes::prepare(&mut conn, &set.entries, &set.organisations).await?;
        prepared.stage(&mut conn, self.backend, progress).await?;
        let prepare_ms = started.elapsed().as_millis() as u64;
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write_on(&mut conn).await?;
        let locked = std::time::Instant::now();
        let prepared = if prepared.still_holds(&mut tx).await? {
            prepared
        } else {
            // Someone changed what the plan relies on meanwhile: work it
            // out again, now that nobody else can write.
            let again = entry_writes::prepare(&mut tx, &set.entries, &set.organisations).await?;
            again.stage(&mut tx, self.backend, None).await?;
            again
        };
        let mut summary = Summary::default();
        let at = now().to_rfc3339();
        let mut log = ChangeLog { actor, at: &at, last_seq: None };

        let positions = term_positions(&mut tx).await?;
        for (vocabulary, term) in &set.terms {
            let next = positions.get(vocabulary.key()).copied().unwrap_or(0) + 1 + summary.terms_created as i64;
            match upsert_term(&mut tx, &mut log, *vocabulary, term, next).await? {
                Outcome::Created => summary.terms_created += 1,
                Outcome::Updated => summary.terms_updated += 1,
                Outcome::Unchanged => summary.terms_unchanged += 1,
            }
        }
        for org in &set.organisations {
            match upsert_organisation(&mut tx, &mut log, org).await? {
                Outcome::Created => summary.organisations_created += 1,
                Outcome::Updated => summary.organisations_updated += 1,
                Outcome::Unchanged => summary.organisations_unchanged += 1,
            }
        }
        for w in &prepared.writes {
            match w.outcome {
                Outcome::Created => summary.entries_created += 1,
                Outcome::Updated => summary.entries_updated += 1,
                Outcome::Unchanged => summary.entries_unchanged += 1,
            }
        }
        prepared.write(&mut tx, &mut log).await?;
        let rows_ms = locked.elapsed().as_millis() as u64;
        for slug in &set.delete_entries {
            delete_entry(&mut tx, &mut log, slug).await?;
            summary.entries_deleted += 1;
        }
        let content = set
            .pages
            .iter()
            .map(|(kind, page)| (kind.as_str(), page.slug.as_str(), serde_json::to_value(page.content())))
            .chain(set.glossary.iter().map(|t| ("glossary", t.slug.as_str(), serde_json::to_value(t.content()))));
        for (kind, slug, doc) in content {
            let doc = doc.context("content document")?;
            match upsert_content(&mut tx, &mut log, kind, slug, &doc).await? {
                Outcome::Created => summary.content_created += 1,
                Outcome::Updated => summary.content_updated += 1,
                Outcome::Unchanged => summary.content_unchanged += 1,
            }
        }
        for id in &set.published_revisions {
            let done = sqlx::query(
                "UPDATE revisions SET state = 'published', reviewer = $2, updated_at = $3 WHERE id = $1 AND state <> 'published'",
            )
            .bind(id)
            .bind(actor)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(WriteError::Database(anyhow::anyhow!(
                    "revision `{id}` is not there or is already published"
                )));
            }
            let after = serde_json::json!({"state": "published"});
            log.append(&mut tx, "revision", id, Action::Update, None, Some(&after)).await?;
        }
        summary.last_seq = log.last_seq;
        let before_commit = locked.elapsed().as_millis() as u64;
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
            use std::sync::atomic::Ordering::Relaxed;
            self.written.0.fetch_add(1, Relaxed);
            self.written.1.fetch_add(
                (summary.entries_created + summary.entries_updated + summary.entries_deleted) as u64,
                Relaxed,
            );
        }
        let commit_ms = locked.elapsed().as_millis() as u64 - before_commit;
        drop(_guard);
        // The staged rows go with the connection back to the pool unless
        // dropped; a failure here costs only their space until next time.
        if let Err(e) = entry_writes::unstage(&mut conn).await {
            tracing::warn!(error = %e, "could not drop the staging tables");
        }
        tracing::debug!(
            entries = prepared.writes.len(),
            prepare_ms,
            rows_ms,
            rest_ms = before_commit - rows_ms,
            commit_ms,
            "change set applied"
        );
        Ok(summary)
    }
}

/// PostgreSQL: writers across instances take turns so change sequence
/// numbers become visible in order; followers rely on that.
const WRITERS_TAKE_TURNS: &str = "LOCK TABLE changes IN EXCLUSIVE MODE";

impl Store {
    /// [`Store::begin_write`] on a connection already taken from the pool.
    async fn begin_write_on<'c>(
        &self,
        conn: &'c mut sqlx::pool::PoolConnection<Any>,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = conn.begin().await?;
                sqlx::query(WRITERS_TAKE_TURNS).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }

    /// A transaction for writing, taken in turn with every other writer.
    /// Callers hold `write_lock` while it is open.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query(WRITERS_TAKE_TURNS).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }
}

pub(super) struct ChangeLog<'a> {
    actor: &'a str,
    at: &'a str,
    last_seq: Option<i64>,
}

impl<'a> ChangeLog<'a> {
    pub(super) fn new(actor: &'a str, at: &'a str) -> ChangeLog<'a> {
        ChangeLog { actor, at, last_seq: None }
    }

    pub(super) fn at(&self) -> &str {
        self.at
    }

    pub(super) fn actor(&self) -> &str {
        self.actor
    }

    /// Notes rows logged up to `seq` by a statement of the caller's own.
    pub(super) fn logged_up_to(&mut self, seq: i64) {
        self.last_seq = Some(seq);
    }

    pub(super) async fn append(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        entity: &str,
        entity_id: &str,
        action: Action,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), WriteError> {
        let row = sqlx::query(
            "INSERT INTO changes (entity, entity_id, action, actor, at, before_doc, after_doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(entity)
        .bind(entity_id)
        .bind(action.as_str())
        .bind(self.actor)
        .bind(self.at)
        .bind(before.map(Value::to_string))
        .bind(after.map(Value::to_string))
        .fetch_one(&mut **tx)
        .await?;
        self.last_seq = Some(row.get(0));
        Ok(())
    }
}

async fn term_positions(tx: &mut Transaction<'_, Any>) -> Result<HashMap<String, i64>, WriteError> {
    let rows = sqlx::query("SELECT vocabulary, MAX(position) FROM vocabulary_terms GROUP BY vocabulary")
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))).collect())
}

fn term_json(vocabulary: Vocabulary, term: &Term) -> Value {
    serde_json::json!({"vocabulary": vocabulary.key(), "slug": term.slug, "label": term.label,
                       "description": term.description, "aliases": term.aliases})
}

async fn upsert_term(
    tx: &mut Transaction<'_, Any>,
    log: &mut ChangeLog<'_>,
    vocabulary: Vocabulary,
    term: &Term,
    next_position: i64,
) -> Result<Outcome, WriteError> {
    let existing =
        sqlx::query("SELECT label, description, aliases FROM vocabulary_terms WHERE vocabulary = $1 AND slug = $2")
            .bind(vocabulary.key())
            .bind(term.slug.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    let aliases = serde_json::to_string(&term.aliases).context("aliases")?;
    let after = term_json(vocabulary, term);
    let id = format!("{}/{}", vocabulary.key(), term.slug);
    match existing {
        None => {
            sqlx::query(
                "INSERT INTO vocabulary_terms (vocabulary, slug, label, description, aliases, position) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(vocabulary.key())
            .bind(term.slug.as_str())
            .bind(&term.label)
            .bind(&term.description)
            .bind(&aliases)
            .bind(next_position)
            .execute(&mut **tx)
            .await?;
            log.append(tx, "term", &id, Action::Create, None, Some(&after)).await?;
            Ok(Outcome::Created)
        }
        Some(row) => {
            let before = Term {
                slug: term.slug.clone(),
                label: row.get(0),
                description: row.get(1),
                aliases: serde_json::from_str(&row.get::<String, _>(2)).context("aliases in the store")?,
            };
            if &before == term {
                return Ok(Outcome::Unchanged);
            }
            sqlx::query("UPDATE vocabulary_terms SET label = $3, description = $4, aliases = $5 WHERE vocabulary = $1 AND slug = $2")
                .bind(vocabulary.key())
                .bind(term.slug.as_str())
                .bind(&term.label)
                .bind(&term.description)
                .bind(&aliases)
                .execute(&mut **tx)
                .await?;
            log.append(tx, "term", &id, Action::Update, Some(&term_json(vocabulary, &before)), Some(&after)).await?;
            Ok(Outcome::Updated)
        }
    }
}

pub(super) fn document<T: Serialize>(record: &T) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("created_at");
        map.remove("updated_at");
    }
    value
}

async fn upsert_organisation(
    tx: &mut Transaction<'_, Any>,
    log: &mut ChangeLog<'_>,
    org: &Organisation,
) -> Result<Outcome, WriteError> {
    let existing = sqlx::query("SELECT id, document FROM organisations WHERE slug = $1")
        .bind(org.slug.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let at = log.at.to_owned();
    match existing {
        Some(row) => {
            let id: String = row.get(0);
            let before: Value = serde_json::from_str(&row.get::<String, _>(1)).context("organisation document")?;
            // The id is the organisation's identity: it never changes.
            let mut org = org.clone();
            org.id = id.parse().context("organisation id in the store")?;
            let after = document(&org);
            if before == after {
                return Ok(Outcome::Unchanged);
            }
            write_organisation(tx, &org, &after, &at).await?;
            log.append(tx, "organisation", &id, Action::Update, Some(&before), Some(&after)).await?;
            Ok(Outcome::Updated)
        }
        None => {
            let after = document(org);
            write_organisation(tx, org, &after, &at).await?;
            log.append(tx, "organisation", &org.id.to_string(), Action::Create, None, Some(&after)).await?;
            Ok(Outcome::Created)
        }
    }
}

/// Inserts or updates an organisation's row; an existing row keeps its
/// creation time.
async fn write_organisation(
    tx: &mut Transaction<'_, Any>,
    org: &Organisation,
    document: &Value,
    at: &str,
) -> Result<(), WriteError> {
    sqlx::query(
        "INSERT INTO organisations (id, slug, name, sort_name, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name, document = excluded.document, \
         updated_at = excluded.updated_at",
    )
    .bind(org.id.to_string())
    .bind(org.slug.as_str())
    .bind(&org.name)
    .bind(org.name.to_lowercase())
    .bind(document.to_string())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn delete_entry(tx: &mut Transaction<'_, Any>, log: &mut ChangeLog<'_>, slug: &Slug) -> Result<(), WriteError> {
    let row = sqlx::query("SELECT id, document FROM entries WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| WriteError::NoSuchEntry(slug.to_string()))?;
    let id: String = row.get(0);
    let before: Value = serde_json::from_str(&row.get::<String, _>(1)).context("entry document")?;
    let linked = sqlx::query(
        "SELECT source.slug, l.kind FROM entry_links l JOIN entries source ON source.id = l.entry_id \
         WHERE l.target_id = $1 AND l.entry_id <> $1 ORDER BY source.slug",
    )
    .bind(&id)
    .fetch_all(&mut **tx)
    .await?;
    if !linked.is_empty() {
        let linked_from = linked.iter().map(|r| (r.get(0), r.get(1))).collect();
        return Err(WriteError::StillLinked { slug: slug.to_string(), linked_from });
    }
    sqlx::query("DELETE FROM entries WHERE id = $1").bind(&id).execute(&mut **tx).await?;
    log.append(tx, "entry", &id, Action::Delete, Some(&before), None).await?;
    Ok(())
}

/// Inserts or updates a guide, site page or glossary term; the change log
/// names it `KIND/SLUG`.
async fn upsert_content(
    tx: &mut Transaction<'_, Any>,
    log: &mut ChangeLog<'_>,
    kind: &str,
    slug: &str,
    doc: &Value,
) -> Result<Outcome, WriteError> {
    let existing = sqlx::query("SELECT document FROM content WHERE kind = $1 AND slug = $2")
        .bind(kind)
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?;
    let before: Option<Value> = match existing {
        Some(row) => Some(serde_json::from_str(&row.get::<String, _>(0)).context("content document")?),
        None => None,
    };
    if before.as_ref() == Some(doc) {
        return Ok(Outcome::Unchanged);
    }
    sqlx::query(
        "INSERT INTO content (kind, slug, document, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind, slug) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
    )
    .bind(kind)
    .bind(slug)
    .bind(doc.to_string())
    .bind(log.at)
    .execute(&mut **tx)
    .await?;
    let id = format!("{kind}/{slug}");
    let action = if before.is_some() { Action::Update } else { Action::Create };
    log.append(tx, kind, &id, action, before.as_ref(), Some(doc)).await?;
    Ok(if before.is_some() { Outcome::Updated } else { Outcome::Created })
}
