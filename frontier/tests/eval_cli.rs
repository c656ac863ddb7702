//! `lat-search eval` on the shipped SST-2 model (real weights and tokenizer) and a small
//! labelled file written here: one row per gene with its score, noise and true-length
//! FLOPs, per-example predictions in --json, and a wrong label set named with its fix.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn data_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lat-eval-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("held-out.tsv");
    let rows = [
        ("a gripping , funny and deeply moving film ", 1),
        ("the best movie i have seen this year ", 1),
        ("a warm , wise and wonderful story ", 1),
        ("dull , lifeless and far too long ", 0),
        ("a tedious mess with nothing to say ", 0),
        ("the worst script of the decade ", 0),
    ];
    let mut text = String::from("sentence\tlabel\n");
    for (sentence, label) in rows {
        text.push_str(&format!("{sentence}\t{label}\n"));
    }
    std::fs::write(&path, text).expect("write data");
    path
}

fn eval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lat-search"))
        .arg("eval")
        .args([
            "--model",
            repo().join("models/sst2").to_str().expect("utf-8"),
        ])
        .args(args)
        .output()
        .expect("lat-search runs")
}

#[test]
fn eval_scores_genes_and_frontier_points_with_noise_and_predictions() {
    let data = data_file();
    let json = data.with_extension("json");
    let written = data.with_file_name("frontier-held-out.json");
    let frontier = repo().join("models/sst2/frontier.json");
    let out = eval(&[
        "--data",
        data.to_str().expect("utf-8"),
        "--frontier",
        frontier.to_str().expect("utf-8"),
        "--genes",
        "122,98,63,42,21,11 64,64,64,64,64,64;5",
        "--label-values",
        "0,1",
        "--json",
        json.to_str().expect("utf-8"),
        "--write-frontier",
        written.to_str().expect("utf-8"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("6 examples"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    let rows = report["rows"].as_array().expect("rows");
    let points =
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&frontier).expect("frontier"))
            .expect("frontier json")["points"]
            .as_array()
            .expect("points")
            .len();
    // The full model, every frontier point, and the explicit gene not already among them.
    assert!(rows.len() > points, "{} rows", rows.len());
    assert_eq!(rows[0]["flops_ratio"], 1.0);
    assert!(rows[0]["vs_full"].is_null());
    let skipped = rows
        .iter()
        .find(|r| r["label"] == "64,64,64,64,64,64;5")
        .expect("the explicit gene");
    assert!(skipped["flops_ratio"].as_f64().expect("ratio") < 0.5);
    for row in rows {
        assert_eq!(row["accuracy"]["n"], 6);
        let mean = row["accuracy"]["mean"].as_f64().expect("mean");
        assert!((0.0..=100.0).contains(&mean));
        assert!(row["accuracy"]["standard_error"].as_f64().is_some());
        assert_eq!(row["predictions"].as_array().expect("predictions").len(), 6);
        let correct = row["predictions"]
            .as_array()
            .expect("predictions")
            .iter()
            .filter(|p| p["correct"] == true)
            .count();
        assert!((mean - 100.0 * correct as f64 / 6.0).abs() < 1e-9);
    }
    // The frontier copy carries every point's held-out score, and still loads.
    let with_held_out = lat_frontier::Frontier::load(&written, None).expect("valid frontier");
    let file = with_held_out.file();
    assert_eq!(file.held_out_set.as_ref().expect("held-out set").size, 6);
    assert_eq!(file.full_model.held_out.expect("full").n, 6);
    for (point, row) in file.points.iter().zip(&rows[1..]) {
        let held_out = point.held_out.expect("every point scored");
        assert_eq!(row["label"], point.gene.label());
        assert_eq!(
            held_out.mean,
            row["accuracy"]["mean"].as_f64().expect("mean")
        );
    }
    // The full model reads these six plain sentences right.
    assert_eq!(rows[0]["accuracy"]["mean"], 100.0, "{stdout}");
}

#[test]
fn a_label_column_of_other_values_names_the_flag_and_the_labels() {
    let data = data_file();
    let out = eval(&[
        "--data",
        data.to_str().expect("utf-8"),
        "--genes",
        "122,98,63,42,21,11",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--label-values"), "{stderr}");
    assert!(stderr.contains("negative"), "{stderr}");
}
