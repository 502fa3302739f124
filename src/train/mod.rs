//! Training: one loop for every experiment, runs recorded on disk, resumable.
//!
//! [`TrainConfig::paper`] (also its `Default`) is the study's baseline recipe, named once in
//! [`recipe`].
mod checkpoint;
mod config;
mod experiment;
pub(crate) mod fit;
pub mod lease;
mod optim;
mod predict;
mod run;
pub mod run_dir;
pub mod tensorboard;
mod trace;

pub use config::RunConfig;
pub use experiment::{Experiment, ExperimentSummary, list_runs};
pub use fit::{EpochRecord, Evaluation, Event, FitError, LOSS_READ_EVERY, evaluate, fit};
pub use lease::{DEFAULT_LEASE_TIMEOUT, Holder, LeaseInfo};
pub use optim::{AdamW, Optimizer, Sgd, is_norm_or_bias};
pub use predict::{pooled_features, predict, write_predictions};
pub use run::{
    LeaseOptions, LogTo, Run, RunError, RunOptions, Started, WhenBusy, eta_seconds,
    format_duration, is_stop,
};
pub use run_dir::{Attempt, Phases, RunDir, RunSummary, code_version};
pub use trace::{StepTrace, trace};

use crate::data::Augment;
use crate::device::Device;
use serde::{Deserialize, Serialize};

/// The paper's recipe ("Exp2: Convolution Neural Network": torchvision resnet18 on
/// 100 classes of 64×64 ImageNet images), named once. Profiles scale it
/// (`plan::Profile`); [`TrainConfig::paper`] is it as a config.
pub mod recipe {
    /// SGD learning rate.
    pub const LR: f64 = 1e-3;
    /// SGD momentum.
    pub const MOMENTUM: f64 = 0.9;
    /// StepLR: the lr is multiplied by `GAMMA` every `STEP_SIZE` epochs.
    pub const STEP_SIZE: usize = 7;
    pub const GAMMA: f64 = 0.1;
    /// Images per optimizer step.
    pub const BATCH_SIZE: usize = 64;
    /// Passes over the training split.
    pub const EPOCHS: usize = 25;
    /// The paper's seed (torch.manual_seed).
    pub const SEED: u64 = 20211108;

    /// The recipe in words, from the constants above: `SGD lr 0.001, momentum 0.9, StepLR(7,
    /// 0.1), batch 64, 25 epochs` — what the write-up and the notebooks print.
    pub fn words() -> String {
        format!(
            "SGD lr {LR}, momentum {MOMENTUM}, StepLR({STEP_SIZE}, {GAMMA}), batch {BATCH_SIZE}, \
             {EPOCHS} epochs"
        )
    }
}

/// The smallest batch evaluation and prediction use ([`TrainConfig::eval_batch_size`]).
pub const EVAL_BATCH_MIN: usize = 256;

/// A training config or schedule that cannot be used; names the field or spec.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainConfigError {
    /// `train field `lr` = -1: must be a positive number`
    #[error("train field `{field}` = {value}: {problem}")]
    Invalid { field: &'static str, value: String, problem: &'static str },
    /// `schedule `step:x:0.1`: step size `x` is not a whole number`
    #[error("schedule `{spec}`: {problem}")]
    Schedule { spec: String, problem: String },
}

/// How the learning rate changes from epoch to epoch (after warm-up). Serialized tagged
/// (`{"kind": "step", "step_size": 7, "gamma": 0.1}`); read from that or from the text a user
/// types (`step:7:0.1`, [`Schedule::from_str`](std::str::FromStr)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same lr every epoch.
    Constant,
    /// PyTorch's StepLR: lr·gamma^⌊epoch / step_size⌋.
    Step { step_size: usize, gamma: f64 },
    /// Cosine annealing from lr to `min_lr` over the run.
    Cosine { min_lr: f64 },
}

/// [`Schedule`]'s tagged form, as `config.json` files hold it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum ScheduleTagged {
    Constant,
    Step { step_size: usize, gamma: f64 },
    Cosine { min_lr: f64 },
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::io::text_or_tagged::<D, Schedule, ScheduleTagged>(
            d,
            "constant, step:<epochs>:<gamma> or cosine[:<min_lr>]",
            |t| match t {
                ScheduleTagged::Constant => Schedule::Constant,
                ScheduleTagged::Step { step_size, gamma } => Schedule::Step { step_size, gamma },
                ScheduleTagged::Cosine { min_lr } => Schedule::Cosine { min_lr },
            },
        )
    }
}

/// The optimizer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// PyTorch's SGD: momentum, L2 weight decay added to the gradient, optional Nesterov.
    #[default]
    Sgd,
    /// PyTorch's AdamW (Loshchilov & Hutter 2019): Adam with weight decay decoupled from the
    /// gradient (`p ← p·(1 − lr·weight_decay)` before the Adam step).
    #[cfg_attr(feature = "cli", value(name = "adamw"))]
    AdamW,
}

