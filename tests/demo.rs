//! The bundled demo catalogue: real, complete enough to be useful, and
//! loaded through the same import code as any file.

mod common;

use std::collections::HashMap;

use common::{Backend, TestStore};
use standards::catalogue::{Catalogue, Vocabulary};

#[tokio::test]
async fn the_demo_catalogue_loads_through_the_import_code() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let summary = standards::demo::load(&ts.store).await.unwrap();
    assert!(summary.entries_created >= 150, "{summary:?}");
    let catalogue = ts.store.catalogue().await.unwrap();
    check(&catalogue);
    ts.finish().await;
}

fn check(c: &Catalogue) {
    assert!(c.entries.len() >= 150, "{} entries", c.entries.len());
    for vocabulary in [Vocabulary::CareSetting, Vocabulary::Topic, Vocabulary::Category] {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for e in &c.entries {
            let terms: Vec<&str> = match vocabulary {
                Vocabulary::CareSetting => e.care_settings.iter().map(|s| s.as_str()).collect(),
                Vocabulary::Topic => e.topics.iter().map(|s| s.as_str()).collect(),
                _ => vec![e.category.as_str()],
            };
            for t in terms {
                *counts.entry(t).or_default() += 1;
            }
        }
        for term in c.vocabularies.terms(vocabulary) {
            let n = counts.get(term.slug.as_str()).copied().unwrap_or(0);
            assert!(n >= 3, "{} `{}` has {n} entries; every one needs at least three", vocabulary.noun(), term.slug);
        }
    }
    for org in &c.organisations {
        assert!(
            org.description.as_deref().is_some_and(|d| d.len() > 40),
            "organisation {} needs a description",
            org.slug
        );
    }
    for e in &c.entries {
        assert!(e.summary.as_deref().is_some_and(|s| s.len() > 20), "{} needs a summary", e.slug);
        assert!(
            e.documentation_url.as_deref().is_some_and(|u| u.starts_with("https://")),
            "{} needs a documentation link",
            e.slug
        );
        assert!(!e.care_settings.is_empty() && !e.topics.is_empty(), "{} needs care settings and topics", e.slug);
        assert!(c.organisations.iter().any(|o| o.slug == e.owner), "{} owner {} exists", e.slug, e.owner);
    }
    let apis = c.entries.iter().filter(|e| e.entry_type == standards::catalogue::EntryType::Api).count();
    assert!(apis >= 20, "{apis} national APIs");
    for slug in [
        "snomed-ct",
        "dm-d",
        "icd-10",
        "opcs-4",
        "nhs-number",
        "about-me",
        "core-information-standard",
        "edischarge-summary",
        "emergency-care-data-set",
        "mental-health-services-data-set",
        "dcb0129",
        "dcb0160",
        "data-security-and-protection-toolkit",
        "national-data-opt-out",
        "fhir-uk-core",
        "booking-and-referral-standard",
        "dicom",
        "hl7-v2",
        "personal-demographics-service-fhir-api",
        "gp-connect",
        "e-referral-service-api",
        "electronic-prescription-service",
        "mesh",
        "summary-care-record",
        "national-record-locator",
    ] {
        assert!(c.entries.iter().any(|e| e.slug.as_str() == slug), "the demo has {slug}");
    }
    let snomed = c.entries.iter().find(|e| e.slug.as_str() == "snomed-ct").unwrap();
    assert_eq!(snomed.category.as_str(), "data-definitions-and-terminologies");
    let dcb0129 = c.entries.iter().find(|e| e.slug.as_str() == "dcb0129").unwrap();
    assert_eq!(dcb0129.reference_code.as_deref(), Some("DCB0129"));
    assert!(dcb0129.mandated);
}

#[test]
fn the_bundled_file_is_in_the_export_format() {
    let c: Catalogue = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    assert_eq!(c.format, standards::catalogue::FORMAT);
}
