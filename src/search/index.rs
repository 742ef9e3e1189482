//! The in-memory search index: an inverted index over weighted fields with
//! BM25 scoring, typo-tolerant and prefix term expansion, synonym groups,
//! phrases, and per-document facet values for filters and counts.
//!
//! It is derived data: built from the store at start-up and kept current
//! from the changes log. Nothing in it is not also in the store.

use std::collections::{HashMap, HashSet};

use super::bits::Bits;
use super::budget::{Budget, OverBudget};
use super::hash::FastMap;
use super::text::{self, TypoMatcher, allowed_typos, is_stop_word, letter_mask, stem};
use crate::catalogue::{Entry, Organisation, Vocabularies, Vocabulary};

/// The facets, in the order the API lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facet {
    Category,
    Status,
    CareSetting,
    Topic,
    Technology,
    Owner,
    Type,
    Mandated,
}

impl Facet {
    pub const ALL: [Facet; 8] = [
        Facet::Category,
        Facet::Status,
        Facet::CareSetting,
        Facet::Topic,
        Facet::Technology,
        Facet::Owner,
        Facet::Type,
        Facet::Mandated,
    ];

    /// The name used for the filter parameter and in `facets`.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Category => "category",
            Facet::Status => "status",
            Facet::CareSetting => "care_setting",
            Facet::Topic => "topic",
            Facet::Technology => "technology",
            Facet::Owner => "owner",
            Facet::Type => "type",
            Facet::Mandated => "mandated",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

const FACETS: usize = Facet::ALL.len();

/// How much a word counts, by the field it is in.
const TITLE: f32 = 6.0;
const ALTERNATIVE_NAME: f32 = 5.0;
const REFERENCE_CODE: f32 = 5.0;
const SUMMARY: f32 = 2.0;
const TAG: f32 = 1.5;
const OWNER: f32 = 1.5;
const LABEL: f32 = 1.0;
const DESCRIPTION: f32 = 1.0;

/// A typo or a prefix is worth less than the word itself.
const ONE_TYPO: f32 = 0.45;
const TWO_TYPOS: f32 = 0.3;
const PREFIX: f32 = 0.6;
const PLURAL: f32 = 0.9;

const K1: f32 = 1.2;
const B: f32 = 0.75;

#[derive(Debug, Clone)]
pub struct Doc {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub entry_type: &'static str,
    pub status: &'static str,
    pub owner: String,
    pub sort_title: String,
    pub updated_at: i64,
    pub comply_by: Option<chrono::NaiveDate>,
    pub publication_due: Option<chrono::NaiveDate>,
    pub implement_from: Option<chrono::NaiveDate>,
    pub mandated: bool,
    pub created_at: i64,
    pub description: String,
    pub tags: Vec<String>,
    facets: [Vec<u32>; FACETS],
    names: Vec<String>,
    terms: Vec<(u32, f32)>,
    length: f32,
}

impl Term {
    /// The word positions of the `i`th posting.
    fn positions_of(&self, i: usize) -> &[u32] {
        let start = self.starts[i] as usize;
        let end = self.starts.get(i + 1).map_or(self.positions.len(), |&e| e as usize);
        &self.positions[start..end]
    }

    /// The word positions of `doc`, if it holds the term.
    fn positions_in(&self, doc: u32) -> Option<&[u32]> {
        let i = self.postings.binary_search_by_key(&doc, |&(d, _)| d).ok()?;
        Some(self.positions_of(i))
    }
}

#[derive(Debug, Default)]
struct Term {
    text: String,
    mask: u64,
    postings: Vec<(u32, f32)>,
    /// For each posting, where its word positions start in `positions`
    /// (they end where the next posting's start), for phrases.
    starts: Vec<u32>,
    positions: Vec<u32>,
    /// Live documents holding the term.
    df: u32,
}

/// Values of one facet: slug to id, and each id's label.
#[derive(Debug, Default)]
struct Values {
    ids: FastMap<String, u32>,
    slugs: Vec<String>,
    labels: Vec<String>,
    /// For each value, the documents that have it.
    docs: Vec<Bits>,
}

impl Values {
    fn id(&mut self, slug: &str, label: &str) -> u32 {
        if let Some(&id) = self.ids.get(slug) {
            self.labels[id as usize] = label.to_owned();
            return id;
        }
        let id = self.slugs.len() as u32;
        self.ids.insert(slug.to_owned(), id);
        self.slugs.push(slug.to_owned());
        self.labels.push(label.to_owned());
        self.docs.push(Bits::default());
        id
    }
}

/// A synonym group: every form means the same thing.
#[derive(Debug, Clone)]
struct Synonyms {
    key: String,
    /// Each form as its lower-case words, stop words kept.
    forms: Vec<Vec<String>>,
}

/// What the index knows about a word as written (lower case): looked up
/// once per distinct word, so indexing costs one hash lookup per word.
#[derive(Debug, Clone, Copy)]
struct Lex {
    stop: bool,
    /// The term of the word's stem; `NONE` for stop words.
    term: u32,
    /// Index into `synonym_lists` when the word may start a synonym form.
    synonyms: u32,
}

const NONE: u32 = u32::MAX;

/// Buffers reused from one document to the next while indexing.
#[derive(Default)]
struct Scratch {
    lower: String,
    spans: Vec<(usize, usize)>,
    weights: FastMap<u32, f32>,
    /// (term, position) of each word of the document.
    occurrences: Vec<(u32, u32)>,
    position: u32,
    length: f32,
    found: Vec<usize>,
}

#[derive(Default)]
pub struct Index {
    scratch: Scratch,
    docs: Vec<Doc>,
    by_slug: FastMap<String, u32>,
    term_ids: FastMap<String, u32>,
    terms: Vec<Term>,
    /// Term ids by the length of their text in characters, for typo search.
    by_length: Vec<Vec<u32>>,
    /// Term ids in text order, for prefix search; rebuilt when stale.
    sorted: Vec<u32>,
    sorted_stale: bool,
    /// Each document's place in title order, for sorting without comparing
    /// strings; rebuilt by `refresh`.
    title_rank: Vec<u32>,
    values: [Values; FACETS],
    /// Facet value order for display: vocabulary order, else by count.
    value_order: [Vec<String>; FACETS],
    synonyms: Vec<Synonyms>,
    /// First word of a synonym form to the groups it may start.
    synonym_starts: FastMap<String, Vec<usize>>,
    lexicon: FastMap<String, Lex>,
    /// Titles, other names and reference codes, as words joined by spaces,
    /// to the documents they name: typing a name exactly puts it first.
    names: FastMap<String, Vec<u32>>,
    total_length: f64,
    alive: usize,
    /// Per document, beside `docs` so scoring touches only dense arrays.
    lengths: Vec<f32>,
    live: Bits,
}

/// What labels and names documents are indexed with.
pub struct Context<'a> {
    pub vocabularies: &'a Vocabularies,
    pub organisations: &'a HashMap<String, Organisation>,
}

