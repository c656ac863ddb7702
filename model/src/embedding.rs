//! Word + position + token-type embeddings, then LayerNorm.
//!
//! Mirrors HF `BertEmbeddings` (modeling_bert.py) with absolute positions 0..N.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Int, Tensor};

use crate::config::BertConfig;
use crate::fused_ops::dropout;

/// The embedding block of a BERT encoder.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// HF `embeddings.word_embeddings`.
    pub word_embeddings: Embedding,
    /// HF `embeddings.position_embeddings`.
    pub position_embeddings: Embedding,
    /// HF `embeddings.token_type_embeddings`.
    pub token_type_embeddings: Embedding,
    /// HF `embeddings.LayerNorm`.
    pub layer_norm: LayerNorm,
    dropout: Dropout,
}

impl BertEmbeddings {
    /// Randomly initialised embeddings for `config`.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        let d = config.hidden_size;
        Self {
            word_embeddings: EmbeddingConfig::new(config.vocab_size, d).init(device),
            position_embeddings: EmbeddingConfig::new(config.max_position_embeddings, d)
                .init(device),
            token_type_embeddings: EmbeddingConfig::new(config.type_vocab_size, d).init(device),
            layer_norm: LayerNormConfig::new(d)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    /// Embeds a padded batch.
    ///
    /// # Shapes
    /// - `input_ids`, `token_type_ids`: `[batch_size, seq_length]`
    /// - output: `[batch_size, seq_length, hidden_size]`
    ///
    /// # Panics
    /// If `seq_length` exceeds the learned positions (`max_position_embeddings`); callers
    /// truncate first (see `BertTokenizer`).
    pub fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch_size, seq_length] = input_ids.dims();
        let max_positions = self.position_embeddings.weight.val().dims()[0];
        assert!(
            seq_length <= max_positions,
            "input of {seq_length} tokens exceeds the model's {max_positions} positions"
        );
        let device = input_ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq_length as i64, &device)
            .reshape([1, seq_length])
            .expand([batch_size, seq_length]);
        let x = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.forward(positions)
            + self.token_type_embeddings.forward(token_type_ids);
        dropout(&self.dropout, self.layer_norm.forward(x))
    }
}
