//! `standards backup` and `standards restore`: a whole store to one file
//! and back. SQLite is copied online with `VACUUM INTO` (a consistent
//! snapshot while the directory keeps serving); PostgreSQL goes through
//! `pg_dump` and `pg_restore` in their custom format.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::Args;

use super::StoreArgs;
use crate::store::Store;

#[derive(Args)]
pub struct BackupArgs {
    /// The file to write (replaced only once the copy is complete).
    #[arg(long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file `standards backup` wrote.
    pub file: PathBuf,
    /// Replace a store that already holds entries (SQLite keeps the
    /// replaced database beside the new one).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Where the store's database is: a SQLite file, or a PostgreSQL URL and
/// the schema it works in (from `options=-c search_path=…`, if given).
enum Target {
    Sqlite(PathBuf),
    Postgres { url: String, schema: Option<String> },
}

fn target(args: &StoreArgs) -> anyhow::Result<Target> {
    match args.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(Target::Sqlite(args.data_dir.join("standards.db"))),
        Some(url) if url.starts_with("sqlite:") => {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            Ok(Target::Sqlite(PathBuf::from(path.split('?').next().unwrap_or(path))))
        }
        Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
            Ok(Target::Postgres { url: url.to_owned(), schema: search_path(url) })
        }
        Some(_) => bail!("--database-url must start sqlite: or postgres:"),
    }
}

/// The schema named by `search_path` in a PostgreSQL URL's `options`.
fn search_path(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let options = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "options")?.1.into_owned();
    let value = options.split("search_path=").nth(1)?;
    let schema = value.split([' ', ',']).next()?.trim();
    (!schema.is_empty()).then(|| schema.to_owned())
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let partial = args.output.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    match target(&args.store)? {
        Target::Sqlite(_) => {
            let store = args.store.open().await?;
            let entries = store.entry_count().await?;
            store.backup_sqlite(&partial).await?;
            store.close().await;
            finish(&partial, &args.output)?;
            eprintln!("backed up {entries} entries to {}", args.output.display());
        }
        Target::Postgres { url, schema } => {
            let mut dump = Command::new("pg_dump");
            dump.args(["--format=custom", "--no-owner", "--file"]).arg(&partial);
            if let Some(schema) = &schema {
                dump.args(["--schema", schema]);
            }
            run(dump.arg("--dbname").arg(&url), "pg_dump")?;
            finish(&partial, &args.output)?;
            eprintln!("backed up the PostgreSQL store to {}", args.output.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if !args.file.is_file() {
        bail!("{}: no such backup file", args.file.display());
    }
    // A store with entries is replaced only when asked: nothing saved is
    // lost by accident.
    let store = args.store.open().await?;
    let entries = store.entry_count().await?;
    store.close().await;
    if entries > 0 && !args.force {
        eprintln!(
            "error: the store already holds {entries} entries; give --force to replace it with {}",
            args.file.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    match target(&args.store)? {
        Target::Sqlite(db) => {
            check_sqlite_backup(&args.file).await?;
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let aside = db.with_extension(format!("db.before-restore-{stamp}"));
            let incoming = db.with_extension("db.restoring");
            std::fs::copy(&args.file, &incoming)
                .with_context(|| format!("cannot copy {} to {}", args.file.display(), incoming.display()))?;
            std::fs::rename(&db, &aside).with_context(|| format!("cannot move {} aside", db.display()))?;
            for suffix in ["-wal", "-shm"] {
                let extra = PathBuf::from(format!("{}{suffix}", db.display()));
                if extra.exists() {
                    std::fs::rename(&extra, PathBuf::from(format!("{}{suffix}", aside.display())))?;
                }
            }
            std::fs::rename(&incoming, &db)
                .with_context(|| format!("cannot put the backup in place at {}", db.display()))?;
            eprintln!("restored {} (the store it replaced is at {})", args.file.display(), aside.display());
        }
        Target::Postgres { url, schema } => {
            let mut restore = Command::new("pg_restore");
            restore.args(["--clean", "--if-exists", "--no-owner", "--single-transaction"]);
            if let Some(schema) = &schema {
                restore.args(["--schema", schema]);
            }
            run(restore.arg("--dbname").arg(&url).arg(&args.file), "pg_restore")?;
            eprintln!("restored {} into the PostgreSQL store", args.file.display());
        }
    }
    // Opening it applies any migrations the backup predates.
    let store = args.store.open().await?;
    let restored = store.entry_count().await?;
    store.close().await;
    eprintln!("the store now holds {restored} entries");
    Ok(ExitCode::SUCCESS)
}

/// A SQLite file that is one of ours: it opens read-only and holds the
/// catalogue's entries and changes log.
async fn check_sqlite_backup(file: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let not_ours = || format!("{}: not a backup of this directory", file.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("{} (it does not open as SQLite)", not_ours()))?;
    let found = sqlx::query("SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM changes)")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    found.with_context(|| format!("{} (it holds no catalogue)", not_ours()))?;
    Ok(())
}

fn finish(partial: &Path, output: &Path) -> anyhow::Result<()> {
    std::fs::rename(partial, output).with_context(|| format!("cannot write {}", output.display()))
}

fn run(command: &mut Command, name: &str) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("cannot run {name}: install PostgreSQL's client tools (Debian: postgresql-client)"))?;
    if !out.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[derive(Args)]
pub struct MigrateArgs {
    /// The PostgreSQL store to copy into: postgres://… (a new database, or a
    /// schema named by `options=-c search_path=…`); it must hold no entries,
    /// organisations, people or revisions yet.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Copies a SQLite store whole into PostgreSQL and checks every table's
/// row count on both sides.
pub async fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let Target::Sqlite(db) = target(&args.store)? else {
        bail!("migrate copies a SQLite store (--data-dir, or --database-url sqlite:…) into PostgreSQL");
    };
    if !(args.to.starts_with("postgres:") || args.to.starts_with("postgresql:")) {
        bail!("--to must be a PostgreSQL URL (postgres://…)");
    }
    if !db.is_file() {
        bail!("{}: no SQLite store there", db.display());
    }
    // Both at this version's schema first.
    args.store.open().await?.close().await;
    Store::open(&args.to).await?.close().await;
    let from = format!("sqlite://{}", db.display());
    let copied = crate::store::transfer::sqlite_to_postgres(&from, &args.to).await?;
    let source = crate::store::transfer::row_counts(&from).await?;
    let target = crate::store::transfer::row_counts(&args.to).await?;
    for (table, n) in &source {
        let there = target.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        if there != Some(*n) {
            bail!("table {table}: {n} rows in SQLite but {there:?} in PostgreSQL");
        }
    }
    for (table, n) in &copied {
        eprintln!("  {table}: {n} rows");
    }
    eprintln!("migrated {} into PostgreSQL; every table's row count matches", db.display());
    Ok(ExitCode::SUCCESS)
}
