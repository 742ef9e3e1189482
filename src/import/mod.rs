//! Reading catalogues from files: the project's CSV and JSON layouts and the
//! national API catalogue spreadsheet. Every format becomes raw records,
//! then one path validates them all (collecting every error) and applies
//! them to the store in one transaction.

mod api_catalogue;
pub mod ckan;
mod csv_layout;
mod json_layout;
pub mod sandbox;
mod sheet_extent;
pub mod spreadsheet;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::catalogue::{
    Entry, FieldError, GlossaryTerm, Organisation, Page, PageKind, Resolver, Slug, Term, Vocabularies, Vocabulary,
};
use crate::store::{ChangeSet, Store, Summary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
    ApiCatalogue,
    /// Saved CKAN `package_search` responses.
    Ckan,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::ApiCatalogue => "api-catalogue",
            Format::Ckan => "ckan",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Csv, Format::Json, Format::ApiCatalogue, Format::Ckan].into_iter().find(|f| f.name() == name)
    }

    /// Guesses the format from the file name and its first line.
    pub fn guess(path: &Path, content: &str) -> Option<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => Some(Format::Json),
            Some("csv") | Some("tsv") | Some("txt") | None => {
                let first = content.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
                if api_catalogue::looks_like(first) {
                    Some(Format::ApiCatalogue)
                } else if first.split(',').any(|c| c.trim().trim_matches('"') == "slug") {
                    Some(Format::Csv)
                } else if content.trim_start().starts_with('{') || content.trim_start().starts_with('[') {
                    Some(Format::Json)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// Where in the file a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A spreadsheet row, counted from 1 as a spreadsheet program shows it.
    Row(usize),
    /// A position in a JSON document, such as `entries[3]`.
    Path(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Row(n) => write!(f, "row {n}"),
            Location::Path(p) => f.write_str(p),
        }
    }
}

/// One thing wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Option<Location>,
    /// The column or field name.
    pub column: Option<String>,
    pub value: Option<String>,
    pub expected: String,
}

impl Problem {
    pub fn at(location: Location, error: FieldError) -> Problem {
        Problem {
            location: Some(location),
            column: Some(error.field),
            value: (!error.value.is_empty()).then_some(error.value),
            expected: error.expected,
        }
    }

    /// A problem with a whole row.
    pub fn row(row: usize, expected: impl Into<String>) -> Problem {
        Problem { location: Some(Location::Row(row)), column: None, value: None, expected: expected.into() }
    }

