//! Spreadsheet upload benchmark: how long a person waits at each step of
//! uploading a CSV in the browser (upload and check, the preview, the
//! confirm), over HTTP against the real server on the demo catalogue
//! (SQLite), for a file of every demo entry changed and a larger file that
//! also creates entries.
//!
//!     cargo bench --bench upload
//!
//! Each figure is the median of `BENCH_ROUNDS` rounds (default 3); each
//! round changes every title again, so every round writes.

use std::time::Instant;

use standards::catalogue::{Entry, Slug};

const PASSWORD: &str = "benchmark kettle tuesday";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn csrf(page: &str) -> String {
    let field = "name=\"csrf\" value=\"";
    let start = page.find(field).expect("a CSRF field") + field.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

fn digest(page: &str) -> String {
    let field = "name=\"digest\" value=\"";
    let start = page.find(field).expect("a digest field") + field.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// The demo's entries with new titles, and `extra` new entries made from them.
fn file(entries: &[Entry], extra: usize, round: usize) -> Vec<u8> {
    let mut rows: Vec<Entry> =
        entries.iter().map(|e| Entry { title: format!("{} (round {round})", e.title), ..e.clone() }).collect();
    for i in 0..extra {
        let mut e = entries[i % entries.len()].clone();
        e.slug = Slug::parse(&format!("{}-copy-{i}", e.slug)).unwrap();
        e.id = uuid::Uuid::new_v4();
        e.title = format!("{} copy {i} (round {round})", e.title);
        // Links to other copies would need them first; keep the copies plain.
        e.dependencies.clear();
        e.related.clear();
        e.standards_implemented.clear();
        rows.push(e);
    }
    let mut out = Vec::new();
    standards::export::write_csv(&rows, &mut out).unwrap();
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let store = standards::store::Store::open_data_dir(dir.path()).await.unwrap();
    standards::demo::load(&store).await.unwrap();
    store.add_user("bench@example.org", standards::store::Role::Editor, None).await.unwrap();
    store
        .set_password("bench@example.org", &standards::auth::password::hash(PASSWORD).unwrap(), "bench")
        .await
        .unwrap();
    let entries = store.entries().await.unwrap();
    let store = std::sync::Arc::new(store);
    let state = standards::app::AppState::new(store.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(standards::server::serve(listener, state, std::future::pending()));

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Sign in through the form.
    let form = client.get(format!("{base}/sign-in")).send().await.unwrap();
    let pre = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token = csrf(&form.text().await.unwrap());
    let signed = client
        .post(format!("{base}/sign-in"))
        .header("cookie", &pre)
        .form(&[("csrf", token.as_str()), ("email", "bench@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("session="))
        .expect("signed in");

    println!("| file | rows | upload and check | preview | confirm | confirm rows/s |");
    println!("|---|---|---|---|---|---|");
    let mut round = 0;
    for (name, extra) in [("every demo entry changed", 0), ("demo changed + 1,812 new", 1812)] {
        let (mut up, mut pre_ms, mut conf) = (Vec::new(), Vec::new(), Vec::new());
        let rows = entries.len() + extra;
        for _ in 0..rounds {
            round += 1;
            let bytes = file(&entries, extra, round);
            let page = client.get(format!("{base}/import")).header("cookie", &cookie).send().await.unwrap();
            let token = csrf(&page.text().await.unwrap());
            let multipart = reqwest::multipart::Form::new()
                .text("csrf", token)
                .part("file", reqwest::multipart::Part::bytes(bytes).file_name("bench.csv"));
            let t = Instant::now();
            let sent = client.post(format!("{base}/import")).header("cookie", &cookie).multipart(multipart).send();
            let sent = sent.await.unwrap();
            up.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(sent.status(), 303, "{}", sent.text().await.unwrap());
            let location = sent.headers()["location"].to_str().unwrap().to_owned();
            let t = Instant::now();
            let preview = client.get(format!("{base}{location}")).header("cookie", &cookie).send().await.unwrap();
            let body = preview.text().await.unwrap();
            pre_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let form = [("csrf", csrf(&body)), ("digest", digest(&body)), ("action", "confirm".to_owned())];
            let t = Instant::now();
            let done = client.post(format!("{base}{location}")).header("cookie", &cookie).form(&form).send().await;
            let done = done.unwrap();
            conf.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(done.status(), 200, "{}", done.text().await.unwrap());
        }
        let c = median(conf);
        println!(
            "| {name} | {rows} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} |",
            median(up),
            median(pre_ms),
            c,
            rows as f64 / (c / 1000.0)
        );
    }
}
