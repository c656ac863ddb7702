//! The length-adaptive encoder loop (HF `BertEncoder` plus LengthDrop at inference).
//!
//! Per layer i, for every input b of n_b real tokens: attention runs on the tokens layer i-1
//! kept; if any input keeps fewer, tokens are ranked by the attention they receive and only
//! the k_{i,b} most significant go on to the FFN and the next layers (smaller tensors, not
//! masks). A layer where no input drops a token takes the fused-attention fast path; this
//! changes nothing mathematically, since a BERT layer is equivariant to token order.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::config::BertConfig;
use crate::encoder_state::EncoderState;
use crate::layer::BertLayer;
use crate::length_config::LengthConfig;
use crate::token_drop::{gather_tokens, select_tokens};

/// How dropped tokens are treated, by task kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropMode {
    /// Sequence tasks: [CLS] is always kept and only the kept tokens come out.
    Extract,
    /// Token tasks: Drop-and-Restore, a full-length output where every dropped token carries
    /// its last representation.
    DropAndRestore,
}

/// The stack of encoder layers.
#[derive(Module, Debug)]
pub struct BertEncoder {
    /// HF `encoder.layer.{i}`.
    pub layer: Vec<BertLayer>,
}

/// What the encoder returns.
#[derive(Debug)]
pub struct EncoderOutput {
    /// `Extract`: `[batch_size, K, hidden]`, the kept tokens with [CLS] in slot 0 (rows with
    /// fewer than K kept tokens are padded at the end). `DropAndRestore`:
    /// `[batch_size, N, hidden]` in input order.
    pub last_hidden_state: Tensor<3>,
    /// Real tokens each input kept after each layer: `kept_tokens[b][i]`.
    pub kept_tokens: Vec<Vec<usize>>,
}

impl BertEncoder {
    /// Randomly initialised layers for `config`.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        Self {
            layer: (0..config.num_hidden_layers)
                .map(|_| BertLayer::init(config, device))
                .collect(),
        }
    }

    /// Runs the layers under a length configuration.
    ///
    /// # Shapes
    /// - `x`: `[batch_size, N, hidden]`, right-padded; `lengths[b]` real tokens in row b.
    ///
    /// # Panics
    /// If `config` is written for a different depth or `lengths` does not match the batch.
    pub fn forward(
        &self,
        x: Tensor<3>,
        lengths: &[usize],
        config: &LengthConfig,
        mode: DropMode,
    ) -> EncoderOutput {
        assert_eq!(
            config.num_layers(),
            self.layer.len(),
            "length configuration depth"
        );
        let [batch_size, _, _] = x.dims();
        assert_eq!(lengths.len(), batch_size, "one length per batch row");

        let kept_tokens: Vec<Vec<usize>> = lengths.iter().map(|&n| config.keep_counts(n)).collect();
        let mut state = EncoderState::new(x, lengths, mode);
        for i in (0..self.layer.len()).filter(|&i| !config.is_skipped(i)) {
            let keep: Vec<usize> = kept_tokens.iter().map(|k| k[i]).collect();
            state = self.forward_layer(i, state, &keep, mode);
        }
        EncoderOutput {
            last_hidden_state: state.finish(),
            kept_tokens,
        }
    }

    /// Runs layer `i` alone, after which row r keeps `keep[r]` of its tokens.
    ///
    /// # Panics
    /// If `keep` does not have one count per row.
    pub fn forward_layer(
        &self,
        i: usize,
        state: EncoderState,
        keep: &[usize],
        mode: DropMode,
    ) -> EncoderState {
        let drops = keep != state.counts();
        self.run_layer(i, state, keep, mode, drops)
    }

    /// Like [`Self::forward_layer`], but the kept tokens always come out ranked ([CLS]
    /// first in `Extract` mode, then by descending significance) even when nothing is
    /// dropped, so that [`EncoderState::select_prefixes`] may cut them.
    pub fn forward_layer_ranked(
        &self,
        i: usize,
        state: EncoderState,
        keep: &[usize],
        mode: DropMode,
    ) -> EncoderState {
        self.run_layer(i, state, keep, mode, true)
    }

    /// Runs layer `i` for the first token ([CLS]) alone: its output `[rows, hidden]`, as
    /// `Extract` mode would put it in slot 0. Which other tokens the layer would keep cannot
    /// change it, so a classifier's last layer needs no selection and no FFN on them.
    pub fn forward_layer_first_token(&self, i: usize, state: EncoderState) -> Tensor<2> {
        let layer = &self.layer[i];
        let first = layer.attention.forward_first(state.hidden, &state.mask);
        let [rows, hidden] = first.dims();
        layer
            .feed_forward(first.reshape([rows, 1, hidden]))
            .reshape([rows, hidden])
    }

    fn run_layer(
        &self,
        i: usize,
        state: EncoderState,
        keep: &[usize],
        mode: DropMode,
        drops: bool,
    ) -> EncoderState {
        assert_eq!(keep.len(), state.counts().len(), "one keep count per row");
        let layer = &self.layer[i];
        let EncoderState {
            hidden: x,
            mask,
            mut restore,
        } = state;
        let attention = layer.attention.forward(x.clone(), &mask, drops);
        let mut hidden = attention.hidden_states;
        let mut mask = mask;
        if let Some(significance) = attention.significance {
            let selection = select_tokens(significance, &mask, keep, mode == DropMode::Extract);
            if let Some(restore) = restore.as_mut() {
                restore.record(x);
                restore.select(&selection.indices, &selection.mask);
            }
            hidden = gather_tokens(hidden, &selection.indices);
            mask = selection.mask;
        }
        EncoderState {
            hidden: layer.feed_forward(hidden),
            mask,
            restore,
        }
    }
}