    pub fn whole_file(expected: impl Into<String>) -> Problem {
        Problem { location: None, column: None, value: None, expected: expected.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(l) = &self.location {
            parts.push(l.to_string());
        }
        if let Some(c) = &self.column {
            parts.push(format!("column `{c}`"));
        }
        if let Some(v) = &self.value {
            parts.push(format!("value `{v}`"));
        }
        if parts.is_empty() {
            f.write_str(&self.expected)
        } else {
            write!(f, "{}: expected {}", parts.join(", "), self.expected)
        }
    }
}

/// An import that was refused: nothing was written.
#[derive(Debug)]
pub struct ImportError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(f, "{} has {n} problem{}; nothing was imported:", self.file.display(), if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            writeln!(f, "  {}: {p}", self.file.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// Records read from a file, not yet checked.
#[derive(Debug, Default)]
pub struct RawCatalogue {
    pub terms: Vec<(Location, Vocabulary, Map<String, Value>)>,
    pub organisations: Vec<(Location, Map<String, Value>)>,
    pub entries: Vec<(Location, Map<String, Value>)>,
    /// Guides, site pages and glossary terms (JSON files only).
    pub pages: Vec<(Location, PageKind, Map<String, Value>)>,
    pub glossary: Vec<(Location, Map<String, Value>)>,
    /// Problems found while reading, before any record is checked.
    pub problems: Vec<Problem>,
    /// Fields whose problem the reader already reported for a record, so the
    /// check does not report it again as missing.
    pub reported: Vec<(Location, &'static str)>,
    /// Organisations the file only adds details to: existing ones keep
    /// what they have and gain what was missing.
    pub merge_organisations: bool,
}

impl RawCatalogue {
    /// Moves every row number down by `by` rows.
    pub fn shift_rows(&mut self, by: usize) {
        if by == 0 {
            return;
        }
        let shift = |l: &mut Location| {
            if let Location::Row(n) = l {
                *n += by;
            }
        };
        self.terms.iter_mut().for_each(|(l, _, _)| shift(l));
        self.organisations.iter_mut().for_each(|(l, _)| shift(l));
        self.entries.iter_mut().for_each(|(l, _)| shift(l));
        self.pages.iter_mut().for_each(|(l, _, _)| shift(l));
        self.glossary.iter_mut().for_each(|(l, _)| shift(l));
        self.problems.iter_mut().filter_map(|p| p.location.as_mut()).for_each(shift);
        self.reported.iter_mut().for_each(|(l, _)| shift(l));
    }
}

/// Reads a file in the given (or guessed) format into raw records.
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    vocabularies: &Vocabularies,
) -> Result<RawCatalogue, ImportError> {
    let fail = |p: Problem| ImportError { file: path.to_owned(), problems: vec![p] };
    if is_url(path) {
        return Err(fail(Problem::whole_file("a file; addresses are read with `read_source`")));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(Problem::whole_file(format!("a readable file ({e})"))))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let decoded = decode(&name, &bytes, format).map_err(fail)?;
    Ok(decoded.read(vocabularies))
}

/// A file's content as text for the readers, with its format and, for a
/// workbook, the sheet read and the empty rows above its table.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub format: Format,
    pub sheet: Option<String>,
    pub row_offset: usize,
}

impl Decoded {
    /// The records in the text, numbered by the file's own rows.
    pub fn read(&self, vocabularies: &Vocabularies) -> RawCatalogue {
        let mut raw = read_str(&self.text, self.format, vocabularies);
        raw.shift_rows(self.row_offset);
        raw
    }
}

/// Turns a file's bytes into text the readers take: a spreadsheet
/// workbook's first sheet becomes CSV; anything else must be UTF-8. The
/// format is the one given, or guessed from the name and first line.
pub fn decode(file_name: &str, bytes: &[u8], format: Option<Format>) -> Result<Decoded, Problem> {
    let (text, sheet, row_offset) = if spreadsheet::is_workbook(file_name) {
        let (text, sheet, offset) = spreadsheet::to_csv(bytes)?;
        (text, Some(sheet), offset)
    } else {
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            Problem::whole_file(format!(
                "UTF-8 text, or a spreadsheet workbook named .xlsx, .xls or .ods (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        (text, None, 0)
    };
    let guess_as = if sheet.is_some() { "sheet.csv" } else { file_name };
    let format = format.or_else(|| Format::guess(Path::new(guess_as), &text)).ok_or_else(|| {
        Problem::whole_file(
            "a file whose format can be told from its name or first line: give --format csv, json or api-catalogue",
        )
    })?;
    Ok(Decoded { text, format, sheet, row_offset })
}

fn is_url(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.starts_with("http://") || text.starts_with("https://")
}

/// Reads a file, or for `--format ckan` a CKAN site's address: every
/// package, paged through `package_search` with `include_private`.
pub async fn read_source(
    source: &Path,
    format: Option<Format>,
    vocabularies: &Vocabularies,
) -> Result<RawCatalogue, ImportError> {
    if !is_url(source) {
        return read_file(source, format, vocabularies);
    }
    let fail =
        |expected: String| ImportError { file: source.to_owned(), problems: vec![Problem::whole_file(expected)] };
    if format.is_some_and(|f| f != Format::Ckan) {
        return Err(fail("--format ckan: only a CKAN site is read from an address".into()));
    }
    let base = source.to_string_lossy().trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .user_agent(concat!("standards-directory/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(format!("an HTTP client ({e})")))?;
    const ROWS: usize = 1000;
    let mut responses = Vec::new();
    let mut start = 0;
    loop {
        let url = format!("{base}/api/3/action/package_search");
        let query = [
            ("q", "*:*".to_owned()),
            ("include_private", "true".to_owned()),
            ("rows", ROWS.to_string()),
            ("start", start.to_string()),
            ("sort", "name asc".to_owned()),
        ];
        let response = client
            .get(&url)
            .query(&query)
            .send()
            .await
            .map_err(|e| fail(format!("a CKAN site answering at {url} ({e})")))?;
        let status = response.status();
        let body: serde_json::Value =
            response.json().await.map_err(|e| fail(format!("a JSON answer from {url} (status {status}: {e})")))?;
        if body.get("success") != Some(&serde_json::Value::Bool(true)) {
            return Err(fail(format!(
                "a successful package_search from {url}; it answered {status}: {}",
                body.get("error").unwrap_or(&body)
            )));
        }
        let n = body["result"]["results"].as_array().map_or(0, Vec::len);
        responses.push(body);
        if n < ROWS {
            break;
        }
        start += ROWS;
    }
    Ok(ckan::read(&serde_json::Value::from(responses).to_string()))
}

/// Reads text in a format. The national API catalogue's keywords are sorted
/// into care settings, topics and technologies with `vocabularies`.
pub fn read_str(content: &str, format: Format, vocabularies: &Vocabularies) -> RawCatalogue {
    let content = content.trim_start_matches('\u{feff}');
    match format {
        Format::Csv => csv_layout::read(content),
        Format::Json => json_layout::read(content),
        Format::ApiCatalogue => api_catalogue::read(content, vocabularies),
        Format::Ckan => ckan::read(content),
    }
}

/// What references are checked against: the store's records plus the
/// file's own.
struct CatalogueResolver {
    vocabularies: Vocabularies,
    organisations: HashMap<String, Slug>,
    entries: HashSet<String>,
}

impl Resolver for CatalogueResolver {
    fn term(&self, vocabulary: Vocabulary, value: &str) -> Result<Slug, String> {
        self.vocabularies.resolve(vocabulary, value)
    }

    fn organisation(&self, value: &str) -> Result<Slug, String> {
        self.organisations.get(&value.trim().to_lowercase()).cloned().ok_or_else(|| {
            "a known organisation, by slug or name (add it to the directory first, or include it in a JSON import)"
                .to_owned()
        })
    }

    fn entry(&self, value: &str) -> Result<Slug, String> {
        let slug = value.trim();
        if self.entries.contains(slug) {
            Slug::parse(slug)
        } else {
            Err("the slug of an entry in the directory or in this file".to_owned())
        }
    }
}

/// Checks raw records against the store and turns them into a change set,
/// or returns every problem found.
pub async fn plan(store: &Store, raw: RawCatalogue) -> anyhow::Result<Result<ChangeSet, Vec<Problem>>> {
    let mut problems = raw.problems;
    let reported = raw.reported;
    let not_reported =
        |location: &Location, e: &FieldError| !reported.iter().any(|(l, f)| l == location && *f == e.field);
    let mut set = ChangeSet::default();

    let mut vocabularies = store.vocabularies().await?;
    for (location, vocabulary, map) in &raw.terms {
        match serde_json::from_value::<Term>(Value::Object(map.clone())) {
            Ok(term) if term.label.trim().is_empty() => problems.push(Problem {
                location: Some(location.clone()),
                column: Some("label".into()),
                value: None,
                expected: "a value: this field is required".into(),
            }),
            Ok(term) if term.aliases.iter().any(|a| a.trim().is_empty()) => problems.push(Problem {
                location: Some(location.clone()),
                column: Some("aliases".into()),
                value: None,
                expected: "names with some text".into(),
            }),
            Ok(term) => {
                vocabularies.upsert(*vocabulary, term.clone());
                set.terms.push((*vocabulary, term));
            }
            Err(e) => problems.push(Problem {
                location: Some(location.clone()),
                column: None,
                value: None,
                expected: format!("a vocabulary term with slug, label, description and aliases ({e})"),
            }),
        }
    }

    let existing_orgs = store.organisations().await?;
    let mut resolver = CatalogueResolver { vocabularies, organisations: HashMap::new(), entries: HashSet::new() };
    let add_org_names = |resolver: &mut CatalogueResolver, slug: &str, name: &str| {
        if let Ok(s) = Slug::parse(slug) {
            resolver.organisations.insert(slug.to_owned(), s.clone());
            resolver.organisations.entry(name.trim().to_lowercase()).or_insert(s);
        }
    };
    for org in &existing_orgs {
        add_org_names(&mut resolver, org.slug.as_str(), &org.name);
    }
    for (_, map) in &raw.organisations {
        let slug = map.get("slug").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        let name = map.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        add_org_names(&mut resolver, &slug, &name);
    }
    let keys = store.entry_keys().await?;
    resolver.entries.extend(keys.iter().map(|(slug, _)| slug.clone()));
    // Ids are the directory's: a new entry may not take one already used.
    let mut ids: HashMap<String, String> = keys.iter().map(|(slug, id)| (id.clone(), slug.clone())).collect();
    let stored: HashSet<&str> = keys.iter().map(|(slug, _)| slug.as_str()).collect();
    for (_, map) in &raw.entries {
        if let Some(slug) = map.get("slug").and_then(Value::as_str) {
            resolver.entries.insert(slug.trim().to_owned());
        }
    }

    let mut seen_orgs: HashMap<String, Location> = HashMap::new();
    for (location, map) in &raw.organisations {
        match Organisation::parse(map, &resolver) {
            Ok(mut org) => {
                if let Some(p) = repeated_slug(&mut seen_orgs, org.slug.as_str(), location) {
                    problems.push(p);
                    continue;
                }
                if raw.merge_organisations
                    && let Some(existing) = existing_orgs.iter().find(|o| o.slug == org.slug)
                {
                    org = fill_missing(existing, org);
                }
                set.organisations.push(org);
            }
            Err(errors) => problems.extend(
                errors.into_iter().filter(|e| not_reported(location, e)).map(|e| Problem::at(location.clone(), e)),
            ),
        }
    }

    let mut seen_entries: HashMap<String, Location> = HashMap::new();
    for (location, map) in &raw.entries {
        match Entry::parse(map, &resolver) {
            Ok(entry) => {
                if let Some(p) = repeated_slug(&mut seen_entries, entry.slug.as_str(), location) {
                    problems.push(p);
                    continue;
                }
                let id = entry.id.to_string();
                if !stored.contains(entry.slug.as_str()) {
                    match ids.get(&id) {
                        Some(holder) if holder != entry.slug.as_str() => {
                            problems.push(Problem {
                                location: Some(location.clone()),
                                column: Some("id".into()),
                                value: Some(id),
                                expected: format!(
                                    "no id for a new entry (the directory gives one), or one no other entry has: `{holder}` has this one"
                                ),
                            });
                            continue;
                        }
                        _ => {
                            ids.insert(id, entry.slug.to_string());
                        }
                    }
                }
                set.entries.push(entry);
            }
            Err(errors) => problems.extend(
                errors.into_iter().filter(|e| not_reported(location, e)).map(|e| Problem::at(location.clone(), e)),
            ),
        }
    }

    let mut seen_pages: HashMap<String, Location> = HashMap::new();
    for (location, kind, map) in &raw.pages {
        match Page::parse(map) {
            Ok(page) => match repeated_slug(&mut seen_pages, &format!("{}/{}", kind.key(), page.slug), location) {
                Some(p) => problems.push(p),
                None => set.pages.push((*kind, page)),
            },
            Err(errors) => problems.extend(errors.into_iter().map(|e| Problem::at(location.clone(), e))),
        }
    }
    let mut seen_terms: HashMap<String, Location> = HashMap::new();
    for (location, map) in &raw.glossary {
        match GlossaryTerm::parse(map) {
            Ok(term) => match repeated_slug(&mut seen_terms, term.slug.as_str(), location) {
                Some(p) => problems.push(p),
                None => set.glossary.push(term),
            },
            Err(errors) => problems.extend(errors.into_iter().map(|e| Problem::at(location.clone(), e))),
        }
    }
    Ok(if problems.is_empty() { Ok(set) } else { Err(problems) })
}

/// A problem when `slug` was already used earlier in the same file.
fn repeated_slug(seen: &mut HashMap<String, Location>, slug: &str, location: &Location) -> Option<Problem> {
    let first = seen.insert(slug.to_owned(), location.clone())?;
    Some(Problem {
        location: Some(location.clone()),
        column: Some("slug".into()),
        value: Some(slug.to_owned()),
        expected: format!("a slug not used before in this file (also at {first})"),
    })
}

/// An organisation as stored, with the fields it lacked taken from `new`.
fn fill_missing(existing: &Organisation, new: Organisation) -> Organisation {
    let pick = |old: &Option<String>, new: Option<String>| old.clone().or(new);
    Organisation {
        id: existing.id,
        slug: existing.slug.clone(),
        name: existing.name.clone(),
        kind: existing.kind.clone(),
        description: pick(&existing.description, new.description),
        url: pick(&existing.url, new.url),
        contact: pick(&existing.contact, new.contact),
        identifier: pick(&existing.identifier, new.identifier),
        logo_url: pick(&existing.logo_url, new.logo_url),
        created_at: None,
        updated_at: None,
    }
}

pub struct ImportOptions<'a> {
    pub format: Option<Format>,
    pub dry_run: bool,
    pub actor: &'a str,
    pub progress: Option<&'a (dyn Fn(usize) + Send + Sync)>,
}

/// Reads, checks and applies a file: all of it or none of it.
pub async fn import_file(
    store: &Store,
    path: &Path,
    options: ImportOptions<'_>,
) -> anyhow::Result<Result<Summary, ImportError>> {
    let vocabularies = store.vocabularies().await?;
    let raw = match read_source(path, options.format, &vocabularies).await {
        Ok(raw) => raw,
        Err(e) => return Ok(Err(e)),
    };
    import_raw(store, path, raw, options).await
}

pub async fn import_raw(
    store: &Store,
    path: &Path,
    raw: RawCatalogue,
    options: ImportOptions<'_>,
) -> anyhow::Result<Result<Summary, ImportError>> {
    let set = match plan(store, raw).await? {
        Ok(set) => set,
        Err(problems) => {
            return Ok(Err(ImportError { file: path.to_owned(), problems }));
        }
    };
    match store.apply(&set, options.actor, options.dry_run, options.progress).await {
        Ok(summary) => Ok(Ok(summary)),
        Err(crate::store::WriteError::Database(e)) => Err(e),
        Err(e) => Ok(Err(ImportError { file: path.to_owned(), problems: vec![Problem::whole_file(e.to_string())] })),
    }
}

/// How many entries a raw catalogue holds, for sizing a progress bar.
pub fn entry_count(raw: &RawCatalogue) -> usize {
    raw.entries.len()
}
