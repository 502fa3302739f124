//! `convlab` — prepare data, train, predict, list runs, plot curves.
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use convlab::data::{Augment, DataConfig, Dataset, Source, SynthConfig, synthetic};
use convlab::device::Device;
use convlab::model::{Norm, ResNetConfig, Stem};
use convlab::plot::{Curve, Figure};
use convlab::train::{Experiment, Run, RunConfig, RunOptions, Schedule, TrainConfig, list_runs, predict, write_predictions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "convlab", version, about = "Convolutional-network studies on small image datasets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare (decode + cache) or inspect a dataset, or write a synthetic one.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train an experiment: a model preset plus overrides, on a dataset.
    Train(TrainArgs),
    /// Write predictions (`<file>\t<class>` per line) of a run's best weights.
    Predict(PredictArgs),
    /// Table of finished experiments.
    Runs {
        /// Directory holding the experiments.
        #[arg(long, default_value = "runs")]
        runs: PathBuf,
    },
    /// Loss and accuracy curves of one or more runs, as SVG or PNG.
    Plot(PlotArgs),
    /// Run the report's sections under a profile and export their figures.
    Study(StudyArgs),
    /// Throughput: train step, libtorch's raw step, evaluation, an epoch with the loader.
    Bench(BenchArgs),
    /// Write the study's notebooks from the sections (outputs of unchanged cells are kept), or check them.
    Notebooks(NotebooksArgs),
}

#[derive(Args)]
struct NotebooksArgs {
    /// Where the notebooks live.
    #[arg(long, default_value = "notebooks")]
    dir: PathBuf,
    /// Write nothing; list every difference between the notebooks and the generator, and fail if there is one.
    #[arg(long)]
    check: bool,
}

fn notebooks(args: &NotebooksArgs, paths: &convlab::paths::PathStyle) -> anyhow::Result<()> {
    use convlab::study::notebooks::{Written, check_notebooks, write_notebooks};
    if args.check {
        let problems = check_notebooks(&args.dir)?;
        for p in &problems {
            eprintln!("{p}");
        }
        anyhow::ensure!(problems.is_empty(), "{} difference(s) between {} and the generator: run `convlab notebooks`", problems.len(), paths.show(&args.dir));
        println!("{}: every notebook matches the generator", paths.show(&args.dir));
        return Ok(());
    }
    for w in write_notebooks(&args.dir)? {
        match w {
            Written::Unchanged(p) => println!("unchanged {}", paths.show(&p)),
            Written::Updated(p) => println!("updated   {} (changed cells lost their outputs: re-run `make notebooks`)", paths.show(&p)),
            Written::Created(p) => println!("created   {}", paths.show(&p)),
        }
    }
    Ok(())
}

