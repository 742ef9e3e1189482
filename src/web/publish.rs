//! Editing in the browser: the dashboard (drafts and the review queue),
//! entry forms with every field, revisions with their differences and
//! workflow buttons, entry history with restore, and the audit log. Every
//! action goes through the same authorisation and write code as the JSON
//! API.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};

use super::account::{CurrentSession, check_csrf, field, parse_form};
use super::view::Layout;
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::{Grant, Permission, authorise};
use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind};
use crate::catalogue::{Status, Vocabulary};
use crate::editing::{
    EditError, Step, allow, apply, check_entry, merge_for_publishing, save_draft, take_step, writable,
};
use crate::store::{Change, ChangeSet, Principal, Revision, RevisionState};

/// A field's label: its name in words.
pub fn label(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
    .replace("Url", "address")
    .replace(" url", " address")
    .replace("Doi", "DOI")
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    l: Layout,
    email: String,
    role: &'static str,
    mine: Vec<RevisionRow>,
    queue: Vec<RevisionRow>,
    is_admin: bool,
    /// What the content check finds in entries this person may edit.
    attention: Vec<crate::catalogue::check::Finding>,
    attention_errors: usize,
    attention_total: usize,
}

/// A revision as a list shows it: the entry's title, the organisation's
/// name, the state's label and a time people read.
pub struct RevisionRow {
    pub id: String,
    pub title: String,
    pub organisation: String,
    pub author: String,
    pub state: &'static str,
    pub updated: String,
}

fn revision_row(r: &Revision, data: &crate::app::SiteData) -> RevisionRow {
    RevisionRow {
        id: r.id.clone(),
        title: r.document.get("title").and_then(Value::as_str).unwrap_or(&r.entry).to_owned(),
        organisation: data.organisation_name(&r.organisation).to_owned(),
        author: r.author.clone(),
        state: r.state.label(),
        updated: super::people::when(&r.updated_at),
    }
}

/// How many findings the dashboard lists; the rest are counted.
const ATTENTION_SHOWN: usize = 100;

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let reviewer = authorise(Some(who), Permission::Review).is_ok();
    let open = |r: &Revision| r.state.is_open();
    let mine: Vec<Revision> = if reviewer {
        state
            .store
            .revisions(None, None, None)
            .await?
            .into_iter()
            .filter(|r| open(r) && r.author == who.email)
            .collect()
    } else {
        state.store.revisions(None, None, who.organisation.as_deref()).await?.into_iter().filter(open).collect()
    };
    let queue =
        if reviewer { state.store.revisions(Some(RevisionState::Submitted), None, None).await? } else { Vec::new() };
    let attention = state.site.attention(&state.store, state.search.seq()).await?;
    let theirs: Vec<&crate::catalogue::check::Finding> = attention
        .findings
        .iter()
        .filter(|(_, owner)| authorise(Some(who), Permission::WriteEntry { owner }).is_ok())
        .map(|(f, _)| f)
        .collect();
    let attention_errors = theirs.iter().filter(|f| f.severity == crate::catalogue::check::Severity::Error).count();
    let l = super::private_layout(&headers, &state, "/dashboard", "Your dashboard");
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let rows = |list: Vec<Revision>| list.iter().map(|r| revision_row(r, &data)).collect();
    Ok(html(&Dashboard {
        l,
        email: who.email.clone(),
        role: super::people::role_label(who.role),
        mine: rows(mine),
        queue: rows(queue),
        is_admin: authorise(Some(who), Permission::ViewAudit).is_ok(),
        attention_total: theirs.len(),
        attention_errors,
        attention: theirs.into_iter().take(ATTENTION_SHOWN).cloned().collect(),
    }))
}

// ---------------------------------------------------------------- entry form

/// One form field, with its current value(s), choices and error.
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub hint: &'static str,
    pub control: &'static str,
    pub value: String,
    pub values: Vec<String>,
    pub choices: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
    pub readonly: bool,
}

impl Field {
    pub fn chosen(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value) || self.value == value
    }
}

