//! What every handler shares: the served models, limits, metrics and the readiness flags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::{ApiError, ErrorType};
use crate::metrics::Metrics;
use crate::served::ServedModel;

/// Request limits and secrets.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Inputs allowed in one classification request.
    pub max_client_batch: usize,
    /// Request body limit, bytes.
    pub payload_limit: usize,
    /// Bearer token for `/admin/*`; `None` disables those routes (403).
    pub admin_token: Option<String>,
    /// Bearer token for `/v1/*`; `None` leaves them open.
    pub api_key: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_client_batch: 32,
            payload_limit: 2_000_000,
            admin_token: None,
            api_key: None,
        }
    }
}

/// Shared server state.
pub struct AppState {
    /// Limits and secrets.
    pub http: HttpConfig,
    /// The registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
    models: OnceLock<Vec<Arc<ServedModel>>>,
    warmed: AtomicBool,
    draining: AtomicBool,
}

impl AppState {
    /// A state with no models yet (live, not ready).
    pub fn new(http: HttpConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            http,
            metrics,
            models: OnceLock::new(),
            warmed: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }
    }

    /// Installs the loaded models (once).
    pub fn set_models(&self, models: Vec<Arc<ServedModel>>) {
        let _ = self.models.set(models);
    }

    /// Marks the models warmed: ready unless draining.
    pub fn set_warmed(&self) {
        self.warmed.store(true, Ordering::SeqCst);
        self.update_ready_metric();
    }

    /// Starts draining: readiness fails from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.update_ready_metric();
    }

    fn update_ready_metric(&self) {
        self.metrics
            .ready
            .set(if self.is_ready() { 1.0 } else { 0.0 });
    }

    /// Loaded, warmed and not draining.
    pub fn is_ready(&self) -> bool {
        self.models.get().is_some()
            && self.warmed.load(Ordering::SeqCst)
            && !self.draining.load(Ordering::SeqCst)
    }

    /// Whether a drain has started.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Every served model (empty before loading ends).
    pub fn models(&self) -> &[Arc<ServedModel>] {
        self.models.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The model a request names, or the only one of its task.
    pub fn model_for(&self, name: Option<&str>, task: &str) -> Result<Arc<ServedModel>, ApiError> {
        if !self.is_ready() {
            let why = if self.is_draining() {
                "the server is shutting down"
            } else {
                "the server is still loading"
            };
            return Err(ApiError::new(ErrorType::Unready, why));
        }
        let models = self.models();
        match name {
            Some(name) => {
                let model = models.iter().find(|m| m.name == name).ok_or_else(|| {
                    ApiError::new(ErrorType::NotFound, format!("no model named `{name}`"))
                })?;
                if model.task.name() != task {
                    return Err(ApiError::validation(format!(
                        "model `{name}` serves {}, not {task}",
                        model.task.name()
                    )));
                }
                Ok(Arc::clone(model))
            }
            None => {
                let mut of_task = models.iter().filter(|m| m.task.name() == task);
                match (of_task.next(), of_task.next()) {
                    (Some(only), None) => Ok(Arc::clone(only)),
                    (None, _) => Err(ApiError::new(
                        ErrorType::NotFound,
                        format!("this server serves no {task} model"),
                    )),
                    (Some(_), Some(_)) => Err(ApiError::validation(format!(
                        "several {task} models are served; name one with `model`"
                    ))),
                }
            }
        }
    }

    /// A model by name, for the model and admin routes.
    pub fn model_named(&self, name: &str) -> Result<Arc<ServedModel>, ApiError> {
        self.models()
            .iter()
            .find(|m| m.name == name)
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorType::NotFound, format!("no model named `{name}`")))
    }
}
