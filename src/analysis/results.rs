//! A section's results: tables (polars), figures (plotters), a conclusion drawn from the
//! numbers — the comparisons' CIs and Holm-adjusted verdicts ([`super::compare`]).
use super::compare::{Comparison, Verdict};
use super::frames::{HistoryRows, RunRow, history_frame_of, runs_frame_of};
use super::stats::{self, round};
use crate::data::{Dataset, Split};
use crate::plan::{Score, Section, Variant, style_of};
use crate::plot::{Curve, EffectRow, Figure};
use crate::settings::ProfileName;
use crate::train::{ExperimentSummary, Run, predict};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// One variant's experiment: its seeds' runs and their summary.
#[derive(Debug, Clone)]
pub struct VariantResult {
    pub variant: Variant,
    pub summary: ExperimentSummary,
    pub runs: Vec<Run>,
    /// What the study's statistics compare ([`crate::plan::Profile::score`]).
    pub score: Score,
}

impl VariantResult {
    /// Train/validation accuracy and loss averaged over seeds, with the min–max band over them.
    pub fn mean_curve(&self) -> Curve {
        let histories: Vec<&[crate::train::EpochRecord]> =
            self.runs.iter().map(|r| r.history.as_slice()).collect();
        Curve::mean_of(&self.variant.label, &histories)
            .unwrap_or_else(|| Curve::from_history(&self.variant.label, &[]))
            .styled(style_of(&self.variant))
    }

    /// Train and validation curves of each seed (one style per seed): the variant alone.
    pub fn seed_curves(&self) -> Figure {
        let curves = self.runs.iter().enumerate().map(|(i, r)| {
            Curve::from_history(&format!("seed {}", r.config.train.seed), &r.history)
                .styled(crate::plot::Style::nth(i))
        });
        Figure::curves(&self.variant.label, curves.collect())
    }

    /// The study's score of each seed ([`Score`]: best validation accuracy, or the test
    /// accuracy of the best epoch), in the runs' order; seeds without one are left out.
    pub fn seed_accs(&self) -> Vec<f64> {
        self.summary.runs.iter().filter_map(|r| self.score.of(r)).collect()
    }

    /// The mean of [`VariantResult::seed_accs`].
    pub fn mean_score(&self) -> f64 {
        let s = self.seed_accs();
        if s.is_empty() { 0.0 } else { stats::mean(&s) }
    }

    /// Its finished runs as rows of a runs frame.
    pub(crate) fn run_rows(&self) -> impl Iterator<Item = RunRow<'_>> {
        self.runs.iter().filter_map(|run| {
            Some(RunRow {
                variant: &self.variant.key,
                summary: run.summary.as_ref()?,
                config: &run.config,
            })
        })
    }

    /// 95% CI of the mean score over seeds (Student's t), clipped to [0, 1], the range of an
    /// accuracy; `None` for one seed.
    pub fn ci95(&self) -> Option<(f64, f64)> {
        stats::mean_ci95(&self.seed_accs()).map(|(lo, hi)| (lo.max(0.0), hi.min(1.0)))
    }

    /// Its row of an effects figure: accuracy over seeds, and — given its comparison with the
    /// reference — the difference with its CI, the paper's difference, and `note`.
    pub fn effect_row(
        &self,
        comparison: Option<&Comparison>,
        reference: bool,
        note: Option<String>,
    ) -> EffectRow {
        let delta_pp = comparison.and_then(|c| {
            Some((100.0 * c.diff()?, c.ci_family().map(|(lo, hi)| (100.0 * lo, 100.0 * hi))))
        });
        let paper_delta_pp = comparison.and_then(|c| {
            Some(100.0 * (c.variant.variant.reported? - c.reference.variant.reported?))
        });
        EffectRow {
            label: self.variant.label.clone(),
            style: style_of(&self.variant),
            mean: self.mean_score(),
            ci95: self.ci95(),
            seeds: self.seed_accs(),
            reference,
            delta_pp,
            detectable: comparison.is_some_and(|c| {
                matches!(c.verdict(), Verdict::Better | Verdict::Worse | Verdict::Equivalent)
            }),
            margin_pp: comparison.and_then(|c| c.margin).map(|m| 100.0 * m),
            paper_delta_pp,
            note,
        }
    }
}

