//! CKAN's write actions, with an API token in the `Authorization` header.
//! They go through the same checks and the same single write path as an
//! import, and the search index follows at once.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::actions::{ActionError, Params, package_by_id};
use crate::app::AppState;
use crate::auth::{Grant, Permission};
use crate::editing;
use crate::import::{self, Location, RawCatalogue};
use crate::store::{ChangeSet, Principal};

fn forbidden(message: impl Into<String>) -> ActionError {
    ActionError { status: StatusCode::FORBIDDEN, kind: "Authorization Error", message: message.into() }
}

/// The token's owner, or a 403 as CKAN answers a missing or bad key.
pub async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, ActionError> {
    let raw = headers
        .get("authorization")
        .or_else(|| headers.get("x-ckan-api-key"))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches("Bearer ").trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| forbidden("Access denied: an API token is required in the Authorization header"))?;
    state
        .store
        .authenticate(&raw)
        .await?
        .ok_or_else(|| forbidden("Access denied: the API token is not valid, or has expired or been revoked"))
}

/// Asks the directory's one authorisation rule; a refusal is audited (as
/// `CKAN {action}`) and answered as CKAN answers (403 Authorization Error).
async fn allow(state: &AppState, who: &Principal, what: Permission<'_>, action: &str) -> Result<Grant, ActionError> {
    Ok(editing::allow(state, Some(who), what, &format!("CKAN {action}")).await?)
}

/// Publishes the planned entry, or (for a publisher) saves it as a draft
/// for review; answers the package as CKAN would, a draft with
/// `state: draft`.
async fn write_package(state: &AppState, who: &Principal, set: ChangeSet, action: &str) -> Result<Value, ActionError> {
    let entry = set.entries.first().cloned().ok_or_else(|| ActionError::validation("no package in the request"))?;
    let existing = state.store.entry(entry.slug.as_str()).await?;
    let old_owner = existing.as_ref().map(|e| e.owner.as_str());
    match editing::may_change(state, who, old_owner, entry.owner.as_str(), &format!("CKAN {action}")).await? {
        Grant::Publish => {
            editing::apply(state, &set, who).await?;
            package_by_id(state, entry.slug.as_str()).await
        }
        Grant::Draft => {
            let revision = editing::save_draft(state, &entry, who).await?;
            let vocabularies = state.store.vocabularies().await?;
            let org = state.store.organisation(entry.owner.as_str()).await?;
            let mut package = super::package::package(&entry, org.as_ref(), &vocabularies);
            package["state"] = Value::from("draft");
            package["revision_id"] = Value::from(revision.id);
            Ok(package)
        }
    }
}

fn validation(problems: Vec<import::Problem>) -> ActionError {
    let text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    ActionError::validation(text)
}

