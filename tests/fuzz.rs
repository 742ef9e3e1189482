//! Fuzz tests for every parser and evaluator that takes untrusted input:
//! the CKAN Solr query parser and its evaluator, the free-text search, the
//! importers (CSV, JSON, the national API catalogue, saved CKAN responses,
//! spreadsheet workbooks) and the check of what they read, the Markdown
//! renderer and the CSV cell escaping.
//!
//! Each target feeds both arbitrary text or bytes and near-valid input from
//! structured generators (real field names, header rows, slugs, vocabulary
//! terms and words from the demo catalogue), so that cases get past the
//! first check and reach the code behind it. Each checks that nothing
//! panics and that work stays bounded: searches run on a counted budget of
//! steps ([`Budget`], accepting `Err(OverBudget)`), and every other input
//! is kept to a few kilobytes.
//!
//! ```text
//! cargo test --test fuzz
//! FUZZ_CASES=1000000 FUZZ_SLOW_MS=100 cargo test --release --test fuzz -- --test-threads=1 --nocapture
//! ```
//!
//! - `FUZZ_CASES`: cases per target (default 256). The target that goes
//!   through the HTTP server runs a fiftieth of them and the one that checks
//!   imports against a database a tenth (at least 64 each).
//!   `FUZZ_CASES_<TARGET>` sets one target's count (`FUZZ_CASES_CKAN_HTTP`,
//!   `FUZZ_CASES_MARKDOWN`, ...: the name its line of counts shows). When
//!   any is set, each target prints one line of counts (shown with
//!   `--nocapture`).
//! - `FUZZ_SLOW_MS`: a case whose run takes longer fails. A slow case is
//!   run twice more and only the fastest of the three counts, so a busy
//!   machine does not make a case slow.
//! - `FUZZ_SEED`: a fixed seed, to repeat a run. Each target's seed is
//!   printed when any `FUZZ_` variable is set, with a line every 100,000
//!   cases, so that a run the process did not survive (an allocation that
//!   fails aborts it) can be repeated; `FUZZ_TRACE_FROM=n` (or `FUZZ_TRACE`
//!   for all) then prints each case from the `n`th before running it.
//! - `FUZZ_HANG_MS`: a case still running after this long (default 20 s)
//!   is reported as a hang, and its target stops there (the thread it runs
//!   on cannot be stopped, and is left behind).
//! - `FUZZ_BUDGET`: search steps per case (default 5,000,000, about a
//!   tenth of a request's budget: some 25 ms of one core, optimised). A
//!   case that is slow although its search stayed within this budget is
//!   work the budget does not count.
//!
//! A target does not stop at its first failure: it runs every case, shrinks
//! the first input of each distinct failure (a panic's location, or which
//! check failed) to a small one, and fails at the end listing each with how
//! many cases hit it.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Once, OnceLock, mpsc};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngSeed, TestRunner};
use serde_json::{Map, Value, json};
use standards::catalogue::fields::{ENTRY_FIELDS, FieldKind, ORGANISATION_KINDS};
use standards::catalogue::{Catalogue, EntryType, GlossaryTerm, Organisation, Slug, Status, Vocabularies, Vocabulary};
use standards::ckan::FACETABLE;
use standards::ckan::solr::{self, Query};
use standards::export::csv_writer::{escape_cell, unescape_cell};
use standards::import::{self, Format};
use standards::markdown;
use standards::markdown::glossary::Linker;
use standards::search::index::{Context, Index, Pattern};
use standards::search::{Budget, OverBudget, SearchRequest, SearchSort, index_of, run};
use standards::store::EntryQuery;

use common::{Backend, TestServer, TestStore};

// ---------------------------------------------------------------------------
// The harness: case counts from the environment, panics caught and keyed by
// where they happened, failures shrunk, slow cases measured again.

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().replace('_', "").parse().ok())
}

const DEFAULT_CASES: u64 = 256;

fn cases() -> u64 {
    env_u64("FUZZ_CASES").unwrap_or(DEFAULT_CASES).max(1)
}

/// Cases for a slower target: a share of `FUZZ_CASES`.
fn fewer_cases(divisor: u64) -> u64 {
    (cases() / divisor).max(64)
}

fn budget() -> Budget {
    Budget::new(env_u64("FUZZ_BUDGET").unwrap_or(5_000_000))
}

fn config(cases: u64, seed: u64) -> ProptestConfig {
    ProptestConfig {
        cases: cases.min(u64::from(u32::MAX)) as u32,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

/// `FUZZ_SEED`, or a fresh one (printed when `FUZZ_` variables are set, so
/// a run that the process did not survive can be repeated).
fn seed() -> u64 {
    env_u64("FUZZ_SEED").unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.finish()
    })
}

