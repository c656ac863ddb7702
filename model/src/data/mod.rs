//! Dataset readers and batching.

mod batching;
mod glue;

pub use batching::{bucketed_batches, sorted_batches};
pub use glue::{ClassificationDataset, ClassificationExample, TsvColumns, read_glue_tsv};
