//! Experiments on disk: `runs/<name>/` holds `config.json` and the aggregated
//! `summary.json`; each seed trains in `runs/<name>/seed-<seed>/` with its own
//! `config.json`, `history.csv`, `best.safetensors`, `last.safetensors`
//! (weights, optimizer state, epoch), `summary.json`, `test.txt`, and `error.txt`
//! when training failed.
//! Every file is written atomically; an interrupted run resumes from `last`.
use super::fit::{self, EpochRecord, Event};
use super::lease::{self, Claim, Holder, Lease, LeaseInfo};
use super::{Optimizer, TrainConfig, is_improvement, predict, tensorboard, write_predictions};
use crate::data::{DataConfig, DataRecord, Dataset, Loader};
use crate::io;
use crate::model::{ResNet, ResNetConfig, parameter_count};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Tensor, nn};

/// Everything that determines a run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub model: ResNetConfig,
    pub data: DataConfig,
    pub train: TrainConfig,
}

impl RunConfig {
    /// `model` and `train` on `data`: the model's input channels and classes are the data's.
    pub fn for_data(model: ResNetConfig, train: TrainConfig, data: &Dataset) -> RunConfig {
        let [c, _, _] = data.shape();
        let model =
            ResNetConfig { in_channels: c, num_classes: data.num_classes() as i64, ..model };
        RunConfig { model, data: data.config.clone(), train }
    }

    /// The config as compared between runs: cache location, memory budget and CPU threads
    /// do not change results.
    pub fn comparable(&self) -> RunConfig {
        comparable(self)
    }

    /// The config of an experiment whatever its seed: [`RunConfig::comparable`] with seed 0.
    /// Two variants whose configs are equal this way share their runs.
    pub fn experiment_key(&self) -> RunConfig {
        let mut c = comparable(self);
        c.train.seed = 0;
        c
    }

    /// Every field valid, the model fitted to `data`, and a layout libtorch can train —
    /// checked once, before a run starts.
    pub fn check(&self, data: &Dataset) -> anyhow::Result<()> {
        self.check_fit(data)?;
        if self.train.channels_last {
            self.model.check_cpu_channels_last(self.train.device.resolve()?, data.shape()[1])?;
        }
        Ok(())
    }

    /// Every field valid and the model fitted to `data` (its channels and classes): what a
    /// plan's every variant is checked for when it is opened, whichever sections then run.
    pub fn check_fit(&self, data: &Dataset) -> anyhow::Result<()> {
        self.model.validate()?;
        self.train.validate()?;
        let [c, _, _] = data.shape();
        anyhow::ensure!(
            c == self.model.in_channels,
            "the data has {c} channels but model.in_channels = {}; set one to match the other",
            self.model.in_channels
        );
        anyhow::ensure!(
            data.num_classes() as i64 == self.model.num_classes,
            "the data has {} classes but model.num_classes = {}",
            data.num_classes(),
            self.model.num_classes
        );
        Ok(())
    }
}

/// `config.json`: the run's config, the code that ran it and the data it trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ConfigFile {
    #[serde(flatten)]
    config: RunConfig,
    code_version: String,
    /// What the data was (classes, their CRC-32, split sizes, shape, hold-out); absent in runs
    /// recorded before convlab wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dataset: Option<DataRecord>,
}

/// A stored run trained on other data than `data` (another class list, other split sizes or
/// image shape): the error saying how. Runs recorded without a data record pass.
fn check_same_data(dir: &Path, stored: Option<&DataRecord>, data: &Dataset) -> anyhow::Result<()> {
    if let Some(why) = stored.and_then(|s| data.record().differs_from(s)) {
        anyhow::bail!(
            "run {} was trained on other data ({why}); train into another runs directory (--runs, \
                CONVLAB_RUNS), or pass --force to retrain it",
            dir.display()
        );
    }
    Ok(())
}

/// convlab's version and, when built from git, the commit (`0.1.0 (git 3913288)`).
pub fn code_version() -> String {
    format!("{} (git {})", env!("CARGO_PKG_VERSION"), env!("CONVLAB_GIT"))
}

/// `summary.json` of one finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub seed: u64,
    pub epochs: usize,
    pub best_val_acc: f64,
    /// 1-based epoch of the best validation accuracy.
    pub best_epoch: usize,
    pub best_val_top5: f64,
    pub final_val_acc: f64,
    pub final_train_acc: f64,
    /// Test accuracy of the best weights (the epoch the validation split chose), when the
    /// test split is labelled: a held-out score of the chosen checkpoint.
    pub test_acc: Option<f64>,
    /// Test accuracy of the last epoch's weights, when the test split is labelled and the run
    /// was asked to score it ([`RunOptions::score_last_epoch`]).
    #[serde(default)]
    pub final_test_acc: Option<f64>,
    pub parameters: i64,
    /// Training wall time, all epochs (including resumed ones).
    pub wall_seconds: f64,
    /// Mean training throughput.
    pub images_per_s: f64,
    pub device: String,
    /// libtorch's CPU threads while it trained (absent in runs recorded before 2026-11-29).
    #[serde(default)]
    pub threads: Option<i32>,
    /// Completed epochs at which this run was resumed after an interruption
    /// (empty when it trained in one go).
    #[serde(default)]
    pub resumed_at: Vec<usize>,
    /// Where the last attempt's wall time went (absent in runs recorded before it existed).
    #[serde(default)]
    pub phases: Option<Phases>,
}

