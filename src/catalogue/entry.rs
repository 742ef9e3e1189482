use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{ENTRY_FIELDS, Resolver, normalise};
use super::{FieldError, Slug, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    Standard,
    Api,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Standard => "standard",
            EntryType::Api => "api",
        }
    }
}

/// The namespace for UUIDs made from slugs, so an entry's id is stable
/// across instances and round trips even when no id was given.
const ENTRY_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5b1f_3c4e_8d2a_4f6b_9c0e_7a1d_2e3f_4a5b);

/// A standard or a national API. The field list is `fields::ENTRY_FIELDS`;
/// the JSON form is this struct's serde form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub slug: Slug,
    pub title: String,
    pub alternative_names: Vec<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub category: Slug,
    pub care_settings: Vec<Slug>,
    pub topics: Vec<Slug>,
    pub use_cases: Vec<String>,
    pub tags: Vec<String>,
    pub technologies: Vec<Slug>,
    pub owner: Slug,
    pub contact: Option<String>,
    pub feedback_url: Option<String>,
    pub documentation_url: Option<String>,
    pub status: Status,
    pub status_notes: Vec<String>,
    #[serde(default)]
    pub replaced_by: Vec<Slug>,
    pub versions: Vec<String>,
    pub publication_due: Option<NaiveDate>,
    pub implement_from: Option<NaiveDate>,
    pub comply_by: Option<NaiveDate>,
    pub review_date: Option<NaiveDate>,
    pub mandated: bool,
    pub reference_code: Option<String>,
    pub legal_basis: Option<String>,
    pub who_must_comply: Option<String>,
    pub enforcement: Option<String>,
    pub process_maturity: Option<String>,
    pub implementation_maturity: Option<String>,
    pub adoption_level: Option<u8>,
    pub cost: Option<String>,
    pub test_tools_available: Option<bool>,
    pub dependencies: Vec<Slug>,
    pub related: Vec<Slug>,
    pub assurance: Option<String>,
    pub endorsements: Vec<String>,
    pub persistent_id: Option<String>,
    pub alternate_identifiers: Vec<String>,
    pub doi: Option<String>,
    pub release_date: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub applies_to: Vec<String>,
    pub impacts_on: Vec<String>,
    pub conformance_date: Option<NaiveDate>,
    pub is_part_of: Vec<Slug>,
    pub references: Vec<String>,
    pub associated_media: Vec<String>,
    pub licence: Option<String>,
    pub sponsor: Option<String>,
    pub senior_responsible_owner: Option<String>,
    pub business_lead: Option<String>,
    pub technical_committee: Option<String>,
    pub approval_date: Option<NaiveDate>,
    pub post_implementation_review_date: Option<NaiveDate>,
    /// Why a date is knowingly absent.
    #[serde(default)]
    pub date_note: Option<String>,
    pub reviews: Option<String>,
    pub access_network: Option<String>,
    pub authentication: Option<String>,
    pub onboarding: Option<String>,
    pub digital_onboarding: Option<bool>,
    pub environments: Vec<String>,
    pub standards_implemented: Vec<Slug>,
    #[serde(default)]
    pub sources: Vec<Source>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A public page an entry's facts come from, and when it was last checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub url: String,
    pub checked_on: Option<NaiveDate>,
}

impl Entry {
    /// Parses a raw record, reporting every problem at once. References to
    /// terms, organisations and other entries are checked by `resolver`.
    pub fn parse(raw: &Map<String, Value>, resolver: &dyn Resolver) -> Result<Entry, Vec<FieldError>> {
        let mut fields = normalise(ENTRY_FIELDS, raw, resolver)?;
        if fields.get("id").is_none_or(Value::is_null) {
            let slug = fields["slug"].as_str().unwrap_or_default();
            fields.insert("id".into(), Value::String(Entry::id_for_slug(slug).to_string()));
        }
        let mut entry: Entry = serde_json::from_value(Value::Object(fields))
            .map_err(|e| vec![FieldError::new("(entry)", "", &e.to_string())])?;
        for link in
            [&entry.dependencies, &entry.related, &entry.standards_implemented, &entry.is_part_of, &entry.replaced_by]
        {
            if link.contains(&entry.slug) {
                return Err(vec![FieldError::new(
                    "related",
                    entry.slug.as_str(),
                    "links to other entries, not to itself",
                )]);
            }
        }
        entry.created_at = None;
        entry.updated_at = None;
        Ok(entry)
    }

