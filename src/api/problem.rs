//! Errors as `application/problem+json` (RFC 9457).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use crate::query::InvalidParam;

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty", rename = "invalid-params")]
    pub invalid_params: Vec<InvalidParam>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            invalid_params: Vec::new(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn bad_request(invalid_params: Vec<InvalidParam>) -> Problem {
        let detail = invalid_params
            .iter()
            .map(|p| format!("{} `{}`: {}", p.name, p.value, p.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            invalid_params,
            ..Problem::new(StatusCode::BAD_REQUEST, "invalid-parameters", "Invalid query parameters", detail)
        }
    }

    /// The database cannot serve just now; answered with `Retry-After`.
    pub fn unavailable() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Try again shortly",
            "The directory's database is busy or out of reach just now. Nothing was changed; try again in a few seconds.",
        )
    }

    pub fn internal(detail: &str) -> Problem {
        tracing::error!(error = detail, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Something went wrong",
            "The directory could not answer this request. It has been logged; please try again later.",
        )
    }
}

/// A refused write is a conflict with what the directory holds.
impl From<crate::store::WriteError> for Problem {
    fn from(e: crate::store::WriteError) -> Self {
        use crate::store::WriteError;
        match e {
            WriteError::Database(e) => e.into(),
            e @ WriteError::StillLinked { .. } => {
                Problem::new(StatusCode::CONFLICT, "still-linked", "Still linked", e.to_string())
            }
            e @ WriteError::NameTaken(_) => {
                Problem::new(StatusCode::CONFLICT, "name-taken", "Name taken", e.to_string())
            }
            e => Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", e.to_string()),
        }
    }
}

/// A search that would take more work than one request may do.
/// The rules of changing the catalogue, answered as problems.
impl From<crate::editing::EditError> for Problem {
    fn from(e: crate::editing::EditError) -> Self {
        use crate::auth::Refusal;
        use crate::editing::EditError;
        match e {
            EditError::Refused(Refusal::SignInNeeded) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorised",
                "Credentials needed",
                Refusal::SignInNeeded.message(),
            ),
            EditError::Refused(Refusal::Forbidden(why)) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", why)
            }
            EditError::Invalid(problems) => {
                let invalid_params = problems
                    .iter()
                    .map(|p| InvalidParam {
                        name: p.column.clone().unwrap_or_else(|| "(entry)".into()),
                        value: p.value.clone().unwrap_or_default(),
                        reason: p.expected.clone(),
                    })
                    .collect();
                let detail = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
                Problem {
                    invalid_params,
                    ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-entry", "The entry is not valid", detail)
                }
            }
            EditError::WrongState(detail) => {
                Problem::new(StatusCode::CONFLICT, "wrong-state", "Not possible in this state", detail)
            }
            EditError::NotFound(detail) => Problem::not_found(detail),
            EditError::Write(e) => e.into(),
            EditError::Unexpected(e) => e.into(),
        }
    }
}

impl From<crate::query::InvalidParams> for Problem {
    fn from(e: crate::query::InvalidParams) -> Self {
        Problem::bad_request(e.0)
    }
}

impl From<crate::search::OverBudget> for Problem {
    fn from(e: crate::search::OverBudget) -> Self {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "search-too-costly", "Search too costly", e.to_string())
    }
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Self {
        if crate::store::unavailable(&e) {
            tracing::warn!(error = %format!("{e:#}"), "store unavailable");
            return Problem::unavailable();
        }
        Problem::internal(&format!("{e:#}"))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, "application/problem+json".parse().expect("valid"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, crate::store::RETRY_AFTER_SECONDS.into());
        }
        response
    }
}
