//! A run directory's layout: each file's name (once, as a const here), where it is, what
//! exists, and the reads and writes that are about the directory.
//!
//! `runs/<name>/` holds an experiment's `config.json` and aggregated `summary.json`; each seed
//! trains in `runs/<name>/seed-<seed>/`, a [`RunDir`] with its own `config.json`,
//! `history.csv`, `best.safetensors`, `last.safetensors` (weights, optimizer state, epoch),
//! `summary.json`, `test.txt`, `attempts.jsonl`, TensorBoard event files, the lease files of
//! the process training it, `resumed.json` while an unfinished run was resumed, and
//! `error.txt` when training failed. Every file is written atomically (but `attempts.jsonl`,
//! appended a line at a time, and the event files, appended a record at a time).
use super::config::RunConfig;
use super::fit::EpochRecord;
use crate::data::DataRecord;
use crate::io;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The run's config, the code that ran it and the data it trained on; in an experiment's
/// directory, the experiment's config.
pub const CONFIG: &str = "config.json";
/// A finished run's [`RunSummary`]; in an experiment's directory, its seeds' summary.
pub const SUMMARY: &str = "summary.json";
/// One [`EpochRecord`] per finished epoch, as CSV.
pub const HISTORY: &str = "history.csv";
/// The weights of the best epoch (highest validation accuracy, the first on ties).
pub const BEST: &str = "best.safetensors";
/// The weights, optimizer state and epoch of the last finished epoch: where a run resumes.
pub const LAST: &str = "last.safetensors";
/// The best weights' predictions for the test split: `<file>\t<class>` per line.
pub const PREDICTIONS: &str = "test.txt";
/// Why training failed (absent while it trains and once it finished).
pub const ERROR: &str = "error.txt";
/// Every training attempt of the run, a JSON line each ([`Attempt`]).
pub const ATTEMPTS: &str = "attempts.jsonl";
/// The completed epochs at which an unfinished run was resumed, kept until its summary holds
/// them.
pub const RESUMED: &str = "resumed.json";
/// How TensorBoard event files' names start (TensorBoard finds them by it).
pub const EVENTS_PREFIX: &str = "events.out.tfevents.";
/// How convlab's event files' names end, after `<host>.<pid>`.
pub const EVENTS_SUFFIX: &str = ".convlab";
/// How a lease file's name starts: `lease-<generation>.json`.
pub const LEASE_PREFIX: &str = "lease-";
/// How a lease file's name ends.
pub const LEASE_SUFFIX: &str = ".json";
/// The lock file of an experiment's directory (its summary is rewritten under it).
pub const EXPERIMENT_LOCK: &str = ".lock";
/// How a seed's run directory is named inside its experiment's: `seed-<seed>`.
pub const SEED_DIR_PREFIX: &str = "seed-";

/// convlab's version and, when built from git, the commit (`0.1.0 (git 3913288)`).
pub fn code_version() -> String {
    format!("{} (git {})", env!("CARGO_PKG_VERSION"), env!("CONVLAB_GIT"))
}

/// `config.json`: the run's config, the code that ran it and the data it trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConfigFile {
    /// The config, its fields at the top level.
    #[serde(flatten)]
    pub config: RunConfig,
    /// [`code_version`] of the process that started the run.
    pub code_version: String,
    /// What the data was (classes, their CRC-32, split sizes, shape, hold-out); absent in runs
    /// recorded before convlab wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DataRecord>,
}

