//! People, for administrators (`/admin/people`): everyone with their role,
//! organisation and whether they can sign in; adding a person; changing a
//! role or organisation; disabling and enabling; and one-time links to set
//! a password, which the person opens signed out (`/set-password/{token}`).
//! Also the form pieces these pages share with `/account`.
//!
//! Every change is audited and every refusal is audited as the API's are;
//! no password, API token or link token goes into the audit log. A link's
//! token is shown once, to the administrator who made it, and kept only as
//! a hash.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, Utc};

use super::account::{CurrentSession, SESSION_COOKIE, check_csrf, cookie, field, parse_form};
use super::view::{ErrorPage, Layout};
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::{Permission, Refusal, password};
use crate::editing::{allow, refuse};
use crate::store::{PASSWORD_LINK_VALID, PasswordLink, PasswordLinkUse, Person, Principal, Role};

/// The cookie the set-password form's token must match (the person has no
/// session yet, so the sign-in form's way is used).
const LINK_CSRF_COOKIE: &str = "set_password_csrf";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(list))
        .route("/admin/people/new", get(new_form).post(add))
        .route("/admin/people/{id}", get(show).post(change))
        .route("/admin/people/{id}/disable", post(disable))
        .route("/admin/people/{id}/enable", post(enable))
        .route("/admin/people/{id}/password-link", post(make_link))
        .route("/admin/people/{id}/tokens/{token}/revoke", post(revoke_token))
        .route("/set-password/{token}", get(set_password_form).post(set_password))
}

// ---------------------------------------------------------------- form pieces

/// One choice of a radio group or select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub hint: String,
}

/// A field of a form as shown: its value as typed (never a password), its
/// hint and error.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    /// `text`, `email`, `password`, `number`, `radios` or `select`.
    pub control: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
    pub error: Option<String>,
    pub optional: bool,
}

impl Input {
    pub fn new(name: &'static str, label: &'static str, control: &'static str) -> Input {
        Input {
            name,
            label,
            hint: String::new(),
            control,
            autocomplete: "",
            value: String::new(),
            choices: Vec::new(),
            error: None,
            optional: false,
        }
    }

    pub fn hint(mut self, text: impl Into<String>) -> Input {
        self.hint = text.into();
        self
    }

    pub fn value(mut self, text: impl Into<String>) -> Input {
        self.value = text.into();
        self
    }

    pub fn autocomplete(mut self, what: &'static str) -> Input {
        self.autocomplete = what;
        self
    }

    pub fn optional(mut self) -> Input {
        self.optional = true;
        self
    }

    pub fn choices(mut self, choices: Vec<Choice>) -> Input {
        self.choices = choices;
        self
    }

    /// The ids of the hint and error, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("field-{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("field-{}-error", self.name));
        }
        ids.join(" ")
    }

    /// A radio's id: the first is the field's own, so the error summary
    /// links to it.
    pub fn choice_id(&self, index: usize) -> String {
        if index == 0 { format!("field-{}", self.name) } else { format!("field-{}-{}", self.name, index + 1) }
    }

    pub fn input_type(&self) -> &'static str {
        match self.control {
            "email" => "email",
            "password" => "password",
            _ => "text",
        }
    }
}

/// Puts each (field, message) on its field.
pub fn place_errors(mut fields: Vec<Input>, errors: &[(String, String)]) -> Vec<Input> {
    for f in &mut fields {
        f.error = errors.iter().find(|(name, _)| name == f.name).map(|(_, e)| e.clone());
    }
    fields
}

/// Orders errors as their fields are, for the error summary.
pub fn in_field_order(mut errors: Vec<(String, String)>, order: &[&str]) -> Vec<(String, String)> {
    errors.sort_by_key(|(f, _)| order.iter().position(|o| o == f).unwrap_or(usize::MAX));
    errors
}

/// A page with one form, from `people_form.html`.
#[derive(Template)]
#[template(path = "people_form.html")]
pub struct FormPage {
    pub l: Layout,
    pub caption: &'static str,
    pub heading: String,
    pub intro: Vec<String>,
    pub action: String,
    pub csrf: String,
    pub fields: Vec<Input>,
    pub errors: Vec<(String, String)>,
    pub button: &'static str,
    pub cancel: String,
}

