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

/// The audit log as a CSV download, for the API and the audit page alike.
pub fn audit_csv(events: &[crate::store::AuditEvent]) -> anyhow::Result<axum::response::Response> {
    let mut out = crate::export::csv_writer::CsvWriter::new(Vec::new());
    out.row(["seq", "at", "actor", "event", "outcome", "detail", "address", "source", "repeats"])?;
    for e in events {
        let (seq, repeats) = (e.seq.to_string(), e.repeats.to_string());
        let address = e.address.as_deref().unwrap_or("");
        out.row([seq.as_str(), &e.at, &e.actor, &e.event, &e.outcome, &e.detail, address, e.source, &repeats])?;
    }
    let bytes = out.finish()?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
    ];
    Ok(axum::response::IntoResponse::into_response((headers, bytes)))
}
