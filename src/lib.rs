#![recursion_limit = "512"]
//! The health and care interoperability standards directory.
//!
//! `catalogue` is the domain, `store` keeps it (SQLite or PostgreSQL),
//! `search` indexes it, `import` and `export` move it in and out of files.
//! `app` is the state the interfaces share, `editing` the rules of changing
//! the catalogue, `query` the reading of listings and searches, `markdown`
//! safe rendering. Over them, three peers that never import one another:
//! `api` serves JSON, `ckan` the CKAN Action API, `web` the pages; `server`
//! puts the web service together and `cli` is the command line.

pub mod api;
pub mod app;
pub mod auth;
pub mod catalogue;
pub mod ckan;
pub mod cli;
pub mod client;
pub mod demo;
pub mod editing;
pub mod export;
pub mod import;
pub mod markdown;
pub mod metrics;
pub mod query;
pub mod search;
pub mod server;
pub mod store;
pub mod synthetic;
pub mod web;
