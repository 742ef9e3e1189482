//! Test support: real stores (a fresh SQLite file or a fresh PostgreSQL
//! schema) and the real server on a random port.

#![allow(dead_code)]

pub mod browser;
pub mod fixtures;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use standards::store::Store;

/// The project's own copy of the national API catalogue's facts
/// (`demo/sources/README.md` says where they come from).
pub fn api_catalogue_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/sources/nhs-api-catalogue.csv")
}

/// The PostgreSQL server tests use; CI starts it at this address.
pub fn postgres_url() -> String {
    std::env::var("STANDARDS_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store that exists only for one test.
pub struct TestStore {
    pub store: Arc<Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl TestStore {
    pub async fn new(backend: Backend) -> TestStore {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("standards.db").display());
                let store = Store::open(&url).await.unwrap();
                store.seed_vocabularies().await.unwrap();
                TestStore { store: Arc::new(store), url, _dir: Some(dir), schema: None }
            }
            Backend::Postgres => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = postgres_url();
                let mut conn = connect_admin(&admin).await;
                sqlx::raw_sql(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
                let sep = if admin.contains('?') { '&' } else { '?' };
                let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
                let store = Store::open(&url).await.unwrap();
                store.seed_vocabularies().await.unwrap();
                TestStore { store: Arc::new(store), url, _dir: None, schema: Some(schema) }
            }
        }
    }

    /// Another handle on the same database, as a second instance would have.
    pub async fn reopen(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some(schema) = &self.schema {
            let mut conn = connect_admin(&postgres_url()).await;
            sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE")).execute(&mut conn).await.unwrap();
        }
    }
}

async fn connect_admin(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {url} for these tests: {e}"))
}

/// The real server on a random port, stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub state: standards::app::AppState,
    pub test_store: TestStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(test_store: TestStore) -> TestServer {
        use_workbook_reader();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = standards::app::AppState::new(test_store.store.clone()).await.unwrap();
        let served = state.clone();
        let handle = tokio::spawn(async move {
            standards::server::serve(listener, served, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer { base: format!("http://{addr}"), state, test_store, stop: Some(tx), handle: Some(handle) }
    }

    /// A server over the demo catalogue.
    pub async fn with_demo(backend: Backend) -> TestServer {
        let ts = TestStore::new(backend).await;
        standards::demo::load(&ts.store).await.unwrap();
        TestServer::start(ts).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.url(path)).await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
        let TestServer { test_store, .. } = self;
        test_store.finish().await;
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                ($body)($crate::common::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                ($body)($crate::common::Backend::Postgres).await;
            }
        }
    };
}

/// Validates `instance` against a schema in the OpenAPI document.
pub fn check_schema(doc: &serde_json::Value, schema: &str, instance: &serde_json::Value) {
    let root = serde_json::json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                      "$ref": format!("#/components/schemas/{schema}"), "components": doc["components"]});
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{schema}: {errors:#?}");
}

/// Sends a request as an API client does (a bearer token, a JSON body) and
/// answers its status and body (JSON, or the text as a JSON string).
pub async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap();
    let mut request = client.request(method.parse().unwrap(), s.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// A spreadsheet column's name from its index from 0: A, B, ..., Z, AA, ...
pub fn spreadsheet_column(i: u32) -> String {
    let mut n = i + 1;
    let mut name = String::new();
    while n > 0 {
        name.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    name
}

/// Workbooks are read as the `standards` program reads them: in a child
/// process (this package's own binary), with the server's memory limit and
/// a 10 s time limit.
pub fn use_workbook_reader() {
    let mut reader = standards::import::sandbox::Reader::new(env!("CARGO_BIN_EXE_standards"));
    reader.time = std::time::Duration::from_secs(10);
    standards::import::sandbox::use_reader(reader);
}