/// All variants of one section under one profile.
#[derive(Debug, Clone)]
pub struct SectionResult {
    pub section: Section,
    pub profile: ProfileName,
    pub results: Vec<VariantResult>,
    /// The section's comparisons, adjusted over the study's whole family
    /// ([`super::family`]).
    pub comparisons: Vec<Comparison>,
    pub classes: Vec<String>,
}

impl SectionResult {
    pub fn get(&self, key: &str) -> Option<&VariantResult> {
        self.results.iter().find(|r| r.variant.key == key)
    }

    /// What the section's statistics compare: its variants' [`Score`] (best validation
    /// accuracy for a section without results).
    pub fn score(&self) -> Score {
        self.results.first().map_or(Score::BestVal, |r| r.score)
    }

    pub fn reference(&self) -> Option<&VariantResult> {
        self.section.reference.as_deref().and_then(|k| self.get(k))
    }

    /// The comparison of `key` with the section's reference.
    pub fn comparison(&self, key: &str) -> Option<&Comparison> {
        self.comparisons.iter().find(|c| c.variant.variant.key == key)
    }

    /// Its finished runs, one row each, with the columns of [`super::runs_frame`]:
    /// variant, seed, every configuration field, best validation accuracy, best epoch, test
    /// accuracy and minutes. The section's tables are computed from it.
    pub fn runs_frame(&self) -> PolarsResult<DataFrame> {
        runs_frame_of(self.results.iter().flat_map(VariantResult::run_rows))
    }

    /// Every epoch of its runs, one row each, with the columns of [`super::history_frame`].
    pub fn history_frame(&self) -> PolarsResult<DataFrame> {
        history_frame_of(self.results.iter().flat_map(|r| {
            r.runs.iter().map(|run| HistoryRows {
                variant: &r.variant.key,
                seed: run.config.train.seed,
                history: &run.history,
            })
        }))
    }

