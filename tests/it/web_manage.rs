//! Managing organisations, guides, site pages, the glossary and vocabulary
//! terms in the browser, over HTTP as a browser does it: who may open and
//! save each form, CSRF, validation that keeps what was typed, duplicate
//! slugs, changes showing on the public pages at once, and hostile text.

use crate::common;

use common::browser::Browser;
use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use serde_json::json;
use standards::auth::password;
use standards::store::{Role, SignIn};

const PASSWORD: &str = "orange ladder sunday";

/// A browser signed in as `email`, with a session made by the store (the
/// sign-in form's rate limit stays out of these tests).
async fn signed_in(s: &TestServer, email: &str) -> Browser {
    let SignIn::Ok { session, .. } =
        s.test_store.store.sign_in(email, |h| password::verify(PASSWORD, h)).await.unwrap()
    else {
        panic!("{email} signs in")
    };
    let mut b = Browser::new(s);
    b.cookies.insert("session".into(), session);
    b
}

/// The session's CSRF token, from a page that carries it.
async fn csrf_of(b: &mut Browser) -> String {
    Browser::csrf(&b.get("/dashboard").await.body)
}

fn content() -> serde_json::Value {
    json!({
      "guides": [
        {"slug": "what-is-a-standard", "title": "What is a standard", "summary": "The basics.",
         "body": "A standard is an agreed way of doing something.", "order": 1}
      ],
      "pages": [
        {"slug": "about", "title": "About this directory", "body": "Who runs it and why."}
      ],
      "glossary": [
        {"slug": "fhir", "term": "FHIR", "aliases": ["Fast Healthcare Interoperability Resources"],
         "definition": "A standard for exchanging health records."}
      ]
    })
}

async fn server(backend: Backend) -> TestServer {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    load(&ts.store, &content()).await;
    let hash = password::hash(PASSWORD).unwrap();
    for (email, role, org) in [
        ("admin@example.org", Role::Admin, None),
        ("editor@example.org", Role::Editor, None),
        ("pub@example.org", Role::Publisher, Some("prsb")),
    ] {
        ts.store.add_user(email, role, org).await.unwrap();
        ts.store.set_password(email, &hash, "test").await.unwrap();
    }
    TestServer::start(ts).await
}

/// A valid form for creating (or, with an existing slug, saving) a record
/// of the kind the address manages.
fn valid_form(path: &str, slug: &str) -> Vec<(&'static str, String)> {
    let kind = path.trim_start_matches("/manage/").split('/').take_while(|s| *s != "new").collect::<Vec<_>>();
    let text = |s: &str| s.to_owned();
    match kind.first().copied() {
        Some("organisations") => vec![
            ("slug", text(slug)),
            ("name", format!("Organisation {slug}")),
            ("kind", text("supplier")),
            ("description", text("Makes care software.")),
            ("url", text("https://example.org")),
            ("contact", text("help@example.org")),
            ("identifier", text("ODS X26")),
            ("logo_url", text("https://example.org/logo.png")),
        ],
        Some("guides") | Some("pages") => vec![
            ("slug", text(slug)),
            ("title", format!("Guide {slug}")),
            ("summary", text("A short guide.")),
            ("body", text("## Why\n\nBecause records must move with the person.")),
            ("order", text("5")),
        ],
        Some("glossary") => vec![
            ("slug", text(slug)),
            ("term", format!("Term {slug}")),
            ("aliases", text("first alias\r\nsecond alias")),
            ("definition", text("What it means.")),
        ],
        Some("vocabularies") => vec![
            ("slug", text(slug)),
            ("label", format!("Label {slug}")),
            ("description", text("Described.")),
            ("aliases", text("another name")),
        ],
        other => panic!("no form for {other:?}"),
    }
}

fn with_csrf<'a>(csrf: &'a str, form: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    std::iter::once(("csrf", csrf)).chain(form.iter().map(|(k, v)| (*k, v.as_str()))).collect()
}

const WHO: [&str; 4] = ["nobody", "pub", "editor", "admin"];

