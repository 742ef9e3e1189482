//! Spreadsheet upload in the browser, over HTTP as a browser sends it: CSV
//! and XLSX files are checked, previewed (every row problem, or what would
//! be created and changed), then confirmed; nothing is written before the
//! confirm, and then all or nothing. Publishers' uploads become drafts.

use crate::common;

use std::io::Write;
use std::time::Duration;

use common::browser::{Answer, Browser};
use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use standards::auth::password;
use standards::store::Role;

const PASSWORD: &str = "purple kettle tuesday";

async fn server(backend: Backend) -> TestServer {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let hash = password::hash(PASSWORD).unwrap();
    for (email, role, org) in
        [("editor@example.org", Role::Editor, None), ("pub@example.org", Role::Publisher, Some("prsb"))]
    {
        ts.store.add_user(email, role, org).await.unwrap();
        ts.store.set_password(email, &hash, "test").await.unwrap();
    }
    TestServer::start(ts).await
}

async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let mut b = Browser::new(s);
    assert_eq!(b.sign_in(email, PASSWORD).await.status, 303);
    b
}

/// Uploads a file through the upload form, as the form sends it.
async fn upload(b: &mut Browser, name: &str, bytes: Vec<u8>) -> Answer {
    let form = b.get("/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = Browser::csrf(&form.body);
    b.upload("/import", &[("csrf", &csrf), ("format", "guess")], ("file", name, bytes)).await
}

/// Confirms (or cancels) the upload whose preview is at `path`.
async fn decide(b: &mut Browser, path: &str, action: &str) -> Answer {
    let preview = b.get(path).await;
    let csrf = Browser::csrf(&preview.body);
    let digest = digest(&preview.body);
    b.post(path, &[("csrf", &csrf), ("digest", &digest), ("action", action)]).await
}

/// The fingerprint of what a preview showed, which its confirm sends back.
fn digest(page: &str) -> String {
    let field = "name=\"digest\" value=\"";
    let start = page.find(field).expect("a digest field") + field.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

const GOOD_CSV: &str = "slug,title,type,status,owner,category,summary,care_settings\n\
    new-referrals,New Referrals Standard,standard,draft-in-progress,prsb,record-standards,How referrals are recorded.,hospital; social-care\n\
    read-codes,Read codes (retired),standard,retired,nhs-england,data-definitions-and-terminologies,,gp-primary-care\n";

on_both_stores!(a_csv_upload_is_previewed_then_published_on_confirm, |backend| async move {
    let s = server(backend).await;
    let mut b = signed_in(&s, "editor@example.org").await;
    let before_seq = s.test_store.store.last_change_seq().await.unwrap();

    let sent = upload(&mut b, "referrals.csv", GOOD_CSV.as_bytes().to_vec()).await;
    assert_eq!(sent.status, 303, "{backend:?}: {}", sent.body);
    assert!(sent.location.starts_with("/import/"), "{}", sent.location);

    let preview = b.get(&sent.location).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let page = &preview.body;
    assert!(page.contains("1 new entry") && page.contains("New Referrals Standard"), "{page}");
    assert!(page.contains("1 changed entry") && page.contains("Read codes (retired)"), "{page}");
    assert!(page.contains("<del>Read codes</del>"), "the title's before value: {page}");
    assert!(page.contains("Confirm and publish"), "{page}");
    // Nothing is written by the upload or the preview.
    assert_eq!(s.test_store.store.last_change_seq().await.unwrap(), before_seq);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);

    let done = decide(&mut b, &sent.location, "confirm").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("referrals.csv is published"), "{}", done.body);
    let entry = s.get_json("/api/v1/standards/new-referrals").await;
    assert_eq!(entry["title"], "New Referrals Standard");
    assert_eq!(entry["care_settings"], serde_json::json!(["hospital", "social-care"]));
    assert_eq!(s.get_json("/api/v1/standards/read-codes").await["title"], "Read codes (retired)");
    // Searchable at once, and the change log names who did it.
    let found = s.get_json("/api/v1/search?q=referrals").await;
    assert_eq!(found["results"][0]["slug"], "new-referrals", "{found}");
    let changes = s.test_store.store.changes_since(before_seq, 100).await.unwrap();
    assert!(changes.iter().any(|c| c.entity == "entry" && c.actor == "editor@example.org"));
    let audit = s.test_store.store.audit_events(Some("import"), None, 10).await.unwrap();
    assert!(audit.iter().any(|e| e.detail.contains("referrals.csv: 1 created, 1 changed")), "{audit:?}");
    // The upload is used up.
    assert_eq!(b.get(&sent.location).await.status, 404);
    s.stop().await;
});