/// Writes straight to the process's standard error, past the test
/// harness's capture, so that it is seen even if the process then aborts.
fn announce(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A failed check: `key` names the kind of failure (distinct keys are
/// distinct bugs), `detail` says what happened in this case.
#[derive(Debug, Clone)]
struct Fault {
    key: String,
    detail: String,
}

fn fault(key: impl Into<String>, detail: impl Into<String>) -> Fault {
    Fault { key: key.into(), detail: detail.into() }
}

type Outcome = Result<(), Fault>;

thread_local! {
    /// Set while a case runs on this thread: its panics are recorded, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
    /// Cases of the running target that reached the code behind the first
    /// checks (what that means is the target's own).
    static REACHED: Cell<u64> = const { Cell::new(0) };
}

/// Counts the running case as one that got deep.
fn reached() {
    REACHED.with(|r| r.set(r.get() + 1));
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let place =
                    info.location().map_or_else(String::new, |l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((place, message)));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one case, turning a panic (the case's own, or the in-process
/// server's on this thread) into a fault keyed by where it happened.
fn attempt<V>(body: &impl Fn(&V) -> Outcome, value: &V) -> Outcome {
    QUIET.with(|q| q.set(true));
    LAST_PANIC.with(|p| p.borrow_mut().take());
    let result = catch_unwind(AssertUnwindSafe(|| body(value)));
    QUIET.with(|q| q.set(false));
    let panicked = LAST_PANIC.with(|p| p.borrow_mut().take());
    match (result, panicked) {
        (Err(_), Some((place, message))) => Err(fault(format!("panic at {place}"), message)),
        (Err(_), None) => Err(fault("panic", "")),
        (Ok(Err(f)), Some((place, message))) => {
            Err(fault(format!("{} after a panic at {place}", f.key), format!("{}; the panic: {message}", f.detail)))
        }
        (Ok(result), _) => result,
    }
}

/// Runs cases on a thread of their own, so that one that never ends is
/// seen (after `FUZZ_HANG_MS`) rather than stopping the run.
struct Worker<V> {
    cases: mpsc::Sender<V>,
    outcomes: mpsc::Receiver<(Outcome, bool)>,
    thread: Option<std::thread::JoinHandle<()>>,
    hang_limit: Duration,
}

/// A case still running after the time allowed.
struct Hung;

impl<V: Clone + Send + 'static> Worker<V> {
    fn start(name: &str, body: impl Fn(&V) -> Outcome + Send + 'static) -> Worker<V> {
        let (cases, inbox) = mpsc::channel::<V>();
        let (outbox, outcomes) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("fuzz-{name}"))
            .spawn(move || {
                for value in inbox {
                    REACHED.with(|r| r.set(0));
                    let outcome = attempt(&body, &value);
                    if outbox.send((outcome, REACHED.with(Cell::get) > 0)).is_err() {
                        break;
                    }
                }
            })
            .expect("a worker thread");
        let hang_limit = Duration::from_millis(env_u64("FUZZ_HANG_MS").unwrap_or(20_000));
        Worker { cases, outcomes, thread: Some(thread), hang_limit }
    }

    /// The case's outcome and whether it got deep.
    fn run(&self, value: &V) -> Result<(Outcome, bool), Hung> {
        self.cases.send(value.clone()).map_err(|_| Hung)?;
        self.outcomes.recv_timeout(self.hang_limit).map_err(|_| Hung)
    }

    /// Stops the thread, unless a case on it never ended: that thread is
    /// left behind (it goes when the test process does).
    fn finish(mut self, hung: bool) {
        let thread = self.thread.take();
        drop(self);
        if !hung && let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// Simplifies a failing case as far as it keeps failing the same way.
fn shrink<T: ValueTree>(tree: &mut T, worker: &Worker<T::Value>, first: Fault) -> (String, Fault, bool)
where
    T::Value: Debug + Clone + Send + 'static,
{
    let mut smallest = (format!("{:?}", tree.current()), first);
    if !tree.simplify() {
        return (smallest.0, smallest.1, false);
    }
    for _ in 0..4096 {
        match worker.run(&tree.current()) {
            Err(Hung) => return (smallest.0, smallest.1, true),
            Ok((Err(f), _)) if f.key == smallest.1.key => {
                smallest = (format!("{:?}", tree.current()), f);
                if !tree.simplify() {
                    break;
                }
            }
            Ok(_) => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    (smallest.0, smallest.1, false)
}

fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

struct Failure {
    key: String,
    count: u64,
    input: String,
    detail: String,
}

/// Runs `cases` cases of `strategy` through `body`; `deep` says what the
/// cases that call [`reached`] got to.
fn fuzz<S>(name: &str, deep: &str, cases: u64, strategy: S, body: impl Fn(&S::Value) -> Outcome + Send + 'static)
where
    S: Strategy,
    S::Value: Debug + Clone + Send + 'static,
{
    install_panic_hook();
    let cases = env_u64(&format!("FUZZ_CASES_{}", name.to_ascii_uppercase())).unwrap_or(cases).max(1);
    let slow_limit = env_u64("FUZZ_SLOW_MS").map(Duration::from_millis);
    let seed = seed();
    let reporting = std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("FUZZ_"));
    let trace_from = env_u64("FUZZ_TRACE_FROM").or_else(|| std::env::var_os("FUZZ_TRACE").map(|_| 1));
    if reporting {
        announce(&format!("fuzz {name}: seed {seed}, {cases} cases"));
    }
    let mut runner = TestRunner::new(config(cases, seed));
    let worker = Worker::start(name, body);
    let started = Instant::now();
    let mut failures: Vec<Failure> = Vec::new();
    let mut slow: Vec<(Duration, String)> = Vec::new();
    let (mut slow_count, mut slow_once, mut deep_count) = (0u64, 0u64, 0u64);
    let mut slowest = (Duration::ZERO, String::new());
    let mut ran = 0u64;
    let mut hung = false;
    while ran < cases && !hung {
        let mut tree = strategy.new_tree(&mut runner).unwrap_or_else(|e| panic!("{name}: no case generated: {e}"));
        ran += 1;
        let value = tree.current();
        if trace_from.is_some_and(|from| ran >= from) {
            announce(&format!("fuzz {name}: case {ran}: {value:?}"));
        }
        if reporting && ran.is_multiple_of(100_000) {
            announce(&format!("fuzz {name}: {ran} cases run, {:.0} s", started.elapsed().as_secs_f64()));
        }
        let t = Instant::now();
        let Ok((outcome, got_deep)) = worker.run(&value) else {
            hung = true;
            let detail =
                format!("still running after {:.0} s; its thread is left spinning", worker.hang_limit.as_secs_f64());
            failures.push(Failure { key: "hang".into(), count: 1, input: format!("{value:?}"), detail });
            break;
        };
        let took = t.elapsed();
        deep_count += u64::from(got_deep);
        if let Err(f) = outcome {
            if let Some(known) = failures.iter_mut().find(|k| k.key == f.key) {
                known.count += 1;
                continue;
            }
            let (input, f, shrinking_hung) = shrink(&mut tree, &worker, f);
            hung = shrinking_hung;
            failures.push(Failure { key: f.key, count: 1, input, detail: f.detail });
            continue;
        }
        if took > slowest.0 {
            slowest = (took, format!("{value:?}"));
        }
        if let Some(limit) = slow_limit
            && took > limit
        {
            let mut again = took;
            for _ in 0..2 {
                let t = Instant::now();
                if worker.run(&value).is_err() {
                    hung = true;
                    break;
                }
                again = again.min(t.elapsed());
            }
            if again > limit {
                slow_count += 1;
                if slow.len() < 5 {
                    slow.push((again, format!("{value:?}")));
                }
            } else {
                slow_once += 1;
            }
        }
    }
    worker.finish(hung);
    let failing: u64 = failures.iter().map(|f| f.count).sum();
    if reporting {
        eprintln!(
            "fuzz {name}: {ran} cases ({deep_count} {deep}), {failing} failing ({} distinct), {slow_count} slow ({slow_once} slow once but not again), slowest {:.2} ms, {:.1} s",
            failures.len(),
            slowest.0.as_secs_f64() * 1000.0,
            started.elapsed().as_secs_f64()
        );
        if slow_limit.is_some() {
            eprintln!("fuzz {name}: slowest input: {}", clip(&slowest.1, 400));
        }
    }
    if failures.is_empty() && slow.is_empty() {
        return;
    }
    let mut report = format!("{name}: {failing} of {ran} cases failed, {slow_count} were slow (FUZZ_SEED={seed})\n");
    for f in &failures {
        report.push_str(&format!(
            "\n{} ({} cases)\n  {}\n  smallest input: {}\n",
            f.key,
            f.count,
            clip(&f.detail, 2000),
            clip(&f.input, 4000)
        ));
    }
    for (took, input) in &slow {
        report.push_str(&format!("\nslow: {:.1} ms\n  input: {}\n", took.as_secs_f64() * 1000.0, clip(input, 4000)));
    }
    panic!("{report}");
}

/// A fault unless `condition` holds.
macro_rules! check {
    ($condition:expr, $key:expr, $($detail:tt)+) => {
        if !$condition {
            return Err(fault($key, format!($($detail)+)));
        }
    };
}

// ---------------------------------------------------------------------------
// What the generators draw on: the demo catalogue and the national API
// catalogue's own header rows and cells.

struct Demo {
    index: Index,
    vocabularies: Vocabularies,
    linker: Linker,
    /// Words of titles, summaries, tags and descriptions, lower case.
    words: Vec<String>,
    /// Titles, other names, term labels and aliases, organisation names.
    phrases: Vec<String>,
    entry_slugs: Vec<String>,
    /// Organisations by slug and by name.
    org_values: Vec<String>,
    /// Each vocabulary's slugs, labels and aliases (in `Vocabulary::ALL` order).
    term_values: Vec<Vec<String>>,
    status_values: Vec<String>,
    glossary_names: Vec<String>,
    /// Facet values for filters: real slugs and one that matches nothing.
    care_settings: Vec<Slug>,
    topics: Vec<Slug>,
    technologies: Vec<Slug>,
    categories: Vec<Slug>,
    owners: Vec<Slug>,
    /// The demo catalogue's records as JSON.
    entries_json: Vec<Value>,
    orgs_json: Vec<Value>,
    terms_json: Vec<(String, Value)>,
    glossary_json: Vec<Value>,
    /// Entries as this directory's CKAN API shows packages.
    packages: Vec<Value>,
    /// The national API catalogue's three header rows.
    api_header: Vec<Vec<String>>,
    /// Distinct cells of each of its columns.
    api_columns: Vec<Vec<String>>,
    api_keywords: Vec<String>,
    api_ids: Vec<String>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(Demo::load)
}

fn words_of(text: &str, into: &mut BTreeSet<String>) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.chars().count() >= 2 {
            into.insert(w.to_lowercase());
        }
    }
}

impl Demo {
    fn load() -> Demo {
        let catalogue: Catalogue = serde_json::from_str(standards::demo::CATALOGUE).expect("the demo catalogue");
        let document: Value = serde_json::from_str(standards::demo::CATALOGUE).expect("the demo catalogue");
        let mut vocabularies = Vocabularies::defaults();
        for v in [Vocabulary::CareSetting, Vocabulary::Topic, Vocabulary::Category, Vocabulary::Technology] {
            for t in catalogue.vocabularies.terms(v) {
                vocabularies.upsert(v, t.clone());
            }
        }
        let orgs: HashMap<String, Organisation> =
            catalogue.organisations.iter().map(|o| (o.slug.to_string(), o.clone())).collect();
        let index = index_of(&catalogue.entries, &Context { vocabularies: &vocabularies, organisations: &orgs });
        let glossary: Vec<GlossaryTerm> = serde_json::from_str(standards::demo::GLOSSARY).expect("the demo glossary");
        let linker = Linker::new(&glossary);

        let mut words = BTreeSet::new();
        let mut phrases = BTreeSet::new();
        for e in &catalogue.entries {
            words_of(&e.title, &mut words);
            words_of(e.summary.as_deref().unwrap_or_default(), &mut words);
            words_of(e.description.as_deref().unwrap_or_default(), &mut words);
            for t in e.tags.iter().chain(&e.alternative_names) {
                words_of(t, &mut words);
            }
            phrases.insert(e.title.clone());
            phrases.extend(e.alternative_names.iter().cloned());
            phrases.extend(e.reference_code.iter().cloned());
        }
        let mut term_values = Vec::new();
        for v in Vocabulary::ALL {
            let mut values = BTreeSet::new();
            for t in vocabularies.terms(v) {
                values.insert(t.slug.to_string());
                values.insert(t.label.clone());
                values.extend(t.aliases.iter().cloned());
                phrases.insert(t.label.clone());
                phrases.extend(t.aliases.iter().cloned());
            }
            values.insert("no-such-term".to_owned());
            term_values.push(values.into_iter().collect::<Vec<_>>());
        }
        for o in &catalogue.organisations {
            phrases.insert(o.name.clone());
        }
        let slugs = |v: Vocabulary| -> Vec<Slug> {
            let mut s: Vec<Slug> = vocabularies.terms(v).iter().map(|t| t.slug.clone()).collect();
            s.push(Slug::parse("no-such-value").expect("a slug"));
            s
        };
        let mut owners: Vec<Slug> = catalogue.organisations.iter().map(|o| o.slug.clone()).collect();
        owners.push(Slug::parse("no-such-owner").expect("a slug"));

        let mut org_values: Vec<String> = catalogue.organisations.iter().map(|o| o.slug.to_string()).collect();
        org_values.extend(catalogue.organisations.iter().map(|o| o.name.clone()));
        org_values.push("no-such-organisation".into());
        let mut status_values: Vec<String> = Status::ALL.iter().map(|s| s.slug().to_owned()).collect();
        status_values.extend(Status::ALL.iter().map(|s| s.label().to_owned()));
        status_values.extend(["ACTIVE", "Retired ", "withdrawn", ""].map(str::to_owned));

        let entries_json: Vec<Value> = document["entries"].as_array().cloned().unwrap_or_default();
        let orgs_json: Vec<Value> = document["organisations"].as_array().cloned().unwrap_or_default();
        let mut terms_json = Vec::new();
        if let Some(map) = document["vocabularies"].as_object() {
            for (key, terms) in map {
                for t in terms.as_array().into_iter().flatten() {
                    terms_json.push((key.clone(), t.clone()));
                }
            }
        }
        let glossary_json: Vec<Value> = serde_json::from_str(standards::demo::GLOSSARY).expect("the demo glossary");
        let glossary_names: Vec<String> =
            glossary.iter().flat_map(|t| std::iter::once(t.term.clone()).chain(t.aliases.iter().cloned())).collect();
        let packages = entries_json.iter().map(|e| package_of(e, &orgs_json)).collect();

        let (api_header, api_columns, api_keywords, api_ids) = api_catalogue_pools();
        let (care_settings, topics, technologies, categories) = (
            slugs(Vocabulary::CareSetting),
            slugs(Vocabulary::Topic),
            slugs(Vocabulary::Technology),
            slugs(Vocabulary::Category),
        );
        Demo {
            index,
            vocabularies,
            linker,
            words: words.into_iter().collect(),
            phrases: phrases.into_iter().filter(|p| !p.trim().is_empty()).collect(),
            entry_slugs: catalogue.entries.iter().map(|e| e.slug.to_string()).collect(),
            org_values,
            term_values,
            status_values,
            glossary_names,
            care_settings,
            topics,
            technologies,
            categories,
            owners,
            entries_json,
            orgs_json,
            terms_json,
            glossary_json,
            packages,
            api_header,
            api_columns,
            api_keywords,
            api_ids,
        }
    }

    fn terms(&self, v: Vocabulary) -> &'static [String] {
        let i = Vocabulary::ALL.iter().position(|x| *x == v).unwrap_or(0);
        &demo().term_values[i]
    }
}

/// An entry as a CKAN package written by this directory: every entry
/// field by name, `entry_type`, tags as objects and the organisation.
fn package_of(entry: &Value, orgs: &[Value]) -> Value {
    let mut p = entry.as_object().cloned().unwrap_or_default();
    if let Some(t) = p.remove("type") {
        p.insert("entry_type".into(), t);
    }
    p.entry("care_settings").or_insert_with(|| json!([]));
    let tags: Vec<Value> =
        p.get("tags").and_then(Value::as_array).into_iter().flatten().map(|t| json!({"name": t})).collect();
    p.insert("tags".into(), Value::from(tags));
    let owner = p.get("owner").and_then(Value::as_str).unwrap_or_default().to_owned();
    p.insert("name".into(), p.get("slug").cloned().unwrap_or(Value::Null));
    if let Some(org) = orgs.iter().find(|o| o["slug"] == owner.as_str()) {
        p.insert(
            "organization".into(),
            json!({"name": org["slug"], "title": org["name"], "description": org.get("description"), "image_url": org.get("logo_url")}),
        );
    }
    Value::Object(p)
}

type ApiPools = (Vec<Vec<String>>, Vec<Vec<String>>, Vec<String>, Vec<String>);

fn api_catalogue_pools() -> ApiPools {
    let text = std::fs::read_to_string(common::api_catalogue_csv()).expect("demo/sources/nhs-api-catalogue.csv");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let records: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect()).collect();
    let header: Vec<Vec<String>> = records[..3].to_vec();
    let width = header[2].len();
    let mut columns: Vec<BTreeSet<String>> = vec![BTreeSet::new(); width];
    let mut keywords = BTreeSet::new();
    let mut ids = Vec::new();
    let keyword_column = header[2].iter().position(|c| c.trim() == "Keywords");
    for row in &records[3..] {
        for (i, cell) in row.iter().enumerate().take(width) {
            if !cell.trim().is_empty() && columns[i].len() < 25 {
                columns[i].insert(cell.clone());
            }
            if Some(i) == keyword_column {
                keywords.extend(cell.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()));
            }
        }
        if let Some(id) = row.first() {
            ids.push(id.clone());
        }
    }
    let columns =
        columns.into_iter().map(|c| if c.is_empty() { vec![String::new()] } else { c.into_iter().collect() }).collect();
    (header, columns, keywords.into_iter().collect(), ids)
}

// ---------------------------------------------------------------------------
// Generators shared by several targets.

fn pick(values: &'static [String]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(values)
}

fn pick_str(values: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(values).prop_map(str::to_owned)
}

/// Characters and strings that break naive code: case changes that change
/// the length, combining marks, invisible and control characters,
/// delimiters and markup.
const NASTY: &[&str] = &[
    "",
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\0",
    "\u{feff}",
    "\u{200b}",
    "\u{202e}",
    "\u{85}",
    "\u{2028}",
    "é",
    "e\u{301}",
    "ß",
    "ẞ",
    "İ",
    "ı",
    "ﬁ",
    "ǰ",
    "ΐ",
    "Ω",
    "🙂",
    "日本語",
    "\u{fffd}",
    "\u{10ffff}",
    "&",
    "&amp;",
    "&#0;",
    "<",
    ">",
    "<b>",
    "</",
    "\"",
    "'",
    "''",
    ",",
    ";",
    ":",
    "\\",
    "%",
    "%00",
    "=",
    "+",
    "-",
    "@",
    "*",
    "?",
    "~",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    "|",
    "#",
    "/",
    "..",
    "null",
    "NaN",
    "-1",
    "9999999999999999999999",
];

fn nasty() -> impl Strategy<Value = String> + Clone {
    pick_str(NASTY)
}

/// Arbitrary text: proptest's strings, any characters, bytes read as
/// UTF-8 (mostly replacement characters), printable ASCII, and runs of the
/// characters above.
fn raw_text(max: usize) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter),
        prop::collection::vec(any::<u8>(), 0..max).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::collection::vec(prop::char::range(' ', '~'), 0..max).prop_map(String::from_iter),
        prop::collection::vec(nasty(), 0..max / 4).prop_map(|parts| parts.concat()),
    ]
}

