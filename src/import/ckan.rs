//! Saved CKAN `package_search` responses: packages become entries and
//! their organisations become organisations. Packages this directory wrote
//! carry every entry field under its own name and come back exactly;
//! packages from another CKAN are mapped from the national directory's
//! scheming fields, and anything without a field of its own is kept as a
//! tag, never dropped.

use serde_json::{Map, Value};

use super::{Location, Problem, RawCatalogue};
use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind};

/// CKAN fields that carry no catalogue content of their own.
const IGNORED: &[&str] = &[
    "id",
    "owner_org",
    "organization",
    "state",
    "private",
    "type",
    "metadata_created",
    "metadata_modified",
    "num_tags",
    "num_resources",
    "resources",
    "groups",
    "relationships_as_object",
    "relationships_as_subject",
    "isopen",
    "license_title",
    "license_url",
    "creator_user_id",
    "url",
    "maintainer_email",
    "extras",
];

/// Scheming field to entry field, for packages from another CKAN.
const SCHEMING: &[(&str, &str)] = &[
    ("name", "slug"),
    ("title", "title"),
    ("notes", "description"),
    ("documentation_help_text", "summary"),
    ("standard_category", "category"),
    ("care_setting", "care_settings"),
    ("topic", "topics"),
    ("status", "status"),
    ("mandated", "mandated"),
    ("reference_code", "reference_code"),
    ("publication_due_date", "publication_due"),
    ("implementation_from_date", "implement_from"),
    ("comply_by_date", "comply_by"),
    ("submit_feedback", "feedback_url"),
    ("documentation_link", "documentation_url"),
    ("contact_details", "contact"),
    ("related_standards", "related"),
    ("dependencies", "dependencies"),
    ("assurance", "assurance"),
    ("endorsements", "endorsements"),
    ("license_id", "licence"),
    ("version", "versions"),
];

fn present(v: &Value) -> bool {
    !matches!(v, Value::Null)
        && v.as_str().is_none_or(|s| !s.trim().is_empty())
        && v.as_array().is_none_or(|a| !a.is_empty())
}

/// A list value as CKAN may hold it: a list, a JSON list in text, or
/// comma-separated text.
fn list(v: &Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => Value::Array(items),
            _ => Value::from(s.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect::<Vec<_>>()),
        },
        other => other.clone(),
    }
}

fn tag_names(p: &Map<String, Value>) -> Value {
    p.get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(|t| t.get("name").cloned()).collect::<Vec<_>>())
        .map_or(Value::Array(Vec::new()), Value::from)
}

/// The raw entry a CKAN package stands for.
pub fn package_to_entry(p: &Map<String, Value>) -> Map<String, Value> {
    let mut e = Map::new();
    let ours = p.contains_key("entry_type") && p.contains_key("care_settings");
    if ours {
        // Written by this directory: every entry field is there by name.
        for f in ENTRY_FIELDS {
            if matches!(f.kind, FieldKind::Timestamp) {
                continue;
            }
            let key = if f.kind == FieldKind::EntryType { "entry_type" } else { f.name };
            if let Some(v) = p.get(key) {
                e.insert(f.name.to_owned(), v.clone());
            }
        }
        // CKAN's `tags` are objects; the entry's are their names.
        e.insert("tags".into(), tag_names(p));
        return e;
    }
    let mut tags: Vec<Value> = match tag_names(p) {
        Value::Array(t) => t,
        _ => Vec::new(),
    };
    for (from, to) in SCHEMING {
        if let Some(v) = p.get(*from).filter(|v| present(v)) {
            let is_list = ENTRY_FIELDS.iter().any(|f| f.name == *to && f.kind.is_list());
            e.insert((*to).to_owned(), if is_list { list(v) } else { v.clone() });
        }
    }
    e.insert("type".into(), Value::from("standard"));
    if let Some(owner) = p.get("organization").and_then(|o| o.get("name")) {
        e.insert("owner".into(), owner.clone());
    }
    for (k, v) in p {
        let mapped = SCHEMING.iter().any(|(from, _)| from == k) || IGNORED.contains(&k.as_str()) || k == "tags";
        if !mapped && present(v) {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            tags.push(Value::from(format!("{k}: {text}")));
        }
    }
    e.insert("tags".into(), Value::from(tags));
    e
}

