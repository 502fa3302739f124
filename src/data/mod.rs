//! Datasets in, cached tensors out.
//!
//! Every source — an ImageFolder tree (the study's layout), Tiny ImageNet in its
//! published layout, Fashion-MNIST's IDX files — becomes the same [`Dataset`]:
//! one uint8 `[N,C,H,W]` tensor per split with labels, class names and file
//! names, decoded once in parallel and cached with a manifest that a changed
//! source invalidates. [`Loader`] batches it on the training device, with
//! seeded shuffling, augmentation and normalisation there.
mod assemble;
mod cache;
mod dataset;
mod decode;
mod export;
mod idx;
mod images;
mod inspect;
mod layout;
mod listing;
mod loader;
mod rng;
pub mod synthetic;
pub use export::export_image_folder;

pub use dataset::{DataRecord, Dataset, NormStats, Split, classes_crc32};
pub use decode::{DEFAULT_MAX_IMAGE_PIXELS, DecodeLimits, decode_image, dimensions_of};
pub use inspect::{ClassCounts, Inspection, inspect};
pub use layout::{Layout, TestSplit, ValSource};
pub use listing::Skipped;
pub use listing::{escape_name, unescape_name};
pub use loader::{Augment, Batch, Loader, RESIDENT_LIMIT_BYTES, augment};
pub use rng::Rng;
pub use synthetic::SynthConfig;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where Debian's `dataset-fashion-mnist` installs the IDX files.
pub const DEFAULT_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// `root/train/<class>/*`, `root/val/<class>/*`, and optionally `root/test/`
    /// with class folders or flat (unlabelled). Classes: sorted folder names of `train`.
    ImageFolder { root: PathBuf },
    /// Tiny ImageNet as published: `wnids.txt`, `words.txt`, `train/<wnid>/images/`,
    /// `val/images/` + `val_annotations.txt`, `test/images/`.
    TinyImageNet {
        root: PathBuf,
        /// Class names from `words.txt` ("goldfish") instead of WordNet ids ("n01443537").
        #[serde(default)]
        readable_names: bool,
    },
    /// Fashion-MNIST IDX files (`train-images-idx3-ubyte[.gz]`, …): train is the first
    /// 50,000 training images, val the last 10,000, test the 10,000 `t10k` images (labelled).
    FashionMnist { dir: PathBuf },
}

impl std::str::FromStr for Source {
    /// What is wrong with the spec (the caller names the spec and where it came from).
    type Err = String;
    /// `imagefolder:PATH`, `tiny:PATH`, `tiny-names:PATH` (readable class names),
    /// `fashion-mnist` or `fashion-mnist:DIR`.
    fn from_str(spec: &str) -> Result<Self, String> {
        let (kind, path) = match spec.split_once(':') {
            Some((k, p)) if !p.is_empty() => (k, Some(PathBuf::from(p))),
            Some((k, _)) => (k, None),
            None => (spec, None),
        };
        let need = |p: Option<PathBuf>| p.ok_or_else(|| format!("{kind}:PATH needs a path"));
        Ok(match kind {
            "imagefolder" => Source::ImageFolder { root: need(path)? },
            "tiny" => Source::TinyImageNet { root: need(path)?, readable_names: false },
            "tiny-names" => Source::TinyImageNet { root: need(path)?, readable_names: true },
            "fashion-mnist" => match path {
                Some(dir) => Source::FashionMnist { dir },
                None => Source::fashion_mnist(),
            },
            _ => {
                return Err(
                    "expected imagefolder:PATH, tiny:PATH, tiny-names:PATH or fashion-mnist[:DIR]"
                        .into(),
                );
            }
        })
    }
}

impl Source {
    /// Fashion-MNIST where Debian's `dataset-fashion-mnist` installs it
    /// ([`DEFAULT_FASHION_MNIST`]; the settings move it to `$CONVLAB_FASHION_MNIST` or
    /// convlab.toml's `fashion_mnist`).
    pub fn fashion_mnist() -> Self {
        Source::FashionMnist { dir: PathBuf::from(DEFAULT_FASHION_MNIST) }
    }

    /// The spec that names it (`imagefolder:PATH`, `tiny:PATH`, `tiny-names:PATH`,
    /// `fashion-mnist:DIR`): what [`Source::from_str`](std::str::FromStr) reads back.
    pub fn spec(&self) -> String {
        match self {
            Source::ImageFolder { root } => format!("imagefolder:{}", root.display()),
            Source::TinyImageNet { root, readable_names: false } => {
                format!("tiny:{}", root.display())
            }
            Source::TinyImageNet { root, readable_names: true } => {
                format!("tiny-names:{}", root.display())
            }
            Source::FashionMnist { dir } => format!("fashion-mnist:{}", dir.display()),
        }
    }

