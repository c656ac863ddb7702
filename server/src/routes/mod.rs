//! HTTP handlers, one file per resource.

pub mod admin;
pub mod classify;
mod headers;
pub mod health;
pub mod models;
mod outcome;
pub mod qa;