/// Short text mixing real words with the characters above.
fn field_text() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    prop::collection::vec(prop_oneof![4 => pick(&d.words), 1 => pick(&d.phrases), 2 => nasty()], 0..5)
        .prop_map(|parts| parts.join(" "))
}

/// A change to generated text that may break its syntax.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> + Clone {
    let edit = prop_oneof![
        (any::<usize>(), nasty()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1..16usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    prop_oneof![4 => Just(Vec::new()), 1 => prop::collection::vec(edit, 1..3)]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply_edits(mut text: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Insert(at, s) => {
                let i = boundary(&text, *at);
                text.insert_str(i, s);
            }
            Edit::Delete(at, n) => {
                let i = boundary(&text, *at);
                let j = boundary(&text, i + n).max(i);
                text.replace_range(i..j, "");
            }
            Edit::Truncate(at) => {
                let i = boundary(&text, *at);
                text.truncate(i);
            }
        }
    }
    text
}

/// Text from `strategy`, sometimes with its syntax broken.
fn mutated(strategy: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = String> + Clone {
    (strategy, edits()).prop_map(|(text, edits)| apply_edits(text, &edits))
}

const DATES: &[&str] = &[
    "2024-01-31",
    "2024-02-29",
    "2023-02-29",
    "2024-02-30",
    "2024-13-01",
    "0000-00-00",
    "9999-12-31",
    "+002024-01-01",
    "31/12/2024",
    "1/2/2024",
    "2024-1-1",
    "20240131",
    "2024-01-31T10:00:00Z",
    "2024-01-31T25:61:61Z",
    "yesterday",
    "-1",
    "",
];

const URLS: &[&str] = &[
    "https://example.org",
    "http://x",
    "https://digital.nhs.uk/developer/api-catalogue/personal-demographics-service-fhir",
    "https://digital.nhs.uk/developer/api-catalogue/",
    "https://example.org/a?b=c#d",
    "HTTPS://EXAMPLE.ORG",
    "mailto:a@b.c",
    "a@b.c",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,x",
    "ftp://x",
    "//evil.example",
    "https://",
    "https://exa mple.org",
    "/relative",
    "",
];

const BOOLS: &[&str] = &["true", "false", "TRUE", "yes", "no", "1", "0", "y", "n", "", "maybe", "null"];

const LEVELS: &[&str] = &["0", "1", "3", "5", "6", "-1", "1.5", "99999999999999999999", "x", ""];

const TYPES: &[&str] = &["api", "standard", "API", "Standard", "", "dataset"];

/// A list written as the CSV layout writes lists.
fn list_of(item: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = String> + Clone {
    (prop::collection::vec(item, 0..4), pick_str(&[";", "; ", ",", " ; ", ";;"]))
        .prop_map(|(items, sep)| items.join(&sep))
}

/// A cell for a field of this kind: mostly plausible values of that kind,
/// sometimes formula-like text, arbitrary text or nothing.
fn kind_value(kind: FieldKind) -> BoxedStrategy<String> {
    let d = demo();
    let specific: BoxedStrategy<String> = match kind {
        FieldKind::Id => prop_oneof![
            any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
            Just("00000000-0000-0000-0000-000000000000".to_owned()),
            "[0-9a-f-]{0,40}",
        ]
        .boxed(),
        FieldKind::Slug => prop_oneof![pick(&d.entry_slugs), "[a-z0-9-]{0,12}", field_text()].boxed(),
        FieldKind::Url | FieldKind::UrlOrEmail => pick_str(URLS).boxed(),
        FieldKind::Urls => list_of(pick_str(URLS)).boxed(),
        FieldKind::Date => prop_oneof![pick_str(DATES), "[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}"].boxed(),
        FieldKind::Timestamp => prop_oneof![pick_str(DATES), Just("2024-01-31T10:00:00.123456Z".to_owned())].boxed(),
        FieldKind::Bool | FieldKind::OptionalBool => pick_str(BOOLS).boxed(),
        FieldKind::Level => pick_str(LEVELS).boxed(),
        FieldKind::Status => pick(&d.status_values).boxed(),
        FieldKind::EntryType => pick_str(TYPES).boxed(),
        FieldKind::OrganisationKind => prop_oneof![pick_str(ORGANISATION_KINDS), field_text()].boxed(),
        FieldKind::Term(v) => pick(d.terms(v)).boxed(),
        FieldKind::Terms(v) => list_of(pick(d.terms(v))).boxed(),
        FieldKind::Organisation => pick(&d.org_values).boxed(),
        FieldKind::Entries => list_of(pick(&d.entry_slugs)).boxed(),
        FieldKind::List => list_of(field_text()).boxed(),
        FieldKind::Markdown => markdown_text().boxed(),
        _ => field_text().boxed(),
    };
    prop_oneof![
        12 => specific,
        1 => pick_str(&["=1+1", "'=cmd", "''", "+44 20", "-x", "@SUM(A1)", "\tx", "'"]),
        1 => raw_text(24),
        1 => Just(String::new()),
    ]
    .boxed()
}

fn kind_of(name: &str) -> FieldKind {
    ENTRY_FIELDS.iter().find(|f| f.name == name).map_or(FieldKind::Text, |f| f.kind)
}

/// Any field's kind of value, for JSON records.
fn any_field_value() -> impl Strategy<Value = String> + Clone {
    (0..ENTRY_FIELDS.len()).prop_flat_map(|i| kind_value(ENTRY_FIELDS[i].kind))
}

/// A JSON value of any shape: a few levels of arrays and objects.
fn json_value() -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_field_value().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => (0..ENTRY_FIELDS.len()).prop_map(|i| ENTRY_FIELDS[i].name.to_owned()),
        2 => pick_str(&["slug", "name", "label", "description", "aliases", "kind", "title", "body", "term", "definition", "order", "url", "logo_url", "format", "entries", "organisations", "vocabularies"]),
        1 => raw_text(12),
    ]
}