fn hint(name: &str, kind: FieldKind) -> &'static str {
    match (name, kind) {
        ("slug", _) => "Lower-case letters, numbers and hyphens; it becomes the address and cannot change later.",
        ("summary", _) => "One or two sentences in plain English.",
        ("description", _) => "Markdown: blank lines between paragraphs, ## for headings, [text](address) for links.",
        ("date_note", _) => "Where a date is knowingly absent, why (for example, the notice sets no conformance date).",
        (_, FieldKind::List) => "One per line.",
        (_, FieldKind::Sources) => {
            "One public page per line, with the date you checked it: https://… checked 2026-11-29"
        }
        (_, FieldKind::Date) => "For example, 2027-04-01.",
        (_, FieldKind::Entries) => "Hold Ctrl (or Cmd) to choose more than one.",
        _ => "",
    }
}

async fn fields(
    state: &AppState,
    who: &Principal,
    document: &Map<String, Value>,
    errors: &[(String, String)],
    editing: bool,
) -> anyhow::Result<Vec<Field>> {
    let vocabularies = state.store.vocabularies().await?;
    let organisations = state.store.organisations().await?;
    let titles: Vec<(String, String)> = state.search.with_index(|index| {
        let mut all: Vec<(String, String)> =
            index.live_docs().map(|d| (index.doc(d).slug.clone(), index.doc(d).title.clone())).collect();
        all.sort_by_key(|a| a.1.to_lowercase());
        all
    });
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let list = |v: Option<&Value>| match v {
        Some(Value::Array(items)) => items.iter().map(crate::catalogue::fields::item_text).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for spec in ENTRY_FIELDS {
        let value = document.get(spec.name);
        let (control, choices): (&'static str, Vec<(String, String)>) = match spec.kind {
            FieldKind::Id | FieldKind::Timestamp => continue,
            FieldKind::Markdown => ("textarea", Vec::new()),
            FieldKind::List | FieldKind::Sources => ("lines", Vec::new()),
            FieldKind::Date => ("date", Vec::new()),
            FieldKind::Bool => ("select", vec![("false".into(), "No".into()), ("true".into(), "Yes".into())]),
            FieldKind::OptionalBool => (
                "select",
                vec![(String::new(), "Not known".into()), ("true".into(), "Yes".into()), ("false".into(), "No".into())],
            ),
            FieldKind::Level => (
                "select",
                std::iter::once((String::new(), "Not known".to_owned()))
                    .chain((1..=5).map(|n| (n.to_string(), n.to_string())))
                    .collect(),
            ),
            FieldKind::Status => (
                "select",
                [
                    "proposed",
                    "draft-in-progress",
                    "awaiting-approval",
                    "on-hold",
                    "cancelled",
                    "in-development",
                    "active",
                    "deprecated",
                    "retired",
                ]
                .iter()
                .map(|s| (s.to_string(), Status::parse(s).map_or(s.to_string(), |st| st.label().to_owned())))
                .collect(),
            ),
            FieldKind::EntryType => {
                ("select", vec![("standard".into(), "Standard".into()), ("api".into(), "API".into())])
            }
            FieldKind::Term(v) => (
                "select",
                std::iter::once((String::new(), "Choose".to_owned()))
                    .chain(vocabularies.terms(v).iter().map(|t| (t.slug.to_string(), t.label.clone())))
                    .collect(),
            ),
            FieldKind::Terms(v) if v != Vocabulary::Synonym => {
                ("checkboxes", vocabularies.terms(v).iter().map(|t| (t.slug.to_string(), t.label.clone())).collect())
            }
            FieldKind::Organisation => (
                "select",
                organisations
                    .iter()
                    .filter(|o| authorise(Some(who), Permission::WriteEntry { owner: o.slug.as_str() }).is_ok())
                    .map(|o| (o.slug.to_string(), o.name.clone()))
                    .collect(),
            ),
            FieldKind::Entries => ("multiselect", titles.clone()),
            _ => ("text", Vec::new()),
        };
        out.push(Field {
            name: spec.name,
            label: label(spec.name),
            hint: hint(spec.name, spec.kind),
            control,
            value: if spec.kind.is_list() { String::new() } else { text(value) },
            values: if spec.kind.is_list() { list(value) } else { Vec::new() },
            choices,
            error: errors.iter().find(|(f, _)| f == spec.name).map(|(_, e)| e.clone()),
            required: spec.required,
            readonly: editing && spec.name == "slug",
        });
    }
    Ok(out)
}

/// A form post as an entry document: lists from repeated values or lines.
fn document_from_form(form: &[(String, String)]) -> Map<String, Value> {
    let mut map = Map::new();
    for spec in ENTRY_FIELDS {
        let values: Vec<&str> = form.iter().filter(|(k, _)| k == spec.name).map(|(_, v)| v.as_str()).collect();
        match spec.kind {
            FieldKind::Id | FieldKind::Timestamp => {}
            FieldKind::List | FieldKind::Sources => {
                let lines: Vec<Value> = values
                    .iter()
                    .flat_map(|v| v.lines())
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect();
                map.insert(spec.name.into(), Value::Array(lines));
            }
            FieldKind::Terms(_) | FieldKind::Entries => {
                let items = values
                    .iter()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| Value::String(v.trim().to_owned()))
                    .collect();
                map.insert(spec.name.into(), Value::Array(items));
            }
            _ => {
                if let Some(v) = values.last().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                    map.insert(spec.name.into(), Value::String(v.to_owned()));
                }
            }
        }
    }
    map
}

