//! Packed weights, held for as long as the weights they came from.
//!
//! Packing a weight costs about as much as multiplying it by a short input, so packed
//! copies are kept, keyed by the identity of the tensors they came from. Each entry holds
//! clones of those tensors (a reference count, not a copy), so their storage cannot be
//! freed and reused under another weight while the entry lives; retrained weights are new
//! tensors and get new entries. An entry whose tensors nobody else holds any more (a model
//! dropped, weights replaced by training) can never be hit again and is dropped at the
//! next insertion. There is no other bound: every live model keeps all its packed weights
//! (packed by its first forward, which the server runs at warm-up), however many models
//! and layers are served, and a lookup is one hash probe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use burn::nn::Linear;
use burn_flex::FlexTensor;

use super::tensors::{flex_f32, flex_primitive, values};
use crate::PackedWeight;
use crate::cpu::Precision;

struct Entry {
    sources: Vec<FlexTensor>,
    packed: Arc<PackedWeight>,
}

/// Entries by the address of their first source's storage (several call sites may share
/// it, e.g. a weight packed alone and beside others).
static CACHE: LazyLock<Mutex<HashMap<usize, Vec<Entry>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static PACKS_BUILT: AtomicUsize = AtomicUsize::new(0);

fn same(a: &FlexTensor, b: &FlexTensor) -> bool {
    Arc::ptr_eq(&a.data_arc(), &b.data_arc()) && a.layout() == b.layout()
}

fn same_sources(a: &[FlexTensor], b: &[FlexTensor]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
}

fn key(sources: &[FlexTensor]) -> usize {
    sources
        .first()
        .map_or(0, |t| Arc::as_ptr(&t.data_arc()).cast::<u8>() as usize)
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
    let key = key(&sources);
    // An entry packed while inference ran f32 lacks the bf16 tiles: a miss in bf16.
    let bf16 = crate::cpu::precision() == Precision::Bf16;
    let hit = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .and_then(|entries| {
            entries
                .iter()
                .find(|e| same_sources(&e.sources, &sources) && (e.packed.has_bf16() || !bf16))
                .map(|e| Arc::clone(&e.packed))
        });
    if hit.is_some() {
        return hit;
    }
    let packed = Arc::new(pack(linears, bf16)?);
    PACKS_BUILT.fetch_add(1, Ordering::Relaxed);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    // Also drops this weight's f32-only entry when bf16 tiles replace it.
    for entries in cache.values_mut() {
        entries.retain(|e| {
            !e.sources.iter().any(FlexTensor::is_unique) && !same_sources(&e.sources, &sources)
        });
    }
    cache.retain(|_, entries| !entries.is_empty());
    cache.entry(key).or_default().push(Entry {
        sources,
        packed: Arc::clone(&packed),
    });
    Some(packed)
}

/// Packed weights held right now (live models' linears, packed side by side per call site).
pub fn cached_packed_weights() -> usize {
    CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .map(Vec::len)
        .sum()
}

/// Weights packed since the process started: flat once every served layer is packed
/// (a rise under steady traffic would mean repacking on the request path).
pub fn packs_built() -> usize {
    PACKS_BUILT.load(Ordering::Relaxed)
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
