//! One seed's run, driven to its end: [`Run::execute`] returns the run stored in its
//! directory ([`RunDir`]) when it has this config and is finished; otherwise it claims the
//! directory's lease, trains (from scratch, or resumed from `last.safetensors`), records
//! every epoch as it finishes, and scores the best epoch's weights on the test split.
use super::checkpoint::{load_checkpoint, load_network, meta, save_checkpoint};
use super::config::RunConfig;
use super::fit::{self, EpochRecord, Event};
use super::lease::{self, Claim, Holder, Lease, LeaseInfo};
use super::run_dir::{Attempt, LAST, Phases, RunDir, RunSummary, SEED_DIR_PREFIX};
use super::{Optimizer, TrainConfig, is_improvement, predict, tensorboard, write_predictions};
use crate::data::Dataset;
use crate::io;
use crate::model::{ResNet, parameter_count};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::nn;

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

/// Why a run was not trained or stopped short (what the caller asks for, or another process).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The directory holds a run of another config.
    #[error(
        "run {dir} exists with a different config ({diff}); choose another name or use --force to \
            replace it"
    )]
    ConfigMismatch { dir: PathBuf, diff: String },
    /// The directory holds an unfinished run, and neither resuming nor restarting was asked.
    #[error(
        "run {dir} is unfinished ({done}/{epochs} epochs); use --resume to continue it or --force \
            to start over"
    )]
    Unfinished { dir: PathBuf, done: usize, epochs: usize },
    /// [`RunOptions::stop_after`] epochs were trained.
    #[error("stopped after epoch {epoch} as asked; resume with --resume")]
    Stopped { epoch: usize },
    /// Another live process holds the run ([`WhenBusy::Skip`]).
    #[error("run {dir} is being trained by {holder}")]
    Busy { dir: PathBuf, holder: String },
    /// Another process took the run over.
    #[error(
        "run {dir} was taken over by another process (this one's lease went stale); stopped at an \
            epoch boundary"
    )]
    LeaseLost { dir: PathBuf },
    /// The run is not finished and [`RunOptions::stored_only`] forbids training it.
    #[error("run {dir} is not finished, and nothing is trained here (run `convlab study` first)")]
    NotTrained { dir: PathBuf },
}

/// One seed's run on disk.
#[derive(Debug, Clone)]
pub struct Run {
    /// Its directory ([`Run::files`] names the files in it).
    pub dir: PathBuf,
    /// Its config, as recorded.
    pub config: RunConfig,
    /// One record per finished epoch.
    pub history: Vec<EpochRecord>,
    /// Its summary, once finished.
    pub summary: Option<RunSummary>,
}

/// What [`Run::start`] found.
// Matched once per attempt, never stored in bulk: boxing `Run` would only change callers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Started {
    /// The run finished: trained now, resumed to its end, or stored before.
    Finished(Run),
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
    /// This process, as its leases and attempts name it.
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

/// Whether `e` is a stop a signal asked for ([`fit::FitError::Stopped`]): the run is resumable, not
/// failed.
pub fn is_stop(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<fit::FitError>(), Some(fit::FitError::Stopped { .. }))
}

/// What the holder of a run's lease finds in its directory.
enum OnDisk {
    /// The finished run of this config.
    Finished(Run),
    /// An unfinished run of this config with a checkpoint, to resume.
    Resume(Run),
    /// Nothing to continue: training starts from scratch (what was there is removed).
    Restart,
}

impl Run {
    /// The files of its directory.
    pub fn files(&self) -> RunDir {
        RunDir::new(&self.dir)
    }

    /// An error when the run stored in `dir` was trained on other data than `data` (its
    /// `config.json`'s data record; none stored, or an older record without one, passes).
    pub fn check_stored_data(dir: &Path, data: &Dataset) -> anyhow::Result<()> {
        let files = RunDir::new(dir);
        if !files.is_started() {
            return Ok(());
        }
        let stored = files.read_config_file()?.dataset;
        if let Some(why) = stored.and_then(|s| data.record().differs_from(&s)) {
            anyhow::bail!(
                "run {} was trained on other data ({why}); train into another runs directory \
                    (--runs, CONVLAB_RUNS), or pass --force to retrain it",
                dir.display()
            );
        }
        Ok(())
    }

    /// The config a run directory records (its `config.json`), without reading the rest
    /// ([`RunDir::read_config`]).
    pub fn stored_config(dir: &Path) -> anyhow::Result<RunConfig> {
        RunDir::new(dir).read_config()
    }

    /// A run directory's `history.csv`, one record per finished epoch (none before the first;
    /// [`RunDir::read_history`]).
    pub fn stored_history(dir: &Path) -> anyhow::Result<Vec<EpochRecord>> {
        RunDir::new(dir).read_history()
    }

