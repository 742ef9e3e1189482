//! The CKAN-compatible Action API against the real server on the demo
//! catalogue: CKAN's envelope, errors and search syntax.

use crate::common;

use common::{Backend, TestServer};
use serde_json::{Value, json};

async fn action(s: &TestServer, name: &str, query: &str) -> (u16, Value) {
    let r = s.get(&format!("/api/3/action/{name}?{query}")).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn names(result: &Value) -> Vec<String> {
    result["results"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn reads_answer_in_ckans_envelope_and_shapes() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let (status, body) = action(&s, "package_show", "id=snomed-ct").await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert!(body["help"].as_str().unwrap().contains("package_show"));
    let p = &body["result"];
    for field in [
        "id",
        "name",
        "title",
        "notes",
        "owner_org",
        "organization",
        "state",
        "private",
        "type",
        "metadata_created",
        "metadata_modified",
        "tags",
        "resources",
        "reference_code",
        "is_published_standard",
        "mandated",
        "status",
        "publication_due_date",
        "implementation_from_date",
        "comply_by_date",
        "submit_feedback",
        "standard_category",
        "documentation_help_text",
        "documentation_link",
        "contact_details",
        "topic",
        "care_setting",
        "related_standards",
        "dependencies",
        "assurance",
        "endorsements",
    ] {
        assert!(p.get(field).is_some(), "package has {field}");
    }
    assert_eq!(p["name"], "snomed-ct");
    assert_eq!(p["type"], "dataset");
    assert_eq!(p["entry_type"], "standard");
    let (_, apis) = action(&s, "package_search", "fq=entry_type:api&rows=1000").await;
    let listed = s.get_json("/api/v1/standards?type=api&per_page=1").await;
    assert_eq!(apis["result"]["count"], listed["total"]);
    assert_eq!(p["organization"]["name"], p["owner"]);
    // The same package by its id, and on the legacy address.
    let id = p["id"].as_str().unwrap().to_owned();
    let by_id: Value = s.get(&format!("/api/action/package_show?id={id}")).await.json().await.unwrap();
    assert_eq!(by_id["result"]["name"], "snomed-ct");

    let (_, list) = action(&s, "package_list", "").await;
    let total = s.get_json("/api/v1/standards?per_page=1").await["total"].as_u64().unwrap();
    assert_eq!(list["result"].as_array().unwrap().len() as u64, total);

    let (_, orgs) = action(&s, "organization_list", "all_fields=true").await;
    let nhse = orgs["result"].as_array().unwrap().iter().find(|o| o["name"] == "nhs-england").unwrap();
    assert!(nhse["package_count"].as_u64().unwrap() > 10);
    let (_, org) = action(&s, "organization_show", "id=nhs-england&include_datasets=true").await;
    assert_eq!(org["result"]["packages"].as_array().unwrap().len() as u64, nhse["package_count"].as_u64().unwrap());

    let (_, schema) = action(&s, "scheming_dataset_schema_show", "type=dataset").await;
    let fields = schema["result"]["dataset_fields"].as_array().unwrap();
    let care = fields.iter().find(|f| f["field_name"] == "care_setting").unwrap();
    assert_eq!(care["choices"].as_array().unwrap().len(), 11);
    for name in [
        "status_show",
        "site_read",
        "tag_list",
        "license_list",
        "group_list",
        "package_autocomplete",
        "current_package_list_with_resources",
    ] {
        let (status, body) = action(&s, name, "q=snom&limit=2").await;
        assert_eq!((status, &body["success"]), (200, &json!(true)), "{name}: {body}");
    }
    s.stop().await;
}

/// The national directory's own front end asks these on its pages; each
/// must mean what it says (booleans are the strings `true` and `false`).
#[tokio::test]
async fn the_national_directory_front_ends_query_shapes_work() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let catalogue = s.test_store.store.catalogue().await.unwrap();
    let published = |e: &&standards::catalogue::Entry| {
        matches!(e.status, standards::catalogue::Status::Active | standards::catalogue::Status::Deprecated)
    };
    let count = |fq: &'static str| {
        let s = &s;
        async move {
            let (status, r) = action(s, "package_search", &format!("fq={fq}&rows=0")).await;
            assert_eq!(status, 200, "{fq}: {r}");
            r["result"]["count"].as_u64().unwrap() as usize
        }
    };
    let all_published = catalogue.entries.iter().filter(published).count();
    assert!(all_published > 0 && all_published < catalogue.entries.len());
    assert_eq!(count("(is_published_standard:true)").await, all_published);
    assert_eq!(count("(is_published_standard:false)").await, catalogue.entries.len() - all_published);
    let mandated_published = catalogue.entries.iter().filter(published).filter(|e| e.mandated).count();
    assert!(mandated_published > 0);
    assert_eq!(count("(mandated:(*true*)%20AND%20is_published_standard:true)").await, mandated_published);
    assert_eq!(count("(mandated:true%20AND%20is_published_standard:true)").await, mandated_published);
    let pharmacy = catalogue
        .entries
        .iter()
        .filter(published)
        .filter(|e| e.care_settings.iter().any(|c| c.as_str() == "pharmacy"))
        .count();
    assert!(pharmacy > 0);
    assert_eq!(count("(care_setting:(*Pharmacy*)%20AND%20is_published_standard:true)").await, pharmacy);
    s.stop().await;
}

