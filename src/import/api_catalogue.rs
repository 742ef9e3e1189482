//! The national API catalogue spreadsheet (`nhs-api-catalogue.csv`): three
//! header rows (group, sub-group, column names), multi-valued cells
//! separated by commas, keywords that mix care settings, topics,
//! technologies and access traits, and several statuses in one cell.
//! Every row becomes an `api` entry owned by its publisher; whatever has no
//! field of its own is kept as a tag.

use serde_json::{Map, Value, json};

use super::{Location, Problem, RawCatalogue};
use crate::catalogue::{Slug, Status, Vocabularies, Vocabulary};

pub fn looks_like(first_line: &str) -> bool {
    first_line.starts_with("Persistent Identifer") || first_line.starts_with("Persistent Identifier")
}

/// The header rows before the first entry.
const HEADER_ROWS: usize = 3;

struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }
}

/// What the spreadsheet's statuses mean here: the status they stand for
/// when they are the main one, and the note they add otherwise.
fn status_word(word: &str) -> Option<(Option<Status>, &'static str)> {
    Some(match word {
        "ACTIVE" => (Some(Status::Active), "Still in service"),
        "IN DEVELOPMENT" => (Some(Status::InDevelopment), "A new version is in development"),
        "DEPRECATED" => (Some(Status::Deprecated), "Deprecated"),
        "RETIRED" => (Some(Status::Retired), "Retired"),
        "UNDER REVIEW FOR DEPRECATION" => (None, "Under review for deprecation"),
        "INTERNAL" => (None, "Internal: for use by NHS England's own services"),
        _ => return None,
    })
}

/// Order of precedence when a cell holds several statuses: the most final
/// fact about the service wins, the others become notes.
const STATUS_PRECEDENCE: [Status; 4] = [Status::Retired, Status::Deprecated, Status::Active, Status::InDevelopment];

fn split(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in cell.split(',') {
        let t = part.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

fn present(cell: &str) -> Option<&str> {
    let t = cell.trim();
    (!t.is_empty() && t != "None" && t != "nan").then_some(t)
}

/// Dates in the layout may be ISO or day/month/year; both become ISO.
fn iso_date(cell: &str) -> String {
    let parts: Vec<&str> = cell.split('/').collect();
    if let [d, m, y] = parts.as_slice()
        && y.len() == 4
        && d.len() <= 2
        && m.len() <= 2
    {
        return format!("{y}-{m:0>2}-{d:0>2}");
    }
    cell.to_owned()
}

/// The slug of a catalogue page address: its last path segment.
pub fn slug_from_url(url: &str) -> Option<Slug> {
    let path = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    Slug::from_text(path.rsplit('/').next().unwrap_or(path))
}

pub fn read(content: &str, vocabularies: &Vocabularies) -> RawCatalogue {
    let mut raw = RawCatalogue { merge_organisations: true, ..RawCatalogue::default() };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(content.as_bytes());
    let mut records = reader.records();
    let mut header = None;
    for row in 1..=HEADER_ROWS {
        match records.next() {
            Some(Ok(r)) => header = Some(r),
            Some(Err(e)) => {
                raw.problems.push(Problem::row(row, format!("a well-formed CSV row ({e})")));
                return raw;
            }
            None => {
                raw.problems.push(Problem::whole_file(
                    "three header rows (group, sub-group, column names) then one row per API",
                ));
                return raw;
            }
        }
    }
    let columns = Columns { names: header.unwrap_or_default().iter().map(|c| c.trim().to_owned()).collect() };
    for required in ["Persistent ID", "Title", "Publisher Name", "Registration Status"] {
        if columns.index(required).is_none() {
            raw.problems.push(Problem {
                location: Some(Location::Row(HEADER_ROWS)),
                column: Some(required.to_owned()),
                value: None,
                expected: "this column in the third header row".into(),
            });
        }
    }
    if !raw.problems.is_empty() {
        return raw;
    }
    let rows: Vec<_> = records.collect();
    // Relations to rows of this file become links; other addresses stay as
    // references.
    let id_column = columns.index("Persistent ID").unwrap_or(0);
    let file_slugs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|r| r.get(id_column).and_then(slug_from_url))
        .map(|s| s.to_string())
        .collect();
    let mut seen_publishers: Vec<String> = Vec::new();
    for (index, result) in rows.into_iter().enumerate() {
        let row = HEADER_ROWS + 1 + index;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                raw.problems.push(Problem::row(row, format!("a well-formed CSV row ({e})")));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells: Vec<String> = (0..columns.names.len()).map(|i| record.get(i).unwrap_or("").to_owned()).collect();
        let mut row_reader = Row { columns: &columns, cells: &cells, used: vec![false; cells.len()] };
        let mut problems = Vec::new();
        let (entry, publisher) = map_row(&mut row_reader, vocabularies, &file_slugs, row, &mut problems);
        for p in &problems {
            let field = match p.column.as_deref() {
                Some("Registration Status") => "status",
                Some("Persistent ID") => "slug",
                Some("Publisher Name") => "owner",
                _ => continue,
            };
            raw.reported.push((Location::Row(row), field));
        }
        raw.problems.extend(problems);
        if let Some(org) = publisher {
            let slug = org["slug"].as_str().unwrap_or_default().to_owned();
            if !seen_publishers.contains(&slug) {
                seen_publishers.push(slug);
                raw.organisations.push((Location::Row(row), org));
            }
        }
        raw.entries.push((Location::Row(row), entry));
    }
    raw
}

struct Row<'a> {
    columns: &'a Columns,
    cells: &'a [String],
    used: Vec<bool>,
}