/// A change to one JSON record.
#[derive(Debug, Clone)]
enum JsonEdit {
    Remove(String),
    Set(String, Value),
    SetText(String, String),
    SetList(String, Vec<String>),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> + Clone {
    prop_oneof![
        2 => json_key().prop_map(JsonEdit::Remove),
        2 => (json_key(), json_value()).prop_map(|(k, v)| JsonEdit::Set(k, v)),
        4 => (json_key(), any_field_value()).prop_map(|(k, v)| JsonEdit::SetText(k, v)),
        2 => (json_key(), prop::collection::vec(any_field_value(), 0..4)).prop_map(|(k, v)| JsonEdit::SetList(k, v)),
    ]
}

fn apply_json_edits(record: &mut Value, edits: &[JsonEdit]) {
    let Some(map) = record.as_object_mut() else { return };
    for e in edits {
        match e {
            JsonEdit::Remove(k) => {
                map.remove(k);
            }
            JsonEdit::Set(k, v) => {
                map.insert(k.clone(), v.clone());
            }
            JsonEdit::SetText(k, v) => {
                map.insert(k.clone(), Value::from(v.clone()));
            }
            JsonEdit::SetList(k, v) => {
                map.insert(k.clone(), Value::from(v.clone()));
            }
        }
    }
}

/// Up to `n` of a pool's records, each with up to three edits.
fn records(pool: &'static [Value], n: usize) -> impl Strategy<Value = Vec<Value>> + Clone {
    prop::collection::vec((prop::sample::select(pool), prop::collection::vec(json_edit(), 0..3)), 0..n).prop_map(
        |picked| {
            picked
                .into_iter()
                .map(|(mut record, edits)| {
                    apply_json_edits(&mut record, &edits);
                    record
                })
                .collect()
        },
    )
}

// ---------------------------------------------------------------------------
// 1. The CKAN Solr query parser and evaluator.

const SOLR_FIELDS: &[&str] = &[
    "name",
    "id",
    "title",
    "title_string",
    "tags",
    "organization",
    "owner",
    "owner_org",
    "status",
    "care_setting",
    "care_settings",
    "topic",
    "topics",
    "standard_category",
    "category",
    "technology",
    "technologies",
    "entry_type",
    "mandated",
    "type",
    "dataset_type",
    "state",
    "capacity",
    "text",
    "metadata_modified",
    "metadata_created",
    "comply_by_date",
    "res_format",
    "notes",
    "x_y.z",
    "_",
];

const RANGE_FIELDS: &[&str] =
    &["metadata_modified", "metadata_created", "comply_by_date", "comply_by", "name", "title", "tags"];

/// What follows `NOW` in a date bound, valid and not.
const NOW_SUFFIXES: &[&str] = &[
    "",
    "-",
    "+",
    "/DAY",
    "-1DAY",
    "-30DAYS",
    "+6MONTHS",
    "-2YEARS",
    "-1MONTH/DAY",
    "-X",
    "-DAYS",
    "-99999999999999999999DAYS",
    "-9223372036854775807DAYS",
    "-106751991167DAYS",
    "+9223372036854775807YEARS",
    "-768614336404564650YEARS",
    "+4294967295MONTHS",
    "+4294967296MONTHS",
];

/// `NOW`, sometimes a stray character, a suffix, and a few more characters.
fn now_bound() -> impl Strategy<Value = String> + Clone {
    let stray = &['D', 'A', 'Y', 'S', '/', '-', '+', '1', ' ', 'é', '€', '日', 'x', '\u{10ffff}'][..];
    (
        prop::option::weighted(0.3, prop::sample::select(stray)),
        pick_str(NOW_SUFFIXES),
        prop::collection::vec(prop::sample::select(stray), 0..3),
    )
        .prop_map(|(first, suffix, tail)| {
            format!("NOW{}{suffix}{}", first.map(String::from).unwrap_or_default(), String::from_iter(tail))
        })
}

fn solr_bound() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    prop_oneof![
        2 => Just("*".to_owned()),
        3 => pick_str(DATES),
        3 => now_bound(),
        2 => pick(&d.entry_slugs),
        1 => pick(&d.words).prop_map(|w| format!("\"{w} x\"")),
        1 => pick_str(&["TO", "\"\"", "a\\ b", "[", "}", "2024-01-01T00:00:00.5+01:00"]),
    ]
}

fn solr_word() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    prop_oneof![
        6 => pick(&d.words),
        2 => pick(&d.entry_slugs),
        1 => (pick(&d.words), 0..3u8).prop_map(|(w, n)| format!("{w}~{n}")),
        1 => pick(&d.words).prop_map(|w| format!("{w}~")),
        2 => (pick(&d.words), any::<usize>(), pick_str(&["*", "?", "**", "*?*"])).prop_map(|(w, at, s)| {
            let i = boundary(&w, at);
            format!("{}{s}{}", &w[..i], &w[i..])
        }),
        1 => pick_str(&["*", "?", "\\-", "\\ ", "\\AND", "\\*", "é", "İ", "a\\:b", "true", "yes", "1", "false"]),
    ]
}

fn solr_value() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    prop_oneof![
        6 => solr_word(),
        2 => pick(&d.phrases).prop_map(|p| format!("\"{}\"", p.replace('"', "\\\""))),
        2 => (0..4usize).prop_flat_map(|v| pick(&demo().term_values[v])).prop_map(|t| {
            if t.contains(' ') { format!("\"{t}\"") } else { t }
        }),
        1 => pick(&d.org_values).prop_map(|o| format!("\"{o}\"")),
    ]
}

fn solr_leaf() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => solr_word(),
        6 => (pick_str(SOLR_FIELDS), solr_value()).prop_map(|(f, v)| format!("{f}:{v}")),
        3 => (pick_str(RANGE_FIELDS), pick_str(&["[", "{"]), solr_bound(), solr_bound(), pick_str(&["]", "}"]))
            .prop_map(|(f, open, lo, hi, close)| format!("{f}:{open}{lo} TO {hi}{close}")),
        1 => Just("*:*".to_owned()),
        1 => pick_str(&["AND", "OR", "NOT", "&&", "||", "!", "-", "+", "(", ")", ":", "\"", "~", "^2", "[", "}", "/", "\\", "9x:", "*:"]),
    ]
}

/// Near-valid Solr queries: clauses joined by operators, grouped, fielded
/// groups, and parentheses nested up to and past the parser's limit.
fn solr_query() -> impl Strategy<Value = String> + Clone {
    let tree = solr_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            3 => (inner.clone(), pick_str(&[" ", " AND ", " OR ", " && ", " || ", " NOT ", " -", " +", ""]), inner.clone())
                .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            1 => inner.clone().prop_map(|q| format!("({q})")),
            1 => (pick_str(SOLR_FIELDS), inner.clone()).prop_map(|(f, q)| format!("{f}:({q})")),
            1 => (pick_str(&["-", "+", "NOT ", "!"]), inner).prop_map(|(p, q)| format!("{p}({q})")),
        ]
    });
    prop_oneof![
        8 => tree.clone(),
        1 => (60..70usize, 60..70usize, tree).prop_map(|(open, close, q)| format!("{}{q}{}", "(".repeat(open), ")".repeat(close))),
    ]
}

fn solr_input() -> impl Strategy<Value = String> + Clone {
    prop_oneof![2 => raw_text(200), 5 => solr_query(), 1 => mutated(solr_query())]
}

