//! A section's results: tables (polars), figures (plotters), a conclusion drawn from the
//! numbers — the comparisons' CIs and Holm-adjusted verdicts ([`super::compare`]).
use super::compare::{Comparison, Verdict};
use super::profile::ProfileName;
use super::sections::{Section, Variant};
use super::stats::{self, round};
use crate::data::{Dataset, Split};
use crate::plot::{Bar, Curve, Figure};
use crate::train::{ExperimentSummary, Run, predict};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// One variant's experiment: its seeds' runs and their summary.
#[derive(Debug, Clone)]
pub struct VariantResult {
    pub variant: Variant,
    pub summary: ExperimentSummary,
    pub runs: Vec<Run>,
}

impl VariantResult {
    /// Train/validation accuracy and loss averaged over seeds, with the min–max band over them.
    pub fn mean_curve(&self) -> Curve {
        let histories: Vec<&[crate::train::EpochRecord]> = self.runs.iter().map(|r| r.history.as_slice()).collect();
        Curve::mean_of(self.variant.label, &histories).unwrap_or_else(|| Curve::from_history(self.variant.label, &[]))
    }

    /// Train and validation curves of each seed (one colour per seed): the variant alone.
    pub fn seed_curves(&self) -> Figure {
        Figure::curves(self.variant.label, self.runs.iter().map(|r| Curve::from_history(&format!("seed {}", r.config.train.seed), &r.history)).collect())
    }

    /// Best validation accuracy of each seed, in the runs' order.
    pub fn seed_accs(&self) -> Vec<f64> {
        self.summary.runs.iter().map(|r| r.best_val_acc).collect()
    }

    /// 95% CI of the mean best validation accuracy over seeds (Student's t), clipped to
    /// [0, 1], the range of an accuracy; `None` for one seed.
    pub fn ci95(&self) -> Option<(f64, f64)> {
        stats::mean_ci95(&self.seed_accs()).map(|(lo, hi)| (lo.max(0.0), hi.min(1.0)))
    }

    /// Its bar: mean, 95% CI, seeds, the report's value.
    pub fn bar(&self, note: Option<String>) -> Bar {
        Bar { label: self.variant.label.into(), mean: self.summary.best_val_acc_mean, ci95: self.ci95(), seeds: self.seed_accs(), reported: self.variant.reported, note }
    }

    /// Minutes of training, all seeds.
    pub fn minutes(&self) -> f64 {
        self.summary.runs.iter().map(|r| r.wall_seconds).sum::<f64>() / 60.0
    }
}

/// All variants of one section under one profile.
#[derive(Debug, Clone)]
pub struct SectionResult {
    pub section: Section,
    pub profile: ProfileName,
    pub results: Vec<VariantResult>,
    /// The section's comparisons, adjusted over the study's whole family ([`super::Study::family`]).
    pub comparisons: Vec<Comparison>,
    pub classes: Vec<String>,
}

impl SectionResult {
    pub fn get(&self, key: &str) -> Option<&VariantResult> {
        self.results.iter().find(|r| r.variant.key == key)
    }

    pub fn reference(&self) -> Option<&VariantResult> {
        self.section.reference.and_then(|k| self.get(k))
    }

    /// The comparison of `key` with the section's reference.
    pub fn comparison(&self, key: &str) -> Option<&Comparison> {
        self.comparisons.iter().find(|c| c.variant.variant.key == key)
    }

