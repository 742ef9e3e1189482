//! The authorisation matrix in one table: every route that changes
//! something, through the JSON API (bearer tokens), the CKAN actions (API
//! tokens) and the HTML forms (signed-in sessions with CSRF tokens), for
//! nobody, an administrator, an editor, a publisher of the owning
//! organisation and a publisher of another, with the exact answer each
//! gets. Every cell runs against fresh records, and every mismatch is
//! reported at once.

use crate::common;

use common::browser::Browser;
use common::fixtures::{load, small_catalogue};
use common::{TestServer, TestStore};
use serde_json::{Value, json};
use standards::auth::password;
use standards::store::{Role, Store};

const PASSWORD: &str = "purple kettle tuesday";

/// Who asks: nobody, or a person with an API token and a signed-in session.
const ROLES: [&str; 5] = ["nobody", "admin", "editor", "own publisher", "other publisher"];

/// (route, what each of ROLES gets). Entries are owned by `prsb` (the own
/// publisher's organisation) unless the route says otherwise. Redirects
/// read `303 /where/`.
const MATRIX: &[(&str, [&str; 5])] = &[
    // The JSON API.
    ("API POST /api/v1/standards", ["401", "201", "201", "202", "403"]),
    ("API PUT /api/v1/standards/{slug}", ["401", "200", "200", "202", "403"]),
    ("API PATCH /api/v1/standards/{slug}", ["401", "200", "200", "202", "403"]),
    ("API PATCH /api/v1/standards/{slug} of nhs-england", ["401", "200", "200", "403", "202"]),
    ("API DELETE /api/v1/standards/{slug}", ["401", "204", "204", "403", "403"]),
    ("API POST /api/v1/revisions/{id}/submit", ["401", "200", "200", "200", "403"]),
    ("API POST /api/v1/revisions/{id}/withdraw", ["401", "200", "200", "200", "403"]),
    ("API POST /api/v1/revisions/{id}/request-changes", ["401", "200", "200", "403", "403"]),
    ("API POST /api/v1/revisions/{id}/publish", ["401", "200", "200", "403", "403"]),
    ("API GET /api/v1/audit", ["401", "200", "403", "403", "403"]),
    ("API POST /api/v1/organisations", ["401", "201", "403", "403", "403"]),
    ("API PUT /api/v1/organisations/{slug}", ["401", "200", "403", "403", "403"]),
    ("API PATCH /api/v1/organisations/{slug}", ["401", "200", "403", "403", "403"]),
    // The CKAN actions (CKAN answers a missing key with 403).
    ("CKAN package_create", ["403", "200", "200", "200", "403"]),
    ("CKAN package_update", ["403", "200", "200", "200", "403"]),
    ("CKAN package_patch", ["403", "200", "200", "200", "403"]),
    ("CKAN package_patch of nhs-england", ["403", "200", "200", "403", "200"]),
    ("CKAN package_delete", ["403", "200", "200", "403", "403"]),
    ("CKAN organization_create", ["403", "200", "403", "403", "403"]),
    // The HTML forms. Nobody has no session, so no CSRF token to send.
    ("GET /new", ["303 /sign-in", "200", "200", "200", "200"]),
    ("POST /new", ["303 /sign-in", "303 /standards/", "303 /standards/", "303 /revisions/", "403"]),
    ("GET /standards/{slug}/edit", ["303 /sign-in", "200", "200", "200", "403"]),
    ("POST /standards/{slug}/edit", ["303 /sign-in", "303 /standards/", "303 /standards/", "303 /revisions/", "403"]),
    (
        "POST /standards/{slug}/edit of nhs-england",
        ["303 /sign-in", "303 /standards/", "303 /standards/", "403", "303 /revisions/"],
    ),
    ("POST /revisions/{id} submit", ["303 /sign-in", "303 /revisions/", "303 /revisions/", "303 /revisions/", "403"]),
    ("POST /revisions/{id} request-changes", ["303 /sign-in", "303 /revisions/", "303 /revisions/", "403", "403"]),
    ("POST /revisions/{id} publish", ["303 /sign-in", "303 /standards/", "303 /standards/", "403", "403"]),
    ("POST /standards/{slug}/restore", ["303 /sign-in", "303 /standards/", "303 /standards/", "403", "403"]),
    ("GET /admin/audit", ["303 /sign-in", "200", "403", "403", "403"]),
    ("GET /import", ["303 /sign-in", "200", "200", "200", "200"]),
    ("POST /import", ["303 /sign-in", "303 /import/", "303 /import/", "303 /import/", "422"]),
    ("GET /manage", ["303 /sign-in", "200", "200", "403", "403"]),
    ("POST /manage/organisations/new", ["303 /sign-in", "303 /organisations/", "403", "403", "403"]),
    ("POST /manage/organisations/{slug}", ["303 /sign-in", "303 /organisations/", "403", "403", "403"]),
    ("POST /manage/guides/new", ["303 /sign-in", "303 /guides/", "303 /guides/", "403", "403"]),
    ("POST /manage/guides/{slug}", ["303 /sign-in", "303 /guides/", "303 /guides/", "403", "403"]),
    ("POST /manage/pages/about", ["303 /sign-in", "303 /about", "303 /about", "403", "403"]),
    ("POST /manage/glossary/new", ["303 /sign-in", "303 /glossary#", "303 /glossary#", "403", "403"]),
    (
        "POST /manage/vocabularies/care-settings/new",
        ["303 /sign-in", "303 /care-settings/", "303 /care-settings/", "403", "403"],
    ),
    // People and API tokens in the browser (redirects without their query).
    ("GET /account", ["303 /sign-in", "200", "200", "200", "200"]),
    ("GET /account/password", ["303 /sign-in", "200", "200", "200", "200"]),
    ("POST /account/password", ["303 /sign-in", "303 /account", "303 /account", "303 /account", "303 /account"]),
    ("GET /account/tokens/new", ["303 /sign-in", "200", "200", "200", "200"]),
    ("POST /account/tokens/new", ["303 /sign-in", "200", "200", "200", "200"]),
    (
        "POST /account/tokens/{id}/revoke",
        ["303 /sign-in", "303 /account", "303 /account", "303 /account", "303 /account"],
    ),
    ("POST /account/tokens/{id}/revoke of another's", ["303 /sign-in", "403", "403", "403", "403"]),
    ("GET /admin/people", ["303 /sign-in", "200", "403", "403", "403"]),
    ("GET /admin/people/new", ["303 /sign-in", "200", "403", "403", "403"]),
    ("POST /admin/people/new", ["303 /sign-in", "303 /admin/", "403", "403", "403"]),
    ("GET /admin/people/{id}", ["303 /sign-in", "200", "403", "403", "403"]),
    ("POST /admin/people/{id}", ["303 /sign-in", "303 /admin/", "403", "403", "403"]),
    ("POST /admin/people/{id}/disable", ["303 /sign-in", "303 /admin/", "403", "403", "403"]),
    ("POST /admin/people/{id}/enable", ["303 /sign-in", "303 /admin/", "403", "403", "403"]),
    ("POST /admin/people/{id}/password-link", ["303 /sign-in", "200", "403", "403", "403"]),
    ("POST /admin/people/{id}/tokens/{token}/revoke", ["303 /sign-in", "303 /admin/", "403", "403", "403"]),
    ("GET /set-password/{token}", ["200", "200", "200", "200", "200"]),
    // Stays last: setting a password with a link signs the browser in as
    // that person, ending the session it had.
    (
        "POST /set-password/{token}",
        ["303 /dashboard", "303 /dashboard", "303 /dashboard", "303 /dashboard", "303 /dashboard"],
    ),
];

