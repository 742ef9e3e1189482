//! Publishing: the authorisation matrix through the JSON API and the CKAN
//! actions, the review workflow, tokens, the audit log, passwords and
//! lock-out.

use crate::common;

use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore, send};
use serde_json::{Value, json};
use standards::store::Role;

struct Tokens {
    admin: String,
    editor: String,
    own: String,
    other: String,
}

async fn server(backend: Backend) -> (TestServer, Tokens) {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let store = &ts.store;
    store.add_user("admin@example.org", Role::Admin, None).await.unwrap();
    store.add_user("editor@example.org", Role::Editor, None).await.unwrap();
    store.add_user("own@example.org", Role::Publisher, Some("prsb")).await.unwrap();
    store.add_user("other@example.org", Role::Publisher, Some("nhs-england")).await.unwrap();
    let mut t = Vec::new();
    for who in ["admin", "editor", "own", "other"] {
        t.push(store.create_token(&format!("{who}@example.org"), "test", None).await.unwrap().1);
    }
    let tokens = Tokens { admin: t[0].clone(), editor: t[1].clone(), own: t[2].clone(), other: t[3].clone() };
    (TestServer::start(ts).await, tokens)
}

fn new_entry(slug: &str, owner: &str) -> Value {
    json!({"slug": slug, "title": format!("Entry {slug}"), "type": "standard", "category": "record-standards",
           "care_settings": ["hospital"], "topics": ["referrals"], "owner": owner, "status": "draft-in-progress",
           "summary": "Made by a test."})
}

