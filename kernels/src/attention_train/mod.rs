//! Multi-head attention for training, one task per (sequence, head) as in inference: the
//! forward keeps each head's probabilities (before dropout) for the backward pass, drops
//! them with a counter-based mask that the backward recomputes, and yields the
//! significance from the dropped probabilities (as the composite does in training). The
//! backward runs the four products `∂P′ = ∂C·Vᵀ`, `∂V = P′ᵀ·∂C`, `∂Q = ∂S·K/√d` and
//! `∂K = ∂Sᵀ·Q/√d` on the GEMM micro-tile, with the softmax backward
//! `∂S = P ⊙ (∂P − rowsum(∂P ⊙ P))` between them.
mod backward;
mod forward;
mod io;
mod product;

pub use backward::attention_backward;
pub use forward::attention_forward;
pub use io::{TrainAttentionForward, TrainAttentionGrads, TrainAttentionInput};
