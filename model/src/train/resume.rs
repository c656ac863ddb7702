//! The training state that makes a resumed run identical to an uninterrupted one: weights,
//! AdamW moments, the step, the best dev score so far. The data order and every random draw
//! are functions of (seed, step), so they need no saving.
//!
//! burn keys optimizer moments by parameter id, and a model rebuilt from disk gets fresh ids;
//! the state therefore records each parameter's module path and id, and resuming gives the
//! reloaded parameters their old ids back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::store::ModuleSnapshot;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::train::save::{WeightPrecision, io, read_json, save_weights, write_json};

/// Bookkeeping saved beside the weights and the optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// Optimisation steps completed.
    pub step: usize,
    /// Best full-length dev score so far, and the step it was reached at.
    pub best: Option<(f64, usize)>,
    /// Module path -> parameter id at save time.
    pub param_ids: BTreeMap<String, u64>,
    /// The run configuration the state belongs to; a resume must match it.
    pub run: serde_json::Value,
}

/// Files of a state directory.
#[derive(Debug, Clone)]
pub struct StateDir(pub PathBuf);

impl StateDir {
    fn weights(&self) -> PathBuf {
        self.0.join("model.safetensors")
    }
    fn optimizer(&self) -> PathBuf {
        self.0.join("optimizer.bpk")
    }
    fn state(&self) -> PathBuf {
        self.0.join("state.json")
    }

    /// Whether a complete state is there (`state.json` is written last).
    pub fn exists(&self) -> bool {
        self.state().is_file()
    }

    /// The directory of HF files the weights can be loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.0
    }

    /// Saves a state: weights (with `config_json` beside them, so the directory loads like any
    /// checkpoint), optimizer, then `state.json`.
    pub fn save<M: Module + ModuleSnapshot>(
        &self,
        model: &M,
        optimizer: &ModuleOptimizer,
        mut state: TrainingState,
        config_json: &Path,
    ) -> Result<(), TrainError> {
        std::fs::create_dir_all(&self.0).map_err(|s| io(&self.0, s))?;
        // An interrupted save must not leave a state.json that describes other weights.
        let _ = std::fs::remove_file(self.state());
        std::fs::copy(config_json, self.0.join("config.json")).map_err(|s| io(config_json, s))?;
        save_weights(model, &self.weights(), WeightPrecision::F32)?;
        optimizer
            .save(self.optimizer())
            .map_err(|e| TrainError::Save {
                path: self.optimizer(),
                reason: e.to_string(),
            })?;
        state.param_ids = param_ids(model);
        write_json(&self.state(), &state)
    }

    /// Reads `state.json`.
    pub fn read_state(&self) -> Result<TrainingState, TrainError> {
        read_json(&self.state())
    }

    /// Restores the optimizer onto `model` (already loaded from [`Self::model_dir`]): the
    /// model's parameters get their saved ids back, then the saved moments are loaded.
    pub fn restore<M: Module>(
        &self,
        model: M,
        optimizer: ModuleOptimizer,
        state: &TrainingState,
    ) -> Result<(M, ModuleOptimizer), TrainError> {
        let current = param_ids(&model);
        if current.keys().ne(state.param_ids.keys()) {
            return Err(TrainError::Resume {
                path: self.0.clone(),
                reason: "the saved parameters do not match the model".into(),
            });
        }
        let model = model.map(&mut AssignIds {
            path: Vec::new(),
            ids: &state.param_ids,
        });
        let optimizer = optimizer
            .load(self.optimizer())
            .map_err(|e| TrainError::Resume {
                path: self.optimizer(),
                reason: e.to_string(),
            })?;
        Ok((model, optimizer))
    }
}

/// Module path -> parameter id of every float parameter.
pub fn param_ids<M: Module>(model: &M) -> BTreeMap<String, u64> {
    let mut collect = CollectIds {
        path: Vec::new(),
        ids: BTreeMap::new(),
    };
    model.visit(&mut collect);
    collect.ids
}

struct CollectIds {
    path: Vec<String>,
    ids: BTreeMap<String, u64>,
}

impl ModuleVisitor for CollectIds {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.ids.insert(self.path.join("."), param.id.val());
    }
}

struct AssignIds<'a> {
    path: Vec<String>,
    ids: &'a BTreeMap<String, u64>,
}

impl ModuleMapper for AssignIds<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, value, mapper) = param.consume();
        let id = self
            .ids
            .get(&self.path.join("."))
            .map_or(id, |&saved| ParamId::from(saved));
        Param::from_mapped_value(id, value, mapper)
    }
}
