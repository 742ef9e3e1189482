#![recursion_limit = "512"]
//! The health and care interoperability standards directory.
//!
//! `catalogue` is the domain, `store` keeps it (SQLite or PostgreSQL),
//! `import` and `export` move it in and out of files, `api` serves it as
//! JSON, `web` serves it as pages, `server` puts the web service together and `cli` is the command line.

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
