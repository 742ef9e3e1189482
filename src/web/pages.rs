//! The pages other than search: home, entries, organisations, care
//! settings and topics, the roadmap, guides, glossary, site pages, sitemap
//! and robots.txt.

use std::sync::Arc;

use askama::Template;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde_json::json;

use super::view::{self, Layout, date, datetime, status_class, status_label, type_label};
use super::{WebError, html};
use crate::app::AppState;
use crate::app::SiteData;
use crate::catalogue::{Entry, GlossaryTerm, Page, Slug, Status, Vocabulary};
use crate::markdown;
use crate::search::index::{Facet, Index};
use crate::search::{SearchRequest, SearchSort};

/// An entry in a list: enough for a card or a row.
pub struct Item {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub entry_type: &'static str,
    pub status: &'static str,
    pub owner_name: String,
    pub mandated: bool,
    pub category: String,
}

impl Item {
    pub fn type_label(&self) -> &'static str {
        type_label(self.entry_type)
    }
    pub fn status_label(&self) -> &'static str {
        status_label(self.status)
    }
    pub fn status_class(&self) -> &'static str {
        status_class(self.status)
    }
}

fn item(index: &Index, id: u32, data: &SiteData) -> Item {
    let doc = index.doc(id);
    let category = index
        .doc_facets(id, Facet::Category)
        .first()
        .map(|&v| index.facet_label(Facet::Category, v).1.to_owned())
        .unwrap_or_default();
    Item {
        slug: doc.slug.clone(),
        title: doc.title.clone(),
        summary: doc.summary.clone(),
        entry_type: doc.entry_type,
        status: doc.status,
        owner_name: data.organisation_name(&doc.owner).to_owned(),
        mandated: doc.mandated,
        category,
    }
}

/// Every entry with a value in a facet, as list items.
fn items_with(state: &AppState, data: &SiteData, facet: Facet, value: &str) -> Vec<Item> {
    state.search.with_index(|index| {
        let Some(id) = index.facet_value_id(facet, value) else { return Vec::new() };
        let mut items: Vec<(u32, Item)> = index
            .value_docs(facet, id)
            .ones()
            .filter(|d| index.is_alive(*d))
            .map(|d| (d, item(index, d, data)))
            .collect();
        items.sort_by_key(|(d, _)| index.title_rank(*d));
        items.into_iter().map(|(_, i)| i).collect()
    })
}

fn count_of(state: &AppState, facet: Facet, value: &str) -> u32 {
    state.search.with_index(|index| {
        index
            .facet_value_id(facet, value)
            .map_or(0, |id| index.value_docs(facet, id).ones().filter(|d| index.is_alive(*d)).count() as u32)
    })
}

/// A vocabulary term with how many entries use it.
pub struct TermCount {
    pub slug: String,
    pub label: String,
    pub description: String,
    pub count: u32,
}

fn term_counts(state: &AppState, data: &SiteData, vocabulary: Vocabulary, facet: Facet) -> Vec<TermCount> {
    data.vocabularies
        .terms(vocabulary)
        .iter()
        .map(|t| TermCount {
            slug: t.slug.to_string(),
            label: t.label.clone(),
            description: t.description.clone(),
            count: count_of(state, facet, t.slug.as_str()),
        })
        .collect()
}

// ---------------------------------------------------------------- home

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    total: usize,
    standards: u32,
    apis: u32,
    care_settings: Vec<TermCount>,
    topics: Vec<TermCount>,
    recent: Vec<Item>,
    coming: Vec<RoadmapItem>,
    deadlines: Vec<Deadline>,
    guides: Vec<Page>,
}

/// A comply-by date near now, for the home page.
pub struct Deadline {
    pub date: String,
    pub passed: bool,
    pub item: Item,
}

