//! Finding entries: the search index (derived from the store, rebuilt at
//! start-up, kept current from the changes log) and the queries that run
//! on it, with filters, facet counts, sorting, highlights and suggestions.

mod analytics;
mod bits;
pub mod budget;
mod hash;
pub mod index;
pub mod text;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

pub use analytics::{Analytics, QueryStat};
pub use bits::Bits;
pub use budget::{Budget, OverBudget};
use index::{Context, Facet, Index, highlight, snippet};

use crate::catalogue::{Entry, Slug};
use crate::store::{EntryQuery, Store};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchSort {
    #[default]
    Relevance,
    Title,
    Updated,
    ComplyBy,
}

impl SearchSort {
    pub const NAMES: &'static [&'static str] = &["relevance", "title", "updated", "comply_by"];

    pub fn parse(value: &str) -> Option<SearchSort> {
        match value {
            "relevance" => Some(SearchSort::Relevance),
            "title" => Some(SearchSort::Title),
            "updated" | "-updated" | "recently_updated" => Some(SearchSort::Updated),
            "comply_by" => Some(SearchSort::ComplyBy),
            _ => None,
        }
    }
}

/// A search: words, filters (as resolved slugs), order and page.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    pub filters: EntryQuery,
    pub sort: SearchSort,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Highlights {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[serde(rename = "type")]
    pub entry_type: String,
    pub status: String,
    pub owner: String,
    /// Whether the entry is mandated, and its dates, so a result can say so.
    pub mandated: bool,
    pub comply_by: Option<chrono::NaiveDate>,
    pub implement_from: Option<chrono::NaiveDate>,
    pub highlights: Highlights,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: u32,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub total: usize,
    pub page: u32,
    pub per_page: u32,
    pub results: Vec<Hit>,
    pub facets: serde_json::Map<String, serde_json::Value>,
    pub suggestion: Option<String>,
}

/// The search service: one index per process, following the store.
pub struct Search {
    index: RwLock<Index>,
    last_seq: tokio::sync::Mutex<i64>,
    pub analytics: Analytics,
    /// Steps one request's search may take (`standards serve --search-budget`).
    budget_steps: std::sync::atomic::AtomicU64,
    /// The changes log position the index has reached, readable without
    /// waiting on the follower.
    seq: std::sync::atomic::AtomicI64,
}

fn selected(filters: &EntryQuery) -> [Vec<String>; 8] {
    let slugs = |v: &[Slug]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [
        slugs(&filters.categories),
        filters.statuses.iter().map(|s| s.slug().to_owned()).collect(),
        slugs(&filters.care_settings),
        slugs(&filters.topics),
        slugs(&filters.technologies),
        slugs(&filters.owners),
        filters.types.iter().map(|t| t.as_str().to_owned()).collect(),
        filters.mandated.map(|m| m.to_string()).into_iter().collect(),
    ]
}

impl Search {
    /// Builds the index from everything in the store.
    pub async fn build(store: &Store) -> anyhow::Result<Search> {
        // The sequence number first: a change that lands while loading is
        // applied again by the next catch-up, which is harmless.
        let seq = store.last_change_seq().await?;
        let index = build_index(store).await?;
        Ok(Search {
            index: RwLock::new(index),
            last_seq: tokio::sync::Mutex::new(seq),
            analytics: Analytics::default(),
            budget_steps: std::sync::atomic::AtomicU64::new(budget::SEARCH_STEPS),
            seq: std::sync::atomic::AtomicI64::new(seq),
        })
    }

    /// Sets how many steps one request's search may take.
    pub fn set_budget(&self, steps: u64) {
        self.budget_steps.store(steps, std::sync::atomic::Ordering::Relaxed);
    }

