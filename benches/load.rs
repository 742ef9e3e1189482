//! Load with writes: many readers on the search, entry and CKAN pages
//! while writers update entries through both APIs, against the release
//! binary on loopback. Counts every error and every write, and checks each
//! acknowledged write landed.
//!
//!     cargo bench --bench load                    # 200 connections, 60 s, SQLite
//!     LOAD_STORE=postgres cargo bench --bench load
//!     LOAD_CONNECTIONS=64 LOAD_SECONDS=30 LOAD_WRITES_PER_SECOND=5 cargo bench --bench load
//!
//! Loopback only; the run stops by itself after LOAD_SECONDS.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_standards"));
    c.env_remove("DATABASE_URL").env_remove("STANDARDS_DATA_DIR").env("STANDARDS_LOG", "warn");
    c
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The store to load: a fresh SQLite directory or a fresh PostgreSQL schema.
fn store_args(dir: &std::path::Path) -> (Vec<String>, Option<(String, String)>) {
    if std::env::var("LOAD_STORE").as_deref() == Ok("postgres") {
        let admin = std::env::var("STANDARDS_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("load_{}", std::process::id());
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};");
        assert!(Command::new("psql").arg(&admin).args(["-qAtc", &sql]).status().unwrap().success());
        let url = format!("{admin}?options=-c%20search_path%3D{schema}");
        (vec!["--database-url".into(), url], Some((admin, schema)))
    } else {
        (vec!["--data-dir".into(), dir.display().to_string()], None)
    }
}