/// Where a training attempt's wall time went, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Building the network and optimizer, loading a checkpoint to resume, the loaders.
    pub setup: f64,
    /// Optimizer steps over the training split (every epoch of this attempt).
    pub train: f64,
    /// The validation pass after each epoch.
    pub validate: f64,
    /// Checkpoints, history and TensorBoard events after each epoch.
    pub write: f64,
    /// The best weights loaded, the test split predicted and scored, the summary written.
    pub finish: f64,
}

/// Where a run's log lines go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogTo {
    /// Standard error, as command-line tools log (a progress bar when it is a terminal).
    #[default]
    Stderr,
    /// Standard output: in an evcxr notebook, stdout lines reach the running cell as
    /// they are printed and stay in order with the cell's end; stderr lines do not.
    Stdout,
}

/// What to do when a run directory already exists.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue an unfinished run from `last.safetensors`.
    pub resume: bool,
    /// Train from scratch even when a run exists (its files are replaced).
    pub force: bool,
    /// No per-epoch log lines on stderr.
    pub quiet: bool,
    /// Stop (as if killed) after this many epochs of this invocation — for tests of resuming.
    pub stop_after: Option<usize>,
    /// A progress bar (loss, lr, images/s) when stderr is a terminal; plain epoch lines otherwise.
    pub progress: bool,
    /// Where log lines (one per epoch, start and resume) go.
    pub log: LogTo,
    /// How paths are shown in log lines.
    pub paths: crate::paths::PathStyle,
    /// Who this process is in lease files, and when another holder is gone.
    pub lease: LeaseOptions,
    /// When another live process holds a run: wait (the default) or skip it.
    pub when_busy: WhenBusy,
    /// Set by a signal handler ([`crate::signals`]): stop at the next step boundary.
    pub stop: Option<&'static std::sync::atomic::AtomicBool>,
    /// Never train: a run that is not finished is [`RunError::NotTrained`] (what a write-up reads).
    pub stored_only: bool,
    /// Also score the last epoch's weights on a labelled test split (`final_test_acc`): one
    /// more pass over it, for measuring what choosing the best epoch adds (`make bench-variance`).
    pub score_last_epoch: bool,
}

impl RunOptions {
    fn log(&self, line: &str) {
        match (self.quiet, self.log) {
            (true, _) => {}
            (false, LogTo::Stderr) => eprintln!("{line}"),
            (false, LogTo::Stdout) => println!("{line}"),
        }
    }
}

/// `3m05s` — a duration as a log line shows it.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Time left for `remaining` epochs at the mean pace of the `done` epochs this process
/// trained in `seconds`; `None` before the first epoch.
pub fn eta_seconds(seconds: f64, done: usize, remaining: usize) -> Option<f64> {
    (done > 0).then(|| seconds / done as f64 * remaining as f64)
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "run {dir} exists with a different config ({diff}); choose another name or use --force to \
            replace it"
    )]
    ConfigMismatch { dir: PathBuf, diff: String },
    #[error(
        "run {dir} is unfinished ({done}/{epochs} epochs); use --resume to continue it or --force \
            to start over"
    )]
    Unfinished { dir: PathBuf, done: usize, epochs: usize },
    #[error("stopped after epoch {epoch} as asked; resume with --resume")]
    Stopped { epoch: usize },
    #[error("run {dir} is being trained by {holder}")]
    Busy { dir: PathBuf, holder: String },
    #[error(
        "run {dir} was taken over by another process (this one's lease went stale); stopped at an \
            epoch boundary"
    )]
    LeaseLost { dir: PathBuf },
    #[error("run {dir} is not finished, and nothing is trained here (run `convlab study` first)")]
    NotTrained { dir: PathBuf },
}

/// One seed's run on disk.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub config: RunConfig,
    pub history: Vec<EpochRecord>,
    pub summary: Option<RunSummary>,
}

fn history_path(dir: &Path) -> PathBuf {
    dir.join("history.csv")
}

fn write_history(dir: &Path, history: &[EpochRecord]) -> anyhow::Result<()> {
    let mut text = String::from(EpochRecord::CSV_HEADER);
    text.push('\n');
    for r in history {
        text.push_str(&r.to_csv());
        text.push('\n');
    }
    io::write_bytes(&history_path(dir), text.as_bytes())
}