impl FormPage {
    /// The page; 422 when it shows errors. Never cached.
    pub fn respond(self) -> Response {
        let failed = !self.errors.is_empty();
        let mut response = html(&self);
        if failed {
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        no_store(response)
    }
}

/// A private page's layout: never indexed; "Error: " before the title when
/// the page shows errors.
pub fn layout(headers: &HeaderMap, state: &AppState, path: &str, title: &str, failed: bool) -> Layout {
    let title = if failed { format!("Error: {title}") } else { title.to_owned() };
    super::private_layout(headers, state, path, &title)
}

/// Keeps a page out of every cache (it shows a secret, or a person's
/// details).
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A stored time as people read it: "1 April 2026, 14:05 UTC".
pub fn when(text: &str) -> String {
    text.parse::<DateTime<Utc>>().map_or_else(|_| text.to_owned(), |t| t.format("%-d %B %Y, %H:%M UTC").to_string())
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Editor => "Editor",
        Role::Publisher => "Publisher",
    }
}

/// A form's first value for `name`, trimmed.
fn trimmed(form: &[(String, String)], name: &str) -> String {
    field(form, name).trim().to_owned()
}

/// The first value of `name` in a query string.
pub fn query_value(raw: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------- access

/// The signed-in administrator; anyone else is refused, audited.
async fn administrator(state: &AppState, session: &CurrentSession, doing: &str) -> Result<Principal, WebError> {
    let who = session.signed_in()?;
    allow(state, Some(who), Permission::ManagePeople, doing).await?;
    Ok(who.clone())
}

/// A form post by an administrator: signed in, the session's CSRF token,
/// then the permission.
async fn administrator_post(
    state: &AppState,
    session: &CurrentSession,
    form: &[(String, String)],
    doing: &str,
) -> Result<Principal, WebError> {
    session.signed_in()?;
    check_csrf(session, form)?;
    administrator(state, session, doing).await
}

/// Refuses something an administrator may not do to themselves, audited.
async fn refuse_self(state: &AppState, who: &Principal, doing: &str, why: &str) -> WebError {
    refuse(state, Some(who), Refusal::Forbidden(why.to_owned()), doing).await.into()
}

const NOT_OWN_ROLE: &str = "You cannot remove your own administrator role. Another administrator must do it, so that \
     the directory is never left without an administrator who can sign in.";
const NOT_SELF_DISABLE: &str = "You cannot disable your own account. Another administrator must do it, so that the \
     directory is never left without an administrator who can sign in.";

// ---------------------------------------------------------------- the list

/// A person as the pages show them.
struct Shown {
    id: String,
    email: String,
    role: &'static str,
    organisation: String,
    status: &'static str,
    locked_until: String,
    added: String,
    disabled: bool,
}

impl Shown {
    fn of(p: &Person, organisation_name: &str) -> Shown {
        Shown {
            id: p.user.id.clone(),
            email: p.user.email.clone(),
            role: role_label(p.user.role),
            organisation: if p.user.organisation.is_some() { organisation_name.to_owned() } else { "None".into() },
            status: if p.user.disabled {
                "Disabled"
            } else if !p.has_password {
                "No password yet"
            } else {
                "Active"
            },
            locked_until: p.locked_until.map(|t| when(&t.to_rfc3339())).unwrap_or_default(),
            added: when(&p.user.created_at),
            disabled: p.user.disabled,
        }
    }
}

async fn shown(state: &AppState, p: &Person) -> anyhow::Result<Shown> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let org = p.user.organisation.as_deref().unwrap_or("");
    Ok(Shown::of(p, data.organisation_name(org)))
}

#[derive(Template)]
#[template(path = "people.html")]
struct ListPage {
    l: Layout,
    people: Vec<Shown>,
}

