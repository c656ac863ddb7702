//! The fused AdamW against burn's AdamW on the same model and gradients, and its state
//! against burn's record format (a checkpoint of one resumes in the other).
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use common::{bridge_available, uniform};
use lat_kernels::AdamWParams;
use lat_kernels::flex::{adamw, fused_optimizer_steps};

fn params(weight_decay: f32) -> AdamWParams {
    AdamWParams {
        beta_1: 0.9,
        beta_2: 0.999,
        epsilon: 1e-8,
        weight_decay,
    }
}

/// One step on `loss = Σ linear(x) ⊙ probe` for a batch drawn from `seed`.
fn step(model: Linear, optimizer: &mut ModuleOptimizer, seed: u64, device: &Device) -> Linear {
    let x = Tensor::<2>::from_data(TensorData::new(uniform(6 * 40, seed), [6, 40]), device);
    let probe = Tensor::<2>::from_data(TensorData::new(uniform(6 * 50, seed + 1), [6, 50]), device);
    let grads = (model.forward(x) * probe).sum().backward();
    let grads = GradientsParams::from_grads(grads, &model);
    optimizer.step(1e-2, model, grads)
}

fn weights(model: &Linear) -> Vec<f32> {
    let mut w: Vec<f32> = model.weight.val().into_data().try_to_vec().expect("f32");
    let b: Vec<f32> = model
        .bias
        .as_ref()
        .expect("bias")
        .val()
        .into_data()
        .try_to_vec()
        .expect("f32");
    w.extend(b);
    w
}

fn assert_same(a: &Linear, b: &Linear, what: &str) {
    for (i, (x, y)) in weights(a).iter().zip(weights(b)).enumerate() {
        assert!(
            (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
            "{what}: parameter {i} = {x}, burn gives {y}"
        );
    }
}

#[test]
fn matches_burns_adamw_step_by_step() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    for decay in [0.0, 0.1] {
        let mut ours_model = LinearConfig::new(40, 50).init(&device);
        let mut burns_model = ours_model.clone();
        let mut ours = adamw(params(decay));
        let mut burns = params(decay).burn_config().init();
        let before = fused_optimizer_steps();
        for s in 0..4 {
            ours_model = step(ours_model, &mut ours, 10 + s, &device);
            burns_model = step(burns_model, &mut burns, 10 + s, &device);
            assert_same(
                &ours_model,
                &burns_model,
                &format!("decay {decay}, step {s}"),
            );
        }
        // Two parameters (weight, bias) per step; other tests may add their own.
        assert!(fused_optimizer_steps() >= before + 8, "the fused step ran");
    }
}

#[test]
fn its_state_resumes_in_burns_adamw() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    let mut model = LinearConfig::new(40, 50).init(&device);
    let mut ours = adamw(params(0.0));
    for s in 0..3 {
        model = step(model, &mut ours, 20 + s, &device);
    }
    // Continue once with the fused optimizer, and once with burn's loaded from its record.
    let mut burns = params(0.0)
        .burn_config()
        .init()
        .load_record(ours.to_record());
    let twin = model.clone().fork(&device);
    let resumed_ours = step(model, &mut ours, 30, &device);
    let resumed_burns = step(twin, &mut burns, 30, &device);
    assert_same(&resumed_ours, &resumed_burns, "after resuming");
}
