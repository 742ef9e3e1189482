//! `package_search`: CKAN's Solr-syntax `q` and `fq`, answered by the
//! directory's own search index.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::actions::{ActionError, Params, status_label, term_label};
use super::package::package;
use super::solr::{self, Occur, Query};
use crate::app::AppState;
use crate::catalogue::{Organisation, Vocabularies, Vocabulary};
use crate::search::index::{Facet, Index, Pattern};
use crate::search::{Bits, Budget, OverBudget};

/// What a query can be evaluated against.
struct Scope<'a> {
    index: &'a Index,
    vocabularies: &'a Vocabularies,
    orgs: &'a HashMap<String, Organisation>,
    /// The work this request may still do (see `search::budget`).
    budget: &'a Budget,
}

/// How a field value is compared.
enum Compare<'q> {
    Exact(&'q str),
    Glob(Pattern),
}

impl Compare<'_> {
    fn matches(&self, value: &str, budget: &Budget) -> Result<bool, OverBudget> {
        match self {
            Compare::Exact(v) => {
                budget.spend(1)?;
                Ok(value.eq_ignore_ascii_case(v))
            }
            Compare::Glob(p) => p.matches_text(value, budget),
        }
    }
}

impl From<OverBudget> for ActionError {
    fn from(e: OverBudget) -> ActionError {
        ActionError::search(format!("Search Query is invalid: {e}"))
    }
}