    /// Every training attempt of the run in `dir`, oldest first (`attempts.jsonl`;
    /// [`RunDir::read_attempts`]).
    pub fn attempts(dir: &Path) -> anyhow::Result<Vec<Attempt>> {
        RunDir::new(dir).read_attempts()
    }

    /// Read a run directory (finished or not).
    pub fn open(dir: &Path) -> anyhow::Result<Run> {
        let files = RunDir::new(dir);
        let config = files.read_config()?;
        let summary = files.read_summary()?;
        Ok(Run { dir: dir.to_path_buf(), config, history: files.read_history()?, summary })
    }

    /// Whether it has a summary.
    pub fn is_finished(&self) -> bool {
        self.summary.is_some()
    }

    /// The network as this run started it: built from the config under the run's seed,
    /// before any step (what [`Run::execute`] trains from).
    pub fn initial(&self, device: tch::Device) -> anyhow::Result<(nn::VarStore, ResNet)> {
        let _rng = fit::torch_rng();
        fit::initial_network(&self.config, device)
    }

    /// The network of this run with the weights of `best.safetensors`.
    pub fn load_best(&self, device: tch::Device) -> anyhow::Result<(nn::VarStore, ResNet)> {
        load_network(&self.config.model, &self.files().best(), device)
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
                Started::Finished(run) => return Ok(run),
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
            // A finished run with this config needs no lease.
            if let Some(run) = Self::stored(dir, config)? {
                return Ok(Started::Finished(run));
            }
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
        let files = RunDir::new(dir);
        let resume_from = match Self::on_disk(&files, config, opts)? {
            OnDisk::Finished(run) => return Ok(Started::Finished(run)),
            OnDisk::Resume(run) => Some(run),
            OnDisk::Restart => None,
        };
        files.write_config(config, data.record())?;
        let _ = std::fs::remove_file(files.error());
        opts.log(&format!("== training {}", opts.paths.show(dir)));
        let result = train(&files, config, data, opts, resume_from, &lease);
        if let Err(e) = &result {
            // A failure is part of the run's record (an interruption asked for is not).
            if e.downcast_ref::<RunError>().is_none() && !is_stop(e) {
                io::write_bytes(&files.error(), format!("{e:#}\n").as_bytes())?;
            }
        }
        result.map(Started::Finished)
    }

    /// Under the lease, what is on disk now is the holder's to continue: the finished run of
    /// `config`, or an unfinished one to resume (with `--resume`; without it, an error). Else,
    /// and always with `--force`, what is there is removed for a start from scratch.
    fn on_disk(files: &RunDir, config: &RunConfig, opts: &RunOptions) -> anyhow::Result<OnDisk> {
        if !opts.force
            && let Some(existing) = Self::open_matching(files, config)?
        {
            if existing.is_finished() {
                return Ok(OnDisk::Finished(existing));
            }
            if files.has_checkpoint() {
                if !opts.resume {
                    let (done, epochs) = (existing.history.len(), config.train.epochs);
                    let dir = files.path().into();
                    return Err(RunError::Unfinished { dir, done, epochs }.into());
                }
                return Ok(OnDisk::Resume(existing));
            }
        }
        for f in files.restart_files() {
            let _ = std::fs::remove_file(f);
        }
        Ok(OnDisk::Restart)
    }

    /// The finished run stored in `dir` when its config is `config` (`None` when it is not
    /// finished); an error when a run of another config is stored there.
    pub fn stored(dir: &Path, config: &RunConfig) -> anyhow::Result<Option<Run>> {
        let files = RunDir::new(dir);
        if !files.is_finished() {
            return Ok(None);
        }
        Ok(Self::open_matching(&files, config)?.filter(Run::is_finished))
    }

    /// The run stored in `files`, finished or not (`None` when it has no config): a
    /// [`RunError::ConfigMismatch`] naming the fields that differ when its config is not
    /// `config` as runs compare them ([`RunConfig::comparable`]).
    fn open_matching(files: &RunDir, config: &RunConfig) -> anyhow::Result<Option<Run>> {
        if !files.is_started() {
            return Ok(None);
        }
        let existing = Run::open(files.path())?;
        if existing.config.comparable() != config.comparable() {
            let diff = config.diff(&existing.config);
            return Err(RunError::ConfigMismatch { dir: files.path().into(), diff }.into());
        }
        Ok(Some(existing))
    }
}

