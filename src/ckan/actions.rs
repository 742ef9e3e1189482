//! `/api/3/action/{name}`: CKAN's Action API (version 3) over the same
//! store and search engine as the rest of the directory.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::package::{organization, package};
use super::search::package_search;
use crate::app::AppState;
use crate::catalogue::{Organisation, Status, Vocabulary};

/// A CKAN error: its `__type`, message and HTTP status.
#[derive(Debug)]
pub struct ActionError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ActionError {
    pub fn not_found(message: impl Into<String>) -> ActionError {
        ActionError { status: StatusCode::NOT_FOUND, kind: "Not Found Error", message: message.into() }
    }

    pub fn validation(message: impl Into<String>) -> ActionError {
        ActionError { status: StatusCode::CONFLICT, kind: "Validation Error", message: message.into() }
    }

    pub fn search(message: impl Into<String>) -> ActionError {
        ActionError { status: StatusCode::CONFLICT, kind: "Search Query Error", message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> ActionError {
        ActionError { status: StatusCode::BAD_REQUEST, kind: "Bad request", message: message.into() }
    }
}

/// The rules of changing the catalogue, answered as CKAN answers them.
impl From<crate::editing::EditError> for ActionError {
    fn from(e: crate::editing::EditError) -> Self {
        use crate::editing::EditError;
        match e {
            EditError::Refused(refusal) => ActionError {
                status: StatusCode::FORBIDDEN,
                kind: "Authorization Error",
                message: format!("Access denied: {}", refusal.message()),
            },
            e @ (EditError::Invalid(_) | EditError::WrongState(_)) => ActionError::validation(e.to_string()),
            EditError::NotFound(why) => ActionError::not_found(why),
            EditError::Write(e) => e.into(),
            EditError::Unexpected(e) => e.into(),
        }
    }
}

/// A refused write: CKAN reports it as a validation error; a fault stays a fault.
impl From<crate::store::WriteError> for ActionError {
    fn from(e: crate::store::WriteError) -> Self {
        match e {
            crate::store::WriteError::Database(e) => e.into(),
            e => ActionError::validation(e.to_string()),
        }
    }
}

impl From<anyhow::Error> for ActionError {
    fn from(e: anyhow::Error) -> Self {
        if crate::store::unavailable(&e) {
            tracing::warn!(error = %format!("{e:#}"), "store unavailable");
            return ActionError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                kind: "Service Unavailable",
                message: "The directory's database is busy or out of reach just now; try again in a few seconds."
                    .into(),
            };
        }
        tracing::error!(error = %format!("{e:#}"), "CKAN action failed");
        ActionError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "Internal Error",
            message: "The directory could not answer this request; it has been logged.".into(),
        }
    }
}

/// The parameters of a call: query string for GET, JSON or form body for POST.
pub struct Params(pub Map<String, Value>);

impl Params {
    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => match v.as_str().unwrap_or_default().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "" => Ok(Some(false)),
                _ => Err(ActionError::validation(format!("{key}: expected true or false"))),
            },
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, ActionError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| ActionError::validation(format!("{key}: Invalid integer")))
            }
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| ActionError::validation(format!("{key}: Invalid integer")))
            }
            Some(_) => Err(ActionError::validation(format!("{key}: Invalid integer"))),
        }
    }

    /// A list given as a JSON list, or as text holding a JSON list.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, ActionError> {
        let value = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|_| ActionError::validation(format!("{key}: expected a JSON list such as [\"tags\"]")))?,
            Some(v) => v.clone(),
        };
        match value {
            Value::Array(items) => {
                Ok(Some(items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect()))
            }
            _ => Err(ActionError::validation(format!("{key}: expected a JSON list such as [\"tags\"]"))),
        }
    }
}