impl Scope<'_> {
    fn all(&self) -> Result<Bits, OverBudget> {
        self.budget.spend(self.index.capacity() as u64 / 64 + 1)?;
        let mut b = Bits::with_len(self.index.capacity());
        b.or(self.index.live());
        Ok(b)
    }

    fn docs_where(&self, keep: impl Fn(u32) -> Result<bool, OverBudget>) -> Result<Bits, OverBudget> {
        let mut b = Bits::with_len(self.index.capacity());
        for d in self.index.live_docs() {
            self.budget.spend(1)?;
            if keep(d)? {
                b.set(d);
            }
        }
        Ok(b)
    }

    fn text(&self, q: &str) -> Result<Bits, OverBudget> {
        let mut b = Bits::with_len(self.index.capacity());
        for (d, _) in self.index.matches(&self.index.parse(q, self.budget)?, self.budget)? {
            b.set(d);
        }
        Ok(b)
    }

    /// Documents whose facet value (by slug or label) matches.
    fn facet(&self, facet: Facet, cmp: &Compare<'_>, label: impl Fn(&str) -> String) -> Result<Bits, OverBudget> {
        let mut out = Bits::with_len(self.index.capacity());
        for id in 0..self.index.facet_value_count(facet) as u32 {
            let (slug, _) = self.index.facet_label(facet, id);
            if cmp.matches(slug, self.budget)? || cmp.matches(&label(slug), self.budget)? {
                self.budget.spend(self.index.capacity() as u64 / 64 + 1)?;
                out.or(self.index.value_docs(facet, id));
            }
        }
        out.and(self.index.live());
        Ok(out)
    }

    fn field(&self, field: &str, cmp: Compare<'_>) -> Result<Bits, ActionError> {
        let ix = self.index;
        let v = self.vocabularies;
        let b = self.budget;
        Ok(match field {
            "name" => self.docs_where(|d| cmp.matches(&ix.doc(d).slug, b))?,
            "id" => {
                self.docs_where(|d| cmp.matches(&crate::catalogue::Entry::id_for_slug(&ix.doc(d).slug).to_string(), b))?
            }
            "title" | "title_string" => self.docs_where(|d| {
                let title = &ix.doc(d).title;
                if cmp.matches(title, b)? {
                    return Ok(true);
                }
                for word in title.split(|c: char| !c.is_alphanumeric()) {
                    if cmp.matches(word, b)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            })?,
            "tags" => self.docs_where(|d| {
                for tag in &ix.doc(d).tags {
                    if cmp.matches(tag, b)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            })?,
            "organization" | "owner" => {
                self.facet(Facet::Owner, &cmp, |s| self.orgs.get(s).map_or(s.to_owned(), |o| o.name.clone()))?
            }
            "owner_org" => {
                self.facet(Facet::Owner, &cmp, |s| self.orgs.get(s).map_or(s.to_owned(), |o| o.id.to_string()))?
            }
            "status" => self.facet(Facet::Status, &cmp, status_label)?,
            "care_setting" | "care_settings" => {
                self.facet(Facet::CareSetting, &cmp, |s| term_label(v, Vocabulary::CareSetting, s))?
            }
            "topic" | "topics" => self.facet(Facet::Topic, &cmp, |s| term_label(v, Vocabulary::Topic, s))?,
            "standard_category" | "category" => {
                self.facet(Facet::Category, &cmp, |s| term_label(v, Vocabulary::Category, s))?
            }
            "technology" | "technologies" => {
                self.facet(Facet::Technology, &cmp, |s| term_label(v, Vocabulary::Technology, s))?
            }
            "entry_type" => self.facet(Facet::Type, &cmp, str::to_owned)?,
            // Booleans are the strings `true` and `false`, as Solr indexes
            // them: `mandated:true`, `mandated:(*true*)` and
            // `is_published_standard:true` all mean what they say.
            "mandated" => self.docs_where(|d| yes_no(&cmp, ix.doc(d).mandated, b))?,
            "is_published_standard" => self.docs_where(|d| yes_no(&cmp, published(ix.doc(d).status), b))?,
            // Every package is a public, active dataset.
            "type" | "dataset_type" => {
                if cmp.matches("dataset", b)? {
                    self.all()?
                } else {
                    Bits::default()
                }
            }
            "state" => {
                if cmp.matches("active", b)? {
                    self.all()?
                } else {
                    Bits::default()
                }
            }
            "capacity" => {
                if cmp.matches("public", b)? {
                    self.all()?
                } else {
                    Bits::default()
                }
            }
            "text" => match cmp {
                Compare::Exact(t) => self.text(t)?,
                Compare::Glob(p) => ix.wildcard(&p, b)?,
            },
            other => {
                return Err(ActionError::search(format!(
                    "Search Query is invalid: unknown field `{other}`; use name, title, tags, organization, owner_org, status, care_setting, topic, standard_category, technology, mandated, is_published_standard, entry_type, text"
                )));
            }
        })
    }

    /// Documents whose date (or name) lies in a range.
    fn range(
        &self,
        field: &str,
        lower: Option<&str>,
        upper: Option<&str>,
        include_lower: bool,
        include_upper: bool,
    ) -> Result<Bits, ActionError> {
        let ix = self.index;
        let within = |v: i64, lo: Option<i64>, hi: Option<i64>| {
            lo.is_none_or(|l| if include_lower { v >= l } else { v > l })
                && hi.is_none_or(|h| if include_upper { v <= h } else { v < h })
        };
        let bound = |b: Option<&str>| b.map(|b| solr_time(b).map_err(ActionError::search)).transpose();
        Ok(match field {
            "metadata_modified" | "metadata_created" => {
                let (lo, hi) = (bound(lower)?, bound(upper)?);
                let modified = field == "metadata_modified";
                self.docs_where(|d| {
                    let doc = ix.doc(d);
                    Ok(within(if modified { doc.updated_at } else { doc.created_at }, lo, hi))
                })?
            }
            "comply_by_date" | "comply_by" => {
                let (lo, hi) = (bound(lower)?, bound(upper)?);
                self.docs_where(|d| {
                    Ok(ix
                        .doc(d)
                        .comply_by
                        .and_then(|c| c.and_hms_opt(0, 0, 0))
                        .is_some_and(|c| within(c.and_utc().timestamp_micros(), lo, hi)))
                })?
            }
            "name" => self.docs_where(|d| {
                let name = ix.doc(d).slug.as_str();
                Ok(lower.is_none_or(|l| if include_lower { name >= l } else { name > l })
                    && upper.is_none_or(|u| if include_upper { name <= u } else { name < u }))
            })?,
            other => {
                return Err(ActionError::search(format!(
                    "Search Query is invalid: ranges work on metadata_modified, metadata_created, comply_by_date and name, not `{other}`"
                )));
            }
        })
    }

    fn eval(&self, q: &Query) -> Result<Bits, ActionError> {
        Ok(match q {
            Query::All => self.all()?,
            Query::Term { field: None, text } | Query::Fuzzy { field: None, text, .. } => self.text(text)?,
            Query::Phrase { field: None, text } => self.text(&format!("\"{text}\""))?,
            Query::Wildcard { field: None, pattern } => self.index.wildcard(&Pattern::new(pattern), self.budget)?,
            Query::Term { field: Some(f), text }
            | Query::Phrase { field: Some(f), text }
            | Query::Fuzzy { field: Some(f), text, .. } => self.field(f, Compare::Exact(text))?,
            Query::Wildcard { field: Some(f), pattern } => self.field(f, Compare::Glob(Pattern::new(pattern)))?,
            Query::Range { field, lower, upper, include_lower, include_upper } => {
                self.range(field, lower.as_deref(), upper.as_deref(), *include_lower, *include_upper)?
            }
            Query::Bool(clauses) => {
                let mut must: Option<Bits> = None;
                let mut should: Option<Bits> = None;
                let mut not = Bits::default();
                for c in clauses {
                    let bits = self.eval(&c.query)?;
                    match c.occur {
                        Occur::Must => match &mut must {
                            Some(m) => m.and(&bits),
                            None => must = Some(bits),
                        },
                        Occur::Should => match &mut should {
                            Some(s) => s.or(&bits),
                            None => should = Some(bits),
                        },
                        Occur::MustNot => not.or(&bits),
                    }
                }
                let mut result = match (must, should) {
                    (Some(m), _) => m,
                    (None, Some(s)) => s,
                    (None, None) => self.all()?,
                };
                for d in not.ones() {
                    result.clear(d);
                }
                result
            }
        })
    }
}

/// A Solr date bound as microseconds since 1970: an ISO date or
/// timestamp, or `NOW` with an optional `-N` (or `+N`) `DAYS`, `MONTHS` or
/// `YEARS`, and an optional rounding such as `/DAY` (ignored).
fn solr_time(text: &str) -> Result<i64, String> {
    use chrono::{DateTime, Months, NaiveDate, Utc};
    let bad =
        || format!("Search Query is invalid: `{text}` is not a date (2024-01-31, 2024-01-31T00:00:00Z or NOW-30DAYS)");
    if let Some(rest) = text.strip_prefix("NOW") {
        let rest = rest.split('/').next().unwrap_or_default();
        let now = Utc::now();
        if rest.is_empty() {
            return Ok(now.timestamp_micros());
        }
        // By character, not byte: `NOWé` must be a bad bound, not a panic.
        let (sign, rest) = if let Some(r) = rest.strip_prefix('-') {
            (-1i64, r)
        } else if let Some(r) = rest.strip_prefix('+') {
            (1, r)
        } else {
            return Err(bad());
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let unit = &rest[digits.len()..];
        // Checked arithmetic: a bound beyond the calendar is a bad bound.
        let shifted = match unit {
            "DAY" | "DAYS" => {
                chrono::Duration::try_days(sign * n).and_then(|d| now.checked_add_signed(d)).ok_or_else(bad)?
            }
            "MONTH" | "MONTHS" | "YEAR" | "YEARS" => {
                let n = if unit.starts_with("YEAR") { n.checked_mul(12).ok_or_else(bad)? } else { n };
                let months = Months::new(u32::try_from(n).map_err(|_| bad())?);
                if sign < 0 { now.checked_sub_months(months) } else { now.checked_add_months(months) }
                    .ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        return Ok(shifted.timestamp_micros());
    }
    if let Ok(t) = text.parse::<DateTime<Utc>>() {
        return Ok(t.timestamp_micros());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or_else(bad)
}

/// The free words of a query (not in fields, not excluded), for ranking.
fn free_text(q: &Query, out: &mut Vec<String>) {
    match q {
        Query::Term { field: None, text } | Query::Fuzzy { field: None, text, .. } => out.push(text.clone()),
        Query::Phrase { field: None, text } => out.push(format!("\"{text}\"")),
        Query::Bool(clauses) => {
            for c in clauses.iter().filter(|c| c.occur != Occur::MustNot) {
                free_text(&c.query, out);
            }
        }
        _ => {}
    }
}

fn parse(param: &str, text: &str) -> Result<Query, ActionError> {
    solr::parse(text).map_err(|e| ActionError::search(format!("Search Query is invalid: {param}: {e}")))
}

#[derive(Clone, Copy)]
enum SortKey {
    Score,
    Modified,
    Created,
    Title,
    Name,
}

fn parse_sort(sort: &str) -> Result<Vec<(SortKey, bool)>, ActionError> {
    let mut keys = Vec::new();
    for part in sort.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let desc = match words.next().unwrap_or("asc").to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            other => {
                return Err(ActionError::search(format!(
                    "Search Query is invalid: sort direction `{other}`: expected asc or desc"
                )));
            }
        };
        let key = match field {
            "score" => SortKey::Score,
            "metadata_modified" => SortKey::Modified,
            "metadata_created" => SortKey::Created,
            "title_string" | "title" => SortKey::Title,
            "name" => SortKey::Name,
            other => {
                return Err(ActionError::search(format!(
                    "Search Query is invalid: cannot sort on `{other}`; use score, metadata_modified, metadata_created, title_string or name"
                )));
            }
        };
        keys.push((key, desc));
    }
    Ok(keys)
}

/// A facet value's name, display name and count.
type FacetItem = (String, String, u32);

/// The fields `facet.field` takes.
pub const FACETABLE: &[&str] = &[
    "organization",
    "tags",
    "status",
    "care_setting",
    "topic",
    "standard_category",
    "technology",
    "mandated",
    "entry_type",
    "license_id",
    "groups",
    "res_format",
];

pub async fn package_search(state: &AppState, p: &Params) -> Result<Value, ActionError> {
    let q = parse("q", &p.str("q").unwrap_or_default())?;
    let fq = parse("fq", &p.str("fq").unwrap_or_default())?;
    let rows = p.int("rows")?.unwrap_or(10);
    if rows < 0 {
        return Err(ActionError::validation("rows: Must be a natural number"));
    }
    let rows = rows.min(1000) as usize;
    let start = p.int("start")?.unwrap_or(0);
    if start < 0 {
        return Err(ActionError::validation("start: Must be a natural number"));
    }
    let sort_text = p.str("sort").unwrap_or_else(|| "score desc, metadata_modified desc".into());
    let sort = parse_sort(&sort_text)?;
    let facet_fields = p.list("facet.field")?.unwrap_or_default();
    for f in &facet_fields {
        if !FACETABLE.contains(&f.as_str()) {
            return Err(ActionError::search(format!(
                "Search Query is invalid: cannot facet on `{f}`; use one of {}",
                FACETABLE.join(", ")
            )));
        }
    }
    let facet_limit = p.int("facet.limit")?.unwrap_or(50);
    let facet_mincount = p.int("facet.mincount")?.unwrap_or(1).max(0) as u32;
    p.bool("include_private")?;
    p.bool("include_drafts")?;

    let vocabularies = state.store.vocabularies().await?;
    let orgs: HashMap<String, Organisation> =
        state.store.organisations().await?.into_iter().map(|o| (o.slug.to_string(), o)).collect();

    let (count, page, facets) = state.search.with_index(|index| -> Result<_, ActionError> {
        let budget = state.search.budget();
        let scope = Scope { index, vocabularies: &vocabularies, orgs: &orgs, budget: &budget };
        let mut result = scope.eval(&q)?;
        result.and(&scope.eval(&fq)?);
        let mut words = Vec::new();
        free_text(&q, &mut words);
        let scores: HashMap<u32, f32> = if words.is_empty() {
            HashMap::new()
        } else {
            index.matches(&index.parse(&words.join(" "), &budget)?, &budget)?.into_iter().collect()
        };
        let mut docs: Vec<u32> = result.ones().collect();
        docs.sort_by(|&a, &b| {
            let (da, db) = (index.doc(a), index.doc(b));
            for &(key, desc) in &sort {
                let o = match key {
                    SortKey::Score => {
                        scores.get(&a).copied().unwrap_or(0.0).total_cmp(&scores.get(&b).copied().unwrap_or(0.0))
                    }
                    SortKey::Modified => da.updated_at.cmp(&db.updated_at),
                    SortKey::Created => da.created_at.cmp(&db.created_at),
                    SortKey::Title => index.title_rank(a).cmp(&index.title_rank(b)),
                    SortKey::Name => da.slug.cmp(&db.slug),
                };
                let o = if desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            da.slug.cmp(&db.slug)
        });
        let page: Vec<String> =
            docs.iter().skip(start as usize).take(rows).map(|&d| index.doc(d).slug.clone()).collect();
        let mut facets: Vec<(String, Vec<FacetItem>)> = Vec::new();
        for field in &facet_fields {
            let mut counts: HashMap<(String, String), u32> = HashMap::new();
            let mut bump = |name: String, label: String| *counts.entry((name, label)).or_default() += 1;
            let facet = match field.as_str() {
                "organization" => Some(Facet::Owner),
                "status" => Some(Facet::Status),
                "care_setting" => Some(Facet::CareSetting),
                "topic" => Some(Facet::Topic),
                "standard_category" => Some(Facet::Category),
                "technology" => Some(Facet::Technology),
                "mandated" => Some(Facet::Mandated),
                "entry_type" => Some(Facet::Type),
                _ => None,
            };
            for &d in &docs {
                let doc = index.doc(d);
                match facet {
                    Some(f) => {
                        for &v in index.doc_facets(d, f) {
                            let (slug, label) = index.facet_label(f, v);
                            bump(slug.to_owned(), label.to_owned());
                        }
                    }
                    None if field == "tags" => {
                        for t in &doc.tags {
                            bump(t.clone(), t.clone());
                        }
                    }
                    None => {}
                }
            }
            let mut items: Vec<FacetItem> =
                counts.into_iter().filter(|(_, c)| *c >= facet_mincount).map(|((n, l), c)| (n, l, c)).collect();
            items.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            if facet_limit >= 0 {
                items.truncate(facet_limit as usize);
            }
            facets.push((field.clone(), items));
        }
        Ok((docs.len(), page, facets))
    })?;

    let mut results = Vec::with_capacity(page.len());
    for slug in &page {
        if let Some(e) = state.store.entry(slug).await? {
            results.push(package(&e, orgs.get(e.owner.as_str()), &vocabularies));
        }
    }
    let mut facet_map = Map::new();
    let mut search_facets = Map::new();
    for (field, items) in facets {
        facet_map.insert(field.clone(), Value::Object(items.iter().map(|(n, _, c)| (n.clone(), json!(c))).collect()));
        search_facets.insert(
            field.clone(),
            json!({"title": field, "items": items.iter().map(|(n, l, c)| json!({"name": n, "display_name": l, "count": c})).collect::<Vec<_>>()}),
        );
    }
    Ok(json!({
        "count": count,
        "results": results,
        "facets": facet_map,
        "search_facets": search_facets,
        "sort": sort_text,
    }))
}

/// Whether a boolean field's value, as the string `true` or `false`,
/// matches `cmp`; `yes`/`no` and `1`/`0` are read as the booleans too.
fn yes_no(cmp: &Compare<'_>, value: bool, budget: &Budget) -> Result<bool, OverBudget> {
    let text = if value { "true" } else { "false" };
    if cmp.matches(text, budget)? {
        return Ok(true);
    }
    let aliases: &[&str] = if value { &["yes", "1"] } else { &["no", "0"] };
    Ok(matches!(cmp, Compare::Exact(x) if aliases.iter().any(|a| x.eq_ignore_ascii_case(a))))
}

/// The national directory's "published standard": in force, including
/// deprecated ones still in use (the CKAN package's `is_published_standard`).
pub fn published(status: &str) -> bool {
    matches!(status, "active" | "deprecated")
}
