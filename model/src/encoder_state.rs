//! The tokens between two encoder layers: what one layer hands the next.
//!
//! Exposed so that a caller can drive the layers one at a time, e.g. the search, which runs a
//! layer once for every input and configuration prefix it shares with others and fans the
//! rows out afterwards ([`EncoderState::select_rows`]).

use burn::tensor::{Int, Tensor, TensorData};

use crate::encoder::DropMode;
use crate::restore::RestoreBuffer;
use crate::token_drop::TokenMask;

/// Hidden states of the tokens still in play, their mask and (Drop-and-Restore) the buffer
/// holding the dropped ones.
#[derive(Debug, Clone)]
pub struct EncoderState {
    /// `[rows, width, hidden]`; row r holds `mask.counts[r]` real tokens, then padding.
    pub hidden: Tensor<3>,
    /// Which slots hold real tokens.
    pub mask: TokenMask,
    pub(crate) restore: Option<RestoreBuffer>,
}

impl EncoderState {
    /// The state before the first layer: the embedding output `[rows, N, hidden]`,
    /// right-padded, with `lengths[r]` real tokens in row r.
    pub fn new(embeddings: Tensor<3>, lengths: &[usize], mode: DropMode) -> Self {
        let [_, width, _] = embeddings.dims();
        let mask = TokenMask::from_counts(lengths, width, &embeddings.device());
        let restore = (mode == DropMode::DropAndRestore)
            .then(|| RestoreBuffer::new(embeddings.clone(), &mask));
        Self {
            hidden: embeddings,
            mask,
            restore,
        }
    }

    /// Real tokens in each row.
    pub fn counts(&self) -> &[usize] {
        &self.mask.counts
    }

    /// A state made of rows `rows` of this one (repeats allowed), narrowed to the widest.
    pub fn select_rows(&self, rows: &[usize]) -> Self {
        let device = self.hidden.device();
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                rows.iter().map(|&r| r as i64).collect::<Vec<_>>(),
                [rows.len()],
            ),
            &device,
        );
        let counts: Vec<usize> = rows.iter().map(|&r| self.mask.counts[r]).collect();
        let width = counts.iter().copied().max().unwrap_or(0);
        let [_, _, hidden_size] = self.hidden.dims();
        let hidden = self.hidden.clone().select(0, index.clone()).slice([
            0..rows.len(),
            0..width,
            0..hidden_size,
        ]);
        Self {
            hidden,
            mask: TokenMask::from_counts(&counts, width, &device),
            restore: self.restore.as_ref().map(|r| r.select_rows(&index, width)),
        }
    }

    /// A state whose row j is row `rows[j]` of this one cut to its first `counts[j]` tokens.
    ///
    /// Right after [`crate::BertEncoder::forward_layer_ranked`] in `Extract` mode this equals
    /// running that layer with the smaller count: top-k selections are nested, so the k most
    /// significant tokens lead the k' >= k kept ones, and the FFN works token by token. One
    /// layer pass then serves every count a caller needs.
    ///
    /// # Panics
    /// If a count exceeds its row's tokens, or the state carries a Drop-and-Restore buffer
    /// (whose dropped tokens depend on the count).
    pub fn select_prefixes(&self, rows: &[usize], counts: &[usize]) -> Self {
        assert!(
            self.restore.is_none(),
            "prefix cuts apply to Extract mode only"
        );
        assert_eq!(rows.len(), counts.len(), "one count per row");
        for (&r, &c) in rows.iter().zip(counts) {
            assert!(
                c <= self.mask.counts[r],
                "row {r} has fewer than {c} tokens"
            );
        }
        let mut state = self.select_rows(rows);
        let width = counts.iter().copied().max().unwrap_or(0);
        let [n, _, hidden_size] = state.hidden.dims();
        state.hidden = state.hidden.slice([0..n, 0..width, 0..hidden_size]);
        state.mask = TokenMask::from_counts(counts, width, &self.hidden.device());
        state
    }

    /// The encoder's output: the kept tokens (`Extract`) or the restored full-length
    /// sequence (`DropAndRestore`).
    pub fn finish(self) -> Tensor<3> {
        match self.restore {
            Some(restore) => restore.finish(self.hidden),
            None => self.hidden,
        }
    }
}
