//! The BERT encoder with its optional pooler (HF `BertModel`, `BertPooler`).

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::tanh;
use burn::tensor::{Device, Tensor};

use crate::batch::Batch;
use crate::config::BertConfig;
use crate::embedding::BertEmbeddings;
use crate::encoder::{BertEncoder, DropMode, EncoderOutput};
use crate::length_config::LengthConfig;

/// HF `BertPooler`: tanh(W h_[CLS] + b).
#[derive(Module, Debug)]
pub struct BertPooler {
    /// HF `pooler.dense`.
    pub dense: Linear,
}

impl BertPooler {
    /// Randomly initialised pooler.
    pub fn init(config: &BertConfig, device: &Device) -> Self {
        Self {
            dense: LinearConfig::new(config.hidden_size, config.hidden_size).init(device),
        }
    }

    /// Pools the [CLS] vector.
    ///
    /// # Shapes
    /// - `cls`: `[batch_size, hidden]`, output: `[batch_size, hidden]`
    pub fn forward(&self, cls: Tensor<2>) -> Tensor<2> {
        tanh(self.dense.forward(cls))
    }
}

/// Embeddings, length-adaptive encoder and (when the task uses it) the pooler.
#[derive(Module, Debug)]
pub struct BertModel {
    /// HF `embeddings`.
    pub embeddings: BertEmbeddings,
    /// HF `encoder`.
    pub encoder: BertEncoder,
    /// HF `pooler`; absent for token tasks, which do not use it.
    pub pooler: Option<BertPooler>,
}

impl BertModel {
    /// Randomly initialised model; `with_pooler` adds the pooler.
    pub fn init(config: &BertConfig, with_pooler: bool, device: &Device) -> Self {
        Self {
            embeddings: BertEmbeddings::init(config, device),
            encoder: BertEncoder::init(config, device),
            pooler: with_pooler.then(|| BertPooler::init(config, device)),
        }
    }

    /// Embeds and encodes a batch under a length configuration.
    ///
    /// # Shapes
    /// See [`EncoderOutput`].
    pub fn forward(&self, batch: &Batch, config: &LengthConfig, mode: DropMode) -> EncoderOutput {
        // On the compute pool: one hand-off per forward instead of one per parallel op.
        lat_kernels::on_compute_pool(|| {
            self.encoder
                .forward(self.embed(batch), &batch.lengths, config, mode)
        })
    }

    /// The embedding output of a batch, `[batch_size, N, hidden]`: the encoder's input.
    pub fn embed(&self, batch: &Batch) -> Tensor<3> {
        self.embeddings
            .forward(batch.input_ids.clone(), batch.token_type_ids.clone())
    }

    /// Number of encoder layers.
    pub fn num_layers(&self) -> usize {
        self.encoder.layer.len()
    }
}

/// The [CLS] vector (slot 0) of every row: `[batch_size, N, hidden]` -> `[batch_size, hidden]`.
pub fn cls_vectors(hidden: Tensor<3>) -> Tensor<2> {
    let [batch_size, _, width] = hidden.dims();
    hidden
        .slice([0..batch_size, 0..1, 0..width])
        .reshape([batch_size, width])
}
