use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::params::Params;
use super::{AppState, Problem, json_with_etag};

/// The changes log after a sequence number: followers, feeds and audits
/// read it in pages.
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let mut params = Params::parse(raw.as_deref(), &["since", "limit"]);
    let since = params.number("since", 0, 0, u32::MAX);
    let limit = params.number("limit", 100, 1, 1000);
    params.finish()?;
    let changes = state.store.changes_since(i64::from(since), i64::from(limit)).await?;
    let last = changes.last().map(|c| c.seq).unwrap_or(i64::from(since));
    Ok(json_with_etag(&headers, &json!({"since": since, "next": last, "results": changes})))
}
