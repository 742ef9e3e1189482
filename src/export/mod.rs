//! Writing the catalogue out: JSON (everything) and CSV (entries, in the
//! column layout that `import --format csv` reads).

pub mod csv_writer;

use std::io::Write;

use serde_json::Value;

use crate::catalogue::fields::{ENTRY_FIELDS, join_list};
use crate::catalogue::{Catalogue, Entry};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

pub fn write_json<W: Write>(catalogue: &Catalogue, out: W) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, catalogue)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// One CSV cell for a field's JSON value.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(crate::catalogue::fields::item_text).collect();
            join_list(&texts)
        }
        other => other.to_string(),
    }
}

pub fn write_csv<W: Write>(entries: &[Entry], out: W) -> anyhow::Result<()> {
    let mut writer = csv_writer::CsvWriter::new(out);
    writer.row(ENTRY_FIELDS.iter().map(|f| f.name))?;
    for entry in entries {
        let json = entry.to_json();
        writer.row(ENTRY_FIELDS.iter().map(|f| cell(json.get(f.name).unwrap_or(&Value::Null))))?;
    }
    writer.finish()?.flush()?;
    Ok(())
}
