//! Helpers shared by the integration tests: the device, tiny HF-style checkpoints written
//! from scratch (independent of burn-store's writer), and tolerant comparisons.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use lat_model::{Batch, BertConfig, Encoded};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The test device: burn's default, so `BURN_DEVICE` (and the enabled features) decide.
pub fn device() -> Device {
    Device::default()
}

/// Every tensor of an HF `BertModel` checkpoint for `config`, with its shape.
pub fn encoder_tensors(config: &BertConfig, prefix: &str) -> Vec<(String, Vec<usize>)> {
    let (d, f) = (config.hidden_size, config.intermediate_size);
    let mut t = vec![
        (
            "embeddings.word_embeddings.weight".to_string(),
            vec![config.vocab_size, d],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![config.max_position_embeddings, d],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![config.type_vocab_size, d],
        ),
        ("embeddings.LayerNorm.weight".into(), vec![d]),
        ("embeddings.LayerNorm.bias".into(), vec![d]),
    ];
    for i in 0..config.num_hidden_layers {
        let l = format!("encoder.layer.{i}");
        for (name, out, inp) in [
            ("attention.self.query", d, d),
            ("attention.self.key", d, d),
            ("attention.self.value", d, d),
            ("attention.output.dense", d, d),
            ("intermediate.dense", f, d),
            ("output.dense", d, f),
        ] {
            t.push((format!("{l}.{name}.weight"), vec![out, inp]));
            t.push((format!("{l}.{name}.bias"), vec![out]));
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            t.push((format!("{l}.{norm}.weight"), vec![d]));
            t.push((format!("{l}.{norm}.bias"), vec![d]));
        }
    }
    t.push(("pooler.dense.weight".into(), vec![d, d]));
    t.push(("pooler.dense.bias".into(), vec![d]));
    t.into_iter()
        .map(|(n, s)| (format!("{prefix}{n}"), s))
        .collect()
}

/// Writes a safetensors file of F32 tensors with seeded random values; returns the values.
pub fn write_safetensors(
    path: &Path,
    tensors: &[(String, Vec<usize>)],
    seed: u64,
) -> Vec<Vec<f32>> {
    write_safetensors_as(path, tensors, seed, false)
}

/// [`write_safetensors`], optionally storing F16; the returned values are what the file holds
/// (rounded to half precision when `half`).
pub fn write_safetensors_as(
    path: &Path,
    tensors: &[(String, Vec<usize>)],
    seed: u64,
    half: bool,
) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut header = serde_json::Map::new();
    let mut data: Vec<u8> = Vec::new();
    let mut values = Vec::new();
    for (name, shape) in tensors {
        let count: usize = shape.iter().product();
        let mut v: Vec<f32> = (0..count).map(|_| rng.random_range(-0.5..0.5)).collect();
        let start = data.len();
        let dtype = if half {
            let h: Vec<half::f16> = v.iter().map(|&x| half::f16::from_f32(x)).collect();
            data.extend(h.iter().flat_map(|x| x.to_le_bytes()));
            v = h.iter().map(|x| x.to_f32()).collect();
            "F16"
        } else {
            data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            "F32"
        };
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, data.len()]}),
        );
        values.push(v);
    }
    let mut json = serde_json::Value::Object(header).to_string().into_bytes();
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend(json);
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
    values
}

/// A fresh directory under the target dir for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lat-model-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `config.json` and `model.safetensors` for a tiny model; returns the directory.
pub fn tiny_checkpoint(
    name: &str,
    config: &BertConfig,
    tensors: &[(String, Vec<usize>)],
) -> PathBuf {
    let dir = scratch_dir(name);
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string(config).unwrap(),
    )
    .unwrap();
    write_safetensors(&dir.join("model.safetensors"), tensors, 7);
    dir
}

/// Random token ids for inputs of the given lengths (first token plays [CLS]).
pub fn random_batch(lengths: &[usize], vocab: usize, seed: u64, device: &Device) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs: Vec<Encoded> = lengths
        .iter()
        .map(|&n| Encoded {
            input_ids: (0..n)
                .map(|i| {
                    if i == 0 {
                        1
                    } else {
                        rng.random_range(2..vocab as u32)
                    }
                })
                .collect(),
            token_type_ids: (0..n).map(|i| u32::from(i >= n / 2)).collect(),
            offsets: vec![(0, 0); n],
        })
        .collect();
    Batch::new(&inputs, 0, device)
}

/// Flattens a tensor to f32 values.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Row `b`, positions `range` of a `[batch, n, hidden]` tensor, flattened.
pub fn rows(t: &Tensor<3>, b: usize, range: std::ops::Range<usize>) -> Vec<f32> {
    let [_, _, h] = t.dims();
    values(t.clone().slice([b..b + 1, range, 0..h]))
}

/// A file under the shared data directory (`$LAT_DATA_DIR`, default `../shared/data`), or
/// `None` after saying why the calling test skips. With `LAT_REQUIRE_DATA` set (CI sets it)
/// a missing file fails the test instead, so a skip can never pass unnoticed there.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LAT_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join(relative);
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "{} is absent (the data lives in ../shared/data beside the clone, or where \
         LAT_DATA_DIR points; see shared/data/README.md)",
        path.display()
    );
    assert!(std::env::var_os("LAT_REQUIRE_DATA").is_none(), "{why}");
    eprintln!("skipped: {why}");
    None
}
