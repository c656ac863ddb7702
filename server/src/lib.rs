//! # lat-server
//!
//! The budget-aware HTTP inference server. A placeholder in the workspace layout: it
//! depends on `lat-frontier` and `lat-model` (dependencies run model <- frontier <- server)
//! and holds no code yet; the server issue fills it.
