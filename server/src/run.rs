//! The whole server as a library call: listen, load and warm the models, serve until a
//! signal, drain. `lat-server`'s `main` only turns flags into a [`ServerConfig`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::listen::{ConnectionConfig, serve};
use crate::metrics::Metrics;
use crate::router::{metrics_router, router};
use crate::served::{ModelSpec, ServeError, ServeOptions, ServedModel};
use crate::signals;
use crate::state::{AppState, HttpConfig};
use crate::watch::watch_frontiers;

/// Everything a server run needs, decided before it starts.
pub struct ServerConfig {
    /// The models to serve.
    pub models: Vec<ModelSpec>,
    /// Where they run.
    pub device: Device,
    /// `cpu` or `wgpu`, for `lat_engine_info`.
    pub device_name: String,
    /// `f32` or `bf16`, for `lat_engine_info`.
    pub precision_name: String,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Pending-connection queue of the listener.
    pub listen_backlog: u32,
    /// Serve `/metrics` on this port of the same address only (`None`: on the main one).
    pub metrics_port: Option<u16>,
    /// Limits and secrets of the HTTP layer.
    pub http: HttpConfig,
    /// Connection limit and header timeout.
    pub connections: ConnectionConfig,
    /// Batching, admission, calibration, SLO and frontier limits.
    pub serve: ServeOptions,
    /// Poll frontier files this often (`None`: no watcher).
    pub watch_interval: Option<Duration>,
    /// After a stop signal: readiness fails, requests are still served, for this long.
    pub shutdown_delay: Duration,
    /// Then: how long open requests get to finish.
    pub drain_timeout: Duration,
}

/// Why a server run ended in error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The listener or the signal handlers.
    #[error("{what}: {source}")]
    Io {
        /// What was being set up.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A model, its frontier or its warm-up.
    #[error(transparent)]
    Model(#[from] ServeError),
    /// The loading task died.
    #[error("loading the models: {0}")]
    Loading(String),
    /// `slo_ms` is not a positive number.
    #[error("--slo-ms must be a positive number of milliseconds (got {0})")]
    Slo(f64),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Runs a server until SIGTERM or SIGINT (a stop during loading or warm-up ends it at
/// once, never ready), then drains.
pub async fn run(config: ServerConfig) -> Result<(), RunError> {
    if let Some(ms) = config.serve.slo_ms
        && !(ms.is_finite() && ms > 0.0)
    {
        return Err(RunError::Slo(ms));
    }
    let metrics = Arc::new(Metrics::new());
    metrics.set_engine(&config.device_name, &config.precision_name);
    if let Some(ms) = config.serve.slo_ms {
        metrics.slo_target.set(ms / 1e3);
    }
    let state = Arc::new(AppState::new(config.http.clone(), Arc::clone(&metrics)));
    let mut stop =
        signals::install(Arc::clone(&state)).map_err(io("installing signal handlers"))?;
    // Listen first: liveness answers while the models load; readiness waits for warm-up.
    let listener =
        bind(config.addr, config.listen_backlog).map_err(io(format!("binding {}", config.addr)))?;
    let local = listener
        .local_addr()
        .map_err(io("reading the bound address"))?;
    tracing::info!(addr = %local, "listening");
    let app = router(Arc::clone(&state), config.metrics_port.is_none());
    if let Some(port) = config.metrics_port {
        let addr = SocketAddr::new(config.addr.ip(), port);
        let metrics_listener = TcpListener::bind(addr)
            .await
            .map_err(io(format!("binding {addr}")))?;
        tracing::info!(addr = %addr, "metrics listening");
        tokio::spawn(serve(
            metrics_listener,
            metrics_router(Arc::clone(&state)),
            config.connections,
            std::future::pending(),
        ));
    }
    let (close_tx, mut close_rx) = watch::channel(false);
    let server = tokio::spawn(serve(listener, app, config.connections, async move {
        let _ = close_rx.wait_for(|close| *close).await;
    }));

    let Some(models) = load_and_warm(&config, &metrics, &mut stop).await? else {
        return Ok(());
    };
    state.set_models(models);
    state.set_warmed();
    tracing::info!("ready");
    if let Some(interval) = config.watch_interval {
        tokio::spawn(watch_frontiers(Arc::clone(&state), interval));
    }

    stop.requested().await;
    tracing::info!(
        delay_s = config.shutdown_delay.as_secs_f64(),
        "shutdown requested: readiness now fails; serving until the listener closes"
    );
    state.start_draining();
    tokio::time::sleep(config.shutdown_delay).await;
    tracing::info!("closing the listener; draining requests in flight");
    let _ = close_tx.send(true);
    match tokio::time::timeout(config.drain_timeout, server).await {
        Ok(_) => tracing::info!("drained"),
        Err(_) => tracing::warn!(
            timeout_s = config.drain_timeout.as_secs_f64(),
            "drain timed out; exiting"
        ),
    }
    for model in state.models() {
        model.engine.stop();
    }
    Ok(())
}

/// Loads every model (off the runtime) and warms each; `None` when a stop came first.
async fn load_and_warm(
    config: &ServerConfig,
    metrics: &Arc<Metrics>,
    stop: &mut signals::Stop,
) -> Result<Option<Vec<Arc<ServedModel>>>, RunError> {
    let loading = {
        let (specs, options, device) = (
            config.models.clone(),
            config.serve.clone(),
            config.device.clone(),
        );
        let metrics = Arc::clone(metrics);
        tokio::task::spawn_blocking(move || {
            specs
                .iter()
                .map(|spec| {
                    ServedModel::load(spec, &options, &device, Arc::clone(&metrics)).map(Arc::new)
                })
                .collect::<Result<Vec<_>, _>>()
        })
    };
    let models = tokio::select! {
        loaded = loading => loaded.map_err(|e| RunError::Loading(e.to_string()))??,
        () = stop.requested() => {
            tracing::info!("stopped while loading");
            return Ok(None);
        }
    };
    for model in &models {
        let started = Instant::now();
        tokio::select! {
            warmed = model.warm_up() => warmed?,
            () = stop.requested() => {
                tracing::info!("stopped while warming up");
                for model in &models {
                    model.engine.stop();
                }
                return Ok(None);
            }
        }
        let snapshot = model.slot.load();
        tracing::info!(
            model = %model.name, task = model.task.name(), frontier = %snapshot.version,
            points = snapshot.points(), warm_up_s = started.elapsed().as_secs_f64(),
            "model ready"
        );
    }
    Ok(Some(models))
}
