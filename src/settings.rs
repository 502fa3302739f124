//! Settings: what a study runs with, resolved once at the edge and passed down.
//!
//! Each setting is taken from the first of these that gives it:
//!
//! 1. a command-line flag (`convlab study --profile smoke --seeds 1,2,3`);
//! 2. an environment variable: `CONVLAB_PROFILE`, `CONVLAB_DATA`, `CONVLAB_CLASSES`,
//!    `CONVLAB_SEEDS`, `CONVLAB_DEVICE`, `CONVLAB_EPOCHS`, `CONVLAB_RUNS`,
//!    `CONVLAB_FIGURES`, `CONVLAB_CACHE`, `CONVLAB_FASHION_MNIST`, `CONVLAB_LEASE_TIMEOUT`
//!    (seconds; an empty variable counts as unset);
//! 3. the same key in `convlab.toml` at the project root (`profile = "quick"`,
//!    `seeds = [1, 2, 3]`, `runs = "runs"`; relative paths are relative to the root);
//! 4. the default: the profile's own (`quick` when nothing names one), `<root>/runs`,
//!    `<root>/figures`, `$XDG_CACHE_HOME/convlab` or `~/.cache/convlab`,
//!    `/usr/share/datasets/fashion-mnist`, a lease timeout of 120 s.
//!
//! [`Settings::from_env`] is the one place the library reads the process environment
//! (and the working directory, to find the project root and make relative paths
//! absolute); [`Settings::with_process_identity`] makes settings a grid launcher froze
//! into a file this process's, taking only its identity (home, Slurm job, visible GPUs)
//! from the environment. Everything else — the
//! study, data loading, training — takes a [`Settings`] or the values built from it.
//! A malformed value is an error naming where it came from:
//! ``CONVLAB_SEEDS=1,x: `x` is not a number``.
use crate::data::{DataConfig, Source};
use crate::device::{Device, MemoryFormat};
use crate::looks::Seeding;
use crate::paths::PathStyle;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// The paper's settings on the user's data: 64×64 RGB, 25 epochs, batch 64, width 64.
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
    /// What is wrong (the caller names the value and where it came from).
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "full" => Ok(ProfileName::Full),
            "quick" => Ok(ProfileName::Quick),
            "smoke" => Ok(ProfileName::Smoke),
            _ => Err("expected full, quick or smoke".into()),
        }
    }
}

/// What a study's statistics — its comparisons, intervals and verdicts — are computed on.
/// Tables show both metrics, each under its name ([`Score::column`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// Best validation accuracy: the paper's metric — the epoch is chosen on the validation
    /// split and scored on it.
    #[default]
    BestVal,
    /// The test accuracy of the checkpoint the validation split chose: scored on images that
    /// chose nothing, and more of them (needs a labelled test split).
    TestAtBest,
}

impl std::str::FromStr for Score {
    /// What is wrong (the caller names the value and where it came from).
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().replace('_', "-").as_str() {
            "best-val" => Ok(Score::BestVal),
            "test-at-best" => Ok(Score::TestAtBest),
            _ => Err("expected best-val or test-at-best".into()),
        }
    }
}

impl Score {
    /// The name a user types (`best-val`, `test-at-best`).
    pub fn as_str(self) -> &'static str {
        match self {
            Score::BestVal => "best-val",
            Score::TestAtBest => "test-at-best",
        }
    }

    /// A run's value of this score (`None`: the run has none, e.g. an unlabelled test split).
    pub fn of(self, run: &crate::train::RunSummary) -> Option<f64> {
        match self {
            Score::BestVal => Some(run.best_val_acc),
            Score::TestAtBest => run.test_acc,
        }
    }

    /// As a table's columns name it: `best_val`, `test_at_best` (`best_val_mean`,
    /// `test_at_best_delta_pp`, …).
    pub fn column(self) -> &'static str {
        match self {
            Score::BestVal => "best_val",
            Score::TestAtBest => "test_at_best",
        }
    }

    /// As a legend names it.
    pub fn name(self) -> &'static str {
        match self {
            Score::BestVal => "best validation",
            Score::TestAtBest => "test, best epoch",
        }
    }

    /// As a sentence names it.
    pub fn sentence(self) -> &'static str {
        match self {
            Score::BestVal => "best validation accuracy",
            Score::TestAtBest => "test accuracy of the best epoch",
        }
    }
}

/// A per-class or per-split image cap as a user sets it: `all`, or a number (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// Every image: no cap, whatever the profile's default.
    All,
    /// At most this many.
    At(usize),
}

impl Cap {
    /// As a data config holds it (`None`: all).
    pub fn limit(self) -> Option<usize> {
        match self {
            Cap::All => None,
            Cap::At(n) => Some(n),
        }
    }
}

impl std::str::FromStr for Cap {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(Cap::All),
            t => parse_count(t).map(Cap::At).map_err(|e| format!("{e} (or `all`)")),
        }
    }
}

/// A class list read from a file: one class per line (a folder name, a WordNet id; what
/// follows a tab is ignored, so `wnids.txt` and `words.txt` both work), blank lines and lines
/// starting with `#` skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassList {
    /// The file it was read from.
    pub file: PathBuf,
    pub names: Vec<String>,
}

impl ClassList {
    /// The classes of `text`, read from `file` (the module's format); an error names a class listed
    /// twice.
    pub fn parse(file: &Path, text: &str) -> Result<ClassList, String> {
        let mut names: Vec<String> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let name = line.split('\t').next().unwrap_or("").trim();
            if name.is_empty() || name.starts_with('#') {
                continue;
            }
            if names.iter().any(|n| n == name) {
                return Err(format!("line {}: class `{name}` is listed twice", i + 1));
            }
            names.push(name.to_string());
        }
        if names.is_empty() {
            return Err("no class names (one per line)".into());
        }
        Ok(ClassList { file: file.to_path_buf(), names })
    }

    /// The class list in `file`.
    pub fn read(file: &Path) -> Result<ClassList, String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
        ClassList::parse(file, &text)
    }
}