/// `summary.json` of one finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// The best epoch's validation accuracy.
    pub best_val_acc: f64,
    /// 1-based epoch of the best validation accuracy.
    pub best_epoch: usize,
    /// The best epoch's validation top-5 accuracy.
    pub best_val_top5: f64,
    /// The last epoch's validation accuracy.
    pub final_val_acc: f64,
    /// The last epoch's training accuracy.
    pub final_train_acc: f64,
    /// Test accuracy of the best weights (the epoch the validation split chose), when the
    /// test split is labelled: a held-out score of the chosen checkpoint.
    pub test_acc: Option<f64>,
    /// Test accuracy of the last epoch's weights, when the test split is labelled and the run
    /// was asked to score it ([`RunOptions::score_last_epoch`](super::RunOptions)).
    #[serde(default)]
    pub final_test_acc: Option<f64>,
    /// Trainable and frozen parameters of the network.
    pub parameters: i64,
    /// Training wall time, all epochs (including resumed ones).
    pub wall_seconds: f64,
    /// Mean training throughput.
    pub images_per_s: f64,
    /// The libtorch device it trained on (`Cpu`, `Cuda(0)`).
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

/// One training attempt of a run (a line of `attempts.jsonl`): who trained it, from which epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The host it ran on.
    pub host: String,
    /// Its process id there.
    pub pid: u32,
    /// Its Slurm job (`<job>_<task>` for an array task), when it ran under Slurm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm_job: Option<String>,
    /// Unix seconds.
    pub started: f64,
    /// Completed epochs it started after (0 = from scratch).
    pub from_epoch: usize,
}

