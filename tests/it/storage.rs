//! One storage suite, run against SQLite and PostgreSQL alike.

use crate::common;

use common::fixtures::{load, plan, small_catalogue};
use common::{Backend, TestStore};
use serde_json::json;
use standards::catalogue::{Slug, Status};
use standards::store::{EntryQuery, EntrySort, WriteError};

fn slugs(entries: &[standards::catalogue::Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.slug.as_str()).collect()
}

fn s(v: &str) -> Slug {
    Slug::parse(v).unwrap()
}

on_both_stores!(a_new_store_has_the_default_vocabularies_and_nothing_else, |backend| async move {
    let ts = TestStore::new(backend).await;
    let v = ts.store.vocabularies().await.unwrap();
    assert_eq!(v.terms(standards::catalogue::Vocabulary::CareSetting).len(), 11);
    assert_eq!(ts.store.entry_count().await.unwrap(), 0);
    // Seeding twice changes nothing.
    ts.store.seed_vocabularies().await.unwrap();
    let again = ts.store.vocabularies().await.unwrap();
    assert_eq!(v, again);
    ts.finish().await;
});

on_both_stores!(every_write_appends_to_the_changes_log_with_before_and_after, |backend| async move {
    let ts = TestStore::new(backend).await;
    let start = ts.store.last_change_seq().await.unwrap();
    let summary = load(&ts.store, &small_catalogue()).await;
    assert_eq!((summary.entries_created, summary.organisations_created), (5, 2));
    let changes = ts.store.changes_since(start, 100).await.unwrap();
    assert_eq!(changes.len(), 7);
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq), "sequence numbers increase");
    let snomed = changes.iter().find(|c| c.after.as_ref().is_some_and(|a| a["slug"] == "snomed-ct")).unwrap();
    assert_eq!((snomed.entity.as_str(), snomed.action.as_str(), snomed.actor.as_str()), ("entry", "create", "test"));
    assert!(snomed.before.is_none());

    let mut changed = small_catalogue();
    changed["entries"][0]["status"] = json!("deprecated");
    let after_first = ts.store.last_change_seq().await.unwrap();
    let summary = load(&ts.store, &changed).await;
    assert_eq!((summary.entries_updated, summary.entries_unchanged), (1, 4));
    let changes = ts.store.changes_since(after_first, 100).await.unwrap();
    assert_eq!(changes.len(), 1, "only the changed entry is logged");
    assert_eq!(changes[0].action, "update");
    assert_eq!(changes[0].before.as_ref().unwrap()["status"], "active");
    assert_eq!(changes[0].after.as_ref().unwrap()["status"], "deprecated");
    assert_eq!(ts.store.entry("snomed-ct").await.unwrap().unwrap().status, Status::Deprecated);
    ts.finish().await;
});

on_both_stores!(an_update_keeps_the_id_and_creation_time_and_moves_the_update_time, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let before = ts.store.entry("about-me").await.unwrap().unwrap();
    let mut changed = small_catalogue();
    changed["entries"][1]["title"] = json!("About Me (version 2)");
    changed["entries"][1]["id"] = json!(uuid::Uuid::new_v4().to_string());
    load(&ts.store, &changed).await;
    let after = ts.store.entry("about-me").await.unwrap().unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.created_at, before.created_at);
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.title, "About Me (version 2)");
    ts.finish().await;
});

on_both_stores!(a_dry_run_reports_the_changes_and_writes_nothing, |backend| async move {
    let ts = TestStore::new(backend).await;
    let seq = ts.store.last_change_seq().await.unwrap();
    let set = plan(&ts.store, &small_catalogue()).await;
    let summary = ts.store.apply(&set, "test", true, None).await.unwrap();
    assert_eq!(summary.entries_created, 5);
    assert_eq!(ts.store.entry_count().await.unwrap(), 0);
    assert_eq!(ts.store.last_change_seq().await.unwrap(), seq);
    ts.finish().await;
});

on_both_stores!(a_change_set_that_fails_part_way_leaves_nothing_behind, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let seq = ts.store.last_change_seq().await.unwrap();
    // A new entry, then one that reuses an existing entry's id: the second
    // fails inside the transaction, so the first must not stay.
    let mut set = plan(&ts.store, &json!({"entries": [
        {"slug": "new-one", "title": "New", "type": "standard", "category": "record-standards", "owner": "prsb", "status": "proposed"},
        {"slug": "clash", "title": "Clash", "type": "standard", "category": "record-standards", "owner": "prsb", "status": "proposed"}
    ]}))
    .await;
    set.entries[1].id = ts.store.entry("snomed-ct").await.unwrap().unwrap().id;
    let err = ts.store.apply(&set, "test", false, None).await.unwrap_err();
    assert!(matches!(err, WriteError::DuplicateId { .. }), "{err}");
    assert!(ts.store.entry("new-one").await.unwrap().is_none());
    assert_eq!(ts.store.entry_count().await.unwrap(), 5);
    assert_eq!(ts.store.last_change_seq().await.unwrap(), seq);
    ts.finish().await;
});

on_both_stores!(an_entry_that_others_link_to_cannot_be_deleted, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let mut set = standards::store::ChangeSet::default();
    set.delete_entries.push(s("snomed-ct"));
    let err = ts.store.apply(&set, "test", false, None).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("core-information-standard") && message.contains("pds-fhir"), "{message}");
    assert!(ts.store.entry("snomed-ct").await.unwrap().is_some());

    let seq = ts.store.last_change_seq().await.unwrap();
    let mut set = standards::store::ChangeSet::default();
    set.delete_entries.push(s("read-codes"));
    let summary = ts.store.apply(&set, "editor@example.org", false, None).await.unwrap();
    assert_eq!(summary.entries_deleted, 1);
    assert!(ts.store.entry("read-codes").await.unwrap().is_none());
    let changes = ts.store.changes_since(seq, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].action.as_str(), changes[0].actor.as_str()), ("delete", "editor@example.org"));
    assert_eq!(changes[0].before.as_ref().unwrap()["slug"], "read-codes");
    assert!(changes[0].after.is_none());
    assert_eq!(ts.store.links_to("snomed-ct").await.unwrap().len(), 2);
    ts.finish().await;
});

