//! # lat-frontier
//!
//! Evolutionary search over length configurations, the typed frontier file and budget
//! resolution. This crate is a placeholder in the workspace layout: it depends on
//! `lat-model` (whose [`lat_model::flops`] it will use for every cost) and holds no code
//! yet; the search issue fills it.