on_both_stores!(who_may_open_and_save_each_manage_page, |backend| async move {
    let s = server(backend).await;
    // (method, address, statuses for nobody, publisher, editor, administrator).
    // Posting to `.../new` creates a record with a slug per person; posting to
    // an existing record's address saves it. Nobody is sent to sign in.
    let content = [303, 403, 200, 200];
    let content_saved = [303, 403, 303, 303];
    let admin_only = [303, 403, 403, 200];
    let admin_saved = [303, 403, 403, 303];
    let mut matrix: Vec<(&str, String, [u16; 4])> = vec![
        ("GET", "/manage".into(), content),
        ("GET", "/manage/organisations".into(), admin_only),
        ("GET", "/manage/organisations/new".into(), admin_only),
        ("GET", "/manage/organisations/prsb".into(), admin_only),
        ("POST", "/manage/organisations/new".into(), admin_saved),
        ("POST", "/manage/organisations/prsb".into(), admin_saved),
        ("GET", "/manage/guides".into(), content),
        ("GET", "/manage/guides/new".into(), content),
        ("GET", "/manage/guides/what-is-a-standard".into(), content),
        ("POST", "/manage/guides/new".into(), content_saved),
        ("POST", "/manage/guides/what-is-a-standard".into(), content_saved),
        ("GET", "/manage/pages".into(), content),
        ("GET", "/manage/pages/about".into(), content),
        ("POST", "/manage/pages/about".into(), content_saved),
        ("GET", "/manage/pages/new".into(), [303, 403, 404, 404]),
        ("GET", "/manage/glossary".into(), content),
        ("GET", "/manage/glossary/new".into(), content),
        ("GET", "/manage/glossary/fhir".into(), content),
        ("POST", "/manage/glossary/new".into(), content_saved),
        ("POST", "/manage/glossary/fhir".into(), content_saved),
        ("GET", "/manage/guides/no-such-guide".into(), [303, 403, 404, 404]),
    ];
    for (vocabulary, existing) in [
        ("care-settings", "hospital"),
        ("topics", "referrals"),
        ("categories", "record-standards"),
        ("technologies", "fhir"),
        ("synonyms", "gp"),
    ] {
        let list = format!("/manage/vocabularies/{vocabulary}");
        matrix.push(("GET", list.clone(), content));
        matrix.push(("GET", format!("{list}/new"), content));
        matrix.push(("GET", format!("{list}/{existing}"), content));
        matrix.push(("POST", format!("{list}/new"), content_saved));
        matrix.push(("POST", format!("{list}/{existing}"), content_saved));
    }

    let mut browsers = vec![Browser::new(&s)];
    for who in &WHO[1..] {
        browsers.push(signed_in(&s, &format!("{who}@example.org")).await);
    }
    let mut failures = Vec::new();
    for (method, path, expected) in &matrix {
        for (i, b) in browsers.iter_mut().enumerate() {
            let who = WHO[i];
            let answer = if *method == "GET" {
                b.get(path).await
            } else {
                let csrf = if who == "nobody" { String::new() } else { csrf_of(b).await };
                let slug = if path.ends_with("/new") {
                    format!("made-by-{who}")
                } else {
                    path.rsplit('/').next().unwrap().to_owned()
                };
                let form = valid_form(path, &slug);
                b.post(path, &with_csrf(&csrf, &form)).await
            };
            if answer.status != expected[i] {
                failures.push(format!("{method} {path} as {who}: {} (expected {})", answer.status, expected[i]));
            }
            if answer.status == 303 && who == "nobody" && answer.location != "/sign-in" {
                failures.push(format!("{method} {path} as nobody went to {}", answer.location));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every refusal of a signed-in person is in the audit log.
    let refused = s.test_store.store.audit_events(Some("permission-refused"), None, 10_000).await.unwrap();
    assert_eq!(refused.iter().filter(|e| e.actor == "pub@example.org").count(), matrix.len(), "refusals are audited");
    assert!(refused.iter().any(|e| e.actor == "editor@example.org" && e.detail.contains("/manage/organisations")));
    s.stop().await;
});

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let s = server(Backend::Sqlite).await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    for path in [
        "/manage/organisations/new",
        "/manage/guides/new",
        "/manage/glossary/new",
        "/manage/vocabularies/care-settings/new",
        "/manage/organisations/prsb",
        "/manage/pages/about",
    ] {
        let form =
            valid_form(path, if path.ends_with("/new") { "csrf-test" } else { path.rsplit('/').next().unwrap() });
        let missing: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(admin.post(path, &missing).await.status, 403, "{path} without a token");
        assert_eq!(admin.post(path, &with_csrf("wrong", &form)).await.status, 403, "{path} with a wrong token");
    }
    assert_eq!(s.get("/organisations/csrf-test").await.status(), 404, "nothing was written");
    assert_eq!(s.get("/guides/csrf-test").await.status(), 404);
    assert_eq!(s.get("/care-settings/csrf-test").await.status(), 404);
    assert!(!s.get("/organisations/prsb").await.text().await.unwrap().contains("Organisation prsb"));
    s.stop().await;
}

on_both_stores!(a_validation_error_keeps_every_typed_value_and_links_each_field, |backend| async move {
    let s = server(backend).await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    let csrf = csrf_of(&mut admin).await;

    // An organisation without a name, of an unknown kind, with a bad slug.
    let typed = [
        ("csrf", csrf.as_str()),
        ("slug", "Not A Slug"),
        ("name", ""),
        ("kind", "pirate"),
        ("description", "Two lines\r\nof description"),
        ("url", "https://typed.example.org"),
        ("contact", "typed@example.org"),
        ("identifier", "TYPED-1"),
        ("logo_url", "https://typed.example.org/logo.svg"),
    ];
    let a = admin.post("/manage/organisations/new", &typed).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("There is a problem") && a.body.contains("<title>Error: "), "{}", a.body);
    for field in ["slug", "name", "kind"] {
        assert!(a.body.contains(&format!("href=\"#field-{field}\"")), "the summary links to {field}");
        assert!(a.body.contains(&format!("id=\"field-{field}-error\"")), "an inline error at {field}");
        assert!(a.body.contains(&format!("id=\"field-{field}\"")), "the field the link goes to");
    }
    let summary = &a.body[a.body.find("nhsuk-error-summary__list").unwrap()..a.body.find("<h1>").unwrap()];
    let order: Vec<usize> =
        ["#field-slug", "#field-name", "#field-kind"].iter().map(|f| summary.find(f).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "errors in the order of the fields");
    for kept in [
        "value=\"Not A Slug\"",
        ">Two lines\nof description</textarea>",
        "value=\"https://typed.example.org\"",
        "value=\"typed@example.org\"",
        "value=\"TYPED-1\"",
        "value=\"https://typed.example.org/logo.svg\"",
    ] {
        assert!(a.body.contains(kept), "kept {kept}");
    }
    assert_eq!(s.get("/organisations/not-a-slug").await.status(), 404);

    // A guide with no title and an order that is not a number.
    let a = admin
        .post(
            "/manage/guides/new",
            &[
                ("csrf", &csrf),
                ("slug", "half-a-guide"),
                ("title", " "),
                ("summary", "Kept summary"),
                ("body", "Kept *body*"),
                ("order", "first"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("href=\"#field-title\"") && a.body.contains("href=\"#field-order\""));
    assert!(a.body.contains("value=\"half-a-guide\"") && a.body.contains(">Kept summary</textarea>"));
    assert!(a.body.contains(">Kept *body*</textarea>") && a.body.contains("value=\"first\""));
    assert_eq!(s.get("/guides/half-a-guide").await.status(), 404);

    // A glossary term without a definition; a care setting without a label.
    let a = admin
        .post(
            "/manage/glossary/new",
            &[("csrf", &csrf), ("slug", "kept"), ("term", "Kept term"), ("aliases", "a\nb"), ("definition", "")],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("href=\"#field-definition\"") && a.body.contains(">a\nb</textarea>"));
    let a = admin
        .post(
            "/manage/vocabularies/care-settings/new",
            &[("csrf", &csrf), ("slug", "hospice"), ("label", ""), ("description", "Kept description")],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("href=\"#field-label\"") && a.body.contains(">Kept description</textarea>"));
    assert_eq!(s.get("/care-settings/hospice").await.status(), 404);

    // An edit keeps the typed values too, and its slug cannot be changed.
    let a = admin
        .post(
            "/manage/organisations/prsb",
            &[("csrf", &csrf), ("slug", "prsb"), ("name", "PRSB renamed"), ("kind", "")],
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("value=\"PRSB renamed\"") && a.body.contains("href=\"#field-kind\""));
    assert!(a.body.contains("value=\"prsb\" readonly"));
    s.stop().await;
});

on_both_stores!(saved_changes_show_on_the_public_pages_at_once, |backend| async move {
    let s = server(backend).await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    let mut editor = signed_in(&s, "editor@example.org").await;
    let (admin_csrf, csrf) = (csrf_of(&mut admin).await, csrf_of(&mut editor).await);
    // Read every public page first, so the site's cached data is warm.
    for path in ["/organisations", "/guides", "/glossary", "/care-settings", "/about"] {
        assert_eq!(s.get(path).await.status(), 200);
    }

    // Organisations: create, then edit; the slug stays what it was.
    let mut form = valid_form("/manage/organisations/new", "care-soft");
    let a = admin.post("/manage/organisations/new", &with_csrf(&admin_csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/organisations/care-soft"));
    let page = s.get("/organisations/care-soft").await.text().await.unwrap();
    assert!(page.contains("Organisation care-soft") && page.contains("ODS X26"));
    form[0].1 = "renamed-slug".into();
    form[1].1 = "Care Soft Limited".into();
    let a = admin.post("/manage/organisations/care-soft", &with_csrf(&admin_csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/organisations/care-soft"));
    assert!(s.get("/organisations/care-soft").await.text().await.unwrap().contains("Care Soft Limited"));
    assert!(s.get("/organisations").await.text().await.unwrap().contains("Care Soft Limited"));
    assert_eq!(s.get("/organisations/renamed-slug").await.status(), 404, "slugs cannot change");
    let org = s.get_json("/api/v1/organisations/care-soft").await;
    assert_eq!(org["kind"], "supplier");
    assert_eq!(org["logo_url"], "https://example.org/logo.png");

    // Guides: create, preview, edit.
    let form = valid_form("/manage/guides/new", "moving-records");
    let a = editor.post("/manage/guides/new", &with_csrf(&csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/guides/moving-records"));
    assert!(s.get("/guides").await.text().await.unwrap().contains("Guide moving-records"));
    let mut form = form;
    form[3].1 = "## Changed heading\n\nNew words.".into();
    let mut preview = with_csrf(&csrf, &form);
    preview.push(("action", "preview"));
    let a = editor.post("/manage/guides/moving-records", &preview).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("id=\"preview\"") && a.body.contains("<h2>Changed heading</h2>"));
    assert!(!s.get("/guides/moving-records").await.text().await.unwrap().contains("Changed heading"), "not saved");
    let a = editor.post("/manage/guides/moving-records", &with_csrf(&csrf, &form)).await;
    assert_eq!(a.status, 303);
    let page = s.get("/guides/moving-records").await.text().await.unwrap();
    assert!(page.contains("<h2>Changed heading</h2>") && page.contains("New words."));

    // A site page.
    let mut form = valid_form("/manage/pages/about", "about");
    form[1].1 = "About us, edited".into();
    let a = editor.post("/manage/pages/about", &with_csrf(&csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/about"));
    assert!(s.get("/about").await.text().await.unwrap().contains("About us, edited"));

    // The glossary.
    let form = valid_form("/manage/glossary/new", "care-record");
    let a = editor.post("/manage/glossary/new", &with_csrf(&csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/glossary#care-record"));
    let page = s.get("/glossary").await.text().await.unwrap();
    assert!(page.contains("id=\"care-record\"") && page.contains("first alias, second alias"));

    // Vocabulary terms: a care setting has a page; a category is listed.
    let mut form = valid_form("/manage/vocabularies/care-settings/new", "hospice");
    let a = editor.post("/manage/vocabularies/care-settings/new", &with_csrf(&csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/care-settings/hospice"));
    assert!(s.get("/care-settings").await.text().await.unwrap().contains("Label hospice"));
    form[1].1 = "Hospice care".into();
    let a = editor.post("/manage/vocabularies/care-settings/hospice", &with_csrf(&csrf, &form)).await;
    assert_eq!(a.status, 303);
    assert!(s.get("/care-settings/hospice").await.text().await.unwrap().contains("Hospice care"));
    let vocabularies = s.get_json("/api/v1/vocabularies").await.to_string();
    assert!(vocabularies.contains("Hospice care"));
    let form = valid_form("/manage/vocabularies/categories/new", "care-plans");
    let a = editor.post("/manage/vocabularies/categories/new", &with_csrf(&csrf, &form)).await;
    assert_eq!((a.status, a.location.as_str()), (303, "/manage/vocabularies/categories?saved=care-plans"));
    let list = editor.get(&a.location).await.body;
    assert!(list.contains("nhsuk-notification-banner--success") && list.contains("Label care-plans was saved."));

    // Each save is one change in the log, by the person who made it.
    let changes = s.test_store.store.changes_since(0, 10_000).await.unwrap();
    let last: Vec<_> = changes.iter().rev().take(7).collect();
    assert!(
        last.iter().all(|c| c.actor == "editor@example.org"),
        "{:?}",
        last.iter().map(|c| &c.actor).collect::<Vec<_>>()
    );
    assert!(changes.iter().any(|c| c.entity == "organisation" && c.actor == "admin@example.org"));

    // An edit of nothing that exists is not found, and creates nothing.
    let form = valid_form("/manage/glossary/new", "no-such-term");
    assert_eq!(editor.post("/manage/glossary/no-such-term", &with_csrf(&csrf, &form)).await.status, 404);
    assert!(!s.get("/glossary").await.text().await.unwrap().contains("no-such-term"));
    s.stop().await;
});

on_both_stores!(creating_with_a_slug_in_use_is_refused_not_an_overwrite, |backend| async move {
    let s = server(backend).await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    let csrf = csrf_of(&mut admin).await;
    for (path, slug, public, original) in [
        ("/manage/organisations/new", "prsb", "/organisations/prsb", "Professional Record Standards Body"),
        ("/manage/guides/new", "what-is-a-standard", "/guides/what-is-a-standard", "What is a standard"),
        ("/manage/glossary/new", "fhir", "/glossary", "Fast Healthcare Interoperability Resources"),
        (
            "/manage/vocabularies/care-settings/new",
            "hospital",
            "/care-settings/hospital",
            "Hospital: standards and APIs",
        ),
    ] {
        let form = valid_form(path, slug);
        let a = admin.post(path, &with_csrf(&csrf, &form)).await;
        assert_eq!(a.status, 422, "{path}");
        assert!(a.body.contains("href=\"#field-slug\"") && a.body.contains("there is already"), "{path}");
        let page = s.get(public).await.text().await.unwrap();
        assert!(page.contains(original), "{path}: the existing record is unchanged");
        assert!(!page.contains(&form[1].1), "{path}: not overwritten");
    }
    s.stop().await;
});

on_both_stores!(hostile_text_is_escaped_on_public_pages, |backend| async move {
    let s = server(backend).await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    let csrf = csrf_of(&mut admin).await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let post = |path: &'static str, slug: &'static str, edit: Vec<(usize, String)>| {
        let mut form = valid_form(path, slug);
        for (i, v) in edit {
            form[i].1 = v;
        }
        form
    };
    let forms = [
        (
            "/manage/organisations/new",
            post("/manage/organisations/new", "evil-org", vec![(1, evil.into()), (3, evil.into()), (6, evil.into())]),
        ),
        (
            "/manage/guides/new",
            post(
                "/manage/guides/new",
                "evil-guide",
                vec![(1, evil.into()), (2, evil.into()), (3, format!("{evil}\n\n[click](javascript:alert(3))"))],
            ),
        ),
        (
            "/manage/glossary/new",
            post("/manage/glossary/new", "evil-term", vec![(1, evil.into()), (2, evil.into()), (3, evil.into())]),
        ),
        (
            "/manage/vocabularies/care-settings/new",
            post("/manage/vocabularies/care-settings/new", "evil-setting", vec![(1, evil.into()), (2, evil.into())]),
        ),
    ];
    for (path, form) in &forms {
        let a = admin.post(path, &with_csrf(&csrf, form)).await;
        assert_eq!(a.status, 303, "{path}: {}", a.body);
    }
    for path in [
        "/organisations/evil-org",
        "/organisations",
        "/guides/evil-guide",
        "/guides",
        "/glossary",
        "/care-settings/evil-setting",
        "/care-settings",
        "/",
        "/manage/organisations",
        "/manage/guides",
        "/manage/glossary",
        "/manage/vocabularies/care-settings",
        "/manage/organisations/evil-org",
        "/manage/guides/evil-guide",
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script>alert") && !page.body.contains("<img src=x"), "{path} is not escaped");
        if !path.starts_with("/manage") {
            assert!(!page.body.contains("javascript:alert"), "{path} links to script");
        }
    }
    for path in ["/guides/evil-guide", "/organisations/evil-org", "/glossary", "/care-settings/evil-setting"] {
        let page = s.get(path).await.text().await.unwrap();
        assert!(page.contains("alert(1)") && page.contains("onerror=alert(2)"), "{path} shows the text, as text");
    }
    s.stop().await;
});

/// The values an edit form shows, as a browser would send them back.
fn form_values(page: &str) -> Vec<(String, String)> {
    let form = &page[page.find("<form action=\"/manage").expect("a manage form")..];
    let form = &form[..form.find("</form>").unwrap()];
    let unescape = |t: &str| {
        t.replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&lt;", "<")
            .replace("&#62;", ">")
            .replace("&gt;", ">")
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    };
    let mut values = Vec::new();
    for (at, _) in form.match_indices(" name=\"") {
        let tag_start = form[..at].rfind('<').unwrap();
        let tag = &form[tag_start..tag_start + form[tag_start..].find('>').unwrap()];
        let name = tag.split(" name=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let value = if tag.starts_with("<textarea") {
            let body = &form[tag_start + tag.len() + 1..];
            body[..body.find("</textarea>").unwrap()].to_owned()
        } else if tag.starts_with("<select") {
            let body = &form[tag_start..];
            let body = &body[..body.find("</select>").unwrap()];
            body.split("<option value=\"")
                .skip(1)
                .find(|o| o.split('>').next().unwrap().contains(" selected"))
                .map(|o| o.split('"').next().unwrap().to_owned())
                .unwrap_or_default()
        } else if tag.starts_with("<button") {
            continue;
        } else {
            tag.split(" value=\"").nth(1).map(|v| v.split('"').next().unwrap().to_owned()).unwrap_or_default()
        };
        values.push((name, unescape(&value)));
    }
    values
}

#[tokio::test]
async fn every_demo_record_saves_through_its_form_unchanged() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let store = &s.test_store.store;
    store.add_user("admin@example.org", Role::Admin, None).await.unwrap();
    store.set_password("admin@example.org", &password::hash(PASSWORD).unwrap(), "test").await.unwrap();
    let mut admin = signed_in(&s, "admin@example.org").await;
    let before = store.last_change_seq().await.unwrap();
    let mut saved = 0;
    let mut lists = vec!["/manage/organisations".to_owned(), "/manage/guides".into(), "/manage/pages".into()];
    lists.push("/manage/glossary".into());
    for v in ["care-settings", "topics", "categories", "technologies", "synonyms"] {
        lists.push(format!("/manage/vocabularies/{v}"));
    }
    for list in &lists {
        let page = admin.get(list).await.body;
        let edits: Vec<String> = page
            .match_indices(&format!("<a href=\"{list}/"))
            .map(|(i, m)| format!("{list}/{}", page[i + m.len()..].split('"').next().unwrap()))
            .filter(|href| !href.ends_with("/new"))
            .collect();
        assert!(!edits.is_empty(), "{list} lists records");
        for edit in edits {
            let form = admin.get(&edit).await;
            assert_eq!(form.status, 200, "{edit}");
            let values = form_values(&form.body);
            let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let a = admin.post(&edit, &pairs).await;
            assert_eq!(a.status, 303, "{edit} saves as shown: {}", a.body);
            saved += 1;
        }
    }
    assert!(saved > 150, "{saved} records");
    let changes = store.changes_since(before, 10).await.unwrap();
    assert!(changes.is_empty(), "saving what the form showed changes nothing: {:?}", changes.first());
    s.stop().await;
}
