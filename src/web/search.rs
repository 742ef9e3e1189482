//! The search page: the same query parameters as `/api/v1/search`, a
//! filter panel with counts, selected filters with remove links, sorting,
//! "did you mean" and pagination, every state a shareable address.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::view::{Layout, status_class, status_label, type_label};
use super::{WebError, html};
use crate::app::AppState;
use crate::query::{search_params, search_request};
use crate::search::{FacetValue, Hit, SearchSort};

/// The filter groups in the order the panel shows them.
const GROUPS: [(&str, &str); 8] = [
    ("type", "Type"),
    ("mandated", "Mandated"),
    ("status", "Status"),
    ("care_setting", "Care setting"),
    ("topic", "Topic"),
    ("category", "Category"),
    ("technology", "Technology"),
    ("owner", "Owner"),
];

const SORTS: [(&str, &str); 4] = [
    ("relevance", "Best match"),
    ("title", "Title (A to Z)"),
    ("updated", "Recently updated"),
    ("comply_by", "Comply-by date"),
];

pub struct Group {
    pub name: &'static str,
    pub legend: &'static str,
    pub values: Vec<FacetValue>,
    pub selected: usize,
}

pub struct Chosen {
    /// What the chip reads: "Care setting: Hospital"; a value that names
    /// itself ("Mandated", "Not mandated") alone.
    pub text: String,
    pub remove: String,
}

pub struct Result {
    pub hit: Hit,
    pub title_html: String,
    pub text_html: String,
    pub owner_name: String,
}

impl Result {
    pub fn type_label(&self) -> &'static str {
        type_label(&self.hit.entry_type)
    }
    pub fn status_label(&self) -> &'static str {
        status_label(&self.hit.status)
    }
    pub fn status_class(&self) -> &'static str {
        status_class(&self.hit.status)
    }
    /// The date a reader looks for first: comply by, else implement from.
    pub fn key_date(&self) -> Option<String> {
        match (self.hit.comply_by, self.hit.implement_from) {
            (Some(d), _) => Some(format!("Comply by {}", super::view::date(&d))),
            (None, Some(d)) => Some(format!("From {}", super::view::date(&d))),
            (None, None) => None,
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    total: usize,
    page: u32,
    pages: u32,
    first: usize,
    last: usize,
    sort: &'static str,
    sorts: Vec<(&'static str, &'static str)>,
    per_page: Option<u32>,
    groups: Vec<Group>,
    chosen: Vec<Chosen>,
    clear_all: String,
    results: Vec<Result>,
    suggestion: Option<(String, String)>,
    /// When no entry matches: guides and glossary terms that use the words.
    elsewhere: Vec<Elsewhere>,
    previous: Option<String>,
    next: Option<String>,
}

impl SearchPage {
    fn is_sort(&self, value: &str) -> bool {
        self.sort == value
    }
}

/// The query string for these parameters.
fn href(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return "/search".to_owned();
    }
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    format!("/search?{}", out.finish())
}

/// A guide or glossary term a search with no entry matches can offer.
pub struct Elsewhere {
    pub href: String,
    pub title: String,
    pub kind: &'static str,
}

/// Guides, then glossary terms, whose text uses every word of the query
/// (words of three letters or more, in any case); at most five.
fn elsewhere(data: &crate::app::SiteData, q: &str) -> Vec<Elsewhere> {
    let words: Vec<String> =
        q.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let uses_all = |text: &str| {
        let text = text.to_lowercase();
        words.iter().all(|w| text.contains(w.as_str()))
    };
    let guides = data
        .guides
        .iter()
        .filter(|g| uses_all(&format!("{} {} {}", g.title, g.summary, g.body)))
        .map(|g| Elsewhere { href: format!("/guides/{}", g.slug), title: g.title.clone(), kind: "Guide" });
    let terms = data
        .glossary
        .iter()
        .filter(|t| uses_all(&format!("{} {} {}", t.term, t.aliases.join(" "), t.definition)))
        .map(|t| Elsewhere { href: format!("/glossary#{}", t.slug), title: t.term.clone(), kind: "Glossary" });
    guides.chain(terms).take(5).collect()
}

