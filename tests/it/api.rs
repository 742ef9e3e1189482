//! The JSON API against the real server on a random port, on SQLite and
//! PostgreSQL, with responses checked against the OpenAPI document.

use crate::common;

use common::check_schema as check;
use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use serde_json::{Value, json};

async fn server(backend: Backend) -> TestServer {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    TestServer::start(ts).await
}

fn slugs(page: &Value) -> Vec<&str> {
    page["results"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap()).collect()
}

on_both_stores!(lists_filter_by_slug_or_label_and_page, |backend| async move {
    let s = server(backend).await;
    let all = s.get_json("/api/v1/standards").await;
    assert_eq!((all["total"].as_i64(), all["page"].as_i64(), all["per_page"].as_i64()), (Some(5), Some(1), Some(20)));
    let first = &all["results"][0];
    for field in ["slug", "title", "type", "category", "status", "owner", "care_settings", "topics", "summary"] {
        assert!(first.get(field).is_some(), "entries carry {field}");
    }

    let by_slug = s.get_json("/api/v1/standards?care_setting=social-care").await;
    let by_label = s.get_json("/api/v1/standards?care_setting=Social%20care").await;
    assert_eq!(slugs(&by_slug), vec!["about-me", "core-information-standard"]);
    assert_eq!(by_slug["results"], by_label["results"]);

    let or = s.get_json("/api/v1/standards?care_setting=social-care&care_setting=GP%20%2F%20Primary%20care").await;
    assert_eq!(or["total"], 5);
    let and = s.get_json("/api/v1/standards?care_setting=gp-primary-care&status=Active&mandated=true").await;
    assert_eq!(slugs(&and), vec!["snomed-ct"]);
    let apis = s.get_json("/api/v1/standards?type=api").await;
    assert_eq!(slugs(&apis), vec!["pds-fhir"]);
    let owner = s
        .get_json("/api/v1/standards?owner=Professional%20Record%20Standards%20Body&category=Record%20standards")
        .await;
    assert_eq!(owner["total"], 2);

    let page2 = s.get_json("/api/v1/standards?per_page=2&page=2").await;
    assert_eq!(slugs(&page2), vec!["pds-fhir", "read-codes"]);
    assert_eq!(page2["total"], 5);
    let deadline = s.get_json("/api/v1/standards?sort=comply_by&per_page=2").await;
    assert_eq!(slugs(&deadline), vec!["snomed-ct", "core-information-standard"]);
    s.stop().await;
});

on_both_stores!(one_entry_and_organisations_and_vocabularies, |backend| async move {
    let s = server(backend).await;
    let e = s.get_json("/api/v1/standards/core-information-standard").await;
    assert_eq!(e["title"], "Core Information Standard");
    assert_eq!(e["status"], "in-development");
    assert_eq!(e["owner"], "prsb");
    assert_eq!(e["dependencies"], json!(["snomed-ct"]));

    let orgs = s.get_json("/api/v1/organisations").await;
    assert_eq!(orgs["total"], 2);
    let prsb = s.get_json("/api/v1/organisations/prsb").await;
    assert_eq!(prsb["name"], "Professional Record Standards Body");

    let v = s.get_json("/api/v1/vocabularies").await;
    assert_eq!(v["care_setting"].as_array().unwrap().len(), 11);
    assert_eq!(v["status"].as_array().unwrap().len(), 9);
    assert_eq!(v["type"][1]["slug"], "api");
    s.stop().await;
});

