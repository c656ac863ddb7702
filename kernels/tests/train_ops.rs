//! The training ops (forward on the kernels, backward registered in burn's autodiff graph)
//! against burn's own composite on the same weights: outputs and every gradient, plus the
//! backward of a dense layer worked by hand.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Tensor, TensorData};
use common::{bridge_available, kernels_available, uniform};
use lat_kernels::flex::{dense, dense_gelu, residual_layer_norm};
use lat_kernels::{Activation, DenseSaved, DenseWanted, dense_backward};

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 data")
}

fn assert_near<const D: usize>(got: Tensor<D>, want: Tensor<D>, tol: f32, what: &str) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (got, want) = (floats(got), floats(want));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}] = {g}, burn gives {w}");
    }
}

fn random_linear(k: usize, n: usize, seed: u64, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(k, n).init(device);
    layer.weight = Param::from_tensor(tensor(uniform(k * n, seed), [k, n], device));
    layer.bias = Some(Param::from_tensor(tensor(
        uniform(n, seed + 1),
        [n],
        device,
    )));
    layer
}

#[test]
fn dense_backward_by_hand() {
    if !kernels_available() {
        return;
    }
    // y = x·W + b with x = [1, 2], W = [3, 4]ᵀ: ∂y = 1 gives ∂x = Wᵀ = [3, 4],
    // ∂W = xᵀ = [1, 2]ᵀ and ∂b = 1. With GELU at pre-activation 0 the slope is Φ(0) = ½.
    let saved = |activation| DenseSaved {
        input: &[1.0, 2.0],
        weight: &[3.0, 4.0],
        pre_activation: &[0.0],
        activation,
        m: 1,
        k: 2,
        n: 1,
    };
    let all = DenseWanted {
        input: true,
        weight: true,
        bias: true,
    };
    let out = dense_backward(&saved(Activation::Identity), &[1.0], all);
    assert_eq!(out.input.as_deref(), Some(&[3.0, 4.0][..]));
    assert_eq!(out.weight.as_deref(), Some(&[1.0, 2.0][..]));
    assert_eq!(out.bias.as_deref(), Some(&[1.0][..]));
    let out = dense_backward(&saved(Activation::Gelu), &[2.0], all);
    assert_eq!(out.input.as_deref(), Some(&[3.0, 4.0][..]));
    let only_weight = DenseWanted {
        input: false,
        weight: true,
        bias: false,
    };
    let out = dense_backward(&saved(Activation::Identity), &[1.0], only_weight);
    assert!(out.input.is_none() && out.bias.is_none() && out.weight.is_some());
}

fn check_dense(with_gelu: bool) {
    let device = Device::flex().autodiff();
    // Not multiples of the tile (8 x 48) or panel widths, and more rows than one task.
    let (m, k, n) = (301, 40, 100);
    let layer = random_linear(k, n, 3, &device);
    let x = tensor(uniform(m * k, 1), [m, k], &device).require_grad();
    let probe = tensor(uniform(m * n, 2), [m, n], &device);
    let fused = if with_gelu {
        dense_gelu(&x, &layer)
    } else {
        dense(&x, &layer)
    }
    .expect("the kernels run on autodiff over flex");
    let composite = if with_gelu {
        gelu(layer.forward(x.clone()))
    } else {
        layer.forward(x.clone())
    };
    assert_near(fused.clone(), composite.clone(), 1e-5, "output");
    let ours = (fused * probe.clone()).sum().backward();
    let burns = (composite * probe).sum().backward();
    let grad = |t: &Tensor<2>, g| t.grad(g).expect("gradient");
    assert_near(grad(&x, &ours), grad(&x, &burns), 1e-4, "∂x");
    let w = layer.weight.val();
    assert_near(grad(&w, &ours), grad(&w, &burns), 1e-3, "∂W");
    let b = layer.bias.as_ref().expect("bias").val();
    let (ours_b, burns_b) = (b.grad(&ours).expect("∂b"), b.grad(&burns).expect("∂b"));
    assert_near(ours_b, burns_b, 1e-3, "∂b");
}

#[test]
fn dense_matches_burns_linear_and_its_gradients() {
    if bridge_available() {
        check_dense(false);
    }
}

#[test]
fn dense_gelu_matches_burns_linear_gelu_and_its_gradients() {
    if bridge_available() {
        check_dense(true);
    }
}

#[test]
fn a_constant_input_gets_no_gradient_but_the_weights_do() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    let layer = random_linear(32, 16, 5, &device);
    let x = tensor(uniform(4 * 32, 6), [4, 32], &device);
    let grads = dense(&x, &layer).expect("kernels").sum().backward();
    assert!(x.grad(&grads).is_none(), "x is not tracked");
    // Σ_rows x gives ∂W[i, j] for every j.
    let want: Vec<f32> = (0..32)
        .map(|i| (0..4).map(|r| uniform(4 * 32, 6)[r * 32 + i]).sum())
        .collect();
    let got = floats(layer.weight.val().grad(&grads).expect("∂W"));
    for i in 0..32 {
        for j in 0..16 {
            assert!((got[i * 16 + j] - want[i]).abs() < 1e-5, "∂W[{i}, {j}]");
        }
    }
}

#[test]
fn the_training_ops_stand_aside_without_autodiff() {
    let device = Device::flex();
    let layer = random_linear(32, 16, 7, &device);
    let x = tensor(uniform(4 * 32, 8), [4, 32], &device);
    assert!(
        dense(&x, &layer).is_none(),
        "inference has its own fused path"
    );
    let norm = LayerNormConfig::new(32).init(&device);
    assert!(residual_layer_norm(&x, &x, &norm, 1e-12).is_none());
}

#[test]
fn residual_layer_norm_matches_burns_and_its_gradients() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    let (rows, d) = (130, 48);
    let mut norm: LayerNorm = LayerNormConfig::new(d).with_epsilon(1e-12).init(&device);
    norm.gamma = Param::from_tensor(tensor(uniform(d, 21), [d], &device));
    norm.beta = Some(Param::from_tensor(tensor(uniform(d, 22), [d], &device)));
    // A common offset: the variance must be taken around the mean.
    let shifted: Vec<f32> = uniform(rows * d, 23).iter().map(|v| v + 30.0).collect();
    let x = tensor(shifted, [rows, d], &device).require_grad();
    let residual = tensor(uniform(rows * d, 24), [rows, d], &device).require_grad();
    let probe = tensor(uniform(rows * d, 25), [rows, d], &device);
    let fused = residual_layer_norm(&x, &residual, &norm, 1e-12).expect("kernels");
    let composite = norm.forward(x.clone() + residual.clone());
    assert_near(fused.clone(), composite.clone(), 1e-4, "output");
    let ours = (fused * probe.clone()).sum().backward();
    let burns = (composite * probe).sum().backward();
    for (t, what) in [(&x, "∂x"), (&residual, "∂residual")] {
        let got = t.grad(&ours).expect("gradient");
        assert_near(got, t.grad(&burns).expect("gradient"), 1e-4, what);
    }
    let gamma = norm.gamma.val();
    let beta = norm.beta.as_ref().expect("beta").val();
    for (t, what) in [(gamma, "∂γ"), (beta, "∂β")] {
        let got = t.grad(&ours).expect("gradient");
        assert_near(got, t.grad(&burns).expect("gradient"), 1e-3, what);
    }
}
