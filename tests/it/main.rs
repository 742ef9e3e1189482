//! The integration tests, as one binary: one link instead of seventeen
//! (the fuzz targets, run on their own with their own settings, are
//! `tests/fuzz.rs`). Each module is one area, as the files were before.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod api;
mod authorisation;
mod ckan;
mod cli;
mod demo;
mod hardening;
mod import;
mod publishing;
mod relevance;
mod search;
mod solr_properties;
mod storage;
mod web;
mod web_manage;
mod web_people;
mod web_publishing;
mod web_upload;
