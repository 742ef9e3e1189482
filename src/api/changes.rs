use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::{AppState, Problem, json_with_etag};
use crate::query::Params;

/// The entities the public feed carries: catalogue records and content,
/// never people, tokens or drafts.
pub(crate) const PUBLIC: [&str; 6] = ["entry", "organisation", "term", "guide", "page", "glossary"];

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
    // The public feed is the catalogue's: people, tokens and drafts in
    // review are not public (they are in the audit log for administrators).
    let changes: Vec<_> = changes.into_iter().filter(|c| PUBLIC.contains(&c.entity.as_str())).collect();
    Ok(json_with_etag(&headers, &json!({"since": since, "next": last, "results": changes})))
}
