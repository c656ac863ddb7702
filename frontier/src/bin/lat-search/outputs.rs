//! Everything `lat-search` writes: `frontier.json` (validated before it is written),
//! `genes.tsv`, `history.tsv`, `curves.tsv`, `frontier.svg` and `summary.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lat_frontier::plot::{Series, svg};
use lat_frontier::{
    ArchitectureInfo, CostModel, DevSetInfo, EvalStats, Expected, Fitness, Frontier, FrontierFile,
    FrontierPoint, FullModel, ModelIdentity, Record, SCHEMA_VERSION, SearchConfig, SearchOutcome,
    Task, sha256_file,
};
use lat_model::BertConfig;
use serde_json::json;

/// A constant-ratio curve: (FLOPs ratio, score) per rate.
pub struct Curve {
    /// Legend text.
    pub name: String,
    /// The rates.
    pub rates: Vec<f64>,
    /// (true-length FLOPs ratio, score), one per rate.
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// Scores the constant-ratio genes of `rates` (rate 0 first: the full model).
    pub fn constant_rates<F: Fitness>(
        name: &str,
        rates: &[f64],
        cost: &CostModel,
        fitness: &mut F,
    ) -> Result<Self>
    where
        F::Error: std::fmt::Display,
    {
        let space = cost.space;
        let genes: Vec<_> = rates.iter().map(|&r| space.constant_rate(r)).collect();
        let configs = genes
            .iter()
            .map(|g| space.config(g))
            .collect::<Result<Vec<_>, _>>()?;
        let scores = fitness
            .scores(&configs)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let full = cost.mean_flops(&space.full())?;
        let points = genes
            .iter()
            .zip(scores)
            .map(|(g, s)| Ok((cost.mean_flops(g)? / full, s)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            name: name.into(),
            rates: rates.to_vec(),
            points,
        })
    }
}

/// Facts about the run that go into the outputs.
pub struct RunInfo {
    /// The searched model.
    pub model_dir: PathBuf,
    /// Dev file.
    pub dev_path: PathBuf,
    /// Dev examples.
    pub dev_size: usize,
    /// Task.
    pub task: Task,
    /// Metric name.
    pub metric: String,
    /// Search parameters.
    pub config: SearchConfig,
    /// `shared` or `naive`.
    pub evaluator: String,
    /// Wall time of the search alone.
    pub search_seconds: f64,
    /// Shared evaluator's work counters.
    pub stats: Option<EvalStats>,
    /// The standard model's full-length score, when given.
    pub standard_score: Option<f64>,
}

/// The writer.
pub struct Outputs<'a> {
    dir: &'a Path,
    cost: &'a CostModel,
    config: &'a BertConfig,
    outcome: &'a SearchOutcome,
    curves: &'a [Curve],
    info: &'a RunInfo,
}

impl<'a> Outputs<'a> {
    /// Collects what to write.
    pub fn new(
        dir: &'a Path,
        cost: &'a CostModel,
        config: &'a BertConfig,
        outcome: &'a SearchOutcome,
        curves: &'a [Curve],
        info: &'a RunInfo,
    ) -> Self {
        Self {
            dir,
            cost,
            config,
            outcome,
            curves,
            info,
        }
    }

    fn ratios(&self, r: &Record) -> Result<(f64, f64)> {
        let full = self.cost.space.full();
        let padded = self.cost.padded_flops(&r.gene)? / self.cost.padded_flops(&full)?;
        Ok((r.mean_flops / self.outcome.upper, padded))
    }