/// How the learning rate follows the batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LrBatch {
    /// `lr` whatever the batch.
    #[default]
    None,
    /// The linear scaling rule (Goyal et al. 2017): `lr` is the rate for `base` images per
    /// step and the step uses `lr · batch_size / base`.
    Linear { base: usize },
}

impl std::str::FromStr for LrBatch {
    type Err = String;
    /// `none`, `linear` (the paper's batch, 64, as the base) or `linear:N`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().split_once(':') {
            None if s.trim() == "none" => Ok(LrBatch::None),
            None if s.trim() == "linear" => Ok(LrBatch::Linear { base: recipe::BATCH_SIZE }),
            Some(("linear", n)) => match n.trim().parse::<usize>() {
                Ok(base) if base >= 1 => Ok(LrBatch::Linear { base }),
                _ => Err(format!("base batch `{n}` must be a whole number ≥ 1")),
            },
            _ => Err("expected none, linear (lr × batch/64) or linear:<base batch>".into()),
        }
    }
}

/// [`LrBatch`]'s tagged form.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum LrBatchTagged {
    None,
    Linear { base: usize },
}

impl<'de> Deserialize<'de> for LrBatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::io::text_or_tagged::<D, LrBatch, LrBatchTagged>(
            d,
            "none, linear or linear:<base batch>",
            |t| match t {
                LrBatchTagged::None => LrBatch::None,
                LrBatchTagged::Linear { base } => LrBatch::Linear { base },
            },
        )
    }
}

impl std::str::FromStr for Schedule {
    type Err = TrainConfigError;
    /// `constant`, `step:7:0.1`, `cosine` or `cosine:1e-5`.
    fn from_str(s: &str) -> Result<Self, TrainConfigError> {
        let err = |problem: String| TrainConfigError::Schedule { spec: s.to_string(), problem };
        let parts: Vec<&str> = s.split(':').collect();
        let num = |v: &str, what: &str| {
            v.parse::<f64>().map_err(|_| err(format!("{what} `{v}` is not a number")))
        };
        match parts.as_slice() {
            ["constant"] => Ok(Schedule::Constant),
            ["step", n, g] => {
                let step_size =
                    n.parse().map_err(|_| err(format!("step size `{n}` is not a whole number")))?;
                Ok(Schedule::Step { step_size, gamma: num(g, "gamma")? })
            }
            ["cosine"] => Ok(Schedule::Cosine { min_lr: 0.0 }),
            ["cosine", m] => Ok(Schedule::Cosine { min_lr: num(m, "min_lr")? }),
            _ => Err(err("expected constant, step:<epochs>:<gamma> or cosine[:<min_lr>]".into())),
        }
    }
}

/// The training recipe. `Default` is the study's baseline. Fields added after runs were
/// recorded read as their defaults (the paper's recipe), so old runs keep their configs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training split.
    pub epochs: usize,
    /// Images per optimizer step.
    pub batch_size: usize,
    /// Peak learning rate (after warm-up), for `batch_size` images per step unless `lr_batch` says
    /// otherwise.
    pub lr: f64,
    /// How the learning rate follows the batch size: `none`, or `linear` (lr · batch_size / base).
    pub lr_batch: LrBatch,
    /// `sgd` or `adamw`.
    pub optimizer: OptimizerKind,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay: SGD adds `weight_decay · p` to the gradient (L2); AdamW decays the
    /// weights directly, `p · (1 − lr · weight_decay)` (decoupled).
    pub weight_decay: f64,
    /// Whether weight decay reaches biases and normalization parameters; `false` leaves every
    /// parameter of fewer than two dimensions or named `*.bias` undecayed, as timm's
    /// `filter_bias_and_bn`.
    pub decay_norm_and_bias: bool,
    /// Nesterov momentum (SGD).
    pub nesterov: bool,
    /// AdamW's β₁ and β₂ (running averages of the gradient and of its square).
    pub betas: [f64; 2],
    /// AdamW's ε, added to the denominator.
    pub eps: f64,
    /// Clip the gradients' global 2-norm to this before each step (unset: never), as
    /// `torch.nn.utils.clip_grad_norm_`.
    pub clip_grad_norm: Option<f64>,
    /// Label smoothing of the training loss: targets are `1 − ε` on the class and `ε / classes`
    /// spread over all classes (PyTorch's `cross_entropy(label_smoothing = ε)`); validation
    /// loss stays plain cross-entropy.
    pub label_smoothing: f64,
    /// Learning-rate schedule over epochs.
    pub schedule: Schedule,
    /// Epochs of linear warm-up from 0 to `lr`, step by step (0 = none).
    pub warmup_epochs: f64,
    /// Seed of weights, shuffling, augmentation and dropout (each unless its own seed below is
    /// set).
    pub seed: u64,
    /// Seed of the weights' initialisation alone (unset: `seed`): fixed, seeds vary the rest.
    pub init_seed: Option<u64>,
    /// Seed of the data order and augmentation alone (unset: `seed`).
    pub data_seed: Option<u64>,
    /// Seed of dropout alone — libtorch's generator during training (unset: `seed`).
    pub dropout_seed: Option<u64>,
    /// `auto`, `cpu` or `cuda`.
    pub device: Device,
    /// libtorch CPU threads (unset = libtorch's default).
    pub threads: Option<usize>,
    /// bf16 autocast for forward passes on CUDA (ignored on CPU).
    pub bf16: bool,
    /// Channels-last (NHWC) images and weights — faster convolutions on GPUs.
    pub channels_last: bool,
    /// Augmentation of training batches.
    pub augment: Augment,
}

