//! Classification accuracy.

/// Share of `predictions` equal to `labels`, in [0, 1]; `None` for no examples.
///
/// # Panics
/// If the slices differ in length.
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> Option<f64> {
    assert_eq!(predictions.len(), labels.len(), "one prediction per label");
    if labels.is_empty() {
        return None;
    }
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    Some(correct as f64 / labels.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_matches() {
        assert_eq!(accuracy(&[1, 0, 1, 1], &[1, 1, 1, 0]), Some(0.5));
        assert_eq!(accuracy(&[], &[]), None);
    }
}
