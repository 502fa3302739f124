//! Experiments: several seeds of one config, `runs/<name>/seed-<s>/` each (a [`RunDir`]), and
//! `runs/<name>/summary.json` over the finished ones.
use super::config::RunConfig;
use super::run::{Run, RunOptions, Started, WhenBusy};
use super::run_dir::{self, RunDir, RunSummary, code_version};
use crate::data::Dataset;
use crate::io;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Several seeds of one config: `runs/<name>/seed-<s>/` each, and `runs/<name>/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// The directory's name under the runs directory.
    pub name: String,
    /// The config of every seed (its own seed aside).
    pub config: RunConfig,
    /// Seeds to run; the first is the config's own seed when this is empty.
    pub seeds: Vec<u64>,
}

/// `runs/<name>/summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    /// The experiment's name.
    pub name: String,
    /// The finished seeds, in the experiment's order.
    pub seeds: Vec<u64>,
    /// Mean best validation accuracy over seeds.
    pub best_val_acc_mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub best_val_acc_std: f64,
    /// Each finished seed's summary.
    pub runs: Vec<RunSummary>,
}

impl ExperimentSummary {
    /// The summary of the finished `runs` of experiment `name`.
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
    /// Experiment `name` of `config`, with the config's own seed.
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
                Started::Finished(run) => runs.push(run),
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
        RunDir::of_seed(&runs_root.join(&self.name), seed).path().to_path_buf()
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
            WhenBusy::Wait => Started::Finished(Run::execute(&dir, &cfg, data, opts)?),
            WhenBusy::Skip => Run::start(&dir, &cfg, data, opts)?,
        };
        if matches!(started, Started::Finished(_)) {
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
        let _lock = io::lock(&dir.join(run_dir::EXPERIMENT_LOCK))
            .with_context(|| format!("cannot lock {}", dir.display()))?;
        let mut finished = Vec::new();
        for seed in self.seeds() {
            if let Some(s) = RunDir::of_seed(&dir, seed).read_summary()? {
                finished.push(s);
            }
        }
        let summary = ExperimentSummary::from_runs(&self.name, finished);
        let experiment = Experiment { config: self.config.recorded(), ..self.clone() };
        io::write_json(
            &dir.join(run_dir::CONFIG),
            &ExperimentFile { experiment, code_version: code_version() },
        )?;
        io::write_json(&dir.join(run_dir::SUMMARY), &summary)?;
        Ok(summary)
    }
}

/// An experiment's `config.json`: the experiment and the code that wrote it.
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
        let p = entry?.path().join(run_dir::SUMMARY);
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
