//! A small catalogue whose every filter result is known by hand.

#![allow(dead_code)]

use serde_json::{Value, json};
use standards::import::{self, Format};
use standards::store::{ChangeSet, Store, Summary};

pub fn small_catalogue() -> Value {
    json!({
      "organisations": [
        {"slug": "nhs-england", "name": "NHS England", "kind": "national-body", "description": "Leads the NHS in England."},
        {"slug": "prsb", "name": "Professional Record Standards Body", "kind": "standards-body", "description": "Writes record standards."}
      ],
      "entries": [
        {"slug": "snomed-ct", "title": "SNOMED CT", "type": "standard", "category": "data-definitions-and-terminologies",
         "care_settings": ["hospital", "gp-primary-care"], "topics": ["reference-data"], "owner": "nhs-england",
         "status": "active", "mandated": true, "reference_code": "SCCI0034", "comply_by": "2020-04-01"},
        {"slug": "about-me", "title": "About Me", "type": "standard", "category": "Record standards",
         "care_settings": ["Social care", "community-health"], "topics": ["key-care-information"], "owner": "prsb",
         "status": "active", "related": ["core-information-standard"]},
        {"slug": "core-information-standard", "title": "Core Information Standard", "type": "standard",
         "category": "record-standards", "care_settings": ["hospital", "social-care"], "topics": ["continuity-of-care"],
         "owner": "Professional Record Standards Body", "status": "in development", "dependencies": ["snomed-ct"],
         "comply_by": "2027-03-31"},
        {"slug": "pds-fhir", "title": "Personal Demographics Service FHIR API", "type": "api",
         "category": "technical-standards-and-specifications", "care_settings": ["gp-primary-care"],
         "topics": ["demographics"], "owner": "nhs-england", "status": "active", "mandated": false,
         "standards_implemented": ["snomed-ct"], "environments": ["sandbox", "integration", "production"]},
        {"slug": "read-codes", "title": "Read codes", "type": "standard", "category": "data-definitions-and-terminologies",
         "care_settings": ["gp-primary-care"], "topics": ["reference-data"], "owner": "nhs-england", "status": "retired"}
      ]
    })
}

/// Checks and applies a JSON catalogue, panicking on any problem.
pub async fn load(store: &Store, document: &Value) -> Summary {
    let set = plan(store, document).await;
    store.apply(&set, "test", false, None).await.unwrap()
}

pub async fn plan(store: &Store, document: &Value) -> ChangeSet {
    let vocabularies = store.vocabularies().await.unwrap();
    let raw = import::read_str(&document.to_string(), Format::Json, &vocabularies);
    match import::plan(store, raw).await.unwrap() {
        Ok(set) => set,
        Err(problems) => panic!("fixture problems: {problems:?}"),
    }
}
