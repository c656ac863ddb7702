//! A score measured on a sample, with its sampling noise: what a reported accuracy or F1
//! needs beside it to be read honestly.

use serde::{Deserialize, Serialize};

/// The mean of per-example scores and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean per-example score (percent when the scores are).
    pub mean: f64,
    /// Standard error of the mean: the sample standard deviation (n - 1) over √n.
    pub standard_error: f64,
    /// Examples.
    pub n: usize,
}

impl Estimate {
    /// The estimate from per-example scores (accuracy: 100 or 0 each; F1: 0-100); `None`
    /// for no examples. One example has no spread to measure: its error is infinite.
    pub fn from_scores(scores: &[f64]) -> Option<Self> {
        let n = scores.len();
        if n == 0 {
            return None;
        }
        let mean = scores.iter().sum::<f64>() / n as f64;
        let standard_error = if n < 2 {
            f64::INFINITY
        } else {
            let variance = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            (variance / n as f64).sqrt()
        };
        Some(Self {
            mean,
            standard_error,
            n,
        })
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ± {:.2}", self.mean, self.standard_error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_standard_error_by_hand() {
        // 3 right of 4: mean 75; deviations 25,25,25,-75 -> variance 7500/3 = 2500;
        // error sqrt(2500 / 4) = 25.
        let e = Estimate::from_scores(&[100.0, 100.0, 100.0, 0.0]).unwrap();
        assert_eq!(e.mean, 75.0);
        assert!((e.standard_error - 25.0).abs() < 1e-12);
        assert_eq!(e.n, 4);
        assert_eq!(e.to_string(), "75.00 ± 25.00");
        let same = Estimate::from_scores(&[40.0, 40.0]).unwrap();
        assert_eq!(same.standard_error, 0.0);
        assert!(
            Estimate::from_scores(&[1.0])
                .unwrap()
                .standard_error
                .is_infinite()
        );
        assert!(Estimate::from_scores(&[]).is_none());
    }
}
