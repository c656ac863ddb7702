//! Training (`lat-train`): standard fine-tuning and the paper's LengthDrop training with
//! LayerDrop, the sandwich rule and inplace distillation, with exact resume.

mod clip;
mod config;
mod eval;
mod export;
mod loss;
mod optimizer;
mod progress;
mod resume;
mod sampler;
mod save;
mod schedule;
mod squad_eval;
mod step;
mod task;
mod trainer;

pub use clip::clip_global_norm;
pub use config::TrainConfig;
pub use eval::{ClassificationDevSet, DevSet, EvalScores};
pub use export::{ExportConfig, ExportReport, export_model_dir};
pub use loss::{cross_entropy, grouped_cross_entropy, grouped_kl, kl_student_teacher};
pub use optimizer::adamw;
pub use progress::{Progress, format_duration};
pub use resume::{StateDir, TrainingState, param_ids};
pub use sampler::{SampledLengths, SamplerConfig};
pub use save::{
    LAT_JSON, LatMetadata, ModelDirFiles, WeightPrecision, read_json, save_weights, write_json,
    write_model_dir,
};
pub use schedule::LinearSchedule;
pub use squad_eval::{SpanDecoding, SpanPrediction, SquadDevSet, best_span, score_predictions};
pub use step::{Stage, StepConfig, StepLosses, StepOutput, train_step};
pub use task::{TaskModel, TrainBatch, TrainFeature};
pub use trainer::{TrainSummary, Trainer};
