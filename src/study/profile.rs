//! Profiles: the scale a study runs at, and the rule that maps the report's
//! recipe onto it.
use super::sections::{Change, Variant};
use crate::data::{Augment, DataConfig, Dataset, Source, SynthConfig, synthetic};
use crate::device::Device;
use crate::model::{ResNetConfig, Stem};
use crate::train::{RunConfig, Schedule, TrainConfig};
use serde::{Deserialize, Serialize};

/// Which scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// The report's settings on the user's data: 64×64 RGB, 25 epochs, batch 64, width 64.
    Full,
    /// The CPU default: a Fashion-MNIST slice, every section in minutes on 2 cores.
    Quick,
    /// Seconds, on a tiny synthetic tree: for CI and checking the plumbing.
    Smoke,
}

impl ProfileName {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileName::Full => "full",
            ProfileName::Quick => "quick",
            ProfileName::Smoke => "smoke",
        }
    }
}

impl std::str::FromStr for ProfileName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "full" => Ok(ProfileName::Full),
            "quick" => Ok(ProfileName::Quick),
            "smoke" => Ok(ProfileName::Smoke),
            _ => anyhow::bail!("unknown profile `{s}`: expected full, quick or smoke"),
        }
    }
}

/// The scale of a study and how the report's recipe maps onto it.
///
/// Mapping rule: StepLR step sizes scale with `epochs / 25` (rounded, at least 1);
/// every learning rate of the report (0.001, and the 1e-4 of the LR ablation) is
/// multiplied by `lr_scale`; widths scale with `width / 64`. Everything else
/// (momentum 0.9, gammas, flip probabilities, dropout) is the report's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: ProfileName,
    /// What every section trains on.
    pub data: DataConfig,
    /// Epochs per run (the report: 25).
    pub epochs: usize,
    /// Images per step (the report: 64).
    pub batch_size: usize,
    /// Base width of resnet18/xknet18 (the report: 64).
    pub width: i64,
    /// Multiplier of the report's learning rates.
    pub lr_scale: f64,
    /// Seeds per variant (mean ± std over them).
    pub seeds: Vec<u64>,
    pub device: Device,
    pub threads: Option<usize>,
    /// Channels-last (NHWC) images and weights: convolutions without layout
    /// conversions when channel counts are multiples of 8/16 (GPUs, and oneDNN on CPUs).
    pub channels_last: bool,
    /// bf16 autocast on CUDA (ignored on the CPU).
    pub bf16: bool,
    /// For `smoke`: the synthetic tree written (once) where `data` reads it.
    pub synth: Option<SynthConfig>,
}

/// `convlab.toml` at the project root (every key optional; environment variables win).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlConfig {
    profile: Option<String>,
    data: Option<String>,
    classes: Option<usize>,
    seeds: Option<Vec<u64>>,
    device: Option<String>,
    epochs: Option<usize>,
}

impl Profile {
    /// The report's settings on `source` (64×64 RGB).
    pub fn full(source: Source, classes: Option<usize>) -> Self {
        Self {
            name: ProfileName::Full,
            data: DataConfig { image_size: 64, channels: Some(3), classes, ..DataConfig::new(source) },
            epochs: 25,
            batch_size: 64,
            width: 64,
            lr_scale: 1.0,
            seeds: vec![20211108],
            device: Device::Auto,
            threads: None,
            channels_last: true,
            bf16: true,
            synth: None,
        }
    }

    /// Fashion-MNIST, 28×28 grayscale: 300 training and 100 validation images per
    /// class, width 16 (a quarter of the report's: stages of 16/32/64/128 channels,
    /// multiples of the CPU's 16-float vectors, so channels-last convolutions run
    /// without layout conversions), 8 epochs of batch 64 (376 steps), two seeds.
    /// The report's runs took ~19,500 steps at lr 0.001; with 52× fewer steps the
    /// lr is scaled ×20 (0.02; the LR ablation's 1e-4 becomes 2e-3) so that
    /// variants are compared trained, not under-trained. StepLR(7) becomes StepLR(2) (7·8/25).
    pub fn quick() -> Self {
        Self {
            name: ProfileName::Quick,
            data: DataConfig { train_per_class: Some(300), val_per_class: Some(100), test_limit: Some(1000), ..DataConfig::new(Source::fashion_mnist()) },
            epochs: 8,
            batch_size: 64,
            width: 16,
            lr_scale: 20.0,
            seeds: vec![20211108, 1],
            device: Device::Auto,
            threads: None,
            channels_last: true,
            bf16: false,
            synth: None,
        }
    }

    /// A synthetic 4-class 16×16 tree (written on first use), width 4, 2 epochs.
    pub fn smoke() -> Self {
        let root = crate::data::DataConfig::new(Source::fashion_mnist()).cache_dir().join("smoke-tree");
        let synth = SynthConfig { classes: 4, train_per_class: 24, val_per_class: 8, test: 8, size: 16, seed: 0, mixed_formats: true };
        Self {
            name: ProfileName::Smoke,
            data: DataConfig::new(Source::ImageFolder { root }),
            epochs: 2,
            batch_size: 16,
            width: 4,
            lr_scale: 20.0,
            seeds: vec![20211108],
            device: Device::Cpu,
            threads: None,
            channels_last: false,
            bf16: false,
            synth: Some(synth),
        }
    }