/// Comply-by dates from 90 days ago to a year ahead, soonest first: what
/// organisations must have done recently or must do next.
fn deadlines(state: &AppState, data: &SiteData, today: NaiveDate, most: usize) -> Vec<Deadline> {
    let (from, to) = (today - chrono::Days::new(90), today + chrono::Days::new(365));
    state.search.with_index(|index| {
        let mut near: Vec<(NaiveDate, u32)> = index
            .live_docs()
            .filter_map(|d| index.doc(d).comply_by.filter(|c| (from..=to).contains(c)).map(|c| (c, d)))
            .collect();
        near.sort_by_key(|&(c, d)| (c, index.doc(d).sort_title.clone()));
        near.into_iter()
            .take(most)
            .map(|(c, d)| Deadline { date: view::date(&c), passed: c < today, item: item(index, d, data) })
            .collect()
    })
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let request = SearchRequest { sort: SearchSort::Updated, page: 1, per_page: 6, ..SearchRequest::default() };
    let recent_slugs: Vec<String> =
        state.search.search(&request).map_err(anyhow::Error::from)?.results.into_iter().map(|h| h.slug).collect();
    let recent = state.search.with_index(|index| {
        recent_slugs.iter().filter_map(|s| index.doc_id(s)).map(|d| item(index, d, &data)).collect()
    });
    let mut coming = roadmap_items(&state, &data, None, today());
    coming.retain(|i| i.next.is_some());
    coming.sort_by_key(|i| i.next.map(|(d, _)| d));
    coming.truncate(5);
    let deadlines = deadlines(&state, &data, today(), 5);
    let l = Layout::new(
        &base,
        "/",
        "Find interoperability standards and national APIs",
        "Find, understand and adopt the interoperability standards and national APIs used in health and social care in England.",
    )
    .section("home")
    .json_ld(&json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": view::SITE_NAME,
        "url": format!("{base}/"),
        "potentialAction": {
            "@type": "SearchAction",
            "target": format!("{base}/search?q={{search_term_string}}"),
            "query-input": "required name=search_term_string"
        }
    }));
    let page = HomePage {
        l,
        total: state.search.len(),
        standards: count_of(&state, Facet::Type, "standard"),
        apis: count_of(&state, Facet::Type, "api"),
        care_settings: term_counts(&state, &data, Vocabulary::CareSetting, Facet::CareSetting),
        topics: term_counts(&state, &data, Vocabulary::Topic, Facet::Topic),
        recent,
        coming,
        deadlines,
        guides: data.guides.clone(),
    };
    Ok(html(&page))
}

// ---------------------------------------------------------------- entries

/// A link to another entry, by slug, with its title when it exists.
pub struct EntryLink {
    pub slug: String,
    pub title: String,
    pub note: String,
}

fn entry_links(state: &AppState, slugs: &[Slug]) -> Vec<EntryLink> {
    state.search.with_index(|index| {
        slugs
            .iter()
            .map(|s| EntryLink {
                slug: s.to_string(),
                title: index.doc_id(s.as_str()).map_or_else(|| s.to_string(), |d| index.doc(d).title.clone()),
                note: String::new(),
            })
            .collect()
    })
}

pub struct Row {
    pub key: &'static str,
    pub value: String,
}

fn rows(pairs: Vec<(&'static str, Option<String>)>) -> Vec<Row> {
    pairs
        .into_iter()
        .filter_map(|(key, value)| value.filter(|v| !v.trim().is_empty()).map(|value| Row { key, value }))
        .collect()
}

fn yes_no(value: Option<bool>) -> Option<String> {
    value.map(|v| if v { "Yes".to_owned() } else { "No".to_owned() })
}

fn list(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(", "))
}

fn adoption(level: u8) -> String {
    let words = match level {
        1 => "few implementations",
        2 => "some implementations",
        3 => "used in many places",
        4 => "widely used",
        _ => "used almost everywhere",
    };
    format!("{level} of 5: {words}")
}

pub struct TermLink {
    pub slug: String,
    pub label: String,
}

