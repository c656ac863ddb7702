//! What the operator sees: a one-line progress bar (loss, examples/s, ETA) on a terminal,
//! plain periodic log lines otherwise (CI, `nohup`, Kubernetes logs).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress reporting for a run of `total` steps.
pub struct Progress {
    total: usize,
    every: usize,
    terminal: bool,
    started: Instant,
    first_step: usize,
    examples: usize,
    excluded: Duration,
}

impl Progress {
    /// Starts reporting at `first_step` (non-zero when resuming); plain lines every `every`
    /// steps when stdout is not a terminal.
    pub fn new(first_step: usize, total: usize, every: usize) -> Self {
        Self {
            total,
            every: every.max(1),
            terminal: std::io::stdout().is_terminal(),
            started: Instant::now(),
            first_step,
            examples: 0,
            excluded: Duration::ZERO,
        }
    }

    /// Leaves `time` (evaluation, checkpointing) out of the training throughput.
    pub fn exclude(&mut self, time: Duration) {
        self.excluded += time;
    }

    fn training_seconds(&self) -> f64 {
        self.started
            .elapsed()
            .saturating_sub(self.excluded)
            .as_secs_f64()
            .max(1e-9)
    }

    /// Training examples per second since the start (or the resume).
    pub fn examples_per_second(&self) -> f64 {
        self.examples as f64 / self.training_seconds()
    }

    /// Records a finished step (`step` is 1-based) of `examples` examples.
    pub fn step(&mut self, step: usize, examples: usize, loss: f64) {
        self.examples += examples;
        let done = step - self.first_step;
        let per_step = self.training_seconds() / done.max(1) as f64;
        let eta = format_duration(per_step * self.total.saturating_sub(step) as f64);
        let rate = self.examples_per_second();
        if self.terminal {
            let width = 30;
            let filled = (width * step / self.total.max(1)).min(width);
            print!(
                "\r[{}{}] {step}/{} loss {loss:.4} {rate:.1} ex/s ETA {eta}   ",
                "#".repeat(filled),
                ".".repeat(width - filled),
                self.total
            );
            let _ = std::io::stdout().flush();
        } else if step.is_multiple_of(self.every) || step == self.total {
            println!(
                "step {step}/{} loss {loss:.4} {rate:.1} ex/s ETA {eta}",
                self.total
            );
        }
    }

    /// Prints a message on its own line (after the bar, on a terminal).
    pub fn message(&self, text: &str) {
        if self.terminal {
            println!();
        }
        println!("{text}");
    }
}

/// `h:mm:ss`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_clock_time() {
        assert_eq!(format_duration(0.4), "0:00:00");
        assert_eq!(format_duration(3725.0), "1:02:05");
    }
}
