//! Listing entries with filters, sorting and pages.

use sqlx::Row;

use super::{Store, entry_from_row};
use crate::catalogue::{Entry, EntryType, Slug, Status};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EntrySort {
    #[default]
    Title,
    /// Most recently updated first.
    Updated,
    /// Soonest comply-by date first; entries without one last.
    ComplyBy,
    /// Newest first.
    Created,
}

impl EntrySort {
    pub const NAMES: &'static [&'static str] = &["title", "updated", "comply_by", "created"];

    pub fn parse(value: &str) -> Option<EntrySort> {
        match value {
            "title" => Some(EntrySort::Title),
            "updated" | "-updated" | "recently_updated" => Some(EntrySort::Updated),
            "comply_by" => Some(EntrySort::ComplyBy),
            "created" | "-created" => Some(EntrySort::Created),
            _ => None,
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            EntrySort::Title => "e.sort_title, e.slug",
            EntrySort::Updated => "e.updated_at DESC, e.slug",
            EntrySort::ComplyBy => "(e.comply_by IS NULL), e.comply_by, e.sort_title, e.slug",
            EntrySort::Created => "e.created_at DESC, e.slug",
        }
    }
}

/// Filters already resolved to slugs. Several values of one filter match
/// any of them; different filters must all match.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub care_settings: Vec<Slug>,
    pub topics: Vec<Slug>,
    pub technologies: Vec<Slug>,
    pub categories: Vec<Slug>,
    pub statuses: Vec<Status>,
    pub owners: Vec<Slug>,
    pub types: Vec<EntryType>,
    pub mandated: Option<bool>,
    pub sort: EntrySort,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

enum Param {
    Text(String),
    Int(i64),
}

struct Sql {
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Sql {
    fn placeholder(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    fn placeholders<I: IntoIterator<Item = String>>(&mut self, values: I) -> String {
        values.into_iter().map(|v| self.placeholder(Param::Text(v))).collect::<Vec<_>>().join(", ")
    }
}

impl Store {
    /// One page of entries matching the query, and how many match in all.
    pub async fn list_entries(&self, q: &EntryQuery) -> anyhow::Result<(i64, Vec<Entry>)> {
        let mut sql = Sql { clauses: Vec::new(), params: Vec::new() };
        for (vocabulary, values) in
            [("care_setting", &q.care_settings), ("topic", &q.topics), ("technology", &q.technologies)]
        {
            if values.is_empty() {
                continue;
            }
            let v = sql.placeholder(Param::Text(vocabulary.to_owned()));
            let list = sql.placeholders(values.iter().map(|s| s.to_string()));
            sql.clauses.push(format!(
                "e.id IN (SELECT entry_id FROM entry_terms WHERE vocabulary = {v} AND term IN ({list}))"
            ));
        }
        if !q.categories.is_empty() {
            let list = sql.placeholders(q.categories.iter().map(|s| s.to_string()));
            sql.clauses.push(format!("e.category IN ({list})"));
        }
        if !q.statuses.is_empty() {
            let list = sql.placeholders(q.statuses.iter().map(|s| s.slug().to_owned()));
            sql.clauses.push(format!("e.status IN ({list})"));
        }
        if !q.types.is_empty() {
            let list = sql.placeholders(q.types.iter().map(|t| t.as_str().to_owned()));
            sql.clauses.push(format!("e.entry_type IN ({list})"));
        }
        if !q.owners.is_empty() {
            let list = sql.placeholders(q.owners.iter().map(|s| s.to_string()));
            sql.clauses.push(format!("e.owner_id IN (SELECT id FROM organisations WHERE slug IN ({list}))"));
        }
        if let Some(mandated) = q.mandated {
            let p = sql.placeholder(Param::Int(i64::from(mandated)));
            sql.clauses.push(format!("e.mandated = {p}"));
        }
        let filter =
            if sql.clauses.is_empty() { String::new() } else { format!(" WHERE {}", sql.clauses.join(" AND ")) };

        let count_sql = format!("SELECT COUNT(*) FROM entries e{filter}");
        let mut count = sqlx::query(&count_sql);
        for p in &sql.params {
            count = match p {
                Param::Text(t) => count.bind(t.clone()),
                Param::Int(i) => count.bind(*i),
            };
        }
        let total: i64 = count.fetch_one(&self.pool).await?.get(0);

        let per_page = i64::from(q.per_page.max(1));
        let offset = i64::from(q.page.max(1) - 1) * per_page;
        let page_sql = format!(
            "SELECT e.document, e.created_at, e.updated_at FROM entries e{filter} ORDER BY {} LIMIT {per_page} OFFSET {offset}",
            q.sort.order_by()
        );
        let mut page = sqlx::query(&page_sql);
        for p in &sql.params {
            page = match p {
                Param::Text(t) => page.bind(t.clone()),
                Param::Int(i) => page.bind(*i),
            };
        }
        let rows = page.fetch_all(&self.pool).await?;
        let entries = rows.iter().map(entry_from_row).collect::<anyhow::Result<Vec<_>>>()?;
        Ok((total, entries))
    }
}