async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    administrator(&state, &session, "GET /admin/people").await?;
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let people = state
        .store
        .people()
        .await?
        .iter()
        .map(|p| Shown::of(p, data.organisation_name(p.user.organisation.as_deref().unwrap_or(""))))
        .collect();
    let l = layout(&headers, &state, "/admin/people", "People", false).crumb("/dashboard", "Your dashboard");
    Ok(no_store(html(&ListPage { l, people })))
}

// ---------------------------------------------------------------- role and organisation fields

const ROLE_FIELDS: [&str; 2] = ["role", "organisation"];

async fn role_fields(state: &AppState, role: &str, organisation: &str) -> anyhow::Result<Vec<Input>> {
    let roles = [
        (Role::Admin, "Everything, including people, organisations and the audit log."),
        (Role::Editor, "Reviews and publishes any entry; edits guides, site pages, the glossary and vocabularies."),
        (Role::Publisher, "Writes drafts of their organisation's entries and submits them for review."),
    ];
    let roles = roles
        .iter()
        .map(|(r, hint)| Choice { value: r.as_str().into(), label: role_label(*r).into(), hint: (*hint).into() })
        .collect();
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let organisations = std::iter::once(Choice { value: String::new(), label: "None".into(), hint: String::new() })
        .chain(data.organisations.iter().map(|o| Choice {
            value: o.slug.to_string(),
            label: o.name.clone(),
            hint: String::new(),
        }))
        .collect();
    Ok(vec![
        Input::new("role", "Role", "radios").choices(roles).value(role),
        Input::new("organisation", "Organisation", "select")
            .hint("Publishers must belong to one: they write drafts of its entries.")
            .choices(organisations)
            .value(organisation),
    ])
}

/// The role and organisation a form asks for, or the problems with them,
/// worded as the command line words them.
async fn read_role(
    state: &AppState,
    form: &[(String, String)],
) -> anyhow::Result<Result<(Role, Option<String>), Vec<(String, String)>>> {
    let mut errors = Vec::new();
    let role = match trimmed(form, "role").as_str() {
        "admin" => Some(Role::Admin),
        "editor" => Some(Role::Editor),
        "publisher" => Some(Role::Publisher),
        _ => {
            errors.push(("role".to_owned(), "Role: choose administrator, editor or publisher".to_owned()));
            None
        }
    };
    let organisation = Some(trimmed(form, "organisation")).filter(|o| !o.is_empty());
    match &organisation {
        Some(org) if state.store.organisation(org).await?.is_none() => {
            errors.push(("organisation".to_owned(), format!("Organisation: there is no organisation `{org}`")));
        }
        None if role == Some(Role::Publisher) => errors.push((
            "organisation".to_owned(),
            "Organisation: a publisher belongs to an organisation: choose one".to_owned(),
        )),
        _ => {}
    }
    Ok(match role {
        Some(role) if errors.is_empty() => Ok((role, organisation)),
        _ => Err(errors),
    })
}

fn describe(role: Role, organisation: Option<&str>) -> String {
    match organisation {
        Some(org) => format!("{} of {org}", role.as_str()),
        None => role.as_str().to_owned(),
    }
}

// ---------------------------------------------------------------- adding a person

fn add_page(
    headers: &HeaderMap,
    state: &AppState,
    session: &CurrentSession,
    fields: Vec<Input>,
    errors: Vec<(String, String)>,
) -> Response {
    let l = layout(headers, state, "/admin/people/new", "Add a person", !errors.is_empty())
        .crumb("/dashboard", "Your dashboard")
        .crumb("/admin/people", "People");
    FormPage {
        l,
        caption: "People",
        heading: "Add a person".into(),
        intro: vec![
            "They sign in with their email address. After adding them, make a link for them to set a password, \
             or they can use API tokens only."
                .into(),
        ],
        action: "/admin/people/new".into(),
        csrf: session.csrf(),
        fields: place_errors(fields, &errors),
        errors,
        button: "Add person",
        cancel: "/admin/people".into(),
    }
    .respond()
}

