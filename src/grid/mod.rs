//! The study as a grid of units — one (variant, seed) each, the run directory
//! `<runs>/<profile>/<variant>/seed-<s>/` — that any number of workers take safely:
//! a unit is claimed with a lease (see [`crate::train::lease`]), so nothing is trained
//! twice, and a unit whose holder died is taken over and resumed from its checkpoint.
//!
//! A launch freezes the settings into its own file, `<runs>/<profile>/grids/grid-<time>-<pid>.json`
//! (a later launch with other settings cannot change what queued tasks read); workers (local
//! processes, Slurm array tasks) read only that file, never the launcher's environment
//! or working directory.
pub mod slurm;
mod status;

pub use status::{StatusRow, status, status_rows, status_text};

use crate::plan::{Plan, Section, Setup, Variant};
use crate::settings::Settings;
use crate::train::{LeaseInfo, Run, RunDir, RunOptions, Started, WhenBusy, lease};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// One (variant, seed) of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub variant: Variant,
    pub seed: u64,
    /// `<runs>/<profile>/<run>/seed-<s>/` ([`Setup::run_name`]).
    pub dir: PathBuf,
}

/// Where a unit stands.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitState {
    /// Finished: its best validation accuracy.
    Done { acc: f64 },
    /// A live process holds it: who, and how far it got.
    Running { holder: LeaseInfo, epoch: usize, epochs: usize },
    /// Its last attempt failed: the first line of `error.txt`.
    Failed { error: String },
    /// Not finished and nobody holds it; `epoch` epochs are on disk to resume from,
    /// `stale` the lease of a holder that is gone.
    Pending { epoch: usize, stale: Option<LeaseInfo> },
}

impl UnitState {
    /// `done`, `running`, `failed` or `pending`.
    pub fn name(&self) -> &'static str {
        match self {
            UnitState::Done { .. } => "done",
            UnitState::Running { .. } => "running",
            UnitState::Failed { .. } => "failed",
            UnitState::Pending { .. } => "pending",
        }
    }
}

/// `convlab study --units`: one JSON line per unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnitLine {
    pub profile: String,
    pub variant: String,
    pub seed: u64,
    pub state: String,
    pub run_dir: PathBuf,
}

/// The frozen launch: everything a worker needs, in
/// `<runs>/<profile>/grids/grid-<time>-<pid>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    pub settings: Settings,
    /// The plan, frozen as launched; absent (in grid files of before plans): the paper's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Section keys, in order.
    pub sections: Vec<String>,
    /// Unix seconds of the launch: a unit that failed after it is not retried in this launch.
    pub launched: f64,
    /// In a sequential study, the seeds a side each variant needs at this launch's look
    /// ([`Setup::look_seeds`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub look_seeds: BTreeMap<String, usize>,
}

impl Grid {
    /// A grid of `sections` of `setup`'s plan under `settings`, launched now.
    pub fn new(settings: &Settings, setup: &Setup, sections: &[&Section]) -> Grid {
        let launched =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let plan = (!setup.plan.is_paper()).then(|| setup.plan.clone());
        Grid {
            settings: settings.clone(),
            plan,
            sections: sections.iter().map(|s| s.key.to_string()).collect(),
            launched,
            look_seeds: setup.look_seeds().clone(),
        }
    }

    /// A new launch's grid file: its own, under `<runs>/<profile>/grids/`.
    pub fn path(setup: &Setup) -> PathBuf {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        setup.runs_dir.join("grids").join(format!("grid-{t}-{}.json", std::process::id()))
    }

    /// Write it (atomically), creating the runs directory; an error names a directory that cannot
    /// be made.
    pub fn freeze(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the runs directory {}: {e}", dir.display())
            })?;
        }
        crate::io::write_json(path, self)
    }

    /// Read a grid file; its settings become this process's ([`Settings::with_process_identity`]).
    pub fn load(path: &Path) -> anyhow::Result<Grid> {
        let g: Grid = crate::io::read_json(path)?;
        Ok(Grid { settings: g.settings.with_process_identity(), ..g })
    }

    /// Its plan: the frozen one, else the paper's.
    pub fn plan(&self) -> Plan {
        self.plan.clone().unwrap_or_else(Plan::paper)
    }
}