/// A hold-out fraction, in (0, 1).
fn parse_fraction(s: &str) -> Result<f64, String> {
    let f: f64 = s.trim().parse().map_err(|_| format!("`{}` is not a number", s.trim()))?;
    crate::data::Holdout::of(f)
        .validate()
        .map(|()| f)
        .map_err(|e| e.trim_start_matches(&format!("holdout = {f}: ")).to_string())
}

/// An image side: 0 (keep the source's size) to 4096.
fn parse_size(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= 4096 => Ok(n),
        Ok(n) => Err(format!("{n}: at most 4096")),
        Err(_) => Err(format!("`{}` is not a whole number (0 keeps the source's size)", s.trim())),
    }
}

/// Image channels: 1 (grayscale) or 3 (RGB).
fn parse_channels(s: &str) -> Result<u8, String> {
    match s.trim() {
        "1" => Ok(1),
        "3" => Ok(3),
        t => Err(format!("`{t}`: expected 1 (grayscale) or 3 (RGB)")),
    }
}

/// A setting that could not be read. Every variant names the setting and where it came from.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    /// `CONVLAB_SEEDS=1,x: `x` is not a number`, `/p/convlab.toml: profile = "huge": expected …`.
    #[error("{setting}: {problem}")]
    Invalid { setting: String, problem: String },
    /// `convlab.toml` that is not TOML, or holds an unknown key or a value of the wrong type.
    #[error("{path}: {problem}")]
    Toml { path: PathBuf, problem: String },
}

/// What a study takes from its data and how it scores it. Each unset value is the profile's
/// (`full`: 64×64 RGB, everything, best validation accuracy; `quick`: the source's size, 192
/// training and 100 validation images per class, 5,000 test images, test accuracy at the best
/// epoch); a set one wins, on every profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSettings {
    /// Resize every image to SIZE×SIZE (0: keep the source's size, which must then be one size).
    pub size: Option<u32>,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: Option<u8>,
    /// Keep only these classes (read from a file).
    pub class_list: Option<ClassList>,
    /// Training images per class.
    pub train_per_class: Option<Cap>,
    /// Validation images per class.
    pub val_per_class: Option<Cap>,
    /// Test images.
    pub test_limit: Option<Cap>,
    /// Validate on this share of each class held out of `train/` instead of `val/`.
    pub holdout: Option<f64>,
    /// What the statistics compare.
    pub score: Option<Score>,
    /// Channels-last or NCHW, per variant.
    pub memory_format: Option<MemoryFormat>,
    /// Fixed seeds (the profile's) or looks ([`crate::looks`]); unset: the plan's own.
    pub sequential: Option<Seeding>,
}

impl DataSettings {
    /// Each value from `self`, else from `lower`.
    pub fn or(self, lower: DataSettings) -> DataSettings {
        DataSettings {
            size: self.size.or(lower.size),
            channels: self.channels.or(lower.channels),
            class_list: self.class_list.or(lower.class_list),
            train_per_class: self.train_per_class.or(lower.train_per_class),
            val_per_class: self.val_per_class.or(lower.val_per_class),
            test_limit: self.test_limit.or(lower.test_limit),
            holdout: self.holdout.or(lower.holdout),
            score: self.score.or(lower.score),
            memory_format: self.memory_format.or(lower.memory_format),
            sequential: self.sequential.or(lower.sequential),
        }
    }

    /// The level of `get`'s `CONVLAB_*` variables (see [`Layer::from_vars`]).
    fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<DataSettings, SettingsError> {
        Ok(DataSettings {
            size: read("CONVLAB_SIZE", var("CONVLAB_SIZE"), parse_size)?,
            channels: read("CONVLAB_CHANNELS", var("CONVLAB_CHANNELS"), parse_channels)?,
            class_list: read("CONVLAB_CLASS_LIST", var("CONVLAB_CLASS_LIST"), |s| {
                ClassList::read(Path::new(s.trim()))
            })?,
            train_per_class: read(
                "CONVLAB_TRAIN_PER_CLASS",
                var("CONVLAB_TRAIN_PER_CLASS"),
                str::parse::<Cap>,
            )?,
            val_per_class: read(
                "CONVLAB_VAL_PER_CLASS",
                var("CONVLAB_VAL_PER_CLASS"),
                str::parse::<Cap>,
            )?,
            test_limit: read("CONVLAB_TEST_LIMIT", var("CONVLAB_TEST_LIMIT"), str::parse::<Cap>)?,
            holdout: read("CONVLAB_HOLDOUT", var("CONVLAB_HOLDOUT"), parse_fraction)?,
            score: read("CONVLAB_SCORE", var("CONVLAB_SCORE"), str::parse::<Score>)?,
            memory_format: read(
                "CONVLAB_MEMORY_FORMAT",
                var("CONVLAB_MEMORY_FORMAT"),
                str::parse::<MemoryFormat>,
            )?,
            sequential: read(
                "CONVLAB_SEQUENTIAL",
                var("CONVLAB_SEQUENTIAL"),
                str::parse::<Seeding>,
            )?,
        })
    }

