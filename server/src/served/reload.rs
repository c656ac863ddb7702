//! Frontier swaps: validated, their new points timed, and (from the admin API) written to
//! the frontier file first; any failure leaves the serving frontier in place.

use super::errors::{ReloadError, ReloadOutcome};
use super::model::ServedModel;
use crate::frontier_slot::Snapshot;

impl ServedModel {
    /// Validates `bytes` against this model, times its points, and swaps it in; on any
    /// failure the serving frontier stays. Counted in `lat_frontier_reload_total`.
    pub async fn reload(&self, bytes: &[u8]) -> Result<ReloadOutcome, ReloadError> {
        self.reload_with(bytes, false).await
    }

    /// [`ServedModel::reload`] for the admin API: a valid candidate is first written to the
    /// frontier file (atomically), so the file and the serving frontier never disagree; if
    /// the file cannot be written the candidate does not serve.
    pub async fn replace(&self, bytes: &[u8]) -> Result<ReloadOutcome, ReloadError> {
        self.reload_with(bytes, true).await
    }

    async fn reload_with(&self, bytes: &[u8], persist: bool) -> Result<ReloadOutcome, ReloadError> {
        let _guard = self.reload_lock.lock().await;
        let result = self.reload_locked(bytes, persist).await;
        let label = match &result {
            Ok(ReloadOutcome::Swapped) => "success",
            Ok(ReloadOutcome::Unchanged) => "unchanged",
            Err(_) => "failure",
        };
        self.metrics
            .reloads
            .with_label_values(&[&self.name, label])
            .inc();
        match &result {
            Ok(outcome) => {
                tracing::info!(model = %self.name, ?outcome, version = %self.slot.load().version, "frontier reload")
            }
            Err(error) => {
                tracing::warn!(model = %self.name, %error, "frontier reload refused; the old frontier keeps serving")
            }
        }
        result
    }

    async fn reload_locked(
        &self,
        bytes: &[u8],
        persist: bool,
    ) -> Result<ReloadOutcome, ReloadError> {
        let current = self.slot.load();
        if crate::frontier_slot::sha256_hex(bytes) == current.sha256 {
            if persist {
                self.persist(bytes).await?;
            }
            return Ok(ReloadOutcome::Unchanged);
        }
        let mut candidate = Snapshot::parse(bytes, &self.expected)?;
        if candidate.points() > self.max_frontier_points {
            return Err(ReloadError::TooManyPoints {
                points: candidate.points(),
                max: self.max_frontier_points,
            });
        }
        candidate.latency = Some(self.calibrate(&candidate).await?);
        if persist {
            self.persist(bytes).await?;
        }
        let (version, points, loaded_at) = (
            candidate.version.clone(),
            candidate.points(),
            candidate.loaded_at,
        );
        let previous = self.slot.swap(candidate);
        self.metrics
            .set_frontier(&self.name, Some(&previous.version), &version, points);
        self.metrics
            .reload_success_time
            .with_label_values(&[&self.name])
            .set(loaded_at);
        Ok(ReloadOutcome::Swapped)
    }

    async fn persist(&self, bytes: &[u8]) -> Result<(), ReloadError> {
        crate::persist::write_atomically(&self.frontier_path, bytes)
            .await
            .map_err(|e| ReloadError::Persist {
                path: self.frontier_path.clone(),
                reason: e.to_string(),
            })
    }

    /// Re-reads the model's frontier file and reloads it.
    pub async fn reload_from_file(&self) -> Result<ReloadOutcome, ReloadError> {
        match tokio::fs::read(&self.frontier_path).await {
            Ok(bytes) => self.reload(&bytes).await,
            Err(e) => {
                self.metrics
                    .reloads
                    .with_label_values(&[&self.name, "failure"])
                    .inc();
                tracing::warn!(model = %self.name, path = %self.frontier_path.display(), error = %e, "frontier file unreadable; the old frontier keeps serving");
                Err(ReloadError::Io {
                    path: self.frontier_path.clone(),
                    reason: e.to_string(),
                })
            }
        }
    }
}
