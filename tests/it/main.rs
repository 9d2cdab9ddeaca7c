//! One integration-test binary (links once): header table, store conformance on SQLite and
//! PostgreSQL, and the CLI end to end.

mod accounts;
mod actions;
mod admin_writes;
mod bad_input;
mod browser;
mod cli;
mod crash_ingest;
mod desk_browser;
mod desk_pages;
mod desk_security;
mod desk_support;
mod edxml_extract;
mod fixtures;
mod header_cases;
mod jobs;
mod markings;
mod one_record;
mod public_rule;
mod search_eval;
mod search_scale;
mod signatures;
mod store;
mod sync;
mod sync_crash;
mod synthetic;
mod upload;
mod upload_crash;
mod web;
mod web_edges;
mod webdriver;
