//! The `convlab` command's argument groups and what they build. They live in the
//! library so that every conversion from flags to configs is tested here, once;
//! `main.rs` holds the subcommands and one short function each.
use crate::bench::BenchConfig;
use crate::data::{Augment, DataConfig, Dataset, Inspection, Source};
use crate::device::Device;
use crate::device::MemoryFormat;
use crate::model::{Norm, Pool, Preset, ResNetConfig, Stem};
use crate::overrides::Override;
use crate::paths::PathStyle;
use crate::plan::{Plan, Recipe, Section};
use crate::plot::{Curve, Figure};
use crate::settings::ProfileName;
use crate::settings::{Cap, ClassList, DataSettings, Layer, Score, Settings};
use crate::train::{ExperimentSummary, Run, RunConfig, Schedule, TrainConfig};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

/// `8G`, `512M`, `100k` or a number of bytes (decimal units, as `df -H`; `GiB`-style binary units
/// too).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 =
        num.parse().map_err(|_| format!("`{s}`: expected a size such as 8G, 512M or 1000000"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        u => return Err(format!("`{s}`: unknown unit `{u}` (use k, M, G, T, or KiB, MiB, GiB)")),
    };
    let bytes = n * mult;
    if !(1.0..1.8e19).contains(&bytes) {
        return Err(format!("`{s}`: must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// The study's settings as flags: each wins over its `CONVLAB_*` variable and `convlab.toml`
/// (see [`crate::settings`]).
#[derive(Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    /// full, quick or smoke (default: $CONVLAB_PROFILE, convlab.toml, else quick).
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// The study's data, e.g. imagefolder:PATH (default: $CONVLAB_DATA, convlab.toml, else the
    /// profile's).
    #[arg(long)]
    pub data: Option<Source>,
    /// Keep the first N classes of the data.
    #[arg(long)]
    pub classes: Option<usize>,
    /// Seeds, e.g. 1,2,3 (default: $CONVLAB_SEEDS, convlab.toml, else the profile's).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// auto, cpu or cuda (default: $CONVLAB_DEVICE, convlab.toml, else the profile's).
    #[arg(long, value_enum)]
    pub device: Option<Device>,
    /// Epochs per run (default: $CONVLAB_EPOCHS, convlab.toml, else the profile's).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Runs go to RUNS/PROFILE/ (default: $CONVLAB_RUNS, convlab.toml, else PROJECT/runs).
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// Figures go to FIGURES/PROFILE/ (default: $CONVLAB_FIGURES, convlab.toml, else
    /// PROJECT/figures).
    #[arg(long)]
    pub figures: Option<PathBuf>,
    #[command(flatten)]
    pub data_settings: DataSettingsArgs,
}

/// What a study takes from its data and how it scores it, as flags: each wins over its
/// `CONVLAB_*` variable and `convlab.toml` key, which win over the profile's default.
#[derive(Args, Debug, Clone, Default)]
pub struct DataSettingsArgs {
    /// Resize every image to SIZE×SIZE; 0 keeps the source's size (default: $CONVLAB_SIZE,
    /// convlab.toml, else full: 64, quick: 0).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=4096))]
    pub size: Option<u32>,
    /// 1 (grayscale) or 3 (RGB) (default: $CONVLAB_CHANNELS, convlab.toml, else full: 3, quick: the
    /// source's).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub channels: Option<u8>,
    /// Keep only the classes listed in FILE, one per line (WordNet ids, folder names; wnids.txt
    /// works).
    #[arg(long, value_name = "FILE")]
    pub class_list: Option<PathBuf>,
    /// Training images per class: N or all (default: $CONVLAB_TRAIN_PER_CLASS, convlab.toml, else
    /// full: all, quick: 192).
    #[arg(long, value_name = "N|all")]
    pub train_per_class: Option<Cap>,
    /// Validation images per class: N or all (default: … else full: all, quick: 100).
    #[arg(long, value_name = "N|all")]
    pub val_per_class: Option<Cap>,
    /// Test images: N or all (default: … else full: all, quick: 5000).
    #[arg(long, value_name = "N|all")]
    pub test_limit: Option<Cap>,
    /// Validate on this share of each class held out of train/ (seeded, stratified) instead of
    /// val/; a tree without val/ holds out 0.1 unless told otherwise.
    #[arg(long, value_name = "FRACTION")]
    pub holdout: Option<f64>,
    /// What the statistics compare: best-val, or test-at-best (needs a labelled test split)
    /// (default: $CONVLAB_SCORE, convlab.toml, else full: best-val, quick: test-at-best).
    #[arg(long, value_enum)]
    pub score: Option<Score>,
    /// auto (channels-last where libtorch can train it, else NCHW, per variant), channels-last or
    /// nchw.
    #[arg(long, value_enum)]
    pub memory_format: Option<MemoryFormat>,
    /// Run the family's comparisons in looks of so many seeds a side, each stopping once
    /// decided: `--sequential` (5,10,15,20), `--sequential 4,8,12`, `pocock:5,10,15,20`, or
    /// `fixed` (the profile's seeds; overrides a plan's own looks) (default: $CONVLAB_SEQUENTIAL,
    /// convlab.toml, else the plan's `sequential`, else fixed).
    #[arg(long, value_name = "LOOKS", num_args = 0..=1, default_missing_value = "5,10,15,20")]
    pub sequential: Option<crate::looks::Seeding>,
}

impl DataSettingsArgs {
    /// The flag level of the data settings; the class list is read here.
    pub fn settings(&self) -> anyhow::Result<DataSettings> {
        if self.channels == Some(2) {
            anyhow::bail!("--channels 2: expected 1 (grayscale) or 3 (RGB)");
        }
        if let Some(f) = self.holdout {
            crate::data::Holdout::of(f)
                .validate()
                .map_err(|e| anyhow::anyhow!("--holdout {}", e.trim_start_matches("holdout = ")))?;
        }
        let class_list = match &self.class_list {
            Some(f) => Some(
                ClassList::read(f)
                    .map_err(|e| anyhow::anyhow!("--class-list {}: {e}", f.display()))?,
            ),
            None => None,
        };
        Ok(DataSettings {
            size: self.size,
            channels: self.channels,
            class_list,
            train_per_class: self.train_per_class,
            val_per_class: self.val_per_class,
            test_limit: self.test_limit,
            holdout: self.holdout,
            score: self.score,
            memory_format: self.memory_format,
            sequential: self.sequential.clone(),
        })
    }
}

impl SettingsArgs {
    /// The flag level of the settings; values clap cannot check alone are checked here.
    pub fn layer(&self) -> anyhow::Result<Layer> {
        if let Some(seeds) = &self.seeds {
            let text = seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            crate::settings::check_seeds(seeds)
                .map_err(|e| anyhow::anyhow!("--seeds {text}: {e}"))?;
        }
        for (flag, v) in [("--classes", self.classes), ("--epochs", self.epochs)] {
            anyhow::ensure!(v != Some(0), "{flag} 0: must be at least 1");
        }
        Ok(Layer {
            profile: self.profile,
            data: self.data.clone(),
            classes: self.classes,
            seeds: self.seeds.clone(),
            device: self.device,
            epochs: self.epochs,
            runs: self.runs.clone(),
            figures: self.figures.clone(),
            data_settings: self.data_settings.settings()?,
            ..Layer::default()
        })
    }
}

/// `convlab study --slurm`: the grid's pending units as Slurm job arrays.
#[derive(Args, Debug, Clone, Default)]
pub struct SlurmArgs {
    /// Submit the pending units as Slurm job arrays (one task per unit) instead of local workers.
    #[arg(long)]
    pub slurm: bool,
    /// With --slurm: write and print the sbatch script(s), submit nothing.
    #[arg(long, requires = "slurm")]
    pub dry_run: bool,
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    #[arg(long, requires = "slurm")]
    pub account: Option<String>,
    /// GPUs per task.
    #[arg(long, requires = "slurm")]
    pub gpus_per_task: Option<u32>,
    /// CPUs per task, also each unit's libtorch threads.
    #[arg(long, requires = "slurm", default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Memory per node, as sbatch takes it (e.g. 8G).
    #[arg(long, requires = "slurm")]
    pub mem: Option<String>,
    /// Time limit per task: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// Tasks of an array running at once (%K).
    #[arg(long, requires = "slurm")]
    pub max_parallel: Option<usize>,
    /// A further sbatch option, as given (repeatable), e.g. --sbatch-arg=--qos=low.
    #[arg(long = "sbatch-arg", requires = "slurm", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
}

impl SlurmArgs {
    /// What the submission asks Slurm for.
    pub fn options(&self) -> anyhow::Result<crate::grid::slurm::SlurmOptions> {
        anyhow::ensure!(self.cpus_per_task >= 1, "--cpus-per-task 0: at least one CPU is needed");
        anyhow::ensure!(
            self.max_parallel != Some(0),
            "--max-parallel 0: at least one task must run"
        );
        Ok(crate::grid::slurm::SlurmOptions {
            partition: self.partition.clone(),
            account: self.account.clone(),
            gpus_per_task: self.gpus_per_task,
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            time: match &self.time {
                Some(t) => Some((
                    t.clone(),
                    crate::grid::slurm::parse_time(t).map_err(|e| anyhow::anyhow!("--time {e}"))?,
                )),
                None => None,
            },
            max_parallel: self.max_parallel,
            sbatch_args: self.sbatch_args.clone(),
        })
    }
}

/// Where and how tensors compute.
#[derive(Args, Debug, Clone)]
pub struct DeviceArgs {
    /// auto, cpu or cuda.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// libtorch CPU threads.
    #[arg(long)]
    pub threads: Option<usize>,
    /// bf16 autocast on CUDA (an error when CUDA cannot honour it; ignored on the CPU).
    #[arg(long)]
    pub bf16: bool,
    /// Channels-last (NHWC) images and weights.
    #[arg(long)]
    pub channels_last: bool,
}

/// A dataset and how to load it.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// `imagefolder:PATH`, `tiny:PATH` (Tiny ImageNet), `tiny-names:PATH` (with words.txt names),
    /// `fashion-mnist` or `fashion-mnist:DIR` (default: fashion-mnist; for bench, the profile's).
    #[arg(long)]
    pub data: Option<Source>,
    /// Resize images to SIZE×SIZE (default: keep; for bench, the profile's size).
    #[arg(long)]
    pub size: Option<u32>,
    /// 1 (grayscale) or 3 (RGB); default: the source's.
    #[arg(long)]
    pub channels: Option<u8>,
    /// Keep the first N classes.
    #[arg(long)]
    pub classes: Option<usize>,
    /// Keep N training images per class.
    #[arg(long)]
    pub train_per_class: Option<usize>,
    /// Keep N validation images per class.
    #[arg(long)]
    pub val_per_class: Option<usize>,
    /// Keep at most N test images.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Keep only the classes listed in FILE, one per line (WordNet ids, folder names; wnids.txt
    /// works).
    #[arg(long, value_name = "FILE")]
    pub class_list: Option<PathBuf>,
    /// Validate on this share of each class held out of train/ (seeded, stratified) instead of
    /// val/; a tree without val/ holds out 0.1 unless told otherwise.
    #[arg(long, value_name = "FRACTION")]
    pub holdout: Option<f64>,
    /// Error on any bad file instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Skip images with more pixels (width × height) than this, before decoding them
    /// (default 178956970, Pillow's decompression-bomb limit).
    #[arg(long)]
    pub max_image_pixels: Option<u64>,
    /// Memory the decoded images may take, e.g. 8G or 512M (default: half of the available memory).
    #[arg(long, value_parser = parse_bytes)]
    pub memory_budget: Option<u64>,
    /// Cache directory (default $CONVLAB_CACHE, convlab.toml's `cache`, else ~/.cache/convlab).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

impl DataArgs {
    /// The data config these flags describe (Fashion-MNIST unless `--data`); the cache
    /// directory and Fashion-MNIST's location from `settings` unless given.
    pub fn config(&self, settings: &Settings) -> anyhow::Result<DataConfig> {
        let source = self.data.clone().unwrap_or_else(Source::fashion_mnist);
        Ok(settings.data_config(self.over(DataConfig::new(source))?))
    }

    /// `base` with every value these flags set (the source is the caller's); the class list is read
    /// here.
    pub fn over(&self, base: DataConfig) -> anyhow::Result<DataConfig> {
        if let Some(f) = self.holdout {
            crate::data::Holdout::of(f)
                .validate()
                .map_err(|e| anyhow::anyhow!("--holdout {}", e.trim_start_matches("holdout = ")))?;
        }
        let class_list = match &self.class_list {
            Some(f) => Some(
                ClassList::read(f)
                    .map_err(|e| anyhow::anyhow!("--class-list {}: {e}", f.display()))?
                    .names,
            ),
            None => base.class_list.clone(),
        };
        Ok(DataConfig {
            test_limit: self.test_limit.or(base.test_limit),
            holdout: self.holdout.map(crate::data::Holdout::of).or(base.holdout),
            class_list,
            image_size: self.size.unwrap_or(base.image_size),
            channels: self.channels.or(base.channels),
            classes: self.classes.or(base.classes),
            train_per_class: self.train_per_class.or(base.train_per_class),
            val_per_class: self.val_per_class.or(base.val_per_class),
            strict: self.strict || base.strict,
            max_image_pixels: self.max_image_pixels.or(base.max_image_pixels),
            memory_budget: self.memory_budget.or(base.memory_budget),
            cache_dir: self.cache.clone().or(base.cache_dir),
            ..base
        })
    }
}

/// A model preset and the changes to it.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model preset.
    #[arg(long, value_enum, default_value_t = Preset::Xknet18)]
    pub preset: Preset,
    /// Normalization: batch, instance, instance-affine, group:G, none.
    #[arg(long)]
    pub norm: Option<Norm>,
    /// Dropout probability before the classifier.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Plain stacked convolutions: no shortcut connections.
    #[arg(long)]
    pub no_residual: bool,
    /// Base width (64 = resnet18; 32 = the half-width study).
    #[arg(long)]
    pub width: Option<i64>,
    /// Blocks per stage, four numbers, e.g. 2,2,2,2.
    #[arg(long, value_delimiter = ',')]
    pub blocks: Option<Vec<usize>>,
    /// Stem: image-net (7×7/2 + max-pool) or small (3×3/1).
    #[arg(long, value_enum)]
    pub stem: Option<Stem>,
    /// Global pooling before the classifier: avg (torchvision's) or max.
    #[arg(long, value_enum)]
    pub pool: Option<Pool>,
}

impl ModelArgs {
    /// The preset with the flags' changes (input channels and classes come from the data:
    /// [`RunConfig::for_data`]).
    pub fn config(&self) -> anyhow::Result<ResNetConfig> {
        let preset = self.preset.config();
        let blocks = match &self.blocks {
            Some(b) => <[usize; 4]>::try_from(b.as_slice()).map_err(|_| {
                let text = b.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
                anyhow::anyhow!(
                    "--blocks {text}: expected 4 numbers (one per stage), got {}",
                    b.len()
                )
            })?,
            None => preset.blocks,
        };
        Ok(ResNetConfig {
            norm: self.norm.unwrap_or(preset.norm),
            dropout: self.dropout.unwrap_or(preset.dropout),
            residual: preset.residual && !self.no_residual,
            width: self.width.unwrap_or(preset.width),
            stem: self.stem.unwrap_or(preset.stem),
            pool: self.pool.unwrap_or(preset.pool),
            blocks,
            ..preset
        })
    }
}

/// The training recipe's changes from the paper's ([`TrainConfig::paper`]).
#[derive(Args, Debug, Clone)]
pub struct RecipeArgs {
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub momentum: Option<f64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    #[arg(long)]
    pub nesterov: bool,
    /// constant, step:EPOCHS:GAMMA, cosine or cosine:MIN_LR.
    #[arg(long)]
    pub schedule: Option<Schedule>,
    /// Epochs of linear learning-rate warm-up.
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Horizontal and vertical flip probability (the study: 0.05, 0.1).
    #[arg(long)]
    pub flips: Option<f64>,
    #[arg(long)]
    pub hflip: Option<f64>,
    #[arg(long)]
    pub vflip: Option<f64>,
    /// Random-crop padding in pixels.
    #[arg(long)]
    pub crop_pad: Option<i64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Any field by name, KEY=VALUE (repeatable), after the flags: e.g. --set
    /// train.label_smoothing=0.1
    /// --set model.norm=group:8 (`convlab keys` lists them; values as written, not scaled).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl RecipeArgs {
    /// The paper's recipe with these changes, on the hardware `hw` names.
    pub fn config(&self, hw: &DeviceArgs) -> TrainConfig {
        let paper = TrainConfig::paper();
        let flips = self.flips.map_or_else(Augment::default, Augment::flips);
        let augment = Augment {
            hflip: self.hflip.unwrap_or(flips.hflip),
            vflip: self.vflip.unwrap_or(flips.vflip),
            crop_pad: self.crop_pad.unwrap_or(flips.crop_pad),
        };
        TrainConfig {
            epochs: self.epochs.unwrap_or(paper.epochs),
            batch_size: self.batch_size.unwrap_or(paper.batch_size),
            lr: self.lr.unwrap_or(paper.lr),
            momentum: self.momentum.unwrap_or(paper.momentum),
            weight_decay: self.weight_decay.unwrap_or(paper.weight_decay),
            nesterov: self.nesterov,
            schedule: self.schedule.unwrap_or(paper.schedule),
            warmup_epochs: self.warmup.unwrap_or(paper.warmup_epochs),
            seed: self.seed.unwrap_or(paper.seed),
            device: hw.device,
            threads: hw.threads,
            bf16: hw.bf16,
            channels_last: hw.channels_last,
            augment,
            ..paper
        }
    }
}

/// What `convlab train` trains: the preset and recipe with the flags' changes, then the
/// `--set` overrides (any field by name), checked before any data is read. The data's own
/// fields join when the run is configured ([`RunConfig::for_data`]) and are checked once, when
/// it starts ([`RunConfig::check`]).
pub fn train_recipe(
    model: &ModelArgs,
    recipe: &RecipeArgs,
    hw: &DeviceArgs,
) -> anyhow::Result<Recipe> {
    let base = Recipe { model: model.config()?, train: recipe.config(hw) };
    let sets = recipe.set.iter().map(|s| s.parse::<Override>()).collect::<Result<Vec<_>, _>>()?;
    base.with(&sets).map_err(|e| anyhow::anyhow!("--set {e}"))
}

/// `convlab trace`'s CSV: one line per step.
pub fn trace_csv(steps: &[crate::train::StepTrace]) -> String {
    let header = ["epoch", "step", "lr", "images", "loss", "grad_norm"].map(String::from).to_vec();
    crate::table::csv_text(std::iter::once(header).chain(steps.iter().map(|s| {
        let (lr, loss, g) = (format!("{:e}", s.lr), s.loss.to_string(), s.grad_norm.to_string());
        vec![s.epoch.to_string(), s.step.to_string(), lr, s.images.to_string(), loss, g]
    })))
}

/// `convlab sweep`: a one-section plan sweeping `base` over `overrides` (each `KEY=A,B,…`),
/// named `name` or `sweep-<the swept keys>`.
pub fn sweep_plan(base: &str, overrides: &[String], name: Option<&str>) -> anyhow::Result<Plan> {
    let mut swept = Vec::new();
    for o in overrides {
        let (key, values) = crate::overrides::parse_sweep(o)?;
        if values.len() > 1 {
            swept.push(key.rsplit('.').next().unwrap_or(&key).to_string());
        }
    }
    let name = name.map_or_else(
        || {
            format!(
                "sweep-{}",
                if swept.is_empty() { "values".to_string() } else { swept.join("-") }
            )
        },
        String::from,
    );
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    // The section is the command line's: say what is wrong with the arguments, not with a section.
    let section = Section::sweep(&name, base, &refs).map_err(|e| {
        anyhow::anyhow!("{}", e.message.trim_start_matches(&format!("section `{name}`: ")))
    })?;
    Ok(Plan::new(&name, &format!("Sweep: {}", section.title))
        .with_section(section)
        .validate()?
        .with_styles())
}

/// `convlab keys`: every key an override can set, with its value in `variant`'s recipe (the
/// paper's units), how a profile scales it, and the keys set elsewhere.
pub fn keys_table(plan: &Plan, variant: &str) -> anyhow::Result<String> {
    plan.find_variant(variant).or_else(|_| crate::plan::paper_variant(variant))?;
    let recipe = plan.recipe(variant)?;
    let keys = recipe.keys();
    let width = keys.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let vwidth =
        keys.iter().map(|(_, v)| v.chars().count()).filter(|&n| n <= 24).max().unwrap_or(0);
    let mut out = format!(
        "Keys of {variant}'s recipe, in the paper's units (KEY=VALUE in `convlab sweep`, a \
            plan's `set`, `convlab train --set`):\n"
    );
    for (k, v) in &keys {
        let scaled =
            crate::plan::recipe::scaling(k).map_or(String::new(), |how| format!("  scaled: {how}"));
        out += format!("  {k:<width$}  {v:<vwidth$}{scaled}").trim_end();
        out.push('\n');
    }
    out += "Set elsewhere, not by an override:\n";
    for (k, why) in crate::plan::recipe::FIXED {
        out += &format!("  {k:<width$}  {why}\n");
    }
    Ok(out)
}

/// A plan file's path as a notebook opens it: relative to the project root when it is under
/// it (notebooks carry no machine's absolute paths), else absolute.
pub fn plan_path_from_root(file: &Path, root: &Path) -> anyhow::Result<String> {
    let abs =
        file.canonicalize().with_context(|| format!("cannot read plan {}", file.display()))?;
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    Ok(abs.strip_prefix(&root).unwrap_or(&abs).to_string_lossy().into_owned())
}

/// `convlab bench`: a profile's xknet18 (or another preset) on its data or another.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Model, image size, data and layout of this profile's xknet18 (quick: width 16, 28 px,
    /// the Fashion-MNIST slice, channels-last; full: width 64, 64 px, channels-last, bf16 on CUDA).
    #[arg(long, value_enum, default_value_t = ProfileName::Quick)]
    pub profile: ProfileName,
    /// Model preset.
    #[arg(long, value_enum, default_value_t = Preset::Xknet18)]
    pub preset: Preset,
    /// Base width (default: the profile's).
    #[arg(long)]
    pub width: Option<i64>,
    /// Data for the epoch measurement: the profile's unless `--data` (then whole, at the profile's
    /// size and channels).
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Epochs with the real loader (the fastest is reported).
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Plain NCHW layout even where the profile uses channels-last.
    #[arg(long)]
    pub nchw: bool,
    /// f32 even where the profile uses bf16 autocast.
    #[arg(long)]
    pub fp32: bool,
    #[command(flatten)]
    pub hw: DeviceArgs,
    /// Also write the result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl BenchArgs {
    /// The settings level of these flags: the profile, and the data when given.
    pub fn layer(&self) -> Layer {
        Layer {
            profile: Some(self.profile),
            data: self.data.data.clone(),
            cache: self.data.cache.clone(),
            ..Layer::default()
        }
    }

    /// The benchmark and its data, under `settings` (from [`BenchArgs::layer`]).
    pub fn config(&self, settings: &Settings) -> anyhow::Result<(BenchConfig, Dataset)> {
        anyhow::ensure!(
            !(self.profile == ProfileName::Full && self.data.data.is_none()),
            "`convlab bench --profile full` needs data: --data imagefolder:PATH or tiny:PATH \
                (bench/gpu.sh writes a synthetic tree)"
        );
        let profile = crate::plan::Profile::resolve(settings)?;
        profile.prepare_data()?;
        let base = match &self.data.data {
            // Another dataset, whole, at the profile's size and channels unless the flags say.
            Some(source) => DataConfig {
                image_size: profile.data.image_size,
                channels: profile.data.channels,
                ..DataConfig::new(settings.locate(source.clone()))
            },
            None => profile.data.clone(),
        };
        let data = Dataset::load(&settings.data_config(self.data.over(base)?))?;
        let train = TrainConfig {
            lr: profile.scaled_lr(crate::train::recipe::LR),
            device: self.hw.device,
            threads: self.hw.threads,
            bf16: (self.hw.bf16 || profile.bf16) && !self.fp32,
            channels_last: (self.hw.channels_last || profile.memory_format != MemoryFormat::Nchw)
                && !self.nchw,
            ..TrainConfig::paper()
        };
        let model =
            ResNetConfig { width: self.width.unwrap_or(profile.width), ..self.preset.config() };
        let RunConfig { model, train, .. } = RunConfig::for_data(model, train, &data);
        let h = data.shape()[1];
        // bf16 only takes effect on CUDA, so only there does the name say so.
        let bf16 = train.bf16 && train.device.resolve().is_ok_and(|d| d.is_cuda());
        let name = format!(
            "{} w{} {h}px{}{}",
            self.preset.as_str(),
            model.width,
            if train.channels_last { " NHWC" } else { "" },
            if bf16 { " bf16" } else { "" }
        );
        let cfg = BenchConfig {
            name,
            model,
            size: h,
            batch_size: self.batch_size,
            steps: self.steps,
            warmup: self.warmup,
            epochs: self.epochs,
            train,
        };
        Ok((cfg, data))
    }
}

/// `convlab data inspect`: what a source holds, and with `--profile` what that profile would take.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// The data, e.g. imagefolder:PATH or tiny:PATH (default: $CONVLAB_DATA, convlab.toml, else
    /// fashion-mnist).
    #[arg(long)]
    pub data: Option<Source>,
    /// Also say what this profile would take from the data, how it would score it, and whether a
    /// study could run.
    #[arg(long, value_enum)]
    pub profile: Option<ProfileName>,
    /// Keep the first N classes.
    #[arg(long)]
    pub classes: Option<usize>,
    #[command(flatten)]
    pub data_settings: DataSettingsArgs,
    /// Skip images with more pixels (width × height) than this (default 178956970, Pillow's limit).
    #[arg(long)]
    pub max_image_pixels: Option<u64>,
    /// Cache directory (Fashion-MNIST is read through it; default $CONVLAB_CACHE, convlab.toml's
    /// `cache`, else ~/.cache/convlab).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// List every class (default: the first 20, and the smallest and largest counts).
    #[arg(long)]
    pub all_classes: bool,
}

