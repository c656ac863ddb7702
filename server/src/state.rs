//! What every handler shares: the served models, limits, metrics and the readiness flags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorType};
use crate::metrics::Metrics;
use crate::served::ServedModel;

/// Characters per token of the maximum length in the default `max_input_chars`: far more
/// than real text needs (English averages under 5 per word piece), so only abuse is cut.
pub const AUTO_CHARS_PER_TOKEN: usize = 64;

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
    /// Time a request body may take to arrive once its headers have (408 past it).
    pub body_timeout: Duration,
    /// Headers allowed in one request (431 past it).
    pub max_headers: usize,
    /// Bytes of headers (names, values and the target) allowed in one request (431).
    pub max_header_bytes: usize,
    /// Characters allowed in one text before tokenising; `None`: 64 per token of the
    /// model's maximum length (a classification text longer than that is cut there when
    /// `truncate` is on, else refused; a QA question or context is refused).
    pub max_input_chars: Option<usize>,
    /// Tokenisations running at once, over all models (others wait their turn).
    pub tokenize_concurrency: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_client_batch: 32,
            payload_limit: 2_000_000,
            admin_token: None,
            api_key: None,
            body_timeout: Duration::from_secs(30),
            max_headers: 100,
            max_header_bytes: 32 * 1024,
            max_input_chars: None,
            tokenize_concurrency: 2,
        }
    }
}

/// Shared server state.
pub struct AppState {
    /// Limits and secrets.
    pub http: HttpConfig,
    /// The registry `/metrics` renders.
    pub metrics: Arc<Metrics>,
    /// One permit per tokenisation running: bounds the CPU and memory tokenising takes.
    pub tokenize_slots: Arc<Semaphore>,
    models: OnceLock<Vec<Arc<ServedModel>>>,
    warmed: AtomicBool,
    draining: AtomicBool,
}

impl AppState {
    /// A state with no models yet (live, not ready).
    pub fn new(http: HttpConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            tokenize_slots: Arc::new(Semaphore::new(http.tokenize_concurrency.max(1))),
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

    /// Loaded and warmed: inference is served, during a drain too (readiness fails then so
    /// that load balancers stop sending, but what still arrives before the listener closes
    /// is answered).
    pub fn is_serving(&self) -> bool {
        self.models.get().is_some() && self.warmed.load(Ordering::SeqCst)
    }

    /// Characters allowed per text for a model of `max_length` tokens.
    pub fn max_input_chars(&self, max_length: usize) -> usize {
        self.http
            .max_input_chars
            .unwrap_or(AUTO_CHARS_PER_TOKEN * max_length)
    }

    /// The model a request names, or the only one of its task.
    pub fn model_for(&self, name: Option<&str>, task: &str) -> Result<Arc<ServedModel>, ApiError> {
        if !self.is_serving() {
            return Err(ApiError::new(
                ErrorType::Unready,
                "the server is still loading",
            ));
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
