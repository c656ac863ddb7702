//! `frontier.json`: the versioned contract between `lat-search` and `lat-server`.
//!
//! [`FrontierFile`] is the serialised form; [`Frontier`] is one that passed validation
//! (schema version, genes, order, non-dominance and, when a model is given, its identity and
//! architecture). The server only ever holds a [`Frontier`].

use std::path::Path;

use lat_model::LengthConfig;
use lat_model::flops::{Architecture, Family, Head};
use serde::{Deserialize, Serialize};

use crate::error::FrontierError;
use crate::estimate::Estimate;
use crate::gene::{Gene, GeneSpace};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Which model a frontier was searched on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// Human name (the model directory's name).
    pub name: String,
    /// SHA-256 of `model.safetensors`, hex.
    pub weights_sha256: String,
}

/// The model shape figures a frontier depends on (HF config names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchitectureInfo {
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Hidden size d.
    pub hidden_size: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// FFN size f.
    pub intermediate_size: usize,
}

/// The task, and with it the head whose FLOPs are counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Task {
    /// Sequence classification over `labels`.
    Classification {
        /// Class names in index order.
        labels: Vec<String>,
    },
    /// Extractive question answering.
    QuestionAnswering,
}

impl Task {
    /// The head [`lat_model::flops`] counts.
    pub fn head(&self) -> Head {
        match self {
            Task::Classification { labels } => Head::SequenceClassification {
                num_labels: labels.len(),
            },
            Task::QuestionAnswering => Head::QuestionAnswering,
        }
    }
}

/// The dev set the scores and mean FLOPs were measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevSetInfo {
    /// Path or name.
    pub name: String,
    /// Examples (questions for QA).
    pub size: usize,
    /// Inputs the FLOPs are averaged over (QA: windows).
    pub inputs: usize,
    /// Mean real tokens per input.
    pub mean_tokens: f64,
}

/// One configuration on the frontier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPoint {
    /// The configuration (lengths over `max_length`, skipped layers).
    pub gene: Gene,
    /// Mean FLOPs per dev input at its true length.
    pub mean_flops: f64,
    /// `mean_flops` over the full model's.
    pub flops_ratio: f64,
    /// The same ratio with every input padded to `max_length` (the paper's accounting).
    pub padded_flops_ratio: f64,
    /// Dev score (`metric`, percent): what the search selected on, and what the server
    /// ranks points by.
    pub score: f64,
    /// The score on held-out data that neither training nor the search saw, with its
    /// standard error (`lat-search eval --write-frontier`): the figure to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<Estimate>,
}

/// The full model on the same dev set, for reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FullModel {
    /// Mean FLOPs per dev input.
    pub mean_flops: f64,
    /// Dev score.
    pub score: f64,
    /// Its score on the held-out data, as for the points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<Estimate>,
}

/// The file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierFile {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Model identity.
    pub model: ModelIdentity,
    /// Task.
    pub task: Task,
    /// Score name (`accuracy`, `f1`).
    pub metric: String,
    /// Dev set.
    pub dev_set: DevSetInfo,
    /// Model shape.
    pub architecture: ArchitectureInfo,
    /// T: gene lengths are numerators over it.
    pub max_length: usize,
    /// The full model.
    pub full_model: FullModel,
    /// Non-dominated points by ascending `mean_flops`.
    pub points: Vec<FrontierPoint>,
    /// How the search ran (free-form provenance).
    #[serde(default)]
    pub search: serde_json::Value,
    /// The data the `held_out` scores were measured on, when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_set: Option<DevSetInfo>,
}

/// What a frontier must match to be served with a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The loaded weights.
    pub weights_sha256: String,
    /// The loaded shape.
    pub architecture: ArchitectureInfo,
    /// The loaded task.
    pub task: Task,
}

/// A frontier that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    file: FrontierFile,
    /// Each point's configuration, built once at load (budget resolution reads them all
    /// per request).
    configs: Vec<LengthConfig>,
    full: LengthConfig,
}