impl InspectArgs {
    /// The settings level of these flags.
    pub fn layer(&self) -> anyhow::Result<Layer> {
        anyhow::ensure!(self.classes != Some(0), "--classes 0: must be at least 1");
        Ok(Layer {
            profile: self.profile,
            data: self.data.clone(),
            classes: self.classes,
            cache: self.cache.clone(),
            data_settings: self.data_settings.settings()?,
            ..Layer::default()
        })
    }

    /// What to inspect under `settings`: their data (else Fashion-MNIST) with their class
    /// choice and hold-out; no per-split cap (the inspection says what there is).
    pub fn config(&self, settings: &Settings) -> DataConfig {
        let source = settings.data.clone().unwrap_or_else(Source::fashion_mnist);
        let ds = &settings.data_settings;
        settings.data_config(DataConfig {
            classes: settings.classes,
            class_list: ds.class_list.as_ref().map(|l| l.names.clone()),
            holdout: ds.holdout.map(crate::data::Holdout::of),
            max_image_pixels: self.max_image_pixels,
            ..DataConfig::new(source)
        })
    }
}

/// `1 000` — a count with a thin separator every three digits, as tables show it.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `convlab data inspect`'s report of an [`Inspection`]: layout, classes, images per split and
/// class, sizes and colour types, the test split, skipped files.
pub fn inspect(i: &Inspection, paths: &PathStyle, all_classes: bool) -> String {
    let mut out = vec![
        format!("{} at {}", i.source.kind(), paths.show(i.source.path())),
        format!("layout: {}", i.layout.describe()),
    ];
    let crc = crate::data::classes_crc32(&i.classes);
    out.push(format!("classes: {} of {} (CRC-32 {crc})", i.classes.len(), i.layout.source_classes));
    let test = match (i.test, i.test_labelled()) {
        (None, _) => "no test split".to_string(),
        (Some(n), true) => format!("test {} (labelled)", thousands(n)),
        (Some(n), false) => {
            format!("test {} (unlabelled: no accuracy can be computed on it)", thousands(n))
        }
    };
    out.push(format!("images: train {}, val {}, {test}", thousands(i.train()), thousands(i.val())));
    let hist = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter().map(|(k, n)| format!("{k} {}", thousands(*n))).collect::<Vec<_>>().join(", ")
    };
    let sizes: std::collections::BTreeMap<String, usize> = {
        let mut by_count: Vec<(&(u32, u32), &usize)> = i.sizes.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut m = std::collections::BTreeMap::new();
        for ((w, h), n) in by_count.iter().take(8) {
            m.insert(format!("{w}×{h}"), **n);
        }
        m
    };
    let more = if i.sizes.len() > 8 {
        format!(" and {} more sizes", i.sizes.len() - 8)
    } else {
        String::new()
    };
    out.push(format!("sizes ({}): {}{more}", i.sizes.len(), hist(&sizes)));
    out.push(format!("colour: {}", hist(&i.colours)));
    if let Some(h) = i.holdout {
        out.push(format!(
            "validation: held out of train/, {} of each class (seed {})",
            h.fraction, h.seed
        ));
    }
    let width = i.classes.iter().map(|c| c.chars().count()).max().unwrap_or(5).clamp(5, 40);
    out.push(format!(
        "{:>5}  {:<width$} {:>7} {:>7} {:>7}",
        "label", "class", "train", "val", "test"
    ));
    let shown = if all_classes { i.classes.len() } else { i.classes.len().min(20) };
    for (n, (c, k)) in i.classes.iter().zip(&i.counts).enumerate().take(shown) {
        out.push(format!("{n:>5}  {c:<width$} {:>7} {:>7} {:>7}", k.train, k.val, k.test));
    }
    if shown < i.classes.len() {
        let range = |f: fn(&crate::data::ClassCounts) -> usize| {
            let (lo, hi) = (
                i.counts.iter().map(f).min().unwrap_or(0),
                i.counts.iter().map(f).max().unwrap_or(0),
            );
            if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") }
        };
        out.push(format!(
            "  … {} more classes (--all-classes lists them); per class: train {}, val {}, test {}",
            i.classes.len() - shown,
            range(|c| c.train),
            range(|c| c.val),
            range(|c| c.test),
        ));
    }
    out.push(format!(
        "skipped: {} file(s){}",
        i.skipped.len(),
        if i.skipped.is_empty() {
            ""
        } else {
            " (from their headers; a full decode may find more)"
        }
    ));
    for s in i.skipped.iter().take(20) {
        out.push(format!("skipped {}: {}", paths.show(&s.path), s.reason));
    }
    if i.skipped.len() > 20 {
        out.push(format!("  … and {} more", i.skipped.len() - 20));
    }
    out.push(format!(
        "read in {:.1} s (headers only: nothing decoded, nothing trained)",
        i.seconds
    ));
    out.join("\n")
}