#[tokio::test]
async fn package_search_speaks_solr_and_agrees_with_the_json_api() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    // fq on schema fields gives the same set as the JSON API's filters.
    let (_, r) = action(&s, "package_search", "fq=care_setting:pharmacy%20AND%20mandated:true&rows=1000").await;
    let api = s.get_json("/api/v1/standards?care_setting=pharmacy&mandated=true&per_page=100").await;
    let mut a = names(&r["result"]);
    let mut b: Vec<String> =
        api["results"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap().to_owned()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(r["result"]["count"].as_u64().unwrap() as usize, b.len());

    let (_, r) = action(&s, "package_search", "q=snomed&rows=3").await;
    assert_eq!(names(&r["result"])[0], "snomed-ct");
    let (_, r) = action(&s, "package_search", "q=name:snomed-ct").await;
    assert_eq!(names(&r["result"]), vec!["snomed-ct"]);
    let (_, r) = action(&s, "package_search", "q=*:*&fq=organization:prsb&rows=1000").await;
    assert!(r["result"]["count"].as_u64().unwrap() >= 10);
    assert!(r["result"]["results"].as_array().unwrap().iter().all(|p| p["organization"]["name"] == "prsb"));
    let (_, wild) = action(&s, "package_search", "q=*referral*&rows=1000").await;
    assert!(names(&wild["result"]).contains(&"e-referral-service-api".to_owned()));
    let (_, not) = action(&s, "package_search", "q=referral%20-organization:nhs-england&rows=1000").await;
    assert!(not["result"]["results"].as_array().unwrap().iter().all(|p| p["organization"]["name"] != "nhs-england"));
    let (_, or) = action(&s, "package_search", "q=name:(snomed-ct%20OR%20dm-d)").await;
    let mut both = names(&or["result"]);
    both.sort();
    assert_eq!(both, vec!["dm-d", "snomed-ct"]);

    // Paging and sorting.
    let (_, first) = action(&s, "package_search", "sort=name%20asc&rows=5").await;
    let (_, second) = action(&s, "package_search", "sort=name%20asc&rows=5&start=5").await;
    let (_, ten) = action(&s, "package_search", "sort=name%20asc&rows=10").await;
    let mut joined = names(&first["result"]);
    joined.extend(names(&second["result"]));
    assert_eq!(joined, names(&ten["result"]));
    let (_, titles) = action(&s, "package_search", "sort=title_string%20desc&rows=20").await;
    let t: Vec<String> = titles["result"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = t.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(t, sorted);

    // Facets.
    let (_, f) = action(
        &s,
        "package_search",
        "q=*:*&facet.field=%5B%22organization%22,%22care_setting%22%5D&facet.limit=3&rows=0",
    )
    .await;
    let result = &f["result"];
    assert!(result["results"].as_array().unwrap().is_empty());
    let items = result["search_facets"]["organization"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items[0]["count"].as_u64() >= items[1]["count"].as_u64());
    assert_eq!(result["facets"]["care_setting"].as_object().unwrap().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn errors_use_ckans_types_and_status_codes() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    for (name, query, status, kind) in [
        ("no_such_action", "", 400, "Bad request"),
        ("package_show", "id=nope", 404, "Not Found Error"),
        ("package_show", "", 409, "Validation Error"),
        ("organization_show", "id=nope", 404, "Not Found Error"),
        ("package_search", "q=(snomed", 409, "Search Query Error"),
        ("package_search", "q=snomed%20AND", 409, "Search Query Error"),
        ("package_search", "q=colour:red", 409, "Search Query Error"),
        ("package_search", "sort=colour%20asc", 409, "Search Query Error"),
        ("package_search", "rows=many", 409, "Validation Error"),
        ("package_search", "facet.field=organization", 409, "Validation Error"),
    ] {
        let (got, body) = action(&s, name, query).await;
        assert_eq!(got, status, "{name}?{query}: {body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["__type"], kind, "{name}?{query}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // POST with a JSON body works like GET.
    let r = reqwest::Client::new()
        .post(s.url("/api/3/action/package_search"))
        .json(&json!({"q": "snomed", "rows": 1}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["result"]["results"][0]["name"], "snomed-ct");
    s.stop().await;
}

#[tokio::test]
async fn a_catalogue_saved_through_the_action_api_migrates_into_an_empty_instance() {
    let a = TestServer::with_demo(Backend::Sqlite).await;
    // Page through package_search as a migration would, saving every response.
    let mut responses = Vec::new();
    let mut start = 0;
    loop {
        let (status, body) =
            action(&a, "package_search", &format!("q=*:*&include_private=true&rows=50&start={start}&sort=name%20asc"))
                .await;
        assert_eq!(status, 200);
        let n = body["result"]["results"].as_array().unwrap().len();
        responses.push(body);
        if n < 50 {
            break;
        }
        start += 50;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("saved.json");
    std::fs::write(&file, serde_json::to_vec(&responses).unwrap()).unwrap();

    let b = common::TestStore::new(Backend::Sqlite).await;
    let options = standards::import::ImportOptions {
        format: Some(standards::import::Format::Ckan),
        dry_run: false,
        actor: "migration",
        progress: None,
    };
    let summary = standards::import::import_file(&b.store, &file, options).await.unwrap().unwrap();
    let source = a.test_store.store.catalogue().await.unwrap();
    assert_eq!(summary.entries_created, source.entries.len());
    let target = b.store.catalogue().await.unwrap();
    let content = |c: &standards::catalogue::Catalogue| c.entries.iter().map(|e| e.content()).collect::<Vec<_>>();
    assert_eq!(content(&target), content(&source), "every entry comes back field for field");
    let orgs = |c: &standards::catalogue::Catalogue| {
        let mut o: Vec<(String, String, Option<String>)> = c
            .organisations
            .iter()
            .filter(|o| c.entries.iter().any(|e| e.owner == o.slug))
            .map(|o| (o.slug.to_string(), o.name.clone(), o.description.clone()))
            .collect();
        o.sort();
        o
    };
    assert_eq!(orgs(&target), orgs(&source), "the organisations that own entries come too");
    b.finish().await;
    a.stop().await;
}

#[tokio::test]
async fn packages_from_another_ckan_map_scheming_fields_and_keep_the_rest_as_tags() {
    let ts = common::TestStore::new(Backend::Sqlite).await;
    let saved = json!({"help": "", "success": true, "result": {"count": 1, "results": [{
        "name": "example-standard", "title": "Example Standard", "notes": "What it is for.",
        "organization": {"name": "example-body", "title": "Example Body", "description": "Writes examples."},
        "standard_category": "Record standards", "care_setting": "[\"Hospital\", \"Social care\"]",
        "topic": "Referrals, Continuity of care", "status": "Active", "mandated": "yes",
        "reference_code": "DAPB0000", "comply_by_date": "2027-03-31", "documentation_link": "https://example.org/std",
        "tags": [{"name": "examples"}], "colour_scheme": "blue", "resources": [], "type": "dataset"
    }]}});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("other.json");
    std::fs::write(&file, saved.to_string()).unwrap();
    let options = standards::import::ImportOptions {
        format: Some(standards::import::Format::Ckan),
        dry_run: false,
        actor: "migration",
        progress: None,
    };
    standards::import::import_file(&ts.store, &file, options).await.unwrap().unwrap();
    let e = ts.store.entry("example-standard").await.unwrap().unwrap();
    assert_eq!(e.category.as_str(), "record-standards");
    assert_eq!(e.care_settings.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["hospital", "social-care"]);
    assert_eq!(e.topics.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["referrals", "continuity-of-care"]);
    assert!(e.mandated);
    assert_eq!(e.comply_by.unwrap().to_string(), "2027-03-31");
    assert_eq!(e.owner.as_str(), "example-body");
    assert!(e.tags.contains(&"examples".to_owned()));
    assert!(e.tags.contains(&"colour_scheme: blue".to_owned()), "unmapped fields are kept as tags: {:?}", e.tags);
    assert_eq!(ts.store.organisation("example-body").await.unwrap().unwrap().name, "Example Body");
    ts.finish().await;
}

async fn post(s: &TestServer, name: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut r = reqwest::Client::new().post(s.url(&format!("/api/3/action/{name}"))).json(&body);
    if let Some(t) = token {
        r = r.header("Authorization", t);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn writes_need_a_valid_token_and_go_round_trip() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let store = &s.test_store.store;
    store.add_user("editor@example.org", standards::store::Role::Editor, None).await.unwrap();
    store.add_user("pub@example.org", standards::store::Role::Publisher, Some("prsb")).await.unwrap();
    store.add_user("admin@example.org", standards::store::Role::Admin, None).await.unwrap();
    let (_, editor) = store.create_token("editor@example.org", "test", Some(30)).await.unwrap();
    let (_, publisher) = store.create_token("pub@example.org", "test", None).await.unwrap();
    let (_, admin) = store.create_token("admin@example.org", "test", None).await.unwrap();
    let new = json!({"name": "test-standard", "title": "Test Standard", "owner_org": "prsb",
                     "standard_category": "Record standards", "status": "draft-in-progress",
                     "care_setting": ["Hospital"], "topic": ["Referrals"], "notes": "Made by a test.",
                     "tags": [{"name": "testing"}]});

    // No token, a wrong token: refused.
    assert_eq!(post(&s, "package_create", None, new.clone()).await.0, 403);
    assert_eq!(post(&s, "package_create", Some("std_nope"), new.clone()).await.0, 403);
    // A publisher of another organisation: refused.
    let mut elsewhere = new.clone();
    elsewhere["owner_org"] = json!("nhs-england");
    let (status, body) = post(&s, "package_create", Some(&publisher), elsewhere).await;
    assert_eq!((status, body["error"]["__type"].as_str()), (403, Some("Authorization Error")));
    // A publisher of the owner: a draft for review, which the public cannot see.
    let (status, body) = post(&s, "package_create", Some(&publisher), new.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["state"], "draft");
    let revision = body["result"]["revision_id"].as_str().unwrap().to_owned();
    assert_eq!(action(&s, "package_show", "id=test-standard").await.0, 404, "the draft is not published");
    let r = s.test_store.store.revision(&revision).await.unwrap().unwrap();
    assert_eq!((r.state.as_str(), r.author.as_str(), r.organisation.as_str()), ("draft", "pub@example.org", "prsb"));
    assert_eq!(post(&s, "package_delete", Some(&publisher), json!({"id": "snomed-ct"})).await.0, 403);

    let (status, body) = post(&s, "package_create", Some(&editor), new.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["name"], "test-standard");
    assert_eq!(body["result"]["care_settings"], json!(["hospital"]));
    assert_eq!(body["result"]["owner"], "prsb");
    assert_eq!(post(&s, "package_create", Some(&editor), new.clone()).await.0, 409, "the name is taken");
    let (_, found) = action(&s, "package_search", "q=name:test-standard").await;
    assert_eq!(found["result"]["count"], 1, "the search index follows the write at once");

    let (status, patched) = post(
        &s,
        "package_patch",
        Some(&editor),
        json!({"id": "test-standard", "title": "Patched", "comply_by_date": "2028-01-01"}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["result"]["title"], "Patched");
    assert_eq!(patched["result"]["comply_by"], "2028-01-01");
    assert_eq!(patched["result"]["care_settings"], json!(["hospital"]), "a patch keeps what it does not name");

    let (status, updated) = post(
        &s,
        "package_update",
        Some(&editor),
        json!({"id": "test-standard", "title": "Updated",
        "owner_org": "prsb", "standard_category": "record-standards", "status": "active"}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["result"]["title"], "Updated");
    assert_eq!(updated["result"]["care_settings"], json!([]), "an update replaces the package");

    let (status, bad) = post(
        &s,
        "package_update",
        Some(&editor),
        json!({"id": "test-standard", "title": "X", "owner_org": "prsb",
        "standard_category": "record-standards", "status": "sort of"}),
    )
    .await;
    assert_eq!((status, bad["error"]["__type"].as_str()), (409, Some("Validation Error")));
    assert!(bad["error"]["message"].as_str().unwrap().contains("status"));

    let (status, _) = post(&s, "package_delete", Some(&editor), json!({"id": "test-standard"})).await;
    assert_eq!(status, 200);
    assert_eq!(action(&s, "package_show", "id=test-standard").await.0, 404);
    let changes = store.changes_since(0, 100_000).await.unwrap();
    assert!(changes.iter().any(|c| c.actor == "editor@example.org" && c.action == "delete"), "the change log says who");

    assert_eq!(
        post(&s, "organization_create", Some(&editor), json!({"name": "new-body", "title": "New Body"})).await.0,
        403
    );
    let (status, org) = post(
        &s,
        "organization_create",
        Some(&admin),
        json!({"name": "new-body", "title": "New Body", "description": "A test body."}),
    )
    .await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(org["result"]["name"], "new-body");

    // A revoked token stops working.
    let tokens = store.tokens().await.unwrap();
    let id = &tokens.iter().find(|t| t.email == "editor@example.org").unwrap().id;
    store.revoke_token(id).await.unwrap();
    assert_eq!(post(&s, "package_create", Some(&editor), new.clone()).await.0, 403);
    s.stop().await;
}

on_both_stores!(tokens_are_stored_hashed_and_stop_working_when_expired_revoked_or_disabled, |backend| async move {
    let ts = common::TestStore::new(backend).await;
    ts.store.add_user("a@example.org", standards::store::Role::Editor, None).await.unwrap();
    let (_, good) = ts.store.create_token("a@example.org", "t", Some(30)).await.unwrap();
    let (_, expired) = ts.store.create_token("a@example.org", "t", Some(0)).await.unwrap();
    assert_eq!(ts.store.authenticate(&good).await.unwrap().unwrap().email, "a@example.org");
    assert!(ts.store.authenticate(&expired).await.unwrap().is_none());
    // Neither the token nor its hash is in the change log.
    let log = serde_json::to_string(&ts.store.changes_since(0, 1000).await.unwrap()).unwrap();
    assert!(!log.contains(&good) && !log.contains(&good[4..20]));
    ts.store.disable_user("a@example.org").await.unwrap();
    assert!(ts.store.authenticate(&good).await.unwrap().is_none(), "a disabled user's tokens stop working");
    assert!(
        ts.store.add_user("b@example.org", standards::store::Role::Publisher, None).await.is_err(),
        "publishers need an organisation"
    );
    ts.finish().await;
});

#[tokio::test]
async fn standards_import_format_ckan_migrates_a_running_instance_from_its_address() {
    let a = TestServer::with_demo(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_standards"))
        .args(["import", "--format", "ckan", &a.base, "--data-dir"])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let b = standards::store::Store::open_data_dir(dir.path()).await.unwrap();
    let source = a.test_store.store.catalogue().await.unwrap();
    let target = b.catalogue().await.unwrap();
    let content = |c: &standards::catalogue::Catalogue| c.entries.iter().map(|e| e.content()).collect::<Vec<_>>();
    assert_eq!(content(&target), content(&source), "the two catalogues are equal");
    b.close().await;

    // An address that is not a CKAN site is a clear error, not a crash.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_standards"))
        .args(["import", "--format", "ckan", "http://127.0.0.1:9/", "--data-dir"])
        .arg(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("a CKAN site answering at http://127.0.0.1:9/api/3/action/package_search")
    );
    a.stop().await;
}

#[tokio::test]
async fn range_filters_on_dates_and_names() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let total = s.get_json("/api/v1/standards?per_page=1").await["total"].as_u64().unwrap();
    let count = |body: &Value| body["result"]["count"].as_u64().unwrap();
    let (_, all) = action(&s, "package_search", "fq=metadata_modified:%5B*%20TO%20NOW%5D").await;
    assert_eq!(count(&all), total);
    let (_, none) = action(&s, "package_search", "fq=metadata_created:%5BNOW%2B1DAY%20TO%20*%5D").await;
    assert_eq!(count(&none), 0);
    let entries = s.test_store.store.entries().await.unwrap();
    let in_range = entries
        .iter()
        .filter(|e| {
            e.comply_by
                .is_some_and(|d| d.to_string().as_str() >= "2020-01-01" && d.to_string().as_str() <= "2030-12-31")
        })
        .count() as u64;
    assert!(in_range > 0);
    let (_, dated) = action(&s, "package_search", "fq=comply_by_date:%5B2020-01-01%20TO%202030-12-31%5D&rows=0").await;
    assert_eq!(count(&dated), in_range);
    let (_, names) = action(&s, "package_search", "fq=name:%5Ba%20TO%20b%7D&rows=1000").await;
    assert!(
        names["result"]["results"].as_array().unwrap().iter().all(|p| p["name"].as_str().unwrap().starts_with('a'))
    );
    assert!(count(&names) > 0);
    let (status, bad) = action(&s, "package_search", "fq=metadata_modified:%5Byesterday%20TO%20*%5D").await;
    assert_eq!((status, bad["error"]["__type"].as_str()), (409, Some("Search Query Error")));
    s.stop().await;
}

#[tokio::test]
async fn ckanext_pages_serve_the_guides_and_site_pages() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let (status, body) = action(&s, "ckanext_pages_list", "").await;
    assert_eq!(status, 200);
    let pages = body["result"].as_array().unwrap();
    let names: Vec<&str> = pages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    for name in [
        "what-we-mean-by-standards",
        "what-is-interoperability",
        "how-standards-are-mandated",
        "how-to-get-help",
        "about",
        "accessibility",
    ] {
        assert!(names.contains(&name), "{name} listed");
    }
    for p in pages {
        for field in ["id", "name", "title", "content", "page_type", "order", "private", "publish_date"] {
            assert!(p.get(field).is_some(), "{field} on {}", p["name"]);
        }
    }
    let (_, blog) = action(&s, "ckanext_pages_list", "page_type=blog").await;
    assert_eq!(blog["result"], json!([]));
    let (status, body) = action(&s, "ckanext_pages_show", "page=how-to-get-help").await;
    assert_eq!(status, 200);
    let page = &body["result"];
    assert_eq!(page["title"], "How to get help");
    assert!(page["content"].as_str().unwrap().contains("<h2>"), "content is HTML");
    assert!(!page["content"].as_str().unwrap().contains("<script"));
    let (status, body) = action(&s, "ckanext_pages_show", "page=nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["__type"], "Not Found Error");
    s.stop().await;
}

#[tokio::test]
async fn organizations_are_updated_and_patched_by_administrators_only() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let store = &s.test_store.store;
    store.add_user("editor@example.org", standards::store::Role::Editor, None).await.unwrap();
    store.add_user("admin@example.org", standards::store::Role::Admin, None).await.unwrap();
    let (_, editor) = store.create_token("editor@example.org", "test", None).await.unwrap();
    let (_, admin) = store.create_token("admin@example.org", "test", None).await.unwrap();
    let (_, before) = action(&s, "organization_show", "id=prsb").await;
    let kind = before["result"]["kind"].clone();

    let patch = json!({"id": "prsb", "description": "Patched description."});
    assert_eq!(post(&s, "organization_patch", None, patch.clone()).await.0, 403);
    let (status, body) = post(&s, "organization_patch", Some(&editor), patch.clone()).await;
    assert_eq!((status, body["error"]["__type"].as_str()), (403, Some("Authorization Error")));
    let (status, body) = post(&s, "organization_patch", Some(&admin), patch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["description"], "Patched description.");
    assert_eq!(body["result"]["title"], before["result"]["title"], "a patch keeps what it does not name");
    assert_eq!(body["result"]["kind"], kind);

    // An update replaces everything but the name (and the kind, unless given).
    let (status, body) =
        post(&s, "organization_update", Some(&admin), json!({"id": "prsb", "title": "PRSB (updated)"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["title"], "PRSB (updated)");
    assert!(body["result"]["description"].as_str().is_none_or(str::is_empty), "{body}");
    assert_eq!(body["result"]["kind"], kind);
    let (_, shown) = action(&s, "organization_show", "id=prsb").await;
    assert_eq!(shown["result"]["title"], "PRSB (updated)");

    let (status, body) = post(&s, "organization_patch", Some(&admin), json!({"id": "no-such-body"})).await;
    assert_eq!((status, body["error"]["__type"].as_str()), (404, Some("Not Found Error")));
    let (status, body) = post(&s, "organization_update", Some(&admin), json!({"id": "prsb", "title": ""})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["__type"], "Validation Error");
    s.stop().await;
}
