//! Search: typos, synonyms, phrases, prefixes, facet counts checked against
//! the store, sorting, highlights, suggestions, analytics, and an index that
//! follows the changes log and rebuilds to the same answers.

use crate::common;

use std::collections::HashMap;

use common::fixtures::load;
use common::{Backend, TestServer, TestStore};
use serde_json::{Value, json};
use standards::catalogue::{Slug, Status};
use standards::search::{Search, SearchRequest, SearchSort};
use standards::store::EntryQuery;

async fn demo() -> (TestStore, Search) {
    let ts = TestStore::new(Backend::Sqlite).await;
    standards::demo::load(&ts.store).await.unwrap();
    let search = Search::build(&ts.store).await.unwrap();
    (ts, search)
}

fn find(search: &Search, q: &str) -> Vec<String> {
    let request = SearchRequest { q: q.into(), page: 1, per_page: 10, ..Default::default() };
    search.search(&request).unwrap().results.into_iter().map(|h| h.slug).collect()
}

fn s(v: &str) -> Slug {
    Slug::parse(v).unwrap()
}

#[tokio::test]
async fn typos_of_one_or_two_letters_still_find_the_entry() {
    let (ts, search) = demo().await;
    assert_eq!(find(&search, "snowmed")[0], "snomed-ct");
    assert!(find(&search, "alergy").contains(&"medicine-and-allergy-intolerance-data-transfer".to_owned()));
    let prescribing = find(&search, "prescibing");
    assert!(prescribing.iter().any(|s| s.starts_with("electronic-prescription-service")), "{prescribing:?}");
    // Two typos in a long word; none allowed in a short one.
    assert!(find(&search, "demografics").iter().any(|s| s.starts_with("personal-demographics-service")));
    assert!(find(&search, "gx").is_empty());
    ts.finish().await;
}

#[tokio::test]
async fn abbreviations_and_synonyms_find_what_people_mean() {
    let (ts, search) = demo().await;
    for (q, expected) in [
        ("PDS", "personal-demographics-service-fhir-api"),
        ("SCR", "summary-care-record"),
        ("e-RS", "e-referral-service"),
        ("EPS", "electronic-prescription-service"),
        ("dm+d", "dm-d"),
        ("ToC", "transfer-of-care-fhir"),
        ("ECDS", "emergency-care-data-set"),
    ] {
        let found = find(&search, q);
        assert!(found.iter().take(3).any(|s| s == expected), "{q} should find {expected} first: {found:?}");
    }
    // "general practice" means GP.
    let gp = find(&search, "general practice record transfer");
    assert!(gp.contains(&"gp2gp".to_owned()), "{gp:?}");
    let ae = find(&search, "A&E");
    assert!(ae.iter().any(|s| s == "emergency-care-data-set" || s == "ae-commissioning-data-set"), "{ae:?}");
    ts.finish().await;
}

#[tokio::test]
async fn synonyms_are_data_that_can_be_changed_without_a_release() {
    let (ts, search) = demo().await;
    assert!(find(&search, "qqxray zzlungs").is_empty());
    load(
        &ts.store,
        &json!({"vocabularies": {"synonym": [
            {"slug": "x-ray", "label": "DICOM", "description": "", "aliases": ["qqxray zzlungs"]}
        ]}}),
    )
    .await;
    search.catch_up(&ts.store).await.unwrap();
    assert_eq!(find(&search, "qqxray zzlungs").first().map(String::as_str), Some("dicom"));
    ts.finish().await;
}

#[tokio::test]
async fn phrases_prefixes_and_the_empty_query() {
    let (ts, search) = demo().await;
    let phrase = find(&search, "\"transfer of care\"");
    assert!(phrase.contains(&"transfer-of-care-fhir".to_owned()));
    let all_words = find(&search, "transfer care");
    assert!(phrase.len() <= all_words.len());
    assert_eq!(find(&search, "snom")[0], "snomed-ct", "search as you type");
    let everything = search.search(&SearchRequest { page: 1, per_page: 100, ..Default::default() }).unwrap();
    assert_eq!(everything.total as i64, ts.store.entry_count().await.unwrap());
    let titles: Vec<String> = everything.results.iter().map(|h| h.title.to_lowercase()).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted, "an empty query lists everything by title");
    ts.finish().await;
}