#[tokio::test]
async fn every_row_problem_is_shown_and_nothing_is_kept() {
    let s = server(Backend::Sqlite).await;
    let mut b = signed_in(&s, "editor@example.org").await;
    let before_seq = s.test_store.store.last_change_seq().await.unwrap();
    let csv = "slug,title,type,status,owner,category\n\
        fine-one,Fine One,standard,active,prsb,record-standards\n\
        bad-status,Bad Status,standard,nearly-done,prsb,record-standards\n\
        no-title,,standard,active,prsb,record-standards\n\
        unknown-owner,Unknown Owner,standard,active,nobody-at-all,record-standards\n";
    let sent = upload(&mut b, "broken.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    let page = &sent.body;
    assert!(page.contains("Nothing was imported: broken.csv has 3 problems"), "{page}");
    for (row, column, value) in [("row 3", "status", "nearly-done"), ("row 4", "title", ""), ("row 5", "owner", "")] {
        let cells = format!("<td class=\"nhsuk-table__cell\">{row}</td><td class=\"nhsuk-table__cell\">{column}</td>");
        assert!(page.contains(&cells), "{row} {column}: {page}");
        assert!(page.contains(value));
    }
    assert!(page.contains("nobody-at-all"), "{page}");
    assert_eq!(s.test_store.store.last_change_seq().await.unwrap(), before_seq);
    assert_eq!(s.get("/standards/fine-one").await.status(), 404);

    // A file that is neither text nor a workbook, and an empty form.
    let binary = upload(&mut b, "photo.png", vec![0x89, b'P', b'N', b'G', 0xff, 0xfe]).await;
    assert_eq!(binary.status, 422);
    assert!(binary.body.contains("UTF-8 text, or a spreadsheet workbook"), "{}", binary.body);
    let empty = upload(&mut b, "", Vec::new()).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Choose a CSV file or a spreadsheet to upload"), "{}", empty.body);
    assert!(!empty.body.contains("Problems in"), "{}", empty.body);
    let fake = upload(&mut b, "sheet.xlsx", b"not a zip".to_vec()).await;
    assert_eq!(fake.status, 422);
    assert!(fake.body.contains("a spreadsheet workbook (XLSX, XLS or ODS) that opens"), "{}", fake.body);
    s.stop().await;
}

/// A minimal XLSX workbook, written by hand: one sheet, strings inline,
/// and numbers; a cell styled `d` is a date (Excel's built-in format 14).
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", common::spreadsheet_column(c as u32), r + 1);
            if cell.is_empty() {
                continue;
            } else if let Some(serial) = cell.strip_prefix("date:") {
                sheet.push_str(&format!("<c r=\"{at}\" s=\"1\"><v>{serial}</v></c>"));
            } else if let Some(number) = cell.strip_prefix("number:") {
                sheet.push_str(&format!("<c r=\"{at}\"><v>{number}</v></c>"));
            } else {
                let text = cell.replace('&', "&amp;").replace('<', "&lt;");
                sheet.push_str(&format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>"));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    xlsx_package(sheet)
}

/// An XLSX package around one worksheet's XML.
fn xlsx_package(sheet: String) -> Vec<u8> {
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Entries" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/styles.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#.to_owned(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    zip_package(&parts)
}

fn zip_package(parts: &[(&str, String)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        out.start_file(*name, options).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// An OpenDocument spreadsheet package around `content.xml`.
fn ods_package(content: String) -> Vec<u8> {
    zip_package(&[
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet".to_owned()),
        ("content.xml", content),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_owned(),
        ),
    ])
}

/// Defects found by fuzzing (docs/hardening.md): the workbook reader loops
/// for ever on an OpenDocument file cut short inside a table, aborts the
/// whole process on an XLSX cell reference billions of rows down, and
/// spends seconds on a few kilobytes whose cells reach row 1,048,576. Each
/// is now refused before the reader runs, at once, saying where, and the
/// server goes on serving.
#[tokio::test]
async fn a_workbook_that_would_loop_or_exhaust_the_reader_is_refused_at_once_saying_where_and_the_server_goes_on() {
    let s = server(Backend::Sqlite).await;
    let mut b = signed_in(&s, "editor@example.org").await;
    let cut_short = ods_package(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Entries"><table:table-row><table:table-cell office:value-type="string"><text:p>slug</text:p></table:table-cell></table:table-row>"#.to_owned(),
    );
    let started = std::time::Instant::now();
    let looped = upload(&mut b, "entries.ods", cut_short).await;
    assert_eq!(looped.status, 422, "{}", looped.body);
    assert!(looped.body.contains("its part `content.xml` ends before its elements are closed"), "{}", looped.body);

    let beyond = xlsx_package(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>slug</t></is></c></row><row r="4000000000"><c r="ZZ4000000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#.to_owned(),
    );
    let aborted = upload(&mut b, "entries.xlsx", beyond).await;
    assert_eq!(aborted.status, 422, "{}", aborted.body);
    assert!(aborted.body.contains("cell reference `4000000000` outside the sheet"), "{}", aborted.body);

    let far_down = xlsx_package(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>slug</t></is></c><c r="L1" t="inlineStr"><is><t>title</t></is></c></row><row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData></worksheet>"#.to_owned(),
    );
    let slow = upload(&mut b, "entries.xlsx", far_down).await;
    assert_eq!(slow.status, 422, "{}", slow.body);
    assert!(slow.body.contains("3 cells written from A1 to L1048576"), "{}", slow.body);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // The server is still here, and a good workbook still reads.
    let good = xlsx(&[
        &["slug", "title", "type", "status", "owner", "category"],
        &["after-the-storm", "After the storm", "standard", "active", "prsb", "record-standards"],
    ]);
    let read = upload(&mut b, "entries.xlsx", good).await;
    assert_eq!(read.status, 303, "{}", read.body);
    s.stop().await;
}

/// A workbook of a million cells: within the reader's bounds, but seconds
/// of work in a test build.
fn million_cell_workbook() -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    let row = format!("<row>{}</row>", "<c><v>12345</v></c>".repeat(40));
    for _ in 0..25_000 {
        sheet.push_str(&row);
    }
    sheet.push_str("</sheetData></worksheet>");
    xlsx_package(sheet)
}

/// Whatever gets past the checks, the child process that reads workbooks
/// is stopped at its time limit and dies alone at its memory limit; each
/// is a refused file that says why.
#[test]
fn the_child_reader_is_stopped_at_its_time_limit_and_dies_alone_at_its_memory_limit() {
    use standards::import::sandbox::{Reader, read};
    let book = million_cell_workbook();
    let base = Reader::new(env!("CARGO_BIN_EXE_standards"));
    let started = std::time::Instant::now();
    let timed = read(&Reader { time: Duration::from_secs(1), ..base.clone() }, &book).expect_err("stopped");
    assert!(timed.expected.contains("reading stopped after 1 s"), "{}", timed.expected);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let starved = read(&Reader { memory_bytes: 16 << 20, ..base.clone() }, &book).expect_err("starved");
    assert!(starved.expected.contains("more than 16 MiB of memory"), "{}", starved.expected);
    // With the usual limits a workbook reads.
    let small = xlsx(&[&["slug", "title"], &["a", "A"]]);
    assert!(read(&base, &small).is_ok());
}

on_both_stores!(
    an_xlsx_upload_reads_dates_numbers_and_row_numbers_as_the_spreadsheet_shows_them,
    |backend| async move {
        let s = server(backend).await;
        let mut b = signed_in(&s, "editor@example.org").await;
        // 2027-04-01 is day 46478 in Excel's calendar.
        let header: &[&str] = &["slug", "title", "type", "status", "owner", "comply_by", "adoption_level", "category"];
        let good = xlsx(&[
            header,
            &[
                "sheet-standard",
                "Sheet Standard",
                "standard",
                "active",
                "prsb",
                "date:46478",
                "number:3",
                "record-standards",
            ],
        ]);
        let sent = upload(&mut b, "entries.xlsx", good).await;
        assert_eq!(sent.status, 303, "{backend:?}: {}", sent.body);
        let preview = b.get(&sent.location).await;
        assert!(preview.body.contains("entries.xlsx, read as the directory"), "{}", preview.body);
        assert!(preview.body.contains("Sheet Standard"), "{}", preview.body);
        let done = decide(&mut b, &sent.location, "confirm").await;
        assert_eq!(done.status, 200, "{}", done.body);
        let entry = s.get_json("/api/v1/standards/sheet-standard").await;
        assert_eq!(entry["comply_by"], "2027-04-01", "{entry}");
        assert_eq!(entry["adoption_level"], 3, "{entry}");

        let bad = xlsx(&[
            header,
            &["fine-row", "Fine", "standard", "active", "prsb", "", "", "record-standards"],
            &["bad-date", "Bad Date", "standard", "active", "prsb", "next spring", "", "record-standards"],
        ]);
        let refused = upload(&mut b, "bad.xlsx", bad).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        let cells = "<td class=\"nhsuk-table__cell\">row 3</td><td class=\"nhsuk-table__cell\">comply_by</td>";
        assert!(refused.body.contains(cells), "{}", refused.body);
        assert_eq!(s.get("/standards/fine-row").await.status(), 404);
        s.stop().await;
    }
);

#[tokio::test]
async fn the_command_line_imports_the_same_workbook() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("from-excel.xlsx");
    let header: &[&str] = &["slug", "title", "type", "status", "owner", "category"];
    std::fs::write(
        &path,
        xlsx(&[&[], header, &["cli-sheet", "From Excel", "api", "active", "nhs-england", "record-standards"]]),
    )
    .unwrap();
    let options = standards::import::ImportOptions { format: None, dry_run: false, actor: "test", progress: None };
    let summary = standards::import::import_file(&ts.store, &path, options).await.unwrap().unwrap();
    assert_eq!(summary.entries_created, 1);
    assert_eq!(ts.store.entry("cli-sheet").await.unwrap().unwrap().title, "From Excel");

    // A table that starts on the second row: problems keep the sheet's row numbers.
    std::fs::write(
        &path,
        xlsx(&[&[], header, &["cli-sheet-2", "", "api", "active", "nhs-england", "record-standards"]]),
    )
    .unwrap();
    let options = standards::import::ImportOptions { format: None, dry_run: false, actor: "test", progress: None };
    let refused = standards::import::import_file(&ts.store, &path, options).await.unwrap().unwrap_err();
    let text = refused.to_string();
    assert!(text.contains("row 3, column `title`"), "{text}");
    ts.finish().await;
}

#[tokio::test]
async fn a_change_made_after_the_preview_is_shown_before_anything_is_saved() {
    let s = server(Backend::Sqlite).await;
    let mut b = signed_in(&s, "editor@example.org").await;
    let sent = upload(&mut b, "referrals.csv", GOOD_CSV.as_bytes().to_vec()).await;
    let preview = b.get(&sent.location).await;
    let csrf = Browser::csrf(&preview.body);
    let seen = digest(&preview.body);
    // A change elsewhere that does not alter what the upload does is no reason to stop.
    load(
        &s.test_store.store,
        &serde_json::json!({"entries": [{
        "slug": "pds-fhir", "title": "Personal Demographics Service FHIR API", "type": "api", "owner": "nhs-england",
        "status": "active", "category": "technical-standards-and-specifications",
        "summary": "Changed elsewhere."}]}),
    )
    .await;
    let again = b.get(&sent.location).await;
    assert_eq!(digest(&again.body), seen, "the preview is the same");
    // Someone else changes an entry the upload changes.
    load(
        &s.test_store.store,
        &serde_json::json!({"entries": [{
        "slug": "read-codes", "title": "Read codes", "type": "standard", "owner": "nhs-england",
        "status": "retired", "category": "data-definitions-and-terminologies",
        "summary": "Changed by someone else."}]}),
    )
    .await;
    let first = b.post(&sent.location, &[("csrf", &csrf), ("digest", &seen), ("action", "confirm")]).await;
    assert_eq!(first.status, 409, "{}", first.body);
    assert!(first.body.contains("The directory changed"), "{}", first.body);
    assert!(first.body.contains("Changed by someone else."), "the preview is made again: {}", first.body);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);
    let second =
        b.post(&sent.location, &[("csrf", &csrf), ("digest", &digest(&first.body)), ("action", "confirm")]).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 200);
    s.stop().await;
}

