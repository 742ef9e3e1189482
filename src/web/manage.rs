//! Managing what is not an entry: organisations (administrators), and
//! guides, site pages, the glossary and vocabulary terms (editors and
//! administrators). Every form carries the session's CSRF token, asks
//! `authorise` (refusals are audited as the API's are), checks the record
//! with the import's `plan` and writes it with the API's `apply`: one
//! transaction, a change-log row naming the person, the search index and
//! the site's cached data brought up to date.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{Map, Value};

use super::account::{CurrentSession, check_csrf, field, parse_form};
use super::view::Layout;
use super::{WebError, html};
use crate::app::AppState;
use crate::auth::{Permission, authorise};
use crate::catalogue::fields::{FieldKind, ORGANISATION_FIELDS, ORGANISATION_KINDS};
use crate::catalogue::{PageKind, Slug, Vocabulary};
use crate::editing::{allow, apply};
use crate::import::{Location, Problem, RawCatalogue, plan};
use crate::markdown;
use crate::store::Principal;

use super::SITE_PAGES as ROUTED_SITE_PAGES;

/// The vocabularies an editor manages here, with the address segment each
/// one's pages live under.
const VOCABULARIES: [(Vocabulary, &str, &str); 5] = [
    (Vocabulary::CareSetting, "care-settings", "Care settings"),
    (Vocabulary::Topic, "topics", "Topics"),
    (Vocabulary::Category, "categories", "Categories"),
    (Vocabulary::Technology, "technologies", "Technologies"),
    (Vocabulary::Synonym, "synonyms", "Search synonyms"),
];

/// What a manage page is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Organisation,
    Guide,
    SitePage,
    Glossary,
    Term(Vocabulary),
}

impl Kind {
    fn all() -> Vec<Kind> {
        let mut kinds = vec![Kind::Organisation, Kind::Guide, Kind::SitePage, Kind::Glossary];
        kinds.extend(VOCABULARIES.iter().map(|(v, _, _)| Kind::Term(*v)));
        kinds
    }

