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

use super::problem::InvalidParam;
use super::{AppState, Problem};
use crate::auth::{Grant, Permission, Refusal, authorise};
use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind};
use crate::catalogue::{Entry, Slug};
use crate::import::{self, Location, RawCatalogue};
use crate::query::Params;
use crate::store::{ChangeSet, Principal, Revision, RevisionState, WriteError};

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

/// A refusal as a problem: 401 or 403, audited.
pub async fn refusal(state: &AppState, who: Option<&Principal>, refusal: Refusal, what: &str) -> Problem {
    let actor = who.map_or("-", |w| w.email.as_str());
    let _ = state
        .store
        .audit(actor, "permission-refused", "refused", &format!("{what}: {}", refusal.message()), None)
        .await;
    match refusal {
        Refusal::SignInNeeded => {
            Problem::new(StatusCode::UNAUTHORIZED, "unauthorised", "Credentials needed", refusal.message())
        }
        Refusal::Forbidden(why) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", why),
    }
}

pub(crate) async fn allow(
    state: &AppState,
    who: Option<&Principal>,
    what: Permission<'_>,
    doing: &str,
) -> Result<Grant, Problem> {
    match authorise(who, what) {
        Ok(grant) => Ok(grant),
        Err(r) => Err(refusal(state, who, r, doing).await),
    }
}

pub(crate) fn unprocessable(problems: Vec<import::Problem>) -> Problem {
    let invalid: Vec<InvalidParam> = problems
        .iter()
        .map(|p| InvalidParam {
            name: p.column.clone().unwrap_or_else(|| "(entry)".into()),
            value: p.value.clone().unwrap_or_default(),
            reason: p.expected.clone(),
        })
        .collect();
    let detail = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    Problem {
        invalid_params: invalid,
        ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-entry", "The entry is not valid", detail)
    }
}

/// Checks an entry document as an import would (every field, links to
/// existing entries), without writing.
pub async fn check_entry(state: &AppState, document: Map<String, Value>) -> Result<Entry, Problem> {
    let raw = RawCatalogue { entries: vec![(Location::Path("body".into()), document)], ..RawCatalogue::default() };
    match import::plan(&state.store, raw).await? {
        Ok(mut set) if set.entries.len() == 1 => Ok(set.entries.remove(0)),
        Ok(_) => Err(Problem::internal("an entry document planned as other than one entry")),
        Err(problems) => Err(unprocessable(problems)),
    }
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

/// The entry fields of a document as `GET /api/v1/standards/{slug}`
/// returns it (times and ids are the store's).
pub fn writable(mut map: Map<String, Value>) -> Map<String, Value> {
    for key in ["id", "created_at", "updated_at"] {
        map.remove(key);
    }
    map
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

/// Saves a checked entry as the author's draft of it, for review.
pub async fn save_draft(state: &AppState, entry: &Entry, who: &Principal) -> Result<Revision, WriteError> {
    let document = Value::Object(writable(entry.to_json()));
    state.store.save_draft(entry.slug.as_str(), entry.owner.as_str(), &document, &who.email).await
}

/// Applies a change set as this person and brings the search index up to
/// date; a refused write is a 409.
pub async fn apply(state: &AppState, set: &ChangeSet, who: &Principal) -> Result<(), Problem> {
    state.store.apply(set, &who.email, false, None).await?;
    state.after_write().await?;
    Ok(())
}

/// What publishing a revision publishes: its document, with the changes
/// made to the published entry since the revision started kept where the
/// revision left those fields alone (a three-way merge over the fields).
pub struct Merge {
    pub document: Map<String, Value>,
    /// Fields changed in the published entry meanwhile, which publishing keeps.
    pub kept: Vec<&'static str>,
    /// Fields both changed, differently; the revision's value wins.
    pub conflicts: Vec<&'static str>,
}

/// Empty text, an empty list, null and absence all mean "no value".
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let blank = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    };
    (blank(a) && blank(b)) || a == b
}

