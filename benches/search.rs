//! Search benchmark: index build time, query latency (p50/p99) for a fixed
//! mix of queries with facets and filters, and memory, for synthetic
//! catalogues of 1k, 10k and 100k entries; the same mix on the same data
//! against a baseline of SQLite FTS5 (bm25, GROUP BY facet counts).
//!
//!     cargo bench --bench search
//!
//! Both engines run in this one process, one after the other, so their
//! ratio is fair on a shared, noisy machine.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::{Connection, params_from_iter};
use standards::catalogue::{Catalogue, Entry, Organisation, Slug, Status, Vocabulary};
use standards::search::index::Context;
use standards::search::{Budget, SearchRequest, index_of, run};
use standards::store::EntryQuery;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// The query mix: words, typos, abbreviations, phrases and empty queries,
/// with and without filters; every query also computes all facet counts.
fn mix() -> Vec<(&'static str, EntryQuery)> {
    let f = EntryQuery::default;
    vec![
        ("snomed", f()),
        ("prescibing", EntryQuery { care_settings: vec![slug("pharmacy")], ..f() }),
        ("", EntryQuery { care_settings: vec![slug("hospital")], mandated: Some(true), ..f() }),
        ("referral", EntryQuery { topics: vec![slug("referrals")], ..f() }),
        ("\"transfer of care\"", f()),
        ("PDS", EntryQuery { types: vec![standards::catalogue::EntryType::Api], ..f() }),
        ("data set", EntryQuery { statuses: vec![Status::Active], ..f() }),
        ("alergy", f()),
        ("gp record", EntryQuery { care_settings: vec![slug("gp-primary-care")], ..f() }),
        (
            "emergency care",
            EntryQuery { care_settings: vec![slug("urgent-and-emergency-care"), slug("hospital")], ..f() },
        ),
        ("discharge summary", f()),
        ("", f()),
        ("maternity", EntryQuery { categories: vec![slug("record-standards")], ..f() }),
        ("dcb0129", f()),
        ("fhir api", EntryQuery { statuses: vec![Status::Active, Status::InDevelopment], ..f() }),
        ("social care records", EntryQuery { care_settings: vec![slug("social-care")], ..f() }),
        ("national data opt-out", f()),
        ("imaging", EntryQuery { topics: vec![slug("tests-and-diagnostics")], mandated: Some(false), ..f() }),
        ("pharm", f()),
        ("mental health", EntryQuery { owners: vec![slug("nhs-england")], ..f() }),
    ]
}

struct Fts {
    conn: Connection,
}

const FACETS: [&str; 8] = ["category", "status", "care_setting", "topic", "technology", "owner", "type", "mandated"];

fn facet_values(e: &Entry) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("category", e.category.to_string()),
        ("status", e.status.slug().to_owned()),
        ("owner", e.owner.to_string()),
        ("type", e.entry_type.as_str().to_owned()),
        ("mandated", e.mandated.to_string()),
    ];
    v.extend(e.care_settings.iter().map(|s| ("care_setting", s.to_string())));
    v.extend(e.topics.iter().map(|s| ("topic", s.to_string())));
    v.extend(e.technologies.iter().map(|s| ("technology", s.to_string())));
    v
}

fn filters_of(q: &EntryQuery) -> Vec<(&'static str, Vec<String>)> {
    let s = |v: &[Slug]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut out = vec![
        ("category", s(&q.categories)),
        ("status", q.statuses.iter().map(|x| x.slug().to_owned()).collect()),
        ("care_setting", s(&q.care_settings)),
        ("topic", s(&q.topics)),
        ("technology", s(&q.technologies)),
        ("owner", s(&q.owners)),
        ("type", q.types.iter().map(|t| t.as_str().to_owned()).collect()),
        ("mandated", q.mandated.map(|m| m.to_string()).into_iter().collect()),
    ];
    out.retain(|(_, v)| !v.is_empty());
    out
}