    /// The directory the source reads.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Source::ImageFolder { root } | Source::TinyImageNet { root, .. } => root,
            Source::FashionMnist { dir } => dir,
        }
    }

    /// A short name for logs and cache files.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::ImageFolder { .. } => "imagefolder",
            Source::TinyImageNet { .. } => "tiny-imagenet",
            Source::FashionMnist { .. } => "fashion-mnist",
        }
    }

    /// Image channels when the config does not say: 1 for Fashion-MNIST, else 3.
    pub fn default_channels(&self) -> u8 {
        match self {
            Source::FashionMnist { .. } => 1,
            _ => 3,
        }
    }
}

/// A split a user names (`--split test`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SplitName {
    Test,
    Val,
}

impl SplitName {
    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Test => "test",
            SplitName::Val => "val",
        }
    }
}

/// What to load and how: source, size, subset, cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Where the images come from.
    pub source: Source,
    /// Side of the square images in pixels; other sizes are resized (bilinear). 0 = keep the
    /// source's size.
    #[serde(default)]
    pub image_size: u32,
    /// Channels: 3 (RGB) or 1 (grayscale); unset = the source's own (1 for Fashion-MNIST, else 3).
    #[serde(default)]
    pub channels: Option<u8>,
    /// Keep only the first N classes (in class order, after `class_list`); unset = all.
    #[serde(default)]
    pub classes: Option<usize>,
    /// Keep only the classes named here (folder names, WordNet ids or Fashion-MNIST's names);
    /// they keep the source's order, so labels are as the whole tree's sorted classes would
    /// give them. Unset = every class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_list: Option<Vec<String>>,
    /// Keep the first N training images of each class (by file name / source order); unset = all.
    #[serde(default)]
    pub train_per_class: Option<usize>,
    /// Keep the first N validation images of each class; unset = all.
    #[serde(default)]
    pub val_per_class: Option<usize>,
    /// Keep at most N test images; unset = all.
    #[serde(default)]
    pub test_limit: Option<usize>,
    /// Validation images held out of `train/` instead of a `val/` folder (stratified, seeded):
    /// what a tree without `val/` gets ([`DataConfig::resolved`] fills it in), or what a
    /// user asks for. Unset = the source's own validation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<Holdout>,
    /// Refuse bad files (corrupt, truncated, empty, not an image, not a regular file) with an
    /// error instead of skipping them with a warning.
    #[serde(default)]
    pub strict: bool,
    /// Images with more pixels (width × height) are skipped before they are decoded; unset =
    /// [`DEFAULT_MAX_IMAGE_PIXELS`] (Pillow's decompression-bomb limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_image_pixels: Option<u64>,
    /// Bytes the decoded dataset may take in memory; unset = half of the memory available
    /// when it loads. Not part of the cache key, nor of a run's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_budget: Option<u64>,
    /// Where decoded tensors are cached (required to load; `Settings` gives
    /// `$CONVLAB_CACHE` or `~/.cache/convlab`). Not part of the cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
}

impl DataConfig {
    /// All of a source at its own size.
    pub fn new(source: Source) -> Self {
        Self {
            source,
            image_size: 0,
            channels: None,
            classes: None,
            train_per_class: None,
            val_per_class: None,
            test_limit: None,
            class_list: None,
            holdout: None,
            strict: false,
            max_image_pixels: None,
            memory_budget: None,
            cache_dir: None,
        }
    }

    /// The limits every decode of this dataset runs with.
    pub fn limits(&self) -> DecodeLimits {
        DecodeLimits { max_pixels: self.max_image_pixels.unwrap_or(DEFAULT_MAX_IMAGE_PIXELS) }
    }

    /// Channels the dataset will have.
    pub fn channels(&self) -> u8 {
        self.channels.unwrap_or_else(|| self.source.default_channels())
    }

    /// The cache directory: [`DataConfig::cache_dir`] when set, else an error saying
    /// so (the edge fills it: `Settings::data_config`).
    pub fn cache_dir(&self) -> Result<&std::path::Path, DataError> {
        self.cache_dir.as_deref().ok_or_else(|| {
            DataError::Config(
                "cache_dir is unset: set it, or fill it from the settings (Settings::data_config)"
                    .into(),
            )
        })
    }