    fn permission(self) -> Permission<'static> {
        match self {
            Kind::Organisation => Permission::ManageOrganisations,
            _ => Permission::EditContent,
        }
    }

    fn vocabulary(v: Vocabulary) -> (&'static str, &'static str) {
        VOCABULARIES.iter().find(|(x, _, _)| *x == v).map_or((v.key(), v.noun()), |(_, path, title)| (*path, *title))
    }

    fn list_path(self) -> String {
        match self {
            Kind::Organisation => "/manage/organisations".into(),
            Kind::Guide => "/manage/guides".into(),
            Kind::SitePage => "/manage/pages".into(),
            Kind::Glossary => "/manage/glossary".into(),
            Kind::Term(v) => format!("/manage/vocabularies/{}", Kind::vocabulary(v).0),
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Organisation => "Organisations",
            Kind::Guide => "Guides",
            Kind::SitePage => "Site pages",
            Kind::Glossary => "Glossary",
            Kind::Term(v) => Kind::vocabulary(v).1,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Organisation => "organisation",
            Kind::Guide => "guide",
            Kind::SitePage => "site page",
            Kind::Glossary => "glossary term",
            Kind::Term(v) => v.noun(),
        }
    }

    fn intro(self) -> &'static str {
        match self {
            Kind::Organisation => "Publishers, standards bodies, national teams, suppliers and care providers.",
            Kind::Guide => "Plain-English guides, listed on the guides page in this order.",
            Kind::SitePage => "The pages linked from the foot of every page.",
            Kind::Glossary => "What the technical words and abbreviations mean.",
            Kind::Term(Vocabulary::Synonym) => {
                "Words and abbreviations that mean the same to someone searching: a search for one finds the others."
            }
            Kind::Term(_) => "Terms entries are classified by. Imports and searches also find a term by its aliases.",
        }
    }

    /// Site pages have fixed addresses, so none are added here.
    fn can_create(self) -> bool {
        self != Kind::SitePage
    }

    /// The public page showing the record, if there is one.
    fn public_path(self, slug: &str) -> Option<String> {
        match self {
            Kind::Organisation => Some(format!("/organisations/{slug}")),
            Kind::Guide => Some(format!("/guides/{slug}")),
            Kind::SitePage => ROUTED_SITE_PAGES.contains(&slug).then(|| format!("/{slug}")),
            Kind::Glossary => Some(format!("/glossary#{slug}")),
            Kind::Term(Vocabulary::CareSetting) => Some(format!("/care-settings/{slug}")),
            Kind::Term(Vocabulary::Topic) => Some(format!("/topics/{slug}")),
            Kind::Term(_) => None,
        }
    }

    fn page_kind(self) -> PageKind {
        if self == Kind::Guide { PageKind::Guide } else { PageKind::Page }
    }

    /// The form's fields, in order.
    fn specs(self) -> Vec<Spec> {
        match self {
            Kind::Organisation => ORGANISATION_FIELDS
                .iter()
                .filter_map(|f| {
                    let control = match f.kind {
                        FieldKind::Id | FieldKind::Timestamp => return None,
                        FieldKind::Markdown => "textarea",
                        FieldKind::OrganisationKind => "select",
                        FieldKind::List => "lines",
                        _ => "text",
                    };
                    Some(Spec { name: f.name, label: organisation_label(f.name), control, required: f.required })
                })
                .collect(),
            Kind::Guide | Kind::SitePage => vec![
                Spec::required("slug", "Slug", "text"),
                Spec::required("title", "Title", "text"),
                Spec::optional("summary", "Summary", "textarea"),
                Spec::required("body", "Body", "markdown"),
                Spec::optional("order", "Order in lists", "number"),
            ],
            Kind::Glossary => vec![
                Spec::required("slug", "Slug", "text"),
                Spec::required("term", "Term", "text"),
                Spec::optional("aliases", "Other names", "lines"),
                Spec::required("definition", "Definition", "textarea"),
            ],
            Kind::Term(_) => vec![
                Spec::required("slug", "Slug", "text"),
                Spec::required("label", "Label", "text"),
                Spec::optional("description", "Description", "textarea"),
                Spec::optional("aliases", "Aliases", "lines"),
            ],
        }
    }

    fn hint(self, name: &str, editing: bool) -> String {
        let text = match (self, name) {
            (_, "slug") if editing => "Part of the address; it cannot change.",
            (Kind::Organisation, "slug") => {
                "Lower-case letters, numbers and hyphens, like nhs-england. It becomes part of the address and cannot change later."
            }
            (_, "slug") => {
                "Lower-case letters, numbers and hyphens, like care-records. It becomes part of the address and cannot change later."
            }
            (Kind::Organisation, "description") => "A sentence or two about what they do.",
            (Kind::Organisation, "url") => "Their website, starting https://",
            (Kind::Organisation, "contact") => "An email address or web page for questions about their standards.",
            (Kind::Organisation, "identifier") => "For example an ODS code or a company number.",
            (Kind::Organisation, "logo_url") => "The address of their logo image.",
            (_, "summary") => "One or two sentences, shown in lists.",
            (_, "body") => {
                "Markdown: blank lines between paragraphs, ## for headings, - for list items, [text](address) for links."
            }
            (_, "order") => "A whole number; lists show lower numbers first.",
            (Kind::Glossary, "term") => "The word or abbreviation as people write it.",
            (Kind::Glossary, "aliases") => {
                "Other names and abbreviations, one per line. The first use of any of them on an entry page links here."
            }
            (Kind::Glossary, "definition") => "In plain English.",
            (Kind::Term(Vocabulary::Synonym), "label") => "The word or abbreviation, like GP.",
            (Kind::Term(Vocabulary::Synonym), "aliases") => "Words that mean the same, one per line.",
            (Kind::Term(_), "label") => "As people see it, like Community health.",
            (Kind::Term(_), "aliases") => "Other names people use for it, one per line.",
            _ => "",
        };
        text.to_owned()
    }

    fn choices(self, name: &str) -> Vec<(String, String)> {
        match (self, name) {
            (Kind::Organisation, "kind") => std::iter::once((String::new(), "Choose".to_owned()))
                .chain(ORGANISATION_KINDS.iter().map(|k| ((*k).to_owned(), sentence_case(k))))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The stored record as JSON, if it exists.
    async fn current(self, state: &AppState, slug: &str) -> anyhow::Result<Option<Value>> {
        let store = &state.store;
        Ok(match self {
            Kind::Organisation => store.organisation(slug).await?.map(|o| serde_json::to_value(o.content())),
            Kind::Guide | Kind::SitePage => {
                store.page(self.page_kind(), slug).await?.map(|p| serde_json::to_value(p.content()))
            }
            Kind::Glossary => store
                .glossary()
                .await?
                .into_iter()
                .find(|t| t.slug.as_str() == slug)
                .map(|t| serde_json::to_value(t.content())),
            Kind::Term(v) => store.vocabularies().await?.term(v, slug).map(serde_json::to_value),
        }
        .transpose()?)
    }

    /// Every record of this kind: slug, name and a detail to list.
    async fn rows(self, state: &AppState) -> anyhow::Result<Vec<Row>> {
        let store = &state.store;
        let rows: Vec<(String, String, String)> = match self {
            Kind::Organisation => store
                .organisations()
                .await?
                .into_iter()
                .map(|o| (o.slug.to_string(), o.name, sentence_case(&o.kind)))
                .collect(),
            Kind::Guide | Kind::SitePage => store
                .pages(self.page_kind())
                .await?
                .into_iter()
                .map(|p| (p.slug.to_string(), p.title, p.summary))
                .collect(),
            Kind::Glossary => store
                .glossary()
                .await?
                .into_iter()
                .map(|t| (t.slug.to_string(), t.term, t.aliases.join(", ")))
                .collect(),
            Kind::Term(v) => store
                .vocabularies()
                .await?
                .terms(v)
                .iter()
                .map(|t| (t.slug.to_string(), t.label.clone(), t.aliases.join(", ")))
                .collect(),
        };
        Ok(rows
            .into_iter()
            .map(|(slug, name, detail)| Row {
                edit: format!("{}/{slug}", self.list_path()),
                public: self.public_path(&slug),
                slug,
                name,
                detail,
            })
            .collect())
    }

    /// The record as the import would read it from a file.
    fn raw(self, document: Map<String, Value>) -> RawCatalogue {
        let at = Location::Path("form".into());
        let mut raw = RawCatalogue::default();
        match self {
            Kind::Organisation => raw.organisations.push((at, document)),
            Kind::Guide | Kind::SitePage => raw.pages.push((at, self.page_kind(), document)),
            Kind::Glossary => raw.glossary.push((at, document)),
            Kind::Term(v) => raw.terms.push((at, v, document)),
        }
        raw
    }
}

fn sentence_case(text: &str) -> String {
    let words = text.replace(['-', '_'], " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn organisation_label(name: &str) -> String {
    match name {
        "kind" => "Kind of organisation".into(),
        "url" => "Website address".into(),
        "logo_url" => "Logo address".into(),
        other => sentence_case(other),
    }
}

/// A field of a form, before it has a value.
struct Spec {
    name: &'static str,
    label: String,
    control: &'static str,
    required: bool,
}

impl Spec {
    fn required(name: &'static str, label: &str, control: &'static str) -> Spec {
        Spec { name, label: label.to_owned(), control, required: true }
    }

    fn optional(name: &'static str, label: &str, control: &'static str) -> Spec {
        Spec { name, label: label.to_owned(), control, required: false }
    }
}

/// A field of a form as shown: its value as typed, its hint and error.
pub struct Input {
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub control: &'static str,
    pub value: String,
    pub choices: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
    pub readonly: bool,
}

impl Input {
    /// The ids of the hint and error, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("field-{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("field-{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// One record in a list.
pub struct Row {
    pub slug: String,
    pub name: String,
    pub detail: String,
    pub edit: String,
    pub public: Option<String>,
}

/// What the form shows: each field's text, as stored or as typed.
type Values = HashMap<&'static str, String>;

/// A stored record's fields as form text: lists one item a line.
fn values_from(specs: &[Spec], record: &Value) -> Values {
    specs
        .iter()
        .map(|s| {
            let text = match record.get(s.name) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Some(other) => other.to_string(),
            };
            (s.name, text)
        })
        .collect()
}

/// A form post's fields as typed (browsers send CRLF line ends).
fn values_posted(specs: &[Spec], form: &[(String, String)]) -> Values {
    specs.iter().map(|s| (s.name, field(form, s.name).replace("\r\n", "\n"))).collect()
}

/// The typed values as a record for the import's checks, and the problems
/// only the form can see (text that is not a number, a missing label).
fn document(kind: Kind, specs: &[Spec], values: &Values) -> (Map<String, Value>, Vec<(String, String)>) {
    let mut map = Map::new();
    let mut errors = Vec::new();
    for s in specs {
        let typed = values.get(s.name).map_or("", String::as_str);
        // Leading spaces mean something in Markdown (an indented block).
        let text = if s.control == "markdown" { typed.trim_end() } else { typed.trim() };
        let value = match s.control {
            "lines" => Value::Array(
                text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_owned())).collect(),
            ),
            "number" if text.is_empty() => continue,
            "number" => match text.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.push((s.name.to_owned(), format!("{}: expected a whole number, like 3", s.label)));
                    continue;
                }
            },
            _ => Value::String(text.to_owned()),
        };
        // Vocabulary terms are read as the import reads them, which takes
        // any label; an empty one would leave nothing to show.
        if matches!(kind, Kind::Term(_)) && s.required && s.name != "slug" && text.is_empty() {
            errors.push((s.name.to_owned(), format!("{}: expected a value: this field is required", s.label)));
        }
        map.insert(s.name.to_owned(), value);
    }
    (map, errors)
}

