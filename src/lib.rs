//! convlab — convolutional-network studies on small image datasets,
//! reproducible and fast, on libtorch through tch.
//!
//! - [`data`]: datasets in (ImageFolder, Tiny ImageNet, Fashion-MNIST), cached tensors and batches out.
//! - [`model`]: one configurable ResNet covering every network of the study.
//! - [`prelude`]: what the notebooks import.
pub mod data;
pub mod device;
pub mod model;
pub mod prelude;