/// Completed epochs of a run directory (rows of its history).
fn epochs_done(dir: &Path) -> usize {
    std::fs::read_to_string(RunDir::new(dir).history())
        .map_or(0, |t| t.lines().skip(1).filter(|l| !l.trim().is_empty()).count())
}

/// The units of `sections`: each distinct run once (in the plan's order: variants, then
/// probes), × its seeds ([`Setup::seeds_of`]). Variants that share a run directory
/// ([`Setup::run_name`]) are one set of units, named by the first of them.
pub fn units(setup: &Setup, sections: &[&Section]) -> Vec<Unit> {
    let in_sections = |k: &str, probes: bool| {
        sections.iter().any(|s| {
            if probes {
                s.probes.iter().any(|x| x.key == k)
            } else {
                s.variants.iter().any(|x| x.key == k)
            }
        })
    };
    let mut variants: Vec<&Variant> =
        setup.plan.variants().into_iter().filter(|v| in_sections(&v.key, false)).collect();
    variants.extend(setup.plan.probes().into_iter().filter(|p| in_sections(&p.key, true)));
    let mut out: Vec<Unit> = Vec::new();
    for v in variants {
        let run = setup.run_name(v);
        for seed in setup.seeds_of(v) {
            let dir = RunDir::of_seed(&setup.runs_dir.join(run), seed).path().to_path_buf();
            if !out.iter().any(|u| u.dir == dir) {
                out.push(Unit { variant: v.clone(), seed, dir });
            }
        }
    }
    out
}

/// `units` in the order workers take them: the costliest first (multiply-accumulates
/// per image × epochs, [`crate::model::ResNetConfig::macs`]), so the grid does not end
/// on one long unit while the other workers idle; ties keep their order.
pub fn longest_first(setup: &Setup, mut units: Vec<Unit>) -> Vec<Unit> {
    units.sort_by(|a, b| unit_cost(setup, &b.variant).total_cmp(&unit_cost(setup, &a.variant)));
    units
}

/// A unit's estimated cost, in relative units: multiply-accumulates per image × epochs
/// (normalization and data loading left out). What orders units and scales the ETA.
pub fn unit_cost(setup: &Setup, v: &Variant) -> f64 {
    let [_, side, _] = setup.data.shape();
    setup.config(v).map_or(0.0, |c| c.model.macs(side) as f64 * c.train.epochs as f64)
}

/// Where `unit` stands, read from its run directory.
pub fn unit_state(setup: &Setup, unit: &Unit) -> anyhow::Result<UnitState> {
    let files = RunDir::new(&unit.dir);
    if let Some(s) = files.read_summary()? {
        return Ok(UnitState::Done { acc: s.best_val_acc });
    }
    let epoch = epochs_done(&unit.dir);
    let mut stale = None;
    if let Some((_, holder)) = lease::current(&unit.dir)? {
        if holder.is_stale(&setup.options.lease.holder.host, setup.options.lease.timeout) {
            stale = Some(holder);
        } else {
            return Ok(UnitState::Running { holder, epoch, epochs: setup.profile.epochs });
        }
    }
    if let Ok(text) = std::fs::read_to_string(files.error()) {
        return Ok(UnitState::Failed { error: text.lines().next().unwrap_or("").to_string() });
    }
    Ok(UnitState::Pending { epoch, stale })
}

/// Every unit of `sections` with its state, as JSON lines for any scheduler.
pub fn unit_lines(setup: &Setup, sections: &[&Section]) -> anyhow::Result<Vec<UnitLine>> {
    units(setup, sections)
        .into_iter()
        .map(|u| {
            let state = unit_state(setup, &u)?;
            Ok(UnitLine {
                profile: setup.profile.name.as_str().into(),
                variant: u.variant.key,
                seed: u.seed,
                state: state.name().into(),
                run_dir: u.dir,
            })
        })
        .collect()
}