#[allow(clippy::zombie_processes)]
fn serve(args: &[String]) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = bin()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the server started").unwrap();
        if let Some(base) = line.strip_prefix("listening on ") {
            return (child, base.to_owned());
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies: HashMap<&'static str, Vec<f64>>,
    errors: HashMap<String, u64>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let connections = env_number("LOAD_CONNECTIONS", 200) as usize;
    let seconds = env_number("LOAD_SECONDS", 60);
    let writes_per_second = env_number("LOAD_WRITES_PER_SECOND", 10);
    let dir = tempfile::tempdir().unwrap();
    let (args, pg) = store_args(dir.path());
    let mut user = bin();
    user.args(["user", "add", "load@example.org", "--role", "editor"]).args(&args);
    assert!(user.output().unwrap().status.success());
    let token_out = bin().args(["token", "create", "load@example.org"]).args(&args).output().unwrap();
    let token = String::from_utf8(token_out.stdout).unwrap().lines().last().unwrap().to_owned();
    let (mut server, base) = serve(&args);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let list: serde_json::Value =
        client.get(format!("{base}/api/v1/standards?per_page=100")).send().await.unwrap().json().await.unwrap();
    let slugs: Vec<String> =
        list["results"].as_array().unwrap().iter().map(|e| e["slug"].as_str().unwrap().to_owned()).collect();
    let queries = ["fhir", "gp", "referral", "maternity", "snomed", "pathology", "social care", "allergy"];
    let mut paths: Vec<(&'static str, String)> = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let q = q.replace(' ', "+");
        paths.push(("search page", format!("/search?q={q}")));
        paths.push(("entry page", format!("/standards/{}", slugs[i * 7 % slugs.len()])));
        paths.push(("CKAN package_search", format!("/api/3/action/package_search?q={q}&rows=10")));
        paths.push(("CKAN package_show", format!("/api/3/action/package_show?id={}", slugs[i * 11 % slugs.len()])));
    }
    let paths = Arc::new(paths);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let mut readers = Vec::new();
    for r in 0..connections {
        let (client, base, paths, tally) = (client.clone(), base.clone(), paths.clone(), tally.clone());
        readers.push(tokio::spawn(async move {
            let mut i = r;
            while Instant::now() < deadline {
                let (kind, path) = &paths[i % paths.len()];
                i += 1;
                let started = Instant::now();
                let outcome = match client.get(format!("{base}{path}")).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.bytes().await {
                            Ok(_) if status.is_success() => None,
                            Ok(_) => Some(format!("{kind}: HTTP {}", status.as_u16())),
                            Err(e) => Some(format!("{kind}: {e}")),
                        }
                    }
                    Err(e) => Some(format!("{kind}: {e}")),
                };
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let mut t = tally.lock().unwrap();
                t.latencies.entry(kind).or_default().push(ms);
                if let Some(e) = outcome {
                    *t.errors.entry(e).or_default() += 1;
                }
            }
        }));
    }

    // Writers: alternately the JSON API and CKAN, each write a new summary
    // (CKAN's `documentation_help_text`), sent on a fixed beat whatever the
    // answer time.
    let written: Arc<Mutex<HashMap<String, (usize, String)>>> = Arc::default();
    let write_latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let acknowledged = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let every = Duration::from_micros(1_000_000 / writes_per_second.max(1));
    let mut next = Instant::now();
    let mut writers = Vec::new();
    let mut n = 0usize;
    while Instant::now() < deadline {
        let (client, base, token, tally) = (client.clone(), base.clone(), token.clone(), tally.clone());
        let (written, write_latencies, acknowledged) = (written.clone(), write_latencies.clone(), acknowledged.clone());
        let slug = slugs[n % slugs.len()].clone();
        writers.push(tokio::spawn(async move {
            let summary = format!("Load test write {n}.");
            let started = Instant::now();
            let response = if n.is_multiple_of(2) {
                client
                    .patch(format!("{base}/api/v1/standards/{slug}"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"summary": summary}))
                    .send()
                    .await
            } else {
                client
                    .post(format!("{base}/api/3/action/package_patch"))
                    .header("authorization", &token)
                    .json(&serde_json::json!({"id": slug, "documentation_help_text": summary}))
                    .send()
                    .await
            };
            write_latencies.lock().unwrap().push(started.elapsed().as_secs_f64() * 1000.0);
            match response {
                Ok(r) if r.status().is_success() => {
                    acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut w = written.lock().unwrap();
                    // Writes to one entry are a second or more apart; keep the latest sent.
                    if w.get(&slug).is_none_or(|(m, _)| *m < n) {
                        w.insert(slug, (n, summary));
                    }
                }
                Ok(r) => {
                    *tally.lock().unwrap().errors.entry(format!("write: HTTP {}", r.status().as_u16())).or_default() +=
                        1
                }
                Err(e) => *tally.lock().unwrap().errors.entry(format!("write: {e}")).or_default() += 1,
            }
        }));
        n += 1;
        next += every;
        tokio::time::sleep_until(next.into()).await;
    }
    let sent = n as u64;
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.load(std::sync::atomic::Ordering::SeqCst);
    let mut write_latencies = write_latencies.lock().unwrap().clone();
    for r in readers {
        r.await.unwrap();
    }
    // Every acknowledged write is there: each entry holds its last summary.
    let mut landed = 0;
    let expected = written.lock().unwrap().clone();
    for (slug, (_, summary)) in &expected {
        let e: serde_json::Value =
            client.get(format!("{base}/api/v1/standards/{slug}")).send().await.unwrap().json().await.unwrap();
        if e["summary"].as_str() == Some(summary.as_str()) {
            landed += 1;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    if let Some((admin, schema)) = pg {
        let _ = Command::new("psql").arg(&admin).args(["-qAtc", &format!("DROP SCHEMA {schema} CASCADE")]).output();
    }

    let t = tally.lock().unwrap();
    println!(
        "Load: {connections} connections for {seconds} s on {}, writes at {writes_per_second}/s through the JSON API and CKAN",
        if std::env::var("LOAD_STORE").as_deref() == Ok("postgres") { "PostgreSQL" } else { "SQLite" }
    );
    println!("| requests | count | req/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    let mut kinds: Vec<_> = t.latencies.keys().copied().collect();
    kinds.sort();
    let mut total = 0;
    for kind in kinds {
        let mut v = t.latencies[kind].clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        total += v.len();
        println!(
            "| {kind} | {} | {:.0} | {:.1} | {:.1} |",
            v.len(),
            v.len() as f64 / seconds as f64,
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        );
    }
    write_latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "| writes | {sent} | {:.1} | {:.1} | {:.1} |",
        sent as f64 / seconds as f64,
        percentile(&write_latencies, 0.5),
        percentile(&write_latencies, 0.99)
    );
    let errors: u64 = t.errors.values().sum();
    println!(
        "reads: {total}; errors: {errors}; writes sent {sent}, acknowledged {acknowledged}, entries checked {}, landed {landed}",
        expected.len()
    );
    for (e, count) in &t.errors {
        println!("  error x{count}: {e}");
    }
    if errors > 0 || landed != expected.len() || acknowledged != sent {
        std::process::exit(1);
    }
}
