//! Latency calibration as small steps: one forward pass per step, so the engine serves
//! batches in between and a frontier swap never stalls traffic for more than one pass.

use std::time::Instant;

use lat_frontier::LatencySample;
use lat_model::{Encoded, LengthConfig};

use crate::engine::job::{Calibration, EngineError};

/// A calibration in progress.
pub struct CalibrationRun {
    work: Calibration,
    next: usize,
    round: usize,
    times: Vec<f64>,
    samples: Vec<LatencySample>,
    failed: Option<EngineError>,
}

/// The first `n` tokens of `template`, ending on its separator like a real input.
fn prefix(template: &Encoded, n: usize) -> Encoded {
    let n = n.clamp(2, template.input_ids.len().max(2));
    let mut input = template.clone();
    input.input_ids.truncate(n);
    input.token_type_ids.truncate(n);
    input.offsets.truncate(n);
    if let (Some(last), Some(sep)) = (input.input_ids.last_mut(), template.input_ids.last()) {
        *last = *sep;
    }
    input
}

impl CalibrationRun {
    /// Starts `work`.
    pub fn new(work: Calibration) -> Self {
        Self {
            work,
            next: 0,
            round: 0,
            times: Vec::new(),
            samples: Vec::new(),
            failed: None,
        }
    }

    /// Runs the next pass with `forward`: per (configuration, length) pair one untimed
    /// pass, then `repeats` timed ones whose median is the sample. True when nothing is left.
    pub fn step(
        &mut self,
        mut forward: impl FnMut(&[Encoded], &LengthConfig) -> Result<(), EngineError>,
    ) -> bool {
        let lengths = self.work.tokens.len();
        let total = self.work.configs.len() * lengths;
        if self.failed.is_some() || self.next >= total || lengths == 0 {
            return true;
        }
        let (gene, config) = &self.work.configs[self.next / lengths];
        let input = [prefix(
            &self.work.template,
            self.work.tokens[self.next % lengths],
        )];
        let started = Instant::now();
        if let Err(e) = forward(&input, config) {
            self.failed = Some(e);
            return true;
        }
        if self.round > 0 {
            self.times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        self.round += 1;
        if self.round > self.work.repeats.max(1) {
            self.times.sort_by(f64::total_cmp);
            self.samples.push(LatencySample {
                gene: gene.clone(),
                tokens: input[0].input_ids.len(),
                ms: self.times[self.times.len() / 2].max(1e-3),
            });
            self.times.clear();
            self.round = 0;
            self.next += 1;
        }
        self.next >= total
    }

    /// Sends the samples (or the failure) to whoever asked.
    pub fn finish(self) {
        let result = match self.failed {
            Some(e) => Err(e),
            None => Ok(self.samples),
        };
        let _ = self.work.reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use lat_frontier::Gene;
    use tokio::sync::oneshot;

    use super::*;

    fn work(
        repeats: usize,
    ) -> (
        Calibration,
        oneshot::Receiver<Result<Vec<LatencySample>, EngineError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let template = Encoded {
            input_ids: (100..110).collect(),
            token_type_ids: vec![0; 10],
            offsets: vec![(0, 0); 10],
        };
        let configs = [4, 2]
            .iter()
            .map(|&k| (Gene::new(vec![k]), LengthConfig::keep_all(1)))
            .collect();
        (
            Calibration {
                configs,
                template,
                tokens: vec![3, 50],
                repeats,
                reply,
            },
            answer,
        )
    }

    #[test]
    fn one_pair_per_step_then_the_samples() {
        let (w, mut answer) = work(2);
        let mut run = CalibrationRun::new(w);
        let mut widths = Vec::new();
        let mut steps = 0;
        loop {
            steps += 1;
            let done = run.step(|input, _| {
                widths.push(input[0].input_ids.clone());
                Ok(())
            });
            if done {
                break;
            }
        }
        // One untimed and two timed passes per pair, one pass per step; lengths clamp to
        // the template and the last token is the template's separator.
        assert_eq!(steps, 12);
        assert_eq!(widths.len(), 12);
        assert_eq!(widths[0], vec![100, 101, 109]);
        assert_eq!(widths[3].len(), 10);
        run.finish();
        let samples = answer.try_recv().unwrap().unwrap();
        let pairs: Vec<(Vec<usize>, usize)> = samples
            .iter()
            .map(|s| (s.gene.lengths.clone(), s.tokens))
            .collect();
        assert_eq!(
            pairs,
            vec![(vec![4], 3), (vec![4], 10), (vec![2], 3), (vec![2], 10)]
        );
    }

    #[test]
    fn a_failed_pass_ends_the_run_with_the_error() {
        let (w, mut answer) = work(1);
        let mut run = CalibrationRun::new(w);
        assert!(run.step(|_, _| Err(EngineError::Forward("boom".into()))));
        run.finish();
        assert_eq!(
            answer.try_recv().unwrap(),
            Err(EngineError::Forward("boom".into()))
        );
    }
}