pub async fn merge_for_publishing(state: &AppState, revision: &Revision) -> anyhow::Result<Merge> {
    let draft = revision.document.as_object().cloned().unwrap_or_default();
    let mut merge = Merge { document: draft.clone(), kept: Vec::new(), conflicts: Vec::new() };
    let Some(base_seq) = revision.base_seq else { return Ok(merge) };
    let Some(published) = state.store.entry(&revision.entry).await? else { return Ok(merge) };
    let changes = state.store.changes_of("entry", &published.id.to_string()).await?;
    if changes.iter().all(|c| c.seq <= base_seq) {
        return Ok(merge);
    }
    let Some(Value::Object(base)) = changes.iter().find(|c| c.seq == base_seq).and_then(|c| c.after.clone()) else {
        return Ok(merge);
    };
    let current = writable(published.to_json());
    for spec in ENTRY_FIELDS.iter().filter(|f| !matches!(f.kind, FieldKind::Id | FieldKind::Timestamp)) {
        let name = spec.name;
        let (b, c, d) = (base.get(name), current.get(name), draft.get(name));
        if same(c, b) {
            continue;
        }
        if same(d, b) {
            match c {
                Some(v) => merge.document.insert(name.to_owned(), v.clone()),
                None => merge.document.remove(name),
            };
            merge.kept.push(name);
        } else if !same(d, c) {
            merge.conflicts.push(name);
        }
    }
    Ok(merge)
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    let who = required(&state, who, "POST /api/v1/standards").await?;
    let document = writable(body_object(&body)?);
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
    let grant =
        allow(&state, Some(&who), Permission::WriteEntry { owner: entry.owner.as_str() }, "POST /api/v1/standards")
            .await?;
    write_entry(&state, &who, grant, entry, true, None).await
}

/// Who may change an existing entry: its owner's publishers, and (when it
/// moves) the new owner's too.
async fn may_change(
    state: &AppState,
    who: &Principal,
    old_owner: Option<&str>,
    new_owner: &str,
    doing: &str,
) -> Result<Grant, Problem> {
    if let Some(old) = old_owner
        && old != new_owner
    {
        allow(state, Some(who), Permission::WriteEntry { owner: old }, doing).await?;
    }
    allow(state, Some(who), Permission::WriteEntry { owner: new_owner }, doing).await
}

