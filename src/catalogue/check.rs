//! The content check: rules a catalogue's facts must keep, beyond what each
//! field's form allows. Editors run it as `standards check`, the dashboard
//! lists what it finds, and CI runs it on the bundled catalogue.
//!
//! Errors are facts missing or wrong in a way a reader would be misled by;
//! warnings are things to look at again (a source not checked for a year),
//! so that time passing alone never makes a check fail.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Catalogue, Entry, EntryType, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One thing the check found, named by entry and field like an import
/// problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The entry's slug.
    pub entry: String,
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}: {}", self.severity.as_str(), self.entry, self.field, self.message)
    }
}

/// Families of information standard codes, written as the family and four
/// digits with no space (`DAPB4101`, `ISB0149`).
const CODE_FAMILIES: [&str; 4] = ["DAPB", "DCB", "SCCI", "ISB"];

/// Domains reserved for examples, never real contacts or pages.
const PLACEHOLDER_HOSTS: [&str; 6] =
    ["example.org", "example.com", "example.net", "example.edu", "localhost", "test.invalid"];

/// How long a source stays fresh.
const FRESH_DAYS: i64 = 365;

/// Statuses of entries on the roadmap: not yet in force.
pub const ROADMAP: [Status; 5] =
    [Status::Proposed, Status::DraftInProgress, Status::AwaitingApproval, Status::OnHold, Status::InDevelopment];

/// Every finding for `catalogue` as of `today`, errors first, then by entry.
pub fn check(catalogue: &Catalogue, today: NaiveDate) -> Vec<Finding> {
    let contacts: HashMap<&str, bool> =
        catalogue.organisations.iter().map(|o| (o.slug.as_str(), o.contact.as_deref().is_some_and(has_text))).collect();
    let mut out = Vec::new();
    for e in &catalogue.entries {
        let owner_contact = contacts.get(e.owner.as_str()).copied().unwrap_or(false);
        check_entry(e, owner_contact, today, &mut out);
    }
    shared_documentation(&catalogue.entries, &mut out);
    out.sort_by(|a, b| (a.severity, &a.entry, a.field).cmp(&(b.severity, &b.entry, b.field)));
    out
}

fn has_text(s: &str) -> bool {
    !s.trim().is_empty()
}

fn check_entry(e: &Entry, owner_contact: bool, today: NaiveDate, out: &mut Vec<Finding>) {
    let mut find = |severity, field, message: String| {
        out.push(Finding { severity, entry: e.slug.to_string(), field, message });
    };
    let note = e.date_note.as_deref().is_some_and(has_text);
    if e.mandated {
        if !e.legal_basis.as_deref().is_some_and(has_text) {
            find(
                Severity::Error,
                "legal_basis",
                "mandated, so it needs the law, notice, contract or regulator that requires it".into(),
            );
        }
        if e.comply_by.is_none() && !note {
            find(
                Severity::Error,
                "comply_by",
                "mandated, so it needs the date by which those it applies to must comply, or a date_note saying why there is none".into(),
            );
        }
    }
    if let Some(code) = e.reference_code.as_deref() {
        if let Some(canonical) = non_canonical(code) {
            find(Severity::Error, "reference_code", format!("`{code}` is not written canonically: `{canonical}`"));
        }
        let information_standard = information_standard_code(code);
        let dated =
            [e.approval_date, e.release_date, e.implement_from, e.comply_by, e.conformance_date, e.effective_from]
                .iter()
                .any(Option::is_some);
        if information_standard && e.status == Status::Active && !dated && !note {
            find(
                Severity::Error,
                "release_date",
                format!(
                    "an active information standard ({code}) needs its published dates (approval, publication, implementation, conformance), or a date_note saying why they are absent"
                ),
            );
        }
    }
    for code in &e.alternate_identifiers {
        if let Some(canonical) = non_canonical(code) {
            find(
                Severity::Error,
                "alternate_identifiers",
                format!("`{code}` is not written canonically: `{canonical}`"),
            );
        }
    }
    for (field, value) in addresses(e) {
        if let Some(host) = placeholder(value) {
            find(
                Severity::Error,
                field,
                format!("`{value}` uses the placeholder domain {host}: give the real address"),
            );
        }
    }
    let contact = e.contact.as_deref().is_some_and(has_text) || e.feedback_url.is_some();
    if !contact && !owner_contact {
        find(
            Severity::Error,
            "contact",
            "needs a contact or feedback route: the entry's own, or its owner organisation's published contact".into(),
        );
    }
    // An API not yet built, or withdrawn, has no access to describe.
    if e.entry_type == EntryType::Api && !ROADMAP.contains(&e.status) && e.status != Status::Retired {
        let access =
            [&e.access_network, &e.authentication, &e.onboarding].iter().any(|v| v.as_deref().is_some_and(has_text));
        if !access {
            find(
                Severity::Error,
                "access_network",
                "an API needs its access details: network, authentication or onboarding".into(),
            );
        }
        if !contact {
            find(Severity::Error, "contact", "an API needs a contact of its own for onboarding and support".into());
        }
    }
    if ROADMAP.contains(&e.status)
        && e.publication_due.is_none()
        && e.implement_from.is_none()
        && e.comply_by.is_none()
        && !note
    {
        find(
            Severity::Error,
            "publication_due",
            format!(
                "on the roadmap ({}), so it needs a due date, or a date_note saying none is published",
                e.status.label().to_lowercase()
            ),
        );
    }
    if e.sources.is_empty() {
        find(Severity::Error, "sources", "needs the public pages its facts come from".into());
    }
    for source in &e.sources {
        match source.checked_on {
            None => find(Severity::Warning, "sources", format!("{} has no date it was last checked", source.url)),
            Some(d) if (today - d).num_days() > FRESH_DAYS => {
                find(Severity::Warning, "sources", format!("{} was last checked on {d}, over a year ago", source.url));
            }
            Some(_) => {}
        }
    }
}

