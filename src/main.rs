//! `convlab` — prepare data, train, predict, list runs, plot curves, run the study.
//! Argument definitions and one short function per subcommand; the work is the library's
//! (the shared argument groups and their conversions: `convlab::cli`).
use clap::{Args, Parser, Subcommand};
use convlab::cli::{
    BenchArgs, DataArgs, DeviceArgs, InspectArgs, ModelArgs, RecipeArgs, SettingsArgs, SlurmArgs,
};
use convlab::data::{Dataset, SplitName, SynthConfig, synthetic, synthetic::SynthLayout};
use convlab::device::Device;
use convlab::grid;
use convlab::paths::PathStyle;
use convlab::plan::{Plan, Section};
use convlab::settings::Settings;
use convlab::study::Study;
use convlab::table::Show;
use convlab::train::{
    Experiment, LogTo, Run, RunConfig, RunOptions, list_runs, predict, write_predictions,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "convlab",
    version,
    about = "Convolutional-network studies on small image datasets"
)]
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
        /// Instead: write the TensorBoard events every run under RUNS lacks, from its history.csv
        /// (runs recorded before convlab wrote them), and list the runs it wrote them for.
        #[arg(long)]
        tensorboard: bool,
    },
    /// Loss and accuracy curves of one or more runs, as SVG or PNG.
    Plot(PlotArgs),
    /// Replay a recorded run's first epochs from scratch, in memory: each step's lr, loss and
    /// gradient norm as CSV (why did it stall?). Nothing is written to the run.
    Trace(TraceArgs),
    /// Run a study — the paper's, or a plan file's (--plan) — under a profile as a grid of
    /// units, and export its tables and figures.
    Study(StudyArgs),
    /// Sweep overrides of a base variant: a one-section study whose reference is the first
    /// value, e.g. `convlab sweep --base xknet18 train.weight_decay=0,1e-4,5e-4`.
    Sweep(SweepArgs),
    /// Every key an override can set (`model.*`, `train.*`), with its value in the paper's
    /// recipe (or a variant's) and whether a profile scales it.
    Keys(KeysArgs),
    /// Write the study as a document (Markdown or LaTeX) from the stored runs, its tables as CSV;
    /// trains nothing.
    Report(ReportArgs),
    /// Throughput: train step, libtorch's raw step, evaluation, an epoch with the loader.
    Bench(BenchArgs),
    /// What this machine gives convlab: libtorch's version and path, CUDA and cuDNN, the
    /// device a study would use, threads, one training step timed on each device present.
    /// Exits 1 when the configured device is absent.
    Doctor {
        /// The device to check for (default: $CONVLAB_DEVICE, convlab.toml, else auto).
        #[arg(long, value_enum)]
        device: Option<Device>,
        /// Training steps timed per device (the median is shown).
        #[arg(long, default_value_t = 5)]
        steps: usize,
    },
    /// Write the study's notebooks from the sections (outputs of unchanged cells are kept), or
    /// check them.
    Notebooks(NotebooksArgs),
    /// Train exactly one unit (variant, seed) of a launched grid, resuming it from its checkpoint.
    RunUnit(RunUnitArgs),
    /// A grid worker: take units of a grid file until none is left (started by `study`).
    #[command(hide = true)]
    StudyWorker(WorkerArgs),
}

