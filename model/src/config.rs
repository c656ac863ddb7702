//! The encoder's hyper-parameters, named exactly as in a Hugging Face `config.json`.
//!
//! Mirrors `transformers.BertConfig`; fields the encoder does not use are ignored on read.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// BERT-family configuration, deserialised straight from an HF `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// HF architecture family; only `bert` (which covers MiniLM) is supported.
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Vocabulary size of the word embeddings.
    pub vocab_size: usize,
    /// Hidden size d.
    pub hidden_size: usize,
    /// Number of encoder layers L.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// FFN inner size f.
    pub intermediate_size: usize,
    /// FFN activation; only the exact (erf) `gelu` is supported.
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// Number of learned absolute positions (the longest input the model accepts).
    pub max_position_embeddings: usize,
    /// Number of segment (token type) embeddings.
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[serde(default)]
    pub pad_token_id: usize,
    /// Dropout on hidden states (training only).
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities (training only).
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// Position embedding scheme; only `absolute` is supported.
    #[serde(default = "default_position_embedding_type")]
    pub position_embedding_type: String,
}

fn default_model_type() -> String {
    "bert".into()
}
fn default_hidden_act() -> String {
    "gelu".into()
}
fn default_type_vocab_size() -> usize {
    2
}
fn default_layer_norm_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}
fn default_position_embedding_type() -> String {
    "absolute".into()
}

impl BertConfig {
    /// Parses and validates an HF `config.json` document.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that this crate can run the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.model_type != "bert" {
            return Err(ConfigError::UnknownArchitecture(self.model_type.clone()));
        }
        let unsupported = |field: &'static str, value: &str| ConfigError::Unsupported {
            field,
            value: value.to_string(),
        };
        if self.hidden_act != "gelu" {
            return Err(unsupported("hidden_act", &self.hidden_act));
        }
        if self.position_embedding_type != "absolute" {
            return Err(unsupported(
                "position_embedding_type",
                &self.position_embedding_type,
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(unsupported(
                "num_attention_heads",
                &format!(
                    "{} (must divide hidden_size {})",
                    self.num_attention_heads, self.hidden_size
                ),
            ));
        }
        if self.num_hidden_layers == 0 {
            return Err(unsupported("num_hidden_layers", "0"));
        }
        Ok(())
    }

    /// A tiny configuration for tests and examples (random weights, fast on CPU).
    pub fn tiny(num_hidden_layers: usize) -> Self {
        Self {
            model_type: default_model_type(),
            vocab_size: 64,
            hidden_size: 32,
            num_hidden_layers,
            num_attention_heads: 4,
            intermediate_size: 64,
            hidden_act: default_hidden_act(),
            max_position_embeddings: 64,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            position_embedding_type: default_position_embedding_type(),
        }
    }

    /// Size of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_minilm_config_and_ignores_extra_fields() {
        let text = r#"{"architectures":["BertModel"],"hidden_act":"gelu","hidden_size":384,
            "intermediate_size":1536,"layer_norm_eps":1e-12,"max_position_embeddings":512,
            "model_type":"bert","num_attention_heads":12,"num_hidden_layers":6,
            "pad_token_id":0,"type_vocab_size":2,"vocab_size":30522,"use_cache":true}"#;
        let config = BertConfig::from_json(text).expect("valid config");
        assert_eq!(config.hidden_size, 384);
        assert_eq!(config.head_size(), 32);
        assert_eq!(config.num_hidden_layers, 6);
    }

    #[test]
    fn rejects_unknown_architecture_and_activation() {
        let base = serde_json::to_value(BertConfig::tiny(2)).expect("serialise");
        let mut gpt = base.clone();
        gpt["model_type"] = "gpt2".into();
        let err = BertConfig::from_json(&gpt.to_string()).expect_err("gpt2 must fail");
        assert!(
            matches!(err, ConfigError::UnknownArchitecture(ref t) if t == "gpt2"),
            "{err}"
        );

        let mut relu = base;
        relu["hidden_act"] = "relu".into();
        let err = BertConfig::from_json(&relu.to_string()).expect_err("relu must fail");
        assert!(
            matches!(
                err,
                ConfigError::Unsupported {
                    field: "hidden_act",
                    ..
                }
            ),
            "{err}"
        );
    }
}
