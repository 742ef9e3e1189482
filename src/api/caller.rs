//! What every JSON API handler starts with, as extractors: who is calling
//! (a bearer token, audited; 401 for a bad one), whether they must be
//! signed in (an audited 401 when not), and a body that is one JSON object.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::Problem;
use super::write::{bearer, body_object, required};
use crate::app::AppState;
use crate::store::Principal;

/// The caller, if they sent a token, and what they are doing (method and
/// path, as the audit log names it).
pub struct Caller {
    pub who: Option<Principal>,
    pub doing: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let who = bearer(state, &parts.headers, &parts.method, &parts.uri).await?;
        Ok(Caller { who, doing: format!("{} {}", parts.method, parts.uri.path()) })
    }
}

/// A caller who must have sent a valid token.
pub struct SignedIn {
    pub who: Principal,
    pub doing: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let Caller { who, doing } = Caller::from_request_parts(parts, state).await?;
        let who = required(state, who, &doing).await?;
        Ok(SignedIn { who, doing })
    }
}

/// A request body that is one JSON object (a 400 problem otherwise).
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Problem> {
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| Problem::new(e.status(), "invalid-body", "Invalid body", e.body_text()))?;
        Ok(JsonObject(body_object(&body)?))
    }
}