    pub fn named(name: ProfileName, data: Option<Source>, classes: Option<usize>) -> anyhow::Result<Self> {
        Ok(match (name, data) {
            (ProfileName::Full, Some(src)) => Self::full(src, classes),
            (ProfileName::Full, None) => anyhow::bail!(
                "profile `full` runs on your copy of the study's data: set CONVLAB_DATA=imagefolder:/path/to/data \
                 (train/ val/ test/ with class folders) or tiny:/path/to/tiny-imagenet-200 with CONVLAB_CLASSES=100, \
                 or `data = \"…\"` in convlab.toml"
            ),
            (ProfileName::Quick, src) => {
                let mut p = Self::quick();
                if let Some(src) = src {
                    p.data.source = src;
                }
                p.data.classes = classes.or(p.data.classes);
                p
            }
            (ProfileName::Smoke, _) => Self::smoke(),
        })
    }

    /// Chosen by `CONVLAB_PROFILE` (default `quick`), `CONVLAB_DATA`, `CONVLAB_CLASSES`,
    /// `CONVLAB_SEEDS` (e.g. `1,2,3`), `CONVLAB_DEVICE`, `CONVLAB_EPOCHS`, each
    /// overriding the same key of `convlab.toml` at the project root.
    pub fn from_env() -> anyhow::Result<Self> {
        let path = super::project_root().join("convlab.toml");
        let toml_cfg: TomlConfig = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            Err(_) => TomlConfig::default(),
        };
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let name: ProfileName = var("CONVLAB_PROFILE").or(toml_cfg.profile).unwrap_or_else(|| "quick".into()).parse()?;
        let data = var("CONVLAB_DATA").or(toml_cfg.data).map(|s| s.parse::<Source>()).transpose()?;
        let classes = match var("CONVLAB_CLASSES") {
            Some(c) => Some(c.parse().map_err(|_| anyhow::anyhow!("CONVLAB_CLASSES=`{c}` is not a number"))?),
            None => toml_cfg.classes,
        };
        let mut p = Self::named(name, data, classes)?;
        if let Some(s) = var("CONVLAB_SEEDS") {
            p.seeds = s
                .split(',')
                .map(|v| v.trim().parse().map_err(|_| anyhow::anyhow!("CONVLAB_SEEDS=`{s}`: `{v}` is not a number")))
                .collect::<anyhow::Result<_>>()?;
        } else if let Some(s) = toml_cfg.seeds {
            p.seeds = s;
        }
        anyhow::ensure!(!p.seeds.is_empty(), "at least one seed is needed");
        if let Some(d) = var("CONVLAB_DEVICE").or(toml_cfg.device) {
            p.device = d.parse()?;
        }
        if let Some(e) = var("CONVLAB_EPOCHS") {
            p.epochs = e.parse().map_err(|_| anyhow::anyhow!("CONVLAB_EPOCHS=`{e}` is not a number"))?;
        } else if let Some(e) = toml_cfg.epochs {
            p.epochs = e;
        }
        Ok(p)
    }

    /// Write the synthetic tree of `smoke` when it is not there yet.
    pub fn prepare_data(&self) -> anyhow::Result<()> {
        if let (Some(synth), Source::ImageFolder { root }) = (&self.synth, &self.data.source) {
            if !root.join("train").exists() {
                let tmp = root.with_extension(format!("tmp-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&tmp);
                synthetic::write_image_folder(&tmp, synth)?;
                if let Err(e) = std::fs::rename(&tmp, root) {
                    let _ = std::fs::remove_dir_all(&tmp);
                    anyhow::ensure!(root.join("train").exists(), "cannot create {}: {e}", root.display());
                }
            }
        }
        Ok(())
    }

    /// StepLR step size scaled from the report's 25 epochs.
    pub fn scaled_step(&self, step_size: usize) -> usize {
        ((step_size as f64 * self.epochs as f64 / 25.0).round() as usize).max(1)
    }

    /// The run config of `v` on `data` (classes and channels from the data).
    pub fn config(&self, v: &Variant, data: &Dataset) -> RunConfig {
        let [c, _, _] = data.shape();
        let mut model = ResNetConfig { width: self.width, in_channels: c, num_classes: data.num_classes() as i64, ..ResNetConfig::resnet18() };
        let mut train = TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: 1e-3 * self.lr_scale,
            schedule: Schedule::Step { step_size: self.scaled_step(7), gamma: 0.1 },
            seed: self.seeds[0],
            device: self.device,
            threads: self.threads,
            channels_last: self.channels_last,
            bf16: self.bf16,
            ..TrainConfig::default()
        };
        for change in v.changes {
            match *change {
                Change::SmallStem => model.stem = Stem::Small,
                Change::WidthFactor(f) => model.width = ((self.width as f64 * f).round() as i64).max(1),
                Change::StepLr { step_size, gamma } => train.schedule = Schedule::Step { step_size: self.scaled_step(step_size), gamma },
                Change::Flips(p) => train.augment = Augment::flips(p),
                Change::Norm(n) => model.norm = n,
                Change::Dropout(p) => model.dropout = p,
                Change::ConstantLr(lr) => {
                    train.lr = lr * self.lr_scale;
                    train.schedule = Schedule::Constant;
                }
                Change::NoResidual => model.residual = false,
                Change::Blocks(b) => model.blocks = b,
            }
        }
        RunConfig { model, data: data.config.clone(), train }
    }
}