on_both_stores!(a_publishers_upload_becomes_drafts_of_their_own_entries_only, |backend| async move {
    let s = server(backend).await;
    let mut b = signed_in(&s, "pub@example.org").await;
    let form = b.get("/import").await;
    assert!(form.body.contains("saved as drafts"), "{}", form.body);

    // A row of another organisation's entry is refused, with its row.
    let refused = upload(&mut b, "mixed.csv", GOOD_CSV.as_bytes().to_vec()).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("<td class=\"nhsuk-table__cell\">row 3</td>"), "{}", refused.body);
    assert!(refused.body.contains("Publishers write only their own organisation"), "{}", refused.body);

    let own = "slug,title,type,status,owner,category\n\
        new-referrals,New Referrals Standard,standard,draft-in-progress,prsb,record-standards\n\
        about-me,About Me (2027),standard,active,prsb,record-standards\n";
    let sent = upload(&mut b, "ours.csv", own.as_bytes().to_vec()).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let preview = b.get(&sent.location).await;
    assert!(preview.body.contains("Save as drafts"), "{}", preview.body);
    let done = decide(&mut b, &sent.location, "confirm").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("ours.csv is saved as drafts"), "{}", done.body);

    // Drafts: the public sees nothing new until an editor publishes.
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);
    assert_eq!(s.get_json("/api/v1/standards/about-me").await["title"], "About Me");
    let store = &s.test_store.store;
    let drafts = store.revisions(None, None, Some("prsb")).await.unwrap();
    let mut slugs: Vec<&str> = drafts.iter().map(|r| r.entry.as_str()).collect();
    slugs.sort();
    assert_eq!(slugs, ["about-me", "new-referrals"]);
    assert!(drafts.iter().all(|r| r.author == "pub@example.org" && r.state.as_str() == "draft"));
    s.stop().await;
});

