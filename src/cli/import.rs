use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::StoreArgs;
use crate::import::{self, Format, ImportOptions};

#[derive(Args)]
pub struct ImportArgs {
    /// The file to import (for `--format ckan`, also a CKAN site's address).
    pub file: PathBuf,
    /// The file's layout; guessed from its name and first line when not given.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Check everything and report what would change, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let vocabularies = store.vocabularies().await?;
    let raw = match import::read_source(&args.file, args.format, &vocabularies).await {
        Ok(raw) => raw,
        Err(e) => {
            eprint!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let bar = if std::io::stderr().is_terminal() && import::entry_count(&raw) >= 100 {
        let bar = ProgressBar::new(import::entry_count(&raw) as u64);
        bar.set_style(ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} entries ({eta})")?);
        bar.set_message("importing");
        Some(bar)
    } else {
        None
    };
    let tick = |n: usize| {
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    };
    let actor = format!("import:{}", args.file.display());
    let options = ImportOptions { format: args.format, dry_run: args.dry_run, actor: &actor, progress: Some(&tick) };
    let result = import::import_raw(&store, &args.file, raw, options).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    store.close().await;
    match result? {
        Ok(s) => {
            let verb = if args.dry_run { "would import (dry run: nothing written)" } else { "imported" };
            println!("{}: {verb}", args.file.display());
            println!(
                "  entries: {} created, {} updated, {} unchanged",
                s.entries_created, s.entries_updated, s.entries_unchanged
            );
            println!(
                "  organisations: {} created, {} updated, {} unchanged",
                s.organisations_created, s.organisations_updated, s.organisations_unchanged
            );
            if s.terms_created + s.terms_updated > 0 {
                println!("  vocabulary terms: {} created, {} updated", s.terms_created, s.terms_updated);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprint!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