fn synonym_term(key: &str) -> String {
    format!("\u{1}{key}")
}

impl Index {
    pub fn new(vocabularies: &Vocabularies) -> Index {
        let mut index = Index::default();
        index.set_vocabularies(vocabularies);
        index
    }

    /// Synonym groups come from the `synonym` vocabulary and from the other
    /// vocabularies' aliases: all editable data.
    pub fn set_vocabularies(&mut self, vocabularies: &Vocabularies) {
        let mut groups = Vec::new();
        for vocabulary in Vocabulary::ALL {
            for term in vocabularies.terms(vocabulary) {
                if vocabulary != Vocabulary::Synonym && term.aliases.is_empty() {
                    continue;
                }
                let mut forms: Vec<Vec<String>> = Vec::new();
                for form in std::iter::once(&term.label).chain(&term.aliases) {
                    let words: Vec<String> = text::tokens(form).into_iter().map(|t| t.text).collect();
                    if !words.is_empty() && !forms.contains(&words) {
                        forms.push(words);
                    }
                }
                if forms.len() > 1 {
                    groups.push(Synonyms { key: format!("{}:{}", vocabulary.key(), term.slug), forms });
                }
            }
        }
        self.synonym_starts.clear();
        for (i, g) in groups.iter().enumerate() {
            for form in &g.forms {
                let starts = self.synonym_starts.entry(form[0].clone()).or_default();
                if !starts.contains(&i) {
                    starts.push(i);
                }
            }
        }
        self.synonyms = groups;
        self.lexicon.clear();
        let mut order: [Vec<String>; FACETS] = Default::default();
        for (facet, vocabulary) in [
            (Facet::Category, Vocabulary::Category),
            (Facet::CareSetting, Vocabulary::CareSetting),
            (Facet::Topic, Vocabulary::Topic),
            (Facet::Technology, Vocabulary::Technology),
        ] {
            order[facet.index()] = vocabularies.terms(vocabulary).iter().map(|t| t.slug.to_string()).collect();
        }
        order[Facet::Status.index()] = crate::catalogue::Status::ALL.iter().map(|s| s.slug().to_owned()).collect();
        order[Facet::Type.index()] = vec!["standard".into(), "api".into()];
        order[Facet::Mandated.index()] = vec!["true".into(), "false".into()];
        self.value_order = order;
    }

    pub fn len(&self) -> usize {
        self.alive
    }

    pub fn is_empty(&self) -> bool {
        self.alive == 0
    }

    pub fn doc(&self, id: u32) -> &Doc {
        &self.docs[id as usize]
    }

    pub fn facet_label(&self, facet: Facet, id: u32) -> (&str, &str) {
        let v = &self.values[facet.index()];
        (&v.slugs[id as usize], &v.labels[id as usize])
    }

    pub fn facet_value_id(&self, facet: Facet, slug: &str) -> Option<u32> {
        self.values[facet.index()].ids.get(slug).copied()
    }

    pub fn facet_value_count(&self, facet: Facet) -> usize {
        self.values[facet.index()].slugs.len()
    }

    pub fn doc_facets(&self, id: u32, facet: Facet) -> &[u32] {
        &self.docs[id as usize].facets[facet.index()]
    }

    pub fn is_alive(&self, id: u32) -> bool {
        self.live.get(id)
    }

    /// Every live document.
    pub fn live(&self) -> &Bits {
        &self.live
    }

    /// The documents that have a facet value.
    pub fn value_docs(&self, facet: Facet, id: u32) -> &Bits {
        &self.values[facet.index()].docs[id as usize]
    }

    /// The live documents holding an index word that matches a pattern
    /// with `*` (any run of characters) and `?` (one character).
    pub fn wildcard(&self, pattern: &Pattern, budget: &Budget) -> Result<Bits, OverBudget> {
        let mut out = Bits::with_len(self.docs.len());
        let mut text = Vec::new();
        for term in &self.terms {
            budget.spend(1)?;
            if term.df == 0 || term.text.starts_with('\u{1}') {
                continue;
            }
            text.clear();
            text.extend(term.text.chars());
            if !pattern.matches(&text, budget)? {
                continue;
            }
            budget.spend(term.postings.len() as u64)?;
            for &(d, _) in &term.postings {
                if self.live.get(d) {
                    out.set(d);
                }
            }
        }
        Ok(out)
    }

