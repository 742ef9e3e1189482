//! Synthetic catalogues of any size for benchmarks and load tests, made by
//! varying the real demo entries: titles, summaries, care settings,
//! topics, statuses and dates change; the vocabulary stays real.

use chrono::NaiveDate;

use crate::catalogue::{Catalogue, Entry, FORMAT, Slug, Status, Vocabulary};

/// A small deterministic generator, so the same size gives the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const QUALIFIERS: &[&str] = &[
    "Regional",
    "Community",
    "Integrated",
    "Acute",
    "Paediatric",
    "Adult",
    "Specialist",
    "Extended",
    "Outpatient",
    "Inpatient",
    "Remote",
    "Shared",
    "Local",
    "National",
    "Digital",
    "Enhanced",
    "Maternity",
    "Ambulance",
    "Dental",
    "Pharmacy",
];

const PURPOSES: &[&str] = &[
    "referral",
    "discharge",
    "booking",
    "results",
    "medication",
    "allergy",
    "vaccination",
    "demographics",
    "care plan",
    "consent",
    "safeguarding",
    "screening",
    "imaging",
    "observations",
    "messaging",
    "access",
];

/// A catalogue of `size` entries built from `base` (the demo catalogue).
pub fn generate(base: &Catalogue, size: usize) -> Catalogue {
    let mut rng = Lcg(0x5eed_0000_0000_0001 ^ size as u64);
    let settings = base.vocabularies.terms(Vocabulary::CareSetting);
    let topics = base.vocabularies.terms(Vocabulary::Topic);
    let mut entries = Vec::with_capacity(size);
    for i in 0..size {
        let source: &Entry = &base.entries[i % base.entries.len()];
        let round = i / base.entries.len();
        let mut e = source.clone();
        let qualifier = QUALIFIERS[rng.below(QUALIFIERS.len())];
        let purpose = PURPOSES[rng.below(PURPOSES.len())];
        if round > 0 {
            // `-synthetic-N`: no real slug ends so (`-v2` does: real second
            // versions).
            e.slug = Slug::parse(&format!("{}-synthetic-{round}", source.slug)).unwrap_or_else(|_| source.slug.clone());
            e.title = format!("{} ({qualifier} {purpose} profile {round})", source.title);
            e.summary = Some(format!(
                "{} This {qualifier} variant covers {purpose}.",
                source.summary.clone().unwrap_or_default()
            ));
            e.id = Entry::id_for_slug(e.slug.as_str());
            // Links point only at the original entries, which always exist.
            e.dependencies.retain(|s| base.entries.iter().any(|b| &b.slug == s));
            e.related = vec![source.slug.clone()];
            e.standards_implemented.retain(|s| base.entries.iter().any(|b| &b.slug == s));
            e.is_part_of.retain(|s| base.entries.iter().any(|b| &b.slug == s));
            e.replaced_by.retain(|s| base.entries.iter().any(|b| &b.slug == s));
            let extra = settings[rng.below(settings.len())].slug.clone();
            if !e.care_settings.contains(&extra) {
                e.care_settings.push(extra);
            }
            let extra = topics[rng.below(topics.len())].slug.clone();
            if !e.topics.contains(&extra) {
                e.topics.push(extra);
            }
            e.status = Status::ALL[rng.below(Status::ALL.len())];
            e.mandated = rng.below(4) == 0;
            e.comply_by = NaiveDate::from_ymd_opt(2025 + rng.below(5) as i32, 1 + rng.below(12) as u32, 1);
        }
        e.created_at = None;
        e.updated_at = None;
        entries.push(e);
    }
    Catalogue {
        format: FORMAT.to_owned(),
        vocabularies: base.vocabularies.clone(),
        organisations: base.organisations.clone(),
        entries,
        guides: base.guides.clone(),
        pages: base.pages.clone(),
        glossary: base.glossary.clone(),
    }
}
