//! Profiles: the scale a study runs at, and the rule that maps the paper's
//! recipe onto it.
use super::Resolved;
use super::recipe::Recipe;
use crate::data::{DataConfig, Dataset, Holdout, Source, SynthConfig, synthetic};
use crate::device::{Device, MemoryFormat};
use crate::looks::Seeding;
use crate::model::ResNetConfig;
pub use crate::settings::Score;
use crate::settings::{DataSettings, ProfileName, Settings};
use crate::train::{LrBatch, RunConfig, Schedule, recipe};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The scale of a study and how the paper's recipe maps onto it ([`Profile::map`]).
///
/// Mapping rule: epochs and StepLR step sizes scale with `epochs / 25` (rounded, at least
/// 1); every learning rate of the paper (0.001, and the 1e-4 of the LR ablation) is
/// multiplied by `lr_scale`; widths scale with `width / 64`, batch sizes with
/// `batch_size / 64`. The paper's recipe is [`recipe`]. Everything else (momentum 0.9,
/// gammas, flip probabilities, dropout, weight decay, label smoothing) is taken as written.
/// The keys this scales are [`super::recipe::SCALED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: ProfileName,
    /// What every section trains on.
    pub data: DataConfig,
    /// Epochs per run (the paper: 25).
    pub epochs: usize,
    /// Images per step (the paper: 64).
    pub batch_size: usize,
    /// Base width of resnet18/xknet18 (the paper: 64).
    pub width: i64,
    /// Multiplier of the paper's learning rates.
    pub lr_scale: f64,
    /// Seeds per variant: the comparisons' Welch tests need at least two per side.
    pub seeds: Vec<u64>,
    pub device: Device,
    pub threads: Option<usize>,
    /// Channels-last (NHWC) images and weights — convolutions without layout conversions when
    /// channel counts are multiples of 8/16 (GPUs, and oneDNN on CPUs) — or NCHW, per variant
    /// ([`Profile::channels_last_for`]).
    pub memory_format: MemoryFormat,
    /// bf16 autocast on CUDA (ignored on the CPU).
    pub bf16: bool,
    /// For `smoke`: the synthetic tree written (once) where `data` reads it.
    pub synth: Option<SynthConfig>,
    /// What the statistics compare.
    #[serde(default)]
    pub score: Score,
    /// Epochs of linear learning-rate warm-up every variant gets unless it sets its own
    /// (`train.warmup_epochs`), in this profile's epochs: what the linear scaling rule asks
    /// for when the profile multiplies the learning rate (Goyal et al. 2017). 0: none.
    #[serde(default)]
    pub warmup_epochs: f64,
    /// The gradients' global norm is clipped to this for every variant unless it sets its own
    /// (`train.clip_grad_norm`). None: no clipping (the paper's recipe).
    #[serde(default)]
    pub clip_grad_norm: Option<f64>,
    /// Fixed seeds or looks, as the settings say (`--sequential`); `None`: the plan's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeding: Option<Seeding>,
}

impl Profile {
    /// The paper's settings on `source` (64×64 RGB), with three seeds (the paper ran each variant
    /// once).
    pub fn full(source: Source, classes: Option<usize>) -> Self {
        Self {
            name: ProfileName::Full,
            data: DataConfig {
                image_size: 64,
                channels: Some(3),
                classes,
                ..DataConfig::new(source)
            },
            epochs: recipe::EPOCHS,
            batch_size: recipe::BATCH_SIZE,
            width: ResNetConfig::resnet18().width,
            lr_scale: 1.0,
            seeds: vec![recipe::SEED, 1, 2],
            device: Device::Auto,
            threads: None,
            memory_format: MemoryFormat::Auto,
            bf16: true,
            synth: None,
            score: Score::BestVal,
            warmup_epochs: 0.0,
            clip_grad_norm: None,
            seeding: None,
        }
    }

