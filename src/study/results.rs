//! A section's results: tables (polars), figures (plotters), a conclusion drawn from the numbers.
use super::profile::ProfileName;
use super::sections::{Section, Variant};
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
    /// Validation-accuracy (and loss) curves averaged over seeds.
    pub fn mean_curve(&self) -> Curve {
        let mut curve = Curve::from_history(self.variant.label, &self.runs[0].history);
        let n = self.runs.len() as f64;
        for (i, _) in curve.epochs.clone().iter().enumerate() {
            let mean = |f: fn(&crate::train::EpochRecord) -> f64| self.runs.iter().filter_map(|r| r.history.get(i)).map(f).sum::<f64>() / n;
            curve.train_loss[i] = mean(|r| r.train_loss);
            curve.val_loss[i] = mean(|r| r.val_loss);
            curve.train_acc[i] = mean(|r| r.train_acc);
            curve.val_acc[i] = mean(|r| r.val_acc);
        }
        curve
    }

    /// Train and validation curves of each seed (one colour per seed): the variant alone.
    pub fn seed_curves(&self) -> Figure {
        Figure::curves(self.variant.label, self.runs.iter().map(|r| Curve::from_history(&format!("seed {}", r.config.train.seed), &r.history)).collect())
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
    pub classes: Vec<String>,
}

/// Accuracy difference (b − a) and its standard error from the seeds' spreads.
fn delta(a: &ExperimentSummary, b: &ExperimentSummary) -> (f64, Option<f64>) {
    let d = b.best_val_acc_mean - a.best_val_acc_mean;
    let (na, nb) = (a.runs.len() as f64, b.runs.len() as f64);
    let se = (na > 1.0 && nb > 1.0).then(|| (a.best_val_acc_std.powi(2) / na + b.best_val_acc_std.powi(2) / nb).sqrt());
    (d, se)
}

impl SectionResult {
    pub fn get(&self, key: &str) -> Option<&VariantResult> {
        self.results.iter().find(|r| r.variant.key == key)
    }

    pub fn reference(&self) -> Option<&VariantResult> {
        self.section.reference.and_then(|k| self.get(k))
    }

    /// variant, best val acc (mean, std over seeds), Δ vs the reference, best epoch, parameters, minutes, the report's value.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let reference = self.reference().map(|r| r.summary.best_val_acc_mean);
        let col = |f: &dyn Fn(&VariantResult) -> f64| self.results.iter().map(f).collect::<Vec<f64>>();
        df!(
            "variant" => self.results.iter().map(|r| r.variant.key.to_string()).collect::<Vec<_>>(),
            "seeds" => self.results.iter().map(|r| r.runs.len() as u32).collect::<Vec<_>>(),
            "best_val_acc" => col(&|r| r.summary.best_val_acc_mean),
            "std" => col(&|r| r.summary.best_val_acc_std),
            "delta_vs_ref" => self.results.iter().map(|r| reference.map(|x| r.summary.best_val_acc_mean - x)).collect::<Vec<Option<f64>>>(),
            "best_epoch" => col(&|r| r.summary.runs.iter().map(|s| s.best_epoch as f64).sum::<f64>() / r.summary.runs.len() as f64),
            "params" => self.results.iter().map(|r| r.summary.runs[0].parameters).collect::<Vec<i64>>(),
            "minutes" => col(&|r| r.minutes()),
            "report" => self.results.iter().map(|r| r.variant.reported).collect::<Vec<Option<f64>>>(),
        )
    }

    /// Validation curves of every variant (mean over seeds), overlaid.
    pub fn curves(&self) -> Figure {
        Figure::val_curves(&format!("{} — validation ({} profile)", self.section.title, self.profile.as_str()), self.results.iter().map(|r| r.mean_curve()).collect())
    }

    /// Train and validation curves of each variant (mean over seeds).
    pub fn train_val_curves(&self) -> Figure {
        Figure::curves(&format!("{} — train (dashed) and validation", self.section.title), self.results.iter().map(|r| r.mean_curve()).collect())
    }

    /// Best validation accuracy per variant, ±1 std over seeds, with the report's values.
    pub fn bars(&self) -> Figure {
        let bars = self
            .results
            .iter()
            .map(|r| Bar { label: r.variant.label.into(), mean: r.summary.best_val_acc_mean, std: r.summary.best_val_acc_std, reported: r.variant.reported })
            .collect();
        Figure::bars(&format!("{} — best validation accuracy ({} profile)", self.section.title, self.profile.as_str()), bars)
    }

    /// What the numbers say, variant by variant, against the reference and the report.
    pub fn conclusion(&self) -> String {
        let mut out = Vec::new();
        let Some(reference) = self.reference() else {
            for r in &self.results {
                out.push(format!(
                    "{}: best validation accuracy {:.4} ± {:.4} over {} seed(s), at epoch {} of {}{}.",
                    r.variant.label,
                    r.summary.best_val_acc_mean,
                    r.summary.best_val_acc_std,
                    r.runs.len(),
                    r.summary.runs[0].best_epoch,
                    r.summary.runs[0].epochs,
                    r.variant.reported.map_or(String::new(), |x| format!(" (report, full profile: {x:.4})"))
                ));
            }
            return out.join("\n");
        };
        for r in self.results.iter().filter(|r| r.variant.key != reference.variant.key) {
            let (d, se) = delta(&reference.summary, &r.summary);
            let verdict = match se {
                Some(se) if d.abs() > 2.0 * se => format!("separated from seed noise (|Δ| > 2 × {:.1} pp)", 100.0 * se),
                Some(se) => format!("within seed noise (|Δ| ≤ 2 × {:.1} pp)", 100.0 * se),
                None => "one seed: no noise estimate — run more seeds (CONVLAB_SEEDS)".into(),
            };
            let report = match (r.variant.reported, reference.variant.reported) {
                (Some(x), Some(y)) => format!("; the report: {x:.4} vs {y:.4} (Δ {:+.1} pp){}", 100.0 * (x - y), if (x - y).signum() == d.signum() { ", same direction" } else { ", opposite direction" }),
                (Some(x), None) => format!("; the report: {x:.4}"),
                _ => String::new(),
            };
            out.push(format!(
                "{}: {:.4} ± {:.4} vs {} {:.4} ± {:.4} — Δ {:+.1} pp, {verdict}{report}.",
                r.variant.label,
                r.summary.best_val_acc_mean,
                r.summary.best_val_acc_std,
                reference.variant.label,
                reference.summary.best_val_acc_mean,
                reference.summary.best_val_acc_std,
                100.0 * d
            ));
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