/// Runs the parts of the search engine the CKAN evaluator uses for each
/// clause of a parsed query: free text, wildcards over all terms, and
/// wildcards over a field's values.
fn walk(index: &Index, q: &Query, budget: &Budget) -> Result<(), OverBudget> {
    match q {
        Query::Term { field: None, text } | Query::Fuzzy { field: None, text, .. } => {
            index.matches(&index.parse(text, budget)?, budget)?;
        }
        Query::Phrase { field: None, text } => {
            index.matches(&index.parse(&format!("\"{text}\""), budget)?, budget)?;
        }
        Query::Wildcard { field: None, pattern } => {
            index.wildcard(&Pattern::new(pattern), budget)?;
        }
        Query::Wildcard { field: Some(_), pattern } => {
            let p = Pattern::new(pattern);
            for d in index.live_docs() {
                let doc = index.doc(d);
                p.matches_text(&doc.slug, budget)?;
                p.matches_text(&doc.title, budget)?;
                for tag in &doc.tags {
                    p.matches_text(tag, budget)?;
                }
            }
        }
        Query::Bool(clauses) => {
            for c in clauses {
                walk(index, &c.query, budget)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[test]
fn solr_parser_and_engine() {
    let d = demo();
    fuzz("solr", "parsed", cases(), solr_input(), |q| {
        let Ok(parsed) = solr::parse(q) else { return Ok(()) };
        reached();
        let printed = parsed.to_string();
        let again = solr::parse(&printed);
        check!(again.as_ref() == Ok(&parsed), "printing does not parse back", "printed as {printed:?}: {again:?}");
        let _ = walk(&d.index, &parsed, &budget());
        Ok(())
    });
}

/// `package_search` through the real server: the evaluator is private to
/// the library, so it is reached as clients reach it. Every answer must be
/// 200 or a 409 query error, with a JSON body; never a 500, never a
/// dropped connection.
#[test]
fn ckan_package_search_over_http() {
    let runtime =
        std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"));
    let server = std::sync::Arc::new(runtime.block_on(TestServer::with_demo(Backend::Sqlite)));
    server.state.search.set_budget(budget().left());
    let client = reqwest::Client::new();
    let (rt, s) = (runtime.clone(), server.clone());
    let params = (
        solr_input(),
        prop_oneof![2 => Just(String::new()), 1 => raw_text(60), 2 => solr_query()],
        0..=5u8,
        prop::option::weighted(0.3, prop::sample::subsequence(FACETABLE, 1..4)),
    );
    fuzz("ckan_http", "answered 200", fewer_cases(50), params, move |(q, fq, rows, facets)| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("q", q).append_pair("rows", &rows.to_string());
        if !fq.is_empty() {
            query.append_pair("fq", fq);
        }
        if let Some(f) = facets {
            query.append_pair("facet.field", &serde_json::to_string(f).unwrap_or_default());
        }
        let url = s.url(&format!("/api/3/action/package_search?{}", query.finish()));
        rt.block_on(async {
            let response =
                client.get(&url).send().await.map_err(|e| fault("no answer (dropped connection)", format!("{e:?}")))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| fault("answer cut off", format!("{e:?}")))?;
            check!(status == 200 || status == 409, format!("status {status}"), "{}", String::from_utf8_lossy(&body));
            let json: Value = serde_json::from_slice(&body)
                .map_err(|e| fault("not JSON", format!("{e}: {}", String::from_utf8_lossy(&body))))?;
            check!(json["success"] == (status == 200), "success does not match the status", "{status}: {json}");
            if status == 200 {
                reached();
            }
            Ok(())
        })
    });
    if let Ok(server) = std::sync::Arc::try_unwrap(server) {
        runtime.block_on(server.stop());
    }
}

// ---------------------------------------------------------------------------
// 2. The free-text search.

const SEARCH_SYNTAX: &[&str] = &[
    "the", "and", "of", "a", "to", "for", "AND", "OR", "NOT", "-", "+", "*", "?", "~", "\"", "(", ")", ":", "title:",
    "&", "|", "/", "\\", "'", ".", ",", "...", "--", "_",
];

const GAPS: &[&str] = &["", " ", " ", " ", " ", "  ", "\t", "\n", "-", "/", "\""];

#[derive(Debug, Clone, Copy)]
enum Typo {
    Delete,
    Insert(char),
    Replace(char),
    Swap,
}

fn typo(word: &str, at: usize, typo: Typo) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.is_empty() {
        return word.to_owned();
    }
    let i = at % chars.len();
    match typo {
        Typo::Delete => {
            chars.remove(i);
        }
        Typo::Insert(c) => chars.insert(i, c),
        Typo::Replace(c) => chars[i] = c,
        Typo::Swap if i + 1 < chars.len() => chars.swap(i, i + 1),
        Typo::Swap => {}
    }
    chars.into_iter().collect()
}

fn typo_kind() -> impl Strategy<Value = Typo> + Clone {
    let letter = prop::char::range('a', 'z');
    prop_oneof![
        Just(Typo::Delete),
        letter.clone().prop_map(Typo::Insert),
        letter.prop_map(Typo::Replace),
        Just(Typo::Swap)
    ]
}

fn search_piece() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    prop_oneof![
        8 => pick(&d.words),
        3 => (pick(&d.words), any::<usize>(), typo_kind()).prop_map(|(w, at, t)| typo(&w, at, t)),
        2 => (pick(&d.words), any::<usize>(), typo_kind(), any::<usize>(), typo_kind())
            .prop_map(|(w, a, t, b, u)| typo(&typo(&w, a, t), b, u)),
        2 => pick(&d.phrases),
        2 => prop::collection::vec(pick(&d.words), 1..4).prop_map(|w| format!("\"{}\"", w.join(" "))),
        2 => (pick(&d.words), 1..5usize).prop_map(|(w, n)| w.chars().take(n).collect()),
        1 => (pick(&d.words), any::<usize>(), pick_str(&["*", "?", "**", "*?*"])).prop_map(|(w, at, s)| {
            let i = boundary(&w, at);
            format!("{}{s}{}", &w[..i], &w[i..])
        }),
        2 => pick_str(SEARCH_SYNTAX),
        1 => (pick(&d.words), any::<usize>(), nasty()).prop_map(|(w, at, s)| {
            let i = boundary(&w, at);
            format!("{}{s}{}", &w[..i], &w[i..])
        }),
        1 => nasty(),
        1 => (prop::char::range('a', 'z'), 1..200usize).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => "[a-z0-9]{1,12}",
    ]
}

fn free_text() -> impl Strategy<Value = String> + Clone {
    let pieces = |n: std::ops::Range<usize>| prop::collection::vec((search_piece(), pick_str(GAPS)), n);
    prop_oneof![3 => pieces(0..4), 1 => pieces(0..12)]
        .prop_map(|parts| parts.into_iter().map(|(p, gap)| format!("{p}{gap}")).collect())
}

fn filters() -> impl Strategy<Value = EntryQuery> + Clone {
    let d = demo();
    let slugs = |pool: &'static [Slug]| prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(prop::sample::select(pool), 1..3)];
    (
        (slugs(&d.care_settings), slugs(&d.topics), slugs(&d.technologies), slugs(&d.categories), slugs(&d.owners)),
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(prop::sample::select(&Status::ALL[..]), 1..3)],
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(prop::sample::select(vec![EntryType::Standard, EntryType::Api]), 1..2)],
        prop::option::weighted(0.25, any::<bool>()),
    )
        .prop_map(|((care_settings, topics, technologies, categories, owners), statuses, types, mandated)| {
            EntryQuery {
                care_settings,
                topics,
                technologies,
                categories,
                owners,
                statuses,
                types,
                mandated,
                ..EntryQuery::default()
            }
        })
}

fn search_request() -> impl Strategy<Value = SearchRequest> {
    let q = prop_oneof![2 => raw_text(300), 6 => free_text(), 1 => mutated(free_text())];
    let filters = prop_oneof![1 => Just(EntryQuery::default()), 1 => filters()];
    let sort =
        prop::sample::select(vec![SearchSort::Relevance, SearchSort::Title, SearchSort::Updated, SearchSort::ComplyBy]);
    let page = prop_oneof![4 => 0..4u32, 1 => any::<u32>()];
    let per_page = prop_oneof![4 => 0..50u32, 1 => any::<u32>()];
    (q, filters, sort, page, per_page).prop_map(|(q, filters, sort, page, per_page)| SearchRequest {
        q,
        filters,
        sort,
        page,
        per_page,
    })
}