/// Append this attempt at the run in `files`, by `holder`, after `from_epoch` completed epochs,
/// to its `attempts.jsonl`.
fn record_attempt(files: &RunDir, holder: &Holder, from_epoch: usize) -> anyhow::Result<()> {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    files.append_attempt(&Attempt {
        host: holder.host.clone(),
        pid: holder.pid,
        slurm_job: holder.slurm_job.clone(),
        started,
        from_epoch,
    })
}

/// `xknet18 seed 1` for `runs/quick/xknet18/seed-1`.
fn run_label(dir: &Path, seed: u64) -> String {
    let name = dir.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    let seed_dir = format!("{SEED_DIR_PREFIX}{seed}");
    match name {
        Some(n) if dir.file_name().is_some_and(|f| f.to_string_lossy() == seed_dir) => {
            format!("{n} seed {seed}")
        }
        _ => format!(
            "{} seed {seed}",
            dir.file_name()
                .map_or_else(|| dir.display().to_string(), |f| f.to_string_lossy().into_owned())
        ),
    }
}

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
    files: &RunDir,
    tc: &TrainConfig,
    vs: &mut nn::VarStore,
    opt: &mut Optimizer,
    resume: Option<Run>,
    opts: &RunOptions,
) -> anyhow::Result<Restored> {
    let mut resumed_at = files.read_resumed()?;
    let Some(run) = resume else {
        return Ok(Restored { history: vec![], best: None, start: 0, resumed_at });
    };
    let named = load_checkpoint(&files.last(), vs)?;
    opt.load_state(&named);
    let epoch = meta(&named, "epoch").unwrap_or(0.0) as usize;
    let mut history = run.history;
    history.truncate(epoch);
    anyhow::ensure!(
        history.len() == epoch,
        "{}: history has {} epochs, checkpoint {epoch}",
        files.path().display(),
        history.len()
    );
    let best = best_epoch(&history).map(|r| r.val_acc);
    if epoch > 0 {
        resumed_at.push(epoch);
        files.write_resumed(&resumed_at)?;
    }
    opts.log(&format!(
        "resuming {} after epoch {epoch}/{} (from {LAST})",
        opts.paths.show(files.path()),
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

/// A training attempt as its epochs finish: the history and best accuracy so far, where the
/// time went, what is written and logged after each epoch, and the live bar.
struct Progress<'a> {
    files: &'a RunDir,
    opts: &'a RunOptions,
    lease: &'a Lease,
    epochs: usize,
    history: Vec<EpochRecord>,
    best: Option<f64>,
    phases: Phases,
    /// When this attempt's first epoch started.
    t0: Instant,
    /// Epochs this attempt finished.
    done_now: usize,
    train_images: f64,
    label: String,
    bar: Option<indicatif::ProgressBar>,
    /// The recorded config, as TensorBoard shows it.
    config_json: String,
}

impl Progress<'_> {
    /// What [`fit::fit`] reports: a step moves the bar; an epoch is recorded.
    fn on(&mut self, ev: Event, vs: &nn::VarStore, opt: &Optimizer) -> anyhow::Result<()> {
        match ev {
            Event::Step { epoch, step, steps, loss, lr } => {
                if let Some(pb) = &self.bar {
                    pb.set_prefix(format!("epoch {epoch}/{}", self.epochs));
                    pb.set_length(steps as u64);
                    pb.set_position(step as u64);
                    pb.set_message(format!("loss {loss:.3} lr {lr:.1e}"));
                }
                Ok(())
            }
            Event::Epoch(record) => self.epoch(record, vs, opt),
        }
    }

    /// After an epoch: its time accounted, its files written, its line logged; then an error
    /// when the lease was lost or `stop_after` epochs are done.
    fn epoch(
        &mut self,
        record: &EpochRecord,
        vs: &nn::VarStore,
        opt: &Optimizer,
    ) -> anyhow::Result<()> {
        self.history.push(record.clone());
        let train_seconds = self.train_images / record.images_per_s.max(1e-9);
        self.phases.train += train_seconds;
        self.phases.validate += (record.seconds - train_seconds).max(0.0);
        let t_write = Instant::now();
        self.write(record, vs, opt)?;
        self.phases.write += t_write.elapsed().as_secs_f64();
        self.done_now += 1;
        // Logged once the epoch is on disk: an interruption after this line loses nothing of it.
        let eta =
            eta_seconds(self.t0.elapsed().as_secs_f64(), self.done_now, self.epochs - record.epoch)
                .map_or(String::new(), |s| format!("  eta {}", format_duration(s)));
        let line = format!("{}  {}{eta}", self.label, record.log_line(self.epochs));
        match &self.bar {
            Some(pb) => pb.println(line),
            None => self.opts.log(&line),
        }
        if self.lease.is_lost() {
            return Err(RunError::LeaseLost { dir: self.files.path().into() }.into());
        }
        if self.opts.stop_after.is_some_and(|n| self.done_now >= n) && record.epoch < self.epochs {
            return Err(RunError::Stopped { epoch: record.epoch }.into());
        }
        Ok(())
    }

    /// The epoch on disk: `best.safetensors` when it is the best so far, the history,
    /// `last.safetensors`, then the TensorBoard events.
    fn write(
        &mut self,
        record: &EpochRecord,
        vs: &nn::VarStore,
        opt: &Optimizer,
    ) -> anyhow::Result<()> {
        let meta = [("epoch", record.epoch as f64)];
        if is_improvement(record.val_acc, self.best) {
            self.best = Some(record.val_acc);
            save_checkpoint(&self.files.best(), vs, None, &meta)?;
        }
        self.files.write_history(&self.history)?;
        save_checkpoint(&self.files.last(), vs, Some(opt), &meta)?;
        // After the epoch is on disk: the events follow the history, never lead it.
        tensorboard::sync(self.files.path(), &self.history, &self.config_json)
    }
}

/// Train the run in `files` to its last epoch (its config written, its lease held), then
/// [`finish`] it.
fn train(
    files: &RunDir,
    config: &RunConfig,
    data: &Dataset,
    opts: &RunOptions,
    resume: Option<Run>,
    lease: &Lease,
) -> anyhow::Result<Run> {
    let _rng = fit::torch_rng();
    let t_start = Instant::now();
    let tc = &config.train;
    let (mut t, restored) =
        fit::set_up(config, data, |vs, opt| restore(files, tc, vs, opt, resume, opts))?;
    let Restored { history, best, start, resumed_at } = restored;
    record_attempt(files, &opts.lease.holder, start)?;
    let t0 = Instant::now();
    let prior_seconds: f64 = history.iter().map(|r| r.seconds).sum();
    let mut progress = Progress {
        files,
        opts,
        lease,
        epochs: tc.epochs,
        history,
        best,
        phases: Phases { setup: (t0 - t_start).as_secs_f64(), ..Phases::default() },
        t0,
        done_now: 0,
        train_images: data.train.len() as f64,
        label: run_label(files.path(), tc.seed),
        bar: step_bar(opts, t.train.num_batches()),
        config_json: serde_json::to_string_pretty(&config.recorded())?,
    };
    let mut on_event = |ev: Event, opt: &Optimizer| progress.on(ev, &t.vs, opt);
    let fitted =
        fit::fit(&t.net, &mut t.opt, &t.train, &t.val, tc, start, opts.stop, &mut on_event);
    if let Some(pb) = &progress.bar {
        pb.finish_and_clear();
    }
    fitted?;
    let trained = Trained {
        history: progress.history,
        parameters: parameter_count(&t.vs),
        wall_seconds: prior_seconds + t0.elapsed().as_secs_f64(),
        resumed_at,
        phases: progress.phases,
    };
    let summary =
        finish(files, config, data, t.device, &trained, opts.score_last_epoch.then_some(&t.net))?;
    Ok(Run {
        dir: files.path().to_path_buf(),
        config: config.clone(),
        history: trained.history,
        summary: Some(summary),
    })
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

/// The test split scored, when the data has one: the best weights' predictions written to
/// `test.txt` and their accuracy when it is labelled (from the same predictions), then the
/// last epoch's weights' accuracy (`last`, when given).
fn score_test(
    files: &RunDir,
    config: &RunConfig,
    data: &Dataset,
    device: tch::Device,
    best: &ResNet,
    last: Option<&ResNet>,
) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let Some(test) = &data.test else { return Ok((None, None)) };
    let tc = &config.train;
    let predicted = predict(best, test, &data.stats, tc, device)?;
    write_predictions(&files.predictions(), &test.files, &predicted, &data.classes)?;
    let test_acc = accuracy(test, &predicted)?;
    let final_test_acc = match (test_acc, last) {
        (Some(_), Some(net)) => accuracy(test, &predict(net, test, &data.stats, tc, device)?)?,
        _ => None,
    };
    Ok((test_acc, final_test_acc))
}

/// After the last epoch: the best weights loaded and the test split scored ([`score_test`]),
/// then `summary.json` written — the run is finished.
fn finish(
    files: &RunDir,
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
    let (_best_vs, best_net) = load_network(&config.model, &files.best(), device)?;
    let (test_acc, final_test_acc) = score_test(files, config, data, device, &best_net, last_net)?;
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
    files.write_summary(&summary)?;
    let _ = std::fs::remove_file(files.resumed());
    Ok(summary)
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