impl Frontier {
    /// Validates `file`, and against `expected` when given.
    pub fn new(file: FrontierFile, expected: Option<&Expected>) -> Result<Self, FrontierError> {
        if file.schema_version != SCHEMA_VERSION {
            return Err(FrontierError::SchemaVersion {
                found: file.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        if let Some(expected) = expected {
            check_expected(&file, expected)?;
        }
        if file.points.is_empty() {
            return Err(FrontierError::Empty);
        }
        let space = GeneSpace {
            num_layers: file.architecture.num_hidden_layers,
            max_length: file.max_length,
        };
        for (point, p) in file.points.iter().enumerate() {
            space
                .validate(&p.gene)
                .map_err(|source| FrontierError::Gene { point, source })?;
            let numbers = [
                ("mean_flops", p.mean_flops),
                ("flops_ratio", p.flops_ratio),
                ("padded_flops_ratio", p.padded_flops_ratio),
                ("score", p.score),
            ];
            if let Some((field, _)) = numbers.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
                return Err(FrontierError::Number { point, field });
            }
            if point > 0 {
                let previous = &file.points[point - 1];
                if p.mean_flops <= previous.mean_flops {
                    return Err(FrontierError::NotSorted { point });
                }
                if p.score <= previous.score {
                    return Err(FrontierError::Dominated { point });
                }
            }
        }
        let configs = file
            .points
            .iter()
            .enumerate()
            .map(|(point, p)| {
                space
                    .config(&p.gene)
                    .map_err(|source| FrontierError::Gene { point, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            file,
            configs,
            full: LengthConfig::keep_all(space.num_layers),
        })
    }

    /// Reads and validates a file.
    pub fn load(path: &Path, expected: Option<&Expected>) -> Result<Self, FrontierError> {
        let text = std::fs::read_to_string(path).map_err(|source| FrontierError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(serde_json::from_str(&text)?, expected)
    }

    /// The validated contents.
    pub fn file(&self) -> &FrontierFile {
        &self.file
    }

    /// The points, by ascending mean FLOPs (and so ascending score).
    pub fn points(&self) -> &[FrontierPoint] {
        &self.file.points
    }

    /// Each point's length configuration, in point order.
    pub fn configs(&self) -> &[LengthConfig] {
        &self.configs
    }

    /// The full model's configuration.
    pub fn full_config(&self) -> &LengthConfig {
        &self.full
    }

    /// The gene space the points live in.
    pub fn space(&self) -> GeneSpace {
        GeneSpace {
            num_layers: self.file.architecture.num_hidden_layers,
            max_length: self.file.max_length,
        }
    }

    /// The FLOPs model's view of the architecture.
    pub fn flops_architecture(&self) -> Architecture {
        Architecture {
            family: Family::Bert,
            num_layers: self.file.architecture.num_hidden_layers,
            hidden_size: self.file.architecture.hidden_size,
            intermediate_size: self.file.architecture.intermediate_size,
        }
    }
}

fn check_expected(file: &FrontierFile, expected: &Expected) -> Result<(), FrontierError> {
    if file.model.weights_sha256 != expected.weights_sha256 {
        return Err(FrontierError::ModelMismatch {
            expected: expected.weights_sha256.clone(),
            found: file.model.weights_sha256.clone(),
        });
    }
    let (a, b) = (&expected.architecture, &file.architecture);
    let fields = [
        (
            "num_hidden_layers",
            a.num_hidden_layers,
            b.num_hidden_layers,
        ),
        ("hidden_size", a.hidden_size, b.hidden_size),
        (
            "num_attention_heads",
            a.num_attention_heads,
            b.num_attention_heads,
        ),
        (
            "intermediate_size",
            a.intermediate_size,
            b.intermediate_size,
        ),
    ];
    if let Some((field, want, got)) = fields.iter().find(|(_, want, got)| want != got) {
        return Err(FrontierError::ArchitectureMismatch {
            field,
            expected: want.to_string(),
            found: got.to_string(),
        });
    }
    if file.task != expected.task {
        return Err(FrontierError::ArchitectureMismatch {
            field: "task",
            expected: format!("{:?}", expected.task),
            found: format!("{:?}", file.task),
        });
    }
    Ok(())
}

/// SHA-256 of a file, hex: the weights hash a frontier is tied to.
pub fn sha256_file(path: &Path) -> Result<String, FrontierError> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|source| FrontierError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

impl FrontierFile {
    /// Writes the file atomically (temporary file, then rename), so that a watcher never
    /// sees half a frontier.
    pub fn save(&self, path: &Path) -> Result<(), FrontierError> {
        let io = |source| FrontierError::Io {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}
