//! The engine: one thread that owns the model, takes batches from the queue as soon as it is
//! free, and answers each input on its own channel. Calibration runs between batches.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use burn::tensor::Device;
use lat_model::Encoded;

use crate::engine::calibration::CalibrationRun;
use crate::engine::job::{Calibration, EngineError, Job, JobOutput};
use crate::engine::model::TaskModel;
use crate::engine::queue::{BatchLimits, Queue, Taken};
use crate::metrics::EngineMetrics;

/// How an engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Batch bounds.
    pub limits: BatchLimits,
    /// Padding id of the tokenizer.
    pub pad_token_id: u32,
    /// Device the model lives on.
    pub device: Device,
}

#[derive(Default)]
struct State {
    queue: Queue<Job>,
    calibrations: VecDeque<Calibration>,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (forward passes run outside it).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Handle to a model's engine thread.
pub struct Engine {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

enum Work {
    Batch(Taken<Job>),
    Calibrate(Calibration),
    CalibrationStep,
}

/// Under steady load, one calibration pass runs after this many batches, so a swap's
/// timing work neither stalls serving nor starves.
const BATCHES_PER_CALIBRATION_STEP: usize = 1;

impl Engine {
    /// Starts the thread; it owns `model` from now on.
    pub fn start(model: TaskModel, config: EngineConfig, metrics: EngineMetrics) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("lat-engine".into())
            .spawn(move || run(&worker, &model, &config, &metrics))
            .expect("spawning the engine thread");
        Self {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Queues an input; refused (with the job back) once the engine is stopping.
    pub fn submit(&self, job: Job) -> Result<(), Box<Job>> {
        let mut state = self.shared.lock();
        if state.stopping {
            return Err(Box::new(job));
        }
        state.queue.push(job);
        drop(state);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Queues inputs together (under one lock, so an idle engine batches them together);
    /// refused, jobs back, once the engine is stopping.
    pub fn submit_many(&self, jobs: Vec<Job>) -> Result<(), Vec<Job>> {
        let mut state = self.shared.lock();
        if state.stopping {
            return Err(jobs);
        }
        for job in jobs {
            state.queue.push(job);
        }
        drop(state);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Queues calibration work.
    pub fn calibrate(&self, work: Calibration) {
        let mut state = self.shared.lock();
        if state.stopping {
            let _ = work.reply.send(Err(EngineError::Stopped));
            return;
        }
        state.calibrations.push_back(work);
        drop(state);
        self.shared.wake.notify_one();
    }

    /// Predicted compute of everything queued, milliseconds.
    pub fn backlog_ms(&self) -> f64 {
        self.shared.lock().queue.backlog_ms()
    }

    /// Inputs queued.
    pub fn queue_len(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Serves what is queued, then stops the thread and waits for it.
    pub fn stop(&self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Batches first; a running calibration advances when the queue is empty or a step is due.
fn next_work(
    shared: &Shared,
    limits: BatchLimits,
    metrics: &EngineMetrics,
    calibrating: bool,
    step_due: bool,
) -> Option<Work> {
    if step_due {
        return Some(Work::CalibrationStep);
    }
    let mut state = shared.lock();
    loop {
        // Starting a calibration costs nothing, and waiting for an empty queue could starve it.
        if !calibrating && let Some(work) = state.calibrations.pop_front() {
            return Some(Work::Calibrate(work));
        }
        if let Some(taken) = state.queue.next_batch(limits) {
            metrics.queue_depth.set(state.queue.len() as i64);
            return Some(Work::Batch(taken));
        }
        if calibrating {
            return Some(Work::CalibrationStep);
        }
        if state.stopping {
            return None;
        }
        state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
    }
}

fn run(shared: &Shared, model: &TaskModel, config: &EngineConfig, metrics: &EngineMetrics) {
    let mut running: Option<CalibrationRun> = None;
    let mut batches_since_step = 0;
    loop {
        let step_due = running.is_some() && batches_since_step >= BATCHES_PER_CALIBRATION_STEP;
        let Some(work) = next_work(shared, config.limits, metrics, running.is_some(), step_due)
        else {
            return;
        };
        match work {
            Work::Batch(taken) => {
                serve_batch(taken, model, config, metrics);
                batches_since_step += 1;
            }
            Work::Calibrate(work) => running = Some(CalibrationRun::new(work)),
            Work::CalibrationStep => {
                batches_since_step = 0;
                if let Some(run) = running.as_mut()
                    && run.step(|input, length_config| {
                        catch_unwind(AssertUnwindSafe(|| {
                            model.forward(input, config.pad_token_id, length_config, &config.device)
                        }))
                        .map(|_| ())
                        .map_err(|p| EngineError::Forward(panic_message(p.as_ref())))
                    })
                    && let Some(done) = running.take()
                {
                    done.finish();
                }
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "panic".into())
}

fn serve_batch(taken: Taken<Job>, model: &TaskModel, config: &EngineConfig, m: &EngineMetrics) {
    m.dropped.inc_by(taken.dropped.len() as u64);
    let jobs = taken.jobs;
    let Some(first) = jobs.first() else { return };
    let length_config = first.config.clone();
    let inputs: Vec<Encoded> = jobs.iter().map(|j| j.encoded.clone()).collect();
    let width = inputs.iter().map(|e| e.input_ids.len()).max().unwrap_or(0);
    let started = Instant::now();
    let outputs = catch_unwind(AssertUnwindSafe(|| {
        model.forward(&inputs, config.pad_token_id, &length_config, &config.device)
    }));
    let compute = started.elapsed();
    m.inference_duration.observe(compute.as_secs_f64());
    m.batch_size.observe(jobs.len() as f64);
    m.batch_tokens.observe((width * jobs.len()) as f64);
    let batch_size = jobs.len();
    match outputs {
        Ok(rows) => {
            for (job, row) in jobs.into_iter().zip(rows) {
                let _ = job.reply.send(Ok(JobOutput {
                    logits: row.logits,
                    kept_tokens: row.kept_tokens,
                    queue: started.saturating_duration_since(job.submitted),
                    compute,
                    batch_size,
                }));
            }
        }
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(%message, batch_size, "forward pass failed");
            for job in jobs {
                let _ = job.reply.send(Err(EngineError::Forward(message.clone())));
            }
        }
    }
}
