//! How far a workbook's sheets reach, measured from its XML before the
//! workbook reader builds them.
//!
//! The reader (calamine) turns a sheet into a rectangle of cells from the
//! first cell holding anything to the last, so a file of a few kilobytes
//! with one value in row 1 and one in row 1,048,576 costs it millions of
//! cells and seconds of work; a cell reference past the last row, or a
//! string table claiming billions of strings, makes it ask for gigabytes;
//! and an OpenDocument file cut short inside a table makes it loop for
//! ever. Found by `tests/fuzz.rs`; see docs/hardening.md.
//!
//! So every XML part of a zipped workbook (XLSX, XLSM, ODS) is read here
//! first, in one streaming pass, and a workbook is refused, saying what and
//! where, when its XML is damaged or cut short, when a reference lies
//! beyond the last row or column a spreadsheet program can have, when its
//! string table claims more strings than [`MOST_STRINGS`], or when a
//! sheet's rectangle is far larger than what the file holds (see
//! [`Extent::allowed`]). What passes costs the reader time in proportion
//! to the file. Binary workbooks (XLS, XLSB) are left to the reader and
//! the child process it runs in.

use std::io::{BufRead, BufReader, Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::Problem;

/// The last row and column a spreadsheet program can have (Excel and
/// LibreOffice alike).
pub const MAX_ROW: u64 = 1_048_576;
pub const MAX_COLUMN: u64 = 16_384;
/// A sheet may always span this many cells, however few it writes.
const FREE_CELLS: u64 = 100_000;
/// Beyond that, a sheet may span this many cells for each one it writes
/// (a table with empty columns spans more cells than it writes, never
/// hundreds of times more)...
const CELLS_PER_WRITTEN_CELL: u64 = 16;
/// ...and never more than this (over 100,000 entries of 40 fields).
const MOST_CELLS: u64 = 5_000_000;
/// The most strings a shared-strings table may claim to hold.
pub const MOST_STRINGS: u64 = 2_000_000;
/// The most XML a workbook may unpack to.
const MOST_UNPACKED: u64 = 512 << 20;

/// Refuses a zipped workbook whose XML would make the reader loop or build
/// far more than the file holds; anything else (including a file that is
/// not a zip at all) is left to the reader.
pub fn check(bytes: &[u8]) -> Result<(), Problem> {
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut unpacked = 0u64;
    for index in 0..archive.len() {
        let Ok(part) = archive.by_index(index) else { continue };
        let name = part.name().map_or_else(|_| format!("number {}", index + 1), |n| n.into_owned());
        let mut input = BufReader::new(part.take(MOST_UNPACKED - unpacked + 1));
        let start = match input.fill_buf() {
            Ok(start) => start,
            Err(_) => continue,
        };
        if start.starts_with(&[0xFF, 0xFE]) || start.starts_with(&[0xFE, 0xFF]) {
            return Err(damaged(&name, "is saved as UTF-16 text, which spreadsheet programs never write"));
        }
        // A part named as XML is read as XML whatever it starts with (the
        // reader would); another is read only when it looks like XML, so
        // media, the `mimetype` marker and binary sheets pass.
        let lower = name.to_ascii_lowercase();
        let named_xml = lower.ends_with(".xml") || lower.ends_with(".rels");
        let first = start.iter().copied().find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF));
        if !named_xml && first != Some(b'<') {
            continue;
        }
        let mut counted = Counted { inner: input, bytes: 0 };
        let outcome = scan_part(&name, &mut counted);
        unpacked += counted.bytes;
        if unpacked > MOST_UNPACKED {
            return Err(Problem::whole_file(format!(
                "a workbook that unpacks to at most {} MB of XML (this one unpacks to more)",
                MOST_UNPACKED >> 20
            )));
        }
        outcome?;
    }
    Ok(())
}

/// A reader that counts what passes through it.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.bytes += amount as u64;
        self.inner.consume(amount);
    }
}

fn damaged(part: &str, what: &str) -> Problem {
    Problem::whole_file(format!("a workbook that is not damaged (its part `{part}` {what})"))
}

