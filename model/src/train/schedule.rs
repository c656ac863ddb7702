//! The learning-rate schedule of the reference (HF `get_linear_schedule_with_warmup`): linear
//! warm-up, then linear decay to zero at the last step.

/// Linear warm-up then linear decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSchedule {
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Steps of linear warm-up from 0 (paper: 0).
    pub warmup_steps: usize,
    /// Optimisation steps in the whole run.
    pub total_steps: usize,
}

impl LinearSchedule {
    /// Learning rate for the optimisation step `step` (0-based).
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.learning_rate * step as f64 / self.warmup_steps as f64;
        }
        let remaining = self.total_steps.saturating_sub(step) as f64;
        let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        self.learning_rate * remaining / span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_linearly_to_zero() {
        let s = LinearSchedule {
            learning_rate: 2e-5,
            warmup_steps: 0,
            total_steps: 4,
        };
        let got: Vec<f64> = (0..5).map(|i| s.at(i)).collect();
        let want = [2e-5, 1.5e-5, 1e-5, 0.5e-5, 0.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
    }

    #[test]
    fn warms_up_first() {
        let s = LinearSchedule {
            learning_rate: 1.0,
            warmup_steps: 2,
            total_steps: 6,
        };
        let got: Vec<f64> = (0..7).map(|i| s.at(i)).collect();
        assert_eq!(got, vec![0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]);
    }
}