    /// Fashion-MNIST, 28×28 grayscale: 192 training images per class (30 full batches
    /// an epoch), 100 validation images per class, the first 5,000 test images; width 16 (a
    /// quarter of the paper's: stages of 16/32/64/128 channels, multiples of the CPU's
    /// 16-float vectors, so channels-last convolutions run without layout conversions);
    /// 6 epochs of batch 64 (180 steps); five seeds.
    ///
    /// - lr ×20 (0.02; the LR ablation's 1e-4 becomes 2e-3): the paper's runs took ~19,500
    ///   steps, these ~100× fewer, so variants are compared trained, not under-trained.
    ///   StepLR(7) becomes StepLR(2) (7·6/25).
    /// - Gradients clipped to a global norm of 3 (`train.clip_grad_norm`): at lr 0.02 a no-BN
    ///   run can leave its first plateau with a gradient spike that throws it back, and the
    ///   decay after epoch 2 leaves it there (a stalled run, best validation accuracy < 0.6).
    ///   BatchNorm runs' norms stay near it (median ~2.7 in epoch 1, below 2 after).
    /// - Statistics on the test accuracy of the epoch the validation split chose
    ///   ([`Score::TestAtBest`]): scored on 5,000 images that chose nothing.
    /// - 192 images per class and five seeds: the most training that kept the family's 80 units
    ///   and the probes' 8 within 20 minutes on 2 cores; the probes' five seeds
    ///   ([`crate::plan::PROBE_SEEDS`]) and the findings probed at the paper's lr bring the
    ///   study to 135 units, about 28 minutes.
    ///
    /// The measurements behind each choice are in `docs/decisions/quick-profile.md`.
    pub fn quick() -> Self {
        Self {
            name: ProfileName::Quick,
            data: DataConfig {
                train_per_class: Some(192),
                val_per_class: Some(100),
                test_limit: Some(5000),
                ..DataConfig::new(Source::fashion_mnist())
            },
            epochs: 6,
            batch_size: 64,
            width: 16,
            lr_scale: 20.0,
            seeds: vec![recipe::SEED, 1, 2, 3, 4],
            device: Device::Auto,
            threads: None,
            memory_format: MemoryFormat::Auto,
            bf16: false,
            synth: None,
            score: Score::TestAtBest,
            warmup_epochs: 0.0,
            clip_grad_norm: Some(3.0),
            seeding: None,
        }
    }

    /// A synthetic 4-class 16×16 tree, written on first use at `tree`; width 4, 2 epochs.
    pub fn smoke(tree: PathBuf) -> Self {
        let root = tree;
        let synth = SynthConfig {
            classes: 4,
            train_per_class: 24,
            val_per_class: 8,
            test: 8,
            size: 16,
            seed: 0,
            mixed_formats: true,
            ..Default::default()
        };
        Self {
            name: ProfileName::Smoke,
            data: DataConfig::new(Source::ImageFolder { root }),
            epochs: 2,
            batch_size: 16,
            width: 4,
            lr_scale: 20.0,
            seeds: vec![recipe::SEED],
            device: Device::Cpu,
            threads: None,
            memory_format: MemoryFormat::Nchw,
            bf16: false,
            synth: Some(synth),
            score: Score::BestVal,
            warmup_epochs: 0.0,
            clip_grad_norm: None,
            seeding: None,
        }
    }

    /// The profile `settings` name, on their data (located), with their seeds, device and
    /// epochs where they set them, and what they say to take from the data and how to score
    /// it ([`DataSettings`]); `smoke`'s tree and every cache under their cache directory.
    pub fn resolve(settings: &Settings) -> anyhow::Result<Self> {
        let data = settings.data.clone().map(|d| settings.locate(d));
        let mut p = match (settings.profile, data) {
            (ProfileName::Full, Some(src)) => Self::full(src, settings.classes),
            (ProfileName::Full, None) => anyhow::bail!(
                "profile `full` runs on your copy of the study's data: set CONVLAB_DATA=imagefolder:/path/to/data \
                 (train/ val/ test/ with class folders) or tiny:/path/to/tiny-imagenet-200 with \
                 CONVLAB_CLASSES=100, \
                 or `data = \"…\"` in convlab.toml"
            ),
            (ProfileName::Quick, src) => {
                let mut p = Self::quick();
                p.data.source = settings.locate(src.unwrap_or(p.data.source));
                p.data.classes = settings.classes.or(p.data.classes);
                p
            }
            (ProfileName::Smoke, _) => Self::smoke(settings.cache_dir.join("smoke-tree")),
        };
        p.data.cache_dir = Some(settings.cache_dir.clone());
        if let Some(seeds) = &settings.seeds {
            p.seeds = seeds.clone();
        }
        if let Some(d) = settings.device {
            p.device = d;
        }
        if let Some(e) = settings.epochs {
            p.epochs = e;
        }
        p.take(&settings.data_settings);
        Ok(p)
    }

