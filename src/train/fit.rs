//! The training loop: one epoch of optimizer steps, then evaluation, one record per epoch; and
//! the set-up and step that training a run and replaying it share.
use super::config::RunConfig;
use super::{Optimizer, TrainConfig};
use crate::data::{Dataset, Loader};
use crate::model::ResNet;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tch::{Kind, Tensor, nn, nn::ModuleT};

/// One row of `history.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate at the epoch's first step.
    pub lr: f64,
    /// Mean training loss over the epoch's batches (weighted by batch size): cross-entropy,
    /// with the config's label smoothing when it has one.
    pub train_loss: f64,
    /// Top-1 accuracy on the training batches as they were trained (augmented, train mode).
    pub train_acc: f64,
    /// Mean cross-entropy over the validation split (eval mode, no label smoothing).
    pub val_loss: f64,
    /// Top-1 accuracy on the validation split.
    pub val_acc: f64,
    /// Top-5 accuracy on the validation split.
    pub val_top5: f64,
    /// Wall time of the epoch, training and evaluation.
    pub seconds: f64,
    /// Training images per second.
    pub images_per_s: f64,
}

impl EpochRecord {
    /// `history.csv`'s header line: the fields' names, in order.
    pub const CSV_HEADER: &'static str =
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_top5,seconds,images_per_s";

    /// The readable log line: `epoch  3/25  train 1.234  61.2%  val 1.301  58.9% top-5  84.0%  lr
    /// 1.0e-3  412 img/s  6.7s`
    /// (loss and top-1 accuracy of each split; short enough for a notebook cell's width).
    pub fn log_line(&self, epochs: usize) -> String {
        format!(
            "epoch {:>2}/{epochs}  train {:.3} {:5.1}%  val {:.3} {:5.1}% top-5 {:5.1}%  lr \
                {:.1e}  {:.0} img/s  {:.1}s",
            self.epoch,
            self.train_loss,
            100.0 * self.train_acc,
            self.val_loss,
            100.0 * self.val_acc,
            100.0 * self.val_top5,
            self.lr,
            self.images_per_s,
            self.seconds
        )
    }
}

/// Why training stopped early.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error(
        "loss became {loss} at epoch {epoch}, step {step} (lr {lr:e}): training diverged; lower \
            the learning rate"
    )]
    NonFinite { epoch: usize, step: usize, loss: f64, lr: f64 },
    #[error("stopped as asked (a signal) before step {step} of epoch {epoch}; the run resumes \
        after epoch {}", epoch - 1)]
    Stopped { epoch: usize, step: usize },
}

/// Loss and accuracies over a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub acc: f64,
    pub top5: f64,
    pub images: usize,
}

/// Logits in f32, under bf16 autocast when the config asks for it on CUDA.
pub fn forward(net: &ResNet, xs: &Tensor, train: bool, cfg: &TrainConfig) -> Tensor {
    let autocast = cfg.bf16 && xs.device().is_cuda();
    let logits = if autocast {
        crate::device::cuda_autocast_bf16(|| net.forward_t(xs, train))
    } else {
        net.forward_t(xs, train)
    };
    logits.to_kind(Kind::Float)
}

/// The training loss: cross-entropy of the logits, with the config's label smoothing
/// (PyTorch's `cross_entropy(label_smoothing = ε)`, mean over the batch) when it has one.
pub fn training_loss(logits: &Tensor, labels: &Tensor, cfg: &TrainConfig) -> Tensor {
    if cfg.label_smoothing == 0.0 {
        logits.cross_entropy_for_logits(labels)
    } else {
        logits.cross_entropy_loss::<Tensor>(
            labels,
            None,
            tch::Reduction::Mean,
            -100,
            cfg.label_smoothing,
        )
    }
}

/// One optimizer step on a batch: forward (train mode), the training loss, backward,
/// the optimizer at `lr`. Returns the loss (0-dim, on the device) and the logits; reads nothing
/// back.
pub(crate) fn train_step(
    net: &ResNet,
    opt: &mut Optimizer,
    images: &Tensor,
    labels: &Tensor,
    lr: f64,
    cfg: &TrainConfig,
) -> (Tensor, Tensor) {
    train_step_with(net, opt, images, labels, lr, cfg, |_| {})
}

