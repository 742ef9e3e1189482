//! Editorial content: guides, site pages (about, help, accessibility,
//! privacy) and the glossary. Stored like everything else, so editors change
//! it through imports (and, later, forms) rather than code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FieldError, Slug};

/// Which collection a page belongs to; guides are listed and linked from
/// the home page, site pages from the footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    Guide,
    Page,
}

impl PageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Guide => "guide",
            PageKind::Page => "page",
        }
    }

    /// The key a catalogue file lists these under.
    pub fn key(self) -> &'static str {
        match self {
            PageKind::Guide => "guides",
            PageKind::Page => "pages",
        }
    }
}

/// A guide or site page, with a Markdown body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub slug: Slug,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub body: String,
    /// Position in lists; lower comes first.
    #[serde(default)]
    pub order: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A term in the glossary, with other names it goes by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryTerm {
    pub slug: Slug,
    pub term: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub definition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "", "some text"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(field, "", &format!("at most {max} characters")));
    }
}

fn from_json<T: for<'de> Deserialize<'de>>(raw: &Map<String, Value>, what: &str) -> Result<T, Vec<FieldError>> {
    serde_json::from_value(Value::Object(raw.clone()))
        .map_err(|e| vec![FieldError::new(&format!("({what})"), "", &e.to_string())])
}

impl Page {
    pub fn parse(raw: &Map<String, Value>) -> Result<Page, Vec<FieldError>> {
        let page: Page = from_json(raw, "page")?;
        let mut errors = Vec::new();
        required_text(&mut errors, "title", &page.title, 200);
        required_text(&mut errors, "body", &page.body, 200_000);
        if page.summary.chars().count() > 400 {
            errors.push(FieldError::new("summary", "", "at most 400 characters"));
        }
        if errors.is_empty() { Ok(page) } else { Err(errors) }
    }

    pub fn content(&self) -> Page {
        Page { updated_at: None, ..self.clone() }
    }
}

impl GlossaryTerm {
    pub fn parse(raw: &Map<String, Value>) -> Result<GlossaryTerm, Vec<FieldError>> {
        let term: GlossaryTerm = from_json(raw, "glossary term")?;
        let mut errors = Vec::new();
        required_text(&mut errors, "term", &term.term, 120);
        required_text(&mut errors, "definition", &term.definition, 4000);
        if term.aliases.iter().any(|a| a.trim().is_empty()) {
            errors.push(FieldError::new("aliases", "", "names with some text"));
        }
        if errors.is_empty() { Ok(term) } else { Err(errors) }
    }

    pub fn content(&self) -> GlossaryTerm {
        GlossaryTerm { updated_at: None, ..self.clone() }
    }

    /// Every name the term goes by, its own first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.term.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}
