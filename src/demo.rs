//! The bundled demo catalogue: real UK standards and national APIs, with
//! guides, site pages and a glossary, loaded through the same import code
//! as any JSON file.

use std::path::Path;

use serde_json::{Map, Value};

use crate::catalogue::PageKind;
use crate::import::{self, Format, ImportOptions, Location, Problem, RawCatalogue};
use crate::store::{Store, Summary};

pub const CATALOGUE: &str = include_str!("../demo/catalogue.json");
pub const GLOSSARY: &str = include_str!("../demo/content/glossary.json");

mod content {
    include!(concat!(env!("OUT_DIR"), "/demo_content.rs"));
}

/// Loads the demo catalogue into the store.
pub async fn load(store: &Store) -> anyhow::Result<Summary> {
    let vocabularies = store.vocabularies().await?;
    let mut raw = import::read_str(CATALOGUE, Format::Json, &vocabularies);
    add_content(&mut raw);
    let options = ImportOptions { format: Some(Format::Json), dry_run: false, actor: "system:demo", progress: None };
    match import::import_raw(store, Path::new("demo/catalogue.json"), raw, options).await? {
        Ok(summary) => Ok(summary),
        Err(e) => anyhow::bail!("the bundled demo catalogue is invalid (a test should have caught this):\n{e}"),
    }
}

/// Adds the demo's guides, site pages and glossary to a store that has
/// none (one made before they existed); true when it did.
pub async fn load_content_if_missing(store: &Store) -> anyhow::Result<bool> {
    if !store.pages(PageKind::Guide).await?.is_empty() || !store.glossary().await?.is_empty() {
        return Ok(false);
    }
    let mut raw = RawCatalogue::default();
    add_content(&mut raw);
    let options = ImportOptions { format: Some(Format::Json), dry_run: false, actor: "system:demo", progress: None };
    match import::import_raw(store, Path::new("demo/content"), raw, options).await? {
        Ok(_) => Ok(true),
        Err(e) => anyhow::bail!("the bundled demo content is invalid (a test should have caught this):\n{e}"),
    }
}

/// The demo's guides, site pages and glossary, as raw records.
pub fn add_content(raw: &mut RawCatalogue) {
    for (kind, files) in [(PageKind::Guide, content::GUIDES), (PageKind::Page, content::PAGES)] {
        for (name, text) in files {
            let location = Location::Path(format!("demo/content/{}/{name}", kind.key()));
            match markdown_page(name, text) {
                Ok(map) => raw.pages.push((location, kind, map)),
                Err(expected) => {
                    raw.problems.push(Problem { location: Some(location), column: None, value: None, expected })
                }
            }
        }
    }
    match serde_json::from_str::<Vec<Map<String, Value>>>(GLOSSARY) {
        Ok(terms) => {
            for (i, term) in terms.into_iter().enumerate() {
                raw.glossary.push((Location::Path(format!("demo/content/glossary.json[{i}]")), term));
            }
        }
        Err(e) => raw.problems.push(Problem::whole_file(format!("demo/content/glossary.json: a list of terms ({e})"))),
    }
}

/// A Markdown file with front matter (`title`, `summary`, `order` between
/// `---` lines) as a page record; the slug is the file name.
pub fn markdown_page(file_name: &str, text: &str) -> Result<Map<String, Value>, String> {
    let form = "front matter between `---` lines with title, summary and order, then Markdown";
    let rest = text.strip_prefix("---\n").ok_or_else(|| form.to_owned())?;
    let end = rest.find("\n---\n").ok_or_else(|| form.to_owned())?;
    let mut map = Map::new();
    map.insert("slug".into(), Value::String(file_name.trim_end_matches(".md").to_owned()));
    for line in rest[..end].lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) =
            line.split_once(':').ok_or_else(|| format!("`key: value` lines in the front matter, not `{line}`"))?;
        let value = value.trim();
        let value = match key.trim() {
            "order" => {
                Value::from(value.parse::<i64>().map_err(|_| format!("a whole number for order, not `{value}`"))?)
            }
            "title" | "summary" => Value::String(value.to_owned()),
            other => return Err(format!("only title, summary and order in the front matter, not `{other}`")),
        };
        map.insert(key.trim().to_owned(), value);
    }
    map.insert("body".into(), Value::String(rest[end + 5..].trim().to_owned()));
    Ok(map)
}
