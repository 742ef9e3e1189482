//! Publishing in the browser, over HTTP as a browser does it: signing in
//! and out, CSRF, lock-out, the forms and the review workflow, history and
//! restore, the audit page, and who may do what through the forms.

use crate::common;

use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use standards::auth::password;
use standards::store::Role;

const PASSWORD: &str = "purple kettle tuesday";

/// The shared client (tests/common/browser.rs), answering as tuples:
/// `(status, body)` for a GET, `(status, location, body)` for a POST.
struct Browser(common::browser::Browser);

impl Browser {
    fn new(s: &TestServer) -> Browser {
        Browser(common::browser::Browser::new(s))
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let a = self.0.get(path).await;
        (a.status, a.body)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let a = self.0.post(path, form).await;
        (a.status, a.location, a.body)
    }

    fn csrf(page: &str) -> String {
        common::browser::Browser::csrf(page)
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> (u16, String, String) {
        let a = self.0.sign_in(email, password).await;
        (a.status, a.location, a.body)
    }
}

async fn server(backend: Backend) -> TestServer {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let hash = password::hash(PASSWORD).unwrap();
    for (email, role, org) in [
        ("admin@example.org", Role::Admin, None),
        ("editor@example.org", Role::Editor, None),
        ("pub@example.org", Role::Publisher, Some("prsb")),
        ("other@example.org", Role::Publisher, Some("nhs-england")),
    ] {
        ts.store.add_user(email, role, org).await.unwrap();
        ts.store.set_password(email, &hash, "test").await.unwrap();
    }
    TestServer::start(ts).await
}

fn entry_form<'a>(csrf: &'a str, slug: &'a str, title: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("slug", slug),
        ("title", title),
        ("summary", "A record standard written in a test."),
        ("description", "## Purpose\n\nIt records things."),
        ("type", "standard"),
        ("category", "record-standards"),
        ("care_settings", "hospital"),
        ("topics", "referrals"),
        ("owner", "prsb"),
        ("status", "draft-in-progress"),
        ("mandated", "false"),
        ("tags", "one\ntwo"),
        ("action", action),
    ]
}

