use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::import::{self, ImportOptions};
use crate::store::Store;
use crate::{demo, export, synthetic};

#[derive(Args)]
pub struct GenerateArgs {
    /// How many entries to write.
    #[arg(long, default_value_t = 10_000)]
    pub entries: usize,
    /// Also vary the entries of this file (any import format, such as the
    /// national API catalogue); may be repeated.
    #[arg(long = "with", value_name = "FILE")]
    pub with: Vec<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub async fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let base = base_catalogue(&args.with).await?;
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

/// The demo catalogue plus the given files, read through the import code
/// into a scratch store that is removed afterwards.
pub async fn base_catalogue(files: &[PathBuf]) -> anyhow::Result<crate::catalogue::Catalogue> {
    if files.is_empty() {
        return serde_json::from_str(demo::CATALOGUE).context("the bundled demo catalogue");
    }
    let dir = std::env::temp_dir().join(format!("standards-generate-{}", std::process::id()));
    let result = async {
        let store = Store::open_data_dir(&dir).await?;
        store.seed_vocabularies().await?;
        demo::load(&store).await?;
        for file in files {
            let options = ImportOptions { format: None, dry_run: false, actor: "generate", progress: None };
            if let Err(e) = import::import_file(&store, file, options).await? {
                anyhow::bail!("{e}");
            }
        }
        let catalogue = store.catalogue().await?;
        store.close().await;
        Ok(catalogue)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
