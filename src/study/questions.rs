//! The report's open questions, answered by experiment, and the profile held against the
//! report's findings:
//! 1. [`instance_norm`]: why did InstanceNorm collapse? Probes at the report's own lr, the
//!    spread of the pooled features, and a max-pooling head.
//! 2. [`no_norm`]: is "no normalization" better than BatchNorm?
//! 3. [`generalisation`]: the gap between train and validation for every variant (is a
//!    constant lr "accurate but unhealthy"?).
//! 4. [`dropout_trend`]: does accuracy fall as dropout's p grows? A least-squares slope.
//! 5. [`depth_cost`]: what do resnet14 / resnet18 / resnet34 cost? Measured by the benchmark.
//!
//! [`Answers::fidelity`] then says, finding by finding, whether the profile reproduces the report,
//! contradicts it or cannot tell. Every sentence of a conclusion is built from the numbers
//! next to it.
use super::Study;
use super::compare::{ALPHA, Comparison, Family, Verdict, pp, show_p};
use super::results::{SectionResult, VariantResult};
use super::compare::Member;
use super::plan::Variant;
use super::sections;
use super::stats::{self, Regression, Welch, round};
use crate::bench::{BenchConfig, BenchResult};
use crate::plot::Figure;
use crate::train::{EpochRecord, Run};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// The normalization section's probes (`studies/report.toml`): BatchNorm and InstanceNorm at
/// the report's lr 0.001, each with the average-pooling and with a max-pooling head.
const PROBE_BN: &str = "probe-bn-lr1e-3";
const PROBE_IN: &str = "probe-in-lr1e-3";
const PROBE_BN_MAX: &str = "probe-bn-max-lr1e-3";
const PROBE_IN_MAX: &str = "probe-in-max-lr1e-3";

/// `0.739` as `73.9%`.
fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

// ---------------------------------------------------------------------------------------
// 1. InstanceNorm
// ---------------------------------------------------------------------------------------

/// How the pooled features (the input of `fc`) of a network spread over the images of a split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpread {
    /// Median over channels of (std over images ÷ |mean over images|): how much a channel's
    /// pooled value differs from image to image, relative to its size. Channels that are
    /// zero for every image are left out.
    pub cv: f64,
    /// Share of the pooled features' variance that lies between the class means (η²,
    /// summed over channels): 0 = the features say nothing about the class, 1 = every
    /// image sits on its class's mean.
    pub class_share: f64,
}

impl FeatureSpread {
    /// From `features` (`n` rows of `c` values, row-major) and each row's class; `None`
    /// without two images or when no channel varies.
    pub fn of(features: &[f64], c: usize, labels: &[i64]) -> Option<FeatureSpread> {
        let n = labels.len();
        if n < 2 || c == 0 || features.len() != n * c {
            return None;
        }
        let col = |j: usize| (0..n).map(move |i| features[i * c + j]);
        let mut cvs = Vec::new();
        let (mut total, mut between) = (0.0f64, 0.0f64);
        let classes = labels.iter().copied().max().unwrap_or(0).max(0) as usize + 1;
        for j in 0..c {
            let mean = col(j).sum::<f64>() / n as f64;
            let var = col(j).map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            if var > 0.0 && mean != 0.0 {
                cvs.push(var.sqrt() / mean.abs());
            }
            total += var * n as f64;
            let (mut sum, mut count) = (vec![0.0f64; classes], vec![0usize; classes]);
            for (i, &l) in labels.iter().enumerate() {
                sum[l.max(0) as usize] += features[i * c + j];
                count[l.max(0) as usize] += 1;
            }
            between += (0..classes).filter(|&k| count[k] > 0).map(|k| count[k] as f64 * (sum[k] / count[k] as f64 - mean).powi(2)).sum::<f64>();
        }
        (total > 0.0).then(|| FeatureSpread { cv: stats::median(&cvs).unwrap_or(0.0), class_share: between / total })
    }

    /// The pooled features of `net` on the study's validation split.
    fn of_net(study: &Study, run: &Run, net: &crate::model::ResNet, device: tch::Device) -> anyhow::Result<FeatureSpread> {
        let f = crate::train::pooled_features(net, &study.data.val, &study.data.stats, &run.config.train, device)?;
        let c = f.size()[1] as usize;
        let values = Vec::<f64>::try_from(f.flatten(0, -1))?;
        let labels = Vec::<i64>::try_from(&study.data.val.labels)?;
        FeatureSpread::of(&values, c, &labels).ok_or_else(|| anyhow::anyhow!("{}: no pooled feature varies over the validation images", run.dir.display()))
    }
}

/// One network of the InstanceNorm question: its accuracy and loss, and the spread of its
/// pooled features at initialisation and after training (first seed).
#[derive(Debug, Clone)]
pub struct NormRow {
    /// The variant or probe asked for (`result` holds the runs of an equal config when it duplicates one: [`Study::run_name`]).
    pub key: &'static str,
    pub result: VariantResult,
    /// Best validation accuracy ÷ chance (1/classes), mean over seeds.
    pub times_chance: f64,
    /// Share of chance-level loss (ln classes) the best validation loss removes, mean over seeds:
    /// 0 = still at chance, 1 = perfect.
    pub loss_learned: f64,
    /// Final-epoch train accuracy (train mode, as trained) and validation accuracy, means over seeds.
    pub final_train_acc: f64,
    pub final_val_acc: f64,
    pub init: FeatureSpread,
    pub trained: FeatureSpread,
}

/// Why did InstanceNorm collapse? See [`instance_norm`].
#[derive(Debug, Clone)]
pub struct InstanceNormAnswer {
    pub classes: usize,
    /// xknet18 and InstanceNorm at the profile's lr, then the four probes at the report's lr 0.001
    /// (BatchNorm, InstanceNorm, each with average and with max pooling).
    pub rows: Vec<NormRow>,
    /// InstanceNorm − BatchNorm at the profile's lr (from the study's family).
    pub at_profile_lr: Option<Comparison>,
    /// The probes' three comparisons, Holm-adjusted together: InstanceNorm − BatchNorm at lr
    /// 0.001; max − average pooling under InstanceNorm; the same under BatchNorm.
    pub probes: Family,
    /// The explanation's own test: how much more the max-pooling head adds to InstanceNorm
    /// than to BatchNorm, `(IN max − IN) − (BN max − BN)` at lr 0.001 ([`stats::contrast`]).
    pub interaction: Option<Welch>,
    /// The profile's lr, for the text.
    pub profile_lr: f64,
}

