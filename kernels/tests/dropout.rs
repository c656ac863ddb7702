//! The counter-based dropout: its keep rate, its vector form against the scalar one, the
//! scaling, seeds, and the autodiff op's backward using the forward's mask.
// The kernels these tests call exist on x86-64 only (elsewhere the model runs burn's ops).
#![cfg(target_arch = "x86_64")]

mod common;

use burn::nn::DropoutConfig;
use burn::tensor::{Device, Tensor, TensorData};
use common::{bridge_available, kernels_available, uniform};
use lat_kernels::flex::dropout_layer;
use lat_kernels::{DropoutMask, dropout};

#[test]
fn keeps_one_minus_p_of_the_elements() {
    if !kernels_available() {
        return;
    }
    let x = vec![1.0f32; 1 << 20];
    for prob in [0.1, 0.5] {
        let y = dropout(&x, DropoutMask { seed: 7, prob });
        let kept = y.iter().filter(|v| **v != 0.0).count() as f64 / x.len() as f64;
        // Binomial standard deviation at 2^20 draws is below 5e-4.
        assert!(
            (kept - (1.0 - prob)).abs() < 3e-3,
            "p = {prob}: kept {kept}"
        );
    }
}

#[test]
fn the_vector_mask_is_the_scalar_one_and_kept_values_are_scaled() {
    if !kernels_available() {
        return;
    }
    // Longer than one parallel task, with a ragged tail.
    let x = uniform(40_007, 3);
    let mask = DropoutMask {
        seed: 0x1234_5678_9abc_def0,
        prob: 0.1,
    };
    let y = dropout(&x, mask);
    let scale = (1.0 / (1.0 - 0.1f64)) as f32;
    for (i, (xi, yi)) in x.iter().zip(&y).enumerate() {
        let want = if mask.keeps(i) { xi * scale } else { 0.0 };
        assert_eq!(*yi, want, "element {i}");
    }
}

#[test]
fn a_seed_fixes_the_mask_and_another_seed_changes_it() {
    if !kernels_available() {
        return;
    }
    let x = vec![1.0f32; 10_000];
    let mask = |seed| dropout(&x, DropoutMask { seed, prob: 0.5 });
    assert_eq!(mask(1), mask(1));
    let agree = mask(1)
        .iter()
        .zip(mask(2))
        .filter(|(a, b)| **a == *b)
        .count();
    // Independent masks at p = 1/2 agree on about half the elements.
    assert!((4_500..5_500).contains(&agree), "{agree} of 10000 agree");
}

#[test]
fn the_backward_pass_drops_what_the_forward_dropped() {
    if !bridge_available() {
        return;
    }
    let device = Device::flex().autodiff();
    device.seed(3);
    let layer = DropoutConfig::new(0.3).init();
    let (rows, cols) = (37, 50);
    let x = Tensor::<2>::from_data(
        TensorData::new(uniform(rows * cols, 4), [rows, cols]),
        &device,
    )
    .require_grad();
    let probe = uniform(rows * cols, 5);
    let probe_t = Tensor::<2>::from_data(TensorData::new(probe.clone(), [rows, cols]), &device);
    let y = dropout_layer(&x, &layer).expect("the kernel runs in training");
    let grads = (y.clone() * probe_t).sum().backward();
    let y: Vec<f32> = y.into_data().try_to_vec().expect("f32");
    let dx: Vec<f32> = x
        .grad(&grads)
        .expect("∂x")
        .into_data()
        .try_to_vec()
        .expect("f32");
    let scale = (1.0 / 0.7f64) as f32;
    let dropped = y.iter().filter(|v| **v == 0.0).count();
    assert!(
        (300..800).contains(&dropped),
        "{dropped} of 1850 dropped at p = 0.3"
    );
    for i in 0..y.len() {
        let want = if y[i] == 0.0 { 0.0 } else { probe[i] * scale };
        assert_eq!(dx[i], want, "∂x[{i}]");
    }
    // The device's seed fixes the mask.
    device.seed(3);
    let again: Vec<f32> = dropout_layer(&x, &layer)
        .expect("kernel")
        .into_data()
        .try_to_vec()
        .expect("f32");
    assert_eq!(again, y);
}

#[test]
fn dropout_stands_aside_where_it_would_do_nothing() {
    let autodiff = Device::flex().autodiff();
    let x = Tensor::<2>::ones([2, 3], &autodiff);
    assert!(dropout_layer(&x, &DropoutConfig::new(0.0).init()).is_none());
    let plain = Tensor::<2>::ones([2, 3], &Device::flex());
    assert!(dropout_layer(&plain, &DropoutConfig::new(0.1).init()).is_none());
}
