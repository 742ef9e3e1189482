//! Writing through the JSON API with a bearer token: entries (POST, PUT,
//! PATCH, DELETE) and the review workflow (revisions: submit, publish,
//! request changes). Editors' and administrators' writes publish at once;
//! a publisher's write makes a draft the public cannot see until an
//! editor publishes it. The rules are `auth::authorise`'s.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::caller::{Caller, JsonObject, SignedIn};
use super::{AppState, Problem};
use crate::auth::{Grant, Permission, Refusal, authorise};
use crate::catalogue::{Entry, Slug};
use crate::editing::{
    self, Step, allow, apply, check_entry, may_change, save_draft, take_step, visible_revision, writable,
};
use crate::query::Params;
use crate::store::{ChangeSet, Principal, Revision, RevisionState};

/// A refusal as a problem: 401 or 403, audited.
pub async fn refusal(state: &AppState, who: Option<&Principal>, refusal: Refusal, what: &str) -> Problem {
    editing::refuse(state, who, refusal, what).await.into()
}

/// The bearer token's owner: none without a token; 401 for a token that
/// is not (or no longer) valid. Each use is audited.
pub async fn bearer(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
) -> Result<Option<Principal>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let token = value.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    let what = format!("{method} {}", uri.path());
    match state.store.authenticate(token).await? {
        Some(who) => {
            state
                .store
                .audit(&who.email, "token-used", "ok", &format!("{what} (token {})", who.token_id), None)
                .await?;
            Ok(Some(who))
        }
        None => {
            state.store.audit("-", "token-refused", "refused", &what, None).await?;
            Err(refusal(state, None, Refusal::SignInNeeded, &what).await)
        }
    }
}

/// The caller, or an audited 401 when there are no credentials.
pub(crate) async fn required(state: &AppState, who: Option<Principal>, doing: &str) -> Result<Principal, Problem> {
    match who {
        Some(who) => Ok(who),
        None => Err(refusal(state, None, Refusal::SignInNeeded, doing).await),
    }
}

pub(crate) fn slug_mismatch(detail: String) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "slug-mismatch", "Slug differs", detail)
}

pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Invalid body",
            "Send one record as a JSON object.",
        )),
        Err(e) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Invalid body",
            format!("The body is not JSON: {e}."),
        )),
    }
}

/// Publishes or drafts a checked entry, as the grant says.
async fn write_entry(
    state: &AppState,
    who: &Principal,
    grant: Grant,
    entry: Entry,
    created: bool,
    revision: Option<String>,
) -> Result<Response, Problem> {
    match grant {
        Grant::Publish => {
            let set = ChangeSet {
                entries: vec![entry.clone()],
                published_revisions: revision.into_iter().collect(),
                ..ChangeSet::default()
            };
            apply(state, &set, who).await?;
            let saved =
                state.store.entry(entry.slug.as_str()).await?.ok_or_else(|| Problem::internal("entry vanished"))?;
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            let mut response = (status, Json(saved)).into_response();
            let location = format!("/api/v1/standards/{}", entry.slug);
            response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("slug is ASCII"));
            Ok(response)
        }
        Grant::Draft => {
            let revision = save_draft(state, &entry, who).await?;
            Ok(revision_response(StatusCode::ACCEPTED, &revision))
        }
    }
}

fn revision_response(status: StatusCode, revision: &Revision) -> Response {
    let mut response = (status, Json(revision_json(revision))).into_response();
    let location = format!("/api/v1/revisions/{}", revision.id);
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("uuid is ASCII"));
    response
}

pub fn revision_json(r: &Revision) -> Value {
    json!({
        "id": r.id, "entry": r.entry, "number": r.number, "state": r.state.as_str(), "organisation": r.organisation,
        "author": r.author, "comment": r.comment, "reviewer": r.reviewer, "created_at": r.created_at,
        "updated_at": r.updated_at, "document": r.document, "base_seq": r.base_seq,
    })
}

/// `POST /api/v1/standards`: a new entry.
pub async fn create(
    State(state): State<AppState>,
    SignedIn { who, doing }: SignedIn,
    JsonObject(body): JsonObject,
) -> Result<Response, Problem> {
    let document = writable(body);
    let slug = document.get("slug").and_then(Value::as_str).unwrap_or("").to_owned();
    if !slug.is_empty() && state.store.entry(&slug).await?.is_some() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "exists",
            "Entry exists",
            format!("There is already an entry `{slug}`: change it with PUT or PATCH /api/v1/standards/{slug}."),
        ));
    }
    let entry = check_entry(&state, document).await?;
    let grant = allow(&state, Some(&who), Permission::WriteEntry { owner: entry.owner.as_str() }, &doing).await?;
    write_entry(&state, &who, grant, entry, true, None).await
}

/// `PUT /api/v1/standards/{slug}`: the whole entry, created or replaced.
pub async fn replace(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedIn { who, doing }: SignedIn,
    JsonObject(body): JsonObject,
) -> Result<Response, Problem> {
    let mut document = writable(body);
    match document.get("slug").and_then(Value::as_str) {
        Some(s) if s != slug => {
            return Err(slug_mismatch(format!(
                "The body's slug `{s}` is not the address's `{slug}`; a slug does not change."
            )));
        }
        _ => {
            document.insert("slug".into(), Value::String(slug.clone()));
        }
    }
    let existing = state.store.entry(&slug).await?;
    let entry = check_entry(&state, document).await?;
    let grant =
        may_change(&state, &who, existing.as_ref().map(|e| e.owner.as_str()), entry.owner.as_str(), &doing).await?;
    write_entry(&state, &who, grant, entry, existing.is_none(), None).await
}

