//! Spreadsheet upload in the browser: a CSV file or a workbook (XLSX, XLS,
//! ODS), or a catalogue JSON file, is read and checked by the same code as
//! `standards import`; the person sees every row's problems, or what would
//! be created and changed, and only then confirms. Nothing is written until
//! the confirm, and then all of it or none of it.
//!
//! Editors and administrators publish what they upload. A publisher's
//! upload of their own organisation's entries becomes drafts for review,
//! saved together or not at all.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::account::{CurrentSession, check_csrf, field, parse_form};
use super::publish::{Difference, differences};
use super::view::Layout;
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::{Grant, Permission, Refusal, authorise};
use crate::catalogue::Entry;
use crate::import::{self, Decoded, Format, Location, Problem};
use crate::store::{ChangeSet, Principal, Summary, Upload, WriteError};

/// The largest file accepted, in bytes.
pub const UPLOAD_LIMIT_BYTES: usize = 10 * 1024 * 1024;

fn layout(headers: &HeaderMap, state: &AppState, path: &str, title: &str) -> Layout {
    super::private_layout(headers, state, path, title).crumb("/dashboard", "Dashboard")
}

/// One problem as a table row.
pub struct ProblemRow {
    pub location: String,
    pub column: String,
    pub value: String,
    pub expected: String,
}

impl From<&Problem> for ProblemRow {
    fn from(p: &Problem) -> Self {
        ProblemRow {
            location: p.location.as_ref().map_or_else(|| "whole file".to_owned(), Location::to_string),
            column: p.column.clone().unwrap_or_default(),
            value: p.value.clone().unwrap_or_default(),
            expected: p.expected.clone(),
        }
    }
}

pub struct Created {
    pub slug: String,
    pub title: String,
    pub owner: String,
}

pub struct Changed {
    pub slug: String,
    pub title: String,
    pub differences: Vec<Difference>,
}

/// What an upload would do, as the preview shows it.
#[derive(Default)]
pub struct Outcome {
    pub created: Vec<Created>,
    pub changed: Vec<Changed>,
    pub unchanged: usize,
    pub others: Vec<String>,
    pub drafts: bool,
}

impl Outcome {
    /// Nothing to save.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.changed.is_empty() && self.others.is_empty()
    }

    /// A fingerprint of exactly what the person saw: the confirm goes
    /// ahead only when the upload would still do just that.
    fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut put = |text: &str| {
            h.update(text.as_bytes());
            h.update([0]);
        };
        put(if self.drafts { "drafts" } else { "publish" });
        for c in &self.created {
            put(&c.slug);
            put(&c.title);
            put(&c.owner);
        }
        put("changed");
        for c in &self.changed {
            put(&c.slug);
            for d in &c.differences {
                put(&d.field);
                put(&d.before);
                put(&d.after);
            }
        }
        put(&self.unchanged.to_string());
        for o in &self.others {
            put(o);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

// ---------------------------------------------------------------- the form

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    l: Layout,
    csrf: String,
    drafts: bool,
    file_name: String,
    problems: Vec<ProblemRow>,
}

impl UploadPage {
    /// The error summary's line for the file field.
    fn summary(&self) -> String {
        let n = self.problems.len();
        if self.file_name.is_empty() {
            "Choose a CSV file or a spreadsheet to upload".to_owned()
        } else if n == 1 && self.problems[0].location == "whole file" {
            format!("{} cannot be imported: expected {}", self.file_name, self.problems[0].expected)
        } else {
            format!(
                "Nothing was imported: {} has {n} problem{}; correct {} and upload it again",
                self.file_name,
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them all" }
            )
        }
    }
}

pub async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let l = layout(&headers, &state, "/import", "Upload a spreadsheet");
    Ok(html(&UploadPage {
        l,
        csrf: session.csrf(),
        drafts: authorise(Some(who), Permission::Review).is_err(),
        file_name: String::new(),
        problems: Vec::new(),
    }))
}

/// The project's CSV layout with no rows: a header of every field, to fill
/// in with a spreadsheet program.
pub async fn template() -> Result<Response, WebError> {
    let mut out = Vec::new();
    crate::export::write_csv(&[], &mut out)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalogue-template.csv\""),
        ],
        out,
    )
        .into_response())
}

