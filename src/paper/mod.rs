//! The paper's open questions, answered by experiment, and the profile held against the
//! paper's findings:
//! 1. [`instance_norm()`]: why did InstanceNorm collapse? Probes at the paper's own lr, the
//!    spread of the pooled features, and a max-pooling head.
//! 2. [`no_norm()`]: is "no normalization" better than BatchNorm?
//! 3. [`generalisation()`]: the gap between train and validation for every variant (is a
//!    constant lr "accurate but unhealthy"?).
//! 4. [`dropout_trend`]: does accuracy fall as dropout's p grows? A least-squares slope.
//! 5. [`depth_cost`]: what do resnet14 / resnet18 / resnet34 cost? Measured by the benchmark.
//!
//! [`at_paper_lr()`] probes the findings whose status may hinge on the profile's scaled lr at
//! the paper's own lr 0.001.
//!
//! [`Answers::fidelity`] then says, finding by finding, whether the profile reproduces the paper,
//! contradicts it or cannot tell. Every sentence of a conclusion is built from the numbers
//! next to it.
mod depth;
mod dropout;
mod fidelity;
mod generalisation;
mod instance_norm;
mod no_norm;
mod notebooks;
mod paper_lr;
mod writeup;

pub use depth::*;
pub use dropout::*;
pub use fidelity::*;
pub use generalisation::*;
pub use instance_norm::*;
pub use no_norm::*;
pub use notebooks::{PaperExtras, paper_notebooks};
pub use paper_lr::*;
pub use writeup::addendum;

use crate::plan as sections;

/// The normalization section's probes (`studies/paper.toml`): BatchNorm and InstanceNorm at
/// the paper's lr 0.001, each with the average-pooling and with a max-pooling head.
pub(super) const PROBE_BN: &str = "probe-bn-lr1e-3";
pub(super) const PROBE_IN: &str = "probe-in-lr1e-3";
pub(super) const PROBE_BN_MAX: &str = "probe-bn-max-lr1e-3";
pub(super) const PROBE_IN_MAX: &str = "probe-in-max-lr1e-3";

/// `0.739` as `73.9%`.
pub(super) fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The mean of `x` ([`stats::mean`]); 0 when it is empty.
pub(super) fn mean(x: &[f64]) -> f64 {
    if x.is_empty() { 0.0 } else { crate::analysis::stats::mean(x) }
}

/// The paper's best validation accuracy of its variant `key` (its plan's `reported`; NaN
/// where the paper gave none).
pub(super) fn reported_acc(key: &str) -> f64 {
    sections::paper_variant(key).ok().and_then(|v| v.reported).unwrap_or(f64::NAN)
}
