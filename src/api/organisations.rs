use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::params::Params;
use super::{AppState, Page, Problem, json_with_etag};

pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let mut params = Params::parse(raw.as_deref(), &["page", "per_page"]);
    let page = params.number("page", 1, 1, 100_000);
    let per_page = params.number("per_page", 100, 1, 100);
    params.finish()?;
    let all = state.store.organisations().await?;
    let total = all.len() as i64;
    let results = all.into_iter().skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
    Ok(json_with_etag(&headers, &Page { total, page, per_page, results }))
}

pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let org = state
        .store
        .organisation(&slug)
        .await?
        .ok_or_else(|| Problem::not_found(format!("There is no organisation with the slug `{slug}`.")))?;
    Ok(json_with_etag(&headers, &org))
}
