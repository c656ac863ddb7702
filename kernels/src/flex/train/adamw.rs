//! burn's AdamW as a `ModuleOptimizer` whose per-parameter step runs [`adamw_update`] in
//! place on flex tensors. The state is burn's own `AdamWState`, so checkpoints of either
//! optimizer load into the other; parameters that are not f32 flex tensors take burn's
//! step.

use std::sync::atomic::{AtomicU64, Ordering};

use burn::optim::{
    AdamW, AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{DType, Device, Tensor};
use burn_flex::{Flex, FlexTensor};

use crate::adamw::{AdamWParams, AdamWStep, adamw_update};

/// Parameters updated by the fused step since the process started.
static FUSED_STEPS: AtomicU64 = AtomicU64::new(0);

/// How many parameter updates the fused AdamW has made in this process: lets tests and
/// benchmarks confirm which path ran.
pub fn fused_optimizer_steps() -> u64 {
    FUSED_STEPS.load(Ordering::Relaxed)
}

/// AdamW with `params`: the fused step where the kernels run (`LAT_KERNELS` not `off`),
/// burn's `AdamW` otherwise.
pub fn adamw(params: AdamWParams) -> ModuleOptimizer {
    if crate::cpu::enabled() {
        ModuleOptimizer::from(FusedAdamW {
            params,
            fallback: params.burn_config().build(),
        })
    } else {
        params.burn_config().init()
    }
}

#[derive(Clone)]
struct FusedAdamW {
    params: AdamWParams,
    fallback: AdamW,
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamWState<D>>,
    ) -> (Tensor<D>, Option<AdamWState<D>>) {
        match self.fused_step(lr, &tensor, &grad, state.as_ref()) {
            Some((tensor, state)) => (tensor, Some(state)),
            None => self.fallback.step(lr, tensor, grad, state),
        }
    }

    fn to_device<const D: usize>(state: AdamWState<D>, device: &Device) -> AdamWState<D> {
        AdamW::to_device(state, device)
    }
}

impl FusedAdamW {
    fn fused_step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: &Tensor<D>,
        grad: &Tensor<D>,
        state: Option<&AdamWState<D>>,
    ) -> Option<(Tensor<D>, AdamWState<D>)> {
        let shape = tensor.dims();
        let numel = shape.iter().product::<usize>();
        let zeros = || FlexTensor::zeros(shape.to_vec().into(), DType::F32);
        let (mut m, mut v, time) = match state {
            Some(s) if s.momentum.max_moment_2.is_none() => (
                owned(&s.momentum.moment_1, numel)?,
                owned(&s.momentum.moment_2, numel)?,
                s.momentum.time + 1,
            ),
            Some(_) => return None,
            None => (zeros(), zeros(), 1),
        };
        let mut p = owned(tensor, numel)?;
        let g = owned(grad, numel)?;
        let step = AdamWStep {
            lr,
            beta_1: self.params.beta_1,
            beta_2: self.params.beta_2,
            epsilon: self.params.epsilon,
            weight_decay: self.params.weight_decay,
            time,
        };
        adamw_update(
            p.storage_mut::<f32>(),
            g.storage::<f32>(),
            m.storage_mut::<f32>(),
            v.storage_mut::<f32>(),
            &step,
        );
        FUSED_STEPS.fetch_add(1, Ordering::Relaxed);
        let momentum = AdaptiveMomentumState {
            time,
            moment_1: Tensor::from_primitive::<Flex>(m),
            moment_2: Tensor::from_primitive::<Flex>(v),
            max_moment_2: None,
        };
        Some((Tensor::from_primitive::<Flex>(p), AdamWState::new(momentum)))
    }
}

/// The f32 flex primitive behind `t`, with storage holding exactly its `numel` elements in
/// order (so that `storage_mut` updates it in place, copying only when shared).
fn owned<const D: usize>(t: &Tensor<D>, numel: usize) -> Option<FlexTensor> {
    let primitive = t.clone().try_into_primitive::<Flex>().ok()?;
    if primitive.dtype() != DType::F32 {
        return None;
    }
    let exact = primitive.as_slice::<f32>().is_some() && primitive.bytes().len() == numel * 4;
    Some(if exact {
        primitive
    } else {
        primitive.to_contiguous()
    })
    .filter(|p| p.bytes().len() == numel * 4)
}
