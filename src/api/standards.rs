use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{AppState, Page, Problem, json_with_etag};
use crate::catalogue::Slug;
use crate::query::{LIST_PARAMS, Params, entry_query};
use crate::store::EntrySort;

pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let mut params = Params::parse(raw.as_deref(), LIST_PARAMS);
    let mut query = entry_query(&state, &mut params).await?;
    query.sort = params
        .each("sort", |v| EntrySort::parse(v).ok_or_else(|| format!("one of {}", EntrySort::NAMES.join(", "))))
        .last()
        .copied()
        .unwrap_or_default();
    params.finish()?;
    let (total, results) = state.store.list_entries(&query).await?;
    Ok(json_with_etag(&headers, &Page { total, page: query.page, per_page: query.per_page, results }))
}

pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let missing = || Problem::not_found(format!("There is no entry with the slug `{slug}`."));
    if Slug::parse(&slug).is_err() {
        return Err(missing());
    }
    let entry = state.store.entry(&slug).await?.ok_or_else(missing)?;
    Ok(json_with_etag(&headers, &entry))
}
