//! The store: the single source of truth. SQLite (embedded default) or
//! PostgreSQL (scale-out) behind one interface; every write goes through
//! [`Store::apply`], which appends to the `changes` log in the same
//! transaction.

mod accounts;
mod analytics;
mod changes;
mod entry_writes;
mod publishing;
mod query;
pub mod transfer;
mod uploads;
mod write;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::catalogue::{
    Catalogue, Entry, FORMAT, GlossaryTerm, Organisation, Page, PageKind, Term, Vocabularies, Vocabulary,
};

pub use accounts::{Person, Principal, Role, TokenInfo, User};
pub use analytics::QueryStat;
pub use changes::Change;
pub use publishing::{
    AUDIT_EVENTS, AuditEvent, LOCK_AFTER, LOCK_FOR, PASSWORD_LINK_VALID, PasswordLink, PasswordLinkUse, Revision,
    RevisionState, SESSION_ABSOLUTE, SESSION_IDLE, Session, SignIn,
};
pub use query::{EntryQuery, EntrySort};
pub use uploads::Upload;
pub use write::{Action, ChangeSet, Summary, WriteError};

/// Whether an error means the database cannot serve just now (it cannot
/// be reached, it is shutting down, or another writer holds it for longer
/// than a write waits), as opposed to a fault: such a request can be tried
/// again shortly and is answered 503 with `Retry-After`, never 500.
pub fn unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)) => true,
        Some(sqlx::Error::WorkerCrashed) => true,
        Some(sqlx::Error::Database(db)) => {
            let code = db.code().unwrap_or_default();
            // SQLite: busy, locked. PostgreSQL: connection failures (08…),
            // shutting down or starting up (57P01–57P03), too many connections.
            matches!(code.as_ref(), "5" | "6" | "517" | "261" | "262" | "53300" | "57P01" | "57P02" | "57P03")
                || code.starts_with("08")
        }
        _ => cause.downcast_ref::<std::io::Error>().is_some(),
    })
}

/// How long a client should wait before trying again after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Writes from this process go one at a time: SQLite allows one writer,
    /// and it keeps the changes log in commit order.
    write_lock: tokio::sync::Mutex<()>,
    /// Change sets committed by this process, and entries they wrote.
    written: (std::sync::atomic::AtomicU64, std::sync::atomic::AtomicU64),
}

/// How long a request waits for a database connection. Connections are
/// held for milliseconds, so a longer wait means the database is out of
/// reach: the request fails fast (503) rather than holding its worker.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a write waits for SQLite's write lock when another process
/// (a command-line import, say) holds it. Imports hold it briefly
/// (BENCHMARKS.md), so a write waits its turn.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_catalogue.sql")),
    (2, include_str!("migrations/0002_search_queries.sql")),
    (3, include_str!("migrations/0003_accounts.sql")),
    (4, include_str!("migrations/0004_content.sql")),
    (5, include_str!("migrations/0005_publishing.sql")),
    (6, include_str!("migrations/0006_uploads.sql")),
    (7, include_str!("migrations/0007_revision_base.sql")),
    (8, include_str!("migrations/0008_password_links.sql")),
    (9, include_str!("migrations/0009_audit_repeats.sql")),
];

