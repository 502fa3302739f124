//! convlab — convolutional-network studies on small image datasets,
//! reproducible and fast, on libtorch through tch.
//!
//! - [`settings`]: what a study runs with — flags over `CONVLAB_*` variables over `convlab.toml`
//!   over the profile's defaults, resolved once at the edge ([`settings::Settings::from_env`]).
//! - [`cli`]: the `convlab` command's argument groups and the configs they build.
//! - [`mod@bench`]: throughput benchmarks (train step, raw libtorch step, evaluation, epoch with loader).
//! - [`data`]: datasets in (ImageFolder, Tiny ImageNet, Fashion-MNIST), cached tensors and batches out.
//! - [`model`]: one configurable ResNet covering every network of the study.
//! - [`study`]: the report's sections as experiments, profiles (full, quick, smoke), tables and figures.
//! - [`train`]: the training loop, runs on disk (resumable, cached), predictions.
//! - [`paths`]: paths as shown to users (project-relative, `~`).
//! - [`plot`]: figures (plotters) as SVG/PNG and inline in notebooks.
//! - [`prelude`]: what the notebooks import.
pub mod bench;
pub mod cli;
pub mod data;
pub mod device;
pub mod io;
pub mod paths;
pub mod model;
pub mod plot;
pub mod train;
pub mod prelude;
pub mod settings;
pub mod signals;
pub mod study;