#[derive(Template)]
#[template(path = "entry_form.html")]
struct EntryForm {
    l: Layout,
    heading: String,
    action: String,
    csrf: String,
    fields: Vec<Field>,
    errors: Vec<(String, String)>,
    publishes: bool,
    preview: Option<String>,
}

async fn form_page(
    state: &AppState,
    session: &CurrentSession,
    headers: &HeaderMap,
    slug: Option<&str>,
    document: Map<String, Value>,
    errors: Vec<(String, String)>,
    preview: Option<String>,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let owner = document.get("owner").and_then(Value::as_str).unwrap_or("");
    let publishes = authorise(Some(who), Permission::Review).is_ok();
    if let Some(s) = slug {
        allow(state, Some(who), Permission::WriteEntry { owner }, &format!("edit form of /standards/{s}")).await?;
    }
    let (heading, action, path) = match slug {
        Some(s) => (
            format!("Edit {}", document.get("title").and_then(Value::as_str).unwrap_or(s)),
            format!("/standards/{s}/edit"),
            format!("/standards/{s}/edit"),
        ),
        None => ("Add an entry".to_owned(), "/new".to_owned(), "/new".to_owned()),
    };
    let fields = fields(state, who, &document, &errors, slug.is_some()).await?;
    let l = super::private_layout(headers, state, &path, &heading);
    let csrf = session.csrf();
    let mut response =
        html(&EntryForm { l, heading, action, csrf, fields, errors: errors.clone(), publishes, preview });
    if !errors.is_empty() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let mut document = Map::new();
    if let Some(org) = &who.organisation {
        document.insert("owner".into(), Value::String(org.clone()));
    }
    document.insert("type".into(), Value::String("standard".into()));
    document.insert("status".into(), Value::String("draft-in-progress".into()));
    form_page(&state, &session, &headers, None, document, Vec::new(), None).await
}

/// The entry as the person would edit it: their open draft, else the
/// published entry.
async fn current_document(state: &AppState, who: &Principal, slug: &str) -> Result<Map<String, Value>, WebError> {
    let published = state.store.entry(slug).await?;
    let draft = state.store.revisions(None, Some(slug), None).await?.into_iter().find(|r| r.state.is_open());
    if let Some(d) = draft
        && authorise(Some(who), Permission::SeeDrafts { owner: &d.organisation }).is_ok()
    {
        return Ok(d.document.as_object().cloned().unwrap_or_default());
    }
    Ok(writable(published.ok_or(WebError::NotFound)?.to_json()))
}

pub async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let document = current_document(&state, who, &slug).await?;
    form_page(&state, &session, &headers, Some(&slug), document, Vec::new(), None).await
}