async fn add_fields(state: &AppState, email: &str, role: &str, organisation: &str) -> anyhow::Result<Vec<Input>> {
    let mut fields = vec![
        Input::new("email", "Email address", "email")
            .autocomplete("off")
            .hint("Their work email address, which they sign in with.")
            .value(email),
    ];
    fields.extend(role_fields(state, role, organisation).await?);
    Ok(fields)
}

async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    administrator(&state, &session, "GET /admin/people/new").await?;
    let fields = add_fields(&state, "", "", "").await?;
    Ok(add_page(&headers, &state, &session, fields, Vec::new()))
}

async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let who = administrator_post(&state, &session, &form, "POST /admin/people/new").await?;
    let email = trimmed(&form, "email").to_lowercase();
    let mut errors = Vec::new();
    if email.is_empty() {
        errors.push(("email".to_owned(), "Enter their email address".to_owned()));
    } else if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        errors.push(("email".to_owned(), format!("Email address: `{email}` is not an email address")));
    } else if state.store.people().await?.iter().any(|p| p.user.email == email) {
        errors.push(("email".to_owned(), format!("Email address: there is already a user `{email}`")));
    }
    let chosen = read_role(&state, &form).await?;
    if let Err(e) = &chosen {
        errors.extend(e.iter().cloned());
    }
    let result = match chosen {
        Ok((role, organisation)) if errors.is_empty() => {
            state.store.add_user_by(&email, role, organisation.as_deref(), &who.email).await.map_err(|e| {
                // Someone else added them meanwhile, or the organisation went.
                vec![("email".to_owned(), format!("Email address: {e}"))]
            })
        }
        _ => Err(errors),
    };
    match result {
        Ok(user) => {
            let detail = format!("added {} as {}", user.email, describe(user.role, user.organisation.as_deref()));
            state.store.audit(&who.email, "person-added", "ok", &detail, None).await?;
            Ok(Redirect::to(&format!("/admin/people/{}?done=added", user.id)).into_response())
        }
        Err(errors) => {
            let errors = in_field_order(errors, &["email", "role", "organisation"]);
            let fields = add_fields(&state, &email, &trimmed(&form, "role"), &trimmed(&form, "organisation")).await?;
            Ok(add_page(&headers, &state, &session, fields, errors))
        }
    }
}

// ---------------------------------------------------------------- one person

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    l: Layout,
    p: Shown,
    is_self: bool,
    csrf: String,
    fields: Vec<Input>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    tokens: Vec<super::settings::TokenRow>,
    /// Where the token table's revoke buttons post.
    revoke_base: String,
}

