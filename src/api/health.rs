use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::client::ClientAddress;
use crate::metrics::Sample;

use super::{AppState, Problem};

/// The process is up.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The store answers, so requests can be served.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), state.store.ping()).await;
    match ping.unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within a second"))) {
        Ok(()) => Json(json!({"status": "ready", "store": state.store.backend().name()})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "store not reachable");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", "Not ready", "The store cannot be reached.")
                .into_response()
        }
    }
}

/// Prometheus metrics, to loopback addresses (a scraper on the same host,
/// or behind the local proxy) and to administrators' API tokens.
pub async fn metrics(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> Result<Response, Problem> {
    if !client.is_loopback() {
        let who = super::write::bearer(&state, &headers, &method, &uri).await?;
        if crate::auth::authorise(who.as_ref(), crate::auth::Permission::ReadMetrics).is_err() {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "Metrics are answered to the local host and to administrators' API tokens.",
            ));
        }
    }
    let index_seq = state.search.seq();
    let store_seq = tokio::time::timeout(std::time::Duration::from_secs(1), state.store.last_change_seq())
        .await
        .ok()
        .and_then(Result::ok);
    let (pool_size, pool_idle) = state.store.pool_use();
    let (change_sets, entries_written) = state.store.writes();
    let mut samples = vec![
        Sample {
            name: "standards_change_sequence",
            help: "The changes log position the search index and pages reflect.",
            kind: "gauge",
            value: index_seq as f64,
        },
        Sample {
            name: "standards_entries",
            help: "Entries in the search index.",
            kind: "gauge",
            value: state.search.len() as f64,
        },
        Sample {
            name: "standards_db_pool_connections",
            help: "Database connections open.",
            kind: "gauge",
            value: f64::from(pool_size),
        },
        Sample {
            name: "standards_db_pool_idle",
            help: "Database connections open and idle.",
            kind: "gauge",
            value: pool_idle as f64,
        },
        Sample {
            name: "standards_change_sets_total",
            help: "Change sets (imports, uploads, edits) this process committed.",
            kind: "counter",
            value: change_sets as f64,
        },
        Sample {
            name: "standards_entries_written_total",
            help: "Entries created, updated or deleted by this process.",
            kind: "counter",
            value: entries_written as f64,
        },
    ];
    if let Some(store_seq) = store_seq {
        samples.push(Sample {
            name: "standards_index_lag_changes",
            help: "Changes in the store the search index has not taken in yet.",
            kind: "gauge",
            value: (store_seq - index_seq).max(0) as f64,
        });
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render(&samples))
        .into_response())
}