async fn save(
    state: AppState,
    session: CurrentSession,
    headers: HeaderMap,
    slug: Option<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    let who = session.signed_in()?.clone();
    let doing = match &slug {
        Some(s) => format!("POST /standards/{s}/edit"),
        None => "POST /new".to_owned(),
    };
    let mut document = document_from_form(&form);
    if let Some(s) = &slug {
        document.insert("slug".into(), Value::String(s.clone()));
    }
    let intent = form.iter().find(|(k, _)| k == "action").map_or("save", |(_, v)| v.as_str()).to_owned();
    if intent == "preview" {
        let body = document.get("description").and_then(Value::as_str).unwrap_or("");
        let preview = Some(crate::markdown::render(body));
        return form_page(&state, &session, &headers, slug.as_deref(), document, Vec::new(), preview).await;
    }
    if slug.is_none()
        && let Some(s) = document.get("slug").and_then(Value::as_str)
        && state.store.entry(s).await?.is_some()
    {
        let errors = vec![("slug".to_owned(), format!("There is already an entry `{s}`; choose another slug"))];
        return form_page(&state, &session, &headers, None, document, errors, None).await;
    }
    let entry = match check_entry(&state, document.clone()).await {
        Ok(e) => e,
        Err(EditError::Invalid(problems)) => {
            let errors = problems
                .iter()
                .map(|p| {
                    let name = p.column.clone().unwrap_or_else(|| "(entry)".into());
                    (name.clone(), format!("{}: expected {}", label(&name), p.expected))
                })
                .collect();
            return form_page(&state, &session, &headers, slug.as_deref(), document, errors, None).await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(s) = &slug
        && let Some(existing) = state.store.entry(s).await?
        && existing.owner != entry.owner
    {
        allow(&state, Some(&who), Permission::WriteEntry { owner: existing.owner.as_str() }, &doing).await?;
    }
    let grant = allow(&state, Some(&who), Permission::WriteEntry { owner: entry.owner.as_str() }, &doing).await?;
    match (grant, intent.as_str()) {
        (Grant::Publish, "publish") => {
            let set = ChangeSet { entries: vec![entry.clone()], ..ChangeSet::default() };
            apply(&state, &set, &who).await?;
            Ok(Redirect::to(&format!("/standards/{}", entry.slug)).into_response())
        }
        _ => {
            let revision = match save_draft(&state, &entry, &who).await {
                Ok(revision) => revision,
                Err(EditError::Write(e @ crate::store::WriteError::NameTaken(_))) => {
                    let errors = vec![("slug".to_owned(), format!("Slug: {e}"))];
                    return form_page(&state, &session, &headers, slug.as_deref(), document, errors, None).await;
                }
                Err(e) => return Err(e.into()),
            };
            if intent == "submit" {
                take_step(&state, Some(&who), &revision.id, Step::Submit, None).await?;
            }
            Ok(Redirect::to(&format!("/revisions/{}", revision.id)).into_response())
        }
    }
}

pub async fn save_new(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    save(state, session, headers, None, body).await
}

pub async fn save_edit(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    save(state, session, headers, Some(slug), body).await
}

// ---------------------------------------------------------------- differences

/// A field that differs between two versions.
pub struct Difference {
    pub field: String,
    pub before: String,
    pub after: String,
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
        }
        Some(other) => other.to_string(),
    }
}

pub fn differences(before: Option<&Value>, after: Option<&Value>) -> Vec<Difference> {
    let empty = Value::Object(Map::new());
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    ENTRY_FIELDS
        .iter()
        .filter(|f| !matches!(f.kind, FieldKind::Id | FieldKind::Timestamp))
        .filter_map(|f| {
            let (x, y) = (shown(b.get(f.name)), shown(a.get(f.name)));
            (x != y).then(|| Difference { field: label(f.name), before: x, after: y })
        })
        .collect()
}

// ---------------------------------------------------------------- revisions

#[derive(Template)]
#[template(path = "revision.html")]
struct RevisionPage {
    l: Layout,
    r: Revision,
    title: String,
    /// The organisation's name and the last save as people read them.
    organisation: String,
    updated: String,
    differences: Vec<Difference>,
    csrf: String,
    can_submit: bool,
    can_withdraw: bool,
    can_review: bool,
    can_edit: bool,
    is_new: bool,
    /// Fields changed in the published entry since this revision started:
    /// kept by publishing, and changed on both sides (this revision wins).
    kept: Vec<String>,
    conflicts: Vec<String>,
}