/// [`train_step`], with `before_update` shown the optimizer between backward and the update
/// (the gradients as computed, before clipping and weight decay).
pub(crate) fn train_step_with(
    net: &ResNet,
    opt: &mut Optimizer,
    images: &Tensor,
    labels: &Tensor,
    lr: f64,
    cfg: &TrainConfig,
    before_update: impl FnOnce(&Optimizer),
) -> (Tensor, Tensor) {
    let logits = forward(net, images, true, cfg); // [B,classes] f32
    let loss = training_loss(&logits, labels, cfg);
    opt.zero_grad();
    loss.backward();
    before_update(opt);
    opt.step(lr);
    (loss.detach(), logits.detach())
}

/// Seed libtorch's generator for `epoch` (0-based): dropout draws from it, so a resumed run or
/// a replay repeats an epoch's draws.
pub(crate) fn seed_epoch(cfg: &TrainConfig, epoch: usize) {
    tch::manual_seed(cfg.seed_of_dropout().wrapping_add(1 + epoch as u64) as i64);
}

/// libtorch's random generator is global to the process: weight init and dropout
/// draw from it. Runs in one process therefore train one at a time, so that each
/// stays deterministic for its seed: this is the turn, held while a run builds or trains.
pub(crate) fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TORCH_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The network of `config` as a run starts it, on `device`: built under the seed of its
/// initialisation, before any step (hold [`torch_rng`]).
pub(crate) fn initial_network(
    config: &RunConfig,
    device: tch::Device,
) -> anyhow::Result<(nn::VarStore, ResNet)> {
    tch::manual_seed(config.train.seed_of_init() as i64);
    let vs = nn::VarStore::new(device);
    let net = ResNet::new(&vs.root(), &config.model)?;
    Ok((vs, net))
}

/// What training a run needs, built from its config: the device, the network and its
/// variables, the optimizer, and the loaders.
pub(crate) struct Trainer {
    /// Where it trains.
    pub device: tch::Device,
    /// The network's variables (what checkpoints hold).
    pub vs: nn::VarStore,
    /// The network.
    pub net: ResNet,
    /// The optimizer over its trainable variables.
    pub opt: Optimizer,
    /// Training batches: shuffled and augmented from the data seed.
    pub train: Loader,
    /// Validation batches.
    pub val: Loader,
}

/// Set training up as [`Run::execute`](super::Run::execute) and [`trace`](super::trace) both
/// do (hold [`torch_rng`]): libtorch's threads, the device, the [`initial_network`] and its
/// optimizer; then `restore` on them (a resumed run loads its checkpoint there, its result
/// returned beside the trainer), the weights' layout, and the [`loaders`].
pub(crate) fn set_up<R>(
    config: &RunConfig,
    data: &Dataset,
    restore: impl FnOnce(&mut nn::VarStore, &mut Optimizer) -> anyhow::Result<R>,
) -> anyhow::Result<(Trainer, R)> {
    let tc = &config.train;
    if let Some(t) = tc.threads {
        tch::set_num_threads(t as i32);
    }
    let device = tc.device.resolve()?;
    let (mut vs, net) = initial_network(config, device)?;
    let mut opt = Optimizer::new(&vs, tc);
    let restored = restore(&mut vs, &mut opt)?;
    if tc.channels_last {
        crate::model::weights_to_channels_last(&vs);
    }
    let (train, val) = loaders(tc, data, device);
    Ok((Trainer { device, vs, net, opt, train, val }, restored))
}

/// The training loader (shuffled and augmented from the data seed) and the validation loader of a
/// run.
pub(crate) fn loaders(tc: &TrainConfig, data: &Dataset, device: tch::Device) -> (Loader, Loader) {
    let train = Loader::new(&data.train, &data.stats, tc.batch_size, device)
        .shuffle(tc.seed_of_data())
        .augment(tc.augment.clone())
        .channels_last(tc.channels_last);
    let val = Loader::new(&data.val, &data.stats, tc.eval_batch_size(), device)
        .channels_last(tc.channels_last);
    (train, val)
}