/// The cells a sheet holds: how many are written in the file and the
/// rectangle from the first to the last.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    written: u64,
    rows: Option<(u64, u64)>,
    columns: Option<(u64, u64)>,
}

impl Extent {
    /// Records a written cell covering rows `row..row + rows` and columns
    /// `column..column + columns` (more than one where OpenDocument
    /// repeats it).
    fn add(&mut self, row: u64, rows: u64, column: u64, columns: u64) {
        self.written += 1;
        let widen = |span: Option<(u64, u64)>, first: u64, last: u64| {
            Some(span.map_or((first, last), |(a, b)| (a.min(first), b.max(last))))
        };
        self.rows = widen(self.rows, row, row + rows.max(1) - 1);
        self.columns = widen(self.columns, column, column + columns.max(1) - 1);
    }

    /// How many cells the rectangle spans.
    pub fn cells(&self) -> u64 {
        match (self.rows, self.columns) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }

    /// The most cells a sheet writing this many may span.
    pub fn allowed(written: u64) -> u64 {
        FREE_CELLS.max(written.saturating_mul(CELLS_PER_WRITTEN_CELL)).min(MOST_CELLS)
    }

    fn within_bounds(&self, part: &str) -> Result<(), Problem> {
        let cells = self.cells();
        if cells <= Self::allowed(self.written) {
            return Ok(());
        }
        let (Some((r0, r1)), Some((c0, c1))) = (self.rows, self.columns) else { return Ok(()) };
        Err(Problem::whole_file(format!(
            "a sheet whose cells stay near its table (in `{part}`, {} cells written from {} to {} span {} cells; \
             delete stray cells far below or to the right of the table)",
            self.written,
            reference(r0, c0),
            reference(r1, c1),
            cells
        )))
    }
}

/// `A1`-style reference of a 0-based row and column.
fn reference(row: u64, column: u64) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// A cell or row reference (`B7`, or `7` for a row) as a 0-based row and
/// column, refused beyond the last row or column.
fn parse_reference(part: &str, text: &str) -> Result<(u64, Option<u64>), Problem> {
    let beyond = || {
        damaged(
            part,
            &format!("has a cell reference `{}` outside the sheet's {MAX_COLUMN} columns and {MAX_ROW} rows", text),
        )
    };
    let bytes = text.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let mut column = 0u64;
    for b in &bytes[..letters] {
        column = column * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1;
        if column > MAX_COLUMN {
            return Err(beyond());
        }
    }
    let digits = &bytes[letters..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(damaged(part, &format!("has a cell reference `{}` that is not one", text)));
    }
    let mut row = 0u64;
    for b in digits {
        row = row * 10 + u64::from(b - b'0');
        if row > MAX_ROW {
            return Err(beyond());
        }
    }
    if row == 0 {
        return Err(damaged(part, "has a cell reference to row 0"));
    }
    Ok((row - 1, column.checked_sub(1)))
}

fn attribute(part: &str, element: &BytesStart<'_>, key: &str) -> Result<Option<String>, Problem> {
    for attr in element.attributes() {
        let attr = attr.map_err(|e| damaged(part, &format!("has a broken attribute ({e})")))?;
        if attr.key.as_ref() == key || attr.key.local_name().as_ref() == key {
            return Ok(Some(attr.value.into_owned()));
        }
    }
    Ok(None)
}

/// A count attribute (`number-rows-repeated`, `uniqueCount`) as a number;
/// one too long to be a count reads as more than any limit.
fn count(value: &str) -> Option<u64> {
    let text = value.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().unwrap_or(u64::MAX))
}

/// Where the scan of an XLSX sheet stands (as the reader keeps it: a row
/// or cell without a reference follows the one before).
#[derive(Default)]
struct XlsxState {
    /// Inside the first `sheetData` (the only one the reader reads).
    in_data: bool,
    data_done: bool,
    row: u64,
    column: u64,
    /// The cell being read: its position and whether anything is in it.
    cell: Option<(u64, u64, bool)>,
    extent: Extent,
}