fn params(raw: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Result<Params, ActionError> {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        map.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if !body.is_empty() {
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if form {
            for (k, v) in form_urlencoded::parse(body) {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => map.extend(o),
                _ => return Err(ActionError::bad_request("Bad request - JSON Error: the body must be a JSON object")),
            }
        }
    }
    Ok(Params(map))
}

/// An error raised before an action ran (a body over the limit, a
/// timeout), in CKAN's shape.
pub fn error_response(path: &str, status: StatusCode, message: String) -> Response {
    let action = path.rsplit('/').next().unwrap_or_default();
    envelope(action, Err(ActionError { status, kind: "Bad request", message }))
}

fn envelope(action: &str, result: Result<Value, ActionError>) -> Response {
    let help = format!("/api/3/action/help_show?name={action}");
    match result {
        Ok(result) => axum::Json(json!({"help": help, "success": true, "result": result})).into_response(),
        Err(e) => {
            let mut response = (
                e.status,
                axum::Json(json!({"help": help, "success": false, "error": {"__type": e.kind, "message": e.message}})),
            )
                .into_response();
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                response.headers_mut().insert(header::RETRY_AFTER, crate::store::RETRY_AFTER_SECONDS.into());
            }
            response
        }
    }
}

const WRITE_ACTIONS: &[&str] = &[
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "organization_create",
    "organization_update",
    "organization_patch",
];

pub fn router() -> Router<AppState> {
    Router::new().route("/api/3/action/{name}", get(call).post(call)).route("/api/action/{name}", get(call).post(call))
}

async fn call(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match params(raw.as_deref(), &headers, &body) {
        Ok(p) if WRITE_ACTIONS.contains(&name.as_str()) => super::write::run(&state, &name, &p, &headers).await,
        Ok(p) => run(&state, &name, &p).await,
        Err(e) => Err(e),
    };
    envelope(&name, result)
}

async fn organisations(state: &AppState) -> anyhow::Result<HashMap<String, Organisation>> {
    Ok(state.store.organisations().await?.into_iter().map(|o| (o.slug.to_string(), o)).collect())
}

/// An organisation by name (slug) or id.
async fn find_organisation(state: &AppState, id: &str) -> Result<Organisation, ActionError> {
    let orgs = state.store.organisations().await?;
    orgs.into_iter()
        .find(|o| o.slug.as_str() == id || o.id.to_string() == id)
        .ok_or_else(|| ActionError::not_found("Organization not found"))
}

/// A package by name (slug) or id.
pub async fn package_by_id(state: &AppState, id: &str) -> Result<Value, ActionError> {
    let slug = if uuid::Uuid::parse_str(id).is_ok() {
        state.search.with_index(|index| {
            index
                .live_docs()
                .map(|d| index.doc(d).slug.clone())
                .find(|s| crate::catalogue::Entry::id_for_slug(s).to_string() == id)
        })
    } else {
        Some(id.to_owned())
    };
    let entry = match slug {
        Some(s) => state.store.entry(&s).await?,
        None => None,
    };
    // An id that is not made from the slug (kept from an import) is looked up directly.
    let entry = match entry {
        Some(e) => e,
        None => state
            .store
            .entries()
            .await?
            .into_iter()
            .find(|e| e.id.to_string() == id)
            .ok_or_else(|| ActionError::not_found("Not found"))?,
    };
    let vocabularies = state.store.vocabularies().await?;
    let org = state.store.organisation(entry.owner.as_str()).await?;
    Ok(package(&entry, org.as_ref(), &vocabularies))
}

/// Most records one list request returns; a client pages through more
/// with `limit` and `offset`, so no request holds a whole national
/// catalogue in memory.
pub const LIST_MAX: usize = 1000;

/// A list's `limit` (at most [`LIST_MAX`]) and `offset`.
fn list_page(p: &Params, default: usize) -> Result<(usize, usize), ActionError> {
    let natural = |name: &str| -> Result<Option<usize>, ActionError> {
        match p.int(name)? {
            Some(n) if n < 0 => Err(ActionError::validation(format!("{name}: Must be a natural number"))),
            n => Ok(n.map(|n| usize::try_from(n).unwrap_or(usize::MAX))),
        }
    };
    let limit = natural("limit")?.unwrap_or(default).min(LIST_MAX);
    Ok((limit, natural("offset")?.unwrap_or(0)))
}