struct Caller {
    role: &'static str,
    email: Option<String>,
    token: Option<String>,
    browser: Browser,
}

fn entry(slug: &str, owner: &str) -> Value {
    json!({"slug": slug, "title": format!("Entry {slug}"), "type": "standard", "category": "record-standards",
           "care_settings": ["hospital"], "topics": ["referrals"], "owner": owner, "status": "draft-in-progress",
           "summary": "Made by the authorisation matrix."})
}

/// An entry document as the edit form posts it.
fn form_fields(doc: &Value, csrf: &str, action: &str) -> Vec<(String, String)> {
    let mut fields = vec![("csrf".to_owned(), csrf.to_owned()), ("action".to_owned(), action.to_owned())];
    for (k, v) in doc.as_object().unwrap() {
        match v {
            Value::Array(items) => {
                fields.extend(items.iter().map(|i| (k.clone(), i.as_str().unwrap().to_owned())));
            }
            Value::String(s) => fields.push((k.clone(), s.clone())),
            other => fields.push((k.clone(), other.to_string())),
        }
    }
    fields
}

/// A manage form's fields, saved.
fn manage_fields(fields: &[(&str, String)]) -> Vec<(String, String)> {
    let mut out = vec![("csrf".to_owned(), String::new()), ("action".to_owned(), "save".to_owned())];
    out.extend(fields.iter().map(|(k, v)| (k.to_string(), v.clone())));
    out
}