#[derive(Args)]
struct BenchArgs {
    /// Model, image size, data and layout of this profile's xknet18 (quick: width 16, 28 px,
    /// the Fashion-MNIST slice, channels-last; full: width 64, 64 px, channels-last, bf16 on CUDA).
    #[arg(long, default_value = "quick")]
    profile: String,
    /// Model preset (default xknet18).
    #[arg(long, default_value = "xknet18")]
    preset: String,
    #[arg(long)]
    width: Option<i64>,
    /// Data for the epoch measurement (default: the profile's); size and channels follow it.
    #[arg(long)]
    data: Option<String>,
    /// Resize the data to SIZE (0 = keep).
    #[arg(long, default_value_t = 0)]
    size: u32,
    #[arg(long)]
    channels: Option<u8>,
    #[arg(long)]
    train_per_class: Option<usize>,
    /// Cache directory for the data.
    #[arg(long)]
    cache: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 30)]
    steps: usize,
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Epochs with the real loader (the fastest is reported).
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Plain NCHW layout even where the profile uses channels-last.
    #[arg(long)]
    nchw: bool,
    /// f32 even where the profile uses bf16 autocast.
    #[arg(long)]
    fp32: bool,
    #[command(flatten)]
    hw: DeviceArgs,
    /// Also write the result as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct StudyArgs {
    /// full, quick or smoke (default: $CONVLAB_PROFILE, convlab.toml, else quick).
    #[arg(long)]
    profile: Option<String>,
    /// Sections to run (default: all): baseline, xknet18, width, augmentation, dropout, normalization, lr-decay, residual, depth.
    #[arg(long, value_delimiter = ',')]
    sections: Vec<String>,
    /// Seeds, e.g. 1,2,3 (default: the profile's).
    #[arg(long)]
    seeds: Option<String>,
    /// List the sections and their variants, with the run config of each, and stop.
    #[arg(long)]
    list: bool,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Decode and cache a dataset (a second run is near-instant).
    Prepare(DataArgs),
    /// Describe a dataset: classes, split sizes, skipped files.
    Inspect(DataArgs),
    /// Write a dataset's train and val splits as an ImageFolder tree of PNG files
    /// (e.g. a Fashion-MNIST slice for the PyTorch reference benchmark).
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// Where to write `train/<class>/*.png` and `val/<class>/*.png`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a seeded synthetic ImageFolder tree (for smoke runs).
    Synth {
        /// Where to write the tree.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10)]
        classes: usize,
        #[arg(long, default_value_t = 100)]
        train_per_class: usize,
        #[arg(long, default_value_t = 20)]
        val_per_class: usize,
        #[arg(long, default_value_t = 50)]
        test: usize,
        #[arg(long, default_value_t = 32)]
        size: u32,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Where and how tensors compute.
#[derive(Args, Clone)]
struct DeviceArgs {
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
    /// libtorch CPU threads.
    #[arg(long)]
    threads: Option<usize>,
    /// bf16 autocast on CUDA.
    #[arg(long)]
    bf16: bool,
    /// Channels-last (NHWC) images and weights.
    #[arg(long)]
    channels_last: bool,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// `imagefolder:PATH`, `tiny:PATH` (Tiny ImageNet), `tiny-names:PATH` (with words.txt names),
    /// `fashion-mnist` or `fashion-mnist:DIR`.
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Resize images to SIZE×SIZE (0 = keep).
    #[arg(long, default_value_t = 0)]
    size: u32,
    /// 1 (grayscale) or 3 (RGB); default: the source's.
    #[arg(long)]
    channels: Option<u8>,
    /// Keep the first N classes.
    #[arg(long)]
    classes: Option<usize>,
    /// Keep N training images per class.
    #[arg(long)]
    train_per_class: Option<usize>,
    /// Keep N validation images per class.
    #[arg(long)]
    val_per_class: Option<usize>,
    /// Error on any bad file instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// Skip images with more pixels (width × height) than this, before decoding them
    /// (default 178956970, Pillow's decompression-bomb limit).
    #[arg(long)]
    max_image_pixels: Option<u64>,
    /// Memory the decoded images may take, e.g. 8G or 512M (default: half of the available memory).
    #[arg(long, value_parser = parse_bytes)]
    memory_budget: Option<u64>,
    /// Cache directory (default $CONVLAB_CACHE or ~/.cache/convlab).
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// `8G`, `512M`, `100k` or a number of bytes (decimal units, as `df -H`; `GiB`-style binary units too).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}`: expected a size such as 8G, 512M or 1000000"))?;
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
    if !(bytes >= 1.0 && bytes < 1.8e19) {
        return Err(format!("`{s}`: must be at least one byte"));
    }
    Ok(bytes as u64)
}

impl DataArgs {
    fn config(&self) -> anyhow::Result<DataConfig> {
        let source: Source = self.data.parse().map_err(|e: anyhow::Error| anyhow::anyhow!("--{e}"))?;
        Ok(DataConfig {
            image_size: self.size,
            channels: self.channels,
            classes: self.classes,
            train_per_class: self.train_per_class,
            val_per_class: self.val_per_class,
            strict: self.strict,
            max_image_pixels: self.max_image_pixels,
            memory_budget: self.memory_budget,
            cache_dir: self.cache.clone(),
            ..DataConfig::new(source)
        })
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Experiment name: results go to RUNS/NAME/.
    #[arg(long)]
    name: String,
    /// Model preset: resnet18, xknet18, resnet14, resnet34.
    #[arg(long, default_value = "xknet18")]
    preset: String,
    #[command(flatten)]
    data: DataArgs,
    /// Normalization: batch, instance, instance-affine, group:G, none.
    #[arg(long)]
    norm: Option<String>,
    /// Dropout probability before the classifier.
    #[arg(long)]
    dropout: Option<f64>,
    /// Plain stacked convolutions: no shortcut connections.
    #[arg(long)]
    no_residual: bool,
    /// Base width (64 = resnet18; 32 = the half-width study).
    #[arg(long)]
    width: Option<i64>,
    /// Blocks per stage, e.g. 2,2,2,2.
    #[arg(long)]
    blocks: Option<String>,
    /// Stem: image-net (7×7/2 + max-pool) or small (3×3/1).
    #[arg(long)]
    stem: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    momentum: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    #[arg(long)]
    nesterov: bool,
    /// constant, step:EPOCHS:GAMMA, cosine[:MIN_LR].
    #[arg(long)]
    schedule: Option<String>,
    /// Epochs of linear learning-rate warm-up.
    #[arg(long)]
    warmup: Option<f64>,
    /// Horizontal and vertical flip probability (the study: 0.05, 0.1).
    #[arg(long)]
    flips: Option<f64>,
    #[arg(long)]
    hflip: Option<f64>,
    #[arg(long)]
    vflip: Option<f64>,
    /// Random-crop padding in pixels.
    #[arg(long)]
    crop_pad: Option<i64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Several seeds, e.g. 1,2,3 (mean ± std in the summary).
    #[arg(long)]
    seeds: Option<String>,
    #[command(flatten)]
    hw: DeviceArgs,
    /// Continue an unfinished run.
    #[arg(long)]
    resume: bool,
    /// Retrain even if a run with this name exists.
    #[arg(long)]
    force: bool,
    #[arg(long, default_value = "runs")]
    runs: PathBuf,
}

fn parse_norm(s: &str) -> anyhow::Result<Norm> {
    Ok(match s {
        "batch" => Norm::Batch,
        "instance" => Norm::Instance { affine: false },
        "instance-affine" => Norm::Instance { affine: true },
        "none" => Norm::None,
        g if g.starts_with("group:") => Norm::Group { groups: g[6..].parse().with_context(|| format!("--norm `{s}`: groups must be a number"))? },
        _ => bail!("--norm `{s}`: expected batch, instance, instance-affine, group:G or none"),
    })
}

fn parse_list<T: std::str::FromStr>(s: &str, what: &str) -> anyhow::Result<Vec<T>> {
    s.split(',').map(|v| v.trim().parse::<T>().map_err(|_| anyhow::anyhow!("{what} `{s}`: `{v}` is not a number"))).collect()
}

impl TrainArgs {
    fn config(&self, data: &Dataset) -> anyhow::Result<RunConfig> {
        let mut model = ResNetConfig::preset(&self.preset)?;
        let [c, _, _] = data.shape();
        model.in_channels = c;
        model.num_classes = data.num_classes() as i64;
        if let Some(n) = &self.norm {
            model.norm = parse_norm(n)?;
        }
        if let Some(p) = self.dropout {
            model.dropout = p;
        }
        if self.no_residual {
            model.residual = false;
        }
        if let Some(w) = self.width {
            model.width = w;
        }
        if let Some(b) = &self.blocks {
            let v: Vec<usize> = parse_list(b, "--blocks")?;
            model.blocks = v.try_into().map_err(|v: Vec<usize>| anyhow::anyhow!("--blocks `{b}`: expected 4 numbers, got {}", v.len()))?;
        }
        if let Some(s) = &self.stem {
            model.stem = match s.as_str() {
                "image-net" | "imagenet" => Stem::ImageNet,
                "small" => Stem::Small,
                _ => bail!("--stem `{s}`: expected image-net or small"),
            };
        }
        let d = TrainConfig::default();
        let mut augment = Augment::default();
        if let Some(p) = self.flips {
            augment = Augment::flips(p);
        }
        augment.hflip = self.hflip.unwrap_or(augment.hflip);
        augment.vflip = self.vflip.unwrap_or(augment.vflip);
        augment.crop_pad = self.crop_pad.unwrap_or(0);
        let train = TrainConfig {
            epochs: self.epochs.unwrap_or(d.epochs),
            batch_size: self.batch_size.unwrap_or(d.batch_size),
            lr: self.lr.unwrap_or(d.lr),
            momentum: self.momentum.unwrap_or(d.momentum),
            weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
            nesterov: self.nesterov,
            schedule: match &self.schedule {
                Some(s) => s.parse::<Schedule>().map_err(anyhow::Error::msg)?,
                None => d.schedule,
            },
            warmup_epochs: self.warmup.unwrap_or(0.0),
            seed: self.seed.unwrap_or(d.seed),
            device: self.hw.device.parse::<Device>()?,
            threads: self.hw.threads,
            bf16: self.hw.bf16,
            channels_last: self.hw.channels_last,
            augment,
        };
        model.validate()?;
        train.validate().map_err(anyhow::Error::msg)?;
        Ok(RunConfig { model, data: data.config.clone(), train })
    }
}

#[derive(Args)]
struct PredictArgs {
    /// A run directory (RUNS/NAME/seed-S) or an experiment directory (its first seed).
    run: PathBuf,
    /// Split to predict: test or val.
    #[arg(long, default_value = "test")]
    split: String,
    /// Output file (default: RUN/<split>.txt).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Args)]
struct PlotArgs {
    /// Run or experiment directories.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Output file, .svg or .png.
    #[arg(long, short)]
    out: PathBuf,
    /// Figure title.
    #[arg(long, default_value = "")]
    title: String,
}

/// A run directory, or the seed runs inside an experiment directory.
fn run_dirs(p: &PathBuf) -> anyhow::Result<Vec<PathBuf>> {
    if p.join("history.csv").exists() {
        return Ok(vec![p.clone()]);
    }
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| format!("{}: not a run or experiment directory", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("history.csv").exists())
        .collect();
    seeds.sort();
    anyhow::ensure!(!seeds.is_empty(), "{}: no runs (no history.csv) inside", p.display());
    Ok(seeds)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Paths in messages: relative to the working directory, the home directory as `~`.
    let paths = convlab::paths::PathStyle::from_env(&std::env::current_dir().unwrap_or_default());
    match cli.command {
        Command::Data(DataCommand::Prepare(args)) => {
            let ds = Dataset::load(&args.config()?)?;
            println!("{}", ds.summary(&paths));
            println!("cache: {}", ds.cache_path.display());
        }
        Command::Data(DataCommand::Inspect(args)) => {
            let ds = Dataset::load(&args.config()?)?;
            println!("{}", ds.summary(&paths));
            let counts = ds.train.class_counts(ds.num_classes());
            let vcounts = ds.val.class_counts(ds.num_classes());
            println!("{:>5}  {:<30} {:>7} {:>7}", "label", "class", "train", "val");
            for (i, c) in ds.classes.iter().enumerate() {
                println!("{i:>5}  {c:<30} {:>7} {:>7}", counts[i], vcounts[i]);
            }
            for s in &ds.skipped {
                println!("skipped {}: {}", s.path.display(), s.reason);
            }
        }
        Command::Data(DataCommand::Export { data, out }) => {
            let ds = Dataset::load(&data.config()?)?;
            let n = convlab::data::export_image_folder(&ds, &out)?;
            println!("wrote {n} images to {}", out.display());
        }
        Command::Data(DataCommand::Synth { out, classes, train_per_class, val_per_class, test, size, seed }) => {
            let cfg = SynthConfig { classes, train_per_class, val_per_class, test, size, seed, mixed_formats: true };
            synthetic::write_image_folder(&out, &cfg)?;
            println!("wrote {} ({classes} classes, {size}×{size})", out.display());
        }
        Command::Train(args) => {
            let data = Dataset::load(&args.data.config()?)?;
            eprintln!("{}", data.summary(&paths));
            let config = args.config(&data)?;
            let mut exp = Experiment::new(&args.name, config);
            if let Some(s) = &args.seeds {
                exp.seeds = parse_list(s, "--seeds")?;
            }
            let opts = RunOptions { resume: args.resume, force: args.force, progress: true, paths: paths.clone(), ..Default::default() };
            let (summary, _) = exp.run(&args.runs, &data, &opts)?;
            println!(
                "{}: best val acc {:.4} ± {:.4} over {} seed(s) → {}",
                summary.name,
                summary.best_val_acc_mean,
                summary.best_val_acc_std,
                summary.seeds.len(),
                args.runs.join(&args.name).display()
            );
        }
        Command::Predict(args) => {
            let dir = run_dirs(&args.run)?.remove(0);
            let run = Run::open(&dir)?;
            let data = Dataset::load(&run.config.data)?;
            let split = match args.split.as_str() {
                "test" => data.test.as_ref().with_context(|| format!("the dataset of {} has no test split", dir.display()))?,
                "val" => &data.val,
                s => bail!("--split `{s}`: expected test or val"),
            };
            let device = args.device.parse::<Device>()?.resolve()?;
            let (_vs, net) = run.load_best(device)?;
            let predicted = predict(&net, split, &data.stats, &run.config.train, device);
            let out = args.out.unwrap_or_else(|| dir.join(format!("{}.txt", args.split)));
            write_predictions(&out, &split.files, &predicted, &data.classes)?;
            println!("wrote {} ({} predictions)", out.display(), predicted.len());
        }
        Command::Runs { runs } => {
            let all = list_runs(&runs)?;
            if all.is_empty() {
                println!("no finished experiments under {}", runs.display());
            }
            println!("{:<28} {:>5} {:>16} {:>6} {:>11} {:>9} {:>8}", "experiment", "seeds", "best val acc", "epoch", "params", "minutes", "img/s");
            for s in all {
                let r0 = &s.runs[0];
                let minutes = s.runs.iter().map(|r| r.wall_seconds).sum::<f64>() / 60.0;
                println!(
                    "{:<28} {:>5} {:>8.4} ± {:.4} {:>6} {:>11} {:>9.1} {:>8.0}",
                    s.name,
                    s.seeds.len(),
                    s.best_val_acc_mean,
                    s.best_val_acc_std,
                    r0.best_epoch,
                    r0.parameters,
                    minutes,
                    r0.images_per_s
                );
            }
        }
        Command::Study(args) => {
            if let Some(p) = &args.profile {
                // SAFETY: single-threaded at this point; read back by Profile::from_env.
                unsafe { std::env::set_var("CONVLAB_PROFILE", p) };
            }
            if let Some(s) = &args.seeds {
                unsafe { std::env::set_var("CONVLAB_SEEDS", s) };
            }
            let mut study = convlab::study::Study::from_env()?;
            // A command logs on stderr (a progress bar on a terminal); results go to stdout.
            study.options.log = convlab::train::LogTo::Stderr;
            eprintln!("profile {}: {}", study.profile.name.as_str(), study.data.summary(&paths));
            let keys: Vec<String> = if args.sections.is_empty() {
                convlab::study::SECTIONS.iter().map(|s| s.key.to_string()).collect()
            } else {
                args.sections.clone()
            };
            if args.list {
                for key in &keys {
                    let s = convlab::study::section(key)?;
                    println!("{} — {}", s.key, s.title);
                    for v in s.variants {
                        let c = study.config(v);
                        println!("  {:<18} {:<36} {}", v.key, v.label, serde_json::to_string(&(&c.model, &c.train))?);
                    }
                }
                return Ok(());
            }
            let t0 = std::time::Instant::now();
            for key in &keys {
                let result = study.run_section(key)?;
                let written = study.export(&result)?;
                println!("{}\n{}\n{}\n{written}", result.section.title, result.table()?, result.conclusion());
            }
            println!("study ({} sections, profile {}) done in {:.1} min", keys.len(), study.profile.name.as_str(), t0.elapsed().as_secs_f64() / 60.0);
        }
        Command::Bench(args) => {
            let source = args.data.as_deref().map(str::parse::<Source>).transpose()?;
            let name: convlab::study::ProfileName = args.profile.parse()?;
            if name == convlab::study::ProfileName::Full && source.is_none() {
                bail!("`convlab bench --profile full` needs data: --data imagefolder:PATH or tiny:PATH (bench/gpu.sh writes a synthetic tree)");
            }
            let profile = convlab::study::Profile::named(name, source.clone(), None)?;
            profile.prepare_data()?;
            let mut data_cfg = profile.data.clone();
            if let Some(source) = source {
                let d = &profile.data;
                data_cfg = DataConfig {
                    image_size: if args.size > 0 { args.size } else { d.image_size },
                    channels: args.channels.or(d.channels),
                    ..DataConfig::new(source)
                };
            }
            if args.train_per_class.is_some() {
                data_cfg.train_per_class = args.train_per_class;
            }
            if args.cache.is_some() {
                data_cfg.cache_dir = args.cache.clone();
            }
            let data = Dataset::load(&data_cfg)?;
            let [c, h, _] = data.shape();
            let mut model = ResNetConfig::preset(&args.preset)?;
            model.width = args.width.unwrap_or(profile.width);
            model.in_channels = c;
            model.num_classes = data.num_classes() as i64;
            let train = TrainConfig {
                lr: 1e-3 * profile.lr_scale,
                device: args.hw.device.parse()?,
                threads: args.hw.threads,
                bf16: (args.hw.bf16 || profile.bf16) && !args.fp32,
                channels_last: (args.hw.channels_last || profile.channels_last) && !args.nchw,
                ..TrainConfig::default()
            };
            // bf16 only takes effect on CUDA, so only there does the name say so.
            let bf16 = train.bf16 && train.device.resolve().is_ok_and(|d| d.is_cuda());
            let cfg = convlab::bench::BenchConfig {
                name: format!(
                    "{} w{} {h}px{}{}",
                    args.preset,
                    model.width,
                    if train.channels_last { " NHWC" } else { "" },
                    if bf16 { " bf16" } else { "" }
                ),
                model,
                size: h,
                batch_size: args.batch_size,
                steps: args.steps,
                warmup: args.warmup,
                epochs: args.epochs,
                train,
            };
            let r = convlab::bench::run(&cfg, Some(&data))?;
            println!("{}\n{}", convlab::bench::BenchResult::HEADER, r.row());
            if let Some(p) = &args.json {
                convlab::io::write_json(p, &r)?;
            }
        }
        Command::Notebooks(args) => notebooks(&args, &paths)?,
        Command::Plot(args) => {
            let mut curves = Vec::new();
            for p in &args.runs {
                for dir in run_dirs(p)? {
                    let run = Run::open(&dir)?;
                    let label = dir.strip_prefix(p.parent().unwrap_or(p)).unwrap_or(&dir).display().to_string();
                    curves.push(Curve::from_history(&label, &run.history));
                }
            }
            Figure::curves(&args.title, curves).save(&args.out)?;
            println!("wrote {}", args.out.display());
        }
    }
    Ok(())
}