async fn run(state: &AppState, action: &str, p: &Params) -> Result<Value, ActionError> {
    match action {
        "status_show" => Ok(json!({
            "site_title": "Health and care interoperability standards directory",
            "site_description": "Standards and national APIs for health and social care in England",
            "site_url": "",
            "ckan_version": "2.10.0",
            "locale_default": "en_GB",
            "extensions": ["scheming_datasets", "pages"],
        })),
        "site_read" => Ok(json!(true)),
        "package_list" => {
            let (limit, offset) = list_page(p, LIST_MAX)?;
            let mut names = state.store.entry_slugs().await?;
            names.sort();
            Ok(json!(names.into_iter().skip(offset).take(limit).collect::<Vec<_>>()))
        }
        "current_package_list_with_resources" => {
            let (limit, offset) = list_page(p, 100)?;
            let vocabularies = state.store.vocabularies().await?;
            let orgs = organisations(state).await?;
            let entries = state.store.entries_updated(limit as i64, i64::try_from(offset).unwrap_or(i64::MAX)).await?;
            Ok(Value::from(
                entries.iter().map(|e| package(e, orgs.get(e.owner.as_str()), &vocabularies)).collect::<Vec<_>>(),
            ))
        }
        "package_show" => {
            let id =
                p.str("id").or_else(|| p.str("name")).ok_or_else(|| ActionError::validation("id: Missing value"))?;
            package_by_id(state, &id).await
        }
        "package_autocomplete" => {
            let q = p.str("q").unwrap_or_default();
            let limit = p.int("limit")?.unwrap_or(10).clamp(1, 100) as usize;
            let hits = state.search.suggest(&q);
            Ok(Value::from(
                hits.into_iter()
                    .take(limit)
                    .map(|h| json!({"name": h["slug"], "title": h["title"], "match_field": "title", "match_displayed": h["title"]}))
                    .collect::<Vec<_>>(),
            ))
        }
        "package_search" => package_search(state, p).await,
        "organization_list" => {
            let all_fields = p.bool("all_fields")?.unwrap_or(false);
            let (limit, offset) = list_page(p, LIST_MAX)?;
            let orgs: Vec<Organisation> =
                state.store.organisations().await?.into_iter().skip(offset).take(limit).collect();
            if all_fields {
                let counts = state.search.with_index(|index| {
                    let mut counts: HashMap<String, usize> = HashMap::new();
                    for d in index.live_docs() {
                        *counts.entry(index.doc(d).owner.clone()).or_default() += 1;
                    }
                    counts
                });
                Ok(Value::from(
                    orgs.iter()
                        .map(|o| {
                            let mut v = organization(o);
                            v["package_count"] = json!(counts.get(o.slug.as_str()).copied().unwrap_or(0));
                            v
                        })
                        .collect::<Vec<_>>(),
                ))
            } else {
                Ok(Value::from(orgs.iter().map(|o| Value::from(o.slug.to_string())).collect::<Vec<_>>()))
            }
        }
        "organization_show" => {
            let id = p.str("id").ok_or_else(|| ActionError::validation("id: Missing value"))?;
            let org = find_organisation(state, &id).await?;
            let mut v = organization(&org);
            let slugs: Vec<String> = state.search.with_index(|index| {
                let mut s: Vec<String> = index
                    .live_docs()
                    .filter(|&d| index.doc(d).owner == org.slug.as_str())
                    .map(|d| index.doc(d).slug.clone())
                    .collect();
                s.sort();
                s
            });
            v["package_count"] = json!(slugs.len());
            if p.bool("include_datasets")?.unwrap_or(false) {
                let vocabularies = state.store.vocabularies().await?;
                let mut packages = Vec::new();
                for slug in slugs.iter().take(1000) {
                    if let Some(e) = state.store.entry(slug).await? {
                        packages.push(package(&e, Some(&org), &vocabularies));
                    }
                }
                v["packages"] = Value::from(packages);
            }
            Ok(v)
        }
        "group_list" => Ok(json!([])),
        "tag_list" => {
            let query = p.str("query").map(|q| q.to_lowercase());
            let mut tags: Vec<String> = state.search.with_index(|index| {
                let mut t: Vec<String> = index.live_docs().flat_map(|d| index.doc(d).tags.clone()).collect();
                t.sort();
                t.dedup();
                t
            });
            if let Some(q) = query {
                tags.retain(|t| t.to_lowercase().contains(&q));
            }
            let (limit, offset) = list_page(p, LIST_MAX)?;
            Ok(json!(tags.into_iter().skip(offset).take(limit).collect::<Vec<_>>()))
        }
        "license_list" => {
            let (limit, offset) = list_page(p, LIST_MAX)?;
            let licences = state.store.licences().await?;
            Ok(Value::from(
                licences
                    .into_iter()
                    .skip(offset)
                    .take(limit)
                    .map(|l| json!({"id": l, "title": l, "status": "active", "url": ""}))
                    .collect::<Vec<_>>(),
            ))
        }
        "scheming_dataset_schema_show" => {
            let kind = p.str("type").unwrap_or_else(|| "dataset".into());
            if kind != "dataset" {
                return Err(ActionError::not_found(format!("Schema not found: {kind}")));
            }
            let vocabularies = state.store.vocabularies().await?;
            Ok(super::schema::dataset_schema(&vocabularies))
        }
        "ckanext_pages_list" => {
            // ckanext-pages: `page_type` page (the default) or blog; this
            // directory has no blog posts.
            let page_type = p.str("page_type").unwrap_or_else(|| "page".to_owned());
            if page_type == "blog" {
                return Ok(json!([]));
            }
            let pages = all_pages(state).await?;
            Ok(Value::Array(pages.iter().map(|(kind, page)| page_dict(*kind, page)).collect()))
        }
        "ckanext_pages_show" => {
            let name = p.str("page").or_else(|| p.str("name")).unwrap_or_default();
            let pages = all_pages(state).await?;
            match pages.iter().find(|(_, page)| page.slug.as_str() == name) {
                Some((kind, page)) => Ok(page_dict(*kind, page)),
                None => Err(ActionError::not_found(format!("Page not found: {name}"))),
            }
        }
        other => Err(ActionError::bad_request(format!("Bad request - Action name not known: {other}"))),
    }
}

