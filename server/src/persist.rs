//! Writing a frontier file the way its readers (the watcher, a restart) need it written.

use std::path::Path;

/// Writes `bytes` to `path` unless it holds them already: a sibling temporary file, synced,
/// then renamed over it, so a reader sees the old file or the new one, never a mix.
pub async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if tokio::fs::read(path).await.is_ok_and(|held| held == bytes) {
        return Ok(());
    }
    let name = path
        .file_name()
        .map_or_else(|| "frontier".into(), |n| n.to_string_lossy().into_owned());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = async {
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::File::open(&temporary).await?.sync_all().await?;
        tokio::fs::rename(&temporary, path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temporary).await;
    }
    written
}
