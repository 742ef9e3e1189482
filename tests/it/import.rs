//! Importing files: the national API catalogue, broken files, the
//! project's own CSV and JSON layouts, and round trips.

use crate::common;

use std::path::Path;

use common::fixtures::{load, small_catalogue};
use common::{Backend, TestStore, api_catalogue_csv};
use standards::catalogue::{EntryType, Status};
use standards::import::{self, Format, ImportOptions, Location};

fn options(dry_run: bool) -> ImportOptions<'static> {
    ImportOptions { format: None, dry_run, actor: "test", progress: None }
}

async fn import(
    store: &standards::store::Store,
    path: &Path,
) -> Result<standards::store::Summary, import::ImportError> {
    import::import_file(store, path, options(false)).await.unwrap()
}

fn slugs<S: AsRef<str>>(list: &[S]) -> Vec<&str> {
    list.iter().map(AsRef::as_ref).collect()
}

on_both_stores!(the_national_api_catalogue_becomes_113_api_entries, |backend| async move {
    let ts = TestStore::new(backend).await;
    let summary = import(&ts.store, &api_catalogue_csv()).await.unwrap();
    assert_eq!(summary.entries_created, 113);
    assert_eq!(summary.organisations_created, 2);
    let entries = ts.store.entries().await.unwrap();
    assert_eq!(entries.len(), 113);
    assert!(entries.iter().all(|e| e.entry_type == EntryType::Api));
    assert!(entries.iter().all(|e| e.category.as_str() == "technical-standards-and-specifications"));

    // Spot checks, field by field, against the spreadsheet.
    let pds = ts.store.entry("personal-demographics-service-fhir").await.unwrap().unwrap();
    assert_eq!(pds.title, "Personal Demographics Service - FHIR API");
    assert_eq!(pds.owner.as_str(), "nhs-digital");
    assert_eq!(pds.status, Status::Active);
    assert!(pds.summary.as_deref().unwrap().starts_with("A FHIR API giving access to patients' details held in PDS"));
    assert_eq!(pds.topics.iter().map(|t| t.as_str()).collect::<Vec<_>>(), vec!["demographics"]);
    for setting in ["gp-primary-care", "hospital", "urgent-and-emergency-care", "patient"] {
        assert!(pds.care_settings.iter().any(|s| s.as_str() == setting), "{setting}");
    }
    assert_eq!(slugs(&pds.technologies), vec!["fhir", "fhir-r4", "rest"]);
    assert_eq!(pds.access_network.as_deref(), Some("Internet"));
    assert_eq!(pds.environments, vec!["sandbox"]);
    assert_eq!(pds.digital_onboarding, Some(true));
    assert!(pds.tags.contains(&"AMBULANCE SERVICES".to_owned()), "a precise keyword is kept beside its care setting");
    assert!(pds.tags.contains(&"USES API PLATFORM".to_owned()), "an unmapped keyword is kept as a tag");
    assert!(pds.related.iter().any(|r| r.as_str() == "personal-demographics-service-hl7-v3"));
    assert!(
        pds.references.contains(&"https://digital.nhs.uk/services/nhais".to_owned()),
        "relations outside the file stay as references"
    );
    assert_eq!(pds.contact.as_deref(), Some("api.management@nhs.net"));
    assert_eq!(
        pds.documentation_url.as_deref(),
        Some("https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir")
    );

    // Several statuses in one cell: one status plus notes.
    let acs = ts.store.entry("access-control-service-hl7-v3").await.unwrap().unwrap();
    assert_eq!(acs.status, Status::Active);
    assert_eq!(acs.status_notes, vec!["Under review for deprecation"]);
    assert_eq!(slugs(&acs.technologies), vec!["hl7-v3"]);
    assert_eq!(acs.applies_to, vec!["COMMUNITY HEALTH"]);
    assert_eq!(slugs(&acs.topics), vec!["access-to-records"]);

    let deprecated = entries.iter().filter(|e| e.status == Status::Deprecated).count();
    assert_eq!(deprecated, 13, "ACTIVE, DEPRECATED rows are deprecated but noted as still in service");
    let in_development_only = entries.iter().filter(|e| e.status == Status::InDevelopment).count();
    assert_eq!(in_development_only, 19);

    let interopen = entries.iter().find(|e| e.owner.as_str() == "interopen").unwrap();
    assert_eq!(interopen.contact.as_deref(), Some("admin@interopen.org"));
    let org = ts.store.organisation("interopen").await.unwrap().unwrap();
    assert_eq!(org.name, "INTEROPen");
    assert_eq!(org.contact.as_deref(), Some("admin@interopen.org"));
    let nhsd = ts.store.organisation("nhs-digital").await.unwrap().unwrap();
    assert_eq!(nhsd.identifier.as_deref(), Some("https://ror.org/03am1eg44"));

    // Importing again changes nothing.
    let again = import(&ts.store, &api_catalogue_csv()).await.unwrap();
    assert_eq!((again.entries_unchanged, again.entries_created, again.entries_updated), (113, 0, 0));
    ts.finish().await;
});

