//! Packed weights, cached per weight tensor.
//!
//! Packing a weight costs about as much as multiplying it by a short input, so packed
//! copies are kept, keyed by the identity of the tensors they came from. Each entry holds
//! clones of those tensors (a reference count, not a copy), so their storage cannot be
//! freed and reused under another weight while the entry lives; retrained weights are new
//! tensors and get new entries. An entry whose tensors nobody else holds any more (a model
//! dropped, weights replaced by training) can never be hit again and is dropped at the
//! next insertion; beyond that the cache is bounded and evicts the least recently used.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use burn::nn::Linear;
use burn_flex::FlexTensor;

use super::tensors::{flex_f32, flex_primitive, values};
use crate::PackedWeight;
use crate::cpu::Precision;

/// Entries kept; one model layer uses four (QKV, attention output, FFN in, FFN out).
const CAPACITY: usize = 256;

struct Entry {
    sources: Vec<FlexTensor>,
    packed: Arc<PackedWeight>,
}

static CACHE: Mutex<VecDeque<Entry>> = Mutex::new(VecDeque::new());

fn same(a: &FlexTensor, b: &FlexTensor) -> bool {
    Arc::ptr_eq(&a.data_arc(), &b.data_arc()) && a.layout() == b.layout()
}

fn same_sources(a: &[FlexTensor], b: &[FlexTensor]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
}

/// The linears' weights side by side (`[k, Σ n_i]`) with their biases, packed; `None`
/// when a parameter is not an f32 flex tensor or the inputs differ in k.
pub(crate) fn packed(linears: &[&Linear]) -> Option<Arc<PackedWeight>> {
    let mut sources = Vec::with_capacity(2 * linears.len());
    for linear in linears {
        sources.push(flex_primitive(&linear.weight.val())?);
        if let Some(bias) = &linear.bias {
            sources.push(flex_primitive(&bias.val())?);
        }
    }
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    // An entry packed while inference ran f32 lacks the bf16 tiles: a miss in bf16.
    let bf16 = crate::cpu::precision() == Precision::Bf16;
    let hit = cache
        .iter()
        .position(|e| same_sources(&e.sources, &sources) && (e.packed.has_bf16() || !bf16));
    if let Some(i) = hit {
        let entry = cache.remove(i)?;
        let packed = Arc::clone(&entry.packed);
        cache.push_front(entry);
        return Some(packed);
    }
    drop(cache);
    let packed = Arc::new(pack(linears, bf16)?);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    // Also drops this weight's f32-only entry when bf16 tiles replace it.
    cache.retain(|e| {
        !e.sources.iter().any(FlexTensor::is_unique) && !same_sources(&e.sources, &sources)
    });
    cache.push_front(Entry {
        sources,
        packed: Arc::clone(&packed),
    });
    cache.truncate(CAPACITY);
    Some(packed)
}

/// Packed weights held right now (live models' linears, packed side by side per call site).
pub fn cached_packed_weights() -> usize {
    CACHE.lock().unwrap_or_else(PoisonError::into_inner).len()
}

fn pack(linears: &[&Linear], bf16: bool) -> Option<PackedWeight> {
    let k = linears.first()?.weight.dims()[0];
    let widths: Vec<usize> = linears.iter().map(|l| l.weight.dims()[1]).collect();
    if linears.iter().any(|l| l.weight.dims()[0] != k) {
        return None;
    }
    let n: usize = widths.iter().sum();
    let mut weight = vec![0.0f32; k * n];
    let mut bias = vec![0.0f32; n];
    let mut c0 = 0;
    for (linear, &width) in linears.iter().zip(&widths) {
        let w = flex_f32(&linear.weight.val())?;
        for (row, src) in values(&w).chunks_exact(width).enumerate() {
            weight[row * n + c0..row * n + c0 + width].copy_from_slice(src);
        }
        if let Some(b) = &linear.bias {
            bias[c0..c0 + width].copy_from_slice(values(&flex_f32(&b.val())?));
        }
        c0 += width;
    }
    let packed = PackedWeight::new(&weight, Some(&bias), k, n);
    Some(if bf16 {
        packed.with_bf16(&weight, Some(&bias))
    } else {
        packed
    })
}