#[test]
fn free_text_search() {
    let d = demo();
    fuzz("search", "found something", cases(), search_request(), |request| {
        // Over budget (Err(OverBudget)) is an answer too.
        if let Ok(response) = run(&d.index, request, &budget()) {
            if response.total > 0 {
                reached();
            }
            let per_page = request.per_page.max(1) as usize;
            check!(
                response.results.len() <= per_page && response.results.len() <= response.total,
                "more results than asked for or found",
                "{} results, total {}, per page {per_page}",
                response.results.len(),
                response.total
            );
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// 3. The importers, and the check of what they read against a store.

/// Header names: usually every required field, some others, sometimes
/// unknown or repeated names; in any order.
fn csv_header() -> impl Strategy<Value = Vec<String>> + Clone {
    let all: Vec<usize> = (0..ENTRY_FIELDS.len()).collect();
    (
        prop::bool::weighted(0.85),
        prop::sample::subsequence(all, 0..10),
        prop::collection::vec(pick_str(&["bogus", "slug", " title ", "Title", "", "\"", "slug\n"]), 0..2),
    )
        .prop_map(|(required, chosen, extra)| {
            let mut names: Vec<String> = Vec::new();
            if required {
                names.extend(ENTRY_FIELDS.iter().filter(|f| f.required).map(|f| f.name.to_owned()));
            }
            for i in chosen {
                let name = ENTRY_FIELDS[i].name.to_owned();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names.extend(extra);
            names
        })
        .prop_shuffle()
}

fn write_csv(rows: &[Vec<String>], crlf: bool) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
        .from_writer(Vec::new());
    for row in rows {
        let _ = w.write_record(row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The project's CSV layout: a header of field names, then rows of cells
/// each plausible for its column, some rows with a cell too many.
fn csv_document() -> impl Strategy<Value = String> + Clone {
    csv_header().prop_flat_map(|names| {
        let cells: Vec<BoxedStrategy<String>> = names.iter().map(|n| kind_value(kind_of(n.trim()))).collect();
        (
            Just(names),
            prop::collection::vec(cells, 0..5),
            prop::option::weighted(0.1, any::<usize>()),
            any::<bool>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(names, mut rows, extra, crlf, bom)| {
                if let Some(at) = extra
                    && !rows.is_empty()
                {
                    let n = rows.len();
                    rows[at % n].push("extra".into());
                }
                rows.insert(0, names);
                let text = write_csv(&rows, crlf);
                if bom { format!("\u{feff}{text}") } else { text }
            })
    })
}

/// The export layout read back: vocabularies, organisations, entries,
/// pages and glossary from the demo catalogue with fields changed,
/// removed and added, or a bare list of entries.
fn json_document() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    let terms = prop::collection::vec(
        (prop::sample::select(&d.terms_json[..]), prop::collection::vec(json_edit(), 0..2)),
        0..3,
    );
    let pages = prop::collection::vec(
        prop::collection::vec(
            (pick_str(&["slug", "title", "summary", "order", "body", "updated_at", "x"]), json_value()),
            0..6,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        0..2,
    );
    (
        0..8u8,
        terms,
        records(&d.orgs_json, 3),
        records(&d.entries_json, 3),
        records(&d.glossary_json, 2),
        pages,
        prop::option::weighted(0.1, pick_str(&["standards-directory/2", "", "standards-directory/1"])),
        prop::option::weighted(0.1, json_key()),
    )
        .prop_map(|(shape, terms, orgs, entries, glossary, pages, format, extra)| {
            if shape == 0 {
                return Value::Array(entries).to_string();
            }
            let mut vocabularies = Map::new();
            for ((key, mut term), edits) in terms {
                apply_json_edits(&mut term, &edits);
                let list = vocabularies.entry(key).or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(term);
                }
            }
            let mut doc = Map::new();
            doc.insert("format".into(), Value::from(format.unwrap_or_else(|| "standards-directory/1".into())));
            doc.insert("vocabularies".into(), Value::Object(vocabularies));
            doc.insert("organisations".into(), Value::from(orgs));
            doc.insert("entries".into(), Value::from(entries));
            if shape == 1 {
                doc.insert("guides".into(), Value::from(pages.clone()));
                doc.insert("pages".into(), Value::from(pages));
                doc.insert("glossary".into(), Value::from(glossary));
            }
            if shape == 2 {
                doc.insert("entries".into(), json!({"not": "a list"}));
            }
            if let Some(key) = extra {
                doc.insert(key, json!(1));
            }
            Value::Object(doc).to_string()
        })
}

/// The national API catalogue's layout: its own three header rows, then
/// rows whose cells come from the same column of the real file, or are
/// keyword lists, statuses, dates and addresses made up for that column.
fn api_catalogue_document() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    let names = &d.api_header[2];
    let cells: Vec<BoxedStrategy<String>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = name.trim();
            let made_up: BoxedStrategy<String> = match name {
                "Keywords" => list_of(pick(&d.api_keywords)).prop_map(|k| k.replace(';', ",")).boxed(),
                "Registration Status" => prop::collection::vec(
                    pick_str(&[
                        "ACTIVE",
                        "RETIRED",
                        "IN DEVELOPMENT",
                        "DEPRECATED",
                        "UNDER REVIEW FOR DEPRECATION",
                        "INTERNAL",
                        "BOGUS",
                        "",
                    ]),
                    0..3,
                )
                .prop_map(|s| s.join(", "))
                .boxed(),
                "Persistent ID" => prop_oneof![
                    pick(&d.api_ids),
                    pick(&d.words).prop_map(|w| format!("https://digital.nhs.uk/developer/api-catalogue/{w}")),
                    pick_str(URLS),
                ]
                .boxed(),
                "Relation" | "References" | "Is Part Of" | "Associated Media" | "Documentation" => {
                    list_of(prop_oneof![pick(&d.api_ids), pick_str(URLS)]).prop_map(|k| k.replace(';', ",")).boxed()
                }
                n if n.contains("date") || n.contains("Date") || n.contains("from") => pick_str(DATES).boxed(),
                "Publisher Name" => pick(&d.org_values).boxed(),
                _ => field_text().boxed(),
            };
            prop_oneof![5 => pick(&d.api_columns[i]), 3 => made_up, 1 => Just(String::new()), 1 => raw_text(16)].boxed()
        })
        .collect();
    (prop::collection::vec(cells, 0..4), 0..8u8, any::<usize>(), any::<bool>()).prop_map(
        |(rows, header_change, at, crlf)| {
            let mut all: Vec<Vec<String>> = demo().api_header.clone();
            match header_change {
                0 => {
                    let n = all[2].len();
                    all[2][at % n] = "Renamed".into();
                }
                1 => {
                    all.truncate(at % 3);
                }
                _ => {}
            }
            all.extend(rows);
            write_csv(&all, crlf)
        },
    )
}

const SCHEMING_KEYS: &[&str] = &[
    "name",
    "title",
    "notes",
    "documentation_help_text",
    "standard_category",
    "care_setting",
    "topic",
    "status",
    "mandated",
    "reference_code",
    "publication_due_date",
    "implementation_from_date",
    "comply_by_date",
    "submit_feedback",
    "documentation_link",
    "contact_details",
    "related_standards",
    "dependencies",
    "assurance",
    "endorsements",
    "license_id",
    "version",
    "id",
    "owner_org",
    "state",
    "private",
    "type",
    "metadata_created",
    "resources",
    "extras",
    "maintainer",
    "author",
];

/// A package from another CKAN: scheming fields with values as text,
/// lists, JSON lists in text, or anything else.
fn foreign_package() -> impl Strategy<Value = Value> + Clone {
    let d = demo();
    let value = prop_oneof![
        4 => any_field_value().prop_map(Value::from),
        2 => prop::collection::vec(any_field_value(), 0..3).prop_map(Value::from),
        1 => prop::collection::vec(any_field_value(), 0..3)
            .prop_map(|v| Value::from(serde_json::to_string(&v).unwrap_or_default())),
        1 => json_value(),
    ];
    let organisation = prop::option::weighted(
        0.8,
        (pick(&d.org_values), field_text(), json_value())
            .prop_map(|(name, title, other)| json!({"name": name, "title": title, "description": other})),
    );
    let tags = prop::collection::vec(prop_oneof![field_text().prop_map(|t| json!({"name": t})), json_value()], 0..4);
    (prop::collection::vec((pick_str(SCHEMING_KEYS), value), 0..10), organisation, tags).prop_map(
        |(fields, organisation, tags)| {
            let mut p: Map<String, Value> = fields.into_iter().collect();
            if let Some(o) = organisation {
                p.insert("organization".into(), o);
            }
            p.insert("tags".into(), Value::from(tags));
            Value::Object(p)
        },
    )
}

/// Saved `package_search` responses: this directory's own packages with
/// fields changed, packages from another CKAN, in the shapes the reader
/// takes (a response, its result, a list of responses) and some it refuses.
fn ckan_document() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    let packages = prop::collection::vec(
        prop_oneof![
            records(&d.packages, 2),
            prop::collection::vec(foreign_package(), 0..3),
            prop::collection::vec(json_value(), 0..2),
        ],
        1..3,
    )
    .prop_map(|groups| groups.concat());
    (packages, 0..6u8).prop_map(|(packages, shape)| {
        let result = json!({"count": packages.len(), "results": packages});
        match shape {
            0 => result.to_string(),
            1 => json!([{"success": true, "result": result}, {"result": {"results": []}}]).to_string(),
            2 => json!({"result": {"results": {"not": "a list"}}}).to_string(),
            _ => json!({"success": true, "result": result}).to_string(),
        }
    })
}

/// Reads text as a format, and shows every problem as a person would see it.
fn read(format: Format, text: &str) -> import::RawCatalogue {
    let raw = import::read_str(text, format, &demo().vocabularies);
    for p in &raw.problems {
        let _ = p.to_string();
    }
    raw
}

/// Reads text as a format, counting the case if it held any records.
fn read_counting(format: Format, text: &str) {
    let raw = read(format, text);
    if !raw.entries.is_empty() || !raw.organisations.is_empty() {
        reached();
    }
}

#[test]
fn import_csv() {
    let _ = Format::guess(Path::new("x.csv"), "");
    fuzz(
        "import_csv",
        "read entries",
        cases(),
        prop_oneof![1 => raw_text(600), 4 => mutated(csv_document())],
        |text| {
            let _ = Format::guess(Path::new("upload.csv"), text);
            read_counting(Format::Csv, text);
            Ok(())
        },
    );
}

#[test]
fn import_json() {
    fuzz(
        "import_json",
        "read records",
        cases(),
        prop_oneof![1 => raw_text(600), 4 => mutated(json_document())],
        |text| {
            let _ = Format::guess(Path::new("upload.json"), text);
            read_counting(Format::Json, text);
            Ok(())
        },
    );
}

#[test]
fn import_api_catalogue() {
    fuzz(
        "import_api_catalogue",
        "read entries",
        cases(),
        prop_oneof![1 => raw_text(600), 4 => mutated(api_catalogue_document())],
        |text| {
            let _ = Format::guess(Path::new("upload.csv"), text);
            read_counting(Format::ApiCatalogue, text);
            Ok(())
        },
    );
}

#[test]
fn import_ckan() {
    fuzz(
        "import_ckan",
        "read entries",
        cases(),
        prop_oneof![1 => raw_text(600), 4 => mutated(ckan_document())],
        |text| {
            read_counting(Format::Ckan, text);
            Ok(())
        },
    );
}

/// What was read, checked against a real SQLite store holding the demo
/// catalogue (so references, ids and slugs meet existing records).
#[test]
fn import_plan() {
    let runtime =
        std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"));
    let store = std::sync::Arc::new(runtime.block_on(async {
        let ts = TestStore::new(Backend::Sqlite).await;
        standards::demo::load(&ts.store).await.expect("the demo catalogue loads");
        ts
    }));
    let (rt, ts) = (runtime.clone(), store.clone());
    let input = prop_oneof![
        1 => (prop::sample::select(vec![Format::Csv, Format::Json, Format::ApiCatalogue, Format::Ckan]), raw_text(300)),
        2 => mutated(csv_document()).prop_map(|t| (Format::Csv, t)),
        2 => mutated(json_document()).prop_map(|t| (Format::Json, t)),
        2 => mutated(api_catalogue_document()).prop_map(|t| (Format::ApiCatalogue, t)),
        2 => mutated(ckan_document()).prop_map(|t| (Format::Ckan, t)),
    ];
    fuzz("import_plan", "accepted", fewer_cases(10), input, move |(format, text)| {
        let raw = read(*format, text);
        match rt.block_on(import::plan(&ts.store, raw)) {
            Ok(Ok(_)) => {
                reached();
                Ok(())
            }
            Ok(Err(problems)) => {
                for p in &problems {
                    let _ = p.to_string();
                }
                Ok(())
            }
            Err(e) => Err(fault("the check failed with an error from the store", format!("{e:#}"))),
        }
    });
    if let Ok(store) = std::sync::Arc::try_unwrap(store) {
        runtime.block_on(store.finish());
    }
}

// ---------------------------------------------------------------------------
// Spreadsheet workbooks.

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const VALID_NUMBERS: &[&str] =
    &["0", "1", "-1", "1.5", "45321", "45321.5", "60", "61", "1462", "2958465", "-0", "1e15", "123456789012", "0.1"];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "1.5",
    "45321",
    "60",
    "2958465",
    "2958466",
    "-693594",
    "1e308",
    "-1e308",
    "1e15",
    "4.9e-324",
    "NaN",
    "inf",
    "-0",
    "abc",
    "",
    "4294967296",
    "99999999999999999999999",
    "0x10",
];

/// How far a sheet reaches. The reader fills the whole rectangle from
/// the first cell to the last, so a sheet that reaches far down keeps its
/// other cells in the first four columns, and one that reaches far right
/// keeps them in the first 40 rows: never billions of cells (which would
/// abort the test process), at most a few million.
#[derive(Debug, Clone, Copy)]
enum Reach {
    Near,
    FarDown,
    FarRight,
}

/// Mostly a valid value of the strategy's kind, sometimes any of `junk`.
fn mostly(
    valid: impl Strategy<Value = String> + Clone + 'static,
    junk: &'static [&'static str],
) -> BoxedStrategy<String> {
    prop_oneof![12 => valid, 1 => pick_str(junk)].boxed()
}

