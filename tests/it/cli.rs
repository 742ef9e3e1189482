//! The `standards` binary as a user runs it.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::api_catalogue_csv;

fn standards() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_standards"));
    c.env_remove("DATABASE_URL").env_remove("STANDARDS_DATA_DIR").env_remove("STANDARDS_LISTEN");
    c
}

/// Starts `standards serve` and waits for its "listening on" line. The
/// caller stops it with `terminate`, which waits for it.
#[allow(clippy::zombie_processes)]
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = standards()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server exited before listening").unwrap();
        if let Some(base) = line.strip_prefix("listening on ") {
            return (child, base.to_owned());
        }
    }
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn serve_creates_the_data_directory_loads_the_demo_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new-data");
    let (child, base) = serve(&["--data-dir", data.to_str().unwrap()]);
    assert!(data.join("standards.db").exists());
    let list = get_json(&format!("{base}/api/v1/standards?per_page=1")).await;
    assert!(list["total"].as_i64().unwrap() >= 150, "{list}");
    let status = terminate(child);
    assert!(status.success(), "exit status {status}");

    // A second start finds the catalogue there and does not load it again.
    let (child, base) = serve(&["--data-dir", data.to_str().unwrap()]);
    let again = get_json(&format!("{base}/api/v1/standards?per_page=1")).await;
    assert_eq!(again["total"], list["total"]);
    let changes = get_json(&format!("{base}/api/v1/changes?limit=1000&since=0")).await;
    let demo_loads = changes["results"].as_array().unwrap().iter().filter(|c| c["actor"] == "system:demo").count();
    assert!(demo_loads >= 150);
    assert!(terminate(child).success());
}

#[tokio::test]
async fn serve_empty_starts_with_no_entries_and_the_environment_sets_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = standards();
    cmd.env("STANDARDS_DATA_DIR", dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--empty", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(b) = line.strip_prefix("listening on ") {
            break b.to_owned();
        }
    };
    let list = get_json(&format!("{base}/api/v1/standards")).await;
    assert_eq!(list["total"], 0);
    let status = terminate(child);
    assert!(status.success());
    assert!(dir.path().join("standards.db").exists());
}

/// Runs `standards serve` with `log_args` on an empty directory, sends one
/// `/healthz` request with `x-request-id: trace-me-42`, stops it, and
/// answers everything it logged.
fn logs_of_one_request(log_args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = standards()
        .args(["serve", "--listen", "127.0.0.1:0", "--empty", "--data-dir"])
        .arg(dir.path())
        .args(log_args)
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(b) = line.strip_prefix("listening on ") {
            break b.to_owned();
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .header("x-request-id", "trace-me-42")
            .send()
            .await
            .unwrap();
    });
    let mut stderr = child.stderr.take().unwrap();
    assert!(terminate(child).success());
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut logs).unwrap();
    logs
}

#[test]
fn structured_logs_are_json_lines_with_request_ids() {
    let logs: Vec<serde_json::Value> = logs_of_one_request(&["--log-format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    assert!(logs.iter().any(|l| l["span"]["request_id"] == "trace-me-42"), "{logs:#?}");
}

/// Logs written to a file or a pipe are plain text: no colour escape codes
/// (they cost bytes on every line of a busy server's log).
#[test]
fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let logs = logs_of_one_request(&[]);
    assert!(logs.contains("listening"), "{logs}");
    assert!(logs.contains("trace-me-42"), "one line per request: {logs}");
    assert!(!logs.contains('\u{1b}'), "no escape codes: {logs:?}");
}

#[test]
fn import_reports_errors_with_rows_and_a_non_zero_exit_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "slug,title,type,category,owner,status\n\
         one,,standard,record-standards,nobody,active\n\
         two,Two,standard,record-standards,nobody,live\n",
    )
    .unwrap();
    let out = standards().args(["import"]).arg(&csv).arg("--data-dir").arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2, column `title`"), "{err}");
    assert!(err.contains("row 3, column `status`, value `live`"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    let export = standards().args(["export", "--data-dir"]).arg(dir.path()).output().unwrap();
    let catalogue: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(catalogue["entries"], serde_json::json!([]), "importing never loads the demo catalogue");
}

#[test]
fn export_then_import_into_a_new_directory_gives_the_same_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let out = standards().arg("import").arg(api_catalogue_csv()).arg("--data-dir").arg(&a).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("113 created"), "{stdout}");

    let file = dir.path().join("export.json");
    let out = standards().args(["export", "--output"]).arg(&file).arg("--data-dir").arg(&a).output().unwrap();
    assert!(out.status.success());
    let dry = standards().arg("import").arg(&file).arg("--dry-run").arg("--data-dir").arg(&b).output().unwrap();
    assert!(String::from_utf8_lossy(&dry.stdout).contains("dry run"));
    let out = standards().arg("import").arg(&file).arg("--data-dir").arg(&b).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let strip = |dir: &std::path::Path| {
        let out = standards().args(["export", "--data-dir"]).arg(dir).output().unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for list in ["entries", "organisations"] {
            for item in v[list].as_array_mut().unwrap() {
                item["created_at"] = serde_json::Value::Null;
                item["updated_at"] = serde_json::Value::Null;
            }
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));

    let csv_a = standards().args(["export", "--format", "csv", "--data-dir"]).arg(&a).output().unwrap();
    let text = String::from_utf8(csv_a.stdout).unwrap();
    assert!(text.starts_with("id,slug,title,alternative_names,summary"), "{}", &text[..80]);
    assert_eq!(csv::Reader::from_reader(text.as_bytes()).records().count(), 113);
}