#[tokio::test]
async fn results_show_why_they_matched() {
    let (ts, search) = demo().await;
    let r = search.search(&SearchRequest { q: "snowmed".into(), page: 1, per_page: 5, ..Default::default() }).unwrap();
    let top = &r.results[0];
    assert_eq!(top.highlights.title.as_deref(), Some("<mark>SNOMED</mark> CT"));
    let r = search.search(&SearchRequest { q: "<script>".into(), page: 1, per_page: 5, ..Default::default() }).unwrap();
    for hit in r.results {
        for h in [hit.highlights.title, hit.highlights.summary, hit.highlights.description].into_iter().flatten() {
            assert!(!h.contains("<script>"), "highlights are escaped: {h}");
        }
    }
    ts.finish().await;
}

#[tokio::test]
async fn did_you_mean_when_a_query_finds_little() {
    let (ts, search) = demo().await;
    // Two typos in a five-letter word are more than search forgives, but
    // not more than a suggestion offers.
    let r = search.search(&SearchRequest { q: "smomd".into(), page: 1, per_page: 5, ..Default::default() }).unwrap();
    assert_eq!(r.total, 0);
    assert_eq!(r.suggestion.as_deref(), Some("snomed"));
    let r = search.search(&SearchRequest { q: "snomed".into(), page: 1, per_page: 5, ..Default::default() }).unwrap();
    assert_eq!(r.suggestion, None);
    ts.finish().await;
}

/// Facet counts from the index must equal counts computed from the store.
async fn check_facets_against_store(ts: &TestStore, search: &Search, filters: EntryQuery) {
    let request =
        SearchRequest { q: String::new(), filters: filters.clone(), page: 1, per_page: 10, ..Default::default() };
    let response = search.search(&request).unwrap();
    let (total, _) = ts.store.list_entries(&EntryQuery { page: 1, per_page: 1, ..filters.clone() }).await.unwrap();
    assert_eq!(response.total as i64, total, "total for {filters:?}");
    let vocab = ts.store.vocabularies().await.unwrap();
    for (facet, values) in [
        (
            "care_setting",
            vocab
                .terms(standards::catalogue::Vocabulary::CareSetting)
                .iter()
                .map(|t| t.slug.to_string())
                .collect::<Vec<_>>(),
        ),
        ("topic", vocab.terms(standards::catalogue::Vocabulary::Topic).iter().map(|t| t.slug.to_string()).collect()),
        (
            "category",
            vocab.terms(standards::catalogue::Vocabulary::Category).iter().map(|t| t.slug.to_string()).collect(),
        ),
        ("status", Status::ALL.iter().map(|s| s.slug().to_owned()).collect()),
        ("type", vec!["standard".into(), "api".into()]),
        ("mandated", vec!["true".into(), "false".into()]),
    ] {
        let shown: HashMap<String, u64> = response.facets[facet]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_owned(), v["count"].as_u64().unwrap()))
            .collect();
        for value in values {
            // The facet's own selection is replaced by this one value.
            let mut q = EntryQuery { page: 1, per_page: 1, ..filters.clone() };
            match facet {
                "care_setting" => q.care_settings = vec![s(&value)],
                "topic" => q.topics = vec![s(&value)],
                "category" => q.categories = vec![s(&value)],
                "status" => q.statuses = vec![Status::parse(&value).unwrap()],
                "type" => {
                    q.types = vec![if value == "api" {
                        standards::catalogue::EntryType::Api
                    } else {
                        standards::catalogue::EntryType::Standard
                    }]
                }
                _ => q.mandated = Some(value == "true"),
            }
            let (expected, _) = ts.store.list_entries(&q).await.unwrap();
            assert_eq!(shown.get(&value).copied().unwrap_or(0) as i64, expected, "{facet}={value} with {filters:?}");
        }
    }
}