impl Row<'_> {
    /// The cell under a column, marking the column as mapped.
    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.columns.index(name)?;
        self.used[i] = true;
        present(&self.cells[i]).map(str::to_owned)
    }

    /// Cells of columns no rule mapped, with their column names.
    fn leftovers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, cell) in self.cells.iter().enumerate() {
            let name = &self.columns.names[i];
            if !self.used[i]
                && !name.starts_with("Unnamed")
                && let Some(v) = present(cell)
            {
                out.push((name.clone(), v.to_owned()));
            }
        }
        out
    }
}

fn map_row(
    r: &mut Row<'_>,
    vocabularies: &Vocabularies,
    file_slugs: &[String],
    row: usize,
    problems: &mut Vec<Problem>,
) -> (Map<String, Value>, Option<Map<String, Value>>) {
    let mut e = Map::new();
    let mut tags: Vec<String> = Vec::new();
    let put = |e: &mut Map<String, Value>, key: &str, value: Value| {
        e.insert(key.to_owned(), value);
    };

    let persistent_id = r.take("Persistent ID");
    match persistent_id.as_deref().map(|url| (url, slug_from_url(url))) {
        Some((url, Some(slug))) => {
            put(&mut e, "slug", json!(slug.as_str()));
            put(&mut e, "persistent_id", json!(url));
        }
        Some((url, None)) => problems.push(Problem {
            location: Some(Location::Row(row)),
            column: Some("Persistent ID".into()),
            value: Some(url.to_owned()),
            expected: "an address whose last part names the API, such as https://digital.nhs.uk/developer/api-catalogue/pds-fhir".into(),
        }),
        None => problems.push(Problem {
            location: Some(Location::Row(row)),
            column: Some("Persistent ID".into()),
            value: None,
            expected: "the API's persistent address: this column is required".into(),
        }),
    }
    if let Some(title) = r.take("Title") {
        put(&mut e, "title", json!(title));
    }
    put(&mut e, "type", json!("api"));
    if let Some(v) = r.take("Alternate name") {
        put(&mut e, "alternative_names", json!(split(&v)));
    }
    // The catalogue's "Type" is the standard category.
    if let Some(v) = r.take("Type") {
        put(&mut e, "category", json!(v));
    }
    let abstract_text = r.take("Abstract");
    let description = r.take("Description");
    match (abstract_text, description) {
        (Some(a), d) => {
            put(&mut e, "summary", json!(a));
            if let Some(d) = d {
                put(&mut e, "description", json!(d));
            }
        }
        (None, Some(d)) => put(&mut e, "summary", json!(d)),
        (None, None) => {}
    }
    for (column, field) in [
        ("Release date", "release_date"),
        ("Effective from", "effective_from"),
        ("Conformance date", "conformance_date"),
        ("Approval Date", "approval_date"),
        ("Post implementation review date", "post_implementation_review_date"),
    ] {
        if let Some(v) = r.take(column) {
            put(&mut e, field, json!(iso_date(&v)));
        }
    }
    for (column, field) in [
        ("Contact Point", "contact"),
        ("DoiName", "doi"),
        ("Feedback", "feedback_url"),
        ("Sponsor", "sponsor"),
        ("SRO", "senior_responsible_owner"),
        ("Business Lead", "business_lead"),
        ("Technical committee", "technical_committee"),
        ("Legal authority", "legal_basis"),
        ("License", "licence"),
        ("Reviews", "reviews"),
        ("Data Access", "documentation_url"),
    ] {
        if let Some(v) = r.take(column) {
            put(&mut e, field, json!(v));
        }
    }
    for (column, field) in [
        ("Alternate identifier", "alternate_identifiers"),
        ("Impacts on", "impacts_on"),
        ("Is Part Of", "is_part_of"),
        ("Associated Media", "associated_media"),
        ("Endorsed by", "endorsements"),
    ] {
        if let Some(v) = r.take(column) {
            put(&mut e, field, json!(split(&v)));
        }
    }
    let mut references = r.take("References").map(|v| split(&v)).unwrap_or_default();
    let mut related: Vec<String> = Vec::new();
    let own_slug = e.get("slug").and_then(Value::as_str).unwrap_or_default().to_owned();
    for url in r.take("Relation").map(|v| split(&v)).unwrap_or_default() {
        let in_file = |s: &Slug| {
            url.contains("/api-catalogue/") && s.as_str() != own_slug && file_slugs.iter().any(|f| f == s.as_str())
        };
        match slug_from_url(&url).filter(in_file) {
            Some(slug) if !related.contains(&slug.to_string()) => related.push(slug.to_string()),
            Some(_) => {}
            None if !references.contains(&url) => references.push(url),
            None => {}
        }
    }
    put(&mut e, "references", json!(references));
    put(&mut e, "related", json!(related));

    let mut care_settings: Vec<String> = Vec::new();
    let mut topics: Vec<String> = Vec::new();
    let mut technologies: Vec<String> = Vec::new();
    let mut environments: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, v: &str| {
        if !list.iter().any(|x| x == v) {
            list.push(v.to_owned());
        }
    };
    if let Some(v) = r.take("Applies to") {
        let items = split(&v);
        for item in &items {
            if let Some(t) = vocabularies.find(Vocabulary::CareSetting, item) {
                add(&mut care_settings, t.slug.as_str());
            }
        }
        put(&mut e, "applies_to", json!(items));
    }
    if let Some(v) = r.take("Keywords") {
        for keyword in split(&v) {
            let exact = |vocabulary| {
                vocabularies.find(vocabulary, &keyword).map(|t| {
                    let by_name = t.slug.as_str() == keyword.to_lowercase() || t.label.eq_ignore_ascii_case(&keyword);
                    (t.slug.to_string(), by_name)
                })
            };
            if let Some((slug, by_name)) = exact(Vocabulary::CareSetting) {
                add(&mut care_settings, &slug);
                // "AMBULANCE SERVICES" is urgent and emergency care, and
                // more precise: keep the precise word too.
                if !by_name {
                    add(&mut tags, &keyword);
                }
            } else if let Some((slug, by_name)) = exact(Vocabulary::Topic) {
                add(&mut topics, &slug);
                if !by_name {
                    add(&mut tags, &keyword);
                }
            } else if let Some((slug, _)) = exact(Vocabulary::Technology) {
                add(&mut technologies, &slug);
            } else {
                match keyword.as_str() {
                    "INTERNET FACING" => put(&mut e, "access_network", json!("Internet")),
                    "HAS SANDBOX" => add(&mut environments, "sandbox"),
                    "USES DIGITAL ONBOARDING" => put(&mut e, "digital_onboarding", json!(true)),
                    _ => add(&mut tags, &keyword),
                }
            }
        }
    }
    put(&mut e, "care_settings", json!(care_settings));
    put(&mut e, "topics", json!(topics));
    put(&mut e, "technologies", json!(technologies));
    put(&mut e, "environments", json!(environments));

    if let Some(v) = r.take("Registration Status") {
        let words = split(&v.to_uppercase());
        let mut statuses = Vec::new();
        let mut notes: Vec<(Option<Status>, &str)> = Vec::new();
        for word in &words {
            match status_word(word) {
                Some((status, note)) => {
                    if let Some(s) = status {
                        statuses.push(s);
                    }
                    notes.push((status, note));
                }
                None => problems.push(Problem {
                    location: Some(Location::Row(row)),
                    column: Some("Registration Status".into()),
                    value: Some(word.clone()),
                    expected: "statuses from ACTIVE, IN DEVELOPMENT, DEPRECATED, RETIRED, UNDER REVIEW FOR DEPRECATION, INTERNAL, separated by commas".into(),
                }),
            }
        }
        if let Some(main) = STATUS_PRECEDENCE.into_iter().find(|s| statuses.contains(s)) {
            put(&mut e, "status", json!(main.slug()));
            let extra: Vec<&str> = notes.iter().filter(|(s, _)| *s != Some(main)).map(|(_, n)| *n).collect();
            put(&mut e, "status_notes", json!(extra));
        } else if !words.is_empty() && words.iter().all(|w| status_word(w).is_some()) {
            problems.push(Problem {
                location: Some(Location::Row(row)),
                column: Some("Registration Status".into()),
                value: Some(v.clone()),
                expected: "at least one of ACTIVE, IN DEVELOPMENT, DEPRECATED or RETIRED".into(),
            });
        }
    }

    if let Some(v) = r.take("Mandate") {
        match v.to_ascii_lowercase().as_str() {
            "yes" | "true" | "mandated" => put(&mut e, "mandated", json!(true)),
            "no" | "false" => put(&mut e, "mandated", json!(false)),
            _ => {
                put(&mut e, "mandated", json!(true));
                put(&mut e, "reference_code", json!(v));
            }
        }
    }

    // The publisher: an organisation, and the entry's owner.
    let name = r.take("Publisher Name");
    let identifier = r.take("Publisher Identifier");
    let logo = r.take("Publisher Logo");
    let home = r.take("Publisher Description");
    let contact = r.take("Publisher Contact Point").map(|c| c.trim_start_matches("mailto:").trim().to_owned());
    let publisher = match name.as_deref().and_then(Slug::from_text) {
        Some(slug) => {
            put(&mut e, "owner", json!(slug.as_str()));
            let mut org = Map::new();
            org.insert("slug".into(), json!(slug.as_str()));
            org.insert("name".into(), json!(name));
            org.insert("kind".into(), json!("publisher"));
            org.insert("identifier".into(), json!(identifier));
            org.insert("logo_url".into(), json!(logo));
            org.insert("url".into(), json!(home));
            org.insert("contact".into(), json!(contact));
            Some(org)
        }
        None => {
            problems.push(Problem {
                location: Some(Location::Row(row)),
                column: Some("Publisher Name".into()),
                value: name,
                expected: "the name of the organisation that publishes the API".into(),
            });
            None
        }
    };

    // Nothing is dropped: columns without a field of their own become tags.
    for (column, value) in r.leftovers() {
        add(&mut tags, &format!("{column}: {value}"));
    }
    put(&mut e, "tags", json!(tags));
    (e, publisher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_addresses_become_slugs() {
        let s = slug_from_url("https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir/");
        assert_eq!(s.unwrap().as_str(), "personal-demographics-service-fhir");
    }

    #[test]
    fn day_month_year_dates_become_iso() {
        assert_eq!(iso_date("1/4/2024"), "2024-04-01");
        assert_eq!(iso_date("2024-04-01"), "2024-04-01");
    }
}
