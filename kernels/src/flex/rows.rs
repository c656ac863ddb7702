//! Moving token rows between sequences: the selection's gather and Drop-and-Restore's
//! scatter. burn's gather and scatter index every element through an expanded index
//! tensor (a tenth of the forward at a frontier point, measured); here a row is one copy.

use burn::tensor::{Int, Tensor};

use super::tensors::{flex_f32, from_vec, values};

/// `out[b, j, :] = x[b, indices[b, j], :]`, `[batch_size, width, hidden]`; `None` when the
/// kernels cannot run here or an index is out of range.
pub fn gather_tokens(x: &Tensor<3>, indices: &Tensor<2, Int>) -> Option<Tensor<3>> {
    if !crate::cpu::enabled() {
        return None;
    }
    let [batch_size, n, hidden] = x.dims();
    let [rows, width] = indices.dims();
    let source = flex_f32(x)?;
    let source = values(&source);
    let index = int_values(indices, n)?;
    if rows != batch_size {
        return None;
    }
    let mut out = Vec::with_capacity(batch_size * width * hidden);
    for (b, slots) in index
        .chunks_exact(width.max(1))
        .enumerate()
        .take(batch_size)
    {
        for &slot in slots {
            let start = (b * n + slot) * hidden;
            out.extend_from_slice(&source[start..start + hidden]);
        }
    }
    Some(from_vec(out, [batch_size, width, hidden]))
}

/// `buffer` with `buffer[b, positions[b, j], :] = x[b, j, :]` for every slot j (later
/// slots win on repeats, as burn's assigning scatter); `None` when the kernels cannot run
/// here or a position is out of range.
pub fn scatter_tokens(
    buffer: &Tensor<3>,
    positions: &Tensor<2, Int>,
    x: &Tensor<3>,
) -> Option<Tensor<3>> {
    if !crate::cpu::enabled() {
        return None;
    }
    let [batch_size, length, hidden] = buffer.dims();
    let [rows, width, x_hidden] = x.dims();
    let target = flex_f32(buffer)?;
    let source = flex_f32(x)?;
    if rows != batch_size || x_hidden != hidden || positions.dims() != [batch_size, width] {
        return None;
    }
    let index = int_values(positions, length)?;
    let mut out = values(&target).to_vec();
    let source = values(&source);
    for b in 0..batch_size {
        for j in 0..width {
            let to = (b * length + index[b * width + j]) * hidden;
            let from = (b * width + j) * hidden;
            out[to..to + hidden].copy_from_slice(&source[from..from + hidden]);
        }
    }
    Some(from_vec(out, [batch_size, length, hidden]))
}

/// An index tensor's values, each checked to be below `bound`.
fn int_values(indices: &Tensor<2, Int>, bound: usize) -> Option<Vec<usize>> {
    let data = indices.clone().into_data().convert::<i64>();
    let raw = data.as_slice::<i64>().ok()?;
    raw.iter()
        .map(|&i| usize::try_from(i).ok().filter(|&i| i < bound))
        .collect()
}