    /// Writes every file and prints the frontier table.
    pub fn write(&self) -> Result<()> {
        std::fs::create_dir_all(self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let file = self.frontier_file()?;
        let expected = Expected {
            weights_sha256: file.model.weights_sha256.clone(),
            architecture: file.architecture,
            task: file.task.clone(),
        };
        Frontier::new(file.clone(), Some(&expected))
            .context("the search produced an invalid frontier")?;
        file.save(&self.dir.join("frontier.json"))?;
        self.write_text("genes.tsv", &self.genes_tsv()?)?;
        self.write_text("history.tsv", &self.history_tsv())?;
        self.write_text("curves.tsv", &self.curves_tsv())?;
        self.write_text("frontier.svg", &self.plot(&file))?;
        let summary = self.summary(&file);
        self.write_text(
            "summary.json",
            &(serde_json::to_string_pretty(&summary)? + "\n"),
        )?;
        println!(
            "| gene | FLOPs ratio (true lengths) | FLOPs ratio (padded T) | {} |",
            self.info.metric
        );
        println!("|---|---|---|---|");
        for p in &file.points {
            println!(
                "| {} | {:.3} | {:.3} | {:.2} |",
                p.gene.label(),
                p.flops_ratio,
                p.padded_flops_ratio,
                p.score
            );
        }
        println!("{}", serde_json::to_string_pretty(&summary["points"])?);
        println!("wrote {}", self.dir.display());
        Ok(())
    }

    fn write_text(&self, name: &str, text: &str) -> Result<()> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    fn frontier_file(&self) -> Result<FrontierFile> {
        let records = &self.outcome.records;
        let full = records
            .iter()
            .find(|r| r.gene == self.cost.space.full())
            .context("the full model was not evaluated")?;
        let points = self
            .outcome
            .front
            .iter()
            .map(|&i| {
                let r = &records[i];
                let (flops_ratio, padded_flops_ratio) = self.ratios(r)?;
                Ok(FrontierPoint {
                    gene: r.gene.clone(),
                    mean_flops: r.mean_flops,
                    flops_ratio,
                    padded_flops_ratio,
                    score: r.score,
                    held_out: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lengths = &self.cost.dev_lengths;
        let name = model_name(&self.info.model_dir);
        Ok(FrontierFile {
            schema_version: SCHEMA_VERSION,
            model: ModelIdentity {
                name,
                weights_sha256: sha256_file(&self.info.model_dir.join("model.safetensors"))?,
            },
            task: self.info.task.clone(),
            metric: self.info.metric.clone(),
            dev_set: DevSetInfo {
                name: self.info.dev_path.display().to_string(),
                size: self.info.dev_size,
                inputs: lengths.len(),
                mean_tokens: lengths.iter().sum::<usize>() as f64 / lengths.len().max(1) as f64,
            },
            architecture: ArchitectureInfo {
                num_hidden_layers: self.config.num_hidden_layers,
                hidden_size: self.config.hidden_size,
                num_attention_heads: self.config.num_attention_heads,
                intermediate_size: self.config.intermediate_size,
            },
            max_length: self.cost.space.max_length,
            full_model: FullModel {
                mean_flops: full.mean_flops,
                score: full.score,
                held_out: None,
            },
            points,
            search: json!({
                "config": self.info.config,
                "evaluator": self.info.evaluator,
                "evaluated_genes": records.len(),
                "search_seconds": self.info.search_seconds,
            }),
            held_out_set: None,
        })
    }

    fn genes_tsv(&self) -> Result<String> {
        let mut out = String::from(
            "gene\tmean_flops\tflops_ratio\tpadded_flops_ratio\tscore\tbirth\titeration\tparents\n",
        );
        let mut order: Vec<&Record> = self.outcome.records.iter().collect();
        order.sort_by(|a, b| a.mean_flops.total_cmp(&b.mean_flops));
        for r in order {
            let (ratio, padded) = self.ratios(r)?;
            let parents: Vec<String> = r
                .parents
                .iter()
                .map(|&p| self.outcome.records[p].gene.label())
                .collect();
            let _ = writeln!(
                out,
                "{}\t{:.0}\t{ratio:.4}\t{padded:.4}\t{:.4}\t{:?}\t{}\t{}",
                r.gene.label(),
                r.mean_flops,
                r.score,
                r.birth,
                r.iteration,
                parents.join(" ")
            );
        }
        Ok(out)
    }

    fn history_tsv(&self) -> String {
        let mut out = String::from("iteration\tfront_size\tarea\tevaluated\tbest_score\n");
        for s in &self.outcome.history {
            let _ = writeln!(
                out,
                "{}\t{}\t{:.4}\t{}\t{:.4}",
                s.iteration, s.front_size, s.area, s.evaluated, s.best_score
            );
        }
        out
    }

    fn curves_tsv(&self) -> String {
        let mut out = String::from("curve\trate\tflops_ratio\tscore\n");
        for c in self.curves {
            for (rate, (ratio, score)) in c.rates.iter().zip(&c.points) {
                let _ = writeln!(out, "{}\t{rate:.2}\t{ratio:.4}\t{score:.4}", c.name);
            }
        }
        out
    }

    fn plot(&self, file: &FrontierFile) -> String {
        let upper = self.outcome.upper;
        let mut series = vec![Series {
            name: "every evaluated gene".into(),
            points: self
                .outcome
                .records
                .iter()
                .map(|r| (r.mean_flops / upper, r.score))
                .collect(),
            colour: "#999".into(),
            line: false,
        }];
        for (curve, colour) in self.curves.iter().zip(["#1f77b4", "#2ca02c"]) {
            series.push(Series {
                name: curve.name.clone(),
                points: curve.points.clone(),
                colour: colour.into(),
                line: true,
            });
        }
        series.push(Series {
            name: "searched frontier".into(),
            points: file
                .points
                .iter()
                .map(|p| (p.flops_ratio, p.score))
                .collect(),
            colour: "#d62728".into(),
            line: true,
        });
        svg(
            &format!("{} on {}", file.model.name, file.dev_set.name),
            &file.metric,
            &series,
        )
    }

    fn summary(&self, file: &FrontierFile) -> serde_json::Value {
        let best = file
            .points
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score));
        let at_least = |score: f64| file.points.iter().find(|p| p.score >= score);
        let point = |p: Option<&FrontierPoint>| {
            p.map(|p| json!({"gene": p.gene.label(), "score": p.score, "flops_ratio": p.flops_ratio, "padded_flops_ratio": p.padded_flops_ratio}))
        };
        let genes = self.outcome.records.len();
        json!({
            "evaluator": self.info.evaluator,
            "evaluated_genes": genes,
            "search_seconds": self.info.search_seconds,
            "genes_per_second": genes as f64 / self.info.search_seconds,
            "stats": self.info.stats.map(|s| json!({
                "requested": s.requested, "cached": s.cached,
                "layer_rows": s.layer_rows, "layer_passes": s.layer_passes})),
            "final_area": self.outcome.history.last().map(|h| h.area),
            "full_model_score": file.full_model.score,
            "standard_model_score": self.info.standard_score,
            "points": {
                "la_star": point(best),
                "la_dagger_vs_standard": self.info.standard_score.map(|s| point(at_least(s))),
                "la_dagger_vs_own_full": point(at_least(file.full_model.score)),
            },
        })
    }
}

/// The model directory's name, with its parent's when it is a `checkpoint-*` directory
/// (`sst2-length-adaptive/checkpoint-best` rather than `checkpoint-best`).
fn model_name(dir: &Path) -> String {
    let base = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match (base(dir), dir.parent().and_then(base)) {
        (Some(name), Some(parent)) if name.starts_with("checkpoint") => format!("{parent}/{name}"),
        (Some(name), _) => name,
        _ => "model".into(),
    }
}
