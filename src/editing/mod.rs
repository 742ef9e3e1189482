//! The rules of changing the catalogue, the same through the JSON API, the
//! CKAN write actions and the website's forms: authorise (and audit a
//! refusal), check a document as an import would, publish or save a draft
//! as the grant says, the steps of review, publishing with a three-way
//! merge, and bringing the search index up to date after a write.
//!
//! Every rule answers with one error, [`EditError`], which each interface
//! maps to its own shape once (problem+json, a CKAN error, a page).

use serde_json::{Map, Value};

use crate::app::AppState;
use crate::auth::{Grant, Permission, Refusal, authorise};
use crate::catalogue::Entry;
use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind};
use crate::import::{self, Location, RawCatalogue};
use crate::store::{ChangeSet, Principal, Revision, RevisionState, WriteError};

/// Why a change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// Not allowed (already audited): sign in, or not yours to change.
    #[error("{}", .0.message())]
    Refused(Refusal),
    /// The document is not valid; every problem found.
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<import::Problem>),
    /// Not possible in the present state of the thing (a review step).
    #[error("{0}")]
    WrongState(String),
    /// The thing to change does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The store refused the write (still linked, a name taken, ...).
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Records a refusal in the audit log and returns it as an error.
pub async fn refuse(state: &AppState, who: Option<&Principal>, refusal: Refusal, what: &str) -> EditError {
    let actor = who.map_or("-", |w| w.email.as_str());
    if let Err(e) =
        state.store.audit(actor, "permission-refused", "refused", &format!("{what}: {}", refusal.message()), None).await
    {
        // The refusal stands either way; the lost audit row is logged.
        tracing::error!(error = %format!("{e:#}"), actor, what, "a refusal could not be written to the audit log");
    }
    EditError::Refused(refusal)
}

/// Asks the directory's one authorisation rule; a refusal is audited.
pub async fn allow(
    state: &AppState,
    who: Option<&Principal>,
    what: Permission<'_>,
    doing: &str,
) -> Result<Grant, EditError> {
    match authorise(who, what) {
        Ok(grant) => Ok(grant),
        Err(r) => Err(refuse(state, who, r, doing).await),
    }
}

/// Who may change an existing entry: its owner's publishers, and (when it
/// moves to another owner) the new owner's too.
pub async fn may_change(
    state: &AppState,
    who: &Principal,
    old_owner: Option<&str>,
    new_owner: &str,
    doing: &str,
) -> Result<Grant, EditError> {
    if let Some(old) = old_owner
        && old != new_owner
    {
        allow(state, Some(who), Permission::WriteEntry { owner: old }, doing).await?;
    }
    allow(state, Some(who), Permission::WriteEntry { owner: new_owner }, doing).await
}

/// Checks an entry document as an import would (every field, links to
/// existing entries), without writing.
pub async fn check_entry(state: &AppState, document: Map<String, Value>) -> Result<Entry, EditError> {
    let raw = RawCatalogue { entries: vec![(Location::Path("body".into()), document)], ..RawCatalogue::default() };
    match import::plan(&state.store, raw).await? {
        Ok(mut set) if set.entries.len() == 1 => Ok(set.entries.remove(0)),
        Ok(_) => Err(anyhow::anyhow!("an entry document planned as other than one entry").into()),
        Err(problems) => Err(EditError::Invalid(problems)),
    }
}

/// The entry fields of a document as an entry's JSON has them (times and
/// ids are the store's).
pub fn writable(mut map: Map<String, Value>) -> Map<String, Value> {
    for key in ["id", "created_at", "updated_at"] {
        map.remove(key);
    }
    map
}

/// Saves a checked entry as the author's draft of it, for review.
pub async fn save_draft(state: &AppState, entry: &Entry, who: &Principal) -> Result<Revision, EditError> {
    let document = Value::Object(writable(entry.to_json()));
    Ok(state.store.save_draft(entry.slug.as_str(), entry.owner.as_str(), &document, &who.email).await?)
}

/// Applies a change set as this person and brings the search index up to
/// date: the one way every interface writes.
pub async fn apply(state: &AppState, set: &ChangeSet, who: &Principal) -> Result<(), EditError> {
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

/// A revision the caller may see, or why not.
pub async fn visible_revision(
    state: &AppState,
    who: Option<&Principal>,
    id: &str,
    doing: &str,
) -> Result<Revision, EditError> {
    let revision =
        state.store.revision(id).await?.ok_or_else(|| EditError::NotFound(format!("There is no revision `{id}`.")))?;
    allow(state, who, Permission::SeeDrafts { owner: &revision.organisation }, doing).await?;
    Ok(revision)
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
) -> Result<Revision, EditError> {
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
                return Err(EditError::Invalid(vec![import::Problem {
                    location: None,
                    column: Some("comment".into()),
                    value: None,
                    expected: "a comment saying what to change".into(),
                }]));
            }
            (&[Submitted], ChangesRequested)
        }
        Step::Publish => {
            let Some(reviewer) = who else {
                return Err(refuse(state, None, Refusal::SignInNeeded, &doing).await);
            };
            allow(state, Some(reviewer), Permission::Review, &doing).await?;
            if revision.state != Submitted && revision.state != Draft {
                return Err(wrong_state(&revision, step));
            }
            let merged = merge_for_publishing(state, &revision).await?;
            let entry = check_entry(state, merged.document).await?;
            let set = ChangeSet {
                entries: vec![entry],
                published_revisions: vec![revision.id.clone()],
                ..ChangeSet::default()
            };
            apply(state, &set, reviewer).await?;
            return Ok(state.store.revision(id).await?.unwrap_or(revision));
        }
    };
    let actor = who.map_or("-", |w| w.email.as_str());
    match state.store.move_revision(id, from, to, actor, comment).await? {
        Ok(r) => Ok(r),
        Err(_) => Err(wrong_state(&revision, step)),
    }
}

fn wrong_state(revision: &Revision, step: Step) -> EditError {
    EditError::WrongState(format!(
        "Revision {} is {}; it cannot be given the step {step:?} now.",
        revision.id,
        revision.state.label()
    ))
}
