//! The website: server-rendered pages on the NHS.UK design system, from
//! compile-checked templates. Every page works without JavaScript; the
//! site script only enhances (search suggestions, filters that update in
//! place).

pub mod account;
pub mod assets;
mod manage;
mod pages;
mod people;
mod publish;
mod search;
mod settings;
pub mod upload;
mod view;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
pub use view::Layout;

/// Site pages with an address of their own, `/{slug}`, linked from the
/// foot of every page.
pub const SITE_PAGES: [&str; 4] = ["about", "help", "accessibility", "privacy"];

pub fn router() -> Router<AppState> {
    let router = SITE_PAGES.iter().fold(Router::new(), |r, slug| r.route(&format!("/{slug}"), get(pages::site_page)));
    router
        .route("/", get(pages::home))
        .route("/search", get(search::page))
        .route("/standards", get(pages::standards_index))
        .route("/standards/{slug}", get(pages::entry))
        .route("/organisations", get(pages::organisations))
        .route("/organisations/{slug}", get(pages::organisation))
        .route("/care-settings", get(pages::care_settings))
        .route("/care-settings/{slug}", get(pages::care_setting))
        .route("/topics", get(pages::topics))
        .route("/topics/{slug}", get(pages::topic))
        .route("/roadmap", get(pages::roadmap))
        .route("/guides", get(pages::guides))
        .route("/guides/{slug}", get(pages::guide))
        .route("/glossary", get(pages::glossary))
        .route("/sitemap.xml", get(pages::sitemap))
        .route("/robots.txt", get(pages::robots))
        .route("/assets/{file}", get(assets::serve))
        .route("/sign-in", get(account::sign_in_form).post(account::sign_in))
        .route("/sign-out", get(account::sign_out_form).post(account::sign_out))
        .route("/dashboard", get(publish::dashboard))
        .route("/new", get(publish::new_form).post(publish::save_new))
        .route("/standards/{slug}/edit", get(publish::edit_form).post(publish::save_edit))
        .route("/standards/{slug}/history", get(publish::history))
        .route("/standards/{slug}/restore", axum::routing::post(publish::restore))
        .route("/revisions/{id}", get(publish::revision).post(publish::revision_step))
        .route("/admin/audit", get(publish::audit))
        .route("/import/template.csv", get(upload::template))
        .merge(manage::router())
        .merge(people::router())
        .merge(settings::router())
}

/// Spreadsheet uploads and their previews and confirms, which take larger
/// bodies and longer than other requests.
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/import", get(upload::form).post(upload::upload))
        .route("/import/{id}", get(upload::preview).post(upload::confirm))
}

/// A page that could not be shown: not found, a bad request, or a fault.
#[derive(Debug)]
pub enum WebError {
    NotFound,
    /// Not allowed, and why.
    Forbidden(String),
    /// Signing in is needed: go to the sign-in page.
    SignInNeeded,
    BadRequest(Vec<String>),
    /// The database is busy or out of reach: try again shortly.
    Unavailable,
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for WebError {
    fn from(e: anyhow::Error) -> Self {
        if crate::store::unavailable(&e) {
            tracing::warn!(error = %format!("{e:#}"), "store unavailable");
            return WebError::Unavailable;
        }
        WebError::Internal(e)
    }
}

/// A refused write, as a page saying why; a fault stays a fault.
impl From<crate::store::WriteError> for WebError {
    fn from(e: crate::store::WriteError) -> Self {
        match e {
            crate::store::WriteError::Database(e) => e.into(),
            e => WebError::BadRequest(vec![e.to_string()]),
        }
    }
}

/// A search that would take more work than one request may do.
impl From<crate::search::OverBudget> for WebError {
    fn from(e: crate::search::OverBudget) -> Self {
        WebError::BadRequest(vec![e.to_string()])
    }
}

/// The rules of changing the catalogue, answered as pages: a refusal asks
/// to sign in or says why not, what is invalid or not possible now is a
/// bad request with its explanation, a fault is a fault.
impl From<crate::editing::EditError> for WebError {
    fn from(e: crate::editing::EditError) -> Self {
        use crate::auth::Refusal;
        use crate::editing::EditError;
        match e {
            EditError::Refused(Refusal::SignInNeeded) => WebError::SignInNeeded,
            EditError::Refused(Refusal::Forbidden(why)) => WebError::Forbidden(why),
            EditError::Invalid(problems) => WebError::BadRequest(problems.iter().map(|p| p.to_string()).collect()),
            EditError::WrongState(why) => WebError::BadRequest(vec![why]),
            EditError::NotFound(_) => WebError::NotFound,
            EditError::Write(e) => e.into(),
            EditError::Unexpected(e) => e.into(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, page) = match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, view::ErrorPage::not_found()),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, view::ErrorPage::forbidden(why)),
            WebError::SignInNeeded => return axum::response::Redirect::to("/sign-in").into_response(),
            WebError::BadRequest(problems) => (StatusCode::BAD_REQUEST, view::ErrorPage::bad_request(problems)),
            WebError::Unavailable => {
                let mut response =
                    (StatusCode::SERVICE_UNAVAILABLE, html(&view::ErrorPage::unavailable())).into_response();
                response.headers_mut().insert(header::RETRY_AFTER, crate::store::RETRY_AFTER_SECONDS.into());
                return response;
            }
            WebError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, view::ErrorPage::internal())
            }
        };
        (status, html(&page)).into_response()
    }
}

/// The layout of a page only signed-in people see: never indexed, its
/// title as its description.
pub fn private_layout(headers: &HeaderMap, state: &AppState, path: &str, title: &str) -> Layout {
    let mut l = Layout::new(&state.site.base_url(headers), path, title.to_owned(), title.to_owned());
    l.noindex = true;
    l
}

/// A rendered template as an HTML response.
pub fn html<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(body) => ([(header::CACHE_CONTROL, "no-cache")], Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be shown.").into_response()
        }
    }
}

/// An error raised before a page's handler ran (a form over the size
/// limit, an address that is not text, a timeout), as a page.
pub fn error_page(status: StatusCode, message: String) -> Response {
    let page = if status.is_server_error() {
        view::ErrorPage::internal()
    } else {
        view::ErrorPage::bad_request(vec![message])
    };
    (status, html(&page)).into_response()
}

/// The not-found page, for addresses outside the APIs.
pub async fn not_found() -> Response {
    WebError::NotFound.into_response()
}