    /// The live document with this slug.
    pub fn doc_id(&self, slug: &str) -> Option<u32> {
        self.by_slug.get(slug).copied()
    }

    /// One past the highest document id.
    pub fn capacity(&self) -> usize {
        self.docs.len()
    }

    pub fn live_docs(&self) -> impl Iterator<Item = u32> + '_ {
        self.live.ones()
    }

    /// Display order of a facet's value slugs, when it has a fixed one.
    pub fn value_order(&self, facet: Facet) -> &[String] {
        &self.value_order[facet.index()]
    }

    fn term_id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.term_ids.get(text) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.term_ids.insert(text.to_owned(), id);
        self.terms.push(Term { text: text.to_owned(), mask: letter_mask(text), ..Term::default() });
        let len = text.chars().count();
        if self.by_length.len() <= len {
            self.by_length.resize(len + 1, Vec::new());
        }
        self.by_length[len].push(id);
        self.sorted_stale = true;
        id
    }

    /// Indexes one field's text into `scratch` at `boost`.
    fn add_field(&mut self, text: &str, boost: f32, scratch: &mut Scratch) {
        scratch.lower.clear();
        scratch.spans.clear();
        text::lower_tokens(text, &mut scratch.lower, &mut scratch.spans);
        let lower = std::mem::take(&mut scratch.lower);
        let spans = std::mem::take(&mut scratch.spans);
        for (i, &(s, e)) in spans.iter().enumerate() {
            let word = &lower[s..e];
            let lex = match self.lexicon.get(word) {
                Some(lex) => *lex,
                None => {
                    let stop = is_stop_word(word);
                    let term = if stop { NONE } else { self.term_id(&text::stem_cow(word)) };
                    let synonyms = if self.synonym_starts.contains_key(word) { 0 } else { NONE };
                    let lex = Lex { stop, term, synonyms };
                    self.lexicon.insert(word.to_owned(), lex);
                    lex
                }
            };
            // A synonym form found in the text indexes the whole group.
            if lex.synonyms != NONE
                && let Some(groups) = self.synonym_starts.get(word)
            {
                scratch.found.clear();
                for &g in groups {
                    let group = &self.synonyms[g];
                    let found = group.forms.iter().any(|f| {
                        spans.len() - i >= f.len() && f.iter().zip(&spans[i..]).all(|(w, &(a, b))| *w == lower[a..b])
                    });
                    if found {
                        scratch.found.push(g);
                    }
                }
                for k in 0..scratch.found.len() {
                    let key = synonym_term(&self.synonyms[scratch.found[k]].key);
                    let tid = self.term_id(&key);
                    let w = scratch.weights.entry(tid).or_default();
                    *w = w.max(boost);
                }
            }
            if lex.stop {
                continue;
            }
            *scratch.weights.entry(lex.term).or_default() += boost;
            scratch.occurrences.push((lex.term, scratch.position));
            scratch.position += 1;
            scratch.length += boost;
        }
        // A gap between fields, so a phrase never spans two.
        scratch.position += 1;
        scratch.lower = lower;
        scratch.spans = spans;
    }

    /// Adds or replaces the entry with this slug.
    pub fn upsert(&mut self, entry: &Entry, ctx: &Context<'_>) {
        // A replaced document keeps its creation time when the new one has none.
        let created_at = entry
            .created_at
            .map(|t| t.timestamp_micros())
            .unwrap_or_else(|| self.by_slug.get(entry.slug.as_str()).map_or(0, |&d| self.docs[d as usize].created_at));
        self.remove(entry.slug.as_str());
        let id = self.docs.len() as u32;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.weights.clear();
        scratch.occurrences.clear();
        scratch.position = 0;
        scratch.length = 0.0;
        let owner_name = ctx.organisations.get(entry.owner.as_str()).map_or(entry.owner.as_str(), |o| o.name.as_str());
        self.add_field(&entry.title, TITLE, &mut scratch);
        for name in &entry.alternative_names {
            self.add_field(name, ALTERNATIVE_NAME, &mut scratch);
        }
        if let Some(code) = &entry.reference_code {
            self.add_field(code, REFERENCE_CODE, &mut scratch);
        }
        let summary = entry.summary.clone().unwrap_or_default();
        self.add_field(&summary, SUMMARY, &mut scratch);
        for tag in entry.tags.iter().chain(&entry.use_cases) {
            self.add_field(tag, TAG, &mut scratch);
        }
        self.add_field(owner_name, OWNER, &mut scratch);
        for (vocabulary, slugs) in [
            (Vocabulary::Category, std::slice::from_ref(&entry.category)),
            (Vocabulary::CareSetting, entry.care_settings.as_slice()),
            (Vocabulary::Topic, entry.topics.as_slice()),
            (Vocabulary::Technology, entry.technologies.as_slice()),
        ] {
            for slug in slugs {
                let label =
                    ctx.vocabularies.term(vocabulary, slug.as_str()).map_or(slug.as_str(), |t| t.label.as_str());
                self.add_field(label, LABEL, &mut scratch);
            }
        }
        // Indexed and quoted in snippets as the text a reader sees, without
        // Markdown's marks.
        let description = crate::markdown::plain_text(entry.description.as_deref().unwrap_or_default());
        self.add_field(&description, DESCRIPTION, &mut scratch);

        scratch.occurrences.sort_unstable();
        let mut terms: Vec<(u32, f32)> = Vec::with_capacity(scratch.weights.len());
        for (&tid, &w) in &scratch.weights {
            let t = &mut self.terms[tid as usize];
            t.postings.push((id, w));
            t.starts.push(t.positions.len() as u32);
            let from = scratch.occurrences.partition_point(|&(x, _)| x < tid);
            let to = scratch.occurrences.partition_point(|&(x, _)| x <= tid);
            t.positions.extend(scratch.occurrences[from..to].iter().map(|&(_, p)| p));
            t.df += 1;
            terms.push((tid, w));
        }
        let length = scratch.length;
        self.scratch = scratch;

        let mut facets: [Vec<u32>; FACETS] = Default::default();
        let mut put = |facet: Facet, slug: &str, label: &str| {
            let v = self.values[facet.index()].id(slug, label);
            if !facets[facet.index()].contains(&v) {
                facets[facet.index()].push(v);
            }
        };
        let label_of =
            |v: Vocabulary, slug: &str| ctx.vocabularies.term(v, slug).map_or(slug.to_owned(), |t| t.label.clone());
        put(Facet::Category, entry.category.as_str(), &label_of(Vocabulary::Category, entry.category.as_str()));
        put(Facet::Status, entry.status.slug(), entry.status.label());
        for s in &entry.care_settings {
            put(Facet::CareSetting, s.as_str(), &label_of(Vocabulary::CareSetting, s.as_str()));
        }
        for s in &entry.topics {
            put(Facet::Topic, s.as_str(), &label_of(Vocabulary::Topic, s.as_str()));
        }
        for s in &entry.technologies {
            put(Facet::Technology, s.as_str(), &label_of(Vocabulary::Technology, s.as_str()));
        }
        put(Facet::Owner, entry.owner.as_str(), owner_name);
        put(
            Facet::Type,
            entry.entry_type.as_str(),
            if entry.entry_type.as_str() == "api" { "API" } else { "Standard" },
        );
        let (m, label) = if entry.mandated { ("true", "Mandated") } else { ("false", "Not mandated") };
        put(Facet::Mandated, m, label);

        let mut names: Vec<String> = Vec::new();
        for name in std::iter::once(&entry.title).chain(&entry.alternative_names).chain(entry.reference_code.iter()) {
            let key = name_key(name);
            if !key.is_empty() && !names.contains(&key) {
                self.names.entry(key.clone()).or_default().push(id);
                names.push(key);
            }
        }
        self.docs.push(Doc {
            slug: entry.slug.to_string(),
            title: entry.title.clone(),
            summary,
            entry_type: entry.entry_type.as_str(),
            status: entry.status.slug(),
            owner: entry.owner.to_string(),
            sort_title: entry.title.to_lowercase(),
            updated_at: entry.updated_at.map_or(0, |t| t.timestamp_micros()),
            comply_by: entry.comply_by,
            publication_due: entry.publication_due,
            implement_from: entry.implement_from,
            mandated: entry.mandated,
            created_at,
            description,
            tags: entry.tags.clone(),
            facets,
            names,
            terms,
            length,
        });
        for (fi, values) in self.docs[id as usize].facets.iter().enumerate() {
            for &v in values {
                self.values[fi].docs[v as usize].set(id);
            }
        }
        self.by_slug.insert(entry.slug.to_string(), id);
        self.total_length += f64::from(length);
        self.alive += 1;
        self.lengths.push(length);
        self.live.set(id);
    }

    /// Removes the entry with this slug, if indexed.
    pub fn remove(&mut self, slug: &str) {
        let Some(id) = self.by_slug.remove(slug) else { return };
        self.live.clear(id);
        let doc = &mut self.docs[id as usize];
        for (fi, values) in doc.facets.iter().enumerate() {
            for &v in values {
                self.values[fi].docs[v as usize].clear(id);
            }
        }
        self.total_length -= f64::from(doc.length);
        self.alive -= 1;
        for &(tid, _) in &doc.terms {
            self.terms[tid as usize].df -= 1;
        }
        for name in &doc.names {
            if let Some(ids) = self.names.get_mut(name) {
                ids.retain(|&d| d != id);
                if ids.is_empty() {
                    self.names.remove(name);
                }
            }
        }
        // Replaced documents leave postings behind; past a point, rebuild.
        let dead = self.docs.len() - self.alive;
        if dead > 1000 && dead > self.alive / 4 {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut remap = vec![u32::MAX; self.docs.len()];
        let mut docs = Vec::with_capacity(self.alive);
        for (old, doc) in std::mem::take(&mut self.docs).into_iter().enumerate() {
            if self.live.get(old as u32) {
                remap[old] = docs.len() as u32;
                docs.push(doc);
            }
        }
        for term in &mut self.terms {
            let mut postings = Vec::with_capacity(term.df as usize);
            let mut starts = Vec::with_capacity(term.df as usize);
            let mut positions = Vec::new();
            for i in 0..term.postings.len() {
                let (d, w) = term.postings[i];
                let new = remap[d as usize];
                if new != u32::MAX {
                    postings.push((new, w));
                    starts.push(positions.len() as u32);
                    positions.extend_from_slice(term.positions_of(i));
                }
            }
            term.postings = postings;
            term.starts = starts;
            term.positions = positions;
        }
        for id in self.by_slug.values_mut() {
            *id = remap[*id as usize];
        }
        for ids in self.names.values_mut() {
            for id in ids.iter_mut() {
                *id = remap[*id as usize];
            }
        }
        self.docs = docs;
        self.lengths = self.docs.iter().map(|d| d.length).collect();
        self.live = Bits::with_len(self.docs.len());
        for values in &mut self.values {
            for bits in &mut values.docs {
                *bits = Bits::with_len(self.docs.len());
            }
        }
        for (id, doc) in self.docs.iter().enumerate() {
            self.live.set(id as u32);
            for (fi, values) in doc.facets.iter().enumerate() {
                for &v in values {
                    self.values[fi].docs[v as usize].set(id as u32);
                }
            }
        }
    }

    fn ensure_sorted(&mut self) {
        if self.sorted_stale || self.sorted.len() != self.terms.len() {
            let mut ids: Vec<u32> = (0..self.terms.len() as u32).collect();
            ids.sort_unstable_by(|a, b| self.terms[*a as usize].text.cmp(&self.terms[*b as usize].text));
            self.sorted = ids;
            self.sorted_stale = false;
        }
    }

    /// Call after a batch of changes, before searching.
    pub fn refresh(&mut self) {
        self.ensure_sorted();
        let mut order: Vec<u32> = (0..self.docs.len() as u32).collect();
        order.sort_by(|a, b| {
            let (da, db) = (&self.docs[*a as usize], &self.docs[*b as usize]);
            da.sort_title.cmp(&db.sort_title).then_with(|| da.slug.cmp(&db.slug))
        });
        self.title_rank = vec![0; self.docs.len()];
        for (rank, d) in order.into_iter().enumerate() {
            self.title_rank[d as usize] = rank as u32;
        }
    }

    /// The document's place in title order (see `refresh`).
    pub fn title_rank(&self, id: u32) -> u32 {
        self.title_rank.get(id as usize).copied().unwrap_or(u32::MAX)
    }

    fn idf(&self, tid: u32) -> f32 {
        let n = self.alive as f32;
        let df = self.terms[tid as usize].df as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    pub fn term_df(&self, word: &str) -> u32 {
        self.term_ids.get(&stem(word)).map_or(0, |&t| self.terms[t as usize].df)
    }

    /// Terms a query word stands for, each with how much a match counts:
    /// the word, its typo variants and, for the word being typed, the
    /// words it begins.
    fn expand(&self, word: &str, prefix: bool, budget: &Budget) -> Result<Vec<(u32, f32)>, OverBudget> {
        let mut out: Vec<(u32, f32)> = Vec::new();
        let stemmed = stem(word);
        let push = |tid: u32, factor: f32, out: &mut Vec<(u32, f32)>| {
            if self.terms[tid as usize].df == 0 {
                return;
            }
            match out.iter_mut().find(|(t, _)| *t == tid) {
                Some(existing) => existing.1 = existing.1.max(factor),
                None => out.push((tid, factor)),
            }
        };
        if let Some(&t) = self.term_ids.get(&stemmed) {
            push(t, 1.0, &mut out);
        }
        if stemmed != word
            && let Some(&t) = self.term_ids.get(word)
        {
            push(t, PLURAL, &mut out);
        }
        // A word the index knows is taken as meant; typos and prefixes are
        // tried for words it does not know. This also keeps common short
        // words from pulling in every near neighbour.
        if !out.is_empty() {
            return Ok(out);
        }
        let max = allowed_typos(word);
        if max > 0 {
            let len = stemmed.chars().count();
            let mut matcher = TypoMatcher::new(&stemmed, max);
            for l in len.saturating_sub(max)..=len + max {
                let same_length = self.by_length.get(l).map(Vec::as_slice).unwrap_or(&[]);
                budget.spend(same_length.len() as u64)?;
                for &tid in same_length {
                    let term = &self.terms[tid as usize];
                    if term.text.starts_with('\u{1}') {
                        continue;
                    }
                    if let Some(d) = matcher.distance(&term.text, term.mask)
                        && d > 0
                    {
                        push(tid, if d == 1 { ONE_TYPO } else { TWO_TYPOS }, &mut out);
                    }
                }
            }
        }
        if prefix && word.chars().count() >= 2 {
            let start = self.sorted.partition_point(|&t| self.terms[t as usize].text.as_str() < word);
            for &tid in
                self.sorted[start..].iter().take_while(|&&t| self.terms[t as usize].text.starts_with(word)).take(64)
            {
                push(tid, PREFIX, &mut out);
            }
        }
        Ok(out)
    }

    /// Parses query text into units that each must (mostly) match.
    pub fn parse(&self, q: &str, budget: &Budget) -> Result<ParsedQuery, OverBudget> {
        budget.spend(q.len() as u64)?;
        let mut units = Vec::new();
        let mut highlight: HashSet<String> = HashSet::new();
        let ends_open = q.chars().last().is_some_and(|c| c.is_alphanumeric());
        let mut segments: Vec<(String, bool)> = Vec::new();
        for (i, part) in q.split('"').enumerate() {
            if !part.trim().is_empty() {
                segments.push((part.to_owned(), i % 2 == 1));
            }
        }
        let last_segment = segments.len().saturating_sub(1);
        for (si, (segment, quoted)) in segments.iter().enumerate() {
            let words: Vec<String> = text::tokens(segment).into_iter().map(|t| t.text).collect();
            if *quoted {
                let phrase: Vec<String> = words.iter().filter(|w| !is_stop_word(w)).map(|w| stem(w)).collect();
                if phrase.is_empty() {
                    continue;
                }
                let mut expansions = Vec::new();
                for w in &phrase {
                    highlight.insert(w.clone());
                    if let Some(&t) = self.term_ids.get(w) {
                        expansions.push((t, 1.0));
                    }
                }
                units.push(Unit {
                    label: segment.trim().to_owned(),
                    expansions,
                    phrase: Some(words),
                    required_terms: phrase,
                });
                continue;
            }
            let mut i = 0;
            while i < words.len() {
                // The longest synonym form starting here, if any.
                let mut best: Option<(usize, usize)> = None;
                if let Some(groups) = self.synonym_starts.get(&words[i]) {
                    for &g in groups {
                        for form in &self.synonyms[g].forms {
                            if words[i..].starts_with(form) && best.is_none_or(|(_, len)| form.len() > len) {
                                best = Some((g, form.len()));
                            }
                        }
                    }
                }
                if let Some((g, len)) = best {
                    let group = &self.synonyms[g];
                    let mut expansions = Vec::new();
                    if let Some(&t) = self.term_ids.get(&synonym_term(&group.key)) {
                        expansions.push((t, 1.0));
                    }
                    // The typed words still count, in case a document uses
                    // them without the group's exact form.
                    if len == 1 {
                        for e in self.expand(&words[i], false, budget)? {
                            expansions.push((e.0, e.1 * 0.8));
                        }
                    }
                    for form in &group.forms {
                        for w in form {
                            if !is_stop_word(w) {
                                highlight.insert(stem(w));
                            }
                        }
                    }
                    units.push(Unit {
                        label: words[i..i + len].join(" "),
                        expansions,
                        phrase: None,
                        required_terms: Vec::new(),
                    });
                    i += len;
                    continue;
                }
                let word = &words[i];
                i += 1;
                if is_stop_word(word) {
                    continue;
                }
                let is_last = si == last_segment && i == words.len() && ends_open;
                let expansions = self.expand(word, is_last, budget)?;
                for (t, _) in &expansions {
                    highlight.insert(self.terms[*t as usize].text.clone());
                }
                highlight.insert(stem(word));
                units.push(Unit { label: word.clone(), expansions, phrase: None, required_terms: Vec::new() });
            }
        }
        Ok(ParsedQuery { units, highlight, name: name_key(q) })
    }

    /// Documents matching the query with their scores; every live
    /// document, unscored, for an empty query.
    pub fn matches(&self, parsed: &ParsedQuery, budget: &Budget) -> Result<Vec<(u32, f32)>, OverBudget> {
        let n = self.docs.len();
        if parsed.units.is_empty() {
            budget.spend(n as u64)?;
            return Ok(self.live_docs().map(|d| (d, 0.0)).collect());
        }
        // Paid before scoring starts, so a query over budget leaves the
        // per-thread buffers clean.
        budget.spend(self.scoring_cost(parsed))?;
        Ok(SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            scratch.prepare(n);
            self.score_units(parsed, &mut scratch)
        }))
    }

    /// The postings scoring will visit (a phrase's rarest word's, once
    /// for each of the phrase's words).
    fn scoring_cost(&self, parsed: &ParsedQuery) -> u64 {
        let postings = |t: u32| self.terms[t as usize].postings.len() as u64;
        parsed
            .units
            .iter()
            .map(|unit| match unit.phrase {
                Some(_) => {
                    let ids = unit.required_terms.iter().filter_map(|t| self.term_ids.get(t).copied());
                    ids.clone().map(postings).min().unwrap_or(0) * ids.count() as u64
                }
                None => unit.expansions.iter().map(|&(t, _)| postings(t)).sum(),
            })
            .sum::<u64>()
            + 1
    }

    fn score_units(&self, parsed: &ParsedQuery, m: &mut MatchScratch) -> Vec<(u32, f32)> {
        let avg = if self.alive == 0 { 1.0 } else { (self.total_length / self.alive as f64) as f32 };
        let bm25 = |w: f32, d: u32| {
            let norm = K1 * (1.0 - B + B * self.lengths[d as usize] / avg);
            (w * (K1 + 1.0)) / (w + norm)
        };
        let mut touched: Vec<u32> = Vec::new();
        let mut docs: Vec<u32> = Vec::new();
        for unit in &parsed.units {
            m.generation += 1;
            let mark = m.generation;
            docs.clear();
            if unit.phrase.is_some() {
                // Candidates from the phrase's rarest word, kept when the
                // words stand one after another within a field.
                let wanted: Option<Vec<u32>> =
                    unit.required_terms.iter().map(|t| self.term_ids.get(t).copied()).collect();
                let Some(wanted) = wanted.filter(|w| !w.is_empty()) else { continue };
                let (at, rarest) = wanted
                    .iter()
                    .copied()
                    .enumerate()
                    .min_by_key(|(_, t)| self.terms[*t as usize].postings.len())
                    .unwrap_or((0, 0));
                let idf = self.idf(rarest) * wanted.len() as f32;
                let term = &self.terms[rarest as usize];
                for (i, &(d, w)) in term.postings.iter().enumerate() {
                    if !self.live.get(d) {
                        continue;
                    }
                    // Where the phrase would start, from each place the rarest word stands.
                    let others: Option<Vec<&[u32]>> = wanted
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != at)
                        .map(|(_, t)| self.terms[*t as usize].positions_in(d))
                        .collect();
                    let Some(others) = others else { continue };
                    let found = term.positions_of(i).iter().any(|&p| {
                        let Some(start) = p.checked_sub(at as u32) else { return false };
                        let mut o = others.iter();
                        (0..wanted.len() as u32)
                            .filter(|k| *k != at as u32)
                            .all(|k| o.next().is_some_and(|list| list.binary_search(&(start + k)).is_ok()))
                    });
                    if found {
                        m.stamp[d as usize] = mark;
                        m.best[d as usize] = idf * bm25(w, d);
                        docs.push(d);
                    }
                }
            } else {
                // One idf for the whole unit, that of its most common term, so
                // a rare misspelling-like word cannot outrank the word meant.
                let idf = unit.expansions.iter().map(|&(t, _)| self.idf(t)).fold(f32::INFINITY, f32::min);
                for &(tid, factor) in &unit.expansions {
                    for &(d, w) in &self.terms[tid as usize].postings {
                        if !self.live.get(d) {
                            continue;
                        }
                        let s = idf * factor * bm25(w, d);
                        let di = d as usize;
                        if m.stamp[di] != mark {
                            m.stamp[di] = mark;
                            m.best[di] = s;
                            docs.push(d);
                        } else if s > m.best[di] {
                            m.best[di] = s;
                        }
                    }
                }
            }
            for &d in &docs {
                let di = d as usize;
                if m.hits[di] == 0 {
                    touched.push(d);
                }
                m.hits[di] += 1;
                m.score[di] += m.best[di];
            }
        }
        // A query that is exactly an entry's name, other name or code.
        for &d in self.names.get(&parsed.name).map(Vec::as_slice).unwrap_or(&[]) {
            let di = d as usize;
            if m.hits[di] > 0 {
                m.score[di] = m.score[di] * 2.0 + 10.0;
            }
        }
        let units = parsed.units.len();
        let need = match units {
            0..=2 => units,
            3..=4 => units - 1,
            _ => (units * 3).div_ceil(5),
        } as u16;
        let mut out = Vec::new();
        for d in touched {
            let di = d as usize;
            if m.hits[di] >= need {
                // Documents matching more of the query rank higher.
                out.push((d, m.score[di] * (f32::from(m.hits[di]) / units as f32)));
            }
            m.hits[di] = 0;
            m.score[di] = 0.0;
        }
        out
    }

    /// A better-spelled query when words of this one match nothing, using
    /// the index's own words.
    pub fn suggestion(&self, q: &str, budget: &Budget) -> Result<Option<String>, OverBudget> {
        let mut changed = false;
        let mut out = Vec::new();
        for token in text::tokens(q) {
            let word = token.text;
            if is_stop_word(&word) || word.chars().count() < 4 || self.term_df(&word) > 0 {
                out.push(word);
                continue;
            }
            let mut best: Option<(usize, u32, &str)> = None;
            let len = word.chars().count();
            let mut matcher = TypoMatcher::new(&word, 2);
            for l in len.saturating_sub(2)..=len + 2 {
                let same_length = self.by_length.get(l).map(Vec::as_slice).unwrap_or(&[]);
                budget.spend(same_length.len() as u64)?;
                for &tid in same_length {
                    let term = &self.terms[tid as usize];
                    if term.df == 0 || term.text.starts_with('\u{1}') {
                        continue;
                    }
                    if let Some(d) = matcher.distance(&term.text, term.mask) {
                        let better = match best {
                            None => true,
                            Some((bd, bdf, _)) => d < bd || (d == bd && term.df > bdf),
                        };
                        if better {
                            best = Some((d, term.df, &term.text));
                        }
                    }
                }
            }
            match best {
                Some((_, _, text)) => {
                    changed = true;
                    out.push(text.to_owned());
                }
                None => out.push(word),
            }
        }
        Ok(changed.then(|| out.join(" ")))
    }
}

