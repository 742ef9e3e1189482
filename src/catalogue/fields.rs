//! The one description of every field of an entry and an organisation: its
//! name (the same in JSON, CSV and the API), its kind and whether it is
//! required. Import, export, validation and the API schema all read it.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{FieldError, Slug, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    CareSetting,
    Topic,
    Category,
    Technology,
    /// Words and abbreviations that mean the same thing to searchers
    /// ("GP", "general practice", "primary care").
    Synonym,
}

impl Vocabulary {
    pub const ALL: [Vocabulary; 5] =
        [Vocabulary::CareSetting, Vocabulary::Topic, Vocabulary::Category, Vocabulary::Technology, Vocabulary::Synonym];

    /// The name used in storage, exports and the API.
    pub fn key(self) -> &'static str {
        match self {
            Vocabulary::CareSetting => "care_setting",
            Vocabulary::Topic => "topic",
            Vocabulary::Category => "category",
            Vocabulary::Technology => "technology",
            Vocabulary::Synonym => "synonym",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Vocabulary::CareSetting => "care setting",
            Vocabulary::Topic => "topic",
            Vocabulary::Category => "category",
            Vocabulary::Technology => "technology",
            Vocabulary::Synonym => "synonym group",
        }
    }

    pub fn from_key(key: &str) -> Option<Vocabulary> {
        Vocabulary::ALL.into_iter().find(|v| v.key() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Id,
    Slug,
    Text,
    /// A web address: `https:` or `http:` only.
    Url,
    /// A web address or, where an email fits, `mailto:` (a bare email
    /// address is read as one).
    UrlOrEmail,
    /// A list of web addresses.
    Urls,
    Markdown,
    List,
    Date,
    Bool,
    OptionalBool,
    /// A whole number from 1 to 5.
    Level,
    Status,
    EntryType,
    OrganisationKind,
    Term(Vocabulary),
    Terms(Vocabulary),
    Organisation,
    Entries,
    /// Where the facts come from: web addresses, each with the date it was
    /// last checked (`{"url", "checked_on"}`; in a CSV cell `URL checked
    /// YYYY-MM-DD`, items separated by `;`).
    Sources,
    /// Written by the directory; ignored on import.
    Timestamp,
}

impl FieldKind {
    pub fn is_list(self) -> bool {
        matches!(
            self,
            FieldKind::List | FieldKind::Urls | FieldKind::Terms(_) | FieldKind::Entries | FieldKind::Sources
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
}

const fn field(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: false }
}

const fn required(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind, required: true }
}

use FieldKind as K;

/// Every field of an entry, in the order of the JSON object and CSV columns.
pub const ENTRY_FIELDS: &[FieldSpec] = &[
    field("id", K::Id),
    required("slug", K::Slug),
    required("title", K::Text),
    field("alternative_names", K::List),
    field("summary", K::Text),
    field("description", K::Markdown),
    required("type", K::EntryType),
    required("category", K::Term(Vocabulary::Category)),
    field("care_settings", K::Terms(Vocabulary::CareSetting)),
    field("topics", K::Terms(Vocabulary::Topic)),
    field("use_cases", K::List),
    field("tags", K::List),
    field("technologies", K::Terms(Vocabulary::Technology)),
    required("owner", K::Organisation),
    field("contact", K::Text),
    field("feedback_url", K::UrlOrEmail),
    field("documentation_url", K::Url),
    required("status", K::Status),
    field("status_notes", K::List),
    field("replaced_by", K::Entries),
    field("versions", K::List),
    field("publication_due", K::Date),
    field("implement_from", K::Date),
    field("comply_by", K::Date),
    field("review_date", K::Date),
    field("mandated", K::Bool),
    field("reference_code", K::Text),
    field("legal_basis", K::Text),
    field("who_must_comply", K::Text),
    field("enforcement", K::Text),
    field("process_maturity", K::Text),
    field("implementation_maturity", K::Text),
    field("adoption_level", K::Level),
    field("cost", K::Text),
    field("test_tools_available", K::OptionalBool),
    field("dependencies", K::Entries),
    field("related", K::Entries),
    field("assurance", K::Text),
    field("endorsements", K::List),
    field("persistent_id", K::Text),
    field("alternate_identifiers", K::List),
    field("doi", K::Text),
    field("release_date", K::Date),
    field("effective_from", K::Date),
    field("applies_to", K::List),
    field("impacts_on", K::List),
    field("conformance_date", K::Date),
    field("is_part_of", K::Entries),
    field("references", K::Urls),
    field("associated_media", K::Urls),
    field("licence", K::Text),
    field("sponsor", K::Text),
    field("senior_responsible_owner", K::Text),
    field("business_lead", K::Text),
    field("technical_committee", K::Text),
    field("approval_date", K::Date),
    field("post_implementation_review_date", K::Date),
    field("date_note", K::Text),
    field("reviews", K::Text),
    field("access_network", K::Text),
    field("authentication", K::Text),
    field("onboarding", K::Text),
    field("digital_onboarding", K::OptionalBool),
    field("environments", K::List),
    field("standards_implemented", K::Entries),
    field("sources", K::Sources),
    field("created_at", K::Timestamp),
    field("updated_at", K::Timestamp),
];

/// Every field of an organisation, in the order of the JSON object.
pub const ORGANISATION_FIELDS: &[FieldSpec] = &[
    field("id", K::Id),
    required("slug", K::Slug),
    required("name", K::Text),
    required("kind", K::OrganisationKind),
    field("description", K::Markdown),
    field("url", K::Url),
    field("contact", K::Text),
    field("identifier", K::Text),
    field("logo_url", K::Url),
    field("created_at", K::Timestamp),
    field("updated_at", K::Timestamp),
];

/// What references in a record are checked against: vocabulary terms,
/// organisations and entries, in the store or in the same import.
pub trait Resolver {
    /// The slug of the term that `value` names (by slug, label or alias).
    fn term(&self, vocabulary: Vocabulary, value: &str) -> Result<Slug, String>;
    /// The slug of the organisation that `value` names (by slug or name).
    fn organisation(&self, value: &str) -> Result<Slug, String>;
    /// The slug of the entry that `value` names.
    fn entry(&self, value: &str) -> Result<Slug, String>;
}

pub const ORGANISATION_KINDS: &[&str] = &[
    "publisher",
    "standards-body",
    "national-body",
    "regulator",
    "supplier",
    "care-provider",
    "professional-body",
    "other",
];

/// Turns a raw record (from JSON, or a CSV row made into JSON strings) into
/// the canonical JSON form of its fields, or every error found in it.
pub fn normalise(
    fields: &[FieldSpec],
    raw: &Map<String, Value>,
    resolver: &dyn Resolver,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    for key in raw.keys() {
        if !fields.iter().any(|f| f.name == key) {
            errors.push(FieldError::new(key, "", "a known field name (see docs/catalogue-format.md)"));
        }
    }
    let mut out = Map::new();
    for spec in fields {
        let value = raw.get(spec.name).unwrap_or(&Value::Null);
        match normalise_value(spec, value, resolver) {
            Ok(v) => {
                if spec.required && is_empty(&v) {
                    errors.push(FieldError::new(spec.name, "", "a value: this field is required"));
                }
                out.insert(spec.name.to_owned(), v);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Text as given, trimmed; `None` for null or blank. Numbers are read as text.
fn text(spec: &FieldSpec, value: &Value) -> Result<Option<String>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(FieldError::new(spec.name, &show(other), "text")),
    }
}

/// The items of a list: a JSON array of text, or one text with items
/// separated by `;` (write `\;` for a semicolon inside an item).
fn items(spec: &FieldSpec, value: &Value) -> Result<Vec<String>, FieldError> {
    let raw: Vec<String> = match value {
        Value::Null => Vec::new(),
        Value::Array(values) => {
            let mut out = Vec::new();
            for v in values {
                match v {
                    Value::String(s) => out.push(s.clone()),
                    Value::Number(n) => out.push(n.to_string()),
                    other => {
                        return Err(FieldError::new(spec.name, &show(other), "a list of text"));
                    }
                }
            }
            out
        }
        Value::String(s) => split_list(s),
        other => return Err(FieldError::new(spec.name, &show(other), "a list of text")),
    };
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for item in raw {
        let t = item.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// Splits a CSV cell into list items at unescaped `;`.
pub fn split_list(cell: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => current.push(next),
                None => current.push('\\'),
            },
            ';' => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    items.push(current);
    items
}

/// Joins list items into one CSV cell; the inverse of [`split_list`].
pub fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|i| i.as_ref().replace('\\', "\\\\").replace(';', "\\;")).collect::<Vec<_>>().join("; ")
}

/// A web address that browsers open as a page (or, with `email`, a mail
/// to write): never `javascript:`, `data:` or anything else a link could
/// run.
fn web_address(text: &str, email: bool) -> Result<String, &'static str> {
    let expected = if email {
        "a web address starting https:// or http://, or an email address"
    } else {
        "a web address starting https:// or http://"
    };
    let lower = text.to_ascii_lowercase();
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(expected);
    }
    let has_host = |rest: &str| rest.split(['/', '?', '#']).next().is_some_and(|host| !host.is_empty());
    if let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
        return if has_host(rest) { Ok(uri_escaped(text)) } else { Err(expected) };
    }
    if email {
        let address = if lower.starts_with("mailto:") { &text[7..] } else { text };
        let looks_like_email = address
            .split_once('@')
            .is_some_and(|(who, host)| !who.is_empty() && host.contains('.') && !address.contains(':'));
        if looks_like_email {
            return Ok(uri_escaped(&format!("mailto:{address}")));
        }
    }
    Err(expected)
}

