//! The findings whose status may hinge on the profile's scaled learning rate, probed at the
//! paper's own lr 0.001: the stem, no normalization, no residual connections, the dropout
//! trend and constant lr 1e-3. Each is the same variant with `train.lr = 0.001` unscaled
//! (`studies/paper.toml`'s `probe-…-lr1e-3`), against xknet18 at that lr ([`PROBE_BN`]).
//! Read as exploratory: the comparisons are Holm-adjusted among themselves, outside the
//! study's family.
use super::PROBE_BN;
use super::dropout::{DropoutTrend, dropout_trend_over};
use super::generalisation::{GapRow, accurate_but_unhealthy};
use crate::analysis::compare::{Comparison, Family, Member};
use crate::analysis::stats::{self, Welch};
use crate::plan::Setup;

/// Each probed comparison: (the finding's variant in the study's family, the probe of the
/// variant side, the probe of the reference side), every probe at the paper's lr.
pub const PAIRS: [(&str, &str, &str); 4] = [
    ("xknet18", PROBE_BN, "probe-resnet18-lr1e-3"),
    ("norm-none", "probe-norm-none-lr1e-3", PROBE_BN),
    ("no-residual", "probe-no-residual-lr1e-3", PROBE_BN),
    ("constant-lr-1e-3", "probe-constant-lr1e-3", PROBE_BN),
];

/// The dropout trend's probes at the paper's lr: p = 0 (no normalization), 0.1, 0.2, 0.3.
pub const DROPOUT: [&str; 4] = [
    "probe-norm-none-lr1e-3",
    "probe-dropout-0.1-lr1e-3",
    "probe-dropout-0.2-lr1e-3",
    "probe-dropout-0.3-lr1e-3",
];

/// The findings at the paper's lr. See [`at_paper_lr`].
#[derive(Debug, Clone)]
pub struct AtPaperLr {
    /// [`PAIRS`]' comparisons, Holm-adjusted among themselves.
    pub family: Family,
    /// Accuracy against dropout's p over [`DROPOUT`]'s runs.
    pub dropout: DropoutTrend,
    /// Constant lr 0.001's generalisation gap against xknet18's at 0.001 (with StepLR).
    pub gap: Option<Welch>,
}

/// The probes at the paper's lr, trained where they are not stored yet, and their answers.
pub fn at_paper_lr(setup: &Setup) -> anyhow::Result<AtPaperLr> {
    let section = |probe: &str| -> String {
        setup
            .plan
            .sections
            .iter()
            .find(|s| s.probes.iter().any(|p| p.key == probe))
            .map_or_else(|| "normalization".into(), |s| s.key.clone())
    };
    let members: Vec<Member> = PAIRS
        .iter()
        .map(|(_, v, r)| {
            Ok((
                section(v),
                setup.plan.find_variant(r)?.clone(),
                setup.plan.find_variant(v)?.clone(),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    // Every probe's runs, trained first where they are not stored, then read by all three.
    let mut runs = std::collections::BTreeMap::new();
    for key in PAIRS.iter().flat_map(|(_, v, r)| [*v, *r]).chain(DROPOUT) {
        if !runs.contains_key(key) {
            runs.insert(key, crate::analysis::variant_runs(setup, key)?);
        }
    }
    let family = crate::analysis::family_over(setup, members)?;
    let dropout = dropout_trend_over(DROPOUT.iter().filter_map(|k| runs.get(k)));
    let gap = match (
        runs.get(PROBE_BN).and_then(GapRow::of),
        runs.get("probe-constant-lr1e-3").and_then(GapRow::of),
    ) {
        (Some(bn), Some(c)) => stats::welch(&bn.gaps, &c.gaps),
        _ => None,
    };
    Ok(AtPaperLr { family, dropout, gap })
}

impl AtPaperLr {
    /// The probed comparison of the study's comparison for `variant`, if it was probed.
    pub fn comparison(&self, variant: &str) -> Option<&Comparison> {
        let (_, probe, reference) = PAIRS.iter().find(|(v, _, _)| *v == variant)?;
        self.family
            .comparisons
            .iter()
            .find(|c| c.variant.variant.key == *probe && c.reference.variant.key == *reference)
    }

    /// "Accurate but unhealthy" at the paper's lr ([`accurate_but_unhealthy`]).
    pub fn unhealthy(&self) -> Option<bool> {
        Some(accurate_but_unhealthy(self.comparison("constant-lr-1e-3")?, &self.gap?))
    }

    /// What the probes say, finding by finding.
    pub fn conclusion(&self) -> String {
        let mut out = vec![format!(
            "Every probe is its finding's variant at the paper's own lr 0.001 (unscaled), against \
                xknet18 at that lr, on the probes' seeds; the comparisons are Holm-adjusted among \
                themselves ({}), outside the study's family: exploratory.",
            self.family.comparisons.len()
        )];
        for (variant, _, _) in PAIRS {
            if let Some(c) = self.comparison(variant) {
                out.push(format!(
                    "{} against {}: {}.",
                    c.variant.variant.label,
                    c.reference.variant.label,
                    c.labelled()
                ));
            }
        }
        if let Some(r) = self.dropout.val {
            out.push(format!(
                "Dropout at lr 0.001, best validation accuracy on p over {} runs: {}.",
                self.dropout.points.len(),
                DropoutTrend::describe(&r)
            ));
        }
        if let Some(w) = self.gap {
            out.push(format!(
                "Constant lr 0.001's train–validation gap against xknet18's at lr 0.001: {} \
                    (Welch).",
                crate::analysis::compare::welch_words(&w)
            ));
        }
        out.join("\n\n")
    }
}