    /// `ds`'s values over this profile's: what to take from the data and how to score it.
    fn take(&mut self, ds: &DataSettings) {
        let d = &mut self.data;
        if let Some(size) = ds.size {
            d.image_size = size;
        }
        d.channels = ds.channels.or(d.channels);
        if let Some(list) = &ds.class_list {
            d.class_list = Some(list.names.clone());
        }
        for (cap, field) in [
            (ds.train_per_class, &mut d.train_per_class),
            (ds.val_per_class, &mut d.val_per_class),
            (ds.test_limit, &mut d.test_limit),
        ] {
            if let Some(cap) = cap {
                *field = cap.limit();
            }
        }
        if let Some(f) = ds.holdout {
            d.holdout = Some(Holdout::of(f));
        }
        self.score = ds.score.unwrap_or(self.score);
        self.memory_format = ds.memory_format.unwrap_or(self.memory_format);
        if ds.sequential.is_some() {
            self.seeding = ds.sequential.clone();
        }
    }

    /// Whether a variant of `model` trains channels-last on this profile, for images of
    /// `side`×`side`: what its memory format says, and under `auto` NCHW where libtorch's
    /// oneDNN would crash on the CPU ([`ResNetConfig::cpu_channels_last_hazard`]) unless the
    /// device is `cuda`. `Some(reason)` beside `false` when the hazard chose it.
    pub fn channels_last_for(&self, model: &ResNetConfig, side: i64) -> (bool, Option<String>) {
        match self.memory_format {
            MemoryFormat::Nchw => (false, None),
            MemoryFormat::ChannelsLast => (true, None),
            MemoryFormat::Auto if self.device == Device::Cuda => (true, None),
            MemoryFormat::Auto => match model.cpu_channels_last_hazard(side) {
                Some(conv) => (false, Some(conv)),
                None => (true, None),
            },
        }
    }

