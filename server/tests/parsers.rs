//! Property tests: request and frontier parsers on random and mutated input never panic,
//! and anything they accept is usable.
#![allow(clippy::unwrap_used)]

mod common;

use lat_frontier::{Expected, FrontierFile};
use lat_server::api::{ClassifyRequest, QaRequest};
use lat_server::{Snapshot, parse};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SEEDS: [&str; 4] = [
    r#"{"inputs": ["a", {"text": "b", "text_pair": "c"}], "budget": {"flops_ratio": 0.5}, "strict": true}"#,
    r#"{"inputs": "x", "model": "m", "budget": {"latency_ms": 12.5}, "truncate": false}"#,
    r#"{"question": "q?", "context": "some context", "budget": {"flops": 1e9}}"#,
    r#"{"question": "q?", "context": "c", "strict": false, "model": "qa"}"#,
];

const ALPHABET: &[u8] = br#"{}[]":,0123456789.-+eE truefalsenul\abcxyz"#;

fn mutate(rng: &mut StdRng, text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=out.len());
        match rng.random_range(0..4) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 => out.insert(at, ALPHABET[rng.random_range(0..ALPHABET.len())]),
            2 if at < out.len() => out[at] = rng.random(),
            _ => {
                let end = rng.random_range(at..=out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
        }
    }
    out
}

#[test]
fn request_parsers_never_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut accepted = 0;
    for round in 0..20_000 {
        let seed = SEEDS[round % SEEDS.len()].as_bytes();
        let bytes = if round % 10 == 0 {
            (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
        } else {
            mutate(&mut rng, seed)
        };
        if let Ok(r) = parse::<ClassifyRequest>(&bytes) {
            accepted += 1;
            let _ = r.input_list();
            if let Some(b) = r.budget {
                let _ = b.budget();
            }
        }
        if let Ok(r) = parse::<QaRequest>(&bytes)
            && let Some(b) = r.budget
        {
            let _ = b.budget();
        }
    }
    assert!(
        accepted > 100,
        "mutations should sometimes stay valid ({accepted})"
    );
}

#[test]
fn frontier_parser_never_panics_and_accepts_only_valid_files() {
    let dir = common::temp_dir("parsers");
    common::write_model(&dir, "classification");
    let file = common::frontier_file(&dir, "classification", &common::RATES, 0.0);
    let expected = Expected {
        weights_sha256: file.model.weights_sha256.clone(),
        architecture: file.architecture,
        task: file.task.clone(),
    };
    let valid = serde_json::to_vec(&file).unwrap();
    assert!(Snapshot::parse(&valid, &expected).is_ok());
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..3_000 {
        let bytes = mutate(&mut rng, &valid);
        if let Ok(snapshot) = Snapshot::parse(&bytes, &expected) {
            // Whatever is accepted must be servable: a config per point, budgets resolve.
            let again: FrontierFile = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(snapshot.points(), again.points.len());
            for n in [1, 2, 17, 64] {
                snapshot.frontier.resolve(None, n, None).unwrap();
            }
        }
    }
}
