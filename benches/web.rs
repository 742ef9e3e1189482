//! Website benchmark: server render time of the home, search and entry
//! pages on the demo catalogue (SQLite), and page weight (bytes
//! transferred for the HTML, stylesheets, scripts and images a first visit
//! loads, compressed as a browser asks: `br, gzip`).
//!
//!     cargo bench --bench web
//!
//! Render time is measured through the whole router (middleware, handler,
//! template, compression off) in this process, so the figure is the
//! server's own work without the network. The pages alternate request by
//! request, so each sees the same machine noise.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn get(app: &axum::Router, path: &str, encoding: Option<&str>) -> (u16, Vec<u8>, String) {
    let mut request = Request::builder().uri(path).header("host", "localhost");
    if let Some(e) = encoding {
        request = request.header("accept-encoding", e);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body, content_type)
}

/// Every same-site asset a page references (stylesheets, scripts, icons),
/// and what those reference in turn (images in CSS, modules in JS).
fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["href=\"/assets/", "src=\"/assets/", "url(/assets/", "from \"/assets/"] {
        for part in text.split(marker).skip(1) {
            let end = part.find(['"', ')']).unwrap_or(part.len());
            out.push(format!("/assets/{}", &part[..end]));
        }
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = standards::store::Store::open_data_dir(dir.path()).await.unwrap();
    standards::demo::load(&store).await.unwrap();
    let state = standards::app::AppState::new(std::sync::Arc::new(store)).await.unwrap();
    let app = standards::server::app(state);

    let pages = [
        ("home", "/"),
        ("search (words, filters, facets)", "/search?q=allergy&care_setting=hospital&mandated=true"),
        ("search (browse, page 2)", "/search?type=standard&page=2"),
        ("entry", "/standards/fhir-uk-core"),
    ];
    for (_, path) in pages {
        let (status, _, _) = get(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); pages.len()];
    for _ in 0..rounds {
        for (i, (_, path)) in pages.iter().enumerate() {
            let started = Instant::now();
            let (_, body, _) = get(&app, path, None).await;
            times[i].push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(body);
        }
    }
    println!("server render time, demo catalogue ({} entries), {rounds} requests per page:", 188);
    println!("| page | p50 | p95 | p99 | HTML size |");
    println!("|---|---|---|---|---|");
    for (i, (name, path)) in pages.iter().enumerate() {
        times[i].sort_by(f64::total_cmp);
        let (_, body, _) = get(&app, path, None).await;
        println!(
            "| {name} `{path}` | {:.2} ms | {:.2} ms | {:.2} ms | {} KB |",
            percentile(&times[i], 0.5),
            percentile(&times[i], 0.95),
            percentile(&times[i], 0.99),
            body.len() / 1024
        );
    }

    println!();
    println!("page weight, first visit, `accept-encoding: br, gzip` (fonts: none are loaded):");
    println!("| page | HTML | CSS | JS | images | total |");
    println!("|---|---|---|---|---|---|");
    for (name, path) in pages {
        let (_, html, _) = get(&app, path, Some("br, gzip")).await;
        let (_, plain, _) = get(&app, path, None).await;
        let mut queue = references(&String::from_utf8_lossy(&plain));
        let mut seen = std::collections::HashSet::new();
        let (mut css, mut js, mut images) = (0usize, 0usize, 0usize);
        while let Some(asset) = queue.pop() {
            if !seen.insert(asset.clone()) {
                continue;
            }
            let (status, body, content_type) = get(&app, &asset, Some("br, gzip")).await;
            assert_eq!(status, 200, "{asset}");
            let (_, plain, _) = get(&app, &asset, None).await;
            if content_type.starts_with("text/") {
                queue.extend(references(&String::from_utf8_lossy(&plain)));
            }
            match content_type.split(';').next().unwrap_or("") {
                "text/css" => css += body.len(),
                "text/javascript" => js += body.len(),
                _ => images += body.len(),
            }
        }
        let kb = |n: usize| format!("{:.1} KB", n as f64 / 1024.0);
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            kb(html.len()),
            kb(css),
            kb(js),
            kb(images),
            kb(html.len() + css + js + images)
        );
    }
}