/// An address with every character a URI may not hold as it stands
/// (letters beyond ASCII, quotes, angle brackets, a `%` that starts no
/// escape) percent-encoded, as browsers send it.
fn uri_escaped(text: &str) -> String {
    const KEPT: &str = "-._~:/?#[]@!$&'()*+,;=";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, &b) in bytes.iter().enumerate() {
        let starts_escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if b.is_ascii_alphanumeric() || KEPT.as_bytes().contains(&b) || starts_escape {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A list item as text, as a CSV cell and a form's lines write it: text as
/// it is, a source as `URL checked YYYY-MM-DD` (or the bare URL).
pub fn item_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        Value::Object(source) => {
            let url = source.get("url").and_then(Value::as_str).unwrap_or_default();
            match source.get("checked_on").and_then(Value::as_str) {
                Some(date) => format!("{url} checked {date}"),
                None => url.to_owned(),
            }
        }
        other => other.to_string(),
    }
}

/// Sources: a JSON array of `{"url", "checked_on"}` objects, or of texts
/// (or one text with items separated by `;`) each `URL` or `URL checked
/// YYYY-MM-DD`.
fn sources(spec: &FieldSpec, value: &Value) -> Result<Value, Vec<FieldError>> {
    let name = spec.name;
    let expected = "sources as `URL checked YYYY-MM-DD` (the date optional), separated by `;`, \
                    or JSON objects with `url` and `checked_on`";
    let given: Vec<(String, Option<String>)> = match value {
        Value::Array(values) if values.iter().any(Value::is_object) => {
            let mut out = Vec::new();
            for v in values {
                let url = v.get("url").and_then(Value::as_str);
                let checked = v.get("checked_on");
                let known_keys = v.as_object().is_some_and(|o| o.keys().all(|k| k == "url" || k == "checked_on"));
                match (url, checked) {
                    (Some(url), None | Some(Value::Null)) if known_keys => out.push((url.to_owned(), None)),
                    (Some(url), Some(Value::String(d))) if known_keys => out.push((url.to_owned(), Some(d.clone()))),
                    _ => return Err(vec![FieldError::new(name, &show(v), expected)]),
                }
            }
            out
        }
        _ => items(spec, value)
            .map_err(|e| vec![e])?
            .into_iter()
            .map(|item| match item.split_once(" checked ") {
                Some((url, date)) => (url.trim().to_owned(), Some(date.trim().to_owned())),
                None => (item, None),
            })
            .collect(),
    };
    let mut errors = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    for (url, checked) in given {
        let url = match web_address(url.trim(), false) {
            Ok(url) => url,
            Err(e) => {
                errors.push(FieldError::new(name, &url, e));
                continue;
            }
        };
        let checked_on = match checked.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => Value::Null,
            Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(date) => Value::String(date.format("%Y-%m-%d").to_string()),
                Err(_) => {
                    errors.push(FieldError::new(
                        name,
                        d,
                        "the date a source was checked as YYYY-MM-DD, such as 2026-11-29",
                    ));
                    continue;
                }
            },
        };
        if !out.iter().any(|s| s["url"] == url.as_str()) {
            out.push(serde_json::json!({"url": url, "checked_on": checked_on}));
        }
    }
    if errors.is_empty() { Ok(Value::Array(out)) } else { Err(errors) }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn normalise_value(spec: &FieldSpec, value: &Value, resolver: &dyn Resolver) -> Result<Value, Vec<FieldError>> {
    let one = |e: FieldError| vec![e];
    let name = spec.name;
    Ok(match spec.kind {
        K::Timestamp => Value::Null,
        K::Text | K::Markdown => text(spec, value).map_err(one)?.map_or(Value::Null, Value::String),
        K::Url | K::UrlOrEmail => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => Value::String(
                web_address(&s, spec.kind == K::UrlOrEmail).map_err(|e| one(FieldError::new(name, &s, e)))?,
            ),
        },
        K::Urls => {
            let mut errors = Vec::new();
            let mut out = Vec::new();
            for item in items(spec, value).map_err(one)? {
                match web_address(&item, false) {
                    Ok(url) => out.push(Value::String(url)),
                    Err(e) => errors.push(FieldError::new(name, &item, e)),
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            Value::Array(out)
        }
        K::List => Value::from(items(spec, value).map_err(one)?),
        K::Sources => sources(spec, value)?,
        K::Id => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match uuid::Uuid::parse_str(&s) {
                Ok(id) => Value::String(id.to_string()),
                Err(_) => {
                    return Err(one(FieldError::new(name, &s, "a UUID such as 0b7e4a8e-1f0c-4c1e-9a53-3f1f2b6c8d21")));
                }
            },
        },
        K::Slug => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match Slug::parse(&s) {
                Ok(slug) => Value::String(slug.to_string()),
                Err(e) => return Err(one(FieldError::new(name, &s, &e))),
            },
        },
        K::Date => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
                Ok(d) => Value::String(d.format("%Y-%m-%d").to_string()),
                Err(_) => {
                    return Err(one(FieldError::new(name, &s, "a date as YYYY-MM-DD, such as 2026-04-01")));
                }
            },
        },
        K::Bool | K::OptionalBool => {
            let parsed = match value {
                Value::Null => None,
                Value::Bool(b) => Some(*b),
                Value::String(s) if s.trim().is_empty() => None,
                Value::String(s) => match parse_bool(s) {
                    Some(b) => Some(b),
                    None => return Err(one(FieldError::new(name, s, "yes or no (true or false)"))),
                },
                other => {
                    return Err(one(FieldError::new(name, &show(other), "yes or no (true or false)")));
                }
            };
            match (parsed, spec.kind) {
                (Some(b), _) => Value::Bool(b),
                (None, K::Bool) => Value::Bool(false),
                (None, _) => Value::Null,
            }
        }
        K::Level => {
            let expected = "a whole number from 1 to 5";
            let n = match value {
                Value::Null => None,
                Value::Number(n) => {
                    Some(n.as_u64().ok_or_else(|| one(FieldError::new(name, &n.to_string(), expected)))?)
                }
                Value::String(s) if s.trim().is_empty() => None,
                Value::String(s) => Some(s.trim().parse::<u64>().map_err(|_| one(FieldError::new(name, s, expected)))?),
                other => return Err(one(FieldError::new(name, &show(other), expected))),
            };
            match n {
                None => Value::Null,
                Some(n @ 1..=5) => Value::from(n),
                Some(n) => return Err(one(FieldError::new(name, &n.to_string(), expected))),
            }
        }
        K::Status => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match Status::parse(&s) {
                Ok(status) => Value::String(status.slug().to_owned()),
                Err(e) => return Err(one(FieldError::new(name, &s, &e))),
            },
        },
        K::EntryType => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match s.to_ascii_lowercase().as_str() {
                "standard" => Value::from("standard"),
                "api" => Value::from("api"),
                _ => return Err(one(FieldError::new(name, &s, "`standard` or `api`"))),
            },
        },
        K::OrganisationKind => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => {
                let wanted = s.to_ascii_lowercase().replace([' ', '_'], "-");
                match ORGANISATION_KINDS.iter().find(|k| **k == wanted) {
                    Some(k) => Value::from(*k),
                    None => {
                        let expected = format!("one of {}", ORGANISATION_KINDS.join(", "));
                        return Err(one(FieldError::new(name, &s, &expected)));
                    }
                }
            }
        },
        K::Term(vocabulary) => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match resolver.term(vocabulary, &s) {
                Ok(slug) => Value::String(slug.to_string()),
                Err(e) => return Err(one(FieldError::new(name, &s, &e))),
            },
        },
        K::Organisation => match text(spec, value).map_err(one)? {
            None => Value::Null,
            Some(s) => match resolver.organisation(&s) {
                Ok(slug) => Value::String(slug.to_string()),
                Err(e) => return Err(one(FieldError::new(name, &s, &e))),
            },
        },
        K::Terms(_) | K::Entries => {
            let mut errors = Vec::new();
            let mut slugs: Vec<String> = Vec::new();
            for item in items(spec, value).map_err(one)? {
                let resolved = match spec.kind {
                    K::Terms(vocabulary) => resolver.term(vocabulary, &item),
                    _ => resolver.entry(&item),
                };
                match resolved {
                    Ok(slug) if !slugs.iter().any(|s| s == slug.as_str()) => slugs.push(slug.to_string()),
                    Ok(_) => {}
                    Err(e) => errors.push(FieldError::new(name, &item, &e)),
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            Value::from(slugs)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cells_split_on_unescaped_semicolons() {
        assert_eq!(split_list("a; b;c"), vec!["a", " b", "c"]);
        assert_eq!(split_list(r"one\; two; three"), vec!["one; two", " three"]);
        let items = vec!["x;y".to_owned(), r"back\slash".to_owned(), "z".to_owned()];
        let cell = join_list(&items);
        let back: Vec<String> = split_list(&cell).into_iter().map(|s| s.trim().to_owned()).collect();
        assert_eq!(back, items);
    }
}
