//! The domain: entries, organisations and vocabularies, and the rules that
//! make them valid. Everything outside this module trusts these types.

pub mod check;
mod content;
mod entry;
pub mod fields;
mod organisation;
mod slug;
mod status;
mod vocabulary;

use std::fmt;

pub use content::{GlossaryTerm, Page, PageKind};
pub use entry::{Entry, EntryType, Source};
pub use fields::{Resolver, Vocabulary};
pub use organisation::{Organisation, contact_href};
pub use slug::{SLUG_FORM, Slug};
pub use status::Status;
pub use vocabulary::{Term, Vocabularies};

use serde::{Deserialize, Serialize};

/// One problem with one field of a record: which field, the value given and
/// the form that was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl FieldError {
    pub fn new(field: &str, value: &str, expected: &str) -> FieldError {
        FieldError { field: field.to_owned(), value: value.to_owned(), expected: expected.to_owned() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "field `{}`: expected {}", self.field, self.expected)
        } else {
            write!(f, "field `{}`, value `{}`: expected {}", self.field, self.value, self.expected)
        }
    }
}

/// A whole catalogue: what `export` writes and `import` reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Catalogue {
    pub format: String,
    pub vocabularies: Vocabularies,
    pub organisations: Vec<Organisation>,
    pub entries: Vec<Entry>,
    #[serde(default)]
    pub guides: Vec<Page>,
    #[serde(default)]
    pub pages: Vec<Page>,
    #[serde(default)]
    pub glossary: Vec<GlossaryTerm>,
}

pub const FORMAT: &str = "standards-directory/1";
