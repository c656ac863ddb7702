//! The engine's queue: pending inputs grouped by length configuration (different
//! configurations cannot share a forward pass), batches formed greedily under a padded-token
//! budget with no waiting: whatever is queued when the engine frees up goes.

use std::collections::{HashMap, VecDeque};

use lat_frontier::Gene;

/// What the queue needs to know about an entry.
pub trait Queued {
    /// The configuration it runs under.
    fn gene(&self) -> &Gene;
    /// Its real tokens.
    fn tokens(&self) -> usize;
    /// Whether its client has gone away (dropped before compute).
    fn is_cancelled(&self) -> bool;
    /// Predicted batch-1 compute, milliseconds (0 when uncalibrated).
    fn predicted_ms(&self) -> f64;
    /// The part of `predicted_ms` a batch pays once, not per input (the line's intercept).
    fn fixed_ms(&self) -> f64;
}

/// Bounds of one forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Padded tokens (longest input x inputs) per pass; a longer single input still runs alone.
    pub max_batch_tokens: usize,
    /// Inputs per pass.
    pub max_batch_requests: usize,
}

/// A batch taken from the queue, and the cancelled entries met on the way.
#[derive(Debug)]
pub struct Taken<J> {
    /// Inputs of one configuration, oldest first.
    pub jobs: Vec<J>,
    /// Entries whose client went away.
    pub dropped: Vec<J>,
}

/// Pending inputs by configuration, each group FIFO.
#[derive(Debug)]
pub struct Queue<J> {
    next_seq: u64,
    groups: HashMap<Gene, VecDeque<(u64, J)>>,
    len: usize,
    backlog_ms: f64,
}

impl<J: Queued> Default for Queue<J> {
    fn default() -> Self {
        Self {
            next_seq: 0,
            groups: HashMap::new(),
            len: 0,
            backlog_ms: 0.0,
        }
    }
}

impl<J: Queued> Queue<J> {
    /// Appends an input.
    pub fn push(&mut self, job: J) {
        self.backlog_ms += job.predicted_ms() - job.fixed_ms();
        self.len += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.groups
            .entry(job.gene().clone())
            .or_default()
            .push_back((seq, job));
    }

    /// Pending inputs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Predicted compute of everything pending: each input's per-token part, plus one fixed
    /// part per configuration (its inputs share passes).
    pub fn backlog_ms(&self) -> f64 {
        let fixed: f64 = self
            .groups
            .values()
            .filter_map(|g| g.front().map(|(_, job)| job.fixed_ms()))
            .sum();
        (self.backlog_ms + fixed).max(0.0)
    }

    fn pop(&mut self, gene: &Gene) -> Option<J> {
        let group = self.groups.get_mut(gene)?;
        let (_, job) = group.pop_front()?;
        if group.is_empty() {
            self.groups.remove(gene);
        }
        self.len -= 1;
        self.backlog_ms -= job.predicted_ms() - job.fixed_ms();
        Some(job)
    }

    /// The next batch: the configuration whose head waited longest, then its inputs in order
    /// while the padded cost stays within `limits` (the first always goes).
    pub fn next_batch(&mut self, limits: BatchLimits) -> Option<Taken<J>> {
        let mut dropped = Vec::new();
        let gene = loop {
            let oldest = self
                .groups
                .iter()
                .filter_map(|(gene, group)| group.front().map(|(seq, _)| (*seq, gene)))
                .min_by_key(|(seq, _)| *seq)
                .map(|(_, gene)| gene.clone())?;
            let head_cancelled = self.groups[&oldest]
                .front()
                .is_some_and(|(_, job)| job.is_cancelled());
            if head_cancelled {
                dropped.extend(self.pop(&oldest));
                continue;
            }
            break oldest;
        };
        let mut jobs: Vec<J> = Vec::new();
        let mut longest = 0;
        while jobs.len() < limits.max_batch_requests.max(1) {
            let Some((_, next)) = self.groups.get(&gene).and_then(|g| g.front()) else {
                break;
            };
            if next.is_cancelled() {
                dropped.extend(self.pop(&gene));
                continue;
            }
            let width = longest.max(next.tokens());
            if !jobs.is_empty() && width * (jobs.len() + 1) > limits.max_batch_tokens {
                break;
            }
            longest = width;
            jobs.extend(self.pop(&gene));
        }
        Some(Taken { jobs, dropped })
    }

