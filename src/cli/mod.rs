//! The `standards` command line.

mod accounts;
mod backup;
mod check;
mod export;
pub mod generate;
mod import;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::store::Store;

#[derive(Parser)]
#[command(name = "standards", version, about = "The health and care interoperability standards directory")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the directory: web pages, JSON API and health checks.
    Serve(serve::ServeArgs),
    /// Import a file of entries (CSV, JSON or the national API catalogue); all or nothing.
    Import(import::ImportArgs),
    /// Write the whole catalogue out as JSON, or the entries as CSV.
    Export(export::ExportArgs),
    /// Copy the whole store (catalogue, history, people, tokens, audit) to
    /// one file: SQLite online, PostgreSQL with pg_dump.
    Backup(backup::BackupArgs),
    /// Put a backup in place of the store (a store with entries only with
    /// --force; SQLite keeps the replaced one beside it).
    Restore(backup::RestoreArgs),
    /// Copy a SQLite store whole (catalogue, history, content, people,
    /// tokens, audit) into an empty PostgreSQL store, checking row counts.
    Migrate(backup::MigrateArgs),
    /// Check the catalogue's content (the live store, or a file): mandates
    /// with dates, canonical codes, contacts, sources. Exit 1 on errors.
    Check(check::CheckArgs),
    /// Write a synthetic catalogue of N entries for benchmarks and load tests.
    Generate(generate::GenerateArgs),
    /// Manage people: add, list, disable.
    User(accounts::UserArgs),
    /// Manage API tokens: create, revoke, list.
    Token(accounts::TokenArgs),
    /// Internal: read one spreadsheet workbook from standard input under
    /// memory and time limits (the server and the importer run this).
    #[command(name = "read-workbook", hide = true)]
    ReadWorkbook {
        /// The most address space, in bytes.
        memory_bytes: String,
        /// The most CPU time, in seconds.
        seconds: String,
    },
}

/// Where the catalogue is kept; every command takes these.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory for the embedded SQLite store (created when missing).
    #[arg(long, env = "STANDARDS_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Use this database instead of the data directory: postgres://... or sqlite://FILE.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Log format: `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        let store = match &self.database_url {
            Some(url) if !url.trim().is_empty() => Store::open(url).await?,
            _ => Store::open_data_dir(&self.data_dir).await?,
        };
        store.seed_vocabularies().await?;
        Ok(store)
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("STANDARDS_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colour only for a person at a terminal: escape codes in a log file or
    // a journal are bytes to store and noise to read.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::ReadWorkbook { memory_bytes, seconds } = &cli.command {
        return crate::import::sandbox::child_main(&[memory_bytes.clone(), seconds.clone()]);
    }
    // Workbooks are read by this same program in a child process.
    match std::env::current_exe() {
        Ok(program) => {
            crate::import::sandbox::use_reader(crate::import::sandbox::Reader::new(program));
        }
        Err(e) => {
            eprintln!("warning: cannot find this program to read workbooks apart ({e}); they are read in-process")
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                init_logging(args.store.log_format);
                serve::run(args).await
            }
            Command::Import(args) => {
                init_logging(args.store.log_format);
                import::run(args).await
            }
            Command::Export(args) => export::run(args).await,
            Command::Check(args) => check::run(args).await,
            Command::Backup(args) => backup::backup(args).await,
            Command::Migrate(args) => backup::migrate(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::Generate(args) => generate::run(args).await,
            Command::User(args) => accounts::user(args).await,
            Command::Token(args) => accounts::token(args).await,
            Command::ReadWorkbook { .. } => unreachable!("handled before the runtime starts"),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