/// The API catalogue with a bad status on one row and no title on another.
fn broken_api_catalogue(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(api_catalogue_csv()).unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_owned).collect();
    // Row 5 as a spreadsheet numbers it (three header rows first), and the
    // Booking and Referral row.
    assert!(rows[4].contains(",ACTIVE,"), "{}", rows[4]);
    rows[4] = rows[4].replacen(",ACTIVE,", ",LIVE,", 1);
    let title = "Alerts - HL7 V3 API";
    let row9 = rows
        .iter()
        .position(|r| r.starts_with("https://digital.nhs.uk/developer/api-catalogue/booking-and-referral-fhir"))
        .unwrap();
    let cells: Vec<&str> = rows[row9].splitn(3, ',').collect();
    rows[row9] = format!("{},,{}", cells[0], cells[2]);
    assert_ne!(rows[row9].split(',').nth(1), Some(title));
    let path = dir.join("broken.csv");
    std::fs::write(&path, rows.join("\n")).unwrap();
    path
}

on_both_stores!(a_broken_file_reports_every_error_with_its_row_and_writes_nothing, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let seq = ts.store.last_change_seq().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = broken_api_catalogue(dir.path());
    let rows: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
    let title_row = rows
        .iter()
        .position(|r| r.starts_with("https://digital.nhs.uk/developer/api-catalogue/booking-and-referral-fhir"))
        .unwrap()
        + 1;

    let err = import(&ts.store, &path).await.unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    let status = &err.problems[0];
    assert_eq!(status.location, Some(Location::Row(5)));
    assert_eq!(status.column.as_deref(), Some("Registration Status"));
    assert_eq!(status.value.as_deref(), Some("LIVE"));
    let title = &err.problems[1];
    assert_eq!(title.location, Some(Location::Row(title_row)));
    assert_eq!(title.column.as_deref(), Some("title"));
    let message = err.to_string();
    assert!(
        message.contains("broken.csv") && message.contains("row 5") && message.contains(&format!("row {title_row}")),
        "{message}"
    );
    assert!(message.contains("nothing was imported"), "{message}");

    assert_eq!(ts.store.entry_count().await.unwrap(), 5, "store unchanged");
    assert_eq!(ts.store.last_change_seq().await.unwrap(), seq);
    ts.finish().await;
});

on_both_stores!(an_export_imported_into_an_empty_store_gives_back_the_same_catalogue, |backend| async move {
    let source = TestStore::new(backend).await;
    load(&source.store, &small_catalogue()).await;
    import(&source.store, &api_catalogue_csv()).await.unwrap();
    let exported = source.store.catalogue().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    standards::export::write_json(&exported, std::fs::File::create(&file).unwrap()).unwrap();

    let target = TestStore::new(backend).await;
    let summary = import(&target.store, &file).await.unwrap();
    assert_eq!(summary.entries_created, exported.entries.len());
    let back = target.store.catalogue().await.unwrap();
    assert_eq!(back.vocabularies, exported.vocabularies);
    let content = |c: &standards::catalogue::Catalogue| {
        (
            c.organisations.iter().map(|o| o.content()).collect::<Vec<_>>(),
            c.entries.iter().map(|e| e.content()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(content(&back), content(&exported));
    // And importing the same export again changes nothing.
    let again = import(&target.store, &file).await.unwrap();
    assert_eq!(again.entries_unchanged, exported.entries.len());
    source.finish().await;
    target.finish().await;
});

#[tokio::test]
async fn the_csv_layout_round_trips_every_entry_field() {
    let source = TestStore::new(Backend::Sqlite).await;
    load(&source.store, &small_catalogue()).await;
    import(&source.store, &api_catalogue_csv()).await.unwrap();
    let exported = source.store.catalogue().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.csv");
    standards::export::write_csv(&exported.entries, std::fs::File::create(&file).unwrap()).unwrap();

    // CSV holds entries only: the target needs the organisations first.
    let target = TestStore::new(Backend::Sqlite).await;
    let orgs = serde_json::json!({"organisations": exported.organisations});
    load(&target.store, &orgs).await;
    let summary = import(&target.store, &file).await.unwrap();
    assert_eq!(summary.entries_created, exported.entries.len());
    let back = target.store.entries().await.unwrap();
    let content = |list: &[standards::catalogue::Entry]| list.iter().map(|e| e.content()).collect::<Vec<_>>();
    assert_eq!(content(&back), content(&exported.entries));
    source.finish().await;
    target.finish().await;
}

#[tokio::test]
async fn a_csv_file_with_errors_names_the_file_row_column_value_and_expected_form() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("standards.csv");
    std::fs::write(
        &file,
        "slug,title,type,category,owner,status,care_settings,comply_by,related\n\
         good-one,Good one,standard,Record standards,prsb,active,Social care; hospital,2026-04-01,about-me\n\
         Bad Slug,Bad,standard,record-standards,prsb,active,,,\n\
         third,Third,gadget,record-standards,nobody,active,Moon base,01/04/2026,no-such-entry\n",
    )
    .unwrap();
    let err = import(&ts.store, &file).await.unwrap_err();
    let found: Vec<(usize, &str, &str)> = err
        .problems
        .iter()
        .map(|p| match &p.location {
            Some(Location::Row(r)) => (*r, p.column.as_deref().unwrap(), p.value.as_deref().unwrap_or("")),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (3, "slug", "Bad Slug"),
            (4, "type", "gadget"),
            (4, "care_settings", "Moon base"),
            (4, "owner", "nobody"),
            (4, "comply_by", "01/04/2026"),
            (4, "related", "no-such-entry"),
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains("standards.csv: row 4, column `comply_by`, value `01/04/2026`: expected a date as YYYY-MM-DD"),
        "{text}"
    );
    assert!(ts.store.entry("good-one").await.unwrap().is_none(), "nothing written");

    // Fixed, the same file imports, labels and all.
    std::fs::write(
        &file,
        "slug,title,type,category,owner,status,care_settings,comply_by,related\n\
         good-one,Good one,standard,Record standards,prsb,active,Social care; hospital,2026-04-01,about-me\n",
    )
    .unwrap();
    import(&ts.store, &file).await.unwrap();
    let e = ts.store.entry("good-one").await.unwrap().unwrap();
    assert_eq!(slugs(&e.care_settings), vec!["social-care", "hospital"]);
    assert_eq!(e.category.as_str(), "record-standards");
    ts.finish().await;
}

#[tokio::test]
async fn unknown_columns_and_duplicate_slugs_are_reported() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.csv");
    std::fs::write(
        &file,
        "slug,title,type,category,owner,status,colour\n\
         a,A,standard,record-standards,prsb,active,red\n\
         a,A again,standard,record-standards,prsb,active,blue\n",
    )
    .unwrap();
    let err = import(&ts.store, &file).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("row 1, column `colour (column 7)`"), "{text}");
    assert!(
        text.contains("row 3, column `slug`, value `a`: expected a slug not used before in this file (also at row 2)"),
        "{text}"
    );
    ts.finish().await;
}

#[tokio::test]
async fn a_dry_run_import_reports_what_would_change() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let summary = import::import_file(&ts.store, &api_catalogue_csv(), options(true)).await.unwrap().unwrap();
    assert_eq!(summary.entries_created, 113);
    assert_eq!(ts.store.entry_count().await.unwrap(), 0);
    ts.finish().await;
}