#[tokio::test]
async fn uploads_need_a_signed_in_person_a_csrf_token_and_their_own_upload() {
    let s = server(Backend::Sqlite).await;
    let mut nobody = Browser::new(&s);
    let form = nobody.get("/import").await;
    assert_eq!((form.status, form.location.as_str()), (303, "/sign-in"));

    let mut editor = signed_in(&s, "editor@example.org").await;
    let no_token =
        editor.upload("/import", &[("format", "guess")], ("file", "a.csv", GOOD_CSV.as_bytes().to_vec())).await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);
    let wrong =
        editor.upload("/import", &[("csrf", "forged"), ("format", "guess")], ("file", "a.csv", GOOD_CSV.into())).await;
    assert_eq!(wrong.status, 403);

    let sent = upload(&mut editor, "referrals.csv", GOOD_CSV.as_bytes().to_vec()).await;
    assert_eq!(sent.status, 303);
    // Another person cannot see or confirm it; signed out, sign in first.
    let mut publisher = signed_in(&s, "pub@example.org").await;
    assert_eq!(publisher.get(&sent.location).await.status, 404);
    let csrf = Browser::csrf(&publisher.get("/import").await.body);
    assert_eq!(publisher.post(&sent.location, &[("csrf", &csrf), ("action", "confirm")]).await.status, 404);
    // A confirm without the preview's fingerprint shows the preview again.
    let csrf = Browser::csrf(&editor.get("/import").await.body);
    let blind = editor.post(&sent.location, &[("csrf", &csrf), ("action", "confirm")]).await;
    assert_eq!(blind.status, 409);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);
    assert_eq!(nobody.get(&sent.location).await.status, 303);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);

    // Cancelling drops it.
    let cancelled = decide(&mut editor, &sent.location, "cancel").await;
    assert_eq!((cancelled.status, cancelled.location.as_str()), (303, "/import"));
    assert_eq!(editor.get(&sent.location).await.status, 404);

    // Too large a file is refused before it is read.
    let csrf = Browser::csrf(&editor.get("/import").await.body);
    let huge = vec![b'x'; 11 * 1024 * 1024];
    let too_big = editor.upload("/import", &[("csrf", &csrf)], ("file", "huge.csv", huge)).await;
    assert_eq!(too_big.status, 413);
    assert!(too_big.body.contains("a file of up to 10 MB"), "{}", too_big.body);
    assert_eq!(s.get("/standards/new-referrals").await.status(), 404);
    s.stop().await;
}
