//! `POST /v1/classify`.

use serde::{Deserialize, Serialize};

use crate::api::budget::BudgetRequest;
use crate::api::spent::Spent;

/// One text or a text pair.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ClassifyInput {
    /// A single text.
    Text(String),
    /// A pair (`text`, `text_pair`), as in the HF text-classification task spec.
    Pair {
        /// The first text.
        text: String,
        /// The second text.
        text_pair: String,
    },
}

/// One input or a list of them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ClassifyInputs {
    /// A single input.
    One(ClassifyInput),
    /// Several inputs, answered in order.
    Many(Vec<ClassifyInput>),
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// What to classify.
    pub inputs: ClassifyInputs,
    /// Served model; optional when the server serves one classification model.
    #[serde(default)]
    pub model: Option<String>,
    /// What each input may spend; none: the best frontier point (or the SLO mode's).
    #[serde(default)]
    pub budget: Option<BudgetRequest>,
    /// Refuse (422) instead of serving the cheapest point when nothing fits.
    #[serde(default)]
    pub strict: bool,
    /// Cut inputs longer than the model's maximum (default); false refuses them.
    #[serde(default = "yes")]
    pub truncate: bool,
}

fn yes() -> bool {
    true
}

impl ClassifyRequest {
    /// The inputs as a list.
    pub fn input_list(&self) -> Vec<&ClassifyInput> {
        match &self.inputs {
            ClassifyInputs::One(one) => vec![one],
            ClassifyInputs::Many(many) => many.iter().collect(),
        }
    }
}

/// A class and its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    /// Class name.
    pub label: String,
    /// Softmax probability.
    pub score: f64,
}

/// The answer for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassifyResult {
    /// The most probable class.
    pub label: String,
    /// Every class by descending probability.
    pub scores: Vec<LabelScore>,
    /// Whether the input was cut to the model's maximum length.
    pub truncated: bool,
    /// What it cost.
    pub spent: Spent,
}

/// The response body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassifyResponse {
    /// The model that answered.
    pub model: String,
    /// One result per input, in order.
    pub results: Vec<ClassifyResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pair_and_lists_parse() {
        let one: ClassifyRequest = serde_json::from_str(r#"{"inputs": "fine"}"#).unwrap();
        assert_eq!(one.input_list(), vec![&ClassifyInput::Text("fine".into())]);
        assert!(one.truncate);
        let pair: ClassifyRequest =
            serde_json::from_str(r#"{"inputs": {"text": "a", "text_pair": "b"}}"#).unwrap();
        assert!(matches!(pair.input_list()[0], ClassifyInput::Pair { .. }));
        let many: ClassifyRequest = serde_json::from_str(
            r#"{"inputs": ["a", {"text": "b", "text_pair": "c"}], "strict": true}"#,
        )
        .unwrap();
        assert_eq!(many.input_list().len(), 2);
        assert!(many.strict);
        assert!(serde_json::from_str::<ClassifyRequest>(r#"{"inputs": 3}"#).is_err());
        assert!(serde_json::from_str::<ClassifyRequest>(r#"{"input": "a"}"#).is_err());
    }
}