/// The comparisons of the InstanceNorm probes (section `normalization`).
fn probe_members() -> anyhow::Result<Vec<Member>> {
    let v = |k: &str| sections::variant(k).cloned();
    let s = || "normalization".to_string();
    Ok(vec![(s(), v(PROBE_BN)?, v(PROBE_IN)?), (s(), v(PROBE_IN)?, v(PROBE_IN_MAX)?), (s(), v(PROBE_BN)?, v(PROBE_BN_MAX)?)])
}

/// Q1. The report's InstanceNorm reached 0.0658 on 100 classes, near chance. Tried at CPU
/// cost: the report's own lr 0.001 (the profile scales it ×20). Tested: the explanation that
/// instance normalisation erases each channel's per-image mean and scale at every block
/// while global average pooling reads exactly those means — the pooled features' spread
/// across images (BatchNorm vs InstanceNorm) and a max-pooling head (reads each channel's
/// peak), with BatchNorm under the same two heads as the control.
/// Trains the probes that are not stored yet (the section's `normalization` units).
pub fn instance_norm(study: &Study) -> anyhow::Result<InstanceNormAnswer> {
    let device = study.profile.device.resolve()?;
    let classes = study.data.num_classes();
    let keys = ["xknet18", "instance", PROBE_BN, PROBE_IN, PROBE_BN_MAX, PROBE_IN_MAX];
    let mut rows = Vec::new();
    for key in keys {
        let result = study.run_variant(key)?;
        let run = &result.runs[0];
        let init = {
            let (_vs, net) = run.initial(device)?;
            FeatureSpread::of_net(study, run, &net, device)?
        };
        let trained = {
            let (_vs, net) = run.load_best(device)?;
            FeatureSpread::of_net(study, run, &net, device)?
        };
        let ln_k = (classes as f64).ln();
        let best_loss = |r: &Run| r.history.iter().map(|e| e.val_loss).fold(f64::INFINITY, f64::min);
        let loss_learned = result.runs.iter().map(|r| 1.0 - best_loss(r) / ln_k).sum::<f64>() / result.runs.len() as f64;
        let times_chance = result.summary.best_val_acc_mean * classes as f64;
        let last = |f: fn(&EpochRecord) -> f64| mean(&result.runs.iter().filter_map(|r| r.history.last().map(f)).collect::<Vec<_>>());
        let (final_train_acc, final_val_acc) = (last(|e| e.train_acc), last(|e| e.val_acc));
        rows.push(NormRow { key, result, times_chance, loss_learned, final_train_acc, final_val_acc, init, trained });
    }
    let at_profile_lr = study.family()?.comparisons.into_iter().find(|c| c.variant.variant.key == "instance");
    let probes = study.family_over(probe_members()?)?;
    let accs = |k: &str| rows.iter().find(|r| r.key == k).map(|r| r.result.seed_accs()).unwrap_or_default();
    let (bn, inorm, bn_max, in_max) = (accs(PROBE_BN), accs(PROBE_IN), accs(PROBE_BN_MAX), accs(PROBE_IN_MAX));
    let interaction = stats::contrast(&[(&in_max, 1.0), (&inorm, -1.0), (&bn_max, -1.0), (&bn, 1.0)]);
    Ok(InstanceNormAnswer { classes, rows, at_profile_lr, probes, interaction, profile_lr: study.profile.scaled_lr(crate::train::recipe::LR) })
}

impl InstanceNormAnswer {
    /// The row of `key` (a variant or probe key).
    pub fn row(&self, key: &str) -> Option<&NormRow> {
        self.rows.iter().find(|r| r.key == key)
    }

    fn probe(&self, variant: &str, reference: &str) -> Option<&Comparison> {
        self.probes.comparisons.iter().find(|c| c.variant.variant.key == variant && c.reference.variant.key == reference)
    }

