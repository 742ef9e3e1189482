//! Spreadsheet workbooks (XLSX, XLSM, XLSB, XLS, ODS): the first sheet
//! that holds anything becomes CSV text, which the CSV readers then take
//! exactly as they take a CSV file. A table that does not start on the
//! sheet's first row is read from its first row, and the offset returned
//! moves the row numbers back to those the spreadsheet program shows.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::Problem;

/// File name endings read as workbooks.
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

pub fn is_workbook(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(&format!(".{e}")))
}

/// A workbook's first non-empty sheet as CSV text, the sheet's name, and
/// how many empty rows come above the table.
///
/// Where a reader program is set (the `standards` program sets itself), the
/// workbook is read in a child process with memory and time limits, so a
/// damaged file that makes the reader loop or allocate without end costs
/// that process, never the server (see [`super::sandbox`]).
pub fn to_csv(bytes: &[u8]) -> Result<(String, String, usize), Problem> {
    match super::sandbox::reader() {
        Some(program) => super::sandbox::read(program, bytes),
        None => read_in_process(bytes),
    }
}

/// [`to_csv`] in this process: a panic in the reader is caught, but a loop
/// or a huge allocation in it is not.
pub fn read_in_process(bytes: &[u8]) -> Result<(String, String, usize), Problem> {
    // The workbook reader can panic on a damaged file (found by
    // tests/fuzz.rs: an overflow deep in its XLSX parser); that is a file
    // that does not open, never a failed request.
    std::panic::catch_unwind(|| read_first_sheet(bytes)).unwrap_or_else(|_| {
        Err(Problem::whole_file("a spreadsheet workbook (XLSX, XLS or ODS) that opens (this one is damaged)"))
    })
}

fn read_first_sheet(bytes: &[u8]) -> Result<(String, String, usize), Problem> {
    super::sheet_extent::check(bytes)?;
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| Problem::whole_file(format!("a spreadsheet workbook (XLSX, XLS or ODS) that opens ({e})")))?;
    let names = workbook.sheet_names();
    for (index, name) in names.iter().enumerate() {
        let range = match workbook.worksheet_range_at(index) {
            Some(Ok(range)) => range,
            Some(Err(e)) => return Err(Problem::whole_file(format!("a readable sheet `{name}` ({e})"))),
            None => continue,
        };
        if range.is_empty() || range.rows().all(|row| row.iter().all(|c| cell_text(c).trim().is_empty())) {
            continue;
        }
        let (first_row, _) = range.start().unwrap_or((0, 0));
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        let write = |out: &mut csv::Writer<Vec<u8>>, cells: Vec<String>| {
            out.write_record(&cells).map_err(|e| Problem::whole_file(format!("a sheet that converts to text ({e})")))
        };
        for row in range.rows() {
            let mut cells: Vec<String> = row.iter().map(cell_text).collect();
            while cells.len() > 1 && cells.last().is_some_and(|c| c.is_empty()) {
                cells.pop();
            }
            write(&mut out, cells)?;
        }
        let bytes = out.into_inner().map_err(|e| Problem::whole_file(format!("a sheet that converts ({e})")))?;
        let text = String::from_utf8(bytes).map_err(|e| Problem::whole_file(format!("text cells ({e})")))?;
        return Ok((text, name.clone(), first_row as usize));
    }
    Err(Problem::whole_file("a workbook with a sheet that holds a header row and entries (every sheet is empty)"))
}

/// A cell as the text a person sees in it: whole numbers without a
/// decimal point, dates as `YYYY-MM-DD`, true and false for booleans.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
            if (h, min, s) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{day:02}")
            } else {
                format!("{y:04}-{m:02}-{day:02}T{h:02}:{min:02}:{s:02}")
            }
        }
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