/// `convlab runs`: one line per finished experiment.
pub fn runs_table(experiments: &[ExperimentSummary], runs: &Path, paths: &PathStyle) -> String {
    if experiments.is_empty() {
        return format!("no finished experiments under {}", paths.show(runs));
    }
    let header = ["experiment", "seeds", "best val acc", "epoch", "params", "minutes", "img/s"];
    let rows = experiments
        .iter()
        .map(|s| {
            let r0 = &s.runs[0];
            let minutes = s.runs.iter().map(|r| r.wall_seconds).sum::<f64>() / 60.0;
            vec![
                s.name.clone(),
                s.seeds.len().to_string(),
                format!("{:.4} ± {:.4}", s.best_val_acc_mean, s.best_val_acc_std),
                r0.best_epoch.to_string(),
                r0.parameters.to_string(),
                format!("{minutes:.1}"),
                format!("{:.0}", r0.images_per_s),
            ]
        })
        .collect();
    crate::table::Table { name: "runs".into(), header: header.map(String::from).to_vec(), rows }
        .text()
}

/// A run directory, or the seed runs inside an experiment directory (sorted).
pub fn run_dirs(p: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if crate::train::RunDir::new(p).history().exists() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| format!("{}: not a run or experiment directory", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| crate::train::RunDir::new(d).history().exists())
        .collect();
    seeds.sort();
    anyhow::ensure!(
        !seeds.is_empty(),
        "{}: no runs (no {}) inside",
        p.display(),
        crate::train::run_dir::HISTORY
    );
    Ok(seeds)
}