#[test]
fn an_unknown_format_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalogue.pdf");
    std::fs::write(&file, "not really").unwrap();
    let out = standards().arg("import").arg(&file).arg("--data-dir").arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format csv, json or api-catalogue"));
    // A workbook that does not open says so.
    let file = dir.path().join("catalogue.xlsx");
    std::fs::write(&file, "not really").unwrap();
    let out = standards().arg("import").arg(&file).arg("--data-dir").arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("catalogue.xlsx: a spreadsheet workbook (XLSX, XLS or ODS) that opens"), "{err}");
}

#[tokio::test]
async fn every_command_runs_on_postgresql_with_database_url() {
    let ts = common::TestStore::new(common::Backend::Postgres).await;
    let out = standards().arg("import").arg(api_catalogue_csv()).args(["--database-url", &ts.url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (child, base) = serve(&["--database-url", &ts.url]);
    let list = get_json(&format!("{base}/api/v1/standards?per_page=1")).await;
    assert_eq!(list["total"], 113, "a store with entries is not given the demo");
    let ready = get_json(&format!("{base}/readyz")).await;
    assert_eq!(ready["store"], "postgres");
    assert!(terminate(child).success());
    let out = standards().args(["export", "--format", "csv", "--database-url", &ts.url]).output().unwrap();
    assert_eq!(csv::Reader::from_reader(&out.stdout[..]).records().count(), 113);
    ts.finish().await;
}

#[test]
fn generate_writes_a_synthetic_catalogue_that_imports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("synthetic.json");
    let out = standards()
        .args(["generate", "--entries", "600", "--with"])
        .arg(api_catalogue_csv())
        .arg("--output")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let catalogue: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let entries = catalogue["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 600);
    assert!(entries.iter().any(|e| e["owner"] == "nhs-digital"), "varies the API catalogue's entries too");
    let out = standards().arg("import").arg(&file).arg("--data-dir").arg(dir.path().join("d")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("600 created"));
}

/// Passwords, API tokens, session cookies and CSRF tokens never reach the
/// server's log lines (at the most verbose level), the command line's
/// output (except the token, printed once by `token create`), responses or
/// the audit log.
#[test]
fn secrets_never_reach_the_logs_or_responses() {
    const LINK_TOKEN: &str = "pl_0123456789abcdefLINKTOKEN";
    let dir = tempfile::tempdir().unwrap();
    let password = "lantern orchard seventeen";
    let wrong_password = "quartz meadow umbrella";
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = standards()
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (out, err) = run(
        &["user", "add", "admin@example.org", "--role", "admin", "--password-stdin"],
        Some(&format!("{password}\n")),
    );
    assert!(!out.contains(password) && !err.contains(password), "user add echoes nothing secret: {out}{err}");
    let (out, _) = run(&["token", "create", "admin@example.org", "--name", "logs"], None);
    let token = out.lines().last().unwrap().trim().to_owned();
    assert!(token.len() >= 20, "{out}");
    let (listed, _) = run(&["user", "list"], None);
    assert!(!listed.contains(&token) && !listed.contains(password));

    let log_path = dir.path().join("server.log");
    let mut child = standards()
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(dir.path())
        .env("STANDARDS_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(b) = line.strip_prefix("listening on ") {
            break b.to_owned();
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (bodies, cookie, csrf) = rt.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut bodies = Vec::new();
        // A failed sign-in, then a good one.
        let mut session = String::new();
        let mut csrf = String::new();
        for attempt in [wrong_password, password] {
            let form = client.get(format!("{base}/sign-in")).send().await.unwrap();
            let pre = form.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
            let page = form.text().await.unwrap();
            let start = page.find("name=\"csrf\" value=\"").unwrap() + 19;
            let token = &page[start..start + page[start..].find('"').unwrap()];
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([("csrf", token), ("email", "admin@example.org"), ("password", attempt)])
                .finish();
            let r = client
                .post(format!("{base}/sign-in"))
                .header("cookie", &pre)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            if let Some(c) =
                r.headers().get_all("set-cookie").iter().find(|c| c.to_str().unwrap().starts_with("session="))
            {
                session = c.to_str().unwrap().split(';').next().unwrap().trim_start_matches("session=").to_owned();
            }
            bodies.push(r.text().await.unwrap());
        }
        assert!(!session.is_empty(), "signed in");
        let dashboard = client.get(format!("{base}/dashboard")).header("cookie", format!("session={session}")).send();
        let page = dashboard.await.unwrap().text().await.unwrap();
        let start = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        csrf.push_str(&page[start..start + page[start..].find('"').unwrap()]);
        bodies.push(page);
        // The token on the JSON API, the CKAN API and the audit log, and a wrong one.
        for (path, bearer) in [
            ("/api/v1/revisions", format!("Bearer {token}")),
            ("/api/v1/audit", format!("Bearer {token}")),
            ("/api/v1/audit?format=csv", format!("Bearer {token}")),
            ("/api/3/action/organization_list", token.clone()),
            ("/api/v1/revisions", "Bearer std_not_a_real_token_at_all".to_owned()),
        ] {
            let r = client.get(format!("{base}{path}")).header("authorization", bearer).send().await.unwrap();
            bodies.push(r.text().await.unwrap());
        }
        let audit = client.get(format!("{base}/admin/audit?format=csv")).header("cookie", format!("session={session}"));
        bodies.push(audit.send().await.unwrap().text().await.unwrap());
        // A one-time password link's token is a secret too.
        client.get(format!("{base}/set-password/{LINK_TOKEN}")).send().await.unwrap();
        (bodies, session, csrf)
    });
    assert!(terminate(child).success());
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("sign-in") || logs.contains("/sign-in"), "the requests were logged: {logs:.2000}");
    assert!(bodies.iter().any(|b| b.contains("failed-sign-in") || b.contains("sign-in-failed")), "audited");
    for (name, secret) in [
        ("password", password),
        ("wrong password", wrong_password),
        ("API token", token.as_str()),
        ("session cookie", cookie.as_str()),
        ("CSRF token", csrf.as_str()),
        ("password hash", "$argon2id$"),
        ("password link token", LINK_TOKEN),
    ] {
        assert!(!logs.contains(secret), "the {name} is in the server's log");
        for body in &bodies {
            assert!(!body.contains(secret) || name == "CSRF token", "the {name} is in a response: {body:.3000}");
        }
    }
}