fn term_links(data: &SiteData, vocabulary: Vocabulary, slugs: &[Slug]) -> Vec<TermLink> {
    slugs
        .iter()
        .map(|s| TermLink {
            slug: s.to_string(),
            label: data.vocabularies.term(vocabulary, s.as_str()).map_or_else(|| s.to_string(), |t| t.label.clone()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    l: Layout,
    e: Entry,
    type_label: &'static str,
    status: Status,
    owner_name: String,
    summary_html: String,
    description_html: String,
    about: Vec<Row>,
    care_settings: Vec<TermLink>,
    topics: Vec<TermLink>,
    technologies: Vec<TermLink>,
    dependencies: Vec<EntryLink>,
    related: Vec<EntryLink>,
    implemented: Vec<EntryLink>,
    part_of: Vec<EntryLink>,
    replaced_by: Vec<EntryLink>,
    parts: Vec<EntryLink>,
    used_by: Vec<EntryLink>,
    sources: Vec<(String, Option<String>)>,
    mandate: Vec<Row>,
    maturity: Vec<Row>,
    access: Vec<Row>,
    governance: Vec<Row>,
    reviewed: Option<String>,
    updated: Option<String>,
}

impl EntryPage {
    fn status_class(&self) -> &'static str {
        status_class(self.status.slug())
    }

    fn implement_from_text(&self) -> Option<String> {
        self.e.implement_from.as_ref().map(super::view::date)
    }

    /// Whether it must be used, and by when, in a sentence.
    fn mandate_answer(&self) -> String {
        match (self.e.mandated, self.e.comply_by) {
            (true, Some(d)) => format!("Yes: comply by {}", super::view::date(&d)),
            (true, None) => "Yes; no comply-by date has been published".to_owned(),
            (false, _) => "No: it is not required by law, a notice, a contract or a regulator".to_owned(),
        }
    }

    fn contact_href(&self) -> Option<String> {
        crate::catalogue::contact_href(self.e.contact.as_deref()?)
    }

    fn safe(&self, url: &Option<String>) -> Option<String> {
        url.as_ref().filter(|u| markdown::safe_url(u)).cloned()
    }

    fn documentation(&self) -> Option<String> {
        self.safe(&self.e.documentation_url)
    }

    fn feedback(&self) -> Option<String> {
        self.safe(&self.e.feedback_url)
    }

    fn is_link(&self, text: &str) -> bool {
        (text.starts_with("https://") || text.starts_with("http://")) && !text.contains(char::is_whitespace)
    }
}

pub async fn entry(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if Slug::parse(&slug).is_err() {
        return Err(WebError::NotFound);
    }
    let Some(e) = state.store.entry(&slug).await? else { return Err(WebError::NotFound) };
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let summary = e.summary.clone().unwrap_or_default();
    let description = e.description.clone().unwrap_or_default();
    let (linked, description_html) = crate::markdown::render_linked(&description, &data.linker, &[&summary]);
    let owner_name = data.organisation_name(e.owner.as_str()).to_owned();
    let category = data
        .vocabularies
        .term(Vocabulary::Category, e.category.as_str())
        .map_or_else(|| e.category.to_string(), |t| t.label.clone());
    let (parts, used_by): (Vec<_>, Vec<_>) =
        state.store.links_to(&slug).await?.into_iter().partition(|(_, kind)| kind == "is_part_of");
    let link_from = |(from, kind): (String, String)| {
        let title = state.search.with_index(|index| index.doc_id(&from).map(|d| index.doc(d).title.clone()));
        EntryLink {
            title: title.unwrap_or_else(|| from.clone()),
            slug: from,
            note: match kind.as_str() {
                "dependencies" => "depends on this".to_owned(),
                "standards_implemented" => "implements this".to_owned(),
                "replaced_by" => "replaced by this".to_owned(),
                _ => "related".to_owned(),
            },
        }
    };
    let parts: Vec<EntryLink> = parts.into_iter().map(link_from).collect();
    let used_by: Vec<EntryLink> = used_by.into_iter().map(link_from).collect();
    let d = |v: &Option<NaiveDate>| v.as_ref().map(date);
    let about = rows(vec![
        ("Alternative names", list(&e.alternative_names)),
        ("Category", Some(category.clone())),
        ("Versions", list(&e.versions)),
        ("Use cases", list(&e.use_cases)),
        ("Applies to", list(&e.applies_to)),
        ("Licence", e.licence.clone()),
        ("Identifier", e.persistent_id.clone()),
        ("DOI", e.doi.clone()),
        ("Released", d(&e.release_date)),
    ]);
    let mandate = rows(vec![
        ("Mandated", Some(if e.mandated { "Yes".to_owned() } else { "No".to_owned() })),
        ("Reference code", e.reference_code.clone()),
        ("Legal basis", e.legal_basis.clone()),
        ("Who must comply", e.who_must_comply.clone()),
        ("Publication due", d(&e.publication_due)),
        ("Implement from", d(&e.implement_from)),
        ("Comply by", d(&e.comply_by)),
        ("Effective from", d(&e.effective_from)),
        ("Enforcement", e.enforcement.clone()),
        ("Assurance", e.assurance.clone()),
        ("Conformance date", d(&e.conformance_date)),
        ("About the dates", e.date_note.clone()),
        ("Endorsed by", list(&e.endorsements)),
    ]);
    let maturity = rows(vec![
        ("Process maturity", e.process_maturity.clone()),
        ("Implementation maturity", e.implementation_maturity.clone()),
        ("Adoption", e.adoption_level.map(adoption)),
        ("Cost", e.cost.clone()),
        ("Test tools available", yes_no(e.test_tools_available)),
    ]);
    let access = rows(vec![
        ("Network", e.access_network.clone()),
        ("Authentication", e.authentication.clone()),
        ("Onboarding", e.onboarding.clone()),
        ("Digital onboarding", yes_no(e.digital_onboarding)),
        ("Environments", list(&e.environments)),
    ]);
    let governance = rows(vec![
        ("Sponsor", e.sponsor.clone()),
        ("Senior responsible owner", e.senior_responsible_owner.clone()),
        ("Business lead", e.business_lead.clone()),
        ("Technical committee", e.technical_committee.clone()),
        ("Approved", d(&e.approval_date)),
        ("Post-implementation review", d(&e.post_implementation_review_date)),
        ("Reviews", e.reviews.clone()),
    ]);
    let description_text = e.summary.clone().or_else(|| e.description.clone()).unwrap_or_else(|| e.title.clone());
    let url = format!("{base}/standards/{slug}");
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": if e.entry_type.as_str() == "api" { "WebAPI" } else { "CreativeWork" },
        "@id": url,
        "url": url,
        "name": e.title,
        "description": description_text,
        "genre": category,
        "creativeWorkStatus": e.status.label(),
        "publisher": {"@type": "Organization", "name": owner_name, "url": format!("{base}/organisations/{}", e.owner)},
        "keywords": e.tags,
    });
    if !e.alternative_names.is_empty() {
        ld["alternateName"] = json!(e.alternative_names);
    }
    if let Some(code) = &e.reference_code {
        ld["identifier"] = json!(code);
    }
    if let Some(doc) = &e.documentation_url {
        ld[if e.entry_type.as_str() == "api" { "documentation" } else { "sameAs" }] = json!(doc);
    }
    if let Some(t) = e.updated_at {
        ld["dateModified"] = json!(t.to_rfc3339());
    }
    if let Some(t) = e.created_at {
        ld["dateCreated"] = json!(t.to_rfc3339());
    }
    let mut l = Layout::new(&base, &format!("/standards/{slug}"), e.title.clone(), description_text)
        .json_ld(&ld)
        // Where the entry lives: its type, then its owner (not "Search",
        // which a reader arriving from elsewhere never passed through).
        .crumb(
            format!("/search?type={}", e.entry_type.as_str()),
            if e.entry_type.as_str() == "api" { "National APIs" } else { "Standards" },
        )
        .crumb(format!("/organisations/{}", e.owner), owner_name.clone());
    l.og_type = "article";
    let page = EntryPage {
        l,
        type_label: type_label(e.entry_type.as_str()),
        status: e.status,
        owner_name,
        summary_html: linked[0].clone(),
        description_html,
        about,
        care_settings: term_links(&data, Vocabulary::CareSetting, &e.care_settings),
        topics: term_links(&data, Vocabulary::Topic, &e.topics),
        technologies: term_links(&data, Vocabulary::Technology, &e.technologies),
        dependencies: entry_links(&state, &e.dependencies),
        related: entry_links(&state, &e.related),
        implemented: entry_links(&state, &e.standards_implemented),
        part_of: entry_links(&state, &e.is_part_of),
        replaced_by: entry_links(&state, &e.replaced_by),
        parts,
        used_by,
        sources: e.sources.iter().map(|s| (s.url.clone(), s.checked_on.as_ref().map(date))).collect(),
        mandate,
        maturity,
        access,
        governance,
        reviewed: e.review_date.as_ref().map(date),
        updated: e.updated_at.as_ref().map(datetime),
        e,
    };
    Ok(html(&page))
}