/// `convlab plot`: the curves of every run under `dirs`, each labelled by its path from the
/// directory's parent.
pub fn curves_figure(dirs: &[PathBuf], title: &str) -> anyhow::Result<Figure> {
    let mut curves = Vec::new();
    for p in dirs {
        for dir in run_dirs(p)? {
            let run = Run::open(&dir)?;
            let label =
                dir.strip_prefix(p.parent().unwrap_or(p)).unwrap_or(&dir).display().to_string();
            let style = crate::plot::Style::nth(curves.len());
            curves.push(Curve::from_history(&label, &run.history).styled(style));
        }
    }
    Ok(Figure::curves(title, curves))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Train {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        recipe: RecipeArgs,
        #[command(flatten)]
        hw: DeviceArgs,
    }

    #[derive(Parser)]
    struct Study {
        #[command(flatten)]
        settings: SettingsArgs,
    }

    fn parse(args: &[&str]) -> Result<Train, clap::Error> {
        Train::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
    }

    fn study(args: &[&str]) -> Result<Layer, String> {
        let s = Study::try_parse_from(std::iter::once("s").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        s.settings.layer().map_err(|e| e.to_string())
    }

    #[test]
    fn no_flags_is_the_paper_recipe_on_xknet18() {
        let t = parse(&[]).unwrap();
        assert_eq!(t.model.config().unwrap(), ResNetConfig::xknet18());
        assert_eq!(t.recipe.config(&t.hw), TrainConfig::paper());
        assert_eq!(study(&[]).unwrap(), Layer::default());
    }

    #[test]
    fn flags_change_exactly_their_fields() {
        let t = parse(&[
            "--preset",
            "resnet18",
            "--norm",
            "group:4",
            "--stem",
            "small",
            "--blocks",
            "1,2,2,1",
            "--no-residual",
            "--width",
            "32",
            "--schedule",
            "step:4:0.3",
            "--flips",
            "0.1",
            "--vflip",
            "0.2",
            "--lr",
            "0.02",
            "--device",
            "cpu",
            "--channels-last",
        ])
        .unwrap();
        let m = t.model.config().unwrap();
        let want = ResNetConfig {
            norm: Norm::Group { groups: 4 },
            stem: Stem::Small,
            blocks: [1, 2, 2, 1],
            residual: false,
            width: 32,
            ..ResNetConfig::resnet18()
        };
        assert_eq!(m, want);
        let c = t.recipe.config(&t.hw);
        let want = TrainConfig {
            schedule: Schedule::Step { step_size: 4, gamma: 0.3 },
            augment: Augment { vflip: 0.2, ..Augment::flips(0.1) },
            lr: 0.02,
            device: Device::Cpu,
            channels_last: true,
            ..TrainConfig::paper()
        };
        assert_eq!(c, want);
        let layer = study(&[
            "--seeds",
            "3,4",
            "--profile",
            "smoke",
            "--device",
            "cpu",
            "--data",
            "imagefolder:/t",
        ])
        .unwrap();
        let want = Layer {
            profile: Some(ProfileName::Smoke),
            seeds: Some(vec![3, 4]),
            device: Some(Device::Cpu),
            data: Some(Source::ImageFolder { root: "/t".into() }),
            ..Layer::default()
        };
        assert_eq!(layer, want);
        // Aliases users type.
        assert_eq!(
            parse(&["--stem", "imagenet", "--device", "gpu"])
                .map(|t| (t.model.stem, t.hw.device))
                .unwrap(),
            (Some(Stem::ImageNet), Device::Cuda)
        );
    }

    #[test]
    fn bad_values_name_the_flag_and_the_problem() {
        let err = |a: &[&str]| parse(a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err(&["--norm", "layer"]).contains("expected batch, instance"),
            "{}",
            err(&["--norm", "layer"])
        );
        assert!(err(&["--schedule", "step:x:0.1"]).contains("step size `x` is not a whole number"));
        assert!(err(&["--device", "tpu"]).contains("'tpu'"));
        assert!(err(&["--preset", "resnet50"]).contains("resnet50"));
        assert!(study(&["--seeds", "1,x"]).unwrap_err().contains("--seeds"));
        assert!(
            study(&["--profile", "huge"])
                .unwrap_err()
                .contains("possible values: full, quick, smoke")
        );
        assert!(study(&["--data", "nope"]).unwrap_err().contains("expected imagefolder:PATH"));
        let t = parse(&["--blocks", "2,2"]).unwrap();
        assert_eq!(
            t.model.config().unwrap_err().to_string(),
            "--blocks 2,2: expected 4 numbers (one per stage), got 2"
        );
        assert_eq!(study(&["--seeds", "1,1"]).unwrap_err(), "--seeds 1,1: seed 1 is listed twice");
        assert_eq!(study(&["--epochs", "0"]).unwrap_err(), "--epochs 0: must be at least 1");
        let t = parse(&["--epochs", "0"]).unwrap();
        assert!(
            t.recipe.config(&t.hw).validate().unwrap_err().to_string().contains("`epochs` = 0")
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("8G"), Ok(8_000_000_000));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert!(parse_bytes("8X").unwrap_err().contains("unknown unit `x`"));
        assert!(parse_bytes("0").unwrap_err().contains("at least one byte"));
    }
}