pub async fn page(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> std::result::Result<Response, WebError> {
    let mut params = search_params(raw.as_deref());
    let request = search_request(&state, &mut params).await?;
    let (q, sort) = (request.q.clone(), request.sort);
    let messages = params.messages();
    if !messages.is_empty() {
        return Err(WebError::BadRequest(messages));
    }
    // Every given parameter, normalised, in a stable order: the basis of
    // each link on the page.
    let per_page_given = params.one("per_page").and_then(|v| v.parse::<u32>().ok());
    let mut base_pairs: Vec<(String, String)> = Vec::new();
    if !q.trim().is_empty() {
        base_pairs.push(("q".into(), q.clone()));
    }
    let response = state.search.search(&request)?;

    let mut groups = Vec::new();
    let mut chosen = Vec::new();
    for (name, legend) in GROUPS {
        let values: Vec<FacetValue> =
            response.facets.get(name).and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        for v in values.iter().filter(|v| v.selected) {
            base_pairs.push((name.to_owned(), v.value.clone()));
        }
        let selected = values.iter().filter(|v| v.selected).count();
        groups.push(Group { name, legend, values, selected });
    }
    let sort_name = SORTS.iter().map(|(n, _)| *n).find(|n| SearchSort::parse(n) == Some(sort)).unwrap_or("relevance");
    let mut with_sort = base_pairs.clone();
    if sort != SearchSort::Relevance {
        with_sort.push(("sort".into(), sort_name.to_owned()));
    }
    if let Some(n) = per_page_given {
        with_sort.push(("per_page".into(), n.to_string()));
    }
    for g in &groups {
        for v in g.values.iter().filter(|v| v.selected) {
            let remove: Vec<(String, String)> =
                with_sort.iter().filter(|(k, val)| !(k == g.name && val == &v.value)).cloned().collect();
            let text = if g.name == "mandated" { v.label.clone() } else { format!("{}: {}", g.legend, v.label) };
            chosen.push(Chosen { text, remove: href(&remove) });
        }
    }
    let clear_all = href(
        &with_sort.iter().filter(|(k, _)| k == "q" || k == "sort" || k == "per_page").cloned().collect::<Vec<_>>(),
    );
    let per_page = response.per_page.max(1);
    let pages = (response.total as u32).div_ceil(per_page).max(1);
    let page_no = response.page;
    let page_href = |n: u32| {
        let mut pairs = with_sort.clone();
        if n > 1 {
            pairs.push(("page".into(), n.to_string()));
        }
        href(&pairs)
    };
    let previous = (page_no > 1 && page_no <= pages).then(|| page_href(page_no - 1));
    let next = (page_no < pages).then(|| page_href(page_no + 1));
    let suggestion = response.suggestion.clone().map(|s| {
        let mut pairs: Vec<(String, String)> = with_sort.iter().filter(|(k, _)| k != "q").cloned().collect();
        pairs.insert(0, ("q".into(), s.clone()));
        (s, href(&pairs))
    });
    let first = ((page_no - 1) * per_page) as usize + 1;
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let elsewhere = if response.results.is_empty() { elsewhere(&data, &q) } else { Vec::new() };
    let results: Vec<Result> = response
        .results
        .into_iter()
        .map(|hit| {
            let title_html = hit.highlights.title.clone().unwrap_or_else(|| crate::search::index::escape(&hit.title));
            let text_html = hit
                .highlights
                .summary
                .clone()
                .or_else(|| hit.highlights.description.clone())
                .unwrap_or_else(|| crate::search::index::escape(&hit.summary));
            let owner_name = data.organisation_name(&hit.owner).to_owned();
            Result { hit, title_html, text_html, owner_name }
        })
        .collect();
    let last = first + results.len().saturating_sub(1);
    let base = state.site.base_url(&headers);
    let title =
        if q.trim().is_empty() { "Search standards and APIs".to_owned() } else { format!("Search results for {q}") };
    let mut l = Layout::new(&base, "/search", title, "Search and filter the directory's standards and national APIs.")
        .section("search");
    l.canonical = format!("{base}{}", href(&with_sort));
    l.q = q.clone();
    l.noindex = !with_sort.is_empty();
    let page = SearchPage {
        l,
        q,
        total: response.total,
        page: page_no,
        pages,
        first,
        last,
        sort: sort_name,
        sorts: SORTS.to_vec(),
        per_page: per_page_given,
        groups,
        chosen,
        clear_all,
        results,
        suggestion,
        elsewhere,
        previous,
        next,
    };
    Ok(html(&page))
}