/// `/standards`: every entry is found through search.
pub async fn standards_index(RawQuery(raw): RawQuery) -> Response {
    let target = match raw {
        Some(q) if !q.is_empty() => format!("/search?{q}"),
        _ => "/search".to_owned(),
    };
    axum::response::Redirect::permanent(&target).into_response()
}

// ---------------------------------------------------------------- organisations

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    l: Layout,
    organisations: Vec<(String, String, String, u32)>,
}

pub async fn organisations(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let organisations = data
        .organisations
        .iter()
        .map(|o| (o.slug.to_string(), o.name.clone(), o.kind_label(), count_of(&state, Facet::Owner, o.slug.as_str())))
        .collect();
    let l = Layout::new(
        &base,
        "/organisations",
        "Organisations",
        "The standards bodies, national teams and others who own the entries in this directory.",
    )
    .section("organisations");
    Ok(html(&OrganisationsPage { l, organisations }))
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    l: Layout,
    o: crate::catalogue::Organisation,
    /// The description's Markdown, rendered.
    description_html: Option<String>,
    items: Vec<Item>,
}

impl OrganisationPage {
    fn website(&self) -> Option<String> {
        self.o.url.as_ref().filter(|u| markdown::safe_url(u) && u.contains("://")).cloned()
    }
}

