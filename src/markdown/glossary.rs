//! Links the first use of each glossary term on a page to its definition.

use aho_corasick::AhoCorasick;

use crate::catalogue::GlossaryTerm;
use crate::search::index::escape;

/// The names of every glossary term, longest first, ready to find in text.
/// Every name is found in one pass over a text (an Aho-Corasick automaton
/// for the names matched in any case, one for those matched as written),
/// so linking costs the length of the text, not that times the names.
#[derive(Debug, Default, Clone)]
pub struct Linker {
    /// (name as matched, case-sensitive?, slug, term)
    names: Vec<(String, bool, String, String)>,
    /// Names matched in lower case, and each pattern's index in `names`.
    any_case: Option<(AhoCorasick, Vec<usize>)>,
    /// Names matched as written (acronyms), and their indexes.
    as_written: Option<(AhoCorasick, Vec<usize>)>,
}

/// Short names written in capitals (FHIR, EPS, API) only match in
/// capitals, so "eps" in a word list or "Api" in a title-case phrase are
/// not taken for them.
fn case_sensitive(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && name.chars().filter(|c| c.is_alphabetic()).all(|c| c.is_uppercase())
}

impl Linker {
    pub fn new(terms: &[GlossaryTerm]) -> Linker {
        let mut names: Vec<(String, bool, String, String)> = terms
            .iter()
            .flat_map(|t| {
                t.names().filter(|n| n.trim().chars().count() >= 2).map(move |n| {
                    let sensitive = case_sensitive(n);
                    let key = if sensitive { n.trim().to_owned() } else { n.trim().to_ascii_lowercase() };
                    (key, sensitive, t.slug.to_string(), t.term.clone())
                })
            })
            .collect();
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        names.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let automaton = |sensitive: bool| {
            let ids: Vec<usize> = (0..names.len()).filter(|&i| names[i].1 == sensitive).collect();
            let patterns: Vec<&str> = ids.iter().map(|&i| names[i].0.as_str()).collect();
            // Building fails only past the automaton's size limits, far
            // beyond any glossary; then those names are simply not linked.
            (!ids.is_empty()).then(|| AhoCorasick::new(&patterns).ok().map(|ac| (ac, ids))).flatten()
        };
        let any_case = automaton(false);
        let as_written = automaton(true);
        Linker { names, any_case, as_written }
    }

    /// Escapes each text for HTML and links the first use of each term
    /// across all of them (in order), so a term is linked once a page.
    pub fn link_all(&self, texts: &[&str]) -> Vec<String> {
        let mut linked: Vec<&str> = Vec::new();
        texts.iter().map(|t| self.link(t, &mut linked)).collect()
    }

    fn link<'a>(&'a self, text: &str, linked: &mut Vec<&'a str>) -> String {
        // Lower-casing ASCII keeps every byte where it was, so positions in
        // `lower` are positions in `text`.
        let lower = text.to_ascii_lowercase();
        // Every occurrence of every name: (index in `names`, start, end).
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for (automaton, haystack) in [(&self.any_case, lower.as_str()), (&self.as_written, text)] {
            if let Some((ac, ids)) = automaton {
                hits.extend(
                    ac.find_overlapping_iter(haystack).map(|m| (ids[m.pattern().as_usize()], m.start(), m.end())),
                );
            }
        }
        // Names in their order (longest first), each name's occurrences in
        // text order: the first whole-word one not overlapping a longer name
        // already found is linked.
        hits.sort_unstable();
        let mut found: Vec<(usize, usize, &str, &str)> = Vec::new();
        let mut i = 0;
        while i < hits.len() {
            let name = hits[i].0;
            let group = hits[i..].iter().position(|h| h.0 != name).map_or(hits.len(), |n| i + n);
            let (_, _, slug, term) = &self.names[name];
            if !linked.contains(&slug.as_str()) && !found.iter().any(|f| f.2 == slug) {
                for &(_, start, end) in &hits[i..group] {
                    let boundary_before = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
                    let boundary_after = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
                    let overlaps = found.iter().any(|f| start < f.1 && f.0 < end);
                    if boundary_before && boundary_after && !overlaps {
                        found.push((start, end, slug, term));
                        break;
                    }
                }
            }
            i = group;
        }
        found.sort_by_key(|f| f.0);
        let mut out = String::with_capacity(text.len() + found.len() * 64);
        let mut last = 0;
        for (start, end, slug, term) in found {
            linked.push(slug);
            out.push_str(&escape(&text[last..start]));
            out.push_str(&format!(
                "<a class=\"app-glossary-link\" href=\"/glossary#{slug}\" title=\"Glossary: {}\">{}</a>",
                escape(term),
                escape(&text[start..end])
            ));
            last = end;
        }
        out.push_str(&escape(&text[last..]));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Slug;

    fn term(slug: &str, name: &str, aliases: &[&str]) -> GlossaryTerm {
        GlossaryTerm {
            slug: Slug::parse(slug).unwrap(),
            term: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            definition: "d".into(),
            updated_at: None,
        }
    }

    #[test]
    fn links_the_first_use_only_across_texts() {
        let linker = Linker::new(&[term("fhir", "FHIR", &["Fast Healthcare Interoperability Resources"])]);
        let out = linker.link_all(&["Uses FHIR R4.", "More FHIR here."]);
        assert_eq!(
            out[0],
            "Uses <a class=\"app-glossary-link\" href=\"/glossary#fhir\" title=\"Glossary: FHIR\">FHIR</a> R4."
        );
        assert_eq!(out[1], "More FHIR here.");
    }

    #[test]
    fn acronyms_match_in_capitals_and_whole_words() {
        let linker = Linker::new(&[term("eps", "EPS", &[]), term("api", "API", &[])]);
        let out = linker.link_all(&["steps and eps, APIs, then the API and EPS"]);
        assert!(out[0].contains(">API</a> and"), "{}", out[0]);
        assert!(out[0].contains(">EPS</a>"), "{}", out[0]);
        assert!(out[0].starts_with("steps and eps, APIs"), "{}", out[0]);
    }

    #[test]
    fn longer_names_win_and_text_is_escaped() {
        let linker =
            Linker::new(&[term("hl7", "HL7", &[]), term("hl7-v2", "HL7 version 2", &[]), term("spine", "Spine", &[])]);
        let out = linker.link_all(&["<b>HL7 version 2</b> over the spine"]);
        assert!(out[0].starts_with("&lt;b&gt;<a"), "{}", out[0]);
        assert!(out[0].contains("href=\"/glossary#hl7-v2\""), "{}", out[0]);
        assert!(!out[0].contains("glossary#hl7\""), "{}", out[0]);
        assert!(out[0].contains(">spine</a>"), "{}", out[0]);
    }
}
