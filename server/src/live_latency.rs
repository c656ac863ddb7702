//! Latency lines kept current: the start-up calibration plus the most recent single-input
//! passes measured while serving, refitted every few observations.

use std::collections::{HashMap, VecDeque};

use lat_frontier::{Gene, LatencyCalibration, LatencyModel, LatencySample};

/// Recent measurements kept per configuration.
const RECENT_PER_GENE: usize = 64;
/// Observations between refits.
const REFIT_EVERY: usize = 32;

/// Calibration samples and live ones.
#[derive(Debug, Default)]
pub struct LiveLatency {
    calibration: Vec<LatencySample>,
    recent: HashMap<Gene, VecDeque<LatencySample>>,
    since_fit: usize,
}

impl LiveLatency {
    /// Starts from a calibration table (live samples of an older frontier are dropped).
    pub fn new(calibration: Vec<LatencySample>) -> Self {
        Self {
            calibration,
            ..Self::default()
        }
    }

    /// Records a measured single-input pass; every [`REFIT_EVERY`] observations returns
    /// lines refitted on calibration plus recent samples.
    pub fn observe(&mut self, sample: LatencySample) -> Option<LatencyModel> {
        if !(sample.ms.is_finite() && sample.ms > 0.0) {
            return None;
        }
        let recent = self.recent.entry(sample.gene.clone()).or_default();
        if recent.len() == RECENT_PER_GENE {
            recent.pop_front();
        }
        recent.push_back(sample);
        self.since_fit += 1;
        if self.since_fit < REFIT_EVERY {
            return None;
        }
        self.since_fit = 0;
        let samples = self
            .calibration
            .iter()
            .cloned()
            .chain(self.recent.values().flatten().cloned())
            .collect();
        LatencyModel::fit(&LatencyCalibration {
            device: "serving".into(),
            samples,
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tokens: usize, ms: f64) -> LatencySample {
        LatencySample {
            gene: Gene::new(vec![8]),
            tokens,
            ms,
        }
    }

    #[test]
    fn live_measurements_move_the_line() {
        let mut live = LiveLatency::new(vec![sample(10, 1.0), sample(20, 2.0)]);
        let gene = Gene::new(vec![8]);
        let mut refit = None;
        for i in 0..REFIT_EVERY {
            // The device got 3x slower than at calibration.
            let n = 10 + (i % 2) * 10;
            refit = live.observe(sample(n, 0.3 * n as f64));
            assert_eq!(refit.is_some(), i + 1 == REFIT_EVERY);
        }
        let at_20 = refit.unwrap().predict(&gene, 20).unwrap();
        // 2 calibration + 32 live samples: close to the live 6 ms, far above the old 2 ms.
        assert!(at_20 > 5.5 && at_20 < 6.0, "{at_20}");
        assert!(live.observe(sample(10, f64::NAN)).is_none());
    }
}