/// A short description of how two configs differ (top-level JSON keys).
fn diff(a: &RunConfig, b: &RunConfig) -> String {
    let (a, b) = (serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
    let mut out = Vec::new();
    for part in ["model", "data", "train"] {
        if let (Some(x), Some(y)) = (a[part].as_object(), b[part].as_object()) {
            for (k, v) in x {
                if y.get(k) != Some(v) {
                    out.push(format!(
                        "{part}.{k}: {} → {}",
                        y.get(k).map_or("-".into(), |v| v.to_string()),
                        v
                    ));
                }
            }
        }
    }
    out.join(", ")
}

/// The config as compared between runs: cache location, memory budget and CPU threads do not change
/// results.
fn comparable(c: &RunConfig) -> RunConfig {
    let mut c = c.clone();
    c.data.cache_dir = None;
    c.data.memory_budget = None;
    c.train.threads = None;
    c
}

/// The config as a run records it: without the cache's location, a detail of the machine
/// that trained it (the settings give it wherever the run is read).
fn recorded(c: &RunConfig) -> RunConfig {
    let mut c = c.clone();
    c.data.cache_dir = None;
    c
}

fn save_checkpoint(
    path: &Path,
    vs: &nn::VarStore,
    opt: Option<&Optimizer>,
    meta: &[(&str, f64)],
) -> anyhow::Result<()> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, t.to_device(tch::Device::Cpu).contiguous()))
        .collect();
    if let Some(opt) = opt {
        named.extend(
            opt.state().into_iter().map(|(n, t)| (n, t.to_device(tch::Device::Cpu).contiguous())),
        );
    }
    for (k, v) in meta {
        named.push((format!("meta.{k}"), Tensor::from_slice(&[*v])));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    io::write_atomic(path, |tmp| Ok(Tensor::write_safetensors(&named, tmp)?))
}

/// Load a checkpoint's weights into `vs`; returns everything it holds (for optimizer state and
/// meta).
pub(crate) fn load_checkpoint(
    path: &Path,
    vs: &mut nn::VarStore,
) -> anyhow::Result<Vec<(String, Tensor)>> {
    let named = Tensor::read_safetensors(path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    tch::no_grad(|| -> anyhow::Result<()> {
        for (name, mut var) in vs.variables() {
            let (_, t) = named.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no tensor `{name}` (a checkpoint of another model?)",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                t.size() == var.size(),
                "{}: `{name}` has shape {:?}, the model {:?}",
                path.display(),
                t.size(),
                var.size()
            );
            var.copy_(t);
        }
        Ok(())
    })?;
    Ok(named)
}

fn meta(named: &[(String, Tensor)], key: &str) -> Option<f64> {
    named.iter().find(|(n, _)| n == &format!("meta.{key}")).map(|(_, t)| t.double_value(&[0]))
}

impl Run {
    /// An error when the run stored in `dir` was trained on other data than `data` (its
    /// `config.json`'s data record; none stored, or an older record without one, passes).
    pub fn check_stored_data(dir: &Path, data: &Dataset) -> anyhow::Result<()> {
        if !dir.join("config.json").exists() {
            return Ok(());
        }
        check_same_data(
            dir,
            io::read_json::<ConfigFile>(&dir.join("config.json"))?.dataset.as_ref(),
            data,
        )
    }

    /// The config a run directory records (its `config.json`), without reading the rest.
    pub fn stored_config(dir: &Path) -> anyhow::Result<RunConfig> {
        Ok(io::read_json::<ConfigFile>(&dir.join("config.json"))?.config)
    }