    /// One row per network: lr, head, seeds, mean best validation accuracy and × chance, the
    /// share of chance-level loss learned, and the pooled features' spread (cv, class share)
    /// at initialisation and trained.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rs = &self.rows;
        let f = |g: &dyn Fn(&NormRow) -> f64, d: i32| rs.iter().map(|r| round(g(r), d)).collect::<Vec<_>>();
        df!(
            "network" => rs.iter().map(|r| sections::variant(r.key).map_or(r.key.to_string(), |v| v.label.clone())).collect::<Vec<_>>(),
            "lr" => rs.iter().map(|r| r.result.runs[0].config.train.lr).collect::<Vec<_>>(),
            "seeds" => rs.iter().map(|r| r.result.runs.len() as u32).collect::<Vec<_>>(),
            "best_val_acc" => f(&|r| r.result.summary.best_val_acc_mean, 4),
            "x_chance" => f(&|r| r.times_chance, 2),
            "loss_learned" => f(&|r| r.loss_learned, 3),
            "final_train_acc" => f(&|r| r.final_train_acc, 4),
            "cv_init" => f(&|r| r.init.cv, 3),
            "cv_trained" => f(&|r| r.trained.cv, 3),
            "class_share_init" => f(&|r| r.init.class_share, 3),
            "class_share_trained" => f(&|r| r.trained.class_share, 3),
        )
    }

    /// Validation accuracy per epoch of the four probes (mean over seeds, min–max band).
    pub fn curves(&self) -> Figure {
        let curves = self.rows.iter().filter(|r| r.key.starts_with("probe-")).map(|r| r.result.mean_curve()).collect();
        Figure::val_curves("InstanceNorm vs BatchNorm at the report's lr 0.001 — validation", curves)
    }

    /// Whether the probes reproduce a collapse: InstanceNorm at lr 0.001 at most 2× chance.
    pub fn collapsed(&self) -> Option<bool> {
        self.row(PROBE_IN).map(|r| r.times_chance <= 2.0)
    }

    /// What the numbers say, in four steps: the profile's lr, the report's lr, the explanation
    /// tested, and what was left untried.
    pub fn conclusion(&self) -> String {
        let chance = 1.0 / self.classes as f64;
        let mut out = vec![format!(
            "Chance is 1/{} = {chance:.3}. The report's InstanceNorm, 0.0658 on 100 classes, is 6.6× chance with BatchNorm at 0.4592 (IN/BN = 0.14).",
            self.classes
        )];
        let (Some(bn), Some(inorm)) = (self.row("xknet18"), self.row("instance")) else { return out.join("\n\n") };
        out.push(format!(
            "1. At this profile's lr {} (the report's 0.001 × {}), InstanceNorm {}: {:.4} ({:.1}× chance) against BatchNorm's {:.4} — {}.",
            self.profile_lr,
            self.profile_lr / crate::train::recipe::LR,
            if inorm.times_chance <= 2.0 { "collapses (at most 2× chance)" } else { "does not collapse" },
            inorm.result.summary.best_val_acc_mean,
            inorm.times_chance,
            bn.result.summary.best_val_acc_mean,
            self.at_profile_lr.as_ref().map_or("not compared yet".into(), |c| c.describe())
        ));
        let (Some(pbn), Some(pin), Some(pbn_max), Some(pin_max)) = (self.row(PROBE_BN), self.row(PROBE_IN), self.row(PROBE_BN_MAX), self.row(PROBE_IN_MAX)) else {
            return out.join("\n\n");
        };
        let collapse = if pin.times_chance <= 2.0 {
            format!("a collapse by the criterion of at most 2× chance: **reproduced** ({:.1}× chance)", pin.times_chance)
        } else {
            format!(
                "by the criterion of at most 2× chance a collapse is **not reproduced** ({:.1}× chance), but its validation loss leaves chance level by only {} of ln {} (BatchNorm: {}){}",
                pin.times_chance,
                pct(pin.loss_learned),
                self.classes,
                pct(pbn.loss_learned),
                if pin.loss_learned < 0.5 * pbn.loss_learned { " — a near-collapse: the network barely learns" } else { "" }
            )
        };
        let in_vs_bn = self.probe(PROBE_IN, PROBE_BN);
        out.push(format!(
            "2. At the report's own lr 0.001 (same data, epochs and schedule), InstanceNorm reaches {:.4} against BatchNorm's {:.4} ({}); {collapse}. IN/BN = {:.2}.{}",
            pin.result.summary.best_val_acc_mean,
            pbn.result.summary.best_val_acc_mean,
            in_vs_bn.map_or("not compared yet".into(), |c| c.describe()),
            pin.result.summary.best_val_acc_mean / pbn.result.summary.best_val_acc_mean,
            {
                // How much of the deficit is there in training already: evaluation-time statistics can explain at most the rest.
                let (val, train) = (pbn.final_val_acc - pin.final_val_acc, pbn.final_train_acc - pin.final_train_acc);
                if val > 0.0 {
                    format!(
                        " In the last epoch InstanceNorm fits its training batches at {} against BatchNorm's {}: {} of its {} pp deficit on validation is there in training already, so the statistics used in evaluation can explain at most the rest (InstanceNorm here normalises each image with its own statistics in training and evaluation alike, PyTorch's default).",
                        pct(pin.final_train_acc),
                        pct(pbn.final_train_acc),
                        pct((train / val).clamp(0.0, 1.0)),
                        pp(val).trim_start_matches('+')
                    )
                } else {
                    String::new()
                }
            }
        ));
        let max_in = self.probe(PROBE_IN_MAX, PROBE_IN);
        let max_bn = self.probe(PROBE_BN_MAX, PROBE_BN);
        let spread = format!(
            "At initialisation a pooled channel varies across images by {:.3} of its mean under InstanceNorm against {:.3} under BatchNorm (median cv); after training the class means hold {} of the pooled features' variance under InstanceNorm against {} under BatchNorm",
            pin.init.cv,
            pbn.init.cv,
            pct(pin.trained.class_share),
            pct(pbn.trained.class_share)
        );
        let head = format!(
            "A max-pooling head, which reads each channel's peak instead of its mean, takes InstanceNorm from {:.4} to {:.4} ({}) and BatchNorm from {:.4} to {:.4} ({})",
            pin.result.summary.best_val_acc_mean,
            pin_max.result.summary.best_val_acc_mean,
            max_in.map_or("not compared yet".into(), |c| c.describe()),
            pbn.result.summary.best_val_acc_mean,
            pbn_max.result.summary.best_val_acc_mean,
            max_bn.map_or("not compared yet".into(), |c| c.describe())
        );
        let interaction = match self.interaction {
            Some(w) => format!(
                "The head adds {} pp more to InstanceNorm than to BatchNorm: 95% CI [{}, {}], p {} (Welch–Satterthwaite contrast, the explanation's one pre-stated test)",
                pp(w.diff),
                pp(w.ci95.0),
                pp(w.ci95.1),
                show_p(w.p)
            ),
            None => "The head's extra gain under InstanceNorm cannot be tested yet (fewer than two seeds in a group)".into(),
        };
        let fewer_means = pin.init.cv < pbn.init.cv && pin.trained.class_share < pbn.trained.class_share;
        let verdict = match (max_in.map(|c| c.verdict()), self.interaction) {
            (Some(Verdict::Better), Some(w)) if w.p < ALPHA && w.diff > 0.0 && fewer_means => {
                "The evidence **supports** the explanation: under InstanceNorm the pooled means differ less from image to image and hold less of the class, and a head that reads beyond the mean helps InstanceNorm far more than it helps BatchNorm."
            }
            (Some(Verdict::Better), Some(w)) if w.p < ALPHA && w.diff > 0.0 => {
                "The max-pooling head helps InstanceNorm more than BatchNorm, but the pooled features' spread does not separate the two norms as the explanation predicts: **partly supported**."
            }
            (Some(Verdict::Better), _) => {
                "The evidence is **mixed**: the max-pooling head helps InstanceNorm, but not detectably more than it helps BatchNorm, so a generally faster start with that head may explain the gain."
            }
            (Some(Verdict::Pending), _) | (None, _) => "The head experiment has not finished: no verdict on the explanation yet.",
            _ => "The max-pooling head does not detectably help InstanceNorm with these seeds: the explanation is **not confirmed**.",
        };
        out.push(format!("3. The explanation tested. {spread}. {head}. {interaction}. {verdict}"));
        out.push(
            "4. Not tried at CPU cost: the report's 100 classes and 64×64 images. On the report's data, \
             `CONVLAB_PROFILE=full CONVLAB_DATA=imagefolder:/path/to/data convlab study --sections normalization` runs the same probes \
             (there the lr-0.001 probes are xknet18 and InstanceNorm themselves, so only the max-pooling heads train in addition)."
                .to_string(),
        );
        out.join("\n\n")
    }
}

