//! `lat-server`: serves length-adaptive models with their frontiers over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use lat_model::precision::Precision;
use lat_server::engine::BatchLimits;
use lat_server::{ConnectionConfig, HttpConfig, ModelSpec, ServeOptions, ServerConfig, run};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The model a fresh clone serves when started from the repository root (`models/`).
const DEFAULT_MODEL_DIR: &str = "models/sst2";

/// Budget-aware inference server for Length-Adaptive Transformers.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Model directory written by lat-train (one model; see --models-config for several).
    /// The default is the SST-2 model committed in the repository.
    #[arg(long, env = "LAT_MODEL_DIR", default_value = DEFAULT_MODEL_DIR)]
    model_dir: PathBuf,
    /// Frontier file written by lat-search for --model-dir [default: <model-dir>/frontier.json].
    #[arg(long, env = "LAT_FRONTIER")]
    frontier: Option<PathBuf>,
    /// Name of --model-dir in requests and metrics (default: the directory's name).
    #[arg(long, env = "LAT_MODEL_NAME")]
    model_name: Option<String>,
    /// JSON file listing models: [{"name", "dir", "frontier"}, ...].
    #[arg(long, env = "LAT_MODELS_CONFIG", conflicts_with = "model_dir")]
    models_config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "LAT_HOST", default_value = "0.0.0.0")]
    host: String,
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, env = "LAT_PORT", default_value_t = 8080)]
    port: u16,
    /// Pending-connection queue of the listener (the kernel caps it at net.core.somaxconn):
    /// a burst of new connections beyond it is reset by the kernel before the server sees it.
    #[arg(long, env = "LAT_LISTEN_BACKLOG", default_value_t = 4096)]
    listen_backlog: u32,
    /// Serve /metrics on this port only, off the public one.
    #[arg(long, env = "LAT_METRICS_PORT")]
    metrics_port: Option<u16>,
    /// cpu (burn-flex) or wgpu (when built with the wgpu feature).
    #[arg(long, env = "LAT_DEVICE", default_value = "cpu")]
    device: String,
    /// Arithmetic of the matrix products on the cpu device: f32, or bf16 on AMX (opt-in;
    /// logits within about 0.005 of f32 on the default model; refused where the CPU lacks
    /// AMX-BF16).
    #[arg(long, env = "LAT_PRECISION", default_value = "f32", value_parser = ["f32", "bf16"])]
    precision: String,
    /// Compute threads (default: the CPUs this process may use, cgroup quota included).
    #[arg(long, env = "LAT_THREADS")]
    threads: Option<usize>,
    /// Padded tokens per forward pass.
    #[arg(long, env = "LAT_MAX_BATCH_TOKENS", default_value_t = 16384)]
    max_batch_tokens: usize,
    /// Inputs per forward pass.
    #[arg(long, env = "LAT_MAX_BATCH_REQUESTS", default_value_t = 64)]
    max_batch_requests: usize,
    /// Inputs (QA: windows) in flight per model before answering 429.
    #[arg(long, env = "LAT_MAX_CONCURRENT_INPUTS", default_value_t = 512)]
    max_concurrent_inputs: usize,
    /// Inputs allowed in one classification request.
    #[arg(long, env = "LAT_MAX_CLIENT_BATCH", default_value_t = 32)]
    max_client_batch: usize,
    /// Request body limit, bytes.
    #[arg(long, env = "LAT_PAYLOAD_LIMIT", default_value_t = 2_000_000)]
    payload_limit: usize,
    /// Characters allowed per text before tokenising [default: 64 per token of the model's
    /// maximum length]. A longer classification text is cut there when `truncate` is on
    /// (refused otherwise); a longer QA question or context is refused.
    #[arg(long, env = "LAT_MAX_INPUT_CHARS")]
    max_input_chars: Option<usize>,
    /// Tokenisations running at once over all models [default: --threads].
    #[arg(long, env = "LAT_TOKENIZE_THREADS")]
    tokenize_threads: Option<usize>,
    /// Points a frontier file may have (a larger one is refused at start and at reload).
    #[arg(long, env = "LAT_MAX_FRONTIER_POINTS", default_value_t = 64)]
    max_frontier_points: usize,
    /// Open connections at once; more wait in the listen backlog.
    #[arg(long, env = "LAT_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a connection may take to send a request's headers once it is open or has
    /// finished its previous request; idle and half-sent connections are closed after it.
    #[arg(long, env = "LAT_HEADER_TIMEOUT_S", default_value_t = 10.0)]
    header_timeout_s: f64,
    /// Seconds a request body may take to arrive after its headers (408 past it).
    #[arg(long, env = "LAT_BODY_TIMEOUT_S", default_value_t = 30.0)]
    body_timeout_s: f64,
    /// Headers allowed in one request (431 past it).
    #[arg(long, env = "LAT_MAX_HEADERS", default_value_t = 100)]
    max_headers: usize,
    /// Bytes of request headers, target included (431 past it).
    #[arg(long, env = "LAT_MAX_HEADER_BYTES", default_value_t = 32768)]
    max_header_bytes: usize,
    /// Bearer token for /admin/* (unset: admin routes answer 403).
    #[arg(long, env = "LAT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Bearer token required on /v1/* (unset: open).
    #[arg(long, env = "LAT_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Poll frontier files for changes every this many ms (0: off; SIGHUP and the admin
    /// API still reload).
    #[arg(long, env = "LAT_WATCH_INTERVAL_MS", default_value_t = 2000)]
    watch_interval_ms: u64,
    /// Timed repeats per frontier point and length when calibrating latency at start-up.
    #[arg(long, env = "LAT_CALIBRATION_REPEATS", default_value_t = 2)]
    calibration_repeats: usize,
    /// SLO mode: serve requests without a budget as if they asked for this end-to-end
    /// latency (ms), moving them to cheaper frontier points while the queue is long.
    #[arg(long, env = "LAT_SLO_MS")]
    slo_ms: Option<f64>,
    /// On SIGTERM, seconds between failing readiness and closing the listener, during which
    /// requests are still served (lets load balancers notice).
    #[arg(long, env = "LAT_SHUTDOWN_DELAY_S", default_value_t = 0)]
    shutdown_delay_s: u64,
    /// On SIGTERM, seconds to let in-flight requests finish.
    #[arg(long, env = "LAT_DRAIN_TIMEOUT_S", default_value_t = 30)]
    drain_timeout_s: u64,
    /// Log as JSON lines (level filter: LAT_LOG, default info).
    #[arg(long, env = "LAT_JSON_LOGS")]
    json_logs: bool,
    /// Do not serve: ask the server on 127.0.0.1:--port for /health/live and exit 0 if it
    /// answers 200, 1 otherwise (a container HEALTHCHECK that needs no curl).
    #[arg(long)]
    health_probe: bool,
}