/// One run's directory: where each of its files is, what exists, and the reads and writes that
/// are about the directory (history, config, summary, attempts, resumes). Nothing is read or
/// created until a method asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl AsRef<Path> for RunDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl RunDir {
    /// The run directory at `path`.
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }

    /// The run directory of `seed` in the experiment directory `experiment` (`seed-<seed>`).
    pub fn of_seed(experiment: &Path, seed: u64) -> RunDir {
        RunDir::new(experiment.join(format!("{SEED_DIR_PREFIX}{seed}")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.path.join(CONFIG)
    }

    /// `summary.json`.
    pub fn summary(&self) -> PathBuf {
        self.path.join(SUMMARY)
    }

    /// `history.csv`.
    pub fn history(&self) -> PathBuf {
        self.path.join(HISTORY)
    }

    /// `best.safetensors`.
    pub fn best(&self) -> PathBuf {
        self.path.join(BEST)
    }

    /// `last.safetensors`.
    pub fn last(&self) -> PathBuf {
        self.path.join(LAST)
    }

    /// `test.txt`, the test split's predictions.
    pub fn predictions(&self) -> PathBuf {
        self.path.join(PREDICTIONS)
    }

    /// `error.txt`.
    pub fn error(&self) -> PathBuf {
        self.path.join(ERROR)
    }

    /// `attempts.jsonl`.
    pub fn attempts(&self) -> PathBuf {
        self.path.join(ATTEMPTS)
    }

    /// `resumed.json`.
    pub fn resumed(&self) -> PathBuf {
        self.path.join(RESUMED)
    }

    /// The lease file of `generation`: `lease-<generation>.json`.
    pub fn lease(&self, generation: u64) -> PathBuf {
        self.path.join(format!("{LEASE_PREFIX}{generation}{LEASE_SUFFIX}"))
    }

    /// The generation of a lease file's name (`lease-3.json` → 3; `None` for another file).
    pub fn lease_generation(file_name: &str) -> Option<u64> {
        file_name.strip_prefix(LEASE_PREFIX)?.strip_suffix(LEASE_SUFFIX)?.parse().ok()
    }

    /// The event file a process (`<host>.<pid>`, the host a file-name part) starts at Unix
    /// second `created`: `events.out.tfevents.<created>.<host>.<pid>.convlab`.
    pub fn event_file(&self, created: u64, host: &str, pid: u32) -> PathBuf {
        self.path.join(format!("{EVENTS_PREFIX}{created}.{host}.{pid}{EVENTS_SUFFIX}"))
    }

    /// The event file this process (`<host>.<pid>`) already writes here, if any.
    pub fn event_file_of(&self, host: &str, pid: u32) -> Option<PathBuf> {
        let tail = format!(".{host}.{pid}{EVENTS_SUFFIX}");
        self.event_files().into_iter().find(|p| p.to_string_lossy().ends_with(&tail))
    }

    /// The TensorBoard event files (`events.out.tfevents.*`), sorted by name.
    pub fn event_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(EVENTS_PREFIX))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Whether a run was started here: it has a `config.json`.
    pub fn is_started(&self) -> bool {
        self.config().exists()
    }

    /// Whether the run here is finished: it has a `summary.json` and a `config.json`.
    pub fn is_finished(&self) -> bool {
        self.summary().exists() && self.config().exists()
    }

    /// Whether the run here can resume: it has a `last.safetensors`.
    pub fn has_checkpoint(&self) -> bool {
        self.last().exists()
    }

    /// What a restart from scratch removes: the history, both checkpoints, the summary, the
    /// predictions, the resume record and the event files (not the config, rewritten, nor the
    /// attempts, which keep every one).
    pub fn restart_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> =
            [HISTORY, BEST, LAST, SUMMARY, PREDICTIONS, RESUMED].map(|f| self.path.join(f)).into();
        files.extend(self.event_files());
        files
    }

    /// `config.json`, whole.
    pub(crate) fn read_config_file(&self) -> anyhow::Result<ConfigFile> {
        io::read_json(&self.config())
    }

    /// The config this run records (its `config.json`), without reading the rest.
    pub fn read_config(&self) -> anyhow::Result<RunConfig> {
        Ok(self.read_config_file()?.config)
    }

    /// Record `config` (without the cache's location, a detail of the machine), this code's
    /// version and the data it trains on in `config.json`.
    pub fn write_config(&self, config: &RunConfig, data: DataRecord) -> anyhow::Result<()> {
        let file = ConfigFile {
            config: config.recorded(),
            code_version: code_version(),
            dataset: Some(data),
        };
        io::write_json(&self.config(), &file)
    }

    /// `summary.json`, when the run finished.
    pub fn read_summary(&self) -> anyhow::Result<Option<RunSummary>> {
        let path = self.summary();
        if path.exists() { Ok(Some(io::read_json(&path)?)) } else { Ok(None) }
    }

    /// Write `summary.json`: the run is finished.
    pub fn write_summary(&self, summary: &RunSummary) -> anyhow::Result<()> {
        io::write_json(&self.summary(), summary)
    }

    /// `history.csv`, one record per finished epoch (none before the first). Its header line
    /// is skipped and the columns read in order; an error names the file, the line and the
    /// field.
    pub fn read_history(&self) -> anyhow::Result<Vec<EpochRecord>> {
        let p = self.history();
        if !p.exists() {
            return Ok(vec![]);
        }
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
        parse_history(&text)
            .map_err(|(line, e)| anyhow::anyhow!("{} line {line}: {e}", p.display()))
    }

    /// Write `history.csv` (atomically): the header, then one line per record.
    pub fn write_history(&self, history: &[EpochRecord]) -> anyhow::Result<()> {
        io::write_bytes(&self.history(), &history_csv(history)?)
    }

    /// Every training attempt here, oldest first (`attempts.jsonl`; none when it is missing).
    pub fn read_attempts(&self) -> anyhow::Result<Vec<Attempt>> {
        let path = self.attempts();
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

    /// Append `attempt` to `attempts.jsonl` (created if missing).
    pub fn append_attempt(&self, attempt: &Attempt) -> anyhow::Result<()> {
        use std::io::Write;
        let mut line = serde_json::to_string(attempt)?;
        line.push('\n');
        let path = self.attempts();
        // One write of one short line with O_APPEND: lines of two writers never interleave.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// The completed epochs at which this unfinished run was resumed (`resumed.json`; none
    /// when it is missing).
    pub fn read_resumed(&self) -> anyhow::Result<Vec<usize>> {
        let path = self.resumed();
        if path.exists() { io::read_json(&path) } else { Ok(vec![]) }
    }

    /// Write `resumed.json`.
    pub fn write_resumed(&self, resumed_at: &[usize]) -> anyhow::Result<()> {
        io::write_json(&self.resumed(), &resumed_at)
    }
}

/// A history row as `history.csv` writes it: each number in the text it has always had there
/// (the shortest text that reads back as the same `f64`; `lr` in exponent form, `2e-2`; seconds
/// to the millisecond, images/s to a tenth). `csv` alone would write floats through `ryu`
/// (`400.0`, `0.00001` as `1e-5`), hence the `serialize_with`s.
#[derive(Serialize)]
struct CsvRow {
    epoch: usize,
    #[serde(serialize_with = "exponent")]
    lr: f64,
    #[serde(serialize_with = "shortest")]
    train_loss: f64,
    #[serde(serialize_with = "shortest")]
    train_acc: f64,
    #[serde(serialize_with = "shortest")]
    val_loss: f64,
    #[serde(serialize_with = "shortest")]
    val_acc: f64,
    #[serde(serialize_with = "shortest")]
    val_top5: f64,
    #[serde(serialize_with = "millis")]
    seconds: f64,
    #[serde(serialize_with = "tenths")]
    images_per_s: f64,
}

impl From<&EpochRecord> for CsvRow {
    fn from(r: &EpochRecord) -> Self {
        CsvRow {
            epoch: r.epoch,
            lr: r.lr,
            train_loss: r.train_loss,
            train_acc: r.train_acc,
            val_loss: r.val_loss,
            val_acc: r.val_acc,
            val_top5: r.val_top5,
            seconds: r.seconds,
            images_per_s: r.images_per_s,
        }
    }
}

/// `{}`: the shortest text that reads back as the same number (`0.5`, `400`, `0.00001`).
fn shortest<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// `{:e}`: the shortest mantissa, in exponent form (`1e-3`, `2.5e-2`).
fn exponent<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:e}"))
}

