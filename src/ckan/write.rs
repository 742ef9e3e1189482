//! CKAN's write actions, with an API token in the `Authorization` header.
//! They go through the same checks and the same single write path as an
//! import, and the search index follows at once.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::actions::{ActionError, Params, package_by_id};
use crate::api::AppState;
use crate::import::{self, Location, RawCatalogue};
use crate::store::{ChangeSet, Principal, Role, WriteError};

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

/// The one rule for catalogue writes through the API. Publishers'
/// changes need editorial review, which this directory does not have
/// yet, so for now only editors and administrators write here.
pub fn may_write(who: &Principal, action: &str) -> Result<(), ActionError> {
    match (who.role, action) {
        (Role::Admin, _) => Ok(()),
        (Role::Editor, "organization_create") => {
            Err(forbidden("Access denied: only administrators create organisations"))
        }
        (Role::Editor, _) => Ok(()),
        (Role::Publisher, _) => Err(forbidden(
            "Access denied: publishers' changes go through editorial review, which is not available through this API yet",
        )),
    }
}

fn validation(problems: Vec<import::Problem>) -> ActionError {
    let text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    ActionError::validation(text)
}

async fn apply(state: &AppState, set: &ChangeSet, who: &Principal) -> Result<(), ActionError> {
    match state.store.apply(set, &who.email, false, None).await {
        Ok(_) => {}
        Err(WriteError::Database(e)) => return Err(e.into()),
        Err(e) => return Err(ActionError::validation(e.to_string())),
    }
    state.after_write().await?;
    Ok(())
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
    may_write(&who, action)?;
    match action {
        "package_create" => {
            let name = p.str("name").ok_or_else(|| ActionError::validation("name: Missing value"))?;
            if state.store.entry(&name).await?.is_some() {
                return Err(ActionError::validation("name: That URL is already in use."));
            }
            let set = plan_entry(state, Map::new(), &p.0).await?;
            apply(state, &set, &who).await?;
            package_by_id(state, &name).await
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
            let slug = params.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let set = plan_entry(state, base, &params).await?;
            apply(state, &set, &who).await?;
            package_by_id(state, &slug).await
        }
        "package_delete" => {
            let id = name_of(p)?;
            let package = package_by_id(state, &id).await?;
            let slug = crate::catalogue::Slug::parse(package["name"].as_str().unwrap_or_default())
                .map_err(ActionError::validation)?;
            let set = ChangeSet { delete_entries: vec![slug], ..ChangeSet::default() };
            apply(state, &set, &who).await?;
            Ok(Value::Null)
        }
        "organization_create" => {
            let mut raw = RawCatalogue::default();
            raw.organisations.push((Location::Path("organization".into()), import::ckan::organisation(&p.0)));
            let name = p.str("name").unwrap_or_default();
            if state.store.organisation(&name).await?.is_some() {
                return Err(ActionError::validation("name: Group name already exists in database"));
            }
            let set = import::plan(&state.store, raw).await?.map_err(validation)?;
            apply(state, &set, &who).await?;
            let org = state
                .store
                .organisation(&name)
                .await?
                .ok_or_else(|| ActionError::not_found("Organization not found"))?;
            Ok(super::package::organization(&org))
        }
        other => Err(ActionError::validation(format!("{other} is not a write action"))),
    }
}