impl Fts {
    fn build(entries: &[Entry], orgs: &HashMap<String, Organisation>) -> Fts {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, alternative_names, reference_code, summary, tags, owner, description, tokenize='porter unicode61', prefix='2 3');
             CREATE TABLE facets (doc INTEGER NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL);
             CREATE TABLE titles (rowid INTEGER PRIMARY KEY, slug TEXT NOT NULL, title TEXT NOT NULL, sort_title TEXT NOT NULL);
             CREATE TEMP TABLE matched (doc INTEGER PRIMARY KEY, score REAL NOT NULL);",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut doc = tx.prepare("INSERT INTO docs (rowid, slug, title, alternative_names, reference_code, summary, tags, owner, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").unwrap();
            let mut facet = tx.prepare("INSERT INTO facets (doc, facet, value) VALUES (?, ?, ?)").unwrap();
            let mut title =
                tx.prepare("INSERT INTO titles (rowid, slug, title, sort_title) VALUES (?, ?, ?, ?)").unwrap();
            for (i, e) in entries.iter().enumerate() {
                let owner = orgs.get(e.owner.as_str()).map_or(e.owner.to_string(), |o| o.name.clone());
                doc.execute(rusqlite::params![
                    i as i64 + 1,
                    e.slug.as_str(),
                    e.title,
                    e.alternative_names.join(" "),
                    e.reference_code.clone().unwrap_or_default(),
                    e.summary.clone().unwrap_or_default(),
                    e.tags.join(" "),
                    owner,
                    e.description.clone().unwrap_or_default()
                ])
                .unwrap();
                title
                    .execute(rusqlite::params![i as i64 + 1, e.slug.as_str(), e.title, e.title.to_lowercase()])
                    .unwrap();
                for (f, v) in facet_values(e) {
                    facet.execute(rusqlite::params![i as i64 + 1, f, v]).unwrap();
                }
            }
        }
        tx.commit().unwrap();
        conn.execute_batch("CREATE INDEX facets_by_doc ON facets (doc, facet, value); CREATE INDEX titles_by_title ON titles (sort_title); ANALYZE;").unwrap();
        Fts { conn }
    }

    /// The FTS5 form of a query: every word required, the last as a prefix.
    fn match_expr(q: &str) -> Option<String> {
        if q.trim().starts_with('"') {
            return Some(q.trim().to_owned());
        }
        let words: Vec<String> =
            q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| format!("\"{w}\"")).collect();
        if words.is_empty() {
            return None;
        }
        let mut expr = words.join(" ");
        expr.push('*');
        Some(expr)
    }

    /// The results page, the total and every facet's counts (each facet's
    /// counts without its own filter), as the directory's search returns.
    /// The text query runs once, into a temporary table; filters and facet
    /// counts are indexed joins against it.
    fn search(&self, q: &str, filters: &EntryQuery) -> (i64, Vec<(String, String)>, usize) {
        let m = Fts::match_expr(q);
        let filters = filters_of(filters);
        self.conn.execute_batch("DELETE FROM matched").unwrap();
        match &m {
            Some(expr) => {
                self.conn
                    .prepare_cached("INSERT INTO matched (doc, score) SELECT rowid, bm25(docs, 0, 6, 5, 5, 2, 1.5, 1.5, 1) FROM docs WHERE docs MATCH ?1")
                    .unwrap()
                    .execute([expr])
                    .unwrap();
            }
            None => {
                self.conn
                    .prepare_cached("INSERT INTO matched (doc, score) SELECT rowid, 0 FROM titles")
                    .unwrap()
                    .execute([])
                    .unwrap();
            }
        }
        // Filters as EXISTS clauses on the facet index; `skip` leaves one out.
        let build_where = |skip: Option<&str>, params: &mut Vec<String>| {
            let mut clauses = Vec::new();
            for (f, values) in &filters {
                if Some(*f) == skip {
                    continue;
                }
                params.push((*f).to_owned());
                let fp = params.len();
                let mut marks = Vec::new();
                for v in values {
                    params.push(v.clone());
                    marks.push(format!("?{}", params.len()));
                }
                clauses.push(format!(
                    "EXISTS (SELECT 1 FROM facets x WHERE x.doc = m.doc AND x.facet = ?{fp} AND x.value IN ({}))",
                    marks.join(", ")
                ));
            }
            if clauses.is_empty() { "1".to_owned() } else { clauses.join(" AND ") }
        };
        let mut params = Vec::new();
        let w = build_where(None, &mut params);
        let total: i64 = self
            .conn
            .prepare_cached(&format!("SELECT COUNT(*) FROM matched m WHERE {w}"))
            .unwrap()
            .query_row(params_from_iter(params.iter()), |r| r.get(0))
            .unwrap();
        let mut params = Vec::new();
        let w = build_where(None, &mut params);
        let page: Vec<(String, String)> = if let Some(expr) = &m {
            // Highlights need a MATCH query; it is limited to the page's rows.
            let ids: Vec<i64> = self
                .conn
                .prepare_cached(&format!("SELECT m.doc FROM matched m WHERE {w} ORDER BY m.score LIMIT 20"))
                .unwrap()
                .query_map(params_from_iter(params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            self.conn
                .prepare(&format!(
                    "SELECT slug, highlight(docs, 1, '<mark>', '</mark>') FROM docs WHERE docs MATCH ?1 AND rowid IN ({list}) ORDER BY bm25(docs, 0, 6, 5, 5, 2, 1.5, 1.5, 1)"
                ))
                .unwrap()
                .query_map([expr], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        } else {
            self.conn
                .prepare_cached(&format!(
                    "SELECT t.slug, t.title FROM matched m JOIN titles t ON t.rowid = m.doc WHERE {w} ORDER BY t.sort_title LIMIT 20"
                ))
                .unwrap()
                .query_map(params_from_iter(params.iter()), |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut facet_rows = 0;
        for facet in FACETS {
            let mut params = vec![facet.to_owned()];
            let w = build_where(Some(facet), &mut params);
            let sql = format!(
                "SELECT f.value, COUNT(*) FROM matched m JOIN facets f ON f.doc = m.doc AND f.facet = ?1 WHERE {w} GROUP BY f.value"
            );
            let rows: Vec<(String, i64)> = self
                .conn
                .prepare_cached(&sql)
                .unwrap()
                .query_map(params_from_iter(params.iter()), |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            facet_rows += rows.len();
        }
        (total, page, facet_rows)
    }
}

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    // The base: the demo catalogue and the national API catalogue, read
    // through the import code; synthetic entries vary both.
    let api_catalogue = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/sources/nhs-api-catalogue.csv");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let base: Catalogue = runtime.block_on(standards::cli::generate::base_catalogue(&[api_catalogue])).unwrap();
    let orgs: HashMap<String, Organisation> =
        base.organisations.iter().map(|o| (o.slug.to_string(), o.clone())).collect();
    let mut vocabularies = standards::catalogue::Vocabularies::defaults();
    for v in [Vocabulary::CareSetting, Vocabulary::Topic, Vocabulary::Category, Vocabulary::Technology] {
        for t in base.vocabularies.terms(v) {
            vocabularies.upsert(v, t.clone());
        }
    }
    let mix = mix();
    println!(
        "| entries | index build | p50 | p99 | FTS5 build | FTS5 p50 | FTS5 p99 | p99 ratio (FTS5 / ours) | index memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    // BENCH_SIZES=100000 runs one size; the documented run is all three.
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![1_000, 10_000, 100_000]);
    let skip_fts = std::env::var("BENCH_NO_FTS").is_ok();
    for size in sizes {
        let catalogue = standards::synthetic::generate(&base, size);
        let ctx = Context { vocabularies: &vocabularies, organisations: &orgs };
        let before = rss_mib();
        let started = Instant::now();
        let index = index_of(&catalogue.entries, &ctx);
        let build_ms = started.elapsed().as_secs_f64() * 1000.0;
        let memory = rss_mib() - before;

        let fts_started = Instant::now();
        let fts = Fts::build(if skip_fts { &catalogue.entries[..10] } else { &catalogue.entries }, &orgs);
        let fts_build_ms = fts_started.elapsed().as_secs_f64() * 1000.0;

        let rounds = match size {
            1_000 => 50,
            10_000 => 20,
            _ => 5,
        };
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        // Warm both once, then alternate so noise hits both alike.
        for (q, f) in &mix {
            if std::env::var("BENCH_TRACE").is_ok() {
                eprintln!("warming {q:?}");
            }
            run(
                &index,
                &SearchRequest { q: (*q).into(), filters: f.clone(), page: 1, per_page: 20, ..Default::default() },
                &Budget::for_request(),
            )
            .expect("within budget");
            fts.search(q, f);
        }
        let slow = std::env::var("BENCH_TRACE").is_ok();
        for _ in 0..rounds {
            for (q, f) in &mix {
                let request =
                    SearchRequest { q: (*q).into(), filters: f.clone(), page: 1, per_page: 20, ..Default::default() };
                let t = Instant::now();
                let r = run(&index, &request, &Budget::for_request()).expect("within budget");
                ours.push(t.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(r);
                if slow {
                    eprintln!("ours {q:?}: {:.2} ms", ours.last().unwrap());
                }
                let t = Instant::now();
                let r = fts.search(q, f);
                theirs.push(t.elapsed().as_secs_f64() * 1000.0);
                if slow {
                    eprintln!("fts5 {q:?}: {:.2} ms", theirs.last().unwrap());
                }
                std::hint::black_box(r);
            }
        }
        ours.sort_by(|a, b| a.total_cmp(b));
        theirs.sort_by(|a, b| a.total_cmp(b));
        let (p50, p99) = (percentile(&ours, 0.5), percentile(&ours, 0.99));
        let (f50, f99) = (percentile(&theirs, 0.5), percentile(&theirs, 0.99));
        println!(
            "| {size} | {build_ms:.0} ms | {p50:.2} ms | {p99:.2} ms | {fts_build_ms:.0} ms | {f50:.2} ms | {f99:.2} ms | {:.1}x | {memory:.0} MiB |",
            f99 / p99
        );
        drop(index);
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find_map(|l| l.strip_prefix("model name\t: ")).unwrap_or("unknown");
    println!(
        "\nmachine: {model}, {} cores; {} queries in the mix",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        mix.len()
    );
}