    /// A run directory's `history.csv`, one record per finished epoch (none before the first).
    pub fn stored_history(dir: &Path) -> anyhow::Result<Vec<EpochRecord>> {
        let p = history_path(dir);
        if !p.exists() {
            return Ok(vec![]);
        }
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                EpochRecord::from_csv(l)
                    .map_err(|e| anyhow::anyhow!("{} line {}: {e}", p.display(), i + 2))
            })
            .collect()
    }

    /// Read a run directory (finished or not).
    pub fn open(dir: &Path) -> anyhow::Result<Run> {
        let cfg: ConfigFile = io::read_json(&dir.join("config.json"))?;
        let summary_path = dir.join("summary.json");
        let summary =
            if summary_path.exists() { Some(io::read_json(&summary_path)?) } else { None };
        Ok(Run {
            dir: dir.to_path_buf(),
            config: cfg.config,
            history: Run::stored_history(dir)?,
            summary,
        })
    }

    pub fn is_finished(&self) -> bool {
        self.summary.is_some()
    }

    /// Build the network of this run with the weights of `best.safetensors`.
    /// The network as this run started it: built from the config under the run's seed,
    /// before any step (what [`Run::execute`] trains from).
    pub fn initial(&self, device: tch::Device) -> anyhow::Result<(nn::VarStore, ResNet)> {
        let _rng = TORCH_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        tch::manual_seed(self.config.train.seed_of_init() as i64);
        let vs = nn::VarStore::new(device);
        let net = ResNet::new(&vs.root(), &self.config.model)?;
        Ok((vs, net))
    }

    pub fn load_best(&self, device: tch::Device) -> anyhow::Result<(nn::VarStore, ResNet)> {
        let mut vs = nn::VarStore::new(device);
        let net = ResNet::new(&vs.root(), &self.config.model)?;
        load_checkpoint(&self.dir.join("best.safetensors"), &mut vs)?;
        Ok((vs, net))
    }

    /// Train (or return the stored result of) `config` in `dir`, on `data`. When another
    /// live process holds the run's lease this waits for it (printing who holds it), or,
    /// with [`WhenBusy::Skip`], returns [`RunError::Busy`].
    pub fn execute(
        dir: &Path,
        config: &RunConfig,
        data: &Dataset,
        opts: &RunOptions,
    ) -> anyhow::Result<Run> {
        let mut announced = false;
        loop {
            match Self::start(dir, config, data, opts)? {
                Started::Run(run) => return Ok(run),
                Started::Busy(info) if opts.when_busy == WhenBusy::Skip => {
                    return Err(RunError::Busy { dir: dir.into(), holder: info.describe() }.into());
                }
                Started::Busy(info) => {
                    if !announced {
                        opts.log(&format!(
                            "waiting for {}: held by {}",
                            opts.paths.show(dir),
                            info.describe()
                        ));
                        announced = true;
                    }
                    std::thread::sleep(BUSY_POLL);
                }
            }
        }
    }

    /// One attempt at [`Run::execute`]: the stored run, a trained one, or who holds it.
    pub fn start(
        dir: &Path,
        config: &RunConfig,
        data: &Dataset,
        opts: &RunOptions,
    ) -> anyhow::Result<Started> {
        config.check(data)?;
        if !opts.force {
            Run::check_stored_data(dir, data)?;
        }
        // A finished run with this config needs no lease.
        if !opts.force
            && let Some(run) = Self::stored(dir, config)?
        {
            return Ok(Started::Run(run));
        }
        if opts.stored_only {
            return Err(RunError::NotTrained { dir: dir.into() }.into());
        }
        let lease = match lease::claim(dir, &opts.lease.holder, opts.lease.timeout)
            .with_context(|| format!("cannot claim run directory {}", dir.display()))?
        {
            Claim::Held(lease) => lease,
            Claim::Busy(info) => return Ok(Started::Busy(info)),
        };
        if let Some(gone) = &lease.took_over {
            opts.log(&format!(
                "taking over {} from {} (its holder is gone)",
                opts.paths.show(dir),
                gone.describe()
            ));
        }
        // Under the lease: what is on disk now is ours to continue.
        let mut resume_from = None;
        if dir.join("config.json").exists() && !opts.force {
            let existing = Run::open(dir)?;
            if comparable(&existing.config) != comparable(config) {
                return Err(RunError::ConfigMismatch {
                    dir: dir.into(),
                    diff: diff(config, &existing.config),
                }
                .into());
            }
            if existing.is_finished() {
                return Ok(Started::Run(existing));
            }
            if dir.join("last.safetensors").exists() {
                if !opts.resume {
                    let done = existing.history.len();
                    return Err(RunError::Unfinished {
                        dir: dir.into(),
                        done,
                        epochs: config.train.epochs,
                    }
                    .into());
                }
                resume_from = Some(existing);
            }
        }
        if resume_from.is_none() {
            for f in [
                "history.csv",
                "best.safetensors",
                "last.safetensors",
                "summary.json",
                "test.txt",
                RESUMED,
            ] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            for f in tensorboard::event_files(dir) {
                let _ = std::fs::remove_file(f);
            }
        }
        io::write_json(
            &dir.join("config.json"),
            &ConfigFile {
                config: recorded(config),
                code_version: code_version(),
                dataset: Some(data.record()),
            },
        )?;
        let _ = std::fs::remove_file(dir.join("error.txt"));
        opts.log(&format!("== training {}", opts.paths.show(dir)));
        let result = train(dir, config, data, opts, resume_from, &lease);
        if let Err(e) = &result {
            // A failure is part of the run's record (an interruption asked for is not).
            if e.downcast_ref::<RunError>().is_none() && !is_stop(e) {
                io::write_bytes(&dir.join("error.txt"), format!("{e:#}\n").as_bytes())?;
            }
        }
        result.map(Started::Run)
    }

    /// The finished run stored in `dir` when its config is `config` (`None` when it is not
    /// finished); an error when a run of another config is stored there.
    pub fn stored(dir: &Path, config: &RunConfig) -> anyhow::Result<Option<Run>> {
        if !dir.join("summary.json").exists() || !dir.join("config.json").exists() {
            return Ok(None);
        }
        let existing = Run::open(dir)?;
        if comparable(&existing.config) != comparable(config) {
            return Err(RunError::ConfigMismatch {
                dir: dir.into(),
                diff: diff(config, &existing.config),
            }
            .into());
        }
        Ok(existing.is_finished().then_some(existing))
    }

    /// Every training attempt of the run in `dir`, oldest first (`attempts.jsonl`).
    pub fn attempts(dir: &Path) -> anyhow::Result<Vec<Attempt>> {
        let path = dir.join(ATTEMPTS);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot read {}", path.display()))
                );
            }
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).with_context(|| {
                    format!("{} line {}: not an attempt record", path.display(), i + 1)
                })
            })
            .collect()
    }
}

