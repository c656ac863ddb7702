//! A right-padded batch of tokenised inputs, ready for the encoder.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::tokenizer::Encoded;

/// Token ids, segment ids and real lengths of a padded batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[batch_size, N]` token ids, padded with the pad id.
    pub input_ids: Tensor<2, Int>,
    /// `[batch_size, N]` segment ids (0 for the first text, 1 for the second).
    pub token_type_ids: Tensor<2, Int>,
    /// Real tokens per row; padding follows them.
    pub lengths: Vec<usize>,
}

impl Batch {
    /// Pads `inputs` to the longest one (no further: padding costs compute).
    ///
    /// # Panics
    /// If `inputs` is empty or an input has no tokens.
    pub fn new(inputs: &[Encoded], pad_token_id: u32, device: &Device) -> Self {
        assert!(!inputs.is_empty(), "a batch needs at least one input");
        let lengths: Vec<usize> = inputs.iter().map(|e| e.input_ids.len()).collect();
        assert!(
            lengths.iter().all(|&n| n > 0),
            "every input needs at least one token"
        );
        let width = lengths.iter().copied().max().unwrap_or(0);
        let pad = |values: &[u32], fill: u32| -> Vec<i64> {
            values
                .iter()
                .copied()
                .chain(std::iter::repeat(fill))
                .take(width)
                .map(i64::from)
                .collect()
        };
        let ids: Vec<i64> = inputs
            .iter()
            .flat_map(|e| pad(&e.input_ids, pad_token_id))
            .collect();
        let types: Vec<i64> = inputs
            .iter()
            .flat_map(|e| pad(&e.token_type_ids, 0))
            .collect();
        let shape = [inputs.len(), width];
        Self {
            input_ids: Tensor::from_data(TensorData::new(ids, shape), device),
            token_type_ids: Tensor::from_data(TensorData::new(types, shape), device),
            lengths,
        }
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether the batch has no inputs (never true for a batch built by [`Batch::new`]).
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}