/// A cell's XML with `{r}` where its reference attribute goes: text
/// (inline or shared), numbers (plain or styled as dates), booleans,
/// errors, formulas and ISO dates, each mostly valid for its type.
fn xlsx_cell() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    let text = prop_oneof![
        3 => (0..ENTRY_FIELDS.len()).prop_map(|i| ENTRY_FIELDS[i].name.to_owned()),
        3 => field_text(),
        2 => any_field_value(),
        1 => raw_text(20),
        1 => pick(&d.entry_slugs),
    ]
    .prop_map(|t| xml_escape(&t));
    let number = mostly(pick_str(VALID_NUMBERS), NUMBERS);
    prop_oneof![
        8 => text.clone().prop_map(|t| format!("<c{{r}} t=\"inlineStr\"><is><t>{t}</t></is></c>")),
        1 => text.clone().prop_map(|t| format!("<c{{r}} t=\"inlineStr\"><is><r><t>{t}</t></r><r><t xml:space=\"preserve\"> x</t></r></is></c>")),
        2 => mostly("[0-3]", &["4", "-1", "4294967296", "x", ""]).prop_map(|i| format!("<c{{r}} t=\"s\"><v>{i}</v></c>")),
        3 => number.clone().prop_map(|n| format!("<c{{r}}><v>{n}</v></c>")),
        3 => (0..7u8, number).prop_map(|(s, n)| format!("<c{{r}} s=\"{s}\"><v>{n}</v></c>")),
        1 => mostly(pick_str(&["0", "1"]), &["2", "true", ""]).prop_map(|b| format!("<c{{r}} t=\"b\"><v>{b}</v></c>")),
        1 => mostly(pick_str(&["#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"]), &["#BOGUS", ""])
            .prop_map(|e| format!("<c{{r}} t=\"e\"><v>{e}</v></c>")),
        1 => text.prop_map(|t| format!("<c{{r}} t=\"str\"><f>SUM(A1:A2)</f><v>{t}</v></c>")),
        1 => pick_str(DATES).prop_map(|t| format!("<c{{r}} t=\"d\"><v>{t}</v></c>")),
    ]
}

/// Mostly near, and far now and then: a sheet reaching far down or right
/// is refused before the reader builds it (src/import/sheet_extent.rs),
/// so a long run meets both thousands of times.
fn reach() -> impl Strategy<Value = Reach> + Clone {
    prop_oneof![1_000 => Just(Reach::Near), 20 => Just(Reach::FarRight), 5 => Just(Reach::FarDown)]
}

fn xlsx_sheet() -> impl Strategy<Value = String> + Clone {
    let cell = (prop_oneof![8 => 0..12u32, 1 => 0..100u32], prop::bool::weighted(0.95), xlsx_cell());
    let row =
        (prop_oneof![8 => 1..40u32, 1 => 1..2000u32], prop::bool::weighted(0.95), prop::collection::vec(cell, 0..8));
    (
        prop::collection::vec(row, 0..8),
        reach(),
        prop::option::weighted(0.3, pick_str(&["A1:Z99", "A1", "B2:A1", "A1:XFD1048576", "", "ZZZZ1", "A0:A0", "1:2"])),
    )
        .prop_map(|(rows, reach, dimension)| {
            let mut xml = String::from(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
            );
            if let Some(dim) = dimension {
                xml.push_str(&format!("<dimension ref=\"{dim}\"/>"));
            }
            xml.push_str("<sheetData>");
            for (r, with_r, cells) in rows {
                let r = if matches!(reach, Reach::FarRight) { r % 40 + 1 } else { r };
                if with_r {
                    xml.push_str(&format!("<row r=\"{r}\">"));
                } else {
                    xml.push_str("<row>");
                }
                for (c, with_ref, cell) in cells {
                    let c = if matches!(reach, Reach::FarDown) { c % 4 } else { c };
                    let at = if with_ref { format!(" r=\"{}{r}\"", common::spreadsheet_column(c)) } else { String::new() };
                    xml.push_str(&cell.replace("{r}", &at));
                }
                xml.push_str("</row>");
            }
            match reach {
                Reach::Near => {}
                Reach::FarDown => xml.push_str("<row r=\"1048576\"><c r=\"A1048576\"><v>1</v></c></row>"),
                Reach::FarRight => xml.push_str("<row r=\"3\"><c r=\"XFD3\"><v>1</v></c></row>"),
            }
            xml.push_str("</sheetData></worksheet>");
            xml
        })
}

const NUMBER_FORMATS: &[&str] = &[
    "yyyy-mm-dd",
    "dd/mm/yyyy hh:mm",
    "[h]:mm:ss",
    "0.00",
    "@",
    "General",
    "mm:ss.0",
    "\"d\"0",
    "[$-409]mmmm d, yyyy;@",
    "y",
    "",
];