/// `None` when every unit of `section` is done; else which are not (`2 of 6 units not done:
/// …`).
pub fn missing_units(setup: &Setup, section: &Section) -> anyhow::Result<Option<String>> {
    let units = units(setup, &[section]);
    let mut missing = Vec::new();
    for u in &units {
        let st = unit_state(setup, u)?;
        if !matches!(st, UnitState::Done { .. }) {
            missing.push(format!("{} seed {} {}", u.variant.key, u.seed, st.name()));
        }
    }
    Ok((!missing.is_empty()).then(|| {
        format!("{} of {} units not done: {}", missing.len(), units.len(), missing.join(", "))
    }))
}

/// Train one unit (resuming it from its checkpoint), or return its stored run; under
/// `when_busy`, a unit another live process holds is waited for or skipped.
pub fn run_unit(setup: &Setup, unit: &Unit, when_busy: WhenBusy) -> anyhow::Result<Started> {
    let exp = setup.experiment(&unit.variant)?;
    let opts = RunOptions { when_busy, ..setup.options.clone() };
    exp.run_seed(&setup.runs_dir, unit.seed, &setup.data, &opts)
}

/// The unit of `variant` (or probe) and `seed`, named as a user types them.
pub fn unit(setup: &Setup, variant: &str, seed: u64) -> anyhow::Result<Unit> {
    let v = setup.plan.find_variant(variant)?.clone();
    let dir = RunDir::of_seed(&setup.runs_dir.join(setup.run_name(&v)), seed).path().to_path_buf();
    Ok(Unit { variant: v, seed, dir })
}

/// Every variant and probe of `sections` checked as its runs will start
/// ([`crate::train::RunConfig::check`]):
/// what the grid runs before any unit trains, so that only what was asked for is checked.
/// Stored runs of those units are checked to have trained on this data.
pub fn check_units(setup: &Setup, sections: &[&Section]) -> anyhow::Result<()> {
    for v in setup.members(sections) {
        setup.config(v)?.check(&setup.data).map_err(|e| setup.refusal(v, e))?;
    }
    for u in units(setup, sections) {
        crate::train::Run::check_stored_data(&u.dir, &setup.data)?;
    }
    Ok(())
}

/// What a worker reports, one JSON line each on its stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    Started {
        variant: String,
        seed: u64,
    },
    Finished {
        variant: String,
        seed: u64,
        acc: f64,
        minutes: f64,
        resumed_at: Vec<usize>,
    },
    /// Another process claimed it first.
    Skipped {
        variant: String,
        seed: u64,
        holder: String,
    },
    Failed {
        variant: String,
        seed: u64,
        error: String,
    },
    /// A signal asked the worker to stop: the unit resumes from its last finished epoch on the next
    /// launch.
    Stopped {
        variant: String,
        seed: u64,
        signal: String,
    },
}

impl WorkerEvent {
    /// The variant of the unit the event is about.
    pub fn variant(&self) -> &str {
        match self {
            WorkerEvent::Started { variant, .. }
            | WorkerEvent::Finished { variant, .. }
            | WorkerEvent::Skipped { variant, .. }
            | WorkerEvent::Failed { variant, .. }
            | WorkerEvent::Stopped { variant, .. } => variant,
        }
    }
}

