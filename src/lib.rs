//! vanban: a public registry of the documents Vietnamese local governments sign.
//! See ARCHITECTURE.md for the map.

pub mod auth;
pub mod blob;
pub mod cli;
pub mod config;
pub mod decree30;
pub mod desk;
pub mod doctypes;
pub mod domain;
pub mod edxml_import;
pub mod eval;
pub mod extract;
pub mod ingest;
pub mod legacy_encoding;
pub mod markings;
pub mod memory;
pub mod office_text;
pub mod pdf;
pub mod policy;
pub mod search;
pub mod server;
pub mod signature;
pub mod store;
pub mod sync;
pub mod text;
pub mod web;
