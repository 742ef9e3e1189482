use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::{demo, export, synthetic};

#[derive(Args)]
pub struct GenerateArgs {
    /// How many entries to write.
    #[arg(long, default_value_t = 10_000)]
    pub entries: usize,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let base: crate::catalogue::Catalogue =
        serde_json::from_str(demo::CATALOGUE).context("the bundled demo catalogue")?;
    let catalogue = synthetic::generate(&base, args.entries);
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            export::write_json(&catalogue, file)?;
        }
        None => export::write_json(&catalogue, std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}