    /// Removes every pending input (used when the engine stops).
    pub fn drain(&mut self) -> Vec<J> {
        let mut all: Vec<(u64, J)> = self.groups.drain().flat_map(|(_, g)| g).collect();
        all.sort_by_key(|(seq, _)| *seq);
        self.len = 0;
        self.backlog_ms = 0.0;
        all.into_iter().map(|(_, job)| job).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry {
        id: usize,
        gene: Gene,
        tokens: usize,
        cancelled: bool,
    }

    impl Queued for Entry {
        fn gene(&self) -> &Gene {
            &self.gene
        }
        fn tokens(&self) -> usize {
            self.tokens
        }
        fn is_cancelled(&self) -> bool {
            self.cancelled
        }
        fn predicted_ms(&self) -> f64 {
            2.0
        }
        fn fixed_ms(&self) -> f64 {
            0.5
        }
    }

    fn entry(id: usize, gene: &[usize], tokens: usize) -> Entry {
        Entry {
            id,
            gene: Gene::new(gene.to_vec()),
            tokens,
            cancelled: false,
        }
    }

    fn ids(taken: &Taken<Entry>) -> Vec<usize> {
        taken.jobs.iter().map(|e| e.id).collect()
    }

    const WIDE: BatchLimits = BatchLimits {
        max_batch_tokens: 1000,
        max_batch_requests: 100,
    };

    #[test]
    fn oldest_configuration_first_then_its_followers() {
        let mut q = Queue::default();
        q.push(entry(0, &[8, 8], 5));
        q.push(entry(1, &[8, 4], 5));
        q.push(entry(2, &[8, 8], 5));
        q.push(entry(3, &[8, 4], 5));
        // Four inputs of 1.5 ms each plus 0.5 ms once per configuration.
        assert_eq!(q.backlog_ms(), 4.0 * 1.5 + 2.0 * 0.5);
        assert_eq!(ids(&q.next_batch(WIDE).unwrap()), vec![0, 2]);
        assert_eq!(ids(&q.next_batch(WIDE).unwrap()), vec![1, 3]);
        assert!(q.next_batch(WIDE).is_none());
        assert_eq!((q.len(), q.backlog_ms()), (0, 0.0));
    }

    #[test]
    fn padded_token_budget_and_request_cap() {
        let mut q = Queue::default();
        for (id, tokens) in [(0, 10), (1, 30), (2, 10), (3, 10)] {
            q.push(entry(id, &[8], tokens));
        }
        // 10 then 2 x 30 = 60 <= 64; a third at width 30 would be 90.
        let limits = BatchLimits {
            max_batch_tokens: 64,
            max_batch_requests: 8,
        };
        assert_eq!(ids(&q.next_batch(limits).unwrap()), vec![0, 1]);
        let capped = BatchLimits {
            max_batch_tokens: 1000,
            max_batch_requests: 1,
        };
        assert_eq!(ids(&q.next_batch(capped).unwrap()), vec![2]);
    }

    #[test]
    fn an_oversized_input_still_runs_alone() {
        let mut q = Queue::default();
        q.push(entry(0, &[8], 500));
        q.push(entry(1, &[8], 5));
        let limits = BatchLimits {
            max_batch_tokens: 64,
            max_batch_requests: 8,
        };
        assert_eq!(ids(&q.next_batch(limits).unwrap()), vec![0]);
        assert_eq!(ids(&q.next_batch(limits).unwrap()), vec![1]);
    }

    #[test]
    fn cancelled_entries_are_dropped_not_run() {
        let mut q = Queue::default();
        let mut gone = entry(0, &[8], 5);
        gone.cancelled = true;
        q.push(gone);
        q.push(entry(1, &[4], 5));
        let mut also_gone = entry(2, &[4], 5);
        also_gone.cancelled = true;
        q.push(also_gone);
        q.push(entry(3, &[4], 5));
        let taken = q.next_batch(WIDE).unwrap();
        assert_eq!(ids(&taken), vec![1, 3]);
        let dropped: Vec<usize> = taken.dropped.iter().map(|e| e.id).collect();
        assert_eq!(dropped, vec![0, 2]);
        assert!(q.is_empty());
    }
}