/// Plans writing an entry made of `base` (entry fields) with the write's
/// parameters laid over it.
async fn plan_entry(
    state: &AppState,
    base: Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<ChangeSet, ActionError> {
    let mut entry = base;
    for (k, v) in import::ckan::overlay(params) {
        entry.insert(k, v);
    }
    // `owner_org` may be the organisation's id: the entry names its slug.
    if let Some(owner) = entry.get("owner").and_then(Value::as_str).map(str::to_owned) {
        let orgs = state.store.organisations().await?;
        if let Some(org) = orgs.iter().find(|o| o.id.to_string() == owner) {
            entry.insert("owner".into(), Value::from(org.slug.to_string()));
        }
    }
    entry.entry("type").or_insert_with(|| Value::from("standard"));
    let mut raw = RawCatalogue::default();
    raw.entries.push((Location::Path("package".into()), entry));
    import::plan(&state.store, raw).await?.map_err(validation)
}

fn name_of(p: &Params) -> Result<String, ActionError> {
    p.str("id").or_else(|| p.str("name")).ok_or_else(|| ActionError::validation("id: Missing value"))
}

pub async fn run(state: &AppState, action: &str, p: &Params, headers: &HeaderMap) -> Result<Value, ActionError> {
    let who = principal(state, headers).await?;
    match action {
        "package_create" => {
            let name = p.str("name").ok_or_else(|| ActionError::validation("name: Missing value"))?;
            if state.store.entry(&name).await?.is_some() {
                return Err(ActionError::validation("name: That URL is already in use."));
            }
            let set = plan_entry(state, Map::new(), &p.0).await?;
            write_package(state, &who, set, action).await
        }
        "package_update" | "package_patch" => {
            let id = name_of(p)?;
            let current = package_by_id(state, &id).await?;
            let current = current.as_object().cloned().unwrap_or_default();
            let name = current.get("name").cloned().unwrap_or_default();
            // A patch changes only the fields it gives; an update replaces
            // the package, keeping only its name and id.
            let base = if action == "package_patch" {
                import::ckan::package_to_entry(&current)
            } else {
                let mut base = Map::new();
                base.insert("slug".into(), name.clone());
                base
            };
            let mut params = p.0.clone();
            params.remove("id");
            params.entry("name").or_insert(name);
            let set = plan_entry(state, base, &params).await?;
            write_package(state, &who, set, action).await
        }
        "package_delete" => {
            allow(state, &who, Permission::DeleteEntry, action).await?;
            let id = name_of(p)?;
            let package = package_by_id(state, &id).await?;
            let slug = crate::catalogue::Slug::parse(package["name"].as_str().unwrap_or_default())
                .map_err(ActionError::validation)?;
            let set = ChangeSet { delete_entries: vec![slug], ..ChangeSet::default() };
            editing::apply(state, &set, &who).await?;
            Ok(Value::Null)
        }
        "organization_create" => {
            allow(state, &who, Permission::ManageOrganisations, action).await?;
            let mut raw = RawCatalogue::default();
            raw.organisations.push((Location::Path("organization".into()), import::ckan::organisation(&p.0)));
            let name = p.str("name").unwrap_or_default();
            if state.store.organisation(&name).await?.is_some() {
                return Err(ActionError::validation("name: Group name already exists in database"));
            }
            let set = import::plan(&state.store, raw).await?.map_err(validation)?;
            editing::apply(state, &set, &who).await?;
            let org = state
                .store
                .organisation(&name)
                .await?
                .ok_or_else(|| ActionError::not_found("Organization not found"))?;
            Ok(super::package::organization(&org))
        }
        "organization_update" | "organization_patch" => {
            allow(state, &who, Permission::ManageOrganisations, action).await?;
            let id = name_of(p)?;
            let current =
                state.store.organisation(&id).await?.ok_or_else(|| ActionError::not_found("Organization not found"))?;
            if p.str("name").is_some_and(|n| n != current.slug.as_str()) && p.str("id").is_some() {
                return Err(ActionError::validation("name: an organization's name does not change here"));
            }
            let mut given = import::ckan::organisation(&p.0);
            if !p.0.contains_key("kind") {
                given.remove("kind");
            }
            // A patch changes the fields it gives; an update replaces the
            // organization, keeping its name and (unless given) its kind.
            let mut document = if action == "organization_patch" {
                match serde_json::to_value(&current).map_err(anyhow::Error::from)? {
                    Value::Object(map) => editing::writable(map),
                    _ => Map::new(),
                }
            } else {
                let mut base = Map::new();
                base.insert("kind".into(), Value::String(current.kind.clone()));
                base
            };
            document.extend(given);
            document.insert("slug".into(), Value::String(current.slug.to_string()));
            let mut raw = RawCatalogue::default();
            raw.organisations.push((Location::Path("organization".into()), document));
            let set = import::plan(&state.store, raw).await?.map_err(validation)?;
            editing::apply(state, &set, &who).await?;
            let org = state
                .store
                .organisation(current.slug.as_str())
                .await?
                .ok_or_else(|| ActionError::not_found("Organization not found"))?;
            Ok(super::package::organization(&org))
        }
        other => Err(ActionError::validation(format!("{other} is not a write action"))),
    }
}
