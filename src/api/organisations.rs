//! Organisations: read by anyone; created and changed by administrators.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::caller::Caller;
use super::write::{body_object, required, slug_mismatch};
use super::{AppState, Page, Problem, json_with_etag};
use crate::auth::Permission;
use crate::catalogue::Organisation;
use crate::editing::{EditError, allow, apply, writable};
use crate::import::{self, Location, RawCatalogue};
use crate::query::Params;
use crate::store::{ChangeSet, Principal};

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

// ---------------------------------------------------------------- writes

/// Checks an organisation document as an import would, without writing.
async fn check(state: &AppState, document: Map<String, Value>) -> Result<Organisation, Problem> {
    let raw =
        RawCatalogue { organisations: vec![(Location::Path("body".into()), document)], ..RawCatalogue::default() };
    match import::plan(&state.store, raw).await? {
        Ok(mut set) if set.organisations.len() == 1 => Ok(set.organisations.remove(0)),
        Ok(_) => Err(Problem::internal("an organisation document planned as other than one organisation")),
        Err(problems) => Err(EditError::Invalid(problems).into()),
    }
}

/// Writes a checked organisation and answers it as `GET` shows it.
async fn write(state: &AppState, who: &Principal, org: Organisation, created: bool) -> Result<Response, Problem> {
    let set = ChangeSet { organisations: vec![org.clone()], ..ChangeSet::default() };
    apply(state, &set, who).await?;
    let saved = state.store.organisation(org.slug.as_str()).await?.ok_or_else(|| Problem::internal("vanished"))?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = (status, axum::Json(saved)).into_response();
    let location = format!("/api/v1/organisations/{}", org.slug);
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("slug is ASCII"));
    Ok(response)
}

/// The caller, when they may manage organisations (administrators).
async fn manager(state: &AppState, Caller { who, doing }: Caller) -> Result<Principal, Problem> {
    allow(state, who.as_ref(), Permission::ManageOrganisations, &doing).await?;
    required(state, who, &doing).await
}

/// `POST /api/v1/organisations`: a new organisation (administrators).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = manager(&state, caller).await?;
    let document = writable(body_object(&body)?);
    let slug = document.get("slug").and_then(Value::as_str).unwrap_or("").to_owned();
    if !slug.is_empty() && state.store.organisation(&slug).await?.is_some() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "exists",
            "Organisation exists",
            format!(
                "There is already an organisation `{slug}`: change it with PUT or PATCH /api/v1/organisations/{slug}."
            ),
        ));
    }
    let org = check(&state, document).await?;
    write(&state, &who, org, true).await
}

/// `PUT /api/v1/organisations/{slug}`: the whole organisation, created or
/// replaced; `PATCH` changes only the fields given.
pub async fn replace(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    method: Method,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = manager(&state, caller).await?;
    let given = writable(body_object(&body)?);
    if given.get("slug").and_then(Value::as_str).is_some_and(|s| s != slug) {
        return Err(slug_mismatch(format!("The body's slug is not the address's `{slug}`; a slug does not change.")));
    }
    let existing = state.store.organisation(&slug).await?;
    let mut document = if method == Method::PATCH {
        let Some(current) = &existing else {
            return Err(Problem::not_found(format!("There is no organisation with the slug `{slug}`.")));
        };
        match serde_json::to_value(current).map_err(|e| Problem::internal(&e.to_string()))? {
            Value::Object(map) => writable(map),
            _ => Map::new(),
        }
    } else {
        Map::new()
    };
    document.extend(given);
    document.insert("slug".into(), Value::String(slug));
    let org = check(&state, document).await?;
    write(&state, &who, org, existing.is_none()).await
}