#[tokio::test]
async fn facet_counts_match_the_store_and_ignore_their_own_selection() {
    let (ts, search) = demo().await;
    check_facets_against_store(&ts, &search, EntryQuery::default()).await;
    check_facets_against_store(&ts, &search, EntryQuery { care_settings: vec![s("pharmacy")], ..Default::default() })
        .await;
    check_facets_against_store(
        &ts,
        &search,
        EntryQuery { care_settings: vec![s("pharmacy"), s("hospital")], mandated: Some(true), ..Default::default() },
    )
    .await;
    check_facets_against_store(
        &ts,
        &search,
        EntryQuery {
            topics: vec![s("referrals")],
            statuses: vec![Status::Active],
            categories: vec![s("technical-standards-and-specifications")],
            ..Default::default()
        },
    )
    .await;
    ts.finish().await;
}

#[tokio::test]
async fn facet_counts_for_a_text_query_count_its_matches() {
    let (ts, search) = demo().await;
    let all =
        search.search(&SearchRequest { q: "referral".into(), page: 1, per_page: 100, ..Default::default() }).unwrap();
    let mut by_setting: HashMap<String, u64> = HashMap::new();
    for hit in &all.results {
        for cs in ts.store.entry(&hit.slug).await.unwrap().unwrap().care_settings {
            *by_setting.entry(cs.to_string()).or_default() += 1;
        }
    }
    for v in all.facets["care_setting"].as_array().unwrap() {
        assert_eq!(v["count"].as_u64().unwrap(), by_setting[v["value"].as_str().unwrap()]);
    }
    // Choosing a care setting narrows results but not that facet's counts.
    let narrowed = search
        .search(&SearchRequest {
            q: "referral".into(),
            filters: EntryQuery { care_settings: vec![s("urgent-and-emergency-care")], ..Default::default() },
            page: 1,
            per_page: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(narrowed.total < all.total);
    assert_eq!(
        narrowed.facets["care_setting"],
        all.facets["care_setting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let mut v = v.clone();
                v["selected"] = json!(v["value"] == "urgent-and-emergency-care");
                v
            })
            .collect::<Value>()
    );
    ts.finish().await;
}

#[tokio::test]
async fn sorting_by_title_update_and_deadline() {
    let (ts, search) = demo().await;
    let by = |sort| {
        search.search(&SearchRequest { q: "data".into(), sort, page: 1, per_page: 100, ..Default::default() }).unwrap()
    };
    let titles: Vec<String> = by(SearchSort::Title).results.iter().map(|h| h.title.to_lowercase()).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
    let deadline = by(SearchSort::ComplyBy);
    let mut dates = Vec::new();
    for h in &deadline.results {
        dates.push(ts.store.entry(&h.slug).await.unwrap().unwrap().comply_by);
    }
    let first_none = dates.iter().position(Option::is_none).unwrap_or(dates.len());
    assert!(dates[first_none..].iter().all(Option::is_none), "entries without a deadline come last");
    assert!(dates[..first_none].windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(by(SearchSort::Updated).total, by(SearchSort::Relevance).total);
    ts.finish().await;
}

on_both_stores!(the_index_follows_writes_and_a_rebuild_gives_the_same_answers, |backend| async move {
    let ts = TestStore::new(backend).await;
    standards::demo::load(&ts.store).await.unwrap();
    let search = Search::build(&ts.store).await.unwrap();
    assert!(find(&search, "zebrafish").is_empty());
    let mut doc = json!({"entries": [
        {"slug": "zebrafish-registry", "title": "Zebrafish Registry", "type": "standard", "category": "record-standards",
         "care_settings": ["hospital"], "topics": ["reference-data"], "owner": "nhs-england", "status": "proposed",
         "summary": "A made-up entry for testing."}
    ]});
    load(&ts.store, &doc).await;
    search.catch_up(&ts.store).await.unwrap();
    assert_eq!(find(&search, "zebrafish"), vec!["zebrafish-registry"]);
    doc["entries"][0]["title"] = json!("Zebra Crossing Registry");
    doc["entries"][0]["slug"] = json!("zebra-crossing-registry");
    load(&ts.store, &doc).await;
    let mut delete = standards::store::ChangeSet::default();
    delete.delete_entries.push(s("zebrafish-registry"));
    ts.store.apply(&delete, "test", false, None).await.unwrap();
    search.catch_up(&ts.store).await.unwrap();
    assert!(find(&search, "zebrafish").is_empty(), "a deleted entry is gone");
    assert_eq!(find(&search, "zebra crossing"), vec!["zebra-crossing-registry"]);
    doc["entries"][0]["summary"] = json!("Now about giraffes.");
    load(&ts.store, &doc).await;
    search.catch_up(&ts.store).await.unwrap();
    assert_eq!(
        find(&search, "giraffes"),
        vec!["zebra-crossing-registry"],
        "an updated entry is found by its new words"
    );

    // The index is derived: one built from scratch answers the same.
    let rebuilt = Search::build(&ts.store).await.unwrap();
    for q in ["", "zebra", "snomed", "referral hospital", "prescibing", "PDS"] {
        let request = SearchRequest { q: q.into(), page: 1, per_page: 50, ..Default::default() };
        let (a, b) = (search.search(&request).unwrap(), rebuilt.search(&request).unwrap());
        assert_eq!(a.total, b.total, "{q}");
        assert_eq!(a.results, b.results, "{q}");
        assert_eq!(a.facets, b.facets, "{q}");
    }
    ts.finish().await;
});

#[tokio::test]
async fn the_search_api_answers_with_results_facets_and_suggestions() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let r = s.get_json("/api/v1/search?q=alergy&per_page=5").await;
    assert!(r["total"].as_u64().unwrap() >= 1);
    let hit = &r["results"][0];
    for field in ["slug", "title", "summary", "type", "status", "owner", "highlights"] {
        assert!(hit.get(field).is_some(), "{field}");
    }
    for facet in ["category", "status", "care_setting", "topic", "owner", "type", "mandated"] {
        assert!(r["facets"][facet].is_array(), "{facet}");
    }
    assert!(r.get("suggestion").is_some());

    // Filters take labels or slugs, as on /api/v1/standards.
    let by_label = s.get_json("/api/v1/search?care_setting=Pharmacy&mandated=true").await;
    let by_slug = s.get_json("/api/v1/search?care_setting=pharmacy&mandated=true").await;
    assert_eq!(by_label["total"], by_slug["total"]);
    let listed = s.get_json("/api/v1/standards?care_setting=pharmacy&mandated=true").await;
    assert_eq!(by_slug["total"], listed["total"]);
    let selected: Vec<&Value> =
        by_slug["facets"]["care_setting"].as_array().unwrap().iter().filter(|v| v["selected"] == true).collect();
    assert_eq!(selected.len(), 1);

    let bad = s.get("/api/v1/search?sort=best").await;
    assert_eq!(bad.status(), 400);

    let suggest = s.get_json("/api/v1/suggest?q=snom").await;
    let titles = suggest["suggestions"].as_array().unwrap();
    assert!(!titles.is_empty() && titles.len() <= 8);
    assert_eq!(titles[0]["title"], "SNOMED CT");
    let many = s.get_json("/api/v1/suggest?q=data").await;
    assert_eq!(many["suggestions"].as_array().unwrap().len(), 8);

    let doc = s.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/search"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn search_analytics_keep_queries_and_counts_but_nothing_about_people() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    for q in ["SNOMED", "snomed ", "  Snomed", "qqqzzz"] {
        client
            .get(s.url("/api/v1/search"))
            .query(&[("q", q)])
            .header("x-forwarded-for", "10.1.2.3")
            .send()
            .await
            .unwrap();
    }
    assert_eq!(s.get("/api/v1/search/analytics").await.status(), 401, "for editors only");
    let store = &s.test_store.store;
    store.add_user("pub@example.org", standards::store::Role::Publisher, Some("prsb")).await.unwrap();
    store.add_user("ed@example.org", standards::store::Role::Editor, None).await.unwrap();
    let (_, publisher) = store.create_token("pub@example.org", "t", None).await.unwrap();
    let (_, editor) = store.create_token("ed@example.org", "t", None).await.unwrap();
    let as_publisher = client.get(s.url("/api/v1/search/analytics")).bearer_auth(&publisher).send().await.unwrap();
    assert_eq!(as_publisher.status(), 403);
    let stats: serde_json::Value =
        client.get(s.url("/api/v1/search/analytics")).bearer_auth(&editor).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["top_queries"][0]["query"], "snomed");
    assert_eq!(stats["top_queries"][0]["searches"], 3);
    assert_eq!(stats["zero_result_queries"][0]["query"], "qqqzzz");
    let text = stats.to_string();
    assert!(!text.contains("10.1.2.3"));
    s.stop().await;
}
