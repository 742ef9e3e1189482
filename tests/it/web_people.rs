//! People and API tokens in the browser, over HTTP as a browser does it:
//! who may open and post each page of `/account`, `/admin/people` and
//! `/set-password`; CSRF; changing a password; making, using and revoking
//! an API token; adding a person and the one-time link to set a password
//! (once only, expiring, replaced by a newer one); administrators keeping
//! their own access; and no password, token or link in the audit log.

use crate::common;

use common::browser::{Answer, Browser};
use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use standards::auth::password;
use standards::store::{PasswordLink, Role, SignIn};

const PASSWORD: &str = "orange ladder sunday";
const NEW_PASSWORD: &str = "velvet harbour kettle";

async fn server(backend: Backend) -> TestServer {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
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

/// A browser signed in as `email` with `password`, with a session made by
/// the store (the sign-in form's rate limit stays out of these tests).
async fn signed_in_with(s: &TestServer, email: &str, password_text: &str) -> Browser {
    let outcome = s.test_store.store.sign_in(email, |h| password::verify(password_text, h)).await.unwrap();
    let SignIn::Ok { session, .. } = outcome else { panic!("{email} signs in: {outcome:?}") };
    let mut b = Browser::new(s);
    b.cookies.insert("session".into(), session);
    b
}

async fn signed_in(s: &TestServer, email: &str) -> Browser {
    signed_in_with(s, email, PASSWORD).await
}

/// Whether the password signs the person in now.
async fn can_sign_in(s: &TestServer, email: &str, password_text: &str) -> bool {
    matches!(
        s.test_store.store.sign_in(email, |h| password::verify(password_text, h)).await.unwrap(),
        SignIn::Ok { .. }
    )
}

async fn change_password(b: &mut Browser, csrf: &str, current: &str, new: &str, confirm: &str) -> Answer {
    let form = [("csrf", csrf), ("current_password", current), ("new_password", new), ("confirm_password", confirm)];
    b.post("/account/password", &form).await
}

async fn csrf_of(b: &mut Browser) -> String {
    Browser::csrf(&b.get("/dashboard").await.body)
}

/// The `value` of the element with this id.
fn value_of(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element #{id} in {page}"));
    let tag_end = at + page[at..].find('>').unwrap();
    let tag_start = page[..at].rfind('<').unwrap();
    let tag = &page[tag_start..tag_end];
    let start = tag.find("value=\"").expect("a value") + 7;
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

/// The CSRF token of the form that posts to `action`.
fn form_csrf(page: &str, action: &str) -> String {
    let at = page.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form for {action}"));
    Browser::csrf(&page[at..])
}

fn id_of(location: &str) -> String {
    location.trim_start_matches("/admin/people/").split('?').next().unwrap().to_owned()
}

async fn person_id(s: &TestServer, email: &str) -> String {
    s.test_store.store.people().await.unwrap().into_iter().find(|p| p.user.email == email).unwrap().user.id
}

async fn bearer_status(s: &TestServer, token: &str) -> u16 {
    let r = reqwest::Client::new().get(s.url("/api/v1/revisions")).bearer_auth(token).send().await.unwrap();
    r.status().as_u16()
}

/// Every audit line and every change, as text, for looking for secrets.
async fn audit_text(s: &TestServer) -> String {
    let store = &s.test_store.store;
    let events = store.audit_events(None, None, 100_000).await.unwrap();
    let changes = store.changes_since(0, 100_000).await.unwrap();
    format!("{}\n{}", serde_json::to_string(&events).unwrap(), serde_json::to_string(&changes).unwrap())
}

fn outcome(a: &Answer) -> String {
    if a.status == 303 { format!("303 {}", a.location.split('?').next().unwrap()) } else { a.status.to_string() }
}

const WHO: [&str; 4] = ["nobody", "pub", "editor", "admin"];

on_both_stores!(who_may_open_and_post_each_page, |backend| async move {
    let s = server(backend).await;
    let store = s.test_store.store.clone();
    let mut browsers = vec![Browser::new(&s)];
    for who in &WHO[1..] {
        browsers.push(signed_in(&s, &format!("{who}@example.org")).await);
    }
    let person = |n: usize| format!("person-{n}@example.org");
    // (method, address as written, answers for nobody, publisher, editor,
    // administrator). `{id}` is a fresh person, `{token}` a fresh token of
    // the caller's, `{link}` a fresh link; 303s name where they lead.
    let own = ["303 /sign-in", "200", "200", "200"];
    let admin_page = ["303 /sign-in", "403", "403", "200"];
    let admin_post = ["303 /sign-in", "403", "403", "303 /admin/people/{id}"];
    let table: Vec<(&str, &str, [&str; 4])> = vec![
        ("GET", "/account", own),
        ("GET", "/account/password", own),
        ("POST", "/account/password", ["303 /sign-in", "303 /account", "303 /account", "303 /account"]),
        ("GET", "/account/tokens/new", own),
        ("POST", "/account/tokens/new", own),
        ("POST", "/account/tokens/{token}/revoke", ["303 /sign-in", "303 /account", "303 /account", "303 /account"]),
        ("GET", "/admin/people", admin_page),
        ("GET", "/admin/people/new", admin_page),
        ("POST", "/admin/people/new", admin_post),
        ("GET", "/admin/people/{id}", admin_page),
        ("POST", "/admin/people/{id}", admin_post),
        ("POST", "/admin/people/{id}/disable", admin_post),
        ("POST", "/admin/people/{id}/enable", admin_post),
        ("POST", "/admin/people/{id}/password-link", ["303 /sign-in", "403", "403", "200"]),
        ("GET", "/admin/people/no-such-person", ["303 /sign-in", "403", "403", "404"]),
        ("GET", "/set-password/{link}", ["200", "200", "200", "200"]),
    ];
    let mut failures = Vec::new();
    let mut n = 0;
    for (method, pattern, expected) in &table {
        for (i, b) in browsers.iter_mut().enumerate() {
            n += 1;
            let who = WHO[i];
            let email = format!("{who}@example.org");
            let id = if pattern.contains("{id}") {
                store.add_user(&person(n), Role::Editor, None).await.unwrap().id
            } else {
                String::new()
            };
            let token_id = if pattern.contains("{token}") {
                let owner = if who == "nobody" { "admin@example.org" } else { email.as_str() };
                store.create_token(owner, "table", None).await.unwrap().0
            } else {
                String::new()
            };
            let link = if pattern.contains("{link}") {
                store.add_user(&person(n), Role::Editor, None).await.unwrap();
                store.create_password_link(&person(n), "test", chrono::Duration::hours(1)).await.unwrap()
            } else {
                String::new()
            };
            let path = pattern.replace("{id}", &id).replace("{token}", &token_id).replace("{link}", &link);
            let answer = if *method == "GET" {
                b.get(&path).await
            } else {
                let csrf = if who == "nobody" { String::new() } else { csrf_of(b).await };
                let new_person = person(n + 1000);
                let form: Vec<(&str, &str)> = match *pattern {
                    "/account/password" => vec![
                        ("current_password", PASSWORD),
                        ("new_password", NEW_PASSWORD),
                        ("confirm_password", NEW_PASSWORD),
                    ],
                    "/account/tokens/new" => vec![("name", "table"), ("expires", "7")],
                    "/admin/people/new" => vec![("email", &new_person), ("role", "editor"), ("organisation", "")],
                    "/admin/people/{id}" => vec![("role", "publisher"), ("organisation", "prsb")],
                    _ => vec![],
                };
                let mut fields = vec![("csrf", csrf.as_str())];
                fields.extend(form);
                b.post(&path, &fields).await
            };
            let mut got = outcome(&answer);
            if answer.location.starts_with("/admin/people/") && id.is_empty() {
                // The new person's own page.
                got = got.replace(&id_of(&answer.location), "{id}");
            } else if !id.is_empty() {
                got = got.replace(&id, "{id}");
            }
            if got != expected[i] {
                failures.push(format!("{method} {pattern} as {who}: {got} (expected {})", expected[i]));
            }
            if answer.status == 200 && !answer.body.contains("<meta name=\"robots\" content=\"noindex\">") {
                failures.push(format!("{method} {pattern} as {who}: a private page without noindex"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} differ:\n{}", failures.len(), failures.join("\n"));

    // Every refusal of a signed-in person is audited, naming the address.
    let refused = store.audit_events(Some("permission-refused"), None, 10_000).await.unwrap();
    let admin_routes = table.iter().filter(|(_, p, e)| p.starts_with("/admin/") && e[1] == "403").count();
    for who in ["pub@example.org", "editor@example.org"] {
        let mine = refused.iter().filter(|e| e.actor == who && e.detail.contains("/admin/people")).count();
        assert_eq!(mine, admin_routes, "{who}'s refusals are audited");
    }
    s.stop().await;
});

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let s = server(Backend::Sqlite).await;
    let store = s.test_store.store.clone();
    let mut admin = signed_in(&s, "admin@example.org").await;
    let editor_id = person_id(&s, "editor@example.org").await;
    let (token_id, token) = store.create_token("admin@example.org", "kept", None).await.unwrap();
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/account/password".into(),
            vec![("current_password", PASSWORD), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)],
        ),
        ("/account/tokens/new".into(), vec![("name", "sneaky"), ("expires", "")]),
        (format!("/account/tokens/{token_id}/revoke"), vec![]),
        ("/admin/people/new".into(), vec![("email", "sneaky@example.org"), ("role", "admin")]),
        (format!("/admin/people/{editor_id}"), vec![("role", "admin"), ("organisation", "")]),
        (format!("/admin/people/{editor_id}/disable"), vec![]),
        (format!("/admin/people/{editor_id}/password-link"), vec![]),
    ];
    for (path, form) in &posts {
        for csrf in [None, Some("not-the-token")] {
            let mut fields = form.clone();
            if let Some(c) = csrf {
                fields.push(("csrf", c));
            }
            let answer = admin.post(path, &fields).await;
            assert_eq!(answer.status, 403, "POST {path} with CSRF {csrf:?}");
            assert!(answer.body.contains("did not come from this site"), "POST {path} says why");
        }
    }
    // Nothing changed.
    assert!(store.people().await.unwrap().iter().all(|p| p.user.email != "sneaky@example.org"));
    let editor = store.person(&editor_id).await.unwrap().unwrap();
    assert!(!editor.user.disabled && editor.user.role == Role::Editor);
    assert_eq!(store.tokens_of("admin@example.org").await.unwrap().len(), 1);
    assert_eq!(bearer_status(&s, &token).await, 200, "the token was not revoked");
    assert!(can_sign_in(&s, "admin@example.org", PASSWORD).await, "the password did not change");
    assert!(matches!(store.password_link("anything").await.unwrap(), PasswordLink::Unknown));

    // The set-password form carries its own token, tied to a cookie.
    store.add_user("linked@example.org", Role::Editor, None).await.unwrap();
    let link = store.create_password_link("linked@example.org", "test", chrono::Duration::hours(1)).await.unwrap();
    let mut visitor = Browser::new(&s);
    let page = visitor.get(&format!("/set-password/{link}")).await;
    assert_eq!(page.status, 200);
    assert!(visitor.cookies.contains_key("set_password_csrf"), "the form's cookie is set");
    let fields = [("csrf", "forged"), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    assert_eq!(visitor.post(&format!("/set-password/{link}"), &fields).await.status, 403);
    let mut stranger = Browser::new(&s);
    let csrf = form_csrf(&page.body, &format!("/set-password/{link}"));
    let fields = [("csrf", csrf.as_str()), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)];
    assert_eq!(stranger.post(&format!("/set-password/{link}"), &fields).await.status, 403, "no cookie, no password");
    assert!(matches!(store.password_link(&link).await.unwrap(), PasswordLink::Valid { .. }), "the link still works");
    s.stop().await;
}

on_both_stores!(changing_your_password, |backend| async move {
    let s = server(backend).await;
    let store = s.test_store.store.clone();
    let mut here = signed_in(&s, "pub@example.org").await;
    let mut elsewhere = signed_in(&s, "pub@example.org").await;
    let form = here.get("/account/password").await;
    assert_eq!(form.status, 200);
    for field in ["current_password", "new_password", "confirm_password"] {
        assert!(form.body.contains(&format!("id=\"field-{field}\" name=\"{field}\" type=\"password\"")), "{field}");
    }
    let csrf = csrf_of(&mut here).await;

    // A wrong current password is refused, and audited.
    let wrong = change_password(&mut here, &csrf, "not my password at all", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("<a href=\"#field-current_password\">Your current password is not right</a>"));
    assert!(wrong.body.contains("<title>Error: Change your password"), "the title says there is an error");
    assert!(
        !wrong.body.contains("not my password at all") && !wrong.body.contains(NEW_PASSWORD),
        "no password is sent back"
    );
    let failed = store.audit_events(Some("password-change-failed"), None, 100).await.unwrap();
    assert!(failed.iter().any(|e| e.actor == "pub@example.org" && e.detail == "wrong current password"));

    // A new password that breaks the rules is refused with the rule's words.
    for weak in ["short one", "Password123!", "pub-password-pub"] {
        let answer = change_password(&mut here, &csrf, PASSWORD, weak, weak).await;
        assert_eq!(answer.status, 422, "{weak}");
        let rule = password::check(weak, "pub@example.org").unwrap_err();
        assert!(answer.body.contains(&format!("<a href=\"#field-new_password\">{rule}</a>")), "{weak}: {rule}");
        assert!(answer.body.contains("nhsuk-form-group--error"), "{weak}: the field shows its error");
    }
    let mismatch = change_password(&mut here, &csrf, PASSWORD, NEW_PASSWORD, "velvet harbour kettles").await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.body.contains("#field-confirm_password"));
    assert!(can_sign_in(&s, "pub@example.org", PASSWORD).await, "nothing changed yet");
    let mut third = signed_in(&s, "pub@example.org").await;

    // Success: this session goes on, every other one ends.
    let done = change_password(&mut here, &csrf, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(outcome(&done), "303 /account");
    let account = here.get(&done.location).await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("You have been signed out everywhere else"));
    for other in [&mut elsewhere, &mut third] {
        assert_eq!(outcome(&other.get("/account").await), "303 /sign-in", "other sessions end");
    }
    assert!(!can_sign_in(&s, "pub@example.org", PASSWORD).await, "the old password no longer works");
    assert!(can_sign_in(&s, "pub@example.org", NEW_PASSWORD).await, "the new one does");
    let changed = store.audit_events(Some("password-changed"), Some("pub@example.org"), 10).await.unwrap();
    assert_eq!(changed.len(), 1);
    let text = audit_text(&s).await;
    for secret in [PASSWORD, NEW_PASSWORD, "not my password at all", "Password123!"] {
        assert!(!text.contains(secret), "a password in the audit log");
    }
    s.stop().await;
});

on_both_stores!(api_tokens_made_used_and_revoked_in_the_browser, |backend| async move {
    let s = server(backend).await;
    let store = s.test_store.store.clone();
    let mut publisher = signed_in(&s, "pub@example.org").await;
    let form = publisher.get("/account/tokens/new").await;
    assert_eq!(form.status, 200);
    assert_eq!(value_of(&form.body, "field-expires"), "90", "a lifetime is suggested");

    // Problems keep what was typed.
    let csrf = csrf_of(&mut publisher).await;
    let bad = publisher.post("/account/tokens/new", &[("csrf", &csrf), ("name", " "), ("expires", "soon")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<a href=\"#field-name\">Enter a name for the token</a>"));
    assert!(bad.body.contains("<a href=\"#field-expires\">Days until it expires must be a whole number"));
    assert_eq!(value_of(&bad.body, "field-expires"), "soon");
    for days in ["0", "3651", "-1", "2.5"] {
        let answer = publisher.post("/account/tokens/new", &[("csrf", &csrf), ("name", "x"), ("expires", days)]).await;
        assert_eq!(answer.status, 422, "{days} days");
    }
    assert!(store.tokens_of("pub@example.org").await.unwrap().is_empty(), "nothing made");

    // Made: shown once, on the page that answers the form.
    let made =
        publisher.post("/account/tokens/new", &[("csrf", &csrf), ("name", "Supplier sync"), ("expires", "30")]).await;
    assert_eq!(made.status, 200);
    let token = value_of(&made.body, "new-token");
    assert!(token.starts_with("std_") && token.len() > 40, "{token}");
    assert_eq!(made.body.matches(&token).count(), 1, "the token is on the page once");
    assert!(made.body.contains("It will not be shown again"));
    let raw = reqwest::Client::new()
        .post(s.url("/account/tokens/new"))
        .header("cookie", format!("session={}", publisher.cookies["session"]))
        .form(&[("csrf", csrf.as_str()), ("name", "Second"), ("expires", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["cache-control"], "no-store", "the token's page is not cached");
    let second = value_of(&raw.text().await.unwrap(), "new-token");

    // It works as a bearer token, as its owner.
    assert_eq!(bearer_status(&s, &token).await, 200);
    let tokens = store.tokens_of("pub@example.org").await.unwrap();
    let info = tokens.iter().find(|t| t.name == "Supplier sync").unwrap();
    assert!(info.expires_at.is_some() && info.last_used_at.is_some(), "{info:?}");

    // Never on a later page, nor in the audit log.
    let mut admin = signed_in(&s, "admin@example.org").await;
    let account = publisher.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Supplier sync") && account.body.contains("Second"));
    assert!(account.body.contains(">Active</strong>"));
    for page in ["/account", "/dashboard", "/account/tokens/new"] {
        let body = publisher.get(page).await.body;
        assert!(!body.contains(&token) && !body.contains(&second), "{page} shows a token");
    }
    for page in ["/admin/audit", "/admin/audit?format=csv", "/admin/people"] {
        let body = admin.get(page).await.body;
        assert!(!body.contains(&token) && !body.contains(&second), "{page} shows a token");
    }
    assert!(!audit_text(&s).await.contains(&token));
    assert!(store.audit_events(Some("token-created"), Some("pub@example.org"), 10).await.unwrap().len() == 2);

    // Only its owner revokes it.
    let mut editor = signed_in(&s, "editor@example.org").await;
    let editor_csrf = csrf_of(&mut editor).await;
    let refused = editor.post(&format!("/account/tokens/{}/revoke", info.id), &[("csrf", &editor_csrf)]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("You can revoke only your own API tokens."));
    let admin_csrf = csrf_of(&mut admin).await;
    assert_eq!(admin.post(&format!("/account/tokens/{}/revoke", info.id), &[("csrf", &admin_csrf)]).await.status, 403);
    let audited = store.audit_events(Some("permission-refused"), Some("editor@example.org"), 10).await.unwrap();
    assert!(audited.iter().any(|e| e.detail.contains("/revoke")));
    assert_eq!(bearer_status(&s, &token).await, 200, "still works");
    assert_eq!(publisher.post("/account/tokens/no-such-token/revoke", &[("csrf", &csrf)]).await.status, 404);

    let revoked = publisher.post(&format!("/account/tokens/{}/revoke", info.id), &[("csrf", &csrf)]).await;
    assert_eq!(outcome(&revoked), "303 /account");
    assert_eq!(bearer_status(&s, &token).await, 401, "revoked");
    assert_eq!(bearer_status(&s, &second).await, 200, "the other token still works");
    let account = publisher.get(&revoked.location).await.body;
    assert!(account.contains("The API token Supplier sync was revoked."));
    assert!(account.contains(">Revoked</strong>"));
    assert!(store.audit_events(Some("token-revoked"), Some("pub@example.org"), 10).await.unwrap().len() == 1);
    s.stop().await;
});

on_both_stores!(adding_a_person_and_a_link_to_set_their_password, |backend| async move {
    let s = server(backend).await;
    let store = s.test_store.store.clone();
    let mut admin = signed_in(&s, "admin@example.org").await;
    let csrf = csrf_of(&mut admin).await;
    let form = admin.get("/admin/people/new").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("id=\"field-role\" name=\"role\" type=\"radio\" value=\"admin\""));

    // The command line's problems, on their fields, with what was typed kept.
    let cases: [(&str, &str, &str, &[&str]); 4] = [
        (
            "not-an-email",
            "publisher",
            "",
            &[
                "<a href=\"#field-email\">Email address: `not-an-email` is not an email address</a>",
                "<a href=\"#field-organisation\">Organisation: a publisher belongs to an organisation: choose one</a>",
            ],
        ),
        (
            "someone@example.org",
            "publisher",
            "nowhere",
            &["<a href=\"#field-organisation\">Organisation: there is no organisation `nowhere`</a>"],
        ),
        (
            "Editor@Example.org",
            "editor",
            "",
            &["<a href=\"#field-email\">Email address: there is already a user `editor@example.org`</a>"],
        ),
        (
            "",
            "",
            "",
            &["<a href=\"#field-email\">Enter their email address</a>", "<a href=\"#field-role\">Role: choose"],
        ),
    ];
    for (email, role, org, messages) in cases {
        let answer = admin
            .post("/admin/people/new", &[("csrf", &csrf), ("email", email), ("role", role), ("organisation", org)])
            .await;
        assert_eq!(answer.status, 422, "{email}");
        for m in messages {
            assert!(answer.body.contains(m), "{email}: {m}");
        }
        assert_eq!(value_of(&answer.body, "field-email"), email.to_lowercase().trim(), "the email is kept");
        if !role.is_empty() {
            assert!(answer.body.contains(&format!("value=\"{role}\" checked")), "{email}: the role is kept");
        }
    }
    assert_eq!(store.people().await.unwrap().len(), 3, "no one added");

    // Added, then a link to set a password.
    let added = admin
        .post(
            "/admin/people/new",
            &[("csrf", &csrf), ("email", " New.Person@Example.org "), ("role", "publisher"), ("organisation", "prsb")],
        )
        .await;
    assert_eq!(added.status, 303);
    let id = id_of(&added.location);
    let page = admin.get(&added.location).await;
    assert!(page.body.contains("new.person@example.org was added."));
    assert!(page.body.contains("No password yet"));
    let list = admin.get("/admin/people").await.body;
    assert!(list.contains(&format!("<a href=\"/admin/people/{id}\">new.person@example.org</a>")));
    let made = admin.post(&format!("/admin/people/{id}/password-link"), &[("csrf", &csrf)]).await;
    assert_eq!(made.status, 200);
    let link = value_of(&made.body, "password-link");
    let path = link.strip_prefix(&s.base).expect("the link is to this site").to_owned();
    let token = path.strip_prefix("/set-password/").unwrap().to_owned();
    assert_eq!(made.body.matches(&token).count(), 1, "the link is on the page once");
    assert!(!admin.get(&format!("/admin/people/{id}")).await.body.contains(&token), "not shown again");

    // The person opens it signed out, in two tabs; a weak password is refused.
    let mut person = Browser::new(&s);
    let mut other_tab = Browser::new(&s);
    let opened = person.get(&path).await;
    assert_eq!(opened.status, 200);
    assert!(opened.body.contains("Choose a password for new.person@example.org"));
    assert!(opened.body.contains("<meta name=\"robots\" content=\"noindex\">"));
    let csrf_link = form_csrf(&opened.body, &path);
    let other_page = other_tab.get(&path).await;
    let other_csrf = form_csrf(&other_page.body, &path);
    let weak = person
        .post(&path, &[("csrf", &csrf_link), ("new_password", "password"), ("confirm_password", "password")])
        .await;
    assert_eq!(weak.status, 422);
    let rule = password::check("password", "new.person@example.org").unwrap_err();
    assert!(weak.body.contains(&rule), "{rule}");
    let differ = person
        .post(&path, &[("csrf", &csrf_link), ("new_password", NEW_PASSWORD), ("confirm_password", PASSWORD)])
        .await;
    assert_eq!(differ.status, 422);
    assert!(differ.body.contains("The passwords do not match"));

    // Set: signed in at once, and the password works.
    let set = person
        .post(&path, &[("csrf", &csrf_link), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)])
        .await;
    assert_eq!(outcome(&set), "303 /dashboard");
    let dashboard = person.get("/dashboard").await;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains("Signed in as new.person@example.org (Publisher)"));
    assert!(can_sign_in(&s, "new.person@example.org", NEW_PASSWORD).await);

    // Once only: the other tab, and the link opened again, are refused.
    let again = other_tab
        .post(&path, &[("csrf", &other_csrf), ("new_password", PASSWORD), ("confirm_password", PASSWORD)])
        .await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("This link has already been used"));
    let reopened = Browser::new(&s).get(&path).await;
    assert_eq!(reopened.status, 410);
    assert!(reopened.body.contains("This link has already been used"));
    assert!(!can_sign_in(&s, "new.person@example.org", PASSWORD).await, "the second use changed nothing");

    // Expired, unknown, and replaced by a newer link.
    let expired = store.create_password_link("pub@example.org", "test", chrono::Duration::seconds(-1)).await.unwrap();
    let answer = Browser::new(&s).get(&format!("/set-password/{expired}")).await;
    assert_eq!(answer.status, 410);
    assert!(answer.body.contains("This link has expired"));
    let unknown = Browser::new(&s).get("/set-password/not-a-link").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("This link is not valid"));
    let first = store.create_password_link("pub@example.org", "test", chrono::Duration::hours(1)).await.unwrap();
    let newer = store.create_password_link("pub@example.org", "test", chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(Browser::new(&s).get(&format!("/set-password/{first}")).await.status, 404, "replaced");
    assert_eq!(Browser::new(&s).get(&format!("/set-password/{newer}")).await.status, 200);

    // Setting a password with a link ends the person's other sessions.
    let mut signed_in_before = signed_in(&s, "pub@example.org").await;
    let mut opener = Browser::new(&s);
    let page = opener.get(&format!("/set-password/{newer}")).await;
    let c = form_csrf(&page.body, &format!("/set-password/{newer}"));
    let set = opener
        .post(
            &format!("/set-password/{newer}"),
            &[("csrf", &c), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(outcome(&set), "303 /dashboard");
    assert_eq!(outcome(&signed_in_before.get("/account").await), "303 /sign-in");

    // A disabled person's link stops working.
    let disabled_link =
        store.create_password_link("editor@example.org", "test", chrono::Duration::hours(1)).await.unwrap();
    let editor_id = person_id(&s, "editor@example.org").await;
    assert_eq!(admin.post(&format!("/admin/people/{editor_id}/disable"), &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(Browser::new(&s).get(&format!("/set-password/{disabled_link}")).await.status, 410);
    let refused = admin.post(&format!("/admin/people/{editor_id}/password-link"), &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 422, "no link for a disabled person");

    // All of it is audited, with no link, token or password.
    let store_events = |event: &'static str| {
        let store = store.clone();
        async move { store.audit_events(Some(event), None, 100).await.unwrap() }
    };
    let added = store_events("person-added").await;
    assert!(
        added
            .iter()
            .any(|e| e.actor == "admin@example.org" && e.detail == "added new.person@example.org as publisher of prsb")
    );
    assert_eq!(store_events("password-link-created").await.len(), 1);
    assert_eq!(store_events("password-link-used").await.len(), 2);
    let refusals = store_events("password-link-refused").await;
    assert!(refusals.len() >= 5, "{refusals:?}");
    let text = audit_text(&s).await;
    for secret in [token.as_str(), &expired, &first, &newer, &disabled_link, NEW_PASSWORD, PASSWORD, "not-a-link"] {
        assert!(!text.contains(secret), "{secret} is in the audit log");
    }
    s.stop().await;
});

on_both_stores!(administrators_change_roles_and_access_but_not_their_own, |backend| async move {
    let s = server(backend).await;
    let store = s.test_store.store.clone();
    let mut admin = signed_in(&s, "admin@example.org").await;
    let csrf = csrf_of(&mut admin).await;
    let own = person_id(&s, "admin@example.org").await;

    // Not themselves: the page says why, and posting anyway is refused.
    let page = admin.get(&format!("/admin/people/{own}")).await.body;
    assert!(page.contains("You cannot disable your own account or remove your own administrator role"));
    assert!(!page.contains(&format!("action=\"/admin/people/{own}/disable\"")));
    let refused = admin.post(&format!("/admin/people/{own}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("You cannot disable your own account."));
    let demoted =
        admin.post(&format!("/admin/people/{own}"), &[("csrf", &csrf), ("role", "editor"), ("organisation", "")]).await;
    assert_eq!(demoted.status, 422);
    assert!(demoted.body.contains("<a href=\"#field-role\">You cannot remove your own administrator role."));
    assert!(demoted.body.contains("value=\"editor\" checked"), "the choice is kept");
    let me = store.person(&own).await.unwrap().unwrap();
    assert!(me.user.role == Role::Admin && !me.user.disabled);
    let refusals = store.audit_events(Some("permission-refused"), Some("admin@example.org"), 10).await.unwrap();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    // Their own organisation may change.
    let moved = admin
        .post(&format!("/admin/people/{own}"), &[("csrf", &csrf), ("role", "admin"), ("organisation", "nhs-england")])
        .await;
    assert_eq!(moved.status, 303);

    // Someone else's role changes at once, in their session and tokens.
    let editor_id = person_id(&s, "editor@example.org").await;
    let mut editor = signed_in(&s, "editor@example.org").await;
    let (_, editor_token) = store.create_token("editor@example.org", "ci", None).await.unwrap();
    assert_eq!(editor.get("/manage").await.status, 200);
    let bad = admin
        .post(&format!("/admin/people/{editor_id}"), &[("csrf", &csrf), ("role", "publisher"), ("organisation", "")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("a publisher belongs to an organisation"));
    let changed = admin
        .post(
            &format!("/admin/people/{editor_id}"),
            &[("csrf", &csrf), ("role", "publisher"), ("organisation", "prsb")],
        )
        .await;
    assert_eq!(outcome(&changed), format!("303 /admin/people/{editor_id}"));
    assert!(admin.get(&changed.location).await.body.contains("role and organisation were saved"));
    assert_eq!(editor.get("/manage").await.status, 403, "now a publisher");
    let detail = &store.audit_events(Some("person-changed"), None, 10).await.unwrap()[0].detail;
    assert_eq!(detail, "editor@example.org: publisher of prsb (was editor)");

    // Disabled: signed out and tokens stop; enabled: tokens work again.
    let disabled = admin.post(&format!("/admin/people/{editor_id}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(outcome(&disabled), format!("303 /admin/people/{editor_id}"));
    assert_eq!(outcome(&editor.get("/account").await), "303 /sign-in");
    assert_eq!(bearer_status(&s, &editor_token).await, 401);
    let list = admin.get("/admin/people").await.body;
    assert!(list.contains("Disabled"));
    assert_eq!(admin.post(&format!("/admin/people/{editor_id}/enable"), &[("csrf", &csrf)]).await.status, 303);
    assert_eq!(bearer_status(&s, &editor_token).await, 200);
    assert_eq!(store.audit_events(Some("person-disabled"), None, 10).await.unwrap().len(), 1);
    assert_eq!(store.audit_events(Some("person-enabled"), None, 10).await.unwrap().len(), 1);

    // Locked accounts show until when.
    for _ in 0..standards::store::LOCK_AFTER {
        store.sign_in("pub@example.org", |_| false).await.unwrap();
    }
    let list = admin.get("/admin/people").await.body;
    let row = &list[list.find("pub@example.org").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(" UTC</td>"), "{row}");
    s.stop().await;
});

on_both_stores!(administrators_see_and_revoke_a_persons_api_tokens, |backend| async move {
    let s = server(backend).await;
    let store = &s.test_store.store;
    let (token_id, token) = store.create_token("pub@example.org", "their script", None).await.unwrap();
    let (other_id, _) = store.create_token("editor@example.org", "editor's", None).await.unwrap();
    assert_eq!(bearer_status(&s, &token).await, 200);
    let id = person_id(&s, "pub@example.org").await;
    let mut admin = signed_in(&s, "admin@example.org").await;
    let page = admin.get(&format!("/admin/people/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("their script"), "{}", page.body);
    assert!(!page.body.contains(&token), "the token itself is never shown again");
    let csrf = Browser::csrf(&page.body);

    // Another person's token cannot be revoked through this person's page.
    let wrong = admin.post(&format!("/admin/people/{id}/tokens/{other_id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(wrong.status, 404);
    assert_eq!(store.token(&other_id).await.unwrap().unwrap().revoked_at, None);
    // Nor by anyone but an administrator.
    let mut editor = signed_in(&s, "editor@example.org").await;
    let editor_csrf = Browser::csrf(&editor.get("/account").await.body);
    let refused = editor.post(&format!("/admin/people/{id}/tokens/{token_id}/revoke"), &[("csrf", &editor_csrf)]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(bearer_status(&s, &token).await, 200);

    let done = admin.post(&format!("/admin/people/{id}/tokens/{token_id}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!((done.status, done.location.as_str()), (303, format!("/admin/people/{id}?done=token-revoked").as_str()));
    assert_eq!(bearer_status(&s, &token).await, 401);
    let page = admin.get(&done.location).await;
    assert!(page.body.contains("API tokens was revoked"), "{}", page.body);
    assert!(page.body.contains("Revoked"), "{}", page.body);
    let audit = audit_text(&s).await;
    assert!(audit.contains("of pub@example.org") && !audit.contains(&token), "{audit}");
    s.stop().await;
});