/// Evaluate in eval mode (running statistics, no dropout), without gradients.
pub fn evaluate(net: &ResNet, loader: &Loader, cfg: &TrainConfig) -> Evaluation {
    let _guard = tch::no_grad_guard();
    // Sums stay on the device and are read once at the end: no synchronisation per batch.
    let device = loader.device();
    let mut loss = Tensor::zeros([], (Kind::Double, device));
    let mut correct = Tensor::zeros([], (Kind::Int64, device));
    let mut correct5 = Tensor::zeros([], (Kind::Int64, device));
    let mut n = 0usize;
    for batch in loader.epoch(0) {
        let logits = forward(net, &batch.images, false, cfg); // [B,classes] f32
        let b = batch.labels.size()[0] as usize;
        loss += logits.cross_entropy_for_logits(&batch.labels).to_kind(Kind::Double) * b as f64;
        correct += logits.argmax(-1, false).eq_tensor(&batch.labels).sum(Kind::Int64);
        let k = logits.size()[1].min(5);
        let (_, top) = logits.topk(k, -1, true, true); // [B,k]
        correct5 += top.eq_tensor(&batch.labels.unsqueeze(-1)).any_dim(-1, false).sum(Kind::Int64);
        n += b;
    }
    let d = n.max(1) as f64;
    Evaluation {
        loss: loss.double_value(&[]) / d,
        acc: correct.int64_value(&[]) as f64 / d,
        top5: correct5.int64_value(&[]) as f64 / d,
        images: n,
    }
}

/// Optimizer steps between two read-backs of the loss (each synchronises a GPU):
/// the non-finite check and [`Event::Step`] happen at these steps and at an epoch's last.
pub const LOSS_READ_EVERY: usize = 50;

/// What the loop reports as it goes.
pub enum Event<'a> {
    /// Every [`LOSS_READ_EVERY`] optimizer steps and after an epoch's last one (reading the loss
    /// back synchronises a GPU, so it is not done at every step).
    Step { epoch: usize, step: usize, steps: usize, loss: f64, lr: f64 },
    /// After each epoch, with its record.
    Epoch(&'a EpochRecord),
}

/// Train `net` from epoch `start` (0-based) to `cfg.epochs`. After each epoch,
/// `on_event` gets each step and epoch (checkpoint there); its error stops training.
/// When `stop` is set (a signal asked for it), training stops at the next step boundary
/// with [`FitError::Stopped`]: the epoch in progress is dropped, and a resume repeats it.
// Eight independent inputs: a struct of them would only rename them at the one call site.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    net: &ResNet,
    opt: &mut Optimizer,
    train: &Loader,
    val: &Loader,
    cfg: &TrainConfig,
    start: usize,
    stop: Option<&AtomicBool>,
    on_event: &mut dyn FnMut(Event, &Optimizer) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<EpochRecord>> {
    crate::device::prepare_training(train.device(), cfg.bf16)?;
    let steps = train.num_batches();
    let mut records = Vec::new();
    for epoch in start..cfg.epochs {
        seed_epoch(cfg, epoch);
        let t0 = Instant::now();
        let lr0 = cfg.lr_at(epoch, 0, steps);
        let (loss_sum, correct, n) = train_epoch(net, opt, train, cfg, epoch, stop, on_event)?;
        let train_loss = loss_sum.double_value(&[]) / n.max(1) as f64;
        if !train_loss.is_finite() {
            return Err(FitError::NonFinite {
                epoch: epoch + 1,
                step: steps,
                loss: train_loss,
                lr: lr0,
            }
            .into());
        }
        let train_s = t0.elapsed().as_secs_f64();
        let ev = evaluate(net, val, cfg);
        let record = EpochRecord {
            epoch: epoch + 1,
            lr: lr0,
            train_loss,
            train_acc: correct.int64_value(&[]) as f64 / n.max(1) as f64,
            val_loss: ev.loss,
            val_acc: ev.acc,
            val_top5: ev.top5,
            seconds: t0.elapsed().as_secs_f64(),
            images_per_s: n as f64 / train_s.max(1e-9),
        };
        on_event(Event::Epoch(&record), opt)?;
        records.push(record);
    }
    Ok(records)
}

