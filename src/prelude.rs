//! `use convlab::prelude::*;` — the names a notebook needs.
pub use crate::data::{Augment, DataConfig, Dataset, Loader, Source, SynthConfig};
pub use crate::device::{Device, libtorch_info};
pub use crate::model::{ConfigError, Norm, ResNet, ResNetConfig, Stem};
pub use tch::{Kind, Tensor, nn, nn::ModuleT};
