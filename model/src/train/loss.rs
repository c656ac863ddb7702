//! The two training losses: task cross-entropy for the full network and the inplace
//! distillation term KL(student || teacher) for the sub-networks.
//!
//! Both take groups of logits, one `[batch, classes]` tensor per prediction the task makes
//! (classification: one; QA: start and end, averaged as the reference does).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Mean cross-entropy of `logits` `[batch, classes]` against `targets` `[batch]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [batch_size, _] = logits.dims();
    let log_probs = log_softmax(logits, 1);
    let picked = log_probs.gather(1, targets.reshape([batch_size, 1]));
    picked.mean().neg()
}

/// `KL(student || teacher) = sum_c p_s(c) (log p_s(c) - log p_t(c))`, averaged over the batch
/// (PyTorch `KLDivLoss(reduction="batchmean")` with the teacher's log-probabilities as input
/// and the student's probabilities as target, as the reference calls it). The teacher is
/// detached here, so gradients reach the student only.
pub fn kl_student_teacher(student: Tensor<2>, teacher: Tensor<2>) -> Tensor<1> {
    let [batch_size, _] = student.dims();
    let log_student = log_softmax(student, 1);
    let log_teacher = log_softmax(teacher.detach(), 1);
    let student_probs = log_student.clone().exp();
    (student_probs * (log_student - log_teacher))
        .sum()
        .div_scalar(batch_size as f64)
}

/// Cross-entropy averaged over the task's logit groups.
pub fn grouped_cross_entropy(groups: Vec<Tensor<2>>, targets: &[Tensor<1, Int>]) -> Tensor<1> {
    let count = groups.len() as f64;
    groups
        .into_iter()
        .zip(targets.iter().cloned())
        .map(|(logits, target)| cross_entropy(logits, target))
        .reduce(|a, b| a + b)
        .expect("a task has at least one logit group")
        .div_scalar(count)
}

/// KL(student || teacher) averaged over the task's logit groups.
pub fn grouped_kl(student: Vec<Tensor<2>>, teacher: &[Tensor<2>]) -> Tensor<1> {
    let count = student.len() as f64;
    student
        .into_iter()
        .zip(teacher.iter().cloned())
        .map(|(s, t)| kl_student_teacher(s, t))
        .reduce(|a, b| a + b)
        .expect("a task has at least one logit group")
        .div_scalar(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn scalar(t: Tensor<1>) -> f64 {
        f64::from(t.into_scalar::<f32>())
    }

    #[test]
    fn cross_entropy_matches_hand_computation() {
        let device = Device::default();
        // Row 0: logits (0, ln 3) -> p = (1/4, 3/4), target 1 -> -ln(3/4).
        // Row 1: logits (0, 0) -> p = (1/2, 1/2), target 0 -> ln 2.
        let logits = Tensor::<2>::from_floats([[0.0, 3f32.ln()], [0.0, 0.0]], &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
        let expected = (-(0.75f64).ln() + 2f64.ln()) / 2.0;
        assert!((scalar(cross_entropy(logits, targets)) - expected).abs() < 1e-6);
    }

    #[test]
    fn kl_is_reverse_and_batchmean() {
        let device = Device::default();
        // Student p_s = (3/4, 1/4), teacher p_t = (1/2, 1/2) in row 0; identical in row 1.
        // KL(s||t) = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812...; KL(t||s) would be 0.143841...
        let student = Tensor::<2>::from_floats([[3f32.ln(), 0.0], [1.0, 2.0]], &device);
        let teacher = Tensor::<2>::from_floats([[0.0, 0.0], [1.0, 2.0]], &device);
        let row0 = 0.75 * 1.5f64.ln() + 0.25 * 0.5f64.ln();
        let got = scalar(kl_student_teacher(student, teacher));
        assert!((got - row0 / 2.0).abs() < 1e-6, "{got} vs {}", row0 / 2.0);
        let forward = 0.5 * (0.5f64 / 0.75).ln() + 0.5 * (0.5f64 / 0.25).ln();
        assert!(
            (got - forward / 2.0).abs() > 1e-3,
            "must not be KL(teacher || student)"
        );
    }

    #[test]
    fn kl_gradient_reaches_the_student_only() {
        let device = Device::default().autodiff();
        let student = Tensor::<2>::from_floats([[0.3, -0.2, 1.0]], &device).require_grad();
        let teacher = Tensor::<2>::from_floats([[1.0, 0.5, -1.0]], &device).require_grad();
        let grads = kl_student_teacher(student.clone(), teacher.clone()).backward();
        let student_grad = student.grad(&grads).expect("the student gets a gradient");
        let norm: f32 = student_grad.abs().sum().into_scalar();
        assert!(norm > 1e-3);
        assert!(teacher.grad(&grads).is_none(), "the teacher is detached");
    }

    #[test]
    fn groups_are_averaged() {
        let device = Device::default();
        let a = Tensor::<2>::from_floats([[0.0, 0.0]], &device);
        let b = Tensor::<2>::from_floats([[0.0, 3f32.ln()]], &device);
        let t = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64], [1]), &device);
        let got = scalar(grouped_cross_entropy(vec![a, b], &[t.clone(), t]));
        let expected = (2f64.ln() - 0.75f64.ln()) / 2.0;
        assert!((got - expected).abs() < 1e-6);
    }
}