    pub fn id_for_slug(slug: &str) -> Uuid {
        Uuid::new_v5(&ENTRY_ID_NAMESPACE, slug.as_bytes())
    }

    /// All links to other entries, with the field they come from.
    pub fn links(&self) -> impl Iterator<Item = (&'static str, &Slug)> {
        let deps = self.dependencies.iter().map(|s| ("dependencies", s));
        let related = self.related.iter().map(|s| ("related", s));
        let implemented = self.standards_implemented.iter().map(|s| ("standards_implemented", s));
        let part_of = self.is_part_of.iter().map(|s| ("is_part_of", s));
        let replaced_by = self.replaced_by.iter().map(|s| ("replaced_by", s));
        deps.chain(related).chain(implemented).chain(part_of).chain(replaced_by)
    }

    /// The content of the entry without what the store stamps on it, for
    /// comparing whether an import changes anything.
    pub fn content(&self) -> Entry {
        Entry { created_at: None, updated_at: None, ..self.clone() }
    }

    pub fn to_json(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("an entry always serialises to a JSON object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::{ENTRY_FIELDS, Vocabulary};
    use super::*;
    use serde_json::json;

    struct AcceptAll;
    impl Resolver for AcceptAll {
        fn term(&self, _: Vocabulary, value: &str) -> Result<Slug, String> {
            Slug::from_text(value).ok_or_else(|| "a term".into())
        }
        fn organisation(&self, value: &str) -> Result<Slug, String> {
            Slug::parse(value)
        }
        fn entry(&self, value: &str) -> Result<Slug, String> {
            Slug::parse(value)
        }
    }

    fn minimal() -> Map<String, Value> {
        json!({"slug": "snomed-ct", "title": "SNOMED CT", "type": "standard",
               "category": "data-definitions-and-terminologies", "owner": "nhs-england",
               "status": "Active"})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn the_field_table_lists_every_field_of_an_entry_in_order() {
        let entry = Entry::parse(&minimal(), &AcceptAll).unwrap();
        let keys: Vec<String> = entry.to_json().keys().cloned().collect();
        let table: Vec<&str> = ENTRY_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(keys, table);
    }

    #[test]
    fn an_entry_without_an_id_gets_a_stable_one_from_its_slug() {
        let a = Entry::parse(&minimal(), &AcceptAll).unwrap();
        let b = Entry::parse(&minimal(), &AcceptAll).unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(a.status, Status::Active);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut raw = minimal();
        raw.insert("status".into(), json!("live"));
        raw.remove("title");
        raw.insert("comply_by".into(), json!("31/03/2026"));
        raw.insert("adoption_level".into(), json!(9));
        raw.insert("colour".into(), json!("blue"));
        let errors = Entry::parse(&raw, &AcceptAll).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["colour", "title", "status", "comply_by", "adoption_level"]);
        assert!(errors[2].expected.contains("one of proposed"));
        assert_eq!(errors[3].value, "31/03/2026");
    }

    #[test]
    fn list_fields_accept_arrays_or_semicolon_separated_text() {
        let mut raw = minimal();
        raw.insert("tags".into(), json!("clinical terms; coding ;; coding"));
        raw.insert("alternative_names".into(), json!(["SNOMED", " SCT "]));
        let entry = Entry::parse(&raw, &AcceptAll).unwrap();
        assert_eq!(entry.tags, vec!["clinical terms", "coding"]);
        assert_eq!(entry.alternative_names, vec!["SNOMED", "SCT"]);
    }

    #[test]
    fn an_entry_cannot_depend_on_itself() {
        let mut raw = minimal();
        raw.insert("dependencies".into(), json!(["snomed-ct"]));
        assert!(Entry::parse(&raw, &AcceptAll).is_err());
    }
}