    /// The seeds of the section's runs, in first-seen order.
    fn seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = Vec::new();
        for s in self.results.iter().flat_map(|r| r.summary.seeds.iter()) {
            if !seeds.contains(s) {
                seeds.push(*s);
            }
        }
        seeds
    }

    /// One row per variant: the best validation accuracy of every seed (`seed_<s>`), their
    /// mean and std, the difference to the reference in pp with its 95% CI (Welch), the
    /// Holm-adjusted p over the study's 15 comparisons, the verdict, the report's number,
    /// the mean best epoch and the minutes of training.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rs = &self.results;
        let cmp = |r: &VariantResult| self.comparison(r.variant.key);
        let mut cols: Vec<Column> = vec![Column::new("variant".into(), rs.iter().map(|r| r.variant.key).collect::<Vec<_>>())];
        for seed in self.seeds() {
            let v: Vec<Option<f64>> = rs.iter().map(|r| r.summary.runs.iter().find(|s| s.seed == seed).map(|s| s.best_val_acc)).collect();
            cols.push(Column::new(format!("seed_{seed}").into(), v));
        }
        let f = |name: &str, g: &dyn Fn(&VariantResult) -> Option<f64>| Column::new(name.into(), rs.iter().map(g).collect::<Vec<Option<f64>>>());
        cols.extend([
            f("mean", &|r| Some(round(r.summary.best_val_acc_mean, 4))),
            f("std", &|r| (r.runs.len() > 1).then(|| round(r.summary.best_val_acc_std, 4))),
            f("delta_pp", &|r| cmp(r).and_then(|c| c.diff()).map(|d| round(100.0 * d, 2))),
            f("ci95_lo_pp", &|r| cmp(r).and_then(|c| c.welch).map(|w| round(100.0 * w.ci95.0, 2))),
            f("ci95_hi_pp", &|r| cmp(r).and_then(|c| c.welch).map(|w| round(100.0 * w.ci95.1, 2))),
            f("p_holm", &|r| cmp(r).and_then(|c| c.p_holm).map(|p| round(p, 4))),
            Column::new(
                "verdict".into(),
                rs.iter()
                    .map(|r| match cmp(r) {
                        Some(c) => c.verdict().as_str(),
                        None if self.section.reference == Some(r.variant.key) => "reference",
                        None => "",
                    })
                    .collect::<Vec<_>>(),
            ),
            f("report", &|r| r.variant.reported),
            f("best_epoch", &|r| Some(round(r.summary.runs.iter().map(|s| s.best_epoch as f64).sum::<f64>() / r.summary.runs.len().max(1) as f64, 1))),
            f("minutes", &|r| Some(round(r.minutes(), 2))),
        ]);
        DataFrame::new(rs.len(), cols)
    }

    /// Each seed's best validation accuracy, their mean and std, and the verdict: the
    /// table's columns a terminal has room for.
    pub fn seed_table(&self) -> PolarsResult<DataFrame> {
        let t = self.table()?;
        let keep: Vec<String> = t
            .get_column_names()
            .into_iter()
            .map(|n| n.to_string())
            .filter(|n| n == "variant" || n.starts_with("seed_") || ["mean", "std", "verdict"].contains(&n.as_str()))
            .collect();
        t.select(keep)
    }

    /// Validation curves of every variant (mean over seeds, min–max band), overlaid.
    pub fn curves(&self) -> Figure {
        Figure::val_curves(&format!("{} — validation ({} profile)", self.section.title, self.profile.as_str()), self.results.iter().map(|r| r.mean_curve()).collect())
    }

    /// Train and validation curves of each variant (mean over seeds, min–max band).
    pub fn train_val_curves(&self) -> Figure {
        Figure::curves(&format!("{} — train (dashed) and validation", self.section.title), self.results.iter().map(|r| r.mean_curve()).collect())
    }

    /// Best validation accuracy per variant: mean, 95% CI, each seed, the report's value,
    /// and each comparison's verdict.
    pub fn bars(&self) -> Figure {
        let bars = self
            .results
            .iter()
            .map(|r| {
                let note = match self.comparison(r.variant.key) {
                    Some(c) => Some(c.verdict().as_str().to_string()),
                    None if self.section.reference == Some(r.variant.key) => Some("(reference)".to_string()),
                    None => None,
                };
                r.bar(note)
            })
            .collect();
        Figure::bars(&format!("{} — best validation accuracy ({} profile)", self.section.title, self.profile.as_str()), bars)
    }

    /// What the numbers say, variant by variant: against the reference (difference, its 95%
    /// CI, p and Holm-adjusted p over the study's comparisons, the verdict) and against the report.
    pub fn conclusion(&self) -> String {
        let mut out = Vec::new();
        let describe = |r: &VariantResult| {
            let ci = r.ci95().map_or(String::new(), |(lo, hi)| format!(", 95% CI [{lo:.4}, {hi:.4}]"));
            format!("{:.4}{ci} over {} seed(s)", r.summary.best_val_acc_mean, r.runs.len())
        };
        let Some(reference) = self.reference() else {
            for r in &self.results {
                out.push(format!(
                    "{}: best validation accuracy {}, at epoch {} of {}{}.",
                    r.variant.label,
                    describe(r),
                    r.summary.runs[0].best_epoch,
                    r.summary.runs[0].epochs,
                    r.variant.reported.map_or(String::new(), |x| format!(" (report, full profile: {x:.4})"))
                ));
            }
            return out.join("\n");
        };
        out.push(format!("Reference: {} at {}.", reference.variant.label, describe(reference)));
        for r in self.results.iter().filter(|r| r.variant.key != reference.variant.key) {
            let Some(c) = self.comparison(r.variant.key) else { continue };
            let report = match (r.variant.reported, reference.variant.reported, c.diff()) {
                (Some(x), Some(y), Some(d)) => format!(
                    " The report: {x:.4} vs {y:.4} (Δ {} pp, one run each){}.",
                    super::compare::pp(x - y),
                    match c.verdict() {
                        Verdict::Better | Verdict::Worse if (x - y).signum() == d.signum() => ", the same direction",
                        Verdict::Better | Verdict::Worse => ", the opposite direction",
                        _ => "",
                    }
                ),
                (Some(x), None, _) => format!(" The report: {x:.4}."),
                _ => String::new(),
            };
            out.push(format!("{}: {} — {}.{report}", r.variant.label, describe(r), c.describe()));
        }
        out.join("\n")
    }

    /// Write `<dir>/<section>-curves.{svg,png}`, `-train-val.{svg,png}` and `-bars.{svg,png}`.
    pub fn export(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (name, fig) in [("curves", self.curves()), ("train-val", self.train_val_curves()), ("bars", self.bars())] {
            written.extend(fig.export(dir, &format!("{}-{name}", self.section.key))?);
        }
        Ok(written)
    }
}

/// Rows: true class, columns: predicted — of a run's best weights on `split`.
pub fn confusion_matrix(run: &Run, data: &Dataset, split: &Split) -> anyhow::Result<Vec<Vec<i64>>> {
    let device = run.config.train.device.resolve()?;
    let (_vs, net) = run.load_best(device)?;
    let predicted = predict(&net, split, &data.stats, &run.config.train, device)?;
    let truth: Vec<i64> = Vec::try_from(&split.labels)?;
    let k = data.num_classes();
    let mut m = vec![vec![0i64; k]; k];
    for (&t, &p) in truth.iter().zip(&predicted) {
        anyhow::ensure!(t >= 0, "the split has no labels");
        m[t as usize][p as usize] += 1;
    }
    Ok(m)
}