#[derive(Args)]
struct RunUnitArgs {
    /// The grid file a launch froze (RUNS/PROFILE/grids/grid-TIME-PID.json).
    #[arg(long)]
    grid: PathBuf,
    #[arg(long)]
    variant: String,
    #[arg(long)]
    seed: u64,
    /// libtorch threads (default: libtorch's).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct WorkerArgs {
    #[arg(long)]
    grid: PathBuf,
    #[arg(long)]
    threads: usize,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Decode and cache a dataset (a second run is near-instant).
    Prepare(DataArgs),
    /// Describe a dataset without decoding it: layout, classes, images per split and class, sizes
    /// and colour types, the test split, skipped files; with --profile, what that profile would
    /// take.
    Inspect(InspectArgs),
    /// Write a dataset's train and val splits as an ImageFolder tree of PNG files
    /// (e.g. a Fashion-MNIST slice for the PyTorch reference benchmark).
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// Where to write `train/<class>/*.png` and `val/<class>/*.png`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a seeded synthetic tree (for smoke runs, and for trying a layout): an ImageFolder
    /// tree, or Tiny ImageNet's published layout.
    Synth {
        /// Where to write the tree.
        #[arg(long)]
        out: PathBuf,
        /// image-folder or tiny-imagenet.
        #[arg(long, value_enum, default_value_t = SynthLayout::ImageFolder)]
        layout: SynthLayout,
        /// Test images in class folders (labelled) instead of a flat test/ (ImageFolder).
        #[arg(long)]
        labelled_test: bool,
        /// Mixed sizes (¾, 1, 1¼ of --size) and every third image grayscale.
        #[arg(long)]
        mixed: bool,
        #[arg(long, default_value_t = 10)]
        classes: usize,
        #[arg(long, default_value_t = 100)]
        train_per_class: usize,
        /// Validation images per class (0: no val/ folder).
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

#[derive(Args)]
struct TrainArgs {
    /// Experiment name: results go to RUNS/NAME/.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    recipe: RecipeArgs,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    hw: DeviceArgs,
    /// Several seeds, e.g. 1,2,3 (mean ± std in the summary; default: --seed).
    #[arg(long, value_delimiter = ',', conflicts_with = "seed")]
    seeds: Option<Vec<u64>>,
    /// Continue an unfinished run.
    #[arg(long)]
    resume: bool,
    /// Retrain even if a run with this name exists.
    #[arg(long)]
    force: bool,
    /// Also score the last epoch's weights on the (labelled) test split: `final_test_acc`.
    #[arg(long)]
    score_last_epoch: bool,
    #[arg(long, default_value = "runs")]
    runs: PathBuf,
}

#[derive(Args)]
struct PredictArgs {
    /// A run directory (RUNS/NAME/seed-S) or an experiment directory (its first seed).
    run: PathBuf,
    /// Split to predict.
    #[arg(long, value_enum, default_value_t = SplitName::Test)]
    split: SplitName,
    /// Output file (default: RUN/<split>.txt).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    device: Device,
}

#[derive(Args)]
struct TraceArgs {
    /// A run directory (RUNS/PROFILE/NAME/seed-S) or an experiment directory (its first seed).
    run: PathBuf,
    /// Epochs to replay.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Write the CSV here (default: standard output).
    #[arg(long, short)]
    out: Option<PathBuf>,
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

#[derive(Args)]
struct StudyArgs {
    /// A plan file (studies/NAME.toml): your own sections and variants (default: the paper's
    /// study). Its overrides are in the paper's units: train.epochs, train.lr, train.schedule's
    /// steps, train.warmup_epochs, train.batch_size and model.width are scaled by the profile.
    #[arg(long)]
    plan: Option<PathBuf>,
    #[command(flatten)]
    grid: GridArgs,
}

/// How a study's grid runs, and what to show instead of running it.
#[derive(Args)]
struct GridArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Sections to run (default: all of the plan's; the paper's are baseline, xknet18, width,
    /// augmentation, dropout, normalization, lr-decay, residual, depth).
    #[arg(long, value_delimiter = ',')]
    sections: Vec<String>,
    /// List the sections and their variants, with the run config of each, and stop.
    #[arg(long)]
    list: bool,
    /// List the units (variant × seed) as JSON lines — profile, variant, seed, state, run dir — and
    /// stop.
    #[arg(long, conflicts_with_all = ["list", "status"])]
    units: bool,
    /// Show every unit's state (done, running, failed, pending) and stop.
    #[arg(long, conflicts_with = "list")]
    status: bool,
    /// Worker processes (default: one per GPU × --jobs-per-gpu; on the CPU, 2).
    #[arg(long)]
    jobs: Option<usize>,
    /// Workers sharing each GPU.
    #[arg(long, default_value_t = 1)]
    jobs_per_gpu: usize,
    /// libtorch threads per worker (default: cores / workers).
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    slurm: SlurmArgs,
}

#[derive(Args)]
struct SweepArgs {
    /// The variant every value starts from: one of the paper's (xknet18, resnet18, …).
    #[arg(long, default_value = "xknet18")]
    base: String,
    /// Overrides KEY=A,B,C (every combination of the keys with several values; a key with one
    /// value applies to all). Values are in the paper's units: train.epochs, train.lr,
    /// train.schedule's steps, train.warmup_epochs, train.batch_size and model.width are
    /// scaled by the profile (`convlab keys` lists every key).
    #[arg(required = true, value_name = "KEY=VALUES")]
    overrides: Vec<String>,
    /// The study's name: its figures go to FIGURES/PROFILE/NAME/ (default: sweep-<keys>).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    grid: GridArgs,
}

#[derive(Args)]
struct KeysArgs {
    /// Show the values of this variant (one of the paper's, or of --plan's).
    #[arg(long, default_value = "xknet18")]
    variant: String,
    /// A plan file whose variants --variant may name.
    #[arg(long)]
    plan: Option<PathBuf>,
}

#[derive(Args)]
struct ReportArgs {
    /// A plan file (default: the paper's study).
    #[arg(long)]
    plan: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    /// md (`writeup.md`: Markdown, relative links to the figures) or latex (`writeup.tex`, for
    /// pdflatex).
    #[arg(long, value_enum, default_value = "md")]
    format: convlab::writeup::Format,
    /// Directory for the document and its `tables/` (default: the profile's figures directory,
    /// figures/<profile>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct NotebooksArgs {
    /// A plan file: write its notebooks (one per section and a summary) into DIR/NAME/.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Where the notebooks live.
    #[arg(long, default_value = "notebooks")]
    dir: PathBuf,
    /// Write nothing; list every difference between the notebooks and the generator, and fail if
    /// there is one.
    #[arg(long)]
    check: bool,
    /// Settings the notebooks run with (--profile, --data, --size, …): written as
    /// DIR[/NAME]/convlab.toml, which a notebook's kernel reads over the project's.
    #[command(flatten)]
    settings: SettingsArgs,
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

/// What every subcommand starts from: the settings below any flags, and paths shown
/// relative to the working directory (the home directory as `~`).
struct Edge {
    settings: Settings,
    paths: PathStyle,
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let flags = match &cli.command {
        Command::Study(a) => a.grid.settings.layer()?,
        Command::Sweep(a) => a.grid.settings.layer()?,
        Command::Report(a) => a.settings.layer()?,
        Command::Bench(a) => a.layer(),
        Command::Data(DataCommand::Inspect(a)) => a.layer()?,
        _ => Default::default(),
    };
    let settings = Settings::from_env_and(flags)?;
    let paths = PathStyle::new(std::env::current_dir().ok(), settings.home.clone());
    let edge = Edge { settings, paths };
    match cli.command {
        Command::Data(DataCommand::Prepare(args)) => data_prepare(&args, &edge),
        Command::Data(DataCommand::Inspect(args)) => data_inspect(&args, &edge),
        Command::Data(DataCommand::Export { data, out }) => data_export(&data, &out, &edge),
        Command::Data(DataCommand::Synth {
            out,
            layout,
            labelled_test,
            mixed,
            classes,
            train_per_class,
            val_per_class,
            test,
            size,
            seed,
        }) => {
            let cfg = SynthConfig {
                classes,
                train_per_class,
                val_per_class,
                test,
                size,
                seed,
                mixed_formats: true,
                layout,
                labelled_test,
                mixed,
            };
            synthetic::write(&out, &cfg)?;
            println!(
                "wrote {} ({classes} classes, {size}×{size}{})",
                edge.paths.show(&out),
                if mixed { ", mixed sizes and colours" } else { "" }
            );
            Ok(())
        }
        Command::Train(args) => train(&args, &edge),
        Command::Predict(args) => predict_split(&args, &edge),
        Command::Runs { runs, tensorboard: true } => {
            let written = convlab::train::tensorboard::backfill(&runs)?;
            for dir in &written {
                println!("events written for {}", edge.paths.show(dir));
            }
            println!(
                "{} run(s) under {} given TensorBoard events",
                written.len(),
                edge.paths.show(&runs)
            );
            Ok(())
        }
        Command::Runs { runs, .. } => {
            println!("{}", convlab::cli::runs_table(&list_runs(&runs)?, &runs, &edge.paths));
            Ok(())
        }
        Command::Plot(args) => {
            convlab::cli::curves_figure(&args.runs, &args.title)?.save(&args.out)?;
            println!("wrote {}", edge.paths.show(&args.out));
            Ok(())
        }
        Command::Trace(args) => trace(&args, &edge),
        Command::Study(args) => study(&args, &edge),
        Command::Sweep(args) => sweep(&args, &edge),
        Command::Keys(args) => keys(&args),
        Command::Report(args) => report(&args, &edge),
        Command::Bench(args) => bench(&args, &edge),
        Command::Doctor { device, steps } => {
            doctor(device.or(edge.settings.device).unwrap_or(Device::Auto), steps)
        }
        Command::Notebooks(args) => notebooks(&args, &edge),
        Command::RunUnit(args) => run_unit(&args, &edge),
        Command::StudyWorker(args) => study_worker(&args),
    }
}

fn data_prepare(args: &DataArgs, edge: &Edge) -> anyhow::Result<()> {
    let ds = Dataset::load(&args.config(&edge.settings)?)?;
    println!("{}", ds.summary(&edge.paths));
    for s in &ds.skipped {
        println!("skipped {}: {}", edge.paths.show(&s.path), s.reason);
    }
    println!("cache: {}", edge.paths.show(&ds.cache_path));
    Ok(())
}

fn data_inspect(args: &InspectArgs, edge: &Edge) -> anyhow::Result<()> {
    let inspection = convlab::data::inspect(&args.config(&edge.settings))?;
    println!("{}", convlab::cli::inspect(&inspection, &edge.paths, args.all_classes));
    if args.profile.is_some() {
        anyhow::ensure!(
            args.profile != Some(convlab::settings::ProfileName::Smoke),
            "--profile smoke trains on its own synthetic tree, not on this data: inspect with \
                --profile quick or --profile full"
        );
        let profile = convlab::plan::Profile::resolve(&edge.settings)?;
        println!("{}", convlab::plan::Intake::of(&profile, &inspection)?.lines().join("\n"));
    }
    Ok(())
}

fn data_export(args: &DataArgs, out: &std::path::Path, edge: &Edge) -> anyhow::Result<()> {
    let ds = Dataset::load(&args.config(&edge.settings)?)?;
    let n = convlab::data::export_image_folder(&ds, out)?;
    println!("wrote {n} images to {}", edge.paths.show(out));
    Ok(())
}

fn train(args: &TrainArgs, edge: &Edge) -> anyhow::Result<()> {
    let recipe = convlab::cli::train_recipe(&args.model, &args.recipe, &args.hw)?;
    let data = Dataset::load(&args.data.config(&edge.settings)?)?;
    eprintln!("{}", data.summary(&edge.paths));
    let mut exp =
        Experiment::new(&args.name, RunConfig::for_data(recipe.model, recipe.train, &data));
    if let Some(seeds) = &args.seeds {
        exp.seeds = seeds.clone();
    }
    let opts = RunOptions {
        resume: args.resume,
        force: args.force,
        progress: true,
        paths: edge.paths.clone(),
        score_last_epoch: args.score_last_epoch,
        ..Default::default()
    };
    let (summary, _) = exp.run(&args.runs, &data, &opts)?;
    println!(
        "{}: best val acc {:.4} ± {:.4} over {} seed(s) → {}",
        summary.name,
        summary.best_val_acc_mean,
        summary.best_val_acc_std,
        summary.seeds.len(),
        edge.paths.show(&args.runs.join(&args.name))
    );
    Ok(())
}

fn trace(args: &TraceArgs, edge: &Edge) -> anyhow::Result<()> {
    let dir = convlab::cli::run_dirs(&args.run)?.remove(0);
    let run = Run::open(&dir)?;
    let data = Dataset::load(&edge.settings.data_config(run.config.data.clone()))?;
    let steps = convlab::train::trace(&run.config, &data, args.epochs)?;
    let csv = convlab::cli::trace_csv(&steps);
    match &args.out {
        Some(p) => {
            convlab::io::write_bytes(p, csv.as_bytes())?;
            println!("wrote {} ({} steps)", edge.paths.show(p), steps.len());
        }
        None => print!("{csv}"),
    }
    // The replay is the run: its epochs' training loss is the record's.
    for (epoch, recorded) in run.history.iter().take(args.epochs).enumerate() {
        let (loss, n) = steps
            .iter()
            .filter(|s| s.epoch == epoch + 1)
            .fold((0.0, 0usize), |(l, n), s| (l + s.loss * s.images as f64, n + s.images));
        eprintln!(
            "epoch {}: training loss {:.6} replayed, {:.6} recorded",
            epoch + 1,
            loss / n.max(1) as f64,
            recorded.train_loss
        );
    }
    Ok(())
}

fn predict_split(args: &PredictArgs, edge: &Edge) -> anyhow::Result<()> {
    let dir = convlab::cli::run_dirs(&args.run)?.remove(0);
    let run = Run::open(&dir)?;
    let data = Dataset::load(&edge.settings.data_config(run.config.data.clone()))?;
    let split = data.split(args.split)?;
    let device = args.device.resolve()?;
    let (_vs, net) = run.load_best(device)?;
    let predicted = predict(&net, split, &data.stats, &run.config.train, device)?;
    let out = args.out.clone().unwrap_or_else(|| dir.join(format!("{}.txt", args.split.as_str())));
    write_predictions(&out, &split.files, &predicted, &data.classes)?;
    println!("wrote {} ({} predictions)", edge.paths.show(&out), predicted.len());
    Ok(())
}

fn study(args: &StudyArgs, edge: &Edge) -> anyhow::Result<()> {
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    run_study(&args.grid, plan, edge)
}

fn sweep(args: &SweepArgs, edge: &Edge) -> anyhow::Result<()> {
    let plan = convlab::cli::sweep_plan(&args.base, &args.overrides, args.name.as_deref())?;
    run_study(&args.grid, Some(plan), edge)
}

fn keys(args: &KeysArgs) -> anyhow::Result<()> {
    let plan = match &args.plan {
        Some(p) => Plan::load(p)?,
        None => Plan::paper(),
    };
    print!("{}", convlab::cli::keys_table(&plan, &args.variant)?);
    Ok(())
}

/// A study's grid (the paper's plan when `plan` is none): its units trained by local
/// workers or Slurm tasks, then each section's table, conclusion and figures.
fn run_study(args: &GridArgs, plan: Option<Plan>, edge: &Edge) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gpus = grid::visible_gpus(&edge.settings)?;
    let slots = grid::plan_workers(
        args.jobs,
        args.jobs_per_gpu,
        args.threads,
        cores,
        &gpus,
        grid::CPU_DEFAULT_JOBS,
    )?;
    // Slurm's options and client commands are checked before anything loads.
    let slurm = args.slurm.slurm.then(|| slurm_setup(&args.slurm)).transpose()?;
    let mut study = Study::open(&edge.settings)?;
    if let Some(plan) = plan {
        study = study.with_plan(plan)?;
    }
    let sections: Vec<Section> = if args.sections.is_empty() {
        study.plan.sections.clone()
    } else {
        args.sections
            .iter()
            .map(|k| study.find_section(k).cloned())
            .collect::<anyhow::Result<_>>()?
    };
    let sections: Vec<&Section> = sections.iter().collect();
    // A command logs on stderr and shows paths as the shell sees them; results go to stdout.
    study.options.log = LogTo::Stderr;
    study.options.paths = edge.paths.clone();
    // What the study takes from its data and how it scores it, before anything else.
    eprintln!("{}", study.data_use(&sections)?.lines(&edge.paths).join("\n"));
    let how = if study.data.from_cache { "from cache" } else { "decoded" };
    eprintln!(
        "  cache: {}; {how} in {:.2} s",
        edge.paths.show(&study.data.cache_path),
        study.data.seconds
    );
    if args.list {
        println!("{}", study.list(&sections)?);
        return Ok(());
    }
    if args.units {
        for line in grid::unit_lines(&study, &sections)? {
            println!("{}", serde_json::to_string(&line)?);
        }
        return Ok(());
    }
    let progress = study.look_progress()?;
    if args.status {
        if let Some(p) = &progress {
            println!("{}", p.line(next_look_seeds(&study, p)));
        }
        println!("{}", grid::status_text(&study, &sections)?);
        return Ok(());
    }
    if let Some((opts, max_array)) = slurm
        && !progress.as_ref().is_some_and(|p| p.finished)
    {
        grid::check_units(&study, &sections)?;
        let judged = progress.as_ref().map(|p| p.judged);
        return submit_to_slurm(
            args.slurm.dry_run,
            &opts,
            max_array,
            &study,
            &sections,
            judged,
            edge,
        );
    }
    let t0 = std::time::Instant::now();
    let mut outcome = grid::GridOutcome { finished: 0, failed: vec![], lost_workers: vec![] };
    // A sequential study runs look after look while a comparison is open; a fixed one once.
    let mut progress = progress;
    loop {
        if let Some(p) = &progress {
            eprintln!("{}", p.line(next_look_seeds(&study, p)));
            if p.finished {
                break;
            }
        }
        // Only what runs is checked for what libtorch can train (a forced channels-last, say).
        grid::check_units(&study, &sections)?;
        let grid_file = grid::Grid::path(&study);
        grid::Grid::new(&edge.settings, &study, &sections).freeze(&grid_file)?;
        let before = progress.as_ref().map(|p| (p.judged, p.decided));
        let exe = grid::worker_exe()?;
        let bar = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let look =
            grid::launch(&exe, &grid_file, &study, &sections, &slots, bar, |l| eprintln!("{l}"))?;
        outcome.finished += look.finished;
        outcome.failed.extend(look.failed);
        outcome.lost_workers.extend(look.lost_workers);
        progress = study.look_progress()?;
        let after = progress.as_ref().map(|p| (p.judged, p.decided));
        // Stop on a failure, and where a look could not advance (its units held elsewhere,
        // or sections left out of this launch): nothing is retried in a loop.
        if before.is_none() || !outcome.failed.is_empty() || !outcome.lost_workers.is_empty() {
            break;
        }
        if before == after {
            eprintln!("the look did not advance: some of its units are not done (see --status)");
            break;
        }
    }
    let summarised = summarise(&study, &sections)?;
    let complete = summarised.len() == study.plan.sections.len() && outcome.failed.is_empty();
    if !study.plan.is_paper() && complete {
        // Your own study ends with its write-up (the paper's is `convlab report`, after its
        // notebooks).
        println!("{}", study.write_up(convlab::writeup::Format::Md, None)?);
    }
    if study.plan.is_paper() && complete {
        // After the grid, alone on the machine: the probes are stored; the depth benchmark runs
        // here.
        let family = study.family()?;
        let answers = convlab::paper::answer_all(&study, &summarised)?;
        println!("\nThe paper's open questions\n\n{}", answers.conclusions());
        println!(
            "\nThe {} profile against the paper\n\n{}",
            study.profile.name.as_str(),
            convlab::paper::fidelity_markdown(&answers.fidelity(&family))
        );
    }
    println!(
        "study {} ({} sections, profile {}) done in {:.1} min",
        study.plan.name,
        sections.len(),
        study.profile.name.as_str(),
        t0.elapsed().as_secs_f64() / 60.0
    );
    outcome.into_result()
}

/// Seeds a side the next look of a sequential study runs, while one is to run.
fn next_look_seeds(study: &Study, p: &convlab::analysis::LookProgress) -> Option<usize> {
    (!p.finished).then(|| study.looks().map(|l| l.seeds[p.judged])).flatten()
}

/// Each finished section's table, conclusion and figures, then the family's verdicts.
fn summarise(
    study: &Study,
    sections: &[&Section],
) -> anyhow::Result<Vec<convlab::analysis::SectionResult>> {
    let mut summarised = Vec::new();
    for s in sections {
        if let Some(missing) = grid::missing_units(study, s)? {
            println!("{}: not summarised, {missing}", s.key);
            continue;
        }
        let result = study.run_section(&s.key)?;
        let written = study.export(&result)?;
        println!(
            "{}\n{}\n{}\n{written}",
            result.section.title,
            result.seed_table()?.show().text(),
            result.conclusion()
        );
        summarised.push(result);
    }
    let family = study.family()?;
    println!(
        "The study's {} comparisons, {}: {}",
        family.comparisons.len(),
        family.method(),
        family.tally()
    );
    let table = convlab::table::Table {
        name: "comparisons".into(),
        header: ["section", "variant", "reference", "result"].map(String::from).to_vec(),
        rows: family
            .comparisons
            .iter()
            .map(|c| {
                let (v, r) = (&c.variant.variant.key, &c.reference.variant.key);
                vec![c.section.clone(), v.clone(), r.clone(), c.describe()]
            })
            .collect(),
    };
    println!("{}", table.text());
    Ok(summarised)
}

/// The submission's options and the cluster's MaxArraySize (Slurm's default, 1001, for a dry run
/// without Slurm).
fn slurm_setup(args: &SlurmArgs) -> anyhow::Result<(convlab::grid::slurm::SlurmOptions, usize)> {
    let opts = args.options()?;
    let max_array = match convlab::grid::slurm::max_array_size() {
        Ok(n) => n,
        Err(_) if args.dry_run => 1001,
        Err(e) => return Err(e),
    };
    Ok((opts, max_array))
}

fn submit_to_slurm(
    dry_run: bool,
    opts: &convlab::grid::slurm::SlurmOptions,
    max_array: usize,
    study: &Study,
    sections: &[&Section],
    judged: Option<usize>,
    edge: &Edge,
) -> anyhow::Result<()> {
    use convlab::grid::slurm;
    // The job after a look: that look's units did not all finish (failed, cancelled).
    if let Some(k) = judged
        && std::env::var("CONVLAB_AFTER_LOOK").ok() == Some(k.to_string())
    {
        anyhow::bail!(
            "look {} did not finish: some of its units failed or were cancelled (convlab study \
                --status); not resubmitted — fix them, then run this command again",
            k + 1
        );
    }
    let pending: Vec<_> = grid::longest_first(study, study.units(sections))
        .into_iter()
        .filter(|u| matches!(grid::unit_state(study, u), Ok(s) if s.name() == "pending" || s.name() == "failed"))
        .collect();
    if pending.is_empty() {
        println!("nothing to submit: every unit is done or running (see `convlab study --status`)");
        return Ok(());
    }
    let grid_file = grid::Grid::path(study);
    grid::Grid::new(&edge.settings, study, sections).freeze(&grid_file)?;
    let exe = std::env::current_exe()?;
    let name = format!("convlab-{}-{}", study.profile.name.as_str(), study.plan.name);
    let scripts = slurm::write_scripts(
        &exe,
        &grid_file,
        &study.runs_dir.join("slurm"),
        &name,
        &pending,
        opts,
        max_array,
    )?;
    let mut jobs = Vec::new();
    for (path, text) in &scripts {
        if dry_run {
            println!("# {}\n{text}", edge.paths.show(path));
        } else {
            let job = slurm::submit(path)?;
            let n = text.lines().filter(|l| l.starts_with("  \"")).count();
            println!("submitted array job {job}: {n} unit(s), script {}", edge.paths.show(path));
            jobs.push(job);
        }
    }
    if let Some(k) = judged {
        // A sequential study: a job after this look's arrays judges it and goes on.
        let mut command: Vec<String> = std::env::args().collect();
        command[0] = exe.display().to_string();
        let after = if dry_run { vec!["<array job>".to_string()] } else { jobs };
        let text = slurm::next_look_script(
            &command,
            &std::env::current_dir()?,
            &study.runs_dir.join("slurm"),
            &name,
            &after,
            k,
            opts,
        );
        let path = study.runs_dir.join("slurm").join(format!("next-look-{}.sbatch", k + 1));
        convlab::io::write_bytes(&path, text.as_bytes())?;
        if dry_run {
            println!("# {}\n{text}", edge.paths.show(&path));
        } else {
            let job = slurm::submit(&path)?;
            println!("submitted job {job}: look {} judged when its units end", k + 1);
        }
    }
    if !dry_run {
        println!(
            "watch: convlab study --status (or squeue); task logs in {}",
            edge.paths.show(&study.runs_dir.join("slurm"))
        );
    }
    Ok(())
}

fn run_unit(args: &RunUnitArgs, edge: &Edge) -> anyhow::Result<()> {
    let g = grid::Grid::load(&args.grid)?;
    let mut study = grid::open_grid(&g, args.threads)?;
    study.options.log = LogTo::Stderr;
    study.options.paths = edge.paths.clone();
    study.options.stop = Some(convlab::signals::stop_on_term_and_usr1());
    let unit = grid::unit(&study, &args.variant, args.seed)?;
    let started = match grid::run_unit(&study, &unit, convlab::train::WhenBusy::Wait) {
        Err(e) if convlab::train::is_stop(&e) => return stopped_unit(&e, &edge.settings),
        other => other?,
    };
    match started {
        convlab::train::Started::Finished(run) => {
            let acc = run.summary.as_ref().map_or(f64::NAN, |s| s.best_val_acc);
            println!(
                "{} seed {}: best val acc {acc:.4} → {}",
                args.variant,
                args.seed,
                edge.paths.show(&unit.dir)
            );
        }
        convlab::train::Started::Busy(info) => {
            println!("{} seed {}: held by {}", args.variant, args.seed, info.describe())
        }
    }
    Ok(())
}

/// A unit stopped by a signal. Under Slurm, SIGUSR1 is the warning before the time limit
/// (or a preemption notice): requeue this array task, which resumes the unit. SIGTERM (a
/// cancel) only stops it: its lease is released, nothing is requeued.
fn stopped_unit(e: &anyhow::Error, settings: &Settings) -> anyhow::Result<()> {
    let signal = convlab::signals::received().unwrap_or("a signal");
    match (&settings.slurm_job, signal) {
        (Some(task), "SIGUSR1") => {
            eprintln!("{e}; requeueing Slurm task {task}");
            convlab::grid::slurm::requeue(task)
        }
        _ => Err(anyhow::anyhow!("{e} ({signal})")),
    }
}

fn study_worker(args: &WorkerArgs) -> anyhow::Result<()> {
    let g = grid::Grid::load(&args.grid)?;
    let mut study = grid::open_grid(&g, Some(args.threads))?;
    study.options.stop = Some(convlab::signals::stop_on_term_and_usr1());
    study.options.log = LogTo::Stderr;
    study.options.progress = false;
    grid::work(&study, &g, |event| {
        println!("{}", serde_json::to_string(&event).expect("worker events serialize"))
    })
}

fn report(args: &ReportArgs, edge: &Edge) -> anyhow::Result<()> {
    let mut study = Study::open(&edge.settings)?;
    if let Some(p) = &args.plan {
        study = study.with_plan(Plan::load(p)?)?;
    }
    study.options.paths = edge.paths.clone();
    println!("{}", study.write_up(args.format, args.out.as_deref())?);
    Ok(())
}

fn doctor(device: Device, steps: usize) -> anyhow::Result<()> {
    let checkup = convlab::doctor::Checkup::run(device, steps.max(1));
    println!("{}", checkup.lines().join("\n"));
    match checkup.problem() {
        Some(p) => anyhow::bail!(p),
        None => Ok(()),
    }
}

fn bench(args: &BenchArgs, edge: &Edge) -> anyhow::Result<()> {
    let (cfg, data) = args.config(&edge.settings)?;
    let r = convlab::bench::run(&cfg, Some(&data))?;
    println!("{}\n{}", convlab::bench::BenchResult::HEADER, r.row());
    if let Some(p) = &args.json {
        convlab::io::write_json(p, &r)?;
    }
    Ok(())
}

fn notebooks(args: &NotebooksArgs, edge: &Edge) -> anyhow::Result<()> {
    use convlab::writeup::notebooks::{
        Layout, NoExtras, Written, check_notebooks, notebooks, write_notebooks,
    };
    let (dir, specs) = match &args.plan {
        None => (args.dir.clone(), convlab::paper::paper_notebooks()),
        Some(file) => {
            let plan = Plan::load(file)?;
            let dir = args.dir.join(&plan.name);
            let abs =
                |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            let layout = Layout::plan_in(
                &convlab::cli::plan_path_from_root(file, &edge.settings.root)?,
                &abs(&dir),
                &abs(&edge.settings.root),
            );
            (dir, notebooks(&plan, &layout, &NoExtras))
        }
    };
    let shown = edge.paths.show(&dir);
    if args.check {
        let problems = check_notebooks(&dir, &specs)?;
        for p in &problems {
            eprintln!("{p}");
        }
        anyhow::ensure!(
            problems.is_empty(),
            "{} difference(s) between {shown} and the generator: run `convlab notebooks`",
            problems.len()
        );
        println!("{shown}: every notebook matches the generator");
        return Ok(());
    }
    let flags = args.settings.layer()?;
    if flags != convlab::settings::Layer::default() {
        let file = dir.join("convlab.toml");
        let cwd = std::env::current_dir()?;
        let mut table = match std::fs::read_to_string(&file) {
            Ok(text) => text
                .parse::<toml::Table>()
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            Err(_) => toml::Table::new(),
        };
        table.extend(flags.toml_table(&cwd));
        let text = format!(
            "# Written by `convlab notebooks`: the settings the notebooks in this folder run with \
                (over the project's convlab.toml).\n{}",
            toml::to_string(&table)?
        );
        // Read back as the kernel will: a value the settings refuse is refused now.
        convlab::settings::Layer::from_toml(&file, &text, &dir)?;
        convlab::io::write_bytes(&file, text.as_bytes())?;
        println!(
            "wrote {}: {}",
            edge.paths.show(&file),
            table.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    for w in write_notebooks(&dir, &specs)? {
        match w {
            Written::Unchanged(p) => println!("unchanged {}", edge.paths.show(&p)),
            Written::Updated(p) => println!(
                "updated   {} (changed cells lost their outputs: re-run `make notebooks`)",
                edge.paths.show(&p)
            ),
            Written::Created(p) => println!("created   {}", edge.paths.show(&p)),
        }
    }
    Ok(())
}