    /// Write the synthetic tree of `smoke` when it is not there yet.
    pub fn prepare_data(&self) -> anyhow::Result<()> {
        if let (Some(synth), Source::ImageFolder { root }) = (&self.synth, &self.data.source)
            && !root.join("train").exists()
        {
            let tmp = root.with_extension(format!("tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            synthetic::write_image_folder(&tmp, synth)?;
            if let Err(e) = std::fs::rename(&tmp, root) {
                let _ = std::fs::remove_dir_all(&tmp);
                anyhow::ensure!(
                    root.join("train").exists(),
                    "cannot create {}: {e}",
                    root.display()
                );
            }
        }
        Ok(())
    }

    /// A number of the paper's epochs (a run's length, a StepLR step size; the paper ran 25)
    /// scaled to this profile's epochs.
    pub fn scaled_step(&self, step_size: usize) -> usize {
        ((step_size as f64 * self.epochs as f64 / recipe::EPOCHS as f64).round() as usize).max(1)
    }

    /// A learning rate of the paper's at this profile's scale.
    pub fn scaled_lr(&self, lr: f64) -> f64 {
        lr * self.lr_scale
    }

    /// The recipe every variant starts from on this profile: the paper's, with the
    /// profile's device, threads, channels-last, bf16 and first seed.
    pub fn base(&self) -> Recipe {
        let mut r = Recipe::paper();
        r.train.seed = self.seeds[0];
        r.train.device = self.device;
        r.train.threads = self.threads;
        r.train.channels_last = self.memory_format != MemoryFormat::Nchw;
        r.train.bf16 = self.bf16;
        r
    }

    /// A recipe written in the paper's units on this profile's scale (the module's rule).
    pub fn map(&self, r: &Recipe) -> Recipe {
        let mut r = r.clone();
        let t = &mut r.train;
        t.epochs = self.scaled_step(t.epochs);
        t.lr = self.scaled_lr(t.lr);
        t.schedule = match t.schedule {
            Schedule::Step { step_size, gamma } => {
                Schedule::Step { step_size: self.scaled_step(step_size), gamma }
            }
            Schedule::Cosine { min_lr } => Schedule::Cosine { min_lr: self.scaled_lr(min_lr) },
            Schedule::Constant => Schedule::Constant,
        };
        t.warmup_epochs = if t.warmup_epochs > 0.0 {
            t.warmup_epochs * self.epochs as f64 / recipe::EPOCHS as f64
        } else {
            self.warmup_epochs
        };
        t.clip_grad_norm = t.clip_grad_norm.or(self.clip_grad_norm);
        let batch = |b: usize| {
            ((b as f64 * self.batch_size as f64 / recipe::BATCH_SIZE as f64).round() as usize)
                .max(1)
        };
        t.batch_size = batch(t.batch_size);
        if let LrBatch::Linear { base } = t.lr_batch {
            t.lr_batch = LrBatch::Linear { base: batch(base) };
        }
        let paper_width = ResNetConfig::resnet18().width as f64;
        r.model.width =
            ((r.model.width as f64 * self.width as f64 / paper_width).round() as i64).max(1);
        r
    }

    /// The run config of a resolved variant on `data` (classes and channels from the data):
    /// [`Profile::mapped`] at the data's size.
    pub fn config(&self, v: &Resolved, data: &Dataset) -> anyhow::Result<RunConfig> {
        let mapped = self.mapped(v, data.shape()[1])?;
        Ok(RunConfig::for_data(mapped.model, mapped.train, data))
    }

    /// A resolved variant's recipe on this profile for `side`×`side` images: its overrides on
    /// [`Profile::base`], mapped by [`Profile::map`], then its absolute ones; a variant that
    /// asks for channels-last where it would crash keeps NCHW under `auto`.
    pub fn mapped(&self, v: &Resolved, side: i64) -> anyhow::Result<Recipe> {
        let recipe = self.base().with(&v.overrides)?;
        let mut mapped = self.map(&recipe).with(&v.absolute)?;
        if mapped.train.channels_last && self.memory_format == MemoryFormat::Auto {
            mapped.train.channels_last = self.channels_last_for(&mapped.model, side).0;
        }
        Ok(mapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Cap, DataSettings};

    #[test]
    fn auto_memory_format_keeps_nchw_where_channels_last_would_crash() {
        let plan = super::super::paper_plan();
        let layout = |p: &Profile, key: &str, side: i64| {
            p.mapped(&plan.resolve(key).unwrap(), side).unwrap().train.channels_last
        };
        let quick = Profile::quick();
        // 64×64 colour on quick: the half-width net's stage-2 shortcut gets 8 channels on 64×64
        // maps.
        assert!(!layout(&quick, "xknet18-half", 64));
        assert!(layout(&quick, "xknet18", 64) && layout(&quick, "resnet18", 64));
        assert!(
            quick
                .channels_last_for(&ResNetConfig { width: 8, ..ResNetConfig::xknet18() }, 64)
                .1
                .unwrap()
                .contains("layer2.0.downsample.0")
        );
        // Fashion-MNIST's 28 px: channels-last for every variant, as before.
        assert!(plan.variants().iter().all(|v| layout(&quick, &v.key, 28)));
        // On `cuda`, and when forced, channels-last; `nchw` everywhere when asked.
        assert!(layout(&Profile { device: Device::Cuda, ..quick.clone() }, "xknet18-half", 64));
        assert!(layout(
            &Profile { memory_format: MemoryFormat::ChannelsLast, ..quick.clone() },
            "xknet18-half",
            64
        ));
        assert!(!layout(
            &Profile { memory_format: MemoryFormat::Nchw, ..quick.clone() },
            "xknet18",
            64
        ));
        // A variant asking for NCHW keeps it.
        let v = super::super::Resolved {
            overrides: vec!["train.channels_last=false".parse().unwrap()],
            absolute: vec![],
        };
        assert!(!quick.mapped(&v, 28).unwrap().train.channels_last);
    }

    #[test]
    fn data_settings_win_over_the_profiles_defaults() {
        let mut p = Profile::quick();
        p.take(&DataSettings::default());
        assert_eq!(
            (p.data.train_per_class, p.data.val_per_class, p.data.test_limit, p.data.image_size),
            (Some(192), Some(100), Some(5000), 0)
        );
        assert_eq!((p.score, p.memory_format), (Score::TestAtBest, MemoryFormat::Auto));
        p.take(&DataSettings {
            size: Some(64),
            channels: Some(3),
            train_per_class: Some(Cap::All),
            test_limit: Some(Cap::At(100)),
            holdout: Some(0.2),
            score: Some(Score::BestVal),
            memory_format: Some(MemoryFormat::Nchw),
            ..Default::default()
        });
        assert_eq!(
            (
                p.data.train_per_class,
                p.data.val_per_class,
                p.data.test_limit,
                p.data.image_size,
                p.data.channels
            ),
            (None, Some(100), Some(100), 64, Some(3))
        );
        assert_eq!(
            (p.data.holdout, p.score, p.memory_format),
            (Some(Holdout::of(0.2)), Score::BestVal, MemoryFormat::Nchw)
        );
        let mut full = Profile::full(Source::ImageFolder { root: "/t".into() }, None);
        full.take(&DataSettings { size: Some(0), ..Default::default() });
        assert_eq!(full.data.image_size, 0, "0 keeps the source's size on full too");
    }
}