pub async fn revision(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let r = state.store.revision(&id).await?.ok_or(WebError::NotFound)?;
    allow(&state, Some(who), Permission::SeeDrafts { owner: &r.organisation }, &format!("GET /revisions/{id}")).await?;
    let published = state.store.entry(&r.entry).await?.map(|e| Value::Object(e.to_json()));
    let open = r.state.is_open();
    // An open revision shows what publishing it would do, changes made to
    // the published entry meanwhile kept.
    let (shown, kept, conflicts) = if open {
        let m = merge_for_publishing(&state, &r).await?;
        let names = |fields: Vec<&str>| fields.into_iter().map(label).collect::<Vec<_>>();
        (Value::Object(m.document), names(m.kept), names(m.conflicts))
    } else {
        (r.document.clone(), Vec::new(), Vec::new())
    };
    let differences = differences(published.as_ref(), Some(&shown));
    let title = r.document.get("title").and_then(Value::as_str).unwrap_or(&r.entry).to_owned();
    let can_submit = open
        && r.state != RevisionState::Submitted
        && authorise(Some(who), Permission::SubmitDraft { owner: &r.organisation }).is_ok();
    let can_withdraw = open && authorise(Some(who), Permission::SubmitDraft { owner: &r.organisation }).is_ok();
    let can_review = matches!(r.state, RevisionState::Submitted | RevisionState::Draft)
        && authorise(Some(who), Permission::Review).is_ok();
    let l = super::private_layout(&headers, &state, &format!("/revisions/{id}"), &format!("Revision of {title}"));
    let data = state.site.data(&state.store, state.search.seq()).await?;
    Ok(html(&RevisionPage {
        l,
        organisation: data.organisation_name(&r.organisation).to_owned(),
        updated: super::people::when(&r.updated_at),
        is_new: published.is_none(),
        can_edit: open && authorise(Some(who), Permission::WriteEntry { owner: &r.organisation }).is_ok(),
        title,
        differences,
        csrf: session.csrf(),
        can_submit,
        can_withdraw,
        can_review,
        kept,
        conflicts,
        r,
    }))
}

pub async fn revision_step(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    let who = session.signed_in()?.clone();
    let step = Step::parse(&field(&form, "action"))
        .ok_or_else(|| WebError::BadRequest(vec!["action: not a known step".into()]))?;
    let comment = field(&form, "comment");
    let comment = (!comment.trim().is_empty()).then_some(comment);
    let r = take_step(&state, Some(&who), &id, step, comment.as_deref()).await?;
    if r.state == RevisionState::Published {
        Ok(Redirect::to(&format!("/standards/{}", r.entry)).into_response())
    } else {
        Ok(Redirect::to(&format!("/revisions/{id}")).into_response())
    }
}

// ---------------------------------------------------------------- history

/// One step in an entry's history: a published version, which everyone
/// sees, or a step of a revision's review, which only those who may see
/// the entry's drafts see.
pub struct HistoryStep {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    /// What happened: "Published", "Drafted", "Changes requested", ...
    pub what: &'static str,
    /// How a comparison names the document this step left ("version 12",
    /// "draft 17"); none for steps that change no fields.
    pub name: Option<String>,
    /// The revision (id and number) the step belongs to.
    pub revision: Option<(String, i64)>,
    pub comment: Option<String>,
    /// What the differences are measured from, when that needs saying.
    pub compared_with: &'static str,
    pub differences: Vec<Difference>,
    /// A draft saved before saves recorded their fields.
    pub unrecorded: bool,
    /// An earlier published version, which editors may restore.
    pub restorable: bool,
}

fn minutes(at: &str) -> String {
    at.chars().take(16).collect::<String>().replace('T', " ")
}