/// The import's problems as field errors, worded as the entry form words
/// them. A problem that names no field of the form goes on the first.
fn field_errors(specs: &[Spec], problems: Vec<Problem>) -> Vec<(String, String)> {
    problems
        .into_iter()
        .map(|p| match p.column.as_deref().and_then(|c| specs.iter().find(|s| s.name == c)) {
            Some(s) => {
                let expected = p.expected.strip_prefix("expected ").unwrap_or(&p.expected);
                (s.name.to_owned(), format!("{}: expected {expected}", s.label))
            }
            None => (specs[0].name.to_owned(), p.to_string()),
        })
        .collect()
}

/// A slug problem in words, or none. Checked before the import's checks so
/// that a bad slug does not hide the record's other problems (a file record
/// with a bad slug cannot be read any further).
fn slug_error(slug: &str) -> Option<(String, String)> {
    let message = match Slug::parse(slug) {
        // `new` is the address of the add form.
        Ok(_) if slug == "new" => "Slug: `new` is kept for the add form's address; choose another slug".to_owned(),
        Ok(_) => return None,
        Err(_) if slug.is_empty() => "Slug: expected a value: this field is required".to_owned(),
        Err(e) => format!("Slug: expected {e}"),
    };
    Some(("slug".to_owned(), message))
}