on_both_stores!(filters_or_within_a_field_and_and_across_fields, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let list = |q: EntryQuery| {
        let store = ts.store.clone();
        async move { store.list_entries(&EntryQuery { page: 1, per_page: 100, ..q }).await.unwrap() }
    };
    let (total, all) = list(EntryQuery::default()).await;
    assert_eq!(total, 5);
    assert_eq!(slugs(&all), vec!["about-me", "core-information-standard", "pds-fhir", "read-codes", "snomed-ct"]);

    let (_, social) = list(EntryQuery { care_settings: vec![s("social-care")], ..Default::default() }).await;
    assert_eq!(slugs(&social), vec!["about-me", "core-information-standard"]);

    let (_, either) =
        list(EntryQuery { care_settings: vec![s("social-care"), s("gp-primary-care")], ..Default::default() }).await;
    assert_eq!(either.len(), 5);

    let (_, both) = list(EntryQuery {
        care_settings: vec![s("gp-primary-care")],
        topics: vec![s("reference-data")],
        statuses: vec![Status::Active],
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&both), vec!["snomed-ct"]);

    let (_, mandated) = list(EntryQuery { mandated: Some(true), ..Default::default() }).await;
    assert_eq!(slugs(&mandated), vec!["snomed-ct"]);
    let (not_total, _) = list(EntryQuery { mandated: Some(false), ..Default::default() }).await;
    assert_eq!(not_total, 4);

    let (_, apis) = list(EntryQuery { types: vec![standards::catalogue::EntryType::Api], ..Default::default() }).await;
    assert_eq!(slugs(&apis), vec!["pds-fhir"]);

    let (_, prsb) = list(EntryQuery { owners: vec![s("prsb")], ..Default::default() }).await;
    assert_eq!(slugs(&prsb), vec!["about-me", "core-information-standard"]);

    let (_, records) = list(EntryQuery { categories: vec![s("record-standards")], ..Default::default() }).await;
    assert_eq!(records.len(), 2);
    ts.finish().await;
});

on_both_stores!(sorting_and_pages_are_stable, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let (_, by_deadline) = ts
        .store
        .list_entries(&EntryQuery { sort: EntrySort::ComplyBy, page: 1, per_page: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(
        slugs(&by_deadline)[..2],
        ["snomed-ct", "core-information-standard"],
        "dated entries first, soonest first"
    );

    let (total, page2) =
        ts.store.list_entries(&EntryQuery { page: 2, per_page: 2, ..Default::default() }).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(slugs(&page2), vec!["pds-fhir", "read-codes"]);
    let (_, page3) = ts.store.list_entries(&EntryQuery { page: 3, per_page: 2, ..Default::default() }).await.unwrap();
    assert_eq!(slugs(&page3), vec!["snomed-ct"]);
    let (_, beyond) = ts.store.list_entries(&EntryQuery { page: 9, per_page: 2, ..Default::default() }).await.unwrap();
    assert!(beyond.is_empty());
    ts.finish().await;
});

on_both_stores!(a_care_setting_can_be_added_as_data, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(
        &ts.store,
        &json!({"vocabularies": {"care_setting": [
            {"slug": "hospice", "label": "Hospice", "description": "End of life care in hospices.", "aliases": []}
        ]}}),
    )
    .await;
    let v = ts.store.vocabularies().await.unwrap();
    let settings = v.terms(standards::catalogue::Vocabulary::CareSetting);
    assert_eq!(settings.len(), 12);
    assert_eq!(settings.last().unwrap().slug.as_str(), "hospice", "new terms go after existing ones");
    let mut doc = small_catalogue();
    doc["entries"][1]["care_settings"] = json!(["Hospice"]);
    load(&ts.store, &doc).await;
    assert_eq!(ts.store.entry("about-me").await.unwrap().unwrap().care_settings, vec![s("hospice")]);
    ts.finish().await;
});

on_both_stores!(two_instances_share_one_store_and_see_each_others_changes, |backend| async move {
    let ts = TestStore::new(backend).await;
    let other = ts.reopen().await;
    load(&ts.store, &small_catalogue()).await;
    assert_eq!(other.entry_count().await.unwrap(), 5);
    let seq = other.last_change_seq().await.unwrap();
    assert_eq!(seq, ts.store.last_change_seq().await.unwrap());
    other.close().await;
    ts.finish().await;
});

#[tokio::test]
async fn concurrent_writers_on_postgres_commit_changes_in_sequence_order() {
    let ts = TestStore::new(Backend::Postgres).await;
    load(&ts.store, &small_catalogue()).await;
    let a = ts.reopen().await;
    let b = ts.reopen().await;
    let write = |store: standards::store::Store, title: &'static str| async move {
        for i in 0..10 {
            let mut doc = small_catalogue();
            doc["entries"][0]["title"] = json!(format!("{title} {i}"));
            load(&store, &doc).await;
        }
        store
    };
    let (a, b) = tokio::join!(write(a, "A"), write(b, "B"));
    let changes = ts.store.changes_since(0, 1000).await.unwrap();
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(seqs, sorted);
    assert_eq!(changes.iter().filter(|c| c.entity == "entry" && c.action == "update").count(), 20);
    a.close().await;
    b.close().await;
    ts.finish().await;
}