    /// The level of `convlab.toml`'s keys (see [`Layer::from_toml`]); the class list's file is
    /// relative to `root`.
    fn from_toml(file: &TomlFile, path: &Path, root: &Path) -> Result<DataSettings, SettingsError> {
        let key = |k: &str, v: &Option<toml::Value>| TomlKey {
            path,
            key: k.to_string(),
            value: v.clone(),
        };
        Ok(DataSettings {
            size: key("size", &file.size).parse(parse_size)?,
            channels: key("channels", &file.channels).parse(parse_channels)?,
            class_list: match &file.class_list {
                None => None,
                Some(f) => Some(ClassList::read(&root.join(f)).map_err(|problem| {
                    SettingsError::Invalid {
                        setting: format!(
                            "{}: class_list = {:?} ({})",
                            path.display(),
                            f,
                            root.join(f).display()
                        ),
                        problem,
                    }
                })?),
            },
            train_per_class: key("train_per_class", &file.train_per_class)
                .parse(str::parse::<Cap>)?,
            val_per_class: key("val_per_class", &file.val_per_class).parse(str::parse::<Cap>)?,
            test_limit: key("test_limit", &file.test_limit).parse(str::parse::<Cap>)?,
            holdout: key("holdout", &file.holdout).parse(parse_fraction)?,
            score: key("score", &file.score).parse(str::parse::<Score>)?,
            memory_format: key("memory_format", &file.memory_format)
                .parse(str::parse::<MemoryFormat>)?,
            sequential: key("sequential", &file.sequential).parse(str::parse::<Seeding>)?,
        })
    }
}

/// One key of `convlab.toml` whose value may be written as a number or a string
/// (`train_per_class = 300` or `"all"`), parsed from its text.
struct TomlKey<'a> {
    path: &'a Path,
    key: String,
    value: Option<toml::Value>,
}

impl TomlKey<'_> {
    fn parse<T>(
        &self,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, SettingsError> {
        let Some(v) = &self.value else { return Ok(None) };
        let invalid = |problem: String| SettingsError::Invalid {
            setting: format!("{}: {} = {v}", self.path.display(), self.key),
            problem,
        };
        let text = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(f) => f.to_string(),
            _ => return Err(invalid("expected a number or a string".into())),
        };
        parse(&text).map(Some).map_err(invalid)
    }
}

/// A `CONVLAB_*` variable's value parsed, or the error naming `key=value`.
fn read<T>(
    key: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, SettingsError> {
    value
        .map(|v| {
            parse(&v).map_err(|problem| SettingsError::Invalid {
                setting: format!("{key}={v}"),
                problem,
            })
        })
        .transpose()
}

/// One level of the precedence: the settings it gives, each optional.
/// Flags build one directly; [`Layer::from_vars`] and [`Layer::from_toml`] read the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub profile: Option<ProfileName>,
    pub data: Option<Source>,
    pub classes: Option<usize>,
    pub seeds: Option<Vec<u64>>,
    pub device: Option<Device>,
    pub epochs: Option<usize>,
    pub runs: Option<PathBuf>,
    pub figures: Option<PathBuf>,
    pub cache: Option<PathBuf>,
    pub fashion_mnist: Option<PathBuf>,
    /// Seconds without a heartbeat after which another process's lease is stale.
    pub lease_timeout: Option<u64>,
    /// What the study takes from its data, and how it scores it.
    pub data_settings: DataSettings,
}

/// `convlab.toml`: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    profile: Option<String>,
    data: Option<String>,
    classes: Option<usize>,
    seeds: Option<Vec<u64>>,
    device: Option<String>,
    epochs: Option<usize>,
    runs: Option<PathBuf>,
    figures: Option<PathBuf>,
    cache: Option<PathBuf>,
    fashion_mnist: Option<PathBuf>,
    lease_timeout: Option<u64>,
    size: Option<toml::Value>,
    channels: Option<toml::Value>,
    class_list: Option<PathBuf>,
    train_per_class: Option<toml::Value>,
    val_per_class: Option<toml::Value>,
    test_limit: Option<toml::Value>,
    holdout: Option<toml::Value>,
    score: Option<toml::Value>,
    memory_format: Option<toml::Value>,
    sequential: Option<toml::Value>,
}

fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let seeds = s
        .split(',')
        .map(|v| v.trim().parse::<u64>().map_err(|_| format!("`{}` is not a number", v.trim())))
        .collect::<Result<Vec<_>, _>>()?;
    check_seeds(&seeds)?;
    Ok(seeds)
}

/// At least one seed, none listed twice.
pub(crate) fn check_seeds(seeds: &[u64]) -> Result<(), String> {
    if seeds.is_empty() {
        return Err("at least one seed is needed".into());
    }
    if let Some(d) = seeds.iter().enumerate().find_map(|(i, s)| seeds[..i].contains(s).then_some(s))
    {
        return Err(format!("seed {d} is listed twice"));
    }
    Ok(())
}

fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{}` is not a whole number", s.trim())),
    }
}

fn check_count(n: usize) -> Result<usize, String> {
    if n == 0 { Err("must be at least 1".into()) } else { Ok(n) }
}

impl Layer {
    /// The environment level: `CONVLAB_*` variables as `get` returns them (the process
    /// environment in [`Settings::from_env`]; a map in tests). Empty values count as unset;
    /// relative paths stay relative to the working directory.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Layer, SettingsError> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Ok(Layer {
            data_settings: DataSettings::from_vars(&var)?,
            profile: read("CONVLAB_PROFILE", var("CONVLAB_PROFILE"), str::parse::<ProfileName>)?,
            data: read("CONVLAB_DATA", var("CONVLAB_DATA"), |s| s.trim().parse::<Source>())?,
            classes: read("CONVLAB_CLASSES", var("CONVLAB_CLASSES"), parse_count)?,
            seeds: read("CONVLAB_SEEDS", var("CONVLAB_SEEDS"), parse_seeds)?,
            device: read("CONVLAB_DEVICE", var("CONVLAB_DEVICE"), |s| s.trim().parse::<Device>())?,
            epochs: read("CONVLAB_EPOCHS", var("CONVLAB_EPOCHS"), parse_count)?,
            runs: var("CONVLAB_RUNS").map(PathBuf::from),
            figures: var("CONVLAB_FIGURES").map(PathBuf::from),
            cache: var("CONVLAB_CACHE").map(PathBuf::from),
            fashion_mnist: var("CONVLAB_FASHION_MNIST").map(PathBuf::from),
            lease_timeout: read("CONVLAB_LEASE_TIMEOUT", var("CONVLAB_LEASE_TIMEOUT"), |s| {
                parse_count(s).map(|n| n as u64)
            })?,
        })
    }

    /// The `convlab.toml` level from the file's text; relative paths are made relative to `root`.
    pub fn from_toml(path: &Path, text: &str, root: &Path) -> Result<Layer, SettingsError> {
        // One line: the line the parser points at, and its message without the source excerpt.
        let file: TomlFile = toml::from_str(text).map_err(|e| {
            let line =
                e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = e.message().trim().replace('\n', " ");
            let source = text.lines().nth(line - 1).unwrap_or("").trim();
            SettingsError::Toml {
                path: path.into(),
                problem: format!("line {line} (`{source}`): {message}"),
            }
        })?;
        let invalid = |key: &str, value: String, problem: String| SettingsError::Invalid {
            setting: format!("{}: {key} = {value}", path.display()),
            problem,
        };
        let quoted = |s: &str| format!("{s:?}");
        let path_of = |p: Option<PathBuf>| p.map(|p| root.join(p));
        Ok(Layer {
            data_settings: DataSettings::from_toml(&file, path, root)?,
            profile: file
                .profile
                .map(|s| s.parse::<ProfileName>().map_err(|e| invalid("profile", quoted(&s), e)))
                .transpose()?,
            data: file
                .data
                .map(|s| s.parse::<Source>().map_err(|e| invalid("data", quoted(&s), e)))
                .transpose()?,
            classes: file
                .classes
                .map(|n| check_count(n).map_err(|e| invalid("classes", n.to_string(), e)))
                .transpose()?,
            seeds: file
                .seeds
                .map(|s| {
                    check_seeds(&s)
                        .map(|()| s.clone())
                        .map_err(|e| invalid("seeds", format!("{s:?}"), e))
                })
                .transpose()?,
            device: file
                .device
                .map(|s| s.parse::<Device>().map_err(|e| invalid("device", quoted(&s), e)))
                .transpose()?,
            epochs: file
                .epochs
                .map(|n| check_count(n).map_err(|e| invalid("epochs", n.to_string(), e)))
                .transpose()?,
            runs: path_of(file.runs),
            figures: path_of(file.figures),
            cache: path_of(file.cache),
            fashion_mnist: path_of(file.fashion_mnist),
            lease_timeout: file
                .lease_timeout
                .map(|n| {
                    check_count(n as usize)
                        .map(|_| n)
                        .map_err(|e| invalid("lease_timeout", n.to_string(), e))
                })
                .transpose()?,
        })
    }

    /// The settings this layer gives as `convlab.toml` keys (what [`Layer::from_toml`] reads
    /// back), paths made absolute against `cwd`: what `convlab notebooks` writes beside the
    /// notebooks its flags are for.
    pub fn toml_table(&self, cwd: &Path) -> toml::Table {
        use toml::Value;
        let mut t = toml::Table::new();
        let abs = |p: &Path| Value::String(cwd.join(p).display().to_string());
        let count = |n: usize| Value::Integer(n as i64);
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                t.insert(k.to_string(), v);
            }
        };
        put("profile", self.profile.map(|p| Value::String(p.as_str().into())));
        put(
            "data",
            self.data.as_ref().map(|d| {
                let mut d = d.clone();
                match &mut d {
                    Source::ImageFolder { root } | Source::TinyImageNet { root, .. } => {
                        *root = cwd.join(&*root)
                    }
                    Source::FashionMnist { dir } => *dir = cwd.join(&*dir),
                }
                Value::String(d.spec())
            }),
        );
        put("classes", self.classes.map(count));
        put(
            "seeds",
            self.seeds
                .as_ref()
                .map(|s| Value::Array(s.iter().map(|&x| Value::Integer(x as i64)).collect())),
        );
        put("device", self.device.map(|d| Value::String(d.as_str().into())));
        put("epochs", self.epochs.map(count));
        put("runs", self.runs.as_deref().map(abs));
        put("figures", self.figures.as_deref().map(abs));
        put("cache", self.cache.as_deref().map(abs));
        put("fashion_mnist", self.fashion_mnist.as_deref().map(abs));
        put("lease_timeout", self.lease_timeout.map(|n| Value::Integer(n as i64)));
        let d = &self.data_settings;
        let cap = |c: Cap| match c {
            Cap::All => Value::String("all".into()),
            Cap::At(n) => count(n),
        };
        put("size", d.size.map(|n| Value::Integer(n as i64)));
        put("channels", d.channels.map(|n| Value::Integer(n as i64)));
        put("class_list", d.class_list.as_ref().map(|l| abs(&l.file)));
        put("train_per_class", d.train_per_class.map(cap));
        put("val_per_class", d.val_per_class.map(cap));
        put("test_limit", d.test_limit.map(cap));
        put("holdout", d.holdout.map(Value::Float));
        put("score", d.score.map(|s| Value::String(s.as_str().into())));
        put("memory_format", d.memory_format.map(|m| Value::String(m.as_str().into())));
        put("sequential", d.sequential.as_ref().map(|s| Value::String(s.to_string())));
        t
    }

    /// Each setting from `self`, else from `lower`.
    pub fn or(self, lower: Layer) -> Layer {
        Layer {
            profile: self.profile.or(lower.profile),
            data: self.data.or(lower.data),
            classes: self.classes.or(lower.classes),
            seeds: self.seeds.or(lower.seeds),
            device: self.device.or(lower.device),
            epochs: self.epochs.or(lower.epochs),
            runs: self.runs.or(lower.runs),
            figures: self.figures.or(lower.figures),
            cache: self.cache.or(lower.cache),
            fashion_mnist: self.fashion_mnist.or(lower.fashion_mnist),
            lease_timeout: self.lease_timeout.or(lower.lease_timeout),
            data_settings: self.data_settings.or(lower.data_settings),
        }
    }
}

/// Everything a study or a command needs to know about where and how it runs.
/// Unset options mean "the profile's default". Serialized, it is what a grid launcher
/// freezes for its workers (without `home` and `slurm_job`, which are each process's own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The project: `convlab.toml` is read here, `runs/` and `figures/` live here by default.
    pub root: PathBuf,
    /// The user's home directory: paths under it are shown as `~/…`.
    #[serde(skip)]
    pub home: Option<PathBuf>,
    /// The Slurm job this process runs in (`<array job>_<task>` for an array task), written into
    /// its leases.
    #[serde(skip)]
    pub slurm_job: Option<String>,
    /// The GPUs this process may use when `CUDA_VISIBLE_DEVICES` names them (grid workers are
    /// spread over them).
    #[serde(skip)]
    pub visible_gpus: Option<Vec<String>>,
    pub profile: ProfileName,
    /// The data every section trains on (`full` needs it; `quick` may swap Fashion-MNIST for it).
    pub data: Option<Source>,
    /// Keep the first N classes of the data.
    pub classes: Option<usize>,
    /// Seeds per variant.
    pub seeds: Option<Vec<u64>>,
    pub device: Option<Device>,
    /// Epochs per run.
    pub epochs: Option<usize>,
    /// Runs go to `<runs_dir>/<profile>/<variant>/seed-<s>/`.
    pub runs_dir: PathBuf,
    /// Figures go to `<figures_dir>/<profile>/`.
    pub figures_dir: PathBuf,
    /// Decoded datasets are cached here.
    pub cache_dir: PathBuf,
    /// Where Fashion-MNIST's IDX files are (what `fashion-mnist` without a directory means).
    pub fashion_mnist: PathBuf,
    /// Seconds without a heartbeat after which another process's lease on a run is stale.
    pub lease_timeout: u64,
    /// What the study takes from its data and how it scores it (unset: the profile's).
    #[serde(default)]
    pub data_settings: DataSettings,
}

impl Settings {
    /// Every default, for a project at `root` caching data in `cache_dir`.
    pub fn defaults(root: &Path, cache_dir: &Path) -> Settings {
        Settings::resolve(root, None, cache_dir, Layer::default())
    }

    /// The settings of `layer` (levels already merged with [`Layer::or`]) over the defaults.
    pub fn resolve(
        root: &Path,
        home: Option<PathBuf>,
        default_cache: &Path,
        layer: Layer,
    ) -> Settings {
        Settings {
            root: root.to_path_buf(),
            home,
            slurm_job: None,
            visible_gpus: None,
            profile: layer.profile.unwrap_or(ProfileName::Quick),
            data: layer.data,
            classes: layer.classes,
            seeds: layer.seeds,
            device: layer.device,
            epochs: layer.epochs,
            runs_dir: layer.runs.unwrap_or_else(|| root.join("runs")),
            figures_dir: layer.figures.unwrap_or_else(|| root.join("figures")),
            cache_dir: layer.cache.unwrap_or_else(|| default_cache.to_path_buf()),
            fashion_mnist: layer
                .fashion_mnist
                .unwrap_or_else(|| PathBuf::from(crate::data::DEFAULT_FASHION_MNIST)),
            lease_timeout: layer
                .lease_timeout
                .unwrap_or(crate::train::DEFAULT_LEASE_TIMEOUT.as_secs()),
            data_settings: layer.data_settings,
        }
    }

    /// The settings of this process: the environment and `convlab.toml`, no flags.
    /// What a notebook calls (through `Study::from_env`).
    pub fn from_env() -> anyhow::Result<Settings> {
        Settings::from_env_and(Layer::default())
    }

    /// **The one place the library reads the process environment**: `flags` over the
    /// `CONVLAB_*` variables over the working directory's `convlab.toml` (when it is not the
    /// project root) over the project's `convlab.toml` over the defaults. The project root is
    /// `$CONVLAB_ROOT`, else the nearest ancestor of the working directory holding
    /// convlab's `Cargo.toml` (a notebook runs in `notebooks/`), else the working directory.
    pub fn from_env_and(flags: Layer) -> anyhow::Result<Settings> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let root = var("CONVLAB_ROOT").unwrap_or_else(|| find_root(&cwd));
        let home = var("HOME");
        let default_cache = var("XDG_CACHE_HOME")
            .or_else(|| home.as_ref().map(|h| h.join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("convlab");
        let env = Layer::from_vars(|k| std::env::var(k).ok())?;
        // A convlab.toml where the process runs (a notebook's folder: `convlab notebooks`
        // writes the settings its flags give there) over the project's.
        let here = if cwd != root { read_toml(&cwd)? } else { Layer::default() };
        let toml = read_toml(&root)?;
        let mut s = Settings::resolve(&root, home, &default_cache, flags.or(env).or(here).or(toml))
            .absolute(&cwd);
        s.slurm_job = slurm_job(|k| std::env::var(k).ok());
        s.visible_gpus = visible_gpus(std::env::var("CUDA_VISIBLE_DEVICES").ok());
        Ok(s)
    }

    /// Settings another process froze (serialized, e.g. in a grid file) made this process's:
    /// its home directory and Slurm job from the environment, nothing else.
    pub fn with_process_identity(mut self) -> Settings {
        self.home = std::env::var_os("HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
        self.slurm_job = slurm_job(|k| std::env::var(k).ok());
        self.visible_gpus = visible_gpus(std::env::var("CUDA_VISIBLE_DEVICES").ok());
        self
    }

    /// Every path made absolute against `cwd` (the data's too), so that the settings mean
    /// the same in a process started anywhere.
    pub fn absolute(mut self, cwd: &Path) -> Settings {
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = cwd.join(&*p);
            }
        };
        for p in [
            &mut self.root,
            &mut self.runs_dir,
            &mut self.figures_dir,
            &mut self.cache_dir,
            &mut self.fashion_mnist,
        ] {
            abs(p);
        }
        if let Some(src) = &mut self.data {
            match src {
                Source::ImageFolder { root } | Source::TinyImageNet { root, .. } => abs(root),
                Source::FashionMnist { dir } => abs(dir),
            }
        }
        self
    }

    /// How long another process's lease may go without a heartbeat before it is stale.
    pub fn lease_timeout(&self) -> Duration {
        Duration::from_secs(self.lease_timeout)
    }

    /// `source` with `fashion-mnist`'s default directory replaced by [`Settings::fashion_mnist`].
    pub fn locate(&self, source: Source) -> Source {
        match source {
            Source::FashionMnist { dir }
                if dir == Path::new(crate::data::DEFAULT_FASHION_MNIST) =>
            {
                Source::FashionMnist { dir: self.fashion_mnist.clone() }
            }
            other => other,
        }
    }

    /// `cfg` with its source located and, when it names none, this cache directory.
    pub fn data_config(&self, mut cfg: DataConfig) -> DataConfig {
        cfg.source = self.locate(cfg.source);
        cfg.cache_dir.get_or_insert_with(|| self.cache_dir.clone());
        cfg
    }

    /// Paths shown relative to the project root, the home directory as `~`.
    pub fn path_style(&self) -> PathStyle {
        PathStyle::new(Some(self.root.clone()), self.home.clone())
    }
}

/// The Slurm job of this process from Slurm's variables: `<array job>_<task>` in an array, else the
/// job id.
fn slurm_job(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    match (get("SLURM_ARRAY_JOB_ID"), get("SLURM_ARRAY_TASK_ID"), get("SLURM_JOB_ID")) {
        (Some(a), Some(t), _) => Some(format!("{a}_{t}")),
        (_, _, Some(j)) => Some(j),
        _ => None,
    }
}

/// `CUDA_VISIBLE_DEVICES` as a list (`0,2` → ["0", "2"]); unset → `None`, empty → no GPU.
fn visible_gpus(var: Option<String>) -> Option<Vec<String>> {
    var.map(|v| v.split(',').map(str::trim).filter(|g| !g.is_empty()).map(String::from).collect())
}

/// `convlab.toml` in `root` as a layer, its relative paths from `root` (empty when there is no such
/// file).
fn read_toml(root: &Path) -> Result<Layer, SettingsError> {
    let path = root.join("convlab.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => Layer::from_toml(&path, &text, root),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Layer::default()),
        Err(e) => Err(SettingsError::Toml { path, problem: e.to_string() }),
    }
}

/// The nearest ancestor of `dir` holding convlab's `Cargo.toml`, else `dir`.
pub fn find_root(dir: &Path) -> PathBuf {
    for d in dir.ancestors() {
        if std::fs::read_to_string(d.join("Cargo.toml"))
            .is_ok_and(|t| t.contains("name = \"convlab\""))
        {
            return d.to_path_buf();
        }
    }
    dir.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn toml(text: &str) -> Result<Layer, SettingsError> {
        Layer::from_toml(Path::new("/p/convlab.toml"), text, Path::new("/p"))
    }

    fn settings(flags: Layer, env: &[(&str, &str)], toml_text: &str) -> Settings {
        let layer = flags.or(Layer::from_vars(vars(env)).unwrap()).or(toml(toml_text).unwrap());
        Settings::resolve(Path::new("/p"), None, Path::new("/c"), layer)
    }

    #[test]
    fn flag_over_environment_over_toml_over_default() {
        let toml_text = "profile = \"smoke\"\nseeds = [7]\nepochs = 3\ndevice = \"cpu\"\nclasses \
            = 4\ndata = \"imagefolder:/t\"\nruns = \"r\"\ncache = \"/tc\"";
        let env = [
            ("CONVLAB_PROFILE", "full"),
            ("CONVLAB_SEEDS", "5,6"),
            ("CONVLAB_EPOCHS", "2"),
            ("CONVLAB_RUNS", "/er"),
        ];
        let flags =
            Layer { profile: Some(ProfileName::Quick), seeds: Some(vec![1]), ..Layer::default() };

        // Defaults only.
        let s = settings(Layer::default(), &[], "");
        assert_eq!(
            (s.profile, s.seeds.clone(), s.epochs, s.device),
            (ProfileName::Quick, None, None, None)
        );
        assert_eq!(
            (s.runs_dir.as_path(), s.figures_dir.as_path(), s.cache_dir.as_path()),
            (Path::new("/p/runs"), Path::new("/p/figures"), Path::new("/c"))
        );
        assert_eq!(s.fashion_mnist, Path::new(crate::data::DEFAULT_FASHION_MNIST));
        // convlab.toml over the defaults; its relative paths under the root.
        let s = settings(Layer::default(), &[], toml_text);
        assert_eq!(
            (s.profile, s.seeds.clone(), s.epochs, s.device, s.classes),
            (ProfileName::Smoke, Some(vec![7]), Some(3), Some(Device::Cpu), Some(4))
        );
        assert_eq!(s.data, Some(Source::ImageFolder { root: "/t".into() }));
        assert_eq!(
            (s.runs_dir.as_path(), s.cache_dir.as_path()),
            (Path::new("/p/r"), Path::new("/tc"))
        );
        // The environment over convlab.toml, key by key.
        let s = settings(Layer::default(), &env, toml_text);
        assert_eq!(
            (s.profile, s.seeds.clone(), s.epochs, s.device),
            (ProfileName::Full, Some(vec![5, 6]), Some(2), Some(Device::Cpu))
        );
        assert_eq!(s.runs_dir, Path::new("/er"));
        // Flags over the environment.
        let s = settings(flags, &env, toml_text);
        assert_eq!(
            (s.profile, s.seeds.clone(), s.epochs),
            (ProfileName::Quick, Some(vec![1]), Some(2))
        );
        // An empty variable counts as unset.
        let s = settings(
            Layer::default(),
            &[("CONVLAB_PROFILE", " "), ("CONVLAB_SEEDS", "")],
            toml_text,
        );
        assert_eq!((s.profile, s.seeds), (ProfileName::Smoke, Some(vec![7])));
    }

    #[test]
    fn malformed_environment_values_name_the_variable() {
        let err = |k: &str, v: &str| Layer::from_vars(vars(&[(k, v)])).unwrap_err().to_string();
        assert_eq!(err("CONVLAB_SEEDS", "1,x"), "CONVLAB_SEEDS=1,x: `x` is not a number");
        assert_eq!(err("CONVLAB_SEEDS", "1,1"), "CONVLAB_SEEDS=1,1: seed 1 is listed twice");
        assert_eq!(
            err("CONVLAB_PROFILE", "huge"),
            "CONVLAB_PROFILE=huge: expected full, quick or smoke"
        );
        assert_eq!(err("CONVLAB_EPOCHS", "ten"), "CONVLAB_EPOCHS=ten: `ten` is not a whole number");
        assert_eq!(err("CONVLAB_EPOCHS", "0"), "CONVLAB_EPOCHS=0: must be at least 1");
        assert_eq!(err("CONVLAB_CLASSES", "-3"), "CONVLAB_CLASSES=-3: `-3` is not a whole number");
        assert_eq!(err("CONVLAB_DEVICE", "tpu"), "CONVLAB_DEVICE=tpu: expected auto, cpu or cuda");
        let e = err("CONVLAB_DATA", "bogus:/x");
        assert!(e.starts_with("CONVLAB_DATA=bogus:/x: expected imagefolder:PATH"), "{e}");
        assert_eq!(
            err("CONVLAB_DATA", "imagefolder"),
            "CONVLAB_DATA=imagefolder: imagefolder:PATH needs a path"
        );
    }

    #[test]
    fn malformed_toml_values_name_the_file_and_key() {
        let err = |t: &str| toml(t).unwrap_err().to_string();
        assert_eq!(
            err("profile = \"huge\""),
            "/p/convlab.toml: profile = \"huge\": expected full, quick or smoke"
        );
        assert_eq!(
            err("device = \"tpu\""),
            "/p/convlab.toml: device = \"tpu\": expected auto, cpu or cuda"
        );
        assert_eq!(err("seeds = []"), "/p/convlab.toml: seeds = []: at least one seed is needed");
        assert_eq!(err("epochs = 0"), "/p/convlab.toml: epochs = 0: must be at least 1");
        assert_eq!(err("classes = 0"), "/p/convlab.toml: classes = 0: must be at least 1");
        assert!(
            err("data = \"nope\"")
                .starts_with("/p/convlab.toml: data = \"nope\": expected imagefolder:PATH")
        );
        // Wrong types and unknown keys: the TOML parser's message, with the file and the key.
        let e = err("seeds = [1, \"x\"]");
        assert!(e.starts_with("/p/convlab.toml: ") && e.contains("seeds"), "{e}");
        let e = err("epochs = \"ten\"");
        assert!(e.contains("epochs") && e.contains("invalid type"), "{e}");
        let e = err("seed = [1]");
        assert!(e.contains("unknown field `seed`"), "{e}");
        let e = err("epochs = 6\nprofil = \"quick\"");
        assert!(
            e.starts_with("/p/convlab.toml: line 2 (`profil = \"quick\"`): unknown field `profil`"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
        let e = err("profile = ");
        assert!(e.starts_with("/p/convlab.toml: "), "{e}");
    }

    #[test]
    fn fashion_mnist_default_is_located_and_cache_filled() {
        let s = Settings {
            fashion_mnist: "/data/fm".into(),
            ..Settings::defaults(Path::new("/p"), Path::new("/c"))
        };
        assert_eq!(
            s.locate(Source::fashion_mnist()),
            Source::FashionMnist { dir: "/data/fm".into() }
        );
        let own = Source::FashionMnist { dir: "/elsewhere".into() };
        assert_eq!(s.locate(own.clone()), own, "an explicit directory stays");
        let cfg = s.data_config(DataConfig::new(Source::fashion_mnist()));
        assert_eq!(cfg.cache_dir.as_deref(), Some(Path::new("/c")));
        let mine = DataConfig { cache_dir: Some("/mine".into()), ..DataConfig::new(own) };
        assert_eq!(s.data_config(mine).cache_dir.as_deref(), Some(Path::new("/mine")));
    }

    #[test]
    fn root_is_the_nearest_convlab_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let nb = tmp.path().join("notebooks");
        std::fs::create_dir_all(&nb).unwrap();
        assert_eq!(find_root(&nb), nb, "no Cargo.toml: the directory itself");
        std::fs::write(tmp.path().join("Cargo.toml"), "[package]\nname = \"convlab\"\n").unwrap();
        assert_eq!(find_root(&nb), tmp.path());
        std::fs::write(nb.join("Cargo.toml"), "[package]\nname = \"other\"\n").unwrap();
        assert_eq!(find_root(&nb), tmp.path(), "another crate's Cargo.toml is passed over");
    }

    #[test]
    fn data_settings_come_from_flags_variables_and_toml_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("classes.txt"), "# the study's subset\nn02\tgoose\n\nn01\n")
            .unwrap();
        let toml_text = "size = 64\nchannels = 3\ntrain_per_class = \"all\"\nval_per_class = \
            50\nholdout = 0.2\nscore = \"best-val\"\nmemory_format = \"nchw\"\nclass_list = \
            \"classes.txt\"\nsequential = \"4,8\"";
        let file = Layer::from_toml(&tmp.path().join("convlab.toml"), toml_text, tmp.path())
            .unwrap()
            .data_settings;
        let want = DataSettings {
            size: Some(64),
            channels: Some(3),
            class_list: Some(ClassList {
                file: tmp.path().join("classes.txt"),
                names: vec!["n02".into(), "n01".into()],
            }),
            train_per_class: Some(Cap::All),
            val_per_class: Some(Cap::At(50)),
            test_limit: None,
            holdout: Some(0.2),
            score: Some(Score::BestVal),
            memory_format: Some(MemoryFormat::Nchw),
            sequential: Some("4,8".parse().unwrap()),
        };
        assert_eq!(file, want);
        let env = Layer::from_vars(vars(&[
            ("CONVLAB_SIZE", "32"),
            ("CONVLAB_TEST_LIMIT", "all"),
            ("CONVLAB_SCORE", "test_at_best"),
            ("CONVLAB_MEMORY_FORMAT", "channels-last"),
            ("CONVLAB_SEQUENTIAL", "fixed"),
        ]))
        .unwrap()
        .data_settings;
        let merged = Layer {
            data_settings: DataSettings { channels: Some(1), ..Default::default() },
            ..Layer::default()
        }
        .or(Layer { data_settings: env, ..Layer::default() })
        .or(Layer { data_settings: file, ..Layer::default() })
        .data_settings;
        assert_eq!(
            (merged.size, merged.channels, merged.test_limit, merged.val_per_class),
            (Some(32), Some(1), Some(Cap::All), Some(Cap::At(50)))
        );
        assert_eq!(
            (merged.score, merged.memory_format),
            (Some(Score::TestAtBest), Some(MemoryFormat::ChannelsLast))
        );
        assert_eq!(merged.sequential, Some(crate::looks::Seeding::Fixed), "the variable wins");
    }

    #[test]
    fn bad_data_settings_name_the_variable_or_key() {
        let err = |k: &str, v: &str| Layer::from_vars(vars(&[(k, v)])).unwrap_err().to_string();
        assert_eq!(
            err("CONVLAB_SIZE", "big"),
            "CONVLAB_SIZE=big: `big` is not a whole number (0 keeps the source's size)"
        );
        assert_eq!(
            err("CONVLAB_CHANNELS", "2"),
            "CONVLAB_CHANNELS=2: `2`: expected 1 (grayscale) or 3 (RGB)"
        );
        assert_eq!(
            err("CONVLAB_TRAIN_PER_CLASS", "0"),
            "CONVLAB_TRAIN_PER_CLASS=0: must be at least 1 (or `all`)"
        );
        assert_eq!(
            err("CONVLAB_HOLDOUT", "1.5"),
            "CONVLAB_HOLDOUT=1.5: the share of training images held out must be between 0 and 1 \
                (e.g. 0.1)"
        );
        assert_eq!(
            err("CONVLAB_SCORE", "test"),
            "CONVLAB_SCORE=test: expected best-val or test-at-best"
        );
        assert_eq!(
            err("CONVLAB_MEMORY_FORMAT", "nhcw"),
            "CONVLAB_MEMORY_FORMAT=nhcw: expected auto, channels-last or nchw"
        );
        assert!(
            err("CONVLAB_CLASS_LIST", "/nowhere/classes.txt")
                .starts_with("CONVLAB_CLASS_LIST=/nowhere/classes.txt: cannot read")
        );
        let terr = |t: &str| toml(t).unwrap_err().to_string();
        assert_eq!(
            terr("size = -1"),
            "/p/convlab.toml: size = -1: `-1` is not a whole number (0 keeps the source's size)"
        );
        assert_eq!(
            terr("holdout = 0"),
            "/p/convlab.toml: holdout = 0: the share of training images held out must be between \
                0 and 1 (e.g. 0.1)"
        );
        assert_eq!(
            terr("score = true"),
            "/p/convlab.toml: score = true: expected a number or a string"
        );
        assert_eq!(
            terr("sequential = \"5,4\""),
            "/p/convlab.toml: sequential = \"5,4\": 5,4: each look needs more seeds than the one \
                before"
        );
        assert_eq!(
            terr("test_limit = \"some\""),
            "/p/convlab.toml: test_limit = \"some\": `some` is not a whole number (or `all`)"
        );
        assert!(
            terr("class_list = \"none.txt\"").starts_with(
                "/p/convlab.toml: class_list = \"none.txt\" (/p/none.txt): cannot read"
            )
        );
        assert!(terr("memory-format = \"nchw\"").contains("unknown field `memory-format`"));
        assert_eq!(
            ClassList::parse(Path::new("f"), "a\nb\na\n").unwrap_err(),
            "line 3: class `a` is listed twice"
        );
        assert_eq!(
            ClassList::parse(Path::new("f"), "# only\n").unwrap_err(),
            "no class names (one per line)"
        );
    }

    #[test]
    fn a_layer_written_as_toml_reads_back_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("c.txt"), "b\na\n").unwrap();
        let layer = Layer {
            profile: Some(ProfileName::Full),
            data: Some(Source::TinyImageNet { root: "data/tiny".into(), readable_names: true }),
            classes: Some(100),
            seeds: Some(vec![3, 1]),
            device: Some(Device::Cpu),
            epochs: Some(2),
            runs: Some("r".into()),
            data_settings: DataSettings {
                size: Some(0),
                class_list: Some(ClassList::read(&tmp.path().join("c.txt")).unwrap()),
                train_per_class: Some(Cap::All),
                test_limit: Some(Cap::At(7)),
                holdout: Some(0.15),
                score: Some(Score::BestVal),
                memory_format: Some(MemoryFormat::Auto),
                ..Default::default()
            },
            ..Layer::default()
        };
        let text = toml::to_string(&layer.toml_table(tmp.path())).unwrap();
        let back =
            Layer::from_toml(&tmp.path().join("convlab.toml"), &text, Path::new("/elsewhere"))
                .unwrap();
        let abs = Layer {
            data: Some(Source::TinyImageNet {
                root: tmp.path().join("data/tiny"),
                readable_names: true,
            }),
            runs: Some(tmp.path().join("r")),
            ..layer
        };
        assert_eq!(back, abs, "{text}");
    }
}
