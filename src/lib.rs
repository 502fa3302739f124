//! convlab — convolutional-network studies on small image datasets,
//! reproducible and fast, on libtorch through tch.
//!
//! - [`settings`]: what a study runs with — flags over `CONVLAB_*` variables over `convlab.toml`
//!   over the profile's defaults, resolved once at the edge ([`settings::Settings::from_env`]).
//! - `cli` (feature `cli`, on by default): the `convlab` command's argument groups and the
//!   configs they build.
//! - [`doctor`]: what this machine gives convlab (libtorch, CUDA, cuDNN, devices, a timed step).
//! - [`mod@bench`]: throughput benchmarks (train step, raw libtorch step, evaluation, epoch with
//!   loader).
//! - [`data`]: datasets in (ImageFolder, Tiny ImageNet, Fashion-MNIST), cached tensors and batches
//!   out.
//! - [`model`]: one configurable ResNet covering every network of the study.
//! - [`plan`]: a study defined — plans of sections and variants (the paper's, or yours), the
//!   recipe, profiles (full, quick, smoke), what a study takes from its data, the set-up.
//! - [`grid`]: a study scheduled — units (variant × seed), workers and leases, Slurm, status.
//! - [`analysis`]: a study analysed — statistics, comparisons and verdicts, results, frames.
//! - [`writeup`]: a study written up — the document (Markdown, LaTeX) and the notebooks.
//! - [`paper`]: the paper's own open questions and the profile held against its findings.
//! - [`study`]: [`study::Study`], one value over every stage: what notebooks and commands hold.
//! - [`overrides`]: any configuration field set by name, `key=value` (Hydra's grammar).
//! - [`train`]: the training loop, runs on disk (resumable, cached), predictions.
//! - [`paths`]: paths as shown to users (project-relative, `~`).
//! - [`table`]: tables as text — from a polars frame to CSV, a terminal's borders, HTML.
//! - [`plot`]: figures (plotters) as SVG/PNG and inline in notebooks.
//! - [`prelude`]: what the notebooks import.
pub mod analysis;
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod data;
pub mod device;
pub mod doctor;
pub mod grid;
pub mod io;
pub mod looks;
pub mod model;
pub mod overrides;
pub mod paper;
pub mod paths;
pub mod plan;
pub mod plot;
pub mod prelude;
pub mod settings;
pub mod signals;
pub mod study;
pub mod table;
pub mod train;
pub mod writeup;

/// polars, as the notebooks slice convlab's tables with it (`use convlab::polars::prelude::*;`).
pub use polars;