fn outcome(status: u16, location: &str) -> String {
    if (300..400).contains(&status) {
        let prefix = match location[1..].find(['/', '#']) {
            Some(i) => &location[..i + 2],
            None => location,
        };
        format!("{status} {prefix}")
    } else {
        status.to_string()
    }
}

/// An outcome without the query of the address it leads to.
fn without_query(outcome: String) -> String {
    outcome.split('?').next().unwrap_or_default().to_owned()
}

async fn api(s: &TestServer, c: &Caller, method: &str, path: &str, body: Option<Value>) -> String {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), s.url(path));
    if let Some(t) = &c.token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    request.send().await.unwrap().status().as_u16().to_string()
}

async fn ckan(s: &TestServer, c: &Caller, action: &str, body: Value) -> String {
    let mut request = reqwest::Client::new().post(s.url(&format!("/api/3/action/{action}"))).json(&body);
    if let Some(t) = &c.token {
        request = request.header("Authorization", t);
    }
    request.send().await.unwrap().status().as_u16().to_string()
}

/// A fresh entry owned by `owner`, published.
async fn published(store: &Store, slug: &str, owner: &str) {
    load(store, &json!({"entries": [entry(slug, owner)]})).await;
}

/// A fresh draft of a prsb entry by the own publisher, moved on to `state`.
async fn revision(store: &Store, slug: &str, state: &str) -> String {
    let r = store.save_draft(slug, "prsb", &entry(slug, "prsb"), "own@example.org").await.unwrap();
    use standards::store::RevisionState::*;
    if state != "draft" {
        store.move_revision(&r.id, &[Draft], Submitted, "own@example.org", None).await.unwrap().unwrap();
    }
    r.id
}

async fn form_post(c: &mut Caller, page: &str, path: &str, fields: Vec<(String, String)>) -> String {
    let csrf = if c.email.is_some() { Browser::csrf(&c.browser.get(page).await.body) } else { String::new() };
    let fields: Vec<(String, String)> =
        fields.into_iter().map(|(k, v)| if k == "csrf" { (k, csrf.clone()) } else { (k, v) }).collect();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let answer = c.browser.post(path, &pairs).await;
    outcome(answer.status, &answer.location)
}

async fn form_get(c: &mut Caller, path: &str) -> String {
    let answer = c.browser.get(path).await;
    outcome(answer.status, &answer.location)
}