/// A worker: take units of `grid` until none is left that this worker can take — every
/// unit done, held by a live process, or failed in this launch. Reports each through `emit`.
pub fn work(setup: &Setup, grid: &Grid, mut emit: impl FnMut(WorkerEvent)) -> anyhow::Result<()> {
    let sections =
        grid.sections.iter().map(|k| setup.find_section(k)).collect::<anyhow::Result<Vec<_>>>()?;
    let units = longest_first(setup, units(setup, &sections));
    let mut attempted: Vec<usize> = Vec::new();
    loop {
        let mut took = false;
        for (i, u) in units.iter().enumerate() {
            if attempted.contains(&i) {
                continue;
            }
            match unit_state(setup, u)? {
                UnitState::Done { .. } | UnitState::Running { .. } => continue,
                // Failed in this launch: left for the user (a failure is not retried in a loop).
                UnitState::Failed { .. } if failed_since(&u.dir, grid.launched) => continue,
                _ => {}
            }
            took = true;
            let (variant, seed) = (u.variant.key.clone(), u.seed);
            emit(WorkerEvent::Started { variant: variant.clone(), seed });
            let t0 = Instant::now();
            match run_unit(setup, u, WhenBusy::Skip) {
                Ok(Started::Finished(run)) => {
                    let s = run.summary.as_ref();
                    emit(WorkerEvent::Finished {
                        variant,
                        seed,
                        acc: s.map_or(f64::NAN, |s| s.best_val_acc),
                        minutes: t0.elapsed().as_secs_f64() / 60.0,
                        resumed_at: s.map_or(vec![], |s| s.resumed_at.clone()),
                    })
                }
                // Another process claimed it first: not ours, but ours to take over should it die.
                Ok(Started::Busy(info)) => {
                    emit(WorkerEvent::Skipped { variant, seed, holder: info.describe() });
                    continue;
                }
                Err(e) if crate::train::is_stop(&e) => {
                    emit(WorkerEvent::Stopped {
                        variant,
                        seed,
                        signal: crate::signals::received().unwrap_or("a signal").into(),
                    });
                    return Ok(());
                }
                Err(e) => emit(WorkerEvent::Failed {
                    variant,
                    seed,
                    error: format!("{e:#}").lines().next().unwrap_or("").to_string(),
                }),
            }
            attempted.push(i);
            // Look at every unit again: some may have finished, failed or lost their holder
            // meanwhile.
            break;
        }
        if !took {
            return Ok(());
        }
    }
}

fn failed_since(dir: &Path, launched: f64) -> bool {
    std::fs::metadata(RunDir::new(dir).error())
        .and_then(|m| m.modified())
        .map(|t| t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()) >= launched)
        .unwrap_or(false)
}

/// One worker process of a local grid: the GPU it sees (`CUDA_VISIBLE_DEVICES`), its libtorch
/// threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSlot {
    pub gpu: Option<String>,
    pub threads: usize,
}

/// The workers of a local grid: `jobs` of them (default: `jobs_per_gpu` per GPU when there
/// are GPUs, else `cpu_default`), spread round-robin over `gpus`, each with `cores / jobs`
/// libtorch threads (at least 1) unless `threads` says.
pub fn plan_workers(
    jobs: Option<usize>,
    jobs_per_gpu: usize,
    threads: Option<usize>,
    cores: usize,
    gpus: &[String],
    cpu_default: usize,
) -> anyhow::Result<Vec<WorkerSlot>> {
    anyhow::ensure!(jobs != Some(0), "--jobs 0: at least one worker is needed");
    anyhow::ensure!(jobs_per_gpu >= 1, "--jobs-per-gpu 0: at least one job per GPU is needed");
    anyhow::ensure!(threads != Some(0), "--threads 0: at least one thread is needed");
    let n = jobs.unwrap_or(if gpus.is_empty() { cpu_default } else { gpus.len() * jobs_per_gpu });
    let threads = threads.unwrap_or((cores / n).max(1));
    Ok((0..n)
        .map(|i| WorkerSlot {
            gpu: (!gpus.is_empty()).then(|| gpus[i % gpus.len()].clone()),
            threads,
        })
        .collect())
}

/// Worker processes of this launch by default on a CPU-only machine: measured with
/// `make bench-grid` (docs/scale/grid.md, "How many workers").
pub const CPU_DEFAULT_JOBS: usize = 2;

/// A line the launcher shows.
fn unit_name(variant: &str, seed: u64) -> String {
    format!("{variant} seed {seed}")
}

/// The GPUs grid workers are spread over: none when the study's device resolves to the CPU;
/// else `CUDA_VISIBLE_DEVICES`'s list when set, else every device libtorch sees.
pub fn visible_gpus(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let device = crate::plan::Profile::resolve(settings)?.device.resolve()?;
    if !device.is_cuda() {
        return Ok(vec![]);
    }
    Ok(settings
        .visible_gpus
        .clone()
        .unwrap_or_else(|| (0..tch::Cuda::device_count()).map(|i| i.to_string()).collect()))
}

