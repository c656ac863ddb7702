//! # lat-model
//!
//! The BERT-family encoder of lat, in burn, with length-adaptive inference (Kim & Cho,
//! "Length-Adaptive Transformer", ACL 2021): inside every layer, after attention, only the
//! tokens that receive the most attention go on, per a [`LengthConfig`] passed to
//! `forward`. Sequence tasks keep [CLS] and drop the rest ([`DropMode::Extract`]); token
//! tasks use Drop-and-Restore ([`DropMode::DropAndRestore`]). [`flops`] counts the cost of
//! any configuration on any input length.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use lat_model::{Batch, BertForSequenceClassification, BertTokenizer, LengthConfig, TextInput};
//!
//! let device = Device::default();
//! let dir = std::path::Path::new("models-cache/all-MiniLM-L6-v2");
//! let loaded = BertForSequenceClassification::load(dir, 2, &device)?;
//! let tokenizer = BertTokenizer::from_file(&dir.join("tokenizer.json"), 128)?;
//! let input = tokenizer.encode(TextInput::Single("a gripping , funny film"))?;
//! let batch = Batch::new(&[input], tokenizer.pad_token_id(), &device);
//! let config = LengthConfig::constant_rate(6, 0.8)?;
//! let out = loaded.model.forward(&batch, &config);
//! println!("{:?} kept {:?}", out.logits.into_data(), out.kept_tokens);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate never names a backend: callers pass the [`burn::tensor::Device`].

mod attention;
mod batch;
mod bert;
mod checkpoint;
mod classification;
mod config;
pub mod data;
mod embedding;
mod encoder;
mod encoder_state;
mod error;
pub mod flops;
mod fused_ops;
mod layer;
mod length_config;
mod loader;
pub mod metrics;
pub mod precision;
mod question_answering;
mod restore;
mod token_drop;
mod tokenizer;
pub mod train;

pub use attention::{AttentionOutput, BertAttention};
pub use batch::Batch;
pub use bert::{BertModel, BertPooler, cls_vectors};
pub use checkpoint::{CheckpointFiles, FLOAT_DTYPES, SafetensorsHeader, TensorInfo};
pub use classification::{BertForSequenceClassification, SequenceClassifierOutput};
pub use config::BertConfig;
pub use embedding::BertEmbeddings;
pub use encoder::{BertEncoder, DropMode, EncoderOutput};
pub use encoder_state::EncoderState;
pub use error::{ConfigError, DataError, LengthConfigError, LoadError, TokenizeError, TrainError};
pub use layer::BertLayer;
pub use length_config::{LengthConfig, MIN_KEPT};
pub use loader::{LoadReport, Loaded};
pub use question_answering::{BertForQuestionAnswering, QuestionAnsweringOutput};
pub use token_drop::{Selection, TokenMask, gather_tokens, select_tokens};
pub use tokenizer::{BertTokenizer, Encoded, Pieces, TextInput, Truncated};