/// Runs one route as one caller, on records made for this cell.
async fn attempt(s: &TestServer, c: &mut Caller, route: &str, n: usize) -> String {
    let store = s.test_store.store.clone();
    let slug = format!("cell-{n}");
    match route {
        "API POST /api/v1/standards" => api(s, c, "POST", "/api/v1/standards", Some(entry(&slug, "prsb"))).await,
        "API PUT /api/v1/standards/{slug}" => {
            published(&store, &slug, "prsb").await;
            let mut doc = entry(&slug, "prsb");
            doc["summary"] = json!("Put.");
            api(s, c, "PUT", &format!("/api/v1/standards/{slug}"), Some(doc)).await
        }
        "API PATCH /api/v1/standards/{slug}" | "API PATCH /api/v1/standards/{slug} of nhs-england" => {
            let owner = if route.ends_with("nhs-england") { "nhs-england" } else { "prsb" };
            published(&store, &slug, owner).await;
            api(s, c, "PATCH", &format!("/api/v1/standards/{slug}"), Some(json!({"summary": "Patched."}))).await
        }
        "API DELETE /api/v1/standards/{slug}" => {
            published(&store, &slug, "prsb").await;
            api(s, c, "DELETE", &format!("/api/v1/standards/{slug}"), None).await
        }
        "API POST /api/v1/revisions/{id}/submit" => {
            let id = revision(&store, &slug, "draft").await;
            api(s, c, "POST", &format!("/api/v1/revisions/{id}/submit"), None).await
        }
        "API POST /api/v1/revisions/{id}/withdraw" => {
            let id = revision(&store, &slug, "submitted").await;
            api(s, c, "POST", &format!("/api/v1/revisions/{id}/withdraw"), None).await
        }
        "API POST /api/v1/revisions/{id}/request-changes" => {
            let id = revision(&store, &slug, "submitted").await;
            let body = json!({"comment": "Please add a summary of the scope."});
            api(s, c, "POST", &format!("/api/v1/revisions/{id}/request-changes"), Some(body)).await
        }
        "API POST /api/v1/revisions/{id}/publish" => {
            let id = revision(&store, &slug, "submitted").await;
            api(s, c, "POST", &format!("/api/v1/revisions/{id}/publish"), None).await
        }
        "API GET /api/v1/audit" => api(s, c, "GET", "/api/v1/audit", None).await,
        "API POST /api/v1/organisations" => {
            let body = json!({"slug": slug, "name": format!("Organisation {n}"), "kind": "standards-body"});
            api(s, c, "POST", "/api/v1/organisations", Some(body)).await
        }
        "API PUT /api/v1/organisations/{slug}" | "API PATCH /api/v1/organisations/{slug}" => {
            load(&store, &json!({"organisations": [{"slug": slug, "name": format!("Body {n}"), "kind": "supplier"}]}))
                .await;
            let method = if route.starts_with("API PUT") { "PUT" } else { "PATCH" };
            let body = json!({"name": format!("Renamed {n}"), "kind": "supplier"});
            api(s, c, method, &format!("/api/v1/organisations/{slug}"), Some(body)).await
        }
        "CKAN package_create" => {
            let body = json!({"name": slug, "title": "By CKAN", "owner_org": "prsb",
                              "standard_category": "record-standards", "status": "draft-in-progress"});
            ckan(s, c, "package_create", body).await
        }
        "CKAN package_update" => {
            published(&store, &slug, "prsb").await;
            let body = json!({"id": slug, "title": "Updated by CKAN", "owner_org": "prsb",
                              "standard_category": "record-standards", "status": "active"});
            ckan(s, c, "package_update", body).await
        }
        "CKAN package_patch" | "CKAN package_patch of nhs-england" => {
            let owner = if route.ends_with("nhs-england") { "nhs-england" } else { "prsb" };
            published(&store, &slug, owner).await;
            ckan(s, c, "package_patch", json!({"id": slug, "title": "Patched by CKAN"})).await
        }
        "CKAN package_delete" => {
            published(&store, &slug, "prsb").await;
            ckan(s, c, "package_delete", json!({"id": slug})).await
        }
        "CKAN organization_create" => {
            ckan(s, c, "organization_create", json!({"name": slug, "title": format!("Organisation {n}")})).await
        }
        "GET /new" => form_get(c, "/new").await,
        "POST /new" => form_post(c, "/new", "/new", form_fields(&entry(&slug, "prsb"), "", "publish")).await,
        "GET /standards/{slug}/edit" => {
            published(&store, &slug, "prsb").await;
            form_get(c, &format!("/standards/{slug}/edit")).await
        }
        "POST /standards/{slug}/edit" | "POST /standards/{slug}/edit of nhs-england" => {
            let owner = if route.ends_with("nhs-england") { "nhs-england" } else { "prsb" };
            published(&store, &slug, owner).await;
            let mut doc = entry(&slug, owner);
            doc["summary"] = json!("Edited in the form.");
            let path = format!("/standards/{slug}/edit");
            form_post(c, "/dashboard", &path, form_fields(&doc, "", "publish")).await
        }
        "POST /revisions/{id} submit" | "POST /revisions/{id} request-changes" | "POST /revisions/{id} publish" => {
            let step = route.rsplit(' ').next().unwrap();
            let id = revision(&store, &slug, if step == "submit" { "draft" } else { "submitted" }).await;
            let fields = vec![
                ("csrf".to_owned(), String::new()),
                ("action".to_owned(), step.to_owned()),
                ("comment".to_owned(), "Please add a summary of the scope.".to_owned()),
            ];
            form_post(c, "/dashboard", &format!("/revisions/{id}"), fields).await
        }
        "POST /standards/{slug}/restore" => {
            published(&store, &slug, "prsb").await;
            let id = store.entry(&slug).await.unwrap().unwrap().id.to_string();
            let seq = store.changes_of("entry", &id).await.unwrap()[0].seq.to_string();
            let fields = vec![("csrf".to_owned(), String::new()), ("seq".to_owned(), seq)];
            form_post(c, "/dashboard", &format!("/standards/{slug}/restore"), fields).await
        }
        "GET /admin/audit" => form_get(c, "/admin/audit").await,
        "GET /import" => form_get(c, "/import").await,
        "POST /import" => {
            let csrf =
                if c.email.is_some() { Browser::csrf(&c.browser.get("/import").await.body) } else { String::new() };
            let csv = format!(
                "slug,title,type,status,owner,category\n{slug},Uploaded,standard,active,prsb,record-standards\n"
            );
            let answer = c.browser.upload("/import", &[("csrf", &csrf)], ("file", "cell.csv", csv.into_bytes())).await;
            outcome(answer.status, &answer.location)
        }
        "GET /manage" => form_get(c, "/manage").await,
        "POST /manage/organisations/new" => {
            let fields = [("slug", slug.clone()), ("name", format!("Body {n}")), ("kind", "supplier".into())];
            form_post(c, "/dashboard", "/manage/organisations/new", manage_fields(&fields)).await
        }
        "POST /manage/organisations/{slug}" => {
            load(&store, &json!({"organisations": [{"slug": slug, "name": format!("Body {n}"), "kind": "supplier"}]}))
                .await;
            let fields = [("name", format!("Renamed {n}")), ("kind", "supplier".into())];
            form_post(c, "/dashboard", &format!("/manage/organisations/{slug}"), manage_fields(&fields)).await
        }
        "POST /manage/guides/new" | "POST /manage/guides/{slug}" => {
            let path = if route.ends_with("new") {
                "/manage/guides/new".to_owned()
            } else {
                load(&store, &json!({"guides": [{"slug": slug, "title": "A guide", "body": "Text."}]})).await;
                format!("/manage/guides/{slug}")
            };
            let fields = [
                ("slug", slug.clone()),
                ("title", format!("Guide {n}")),
                ("summary", "What it is for.".into()),
                ("body", "## Steps\n\nDo this.".into()),
                ("order", "50".into()),
            ];
            form_post(c, "/dashboard", &path, manage_fields(&fields)).await
        }
        "POST /manage/pages/about" => {
            load(&store, &json!({"pages": [{"slug": "about", "title": "About", "body": "Text."}]})).await;
            let fields = [
                ("title", "About this directory".to_owned()),
                ("summary", format!("Edited in cell {n}.")),
                ("body", "What the directory is for.".into()),
                ("order", "0".into()),
            ];
            form_post(c, "/dashboard", "/manage/pages/about", manage_fields(&fields)).await
        }
        "POST /manage/glossary/new" => {
            let fields = [
                ("slug", slug.clone()),
                ("term", format!("Term {n}")),
                ("aliases", String::new()),
                ("definition", "What it means.".into()),
            ];
            form_post(c, "/dashboard", "/manage/glossary/new", manage_fields(&fields)).await
        }
        "POST /manage/vocabularies/care-settings/new" => {
            let fields = [
                ("slug", slug.clone()),
                ("label", format!("Setting {n}")),
                ("description", "Where care happens.".into()),
                ("aliases", String::new()),
            ];
            form_post(c, "/dashboard", "/manage/vocabularies/care-settings/new", manage_fields(&fields)).await
        }
        "GET /account"
        | "GET /account/password"
        | "GET /account/tokens/new"
        | "GET /admin/people"
        | "GET /admin/people/new" => form_get(c, &route[4..]).await,
        "POST /account/password" => {
            let fields = vec![
                ("csrf".to_owned(), String::new()),
                ("current_password".to_owned(), PASSWORD.to_owned()),
                ("new_password".to_owned(), format!("silver tractor morning {n}")),
                ("confirm_password".to_owned(), format!("silver tractor morning {n}")),
            ];
            without_query(form_post(c, "/dashboard", "/account/password", fields).await)
        }
        "POST /account/tokens/new" => {
            let fields = vec![
                ("csrf".to_owned(), String::new()),
                ("name".to_owned(), format!("cell {n}")),
                ("expires".to_owned(), "7".to_owned()),
            ];
            form_post(c, "/dashboard", "/account/tokens/new", fields).await
        }
        "POST /account/tokens/{id}/revoke" | "POST /account/tokens/{id}/revoke of another's" => {
            let owner = match &c.email {
                Some(email) if !route.ends_with("another's") => email.clone(),
                _ => "nobody-else@example.org".to_owned(),
            };
            if owner == "nobody-else@example.org" && !store.users().await.unwrap().iter().any(|u| u.email == owner) {
                store.add_user(&owner, Role::Editor, None).await.unwrap();
            }
            let id = store.create_token(&owner, "cell", None).await.unwrap().0;
            let fields = vec![("csrf".to_owned(), String::new())];
            without_query(form_post(c, "/dashboard", &format!("/account/tokens/{id}/revoke"), fields).await)
        }
        "POST /admin/people/new" => {
            let fields = vec![
                ("csrf".to_owned(), String::new()),
                ("email".to_owned(), format!("{slug}@example.org")),
                ("role".to_owned(), "publisher".to_owned()),
                ("organisation".to_owned(), "prsb".to_owned()),
            ];
            form_post(c, "/dashboard", "/admin/people/new", fields).await
        }
        "GET /admin/people/{id}"
        | "POST /admin/people/{id}"
        | "POST /admin/people/{id}/disable"
        | "POST /admin/people/{id}/enable"
        | "POST /admin/people/{id}/password-link"
        | "POST /admin/people/{id}/tokens/{token}/revoke" => {
            let id = store.add_user(&format!("{slug}@example.org"), Role::Editor, None).await.unwrap().id;
            let token = store.create_token(&format!("{slug}@example.org"), "cell", None).await.unwrap().0;
            if route.ends_with("/enable") {
                store.set_disabled(&id, true, "test").await.unwrap();
            }
            let path = route.split(' ').nth(1).unwrap().replace("{id}", &id).replace("{token}", &token);
            if route.starts_with("GET") {
                return form_get(c, &path).await;
            }
            let mut fields = vec![("csrf".to_owned(), String::new())];
            if route == "POST /admin/people/{id}" {
                fields.push(("role".to_owned(), "publisher".to_owned()));
                fields.push(("organisation".to_owned(), "nhs-england".to_owned()));
            }
            form_post(c, "/dashboard", &path, fields).await
        }
        "GET /set-password/{token}" | "POST /set-password/{token}" => {
            let email = format!("{slug}@example.org");
            store.add_user(&email, Role::Publisher, Some("prsb")).await.unwrap();
            let token = store.create_password_link(&email, "test", chrono::Duration::hours(1)).await.unwrap();
            let path = format!("/set-password/{token}");
            let page = c.browser.get(&path).await;
            if route.starts_with("GET") {
                return outcome(page.status, &page.location);
            }
            // The form's own token, not the session's in the page header.
            let form = &page.body[page.body.find(&format!("action=\"{path}\"")).expect("the form")..];
            let csrf = Browser::csrf(form);
            let new = format!("silver tractor evening {n}");
            let fields = [("csrf", csrf.as_str()), ("new_password", new.as_str()), ("confirm_password", new.as_str())];
            let answer = c.browser.post(&path, &fields).await;
            outcome(answer.status, &answer.location)
        }
        other => panic!("no way to try the route `{other}`"),
    }
}

