//! # lat-frontier
//!
//! The accuracy/FLOPs frontier of a length-adaptive model: genes and their variation
//! operators, Pareto maintenance, the evolutionary search (`lat-search`), fast exact
//! evaluation, the versioned `frontier.json` with its validation, and budget resolution
//! (FLOPs, FLOPs ratio or latency) for the server. Every cost comes from
//! [`lat_model::flops`].

mod budget;
mod cost;
mod error;
mod estimate;
mod file;
mod gene;
mod latency;
mod naive;
pub mod ops;
pub mod pareto;
mod plan;
pub mod plot;
mod search;
mod shared_prefix;
mod squad_f1;

pub use budget::{Budget, Choice};
pub use cost::CostModel;
pub use error::{BudgetError, FrontierError, GeneError, LatencyError};
pub use estimate::Estimate;
pub use file::{
    ArchitectureInfo, DevSetInfo, Expected, Frontier, FrontierFile, FrontierPoint, FullModel,
    ModelIdentity, SCHEMA_VERSION, Task, sha256_file,
};
pub use gene::{Gene, GeneSpace};
pub use latency::{LatencyCalibration, LatencyModel, LatencySample, Line};
pub use naive::NaiveClassifier;
pub use plan::{BUDGET_KINDS, InputFlops, Plan, PlanError, PlanRequest};
pub use search::{
    Birth, Fitness, IterationSummary, Record, SearchConfig, SearchError, SearchOutcome, run_search,
};
pub use shared_prefix::{EvalStats, SharedPrefixClassifier, accuracy_percent};
pub use squad_f1::SquadF1;
