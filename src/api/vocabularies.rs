use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::{AppState, Problem, json_with_etag};
use crate::catalogue::Status;

/// Every vocabulary's terms, plus the fixed lists (statuses and types) so a
/// client can build filters from one call.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    let vocabularies = state.store.vocabularies().await?;
    let mut body = serde_json::to_value(&vocabularies).map_err(anyhow::Error::from)?;
    if let Value::Object(map) = &mut body {
        let statuses: Vec<Value> = Status::ALL
            .iter()
            .map(|s| json!({"slug": s.slug(), "label": s.label(), "description": s.meaning(), "aliases": []}))
            .collect();
        map.insert("status".into(), Value::from(statuses));
        map.insert(
            "type".into(),
            json!([
                {"slug": "standard", "label": "Standard", "description": "A standard, specification, data set or code of practice.", "aliases": []},
                {"slug": "api", "label": "API", "description": "A national API or service that systems connect to.", "aliases": []}
            ]),
        );
    }
    Ok(json_with_etag(&headers, &body))
}
