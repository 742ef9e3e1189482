use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::{AppState, Problem, json_with_etag};
use crate::query::Params;
use crate::query::{search_params, search_request};

pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let mut params = search_params(raw.as_deref());
    let request = search_request(&state, &mut params).await?;
    params.finish()?;
    let response = state.search.search(&request)?;
    Ok(json_with_etag(&headers, &response))
}

pub async fn suggest(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let params = Params::parse(raw.as_deref(), &["q"]);
    let q = params.one("q").unwrap_or("").chars().take(200).collect::<String>();
    params.finish()?;
    let suggestions = state.search.suggest(&q);
    Ok(json_with_etag(&headers, &json!({"query": q, "suggestions": suggestions})))
}

/// What people search for and what finds nothing, for editors.
pub async fn analytics(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    super::caller::Caller { who, .. }: super::caller::Caller,
) -> Result<Response, Problem> {
    if let Err(refusal) = crate::auth::authorise(who.as_ref(), crate::auth::Permission::ViewAnalytics) {
        return Err(super::write::refusal(&state, who.as_ref(), refusal, "GET /api/v1/search/analytics").await);
    }
    let mut params = Params::parse(raw.as_deref(), &["limit"]);
    let limit = params.number("limit", 20, 1, 500);
    params.finish()?;
    state.search.analytics.flush(&state.store).await?;
    let (top, zero) = state.store.search_statistics(i64::from(limit)).await?;
    Ok(json_with_etag(&headers, &json!({"top_queries": top, "zero_result_queries": zero})))
}
