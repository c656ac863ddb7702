//! mimalloc hands freed memory back to the OS after a delay, and a training step's large
//! short-lived tensors (activations, gradients, packed operands) then fault their pages in
//! again, each one zeroed by the kernel: 10-20% of a step at batch 32 x 64 (measured with
//! `lat-train bench-step`, with and without `MIMALLOC_PURGE_DELAY=-1`). mimalloc reads its
//! options from the environment when the process starts, so `lat-train` re-executes
//! itself once with `MIMALLOC_PURGE_DELAY=-1` (keep freed memory) unless the variable is
//! already set, which is also how to choose another value. Peak memory is unchanged;
//! memory is returned at exit rather than between steps.

use std::os::unix::process::CommandExt;
use std::process::Command;

const VAR: &str = "MIMALLOC_PURGE_DELAY";

/// Re-executes this process with mimalloc's purging off, unless `MIMALLOC_PURGE_DELAY`
/// is set; returns only when it is set or the re-execution failed (then nothing changes).
pub fn keep_freed_memory() {
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let error = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, "-1")
        .exec();
    eprintln!("warning: could not re-execute with {VAR}=-1 ({error}); continuing as is");
}