    /// The changes log position the index reflects: what every page and
    /// answer built from memory is current as of.
    pub fn seq(&self) -> i64 {
        self.seq.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A fresh budget for one request.
    pub fn budget(&self) -> Budget {
        Budget::new(self.budget_steps.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn len(&self) -> usize {
        self.index.read().expect("index lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies changes from the log since the last call: entries one by
    /// one; a change to an organisation or vocabulary rebuilds the index,
    /// since labels and synonyms reach every document.
    pub async fn catch_up(&self, store: &Store) -> anyhow::Result<usize> {
        let mut last = self.last_seq.lock().await;
        let mut applied = 0;
        loop {
            let changes = store.changes_since(*last, 1000).await?;
            let Some(newest) = changes.last().map(|c| c.seq) else { break };
            // Accounts and tokens do not touch the index.
            if changes.iter().any(|c| c.entity == "organisation" || c.entity == "term") {
                let seq = store.last_change_seq().await?;
                let rebuilt = build_index(store).await?;
                *self.index.write().expect("index lock") = rebuilt;
                applied += changes.len();
                *last = seq;
                self.seq.store(seq, std::sync::atomic::Ordering::Release);
                continue;
            }
            let vocabularies = store.vocabularies().await?;
            let organisations = organisations_by_slug(store).await?;
            let ctx = Context { vocabularies: &vocabularies, organisations: &organisations };
            let mut index = self.index.write().expect("index lock");
            for change in &changes {
                if change.entity != "entry" {
                    continue;
                }
                match (&change.after, &change.before) {
                    (Some(after), _) => {
                        let mut entry: Entry = serde_json::from_value(after.clone())?;
                        entry.updated_at = change.at.parse().ok();
                        if change.action == "create" {
                            entry.created_at = entry.updated_at;
                        }
                        index.upsert(&entry, &ctx);
                    }
                    (None, Some(before)) => {
                        if let Some(slug) = before.get("slug").and_then(|s| s.as_str()) {
                            index.remove(slug);
                        }
                    }
                    (None, None) => {}
                }
            }
            index.refresh();
            applied += changes.len();
            *last = newest;
            self.seq.store(newest, std::sync::atomic::Ordering::Release);
        }
        Ok(applied)
    }

    /// Follows the changes log in the background, so writes by other
    /// processes (imports, other instances) reach this index.
    pub fn follow(self: &Arc<Self>, store: Arc<Store>, every: Duration) -> tokio::task::JoinHandle<()> {
        let search = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = search.catch_up(&store).await {
                    tracing::warn!(error = %e, "search index could not follow the changes log");
                }
                if let Err(e) = search.analytics.flush(&store).await {
                    tracing::warn!(error = %e, "search analytics could not be saved");
                }
            }
        })
    }

    /// Runs a search within one request's budget of work.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse, OverBudget> {
        let index = self.index.read().expect("index lock");
        let response = run(&index, request, &self.budget());
        drop(index);
        let response = response?;
        if !request.q.trim().is_empty() {
            self.analytics.record(&request.q, response.total);
        }
        Ok(response)
    }

    /// Runs `f` with read access to the index, for other query languages
    /// (the CKAN API's Solr syntax) built on the same engine.
    pub fn with_index<R>(&self, f: impl FnOnce(&Index) -> R) -> R {
        f(&self.index.read().expect("index lock"))
    }

    /// Up to eight titles for what is being typed.
    pub fn suggest(&self, q: &str) -> Vec<serde_json::Value> {
        let index = self.index.read().expect("index lock");
        if q.trim().is_empty() {
            return Vec::new();
        }
        let budget = self.budget();
        let Ok(parsed) = index.parse(q, &budget) else { return Vec::new() };
        let Ok(mut matches) = index.matches(&parsed, &budget) else { return Vec::new() };
        matches.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then_with(|| index.doc(a.0).sort_title.cmp(&index.doc(b.0).sort_title))
        });
        matches
            .iter()
            .take(8)
            .map(|(d, _)| {
                let doc = index.doc(*d);
                serde_json::json!({"slug": doc.slug, "title": doc.title, "type": doc.entry_type})
            })
            .collect()
    }
}

