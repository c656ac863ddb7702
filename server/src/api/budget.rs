//! The budget part of a request: `budget` (one of `flops`, `flops_ratio`, `latency_ms`) and
//! `strict`.

use lat_frontier::Budget;
use serde::Deserialize;

/// What a request may spend, as sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// Absolute FLOPs for this input.
    pub flops: Option<f64>,
    /// Fraction of the full model's FLOPs on this input.
    pub flops_ratio: Option<f64>,
    /// Milliseconds end to end, queue wait included.
    pub latency_ms: Option<f64>,
}

impl BudgetRequest {
    /// The one budget given, or a message saying why the object is invalid.
    pub fn budget(&self) -> Result<Budget, String> {
        let given: Vec<Budget> = [
            self.flops.map(Budget::Flops),
            self.flops_ratio.map(Budget::FlopsRatio),
            self.latency_ms.map(Budget::LatencyMs),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.as_slice() {
            [one] => Ok(*one),
            [] => Err("`budget` needs one of `flops`, `flops_ratio`, `latency_ms`".into()),
            _ => Err("`budget` takes only one of `flops`, `flops_ratio`, `latency_ms`".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Budget, String> {
        serde_json::from_str::<BudgetRequest>(json)
            .map_err(|e| e.to_string())?
            .budget()
    }

    #[test]
    fn exactly_one_kind() {
        assert_eq!(parse(r#"{"flops": 1e9}"#), Ok(Budget::Flops(1e9)));
        assert_eq!(
            parse(r#"{"flops_ratio": 0.5}"#),
            Ok(Budget::FlopsRatio(0.5))
        );
        assert_eq!(parse(r#"{"latency_ms": 20}"#), Ok(Budget::LatencyMs(20.0)));
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"flops": 1, "latency_ms": 2}"#).is_err());
        assert!(parse(r#"{"tokens": 3}"#).is_err());
    }
}
