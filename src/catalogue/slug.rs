use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A URL-safe identifier: 1-100 characters of `a-z`, `0-9` and single hyphens,
/// neither starting nor ending with a hyphen. Holding a `Slug` means it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

pub const SLUG_FORM: &str = "1-100 characters of a-z, 0-9 and single hyphens (like `fhir-uk-core`)";

impl Slug {
    pub fn parse(value: &str) -> Result<Slug, String> {
        let ok = !value.is_empty()
            && value.len() <= 100
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if ok { Ok(Slug(value.to_owned())) } else { Err(format!("a slug: {SLUG_FORM}")) }
    }

    /// Makes a slug from any text: "GP / Primary care" becomes `gp-primary-care`.
    /// Returns `None` when nothing usable is left.
    pub fn from_text(text: &str) -> Option<Slug> {
        let mut out = String::with_capacity(text.len());
        for ch in text.chars() {
            let ch = match ch {
                '&' => {
                    if !out.is_empty() && !out.ends_with('-') {
                        out.push('-');
                    }
                    out.push_str("and");
                    '-'
                }
                '+' => {
                    out.push_str("-plus");
                    '-'
                }
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => '-',
            };
            if ch == '-' && (out.is_empty() || out.ends_with('-')) {
                continue;
            }
            out.push(ch);
        }
        let trimmed = out.trim_end_matches('-');
        let mut cut = trimmed.to_owned();
        if cut.len() > 100 {
            cut.truncate(100);
            cut = cut.trim_end_matches('-').to_owned();
        }
        Slug::parse(&cut).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Slug::parse(&raw).map_err(|e| serde::de::Error::custom(format!("`{raw}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_words_joined_by_single_hyphens() {
        assert!(Slug::parse("fhir-uk-core").is_ok());
        assert!(Slug::parse("dcb0129").is_ok());
    }

    #[test]
    fn rejects_capitals_spaces_and_stray_hyphens() {
        for bad in ["", "FHIR", "a b", "-a", "a-", "a--b", &"a".repeat(101)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn makes_slugs_from_labels() {
        assert_eq!(Slug::from_text("GP / Primary care").unwrap().as_str(), "gp-primary-care");
        assert_eq!(Slug::from_text("A&E / Emergency department").unwrap().as_str(), "a-and-e-emergency-department");
        assert_eq!(Slug::from_text("dm+d").unwrap().as_str(), "dm-plus-d");
        assert_eq!(Slug::from_text("  Alerts - HL7 V3 API ").unwrap().as_str(), "alerts-hl7-v3-api");
        assert!(Slug::from_text("---").is_none());
    }
}