/// `PUT /api/v1/standards/{slug}`: the whole entry, created or replaced.
pub async fn replace(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    let doing = format!("PUT /api/v1/standards/{slug}");
    let who = required(&state, who, &doing).await?;
    let mut document = writable(body_object(&body)?);
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    let doing = format!("PATCH /api/v1/standards/{slug}");
    let who = required(&state, who, &doing).await?;
    let changes = writable(body_object(&body)?);
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    let doing = format!("DELETE /api/v1/standards/{slug}");
    allow(&state, who.as_ref(), Permission::DeleteEntry, &doing).await?;
    let Ok(parsed) = Slug::parse(&slug) else { return Err(Problem::not_found(format!("There is no entry `{slug}`."))) };
    if state.store.entry(&slug).await?.is_none() {
        return Err(Problem::not_found(format!("There is no entry with the slug `{slug}`.")));
    }
    let set = ChangeSet { delete_entries: vec![parsed], ..ChangeSet::default() };
    apply(&state, &set, who.as_ref().expect("allowed")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/revisions`: drafts and submissions the caller may see
/// (editors: all; publishers: their organisation's), by `state`, `entry`.
pub async fn revisions(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
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

async fn visible_revision(
    state: &AppState,
    who: Option<&Principal>,
    id: &str,
    doing: &str,
) -> Result<Revision, Problem> {
    let revision =
        state.store.revision(id).await?.ok_or_else(|| Problem::not_found(format!("There is no revision `{id}`.")))?;
    allow(state, who, Permission::SeeDrafts { owner: &revision.organisation }, doing).await?;
    Ok(revision)
}

pub async fn revision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    let revision = visible_revision(&state, who.as_ref(), &id, &format!("GET /api/v1/revisions/{id}")).await?;
    Ok(Json(revision_json(&revision)).into_response())
}

/// What can happen to a revision, and who may do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Withdraw,
    RequestChanges,
    Publish,
}

impl Step {
    pub fn parse(text: &str) -> Option<Step> {
        match text {
            "submit" => Some(Step::Submit),
            "withdraw" => Some(Step::Withdraw),
            "request-changes" => Some(Step::RequestChanges),
            "publish" => Some(Step::Publish),
            _ => None,
        }
    }
}

/// Takes a workflow step on a revision; the one implementation behind the
/// API and the website's buttons.
pub async fn take_step(
    state: &AppState,
    who: Option<&Principal>,
    id: &str,
    step: Step,
    comment: Option<&str>,
) -> Result<Revision, Problem> {
    let doing = format!("{step:?} revision {id}");
    let revision = visible_revision(state, who, id, &doing).await?;
    use RevisionState::*;
    let (from, to): (&[RevisionState], RevisionState) = match step {
        Step::Submit => {
            allow(state, who, Permission::SubmitDraft { owner: &revision.organisation }, &doing).await?;
            (&[Draft, ChangesRequested], Submitted)
        }
        Step::Withdraw => {
            allow(state, who, Permission::SubmitDraft { owner: &revision.organisation }, &doing).await?;
            (&[Draft, Submitted, ChangesRequested], Withdrawn)
        }
        Step::RequestChanges => {
            allow(state, who, Permission::Review, &doing).await?;
            if comment.is_none_or(|c| c.trim().is_empty()) {
                return Err(unprocessable(vec![import::Problem {
                    location: None,
                    column: Some("comment".into()),
                    value: None,
                    expected: "a comment saying what to change".into(),
                }]));
            }
            (&[Submitted], ChangesRequested)
        }
        Step::Publish => {
            allow(state, who, Permission::Review, &doing).await?;
            if revision.state != Submitted && revision.state != Draft {
                return Err(wrong_state(&revision, step));
            }
            let merged = merge_for_publishing(state, &revision).await?;
            let entry = check_entry(state, merged.document).await?;
            let who = who.expect("allowed");
            let set = ChangeSet {
                entries: vec![entry],
                published_revisions: vec![revision.id.clone()],
                ..ChangeSet::default()
            };
            apply(state, &set, who).await?;
            return Ok(state.store.revision(id).await?.unwrap_or(revision));
        }
    };
    let actor = who.map_or("-", |w| w.email.as_str());
    match state.store.move_revision(id, from, to, actor, comment).await? {
        Ok(r) => Ok(r),
        Err(_) => Err(wrong_state(&revision, step)),
    }
}

fn wrong_state(revision: &Revision, step: Step) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "wrong-state",
        "Not possible in this state",
        format!("Revision {} is {}; it cannot be given the step {step:?} now.", revision.id, revision.state.label()),
    )
}

/// `POST /api/v1/revisions/{id}/{step}` with an optional JSON body
/// `{"comment": "..."}`.
pub async fn step(
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
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
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = bearer(&state, &headers, &method, &uri).await?;
    allow(&state, who.as_ref(), Permission::ViewAudit, "GET /api/v1/audit").await?;
    let mut params = Params::parse(raw.as_deref(), &["event", "actor", "limit", "format"]);
    let limit = params.number("limit", 500, 1, 100_000);
    let event = params.one("event").map(str::to_owned);
    let actor = params.one("actor").map(str::to_owned);
    let csv = params.one("format") == Some("csv");
    params.finish()?;
    let events = state.store.audit_events(event.as_deref(), actor.as_deref(), i64::from(limit)).await?;
    if csv {
        return Ok(audit_csv(&events)?);
    }
    Ok(Json(json!({"total": events.len(), "results": events})).into_response())
}

/// The audit log as a CSV download, for the API and the audit page alike.
pub fn audit_csv(events: &[crate::store::AuditEvent]) -> anyhow::Result<Response> {
    let mut out = crate::export::csv_writer::CsvWriter::new(Vec::new());
    out.row(["seq", "at", "actor", "event", "outcome", "detail", "address", "source", "repeats"])?;
    for e in events {
        let (seq, repeats) = (e.seq.to_string(), e.repeats.to_string());
        let address = e.address.as_deref().unwrap_or("");
        out.row([seq.as_str(), &e.at, &e.actor, &e.event, &e.outcome, &e.detail, address, e.source, &repeats])?;
    }
    let bytes = out.finish()?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        bytes,
    )
        .into_response())
}
