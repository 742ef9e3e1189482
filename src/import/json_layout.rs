//! The export format read back: `{"vocabularies", "organisations", "entries",
//! "guides", "pages", "glossary"}`,
//! or a bare list of entries.

use serde_json::Value;

use super::{Location, Problem, RawCatalogue};
use crate::catalogue::{FORMAT, PageKind, Vocabulary};

pub fn read(content: &str) -> RawCatalogue {
    let mut raw = RawCatalogue::default();
    let document: Value = match serde_json::from_str(content) {
        Ok(v) => v,
        Err(e) => {
            raw.problems.push(Problem {
                location: Some(Location::Path(format!("line {}, column {}", e.line(), e.column()))),
                column: None,
                value: None,
                expected: format!("valid JSON ({e})"),
            });
            return raw;
        }
    };
    let (entries, organisations, vocabularies) = match &document {
        Value::Array(_) => (Some(&document), None, None),
        Value::Object(map) => {
            if let Some(format) = map.get("format").and_then(Value::as_str)
                && format != FORMAT
            {
                raw.problems.push(Problem {
                    location: Some(Location::Path("format".into())),
                    column: None,
                    value: Some(format.to_owned()),
                    expected: format!("`{FORMAT}`"),
                });
            }
            for key in map.keys() {
                if !["format", "vocabularies", "organisations", "entries", "guides", "pages", "glossary"]
                    .contains(&key.as_str())
                {
                    raw.problems.push(Problem {
                        location: Some(Location::Path(key.clone())),
                        column: None,
                        value: None,
                        expected:
                            "only the keys format, vocabularies, organisations, entries, guides, pages and glossary"
                                .into(),
                    });
                }
            }
            for kind in [PageKind::Guide, PageKind::Page] {
                if let Some(v) = map.get(kind.key()) {
                    for (i, page) in list(&mut raw, v, kind.key()) {
                        raw.pages.push((Location::Path(label(kind.key(), i, &page)), kind, page));
                    }
                }
            }
            if let Some(v) = map.get("glossary") {
                for (i, term) in list(&mut raw, v, "glossary") {
                    raw.glossary.push((Location::Path(label("glossary", i, &term)), term));
                }
            }
            (map.get("entries"), map.get("organisations"), map.get("vocabularies"))
        }
        _ => {
            raw.problems.push(Problem::whole_file("a JSON object with entries, or a JSON list of entries"));
            return raw;
        }
    };

    if let Some(v) = vocabularies {
        match v {
            Value::Object(map) => {
                for (key, terms) in map {
                    let Some(vocabulary) = Vocabulary::from_key(key) else {
                        raw.problems.push(Problem {
                            location: Some(Location::Path(format!("vocabularies.{key}"))),
                            column: None,
                            value: None,
                            expected: "one of the vocabularies care_setting, topic, category, technology, synonym"
                                .into(),
                        });
                        continue;
                    };
                    for (i, term) in list(&mut raw, terms, &format!("vocabularies.{key}")) {
                        raw.terms.push((Location::Path(format!("vocabularies.{key}[{i}]")), vocabulary, term));
                    }
                }
            }
            _ => raw.problems.push(Problem {
                location: Some(Location::Path("vocabularies".into())),
                column: None,
                value: None,
                expected: "an object of term lists by vocabulary".into(),
            }),
        }
    }
    if let Some(v) = organisations {
        for (i, org) in list(&mut raw, v, "organisations") {
            raw.organisations.push((Location::Path(label("organisations", i, &org)), org));
        }
    }
    if let Some(v) = entries {
        for (i, entry) in list(&mut raw, v, "entries") {
            raw.entries.push((Location::Path(label("entries", i, &entry)), entry));
        }
    }
    raw
}

fn label(key: &str, i: usize, record: &serde_json::Map<String, Value>) -> String {
    match record.get("slug").and_then(Value::as_str) {
        Some(slug) => format!("{key}[{i}] (slug `{slug}`)"),
        None => format!("{key}[{i}]"),
    }
}

fn list(raw: &mut RawCatalogue, value: &Value, path: &str) -> Vec<(usize, serde_json::Map<String, Value>)> {
    let Value::Array(items) = value else {
        raw.problems.push(Problem {
            location: Some(Location::Path(path.to_owned())),
            column: None,
            value: None,
            expected: "a list".into(),
        });
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Object(map) => out.push((i, map.clone())),
            _ => raw.problems.push(Problem {
                location: Some(Location::Path(format!("{path}[{i}]"))),
                column: None,
                value: None,
                expected: "an object".into(),
            }),
        }
    }
    out
}
