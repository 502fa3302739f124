//! `use convlab::prelude::*;` — the names a notebook needs.
pub use crate::analysis::{SectionResult, Show, Table, confusion_matrix};
pub use crate::data::{Augment, DataConfig, Dataset, Loader, Source, SynthConfig};
pub use crate::device::{Device, libtorch_info};
pub use crate::model::{ConfigError, Norm, Pool, ResNet, ResNetConfig, Stem};
pub use crate::plan::{Plan, Profile, Recipe, Section, Variant};
pub use crate::plot::{Curve, Figure, Markdown};
pub use crate::settings::Settings;
pub use crate::study::Study;
pub use crate::train::{
    EpochRecord, Experiment, ExperimentSummary, Run, RunConfig, RunOptions, RunSummary, Schedule,
    TrainConfig,
};
pub use polars::prelude::DataFrame;
pub use tch::{self, Kind, Tensor, nn, nn::ModuleT};