/// How a local grid ended.
#[derive(Debug, Clone, PartialEq)]
pub struct GridOutcome {
    pub finished: usize,
    pub failed: Vec<String>,
    /// Workers that did not exit cleanly (killed, crashed): `worker 2: signal 9`.
    pub lost_workers: Vec<String>,
}

impl GridOutcome {
    /// An error naming every failed unit and lost worker (the exit status says whether all
    /// succeeded).
    pub fn into_result(self) -> anyhow::Result<()> {
        let mut problems = self.failed;
        problems.extend(self.lost_workers);
        anyhow::ensure!(
            problems.is_empty(),
            "{} problem(s) in the grid:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
        Ok(())
    }
}

/// The grid's progress as its launcher sees it: a pure model of the workers' events — counts
/// and a cost-weighted ETA — that [`launch`] renders as lines and a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub running: usize,
    /// `<variant> seed <s>: <why>` for every unit that failed or was stopped.
    pub failed: Vec<String>,
    /// Units this launch trained to the end.
    pub finished_now: usize,
    workers: usize,
    minutes_sum: f64,
    /// Estimated cost (multiply-accumulates × epochs) still to train, of the running units,
    /// and of the units this launch finished.
    cost_left: f64,
    cost_running: f64,
    cost_finished: f64,
}

impl Progress {
    /// `total` units of which `done` are already finished; `cost_left` is the estimated cost of
    /// the others, trained by `workers` workers.
    pub fn new(total: usize, done: usize, cost_left: f64, workers: usize) -> Self {
        Self {
            total,
            done,
            running: 0,
            failed: vec![],
            finished_now: 0,
            workers,
            minutes_sum: 0.0,
            cost_left,
            cost_running: 0.0,
            cost_finished: 0.0,
        }
    }

    pub fn pending(&self) -> usize {
        self.total.saturating_sub(self.done + self.running + self.failed.len())
    }

    /// Seconds until the grid is done: the cost still to train (running units half done), at
    /// this launch's pace per unit of cost so far, shared by the workers. The ETA weighs units
    /// by cost because workers take the costliest first: a mean over the units finished so far
    /// would overestimate what is left.
    pub fn eta_seconds(&self) -> f64 {
        let pace = self.minutes_sum / self.cost_finished.max(f64::MIN_POSITIVE);
        pace * (self.cost_left - self.cost_running / 2.0).max(0.0) / self.workers as f64 * 60.0
    }

    /// Take one event of a unit whose estimated cost is `cost`.
    pub fn apply(&mut self, ev: &WorkerEvent, cost: f64) {
        match ev {
            WorkerEvent::Started { .. } => {
                self.running += 1;
                self.cost_running += cost;
                return;
            }
            WorkerEvent::Finished { minutes, .. } => {
                self.done += 1;
                self.finished_now += 1;
                self.minutes_sum += minutes;
                (self.cost_left, self.cost_finished) =
                    (self.cost_left - cost, self.cost_finished + cost);
            }
            WorkerEvent::Stopped { variant, seed, signal } => {
                self.failed.push(format!("{}: stopped by {signal}", unit_name(variant, *seed)))
            }
            WorkerEvent::Failed { variant, seed, error } => {
                self.cost_left -= cost;
                self.failed.push(format!("{}: {error}", unit_name(variant, *seed)));
            }
            WorkerEvent::Skipped { .. } => {}
        }
        self.running = self.running.saturating_sub(1);
        self.cost_running -= cost;
    }

