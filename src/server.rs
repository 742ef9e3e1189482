//! The web service: routes plus the layers every request passes through
//! (request id, logging, CORS, body limit, timeout), and a graceful stop.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Method, Request, StatusCode};
use axum::response::IntoResponse;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::{self, Problem};
use crate::app::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Larger bodies are refused with 413 before they are read.
pub const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Uploading, previewing and confirming a spreadsheet (`/import...`).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Not found: problem JSON under the APIs, the not-found page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        Problem::not_found("There is nothing at this address.").into_response()
    } else {
        crate::web::not_found().await
    }
}

/// Security headers on every response. Scripts and styles come only from
/// this site (no inline code), nothing may frame the pages, and browsers
/// must not guess content types.
async fn security_headers(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let https = request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        headers.entry(name).or_insert(axum::http::HeaderValue::from_static(value));
    };
    set(headers, "content-security-policy", CONTENT_SECURITY_POLICY);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "strict-origin-when-cross-origin");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()");
    if https {
        set(headers, "strict-transport-security", "max-age=31536000; includeSubDomains");
    }
    response
}

/// Errors raised outside the handlers (a body over the limit, an address
/// that is not UTF-8, a timeout, a method not allowed) come as plain text;
/// every error leaves in its interface's shape: CKAN's envelope under
/// `/api/3/`, problem JSON elsewhere under `/api/`, an HTML page otherwise.
async fn error_shapes(request: Request<axum::body::Body>, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let shaped = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        t.starts_with("application/problem+json") || t.starts_with("application/json") || t.starts_with("text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || shaped {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 16 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("The request is larger than this address takes ({} MB at most).", BODY_LIMIT_BYTES / 1024 / 1024)
        }
        StatusCode::REQUEST_TIMEOUT => "The request took too long to answer; try again, or ask for less.".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method.".to_owned(),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("Error").to_owned(),
        _ => text,
    };
    let mut shaped = if path.starts_with("/api/3/") {
        crate::ckan::actions::error_response(&path, status, message)
    } else if path.starts_with("/api/") || path == "/api" {
        let kind = status.canonical_reason().unwrap_or("error").to_ascii_lowercase().replace(' ', "-");
        Problem::new(status, &kind, status.canonical_reason().unwrap_or("Error"), message).into_response()
    } else {
        crate::web::error_page(status, message)
    };
    for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            shaped.headers_mut().insert(name, v.clone());
        }
    }
    shaped
}

/// Reads answered at once: a few per core. More wait their turn in order
/// of arrival, so that under a flood of reads the run queue stays short and
/// a write, which awaits the store a dozen times, is not sent to the back
/// of a queue of hundreds of searches at every step (measured with
/// `cargo bench --bench load`: without this, writes took 30 s under 200
/// connections of reads). Writes and health checks do not wait here.
async fn read_turns(
    axum::extract::State(turns): axum::extract::State<std::sync::Arc<tokio::sync::Semaphore>>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    let health = matches!(request.uri().path(), "/healthz" | "/readyz");
    if !read || health {
        return next.run(request).await;
    }
    let Ok(_turn) = turns.acquire().await else { return next.run(request).await };
    next.run(request).await
}

/// How many reads are answered at once.
pub fn read_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 4
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Counts each request for `/metrics` under its route's pattern.
async fn count_request(
    axum::extract::State(metrics): axum::extract::State<std::sync::Arc<crate::metrics::Metrics>>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Both are cheap handles (the pattern is shared), not copies of text.
    let route = request.extensions().get::<axum::extract::MatchedPath>().cloned();
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("(no route)", axum::extract::MatchedPath::as_str);
    metrics.record(route, method.as_str(), response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

pub fn app(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let trusted = state.trusted_proxies.clone();
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .expose_headers([REQUEST_ID, axum::http::header::ETAG]);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            let path = logged_path(request.uri().path());
            tracing::info_span!("request", request_id = %id, method = %request.method(), path = %path)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    // Uploads are read as a stream that stops at their own limit, so the
    // person gets the upload page saying why rather than a bare 413.
    // Checking and writing a large upload takes longer than other requests
    // (about 500 rows a second on SQLite; BENCHMARKS.md), so it has its own
    // time limit.
    let uploads = crate::web::upload_router()
        .layer(axum::extract::DefaultBodyLimit::max(crate::web::upload::UPLOAD_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, UPLOAD_TIMEOUT));
    api::router()
        .merge(crate::ckan::actions::router())
        .merge(crate::web::router())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .merge(uploads)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::web::account::session_layer))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(tokio::sync::Semaphore::new(read_concurrency())),
            read_turns,
        ))
        .layer(axum::middleware::from_fn_with_state(metrics, count_request))
        .layer(axum::Extension(trusted))
        .layer(axum::middleware::from_fn(error_shapes))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::compression::CompressionLayer::new().br(true).gzip(true))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// A request's path as the log shows it: a one-time password link's token
/// is a secret, so it is left out.
fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/set-password/") {
        Some(token) if !token.is_empty() => "/set-password/(token)".into(),
        _ => path.into(),
    }
}

/// Serves until `shutdown` resolves, then stops accepting and lets requests
/// in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let follower = state.search.follow(state.store.clone(), FOLLOW_EVERY);
    axum::serve(listener, app(state.clone()).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    follower.abort();
    if let Err(e) = state.search.analytics.flush(&state.store).await {
        tracing::warn!(error = %e, "search analytics could not be saved at shutdown");
    }
    Ok(())
}

/// How often the search index looks for changes made by other processes.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("stopping: finishing requests in flight");
    // A plain thread, so the stop happens even if every runtime worker is busy.
    std::thread::spawn(|| {
        std::thread::sleep(STOP_WITHIN);
        tracing::warn!(seconds = STOP_WITHIN.as_secs_f32(), "stopping now: requests were still in flight");
        std::process::exit(0);
    });
}

/// How long requests in flight may take to finish once a stop is asked
/// for; then the process exits anyway (an open write transaction rolls
/// back, so nothing is half-written).
pub const STOP_WITHIN: Duration = Duration::from_millis(4500);
