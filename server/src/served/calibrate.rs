//! Warm-up and latency calibration: every frontier point timed on the engine (between
//! batches), latency lines fitted, and refined from live traffic.

use lat_frontier::{LatencyCalibration, LatencyModel, LatencySample};
use tokio::sync::oneshot;

use super::errors::{ReloadError, ServeError};
use super::model::ServedModel;
use crate::engine::{Calibration, EngineError};
use crate::frontier_slot::Snapshot;
use crate::live_latency::LiveLatency;

impl ServedModel {
    /// Runs every point of the serving frontier once per calibration length and installs
    /// the measured latency lines (this is also the warm-up).
    pub async fn warm_up(&self) -> Result<(), ServeError> {
        let _guard = self.reload_lock.lock().await;
        let current = self.slot.load();
        let latency = self
            .calibrate(&current)
            .await
            .map_err(|source| ServeError::Warmup {
                model: self.name.clone(),
                source,
            })?;
        let warmed = current.with_latency(latency);
        self.slot.swap(warmed);
        self.metrics
            .reload_success_time
            .with_label_values(&[&self.name])
            .set(current.loaded_at);
        Ok(())
    }

    fn calibration_lengths(&self) -> Vec<usize> {
        let max = self.max_length();
        let mut lengths: Vec<usize> = [16, max / 2, max]
            .into_iter()
            .map(|n| n.clamp(4, max.max(4)))
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        lengths
    }

    /// Times every point of `snapshot` on the engine, fits latency lines, and restarts the
    /// live refinement from these measurements.
    pub(super) async fn calibrate(&self, snapshot: &Snapshot) -> Result<LatencyModel, ReloadError> {
        let mut timed = self.timed.lock().await;
        let configs: Vec<_> = snapshot
            .frontier
            .points()
            .iter()
            .map(|p| p.gene.clone())
            .zip(snapshot.frontier.configs().iter().cloned())
            .filter(|(gene, _)| !timed.contains_key(gene))
            .collect();
        if !configs.is_empty() {
            let (reply, answer) = oneshot::channel();
            self.engine.calibrate(Calibration {
                configs,
                template: self.template.clone(),
                tokens: self.calibration_lengths(),
                repeats: self.calibration_repeats,
                reply,
            });
            for sample in answer.await.map_err(|_| EngineError::Stopped)?? {
                timed.entry(sample.gene.clone()).or_default().push(sample);
            }
        }
        let samples: Vec<LatencySample> = snapshot
            .frontier
            .points()
            .iter()
            .filter_map(|p| timed.get(&p.gene))
            .flatten()
            .cloned()
            .collect();
        let model = LatencyModel::fit(&LatencyCalibration {
            device: "serving".into(),
            samples: samples.clone(),
        })?;
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = LiveLatency::new(samples);
        Ok(model)
    }

    /// Feeds a measured single-input pass to the latency lines; a refit is installed in the
    /// serving snapshot unless a reload holds the frontier.
    pub fn observe_latency(&self, sample: LatencySample) {
        let refit = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(sample);
        if let Some(latency) = refit
            && let Ok(_guard) = self.reload_lock.try_lock()
        {
            let current = self.slot.load();
            // Samples admitted before a swap may belong to the old frontier's points.
            let covers = current
                .frontier
                .points()
                .iter()
                .all(|p| latency.line(&p.gene).is_some());
            if covers {
                self.slot.swap(current.with_latency(latency));
            }
        }
    }
}