// ---------------------------------------------------------------------------------------
// 2. No normalization
// ---------------------------------------------------------------------------------------

/// Q2. The report found no normalization slightly better than BatchNorm: the study's
/// comparison `norm-none − xknet18`, in words.
pub fn no_norm(normalization: &SectionResult) -> String {
    let Some(c) = normalization.comparison("norm-none") else {
        return "No normalization has not been compared with BatchNorm yet (the normalization section has no comparison for norm-none).".into();
    };
    let answer = match (c.verdict(), c.welch) {
        (Verdict::Better, _) => "**reproduced**: no normalization is better here too".to_string(),
        (Verdict::Worse, _) => "**contradicted**: here no normalization is worse than BatchNorm".to_string(),
        (Verdict::NoDetectableDifference, Some(w)) => format!(
            "**not separable**: with these seeds the difference could be anything from {} to {} pp, so \"slightly better\" is neither shown nor ruled out",
            pp(w.ci95.0),
            pp(w.ci95.1)
        ),
        _ => "not judged yet".to_string(),
    };
    format!(
        "The report: no normalization slightly better than BatchNorm (one run each). Here: no normalization {:.4} against BatchNorm {:.4} — {}. The report's finding: {answer}.",
        c.variant.mean().unwrap_or(f64::NAN),
        c.reference.mean().unwrap_or(f64::NAN),
        c.describe()
    )
}

// ---------------------------------------------------------------------------------------
// 3. Generalisation gap
// ---------------------------------------------------------------------------------------

/// One variant's generalisation gap, from its runs' histories.
#[derive(Debug, Clone, PartialEq)]
pub struct GapRow {
    pub variant: String,
    pub label: String,
    /// Final-epoch train accuracy − final-epoch validation accuracy, per seed.
    pub gaps: Vec<f64>,
    /// Final validation loss − its minimum over the run, per seed: how far it rose after its best epoch.
    pub rises: Vec<f64>,
    pub final_train_acc: f64,
    pub final_val_acc: f64,
    pub best_val_acc: f64,
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

impl GapRow {
    fn of(r: &VariantResult) -> Option<GapRow> {
        let last = |h: &[EpochRecord]| h.last().cloned();
        let lasts: Vec<EpochRecord> = r.runs.iter().filter_map(|run| last(&run.history)).collect();
        if lasts.is_empty() {
            return None;
        }
        let rises = r.runs.iter().filter(|run| !run.history.is_empty()).map(|run| {
            let min = run.history.iter().map(|e| e.val_loss).fold(f64::INFINITY, f64::min);
            run.history.last().map_or(0.0, |e| e.val_loss - min)
        });
        Some(GapRow {
            variant: r.variant.key.clone(),
            label: r.variant.label.clone(),
            gaps: lasts.iter().map(|e| e.train_acc - e.val_acc).collect(),
            rises: rises.collect(),
            final_train_acc: mean(&lasts.iter().map(|e| e.train_acc).collect::<Vec<_>>()),
            final_val_acc: mean(&lasts.iter().map(|e| e.val_acc).collect::<Vec<_>>()),
            best_val_acc: r.summary.best_val_acc_mean,
        })
    }
}

/// The generalisation gap of every variant. See [`generalisation`].
#[derive(Debug, Clone)]
pub struct Generalisation {
    pub rows: Vec<GapRow>,
    /// constant-lr-1e-3's accuracy against xknet18's (the study's comparison).
    pub accuracy: Option<Comparison>,
}

/// Q3. The report called constant lr 1e-3 "accurate but unhealthy": for every variant of
/// `sections`, the final-epoch gap between train and validation accuracy (train accuracy
/// as measured on the batches while they trained: train mode, augmented, averaged over the
/// epoch) and how far the validation loss ended above its minimum; then constant lr 1e-3
/// against xknet18 by Welch's t on the per-seed gaps.
pub fn generalisation(sections: &[SectionResult]) -> Generalisation {
    let mut rows: Vec<GapRow> = Vec::new();
    for r in sections.iter().flat_map(|s| &s.results) {
        if !rows.iter().any(|x| x.variant == r.variant.key) {
            rows.extend(GapRow::of(r));
        }
    }
    let accuracy = sections.iter().flat_map(|s| &s.comparisons).find(|c| c.variant.variant.key == "constant-lr-1e-3").cloned();
    Generalisation { rows, accuracy }
}

impl Generalisation {
    pub fn row(&self, key: &str) -> Option<&GapRow> {
        self.rows.iter().find(|r| r.variant == key)
    }

    /// Welch's test of the gap of `key` against xknet18's, in accuracy units.
    pub fn gap_test(&self, key: &str) -> Option<Welch> {
        stats::welch(&self.row("xknet18")?.gaps, &self.row(key)?.gaps)
    }