pub async fn organisation(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let Some(o) = data.organisation(&slug).cloned() else { return Err(WebError::NotFound) };
    let base = state.site.base_url(&headers);
    let items = items_with(&state, &data, Facet::Owner, &slug);
    let description = o.description.clone().unwrap_or_else(|| format!("Standards and APIs from {}.", o.name));
    let url = format!("{base}/organisations/{slug}");
    let mut ld = json!({"@context": "https://schema.org", "@type": "Organization", "@id": url, "name": o.name, "description": description});
    if let Some(site) = &o.url {
        ld["sameAs"] = json!(site);
    }
    let l = Layout::new(&base, &format!("/organisations/{slug}"), o.name.clone(), description)
        .section("organisations")
        .json_ld(&ld)
        .crumb("/organisations", "Organisations");
    let description_html = o.description.as_deref().map(markdown::render);
    Ok(html(&OrganisationPage { l, o, description_html, items }))
}

// ---------------------------------------------------------------- care settings and topics

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    l: Layout,
    heading: &'static str,
    intro: &'static str,
    path: &'static str,
    terms: Vec<TermCount>,
}

pub async fn care_settings(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    terms_page(state, headers, Vocabulary::CareSetting).await
}

pub async fn topics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    terms_page(state, headers, Vocabulary::Topic).await
}

fn vocabulary_parts(vocabulary: Vocabulary) -> (Facet, &'static str, &'static str, &'static str, &'static str) {
    match vocabulary {
        Vocabulary::CareSetting => (
            Facet::CareSetting,
            "care-settings",
            "Care settings",
            "Standards and APIs by the place care is given.",
            "care-settings",
        ),
        _ => (Facet::Topic, "topics", "Topics", "Standards and APIs by what they are about.", "topics"),
    }
}

async fn terms_page(state: AppState, headers: HeaderMap, vocabulary: Vocabulary) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let (facet, path, heading, intro, section) = vocabulary_parts(vocabulary);
    let terms = term_counts(&state, &data, vocabulary, facet);
    let l = Layout::new(&base, &format!("/{path}"), heading, intro).section(section);
    Ok(html(&TermsPage { l, heading, intro, path, terms }))
}

/// Entries under one heading of a care setting or topic page.
pub struct Group {
    pub heading: String,
    pub id: String,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "term.html")]
struct TermPage {
    l: Layout,
    heading: String,
    label: String,
    description: String,
    filter: &'static str,
    slug: String,
    total: usize,
    groups: Vec<Group>,
}

pub async fn care_setting(
    state: State<AppState>,
    slug: Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    term_page(state.0, slug.0, headers, Vocabulary::CareSetting).await
}

pub async fn topic(state: State<AppState>, slug: Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    term_page(state.0, slug.0, headers, Vocabulary::Topic).await
}

