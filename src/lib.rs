//! The health and care interoperability standards directory.
//!
//! `catalogue` is the domain, `store` keeps it (SQLite or PostgreSQL),
//! `import` and `export` move it in and out of files, `api` serves it as
//! JSON, `server` puts the web service together and `cli` is the command line.

pub mod catalogue;
