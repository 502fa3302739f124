//! A run replayed step by step in memory ([`trace`]): what shows why a run stalls.
use super::config::RunConfig;
use super::fit;
use crate::data::Dataset;
use serde::Serialize;

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
/// set-up, seeds, batches and steps as training it (a replay of a recorded run reproduces its
/// history's training loss), with each step's loss and gradient norm read back — what shows
/// why a run stalls. Nothing is written.
pub fn trace(config: &RunConfig, data: &Dataset, epochs: usize) -> anyhow::Result<Vec<StepTrace>> {
    let _rng = fit::torch_rng();
    let tc = &config.train;
    config.check(data)?;
    let (mut t, ()) = fit::set_up(config, data, |_, _| Ok(()))?;
    crate::device::prepare_training(t.device, tc.bf16)?;
    let steps = t.train.num_batches();
    let mut out = Vec::new();
    for epoch in 0..epochs.min(tc.epochs) {
        fit::seed_epoch(tc, epoch);
        for (step, batch) in t.train.epoch(epoch).enumerate() {
            let lr = tc.lr_at(epoch, step, steps);
            let mut grad_norm = 0.0;
            let (loss, _) = fit::train_step_with(
                &t.net,
                &mut t.opt,
                &batch.images,
                &batch.labels,
                lr,
                tc,
                |o| grad_norm = o.grad_norm(),
            );
            out.push(StepTrace {
                epoch: epoch + 1,
                step: step + 1,
                lr,
                images: batch.labels.size()[0] as usize,
                loss: loss.double_value(&[]),
                grad_norm,
            });
        }
    }
    Ok(out)
}
