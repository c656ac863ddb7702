//! The frontier a model serves, behind an atomic pointer: a request takes the snapshot once
//! at admission and keeps it to the end, so a swap never mixes two frontiers in one answer.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use lat_frontier::{Expected, Frontier, FrontierError, LatencyModel};
use sha2::{Digest, Sha256};

/// A validated frontier with everything a request needs precomputed.
#[derive(Debug)]
pub struct Snapshot {
    /// The frontier.
    pub frontier: Frontier,
    /// Version: the first 12 hex digits of the file's SHA-256.
    pub version: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Unix seconds when it was installed.
    pub loaded_at: f64,
    /// Latency lines for this device (`None` until calibrated).
    pub latency: Option<LatencyModel>,
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Snapshot {
    /// Points on the frontier.
    pub fn points(&self) -> usize {
        self.frontier.points().len()
    }

    /// Parses and validates `bytes` against the loaded model.
    pub fn parse(bytes: &[u8], expected: &Expected) -> Result<Self, FrontierError> {
        let file = serde_json::from_slice(bytes)?;
        let frontier = Frontier::new(file, Some(expected))?;
        let sha256 = sha256_hex(bytes);
        Ok(Self {
            frontier,
            version: sha256[..12].to_string(),
            sha256,
            loaded_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            latency: None,
        })
    }

    /// The same frontier with latency lines.
    pub fn with_latency(&self, latency: LatencyModel) -> Self {
        Self {
            frontier: self.frontier.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
            loaded_at: self.loaded_at,
            latency: Some(latency),
        }
    }
}

/// The serving frontier of one model.
#[derive(Debug)]
pub struct FrontierSlot {
    current: ArcSwap<Snapshot>,
}

impl FrontierSlot {
    /// A slot serving `snapshot`.
    pub fn new(snapshot: Snapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The snapshot serving now (kept by the caller for the whole request).
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Installs `snapshot`; returns the one it replaced.
    pub fn swap(&self, snapshot: Snapshot) -> Arc<Snapshot> {
        self.current.swap(Arc::new(snapshot))
    }
}