impl Store {
    /// Opens (creating when needed) the SQLite store in a data directory.
    pub async fn open_data_dir(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let file = dir.join("standards.db");
        Store::open(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Opens the store at a database URL (`sqlite://FILE` or
    /// `postgres://...`) and applies any migrations it lacks.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL `{url}`: expected sqlite://FILE or postgres://USER@HOST/DATABASE");
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 10 })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            format!(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to the {} database at {}", backend.name(), redact(url)))?;
        if backend == Backend::Sqlite {
            sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let store = Store { pool, backend, write_lock: tokio::sync::Mutex::new(()), written: Default::default() };
        store.migrate().await?;
        Ok(store)
    }

    /// A consistent copy of a SQLite store in `path` (`VACUUM INTO`, which
    /// reads a snapshot while other connections go on writing).
    pub async fn backup_sqlite(&self, path: &std::path::Path) -> anyhow::Result<()> {
        if self.backend != Backend::Sqlite {
            anyhow::bail!("a PostgreSQL store is backed up with pg_dump");
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await
            .with_context(|| format!("cannot write a copy of the store to {}", path.display()))?;
        Ok(())
    }

    /// Connections in the pool, and how many of them are idle.
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Change sets applied by this process, and the entries they wrote.
    pub fn writes(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.written.0.load(Relaxed), self.written.1.load(Relaxed))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Instances starting together must not migrate at the same time.
            sqlx::query("SELECT pg_advisory_xact_lock(7305412)").execute(&mut *tx).await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .collect();
        for (version, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            let seq = match self.backend {
                Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
                Backend::Postgres => "BIGSERIAL PRIMARY KEY",
            };
            let sql = sql.replace("{{SEQ}}", seq);
            sqlx::raw_sql(&sql).execute(&mut *tx).await.with_context(|| format!("migration {version} failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now().to_rfc3339())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether the database answers; for `/readyz`.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn vocabularies(&self) -> anyhow::Result<Vocabularies> {
        let rows = sqlx::query(
            "SELECT vocabulary, slug, label, description, aliases FROM vocabulary_terms ORDER BY vocabulary, position, slug",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut vocabularies = Vocabularies::default();
        for row in rows {
            let key: String = row.get(0);
            let Some(vocabulary) = Vocabulary::from_key(&key) else {
                continue;
            };
            let term = Term {
                slug: crate::catalogue::Slug::parse(&row.get::<String, _>(1)).map_err(anyhow::Error::msg)?,
                label: row.get(2),
                description: row.get(3),
                aliases: serde_json::from_str(&row.get::<String, _>(4))?,
            };
            vocabularies.upsert(vocabulary, term);
        }
        Ok(vocabularies)
    }

    pub async fn organisations(&self) -> anyhow::Result<Vec<Organisation>> {
        let rows = sqlx::query("SELECT document, created_at, updated_at FROM organisations ORDER BY sort_name, slug")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(organisation_from_row).collect()
    }

    pub async fn organisation(&self, slug: &str) -> anyhow::Result<Option<Organisation>> {
        let row = sqlx::query("SELECT document, created_at, updated_at FROM organisations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(organisation_from_row).transpose()
    }

    pub async fn entry(&self, slug: &str) -> anyhow::Result<Option<Entry>> {
        let row = sqlx::query("SELECT document, created_at, updated_at FROM entries WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// Every entry, ordered by slug.
    pub async fn entries(&self) -> anyhow::Result<Vec<Entry>> {
        let rows = sqlx::query("SELECT document, created_at, updated_at FROM entries ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        // Parsing thousands of documents is most of start-up: use the cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        if rows.len() < 2000 || threads < 2 {
            return rows.iter().map(entry_from_row).collect();
        }
        let chunk = rows.len().div_ceil(threads);
        let parsed: Vec<anyhow::Result<Vec<Entry>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = rows
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(entry_from_row).collect::<anyhow::Result<Vec<_>>>()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a parser thread panicked"))))
                .collect()
        });
        let mut entries = Vec::with_capacity(rows.len());
        for part in parsed {
            entries.extend(part?);
        }
        Ok(entries)
    }

    pub async fn entry_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM entries").fetch_one(&self.pool).await?.get(0))
    }

    /// The slugs of entries that link to `slug`, with the kind of link.
    pub async fn links_to(&self, slug: &str) -> anyhow::Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT source.slug, l.kind FROM entry_links l \
             JOIN entries source ON source.id = l.entry_id \
             JOIN entries target ON target.id = l.target_id \
             WHERE target.slug = $1 ORDER BY source.slug, l.kind",
        )
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The whole catalogue, as `export` writes it.
    pub async fn catalogue(&self) -> anyhow::Result<Catalogue> {
        Ok(Catalogue {
            format: FORMAT.to_owned(),
            vocabularies: self.vocabularies().await?,
            organisations: self.organisations().await?,
            entries: self.entries().await?,
            guides: self.pages(PageKind::Guide).await?,
            pages: self.pages(PageKind::Page).await?,
            glossary: self.glossary().await?,
        })
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    // Microseconds are enough, and both databases keep them exactly.
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn parse_time(text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::<Utc>::from_str(text).with_context(|| format!("bad timestamp `{text}` in the store"))
}

fn entry_from_row(row: &AnyRow) -> anyhow::Result<Entry> {
    let mut entry: Entry = serde_json::from_str(&row.get::<String, _>(0)).context("bad entry document in the store")?;
    entry.created_at = Some(parse_time(&row.get::<String, _>(1))?);
    entry.updated_at = Some(parse_time(&row.get::<String, _>(2))?);
    Ok(entry)
}

fn organisation_from_row(row: &AnyRow) -> anyhow::Result<Organisation> {
    let mut org: Organisation =
        serde_json::from_str(&row.get::<String, _>(0)).context("bad organisation document in the store")?;
    org.created_at = Some(parse_time(&row.get::<String, _>(1))?);
    org.updated_at = Some(parse_time(&row.get::<String, _>(2))?);
    Ok(org)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &credentials[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// The slugs of every entry, for checking links.
    /// Every entry's (slug, id).
    pub async fn entry_keys(&self) -> anyhow::Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT slug, id FROM entries").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every licence entries name, once each, in order.
    pub async fn licences(&self) -> anyhow::Result<Vec<String>> {
        let licence = match self.backend {
            Backend::Sqlite => "json_extract(document, '$.licence')",
            Backend::Postgres => "(document::json ->> 'licence')",
        };
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT {licence} AS licence FROM entries WHERE {licence} IS NOT NULL ORDER BY licence"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// A page of entries, most recently updated first (then by slug).
    pub async fn entries_updated(&self, limit: i64, offset: i64) -> anyhow::Result<Vec<Entry>> {
        let rows = sqlx::query(
            "SELECT document, created_at, updated_at FROM entries ORDER BY updated_at DESC, slug LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn entry_slugs(&self) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query("SELECT slug FROM entries").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Fills an empty vocabulary table with the directory's default terms
    /// (care settings, topics, categories, technologies). They are data:
    /// editors change them later like any other record.
    pub async fn seed_vocabularies(&self) -> anyhow::Result<()> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM vocabulary_terms").fetch_one(&self.pool).await?.get(0);
        if count > 0 {
            return Ok(());
        }
        let defaults = crate::catalogue::Vocabularies::defaults();
        let mut set = ChangeSet::default();
        for vocabulary in Vocabulary::ALL {
            for term in defaults.terms(vocabulary) {
                set.terms.push((vocabulary, term.clone()));
            }
        }
        self.apply(&set, "system", false, None).await?;
        Ok(())
    }
}

impl Store {
    /// Guides or site pages, in their list order.
    pub async fn pages(&self, kind: PageKind) -> anyhow::Result<Vec<Page>> {
        let rows = sqlx::query("SELECT document, updated_at FROM content WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut pages = rows
            .iter()
            .map(|r| {
                let mut page: Page = serde_json::from_str(&r.get::<String, _>(0)).context("bad page in the store")?;
                page.updated_at = Some(parse_time(&r.get::<String, _>(1))?);
                Ok(page)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        pages.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.title.cmp(&b.title)));
        Ok(pages)
    }

    pub async fn page(&self, kind: PageKind, slug: &str) -> anyhow::Result<Option<Page>> {
        Ok(self.pages(kind).await?.into_iter().find(|p| p.slug.as_str() == slug))
    }

    /// The glossary, alphabetically.
    pub async fn glossary(&self) -> anyhow::Result<Vec<GlossaryTerm>> {
        let rows = sqlx::query("SELECT document, updated_at FROM content WHERE kind = 'glossary'")
            .fetch_all(&self.pool)
            .await?;
        let mut terms = rows
            .iter()
            .map(|r| {
                let mut term: GlossaryTerm =
                    serde_json::from_str(&r.get::<String, _>(0)).context("bad glossary term in the store")?;
                term.updated_at = Some(parse_time(&r.get::<String, _>(1))?);
                Ok(term)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        terms.sort_by_key(|t| t.term.to_lowercase());
        Ok(terms)
    }
}
