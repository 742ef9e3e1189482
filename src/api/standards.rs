use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::params::Params;
use super::{AppState, Page, Problem, json_with_etag};
use crate::catalogue::{EntryType, Slug, Status, Vocabulary};
use crate::store::{EntryQuery, EntrySort};

pub const LIST_PARAMS: &[&str] = &[
    "care_setting",
    "topic",
    "technology",
    "category",
    "status",
    "owner",
    "mandated",
    "type",
    "sort",
    "page",
    "per_page",
];

pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("true or false".into()),
    }
}

/// Reads the entry filters and page shared by the list and search
/// endpoints (each reads its own `sort`).
/// Vocabulary values are accepted as a term's slug or label.
pub async fn entry_query(state: &AppState, params: &mut Params) -> Result<EntryQuery, Problem> {
    // From memory, so searching works through a database outage.
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let (vocabularies, organisations) = (&data.vocabularies, &data.organisations);
    let term = |vocabulary: Vocabulary| move |v: &str| vocabularies.resolve(vocabulary, v);
    let query = EntryQuery {
        care_settings: params.each("care_setting", term(Vocabulary::CareSetting)),
        topics: params.each("topic", term(Vocabulary::Topic)),
        technologies: params.each("technology", term(Vocabulary::Technology)),
        categories: params.each("category", term(Vocabulary::Category)),
        statuses: params.each("status", Status::parse),
        owners: params.each("owner", |v| {
            organisations
                .iter()
                .find(|o| o.slug.as_str() == v || o.name.eq_ignore_ascii_case(v))
                .map(|o| o.slug.clone())
                .ok_or_else(|| "a known organisation, by slug or name".to_owned())
        }),
        types: params.each("type", |v| match v.to_ascii_lowercase().as_str() {
            "standard" => Ok(EntryType::Standard),
            "api" => Ok(EntryType::Api),
            _ => Err("`standard` or `api`".to_owned()),
        }),
        mandated: params.each("mandated", parse_bool).last().copied(),
        sort: EntrySort::default(),
        page: params.number("page", 1, 1, 100_000),
        per_page: params.number("per_page", 20, 1, 100),
    };
    Ok(query)
}

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