    /// One row per variant: final train and validation accuracy, the gap (pp), the rise of the
    /// validation loss above its minimum, and the best validation accuracy (means over seeds).
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rs = &self.rows;
        let f = |g: &dyn Fn(&GapRow) -> f64, d: i32| rs.iter().map(|r| round(g(r), d)).collect::<Vec<_>>();
        df!(
            "variant" => rs.iter().map(|r| r.variant.clone()).collect::<Vec<_>>(),
            "seeds" => rs.iter().map(|r| r.gaps.len() as u32).collect::<Vec<_>>(),
            "final_train_acc" => f(&|r| r.final_train_acc, 4),
            "final_val_acc" => f(&|r| r.final_val_acc, 4),
            "gap_pp" => f(&|r| 100.0 * mean(&r.gaps), 2),
            "val_loss_rise" => f(&|r| mean(&r.rises), 4),
            "best_val_acc" => f(&|r| r.best_val_acc, 4),
        )
    }

    /// Whether "accurate but unhealthy" holds: the accuracy not detectably worse, the gap larger (p < 0.05).
    pub fn unhealthy(&self) -> Option<bool> {
        let acc = self.accuracy.as_ref()?;
        let w = self.gap_test("constant-lr-1e-3")?;
        Some(!matches!(acc.verdict(), Verdict::Worse) && w.diff > 0.0 && w.p < ALPHA)
    }

    pub fn conclusion(&self) -> String {
        let (Some(c), Some(x)) = (self.row("constant-lr-1e-3"), self.row("xknet18")) else {
            return "constant lr 1e-3 or xknet18 has no finished run yet.".into();
        };
        let mut out = vec![format!(
            "Constant lr 1e-3 (no decay) ends with train {} against validation {}: a gap of {} pp, against xknet18's {} pp with StepLR; its validation loss ends {:.3} above its minimum (xknet18: {:.3}).",
            pct(c.final_train_acc),
            pct(c.final_val_acc),
            pp(mean(&c.gaps)).trim_start_matches('+'),
            pp(mean(&x.gaps)).trim_start_matches('+'),
            mean(&c.rises),
            mean(&x.rises)
        )];
        let acc = self.accuracy.as_ref().map_or("not compared yet".into(), |a| a.describe());
        match self.gap_test("constant-lr-1e-3") {
            Some(w) => out.push(format!(
                "Gap difference {} pp, 95% CI [{}, {}], p {} (Welch, one pre-stated test). Best validation accuracy against xknet18: {acc}.",
                pp(w.diff),
                pp(w.ci95.0),
                pp(w.ci95.1),
                show_p(w.p)
            )),
            None => out.push(format!("Too few seeds to test the gap. Best validation accuracy against xknet18: {acc}.")),
        }
        out.push(match self.unhealthy() {
            Some(true) => "\"Accurate but unhealthy\": **reproduced** — as accurate as StepLR within the noise, with a larger gap between train and validation.".into(),
            Some(false) => match self.gap_test("constant-lr-1e-3") {
                Some(w) if w.p < ALPHA && w.diff > 0.0 => "The gap is larger, but the accuracy is worse too: \"accurate\" does not hold here.".into(),
                _ => "\"Unhealthy\" is **not separable** here: the gap of constant lr 1e-3 is not detectably larger than StepLR's with these seeds.".into(),
            },
            None => "Not judged yet: runs are missing.".into(),
        });
        let widest = self.rows.iter().max_by(|a, b| mean(&a.gaps).total_cmp(&mean(&b.gaps)));
        if let Some(w) = widest {
            out.push(format!("The widest gap of the study: {} ({} pp).", w.label, pp(mean(&w.gaps)).trim_start_matches('+')));
        }
        out.join("\n\n")
    }
}

// ---------------------------------------------------------------------------------------
// 4. Dropout trend
// ---------------------------------------------------------------------------------------

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