/// Applies `--precision` before any model loads (calibration then times what serves).
fn set_precision(args: &Args) -> Result<Precision> {
    let precision = if args.precision == "bf16" {
        if args.device != "cpu" {
            bail!(
                "--precision bf16 is for the cpu device, not {}",
                args.device
            );
        }
        Precision::Bf16
    } else {
        Precision::F32
    };
    lat_model::precision::set_precision(precision)
        .with_context(|| format!("--precision {}", args.precision))?;
    Ok(precision)
}

fn model_specs(args: &Args) -> Result<Vec<ModelSpec>> {
    if let Some(path) = &args.models_config {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let specs: Vec<ModelSpec> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if specs.is_empty() {
            bail!("{} lists no models", path.display());
        }
        let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            bail!("{} names model `{}` twice", path.display(), pair[0]);
        }
        return Ok(specs);
    }
    let dir = args.model_dir.clone();
    if !dir.join("config.json").is_file() {
        bail!(
            "no model at {} (the default is relative to the repository root: start lat-server \
             there, or pass --model-dir / LAT_MODEL_DIR)",
            dir.display()
        );
    }
    let frontier = args
        .frontier
        .clone()
        .unwrap_or_else(|| dir.join("frontier.json"));
    let name = args.model_name.clone().unwrap_or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    Ok(vec![ModelSpec {
        name,
        dir,
        frontier,
    }])
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("LAT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

fn seconds(flag: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} must be a positive number of seconds (got {value})"))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.health_probe {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let status = lat_server::http_status(addr, "/health/live", Duration::from_secs(3));
        match status {
            Ok(200) => return Ok(()),
            Ok(code) => bail!("{addr}/health/live answered {code}"),
            Err(e) => bail!("{addr}/health/live: {e}"),
        }
    }
    init_logging(args.json_logs);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .context("sizing the compute thread pool")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // At least two, so accepting connections never waits behind request handling.
        .worker_threads(threads.clamp(2, 4))
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(args, threads));
    // A stop during loading leaves a load running on the blocking pool: do not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn serve(args: Args, threads: usize) -> Result<()> {
    tracing::info!(
        device = %args.device, precision = %args.precision, threads, port = args.port,
        admin_api = args.admin_token.is_some(), api_key = args.api_key.is_some(),
        "starting lat-server"
    );
    let models = model_specs(&args)?;
    let device = lat_device::parse_device(&args.device)?;
    let precision = set_precision(&args)?;
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .with_context(|| format!("--host {} --port {}", args.host, args.port))?;
    let config = ServerConfig {
        models,
        device,
        device_name: args.device.clone(),
        precision_name: precision.to_string(),
        addr,
        listen_backlog: args.listen_backlog,
        metrics_port: args.metrics_port,
        http: HttpConfig {
            max_client_batch: args.max_client_batch,
            payload_limit: args.payload_limit,
            admin_token: args.admin_token.clone(),
            api_key: args.api_key.clone(),
            body_timeout: seconds("--body-timeout-s", args.body_timeout_s)?,
            max_headers: args.max_headers,
            max_header_bytes: args.max_header_bytes,
            max_input_chars: args.max_input_chars,
            tokenize_concurrency: args.tokenize_threads.unwrap_or(threads),
        },
        connections: ConnectionConfig {
            max_connections: args.max_connections,
            header_timeout: seconds("--header-timeout-s", args.header_timeout_s)?,
        },
        serve: ServeOptions {
            limits: BatchLimits {
                max_batch_tokens: args.max_batch_tokens,
                max_batch_requests: args.max_batch_requests,
            },
            max_concurrent_inputs: args.max_concurrent_inputs,
            calibration_repeats: args.calibration_repeats,
            slo_ms: args.slo_ms,
            max_frontier_points: args.max_frontier_points,
        },
        watch_interval: (args.watch_interval_ms > 0)
            .then(|| Duration::from_millis(args.watch_interval_ms)),
        shutdown_delay: Duration::from_secs(args.shutdown_delay_s),
        drain_timeout: Duration::from_secs(args.drain_timeout_s),
    };
    Ok(run(config).await?)
}