    /// One row per variant, every number under its metric's name: the best validation
    /// accuracy of every seed in one column (`best_val_by_seed`, the profile's seed order, `—`
    /// for a seed not run), its mean and std (`best_val_mean`, `best_val_std`), the test
    /// accuracy of the best epoch's (`test_at_best_mean`, `test_at_best_std`); then the
    /// comparison with the reference on the study's score `S` ([`Score::column`]):
    /// `S_delta_pp` with its 95% CI (Welch), the Holm-adjusted p over the study's comparisons,
    /// `S_mde_pp`, the verdict; the paper's best validation accuracy, the mean best epoch and
    /// the minutes of training. The runs' columns come from [`SectionResult::runs_frame`], the
    /// comparisons' from [`SectionResult::comparisons`].
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let frame = self.runs_frame()?;
        let runs: Vec<VariantRuns> = self
            .results
            .iter()
            .map(|r| VariantRuns::of(&frame, &r.variant.key))
            .collect::<PolarsResult<_>>()?;
        let rs = &self.results;
        let mut cols: Vec<Column> = vec![Column::new(
            "variant".into(),
            rs.iter().map(|r| r.variant.key.as_str()).collect::<Vec<_>>(),
        )];
        let seeds = seeds_of(&frame)?;
        let by_seed = runs
            .iter()
            .map(|r| {
                let accs = seeds
                    .iter()
                    .map(|&s| r.seed_score(s, Score::BestVal))
                    .collect::<PolarsResult<Vec<_>>>()?;
                Ok(accs
                    .iter()
                    .map(|a| a.map_or("—".to_string(), |a| format!("{a}")))
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .collect::<PolarsResult<Vec<String>>>()?;
        cols.push(Column::new("best_val_by_seed".into(), by_seed));
        let of_runs = |name: &str, g: &dyn Fn(&VariantRuns) -> Option<f64>| {
            Column::new(name.into(), runs.iter().map(g).collect::<Vec<_>>())
        };
        let r4 = |x: Option<f64>| x.map(|x| round(x, 4));
        cols.extend([
            of_runs("best_val_mean", &|r| r4(r.best_val_mean)),
            of_runs("best_val_std", &|r| r4(r.best_val_std)),
            of_runs("test_at_best_mean", &|r| r4(r.test_at_best_mean)),
            of_runs("test_at_best_std", &|r| r4(r.test_at_best_std)),
        ]);
        cols.extend(self.comparison_columns()?);
        cols.extend([
            Column::new(
                "paper_best_val".into(),
                rs.iter().map(|r| r.variant.reported).collect::<Vec<_>>(),
            ),
            of_runs("best_epoch", &|r| r.best_epoch.map(|e| round(e, 1))),
            of_runs("minutes", &|r| Some(round(r.minutes, 2))),
        ]);
        DataFrame::new(rs.len(), cols)
    }

    /// The table's comparison columns ([`super::compare::stat_columns`]) and the verdict.
    fn comparison_columns(&self) -> PolarsResult<Vec<Column>> {
        let rows: Vec<Option<&Comparison>> =
            self.results.iter().map(|r| self.comparison(&r.variant.key)).collect();
        let mut cols = super::compare::stat_columns(&rows, self.score());
        cols.push(self.verdict_column());
        Ok(cols)
    }

    /// For a terminal: each seed's value of the study's score `S` (`seed_<s>`, a column each),
    /// their mean and std (`S_mean`, `S_std`), and the verdict.
    pub fn seed_table(&self) -> PolarsResult<DataFrame> {
        let frame = self.runs_frame()?;
        let score = self.score();
        let runs: Vec<VariantRuns> = self
            .results
            .iter()
            .map(|r| VariantRuns::of(&frame, &r.variant.key))
            .collect::<PolarsResult<_>>()?;
        let mut cols = vec![Column::new(
            "variant".into(),
            self.results.iter().map(|r| r.variant.key.as_str()).collect::<Vec<_>>(),
        )];
        for seed in seeds_of(&frame)? {
            let v = runs
                .iter()
                .map(|r| r.seed_score(seed, score))
                .collect::<PolarsResult<Vec<Option<f64>>>>()?;
            cols.push(Column::new(format!("seed_{seed}").into(), v));
        }
        let s = score.column();
        let (means, stds): (Vec<_>, Vec<_>) = runs.iter().map(|r| r.of_score(score)).unzip();
        let r4 =
            |x: Vec<Option<f64>>| x.into_iter().map(|x| x.map(|x| round(x, 4))).collect::<Vec<_>>();
        cols.push(Column::new(format!("{s}_mean").into(), r4(means)));
        cols.push(Column::new(format!("{s}_std").into(), r4(stds)));
        cols.push(self.verdict_column());
        DataFrame::new(self.results.len(), cols)
    }

    /// Each variant's verdict against the section's reference: `reference` for the reference
    /// itself, empty for a variant the section does not compare.
    fn verdict_column(&self) -> Column {
        let verdict = |r: &VariantResult| match self.comparison(&r.variant.key) {
            Some(c) => c.verdict().as_str(),
            None if self.section.reference.as_deref() == Some(r.variant.key.as_str()) => {
                "reference"
            }
            None => "",
        };
        Column::new("verdict".into(), self.results.iter().map(verdict).collect::<Vec<_>>())
    }

    /// Validation curves of every variant (mean over seeds, min–max band), overlaid.
    pub fn curves(&self) -> Figure {
        Figure::val_curves(
            &format!("{} — validation ({} profile)", self.section.title, self.profile.as_str()),
            self.results.iter().map(|r| r.mean_curve()).collect(),
        )
    }

    /// Train and validation curves of each variant (mean over seeds, min–max band).
    pub fn train_val_curves(&self) -> Figure {
        Figure::curves(
            &format!(
                "{} — training and validation ({} profile)",
                self.section.title,
                self.profile.as_str()
            ),
            self.results.iter().map(|r| r.mean_curve()).collect(),
        )
    }

    /// Each variant's score (mean, 95% CI, seeds), its difference to the
    /// section's reference with the CI and verdict, and the paper's difference.
    pub fn effects(&self) -> Figure {
        let rows = self
            .results
            .iter()
            .map(|r| {
                let c = self.comparison(&r.variant.key);
                let judged = |v| {
                    matches!(
                        v,
                        Verdict::Better | Verdict::Worse | Verdict::Equivalent | Verdict::Undecided
                    )
                };
                let note = c.map(|c| match (c.verdict(), c.p_holm, c.look) {
                    (v, Some(p), _) if judged(v) => {
                        format!("{} (Holm p {})", short_verdict(c), super::compare::show_p(p))
                    }
                    (v, _, Some(l)) if judged(v) => format!(
                        "{} (look {} of {}, {} seeds)",
                        short_verdict(c),
                        l.look.map_or(0, |k| k + 1),
                        l.looks,
                        l.seeds
                    ),
                    (v, _, _) => v.as_str().to_string(),
                });
                r.effect_row(
                    c,
                    self.section.reference.as_deref() == Some(r.variant.key.as_str()),
                    note,
                )
            })
            .collect();
        let reference = self.reference().map(|r| r.variant.key.as_str());
        let score = self.score();
        Figure::effects_of(
            score.name(),
            &format!(
                "{} — {} and effects ({} profile)",
                self.section.title,
                score.sentence(),
                self.profile.as_str()
            ),
            reference,
            rows,
        )
    }

    /// What the numbers say, variant by variant: against the reference (difference, its 95%
    /// CI, p and Holm-adjusted p over the study's comparisons, the verdict) and against the paper.
    pub fn conclusion(&self) -> String {
        let mut out = Vec::new();
        let describe = |r: &VariantResult| {
            let ci =
                r.ci95().map_or(String::new(), |(lo, hi)| format!(", 95% CI [{lo:.4}, {hi:.4}]"));
            format!("{:.4}{ci} over {} seed(s)", r.mean_score(), r.runs.len())
        };
        let score = self.score();
        let Some(reference) = self.reference() else {
            for r in &self.results {
                out.push(format!(
                    "{}: {} {}, at epoch {} of {}{}.",
                    r.variant.label,
                    score.sentence(),
                    describe(r),
                    r.summary.runs[0].best_epoch,
                    r.summary.runs[0].epochs,
                    r.variant
                        .reported
                        .map_or(String::new(), |x| format!(" (paper, full profile: {x:.4})"))
                ));
            }
            return out.join("\n");
        };
        let of = if score == Score::BestVal {
            String::new()
        } else {
            format!(" ({})", score.sentence())
        };
        out.push(format!("Reference: {} at {}{of}.", reference.variant.label, describe(reference)));
        for r in self.results.iter().filter(|r| r.variant.key != reference.variant.key) {
            let Some(c) = self.comparison(&r.variant.key) else { continue };
            let paper = match (r.variant.reported, reference.variant.reported, c.diff()) {
                (Some(x), Some(y), Some(d)) => format!(
                    " The paper: {x:.4} vs {y:.4} (Δ {} pp, one run each){}.",
                    super::compare::pp(x - y),
                    match c.verdict() {
                        Verdict::Better | Verdict::Worse if (x - y).signum() == d.signum() =>
                            ", the same direction",
                        Verdict::Better | Verdict::Worse => ", the opposite direction",
                        _ => "",
                    }
                ),
                (Some(x), None, _) => format!(" The paper: {x:.4}."),
                _ => String::new(),
            };
            out.push(format!("{}: {} — {}.{paper}", r.variant.label, describe(r), c.describe()));
        }
        out.join("\n")
    }

    /// Write `<dir>/<section>-curves.{svg,png}`, `-train-val.{svg,png}` and `-effects.{svg,png}`.
    pub fn export(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (name, fig) in [
            ("curves", self.curves()),
            ("train-val", self.train_val_curves()),
            ("effects", self.effects()),
        ] {
            written.extend(fig.export(dir, &format!("{}-{name}", self.section.key))?);
        }
        Ok(written)
    }
}

/// The seeds of a runs frame's rows, in first-seen order.
fn seeds_of(frame: &DataFrame) -> PolarsResult<Vec<u64>> {
    let mut seeds: Vec<u64> = Vec::new();
    let column = frame.column("seed")?.u64()?;
    for s in (0..column.len()).filter_map(|i| column.get(i)) {
        if !seeds.contains(&s) {
            seeds.push(s);
        }
    }
    Ok(seeds)
}

/// One variant's rows of a runs frame and what the tables show of them, each under its
/// metric's name: the mean and std (over seeds, for two or more) of the best validation
/// accuracy and of the test accuracy of the best epoch (when every run has one), the mean
/// best epoch, the minutes of training.
pub(crate) struct VariantRuns {
    rows: DataFrame,
    pub seeds: usize,
    pub best_val_mean: Option<f64>,
    pub best_val_std: Option<f64>,
    pub test_at_best_mean: Option<f64>,
    pub test_at_best_std: Option<f64>,
    pub best_epoch: Option<f64>,
    pub minutes: f64,
}

impl VariantRuns {
    /// `key`'s rows of `frame` (a runs frame: [`SectionResult::runs_frame`]).
    pub(crate) fn of(frame: &DataFrame, key: &str) -> PolarsResult<Self> {
        let rows = frame.filter(&frame.column("variant")?.str()?.equal(key))?;
        let acc = rows.column("best_val_acc")?.f64()?;
        let test = rows.column("test_acc")?.f64()?;
        let spread = rows.height() > 1;
        let tested = test.null_count() == 0;
        Ok(Self {
            seeds: rows.height(),
            best_val_mean: acc.mean(),
            best_val_std: if spread { acc.std(1) } else { None },
            test_at_best_mean: if tested { test.mean() } else { None },
            test_at_best_std: if tested && spread { test.std(1) } else { None },
            best_epoch: rows.column("best_epoch")?.cast(&DataType::Float64)?.f64()?.mean(),
            minutes: rows.column("minutes")?.f64()?.sum().unwrap_or(0.0),
            rows,
        })
    }

    /// The mean and std of `score` over the rows.
    pub(crate) fn of_score(&self, score: Score) -> (Option<f64>, Option<f64>) {
        match score {
            Score::BestVal => (self.best_val_mean, self.best_val_std),
            Score::TestAtBest => (self.test_at_best_mean, self.test_at_best_std),
        }
    }

    /// `score` of `seed`'s run, if it is among the rows.
    pub(crate) fn seed_score(&self, seed: u64, score: Score) -> PolarsResult<Option<f64>> {
        let of_seed = self.rows.filter(&self.rows.column("seed")?.u64()?.equal(seed))?;
        let column = match score {
            Score::BestVal => "best_val_acc",
            Score::TestAtBest => "test_acc",
        };
        let acc = of_seed.column(column)?.f64()?;
        Ok(if acc.is_empty() { None } else { acc.get(0) })
    }
}

/// A section's best model — the run with the highest best validation accuracy — and its
/// confusion matrix on the validation split, from its best weights.
#[derive(Debug, Clone)]
pub struct BestModel {
    pub variant: Variant,
    pub seed: u64,
    pub best_val_acc: f64,
    /// Rows: true class, columns: predicted.
    pub matrix: Vec<Vec<i64>>,
    /// Class names from the data, in label order.
    pub classes: Vec<String>,
}

impl BestModel {
    fn who(&self) -> String {
        format!("{}, seed {} (validation {:.4})", self.variant.key, self.seed, self.best_val_acc)
    }

    /// Its confusion matrix on the validation split.
    pub fn confusion(&self) -> Figure {
        Figure::confusion(
            &format!("Best model {}: confusion", self.who()),
            self.classes.clone(),
            self.matrix.clone(),
        )
    }

    /// Its accuracy per class on the validation split, sorted, the worst on top.
    pub fn per_class(&self) -> Figure {
        Figure::per_class(
            &format!("Best model {}: accuracy per class", self.who()),
            self.classes.clone(),
            &self.matrix,
            style_of(&self.variant),
        )
    }

    /// One row per class, in label order: images, correct, accuracy, and the class it is
    /// most often taken for, with that share.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let acc = crate::plot::per_class_accuracy(&self.matrix);
        let confused: Vec<(Option<String>, Option<f64>)> = self
            .matrix
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let total: i64 = row.iter().sum();
                let worst = row
                    .iter()
                    .enumerate()
                    .filter(|(j, n)| *j != i && **n > 0)
                    .max_by_key(|(j, n)| (**n, std::cmp::Reverse(*j)));
                match worst {
                    Some((j, &n)) if total > 0 => (
                        Some(self.classes.get(j).cloned().unwrap_or_else(|| j.to_string())),
                        Some(round(n as f64 / total as f64, 4)),
                    ),
                    _ => (None, None),
                }
            })
            .collect();
        polars::df!(
            "class" => self.classes.clone(),
            "images" => self.matrix.iter().map(|r| r.iter().sum::<i64>()).collect::<Vec<_>>(),
            "correct" => self.matrix.iter().enumerate().map(|(i, r)| r.get(i).copied().unwrap_or(0)).collect::<Vec<_>>(),
            "accuracy" => acc.iter().map(|a| a.is_finite().then(|| round(*a, 4))).collect::<Vec<_>>(),
            "most_confused_with" => confused.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
            "share" => confused.iter().map(|c| c.1).collect::<Vec<_>>(),
        )
    }
}

