use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::StoreArgs;
use crate::export::{self, ExportFormat};

#[derive(Args)]
pub struct ExportArgs {
    /// `json` writes everything (vocabularies, organisations, entries); `csv` writes the entries.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    let catalogue = store.catalogue().await?;
    store.close().await;
    let write = |out: Box<dyn std::io::Write>| match args.format {
        ExportFormat::Json => export::write_json(&catalogue, out),
        ExportFormat::Csv => export::write_csv(&catalogue.entries, out),
    };
    match &args.output {
        Some(path) => {
            // Write beside the target and rename, so a failed export never
            // leaves a half-written file where a good one was.
            let tmp = path.with_extension("partial");
            let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            write(Box::new(file))?;
            std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("exported {} entries to {}", catalogue.entries.len(), path.display());
        }
        None => write(Box::new(std::io::stdout().lock()))?,
    }
    Ok(ExitCode::SUCCESS)
}
