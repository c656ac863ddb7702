//! Dataset readers.

mod glue;

pub use glue::{ClassificationDataset, ClassificationExample, TsvColumns, read_glue_tsv};
