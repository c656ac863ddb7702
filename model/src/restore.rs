//! The Drop-and-Restore buffer for token tasks (reference notes, section 1, step 5).
//!
//! A full-length buffer seeded with the embedding output; a token dropped in layer i keeps
//! its last representation (the input of layer i). Rather than scattering after every layer
//! as the reference does, the buffer records each dropping layer's input and, at the end,
//! the last layer's output: the same final values with one scatter per dropping layer.
//!
//! Slots that hold no real token (padding, or tokens a shorter row did not keep) are sent to
//! a scratch half of the buffer at `N + slot`, so that every scatter index is unique.

use burn::tensor::ops::IndexingUpdateOp;
use burn::tensor::{Int, Tensor, TensorData};

use crate::token_drop::TokenMask;

/// Full-length buffer plus each current slot's original position.
#[derive(Debug, Clone)]
pub struct RestoreBuffer {
    buffer: Tensor<3>,
    positions: Tensor<2, Int>,
    seq_length: usize,
}

impl RestoreBuffer {
    /// Seeds the buffer with the embedding output `[batch_size, N, hidden]`.
    pub fn new(embeddings: Tensor<3>, mask: &TokenMask) -> Self {
        let [batch_size, seq_length, _] = embeddings.dims();
        let scratch = embeddings.zeros_like();
        let identity = Tensor::<1, Int>::arange(0..seq_length as i64, &embeddings.device())
            .reshape([1, seq_length])
            .expand([batch_size, seq_length]);
        Self {
            buffer: Tensor::cat(vec![embeddings, scratch], 1),
            positions: route_padding(identity, mask, seq_length),
            seq_length,
        }
    }

    /// Rows `index` of the buffer, for a state narrowed to `width` slots.
    pub fn select_rows(&self, index: &Tensor<1, Int>, width: usize) -> Self {
        let positions = self.positions.clone().select(0, index.clone());
        let [rows, _] = positions.dims();
        Self {
            buffer: self.buffer.clone().select(0, index.clone()),
            positions: positions.slice([0..rows, 0..width]),
            seq_length: self.seq_length,
        }
    }

    /// Writes the current representation of every real slot to its original position.
    pub fn record(&mut self, x: Tensor<3>) {
        if let Some(buffer) = lat_kernels::flex::scatter_tokens(&self.buffer, &self.positions, &x) {
            self.buffer = buffer;
            return;
        }
        let [batch_size, width, hidden] = x.dims();
        let index = self
            .positions
            .clone()
            .reshape([batch_size, width, 1])
            .expand([batch_size, width, hidden]);
        self.buffer = self
            .buffer
            .clone()
            .scatter(1, index, x, IndexingUpdateOp::Assign);
    }

    /// Follows a selection: slot j now holds what slot `indices[b, j]` held.
    pub fn select(&mut self, indices: &Tensor<2, Int>, mask: &TokenMask) {
        let positions = self.positions.clone().gather(1, indices.clone());
        self.positions = route_padding(positions, mask, self.seq_length);
    }

    /// Records the last layer's output and returns the restored `[batch_size, N, hidden]`.
    pub fn finish(mut self, x: Tensor<3>) -> Tensor<3> {
        self.record(x);
        let [batch_size, _, hidden] = self.buffer.dims();
        self.buffer
            .slice([0..batch_size, 0..self.seq_length, 0..hidden])
    }
}

/// Original positions for real slots; `seq_length + slot` (scratch) for the others.
fn route_padding(positions: Tensor<2, Int>, mask: &TokenMask, seq_length: usize) -> Tensor<2, Int> {
    let [batch_size, width] = positions.dims();
    let scratch: Vec<i64> = (0..batch_size)
        .flat_map(|_| (0..width).map(|slot| (seq_length + slot) as i64))
        .collect();
    let scratch = Tensor::from_data(
        TensorData::new(scratch, [batch_size, width]),
        &positions.device(),
    );
    positions.mask_where(mask.padding.clone(), scratch)
}
