//! What a checkpoint directory holds, checked before any tensor is applied: the header of
//! `model.safetensors` against the shapes `config.json` implies, so that a broken checkpoint
//! is reported by its HF tensor name rather than by a burn module path.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::BertConfig;
use crate::error::LoadError;

/// Stored float dtypes the loader accepts; every one is cast to f32 on load, so a
/// half-precision export serves through the same f32 model.
pub const FLOAT_DTYPES: [&str; 3] = ["F32", "F16", "BF16"];

/// Largest safetensors header accepted (the format itself caps it at 100 MB).
const MAX_HEADER_BYTES: u64 = 100 << 20;

/// The files of an HF checkpoint directory.
#[derive(Debug, Clone)]
pub struct CheckpointFiles {
    /// The directory.
    pub dir: PathBuf,
}

impl CheckpointFiles {
    /// Names a checkpoint directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    /// `model.safetensors`.
    pub fn weights(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }
    /// `tokenizer.json`.
    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join("tokenizer.json")
    }

    /// Reads and validates `config.json`.
    pub fn read_config(&self) -> Result<BertConfig, LoadError> {
        let path = self.config();
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::File {
            path: path.clone(),
            source,
        })?;
        BertConfig::from_json(&text).map_err(|source| LoadError::Config { path, source })
    }
}

/// dtype and shape of one stored tensor.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TensorInfo {
    /// safetensors dtype name (`F32`, `F16`, `I64`, ...).
    pub dtype: String,
    /// Dimensions.
    pub shape: Vec<usize>,
}

/// The tensor index of a safetensors file.
#[derive(Debug, Clone)]
pub struct SafetensorsHeader {
    path: PathBuf,
    tensors: BTreeMap<String, TensorInfo>,
}

impl SafetensorsHeader {
    /// Reads only the header (8-byte length + JSON index), not the data.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let io = |source| LoadError::File {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |reason: String| LoadError::Safetensors {
            path: path.to_path_buf(),
            reason,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut len = [0u8; 8];
        file.read_exact(&mut len)
            .map_err(|_| invalid("shorter than its 8-byte header length".into()))?;
        let len = u64::from_le_bytes(len);
        if len > MAX_HEADER_BYTES {
            return Err(invalid(format!("header length {len} is implausible")));
        }
        let mut json = vec![0u8; len as usize];
        file.read_exact(&mut json)
            .map_err(|_| invalid("truncated header".into()))?;
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&json)
            .map_err(|e| invalid(format!("header is not JSON: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, value) in raw {
            if name == "__metadata__" {
                continue;
            }
            let info: TensorInfo = serde_json::from_value(value)
                .map_err(|e| invalid(format!("bad entry for `{name}`: {e}")))?;
            tensors.insert(name, info);
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// Whether a tensor is stored.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The error for a tensor the file lacks.
    pub fn missing(&self, name: &str) -> LoadError {
        LoadError::MissingTensor {
            path: self.path.clone(),
            name: name.to_string(),
        }
    }

    /// Checks one tensor: present (if `required`), a float dtype the loader casts to f32
    /// ([`FLOAT_DTYPES`]), of the expected shape. Returns whether it is present.
    pub fn check(&self, name: &str, expected: &[usize], required: bool) -> Result<bool, LoadError> {
        let path = self.path.clone();
        let Some(info) = self.tensors.get(name) else {
            return if required {
                Err(self.missing(name))
            } else {
                Ok(false)
            };
        };
        if !FLOAT_DTYPES.contains(&info.dtype.as_str()) {
            let dtype = info.dtype.clone();
            return Err(LoadError::TensorDtype {
                path,
                name: name.to_string(),
                dtype,
            });
        }
        if info.shape != expected {
            return Err(LoadError::TensorShape {
                path,
                name: name.to_string(),
                expected: expected.to_vec(),
                found: info.shape.clone(),
            });
        }
        Ok(true)
    }
}