// ---------------------------------------------------------------- pages

use super::private_layout as layout;

/// The signed-in person, if `what` is theirs to do; a refusal is audited.
async fn allowed(
    state: &AppState,
    session: &CurrentSession,
    what: Permission<'_>,
    doing: &str,
) -> Result<Principal, WebError> {
    let who = session.signed_in()?;
    allow(state, Some(who), what, doing).await?;
    Ok(who.clone())
}

#[derive(Template)]
#[template(path = "manage_index.html")]
struct IndexPage {
    l: Layout,
    sections: Vec<(String, &'static str, &'static str, usize)>,
    vocabularies: Vec<(String, &'static str, usize)>,
    organisations: bool,
}

async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<CurrentSession>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let who = allowed(&state, &session, Permission::EditContent, "GET /manage").await?;
    let mut sections = Vec::new();
    let mut vocabularies = Vec::new();
    for kind in Kind::all() {
        if authorise(Some(&who), kind.permission()).is_err() {
            continue;
        }
        let count = kind.rows(&state).await?.len();
        match kind {
            Kind::Term(_) => vocabularies.push((kind.list_path(), kind.plural(), count)),
            _ => sections.push((kind.list_path(), kind.plural(), kind.intro(), count)),
        }
    }
    let l = layout(&headers, &state, "/manage", "Manage the directory").crumb("/dashboard", "Your dashboard");
    let organisations = authorise(Some(&who), Permission::ManageOrganisations).is_ok();
    Ok(html(&IndexPage { l, sections, vocabularies, organisations }))
}

#[derive(Template)]
#[template(path = "manage_list.html")]
struct ListPage {
    l: Layout,
    heading: &'static str,
    intro: &'static str,
    add: Option<(String, String)>,
    rows: Vec<Row>,
    saved: Option<String>,
}

async fn list(
    kind: Kind,
    state: AppState,
    session: CurrentSession,
    headers: HeaderMap,
    query: Option<String>,
) -> Result<Response, WebError> {
    let path = kind.list_path();
    allowed(&state, &session, kind.permission(), &format!("GET {path}")).await?;
    let rows = kind.rows(&state).await?;
    let saved_slug = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "saved")
        .map(|(_, v)| v.into_owned());
    let saved = saved_slug.and_then(|s| rows.iter().find(|r| r.slug == s)).map(|r| r.name.clone());
    let l = layout(&headers, &state, &path, kind.plural()).crumb("/manage", "Manage");
    let add = kind.can_create().then(|| (format!("{path}/new"), format!("Add {}", with_article(kind.noun()))));
    Ok(html(&ListPage { l, heading: kind.plural(), intro: kind.intro(), add, rows, saved }))
}

