//! Signing in and out, the session every page sees, and CSRF tokens.
//! Sessions are kept server-side; the cookie is HttpOnly, SameSite=Lax and
//! Secure behind HTTPS. Every form that changes something carries the
//! session's CSRF token; the sign-in form, before there is a session,
//! carries one that must match a short-lived cookie.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::view::Layout;
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::password;
use crate::client::ClientAddress;
use crate::store::{Principal, Session, SignIn};

pub const SESSION_COOKIE: &str = "session";
const SIGN_IN_COOKIE: &str = "sign_in_csrf";

/// The signed-in person, as pages show them.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
}

tokio::task_local! {
    /// The account of the request being handled, for the page header.
    pub static ACCOUNT: Option<Account>;
}

/// The request's session, for handlers that need more than the header.
#[derive(Debug, Clone, Default)]
pub struct CurrentSession(pub Option<Session>);

impl CurrentSession {
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref().map(|s| &s.principal)
    }

    /// The signed-in person, or off to the sign-in page.
    pub fn signed_in(&self) -> Result<&Principal, WebError> {
        self.principal().ok_or(WebError::SignInNeeded)
    }

    /// The token this session's forms carry (empty when signed out).
    pub fn csrf(&self) -> String {
        self.0.as_ref().map(|s| s.csrf.clone()).unwrap_or_default()
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_owned())
    })
}

fn https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>, same_site: &str) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if https(headers) {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).expect("cookie values are ASCII")
}

/// Finds the session for every page request and makes it available to the
/// page header and to handlers. Assets and the APIs (which take tokens,
/// never cookies) skip the lookup.
pub async fn session_layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let pages = !(path.starts_with("/assets/") || path.starts_with("/api/"));
    let cookie_value = if pages { cookie(request.headers(), SESSION_COOKIE) } else { None };
    let session = match cookie_value {
        Some(c) => state.store.session(&c).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "session lookup failed");
            None
        }),
        None => None,
    };
    let account = session.as_ref().map(|s| Account {
        email: s.principal.email.clone(),
        role: s.principal.role.as_str(),
        csrf: s.csrf.clone(),
    });
    request.extensions_mut().insert(CurrentSession(session));
    ACCOUNT.scope(account, next.run(request)).await
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(session: &CurrentSession, form: &[(String, String)]) -> Result<(), WebError> {
    let given = field(form, "csrf");
    match &session.0 {
        Some(s) if !given.is_empty() && constant_time_eq(&given, &s.csrf) => Ok(()),
        // One rule for every form: signed out is off to sign in, whatever
        // the form (nothing is done either way).
        None => Err(WebError::SignInNeeded),
        Some(_) => Err(WebError::Forbidden(
            "The form has expired or did not come from this site. Go back, reload the page and try again.".into(),
        )),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A form's first value for `name`, or empty.
pub fn field(form: &[(String, String)], name: &str) -> String {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    l: Layout,
    csrf: String,
    email: String,
    error: Option<String>,
}

fn sign_in_page(headers: &HeaderMap, base: &str, email: String, error: Option<String>, status: StatusCode) -> Response {
    let csrf = uuid::Uuid::new_v4().simple().to_string();
    let mut l = Layout::new(base, "/sign-in", "Sign in", "Sign in to edit the directory.");
    l.noindex = true;
    let mut response = html(&SignInPage { l, csrf: csrf.clone(), email, error });
    *response.status_mut() = status;
    response.headers_mut().append(header::SET_COOKIE, set_cookie(headers, SIGN_IN_COOKIE, &csrf, Some(3600), "Strict"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn sign_in_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    sign_in_page(&headers, &state.site.base_url(&headers), String::new(), None, StatusCode::OK)
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let base = state.site.base_url(&headers);
    let form = parse_form(&body);
    let email = field(&form, "email").trim().to_lowercase();
    let address = client.to_string();
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    // The allowance counts every attempt, forged ones too, before anything is written.
    let allowed = state.site.attempts.allow(client);
    if expected.is_empty() || !constant_time_eq(&expected, &field(&form, "csrf")) {
        state.store.audit(&email, "sign-in-refused", "refused", "no valid CSRF token", Some(&address)).await?;
        return Err(WebError::Forbidden(
            "The sign-in form has expired. Go back, reload the page and try again.".into(),
        ));
    }
    if !allowed {
        state
            .store
            .audit(&email, "sign-in-refused", "refused", "too many attempts from this address", Some(&address))
            .await?;
        return Ok(sign_in_page(
            &headers,
            &base,
            email,
            Some("Too many attempts to sign in from here. Wait a minute and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let password = field(&form, "password");
    if email.is_empty() || password.is_empty() {
        return Ok(sign_in_page(
            &headers,
            &base,
            email,
            Some("Enter your email address and password".into()),
            StatusCode::BAD_REQUEST,
        ));
    }
    let outcome = {
        let store = state.store.clone();
        let email = email.clone();
        // Hashing is slow on purpose; it runs off the request threads.
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(store.sign_in(&email, |stored| {
                if stored.is_empty() {
                    password::verify_nothing(&password);
                    false
                } else {
                    password::verify(&password, stored)
                }
            }))
        })
        .await
        .map_err(|e| anyhow::anyhow!("sign-in task: {e}"))??
    };
    match outcome {
        SignIn::Ok { session, .. } => {
            state.store.audit(&email, "sign-in", "ok", "signed in", Some(&address)).await?;
            let mut response = Redirect::to("/dashboard").into_response();
            let headers_out = response.headers_mut();
            headers_out.append(header::SET_COOKIE, set_cookie(&headers, SESSION_COOKIE, &session, None, "Lax"));
            headers_out.append(header::SET_COOKIE, set_cookie(&headers, SIGN_IN_COOKIE, "", Some(0), "Strict"));
            Ok(response)
        }
        SignIn::Wrong => {
            state.store.audit(&email, "sign-in-failed", "refused", "wrong email or password", Some(&address)).await?;
            Ok(sign_in_page(
                &headers,
                &base,
                email,
                Some("Email address or password is not right".into()),
                StatusCode::UNAUTHORIZED,
            ))
        }
        SignIn::Locked(until) => {
            state.store.audit(&email, "sign-in-failed", "refused", "account locked", Some(&address)).await?;
            let minutes = (until - chrono::Utc::now()).num_minutes().max(1);
            Ok(sign_in_page(
                &headers,
                &base,
                email,
                Some(format!(
                    "This account is locked after repeated failed attempts. Try again in {minutes} minutes, or ask an administrator."
                )),
                StatusCode::TOO_MANY_REQUESTS,
            ))
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    axum::Extension(session): axum::Extension<CurrentSession>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        state.store.end_session(&c).await?;
    }
    if let Some(p) = session.principal() {
        state.store.audit(&p.email, "sign-out", "ok", "signed out", None).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&headers, SESSION_COOKIE, "", Some(0), "Lax"));
    Ok(response)
}

/// Sign-out offered at `GET /sign-out` too, as a form (signing out
/// changes something, so it is a POST with the CSRF token).
pub async fn sign_out_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    #[derive(Template)]
    #[template(path = "sign_out.html")]
    struct SignOutPage {
        l: Layout,
    }
    let mut l = Layout::new(&state.site.base_url(&headers), "/sign-out", "Sign out", "Sign out of the directory.");
    l.noindex = true;
    html(&SignOutPage { l })
}
