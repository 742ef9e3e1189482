//! The bundled demo catalogue: real UK standards and national APIs,
//! loaded through the same import code as any JSON file.

use std::path::Path;

use crate::import::{self, Format, ImportOptions};
use crate::store::{Store, Summary};

pub const CATALOGUE: &str = include_str!("../demo/catalogue.json");

/// Loads the demo catalogue into the store.
pub async fn load(store: &Store) -> anyhow::Result<Summary> {
    let vocabularies = store.vocabularies().await?;
    let raw = import::read_str(CATALOGUE, Format::Json, &vocabularies);
    let options = ImportOptions { format: Some(Format::Json), dry_run: false, actor: "system:demo", progress: None };
    match import::import_raw(store, Path::new("demo/catalogue.json"), raw, options).await? {
        Ok(summary) => Ok(summary),
        Err(e) => anyhow::bail!("the bundled demo catalogue is invalid (a test should have caught this):\n{e}"),
    }
}
