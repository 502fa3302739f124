//! A loaded dataset: every split as uint8 tensors with labels and file names.
use super::layout::Layout;
use super::listing::Skipped;
use super::{DataConfig, DataError, SplitName};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::{Kind, Tensor};

/// One split: images as uint8 `[N,C,H,W]` on the CPU, labels int64 `[N]` (−1 = unlabelled), file
/// names.
#[derive(Debug)]
pub struct Split {
    pub images: Tensor,
    pub labels: Tensor,
    /// Names relative to the split (`<class>/<file>`, or `<file>` for a flat test folder),
    /// escaped with [`super::escape_name`].
    pub files: Vec<String>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.files.len()
    }
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// Whether every image has a label.
    pub fn is_labelled(&self) -> bool {
        self.is_empty() || self.labels.min().int64_value(&[]) >= 0
    }
    /// Images per class (`num_classes` entries).
    pub fn class_counts(&self, num_classes: usize) -> Vec<i64> {
        let mut counts = vec![0i64; num_classes];
        // As int64 and flat, the conversion cannot fail.
        let labels = Vec::<i64>::try_from(self.labels.to_kind(Kind::Int64).flatten(0, -1))
            .expect("a flat int64 tensor converts to Vec<i64>");
        for l in labels {
            if l >= 0 && (l as usize) < num_classes {
                counts[l as usize] += 1;
            }
        }
        counts
    }
}

/// Per-channel mean and standard deviation of the training images, in [0, 1] units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Clone for Split {
    /// The same tensors (shared, not copied: a split is never written to) and file names.
    fn clone(&self) -> Self {
        Split {
            images: self.images.shallow_clone(),
            labels: self.labels.shallow_clone(),
            files: self.files.clone(),
        }
    }
}

/// A loaded dataset: every split as tensors, plus what was left out. A clone shares the tensors.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub config: DataConfig,
    pub classes: Vec<String>,
    pub train: Split,
    pub val: Split,
    /// Present when the source has a test split.
    pub test: Option<Split>,
    /// Normalisation statistics of `train`.
    pub stats: NormStats,
    /// Files left out, with reasons (empty under `strict`, which errors instead).
    pub skipped: Vec<Skipped>,
    /// The layout the source was recognised as.
    pub layout: Layout,
    /// Whether this load came from the cache.
    pub from_cache: bool,
    /// The cache file (`.safetensors`; its manifest is beside it as `.json`).
    pub cache_path: PathBuf,
    /// Seconds this load took.
    pub seconds: f64,
}

/// What a dataset is, exactly enough to tell two studies on different subsets apart:
/// written into every run's `config.json` (`dataset`) and the write-up's set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// `imagefolder`, `tiny-imagenet` or `fashion-mnist`.
    pub source: String,
    /// The directory it was read from, as the loading process saw it.
    pub path: PathBuf,
    /// The layout recognised ([`Layout::describe`]).
    pub layout: String,
    /// Classes the source has (before `classes` / `class_list`).
    pub source_classes: usize,
    /// The classes kept, in label order.
    pub classes: Vec<String>,
    /// CRC-32 of the class names joined by newlines, as 8 hex digits: one word for the class list.
    pub classes_crc32: String,
    pub train: usize,
    pub val: usize,
    /// Test images (`None`: no test split).
    pub test: Option<usize>,
    pub test_labelled: bool,
    /// `[C, H, W]` of every image.
    pub shape: [i64; 3],
    /// The hold-out validation came from, if it came from `train/`.
    pub holdout: Option<super::Holdout>,
    /// Files left out.
    pub skipped: usize,
}

impl DataRecord {
    /// How `self` (the data now) differs from `stored` (a run's), in what changes results:
    /// classes, split sizes, image shape. `None` when they agree.
    pub fn differs_from(&self, stored: &DataRecord) -> Option<String> {
        let mut out = Vec::new();
        if self.classes_crc32 != stored.classes_crc32 {
            out.push(format!(
                "classes {} ({}) → {} ({})",
                stored.classes.len(),
                stored.classes_crc32,
                self.classes.len(),
                self.classes_crc32
            ));
        }
        for (name, a, b) in [("train", stored.train, self.train), ("val", stored.val, self.val)] {
            if a != b {
                out.push(format!("{name} {a} → {b} images"));
            }
        }
        if stored.test != self.test {
            out.push(format!("test {:?} → {:?} images", stored.test, self.test));
        }
        if stored.shape != self.shape {
            out.push(format!("images {:?} → {:?}", stored.shape, self.shape));
        }
        (!out.is_empty()).then(|| out.join(", "))
    }
}

/// CRC-32 of `classes` joined by newlines, as 8 hex digits.
pub fn classes_crc32(classes: &[String]) -> String {
    format!("{:08x}", crc32fast::hash(classes.join("\n").as_bytes()))
}

impl Dataset {
    /// What this dataset is ([`DataRecord`]).
    pub fn record(&self) -> DataRecord {
        DataRecord {
            source: self.config.source.kind().to_string(),
            path: self.config.source.path().to_path_buf(),
            layout: self.layout.describe(),
            source_classes: self.layout.source_classes,
            classes: self.classes.clone(),
            classes_crc32: classes_crc32(&self.classes),
            train: self.train.len(),
            val: self.val.len(),
            test: self.test.as_ref().map(Split::len),
            test_labelled: self.test.as_ref().is_some_and(|t| !t.is_empty() && t.is_labelled()),
            shape: self.shape(),
            holdout: self.config.holdout,
            skipped: self.skipped.len(),
        }
    }

    /// The split `name`; an error naming the data when it has no test split.
    pub fn split(&self, name: SplitName) -> Result<&Split, DataError> {
        match name {
            SplitName::Val => Ok(&self.val),
            SplitName::Test => self
                .test
                .as_ref()
                .ok_or_else(|| DataError::layout(self.config.source.path(), "no test split")),
        }
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// `[C,H,W]` of every image.
    pub fn shape(&self) -> [i64; 3] {
        let s = self.train.images.size();
        [s[1], s[2], s[3]]
    }

    /// One paragraph: sizes, classes, source (its path shown in `paths`' style), cache.
    pub fn summary(&self, paths: &crate::paths::PathStyle) -> String {
        let [c, h, w] = self.shape();
        format!(
            "{} ({}): {} classes, {c}×{h}×{w}; train {}, val {}, test {}; mean {:.3?} std {:.3?}; \
                {} skipped; {} in {:.2} s",
            self.config.source.kind(),
            paths.show(self.config.source.path()),
            self.num_classes(),
            self.train.len(),
            self.val.len(),
            self.test.as_ref().map_or("none".into(), |t| t.len().to_string()),
            self.stats.mean,
            self.stats.std,
            self.skipped.len(),
            if self.from_cache { "from cache" } else { "decoded" },
            self.seconds,
        )
    }
}