#[tokio::test]
async fn errors_are_problem_json_that_say_what_was_wrong() {
    let s = server(Backend::Sqlite).await;
    let r = s.get("/api/v1/standards/no-such-thing").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert!(body["detail"].as_str().unwrap().contains("no-such-thing"));

    let r = s.get("/api/v1/standards?care_setting=moon&per_page=500&colour=red&status=live").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    let names: Vec<&str> =
        body["invalid-params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["colour", "care_setting", "status", "per_page"]);
    assert!(body["detail"].as_str().unwrap().contains("one of community-health"), "{body}");

    let r = s.get("/api/v1/nowhere").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Outside the APIs, people get the website's not-found page.
    let r = s.get("/nowhere").await;
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    s.stop().await;
}

#[tokio::test]
async fn reads_carry_an_etag_and_answer_304_when_unchanged() {
    let s = server(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let url = s.url("/api/v1/standards/snomed-ct");
    let first = client.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    let mut changed = small_catalogue();
    changed["entries"][0]["summary"] = json!("Changed.");
    load(&s.test_store.store, &changed).await;
    let after = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    s.stop().await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_gets_are_open_to_other_origins() {
    let s = server(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let r = client.get(s.url("/api/v1/standards")).header("origin", "https://example.org").send().await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = client.get(s.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123", "a caller's request id is kept");
    let preflight = client
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/standards"))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    s.stop().await;
}

on_both_stores!(health_and_readiness, |backend| async move {
    let s = server(backend).await;
    assert_eq!(s.get_json("/healthz").await["status"], "ok");
    let ready = s.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], if backend == Backend::Sqlite { "sqlite" } else { "postgres" });
    s.test_store.store.close().await;
    let r = s.get("/readyz").await;
    assert_eq!(r.status(), 503, "a closed store is not ready");
    assert_eq!(s.get("/healthz").await.status(), 200, "but the process is up");
    s.stop().await;
});

#[tokio::test]
async fn oversized_request_bodies_are_refused() {
    let s = server(Backend::Sqlite).await;
    let body = vec![b'x'; standards::server::BODY_LIMIT_BYTES + 1];
    let r = reqwest::Client::new().post(s.url("/api/v1/standards")).body(body).send().await.unwrap();
    assert!(r.status() == 413 || r.status() == 405, "{}", r.status());
    s.stop().await;
}

#[tokio::test]
async fn real_responses_match_the_openapi_document() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let doc = s.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/standards",
        "/api/v1/standards/{slug}",
        "/api/v1/organisations",
        "/api/v1/organisations/{slug}",
        "/api/v1/vocabularies",
        "/api/v1/changes",
        "/api/v1/search",
        "/api/v1/suggest",
        "/api/v1/search/analytics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let list = s.get_json("/api/v1/standards?per_page=100").await;
    check(&doc, "EntryList", &list);
    let mut page = 2;
    while (page - 1) * 100 < list["total"].as_i64().unwrap() {
        check(&doc, "EntryList", &s.get_json(&format!("/api/v1/standards?per_page=100&page={page}")).await);
        page += 1;
    }
    check(&doc, "Entry", &s.get_json("/api/v1/standards/snomed-ct").await);
    check(&doc, "OrganisationList", &s.get_json("/api/v1/organisations").await);
    check(&doc, "Organisation", &s.get_json("/api/v1/organisations/nhs-england").await);
    check(&doc, "Vocabularies", &s.get_json("/api/v1/vocabularies").await);
    check(&doc, "ChangeList", &s.get_json("/api/v1/changes?limit=1000").await);
    for q in ["", "snowmed", "referral&care_setting=hospital&mandated=false", "qqqzzz", "\"transfer of care\""] {
        check(&doc, "SearchResponse", &s.get_json(&format!("/api/v1/search?q={q}&per_page=100")).await);
    }
    check(&doc, "Suggestions", &s.get_json("/api/v1/suggest?q=pharm").await);
    s.test_store.store.add_user("ed@example.org", standards::store::Role::Editor, None).await.unwrap();
    let (_, token) = s.test_store.store.create_token("ed@example.org", "t", None).await.unwrap();
    let stats: Value = reqwest::Client::new()
        .get(s.url("/api/v1/search/analytics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(&doc, "SearchAnalytics", &stats);
    let problem: Value = s.get("/api/v1/standards?status=nope").await.json().await.unwrap();
    check(&doc, "Problem", &problem);
    // The check itself can fail: a wrong shape is caught.
    let broken = json!({"total": 1, "page": 1, "per_page": 1, "results": [{"slug": "x"}]});
    let root = json!({"$ref": "#/components/schemas/EntryList", "components": doc["components"]});
    assert!(!jsonschema::validator_for(&root).unwrap().is_valid(&broken));
    s.stop().await;
}

#[tokio::test]
async fn the_changes_log_is_readable_in_pages() {
    let s = server(Backend::Sqlite).await;
    let first = s.get_json("/api/v1/changes?limit=3").await;
    assert_eq!(first["results"].as_array().unwrap().len(), 3);
    let next = first["next"].as_i64().unwrap();
    let rest = s.get_json(&format!("/api/v1/changes?since={next}&limit=1000")).await;
    let seqs: Vec<i64> = rest["results"].as_array().unwrap().iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.iter().all(|&q| q > next));
    s.stop().await;
}

/// `/metrics` answers the local host in Prometheus's text format, counting
/// requests under their route's pattern, never the address asked for.
#[tokio::test]
async fn metrics_count_requests_by_route_pattern_for_the_local_host() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    assert_eq!(s.get("/standards/snomed-ct").await.status(), 200);
    assert_eq!(s.get("/standards/dm-d").await.status(), 200);
    let response = s.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("standards_http_requests_total{route=\"/standards/{slug}\",method=\"GET\",status=\"200\"} 2\n"),
        "{text}"
    );
    assert!(!text.contains("snomed-ct"), "addresses asked for are not labels");
    assert!(text.contains("# TYPE standards_http_request_duration_seconds histogram"));
    assert!(text.contains("\nstandards_index_lag_changes 0\n"), "{text}");
    s.stop().await;
}

/// Behind a trusted proxy the client's address comes from
/// `X-Forwarded-For`, so a remote client reaching /metrics through a proxy
/// on the same host is refused; without a trusted proxy the header is
/// ignored and nobody can claim an address.
#[tokio::test]
async fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
    let ts = TestStore::new(Backend::Sqlite).await;
    for (trusted, expected) in [(vec![], 200), (vec!["127.0.0.1/32".parse().unwrap()], 403)] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = standards::app::AppState::new(ts.store.clone()).await.unwrap().with_trusted_proxies(trusted);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(standards::server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let status = reqwest::Client::new()
            .get(format!("{base}/metrics"))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, expected);
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
    ts.finish().await;
}