/// The entry fields that a CKAN write's parameters set: scheming fields
/// mapped to entry fields, entry fields by their own names, tags by name,
/// the owner from `organization` or `owner_org`. Fields it does not know
/// are kept as tags, as on import.
pub fn overlay(p: &Map<String, Value>) -> Map<String, Value> {
    let mut e = Map::new();
    let mut extra_tags = Vec::new();
    for (k, v) in p {
        if let Some((_, to)) = SCHEMING.iter().find(|(from, _)| from == k) {
            let is_list = ENTRY_FIELDS.iter().any(|f| f.name == *to && f.kind.is_list());
            e.insert((*to).to_owned(), if is_list { list(v) } else { v.clone() });
        } else if k == "entry_type" {
            e.insert("type".into(), v.clone());
        } else if k == "tags" {
            e.insert("tags".into(), tag_names(p));
        } else if k == "organization" {
            if let Some(name) = v.get("name") {
                e.insert("owner".into(), name.clone());
            }
        } else if k == "owner_org" {
            e.insert("owner".into(), v.clone());
        } else if ENTRY_FIELDS
            .iter()
            .any(|f| f.name == k && !matches!(f.kind, FieldKind::Timestamp | FieldKind::EntryType))
        {
            e.insert(k.clone(), v.clone());
        } else if !IGNORED.contains(&k.as_str()) && present(v) {
            extra_tags.push(Value::from(format!("{k}: {}", v.as_str().map_or_else(|| v.to_string(), str::to_owned))));
        }
    }
    if !extra_tags.is_empty() {
        let mut tags = e.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
        tags.extend(extra_tags);
        e.insert("tags".into(), Value::from(tags));
    }
    e
}

/// The raw organisation a CKAN organization stands for.
pub fn organisation(o: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |to: &str, from: &str| {
        if let Some(v) = o.get(from).filter(|v| present(v)) {
            out.insert(to.to_owned(), v.clone());
        }
    };
    put("slug", "name");
    put("name", "title");
    put("description", "description");
    put("logo_url", "image_url");
    put("url", "url");
    put("contact", "contact");
    put("identifier", "identifier");
    put("kind", "kind");
    out.entry("kind").or_insert_with(|| Value::from("publisher"));
    out
}

pub fn read(content: &str) -> RawCatalogue {
    let mut raw = RawCatalogue { merge_organisations: true, ..RawCatalogue::default() };
    let document: Value = match serde_json::from_str(content) {
        Ok(v) => v,
        Err(e) => {
            raw.problems.push(Problem::whole_file(format!("valid JSON ({e})")));
            return raw;
        }
    };
    let responses: Vec<Value> = match document {
        Value::Array(items) => items,
        one => vec![one],
    };
    let mut seen_orgs: Vec<String> = Vec::new();
    for (i, response) in responses.iter().enumerate() {
        // A whole action response, or just its result.
        let result = response.get("result").unwrap_or(response);
        let Some(packages) = result.get("results").and_then(Value::as_array) else {
            raw.problems.push(Problem {
                location: Some(Location::Path(format!("responses[{i}]"))),
                column: None,
                value: None,
                expected: "a package_search response: {\"result\": {\"results\": [...]}}".into(),
            });
            continue;
        };
        for (j, package) in packages.iter().enumerate() {
            let name = package.get("name").and_then(Value::as_str).unwrap_or("?");
            let location = Location::Path(format!("responses[{i}].results[{j}] (name `{name}`)"));
            let Some(p) = package.as_object() else {
                raw.problems.push(Problem {
                    location: Some(location),
                    column: None,
                    value: None,
                    expected: "a package object".into(),
                });
                continue;
            };
            if let Some(org) = p.get("organization").and_then(Value::as_object) {
                let slug = org.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
                if !slug.is_empty() && !seen_orgs.contains(&slug) {
                    seen_orgs.push(slug);
                    raw.organisations.push((location.clone(), organisation(org)));
                }
            }
            raw.entries.push((location, package_to_entry(p)));
        }
    }
    raw
}