/// The upload: the file is checked at once; with problems they are shown
/// and nothing is kept, else it is kept for the preview.
pub async fn upload(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let mut csrf = String::new();
    let mut format = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    loop {
        let part = match multipart.next_field().await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large = true;
                break;
            }
            Err(e) => return Err(WebError::BadRequest(vec![format!("The upload could not be read: {e}.")])),
        };
        let name = part.name().unwrap_or("").to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let bytes = match part.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_large = true;
                file = Some((file_name.unwrap_or_default(), Vec::new()));
                break;
            }
            Err(e) => return Err(WebError::BadRequest(vec![format!("The upload broke off: {e}.")])),
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "format" => format = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = Some((file_name.unwrap_or_default(), bytes.to_vec())),
            _ => {}
        }
    }
    check_csrf(&session, &[("csrf".to_owned(), csrf)])?;
    let who = session.signed_in()?.clone();
    let (file_name, bytes) = file.unwrap_or_default();
    let file_name = file_name.rsplit(['/', '\\']).next().unwrap_or("").to_owned();
    let fail = |problems: Vec<Problem>| {
        let l = layout(&headers, &state, "/import", "Error: Upload a spreadsheet");
        let mut response = html(&UploadPage {
            l,
            csrf: session.csrf(),
            drafts: authorise(Some(&who), Permission::Review).is_err(),
            file_name: file_name.clone(),
            problems: problems.iter().map(ProblemRow::from).collect(),
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        response
    };
    if too_large {
        let limit = UPLOAD_LIMIT_BYTES / 1024 / 1024;
        let mut response = fail(vec![Problem::whole_file(format!("a file of up to {limit} MB"))]);
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return Ok(response);
    }
    if file_name.is_empty() || bytes.is_empty() {
        return Ok(fail(vec![Problem::whole_file("a file: choose a CSV file or a spreadsheet to upload")]));
    }
    let format = match format.as_str() {
        "" | "guess" => None,
        name => Some(Format::from_name(name).filter(|f| *f != Format::Ckan).ok_or_else(|| {
            WebError::BadRequest(vec![format!("format: `{name}` is not one of csv, api-catalogue or json")])
        })?),
    };
    // A workbook is read in a child process that may take seconds; the
    // wait is kept off the request workers.
    let name = file_name.clone();
    let decoding = tokio::task::spawn_blocking(move || import::decode(&name, &bytes, format));
    let decoded = match decoding.await.map_err(|e| anyhow::anyhow!("reading the upload stopped: {e}"))? {
        Ok(d) => d,
        Err(p) => return Ok(fail(vec![p])),
    };
    if let Err(problems) = check(&state, &who, &decoded).await? {
        return Ok(fail(problems));
    }
    let id = state
        .store
        .save_upload(&who.email, &file_name, decoded.format.name(), &decoded.text, decoded.row_offset as i64)
        .await?;
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

// ---------------------------------------------------------------- checking

/// A file that passed every check: what it would write, and how.
struct Plan {
    set: ChangeSet,
    grant: Grant,
    /// The directory's entries as they are now, by slug, read once for
    /// both the owner checks and the preview's differences.
    existing: HashMap<String, Entry>,
}

/// Reads and checks an upload as `standards import` does, then asks
/// whether this person may write each record in it.
async fn check(state: &AppState, who: &Principal, decoded: &Decoded) -> anyhow::Result<Result<Plan, Vec<Problem>>> {
    let raw = decoded.read(&state.store.vocabularies().await?);
    let locations: Vec<Location> = raw.entries.iter().map(|(l, _)| l.clone()).collect();
    let mut problems = Vec::new();
    let refused = |problems: &mut Vec<Problem>, location: Option<Location>, column: &str, r: Refusal| {
        problems.push(Problem {
            location,
            column: Some(column.to_owned()),
            value: None,
            expected: format!("something you may change: {}", r.message()),
        })
    };
    for (kind, count, permission) in [
        ("organisations", raw.organisations.len(), Permission::ManageOrganisations),
        ("vocabularies", raw.terms.len(), Permission::EditContent),
        ("guides and pages", raw.pages.len(), Permission::EditContent),
        ("glossary", raw.glossary.len(), Permission::EditContent),
    ] {
        if count > 0
            && let Err(r) = authorise(Some(who), permission)
        {
            refused(&mut problems, None, kind, r);
        }
    }
    let set = match import::plan(&state.store, raw).await? {
        Ok(set) => set,
        Err(mut found) => {
            found.extend(problems);
            return Ok(Err(found));
        }
    };
    let existing: HashMap<String, Entry> =
        state.store.entries().await?.into_iter().map(|e| (e.slug.to_string(), e)).collect();
    let open_revisions = state.store.open_revision_organisations().await?;
    let drafts_only = authorise(Some(who), Permission::Review).is_err();
    let mut grants = Vec::new();
    for (entry, location) in set.entries.iter().zip(locations) {
        // Another organisation's draft keeps its name (saving drafts refuses it too).
        if drafts_only && open_revisions.get(entry.slug.as_str()).is_some_and(|org| org != entry.owner.as_str()) {
            problems.push(Problem {
                location: Some(location.clone()),
                column: Some("slug".to_owned()),
                value: Some(entry.slug.to_string()),
                expected: "a name that is not taken (choose another slug)".to_owned(),
            });
            continue;
        }
        let mut owners = vec![entry.owner.to_string()];
        if let Some(existing) = existing.get(entry.slug.as_str())
            && existing.owner != entry.owner
        {
            owners.push(existing.owner.to_string());
        }
        for owner in owners {
            match authorise(Some(who), Permission::WriteEntry { owner: &owner }) {
                Ok(g) => grants.push(g),
                Err(r) => refused(&mut problems, Some(location.clone()), "owner", r),
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let grant = if grants.contains(&Grant::Draft) { Grant::Draft } else { Grant::Publish };
    if grant == Grant::Draft && set.entries.is_empty() {
        return Ok(Err(vec![Problem::whole_file("at least one entry of your organisation")]));
    }
    Ok(Ok(Plan { set, grant, existing }))
}

fn decoded(upload: &Upload) -> Decoded {
    Decoded {
        text: upload.content.clone(),
        format: Format::from_name(&upload.format).unwrap_or(Format::Csv),
        sheet: None,
        row_offset: upload.row_offset.max(0) as usize,
    }
}

/// The author's upload, or not found (another person's upload is not
/// theirs to see).
async fn own_upload(state: &AppState, who: &Principal, id: &str) -> Result<Upload, WebError> {
    match state.store.upload(id).await? {
        Some(u) if u.author == who.email => Ok(u),
        _ => Err(WebError::NotFound),
    }
}

// ---------------------------------------------------------------- preview

#[derive(Template)]
#[template(path = "upload_preview.html")]
struct PreviewPage {
    l: Layout,
    csrf: String,
    id: String,
    file_name: String,
    format: &'static str,
    moved_on: bool,
    problems: Vec<ProblemRow>,
    o: Outcome,
    digest: String,
}

async fn preview_page(
    state: &AppState,
    session: &CurrentSession,
    headers: &HeaderMap,
    upload: &Upload,
    moved_on: bool,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let decoded = decoded(upload);
    let title = format!("Check the upload of {}", upload.file_name);
    let l = layout(headers, state, &format!("/import/{}", upload.id), &title);
    let mut page = PreviewPage {
        l,
        csrf: session.csrf(),
        id: upload.id.clone(),
        file_name: upload.file_name.clone(),
        format: format_label(decoded.format),
        moved_on,
        problems: Vec::new(),
        o: Outcome::default(),
        digest: String::new(),
    };
    match check(state, who, &decoded).await? {
        Err(problems) => page.problems = problems.iter().map(ProblemRow::from).collect(),
        Ok(plan) => {
            page.o = outcome(state, who, &plan).await?;
            page.digest = page.o.digest();
        }
    }
    if !page.problems.is_empty() {
        page.l.title = format!("Error: {}", page.l.title);
    }
    let mut response = html(&page);
    if moved_on {
        *response.status_mut() = StatusCode::CONFLICT;
    } else if !page.problems.is_empty() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn format_label(format: Format) -> &'static str {
    match format {
        Format::Csv => "the directory's CSV layout",
        Format::ApiCatalogue => "the national API catalogue spreadsheet",
        Format::Json => "a catalogue JSON file",
        Format::Ckan => "CKAN package_search responses",
    }
}

/// What a checked upload would do. Organisations, vocabulary terms and
/// content are counted by trying the whole write in the store and rolling
/// it back.
async fn outcome(state: &AppState, who: &Principal, plan: &Plan) -> Result<Outcome, WebError> {
    let (created, changed, unchanged) = entry_changes(&plan.existing, &plan.set.entries);
    let drafts = plan.grant == Grant::Draft;
    // Only records other than entries need the trial write to be counted;
    // entries were compared above, and the real write checks everything
    // again in its one transaction.
    let only_entries = plan.set.organisations.is_empty()
        && plan.set.terms.is_empty()
        && plan.set.pages.is_empty()
        && plan.set.glossary.is_empty();
    let others =
        if drafts || only_entries { Vec::new() } else { other_changes(&dry_run(state, &plan.set, who).await?) };
    Ok(Outcome { created, changed, unchanged, others, drafts })
}

/// Entries the upload would create, the fields it would change in others,
/// and how many it leaves as they are.
fn entry_changes(existing: &HashMap<String, Entry>, entries: &[Entry]) -> (Vec<Created>, Vec<Changed>, usize) {
    let (mut created, mut changed, mut unchanged) = (Vec::new(), Vec::new(), 0);
    for entry in entries {
        let after = Value::Object(entry.to_json());
        match existing.get(entry.slug.as_str()) {
            None => created.push(Created {
                slug: entry.slug.to_string(),
                title: entry.title.clone(),
                owner: entry.owner.to_string(),
            }),
            Some(old) => {
                let d = differences(Some(&Value::Object(old.to_json())), Some(&after));
                if d.is_empty() {
                    unchanged += 1;
                } else {
                    changed.push(Changed { slug: entry.slug.to_string(), title: entry.title.clone(), differences: d });
                }
            }
        }
    }
    (created, changed, unchanged)
}

/// Checks the whole write in the store (constraints included) and rolls
/// it back.
async fn dry_run(state: &AppState, set: &ChangeSet, who: &Principal) -> Result<Summary, WebError> {
    match state.store.apply(set, &who.email, true, None).await {
        Ok(s) => Ok(s),
        Err(WriteError::Database(e)) => Err(e.into()),
        Err(e) => Err(WebError::BadRequest(vec![e.to_string()])),
    }
}

fn other_changes(s: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    let mut say = |n: usize, what: &str, how: &str| {
        if n > 0 {
            lines.push(format!("{n} {what} {how}"));
        }
    };
    say(s.organisations_created, "organisations", "to create");
    say(s.organisations_updated, "organisations", "to change");
    say(s.terms_created, "vocabulary terms", "to create");
    say(s.terms_updated, "vocabulary terms", "to change");
    say(s.content_created, "guides, pages or glossary terms", "to create");
    say(s.content_updated, "guides, pages or glossary terms", "to change");
    lines
}

pub async fn preview(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = session.signed_in()?;
    let upload = own_upload(&state, who, &id).await?;
    preview_page(&state, &session, &headers, &upload, false).await
}

// ---------------------------------------------------------------- confirm

#[derive(Template)]
#[template(path = "upload_done.html")]
struct DonePage {
    l: Layout,
    file_name: String,
    o: Outcome,
}

/// Confirms (or cancels) an upload. When the upload would now do anything
/// other than what its preview showed (someone changed the directory
/// meanwhile), the new preview is shown instead, to be checked again.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    let who = session.signed_in()?.clone();
    let upload = own_upload(&state, &who, &id).await?;
    if field(&form, "action") == "cancel" {
        state.store.delete_upload(&id).await?;
        return Ok(Redirect::to("/import").into_response());
    }
    let plan = match check(&state, &who, &decoded(&upload)).await? {
        Ok(plan) => plan,
        Err(_) => return preview_page(&state, &session, &headers, &upload, true).await,
    };
    let mut o = outcome(&state, &who, &plan).await?;
    if o.digest() != field(&form, "digest") {
        return preview_page(&state, &session, &headers, &upload, true).await;
    }
    match plan.grant {
        Grant::Publish => {
            let summary = match state.store.apply(&plan.set, &who.email, false, None).await {
                Ok(s) => s,
                Err(WriteError::Database(e)) => return Err(e.into()),
                Err(e) => return Err(WebError::BadRequest(vec![e.to_string()])),
            };
            state.after_write().await?;
            o.others = other_changes(&summary);
        }
        Grant::Draft => {
            // Entries the upload leaves as they are need no draft.
            let touched: Vec<&str> =
                o.created.iter().map(|c| c.slug.as_str()).chain(o.changed.iter().map(|c| c.slug.as_str())).collect();
            let drafts: Vec<(String, String, Value)> = plan
                .set
                .entries
                .iter()
                .filter(|e| touched.contains(&e.slug.as_str()))
                .map(|e| {
                    (e.slug.to_string(), e.owner.to_string(), Value::Object(crate::editing::writable(e.to_json())))
                })
                .collect();
            state.store.save_drafts(&drafts, &who.email).await?;
        }
    }
    state.store.delete_upload(&id).await?;
    let detail = format!(
        "{}: {} created, {} changed, {} unchanged{}",
        upload.file_name,
        o.created.len(),
        o.changed.len(),
        o.unchanged,
        if o.drafts { " (as drafts for review)" } else { "" }
    );
    state.store.audit(&who.email, "import", "ok", &detail, None).await?;
    let l = layout(&headers, &state, &format!("/import/{id}"), &format!("{} is uploaded", upload.file_name));
    Ok(html(&DonePage { l, file_name: upload.file_name, o }))
}
