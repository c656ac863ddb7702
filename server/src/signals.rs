//! The process's signals, installed once at start so that none arriving during loading or
//! warm-up is lost or fatal: SIGTERM and SIGINT set the stop flag; SIGHUP reloads every
//! frontier file once the models serve, and is logged and ignored before.

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::state::AppState;

/// The stop flag the signals set.
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Resolves once a stop was asked for (at once if it already was).
    pub async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Installs the handlers; they live until the process ends.
pub fn install(state: Arc<AppState>) -> std::io::Result<Stop> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
                _ = hangup.recv() => reload_all(&state),
            }
        }
        let _ = stop_tx.send(true);
        // Keep the handlers installed: a second SIGTERM must not kill the drain.
        loop {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
                _ = hangup.recv() => {}
            }
        }
    });
    Ok(Stop(stop_rx))
}

fn reload_all(state: &Arc<AppState>) {
    if !state.is_serving() {
        tracing::info!(
            "SIGHUP before the models are ready: ignored (they load the files as they are)"
        );
        return;
    }
    tracing::info!("SIGHUP: reloading frontier files");
    let state = Arc::clone(state);
    // Off the signal loop, so a SIGTERM during a long reload is not kept waiting.
    tokio::spawn(async move {
        for model in state.models() {
            // Logged and counted by `reload`.
            let _ = model.reload_from_file().await;
        }
    });
}