/// Q4. The report: "accuracy falls steadily as p grows, with more under-fitting". Every run of
/// no normalization (p = 0: BatchNorm removed, no dropout) and of dropout 0.1 / 0.2 / 0.3
/// (BatchNorm removed): the least-squares slope of best validation accuracy on p, with its
/// 95% CI, and the same for the final train accuracy.
pub fn dropout_trend(dropout: &SectionResult, norm_none: &VariantResult) -> DropoutTrend {
    let mut points = Vec::new();
    let runs = std::iter::once(norm_none).chain(dropout.results.iter().filter(|r| r.variant.key.starts_with("dropout-")));
    for r in runs {
        for run in &r.runs {
            let (Some(s), Some(last)) = (run.summary.as_ref(), run.history.last()) else { continue };
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
        let m = |p: f64, g: fn(&(f64, f64, f64)) -> f64| round(mean(&at(p).map(g).collect::<Vec<_>>()), 4);
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
        Some(if r.ci95.1 < 0.0 { -1 } else if r.ci95.0 > 0.0 { 1 } else { 0 })
    }

    fn describe(r: &Regression) -> String {
        // Per 0.1 of p, in pp: the step between the report's dropout settings.
        let s = |x: f64| pp(x / 10.0);
        format!("{} pp per 0.1 of p, 95% CI [{}, {}], p {}", s(r.slope), s(r.ci95.0), s(r.ci95.1), show_p(r.p))
    }

    pub fn conclusion(&self) -> String {
        let (Some(v), Some(t)) = (self.val, self.train) else {
            return format!("{} run(s) so far: a slope needs three runs over at least two values of p.", self.points.len());
        };
        let words = match self.direction() {
            Some(-1) => "accuracy **falls** as p grows: the report's trend is reproduced",
            Some(1) => "accuracy **rises** as p grows: the report's trend is contradicted",
            _ => "**no detectable trend**: the slope's CI spans zero, so the report's steady fall is neither shown nor ruled out",
        };
        let mut out = vec![format!(
            "Best validation accuracy on p over {} runs (p = 0 is no normalization without dropout): {} — {words}.",
            self.points.len(),
            Self::describe(&v)
        )];
        out.push(format!(
            "Final train accuracy on p: {} — {}.",
            Self::describe(&t),
            if t.ci95.1 < 0.0 { "the network fits the training data less as p grows (under-fitting grows)" } else if t.ci95.0 > 0.0 { "train accuracy rises with p" } else { "no detectable change in how well the training data is fitted" }
        ));
        let stalled: Vec<String> = self.stalled().iter().map(|(p, acc, med)| format!("p = {p}: {acc:.3} (median {med:.3})")).collect();
        if !stalled.is_empty() {
            out.push(format!("Runs more than 10 pp below their p's median (BatchNorm removed, a run can stall): {}. The slope is sensitive to them.", stalled.join("; ")));
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

// ---------------------------------------------------------------------------------------
// 5. Depth: cost
// ---------------------------------------------------------------------------------------

/// The benchmark of the three depths, stored as `<runs>/<profile>/questions/depth-bench.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepthBench {
    /// The CPU (`/proc/cpuinfo`'s model name) or GPU it ran on.
    pub machine: String,
    /// (variant key, what was run, what was measured).
    pub results: Vec<(String, BenchConfig, BenchResult)>,
}

/// What depth costs and buys. See [`depth_cost`].
#[derive(Debug, Clone)]
pub struct DepthCost {
    pub bench: DepthBench,
    /// Multiply-accumulates per image of each variant, at the profile's image size.
    pub macs: Vec<i64>,
    /// The depth section: accuracies and the comparisons with xknet18.
    pub section: SectionResult,
}

/// Q5. The report: "resnet34 takes about twice resnet14's time". Run records are confounded
/// when workers share the machine, so the three depths are timed by [`crate::bench::run`]
/// alone, with every thread: a training step on a resident batch and a whole epoch with the
/// loader, at the profile's scale. Stored beside the runs and reused while the configs match;
/// `force` measures again. Run it on an otherwise idle machine.
pub fn depth_cost(study: &Study, section: SectionResult, force: bool) -> anyhow::Result<DepthCost> {
    let path = study.runs_dir.join("questions").join("depth-bench.json");
    let variants: Vec<Variant> = ["resnet14", "xknet18", "resnet34"].iter().map(|k| sections::variant(k).cloned()).collect::<anyhow::Result<_>>()?;
    let configs: Vec<BenchConfig> = variants
        .iter()
        .map(|v| {
            let c = study.config(v)?;
            // Threads: the machine's (a study's workers pin one each; this runs alone).
            let train = crate::train::TrainConfig { threads: None, ..c.train };
            Ok(BenchConfig { name: v.key.clone(), model: c.model, size: study.data.shape()[1], batch_size: train.batch_size, steps: 10, warmup: 3, epochs: 2, train })
        })
        .collect::<anyhow::Result<_>>()?;
    let stored: Option<DepthBench> = if force || !path.exists() { None } else { Some(crate::io::read_json(&path)?) };

    let same = |b: &DepthBench| {
        b.results.len() == configs.len() && b.results.iter().zip(&configs).all(|((_, c, _), want)| serde_json::to_value(c).ok() == serde_json::to_value(want).ok())
    };
    let bench = match stored {
        Some(b) if same(&b) => b,
        _ if study.options.stored_only => {
            anyhow::bail!("the depth benchmark of this profile has not run: {} is missing or older than the configs (`convlab study` runs it after the grid)", path.display())
        }
        _ => {
            let mut results = Vec::new();
            for (v, cfg) in variants.iter().zip(&configs) {
                let r = crate::bench::run(cfg, Some(&study.data))?;
                results.push((v.key.to_string(), cfg.clone(), r));
            }
            let b = DepthBench { machine: crate::device::cpu_model(), results };
            std::fs::create_dir_all(path.parent().expect("under the runs directory"))?;
            crate::io::write_json(&path, &b)?;
            b
        }
    };
    let side = study.data.shape()[1];
    let macs = configs.iter().map(|c| c.model.macs(side)).collect();
    Ok(DepthCost { bench, macs, section })
}

impl DepthCost {
    fn result(&self, key: &str) -> Option<&BenchResult> {
        self.bench.results.iter().find(|(k, _, _)| k == key).map(|(_, _, r)| r)
    }

    /// Seconds per epoch of `key` ÷ those of `base` (the loader's epoch; the resident step when no epoch was timed).
    pub fn time_ratio(&self, key: &str, base: &str) -> Option<f64> {
        let t = |r: &BenchResult| r.epoch_seconds.unwrap_or(1.0 / r.step_img_s);
        Some(t(self.result(key)?) / t(self.result(base)?))
    }

    /// One row per depth: blocks, parameters, MACs per image, step and epoch throughput,
    /// time and MACs relative to resnet14, mean best validation accuracy and Δ to xknet18.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        let rows: Vec<(&String, &BenchConfig, &BenchResult)> = self.bench.results.iter().map(|(k, c, r)| (k, c, r)).collect();
        let macs14 = self.macs.first().copied().unwrap_or(1) as f64;
        df!(
            "variant" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            "blocks" => rows.iter().map(|r| format!("{:?}", r.1.model.blocks)).collect::<Vec<_>>(),
            "params" => rows.iter().map(|r| r.2.parameters).collect::<Vec<_>>(),
            "mmacs_per_image" => self.macs.iter().map(|&m| round(m as f64 / 1e6, 1)).collect::<Vec<_>>(),
            "step_img_s" => rows.iter().map(|r| round(r.2.step_img_s, 0)).collect::<Vec<_>>(),
            "epoch_s" => rows.iter().map(|r| r.2.epoch_seconds.map(|s| round(s, 2))).collect::<Vec<_>>(),
            "time_vs_resnet14" => rows.iter().map(|r| self.time_ratio(r.0, "resnet14").map(|x| round(x, 2))).collect::<Vec<_>>(),
            "macs_vs_resnet14" => self.macs.iter().map(|&m| round(m as f64 / macs14, 2)).collect::<Vec<_>>(),
            "best_val_acc" => rows.iter().map(|r| self.section.get(r.0).map(|v| round(v.summary.best_val_acc_mean, 4))).collect::<Vec<_>>(),
            "delta_pp_vs_xknet18" => rows.iter().map(|r| self.section.comparison(r.0).and_then(|c| c.diff()).map(|d| round(100.0 * d, 2))).collect::<Vec<_>>(),
        )
    }

    /// Whether "about twice" holds: resnet34's epoch takes 1.5–2.5× resnet14's.
    pub fn twice(&self) -> Option<bool> {
        self.time_ratio("resnet34", "resnet14").map(|r| (1.5..=2.5).contains(&r))
    }

    pub fn conclusion(&self) -> String {
        let Some(ratio) = self.time_ratio("resnet34", "resnet14") else { return "The depth benchmark has no result.".into() };
        let threads = self.bench.results.first().map_or(0, |r| r.2.threads);
        let macs = self.macs[2] as f64 / self.macs[0] as f64;
        let mut out = vec![format!(
            "Measured on {} ({threads} threads, alone on the machine): an epoch of resnet34 takes {ratio:.2}× resnet14's and xknet18's {:.2}×; by multiply-accumulates resnet34 is {macs:.2}× resnet14. \"About twice\": {}.",
            self.bench.machine,
            self.time_ratio("xknet18", "resnet14").unwrap_or(f64::NAN),
            match self.twice() {
                Some(true) => "**reproduced** (within 1.5–2.5×)",
                _ => "**not reproduced** (outside 1.5–2.5×)",
            }
        )];
        for key in ["resnet14", "resnet34"] {
            if let Some(c) = self.section.comparison(key) {
                out.push(format!("{} against xknet18: {}.", c.variant.variant.label, c.describe()));
            }
        }
        out.join("\n\n")
    }
}

// ---------------------------------------------------------------------------------------
// The profile against the report
// ---------------------------------------------------------------------------------------

/// Where the profile stands on one of the report's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fidelity {
    /// Same direction as the report, adjusted p < 0.05 (or the measured ratio within its tolerance).
    Reproduced,
    /// The opposite direction, adjusted p < 0.05.
    Contradicted,
    /// Neither: the CI spans zero (or runs are missing: `Pending`).
    NotSeparable,
    Pending,
}

impl Fidelity {
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Reproduced => "reproduced",
            Fidelity::Contradicted => "contradicted",
            Fidelity::NotSeparable => "not separable",
            Fidelity::Pending => "pending",
        }
    }

    /// From a comparison and the direction the report found (+1 better, −1 worse).
    fn of(c: &Comparison, report_sign: f64) -> Fidelity {
        match c.verdict() {
            Verdict::Better | Verdict::Worse => {
                let d = c.diff().unwrap_or(0.0);
                if d.signum() == report_sign { Fidelity::Reproduced } else { Fidelity::Contradicted }
            }
            Verdict::Pending => Fidelity::Pending,
            _ => Fidelity::NotSeparable,
        }
    }
}