/// Whether `e` is a stop a signal asked for ([`fit::FitError::Stopped`]): the run is resumable, not
/// failed.
pub fn is_stop(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<fit::FitError>(), Some(fit::FitError::Stopped { .. }))
}

/// What [`Run::start`] found.
#[derive(Debug)]
pub enum Started {
    /// The run, stored or just trained.
    Run(Run),
    /// Another live process holds its lease.
    Busy(LeaseInfo),
}

/// How often a waiting process looks again at a run another process holds.
const BUSY_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// What to do when another live process holds a run's lease.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WhenBusy {
    /// Wait until it is finished (or its holder is gone): notebooks and the CLI.
    #[default]
    Wait,
    /// Leave it to its holder: grid workers take another unit.
    Skip,
}

/// Who this process is in lease files, and when another holder is gone.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    pub holder: Holder,
    /// A lease without a heartbeat for this long is stale (its holder on another host is presumed
    /// gone).
    pub timeout: std::time::Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        Self { holder: Holder::this_process(None), timeout: lease::DEFAULT_LEASE_TIMEOUT }
    }
}

/// One training attempt of a run (a line of `attempts.jsonl`): who trained it, from which epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub host: String,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_job: Option<String>,
    /// Unix seconds.
    pub started: f64,
    /// Completed epochs it started after (0 = from scratch).
    pub from_epoch: usize,
}

/// Every training attempt of a run, appended when it starts.
const ATTEMPTS: &str = "attempts.jsonl";

fn record_attempt(dir: &Path, holder: &Holder, from_epoch: usize) -> anyhow::Result<()> {
    use std::io::Write;
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let a = Attempt {
        host: holder.host.clone(),
        pid: holder.pid,
        slurm_job: holder.slurm_job.clone(),
        started,
        from_epoch,
    };
    let mut line = serde_json::to_string(&a)?;
    line.push('\n');
    let path = dir.join(ATTEMPTS);
    // One write of one short line with O_APPEND: lines of two writers never interleave.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The completed epochs at which an unfinished run was resumed, kept until its summary holds them.
const RESUMED: &str = "resumed.json";

/// `xknet18 seed 1` for `runs/quick/xknet18/seed-1`.
fn run_label(dir: &Path, seed: u64) -> String {
    let name = dir.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(n)
            if dir.file_name().is_some_and(|f| f.to_string_lossy() == format!("seed-{seed}")) =>
        {
            format!("{n} seed {seed}")
        }
        _ => format!(
            "{} seed {seed}",
            dir.file_name()
                .map_or_else(|| dir.display().to_string(), |f| f.to_string_lossy().into_owned())
        ),
    }
}

/// libtorch's random generator is global to the process: weight init and dropout
/// draw from it. Runs in one process therefore train one at a time, so that each
/// stays deterministic for its seed.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Where a run starts: its history so far, the best validation accuracy in it, the epochs
/// done, and the epochs it was resumed after.
struct Restored {
    history: Vec<EpochRecord>,
    best: Option<f64>,
    start: usize,
    resumed_at: Vec<usize>,
}

/// A fresh start, or `resume`'s run restored from `last.safetensors` (weights and optimizer
/// state; its history cut to the checkpoint's epoch), the resume recorded in `resumed.json`.
fn restore(
    dir: &Path,
    tc: &TrainConfig,
    vs: &mut nn::VarStore,
    opt: &mut Optimizer,
    resume: Option<Run>,
    opts: &RunOptions,
) -> anyhow::Result<Restored> {
    let mut resumed_at: Vec<usize> =
        if dir.join(RESUMED).exists() { io::read_json(&dir.join(RESUMED))? } else { vec![] };
    let Some(run) = resume else {
        return Ok(Restored { history: vec![], best: None, start: 0, resumed_at });
    };
    let named = load_checkpoint(&dir.join("last.safetensors"), vs)?;
    opt.load_state(&named);
    let epoch = meta(&named, "epoch").unwrap_or(0.0) as usize;
    let mut history = run.history;
    history.truncate(epoch);
    anyhow::ensure!(
        history.len() == epoch,
        "{}: history has {} epochs, checkpoint {epoch}",
        dir.display(),
        history.len()
    );
    let best = best_epoch(&history).map(|r| r.val_acc);
    if epoch > 0 {
        resumed_at.push(epoch);
        io::write_json(&dir.join(RESUMED), &resumed_at)?;
    }
    opts.log(&format!(
        "resuming {} after epoch {epoch}/{} (from last.safetensors)",
        opts.paths.show(dir),
        tc.epochs
    ));
    Ok(Restored { history, best, start: epoch, resumed_at })
}