/// `PATCH /api/v1/standards/{slug}`: the given fields over the entry (for
/// a publisher, over their open draft when there is one).
pub async fn patch(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedIn { who, doing }: SignedIn,
    JsonObject(body): JsonObject,
) -> Result<Response, Problem> {
    let changes = writable(body);
    if changes.get("slug").and_then(Value::as_str).is_some_and(|s| s != slug) {
        return Err(slug_mismatch("A slug does not change.".to_owned()));
    }
    let published = state.store.entry(&slug).await?;
    let draft = state.store.revisions(None, Some(&slug), None).await?.into_iter().find(|r| r.state.is_open());
    let base = match (&draft, &published) {
        (Some(d), _)
            if authorise(Some(&who), Permission::WriteEntry { owner: &d.organisation }) == Ok(Grant::Draft) =>
        {
            d.document.as_object().cloned().unwrap_or_default()
        }
        (_, Some(e)) => writable(e.to_json()),
        (Some(_), None) | (None, None) => {
            return Err(Problem::not_found(format!("There is no entry with the slug `{slug}`.")));
        }
    };
    let mut document = base;
    for (k, v) in changes {
        document.insert(k, v);
    }
    let entry = check_entry(&state, document).await?;
    let grant =
        may_change(&state, &who, published.as_ref().map(|e| e.owner.as_str()), entry.owner.as_str(), &doing).await?;
    write_entry(&state, &who, grant, entry, false, None).await
}

/// `DELETE /api/v1/standards/{slug}`: editors and administrators.
pub async fn delete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedIn { who, doing }: SignedIn,
) -> Result<Response, Problem> {
    allow(&state, Some(&who), Permission::DeleteEntry, &doing).await?;
    let Ok(parsed) = Slug::parse(&slug) else { return Err(Problem::not_found(format!("There is no entry `{slug}`."))) };
    if state.store.entry(&slug).await?.is_none() {
        return Err(Problem::not_found(format!("There is no entry with the slug `{slug}`.")));
    }
    let set = ChangeSet { delete_entries: vec![parsed], ..ChangeSet::default() };
    apply(&state, &set, &who).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/revisions`: drafts and submissions the caller may see
/// (editors: all; publishers: their organisation's), by `state`, `entry`.
pub async fn revisions(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    Caller { who, .. }: Caller,
) -> Result<Response, Problem> {
    let mut params = Params::parse(raw.as_deref(), &["state", "entry"]);
    let wanted = params.each("state", |v| {
        RevisionState::parse(v).ok_or_else(|| "one of draft, submitted, changes-requested, published, withdrawn".into())
    });
    let entry = params.one("entry").map(str::to_owned);
    params.finish()?;
    let organisation = match authorise(who.as_ref(), Permission::Review) {
        Ok(_) => None,
        Err(Refusal::SignInNeeded) => {
            return Err(refusal(&state, None, Refusal::SignInNeeded, "GET /api/v1/revisions").await);
        }
        Err(_) => match who.as_ref().and_then(|w| w.organisation.clone()) {
            Some(org) => Some(org),
            None => {
                return Err(refusal(
                    &state,
                    who.as_ref(),
                    Refusal::Forbidden("No organisation.".into()),
                    "GET /api/v1/revisions",
                )
                .await);
            }
        },
    };
    let list = state.store.revisions(wanted.last().copied(), entry.as_deref(), organisation.as_deref()).await?;
    Ok(Json(json!({"total": list.len(), "results": list.iter().map(revision_json).collect::<Vec<_>>()}))
        .into_response())
}

pub async fn revision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Caller { who, .. }: Caller,
) -> Result<Response, Problem> {
    let revision = visible_revision(&state, who.as_ref(), &id, &format!("GET /api/v1/revisions/{id}")).await?;
    Ok(Json(revision_json(&revision)).into_response())
}

/// `POST /api/v1/revisions/{id}/{step}` with an optional JSON body
/// `{"comment": "..."}`.
pub async fn step(
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    Caller { who, .. }: Caller,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let Some(step) = Step::parse(&step) else {
        return Err(Problem::not_found("The steps are submit, withdraw, request-changes and publish."));
    };
    let comment = if body.is_empty() {
        None
    } else {
        body_object(&body)?.get("comment").and_then(Value::as_str).map(str::to_owned)
    };
    let revision = take_step(&state, who.as_ref(), &id, step, comment.as_deref()).await?;
    Ok(Json(revision_json(&revision)).into_response())
}

/// `GET /api/v1/audit`: administrators; `event`, `actor`, `limit`, and
/// `format=csv` for a spreadsheet.
pub async fn audit(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    Caller { who, .. }: Caller,
) -> Result<Response, Problem> {
    allow(&state, who.as_ref(), Permission::ViewAudit, "GET /api/v1/audit").await?;
    let mut params = Params::parse(raw.as_deref(), &["event", "actor", "limit", "format"]);
    let limit = params.number("limit", 500, 1, 100_000);
    let event = params.one("event").map(str::to_owned);
    let actor = params.one("actor").map(str::to_owned);
    let csv = params.one("format") == Some("csv");
    params.finish()?;
    let events = state.store.audit_events(event.as_deref(), actor.as_deref(), i64::from(limit)).await?;
    if csv {
        return Ok(crate::export::audit_csv(&events)?);
    }
    Ok(Json(json!({"total": events.len(), "results": events})).into_response())
}