async fn organisations_by_slug(store: &Store) -> anyhow::Result<HashMap<String, crate::catalogue::Organisation>> {
    Ok(store.organisations().await?.into_iter().map(|o| (o.slug.to_string(), o)).collect())
}

async fn build_index(store: &Store) -> anyhow::Result<Index> {
    let started = std::time::Instant::now();
    let vocabularies = store.vocabularies().await?;
    let organisations = organisations_by_slug(store).await?;
    let entries = store.entries().await?;
    let loaded = started.elapsed();
    let ctx = Context { vocabularies: &vocabularies, organisations: &organisations };
    let index = index_of(&entries, &ctx);
    tracing::debug!(
        entries = entries.len(),
        load_ms = loaded.as_millis() as u64,
        index_ms = (started.elapsed() - loaded).as_millis() as u64,
        "search index built"
    );
    Ok(index)
}

/// An index of these entries.
pub fn index_of(entries: &[Entry], ctx: &Context<'_>) -> Index {
    let mut index = Index::new(ctx.vocabularies);
    for entry in entries {
        index.upsert(entry, ctx);
    }
    index.refresh();
    index
}

/// Runs a search on an index.
pub fn run(index: &Index, request: &SearchRequest, budget: &Budget) -> Result<SearchResponse, OverBudget> {
    let parsed = index.parse(&request.q, budget)?;
    let matches = if parsed.units.is_empty() { Vec::new() } else { index.matches(&parsed, budget)? };
    let wanted = selected(&request.filters);
    // Each selected value and each facet count is a pass over a bitset.
    let passes = wanted.iter().map(Vec::len).sum::<usize>() + Facet::ALL.len() * 2;
    budget.spend(passes as u64 * (index.capacity() as u64 / 64 + 1))?;
    // Selected values as ids; a value the index has never seen matches nothing.
    let selection: Vec<Option<Vec<u32>>> = Facet::ALL
        .iter()
        .map(|f| {
            let slugs = &wanted[*f as usize];
            (!slugs.is_empty()).then(|| slugs.iter().map(|s| index.facet_value_id(*f, s).unwrap_or(u32::MAX)).collect())
        })
        .collect();
    // Facet counts on bitsets: each facet's counts ignore its own
    // selection, so they show what choosing another value would give.
    let mut matched = Bits::with_len(index.capacity());
    if parsed.units.is_empty() {
        matched.or(index.live());
    } else {
        for &(doc, _) in &matches {
            matched.set(doc);
        }
    }
    let filters: Vec<Option<Bits>> = Facet::ALL
        .iter()
        .zip(&selection)
        .map(|(facet, sel)| {
            sel.as_ref().map(|ids| {
                let mut bits = Bits::with_len(index.capacity());
                for &id in ids {
                    if (id as usize) < index.facet_value_count(*facet) {
                        bits.or(index.value_docs(*facet, id));
                    }
                }
                bits
            })
        })
        .collect();
    let mut all = matched.clone();
    for f in filters.iter().flatten() {
        all.and(f);
    }
    let mut counts: Vec<Vec<u32>> = Vec::with_capacity(Facet::ALL.len());
    for (fi, facet) in Facet::ALL.iter().enumerate() {
        let base = if filters[fi].is_some() {
            let mut base = matched.clone();
            for (gi, g) in filters.iter().enumerate() {
                if gi != fi
                    && let Some(g) = g
                {
                    base.and(g);
                }
            }
            std::borrow::Cow::Owned(base)
        } else {
            std::borrow::Cow::Borrowed(&all)
        };
        let words = base.nonzero_words();
        counts.push(
            (0..index.facet_value_count(*facet) as u32)
                .map(|v| base.count_and_in(index.value_docs(*facet, v), &words))
                .collect(),
        );
    }
    let mut results: Vec<(u32, f32)> = if parsed.units.is_empty() {
        all.ones().map(|d| (d, 0.0)).collect()
    } else {
        matches.iter().copied().filter(|(d, _)| all.get(*d)).collect()
    };
    let total = results.len();
    let sort = if request.q.trim().is_empty() && request.sort == SearchSort::Relevance {
        SearchSort::Title
    } else {
        request.sort
    };
    let per_page = request.per_page.max(1) as usize;
    let start = (request.page.max(1) as usize - 1) * per_page;
    let end = (start + per_page).min(total);
    let cmp = |a: &(u32, f32), b: &(u32, f32)| {
        let (da, db) = (index.doc(a.0), index.doc(b.0));
        let by_title = || index.title_rank(a.0).cmp(&index.title_rank(b.0));
        match sort {
            SearchSort::Relevance => b.1.total_cmp(&a.1).then_with(by_title),
            SearchSort::Title => by_title(),
            SearchSort::Updated => db.updated_at.cmp(&da.updated_at).then_with(by_title),
            SearchSort::ComplyBy => match (da.comply_by, db.comply_by) {
                (Some(x), Some(y)) => x.cmp(&y).then_with(by_title),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => by_title(),
            },
        }
    };
    if start < total {
        // Only the first pages need to be in order.
        if end < total {
            results.select_nth_unstable_by(end, cmp);
            results.truncate(end);
        }
        results.sort_unstable_by(cmp);
    }
    let page_hits: Vec<Hit> = if start < total {
        results[start..end]
            .iter()
            .map(|(d, _)| {
                let doc = index.doc(*d);
                let has_query = !parsed.units.is_empty();
                Hit {
                    slug: doc.slug.clone(),
                    title: doc.title.clone(),
                    summary: doc.summary.clone(),
                    entry_type: doc.entry_type.to_owned(),
                    status: doc.status.to_owned(),
                    owner: doc.owner.clone(),
                    mandated: doc.mandated,
                    comply_by: doc.comply_by,
                    implement_from: doc.implement_from,
                    highlights: Highlights {
                        title: has_query.then(|| highlight(&doc.title, &parsed.highlight)).flatten(),
                        summary: has_query.then(|| highlight(&doc.summary, &parsed.highlight)).flatten(),
                        description: has_query.then(|| snippet(&doc.description, &parsed.highlight, 160)).flatten(),
                    },
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let mut facets = serde_json::Map::new();
    for (fi, facet) in Facet::ALL.iter().enumerate() {
        let sel = &wanted[fi];
        let mut values: Vec<FacetValue> = Vec::new();
        for (id, &count) in counts[fi].iter().enumerate() {
            let (slug, label) = index.facet_label(*facet, id as u32);
            let is_selected = sel.iter().any(|s| s == slug);
            if count > 0 || is_selected {
                values.push(FacetValue {
                    value: slug.to_owned(),
                    label: label.to_owned(),
                    count,
                    selected: is_selected,
                });
            }
        }
        for s in sel {
            if !values.iter().any(|v| &v.value == s) {
                values.push(FacetValue { value: s.clone(), label: s.clone(), count: 0, selected: true });
            }
        }
        let order = index.value_order(*facet);
        if order.is_empty() {
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
        } else {
            let rank = |v: &FacetValue| order.iter().position(|o| o == &v.value).unwrap_or(usize::MAX);
            values.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.label.cmp(&b.label)));
        }
        facets.insert(facet.name().to_owned(), serde_json::to_value(values).unwrap_or_default());
    }

    let mut suggestion = None;
    if !request.q.trim().is_empty()
        && total < 3
        && let Some(s) = index.suggestion(&request.q, budget)?
        && s.to_lowercase() != request.q.trim().to_lowercase()
        && index.matches(&index.parse(&s, budget)?, budget)?.len() > total
    {
        suggestion = Some(s);
    }
    Ok(SearchResponse {
        total,
        page: request.page.max(1),
        per_page: per_page as u32,
        results: page_hits,
        facets,
        suggestion,
    })
}
