//! Latency model: per device and configuration, a line ms = a + b·n fitted by least squares
//! to measured (input tokens, milliseconds) pairs. `lat-server` measures the table on its own
//! device; this module only fits and predicts.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::LatencyError;
use crate::gene::Gene;

/// One measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencySample {
    /// Configuration measured.
    pub gene: Gene,
    /// Real tokens of the input.
    pub tokens: usize,
    /// Measured compute time, milliseconds.
    pub ms: f64,
}

/// A calibration table for one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyCalibration {
    /// Device description.
    pub device: String,
    /// Measurements.
    pub samples: Vec<LatencySample>,
}

/// ms = intercept + slope · tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Fixed cost, ms.
    pub intercept: f64,
    /// Cost per token, ms.
    pub slope: f64,
}

impl Line {
    /// Least-squares line through `(x, y)` pairs; `None` unless two distinct x exist.
    pub fn fit(points: &[(f64, f64)]) -> Option<Self> {
        let n = points.len() as f64;
        let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
        (sxx > 0.0).then(|| {
            let slope = sxy / sxx;
            Self {
                intercept: mean_y - slope * mean_x,
                slope,
            }
        })
    }

    /// The line at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// Fitted per-configuration latency lines for one device.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyModel {
    /// Device the table was measured on.
    pub device: String,
    /// Per configuration: its line and its fastest measurement (the floor of predictions,
    /// so an extrapolated line never promises less than was ever measured).
    lines: HashMap<Gene, (Line, f64)>,
}

impl LatencyModel {
    /// Fits one line per configuration of the table.
    pub fn fit(table: &LatencyCalibration) -> Result<Self, LatencyError> {
        let mut by_gene: HashMap<&Gene, Vec<(f64, f64)>> = HashMap::new();
        for (index, s) in table.samples.iter().enumerate() {
            if !(s.ms.is_finite() && s.ms > 0.0) {
                return Err(LatencyError::BadSample { index, ms: s.ms });
            }
            by_gene
                .entry(&s.gene)
                .or_default()
                .push((s.tokens as f64, s.ms));
        }
        let mut lines = HashMap::new();
        for (gene, points) in by_gene {
            let line = Line::fit(&points)
                .ok_or_else(|| LatencyError::TooFewSamples { what: gene.label() })?;
            let fastest = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            lines.insert(gene.clone(), (line, fastest));
        }
        Ok(Self {
            device: table.device.clone(),
            lines,
        })
    }

    /// The fitted line of `gene`, if calibrated.
    pub fn line(&self, gene: &Gene) -> Option<Line> {
        self.lines.get(gene).map(|(line, _)| *line)
    }

    /// Predicted milliseconds for `gene` on an input of `tokens` tokens, if calibrated
    /// (never below its fastest measurement).
    pub fn predict(&self, gene: &Gene, tokens: usize) -> Option<f64> {
        self.lines
            .get(gene)
            .map(|(line, fastest)| line.at(tokens as f64).max(*fastest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_lines_by_hand() {
        let gene = Gene::new(vec![8, 4]);
        let table = LatencyCalibration {
            device: "cpu".into(),
            samples: [(10, 3.0), (20, 5.0), (30, 7.5)]
                .iter()
                .map(|&(tokens, ms)| LatencySample {
                    gene: gene.clone(),
                    tokens,
                    ms,
                })
                .collect(),
        };
        let model = LatencyModel::fit(&table).expect("fits");
        // Means 20, 5.1667; Sxy = -10*-2.1667 + 10*2.3333 = 45; Sxx = 200 -> slope 0.225.
        let predicted = model.predict(&gene, 40).expect("calibrated");
        let intercept = 5.0 + 1.0 / 6.0 - 0.225 * 20.0;
        assert!((predicted - (intercept + 0.225 * 40.0)).abs() < 1e-9);
        assert_eq!(model.predict(&Gene::new(vec![8, 8]), 10), None);
        // Extrapolating down to 0 tokens would promise 0.67 ms; the fastest run took 3.
        assert_eq!(model.predict(&gene, 0), Some(3.0));
    }

    #[test]
    fn rejects_unfittable_tables() {
        let gene = Gene::new(vec![8]);
        let one = |tokens, ms| LatencySample {
            gene: gene.clone(),
            tokens,
            ms,
        };
        let table = |samples| LatencyCalibration {
            device: "cpu".into(),
            samples,
        };
        assert!(matches!(
            LatencyModel::fit(&table(vec![one(10, 1.0), one(10, 2.0)])),
            Err(LatencyError::TooFewSamples { .. })
        ));
        assert!(matches!(
            LatencyModel::fit(&table(vec![one(10, 1.0), one(20, f64::NAN)])),
            Err(LatencyError::BadSample { index: 1, .. })
        ));
    }
}