on_both_stores!(authorisation_matrix_for_the_json_api, |backend| async move {
    let (s, t) = server(backend).await;
    // (who, token) by role; "own" publishes for prsb, "other" for nhs-england.
    let who: [(&str, Option<&str>); 5] = [
        ("nobody", None),
        ("admin", Some(&t.admin)),
        ("editor", Some(&t.editor)),
        ("own", Some(&t.own)),
        ("other", Some(&t.other)),
    ];
    // Each route that changes something, on an entry owned by prsb, with the
    // exact status each caller gets.
    for (i, (name, token)) in who.iter().enumerate() {
        let slug = format!("made-by-{name}");
        let expected = match *name {
            "nobody" => 401,
            "admin" | "editor" => 201,
            "own" => 202,
            _ => 403,
        };
        let (status, body) = send(&s, "POST", "/api/v1/standards", *token, Some(new_entry(&slug, "prsb"))).await;
        assert_eq!(status, expected, "POST as {name}: {body}");

        let expected_put = match *name {
            "nobody" => 401,
            "admin" | "editor" => 200,
            "own" => 202,
            _ => 403,
        };
        let mut about_me = s.get_json("/api/v1/standards/about-me").await;
        about_me["summary"] = json!(format!("Put by {name}"));
        let (status, body) = send(&s, "PUT", "/api/v1/standards/about-me", *token, Some(about_me)).await;
        assert_eq!(status, expected_put, "PUT as {name}: {body}");

        let (status, body) =
            send(&s, "PATCH", "/api/v1/standards/about-me", *token, Some(json!({"summary": format!("Patched {i}")})))
                .await;
        assert_eq!(status, expected_put, "PATCH as {name}: {body}");

        // Another organisation's entry: publishers of prsb are refused.
        let expected_other = match *name {
            "nobody" => 401,
            "admin" | "editor" => 200,
            "own" => 403,
            _ => 202,
        };
        let (status, body) =
            send(&s, "PATCH", "/api/v1/standards/snomed-ct", *token, Some(json!({"summary": "x"}))).await;
        assert_eq!(status, expected_other, "PATCH another's as {name}: {body}");

        let expected_delete = match *name {
            "nobody" => 401,
            "admin" | "editor" => 204,
            _ => 403,
        };
        send(&s, "POST", "/api/v1/standards", Some(&t.admin), Some(new_entry(&format!("doomed-{name}"), "prsb"))).await;
        let (status, body) = send(&s, "DELETE", &format!("/api/v1/standards/doomed-{name}"), *token, None).await;
        assert_eq!(status, expected_delete, "DELETE as {name}: {body}");

        // Audit log: administrators only.
        let expected_audit = match *name {
            "nobody" => 401,
            "admin" => 200,
            _ => 403,
        };
        assert_eq!(send(&s, "GET", "/api/v1/audit", *token, None).await.0, expected_audit, "audit as {name}");
        let expected_queue = match *name {
            "nobody" => 401,
            _ => 200,
        };
        assert_eq!(send(&s, "GET", "/api/v1/revisions", *token, None).await.0, expected_queue, "revisions as {name}");
    }
    // The publisher's writes are drafts: the public sees none of them.
    assert_eq!(s.get("/api/v1/standards/made-by-own").await.status(), 404);
    assert!(!s.get_json("/api/v1/standards/about-me").await["summary"].as_str().unwrap().contains("own"));
    // A publisher sees only their organisation's drafts.
    let (_, mine) = send(&s, "GET", "/api/v1/revisions", Some(&t.own), None).await;
    assert!(mine["results"].as_array().unwrap().iter().all(|r| r["organisation"] == "prsb"), "{mine}");
    let (_, theirs) = send(&s, "GET", "/api/v1/revisions", Some(&t.other), None).await;
    assert!(theirs["results"].as_array().unwrap().iter().all(|r| r["organisation"] == "nhs-england"));
    let other_draft = theirs["results"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(send(&s, "GET", &format!("/api/v1/revisions/{other_draft}"), Some(&t.own), None).await.0, 403);
    // Invalid entries are refused with each field named.
    let (status, body) = send(
        &s,
        "POST",
        "/api/v1/standards",
        Some(&t.editor),
        Some(json!({"slug": "bad", "title": "", "status": "nope"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let names: Vec<&str> =
        body["invalid-params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"status") && names.contains(&"title"), "{names:?}");
    s.stop().await;
});

on_both_stores!(the_review_workflow_through_the_api, |backend| async move {
    let (s, t) = server(backend).await;
    let (status, draft) =
        send(&s, "POST", "/api/v1/standards", Some(&t.own), Some(new_entry("new-record", "prsb"))).await;
    assert_eq!(status, 202);
    assert_eq!(draft["state"], "draft");
    let id = draft["id"].as_str().unwrap().to_owned();
    let step = |name: &'static str| format!("/api/v1/revisions/{id}/{name}");

    // Editors cannot publish what the publisher has not... they can; but a
    // publisher cannot publish or request changes.
    assert_eq!(send(&s, "POST", &step("publish"), Some(&t.own), None).await.0, 403);
    assert_eq!(send(&s, "POST", &step("submit"), Some(&t.other), None).await.0, 403);
    let (status, submitted) = send(&s, "POST", &step("submit"), Some(&t.own), None).await;
    assert_eq!((status, submitted["state"].as_str()), (200, Some("submitted")));
    let (status, queue) = send(&s, "GET", "/api/v1/revisions?state=submitted", Some(&t.editor), None).await;
    assert_eq!(status, 200);
    assert!(queue["results"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str()), "in the editors' queue");

    // Changes requested need a comment.
    assert_eq!(send(&s, "POST", &step("request-changes"), Some(&t.editor), None).await.0, 422);
    let (status, sent_back) =
        send(&s, "POST", &step("request-changes"), Some(&t.editor), Some(json!({"comment": "Add a care setting."})))
            .await;
    assert_eq!((status, sent_back["state"].as_str()), (200, Some("changes-requested")));
    assert_eq!(sent_back["comment"], "Add a care setting.");

    // The publisher fixes it (PATCH works on their open draft) and resubmits.
    let (status, fixed) = send(
        &s,
        "PATCH",
        "/api/v1/standards/new-record",
        Some(&t.own),
        Some(json!({"care_settings": ["hospital", "social-care"]})),
    )
    .await;
    assert_eq!(status, 202, "{fixed}");
    assert_eq!(fixed["id"], id.as_str(), "the same revision");
    assert_eq!(fixed["state"], "draft");
    assert_eq!(send(&s, "POST", &step("submit"), Some(&t.own), None).await.1["state"], "submitted");
    assert_eq!(s.get("/api/v1/standards/new-record").await.status(), 404, "not public before publishing");

    let (status, published) = send(&s, "POST", &step("publish"), Some(&t.editor), None).await;
    assert_eq!((status, published["state"].as_str()), (200, Some("published")), "{published}");
    let public = s.get_json("/api/v1/standards/new-record").await;
    assert_eq!(public["care_settings"], json!(["hospital", "social-care"]));
    let found = s.get_json("/api/v1/search?q=new-record").await;
    assert!(found["total"].as_u64().unwrap() >= 1, "the search index follows");
    assert_eq!(send(&s, "POST", &step("publish"), Some(&t.editor), None).await.0, 409, "published once");

    // While a new revision is in review, the published one stays live.
    send(&s, "PATCH", "/api/v1/standards/new-record", Some(&t.own), Some(json!({"title": "Renamed"}))).await;
    assert_eq!(s.get_json("/api/v1/standards/new-record").await["title"], "Entry new-record");

    // The public changes feed shows the publication, not the drafts, people or tokens.
    let changes = s.get_json("/api/v1/changes?limit=1000").await;
    let entities: std::collections::HashSet<&str> =
        changes["results"].as_array().unwrap().iter().map(|c| c["entity"].as_str().unwrap()).collect();
    assert!(entities.contains("entry"));
    for hidden in ["revision", "user", "token"] {
        assert!(!entities.contains(hidden), "{hidden} is not public");
    }
    s.stop().await;
});

#[tokio::test]
async fn tokens_that_are_revoked_or_expired_are_refused_and_never_shown() {
    let (s, t) = server(Backend::Sqlite).await;
    let store = &s.test_store.store;
    let (id, token) = store.create_token("editor@example.org", "short", Some(30)).await.unwrap();
    assert_eq!(send(&s, "GET", "/api/v1/revisions", Some(&token), None).await.0, 200);
    store.revoke_token(&id).await.unwrap();
    assert_eq!(send(&s, "GET", "/api/v1/revisions", Some(&token), None).await.0, 401, "revoked");
    assert_eq!(send(&s, "POST", "/api/v1/standards", Some(&token), Some(new_entry("x", "prsb"))).await.0, 401);
    // A token that expires after zero days has expired by the time it is used.
    let (_, expired) = store.create_token("editor@example.org", "old", Some(0)).await.unwrap();
    assert_eq!(send(&s, "GET", "/api/v1/revisions", Some(&expired), None).await.0, 401, "expired");

    // Neither tokens nor anything like them appear in responses or the audit log.
    let (_, audit) = send(&s, "GET", "/api/v1/audit?format=csv", Some(&t.admin), None).await;
    let audit = audit.as_str().unwrap().to_owned();
    assert!(audit.contains("token-used") && audit.contains("token-refused") && audit.contains("permission-refused"));
    for secret in [&t.admin, &t.editor, &t.own, &token, &expired] {
        assert!(!audit.contains(secret.as_str()), "a token in the audit log");
        assert!(!audit.contains(&secret[4..20]), "part of a token in the audit log");
    }
    let (_, revisions) = send(&s, "GET", "/api/v1/revisions", Some(&t.admin), None).await;
    assert!(!revisions.to_string().contains("std_"));
    s.stop().await;
}

on_both_stores!(passwords_sign_in_and_lock_out, |backend| async move {
    use standards::auth::password;
    use standards::store::SignIn;
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let store = &ts.store;
    store.add_user("pat@example.org", Role::Publisher, Some("prsb")).await.unwrap();
    let good = "purple kettle tuesday";
    store.set_password("pat@example.org", &password::hash(good).unwrap(), "test").await.unwrap();
    let sign_in = |p: &'static str| {
        let store = store.clone();
        async move { store.sign_in("Pat@Example.org", |h| password::verify(p, h)).await.unwrap() }
    };
    let SignIn::Ok { session, csrf, .. } = sign_in(good).await else { panic!("signs in") };
    let live = store.session(&session).await.unwrap().expect("a live session");
    assert_eq!((live.principal.email.as_str(), live.csrf.as_str()), ("pat@example.org", csrf.as_str()));
    store.end_session(&session).await.unwrap();
    assert!(store.session(&session).await.unwrap().is_none(), "signed out");

    for _ in 0..standards::store::LOCK_AFTER - 1 {
        assert_eq!(sign_in("wrong password here").await, SignIn::Wrong);
    }
    assert!(matches!(sign_in("wrong password here").await, SignIn::Locked(_)), "locked after repeated failures");
    assert!(matches!(sign_in(good).await, SignIn::Locked(_)), "even the right password waits");
    assert_eq!(store.sign_in("nobody@example.org", |h| password::verify(good, h)).await.unwrap(), SignIn::Wrong);
    // Nothing in the store holds the password itself.
    let dump = serde_json::to_string(&store.changes_since(0, 10_000).await.unwrap()).unwrap();
    assert!(!dump.contains(good));
    ts.finish().await;
});

on_both_stores!(writes_answer_as_the_openapi_document_says_and_admins_manage_organisations, |backend| async move {
    let (s, t) = server(backend).await;
    let doc = s.get_json("/api/v1/openapi.json").await;
    for (path, method) in [
        ("/api/v1/standards", "post"),
        ("/api/v1/standards/{slug}", "put"),
        ("/api/v1/standards/{slug}", "patch"),
        ("/api/v1/standards/{slug}", "delete"),
        ("/api/v1/revisions", "get"),
        ("/api/v1/revisions/{id}", "get"),
        ("/api/v1/revisions/{id}/{step}", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/organisations", "post"),
        ("/api/v1/organisations/{slug}", "put"),
        ("/api/v1/organisations/{slug}", "patch"),
    ] {
        assert!(doc["paths"][path].get(method).is_some(), "{method} {path} is documented");
    }
    // Bodies clients send, and what they get back.
    let body = new_entry("documented", "prsb");
    common::check_schema(&doc, "EntryInput", &body);
    common::check_schema(&doc, "EntryPatch", &json!({"summary": "Only this."}));
    let (status, created) = send(&s, "POST", "/api/v1/standards", Some(&t.editor), Some(body)).await;
    assert_eq!(status, 201);
    common::check_schema(&doc, "Entry", &created);
    let (status, draft) = send(&s, "POST", "/api/v1/standards", Some(&t.own), Some(new_entry("drafted", "prsb"))).await;
    assert_eq!(status, 202);
    common::check_schema(&doc, "Revision", &draft);
    let id = draft["id"].as_str().unwrap();
    let (_, submitted) = send(&s, "POST", &format!("/api/v1/revisions/{id}/submit"), Some(&t.own), None).await;
    common::check_schema(&doc, "Revision", &submitted);
    let (_, list) = send(&s, "GET", "/api/v1/revisions", Some(&t.editor), None).await;
    for r in list["results"].as_array().unwrap() {
        common::check_schema(&doc, "Revision", r);
    }
    let (_, audit) = send(&s, "GET", "/api/v1/audit", Some(&t.admin), None).await;
    assert!(!audit["results"].as_array().unwrap().is_empty());
    for e in audit["results"].as_array().unwrap() {
        common::check_schema(&doc, "AuditEvent", e);
    }

    // Organisations: administrators only, checked as an import checks them.
    let org = json!({"slug": "new-body", "name": "New Standards Body", "kind": "standards-body",
                     "description": "Writes standards.", "url": "https://example.org/"});
    common::check_schema(&doc, "OrganisationInput", &org);
    assert_eq!(send(&s, "POST", "/api/v1/organisations", None, Some(org.clone())).await.0, 401);
    assert_eq!(send(&s, "POST", "/api/v1/organisations", Some(&t.editor), Some(org.clone())).await.0, 403);
    assert_eq!(send(&s, "POST", "/api/v1/organisations", Some(&t.own), Some(org.clone())).await.0, 403);
    let (status, made) = send(&s, "POST", "/api/v1/organisations", Some(&t.admin), Some(org.clone())).await;
    assert_eq!(status, 201, "{made}");
    common::check_schema(&doc, "Organisation", &made);
    assert_eq!(s.get_json("/api/v1/organisations/new-body").await["name"], "New Standards Body");
    assert_eq!(send(&s, "POST", "/api/v1/organisations", Some(&t.admin), Some(org.clone())).await.0, 409);
    let (status, bad) = send(
        &s,
        "POST",
        "/api/v1/organisations",
        Some(&t.admin),
        Some(json!({"slug": "Bad Slug!", "name": "", "kind": "guild"})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let named: Vec<&str> =
        bad["invalid-params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(named.contains(&"slug") && named.contains(&"kind"), "{named:?}");

    let (status, patched) =
        send(&s, "PATCH", "/api/v1/organisations/new-body", Some(&t.admin), Some(json!({"name": "Renamed Body"})))
            .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (patched["name"].as_str(), patched["url"].as_str()),
        (Some("Renamed Body"), Some("https://example.org/"))
    );
    assert_eq!(send(&s, "PATCH", "/api/v1/organisations/nobody-here", Some(&t.admin), Some(json!({}))).await.0, 404);
    let (status, replaced) = send(
        &s,
        "PUT",
        "/api/v1/organisations/new-body",
        Some(&t.admin),
        Some(json!({"name": "Replaced Body", "kind": "standards-body"})),
    )
    .await;
    assert_eq!(status, 200, "{replaced}");
    assert!(replaced["url"].is_null(), "PUT replaces the whole record: {replaced}");
    assert_eq!(
        send(&s, "PUT", "/api/v1/organisations/new-body", Some(&t.admin), Some(json!({"slug": "other"}))).await.0,
        422
    );
    let (status, _) = send(
        &s,
        "PUT",
        "/api/v1/organisations/made-by-put",
        Some(&t.admin),
        Some(json!({"name": "Made By Put", "kind": "supplier"})),
    )
    .await;
    assert_eq!(status, 201);
    // The public changes feed carries the organisation, by whom.
    let changes = s.get_json("/api/v1/changes?limit=1000").await;
    common::check_schema(&doc, "ChangeList", &changes);
    assert!(changes["results"].as_array().unwrap().iter().any(|c| c["entity"] == "organisation"
        && c["actor"] == "admin@example.org"
        && c["after"]["name"] == "Replaced Body"));
    s.stop().await;
});

on_both_stores!(publishing_a_revision_keeps_changes_made_to_the_entry_meanwhile, |backend| async move {
    let (s, t) = server(backend).await;
    // The publisher starts a revision of their entry...
    let (status, draft) = send(
        &s,
        "PATCH",
        "/api/v1/standards/about-me",
        Some(&t.own),
        Some(json!({"summary": "From the publisher.", "status": "deprecated"})),
    )
    .await;
    assert_eq!(status, 202, "{draft}");
    assert!(draft["base_seq"].as_i64().is_some(), "{draft}");
    let id = draft["id"].as_str().unwrap().to_owned();
    // ...then an editor changes the published entry directly: one field the
    // revision leaves alone, one it also changes.
    let (status, _) = send(
        &s,
        "PATCH",
        "/api/v1/standards/about-me",
        Some(&t.editor),
        Some(json!({"title": "About Me (edited)", "status": "retired"})),
    )
    .await;
    assert_eq!(status, 200);

    // The revision page says what publishing will keep and what both changed.
    let hash = standards::auth::password::hash("purple kettle tuesday").unwrap();
    s.test_store.store.set_password("editor@example.org", &hash, "test").await.unwrap();
    let mut editor = common::browser::Browser::new(&s);
    editor.sign_in("editor@example.org", "purple kettle tuesday").await;
    let page = editor.get(&format!("/revisions/{id}")).await.body;
    assert!(page.contains("The published entry changed after this revision started"), "{page}");
    assert!(page.contains("Publishing keeps those changes to: Title."), "{page}");
    assert!(page.contains("both changed Status"), "{page}");

    let (status, published) = send(&s, "POST", &format!("/api/v1/revisions/{id}/publish"), Some(&t.editor), None).await;
    assert_eq!(status, 200, "{published}");
    let entry = s.get_json("/api/v1/standards/about-me").await;
    assert_eq!(entry["title"], "About Me (edited)", "the editor's change is kept");
    assert_eq!(entry["summary"], "From the publisher.", "the revision's change is published");
    assert_eq!(entry["status"], "deprecated", "where both changed, the revision's value is published");

    // A revision of an entry nobody touched meanwhile publishes as it is.
    let (_, second) =
        send(&s, "PATCH", "/api/v1/standards/about-me", Some(&t.own), Some(json!({"summary": "Second."}))).await;
    let id = second["id"].as_str().unwrap().to_owned();
    let page = editor.get(&format!("/revisions/{id}")).await.body;
    assert!(!page.contains("changed after this revision started"), "{page}");
    send(&s, "POST", &format!("/api/v1/revisions/{id}/publish"), Some(&t.editor), None).await;
    let entry = s.get_json("/api/v1/standards/about-me").await;
    assert_eq!((entry["summary"].as_str(), entry["title"].as_str()), (Some("Second."), Some("About Me (edited)")));
    s.stop().await;
});

on_both_stores!(the_audit_log_holds_every_change_beside_sign_ins_and_refusals, |backend| async move {
    let (s, t) = server(backend).await;
    send(&s, "PATCH", "/api/v1/standards/about-me", Some(&t.editor), Some(json!({"summary": "Audited."}))).await;
    send(&s, "PATCH", "/api/v1/standards/snomed-ct", Some(&t.own), Some(json!({"summary": "Refused."}))).await;
    let (status, all) = send(&s, "GET", "/api/v1/audit", Some(&t.admin), None).await;
    assert_eq!(status, 200);
    let results = all["results"].as_array().unwrap();
    let change = results
        .iter()
        .find(|e| e["event"] == "change" && e["actor"] == "editor@example.org")
        .unwrap_or_else(|| panic!("the editor's change is in the audit log: {all}"));
    assert_eq!(change["source"], "change");
    assert_eq!(change["outcome"], "update");
    assert_eq!(change["detail"], "entry about-me: summary", "{change}");
    assert!(results.iter().any(|e| e["event"] == "permission-refused" && e["actor"] == "own@example.org"));
    assert!(results.iter().any(|e| e["event"] == "token-used"));
    // Newest first across both sources.
    let times: Vec<&str> = results.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // Filters apply to both.
    let (_, changes) =
        send(&s, "GET", "/api/v1/audit?event=change&actor=editor@example.org", Some(&t.admin), None).await;
    let changes = changes["results"].as_array().unwrap();
    assert!(
        !changes.is_empty() && changes.iter().all(|e| e["event"] == "change" && e["actor"] == "editor@example.org")
    );
    let (_, refusals) = send(&s, "GET", "/api/v1/audit?event=permission-refused", Some(&t.admin), None).await;
    assert!(refusals["results"].as_array().unwrap().iter().all(|e| e["source"] == "audit"));
    // The CSV says where each line comes from.
    let csv = reqwest::Client::new()
        .get(s.url("/api/v1/audit?format=csv&event=change"))
        .bearer_auth(&t.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("seq,at,actor,event,outcome,detail,address,source,repeats\n"), "{csv}");
    assert!(csv.contains("entry about-me: summary,,change,1\n"), "{csv}");
    s.stop().await;
});