#[test]
fn the_format_is_guessed_from_the_name_and_first_line() {
    let csv = std::fs::read_to_string(api_catalogue_csv()).unwrap();
    assert_eq!(Format::guess(Path::new("x.csv"), &csv), Some(Format::ApiCatalogue));
    assert_eq!(Format::guess(Path::new("x.csv"), "slug,title\n"), Some(Format::Csv));
    assert_eq!(Format::guess(Path::new("x.json"), "{}"), Some(Format::Json));
    assert_eq!(Format::guess(Path::new("x.xlsx"), ""), None);
}

#[tokio::test]
async fn vocabulary_terms_need_a_label_and_non_empty_aliases() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("terms.json");
    let doc = serde_json::json!({"vocabularies": {"care_setting": [
        {"slug": "hospice", "label": " ", "description": "", "aliases": []},
        {"slug": "dentistry", "label": "Dentistry", "description": "", "aliases": ["dental", " "]},
        {"slug": "opticians", "label": "Opticians", "description": "", "aliases": ["optometry"]}
    ]}});
    std::fs::write(&file, doc.to_string()).unwrap();
    let text = import(&ts.store, &file).await.unwrap_err().to_string();
    assert!(text.contains("column `label`: expected a value"), "{text}");
    assert!(text.contains("column `aliases`: expected names with some text"), "{text}");
    assert!(
        ts.store
            .vocabularies()
            .await
            .unwrap()
            .find(standards::catalogue::Vocabulary::CareSetting, "opticians")
            .is_none()
    );
    ts.finish().await;
}

#[tokio::test]
async fn a_new_entry_may_not_take_another_entrys_id() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let taken = ts.store.entry("snomed-ct").await.unwrap().unwrap().id.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copies.csv");
    let fresh = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b";
    std::fs::write(
        &file,
        format!(
            "id,slug,title,type,category,owner,status\n\
             {taken},snomed-copy,Copy,standard,record-standards,prsb,active\n\
             {fresh},first-new,First,standard,record-standards,prsb,active\n\
             {fresh},second-new,Second,standard,record-standards,prsb,active\n\
             {taken},snomed-ct,SNOMED CT,standard,data-definitions-and-terminologies,nhs-england,active\n"
        ),
    )
    .unwrap();
    let text = import(&ts.store, &file).await.unwrap_err().to_string();
    assert!(
        text.contains(&format!("row 2, column `id`, value `{taken}`")) && text.contains("`snomed-ct` has this one"),
        "{text}"
    );
    assert!(
        text.contains(&format!("row 4, column `id`, value `{fresh}`")) && text.contains("`first-new` has this one"),
        "{text}"
    );
    assert!(!text.contains("row 5"), "an entry keeps its own id: {text}");
    ts.finish().await;
}
