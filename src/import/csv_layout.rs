//! The project's own CSV layout: a header row of field names (as in JSON),
//! one entry a row, list items separated by `;`.

use serde_json::{Map, Value};

use super::{Location, Problem, RawCatalogue};
use crate::catalogue::fields::ENTRY_FIELDS;

pub fn read(content: &str) -> RawCatalogue {
    let mut raw = RawCatalogue::default();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(content.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => {
            raw.problems.push(Problem::whole_file(format!("a CSV header row ({e})")));
            return raw;
        }
    };
    let mut known = Vec::with_capacity(headers.len());
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    for (i, name) in headers.iter().enumerate() {
        let ok = ENTRY_FIELDS.iter().any(|f| f.name == name);
        if !ok {
            raw.problems.push(Problem {
                location: Some(Location::Row(1)),
                column: Some(format!("{} (column {})", name, i + 1)),
                value: None,
                expected: "a field name from docs/catalogue-format.md, such as slug, title, status".into(),
            });
        }
        if !seen.insert(name.as_str()) {
            raw.problems.push(Problem {
                location: Some(Location::Row(1)),
                column: Some(name.clone()),
                value: None,
                expected: "each column name once".into(),
            });
        }
        known.push(ok);
    }
    // Rows are counted as a spreadsheet shows them: the header is row 1.
    for (index, result) in reader.records().enumerate() {
        let row = index + 2;
        match result {
            Ok(record) => {
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if record.len() > headers.len() {
                    raw.problems.push(Problem::row(
                        row,
                        format!("at most {} cells, one per header column (found {})", headers.len(), record.len()),
                    ));
                    continue;
                }
                let mut map = Map::new();
                for ((name, cell), ok) in headers.iter().zip(record.iter()).zip(&known) {
                    if *ok && !cell.trim().is_empty() {
                        let cell = crate::export::csv_writer::unescape_cell(cell);
                        map.insert(name.clone(), Value::String(cell.to_owned()));
                    }
                }
                raw.entries.push((Location::Row(row), map));
            }
            Err(e) => {
                raw.problems.push(Problem::row(row, format!("a well-formed CSV row ({e})")));
            }
        }
    }
    raw
}
