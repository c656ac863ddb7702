//! Gradient clipping by the global norm over every parameter (PyTorch's
//! `clip_grad_norm_`, which the reference uses). burn's own `GradientClipping::Norm` clips
//! each parameter separately, a different rule.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Scales `grads` so that their global L2 norm is at most `max_norm`; returns the norm
/// before clipping.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut squares = SumOfSquares { grads, total: None };
    module.visit(&mut squares);
    let norm = match squares.total {
        Some(total) => f64::from(total.into_scalar::<f32>()).sqrt(),
        None => return 0.0,
    };
    // The same coefficient as PyTorch, including its 1e-6 guard.
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient < 1.0 {
        module.visit(&mut Scale { grads, coefficient });
    }
    norm
}

struct SumOfSquares<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SumOfSquares<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let sum = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + sum,
                None => sum,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    coefficient: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads
                .register::<D>(param.id, grad.mul_scalar(self.coefficient));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Device;

    fn grads_for(model: &Linear, scale: f32) -> GradientsParams {
        let device = model.weight.val().device();
        let x = Tensor::<2>::ones([1, 2], &device).mul_scalar(scale);
        let loss = model.forward(x).sum();
        GradientsParams::from_grads(loss.backward(), model)
    }

    fn norm_of(model: &Linear, grads: &GradientsParams) -> f64 {
        let w: Tensor<2> = grads.get(model.weight.id).expect("weight grad");
        let b: Tensor<1> = grads
            .get(model.bias.as_ref().expect("bias").id)
            .expect("bias grad");
        let total = w.square().sum() + b.square().sum();
        f64::from(total.into_scalar::<f32>()).sqrt()
    }

    #[test]
    fn clips_the_global_norm_not_each_parameter() {
        let device = Device::default().autodiff();
        let model: Linear = LinearConfig::new(2, 3).init(&device);
        // d(sum(xW + b))/dW = x broadcast: 6 entries of 10; d/db = 3 ones. Norm sqrt(603).
        let mut grads = grads_for(&model, 10.0);
        let before = clip_global_norm(&model, &mut grads, 1.0);
        assert!((before - 603f64.sqrt()).abs() < 1e-3, "{before}");
        assert!((norm_of(&model, &grads) - 1.0).abs() < 1e-4);
        // Ratios between parameters survive: bias entries stay 1/10 of weight entries.
        let b: Tensor<1> = grads
            .get(model.bias.as_ref().expect("bias").id)
            .expect("grad");
        let expected = 1.0 / (603f64.sqrt() + 1e-6);
        let got = f64::from(b.slice(0..1).into_scalar::<f32>());
        assert!((got - expected).abs() < 1e-5);
    }

    #[test]
    fn small_gradients_are_untouched() {
        let device = Device::default().autodiff();
        let model: Linear = LinearConfig::new(2, 3).init(&device);
        // Norm sqrt(6 * 0.01 + 3) = 1.749..., under the limit of 2.
        let mut grads = grads_for(&model, 0.1);
        let before = clip_global_norm(&model, &mut grads, 2.0);
        assert!((before - 3.06f64.sqrt()).abs() < 1e-5, "{before}");
        assert!((norm_of(&model, &grads) - before).abs() < 1e-6);
    }
}