on_both_stores!(the_whole_workflow_through_the_forms, |backend| async move {
    let s = server(backend).await;
    let mut publisher = Browser::new(&s);
    let (status, location, _) = publisher.sign_in("pub@example.org", PASSWORD).await;
    assert_eq!((status, location.as_str()), (303, "/dashboard"));
    assert!(publisher.0.cookies.contains_key("session"));
    let (_, dashboard) = publisher.get("/dashboard").await;
    assert!(dashboard.contains("pub@example.org (Publisher)"));

    // A validation error keeps everything typed and links each field.
    let (_, form) = publisher.get("/new").await;
    let csrf = Browser::csrf(&form);
    let mut bad = entry_form(&csrf, "workflow-entry", "", "submit");
    bad.retain(|(k, _)| *k != "category");
    let (status, _, page) = publisher.post("/new", &bad).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("There is a problem")
            && page.contains("href=\"#field-title\"")
            && page.contains("href=\"#field-category\"")
    );
    assert!(
        page.contains("value=\"workflow-entry\"") && page.contains("A record standard written in a test."),
        "nothing typed is lost"
    );

    // Drafts and submits.
    let (status, location, _) =
        publisher.post("/new", &entry_form(&csrf, "workflow-entry", "Workflow entry", "submit")).await;
    assert_eq!(status, 303);
    let revision = location.clone();
    assert!(revision.starts_with("/revisions/"));
    let (_, page) = publisher.get(&revision).await;
    assert!(page.contains("Submitted for review"));
    assert_eq!(s.get("/standards/workflow-entry").await.status(), 404, "the public cannot see it yet");
    // The publisher cannot publish it.
    let (status, _, _) = publisher.post(&revision, &[("csrf", &csrf), ("action", "publish")]).await;
    assert_eq!(status, 403);

    // The editor sees it in the queue and requests changes.
    let mut editor = Browser::new(&s);
    editor.sign_in("editor@example.org", PASSWORD).await;
    let (_, queue) = editor.get("/dashboard").await;
    assert!(queue.contains(&format!("href=\"{revision}\">Workflow entry</a>")), "in the review queue, by title");
    // Names and times as people read them, not slugs and timestamps.
    assert!(queue.contains("<td class=\"nhsuk-table__cell\">Professional Record Standards Body</td>"), "{queue}");
    assert!(!queue.contains("+00:00"), "no raw timestamps");
    let (_, page) = editor.get(&revision).await;
    let editor_csrf = Browser::csrf(&page);
    let (status, _, _) = editor
        .post(&revision, &[("csrf", &editor_csrf), ("action", "request-changes"), ("comment", "Add social care too.")])
        .await;
    assert_eq!(status, 303);

    // The publisher sees the comment, fixes and resubmits.
    let (_, page) = publisher.get(&revision).await;
    assert!(page.contains("Changes requested") && page.contains("Add social care too."));
    let (_, form) = publisher.get("/standards/workflow-entry/edit").await;
    assert!(form.contains("value=\"Workflow entry\""), "the edit form opens the draft");
    let mut fixed = entry_form(&csrf, "workflow-entry", "Workflow entry", "submit");
    fixed.push(("care_settings", "social-care"));
    let (status, location, _) = publisher.post("/standards/workflow-entry/edit", &fixed).await;
    assert_eq!((status, location.as_str()), (303, revision.as_str()), "the same revision");

    // The editor publishes; the public sees it; its history shows each step.
    let (status, location, _) = editor.post(&revision, &[("csrf", &editor_csrf), ("action", "publish")]).await;
    assert_eq!((status, location.as_str()), (303, "/standards/workflow-entry"));
    let public = s.get_json("/api/v1/standards/workflow-entry").await;
    assert_eq!(public["care_settings"], serde_json::json!(["hospital", "social-care"]));
    let (status, page) = Browser::new(&s).get("/standards/workflow-entry").await;
    assert_eq!(status, 200);
    assert!(page.contains("Workflow entry"));

    // An editor changes it, then restores the first version as a new one.
    let (_, form) = editor.get("/standards/workflow-entry/edit").await;
    let mut changed = entry_form(&editor_csrf, "workflow-entry", "Workflow entry, renamed", "publish");
    changed.push(("care_settings", "social-care"));
    let (status, _, _) = editor.post("/standards/workflow-entry/edit", &changed).await;
    assert_eq!(status, 303, "{form}");
    let (_, history) = editor.get("/standards/workflow-entry/history").await;
    assert!(history.contains("Title: Workflow entry → Workflow entry, renamed"), "{history}");
    assert!(history.contains("Changes requested") || history.contains("Published"), "workflow steps listed");
    let seqs: Vec<i64> = history
        .match_indices("name=\"seq\" value=\"")
        .map(|(i, m)| history[i + m.len()..].split('"').next().unwrap().parse().unwrap())
        .collect();
    let first = *seqs.last().expect("an earlier version to restore");
    let (status, _, _) =
        editor.post("/standards/workflow-entry/restore", &[("csrf", &editor_csrf), ("seq", &first.to_string())]).await;
    assert_eq!(status, 303);
    assert_eq!(s.get_json("/api/v1/standards/workflow-entry").await["title"], "Workflow entry");
    let (_, history) = editor.get(&format!("/standards/workflow-entry/history?from={first}&to={}", seqs[0])).await;
    assert!(history.contains("Differences between version"));

    // Sign out ends the session.
    let (status, _, _) = publisher.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let (status, _) = publisher.get("/dashboard").await;
    assert_eq!(status, 303, "back to sign-in");
    s.stop().await;
});

