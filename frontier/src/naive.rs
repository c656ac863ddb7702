//! The reference's evaluation protocol: one full pass over the dev set per configuration.
//! Kept as the baseline that [`crate::SharedPrefixClassifier`] is measured and checked against.

use lat_model::LengthConfig;
use lat_model::train::ClassificationDevSet;

use crate::search::Fitness;
use crate::shared_prefix::accuracy_percent;

/// Accuracy (percent) by plain batched forward passes, one dev pass per configuration.
pub struct NaiveClassifier<'a> {
    /// The model.
    pub model: &'a lat_model::BertForSequenceClassification,
    /// The dev set.
    pub dev: &'a ClassificationDevSet,
}

impl Fitness for NaiveClassifier<'_> {
    type Error = std::convert::Infallible;

    fn scores(&mut self, configs: &[LengthConfig]) -> Result<Vec<f64>, Self::Error> {
        Ok(configs
            .iter()
            .map(|c| accuracy_percent(&self.dev.predict(self.model, c), &self.dev.features))
            .collect())
    }
}