async fn callers(s: &TestServer) -> Vec<Caller> {
    let store = &s.test_store.store;
    let hash = password::hash(PASSWORD).unwrap();
    let people = [
        ("admin", "admin@example.org", Role::Admin, None),
        ("editor", "editor@example.org", Role::Editor, None),
        ("own publisher", "own@example.org", Role::Publisher, Some("prsb")),
        ("other publisher", "other@example.org", Role::Publisher, Some("nhs-england")),
    ];
    let mut out = vec![Caller { role: "nobody", email: None, token: None, browser: Browser::new(s) }];
    for (role, email, r, org) in people {
        store.add_user(email, r, org).await.unwrap();
        store.set_password(email, &hash, "test").await.unwrap();
        let token = store.create_token(email, "matrix", None).await.unwrap().1;
        let mut browser = Browser::new(s);
        assert_eq!(browser.sign_in(email, PASSWORD).await.status, 303, "{email} signs in");
        out.push(Caller { role, email: Some(email.to_owned()), token: Some(token), browser });
    }
    out
}

on_both_stores!(every_route_that_changes_something_for_every_role, |backend| async move {
    let ts = TestStore::new(backend).await;
    load(&ts.store, &small_catalogue()).await;
    let s = TestServer::start(ts).await;
    let mut callers = callers(&s).await;
    assert_eq!(callers.iter().map(|c| c.role).collect::<Vec<_>>(), ROLES);
    let mut mismatches = Vec::new();
    let mut n = 0;
    for (route, expected) in MATRIX {
        for (caller, want) in callers.iter_mut().zip(expected) {
            n += 1;
            let got = attempt(&s, caller, route, n).await;
            if got != *want {
                mismatches.push(format!("{route} as {}: expected {want}, got {got}", caller.role));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} of {n} cells differ:\n{}", mismatches.len(), mismatches.join("\n"));

    // Every refusal of a signed-in caller is in the audit log.
    let refusals = s.test_store.store.audit_events(Some("permission-refused"), None, 10_000).await.unwrap();
    for who in ["editor@example.org", "own@example.org", "other@example.org"] {
        assert!(refusals.iter().any(|e| e.actor == who), "{who}'s refusals are audited");
    }
    // The entry forms' refusals too, with what was refused.
    for doing in ["edit form of /standards/", "POST /standards/", "POST /new"] {
        assert!(
            refusals.iter().any(|e| e.actor == "other@example.org" && e.detail.starts_with(doing)),
            "the form refusal `{doing}...` is audited"
        );
    }
    s.stop().await;
});