/// One line of the fidelity table.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub finding: &'static str,
    /// What the report found.
    pub report: String,
    /// What this profile measured.
    pub here: String,
    pub status: Fidelity,
    /// Why, where an experiment of this module shows it.
    pub reason: String,
}

/// Every answer, computed once.
#[derive(Debug, Clone)]
pub struct Answers {
    pub instance_norm: InstanceNormAnswer,
    pub no_norm: String,
    pub generalisation: Generalisation,
    pub dropout: DropoutTrend,
    pub depth: DepthCost,
}

/// All five questions from a study whose sections `sections` are (run or loaded by
/// [`Study::run_all`]); trains the probes and runs the depth benchmark when they are not stored.
pub fn answer_all(study: &Study, sections: &[SectionResult]) -> anyhow::Result<Answers> {
    let get = |k: &str| sections.iter().find(|s| s.section.key == k).cloned().ok_or_else(|| anyhow::anyhow!("section {k} is missing"));
    let normalization = get("normalization")?;
    let norm_none = normalization.get("norm-none").cloned().ok_or_else(|| anyhow::anyhow!("norm-none is missing"))?;
    Ok(Answers {
        instance_norm: instance_norm(study)?,
        no_norm: no_norm(&normalization),
        generalisation: generalisation(sections),
        dropout: dropout_trend(&get("dropout")?, &norm_none),
        depth: depth_cost(study, get("depth")?, false)?,
    })
}