/// The optimizer steps of one epoch (0-based) of [`fit`]: the summed loss (f64, weighted by
/// batch size) and the correct predictions, both still on the device, and the images seen.
fn train_epoch(
    net: &ResNet,
    opt: &mut Optimizer,
    train: &Loader,
    cfg: &TrainConfig,
    epoch: usize,
    stop: Option<&AtomicBool>,
    on_event: &mut dyn FnMut(Event, &Optimizer) -> anyhow::Result<()>,
) -> anyhow::Result<(Tensor, Tensor, usize)> {
    let steps = train.num_batches();
    // Sums stay on the device: no synchronisation per step.
    let mut loss_sum = Tensor::zeros([], (Kind::Double, train.device()));
    let mut correct = Tensor::zeros([], (Kind::Int64, train.device()));
    let mut n = 0usize;
    for (step, batch) in train.epoch(epoch).enumerate() {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return Err(FitError::Stopped { epoch: epoch + 1, step: step + 1 }.into());
        }
        let lr = cfg.lr_at(epoch, step, steps);
        let (detached, logits) = train_step(net, opt, &batch.images, &batch.labels, lr, cfg);
        let b = batch.labels.size()[0] as usize;
        loss_sum += detached.to_kind(Kind::Double) * b as f64;
        correct += logits.argmax(-1, false).eq_tensor(&batch.labels).sum(Kind::Int64);
        n += b;
        // Reading the loss synchronises a GPU: only every LOSS_READ_EVERY steps and at the end.
        if step % LOSS_READ_EVERY == 0 || step + 1 == steps {
            let l = detached.double_value(&[]);
            if !l.is_finite() {
                let (epoch, step) = (epoch + 1, step + 1);
                return Err(FitError::NonFinite { epoch, step, loss: l, lr }.into());
            }
            on_event(Event::Step { epoch: epoch + 1, step: step + 1, steps, loss: l, lr }, opt)?;
        }
    }
    Ok((loss_sum, correct, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.1)` and its gradient,
    /// printed by torch 2.11.0: `$CONVLAB_VENV/bin/python tests/references/optimizers.py`.
    #[test]
    fn label_smoothing_equals_torch() {
        let logits = Tensor::from_slice(&[1.0f32, 2.0, 0.5, 0.1, -1.0, 3.0])
            .view([2, 3])
            .set_requires_grad(true);
        let labels = Tensor::from_slice(&[1i64, 2]);
        let cfg = TrainConfig { label_smoothing: 0.1, ..TrainConfig::paper() };
        let loss = training_loss(&logits, &labels, &cfg);
        assert!((loss.double_value(&[]) - 0.4242382049560547).abs() < 1e-6, "{loss}");
        loss.backward();
        let grad = Vec::<f32>::try_from(logits.grad().flatten(0, -1)).unwrap();
        for (g, want) in grad.iter().zip([
            0.098945275,
            -0.152400821,
            0.053455524,
            0.008965129,
            -0.00813458,
            -0.000830561,
        ]) {
            assert!((*g as f64 - want).abs() < 1e-6, "{grad:?}");
        }
        // Without smoothing: plain cross-entropy, the paper's loss.
        let plain = training_loss(&logits, &labels, &TrainConfig::paper()).double_value(&[]);
        assert!(
            (plain - logits.detach().cross_entropy_for_logits(&labels).double_value(&[])).abs()
                < 1e-12
        );
        assert!(plain < 0.4242382049560547);
    }

    #[test]
    fn log_line_fits_a_cell() {
        let r = EpochRecord {
            epoch: 3,
            lr: 1e-3,
            train_loss: 1.25,
            train_acc: 0.5,
            val_loss: 1.5,
            val_acc: 0.4,
            val_top5: 0.9,
            seconds: 12.5,
            images_per_s: 400.0,
        };
        let line = r.log_line(25);
        assert_eq!(
            line,
            "epoch  3/25  train 1.250  50.0%  val 1.500  40.0% top-5  90.0%  lr 1.0e-3  400 \
                img/s  12.5s"
        );
    }
}
