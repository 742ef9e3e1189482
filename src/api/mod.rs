//! The JSON API, version 1: read access to the catalogue, with
//! problem+json errors, ETags and an OpenAPI document.

mod caller;
pub(crate) mod changes;
mod health;
mod openapi;
mod organisations;
mod problem;
pub(crate) mod search;
pub(crate) mod standards;
mod vocabularies;
pub mod write;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;

pub use openapi::document as openapi_document;
pub use problem::Problem;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/standards", get(standards::list).post(write::create))
        .route(
            "/api/v1/standards/{slug}",
            get(standards::show).put(write::replace).patch(write::patch).delete(write::delete),
        )
        .route("/api/v1/revisions", get(write::revisions))
        .route("/api/v1/revisions/{id}", get(write::revision))
        .route("/api/v1/revisions/{id}/{step}", axum::routing::post(write::step))
        .route("/api/v1/audit", get(write::audit))
        .route("/api/v1/organisations", get(organisations::list).post(organisations::create))
        .route(
            "/api/v1/organisations/{slug}",
            get(organisations::show).put(organisations::replace).patch(organisations::replace),
        )
        .route("/api/v1/vocabularies", get(vocabularies::list))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/suggest", get(search::suggest))
        .route("/api/v1/search/analytics", get(search::analytics))
        .route("/api/v1/changes", get(changes::list))
        .route("/api/v1/openapi.json", get(openapi::serve))
}

/// A list page, the same shape for every listing.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub results: Vec<T>,
}

/// A JSON response with an ETag; answers 304 when the client already has
/// this exact body.
pub fn json_with_etag<T: Serialize>(request_headers: &HeaderMap, value: &T) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(e) => return Problem::internal(&e.to_string()).into_response(),
    };
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header value");
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*" || t.trim() == format!("W/{etag}")));
    let mut builder = Response::builder().header(header::ETAG, etag_value).header(header::CACHE_CONTROL, "no-cache");
    if matches {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).expect("valid response");
    }
    builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("valid response")
}
