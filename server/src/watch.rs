//! Watching frontier files: each model's file is re-read on a timer and reloaded once its
//! content has been the same, and different from the serving one, for two polls in a row.
//! Reading through the path follows Kubernetes ConfigMap symlink swaps and sees a
//! write-then-rename as one change; the two-poll rule debounces writers caught midway.

use std::sync::Arc;
use std::time::Duration;

use crate::frontier_slot::sha256_hex;
use crate::state::AppState;

/// Debounce state of one watched file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileWatch {
    last_seen: Option<String>,
    last_tried: Option<String>,
}

impl FileWatch {
    /// Feeds one poll (`None`: unreadable) against the serving file's hash; true when the
    /// file should be reloaded now. A refused content is not retried until it changes.
    pub fn observe(&mut self, content: Option<&str>, serving: &str) -> bool {
        let Some(sha) = content else {
            self.last_seen = None;
            return false;
        };
        if sha == serving {
            self.last_seen = Some(sha.to_string());
            self.last_tried = None;
            return false;
        }
        if self.last_seen.as_deref() != Some(sha) {
            self.last_seen = Some(sha.to_string());
            return false;
        }
        if self.last_tried.as_deref() == Some(sha) {
            return false;
        }
        self.last_tried = Some(sha.to_string());
        true
    }
}

/// Polls every model's frontier file every `interval` until the process ends.
pub async fn watch_frontiers(state: Arc<AppState>, interval: Duration) {
    let mut watches = vec![FileWatch::default(); state.models().len()];
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for (model, watch) in state.models().iter().zip(watches.iter_mut()) {
            let content = tokio::fs::read(model.frontier_path())
                .await
                .ok()
                .map(|bytes| (sha256_hex(&bytes), bytes));
            let serving = model.slot.load().sha256.clone();
            if watch.observe(content.as_ref().map(|(sha, _)| sha.as_str()), &serving)
                && let Some((_, bytes)) = content
            {
                // The outcome is logged and counted by `reload`.
                let _ = model.reload(&bytes).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reloads_once_a_change_is_stable_and_never_retries_a_refused_one() {
        let mut w = FileWatch::default();
        assert!(!w.observe(Some("a"), "a"));
        assert!(!w.observe(Some("b"), "a"), "first sight: wait");
        assert!(w.observe(Some("b"), "a"), "stable for two polls: reload");
        assert!(!w.observe(Some("b"), "a"), "refused: not again");
        assert!(!w.observe(None, "a"), "unreadable (mid-swap): nothing");
        assert!(!w.observe(Some("c"), "a"));
        assert!(!w.observe(Some("d"), "a"), "still changing");
        assert!(w.observe(Some("d"), "a"));
        assert!(!w.observe(Some("d"), "d"), "swapped");
        assert!(!w.observe(Some("b"), "d"));
        assert!(
            w.observe(Some("b"), "d"),
            "a refused content may come back later"
        );
    }
}