/// A verdict in a figure's note column: `better`, `worse`, `equivalent ±1.0 pp`,
/// `undecided`, or as tables say it.
pub(crate) fn short_verdict(c: &Comparison) -> String {
    match c.verdict() {
        Verdict::Equivalent => {
            format!("equivalent ±{:.1} pp", 100.0 * c.margin.unwrap_or(f64::NAN))
        }
        v => v.as_str().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variants_runs_are_summarised_from_its_rows_of_the_frame() {
        let frame = polars::df!(
            "variant" => ["a", "a", "b", "a"],
            "seed" => [1u64, 2, 1, 3],
            "best_val_acc" => [0.5, 0.6, 0.9, 0.7],
            "best_epoch" => [2u64, 3, 6, 3],
            "test_acc" => [Some(0.4), Some(0.5), Some(0.8), None],
            "minutes" => [1.0, 2.0, 4.0, 3.0],
        )
        .unwrap();
        assert_eq!(seeds_of(&frame).unwrap(), [1, 2, 3], "first-seen order, once each");
        let a = VariantRuns::of(&frame, "a").unwrap();
        assert_eq!(a.seeds, 3);
        assert!((a.best_val_mean.unwrap() - 0.6).abs() < 1e-12);
        // Sample std (ddof 1): sqrt((0.1² + 0 + 0.1²) / 2) = 0.1.
        assert!((a.best_val_std.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(
            (a.test_at_best_mean, a.test_at_best_std),
            (None, None),
            "one run without a test score: no mean"
        );
        assert!((a.best_epoch.unwrap() - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(a.minutes, 6.0);
        assert_eq!(
            (a.seed_score(3, Score::BestVal).unwrap(), a.seed_score(4, Score::BestVal).unwrap()),
            (Some(0.7), None)
        );
        assert_eq!(a.seed_score(2, Score::TestAtBest).unwrap(), Some(0.5), "each metric its own");
        let b = VariantRuns::of(&frame, "b").unwrap();
        assert_eq!(
            (b.seeds, b.best_val_mean, b.best_val_std, b.test_at_best_mean, b.test_at_best_std),
            (1, Some(0.9), None, Some(0.8), None),
            "one seed: no std"
        );
        assert_eq!(b.of_score(Score::TestAtBest), (Some(0.8), None));
        // Two test scores, 0.4 and 0.5: sample std 0.0707…, not the best-val one.
        let ab = VariantRuns::of(&frame.head(Some(2)), "a").unwrap();
        assert!((ab.test_at_best_std.unwrap() - 0.1 / 2f64.sqrt()).abs() < 1e-12);
        assert!((ab.best_val_std.unwrap() - 0.1 / 2f64.sqrt()).abs() < 1e-12);
        let none = VariantRuns::of(&frame, "c").unwrap();
        assert_eq!((none.seeds, none.best_val_mean, none.minutes), (0, None, 0.0));
    }
}