/// Per-thread buffers for scoring, sized to the index and reset sparsely,
/// so a query does not allocate and clear arrays of every document.
#[derive(Default)]
struct MatchScratch {
    score: Vec<f32>,
    hits: Vec<u16>,
    best: Vec<f32>,
    stamp: Vec<u32>,
    generation: u32,
}

impl MatchScratch {
    fn prepare(&mut self, n: usize) {
        if self.score.len() < n {
            self.score.resize(n, 0.0);
            self.hits.resize(n, 0);
            self.best.resize(n, 0.0);
            self.stamp.resize(n, 0);
        }
        if self.generation > u32::MAX - 1000 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 0;
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<MatchScratch> = std::cell::RefCell::new(MatchScratch::default());
}

/// A `*`/`?` pattern, lower case, with runs of `*` collapsed into one.
pub struct Pattern(Vec<char>);

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        let mut chars: Vec<char> = Vec::new();
        for c in pattern.to_lowercase().chars() {
            if !(c == '*' && chars.last() == Some(&'*')) {
                chars.push(c);
            }
        }
        Pattern(chars)
    }

    /// Whether lower-case `text` matches, spending a step per comparison.
    /// Iterative, remembering only the last `*`: at most pattern length
    /// times text length steps, never the exponential blow-up of trying
    /// every split for every `*`.
    pub fn matches(&self, text: &[char], budget: &Budget) -> Result<bool, OverBudget> {
        let p = &self.0;
        let (mut pi, mut ti) = (0, 0);
        // Where the last `*` stands in the pattern, and where in the text its run would end next.
        let mut star: Option<(usize, usize)> = None;
        let mut steps = 0u64;
        let matched = loop {
            steps += 1;
            if ti < text.len() {
                if pi < p.len() && (p[pi] == '?' || p[pi] == text[ti]) {
                    pi += 1;
                    ti += 1;
                } else if pi < p.len() && p[pi] == '*' {
                    star = Some((pi, ti));
                    pi += 1;
                } else if let Some((sp, st)) = star {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                } else {
                    break false;
                }
            } else {
                break p[pi..].iter().all(|&c| c == '*');
            }
            if steps >= 4096 {
                budget.spend(steps)?;
                steps = 0;
            }
        };
        budget.spend(steps)?;
        Ok(matched)
    }

    /// Whether `text` matches, ignoring letter case.
    pub fn matches_text(&self, text: &str, budget: &Budget) -> Result<bool, OverBudget> {
        let t: Vec<char> = text.to_lowercase().chars().collect();
        budget.spend(t.len() as u64)?;
        self.matches(&t, budget)
    }
}

