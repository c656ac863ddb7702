//! What the training attention takes and returns.

use super::product::Head;
use crate::dropout::DropoutMask;
use crate::gemm::NR;

/// Operands of a training attention call over `batch_size` sequences of `n` tokens.
#[derive(Debug, Clone, Copy)]
pub struct TrainAttentionInput<'a> {
    /// Queries, row-major `[batch_size * n, heads * head_dim]`.
    pub q: &'a [f32],
    /// Keys, as the queries.
    pub k: &'a [f32],
    /// Values, as the queries.
    pub v: &'a [f32],
    /// Additive score bias per key, `[batch_size, n]` (0, or a large negative number for padding).
    pub key_bias: &'a [f32],
    /// Weight of each query row in the significance, `[batch_size, n]`; `None` when no
    /// significance is wanted.
    pub voters: Option<&'a [f32]>,
    /// Dropout on the probabilities; `None` for none.
    pub dropout: Option<DropoutMask>,
    /// Sequences.
    pub batch_size: usize,
    /// Tokens per sequence.
    pub n: usize,
    /// Heads.
    pub heads: usize,
    /// Width of one head (a multiple of 32).
    pub head_dim: usize,
}

/// What the forward returns and keeps.
#[derive(Debug, Clone)]
pub struct TrainAttentionForward {
    /// Context, `[batch_size * n, heads * head_dim]`.
    pub context: Vec<f32>,
    /// Probabilities before dropout, `[batch_size * heads][n][n_pad]` with `n_pad` the
    /// key count rounded up to 32 (padding columns hold 0).
    pub probs: Vec<f32>,
    /// Attention received per key, `[batch_size, n]`, when voters were given.
    pub significance: Option<Vec<f32>>,
}

/// Gradients of the queries, keys and values, each shaped as its input.
#[derive(Debug, Clone)]
pub struct TrainAttentionGrads {
    /// `∂Q`.
    pub q: Vec<f32>,
    /// `∂K`.
    pub k: Vec<f32>,
    /// `∂V`.
    pub v: Vec<f32>,
}

impl TrainAttentionInput<'_> {
    /// Where task `task` (sequence `task / heads`, head `task % heads`) lies.
    pub(super) fn head(&self, task: usize) -> Head {
        let (seq, hd) = (task / self.heads, task % self.heads);
        Head {
            base: seq * self.n * self.width() + hd * self.head_dim,
            n: self.n,
            n_pad: self.n_pad(),
            dh: self.head_dim,
            width: self.width(),
        }
    }

    pub(super) fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    pub(super) fn n_pad(&self) -> usize {
        self.n.next_multiple_of(NR)
    }

    pub(super) fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }

    pub(super) fn check(&self) {
        assert!(crate::cpu::avx512(), "the attention kernel needs AVX-512F");
        assert_eq!(self.head_dim % NR, 0, "head width must be a multiple of 32");
        let len = self.batch_size * self.n * self.width();
        for (x, what) in [(self.q, "queries"), (self.k, "keys"), (self.v, "values")] {
            assert_eq!(x.len(), len, "{what} are not [batch_size * n, width]");
        }
        assert_eq!(
            self.key_bias.len(),
            self.batch_size * self.n,
            "key bias shape"
        );
        if let Some(voters) = self.voters {
            assert_eq!(voters.len(), self.batch_size * self.n, "voters shape");
        }
    }

    /// Index of probability `(task, i, 0)` in a dense `[batch_size, heads, n, n]` tensor:
    /// the dropout mask's counter, independent of the padding.
    pub(super) fn mask_base(&self, task: usize, i: usize) -> usize {
        (task * self.n + i) * self.n
    }
}