#[derive(Template)]
#[template(path = "manage_form.html")]
struct FormPage {
    l: Layout,
    caption: &'static str,
    heading: String,
    action: String,
    cancel: String,
    csrf: String,
    fields: Vec<Input>,
    errors: Vec<(String, String)>,
    preview: Option<String>,
}

/// How a form is shown besides its values.
enum Shown {
    AsIs,
    /// (field, message) in the order of the fields; the page answers 422.
    WithErrors(Vec<(String, String)>),
    /// The Markdown field rendered as the public page would show it.
    WithPreview(String),
}

fn form_page(
    kind: Kind,
    state: &AppState,
    session: &CurrentSession,
    headers: &HeaderMap,
    slug: Option<&str>,
    values: &Values,
    shown: Shown,
) -> Response {
    let (errors, preview) = match shown {
        Shown::AsIs => (Vec::new(), None),
        Shown::WithErrors(errors) => (errors, None),
        Shown::WithPreview(html) => (Vec::new(), Some(html)),
    };
    let list = kind.list_path();
    let (heading, action) = match slug {
        Some(s) => {
            let name = kind.specs().get(1).and_then(|s| values.get(s.name)).filter(|n| !n.trim().is_empty()).cloned();
            (format!("Edit {}", name.unwrap_or_else(|| s.to_owned())), format!("{list}/{s}"))
        }
        None => (format!("Add {}", with_article(kind.noun())), format!("{list}/new")),
    };
    let fields = kind
        .specs()
        .into_iter()
        .map(|s| Input {
            hint: kind.hint(s.name, slug.is_some()),
            choices: kind.choices(s.name),
            value: values.get(s.name).cloned().unwrap_or_default(),
            error: errors.iter().find(|(f, _)| f == s.name).map(|(_, e)| e.clone()),
            readonly: slug.is_some() && s.name == "slug",
            name: s.name,
            label: s.label,
            control: s.control,
            required: s.required,
        })
        .collect();
    let title = if errors.is_empty() { heading.clone() } else { format!("Error: {heading}") };
    let l = layout(headers, state, &action, &title).crumb("/manage", "Manage").crumb(list.clone(), kind.plural());
    let cancel = slug.and_then(|s| kind.public_path(s)).unwrap_or(list);
    let failed = !errors.is_empty();
    let mut response = html(&FormPage {
        l,
        caption: kind.plural(),
        heading,
        action,
        cancel,
        csrf: session.csrf(),
        fields,
        errors,
        preview,
    });
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

async fn new_form(
    kind: Kind,
    state: AppState,
    session: CurrentSession,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let path = format!("{}/new", kind.list_path());
    allowed(&state, &session, kind.permission(), &format!("GET {path}")).await?;
    let mut values = Values::new();
    if kind == Kind::Guide {
        let last = state.store.pages(PageKind::Guide).await?.iter().map(|p| p.order).max().unwrap_or(0);
        values.insert("order", (last + 1).to_string());
    }
    Ok(form_page(kind, &state, &session, &headers, None, &values, Shown::AsIs))
}

async fn edit_form(
    kind: Kind,
    state: AppState,
    session: CurrentSession,
    headers: HeaderMap,
    slug: String,
) -> Result<Response, WebError> {
    let path = format!("{}/{slug}", kind.list_path());
    allowed(&state, &session, kind.permission(), &format!("GET {path}")).await?;
    let record = kind.current(&state, &slug).await?.ok_or(WebError::NotFound)?;
    let values = values_from(&kind.specs(), &record);
    Ok(form_page(kind, &state, &session, &headers, Some(&slug), &values, Shown::AsIs))
}

/// Saves a new record (`slug` none) or an existing one: checked as an
/// import checks it, then written in one transaction.
async fn save(
    kind: Kind,
    state: AppState,
    session: CurrentSession,
    headers: HeaderMap,
    slug: Option<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let path = format!("{}/{}", kind.list_path(), slug.as_deref().unwrap_or("new"));
    session.signed_in()?;
    let form = parse_form(&body);
    check_csrf(&session, &form)?;
    let who = allowed(&state, &session, kind.permission(), &format!("POST {path}")).await?;
    if slug.is_none() && !kind.can_create() {
        return Err(WebError::NotFound);
    }
    if let Some(s) = &slug
        && kind.current(&state, s).await?.is_none()
    {
        return Err(WebError::NotFound);
    }
    let specs = kind.specs();
    let mut values = values_posted(&specs, &form);
    if let Some(s) = &slug {
        values.insert("slug", s.clone());
    }
    let typed_slug = values.get("slug").map_or("", |s| s.trim()).to_owned();
    if field(&form, "action") == "preview" {
        let source = specs.iter().find(|s| s.control == "markdown").and_then(|s| values.get(s.name));
        let shown = source.map_or(Shown::AsIs, |text| Shown::WithPreview(markdown::render(text)));
        return Ok(form_page(kind, &state, &session, &headers, slug.as_deref(), &values, shown));
    }
    let (mut document, mut errors) = document(kind, &specs, &values);
    if let Some(e) = slug_error(&typed_slug) {
        errors.push(e);
        // Any valid slug lets the rest of the record be checked; nothing is
        // written while there are errors.
        document.insert("slug".into(), Value::String("checking".into()));
    } else if slug.is_none() && kind.current(&state, &typed_slug).await?.is_some() {
        errors.push((
            "slug".to_owned(),
            format!("Slug: there is already {} `{typed_slug}`; choose another slug", with_article(kind.noun())),
        ));
    }
    let set = match plan(&state.store, kind.raw(document)).await? {
        Ok(set) => Some(set),
        Err(problems) => {
            for e in field_errors(&specs, problems) {
                if !errors.iter().any(|(f, _)| *f == e.0) {
                    errors.push(e);
                }
            }
            None
        }
    };
    let set = match set {
        Some(set) if errors.is_empty() => set,
        _ => {
            // The summary lists errors in the order of the fields.
            errors.sort_by_key(|(f, _)| specs.iter().position(|s| s.name == f).unwrap_or(usize::MAX));
            return Ok(form_page(
                kind,
                &state,
                &session,
                &headers,
                slug.as_deref(),
                &values,
                Shown::WithErrors(errors),
            ));
        }
    };
    apply(&state, &set, &who).await?;
    let target = kind.public_path(&typed_slug).unwrap_or_else(|| format!("{}?saved={typed_slug}", kind.list_path()));
    Ok(Redirect::to(&target).into_response())
}

fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {noun}")
}

