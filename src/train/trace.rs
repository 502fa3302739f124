//! A run replayed step by step in memory ([`trace`]): what shows why a run stalls.
use super::Optimizer;
use super::config::RunConfig;
use super::fit;
use super::run::{TORCH_RNG, loaders};
use crate::data::Dataset;
use crate::model::ResNet;
use serde::Serialize;
use tch::{Tensor, nn};

/// One step of [`trace`]: the loss of its batch before the update, the gradients' global norm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTrace {
    /// 1-based.
    pub epoch: usize,
    /// 1-based, within the epoch.
    pub step: usize,
    /// The step's learning rate.
    pub lr: f64,
    /// Images in the batch.
    pub images: usize,
    /// The batch's training loss (before the update).
    pub loss: f64,
    /// √(Σ‖∂loss/∂p‖²) over every parameter, before the optimizer's step (before weight decay).
    pub grad_norm: f64,
}

/// The first `epochs` epochs of a run replayed from scratch in memory, step by step: the same
/// seeds, batches and updates as training it (a replay of a recorded run reproduces its
/// history's training loss), with each step's loss and gradient norm read back — what shows
/// why a run stalls. Nothing is written.
pub fn trace(config: &RunConfig, data: &Dataset, epochs: usize) -> anyhow::Result<Vec<StepTrace>> {
    let _rng = TORCH_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let tc = &config.train;
    config.check(data)?;
    if let Some(t) = tc.threads {
        tch::set_num_threads(t as i32);
    }
    let device = tc.device.resolve()?;
    tch::manual_seed(tc.seed_of_init() as i64);
    let vs = nn::VarStore::new(device);
    let net = ResNet::new(&vs.root(), &config.model)?;
    let mut opt = Optimizer::new(&vs, tc);
    if tc.channels_last {
        crate::model::weights_to_channels_last(&vs);
    }
    crate::device::prepare_training(device, tc.bf16)?;
    let (train_loader, _) = loaders(tc, data, device);
    let steps = train_loader.num_batches();
    let mut out = Vec::new();
    for epoch in 0..epochs.min(tc.epochs) {
        tch::manual_seed(tc.seed_of_dropout().wrapping_add(1 + epoch as u64) as i64);
        for (step, batch) in train_loader.epoch(epoch).enumerate() {
            let lr = tc.lr_at(epoch, step, steps);
            let logits = fit::forward(&net, &batch.images, true, tc);
            let loss = fit::training_loss(&logits, &batch.labels, tc);
            opt.zero_grad();
            loss.backward();
            let squares: f64 = vs
                .trainable_variables()
                .iter()
                .map(|p| p.grad())
                .filter(Tensor::defined)
                .map(|g| g.square().sum(tch::Kind::Double).double_value(&[]))
                .sum();
            opt.step(lr);
            let images = batch.labels.size()[0] as usize;
            out.push(StepTrace {
                epoch: epoch + 1,
                step: step + 1,
                lr,
                images,
                loss: loss.double_value(&[]),
                grad_norm: squares.sqrt(),
            });
        }
    }
    Ok(out)
}
