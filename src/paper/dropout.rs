//! Q4. Does accuracy fall as dropout's p grows? A least-squares slope.
use super::mean;
use crate::analysis::compare::{pp, show_p};
use crate::analysis::results::{SectionResult, VariantResult};
use crate::analysis::stats::{self, Regression, round};
use polars::prelude::*;

/// Accuracy against dropout's p. See [`dropout_trend`].
#[derive(Debug, Clone)]
pub struct DropoutTrend {
    /// (p, best validation accuracy, final train accuracy) of every run.
    pub points: Vec<(f64, f64, f64)>,
    /// Best validation accuracy on p.
    pub val: Option<Regression>,
    /// Final train accuracy on p (under-fitting shows as a falling train accuracy).
    pub train: Option<Regression>,
}

/// Q4. The paper: "accuracy falls steadily as p grows, with more under-fitting". Every run of
/// no normalization (p = 0: BatchNorm removed, no dropout) and of dropout 0.1 / 0.2 / 0.3
/// (BatchNorm removed): the least-squares slope of best validation accuracy on p, with its
/// 95% CI, and the same for the final train accuracy.
pub fn dropout_trend(dropout: &SectionResult, norm_none: &VariantResult) -> DropoutTrend {
    dropout_trend_over(
        std::iter::once(norm_none)
            .chain(dropout.results.iter().filter(|r| r.variant.key.starts_with("dropout-"))),
    )
}

/// The slopes of [`dropout_trend`] over the runs of `results` (no-BN variants, each with its
/// own dropout p; p = 0 is no normalization without dropout).
pub fn dropout_trend_over<'a>(results: impl Iterator<Item = &'a VariantResult>) -> DropoutTrend {
    let mut points = Vec::new();
    for r in results {
        for run in &r.runs {
            let (Some(s), Some(last)) = (run.summary.as_ref(), run.history.last()) else {
                continue;
            };
            points.push((run.config.model.dropout, s.best_val_acc, last.train_acc));
        }
    }
    let x: Vec<f64> = points.iter().map(|p| p.0).collect();
    let val = stats::linregress(&x, &points.iter().map(|p| p.1).collect::<Vec<_>>());
    let train = stats::linregress(&x, &points.iter().map(|p| p.2).collect::<Vec<_>>());
    DropoutTrend { points, val, train }
}

impl DropoutTrend {
    /// Per p: runs, mean best validation accuracy, mean final train accuracy, and their gap.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let mut ps: Vec<f64> = self.points.iter().map(|p| p.0).collect();
        ps.sort_by(f64::total_cmp);
        ps.dedup();
        let at = |p: f64| self.points.iter().filter(move |q| q.0 == p);
        let m = |p: f64, g: fn(&(f64, f64, f64)) -> f64| {
            round(mean(&at(p).map(g).collect::<Vec<_>>()), 4)
        };
        df!(
            "p" => ps.clone(),
            "runs" => ps.iter().map(|&p| at(p).count() as u32).collect::<Vec<_>>(),
            "best_val_acc" => ps.iter().map(|&p| m(p, |q| q.1)).collect::<Vec<_>>(),
            "final_train_acc" => ps.iter().map(|&p| m(p, |q| q.2)).collect::<Vec<_>>(),
            "val_min" => ps.iter().map(|&p| round(at(p).map(|q| q.1).fold(f64::INFINITY, f64::min), 4)).collect::<Vec<_>>(),
            "val_max" => ps.iter().map(|&p| round(at(p).map(|q| q.1).fold(f64::NEG_INFINITY, f64::max), 4)).collect::<Vec<_>>(),
        )
    }

    /// −1 (falls), +1 (rises) or 0 (not separable) for the validation slope; `None` without one.
    pub fn direction(&self) -> Option<i32> {
        let r = self.val?;
        Some(if r.ci95.1 < 0.0 {
            -1
        } else if r.ci95.0 > 0.0 {
            1
        } else {
            0
        })
    }

    pub(super) fn describe(r: &Regression) -> String {
        // Per 0.1 of p, in pp: the step between the paper's dropout settings.
        let s = |x: f64| pp(x / 10.0);
        format!(
            "{} pp per 0.1 of p, 95% CI [{}, {}], p {}",
            s(r.slope),
            s(r.ci95.0),
            s(r.ci95.1),
            show_p(r.p)
        )
    }

    pub fn conclusion(&self) -> String {
        let (Some(v), Some(t)) = (self.val, self.train) else {
            return format!(
                "{} run(s) so far: a slope needs three runs over at least two values of p.",
                self.points.len()
            );
        };
        let words = match self.direction() {
            Some(-1) => "accuracy **falls** as p grows: the paper's trend is reproduced",
            Some(1) => "accuracy **rises** as p grows: the paper's trend is contradicted",
            _ => {
                "**no detectable trend**: the slope's CI spans zero, so the paper's steady fall \
                    is neither shown nor ruled out"
            }
        };
        let mut out = vec![format!(
            "Best validation accuracy on p over {} runs (p = 0 is no normalization without \
                dropout): {} — {words}.",
            self.points.len(),
            Self::describe(&v)
        )];
        out.push(format!(
            "Final train accuracy on p: {} — {}.",
            Self::describe(&t),
            if t.ci95.1 < 0.0 {
                "the network fits the training data less as p grows (under-fitting grows)"
            } else if t.ci95.0 > 0.0 {
                "train accuracy rises with p"
            } else {
                "no detectable change in how well the training data is fitted"
            }
        ));
        let stalled: Vec<String> = self
            .stalled()
            .iter()
            .map(|(p, acc, med)| format!("p = {p}: {acc:.3} (median {med:.3})"))
            .collect();
        if !stalled.is_empty() {
            out.push(format!(
                "Runs more than 10 pp below their p's median (BatchNorm removed, a \
                run can stall): {}. The slope is sensitive to them.",
                stalled.join("; ")
            ));
        }
        out.join("\n\n")
    }

    /// Runs more than 10 pp below the median of their p — the no-BN runs that stalled:
    /// (p, best validation accuracy, that median).
    pub fn stalled(&self) -> Vec<(f64, f64, f64)> {
        let mut out = Vec::new();
        for &(p, acc, _) in &self.points {
            let same: Vec<f64> = self.points.iter().filter(|q| q.0 == p).map(|q| q.1).collect();
            if let Some(med) = stats::median(&same)
                && acc < med - 0.1
            {
                out.push((p, acc, med));
            }
        }
        out
    }
}
