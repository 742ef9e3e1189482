use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
