//! Reading listings and searches from query strings, for every interface
//! alike: repeated keys, known names only, each value checked with a
//! message that says what was expected. The JSON API answers what is
//! invalid as a 400 problem; the website shows it on the page.

use serde::Serialize;

use crate::app::AppState;
use crate::catalogue::{EntryType, Status, Vocabulary};
use crate::search::{SearchRequest, SearchSort};
use crate::store::{EntryQuery, EntrySort};

/// One thing wrong with a request parameter.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidParam {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Every invalid parameter of a request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid parameters: {}", .0.iter().map(|p| format!("{} `{}`: {}", p.name, p.value, p.reason)).collect::<Vec<_>>().join("; "))]
pub struct InvalidParams(pub Vec<InvalidParam>);

pub struct Params {
    pairs: Vec<(String, String)>,
    invalid: Vec<InvalidParam>,
}

impl Params {
    /// Parses a query string, refusing names not in `allowed`.
    pub fn parse(query: Option<&str>, allowed: &[&str]) -> Params {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut invalid = Vec::new();
        for (k, v) in &pairs {
            if !allowed.contains(&k.as_str()) {
                invalid.push(InvalidParam {
                    name: k.clone(),
                    value: v.clone(),
                    reason: format!("unknown parameter; expected one of {}", allowed.join(", ")),
                });
            }
        }
        Params { pairs, invalid }
    }

    /// Every non-empty value given for `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect()
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.all(name).last().copied()
    }

    pub fn invalid(&mut self, name: &str, value: &str, reason: impl Into<String>) {
        self.invalid.push(InvalidParam { name: name.to_owned(), value: value.to_owned(), reason: reason.into() });
    }

    /// Each value of `name` converted, or recorded as invalid.
    pub fn each<T>(&mut self, name: &str, convert: impl Fn(&str) -> Result<T, String>) -> Vec<T> {
        let values: Vec<String> = self.all(name).into_iter().map(str::to_owned).collect();
        let mut out = Vec::new();
        for v in values {
            match convert(&v) {
                Ok(t) => out.push(t),
                Err(reason) => self.invalid(name, &v, reason),
            }
        }
        out
    }

    /// A whole number in `min..=max`, or `default` when absent.
    pub fn number(&mut self, name: &str, default: u32, min: u32, max: u32) -> u32 {
        match self.one(name).map(str::to_owned) {
            None => default,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.invalid(name, &v, format!("a whole number from {min} to {max}"));
                    default
                }
            },
        }
    }

    /// Each invalid parameter in words, for pages rather than APIs.
    pub fn messages(&self) -> Vec<String> {
        self.invalid.iter().map(|p| format!("{} = `{}`: {}", p.name, p.value, p.reason)).collect()
    }

    /// Ok when every parameter was valid, else every invalid one.
    pub fn finish(self) -> Result<(), InvalidParams> {
        if self.invalid.is_empty() { Ok(()) } else { Err(InvalidParams(self.invalid)) }
    }
}

pub const LIST_PARAMS: &[&str] = &[
    "care_setting",
    "topic",
    "technology",
    "category",
    "status",
    "owner",
    "mandated",
    "type",
    "sort",
    "page",
    "per_page",
];

pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("true or false".into()),
    }
}

/// Reads the entry filters and page shared by the list and search
/// endpoints (each reads its own `sort`).
/// Vocabulary values are accepted as a term's slug or label.
pub async fn entry_query(state: &AppState, params: &mut Params) -> anyhow::Result<EntryQuery> {
    // From memory, so searching works through a database outage.
    let data = state.site.data(&state.store, state.search.seq()).await?;
    let (vocabularies, organisations) = (&data.vocabularies, &data.organisations);
    let term = |vocabulary: Vocabulary| move |v: &str| vocabularies.resolve(vocabulary, v);
    let query = EntryQuery {
        care_settings: params.each("care_setting", term(Vocabulary::CareSetting)),
        topics: params.each("topic", term(Vocabulary::Topic)),
        technologies: params.each("technology", term(Vocabulary::Technology)),
        categories: params.each("category", term(Vocabulary::Category)),
        statuses: params.each("status", Status::parse),
        owners: params.each("owner", |v| {
            organisations
                .iter()
                .find(|o| o.slug.as_str() == v || o.name.eq_ignore_ascii_case(v))
                .map(|o| o.slug.clone())
                .ok_or_else(|| "a known organisation, by slug or name".to_owned())
        }),
        types: params.each("type", |v| match v.to_ascii_lowercase().as_str() {
            "standard" => Ok(EntryType::Standard),
            "api" => Ok(EntryType::Api),
            _ => Err("`standard` or `api`".to_owned()),
        }),
        mandated: params.each("mandated", parse_bool).last().copied(),
        sort: EntrySort::default(),
        page: params.number("page", 1, 1, 100_000),
        per_page: params.number("per_page", 20, 1, 100),
    };
    Ok(query)
}

/// The search endpoint's parameters: the list filters, `sort` and `q`;
/// the search page takes the same.
pub fn search_params(raw: Option<&str>) -> Params {
    let mut allowed = LIST_PARAMS.to_vec();
    allowed.push("q");
    Params::parse(raw, &allowed)
}

/// Reads a search from its parameters; bad values are recorded in
/// `params` for the caller to report.
pub async fn search_request(state: &AppState, params: &mut Params) -> anyhow::Result<SearchRequest> {
    let filters = entry_query(state, params).await?;
    let sort = params
        .each("sort", |v| SearchSort::parse(v).ok_or_else(|| format!("one of {}", SearchSort::NAMES.join(", "))))
        .last()
        .copied()
        .unwrap_or_default();
    let q = params.one("q").unwrap_or("").chars().take(500).collect::<String>();
    Ok(SearchRequest { q, page: filters.page, per_page: filters.per_page, filters, sort })
}
