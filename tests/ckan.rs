//! The CKAN-compatible Action API against the real server on the demo
//! catalogue: CKAN's envelope, errors and search syntax.

mod common;

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