async fn person_page(
    state: &AppState,
    session: &CurrentSession,
    headers: &HeaderMap,
    person: &Person,
    fields: Vec<Input>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> anyhow::Result<Response> {
    let p = shown(state, person).await?;
    let failed = !errors.is_empty();
    let l = layout(headers, state, &format!("/admin/people/{}", p.id), &p.email, failed)
        .crumb("/dashboard", "Your dashboard")
        .crumb("/admin/people", "People");
    let is_self = session.principal().is_some_and(|w| w.email == person.user.email);
    let tokens = state.store.tokens_of(&person.user.email).await?.iter().map(super::settings::TokenRow::of).collect();
    let fields = place_errors(fields, &errors);
    let revoke_base = format!("/admin/people/{}/tokens", p.id);
    let page = PersonPage { l, p, is_self, csrf: session.csrf(), fields, errors, notice, tokens, revoke_base };
    let mut response = html(&page);
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(no_store(response))
}

async fn find(state: &AppState, id: &str) -> Result<Person, WebError> {
    state.store.person(id).await?.ok_or(WebError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    administrator(&state, &session, &format!("GET /admin/people/{id}")).await?;
    let person = find(&state, &id).await?;
    let email = &person.user.email;
    let notice = query_value(query.as_deref(), "done").and_then(|done| match done.as_str() {
        "added" => Some(format!("{email} was added. Make a link for them to set a password so that they can sign in.")),
        "changed" => Some(format!("{email}'s role and organisation were saved.")),
        "disabled" => Some(format!("{email} was disabled.")),
        "enabled" => Some(format!("{email} was enabled.")),
        "token-revoked" => Some(format!("One of {email}'s API tokens was revoked. It no longer works.")),
        _ => None,
    });
    let fields =
        role_fields(&state, person.user.role.as_str(), person.user.organisation.as_deref().unwrap_or("")).await?;
    Ok(person_page(&state, &session, &headers, &person, fields, Vec::new(), notice).await?)
}

/// Saves a person's role and organisation.
async fn change(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let doing = format!("POST /admin/people/{id}");
    let who = administrator_post(&state, &session, &form, &doing).await?;
    let person = find(&state, &id).await?;
    let errors = match read_role(&state, &form).await? {
        Ok((role, _)) if person.user.email == who.email && role != Role::Admin => {
            refuse(&state, Some(&who), Refusal::Forbidden(NOT_OWN_ROLE.into()), &doing).await;
            vec![("role".to_owned(), NOT_OWN_ROLE.to_owned())]
        }
        Ok((role, organisation)) => {
            let after = state.store.update_user(&id, role, organisation.as_deref(), &who.email).await?;
            let detail = format!(
                "{}: {} (was {})",
                after.email,
                describe(after.role, after.organisation.as_deref()),
                describe(person.user.role, person.user.organisation.as_deref())
            );
            state.store.audit(&who.email, "person-changed", "ok", &detail, None).await?;
            return Ok(Redirect::to(&format!("/admin/people/{id}?done=changed")).into_response());
        }
        Err(errors) => in_field_order(errors, &ROLE_FIELDS),
    };
    let fields = role_fields(&state, &trimmed(&form, "role"), &trimmed(&form, "organisation")).await?;
    Ok(person_page(&state, &session, &headers, &person, fields, errors, None).await?)
}

async fn disable(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    set_disabled(state, session, id, body, true).await
}

async fn enable(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    set_disabled(state, session, id, body, false).await
}

async fn set_disabled(
    state: AppState,
    session: CurrentSession,
    id: String,
    body: axum::body::Bytes,
    disabled: bool,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let doing = format!("POST /admin/people/{id}/{}", if disabled { "disable" } else { "enable" });
    let who = administrator_post(&state, &session, &form, &doing).await?;
    let person = find(&state, &id).await?;
    if disabled && person.user.email == who.email {
        return Err(refuse_self(&state, &who, &doing, NOT_SELF_DISABLE).await);
    }
    let done = if disabled { "disabled" } else { "enabled" };
    if person.user.disabled != disabled {
        state.store.set_disabled(&id, disabled, &who.email).await?;
        let detail = if disabled {
            format!("disabled {}: their sessions ended and their API tokens stopped working", person.user.email)
        } else {
            format!("enabled {}", person.user.email)
        };
        state.store.audit(&who.email, &format!("person-{done}"), "ok", &detail, None).await?;
    }
    Ok(Redirect::to(&format!("/admin/people/{id}?done={done}")).into_response())
}

/// Revokes one of a person's API tokens (administrators).
async fn revoke_token(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path((id, token_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let doing = format!("POST /admin/people/{id}/tokens/{token_id}/revoke");
    let who = administrator_post(&state, &session, &form, &doing).await?;
    let person = find(&state, &id).await?;
    let token =
        state.store.token(&token_id).await?.filter(|t| t.email == person.user.email).ok_or(WebError::NotFound)?;
    if token.revoked_at.is_none() {
        state.store.revoke_token_by(&token_id, &who.email).await?;
        let detail = format!("token {token_id} named {:?} of {}", token.name, person.user.email);
        state.store.audit(&who.email, "token-revoked", "ok", &detail, None).await?;
    }
    Ok(Redirect::to(&format!("/admin/people/{id}?done=token-revoked")).into_response())
}

// ---------------------------------------------------------------- links to set a password

#[derive(Template)]
#[template(path = "password_link.html")]
struct LinkPage {
    l: Layout,
    id: String,
    email: String,
    link: String,
    expires: String,
}

/// Makes a one-time link for a person to set a password, shown only now.
async fn make_link(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let who = administrator_post(&state, &session, &form, &format!("POST /admin/people/{id}/password-link")).await?;
    let person = find(&state, &id).await?;
    if person.user.disabled {
        let errors = vec![(
            "link".to_owned(),
            "Enable them before making a link: a disabled person cannot set a password".to_owned(),
        )];
        let fields =
            role_fields(&state, person.user.role.as_str(), person.user.organisation.as_deref().unwrap_or("")).await?;
        return Ok(person_page(&state, &session, &headers, &person, fields, errors, None).await?);
    }
    let email = person.user.email.clone();
    let token = state.store.create_password_link(&email, &who.email, PASSWORD_LINK_VALID).await?;
    let hours = PASSWORD_LINK_VALID.num_hours();
    let detail = format!("for {email}, working once for {hours} hours; earlier unused links stopped working");
    state.store.audit(&who.email, "password-link-created", "ok", &detail, None).await?;
    let base = state.site.base_url(&headers);
    let l = layout(&headers, &state, &format!("/admin/people/{id}"), "Link to set a password", false)
        .crumb("/dashboard", "Your dashboard")
        .crumb("/admin/people", "People");
    let expires = when(&(Utc::now() + PASSWORD_LINK_VALID).to_rfc3339());
    Ok(no_store(html(&LinkPage { l, id, email, link: format!("{base}/set-password/{token}"), expires })))
}

fn link_csrf_cookie(headers: &HeaderMap, value: &str, max_age: i64) -> HeaderValue {
    cookie_value(headers, LINK_CSRF_COOKIE, value, max_age, "Strict", "/set-password/")
}

/// A `Set-Cookie` value as the sign-in cookies are made: HttpOnly, and
/// Secure behind HTTPS.
fn cookie_value(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
    path: &str,
) -> HeaderValue {
    let mut text = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if max_age >= 0 {
        text.push_str(&format!("; Max-Age={max_age}"));
    }
    if headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https") {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are ASCII")
}

/// The page for a link that does not work, audited (never with the link).
async fn link_refused(state: &AppState, link: PasswordLink, doing: &str) -> Result<Response, WebError> {
    let (status, heading, lines, actor, why): (StatusCode, &'static str, [&str; 2], Option<String>, &str) = match link {
        PasswordLink::Expired { email } => (
            StatusCode::GONE,
            "This link has expired",
            ["Links to set a password work for 24 hours.", "Ask a directory administrator for a new link."],
            Some(email),
            "expired link",
        ),
        PasswordLink::Used { email } => (
            StatusCode::GONE,
            "This link has already been used",
            [
                "Each link to set a password works once. If you set your password with it, sign in with that password.",
                "If you have forgotten it, ask a directory administrator for a new link.",
            ],
            Some(email),
            "link already used",
        ),
        PasswordLink::Disabled { email } => (
            StatusCode::GONE,
            "This link no longer works",
            ["The account it is for has been disabled.", "Ask a directory administrator if you think this is wrong."],
            Some(email),
            "link for a disabled account",
        ),
        PasswordLink::Unknown | PasswordLink::Valid { .. } => (
            StatusCode::NOT_FOUND,
            "This link is not valid",
            [
                "Check that you copied the whole link. A newer link for the same person also stops an older one working.",
                "If it still does not work, ask a directory administrator for a new link.",
            ],
            None,
            "unknown link",
        ),
    };
    let actor = actor.unwrap_or_else(|| "-".to_owned());
    state.store.audit(&actor, "password-link-refused", "refused", &format!("{doing}: {why}"), None).await?;
    let mut page = ErrorPage::not_found();
    page.heading = heading;
    page.l.title = heading.to_owned();
    page.l.description = heading.to_owned();
    page.lines = lines.iter().map(|s| (*s).to_owned()).collect();
    let mut response = html(&page);
    *response.status_mut() = status;
    Ok(no_store(response))
}

fn set_password_page(
    headers: &HeaderMap,
    state: &AppState,
    token: &str,
    email: &str,
    csrf: String,
    errors: Vec<(String, String)>,
) -> Response {
    let fields = vec![
        Input::new("new_password", "Password", "password")
            .autocomplete("new-password")
            .hint("At least 12 characters. Three random words together make a good password that is easy to remember."),
        Input::new("confirm_password", "Type the password again", "password").autocomplete("new-password"),
    ];
    let mut l = layout(headers, state, "/set-password", "Set your password", !errors.is_empty());
    // The address holds the link's token: keep it out of other sites' logs
    // and out of search engines.
    l.canonical = String::new();
    let mut response = FormPage {
        l,
        caption: "",
        heading: "Set your password".into(),
        intro: vec![format!("Choose a password for {email}. You will be signed in when it is set.")],
        action: format!("/set-password/{token}"),
        csrf: csrf.clone(),
        fields: place_errors(fields, &errors),
        errors,
        button: "Set password",
        cancel: String::new(),
    }
    .respond();
    let out = response.headers_mut();
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.append(header::SET_COOKIE, link_csrf_cookie(headers, &csrf, 3600));
    response
}

/// `GET /set-password/{token}`: the form, if the link works.
async fn set_password_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    match state.store.password_link(&token).await? {
        PasswordLink::Valid { email } => {
            let csrf = uuid::Uuid::new_v4().simple().to_string();
            Ok(set_password_page(&headers, &state, &token, &email, csrf, Vec::new()))
        }
        other => link_refused(&state, other, "GET /set-password").await,
    }
}

/// `POST /set-password/{token}`: sets the password and signs the person in.
async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let expected = cookie(&headers, LINK_CSRF_COOKIE).unwrap_or_default();
    let given = field(&form, "csrf");
    let same =
        expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    if expected.is_empty() || !same {
        return Err(WebError::Forbidden(
            "The form has expired or did not come from this site. Open the link again and try again.".into(),
        ));
    }
    let email = match state.store.password_link(&token).await? {
        PasswordLink::Valid { email } => email,
        other => return link_refused(&state, other, "POST /set-password").await,
    };
    let new = field(&form, "new_password");
    let confirm = field(&form, "confirm_password");
    let errors = new_password_errors(&new, &confirm, &email);
    if !errors.is_empty() {
        return Ok(set_password_page(&headers, &state, &token, &email, expected, errors));
    }
    let hash = hash_off_thread(new).await?;
    match state.store.use_password_link(&token, &hash).await? {
        PasswordLinkUse::Done { email, session } => {
            // One browser, one person: a session this browser had ends.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                state.store.end_session(&old).await?;
            }
            state
                .store
                .audit(
                    &email,
                    "password-link-used",
                    "ok",
                    "set their password with a one-time link and signed in",
                    None,
                )
                .await?;
            let mut response = Redirect::to("/dashboard").into_response();
            let out = response.headers_mut();
            out.append(header::SET_COOKIE, cookie_value(&headers, SESSION_COOKIE, &session, -1, "Lax", "/"));
            out.append(header::SET_COOKIE, link_csrf_cookie(&headers, "", 0));
            Ok(response)
        }
        PasswordLinkUse::Refused(state_now) => link_refused(&state, state_now, "POST /set-password").await,
    }
}

/// The problems with a new password typed twice: the password rules'
/// message, or that the two differ.
pub fn new_password_errors(new: &str, confirm: &str, email: &str) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if new.is_empty() {
        errors.push(("new_password".to_owned(), "Enter a new password".to_owned()));
    } else if let Err(why) = password::check(new, email) {
        errors.push(("new_password".to_owned(), why));
    } else if confirm.is_empty() {
        errors.push(("confirm_password".to_owned(), "Type the new password again".to_owned()));
    } else if confirm != new {
        errors.push((
            "confirm_password".to_owned(),
            "The passwords do not match: type the same password twice".to_owned(),
        ));
    }
    errors
}

/// Hashes a password on a blocking thread (hashing is slow on purpose).
pub async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| anyhow::anyhow!("hashing task: {e}"))?
}
