//! convlab — convolutional-network studies on small image datasets,
//! reproducible and fast, on libtorch through tch.
//!
//! - [`model`]: one configurable ResNet covering every network of the study.
//! - [`prelude`]: what the notebooks import.
pub mod device;
pub mod model;
pub mod prelude;
