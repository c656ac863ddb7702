//! Which tokens survive a layer (reference notes, section 1, step 3).
//!
//! Invariant kept throughout the encoder: in every row the real tokens occupy the first
//! `counts[b]` slots and the rest is padding. It holds for right-padded input and after every
//! selection, because top-k lists real tokens (any score) before padding (a huge negative
//! score). Batching mixed lengths therefore only ever adds masked slots at the end of a row;
//! a masked slot never takes a real token's place and never votes (batch invariance).

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// Score given to padding so that it ranks below every real token.
const PADDING_SCORE: f32 = -1.0e9;
/// Score given to [CLS] when it must survive.
const FORCED_SCORE: f32 = 1.0e9;

/// The real-token layout of the current (possibly reduced) sequence.
#[derive(Debug, Clone)]
pub struct TokenMask {
    /// `[batch_size, n]`, true where the slot is not a real token.
    pub padding: Tensor<2, Bool>,
    /// `[batch_size, n]`, 1.0 for real tokens and 0.0 elsewhere.
    pub real: Tensor<2>,
    /// Real tokens per row; they sit in slots `0..counts[b]`.
    pub counts: Vec<usize>,
}

impl TokenMask {
    /// Mask for rows whose first `counts[b]` of `width` slots are real.
    pub fn from_counts(counts: &[usize], width: usize, device: &Device) -> Self {
        let padding: Vec<bool> = counts
            .iter()
            .flat_map(|&c| (0..width).map(move |slot| slot >= c))
            .collect();
        let padding = Tensor::from_data(TensorData::new(padding, [counts.len(), width]), device);
        let real = padding.clone().bool_not().float();
        Self {
            padding,
            real,
            counts: counts.to_vec(),
        }
    }

    /// Current sequence width n.
    pub fn width(&self) -> usize {
        self.padding.dims()[1]
    }
}

/// The outcome of a selection.
#[derive(Debug, Clone)]
pub struct Selection {
    /// `[batch_size, K]` slots of the current sequence to keep, in descending significance
    /// (as the reference: no re-sort), [CLS] first when forced; K = max of `keep`.
    pub indices: Tensor<2, Int>,
    /// Layout after the selection: row b keeps exactly `keep[b]` real tokens.
    pub mask: TokenMask,
}

/// Picks the `keep[b]` most significant real tokens of every row, [CLS] (slot 0) always
/// among them when `keep_cls` is set.
///
/// # Shapes
/// - `significance`: `[batch_size, n]`
pub fn select_tokens(
    significance: Tensor<2>,
    mask: &TokenMask,
    keep: &[usize],
    keep_cls: bool,
) -> Selection {
    let [batch_size, n] = significance.dims();
    let device = significance.device();
    let width = keep.iter().copied().max().unwrap_or(0).min(n);
    let mut scores = significance.mask_fill(mask.padding.clone(), PADDING_SCORE);
    if keep_cls {
        let cls: Vec<bool> = (0..batch_size)
            .flat_map(|_| (0..n).map(|slot| slot == 0))
            .collect();
        let cls = Tensor::<2, Bool>::from_data(TensorData::new(cls, [batch_size, n]), &device);
        scores = scores.mask_fill(cls, FORCED_SCORE);
    }
    let (_, indices) = scores.topk_with_indices(width, 1);
    Selection {
        indices,
        mask: TokenMask::from_counts(keep, width, &device),
    }
}

/// Gathers the selected slots of a `[batch_size, n, hidden]` tensor.
pub fn gather_tokens(x: Tensor<3>, indices: &Tensor<2, Int>) -> Tensor<3> {
    if let Some(gathered) = lat_kernels::flex::gather_tokens(&x, indices) {
        return gathered;
    }
    let [batch_size, _, hidden] = x.dims();
    let [_, width] = indices.dims();
    let index = indices
        .clone()
        .reshape([batch_size, width, 1])
        .expand([batch_size, width, hidden]);
    x.gather(1, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(t: Tensor<2, Int>) -> Vec<i64> {
        t.into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("int data")
    }

    #[test]
    fn keeps_the_most_attended_real_tokens_and_cls() {
        let device = Device::default();
        // Row 0: 5 real tokens; row 1: 3 real tokens + 2 padding slots with high scores that
        // must still lose to every real token.
        let significance = Tensor::<2>::from_data(
            [[0.1, 3.0, 0.2, 5.0, 1.0], [0.3, 0.9, 0.5, 9.0, 8.0]],
            &device,
        );
        let mask = TokenMask::from_counts(&[5, 3], 5, &device);
        let selection = select_tokens(significance.clone(), &mask, &[3, 2], true);
        // Row 0: [CLS]=0 forced, then 3 (5.0), 1 (3.0). Row 1: [CLS], then 1 (0.9), then the
        // best remaining real token 2 (0.5) fills the width but is masked.
        assert_eq!(ints(selection.indices), vec![0, 3, 1, 0, 1, 2]);
        assert_eq!(selection.mask.counts, vec![3, 2]);
        // Read through Int: backends store Bool differently (wgpu as u32).
        let padding = ints(selection.mask.padding.int());
        assert_eq!(padding, vec![0, 0, 0, 0, 0, 1]);

        // Without [CLS] forcing, row 0 keeps 3, 1, 4.
        let selection = select_tokens(significance, &mask, &[3, 2], false);
        assert_eq!(ints(selection.indices), vec![3, 1, 4, 1, 2, 0]);
    }

    #[test]
    fn gathers_rows_in_selection_order() {
        let device = Device::default();
        let x = Tensor::<3>::from_data([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]], &device);
        let indices = Tensor::<2, Int>::from_data([[2, 0]], &device);
        let gathered: Vec<f32> = gather_tokens(x, &indices)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        assert_eq!(gathered, vec![3.0, 30.0, 1.0, 10.0]);
    }
}