/// A query word, phrase or synonym group.
#[derive(Debug, Clone)]
pub struct Unit {
    pub label: String,
    expansions: Vec<(u32, f32)>,
    phrase: Option<Vec<String>>,
    required_terms: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ParsedQuery {
    pub units: Vec<Unit>,
    /// Index terms whose words are marked in snippets.
    pub highlight: HashSet<String>,
    /// The query as a name (see [`name_key`]).
    name: String,
}

/// A name's words, lower case, joined by single spaces: "ICD-10" and
/// "icd 10" are the same name.
fn name_key(text: &str) -> String {
    text::tokens(text).into_iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

/// Marks the words of `text` whose terms are in `highlight` with
/// `<mark>`, escaping everything else for HTML.
pub fn highlight(text: &str, terms: &HashSet<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    let mut any = false;
    for token in text::tokens(text) {
        if is_stop_word(&token.text) || !terms.contains(&stem(&token.text)) {
            continue;
        }
        out.push_str(&escape(&text[last..token.start]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[token.start..token.end]));
        out.push_str("</mark>");
        last = token.end;
        any = true;
    }
    out.push_str(&escape(&text[last..]));
    any.then_some(out)
}

/// A window of about `width` characters around the first marked word.
pub fn snippet(text: &str, terms: &HashSet<String>, width: usize) -> Option<String> {
    let first = text::tokens(text).into_iter().find(|t| !is_stop_word(&t.text) && terms.contains(&stem(&t.text)))?;
    let start = text[..first.start].char_indices().rev().nth(width / 3).map_or(0, |(i, _)| i);
    let start = if start == 0 { 0 } else { text[start..].find(' ').map_or(start, |s| start + s + 1) };
    let end = text[first.start..].char_indices().nth(width).map_or(text.len(), |(i, _)| first.start + i);
    let end = if end >= text.len() { text.len() } else { text[..end].rfind(' ').unwrap_or(end) };
    let body = highlight(&text[start..end], terms)?;
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < text.len() { "…" } else { "" };
    Some(format!("{prefix}{body}{suffix}"))
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Entry, Vocabularies};
    use std::collections::HashMap;

    fn entry(slug: &str, title: &str, summary: &str) -> Entry {
        let raw = serde_json::json!({"slug": slug, "title": title, "summary": summary, "type": "standard",
            "category": "record-standards", "owner": "org", "status": "active"});
        struct Any;
        impl crate::catalogue::Resolver for Any {
            fn term(&self, _: Vocabulary, v: &str) -> Result<crate::catalogue::Slug, String> {
                crate::catalogue::Slug::parse(v)
            }
            fn organisation(&self, v: &str) -> Result<crate::catalogue::Slug, String> {
                crate::catalogue::Slug::parse(v)
            }
            fn entry(&self, v: &str) -> Result<crate::catalogue::Slug, String> {
                crate::catalogue::Slug::parse(v)
            }
        }
        Entry::parse(raw.as_object().unwrap(), &Any).unwrap()
    }

    fn b() -> Budget {
        Budget::for_request()
    }

    fn glob(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).matches_text(text, &b()).unwrap()
    }