/// A terminal's live bar of an epoch's steps (none when logging elsewhere or quiet).
fn step_bar(opts: &RunOptions, steps: usize) -> Option<indicatif::ProgressBar> {
    (opts.progress
        && !opts.quiet
        && opts.log == LogTo::Stderr
        && std::io::IsTerminal::is_terminal(&std::io::stderr()))
    .then(|| {
        let pb = indicatif::ProgressBar::new(steps as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb
    })
}

/// Train the run in `dir` to its last epoch: about 80 lines, kept as one because the epoch
/// callback handed to `fit` shares the run's state with it (history, best, phases, the bar).
fn train(
    dir: &Path,
    config: &RunConfig,
    data: &Dataset,
    opts: &RunOptions,
    resume: Option<Run>,
    lease: &Lease,
) -> anyhow::Result<Run> {
    let _rng = TORCH_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let t_start = Instant::now();
    let tc = &config.train;
    if let Some(t) = tc.threads {
        tch::set_num_threads(t as i32);
    }
    let device = tc.device.resolve()?;
    tch::manual_seed(tc.seed_of_init() as i64);
    let mut vs = nn::VarStore::new(device);
    let net = ResNet::new(&vs.root(), &config.model)?;
    let mut opt = Optimizer::new(&vs, tc);

    let Restored { mut history, mut best, start, resumed_at } =
        restore(dir, tc, &mut vs, &mut opt, resume, opts)?;
    record_attempt(dir, &opts.lease.holder, start)?;
    if tc.channels_last {
        crate::model::weights_to_channels_last(&vs);
    }
    let (train_loader, val_loader) = loaders(tc, data, device);

    let t0 = Instant::now();
    let mut phases = Phases { setup: (t0 - t_start).as_secs_f64(), ..Phases::default() };
    let train_images = data.train.len() as f64;
    let prior_seconds: f64 = history.iter().map(|r| r.seconds).sum();
    let mut done_now = 0usize;
    let label = run_label(dir, tc.seed);
    let bar = step_bar(opts, train_loader.num_batches());
    let config_json = serde_json::to_string_pretty(&recorded(config))?;
    let mut on_event = |ev: Event, opt: &Optimizer| -> anyhow::Result<()> {
        let record = match ev {
            Event::Step { epoch, step, steps, loss, lr } => {
                if let Some(pb) = &bar {
                    pb.set_prefix(format!("epoch {epoch}/{}", tc.epochs));
                    pb.set_length(steps as u64);
                    pb.set_position(step as u64);
                    pb.set_message(format!("loss {loss:.3} lr {lr:.1e}"));
                }
                return Ok(());
            }
            Event::Epoch(record) => record,
        };
        history.push(record.clone());
        let train_seconds = train_images / record.images_per_s.max(1e-9);
        phases.train += train_seconds;
        phases.validate += (record.seconds - train_seconds).max(0.0);
        let t_write = Instant::now();
        if is_improvement(record.val_acc, best) {
            best = Some(record.val_acc);
            save_checkpoint(
                &dir.join("best.safetensors"),
                &vs,
                None,
                &[("epoch", record.epoch as f64)],
            )?;
        }
        write_history(dir, &history)?;
        save_checkpoint(
            &dir.join("last.safetensors"),
            &vs,
            Some(opt),
            &[("epoch", record.epoch as f64)],
        )?;
        // After the epoch is on disk: the events follow the history, never lead it.
        tensorboard::sync(dir, &history, &config_json)?;
        phases.write += t_write.elapsed().as_secs_f64();
        done_now += 1;
        // Logged once the epoch is on disk: an interruption after this line loses nothing of it.
        let eta = eta_seconds(t0.elapsed().as_secs_f64(), done_now, tc.epochs - record.epoch)
            .map_or(String::new(), |s| format!("  eta {}", format_duration(s)));
        let line = format!("{label}  {}{eta}", record.log_line(tc.epochs));
        match &bar {
            Some(pb) => pb.println(line),
            None => opts.log(&line),
        }
        if lease.is_lost() {
            return Err(RunError::LeaseLost { dir: dir.into() }.into());
        }
        if opts.stop_after.is_some_and(|n| done_now >= n) && record.epoch < tc.epochs {
            return Err(RunError::Stopped { epoch: record.epoch }.into());
        }
        Ok(())
    };
    let fitted =
        fit::fit(&net, &mut opt, &train_loader, &val_loader, tc, start, opts.stop, &mut on_event);
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    fitted?;
    let trained = Trained {
        history,
        parameters: parameter_count(&vs),
        wall_seconds: prior_seconds + t0.elapsed().as_secs_f64(),
        resumed_at,
        phases,
    };
    let summary =
        finish(dir, config, data, device, &trained, opts.score_last_epoch.then_some(&net))?;
    Ok(Run {
        dir: dir.to_path_buf(),
        config: config.clone(),
        history: trained.history,
        summary: Some(summary),
    })
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

/// One step of [`trace`]: the loss of its batch before the update, the gradients' global norm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTrace {
    /// 1-based.
    pub epoch: usize,
    /// 1-based, within the epoch.
    pub step: usize,
    pub lr: f64,
    /// Images in the batch.
    pub images: usize,
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

/// The best epoch of a history: the highest validation accuracy, the first on ties.
fn best_epoch(history: &[EpochRecord]) -> Option<&EpochRecord> {
    history.iter().fold(None, |b: Option<&EpochRecord>, r| {
        if is_improvement(r.val_acc, b.map(|b| b.val_acc)) { Some(r) } else { b }
    })
}

/// What the training loop leaves for the finishing step.
struct Trained {
    history: Vec<EpochRecord>,
    parameters: i64,
    /// All epochs, resumed ones included.
    wall_seconds: f64,
    resumed_at: Vec<usize>,
    /// This attempt's, `finish` to be added.
    phases: Phases,
}

/// The share of `predicted` classes equal to `split`'s labels, when it is labelled.
fn accuracy(split: &crate::data::Split, predicted: &[i64]) -> anyhow::Result<Option<f64>> {
    if !split.is_labelled() || split.is_empty() {
        return Ok(None);
    }
    let truth = Vec::<i64>::try_from(&split.labels)?;
    Ok(Some(
        truth.iter().zip(predicted).filter(|(t, p)| t == p).count() as f64 / truth.len() as f64,
    ))
}

/// After the last epoch: the best weights predict the test split (`test.txt`, and their
/// accuracy when it is labelled, from the same predictions), the last epoch's weights
/// (`last`, when given) are scored on it too, then `summary.json` is written — the run is finished.
fn finish(
    dir: &Path,
    config: &RunConfig,
    data: &Dataset,
    device: tch::Device,
    trained: &Trained,
    last_net: Option<&ResNet>,
) -> anyhow::Result<RunSummary> {
    let t_finish = Instant::now();
    let tc = &config.train;
    let history = &trained.history;
    let best = best_epoch(history).context("no epoch was recorded")?;
    let last = history.last().context("no epoch was recorded")?;
    let mut best_vs = nn::VarStore::new(device);
    let best_net = ResNet::new(&best_vs.root(), &config.model)?;
    load_checkpoint(&dir.join("best.safetensors"), &mut best_vs)?;
    let (mut test_acc, mut final_test_acc) = (None, None);
    if let Some(test) = &data.test {
        let predicted = predict(&best_net, test, &data.stats, tc, device)?;
        write_predictions(&dir.join("test.txt"), &test.files, &predicted, &data.classes)?;
        test_acc = accuracy(test, &predicted)?;
        if let (Some(_), Some(net)) = (test_acc, last_net) {
            final_test_acc = accuracy(test, &predict(net, test, &data.stats, tc, device)?)?;
        }
    }
    let phases = Phases { finish: t_finish.elapsed().as_secs_f64(), ..trained.phases };
    let summary = RunSummary {
        seed: tc.seed,
        epochs: tc.epochs,
        best_val_acc: best.val_acc,
        best_epoch: best.epoch,
        best_val_top5: best.val_top5,
        final_val_acc: last.val_acc,
        final_train_acc: last.train_acc,
        test_acc,
        final_test_acc,
        parameters: trained.parameters,
        wall_seconds: trained.wall_seconds,
        images_per_s: history.iter().map(|r| r.images_per_s).sum::<f64>() / history.len() as f64,
        device: format!("{device:?}"),
        threads: Some(tch::get_num_threads()),
        resumed_at: trained.resumed_at.clone(),
        phases: Some(phases),
    };
    io::write_json(&dir.join("summary.json"), &summary)?;
    let _ = std::fs::remove_file(dir.join(RESUMED));
    Ok(summary)
}

/// Several seeds of one config: `runs/<name>/seed-<s>/` each, and `runs/<name>/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub config: RunConfig,
    /// Seeds to run; the first is the config's own seed when this is empty.
    pub seeds: Vec<u64>,
}

/// `runs/<name>/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    pub name: String,
    pub seeds: Vec<u64>,
    pub best_val_acc_mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub best_val_acc_std: f64,
    pub runs: Vec<RunSummary>,
}