impl Default for TrainConfig {
    /// The paper's recipe.
    fn default() -> Self {
        Self::paper()
    }
}

impl TrainConfig {
    /// The paper's recipe ([`recipe`]), f32 NCHW on the automatic device, no augmentation.
    pub fn paper() -> Self {
        Self {
            epochs: recipe::EPOCHS,
            batch_size: recipe::BATCH_SIZE,
            lr: recipe::LR,
            lr_batch: LrBatch::None,
            optimizer: OptimizerKind::Sgd,
            momentum: recipe::MOMENTUM,
            weight_decay: 0.0,
            decay_norm_and_bias: true,
            nesterov: false,
            betas: [0.9, 0.999],
            eps: 1e-8,
            label_smoothing: 0.0,
            clip_grad_norm: None,
            schedule: Schedule::Step { step_size: recipe::STEP_SIZE, gamma: recipe::GAMMA },
            warmup_epochs: 0.0,
            seed: recipe::SEED,
            init_seed: None,
            data_seed: None,
            dropout_seed: None,
            device: Device::Auto,
            threads: None,
            bf16: false,
            channels_last: false,
            augment: Augment::default(),
        }
    }

    /// Images per batch when evaluating or predicting: the training batch, at least
    /// [`EVAL_BATCH_MIN`] (no gradients are kept, so larger batches fit).
    pub fn eval_batch_size(&self) -> usize {
        self.batch_size.max(EVAL_BATCH_MIN)
    }

    /// The seed of the weights' initialisation.
    pub fn seed_of_init(&self) -> u64 {
        self.init_seed.unwrap_or(self.seed)
    }

    /// The seed of the data order and augmentation.
    pub fn seed_of_data(&self) -> u64 {
        self.data_seed.unwrap_or(self.seed)
    }

    /// The seed of dropout (libtorch's generator while training).
    pub fn seed_of_dropout(&self) -> u64 {
        self.dropout_seed.unwrap_or(self.seed)
    }

    /// The peak learning rate at this batch size: `lr`, times `batch_size / base` under the linear
    /// rule.
    pub fn peak_lr(&self) -> f64 {
        match self.lr_batch {
            LrBatch::None => self.lr,
            LrBatch::Linear { base } => self.lr * self.batch_size as f64 / base.max(1) as f64,
        }
    }

    /// Learning rate at `epoch` (0-based), `step` of `steps_per_epoch` into it.
    pub fn lr_at(&self, epoch: usize, step: usize, steps_per_epoch: usize) -> f64 {
        let lr = self.peak_lr();
        let base = match self.schedule {
            Schedule::Constant => lr,
            Schedule::Step { step_size, gamma } => {
                lr * gamma.powi((epoch / step_size.max(1)) as i32)
            }
            Schedule::Cosine { min_lr } => {
                let t = epoch as f64 / self.epochs.max(1) as f64;
                min_lr + (lr - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        };
        let progress = epoch as f64 + step as f64 / steps_per_epoch.max(1) as f64;
        if self.warmup_epochs > 0.0 && progress < self.warmup_epochs {
            base * (progress + 1.0 / steps_per_epoch.max(1) as f64).min(self.warmup_epochs)
                / self.warmup_epochs
        } else {
            base
        }
    }

    /// Check every field.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        let bad = |field, value: String, problem| {
            Err(TrainConfigError::Invalid { field, value, problem })
        };
        if self.epochs == 0 {
            return bad("epochs", "0".into(), "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be at least 1");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", self.lr.to_string(), "must be a positive number");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", self.momentum.to_string(), "must be in [0, 1)");
        }
        if self.nesterov && self.momentum == 0.0 {
            return bad("nesterov", "true".into(), "needs momentum > 0");
        }
        if self.nesterov && self.optimizer == OptimizerKind::AdamW {
            return bad("nesterov", "true".into(), "is SGD's; AdamW has no Nesterov momentum");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", self.weight_decay.to_string(), "must be a number ≥ 0");
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad("label_smoothing", self.label_smoothing.to_string(), "must be in [0, 1)");
        }
        for (f, b) in [("betas[0]", self.betas[0]), ("betas[1]", self.betas[1])] {
            if !(0.0..1.0).contains(&b) {
                return bad(f, b.to_string(), "must be in [0, 1)");
            }
        }
        if let Some(c) = self.clip_grad_norm.filter(|c| !(*c > 0.0 && c.is_finite())) {
            return bad("clip_grad_norm", c.to_string(), "must be a positive number");
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return bad("eps", self.eps.to_string(), "must be a positive number");
        }
        if let LrBatch::Linear { base: 0 } = self.lr_batch {
            return bad("lr_batch", "linear:0".into(), "the base batch must be at least 1");
        }
        if let Schedule::Step { step_size: 0, .. } = self.schedule {
            return bad("schedule.step_size", "0".into(), "must be at least 1");
        }
        for (f, p) in [("augment.hflip", self.augment.hflip), ("augment.vflip", self.augment.vflip)]
        {
            if !(0.0..=1.0).contains(&p) {
                return bad(f, p.to_string(), "must be a probability in [0, 1]");
            }
        }
        Ok(())
    }
}