/// Where the scan of an OpenDocument table stands.
#[derive(Default)]
struct OdsState {
    /// Depth of the `table:table` being read, if any.
    table: Option<usize>,
    row: u64,
    /// The row being read: how often it repeats and the next column.
    current: Option<(u64, u64)>,
    /// The cell being read: its column, repeats, and whether anything is in it.
    cell: Option<(u64, u64, bool)>,
    extent: Extent,
}

fn scan_part(part: &str, input: &mut impl BufRead) -> Result<(), Problem> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut xlsx = XlsxState::default();
    let mut ods = OdsState::default();
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            damaged(part, &format!("is not well-formed XML near byte {} ({e})", reader.buffer_position()))
        })?;
        match event {
            Event::Start(element) => {
                depth += 1;
                open(part, &element, depth, false, &mut xlsx, &mut ods)?;
            }
            Event::Empty(element) => {
                open(part, &element, depth + 1, true, &mut xlsx, &mut ods)?;
                close(part, element.name().as_ref(), depth + 1, &mut xlsx, &mut ods)?;
            }
            Event::End(element) => {
                close(part, element.name().as_ref(), depth, &mut xlsx, &mut ods)?;
                depth = depth.saturating_sub(1);
            }
            Event::Text(text) if !text.as_ref().trim().is_empty() => {
                if let Some((_, _, filled)) = ods.cell.as_mut() {
                    *filled = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(damaged(part, "ends before its elements are closed (the file is cut short)"));
    }
    xlsx.extent.within_bounds(part)
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn open(
    part: &str,
    element: &BytesStart<'_>,
    depth: usize,
    empty: bool,
    xlsx: &mut XlsxState,
    ods: &mut OdsState,
) -> Result<(), Problem> {
    let name = element.name();
    let name = name.as_ref();
    if let Some(value) = attribute(part, element, "uniqueCount")?
        && count(&value).is_some_and(|n| n > MOST_STRINGS)
    {
        return Err(damaged(part, &format!("claims {value} shared strings, more than {MOST_STRINGS}")));
    }
    // XLSX: the reader reads cells between the first `<sheetData>` and its
    // end; a self-closing `<row/>` or `<c/>` it passes over.
    match local(name) {
        "sheetData" if !xlsx.in_data && !xlsx.data_done && !empty => {
            xlsx.in_data = true;
            xlsx.row = 0;
            xlsx.column = 0;
        }
        "row" if xlsx.in_data && xlsx.cell.is_none() && !empty => {
            if let Some(r) = attribute(part, element, "r")? {
                xlsx.row = parse_reference(part, &r)?.0;
            }
        }
        "c" if xlsx.in_data && xlsx.cell.is_none() && !empty => {
            let (row, column) = match attribute(part, element, "r")? {
                Some(r) => match parse_reference(part, &r)? {
                    (row, Some(column)) => (row, column),
                    (_, None) => return Err(damaged(part, "has a cell reference without a column")),
                },
                None => (xlsx.row, xlsx.column),
            };
            xlsx.column = column;
            xlsx.cell = Some((row, column, false));
        }
        _ if xlsx.in_data => {
            if let Some((_, _, filled)) = xlsx.cell.as_mut() {
                *filled = true;
            }
        }
        _ => {}
    }
    // OpenDocument: tables, rows and cells, with repeats.
    match name {
        "table:table" if ods.table.is_none() => {
            ods.table = Some(depth);
            ods.row = 0;
            ods.current = None;
            ods.cell = None;
            ods.extent = Extent::default();
        }
        "table:table-row" if ods.table.is_some() && ods.current.is_none() => {
            let repeats = match attribute(part, element, "table:number-rows-repeated")? {
                Some(v) => count(&v).ok_or_else(|| damaged(part, "has a row repeat count that is not a number"))?,
                None => 1,
            };
            ods.current = Some((repeats.clamp(1, MAX_ROW), 0));
        }
        "table:table-cell" | "table:covered-table-cell" if ods.current.is_some() && ods.cell.is_none() => {
            let repeats = match attribute(part, element, "table:number-columns-repeated")? {
                Some(v) => count(&v).ok_or_else(|| damaged(part, "has a column repeat count that is not a number"))?,
                None => 1,
            };
            let valued = element.attributes().flatten().any(|a| {
                let key = a.key.local_name();
                let key = key.as_ref();
                key.starts_with("value") || key.ends_with("value") || key == "formula" || key.starts_with("date")
            });
            let column = ods.current.map_or(0, |(_, next)| next);
            ods.cell = Some((column, repeats.clamp(1, MAX_COLUMN), valued));
        }
        _ => {
            if let Some((_, _, filled)) = ods.cell.as_mut() {
                *filled = true;
            }
        }
    }
    Ok(())
}

fn close(part: &str, name: &str, depth: usize, xlsx: &mut XlsxState, ods: &mut OdsState) -> Result<(), Problem> {
    if xlsx.in_data {
        match local(name) {
            "c" if xlsx.cell.is_some() => {
                if let Some((row, column, true)) = xlsx.cell {
                    xlsx.extent.add(row, 1, column, 1);
                }
                xlsx.cell = None;
                xlsx.column += 1;
            }
            "row" if xlsx.cell.is_none() => {
                xlsx.row += 1;
                xlsx.column = 0;
            }
            "sheetData" if xlsx.cell.is_none() => {
                xlsx.in_data = false;
                xlsx.data_done = true;
            }
            _ => {}
        }
    }
    match name {
        "table:table-cell" | "table:covered-table-cell" => {
            if let (Some((column, repeats, filled)), Some((rows, next))) = (ods.cell.take(), ods.current.as_mut()) {
                if filled {
                    ods.extent.add(ods.row, *rows, column, repeats);
                }
                *next = (column + repeats).min(MAX_COLUMN);
            }
        }
        "table:table-row" if ods.cell.is_none() => {
            if let Some((rows, _)) = ods.current.take() {
                ods.row = (ods.row + rows).min(MAX_ROW);
            }
        }
        "table:table" if ods.table == Some(depth) => {
            ods.table = None;
            ods.extent.within_bounds(part)?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zipped(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in parts {
            out.start_file(*name, options).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn sheet(rows: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData>{rows}</sheetData></worksheet>"#
        );
        zipped(&[("mimetype", "x"), ("xl/worksheets/sheet1.xml", &xml)])
    }

    fn ods(table: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>"#
        );
        zipped(&[("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", &xml)])
    }

    fn refusal(bytes: &[u8]) -> String {
        check(bytes).expect_err("refused").to_string()
    }

    #[test]
    fn a_table_near_its_first_cell_passes_and_a_file_that_is_not_a_zip_is_left_to_the_reader() {
        let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>slug</t></is></c><c r="B1" t="inlineStr"><is><t>title</t></is></c></row><row r="2"><c r="A2"><v>1</v></c><c><v>2</v></c></row>"#;
        assert_eq!(check(&sheet(rows)), Ok(()));
        assert_eq!(check(b"slug,title\nx,y\n"), Ok(()));
        assert_eq!(check(b"PK\x03\x04 not really a zip"), Ok(()));
    }

    #[test]
    fn a_value_far_below_the_table_is_refused_naming_where_it_reaches() {
        let rows = r#"<row r="1"><c r="A1"><v>1</v></c><c r="D1"><v>1</v></c></row><row r="1048576"><c r="A1048576"><v>2</v></c></row>"#;
        let message = refusal(&sheet(rows));
        assert!(message.contains("3 cells written from A1 to D1048576 span 4194304 cells"), "{message}");
        assert!(message.contains("xl/worksheets/sheet1.xml"), "{message}");
    }

    #[test]
    fn empty_cells_far_below_count_for_nothing_as_the_reader_skips_them() {
        let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="Z1048576" s="1"/><c r="Y1048576" s="1"></c></row>"#;
        assert_eq!(check(&sheet(rows)), Ok(()));
    }

    #[test]
    fn a_cell_following_one_far_below_is_placed_after_it() {
        // No reference: the reader puts the second cell beside the first.
        let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="900000"><c r="A900000"><v>1</v></c><c><v>2</v></c></row>"#;
        assert!(refusal(&sheet(rows)).contains("to B900000"));
    }

    #[test]
    fn a_reference_past_the_last_row_or_column_is_refused() {
        let rows = r#"<row><c r="A4000000000"><v>1</v></c></row>"#;
        assert!(refusal(&sheet(rows)).contains("cell reference `A4000000000` outside the sheet"));
        let rows = r#"<row r="1"><c r="XFE1"><v>1</v></c></row>"#;
        assert!(refusal(&sheet(rows)).contains("`XFE1`"));
        let rows = r#"<row r="99999999999"><c><v>1</v></c></row>"#;
        assert!(refusal(&sheet(rows)).contains("`99999999999`"));
    }

    #[test]
    fn a_string_table_claiming_billions_of_strings_is_refused() {
        let xml = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1000000000000"><si><t>a</t></si></sst>"#;
        let message = refusal(&zipped(&[("xl/sharedStrings.xml", xml)]));
        assert!(message.contains("`xl/sharedStrings.xml` claims 1000000000000 shared strings"), "{message}");
        let fine = xml.replace("1000000000000", "2000000");
        assert_eq!(check(&zipped(&[("xl/sharedStrings.xml", &fine)])), Ok(()));
    }

    #[test]
    fn xml_cut_short_or_broken_is_refused_as_damaged() {
        // Cut short inside a table: the reader would wait for the table's end for ever.
        let xml = r#"<?xml version="1.0"?><office:document-content xmlns:table="t" xmlns:office="o"><office:body><office:spreadsheet><table:table><table:table-row>"#;
        assert!(
            refusal(&zipped(&[("content.xml", xml)])).contains("`content.xml` ends before its elements are closed")
        );
        // A table whose end tag is swallowed: the closing tags no longer match.
        let swallowed =
            r#"<table:table table:name="S"><table:table-row><table:table-cell/></table:table-row></table:tab"#;
        assert!(refusal(&ods(swallowed)).contains("not well-formed XML"));
        assert!(refusal(&zipped(&[("content.xml", "<a><b></a>")])).contains("not well-formed XML"));
        // Found by fuzzing: a stray character before the declaration does not
        // stop a part named as XML being read as XML.
        let stray = format!(
            "\u{85}{}",
            r#"<?xml version="1.0"?><office:document-content xmlns:table="t" xmlns:office="o"><table:table><table:table-row></table:table-row></;table:table></office:document-content>"#
        );
        assert!(refusal(&zipped(&[("content.xml", &stray)])).contains("`content.xml` is not well-formed XML"));
        // A part that is not named as XML and does not look like it is media.
        assert_eq!(
            check(&zipped(&[
                ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
                ("Pictures/a.png", "\u{89}PNG")
            ])),
            Ok(())
        );
    }

    #[test]
    fn opendocument_repeats_count_as_the_cells_they_make() {
        let row = r#"<table:table-row table:number-rows-repeated="1048575"><table:table-cell office:value-type="float" office:value="1"/></table:table-row>"#;
        let table = format!(
            r#"<table:table table:name="S"><table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell table:number-columns-repeated="3"><text:p>b</text:p></table:table-cell></table:table-row>{row}</table:table>"#
        );
        let message = refusal(&ods(&table));
        assert!(message.contains("from A1 to D1048576"), "{message}");
    }

    #[test]
    fn opendocument_trailing_empty_rows_and_columns_count_for_nothing() {
        // What LibreOffice writes after a small table.
        let table = r#"<table:table table:name="S"><table:table-column table:number-columns-repeated="16384"/><table:table-row><table:table-cell office:value-type="string"><text:p>slug</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16383"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>"#;
        assert_eq!(check(&ods(table)), Ok(()));
    }

    #[test]
    fn the_allowance_grows_with_what_a_sheet_writes_up_to_a_ceiling() {
        assert_eq!(Extent::allowed(0), FREE_CELLS);
        assert_eq!(Extent::allowed(5_000), FREE_CELLS);
        assert_eq!(Extent::allowed(100_000), 1_600_000);
        assert_eq!(Extent::allowed(10_000_000), MOST_CELLS);
        assert_eq!(reference(0, 0), "A1");
        assert_eq!(reference(1_048_575, 16_383), "XFD1048576");
        assert_eq!(reference(4, 26), "AA5");
    }
}