/// The steps of an entry's history, newest first, from the changes log:
/// its published versions, and the workflow steps of the revisions given
/// (those the reader may see). Also every document a step left, by
/// sequence number, for comparing any two.
fn history_steps(versions: &[Change], reviews: &[(&Revision, Vec<Change>)]) -> (Vec<HistoryStep>, Vec<(i64, Value)>) {
    let mut steps = Vec::new();
    let mut documents = Vec::new();
    // The published entry as it was just before a change.
    let published_before = |seq: i64| versions.iter().rev().find(|v| v.seq < seq).and_then(|v| v.after.as_ref());
    // A revision's publication is one step with the version it made: both
    // are logged in the same write, by the same person at the same time.
    let mut published_from: Vec<(i64, (String, i64))> = Vec::new();
    for (r, changes) in reviews {
        // The revision's last save so far, and its document if recorded.
        let mut previous: Option<Option<&Value>> = None;
        let mut submitted = false;
        for c in changes {
            let after = c.after.as_ref();
            let text = |key: &str| after.and_then(|a| a.get(key)).and_then(Value::as_str);
            let mut step = HistoryStep {
                seq: c.seq,
                at: minutes(&c.at),
                actor: c.actor.clone(),
                what: "Changed",
                name: None,
                revision: Some((r.id.clone(), r.number)),
                comment: text("comment").map(str::to_owned),
                compared_with: "",
                differences: Vec::new(),
                unrecorded: false,
                restorable: false,
            };
            match RevisionState::parse(text("state").unwrap_or("")) {
                Some(RevisionState::Draft) => {
                    let document = after.and_then(|a| a.get("document")).filter(|d| d.is_object());
                    step.what = if previous.is_some() { "Draft changed" } else { "Drafted" };
                    match (previous, document) {
                        (None, Some(d)) => {
                            let published = published_before(c.seq);
                            step.compared_with =
                                if published.is_some() { "Changes from the published entry:" } else { "A new entry:" };
                            step.differences = differences(published, Some(d));
                        }
                        (Some(Some(before)), Some(d)) => {
                            step.compared_with = "Changes from the previous draft:";
                            step.differences = differences(Some(before), Some(d));
                        }
                        _ => step.unrecorded = true,
                    }
                    if let Some(d) = document {
                        step.name = Some(format!("draft {}", c.seq));
                        documents.push((c.seq, d.clone()));
                    }
                    previous = Some(document);
                }
                Some(RevisionState::Submitted) => {
                    step.what = if submitted { "Resubmitted for review" } else { "Submitted for review" };
                    submitted = true;
                }
                Some(RevisionState::ChangesRequested) => step.what = "Changes requested",
                Some(RevisionState::Withdrawn) => step.what = "Withdrawn",
                Some(RevisionState::Published) => {
                    if let Some(v) = versions.iter().find(|v| v.at == c.at && v.actor == c.actor) {
                        published_from.push((v.seq, (r.id.clone(), r.number)));
                        continue;
                    }
                    // Published without changing the entry.
                    step.what = "Published";
                }
                None => {}
            }
            steps.push(step);
        }
    }
    let current = versions.iter().rev().find(|v| v.after.is_some()).map(|v| v.seq);
    for v in versions {
        if let Some(after) = &v.after {
            documents.push((v.seq, after.clone()));
        }
        steps.push(HistoryStep {
            seq: v.seq,
            at: minutes(&v.at),
            actor: v.actor.clone(),
            what: match v.action.as_str() {
                "create" => "Published as a new entry",
                "delete" => "Deleted",
                _ => "Published",
            },
            name: v.after.is_some().then(|| format!("version {}", v.seq)),
            revision: published_from.iter().find(|(seq, _)| *seq == v.seq).map(|(_, r)| r.clone()),
            comment: None,
            compared_with: "",
            differences: differences(v.before.as_ref(), v.after.as_ref()),
            unrecorded: false,
            restorable: v.after.is_some() && Some(v.seq) != current,
        });
    }
    steps.sort_by_key(|s| std::cmp::Reverse(s.seq));
    (steps, documents)
}

/// The differences between two documents of the history, by the names
/// the page gives them.
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub differences: Vec<Difference>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    l: Layout,
    slug: String,
    title: String,
    published: bool,
    /// The reader sees the review steps too, not only published versions.
    sees_drafts: bool,
    /// Who did each step is shown to signed-in people only, as the public
    /// changes feed leaves people out.
    people: bool,
    steps: Vec<HistoryStep>,
    compare: Option<Comparison>,
    /// At least two documents to compare.
    comparable: bool,
    chosen: (i64, i64),
    csrf: String,
    can_restore: bool,
}

