//! SQuAD F1 as a search fitness: one dev pass per configuration (Drop-and-Restore
//! keeps every token's state, so the classification evaluator's [CLS]-only shortcuts do not
//! apply).

use lat_model::train::{SquadDevSet, score_predictions};
use lat_model::{BertForQuestionAnswering, LengthConfig};

use crate::search::Fitness;

/// F1 (percent) of a QA model on a SQuAD dev set.
pub struct SquadF1<'a> {
    /// The model.
    pub model: &'a BertForQuestionAnswering,
    /// The questions and their windows.
    pub dev: &'a SquadDevSet,
}

impl Fitness for SquadF1<'_> {
    type Error = std::convert::Infallible;

    fn scores(&mut self, configs: &[LengthConfig]) -> Result<Vec<f64>, Self::Error> {
        Ok(configs
            .iter()
            .map(|c| score_predictions(&self.dev.examples, &self.dev.predict(self.model, c)).f1)
            .collect())
    }
}