    /// The line the launcher shows for `ev`, after [`Progress::apply`] took it; `worker` is the
    /// 1-based worker that sent it, `gpu` its GPU note (`, GPU 1`, or empty).
    pub fn line(&self, ev: &WorkerEvent, worker: usize, gpu: &str) -> String {
        match ev {
            WorkerEvent::Started { variant, seed } => {
                format!("started  {:<26} worker {worker}{gpu}", unit_name(variant, *seed))
            }
            WorkerEvent::Skipped { variant, seed, holder } => {
                format!("skipped  {:<26} held by {holder}", unit_name(variant, *seed))
            }
            WorkerEvent::Finished { variant, seed, acc, minutes, resumed_at } => {
                let resumed = if resumed_at.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", resumed after epoch {}",
                        resumed_at.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
                    )
                };
                format!(
                    "finished {:<26} best val {acc:.4}  {minutes:.1} min{resumed}   [{}/{} done, \
                        {} running, {} pending, eta {}]",
                    unit_name(variant, *seed),
                    self.done,
                    self.total,
                    self.running,
                    self.pending(),
                    crate::train::format_duration(self.eta_seconds())
                )
            }
            WorkerEvent::Stopped { variant, seed, signal } => {
                format!(
                    "stopped  {:<26} by {signal}; resumes from its last finished epoch on the \
                        next launch",
                    unit_name(variant, *seed)
                )
            }
            WorkerEvent::Failed { variant, seed, error } => {
                format!("FAILED   {:<26} {error}", unit_name(variant, *seed))
            }
        }
    }
}

/// Worker `i`'s events, as `(i, Some(event))`, then `(i, None)` when its output ends.
type Events = std::sync::mpsc::Receiver<(usize, Option<WorkerEvent>)>;

/// Start one `exe study-worker --grid <grid> --threads T` per slot, its stderr (the training
/// log) to `<logs>/worker-<i>.log`, and a thread per worker that forwards its JSON events.
fn spawn_workers(
    exe: &Path,
    grid_path: &Path,
    slots: &[WorkerSlot],
    logs: &Path,
) -> anyhow::Result<(Vec<std::process::Child>, Events)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut children = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let log_path = logs.join(format!("worker-{}.log", i + 1));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", log_path.display()))?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("study-worker")
            .arg("--grid")
            .arg(grid_path)
            .arg("--threads")
            .arg(slot.threads.to_string());
        if let Some(gpu) = &slot.gpu {
            cmd.env("CUDA_VISIBLE_DEVICES", gpu);
        }
        cmd.stdout(std::process::Stdio::piped()).stderr(log).stdin(std::process::Stdio::null());
        let mut child = cmd.spawn().map_err(|e| {
            anyhow::anyhow!("cannot start worker {} ({}): {e}", i + 1, exe.display())
        })?;
        let out = child.stdout.take().expect("piped stdout");
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(ev) = serde_json::from_str::<WorkerEvent>(&line) {
                    let _ = tx.send((i, Some(ev)));
                }
            }
            let _ = tx.send((i, None));
        });
        children.push(child);
    }
    Ok((children, rx))
}

/// Wait for every worker; the ones that did not exit cleanly, with why and where their log is.
fn reap(
    children: Vec<std::process::Child>,
    setup: &Setup,
    logs: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut lost = Vec::new();
    for (i, mut c) in children.into_iter().enumerate() {
        let status = c.wait()?;
        if !status.success() {
            let why = match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status))
            {
                (_, Some(sig)) => format!("signal {sig}"),
                (Some(code), _) => format!("exit status {code}"),
                _ => "unknown".into(),
            };
            lost.push(format!(
                "worker {}: {why} (log: {})",
                i + 1,
                setup.options.paths.show(&logs.join(format!("worker-{}.log", i + 1)))
            ));
        }
    }
    Ok(lost)
}

/// A terminal's live bar of done / running / pending, under the lines.
fn progress_bar(total: usize, done: usize) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(total as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} done, {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_position(done as u64);
    pb
}

/// The binary a local grid's workers run: this process's own, even once `cargo build` has
/// replaced the file during a long study (Linux's `/proc/self/exe` still names the running
/// binary then, where its path would name the new one, or nothing mid-build); elsewhere its path.
pub fn worker_exe() -> anyhow::Result<PathBuf> {
    let own = Path::new("/proc/self/exe");
    if own.exists() {
        return Ok(own.to_path_buf());
    }
    Ok(std::env::current_exe()?)
}