impl ExperimentSummary {
    pub fn from_runs(name: &str, runs: Vec<RunSummary>) -> Self {
        let accs: Vec<f64> = runs.iter().map(|r| r.best_val_acc).collect();
        let n = accs.len().max(1) as f64;
        let mean = accs.iter().sum::<f64>() / n;
        let var = if accs.len() > 1 {
            accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Self {
            name: name.into(),
            seeds: runs.iter().map(|r| r.seed).collect(),
            best_val_acc_mean: mean,
            best_val_acc_std: var.sqrt(),
            runs,
        }
    }
}

impl Experiment {
    pub fn new(name: &str, config: RunConfig) -> Self {
        Self { name: name.into(), seeds: vec![config.train.seed], config }
    }

    /// Run every seed under `runs_root/<name>/` (stored results are reused; seeds another
    /// process is training are waited for, or skipped and left out with [`WhenBusy::Skip`]).
    pub fn run(
        &self,
        runs_root: &Path,
        data: &Dataset,
        opts: &RunOptions,
    ) -> anyhow::Result<(ExperimentSummary, Vec<Run>)> {
        let mut runs = Vec::new();
        for seed in self.seeds() {
            match self.run_seed(runs_root, seed, data, opts)? {
                Started::Run(run) => runs.push(run),
                Started::Busy(_) => {}
            }
        }
        let summary = self.update_summary(runs_root)?;
        Ok((summary, runs))
    }