pub async fn history(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let entry = state.store.entry(&slug).await?;
    let who = session.principal();
    let revisions: Vec<Revision> = match who {
        Some(w) => state
            .store
            .revisions(None, Some(&slug), None)
            .await?
            .into_iter()
            .filter(|r| authorise(Some(w), Permission::SeeDrafts { owner: &r.organisation }).is_ok())
            .collect(),
        None => Vec::new(),
    };
    // An entry not yet published has a history only for those who may see
    // its drafts.
    let title = match (&entry, revisions.first()) {
        (Some(e), _) => e.title.clone(),
        (None, Some(r)) => r.document.get("title").and_then(Value::as_str).unwrap_or(&slug).to_owned(),
        (None, None) => return Err(WebError::NotFound),
    };
    let versions = match &entry {
        Some(e) => state.store.changes_of("entry", &e.id.to_string()).await?,
        None => Vec::new(),
    };
    let mut reviews = Vec::new();
    for r in &revisions {
        reviews.push((r, state.store.changes_of("revision", &r.id).await?));
    }
    let (steps, documents) = history_steps(&versions, &reviews);

    let mut from = None;
    let mut to = None;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "from" => from = v.parse::<i64>().ok(),
            "to" => to = v.parse::<i64>().ok(),
            _ => {}
        }
    }
    // Only documents this reader may see can be compared.
    let named = |seq: i64| {
        let document = documents.iter().find(|(s, _)| *s == seq).map(|(_, d)| d)?;
        let name = steps.iter().find(|s| s.seq == seq).and_then(|s| s.name.clone())?;
        Some((name, document))
    };
    let compare = match (from.and_then(named), to.and_then(named)) {
        (Some((from, a)), Some((to, b))) => Some(Comparison { from, to, differences: differences(Some(a), Some(b)) }),
        _ => None,
    };
    // The comparison shown, else the two newest documents.
    let mut newest = steps.iter().filter(|s| s.name.is_some()).map(|s| s.seq);
    let chosen = match (&compare, from, to) {
        (Some(_), Some(f), Some(t)) => (f, t),
        _ => {
            let t = newest.next().unwrap_or(0);
            (newest.next().unwrap_or(t), t)
        }
    };
    let can_restore = entry.is_some() && who.is_some_and(|w| authorise(Some(w), Permission::Review).is_ok());
    let mut l = Layout::new(
        &state.site.base_url(&headers),
        &format!("/standards/{slug}/history"),
        format!("History of {title}"),
        format!("Every published version of {title}."),
    );
    l.noindex = true;
    Ok(html(&HistoryPage {
        l,
        title,
        slug,
        published: entry.is_some(),
        sees_drafts: !revisions.is_empty(),
        people: who.is_some(),
        steps,
        compare,
        comparable: documents.len() > 1,
        chosen,
        csrf: session.csrf(),
        can_restore,
    }))
}

/// Restores an earlier version as a new one (editors).
pub async fn restore(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    let who = session.signed_in()?.clone();
    allow(&state, Some(&who), Permission::Review, &format!("POST /standards/{slug}/restore")).await?;
    let entry = state.store.entry(&slug).await?.ok_or(WebError::NotFound)?;
    let seq: i64 = field(&form, "seq").parse().unwrap_or(-1);
    let changes = state.store.changes_of("entry", &entry.id.to_string()).await?;
    let doc = changes.iter().find(|c| c.seq == seq).and_then(|c| c.after.clone()).ok_or(WebError::NotFound)?;
    let mut doc = doc.as_object().cloned().unwrap_or_default();
    doc.remove("id");
    let restored = check_entry(&state, doc).await?;
    let set = ChangeSet { entries: vec![restored], ..ChangeSet::default() };
    apply(&state, &set, &who).await?;
    Ok(Redirect::to(&format!("/standards/{slug}/history")).into_response())
}

// ---------------------------------------------------------------- audit

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    events: Vec<crate::store::AuditEvent>,
    event: String,
    actor: String,
    kinds: &'static [(&'static str, &'static str)],
}

pub async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    if let Err(r) = authorise(Some(who), Permission::ViewAudit) {
        return Err(crate::editing::refuse(&state, Some(who), r, "GET /admin/audit").await.into());
    }
    let mut event = String::new();
    let mut actor = String::new();
    let mut csv = false;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "event" => event = v.into_owned(),
            "actor" => actor = v.into_owned(),
            "format" => csv = v == "csv",
            _ => {}
        }
    }
    let events = state.store.audit_events(Some(&event), Some(&actor), 1000).await?;
    if csv {
        return Ok(crate::export::audit_csv(&events)?);
    }
    let l = super::private_layout(&headers, &state, "/admin/audit", "Audit log");
    Ok(html(&AuditPage { l, events, event, actor, kinds: &crate::store::AUDIT_EVENTS }))
}