#[test]
fn sigterm_stops_the_server_within_five_seconds_even_with_a_request_in_flight() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = serve(&["--data-dir", dir.path().to_str().unwrap()]);
    // A client that sends half a request body and then waits: its request
    // stays in flight until the 30-second request time limit.
    let address = base.trim_start_matches("http://");
    let mut slow = std::net::TcpStream::connect(address).unwrap();
    slow.write_all(
        b"POST /api/3/action/package_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"q\":",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let status = terminate(child);
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    assert!(status.success(), "exit status {status}");
    drop(slow);
}

#[test]
fn check_reports_findings_by_entry_and_field_and_exits_one_only_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let demo: serde_json::Value = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    // One entry kept whole: it passes, so the file checks clean today.
    let mut one = demo.clone();
    let keep = demo["entries"].as_array().unwrap().iter().find(|e| e["slug"] == "e-referral-service").unwrap().clone();
    one["entries"] = serde_json::json!([keep.clone()]);
    let clean = dir.path().join("clean.json");
    std::fs::write(&clean, one.to_string()).unwrap();
    let out = standards().arg("check").arg(&clean).args(["--today", "2026-11-29"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("checked 1 entries as of 2026-11-29: 0 errors, 0 warnings"), "{text}");
    // Two years on its sources are stale: warnings only, still exit 0.
    let out =
        standards().arg("check").arg(&clean).args(["--today", "2028-12-01", "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 2);
    assert_eq!(report["findings"][0]["severity"], "warning");
    assert_eq!(report["findings"][0]["entry"], "e-referral-service");
    assert_eq!(report["findings"][0]["field"], "sources");
    // Mandated with no basis or date: errors naming the entry and field, exit 1.
    let mut bad = keep;
    bad["mandated"] = serde_json::json!(true);
    bad["reference_code"] = serde_json::json!("ISB 1555");
    one["entries"] = serde_json::json!([bad]);
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, one.to_string()).unwrap();
    let out = standards().arg("check").arg(&broken).args(["--today", "2026-11-29"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("error: e-referral-service: legal_basis: mandated"), "{text}");
    assert!(text.contains("error: e-referral-service: comply_by: mandated"), "{text}");
    assert!(
        text.contains("error: e-referral-service: reference_code: `ISB 1555` is not written canonically: `ISB1555`"),
        "{text}"
    );
    // A file that is not a catalogue says so, naming it.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "[1, 2").unwrap();
    let out = standards().arg("check").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.json: not a catalogue in the export format"), "{err}");
}

/// `backup` then `restore` gives back exactly the store that was backed
/// up, on SQLite (online copy) and on PostgreSQL (pg_dump, pg_restore);
/// a store with entries is replaced only with --force.
#[test]
fn backup_and_restore_round_trip_on_both_stores() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite_dir = dir.path().join("data");
    let pg = rt.block_on(common::TestStore::new(common::Backend::Postgres));
    let targets: [(&str, Vec<std::ffi::OsString>); 2] = [
        ("sqlite", vec!["--data-dir".into(), sqlite_dir.clone().into()]),
        ("postgres", vec!["--database-url".into(), pg.url.clone().into()]),
    ];
    let change = dir.path().join("change.csv");
    std::fs::write(
        &change,
        "slug,title,type,category,owner,status\nsnomed-ct,SNOMED CT (changed after the backup),standard,data-definitions-and-terminologies,nhs-england,active\n",
    )
    .unwrap();
    let demo = dir.path().join("demo.json");
    std::fs::write(&demo, standards::demo::CATALOGUE).unwrap();
    for (name, store) in targets {
        let run = |args: &[&std::ffi::OsStr]| standards().args(args).args(&store).output().unwrap();
        assert!(run(&["import".as_ref(), demo.as_os_str()]).status.success(), "{name}: import");
        let before = run(&["export".as_ref()]).stdout;
        let file = dir.path().join(format!("{name}.backup"));
        let out = run(&["backup".as_ref(), "--output".as_ref(), file.as_os_str()]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(run(&["import".as_ref(), change.as_os_str()]).status.success());
        assert_ne!(run(&["export".as_ref()]).stdout, before, "{name}: the change landed");
        let refused = run(&["restore".as_ref(), file.as_os_str()]);
        assert_eq!(refused.status.code(), Some(1), "{name}: a store with entries needs --force");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("give --force to replace it"));
        let out = run(&["restore".as_ref(), file.as_os_str(), "--force".as_ref()]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(run(&["export".as_ref()]).stdout, before, "{name}: the store is as it was backed up");
        let junk = dir.path().join("junk.backup");
        std::fs::write(&junk, "not a backup").unwrap();
        assert!(
            !run(&["restore".as_ref(), junk.as_os_str(), "--force".as_ref()]).status.success(),
            "{name}: junk refused"
        );
        assert_eq!(run(&["export".as_ref()]).stdout, before, "{name}: a refused restore changes nothing");
    }
    // SQLite keeps the store it replaced beside the restored one.
    let kept = std::fs::read_dir(&sqlite_dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("standards.db.before-restore-"))
        .count();
    assert!(kept >= 1);
    rt.block_on(pg.finish());
}

/// `migrate` copies a SQLite store whole into an empty PostgreSQL store:
/// the same catalogue comes out, people come along, and writes go on from
/// the copied change log's numbers; a second migrate into the now full
/// store is refused.
#[test]
fn migrate_copies_a_sqlite_store_whole_into_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pg = rt.block_on(common::TestStore::new(common::Backend::Postgres));
    let demo = dir.path().join("demo.json");
    std::fs::write(&demo, standards::demo::CATALOGUE).unwrap();
    let sqlite = |args: &[&str]| standards().args(args).arg("--data-dir").arg(&data).output().unwrap();
    let postgres = |args: &[&str]| standards().args(args).args(["--database-url", &pg.url]).output().unwrap();
    assert!(standards().arg("import").arg(&demo).arg("--data-dir").arg(&data).output().unwrap().status.success());
    assert!(sqlite(&["user", "add", "ed@nhs.net", "--role", "editor"]).status.success());
    let before = sqlite(&["export"]).stdout;
    let out = sqlite(&["migrate", "--to", &pg.url]);
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("every table's row count matches"), "{report}");
    assert!(report.contains("users: 1 rows"), "{report}");
    assert_eq!(postgres(&["export"]).stdout, before, "the same catalogue");
    assert!(String::from_utf8_lossy(&postgres(&["user", "list"]).stdout).contains("ed@nhs.net"));
    // A write after the copy takes the next change number.
    let change = dir.path().join("change.csv");
    std::fs::write(
        &change,
        "slug,title,type,category,owner,status\nsnomed-ct,SNOMED CT (after the move),standard,data-definitions-and-terminologies,nhs-england,active\n",
    )
    .unwrap();
    let out = standards().arg("import").arg(&change).args(["--database-url", &pg.url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = sqlite(&["migrate", "--to", &pg.url]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    rt.block_on(pg.finish());
}
