//! `/account`: a signed-in person's own account. Their details; changing
//! their password (their other sessions end); and their API tokens: list,
//! create (the token is shown once, on the page that answers the form, and
//! kept only as a hash) and revoke. Changes and refusals are audited, never
//! with a password or token.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, Utc};

use super::account::{CurrentSession, SESSION_COOKIE, check_csrf, cookie, field, parse_form};
use super::people::{
    FormPage, Input, hash_off_thread, in_field_order, layout, new_password_errors, no_store, place_errors, query_value,
    role_label, when,
};
use super::view::Layout;
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::{Refusal, password};
use crate::client::ClientAddress;
use crate::editing::refuse;
use crate::store::{Principal, TokenInfo};

/// The longest a token may be made to last, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;
/// What the form suggests.
const SUGGESTED_TOKEN_DAYS: &str = "90";
const MAX_TOKEN_NAME: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", get(password_form).post(change_password))
        .route("/account/tokens/new", get(token_form).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// Signed in, and the form carries the session's CSRF token.
fn signed_in_post(session: &CurrentSession, form: &[(String, String)]) -> Result<Principal, WebError> {
    let who = session.signed_in()?.clone();
    check_csrf(session, form)?;
    Ok(who)
}

// ---------------------------------------------------------------- the account page

/// A token as the list shows it.
pub(super) struct TokenRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) created: String,
    pub(super) expires: String,
    pub(super) last_used: String,
    pub(super) status: &'static str,
    pub(super) active: bool,
}

impl TokenRow {
    pub(super) fn of(t: &TokenInfo) -> TokenRow {
        let expired =
            t.expires_at.as_deref().and_then(|e| e.parse::<DateTime<Utc>>().ok()).is_some_and(|e| e <= Utc::now());
        let status = match (&t.revoked_at, expired) {
            (Some(_), _) => "Revoked",
            (None, true) => "Expired",
            (None, false) => "Active",
        };
        TokenRow {
            id: t.id.clone(),
            name: t.name.clone(),
            created: when(&t.created_at),
            expires: t.expires_at.as_deref().map_or_else(|| "Never".to_owned(), when),
            last_used: t.last_used_at.as_deref().map_or_else(|| "No use recorded".to_owned(), when),
            status,
            active: status == "Active",
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    email: String,
    role: &'static str,
    organisation: Option<String>,
    csrf: String,
    tokens: Vec<TokenRow>,
    /// Where the token table's revoke buttons post.
    revoke_base: &'static str,
    notice: Option<String>,
}

async fn account(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?.clone();
    let tokens = state.store.tokens_of(&who.email).await?;
    let notice = match query_value(query.as_deref(), "done").as_deref() {
        Some("password") => Some("Your password was changed. You have been signed out everywhere else.".to_owned()),
        Some("revoked") => query_value(query.as_deref(), "token")
            .and_then(|id| tokens.iter().find(|t| t.id == id))
            .map(|t| format!("The API token {} was revoked. It no longer works.", t.name)),
        _ => None,
    };
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let organisation = who.organisation.as_deref().map(|o| data.organisation_name(o).to_owned());
    let l = layout(&headers, &state, "/account", "Your account", false).crumb("/dashboard", "Your dashboard");
    Ok(no_store(html(&AccountPage {
        l,
        email: who.email.clone(),
        role: role_label(who.role),
        organisation,
        csrf: session.csrf(),
        tokens: tokens.iter().map(TokenRow::of).collect(),
        revoke_base: "/account/tokens",
        notice,
    })))
}

// ---------------------------------------------------------------- password

fn password_page(
    headers: &HeaderMap,
    state: &AppState,
    session: &CurrentSession,
    errors: Vec<(String, String)>,
) -> Response {
    // Passwords are never sent back into the form.
    let fields = vec![
        Input::new("current_password", "Current password", "password").autocomplete("current-password"),
        Input::new("new_password", "New password", "password").autocomplete("new-password").hint(format!(
            "At least {} characters, and not a common password. Three random words together make a good one.",
            password::MIN_LENGTH
        )),
        Input::new("confirm_password", "Type the new password again", "password").autocomplete("new-password"),
    ];
    let l = layout(headers, state, "/account/password", "Change your password", !errors.is_empty())
        .crumb("/dashboard", "Your dashboard")
        .crumb("/account", "Your account");
    FormPage {
        l,
        caption: "Your account",
        heading: "Change your password".into(),
        intro: vec!["When it is changed you stay signed in here and are signed out everywhere else.".into()],
        action: "/account/password".into(),
        csrf: session.csrf(),
        fields: place_errors(fields, &errors),
        errors,
        button: "Change password",
        cancel: "/account".into(),
    }
    .respond()
}

async fn password_form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    session.signed_in()?;
    Ok(password_page(&headers, &state, &session, Vec::new()))
}

async fn change_password(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let who = signed_in_post(&session, &form)?;
    let current = field(&form, "current_password");
    let new = field(&form, "new_password");
    let mut errors = new_password_errors(&new, &field(&form, "confirm_password"), &who.email);
    if current.is_empty() {
        errors.push(("current_password".to_owned(), "Enter your current password".to_owned()));
    } else if !state.site.attempts.allow(client) {
        // Guessing the current password is held to the sign-in form's pace.
        let address = client.to_string();
        state
            .store
            .audit(
                &who.email,
                "password-change-failed",
                "refused",
                "too many attempts from this address",
                Some(&address),
            )
            .await?;
        errors.push((
            "current_password".to_owned(),
            "Too many attempts from here. Wait a minute and try again.".to_owned(),
        ));
    } else if !current_password_matches(&state, &who.email, current).await? {
        state.store.audit(&who.email, "password-change-failed", "refused", "wrong current password", None).await?;
        errors.push(("current_password".to_owned(), "Your current password is not right".to_owned()));
    }
    if !errors.is_empty() {
        let errors = in_field_order(errors, &["current_password", "new_password", "confirm_password"]);
        return Ok(password_page(&headers, &state, &session, errors));
    }
    let hash = hash_off_thread(new).await?;
    let keep = cookie(&headers, SESSION_COOKIE);
    state.store.change_password(&who.email, &hash, &who.email, keep.as_deref()).await?;
    state
        .store
        .audit(&who.email, "password-changed", "ok", "changed their password; their other sessions ended", None)
        .await?;
    Ok(Redirect::to("/account?done=password").into_response())
}

/// Checks a password against the stored hash, off the request threads.
async fn current_password_matches(state: &AppState, email: &str, given: String) -> anyhow::Result<bool> {
    let store = state.store.clone();
    let email = email.to_owned();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(store.check_password(&email, |stored| {
            if stored.is_empty() {
                password::verify_nothing(&given);
                false
            } else {
                password::verify(&given, stored)
            }
        }))
    })
    .await
    .map_err(|e| anyhow::anyhow!("password check task: {e}"))?
}

