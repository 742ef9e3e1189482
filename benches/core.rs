//! Catalogue core benchmark: start-up to ready, resident memory and import
//! throughput, on the release binary, the same way every run.
//!
//!     cargo bench --bench core
//!
//! Each figure is the median of several runs; SQLite and PostgreSQL run
//! side by side in one process so their ratio is fair on a noisy machine.
//! PostgreSQL figures need the server at STANDARDS_TEST_POSTGRES (default
//! postgres://postgres@127.0.0.1:5432/test).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 5;

/// Milliseconds to ready, and resident MiB, of one start.
type Run = (f64, f64);

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_standards"));
    c.env_remove("DATABASE_URL").env_remove("STANDARDS_DATA_DIR");
    c
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn http_ok(addr: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

/// Starts `serve`, returns (ms from spawn to the first 200 from /readyz,
/// resident memory in MiB after a few list requests).
fn start_to_ready(store_args: &[String]) -> (f64, f64) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = bin()
        .arg("serve")
        .args(["--listen", &addr])
        .args(store_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = loop {
        if http_ok(&addr, "/readyz") {
            break started.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "server never became ready");
        std::thread::sleep(Duration::from_millis(2));
    };
    for page in 1..=5 {
        http_ok(&addr, &format!("/api/v1/standards?per_page=100&page={page}"));
    }
    let rss = rss_kib(child.id()) as f64 / 1024.0;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    (ready, rss)
}

fn import(file: &Path, store_args: &[String]) -> f64 {
    let started = Instant::now();
    let out = bin().arg("import").arg(file).args(store_args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    started.elapsed().as_secs_f64()
}

struct Pg {
    admin: String,
}

impl Pg {
    fn connect() -> Option<Pg> {
        let admin = std::env::var("STANDARDS_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let ok =
            Command::new("psql").arg(&admin).args(["-qAtc", "SELECT 1"]).output().is_ok_and(|o| o.status.success());
        ok.then_some(Pg { admin })
    }

    fn fresh(&self, name: &str) -> Vec<String> {
        let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};");
        let out = Command::new("psql").arg(&self.admin).args(["-qAtc", &sql]).output().unwrap();
        assert!(out.status.success());
        vec!["--database-url".into(), format!("{}?options=-c%20search_path%3D{name}", self.admin)]
    }

    fn drop(&self, name: &str) {
        let _ = Command::new("psql")
            .arg(&self.admin)
            .args(["-qAtc", &format!("DROP SCHEMA IF EXISTS {name} CASCADE")])
            .output();
    }
}

fn main() {
    // `cargo test --all-targets` runs benches as tests; do nothing then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let ten_k = work.path().join("catalogue-10k.json");
    let api_csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/sources/nhs-api-catalogue.csv");
    let out = bin()
        .args(["generate", "--entries", "10000", "--with"])
        .arg(&api_csv)
        .arg("--output")
        .arg(&ten_k)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pg = Pg::connect();
    if pg.is_none() {
        eprintln!("PostgreSQL not reachable: PostgreSQL rows are skipped");
    }

    println!("| measure | SQLite | PostgreSQL |");
    println!("|---|---|---|");

    // Import throughput.
    for (label, file, rows) in
        [("import 10k-entry JSON", &ten_k, 10_000.0), ("import API catalogue CSV (113 rows)", &api_csv, 113.0)]
    {
        let sqlite: Vec<f64> = (0..RUNS)
            .map(|i| {
                let dir = work.path().join(format!("imp-{i}-{rows}"));
                rows / import(file, &["--data-dir".into(), dir.display().to_string()])
            })
            .collect();
        let postgres: Option<Vec<f64>> = pg.as_ref().map(|pg| {
            (0..RUNS)
                .map(|i| {
                    let schema = format!("bench_import_{i}");
                    let r = rows / import(file, &pg.fresh(&schema));
                    pg.drop(&schema);
                    r
                })
                .collect()
        });
        println!(
            "| {label}: rows per second | {:.0} | {} |",
            median(sqlite),
            postgres.map_or("-".into(), |p| format!("{:.0}", median(p)))
        );
    }

    // Start-up to ready, and memory.
    let demo_dir = work.path().join("demo");
    let first_start = start_to_ready(&["--data-dir".into(), demo_dir.display().to_string()]).0;
    let demo: Vec<(f64, f64)> =
        (0..RUNS).map(|_| start_to_ready(&["--data-dir".into(), demo_dir.display().to_string()])).collect();
    let big_dir = work.path().join("big");
    import(&ten_k, &["--data-dir".into(), big_dir.display().to_string()]);
    let big: Vec<(f64, f64)> =
        (0..RUNS).map(|_| start_to_ready(&["--data-dir".into(), big_dir.display().to_string()])).collect();
    let (pg_demo, pg_big) = match &pg {
        Some(pg) => {
            let demo_args = pg.fresh("bench_demo");
            start_to_ready(&demo_args);
            let d: Vec<(f64, f64)> = (0..RUNS).map(|_| start_to_ready(&demo_args)).collect();
            let big_args = pg.fresh("bench_big");
            import(&ten_k, &big_args);
            let b: Vec<(f64, f64)> = (0..RUNS).map(|_| start_to_ready(&big_args)).collect();
            pg.drop("bench_demo");
            pg.drop("bench_big");
            (Some(d), Some(b))
        }
        None => (None, None),
    };
    let ms = |v: &[(f64, f64)]| median(v.iter().map(|x| x.0).collect());
    let mib = |v: &[(f64, f64)]| median(v.iter().map(|x| x.1).collect());
    let pg_cell = |v: &Option<Vec<Run>>, f: &dyn Fn(&[Run]) -> f64, unit: &str| {
        v.as_ref().map_or("-".into(), |v| format!("{:.0} {unit}", f(v)))
    };
    println!("| first start on a new data directory (loads the demo catalogue) to ready | {first_start:.0} ms | - |");
    println!(
        "| start to ready, demo catalogue (188 entries) | {:.0} ms | {} |",
        ms(&demo),
        pg_cell(&pg_demo, &ms, "ms")
    );
    println!("| start to ready, 10k entries | {:.0} ms | {} |", ms(&big), pg_cell(&pg_big, &ms, "ms"));
    println!("| resident memory, demo catalogue | {:.0} MiB | {} |", mib(&demo), pg_cell(&pg_demo, &mib, "MiB"));
    println!("| resident memory, 10k entries | {:.0} MiB | {} |", mib(&big), pg_cell(&pg_big, &mib, "MiB"));
    // Keep the reader honest about the machine.
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find_map(|l| l.strip_prefix("model name\t: ")).unwrap_or("unknown");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("\nmachine: {model}, {cores} cores; median of {RUNS} runs");
}