/// The steps of a history page, oldest first, each as its text without
/// tags, with its sequence number.
fn history_steps(page: &str) -> Vec<(i64, String)> {
    let list = &page[page.find("id=\"steps\"").expect("the list of steps")..];
    let list = &list[..list.find("</ol>").unwrap()];
    let mut steps: Vec<(i64, String)> = list
        .split("<li class=\"app-result\" id=\"step-")
        .skip(1)
        .map(|item| {
            let (seq, rest) = item.split_once('"').unwrap();
            let mut text = String::new();
            let mut in_tag = false;
            for c in rest.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            (seq.parse().unwrap(), text.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect();
    steps.reverse();
    steps
}

on_both_stores!(history_shows_every_workflow_step_with_who_comments_and_differences, |backend| async move {
    let s = server(backend).await;
    let mut publisher = Browser::new(&s);
    publisher.sign_in("pub@example.org", PASSWORD).await;
    let (_, form) = publisher.get("/new").await;
    let csrf = Browser::csrf(&form);
    let slug = "history-entry";

    // Drafted, changed, submitted.
    let (status, revision, _) = publisher.post("/new", &entry_form(&csrf, slug, "History entry", "save")).await;
    assert_eq!(status, 303);
    let mut clearer = entry_form(&csrf, slug, "History entry", "submit");
    clearer.retain(|(k, _)| *k != "summary");
    clearer.push(("summary", "A clearer summary."));
    let (status, location, _) = publisher.post(&format!("/standards/{slug}/edit"), &clearer).await;
    assert_eq!((status, location.as_str()), (303, revision.as_str()));

    // Changes requested.
    let mut editor = Browser::new(&s);
    editor.sign_in("editor@example.org", PASSWORD).await;
    let (_, page) = editor.get(&revision).await;
    let editor_csrf = Browser::csrf(&page);
    let step = [("csrf", editor_csrf.as_str()), ("action", "request-changes"), ("comment", "Add social care too.")];
    assert_eq!(editor.post(&revision, &step).await.0, 303);

    // Fixed and resubmitted; published.
    let mut fixed = clearer.clone();
    fixed.push(("care_settings", "social-care"));
    assert_eq!(publisher.post(&format!("/standards/{slug}/edit"), &fixed).await.0, 303);
    assert_eq!(editor.post(&revision, &[("csrf", &editor_csrf), ("action", "publish")]).await.0, 303);

    // A second revision, drafted and withdrawn: the public never sees it.
    let mut renamed = fixed.clone();
    renamed.retain(|(k, _)| *k != "title" && *k != "action");
    renamed.extend([("title", "History entry, renamed in secret"), ("action", "save")]);
    let (status, second, _) = publisher.post(&format!("/standards/{slug}/edit"), &renamed).await;
    assert_eq!(status, 303);
    assert_ne!(second, revision, "a published revision is closed; the next save starts another");
    let (_, page) = publisher.get(&second).await;
    assert!(page.contains("value=\"withdraw\""), "the author can withdraw it");
    assert_eq!(publisher.post(&second, &[("csrf", &csrf), ("action", "withdraw")]).await.0, 303);

    let (status, history) = editor.get(&format!("/standards/{slug}/history")).await;
    assert_eq!(status, 200);
    let steps = history_steps(&history);
    let texts: Vec<&str> = steps.iter().map(|(_, t)| t.as_str()).collect();
    let expected: [(&str, &[&str]); 9] = [
        (
            "Drafted by pub@example.org",
            &["Revision 1", "A new entry:", "Title: (empty) → History entry", "Summary: (empty) → A record standard"],
        ),
        (
            "Draft changed by pub@example.org",
            &["Changes from the previous draft:", "Summary: A record standard written in a test. → A clearer summary."],
        ),
        ("Submitted for review by pub@example.org", &["Revision 1"]),
        ("Changes requested by editor@example.org", &["Comment: Add social care too."]),
        ("Draft changed by pub@example.org", &["Care settings: hospital → hospital, social-care"]),
        ("Resubmitted for review by pub@example.org", &["Revision 1"]),
        ("Published as a new entry by editor@example.org", &["Revision 1", "Title: (empty) → History entry"]),
        (
            "Drafted by pub@example.org",
            &[
                "Revision 2",
                "Changes from the published entry:",
                "Title: History entry → History entry, renamed in secret",
            ],
        ),
        ("Withdrawn by pub@example.org", &["Revision 2"]),
    ];
    assert_eq!(steps.len(), expected.len(), "{texts:#?}");
    for ((_, text), (what, details)) in steps.iter().zip(expected) {
        assert!(text.contains(what), "`{what}` in `{text}`");
        for detail in details {
            assert!(text.contains(detail), "`{detail}` in `{text}`");
        }
    }
    assert!(!texts[2].contains("→") && !texts[3].contains("→"), "submitting and reviewing change no fields");
    for i in [1, 4, 7] {
        assert_eq!(texts[i].matches('→').count(), 1, "only what this save changed: {}", texts[i]);
    }

    // Any two documents compare: the first draft with the published version.
    let (draft, version) = (steps[0].0, steps[6].0);
    let (_, compared) = editor.get(&format!("/standards/{slug}/history?from={draft}&to={version}")).await;
    assert!(compared.contains(&format!("Differences between draft {draft} and version {version}")), "{compared}");
    assert!(compared.contains("A clearer summary."));

    // The public sees the published version only, and no one's email.
    let mut visitor = Browser::new(&s);
    let (status, public) = visitor.get(&format!("/standards/{slug}/history")).await;
    assert_eq!(status, 200);
    let public_steps = history_steps(&public);
    assert_eq!(public_steps.len(), 1, "{public_steps:?}");
    assert!(public_steps[0].1.starts_with(&format!("Version {version}: Published as a new entry, ")));
    assert!(public.contains("Published versions") && !public.contains("Every step"));
    for hidden in
        ["Drafted", "Submitted", "Changes requested", "Add social care too.", "renamed in secret", "/revisions/"]
    {
        assert!(!public.contains(hidden), "the public history shows `{hidden}`");
    }
    assert!(!public.contains("@example.org"), "no one's email on the public history");
    let (_, public_compare) = visitor.get(&format!("/standards/{slug}/history?from={draft}&to={version}")).await;
    assert!(!public_compare.contains("Differences between"), "drafts cannot be compared by the public");
    let feed = s.get("/api/v1/changes?limit=1000").await.text().await.unwrap();
    assert!(!feed.contains("renamed in secret") && !feed.contains("Add social care too."), "no drafts in the feed");

    // A publisher of another organisation sees published versions only.
    let mut other = Browser::new(&s);
    let standards::store::SignIn::Ok { session, .. } =
        s.test_store.store.sign_in("other@example.org", |h| password::verify(PASSWORD, h)).await.unwrap()
    else {
        panic!("signs in")
    };
    other.0.cookies.insert("session".into(), session);
    let (_, theirs) = other.get(&format!("/standards/{slug}/history")).await;
    assert_eq!(history_steps(&theirs).len(), 1);
    assert!(!theirs.contains("Add social care too.") && !theirs.contains("renamed in secret"));
    s.stop().await;
});

on_both_stores!(a_new_entry_has_a_history_for_its_drafts_only_for_those_who_may_see_them, |backend| async move {
    let s = server(backend).await;
    let mut publisher = Browser::new(&s);
    publisher.sign_in("pub@example.org", PASSWORD).await;
    let (_, form) = publisher.get("/new").await;
    let csrf = Browser::csrf(&form);
    assert_eq!(publisher.post("/new", &entry_form(&csrf, "unpublished", "Not yet out", "submit")).await.0, 303);
    let (status, page) = publisher.get("/standards/unpublished/history").await;
    assert_eq!(status, 200);
    assert!(page.contains("This entry is not published yet."));
    let steps = history_steps(&page);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(steps[0].1.contains("Drafted by pub@example.org") && steps[1].1.contains("Submitted for review"));
    assert_eq!(Browser::new(&s).get("/standards/unpublished/history").await.0, 404, "the public");
    s.stop().await;
});

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let s = server(Backend::Sqlite).await;
    let mut b = Browser::new(&s);
    // Sign-in itself needs the token from its form.
    let (status, _, _) = b.post("/sign-in", &[("email", "editor@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(status, 403);
    b.sign_in("editor@example.org", PASSWORD).await;
    for (path, form) in [
        ("/new", entry_form("", "csrf-test", "CSRF", "publish")),
        ("/new", entry_form("wrong", "csrf-test", "CSRF", "publish")),
        ("/standards/about-me/edit", entry_form("wrong", "about-me", "About Me", "publish")),
        ("/sign-out", vec![("csrf", "wrong")]),
    ] {
        let (status, _, _) = b.post(path, &form).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(s.get("/api/v1/standards/csrf-test").await.status(), 404, "nothing was written");
    let (status, _) = b.get("/dashboard").await;
    assert_eq!(status, 200, "still signed in");
    s.stop().await;
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_account_and_are_audited() {
    let s = server(Backend::Sqlite).await;
    let mut b = Browser::new(&s);
    for _ in 0..standards::store::LOCK_AFTER - 1 {
        let (status, _, page) = b.sign_in("pub@example.org", "not the password").await;
        assert_eq!(status, 401);
        assert!(page.contains("Email address or password is not right"));
    }
    let (status, _, page) = b.sign_in("pub@example.org", "not the password").await;
    assert_eq!(status, 429);
    assert!(page.contains("locked"));
    let (status, _, _) = b.sign_in("pub@example.org", PASSWORD).await;
    assert_eq!(status, 429, "locked even with the right password");
    // Too many attempts from one address are slowed down whatever the account.
    let mut limited = false;
    for _ in 0..standards::auth::attempts::ATTEMPTS_PER_MINUTE {
        if b.sign_in("nobody@example.org", "whatever it is").await.0 == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "rate limited");

    let mut admin = Browser::new(&s);
    let mut signed = admin.sign_in("admin@example.org", PASSWORD).await;
    if signed.0 == 429 {
        // The same address: wait out the per-address limit is too slow for a
        // test, so sign the admin in through the store instead.
        let standards::store::SignIn::Ok { session, .. } =
            s.test_store.store.sign_in("admin@example.org", |h| password::verify(PASSWORD, h)).await.unwrap()
        else {
            panic!("admin signs in");
        };
        admin.0.cookies.insert("session".into(), session);
        signed = (303, String::new(), String::new());
    }
    assert_eq!(signed.0, 303);
    let (status, audit) = admin.get("/admin/audit?event=sign-in-failed").await;
    assert_eq!(status, 200);
    // Refusals from one address within a minute are one row with a count.
    assert!(audit.contains("pub@example.org"));
    let failed = s.test_store.store.audit_events(Some("sign-in-failed"), None, 100).await.unwrap();
    let wrong: Vec<_> = failed.iter().filter(|e| e.detail == "wrong email or password").collect();
    assert_eq!(wrong.len(), 1, "{failed:#?}");
    assert!(wrong[0].repeats >= standards::store::LOCK_AFTER - 1, "{failed:#?}");
    assert!(failed.iter().any(|e| e.detail == "account locked"));
    assert!(!audit.contains("not the password") && !audit.contains(PASSWORD), "no password in the audit log");
    let (status, csv) = admin.get("/admin/audit?format=csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("seq,at,actor,event,outcome,detail,address"));
    let mut editor = Browser::new(&s);
    let standards::store::SignIn::Ok { session, .. } =
        s.test_store.store.sign_in("editor@example.org", |h| password::verify(PASSWORD, h)).await.unwrap()
    else {
        panic!()
    };
    editor.0.cookies.insert("session".into(), session);
    assert_eq!(editor.get("/admin/audit").await.0, 403, "editors do not see the audit log");
    s.stop().await;
}

on_both_stores!(authorisation_matrix_for_the_forms, |backend| async move {
    let s = server(backend).await;
    let store = &s.test_store.store;
    // Sessions straight from the store, so the sign-in rate limit stays out of it.
    let mut browsers: Vec<(&str, Browser)> = Vec::new();
    for who in ["admin", "editor", "pub", "other"] {
        let standards::store::SignIn::Ok { session, .. } =
            store.sign_in(&format!("{who}@example.org"), |h| password::verify(PASSWORD, h)).await.unwrap()
        else {
            panic!()
        };
        let mut b = Browser::new(&s);
        b.0.cookies.insert("session".into(), session);
        browsers.push((who, b));
    }
    browsers.push(("nobody", Browser::new(&s)));
    for (who, b) in browsers.iter_mut() {
        let (_, page) = b.get("/").await;
        let csrf = if *who == "nobody" { String::new() } else { Browser::csrf(&page) };
        let slug = format!("form-{who}");
        // Creating an entry of prsb's.
        let (status, location, _) = b.post("/new", &entry_form(&csrf, &slug, "Form entry", "publish")).await;
        let expected = match *who {
            "nobody" => (303, "/sign-in"),
            "admin" | "editor" => (303, "/standards/"),
            "pub" => (303, "/revisions/"),
            _ => (403, ""),
        };
        assert_eq!(status, expected.0, "create as {who}");
        assert!(location.starts_with(expected.1), "create as {who}: {location}");
        // Editing another organisation's entry (nhs-england owns snomed-ct).
        let mut form = entry_form(&csrf, "snomed-ct", "SNOMED CT", "publish");
        for pair in form.iter_mut() {
            if pair.0 == "owner" {
                pair.1 = "nhs-england";
            }
        }
        let (status, _, _) = b.post("/standards/snomed-ct/edit", &form).await;
        let expected = match *who {
            "admin" | "editor" | "other" | "nobody" => 303,
            _ => 403,
        };
        assert_eq!(status, expected, "edit another's as {who} (signed out: off to sign in)");
        // Restoring (editors and administrators).
        let (status, _, _) = b.post("/standards/snomed-ct/restore", &[("csrf", &csrf), ("seq", "1")]).await;
        let expected = match *who {
            "admin" | "editor" | "nobody" => 303,
            _ => 403,
        };
        let expected = if *who == "admin" || *who == "editor" { [expected, 404] } else { [expected, expected] };
        assert!(expected.contains(&status), "restore as {who}: {status}");
        // The audit page.
        let (status, _) = b.get("/admin/audit").await;
        let expected = match *who {
            "nobody" => 303,
            "admin" => 200,
            _ => 403,
        };
        assert_eq!(status, expected, "audit page as {who}");
    }
    s.stop().await;
});

/// The dashboard lists what the content check finds, in the entries the
/// person signed in may edit: everything for an editor, their own
/// organisation's for a publisher.
#[tokio::test]
async fn the_dashboard_lists_content_check_findings_for_the_entries_each_person_can_edit() {
    let s = server(Backend::Sqlite).await;
    let mut editor = Browser::new(&s);
    editor.sign_in("editor@example.org", PASSWORD).await;
    let (status, page) = editor.get("/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"needs-attention\""), "{page}");
    // The fixture's entries have no sources: an error each.
    for slug in ["snomed-ct", "about-me", "pds-fhir"] {
        assert!(page.contains(&format!("href=\"/standards/{slug}/edit\"")), "{slug} listed for an editor");
    }
    assert!(page.contains("needs the public pages its facts come from"), "{page}");
    let mut publisher = Browser::new(&s);
    publisher.sign_in("pub@example.org", PASSWORD).await;
    let (_, page) = publisher.get("/dashboard").await;
    assert!(page.contains("href=\"/standards/about-me/edit\""), "PRSB's own entry is listed");
    assert!(!page.contains("href=\"/standards/snomed-ct/edit\""), "NHS England's entry is not listed for PRSB");
    s.stop().await;
}
