//! Pareto maintenance over (cost, score): lower cost and higher score are better.
//!
//! The reference keeps its most expensive gene even when a cheaper one scores at least as
//! well, and its equal-cost test compares a cost with a gene length, so ties at one cost are
//! never resolved. Here a point stays only if it scores strictly above every cheaper point,
//! and among equal costs only the best-scoring one can stay.

/// A candidate on the (cost, score) plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Mean FLOPs (lower is better).
    pub cost: f64,
    /// Dev score (higher is better).
    pub score: f64,
}

/// Indices of the non-dominated points, by ascending cost (ties: the first one listed).
pub fn pareto_front(points: &[Point]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (points[a], points[b]);
        pa.cost
            .total_cmp(&pb.cost)
            .then(pb.score.total_cmp(&pa.score))
            .then(a.cmp(&b))
    });
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        let better = front
            .last()
            .is_none_or(|&last| points[i].score > points[last].score);
        if better {
            front.push(i);
        }
    }
    front
}

/// Area under the frontier's left step function over `[lower, upper]`, normalised by the
/// window: Σ_k (x_{k+1} - x_k) y_k / (upper - lower), where the last point extends to `upper`
/// (the reference's measure; it kept the most expensive gene, so its front always reached
/// `upper`). `front` is sorted by cost.
pub fn front_area(front: &[Point], lower: f64, upper: f64) -> f64 {
    if upper <= lower {
        return 0.0;
    }
    let mut area = 0.0;
    for (k, point) in front.iter().enumerate() {
        let next = front.get(k + 1).map_or(upper, |p| p.cost);
        area += (next - point.cost) * point.score;
    }
    area / (upper - lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pairs: &[(f64, f64)]) -> Vec<Point> {
        pairs
            .iter()
            .map(|&(cost, score)| Point { cost, score })
            .collect()
    }

    #[test]
    fn keeps_only_non_dominated_points() {
        let p = points(&[
            (3.0, 80.0),
            (1.0, 70.0),
            (2.0, 75.0),
            (2.5, 74.0),
            (4.0, 85.0),
        ]);
        assert_eq!(pareto_front(&p), vec![1, 2, 0, 4]);
    }

    #[test]
    fn drops_the_most_expensive_point_when_it_is_dominated() {
        // The reference always keeps index 2 (the most expensive) here.
        let p = points(&[(1.0, 80.0), (2.0, 85.0), (3.0, 85.0)]);
        assert_eq!(pareto_front(&p), vec![0, 1]);
        let p = points(&[(1.0, 90.0), (3.0, 85.0)]);
        assert_eq!(pareto_front(&p), vec![0]);
    }

    #[test]
    fn equal_costs_keep_the_best_score_only() {
        // The reference's tie test never fires, so both of (2.0, _) could stay.
        let p = points(&[(1.0, 70.0), (2.0, 72.0), (2.0, 78.0), (2.0, 75.0)]);
        assert_eq!(pareto_front(&p), vec![0, 2]);
        // Exact duplicates: the first listed stays.
        let p = points(&[(1.0, 70.0), (1.0, 70.0)]);
        assert_eq!(pareto_front(&p), vec![0]);
    }

    #[test]
    fn equal_scores_keep_the_cheapest() {
        let p = points(&[(2.0, 80.0), (1.0, 80.0), (3.0, 81.0)]);
        assert_eq!(pareto_front(&p), vec![1, 2]);
    }

    #[test]
    fn area_by_hand() {
        // Window [0, 10]: 80 over [1, 4), 90 over [4, 10] -> (3*80 + 6*90) / 10 = 78.
        let front = points(&[(1.0, 80.0), (4.0, 90.0)]);
        assert!((front_area(&front, 0.0, 10.0) - 78.0).abs() < 1e-12);
        assert_eq!(front_area(&front, 5.0, 5.0), 0.0);
    }
}