/// Two entries with one documentation link, where neither is part of the
/// other, are probably one thing entered twice.
fn shared_documentation(entries: &[Entry], out: &mut Vec<Finding>) {
    let mut by_link: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for e in entries {
        if let Some(url) = e.documentation_url.as_deref() {
            by_link.entry(url.trim_end_matches('/')).or_default().push(e);
        }
    }
    for (url, sharing) in by_link {
        for (i, a) in sharing.iter().enumerate() {
            for b in &sharing[..i] {
                // A part, or a retired entry and what replaced it, may use
                // the other's page.
                let part = |x: &Entry, y: &Entry| x.is_part_of.contains(&y.slug) || x.replaced_by.contains(&y.slug);
                // Parts of one whole may all point to the whole's page.
                let siblings = a.is_part_of.iter().any(|p| b.is_part_of.contains(p));
                if !part(a, b) && !part(b, a) && !siblings {
                    out.push(Finding {
                        severity: Severity::Error,
                        entry: a.slug.to_string(),
                        field: "documentation_url",
                        message: format!("{url} is also `{}`'s documentation link; one entry per thing, or mark one part of the other", b.slug),
                    });
                }
            }
        }
    }
}

/// The canonical form of an information standard code written otherwise
/// (`ISB 0149` → `ISB0149`), or `None` when it is canonical or not such a code.
fn non_canonical(code: &str) -> Option<String> {
    let trimmed = code.trim();
    let upper = trimmed.to_ascii_uppercase();
    let family = CODE_FAMILIES.iter().find(|f| upper.starts_with(**f))?;
    let rest = upper[family.len()..].trim_start_matches([' ', '-', '_']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    // A part number after a hyphen belongs to the code (`DCB0092-2062`).
    let part: String = rest[digits.len()..]
        .strip_prefix('-')
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .map(|p| format!("-{p}"))
        .unwrap_or_default();
    let canonical = format!("{family}{digits:0>4}{part}");
    (canonical != trimmed).then_some(canonical)
}

fn information_standard_code(code: &str) -> bool {
    non_canonical(code).is_none() && CODE_FAMILIES.iter().any(|f| code.starts_with(f))
}

/// The entry's fields that hold addresses, with their values.
fn addresses(e: &Entry) -> Vec<(&'static str, &str)> {
    let mut out = Vec::new();
    for (field, value) in [
        ("documentation_url", &e.documentation_url),
        ("feedback_url", &e.feedback_url),
        ("contact", &e.contact),
        ("persistent_id", &e.persistent_id),
    ] {
        if let Some(v) = value.as_deref() {
            out.push((field, v));
        }
    }
    out.extend(e.references.iter().map(|r| ("references", r.as_str())));
    out.extend(e.associated_media.iter().map(|r| ("associated_media", r.as_str())));
    out.extend(e.sources.iter().map(|s| ("sources", s.url.as_str())));
    out
}

/// The placeholder domain `value` uses, if any.
fn placeholder(value: &str) -> Option<&'static str> {
    let lower = value.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("mailto:").unwrap_or(&lower);
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    PLACEHOLDER_HOSTS.iter().find(|p| host == **p || host.ends_with(&format!(".{p}"))).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Organisation, Slug, Source};

    fn entry(slug: &str) -> Entry {
        let mut e: Entry = serde_json::from_value(serde_json::json!({
            "id": Entry::id_for_slug(slug),
            "slug": slug, "title": slug, "alternative_names": [], "summary": null, "description": null,
            "type": "standard", "category": "record-standards", "care_settings": [], "topics": [], "use_cases": [],
            "tags": [], "technologies": [], "owner": "owner", "contact": "help@nhs.net", "feedback_url": null,
            "documentation_url": format!("https://digital.nhs.uk/{slug}"), "status": "active", "status_notes": [],
            "versions": [], "publication_due": null, "implement_from": null, "comply_by": null, "review_date": null,
            "mandated": false, "reference_code": null, "legal_basis": null, "who_must_comply": null, "enforcement": null,
            "process_maturity": null, "implementation_maturity": null, "adoption_level": null, "cost": null,
            "test_tools_available": null, "dependencies": [], "related": [], "assurance": null, "endorsements": [],
            "persistent_id": null, "alternate_identifiers": [], "doi": null, "release_date": null, "effective_from": null,
            "applies_to": [], "impacts_on": [], "conformance_date": null, "is_part_of": [], "references": [],
            "associated_media": [], "licence": null, "sponsor": null, "senior_responsible_owner": null,
            "business_lead": null, "technical_committee": null, "approval_date": null,
            "post_implementation_review_date": null, "reviews": null, "access_network": null, "authentication": null,
            "onboarding": null, "digital_onboarding": null, "environments": [], "standards_implemented": [],
            "created_at": null, "updated_at": null
        }))
        .unwrap();
        e.sources = vec![Source { url: format!("https://digital.nhs.uk/{slug}"), checked_on: Some(day("2026-11-01")) }];
        e
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn catalogue(entries: Vec<Entry>, owner_contact: Option<&str>) -> Catalogue {
        let owner: Organisation = serde_json::from_value(serde_json::json!({
            "id": "26693760-1225-5509-9167-ba60052acd96", "slug": "owner", "name": "Owner", "kind": "national-body",
            "description": null, "url": null, "contact": owner_contact, "identifier": null, "logo_url": null
        }))
        .unwrap();
        Catalogue {
            format: crate::catalogue::FORMAT.into(),
            vocabularies: Default::default(),
            organisations: vec![owner],
            entries,
            guides: vec![],
            pages: vec![],
            glossary: vec![],
        }
    }

    fn run(entries: Vec<Entry>) -> Vec<(Severity, String, &'static str)> {
        check(&catalogue(entries, None), day("2026-11-29"))
            .into_iter()
            .map(|f| (f.severity, f.entry, f.field))
            .collect()
    }

    #[test]
    fn a_complete_entry_passes() {
        assert_eq!(run(vec![entry("fine")]), vec![]);
    }

    #[test]
    fn a_mandated_entry_needs_a_legal_basis_and_a_comply_by_date_or_a_reason() {
        let mut e = entry("must");
        e.mandated = true;
        assert_eq!(
            run(vec![e.clone()]),
            vec![(Severity::Error, "must".into(), "comply_by"), (Severity::Error, "must".into(), "legal_basis")]
        );
        e.legal_basis = Some("Section 250 of the Health and Social Care Act 2012".into());
        e.date_note = Some("The notice sets no conformance date.".into());
        assert_eq!(run(vec![e.clone()]), vec![]);
        e.date_note = None;
        e.comply_by = Some(day("2027-04-01"));
        assert_eq!(run(vec![e]), vec![]);
    }

    #[test]
    fn an_active_information_standard_with_a_code_needs_its_dates() {
        let mut e = entry("isn");
        e.reference_code = Some("DAPB4101".into());
        assert_eq!(run(vec![e.clone()]), vec![(Severity::Error, "isn".into(), "release_date")]);
        e.approval_date = Some(day("2024-04-05"));
        assert_eq!(run(vec![e.clone()]), vec![]);
        e.approval_date = None;
        e.status = Status::Retired;
        assert_eq!(run(vec![e]), vec![], "a retired one is not held to it");
    }

    #[test]
    fn reference_codes_are_written_canonically() {
        assert_eq!(non_canonical("ISB 0149"), Some("ISB0149".into()));
        assert_eq!(non_canonical("dcb0129"), Some("DCB0129".into()));
        assert_eq!(non_canonical("DCB 129"), Some("DCB0129".into()));
        assert_eq!(non_canonical("DAPB4101"), None);
        assert_eq!(non_canonical("DCB0092-2062"), None, "a part number is part of the code");
        assert_eq!(non_canonical("DCB 0092-2062"), Some("DCB0092-2062".into()));
        assert_eq!(non_canonical("DCB0129 Amd 2/2018"), Some("DCB0129".into()));
        assert_eq!(non_canonical("OPCS-4"), None);
        let mut e = entry("coded");
        e.reference_code = Some("ISB 0149".into());
        e.release_date = Some(day("2012-06-07"));
        e.alternate_identifiers = vec!["SCCI 0149".into(), "old-code".into()];
        assert_eq!(
            run(vec![e]),
            vec![
                (Severity::Error, "coded".into(), "alternate_identifiers"),
                (Severity::Error, "coded".into(), "reference_code")
            ]
        );
    }

    #[test]
    fn placeholder_domains_are_errors_wherever_an_address_is() {
        let mut e = entry("placeholder");
        e.contact = Some("someone@example.org".into());
        e.references = vec!["https://www.example.com/page".into()];
        assert_eq!(
            run(vec![e]),
            vec![
                (Severity::Error, "placeholder".into(), "contact"),
                (Severity::Error, "placeholder".into(), "references")
            ]
        );
        assert_eq!(placeholder("https://example.org.uk/"), None);
        assert_eq!(placeholder("mailto:a@sub.example.net"), Some("example.net"));
    }

    #[test]
    fn two_entries_share_a_documentation_link_only_when_one_is_part_of_the_other() {
        let a = entry("whole");
        let mut b = entry("copy");
        b.documentation_url = a.documentation_url.clone();
        assert_eq!(run(vec![a.clone(), b.clone()]), vec![(Severity::Error, "copy".into(), "documentation_url")]);
        b.is_part_of = vec![Slug::parse("whole").unwrap()];
        assert_eq!(run(vec![a, b]), vec![]);
    }

    #[test]
    fn every_entry_has_a_contact_route_and_every_api_its_own_contact_and_access_details() {
        let mut e = entry("quiet");
        e.contact = None;
        assert_eq!(run(vec![e.clone()]), vec![(Severity::Error, "quiet".into(), "contact")]);
        let with_owner = check(&catalogue(vec![e.clone()], Some("enquiries@nhs.net")), day("2026-11-29"));
        assert_eq!(with_owner, vec![], "the owner's published contact is a route");
        e.entry_type = EntryType::Api;
        let findings = check(&catalogue(vec![e.clone()], Some("enquiries@nhs.net")), day("2026-11-29"));
        let fields: Vec<&str> = findings.iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["access_network", "contact"]);
        e.contact = Some("api.management@nhs.net".into());
        e.authentication = Some("NHS CIS2".into());
        assert_eq!(run(vec![e]), vec![]);
    }

    #[test]
    fn a_roadmap_entry_needs_a_due_date_or_a_reason() {
        let mut e = entry("coming");
        e.status = Status::InDevelopment;
        assert_eq!(run(vec![e.clone()]), vec![(Severity::Error, "coming".into(), "publication_due")]);
        e.date_note = Some("No due date has been published.".into());
        assert_eq!(run(vec![e.clone()]), vec![]);
        e.date_note = None;
        e.publication_due = Some(day("2027-03-31"));
        assert_eq!(run(vec![e]), vec![]);
    }

    #[test]
    fn sources_are_required_and_a_stale_or_undated_check_is_only_a_warning() {
        let mut e = entry("sourced");
        e.sources.clear();
        assert_eq!(run(vec![e.clone()]), vec![(Severity::Error, "sourced".into(), "sources")]);
        e.sources = vec![
            Source { url: "https://digital.nhs.uk/a".into(), checked_on: Some(day("2025-11-28")) },
            Source { url: "https://digital.nhs.uk/b".into(), checked_on: None },
            Source { url: "https://digital.nhs.uk/c".into(), checked_on: Some(day("2025-11-29")) },
        ];
        assert_eq!(
            run(vec![e]),
            vec![(Severity::Warning, "sourced".into(), "sources"), (Severity::Warning, "sourced".into(), "sources")]
        );
    }
}