async fn term_page(
    state: AppState,
    slug: String,
    headers: HeaderMap,
    vocabulary: Vocabulary,
) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let Some(term) = data.vocabularies.term(vocabulary, &slug).cloned() else { return Err(WebError::NotFound) };
    let base = state.site.base_url(&headers);
    let (facet, path, section_label, _, section) = vocabulary_parts(vocabulary);
    let items = items_with(&state, &data, facet, &slug);
    let total = items.len();
    // Mandated first, then each category in the vocabulary's order.
    let (mandated, others): (Vec<Item>, Vec<Item>) = items.into_iter().partition(|i| i.mandated);
    let mut groups = Vec::new();
    if !mandated.is_empty() {
        groups.push(Group { heading: "Mandated".into(), id: "mandated".into(), items: mandated });
    }
    let mut others = others;
    for category in data.vocabularies.terms(Vocabulary::Category) {
        let (mine, rest): (Vec<Item>, Vec<Item>) = others.into_iter().partition(|i| i.category == category.label);
        others = rest;
        if !mine.is_empty() {
            groups.push(Group {
                heading: category.label.clone(),
                id: format!("category-{}", category.slug),
                items: mine,
            });
        }
    }
    if !others.is_empty() {
        groups.push(Group { heading: "Other".into(), id: "other".into(), items: others });
    }
    // The label as the vocabulary writes it ("GP / Primary care"), never
    // lower-cased into a sentence.
    let heading = format!("{}: standards and APIs", term.label);
    let description = if term.description.trim().is_empty() {
        format!("Standards and national APIs listed under {}.", term.label)
    } else {
        term.description.clone()
    };
    let filter = if vocabulary == Vocabulary::CareSetting { "care_setting" } else { "topic" };
    let l = Layout::new(&base, &format!("/{path}/{slug}"), heading.clone(), description.clone())
        .section(section)
        .crumb(format!("/{path}"), section_label);
    Ok(html(&TermPage { l, heading, label: term.label, description, filter, slug, total, groups }))
}

// ---------------------------------------------------------------- roadmap

/// A future or in-progress entry with its key dates.
pub struct RoadmapItem {
    pub item: Item,
    pub publication_due: Option<NaiveDate>,
    pub implement_from: Option<NaiveDate>,
    pub comply_by: Option<NaiveDate>,
    /// The next date still to come, and what it is.
    pub next: Option<(NaiveDate, &'static str)>,
}

impl RoadmapItem {
    pub fn date_text(&self, d: &Option<NaiveDate>) -> String {
        d.as_ref().map_or_else(|| "Not set".to_owned(), date)
    }
    pub fn next_text(&self) -> String {
        self.next.map_or_else(String::new, |(d, what)| format!("{what} {}", date(&d)))
    }
}

const IN_PROGRESS: [&str; 4] = ["proposed", "draft-in-progress", "awaiting-approval", "in-development"];

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn roadmap_items(state: &AppState, data: &SiteData, care_setting: Option<&str>, today: NaiveDate) -> Vec<RoadmapItem> {
    state.search.with_index(|index| {
        let within = care_setting.map(|s| index.facet_value_id(Facet::CareSetting, s));
        index
            .live_docs()
            .filter(|&d| match within {
                None => true,
                Some(None) => false,
                Some(Some(v)) => index.value_docs(Facet::CareSetting, v).get(d),
            })
            .filter_map(|d| {
                let doc = index.doc(d);
                let dates = [
                    (doc.publication_due, "Publication due"),
                    (doc.implement_from, "Implement from"),
                    (doc.comply_by, "Comply by"),
                ];
                let next = dates
                    .iter()
                    .filter_map(|(v, what)| v.filter(|v| *v >= today).map(|v| (v, *what)))
                    .min_by_key(|(v, _)| *v);
                if next.is_none() && !IN_PROGRESS.contains(&doc.status) {
                    return None;
                }
                Some(RoadmapItem {
                    publication_due: doc.publication_due,
                    implement_from: doc.implement_from,
                    comply_by: doc.comply_by,
                    next,
                    item: item(index, d, data),
                })
            })
            .collect()
    })
}

/// A period on the roadmap's timeline.
pub struct Period {
    pub heading: String,
    pub items: Vec<RoadmapItem>,
}

#[derive(Template)]
#[template(path = "roadmap.html")]
struct RoadmapPage {
    l: Layout,
    sort: &'static str,
    sort_label: &'static str,
    care_setting: String,
    care_settings: Vec<TermCount>,
    periods: Vec<Period>,
    undated: Vec<RoadmapItem>,
    total: usize,
}

const ROADMAP_SORTS: [(&str, &str); 3] =
    [("publication_due", "Publication due"), ("implement_from", "Implement from"), ("comply_by", "Comply by")];

pub async fn roadmap(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let mut problems = Vec::new();
    let mut sort = ROADMAP_SORTS[1];
    let mut care_setting = String::new();
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "sort" => match ROADMAP_SORTS.iter().find(|(key, _)| *key == v) {
                Some(s) => sort = *s,
                None => problems.push(format!("sort: `{v}` is not one of publication_due, implement_from, comply_by")),
            },
            "care_setting" if v.is_empty() => {}
            "care_setting" => match data.vocabularies.resolve(Vocabulary::CareSetting, &v) {
                Ok(slug) => care_setting = slug.to_string(),
                Err(expected) => problems.push(format!("care_setting: `{v}` is not {expected}")),
            },
            other => problems.push(format!("`{other}` is not a setting of this page; it takes sort and care_setting")),
        }
    }
    if !problems.is_empty() {
        return Err(WebError::BadRequest(problems));
    }
    let items = roadmap_items(&state, &data, (!care_setting.is_empty()).then_some(care_setting.as_str()), today());
    let total = items.len();
    // The chosen date places an entry on the timeline; an entry without it
    // goes by the earliest date it has (its dates are all shown), so only
    // entries with no date at all are listed as undated.
    let key = |i: &RoadmapItem| {
        let chosen = match sort.0 {
            "publication_due" => i.publication_due,
            "implement_from" => i.implement_from,
            _ => i.comply_by,
        };
        chosen.or_else(|| [i.publication_due, i.implement_from, i.comply_by].into_iter().flatten().min())
    };
    let (mut dated, mut undated): (Vec<RoadmapItem>, Vec<RoadmapItem>) =
        items.into_iter().partition(|i| key(i).is_some());
    dated.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.item.title.cmp(&b.item.title)));
    undated.sort_by(|a, b| a.item.title.cmp(&b.item.title));
    let mut periods: Vec<Period> = Vec::new();
    for i in dated {
        let d = key(&i).expect("dated");
        let heading = format!("{} {}", d.format("%B"), d.format("%Y"));
        match periods.last_mut() {
            Some(p) if p.heading == heading => p.items.push(i),
            _ => periods.push(Period { heading, items: vec![i] }),
        }
    }
    let l = Layout::new(
        &base,
        "/roadmap",
        "Roadmap of future standards",
        "Standards and APIs on their way: proposed, in development and upcoming, with publication, implementation and compliance dates.",
    )
    .section("roadmap");
    Ok(html(&RoadmapPage {
        l,
        sort: sort.0,
        sort_label: sort.1,
        care_setting,
        care_settings: term_counts(&state, &data, Vocabulary::CareSetting, Facet::CareSetting),
        periods,
        undated,
        total,
    }))
}