/// Whether `acc` beats the best so far (strictly: the first best epoch is kept on ties).
pub fn is_improvement(acc: f64, best: Option<f64>) -> bool {
    best.is_none_or(|b| acc > b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lr_matches_pytorch() {
        let c = TrainConfig::default();
        let lrs: Vec<f64> = (0..25).map(|e| c.lr_at(e, 0, 100)).collect();
        assert_eq!(lrs[0], 1e-3);
        assert_eq!(lrs[6], 1e-3);
        assert!((lrs[7] - 1e-4).abs() < 1e-12);
        assert!((lrs[14] - 1e-5).abs() < 1e-13);
        assert!((lrs[21] - 1e-6).abs() < 1e-14);
        let half = TrainConfig { schedule: "step:4:0.3".parse().unwrap(), ..Default::default() };
        assert!((half.lr_at(4, 0, 1) - 3e-4).abs() < 1e-12);
    }

    #[test]
    fn cosine_and_warmup() {
        let c = TrainConfig {
            epochs: 10,
            schedule: Schedule::Cosine { min_lr: 0.0 },
            lr: 1.0,
            ..Default::default()
        };
        assert_eq!(c.lr_at(0, 0, 10), 1.0);
        assert!((c.lr_at(5, 0, 10) - 0.5).abs() < 1e-12);
        let w = TrainConfig {
            warmup_epochs: 2.0,
            lr: 1.0,
            schedule: Schedule::Constant,
            ..Default::default()
        };
        assert!((w.lr_at(0, 0, 10) - 0.05).abs() < 1e-12, "{}", w.lr_at(0, 0, 10));
        assert!((w.lr_at(1, 0, 10) - 0.55).abs() < 1e-12);
        assert_eq!(w.lr_at(2, 0, 10), 1.0);
        // Warm-up rises step by step.
        assert!(w.lr_at(0, 5, 10) > w.lr_at(0, 4, 10));
    }

    #[test]
    fn schedule_parsing_and_errors() {
        assert_eq!("constant".parse::<Schedule>().unwrap(), Schedule::Constant);
        assert_eq!(
            "step:7:0.1".parse::<Schedule>().unwrap(),
            Schedule::Step { step_size: 7, gamma: 0.1 }
        );
        assert_eq!("cosine:1e-5".parse::<Schedule>().unwrap(), Schedule::Cosine { min_lr: 1e-5 });
        let e = "step:x:0.1".parse::<Schedule>().unwrap_err().to_string();
        assert_eq!(e, "schedule `step:x:0.1`: step size `x` is not a whole number");
        assert!(
            "linear".parse::<Schedule>().unwrap_err().to_string().contains("expected constant")
        );
    }

    #[test]
    fn best_epoch_rule() {
        assert!(is_improvement(0.1, None));
        assert!(is_improvement(0.5, Some(0.4)));
        assert!(!is_improvement(0.4, Some(0.4)));
        assert!(!is_improvement(0.3, Some(0.4)));
    }

    #[test]
    fn validation_names_fields() {
        let e = TrainConfig { lr: -1.0, ..Default::default() }.validate().unwrap_err();
        assert_eq!(
            e,
            TrainConfigError::Invalid {
                field: "lr",
                value: "-1".into(),
                problem: "must be a positive number"
            }
        );
        assert_eq!(e.to_string(), "train field `lr` = -1: must be a positive number");
        let e = TrainConfig { augment: Augment::flips(1.5), ..Default::default() }
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("augment.hflip"), "{e}");
        assert!(TrainConfig::default().validate().is_ok());
    }
}