/// Run `slots.len()` worker processes (`exe study-worker --grid <grid> --threads T`) and
/// show their progress through `show`: one line per unit started and finished (variant,
/// seed, accuracy, minutes) with the overall counts and an ETA, and with `bar` (a terminal)
/// a live bar of done / running / pending under them. Each worker's training log goes to
/// `<runs>/<profile>/logs/worker-<i>.log`. Returns when every worker has exited.
pub fn launch(
    exe: &Path,
    grid_path: &Path,
    setup: &Setup,
    sections: &[&Section],
    slots: &[WorkerSlot],
    bar: bool,
    mut show: impl FnMut(&str),
) -> anyhow::Result<GridOutcome> {
    let logs = setup.runs_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", logs.display()))?;
    let units = units(setup, sections);
    let to_train: Vec<&Unit> = units
        .iter()
        .filter(|u| !matches!(unit_state(setup, u), Ok(UnitState::Done { .. })))
        .collect();
    let cost_of =
        |variant: &str| setup.plan.find_variant(variant).map_or(0.0, |v| unit_cost(setup, v));
    let mut progress = Progress::new(
        units.len(),
        units.len() - to_train.len(),
        to_train.iter().map(|u| unit_cost(setup, &u.variant)).sum(),
        slots.len(),
    );
    let (children, events) = spawn_workers(exe, grid_path, slots, &logs)?;
    let pb = bar.then(|| progress_bar(progress.total, progress.done));
    let t0 = Instant::now();
    let mut open = slots.len();
    while open > 0 {
        let Ok((i, ev)) = events.recv() else { break };
        let Some(ev) = ev else {
            open -= 1;
            continue;
        };
        progress.apply(&ev, cost_of(ev.variant()));
        let line = progress.line(
            &ev,
            i + 1,
            &slots[i].gpu.as_ref().map_or(String::new(), |g| format!(", GPU {g}")),
        );
        match &pb {
            Some(pb) => {
                pb.println(line);
                pb.set_position(progress.done as u64);
                pb.set_message(format!(
                    "{} running, {} pending, {} failed",
                    progress.running,
                    progress.pending(),
                    progress.failed.len()
                ));
            }
            None => show(&line),
        }
    }
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    let lost_workers = reap(children, setup, &logs)?;
    show(&format!(
        "grid: {} unit(s) trained by {} worker(s) in {}",
        progress.finished_now,
        slots.len(),
        crate::train::format_duration(t0.elapsed().as_secs_f64())
    ));
    Ok(GridOutcome { finished: progress.finished_now, failed: progress.failed, lost_workers })
}

/// The set-up of a grid file — its settings and plan — with `threads` libtorch threads per
/// run (an execution detail: stored runs are reused whatever thread count trained them).
pub fn open_grid(grid: &Grid, threads: Option<usize>) -> anyhow::Result<Setup> {
    let mut setup = Setup::open(&grid.settings)?;
    setup.profile.threads = threads;
    let mut setup = setup.with_plan(grid.plan())?;
    setup.set_look_seeds(grid.look_seeds.clone());
    Ok(setup)
}