// ---------------------------------------------------------------- tokens

fn token_page(
    headers: &HeaderMap,
    state: &AppState,
    session: &CurrentSession,
    name: &str,
    days: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let fields = vec![
        Input::new("name", "Name", "text")
            .autocomplete("off")
            .hint("So that you can tell your tokens apart: the program or system that will use it.")
            .value(name),
        Input::new("expires", "Days until it expires", "number")
            .optional()
            .hint(format!(
                "A whole number of days, up to {MAX_TOKEN_DAYS}. Leave it empty for a token that works until you revoke it."
            ))
            .value(days),
    ];
    let l = layout(headers, state, "/account/tokens/new", "Create an API token", !errors.is_empty())
        .crumb("/dashboard", "Your dashboard")
        .crumb("/account", "Your account");
    FormPage {
        l,
        caption: "Your account",
        heading: "Create an API token".into(),
        intro: vec![
            "The token can do what you can do. It is shown once, on the next page, so have somewhere safe ready to keep it."
                .into(),
        ],
        action: "/account/tokens/new".into(),
        csrf: session.csrf(),
        fields: place_errors(fields, &errors),
        errors,
        button: "Create token",
        cancel: "/account".into(),
    }
    .respond()
}

async fn token_form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    session.signed_in()?;
    Ok(token_page(&headers, &state, &session, "", SUGGESTED_TOKEN_DAYS, Vec::new()))
}

#[derive(Template)]
#[template(path = "token_created.html")]
struct TokenCreated {
    l: Layout,
    name: String,
    token: String,
    expiry: String,
    base: String,
}

async fn create_token(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let who = signed_in_post(&session, &form)?;
    let name = field(&form, "name").trim().to_owned();
    let days_text = field(&form, "expires").trim().to_owned();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(("name".to_owned(), "Enter a name for the token".to_owned()));
    } else if name.chars().count() > MAX_TOKEN_NAME {
        errors.push(("name".to_owned(), format!("Name must be {MAX_TOKEN_NAME} characters or fewer")));
    }
    let days = match days_text.parse::<u32>() {
        _ if days_text.is_empty() => None,
        Ok(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => Some(d),
        _ => {
            errors.push((
                "expires".to_owned(),
                format!("Days until it expires must be a whole number from 1 to {MAX_TOKEN_DAYS}, or empty"),
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Ok(token_page(&headers, &state, &session, &name, &days_text, errors));
    }
    let (id, token) = state.store.create_token_by(&who.email, &name, days, &who.email).await?;
    let lasting = days.map_or_else(|| "does not expire".to_owned(), |d| format!("expires in {d} days"));
    let detail = format!("token {id} named {name:?}, which {lasting}");
    state.store.audit(&who.email, "token-created", "ok", &detail, None).await?;
    let expiry = match days {
        Some(d) => {
            format!("It works until {}.", when(&(Utc::now() + chrono::Duration::days(i64::from(d))).to_rfc3339()))
        }
        None => "It works until you revoke it.".to_owned(),
    };
    let l = layout(&headers, &state, "/account/tokens/new", "Your new API token", false)
        .crumb("/dashboard", "Your dashboard")
        .crumb("/account", "Your account");
    let base = state.site.base_url(&headers);
    Ok(no_store(html(&TokenCreated { l, name, token, expiry, base })))
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    let who = signed_in_post(&session, &form)?;
    let token = state.store.token(&id).await?.ok_or(WebError::NotFound)?;
    if token.email != who.email {
        let why = Refusal::Forbidden("You can revoke only your own API tokens.".into());
        return Err(refuse(&state, Some(&who), why, &format!("POST /account/tokens/{id}/revoke")).await.into());
    }
    if token.revoked_at.is_none() {
        state.store.revoke_token_by(&id, &who.email).await?;
        let detail = format!("token {id} named {:?}", token.name);
        state.store.audit(&who.email, "token-revoked", "ok", &detail, None).await?;
    }
    Ok(Redirect::to(&format!("/account?done=revoked&token={id}")).into_response())
}