impl Answers {
    /// The report's findings, one per line: reproduced, contradicted or not separable, with the reason where a question's experiment shows one.
    pub fn fidelity(&self, family: &Family) -> Vec<Finding> {
        let cmp = |v: &str| family.comparisons.iter().find(|c| c.variant.variant.key == v);
        let mut out = Vec::new();
        let by_comparison = |finding: &'static str, variant: &str, report: &str, sign: f64, reason: String| {
            let (status, here) = match cmp(variant) {
                Some(c) => (Fidelity::of(c, sign), c.brief()),
                None => (Fidelity::Pending, "no comparison".into()),
            };
            Finding { finding, report: report.into(), here, status, reason }
        };
        out.push(by_comparison("stem", "xknet18", "xknet18 0.4592 vs resnet18 0.3916 (+6.8 pp)", 1.0, String::new()));
        out.push(by_comparison("width", "xknet18-half", "half width 0.4096 vs 0.4592 (−5.0 pp)", -1.0, String::new()));
        out.push(by_comparison("flips p = 0.05", "flips-0.05", "0.4534 vs 0.4592 (−0.6 pp)", -1.0, String::new()));
        out.push(by_comparison("flips p = 0.1", "flips-0.1", "0.4536 vs 0.4592 (−0.6 pp)", -1.0, String::new()));
        let trend = match self.dropout.direction() {
            Some(-1) => Fidelity::Reproduced,
            Some(1) => Fidelity::Contradicted,
            Some(_) => Fidelity::NotSeparable,
            None => Fidelity::Pending,
        };
        let stalls = if self.dropout.val.is_some() && self.dropout.train.is_some() && !self.dropout.stalled().is_empty() {
            "no-BN runs that stall at this lr widen the spread".to_string()
        } else {
            String::new()
        };
        out.push(Finding {
            finding: "dropout trend",
            report: "accuracy falls steadily as p grows".into(),
            here: self.dropout.val.map_or("no slope yet".into(), |r| DropoutTrend::describe(&r)),
            status: trend,
            reason: stalls,
        });
        out.push(by_comparison("no normalization", "norm-none", "slightly better than BatchNorm", 1.0, String::new()));
        let inorm = &self.instance_norm;
        let in_reason = match (inorm.row(PROBE_IN), inorm.row(PROBE_BN)) {
            (Some(pin), Some(pbn)) => format!(
                "{} at this profile's lr; at the report's lr 0.001 InstanceNorm reaches {:.1}× chance ({:.3} vs BatchNorm {:.3}){}",
                if inorm.row("instance").is_some_and(|r| r.times_chance <= 2.0) { "a collapse" } else { "no collapse" },
                pin.times_chance,
                pin.result.summary.best_val_acc_mean,
                pbn.result.summary.best_val_acc_mean,
                if inorm.collapsed() == Some(true) { ": the collapse reproduced" } else { "" }
            ),
            _ => String::new(),
        };
        out.push(by_comparison("InstanceNorm collapse", "instance", "0.0658 vs 0.4592, near chance", -1.0, in_reason));
        let g = &self.generalisation;
        out.push(Finding {
            finding: "constant lr 1e-3",
            report: "accurate but unhealthy".into(),
            here: match (g.row("constant-lr-1e-3"), g.row("xknet18"), g.gap_test("constant-lr-1e-3")) {
                (Some(c), Some(x), Some(w)) => format!("gap {} vs {} pp (Δ {} pp, p {})", pp(mean(&c.gaps)), pp(mean(&x.gaps)), pp(w.diff), show_p(w.p)),
                _ => "not run yet".into(),
            },
            status: match (g.unhealthy(), g.gap_test("constant-lr-1e-3")) {
                (Some(true), _) => Fidelity::Reproduced,
                (Some(false), Some(w)) if w.p < ALPHA && w.diff < 0.0 => Fidelity::Contradicted,
                (Some(false), _) => Fidelity::NotSeparable,
                (None, _) => Fidelity::Pending,
            },
            reason: g.accuracy.as_ref().map_or(String::new(), |a| format!("accuracy vs xknet18: {}", a.verdict().as_str())),
        });
        out.push(by_comparison("residual", "no-residual", "0.4184 vs 0.4592 (−4.1 pp)", -1.0, String::new()));
        let d = &self.depth;
        out.push(Finding {
            finding: "depth: time",
            report: "resnet34 takes about twice resnet14's time".into(),
            here: d.time_ratio("resnet34", "resnet14").map_or("not measured".into(), |r| format!("{r:.2}× (benchmark, {})", d.bench.machine)),
            status: match d.twice() {
                Some(true) => Fidelity::Reproduced,
                Some(false) => Fidelity::Contradicted,
                None => Fidelity::Pending,
            },
            reason: format!("{:.2}× the multiply-accumulates", d.macs[2] as f64 / d.macs[0] as f64),
        });
        out
    }

    /// [`Answers::fidelity`] as a table.
    pub fn fidelity_table(&self, family: &Family) -> PolarsResult<DataFrame> {
        let rows = self.fidelity(family);
        df!(
            "finding" => rows.iter().map(|r| r.finding).collect::<Vec<_>>(),
            "report" => rows.iter().map(|r| r.report.clone()).collect::<Vec<_>>(),
            "status" => rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
            "here" => rows.iter().map(|r| r.here.clone()).collect::<Vec<_>>(),
            "reason" => rows.iter().map(|r| r.reason.clone()).collect::<Vec<_>>(),
        )
    }

    /// Every answer's conclusion, headed by its question.
    pub fn conclusions(&self) -> String {
        [
            ("Why did InstanceNorm collapse?", self.instance_norm.conclusion()),
            ("Is no normalization better than BatchNorm?", self.no_norm.clone()),
            ("Constant lr 1e-3: accurate but unhealthy?", self.generalisation.conclusion()),
            ("Does accuracy fall as dropout's p grows?", self.dropout.conclusion()),
            ("What does depth cost?", self.depth.conclusion()),
        ]
        .iter()
        .map(|(q, a)| format!("### {q}\n\n{a}"))
        .collect::<Vec<_>>()
        .join("\n\n")
    }
}

/// The fidelity table as Markdown lines (README, CLI).
pub fn fidelity_markdown(rows: &[Finding]) -> String {
    let mut out = vec!["| finding | the report | here | status | why |".to_string(), "|---|---|---|---|---|".to_string()];
    for r in rows {
        out.push(format!("| {} | {} | {} | **{}** | {} |", r.finding, r.report, r.here, r.status.as_str(), r.reason));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: numpy 2 on the same rows — `std = F.std(0); np.median((std / abs(F.mean(0)))[std > 0])`
    /// and the between-class sum of squares over the total.
    #[test]
    fn feature_spread_matches_numpy() {
        let f = [1.0, 0.5, 0.0, 2.0, 0.7, 0.0, 3.0, 0.4, 0.0, 6.0, 0.6, 0.0];
        let s = FeatureSpread::of(&f, 3, &[0, 0, 1, 1]).unwrap();
        assert!((s.cv - 0.41344423575387945).abs() < 1e-12, "{s:?}");
        assert!((s.class_share - 0.6412811387900356).abs() < 1e-12, "{s:?}");
        // Features that are the same for every image: no spread to measure.
        assert_eq!(FeatureSpread::of(&[1.0, 1.0, 1.0, 1.0], 2, &[0, 1]), None);
        // Class means that hold all of it.
        let s = FeatureSpread::of(&[1.0, 1.0, 3.0, 3.0], 1, &[0, 0, 1, 1]).unwrap();
        assert_eq!(s.class_share, 1.0);
    }
}