// ---------------------------------------------------------------- routes

fn kind_routes(router: Router<AppState>, kind: Kind) -> Router<AppState> {
    let list_path = kind.list_path();
    let mut router = router.route(
        &list_path,
        get(
            move |State(state): State<AppState>,
                  Extension(session): Extension<CurrentSession>,
                  headers: HeaderMap,
                  RawQuery(query): RawQuery| async move { list(kind, state, session, headers, query).await },
        ),
    );
    if kind.can_create() {
        router = router.route(
            &format!("{list_path}/new"),
            get(
                move |State(state): State<AppState>,
                      Extension(session): Extension<CurrentSession>,
                      headers: HeaderMap| async move { new_form(kind, state, session, headers).await },
            )
            .post(
                move |State(state): State<AppState>,
                      Extension(session): Extension<CurrentSession>,
                      headers: HeaderMap,
                      body: axum::body::Bytes| async move {
                    save(kind, state, session, headers, None, body).await
                },
            ),
        );
    }
    router.route(
        &format!("{list_path}/{{slug}}"),
        get(
            move |State(state): State<AppState>,
                  Extension(session): Extension<CurrentSession>,
                  Path(slug): Path<String>,
                  headers: HeaderMap| async move { edit_form(kind, state, session, headers, slug).await },
        )
        .post(
            move |State(state): State<AppState>,
                  Extension(session): Extension<CurrentSession>,
                  Path(slug): Path<String>,
                  headers: HeaderMap,
                  body: axum::body::Bytes| async move {
                save(kind, state, session, headers, Some(slug), body).await
            },
        ),
    )
}

/// `/manage` and a list, add form and edit form for each kind of record.
pub fn router() -> Router<AppState> {
    Kind::all().into_iter().fold(Router::new().route("/manage", get(index)), kind_routes)
}
