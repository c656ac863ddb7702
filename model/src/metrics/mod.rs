//! Evaluation metrics: accuracy for classification, SQuAD v1.1 EM/F1 for extractive QA.

mod accuracy;
mod squad;

pub use accuracy::accuracy;
pub use squad::{SquadScores, exact_match, f1_score, normalize_answer, squad_scores};
