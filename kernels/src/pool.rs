//! Running a whole forward on rayon's pool.
//!
//! Called from a thread outside the pool (the server's engine, a benchmark's main thread),
//! every parallel region of the kernels and of burn-flex is injected into the pool and the
//! caller sleeps until a worker finishes it: a cross-thread wake per region, dozens per
//! forward, which dominated short inputs (1x16 ran 25-35 % faster once inside the pool).
//! Inside the pool the caller is itself a worker and takes part in every region.

/// Runs `f` on a worker of rayon's global pool (at once when already on one) and returns
/// its result.
pub fn on_compute_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    rayon::scope(|_| f())
}