/// An XLSX package: content types, relationships, workbook, styles (with
/// date formats), shared strings and one or two sheets, as (name, text)
/// parts; some parts left out or broken.
fn xlsx_parts() -> impl Strategy<Value = Vec<(String, String)>> + Clone {
    let d = demo();
    (
        prop::collection::vec(xlsx_sheet(), 1..3),
        prop::collection::vec(prop_oneof![field_text(), pick(&d.entry_slugs)], 4..8),
        prop::option::weighted(0.3, pick_str(&["0", "3", "100", "-1", "x", "99999"])),
        prop::collection::vec(pick_str(NUMBER_FORMATS), 0..3),
        prop::collection::vec(prop_oneof![Just(0u32), Just(14u32), Just(22u32), Just(164u32), Just(165u32), 0..200u32], 0..6),
        any::<bool>(),
        prop::collection::vec(prop_oneof![field_text(), Just(String::new()), Just("Sheet1".to_owned())], 2),
        prop::option::weighted(0.1, 0..6usize),
        prop::collection::vec((0..7usize, edits()), 0..2),
    )
        .prop_map(|(sheets, shared, unique, formats, xfs, date1904, names, leave_out, part_edits)| {
            let sheet_count = sheets.len();
            let mut parts: Vec<(String, String)> = Vec::new();
            let mut overrides = String::new();
            let mut sheet_rels = String::new();
            let mut sheet_list = String::new();
            for i in 1..=sheet_count {
                overrides.push_str(&format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"));
                sheet_rels.push_str(&format!("<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"));
                sheet_list.push_str(&format!(
                    "<sheet name=\"{}\" sheetId=\"{i}\" r:id=\"rId{i}\"/>",
                    xml_escape(&names[(i - 1) % names.len()])
                ));
            }
            parts.push(("[Content_Types].xml".into(), format!(r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#)));
            parts.push(("_rels/.rels".into(), r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()));
            parts.push(("xl/workbook.xml".into(), format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="{}"/><sheets>{sheet_list}</sheets></workbook>"#, u8::from(date1904))));
            parts.push(("xl/_rels/workbook.xml.rels".into(), format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{sheet_rels}<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#)));
            let num_fmts: String = formats
                .iter()
                .enumerate()
                .map(|(i, f)| format!("<numFmt numFmtId=\"{}\" formatCode=\"{}\"/>", 164 + i, xml_escape(f)))
                .collect();
            let xf: String = xfs.iter().map(|id| format!("<xf numFmtId=\"{id}\" applyNumberFormat=\"1\"/>")).collect();
            parts.push(("xl/styles.xml".into(), format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="{}">{num_fmts}</numFmts><cellXfs count="{}"><xf numFmtId="0"/>{xf}</cellXfs></styleSheet>"#, formats.len(), xfs.len() + 1)));
            let strings: String = shared.iter().map(|s| format!("<si><t>{}</t></si>", xml_escape(s))).collect();
            let count = unique.unwrap_or_else(|| shared.len().to_string());
            parts.push(("xl/sharedStrings.xml".into(), format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" uniqueCount="{count}">{strings}</sst>"#)));
            for (i, sheet) in sheets.into_iter().enumerate() {
                parts.push((format!("xl/worksheets/sheet{}.xml", i + 1), sheet));
            }
            if let Some(i) = leave_out
                && i < parts.len()
            {
                parts.remove(i);
            }
            for (i, e) in part_edits {
                if let Some(part) = parts.get_mut(i) {
                    part.1 = apply_edits(part.1.clone(), &e);
                }
            }
            parts
        })
}

/// An OpenDocument spreadsheet: rows and cells of each value type, with
/// repeated rows or columns (never both far, for the reason in [`Reach`]).
fn ods_parts() -> impl Strategy<Value = Vec<(String, String)>> + Clone {
    let d = demo();
    let cell = (
        0..8u8,
        prop_oneof![field_text(), any_field_value(), pick(&d.entry_slugs)],
        mostly(pick_str(VALID_NUMBERS), NUMBERS),
        mostly(pick_str(DATES[..3].as_ref()), DATES),
        mostly(pick_str(&["true", "false"]), &["yes", "", "1"]),
        prop_oneof![8 => Just(1u32), 1 => 0..4u32, 1 => Just(100u32)],
    );
    let row = (prop_oneof![8 => Just(1u32), 1 => 0..4u32], prop::collection::vec(cell, 0..6));
    (
        prop::collection::vec(row, 0..8),
        reach(),
        field_text(),
        edits(),
    )
        .prop_map(|(rows, reach, name, edits)| {
            let mut table = String::new();
            for (repeat, cells) in rows {
                table.push_str(&format!("<table:table-row table:number-rows-repeated=\"{repeat}\">"));
                let far_down = matches!(reach, Reach::FarDown);
                for (kind, text, number, date, boolean, columns) in cells.into_iter().take(if far_down { 4 } else { 8 }) {
                    let columns = if far_down { 1 } else { columns };
                    let repeat = format!(" table:number-columns-repeated=\"{columns}\"");
                    let text = xml_escape(&text);
                    table.push_str(&match kind {
                        0..=2 => format!("<table:table-cell office:value-type=\"string\"{repeat}><text:p>{text}</text:p></table:table-cell>"),
                        3 => format!("<table:table-cell office:value-type=\"float\" office:value=\"{number}\"{repeat}/>"),
                        4 => format!("<table:table-cell office:value-type=\"date\" office:date-value=\"{date}\"{repeat}/>"),
                        5 => format!("<table:table-cell office:value-type=\"boolean\" office:boolean-value=\"{boolean}\"{repeat}/>"),
                        6 => format!("<table:table-cell office:value-type=\"percentage\" office:value=\"{number}\"{repeat}><text:p>{text}</text:p><text:p>{text}</text:p></table:table-cell>"),
                        _ => format!("<table:table-cell{repeat}/>"),
                    });
                }
                table.push_str("</table:table-row>");
            }
            match reach {
                Reach::Near => {}
                Reach::FarDown => table.push_str("<table:table-row table:number-rows-repeated=\"1048576\"><table:table-cell office:value-type=\"string\"><text:p>x</text:p></table:table-cell></table:table-row>"),
                Reach::FarRight => table.push_str("<table:table-row><table:table-cell office:value-type=\"string\" table:number-columns-repeated=\"16384\"><text:p>x</text:p></table:table-cell></table:table-row>"),
            }
            let table = format!("<table:table table:name=\"{}\">{table}</table:table>", xml_escape(&name));
            let content = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{table}</office:spreadsheet></office:body></office:document-content>"#
            );
            vec![
                ("mimetype".to_owned(), "application/vnd.oasis.opendocument.spreadsheet".to_owned()),
                ("content.xml".to_owned(), apply_edits(content, &edits)),
                ("META-INF/manifest.xml".to_owned(), r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_owned()),
            ]
        })
}

/// A workbook file's bytes.
#[derive(Debug, Clone)]
enum Workbook {
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// A format's signature (zip, OLE compound file) then arbitrary bytes.
    Signed(&'static [u8], Vec<u8>),
    /// A zip package of these parts, compressed or stored, with some
    /// bytes of the package overwritten.
    Zip { parts: Vec<(String, String)>, deflate: bool, damage: Vec<(usize, u8)> },
}

impl Workbook {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Workbook::Bytes(b) => b.clone(),
            Workbook::Signed(magic, rest) => [magic, &rest[..]].concat(),
            Workbook::Zip { parts, deflate, damage } => {
                let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let method = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                for (name, text) in parts {
                    if out.start_file(name.as_str(), options).is_ok() {
                        let _ = out.write_all(text.as_bytes());
                    }
                }
                let mut bytes = out.finish().map(|c| c.into_inner()).unwrap_or_default();
                if !bytes.is_empty() {
                    let n = bytes.len();
                    for &(at, b) in damage {
                        bytes[at % n] = b;
                    }
                }
                bytes
            }
        }
    }
}

fn workbook() -> impl Strategy<Value = Workbook> {
    let damage = prop_oneof![6 => Just(Vec::new()), 1 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)];
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048).prop_map(Workbook::Bytes),
        1 => (
            prop::sample::select(vec![&b"PK\x03\x04"[..], &b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"[..], &b"PK\x05\x06"[..]]),
            prop::collection::vec(any::<u8>(), 0..2048),
        )
            .prop_map(|(magic, rest)| Workbook::Signed(magic, rest)),
        5 => (xlsx_parts(), any::<bool>(), damage.clone())
            .prop_map(|(parts, deflate, damage)| Workbook::Zip { parts, deflate, damage }),
        2 => (ods_parts(), any::<bool>(), damage).prop_map(|(parts, deflate, damage)| Workbook::Zip { parts, deflate, damage }),
    ]
}

#[test]
fn spreadsheet_workbooks() {
    fuzz("spreadsheet", "opened", cases(), workbook(), |book| {
        let bytes = book.bytes();
        if let Ok((text, _sheet, _offset)) = import::spreadsheet::read_in_process(&bytes) {
            reached();
            let format = Format::guess(Path::new("sheet.csv"), &text).unwrap_or(Format::Csv);
            read(format, &text);
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// 4. The Markdown renderer.

const MARKDOWN: &[&str] = &[
    "# ",
    "## ",
    "###### ",
    "####### ",
    "*",
    "**",
    "***",
    "_",
    "__",
    "`",
    "``",
    "```",
    "```rust\n",
    "~~~\n",
    "~~",
    "> ",
    ">>",
    "- ",
    "+ ",
    "* ",
    "1. ",
    "99999999999. ",
    "1) ",
    "- [ ] ",
    "|",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n",
    "---\n",
    "***\n",
    "===\n",
    "[",
    "]",
    "](",
    ")",
    "![",
    "[x]: /url \"t\"\n",
    "[x]",
    "[x][]",
    "<",
    ">",
    "<script>alert(1)</script>",
    "<b onclick=x>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "<![CDATA[",
    "<?php",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&nbsp;",
    "&lt;script&gt;",
    "\\",
    "\\*",
    "\n",
    "\n\n",
    "    ",
    "\t",
    "  \n",
    "\r",
    "\r\n",
    "javascript:alert(1)",
    "JaVaScRiPt:x",
    "data:text/html,<script>",
    "https://example.org",
    "mailto:a@b",
    "<https://example.org>",
    "<javascript:alert(1)>",
    "<a@b.c>",
    "[a](javascript:alert(1))",
    "[a](<javascript:x>)",
    "[a](java&#115;cript:x)",
    "[a](java&#9;script:x)",
    "[a](&#x6A;avascript:x)",
    "![i](data:image/png;base64,x)",
    "[a]( /ok \"title\")",
    "[a](https://x \"t\\\"\")",
    "[^1]",
    "é",
    "İ",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
];

fn markdown_text() -> impl Strategy<Value = String> + Clone {
    let d = demo();
    let piece = prop_oneof![
        4 => pick_str(MARKDOWN),
        3 => pick(&d.words),
        1 => pick(&d.glossary_names),
        1 => (pick_str(MARKDOWN), 1..200usize).prop_map(|(p, n)| p.repeat(n)),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|parts| {
        let text: String = parts.concat();
        clip_to(text, 4096)
    })
}

fn clip_to(mut text: String, max: usize) -> String {
    if text.len() > max {
        let i = boundary(&text, max);
        text.truncate(i);
    }
    text
}

/// Elements the renderer writes; anything else starting with `<` is raw
/// HTML from the source that was not escaped.
const ELEMENTS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "code",
    "ul",
    "ol",
    "li",
    "em",
    "strong",
    "del",
    "a",
    "img",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

/// An attribute value as a browser reads it: entities decoded, the
/// characters it ignores in a scheme taken out, lower case.
fn as_browser_reads(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        if c == '&'
            && let Some(end) = rest.find(';')
        {
            let entity = &rest[1..end];
            let decoded = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                e if e.starts_with("#x") || e.starts_with("#X") => {
                    u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
                }
                e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            if let Some(d) = decoded {
                out.push(d);
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect::<String>().to_lowercase()
}

fn check_html(html: &str) -> Outcome {
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String =
            rest.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>();
        check!(
            ELEMENTS.contains(&name.as_str()),
            "raw HTML in the output",
            "<{} in {}",
            clip(rest, 40),
            clip(html, 2000)
        );
    }
    for attribute in ["href=\"", "src=\""] {
        for (i, _) in html.match_indices(attribute) {
            let value = &html[i + attribute.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            let url = as_browser_reads(value);
            check!(
                !["javascript:", "vbscript:", "data:"].iter().any(|s| url.starts_with(s)),
                "an unsafe address in the output",
                "{attribute}{value}\" in {}",
                clip(html, 2000)
            );
        }
    }
    Ok(())
}

#[test]
fn markdown_renderer() {
    let d = demo();
    let input = (prop_oneof![1 => raw_text(600), 4 => markdown_text()], prop_oneof![field_text(), markdown_text()]);
    fuzz("markdown", "rendered a link or table", cases(), input, |(source, leading)| {
        check_html(&markdown::render(source))?;
        let (leading, html) = markdown::render_linked(source, &d.linker, &[leading.as_str()]);
        check_html(&html)?;
        if html.contains("<a ") || html.contains("<table") {
            reached();
        }
        check_html(&leading.concat())?;
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// 5. CSV cell escaping.

#[test]
fn csv_cell_escaping_round_trips() {
    let starts =
        prop::collection::vec(pick_str(&["'", "''", "=", "+", "-", "@", "\t", "\r", "a", " ", "\n", "\""]), 0..4);
    let input = prop_oneof![1 => any::<String>(), 1 => raw_text(40), 2 => (starts, raw_text(12)).prop_map(|(s, t)| s.concat() + &t)];
    fuzz("csv_cells", "escaped", cases(), input, |value| {
        let escaped = escape_cell(value);
        if escaped != value.as_str() {
            reached();
        }
        check!(unescape_cell(&escaped) == value.as_str(), "does not round trip", "{value:?} escaped as {escaped:?}");
        check!(
            !escaped.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "escaped cell starts a formula",
            "{value:?} escaped as {escaped:?}"
        );
        Ok(())
    });
}