/// Status labels for facets.
pub fn status_label(slug: &str) -> String {
    Status::parse(slug).map_or(slug.to_owned(), |s| s.label().to_owned())
}

/// Vocabulary labels for facets.
pub fn term_label(vocabularies: &crate::catalogue::Vocabularies, vocabulary: Vocabulary, slug: &str) -> String {
    vocabularies.term(vocabulary, slug).map_or(slug.to_owned(), |t| t.label.clone())
}

/// Guides, then site pages: the directory's editable pages.
async fn all_pages(state: &AppState) -> anyhow::Result<Vec<(crate::catalogue::PageKind, crate::catalogue::Page)>> {
    let mut out = Vec::new();
    for kind in [crate::catalogue::PageKind::Guide, crate::catalogue::PageKind::Page] {
        out.extend(state.store.pages(kind).await?.into_iter().map(|p| (kind, p)));
    }
    Ok(out)
}

/// A page as ckanext-pages shows it: `content` is sanitised HTML, and the
/// Markdown source is kept beside it.
fn page_dict(kind: crate::catalogue::PageKind, page: &crate::catalogue::Page) -> Value {
    let modified = page.updated_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string());
    let url = match kind {
        crate::catalogue::PageKind::Guide => format!("/guides/{}", page.slug),
        crate::catalogue::PageKind::Page => format!("/{}", page.slug),
    };
    json!({
        "id": crate::catalogue::Entry::id_for_slug(&format!("{}/{}", kind.as_str(), page.slug)).to_string(),
        "name": page.slug,
        "title": page.title,
        "content": crate::markdown::render(&page.body),
        "content_markdown": page.body,
        "page_type": "page",
        "private": false,
        "order": page.order.to_string(),
        "publish_date": modified,
        "created": modified,
        "modified": modified,
        "user_id": null,
        "group_id": null,
        "image_url": "",
        "extras": {"kind": kind.as_str(), "summary": page.summary, "url": url},
    })
}