// ---------------------------------------------------------------- guides and pages

#[derive(Template)]
#[template(path = "guides.html")]
struct GuidesPage {
    l: Layout,
    guides: Vec<Page>,
}

pub async fn guides(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let l = Layout::new(
        &base,
        "/guides",
        "Guides",
        "Plain-English guides to standards, interoperability and getting help.",
    )
    .section("guides");
    Ok(html(&GuidesPage { l, guides: data.guides.clone() }))
}

#[derive(Template)]
#[template(path = "page.html")]
struct ContentPage {
    l: Layout,
    page: Page,
    body: String,
    updated: Option<String>,
    others: Vec<Page>,
}

fn content_page(base: &str, path: String, page: Page, is_guide: bool, others: Vec<Page>) -> Response {
    let url = format!("{base}{path}");
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": if is_guide { "Article" } else { "WebPage" },
        "@id": url,
        "url": url,
        "headline": page.title,
        "name": page.title,
        "description": page.summary,
        "inLanguage": "en-GB",
        "publisher": {"@type": "Organization", "name": view::SITE_NAME},
    });
    if let Some(t) = page.updated_at {
        ld["dateModified"] = json!(t.to_rfc3339());
    }
    let description = if page.summary.is_empty() { page.title.clone() } else { page.summary.clone() };
    let mut l = Layout::new(base, &path, page.title.clone(), description).json_ld(&ld);
    if is_guide {
        l = l.section("guides").crumb("/guides", "Guides");
        l.og_type = "article";
    }
    let body = markdown::render(&page.body);
    let updated = page.updated_at.as_ref().map(datetime);
    html(&ContentPage { l, page, body, updated, others })
}