    /// This config as it loads from what is on disk: an ImageFolder tree without `val/` gets
    /// the default hold-out ([`Holdout::default`]) unless it names one. What a loaded
    /// dataset's `config` holds, so a run records the hold-out it trained with.
    pub fn resolved(&self) -> DataConfig {
        let mut cfg = self.clone();
        if let Source::ImageFolder { root } = &cfg.source
            && cfg.holdout.is_none()
            && root.join("train").is_dir()
            && !root.join("val").exists()
        {
            cfg.holdout = Some(Holdout::default());
        }
        cfg
    }

    fn validate(&self) -> Result<(), DataError> {
        let c = self.channels();
        if c != 1 && c != 3 {
            return Err(DataError::Config(format!("channels = {c}: must be 1 or 3")));
        }
        if self.image_size > 4096 {
            return Err(DataError::Config(format!(
                "image_size = {}: at most 4096",
                self.image_size
            )));
        }
        for (name, v) in
            [("max_image_pixels", self.max_image_pixels), ("memory_budget", self.memory_budget)]
        {
            if v == Some(0) {
                return Err(DataError::Config(format!(
                    "{name} = 0: must be at least 1 (or unset for the default)"
                )));
            }
        }
        for (name, v) in [("classes", self.classes), ("train_per_class", self.train_per_class)] {
            if v == Some(0) {
                return Err(DataError::Config(format!(
                    "{name} = 0: must be at least 1 (or unset for all)"
                )));
            }
        }
        if let Some(list) = &self.class_list {
            if list.is_empty() {
                return Err(DataError::Config(
                    "class_list is empty: name at least one class (or unset it for all)".into(),
                ));
            }
            if let Some(d) =
                list.iter().enumerate().find_map(|(i, c)| list[..i].contains(c).then_some(c))
            {
                return Err(DataError::Config(format!("class_list names `{d}` twice")));
            }
        }
        if let Some(h) = &self.holdout {
            h.validate().map_err(DataError::Config)?;
            if matches!(self.source, Source::FashionMnist { .. }) {
                return Err(DataError::Config(
                    "holdout: Fashion-MNIST has its own validation split (the last 10,000 \
                        training images); a hold-out is for image trees"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

/// Validation images held out of the training split: in each class, `fraction` of its
/// images (rounded, at least one and never all of a class with two or more), chosen by a
/// permutation seeded with `seed`. The same tree, fraction and seed hold out the same files.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holdout {
    /// Share of each class's training images that becomes validation, in (0, 1).
    pub fraction: f64,
    /// Seed of the permutation that picks them (fixed: [`Holdout::SEED`] unless a config says
    /// otherwise).
    #[serde(default = "Holdout::default_seed")]
    pub seed: u64,
}

impl Default for Holdout {
    /// A tenth of each class, seed [`Holdout::SEED`].
    fn default() -> Self {
        Holdout { fraction: Holdout::DEFAULT_FRACTION, seed: Holdout::SEED }
    }
}

impl Holdout {
    /// What a tree without `val/` holds out unless told otherwise.
    pub const DEFAULT_FRACTION: f64 = 0.1;
    /// The permutation's seed: fixed, so that every study of one tree validates on the same images.
    pub const SEED: u64 = 0;

    fn default_seed() -> u64 {
        Holdout::SEED
    }

    /// `fraction` of each class, the fixed seed.
    pub fn of(fraction: f64) -> Self {
        Holdout { fraction, seed: Holdout::SEED }
    }

    /// The fraction is in (0, 1).
    pub fn validate(&self) -> Result<(), String> {
        if self.fraction > 0.0 && self.fraction < 1.0 {
            Ok(())
        } else {
            Err(format!(
                "holdout = {}: the share of training images held out must be between 0 and 1 \
                    (e.g. 0.1)",
                self.fraction
            ))
        }
    }

    /// How many of a class's `n` training images are held out.
    pub fn count(&self, n: usize) -> usize {
        if n < 2 {
            return 0;
        }
        ((n as f64 * self.fraction).round() as usize).clamp(1, n - 1)
    }
}

/// Why a dataset could not be loaded. Every variant names the file or value.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("data config: {0}")]
    Config(String),
    #[error("{path}: {problem}")]
    Layout { path: PathBuf, problem: String },
    /// The I/O error is part of the message, not a `source`: printed once, not twice in a chain.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: bad image ({problem})")]
    BadImage { path: PathBuf, problem: String },
    #[error("{path}: {problem}")]
    Idx { path: PathBuf, problem: String },
    #[error("cache {path}: {problem}")]
    Cache { path: PathBuf, problem: String },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io { path: path.into(), error }
    }
    pub(crate) fn layout(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        DataError::Layout { path: path.into(), problem: problem.into() }
    }
}