/// A run directory's record of one unit (for tests and status): its attempts.
pub fn attempts(unit: &Unit) -> anyhow::Result<Vec<crate::train::Attempt>> {
    Run::attempts(&unit.dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_spread_over_gpus_and_share_cores() {
        let gpus: Vec<String> = ["0", "1", "3"].iter().map(|s| s.to_string()).collect();
        // GPUs: jobs-per-gpu of them each, round robin.
        let p = plan_workers(None, 2, None, 16, &gpus, 2).unwrap();
        assert_eq!(
            p.iter().map(|s| s.gpu.clone().unwrap()).collect::<Vec<_>>(),
            ["0", "1", "3", "0", "1", "3"]
        );
        assert!(p.iter().all(|s| s.threads == 2), "16 cores / 6 workers");
        // An explicit --jobs on GPUs still spreads them.
        let p = plan_workers(Some(4), 1, None, 8, &gpus, 2).unwrap();
        assert_eq!(
            p.iter().map(|s| s.gpu.clone().unwrap()).collect::<Vec<_>>(),
            ["0", "1", "3", "0"]
        );
        // CPU only: the measured default, cores shared out, at least one thread each.
        let p = plan_workers(None, 1, None, 2, &[], CPU_DEFAULT_JOBS).unwrap();
        assert_eq!(
            p,
            vec![WorkerSlot { gpu: None, threads: 2 / CPU_DEFAULT_JOBS }; CPU_DEFAULT_JOBS]
        );
        assert_eq!(plan_workers(Some(4), 1, None, 2, &[], 2).unwrap()[0].threads, 1);
        assert_eq!(
            plan_workers(Some(1), 1, Some(3), 2, &[], 2).unwrap(),
            [WorkerSlot { gpu: None, threads: 3 }]
        );
        assert_eq!(
            plan_workers(Some(0), 1, None, 2, &[], 2).unwrap_err().to_string(),
            "--jobs 0: at least one worker is needed"
        );
        assert!(plan_workers(None, 0, None, 2, &gpus, 2).is_err());
    }

    #[test]
    fn progress_counts_units_and_weighs_the_eta_by_cost() {
        let ev = |e: &str, v: &str| match e {
            "started" => WorkerEvent::Started { variant: v.into(), seed: 1 },
            "finished" => WorkerEvent::Finished {
                variant: v.into(),
                seed: 1,
                acc: 0.5,
                minutes: 3.0,
                resumed_at: vec![],
            },
            "failed" => WorkerEvent::Failed { variant: v.into(), seed: 1, error: "boom".into() },
            _ => WorkerEvent::Stopped { variant: v.into(), seed: 1, signal: "SIGTERM".into() },
        };
        // Four units, one already done; the other three cost 3, 2 and 1; two workers.
        let mut p = Progress::new(4, 1, 6.0, 2);
        p.apply(&ev("started", "a"), 3.0);
        p.apply(&ev("started", "b"), 2.0);
        assert_eq!((p.running, p.pending()), (2, 1));
        let done = ev("finished", "a");
        p.apply(&done, 3.0);
        // 3 minutes for cost 3: 1 min per unit of cost; left 3, of which b (2) is running and
        // counted half done: (3 − 1) / 2 workers = 1 minute.
        assert!((p.eta_seconds() - 60.0).abs() < 1e-9, "{}", p.eta_seconds());
        assert_eq!((p.done, p.running, p.pending(), p.finished_now), (2, 1, 1, 1));
        let line = p.line(&done, 1, "");
        assert!(
            line.starts_with("finished a seed 1")
                && line
                    .contains("best val 0.5000  3.0 min   [2/4 done, 1 running, 1 pending, eta "),
            "{line}"
        );
        p.apply(&ev("failed", "b"), 2.0);
        p.apply(&ev("started", "c"), 1.0);
        p.apply(&ev("stopped", "c"), 1.0);
        // A stopped unit stays to be trained (it resumes next launch); a failed one does not.
        assert_eq!((p.done, p.running, p.pending(), p.failed.len()), (2, 0, 0, 2));
        assert_eq!(p.failed, ["b seed 1: boom", "c seed 1: stopped by SIGTERM"]);
        assert!((p.cost_left - 1.0).abs() < 1e-9 && p.cost_running.abs() < 1e-9);
        assert_eq!(
            p.line(&ev("started", "c"), 2, ", GPU 1"),
            format!("started  {:<26} worker 2, GPU 1", "c seed 1")
        );
    }

    #[test]
    fn worker_events_are_json_lines() {
        let ev = WorkerEvent::Finished {
            variant: "xknet18".into(),
            seed: 1,
            acc: 0.5,
            minutes: 1.5,
            resumed_at: vec![2],
        };
        let line = serde_json::to_string(&ev).unwrap();
        assert_eq!(
            line,
            r#"{"event":"finished","variant":"xknet18","seed":1,"acc":0.5,"minutes":1.5,"resumed_at":[2]}"#
        );
        assert_eq!(serde_json::from_str::<WorkerEvent>(&line).unwrap(), ev);
    }
}