pub async fn guide(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let Some(page) = data.guides.iter().find(|g| g.slug.as_str() == slug).cloned() else {
        return Err(WebError::NotFound);
    };
    let others = data.guides.iter().filter(|g| g.slug != page.slug).cloned().collect();
    Ok(content_page(&state.site.base_url(&headers), format!("/guides/{slug}"), page, true, others))
}

/// `/about`, `/help`, `/accessibility`, `/privacy`: site pages by path.
pub async fn site_page(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let slug = uri.path().trim_start_matches('/');
    let Some(page) = data.pages.iter().find(|p| p.slug.as_str() == slug).cloned() else {
        return Err(WebError::NotFound);
    };
    Ok(content_page(&state.site.base_url(&headers), format!("/{slug}"), page, false, Vec::new()))
}

#[derive(Template)]
#[template(path = "glossary.html")]
struct GlossaryPage {
    l: Layout,
    letters: Vec<(String, String, Vec<GlossaryTerm>)>,
}

pub async fn glossary(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    // (label, anchor, terms) by first letter; digits and symbols together.
    let mut letters: Vec<(String, String, Vec<GlossaryTerm>)> = Vec::new();
    for term in data.glossary.iter() {
        let first = term.term.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_ascii_uppercase());
        let (label, anchor) = match first {
            Some(c) if c.is_ascii_alphabetic() => (c.to_string(), format!("letter-{c}")),
            _ => ("0-9".to_owned(), "letter-other".to_owned()),
        };
        match letters.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, _, terms)) => terms.push(term.clone()),
            None => letters.push((label, anchor, vec![term.clone()])),
        }
    }
    let url = format!("{base}/glossary");
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "DefinedTermSet",
        "@id": url,
        "name": "Glossary",
        "hasDefinedTerm": data.glossary.iter().map(|t| json!({
            "@type": "DefinedTerm", "@id": format!("{url}#{}", t.slug), "name": t.term, "description": t.definition
        })).collect::<Vec<_>>(),
    });
    let l = Layout::new(
        &base,
        "/glossary",
        "Glossary",
        "What the technical words and abbreviations in this directory mean.",
    )
    .section("glossary")
    .json_ld(&ld);
    Ok(html(&GlossaryPage { l, letters }))
}

// ---------------------------------------------------------------- machine-readable

fn xml_escape(text: &str) -> String {
    crate::search::index::escape(text)
}

pub async fn sitemap(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let data: Arc<SiteData> = state.site.data(&state.store, state.search.seq()).await?;
    let base = state.site.base_url(&headers);
    let mut urls: Vec<(String, Option<String>)> = Vec::new();
    for path in ["/", "/search", "/care-settings", "/topics", "/organisations", "/roadmap", "/guides", "/glossary"] {
        urls.push((path.to_owned(), None));
    }
    for page in &data.pages {
        urls.push((format!("/{}", page.slug), page.updated_at.map(|t| t.date_naive().to_string())));
    }
    for page in &data.guides {
        urls.push((format!("/guides/{}", page.slug), page.updated_at.map(|t| t.date_naive().to_string())));
    }
    for t in data.vocabularies.terms(Vocabulary::CareSetting) {
        urls.push((format!("/care-settings/{}", t.slug), None));
    }
    for t in data.vocabularies.terms(Vocabulary::Topic) {
        urls.push((format!("/topics/{}", t.slug), None));
    }
    for o in &data.organisations {
        urls.push((format!("/organisations/{}", o.slug), o.updated_at.map(|t| t.date_naive().to_string())));
    }
    state.search.with_index(|index| {
        for d in index.live_docs() {
            let doc = index.doc(d);
            let modified = chrono::DateTime::from_timestamp_micros(doc.updated_at).map(|t| t.date_naive().to_string());
            urls.push((format!("/standards/{}", doc.slug), modified));
        }
    });
    let mut xml = String::with_capacity(urls.len() * 120);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, modified) in urls {
        xml.push_str("  <url><loc>");
        xml.push_str(&xml_escape(&format!("{base}{path}")));
        xml.push_str("</loc>");
        if let Some(m) = modified {
            xml.push_str("<lastmod>");
            xml.push_str(&m);
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

pub async fn robots(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = state.site.base_url(&headers);
    let text = format!(
        "User-agent: *\nAllow: /\nDisallow: /search?\nDisallow: /api/\nDisallow: /sign-in\n\nSitemap: {base}/sitemap.xml\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}
