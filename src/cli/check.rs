//! `standards check`: the content check on the live catalogue or a file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::StoreArgs;
use crate::catalogue::Catalogue;
use crate::catalogue::check::{self, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per finding, then a count.
    Text,
    /// `{"checked", "errors", "warnings", "findings": [...]}`.
    Json,
}

#[derive(Args)]
pub struct CheckArgs {
    /// A catalogue file in the export format (JSON, like `standards export`
    /// writes) to check instead of the store.
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Check as of this date (YYYY-MM-DD) instead of today: sources checked
    /// more than a year before it are warned about.
    #[arg(long)]
    pub today: Option<NaiveDate>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Exit 1 with errors, 0 with none (warnings or not).
pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let catalogue: Catalogue = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| {
                format!("{}: not a catalogue in the export format (`standards export` writes one)", path.display())
            })?
        }
        None => {
            let store = args.store.open().await?;
            let catalogue = store.catalogue().await?;
            store.close().await;
            catalogue
        }
    };
    let today = args.today.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let findings = check::check(&catalogue, today);
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = findings.len() - errors;
    match args.format {
        CheckFormat::Text => {
            for f in &findings {
                println!("{f}");
            }
            println!(
                "checked {} entries as of {today}: {errors} error{}, {warnings} warning{}",
                catalogue.entries.len(),
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" }
            );
        }
        CheckFormat::Json => {
            let out = serde_json::json!({
                "checked": catalogue.entries.len(),
                "today": today.to_string(),
                "errors": errors,
                "warnings": warnings,
                "findings": findings,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
