//! Entries and organisations in CKAN's shapes: a package is an entry, with
//! the national directory's ckanext-scheming fields at the top level and
//! this directory's own fields beside them.

use serde_json::{Map, Value, json};

use crate::catalogue::{Entry, Organisation, Vocabularies, Vocabulary};

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    // CKAN writes naive ISO timestamps with microseconds.
    t.map_or(Value::Null, |t| Value::from(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()))
}

pub fn organization(org: &Organisation) -> Value {
    json!({
        "id": org.id,
        "name": org.slug,
        "title": org.name,
        "display_name": org.name,
        "description": org.description.clone().unwrap_or_default(),
        "image_url": org.logo_url.clone().unwrap_or_default(),
        "created": time(org.created_at),
        "type": "organization",
        "is_organization": true,
        "state": "active",
        "approval_status": "approved",
        // This directory's own fields.
        "kind": org.kind,
        "url": org.url,
        "contact": org.contact,
        "identifier": org.identifier,
    })
}

fn labels(vocabularies: &Vocabularies, vocabulary: Vocabulary, slugs: &[crate::catalogue::Slug]) -> Vec<String> {
    slugs.iter().map(|s| vocabularies.term(vocabulary, s.as_str()).map_or(s.to_string(), |t| t.label.clone())).collect()
}

/// The package for an entry.
pub fn package(entry: &Entry, org: Option<&Organisation>, vocabularies: &Vocabularies) -> Value {
    let owner_org = org.map_or(Value::Null, |o| Value::from(o.id.to_string()));
    let tags: Vec<Value> = entry
        .tags
        .iter()
        .map(|t| json!({"name": t, "display_name": t, "state": "active", "vocabulary_id": null}))
        .collect();
    let mut resources = Vec::new();
    for (i, (name, url)) in [("Documentation", &entry.documentation_url), ("Feedback", &entry.feedback_url)]
        .into_iter()
        .filter_map(|(n, u)| u.as_ref().map(|u| (n, u)))
        .enumerate()
    {
        resources.push(json!({
            "id": uuid::Uuid::new_v5(&entry.id, name.as_bytes()),
            "package_id": entry.id,
            "name": name,
            "url": url,
            "format": "HTML",
            "position": i,
            "state": "active",
            "created": time(entry.created_at),
            "last_modified": time(entry.updated_at),
        }));
    }
    let category = vocabularies
        .term(Vocabulary::Category, entry.category.as_str())
        .map_or(entry.category.to_string(), |t| t.label.clone());
    let date = |d: Option<chrono::NaiveDate>| d.map_or(Value::Null, |d| Value::from(d.to_string()));
    let mut p = Map::new();
    let mut put = |k: &str, v: Value| {
        p.insert(k.to_owned(), v);
    };
    put("id", json!(entry.id));
    put("name", json!(entry.slug));
    put("title", json!(entry.title));
    put("notes", json!(entry.description.clone().or_else(|| entry.summary.clone()).unwrap_or_default()));
    put("owner_org", owner_org);
    put("organization", org.map_or(Value::Null, organization));
    put("state", json!("active"));
    put("private", json!(false));
    put("type", json!("dataset"));
    // The directory's own `type` (standard or api), which CKAN's `type` shadows.
    put("entry_type", json!(entry.entry_type.as_str()));
    put("metadata_created", time(entry.created_at));
    put("metadata_modified", time(entry.updated_at));
    put("num_tags", json!(tags.len()));
    put("tags", Value::from(tags));
    put("num_resources", json!(resources.len()));
    put("resources", Value::from(resources));
    put("groups", json!([]));
    put("license_id", entry.licence.as_ref().map_or(Value::Null, |l| json!(l)));
    put("url", json!(entry.documentation_url));
    put("version", json!(entry.versions.first()));
    put("maintainer_email", json!(entry.contact));
    // The national directory's scheming fields.
    put("reference_code", json!(entry.reference_code));
    put("is_published_standard", json!(super::search::published(entry.status.slug())));
    put("mandated", json!(entry.mandated));
    put("status", json!(entry.status.slug()));
    put("publication_due_date", date(entry.publication_due));
    put("implementation_from_date", date(entry.implement_from));
    put("comply_by_date", date(entry.comply_by));
    put("submit_feedback", json!(entry.feedback_url));
    put("standard_category", json!(category));
    put("documentation_help_text", json!(entry.summary));
    put("documentation_link", json!(entry.documentation_url));
    put("contact_details", json!(entry.contact));
    put("topic", json!(labels(vocabularies, Vocabulary::Topic, &entry.topics)));
    put("care_setting", json!(labels(vocabularies, Vocabulary::CareSetting, &entry.care_settings)));
    put("related_standards", json!(entry.related));
    put("dependencies", json!(entry.dependencies));
    put("assurance", json!(entry.assurance));
    put("endorsements", json!(entry.endorsements));
    // Every field of the directory's own entry, under its own name, unless
    // a CKAN field of that name is already there.
    for (k, v) in entry.to_json() {
        if !p.contains_key(&k) {
            p.insert(k, v);
        }
    }
    Value::Object(p)
}
