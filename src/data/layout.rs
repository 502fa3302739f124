//! The layout a source was recognised as: where its validation images come from, what its
//! test split is — what `convlab data inspect` reports and every run records.
use serde::{Deserialize, Serialize};

/// Where a dataset's validation images come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ValSource {
    /// `val/<class>/` folders (ImageFolder).
    #[default]
    Folders,
    /// `val/images/` labelled by `val/val_annotations.txt` (Tiny ImageNet).
    Annotations,
    /// The last 10,000 training images (Fashion-MNIST's IDX files).
    IdxTail,
    /// Held out of `train/` ([`super::Holdout`]).
    HeldOut { fraction: f64, seed: u64 },
}

/// What a dataset's test split is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestSplit {
    /// The source has none.
    #[default]
    Absent,
    /// Every image has a class (class folders, Fashion-MNIST's `t10k`).
    Labelled,
    /// Images without classes (a flat `test/`, Tiny ImageNet's `test/images/`): predictions
    /// can be written, accuracy cannot be computed.
    Unlabelled,
}

/// The layout a source was recognised as: what `convlab data inspect` reports and a run records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// `ImageFolder`, `Tiny ImageNet` or `Fashion-MNIST (IDX)`.
    pub name: String,
    /// Classes the source has, before `classes` or `class_list` chose some.
    pub source_classes: usize,
    pub val: ValSource,
    pub test: TestSplit,
}

impl Layout {
    /// One line: `ImageFolder: train/<class>/, val held out of train/ (10%, seed 0), test/ flat
    /// (unlabelled)`.
    pub fn describe(&self) -> String {
        let val = match self.val {
            ValSource::Folders => "val/<class>/".to_string(),
            ValSource::Annotations => "val/images/ labelled by val/val_annotations.txt".to_string(),
            ValSource::IdxTail => "val = the last 10,000 training images".to_string(),
            ValSource::HeldOut { fraction, seed } => format!(
                "val held out of train/ ({}% of each class, seed {seed})",
                fmt_percent(fraction)
            ),
        };
        let test = match (self.test, self.name.as_str()) {
            (TestSplit::Absent, _) => "no test split".to_string(),
            (TestSplit::Labelled, "Fashion-MNIST (IDX)") => "test = t10k (labelled)".to_string(),
            (TestSplit::Labelled, _) => "test/<class>/ (labelled)".to_string(),
            (TestSplit::Unlabelled, "Tiny ImageNet") => "test/images/ (unlabelled)".to_string(),
            (TestSplit::Unlabelled, _) => "test/ flat (unlabelled)".to_string(),
        };
        let train = match self.name.as_str() {
            "Tiny ImageNet" => "wnids.txt, train/<wnid>/images/",
            "Fashion-MNIST (IDX)" => "train = the first 50,000 training images",
            _ => "train/<class>/",
        };
        format!("{}: {train}, {val}, {test}", self.name)
    }
}

/// `10`, `12.5` — a fraction as a percentage without trailing zeros.
fn fmt_percent(f: f64) -> String {
    let p = (f * 1000.0).round() / 10.0;
    if p.fract() == 0.0 { format!("{p:.0}") } else { format!("{p}") }
}
