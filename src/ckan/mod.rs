//! The CKAN-compatible Action API.

pub mod actions;
mod package;
mod schema;
mod search;

pub use search::FACETABLE;
pub mod solr;
mod write;