    #[test]
    fn wildcards_match_as_solr_does() {
        assert!(glob("pharm*", "Pharmacy"));
        assert!(glob("*referral*", "e-Referral Service"));
        assert!(glob("te?t", "test"));
        assert!(!glob("te?t", "tet"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b*c", "aXbY"));
        assert!(glob("**a**", "banana"));
        assert!(!glob("", "a"));
        assert!(glob("*a?", "ab"));
        assert!(!glob("*a?", "ba"));
    }

    #[test]
    fn many_stars_cost_steps_linear_in_the_text() {
        // Ten stars before two letters that never match: the recursive
        // matcher tried every split of the text for every star.
        let text: String = "a".repeat(200);
        let budget = Budget::new(u64::MAX);
        assert!(!Pattern::new("**********zq").matches_text(&text, &budget).unwrap());
        let spent = u64::MAX - budget.left();
        // A single star collapsed from ten: at most (pattern + 1) steps per text character.
        assert!(spent <= 3 * 201 + 200, "{spent} steps");
        let twenty = Pattern::new(&"*a".repeat(20));
        let budget = Budget::new(u64::MAX);
        assert!(!twenty.matches_text(&"a".repeat(19), &budget).unwrap());
        assert!(u64::MAX - budget.left() <= 41 * 20 + 20);
    }

    #[test]
    fn a_match_over_budget_fails_instead_of_running_on() {
        let budget = Budget::new(100);
        assert_eq!(Pattern::new("*zq").matches_text(&"a".repeat(1000), &budget), Err(OverBudget));
    }

    fn phrase(index: &Index, q: &str) -> Vec<String> {
        let mut found: Vec<String> = index
            .matches(&index.parse(q, &b()).unwrap(), &b())
            .unwrap()
            .iter()
            .map(|(d, _)| index.doc(*d).slug.clone())
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_phrase_needs_its_words_in_order_within_one_field() {
        let vocabularies = Vocabularies::default();
        let orgs = HashMap::new();
        let ctx = Context { vocabularies: &vocabularies, organisations: &orgs };
        let mut index = Index::new(&vocabularies);
        index.upsert(&entry("a", "Transfer of care record", ""), &ctx);
        index.upsert(&entry("b", "Care transfer plan", ""), &ctx);
        index.upsert(&entry("c", "Patient transfer", "Care plans"), &ctx);
        index.upsert(&entry("d", "Plan", "Transfers of care between services"), &ctx);
        index.refresh();
        assert_eq!(phrase(&index, "\"transfer of care\""), vec!["a", "d"]);
        assert_eq!(phrase(&index, "\"care transfer\""), vec!["b"]);
        // Replacing documents and compacting keeps positions right.
        index.upsert(&entry("a", "Record of care", ""), &ctx);
        index.compact();
        assert_eq!(phrase(&index, "\"transfer of care\""), vec!["d"]);
        assert_eq!(phrase(&index, "\"record of care\""), vec!["a"]);
        assert_eq!(phrase(&index, "\"transfer care\""), vec!["d"], "stop words are skipped on both sides");
    }
}