    /// The seeds to run: [`Experiment::seeds`], or the config's own seed when that is empty.
    pub fn seeds(&self) -> Vec<u64> {
        if self.seeds.is_empty() { vec![self.config.train.seed] } else { self.seeds.clone() }
    }

    /// The run directory of one seed.
    pub fn seed_dir(&self, runs_root: &Path, seed: u64) -> PathBuf {
        runs_root.join(&self.name).join(format!("seed-{seed}"))
    }

    /// The config of its run with `seed`.
    pub fn seed_config(&self, seed: u64) -> RunConfig {
        let mut cfg = self.config.clone();
        cfg.train.seed = seed;
        cfg
    }

    /// The finished run of `seed` stored under `runs_root` (nothing is trained; `None` when
    /// it has not finished); an error when a run of another config is stored there.
    pub fn stored_seed(&self, runs_root: &Path, seed: u64) -> anyhow::Result<Option<Run>> {
        Run::stored(&self.seed_dir(runs_root, seed), &self.seed_config(seed))
    }

    /// One seed — a unit of a grid: [`Run::execute`] under `opts.when_busy`
    /// ([`Started::Busy`] when skipped), then the experiment's summary brought up to date.
    pub fn run_seed(
        &self,
        runs_root: &Path,
        seed: u64,
        data: &Dataset,
        opts: &RunOptions,
    ) -> anyhow::Result<Started> {
        anyhow::ensure!(
            !self.name.is_empty()
                && !self.name.contains(['/', '\\'])
                && self.name != "."
                && self.name != "..",
            "experiment name `{}`: use letters, digits, '-', '_' or '.' (no path separators)",
            self.name
        );
        let cfg = self.seed_config(seed);
        let dir = self.seed_dir(runs_root, seed);
        let started = match opts.when_busy {
            WhenBusy::Wait => Started::Run(Run::execute(&dir, &cfg, data, opts)?),
            WhenBusy::Skip => Run::start(&dir, &cfg, data, opts)?,
        };
        if matches!(started, Started::Run(_)) {
            self.update_summary(runs_root)?;
        }
        Ok(started)
    }

    /// `<name>/summary.json` and `<name>/config.json` rewritten from the finished seeds on
    /// disk, under the experiment's lock: two units finishing at once cannot leave a summary
    /// that misses one of them (each rewrite reads every seed's record).
    pub fn update_summary(&self, runs_root: &Path) -> anyhow::Result<ExperimentSummary> {
        let dir = runs_root.join(&self.name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let _lock = io::lock(&dir.join(".lock"))
            .with_context(|| format!("cannot lock {}", dir.display()))?;
        let mut finished = Vec::new();
        for seed in self.seeds() {
            let p = self.seed_dir(runs_root, seed).join("summary.json");
            if p.exists() {
                finished.push(io::read_json::<RunSummary>(&p)?);
            }
        }
        let summary = ExperimentSummary::from_runs(&self.name, finished);
        let experiment = Experiment { config: recorded(&self.config), ..self.clone() };
        io::write_json(
            &dir.join("config.json"),
            &ExperimentFile { experiment, code_version: code_version() },
        )?;
        io::write_json(&dir.join("summary.json"), &summary)?;
        Ok(summary)
    }
}

#[derive(Serialize)]
struct ExperimentFile {
    #[serde(flatten)]
    experiment: Experiment,
    code_version: String,
}

/// Every experiment under `runs_root` with a finished seed (from its `summary.json`), sorted by
/// name.
pub fn list_runs(runs_root: &Path) -> anyhow::Result<Vec<ExperimentSummary>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(runs_root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("cannot list {}", runs_root.display()))
            );
        }
    };
    for entry in rd {
        let p = entry?.path().join("summary.json");
        if p.exists() {
            let s = io::read_json::<ExperimentSummary>(&p)?;
            // An experiment whose seeds are all still training has nothing to list yet.
            if !s.runs.is_empty() {
                out.push(s);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_eta_as_log_lines_show_them() {
        assert_eq!(format_duration(0.4), "0s");
        assert_eq!(format_duration(59.4), "59s");
        assert_eq!(format_duration(185.0), "3m05s");
        assert_eq!(format_duration(3600.0 + 61.0), "1h01m");
        assert_eq!(format_duration(-3.0), "0s");
        assert_eq!(eta_seconds(12.0, 0, 5), None, "no pace before the first epoch");
        assert_eq!(eta_seconds(12.0, 3, 5), Some(20.0));
        assert_eq!(eta_seconds(12.0, 3, 0), Some(0.0));
    }

    #[test]
    fn run_label_names_experiment_and_seed() {
        assert_eq!(run_label(Path::new("/r/quick/xknet18/seed-1"), 1), "xknet18 seed 1");
        assert_eq!(run_label(Path::new("/r/single-run"), 7), "single-run seed 7");
    }
}