/// `{:.3}` (`12.500`).
fn millis<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.3}"))
}

/// `{:.1}` (`400.0`).
fn tenths<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:.1}"))
}

/// `history.csv`'s bytes for `history`: [`EpochRecord::CSV_HEADER`], then a [`CsvRow`] a line.
fn history_csv(history: &[EpochRecord]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(EpochRecord::CSV_HEADER.split(','))?;
    for r in history {
        w.serialize(CsvRow::from(r))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The records of `history.csv`'s text, read by position after the header line (whatever it
/// says); blank lines are skipped. An error is its line and what is wrong there.
fn parse_history(text: &str) -> Result<Vec<EpochRecord>, (u64, String)> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rd.records() {
        let line = |p: Option<&csv::Position>| p.map_or(0, csv::Position::line);
        let rec = rec.map_err(|e| (line(e.position()), e.to_string()))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let at = line(rec.position());
        if rec.len() != 9 {
            return Err((at, format!("expected 9 fields, found {}", rec.len())));
        }
        out.push(rec.deserialize::<EpochRecord>(None).map_err(|e| (at, field_error(&rec, &e)))?);
    }
    Ok(out)
}

/// What is wrong with the field `e` names: `epoch `x` is not a whole number`, `field 2 `x` is
/// not a number`.
fn field_error(rec: &csv::StringRecord, e: &csv::Error) -> String {
    let field = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => err.field(),
        _ => None,
    };
    match field.map(|i| i as usize) {
        Some(0) => format!("epoch `{}` is not a whole number", &rec[0]),
        Some(i) => format!("field {} `{}` is not a number", i + 1, rec.get(i).unwrap_or("")),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> EpochRecord {
        EpochRecord {
            epoch: 3,
            lr: 2e-2,
            train_loss: 1.25,
            train_acc: 0.5,
            val_loss: 1.0 / 3.0,
            val_acc: 0.4,
            val_top5: 1.0,
            seconds: 12.5,
            images_per_s: 400.04,
        }
    }

    /// The bytes `history.csv` has always had: shortest `{}` numbers, `lr` as `{:e}`, seconds
    /// `{:.3}`, images/s `{:.1}`.
    #[test]
    fn history_csv_bytes_are_pinned() {
        let tiny = EpochRecord {
            epoch: 10,
            lr: 1.5e-5,
            train_loss: 0.00001,
            train_acc: 0.0,
            val_loss: 2.0,
            val_acc: 0.125,
            val_top5: 0.875,
            seconds: 0.0004,
            images_per_s: 1234.56,
        };
        let bytes = history_csv(&[record(), tiny]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_top5,seconds,images_per_s\n\
             3,2e-2,1.25,0.5,0.3333333333333333,0.4,1,12.500,400.0\n\
             10,1.5e-5,0.00001,0,2,0.125,0.875,0.000,1234.6\n"
        );
        assert_eq!(
            String::from_utf8(history_csv(&[]).unwrap()).unwrap(),
            "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_top5,seconds,images_per_s\n"
        );
    }

    #[test]
    fn history_round_trips_through_its_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("seed-1"));
        assert_eq!(dir.read_history().unwrap(), [], "no history before the first epoch");
        let exact = EpochRecord { seconds: 12.5, images_per_s: 400.0, ..record() };
        let history = vec![exact.clone(), EpochRecord { epoch: 4, lr: 1e-3, ..exact }];
        dir.write_history(&history).unwrap();
        assert_eq!(dir.read_history().unwrap(), history);
        // What an older convlab wrote reads the same, blank lines and a CRLF end included.
        std::fs::write(
            dir.history(),
            "epoch,lr,train_loss,train_acc,val_loss,val_acc,val_top5,seconds,images_per_s\n\
             3,2e-2,1.25,0.5,0.3333333333333333,0.4,1,12.500,400.0\n\n\
             4,1e-3,1.25,0.5,0.3333333333333333,0.4,1,12.500,400.0\r\n",
        )
        .unwrap();
        assert_eq!(dir.read_history().unwrap(), history);
    }

    #[test]
    fn history_errors_name_the_line_and_field() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path());
        let err = |body: &str| {
            std::fs::write(dir.history(), format!("{}\n{body}", EpochRecord::CSV_HEADER)).unwrap();
            format!("{:#}", dir.read_history().unwrap_err())
        };
        let at = |line: u64| format!("{} line {line}: ", dir.history().display());
        assert_eq!(err("1,2,3\n"), format!("{}expected 9 fields, found 3", at(2)));
        assert_eq!(
            err("1,2,3,4,5,6,7,8,9\n1,x,3,4,5,6,7,8,9\n"),
            format!("{}field 2 `x` is not a number", at(3))
        );
        assert_eq!(
            err("one,2,3,4,5,6,7,8,9\n"),
            format!("{}epoch `one` is not a whole number", at(2))
        );
    }

    #[test]
    fn names_and_what_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::of_seed(tmp.path(), 7);
        assert_eq!(dir.path(), tmp.path().join("seed-7"));
        assert_eq!(dir.lease(3), dir.path().join("lease-3.json"));
        assert_eq!(RunDir::lease_generation("lease-3.json"), Some(3));
        assert_eq!(RunDir::lease_generation("lease-3.json.1.tmp"), None);
        assert!(!dir.is_started() && !dir.is_finished() && !dir.has_checkpoint());
        std::fs::create_dir_all(dir.path()).unwrap();
        std::fs::write(dir.summary(), "{}").unwrap();
        assert!(!dir.is_finished(), "a summary without a config is not a finished run");
        std::fs::write(dir.config(), "{}").unwrap();
        assert!(dir.is_started() && dir.is_finished());
        let events = dir.event_file(1700000000, "node3", 41);
        assert_eq!(events.file_name().unwrap(), "events.out.tfevents.1700000000.node3.41.convlab");
        std::fs::write(&events, b"").unwrap();
        assert_eq!(dir.event_file_of("node3", 41), Some(events.clone()));
        assert_eq!(dir.event_file_of("node3", 4), None);
        let restart = dir.restart_files();
        assert!(restart.contains(&dir.history()) && restart.contains(&events));
        assert!(!restart.contains(&dir.config()) && !restart.contains(&dir.attempts()));
    }
}
