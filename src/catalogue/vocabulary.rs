use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Slug, Vocabulary};

/// One value of a vocabulary, such as the care setting "Pharmacy".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub slug: Slug,
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The vocabularies by key (`care_setting`, `topic`, ...), each term list in
/// display order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Vocabularies(pub BTreeMap<String, Vec<Term>>);

fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

impl Vocabularies {
    pub fn terms(&self, vocabulary: Vocabulary) -> &[Term] {
        self.0.get(vocabulary.key()).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn term(&self, vocabulary: Vocabulary, slug: &str) -> Option<&Term> {
        self.terms(vocabulary).iter().find(|t| t.slug.as_str() == slug)
    }

    /// Finds the term that `value` names: its slug, its label or one of its
    /// aliases, ignoring letter case.
    pub fn find(&self, vocabulary: Vocabulary, value: &str) -> Option<&Term> {
        let wanted = fold(value);
        let terms = self.terms(vocabulary);
        terms
            .iter()
            .find(|t| t.slug.as_str() == wanted || fold(&t.label) == wanted)
            .or_else(|| terms.iter().find(|t| t.aliases.iter().any(|a| fold(a) == wanted)))
    }

    /// Finds a term or says what would have been accepted.
    pub fn resolve(&self, vocabulary: Vocabulary, value: &str) -> Result<Slug, String> {
        self.find(vocabulary, value).map(|t| t.slug.clone()).ok_or_else(|| {
            let known: Vec<&str> = self.terms(vocabulary).iter().map(|t| t.slug.as_str()).collect();
            if known.is_empty() {
                format!("a known {}, but there are none yet", vocabulary.noun())
            } else {
                format!("a known {} (slug or label): one of {}", vocabulary.noun(), known.join(", "))
            }
        })
    }

    /// Adds or replaces a term, keeping the order of existing terms.
    pub fn upsert(&mut self, vocabulary: Vocabulary, term: Term) {
        let list = self.0.entry(vocabulary.key().to_owned()).or_default();
        match list.iter_mut().find(|t| t.slug == term.slug) {
            Some(existing) => *existing = term,
            None => list.push(term),
        }
    }
}

impl Vocabularies {
    /// The vocabularies a new directory starts with.
    pub fn defaults() -> Vocabularies {
        serde_json::from_str(include_str!("../../demo/vocabularies.json"))
            .expect("demo/vocabularies.json is valid; a unit test checks it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_vocabularies_hold_every_care_setting_and_topic_of_the_design() {
        let v = Vocabularies::defaults();
        assert_eq!(v.terms(Vocabulary::CareSetting).len(), 11);
        assert_eq!(v.terms(Vocabulary::Topic).len(), 16);
        assert_eq!(v.terms(Vocabulary::Category).len(), 4);
        assert_eq!(v.find(Vocabulary::CareSetting, "GP / PRIMARY CARE").unwrap().slug.as_str(), "gp-primary-care");
        assert_eq!(
            v.find(Vocabulary::CareSetting, "a&e / emergency department").unwrap().slug.as_str(),
            "urgent-and-emergency-care"
        );
        assert_eq!(v.find(Vocabulary::Technology, "STU3").unwrap().slug.as_str(), "fhir-stu3");
        assert!(v.find(Vocabulary::Topic, "Cheese").is_none());
    }
}
