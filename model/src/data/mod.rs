//! Dataset readers and batching.

mod batching;
mod glue;
mod squad;
mod squad_features;

pub use batching::{bucketed_batches, sorted_batches};
pub use glue::{ClassificationDataset, ClassificationExample, TsvColumns, read_glue_tsv};
pub use squad::{SquadAnswer, SquadArticle, SquadExample, read_squad_json};
pub use squad_features::{SquadFeature, SquadWindows, squad_features, window_spans};
