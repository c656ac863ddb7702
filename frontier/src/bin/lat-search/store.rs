//! `store.tsv`: every scored gene, rewritten after each iteration, so that an interrupted
//! search resumes by replaying itself with these scores (`--resume`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use lat_frontier::{Gene, Record};

/// Gene -> score from a previous run's store; empty if there is none.
pub fn read(path: &Path) -> Result<HashMap<Gene, f64>> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| {
            let (gene, score) = line
                .split_once('\t')
                .with_context(|| format!("{}: line {}", path.display(), i + 2))?;
            let gene: Gene = gene.parse().map_err(anyhow::Error::msg)?;
            Ok((gene, score.parse()?))
        })
        .collect()
}

/// Writes the scored records (atomically).
pub fn write(path: &Path, records: &[Record]) -> Result<()> {
    let mut out = String::from("gene\tscore\n");
    for r in records.iter().filter(|r| !r.score.is_nan()) {
        let _ = writeln!(out, "{}\t{}", r.gene.label(), r.score);
    }
    let tmp = path.with_extension("tsv.tmp");
    std::fs::write(&tmp, out).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
