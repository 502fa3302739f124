//! A study's family of comparisons, fixed before any run by its plan: every variant of a
//! section against the reference that section names ([`crate::plan::Plan::family_members`]).
//! Each gives the difference of the mean scores — the study's [`Score`], best validation
//! accuracy or the test accuracy of the best epoch — with its 95% confidence interval and
//! p-value (Welch's t, [`stats::welch`]), and the p-value adjusted over the whole family
//! (Holm, [`stats::holm`]); the verdict reads from those. Comparisons whose runs are not
//! all finished are *pending*: they count in the family's size all the same, so a
//! verdict never gets easier because runs are missing.
use super::sequential::{Call, Design};
use super::stats::{self, Welch, round};
use crate::plan::{Plan, Score, Variant};
use polars::prelude::*;

/// Adjusted p-values below this call a difference (the family-wise error rate, 5%).
pub const ALPHA: f64 = 0.05;

/// The power a minimum detectable effect is stated at ([`Comparison::mde`]).
pub const POWER: f64 = 0.8;

/// The most seeds a side [`Comparison::seeds_to_decide`] looks at.
pub const MAX_SEEDS: usize = 1000;

/// What a comparison says. Better and worse come from Holm's adjusted p; equivalence from
/// the family's simultaneous interval ([`Comparison::ci_family`]) inside the margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Higher accuracy than the reference, Holm-adjusted p < [`ALPHA`].
    Better,
    /// Lower accuracy than the reference, Holm-adjusted p < [`ALPHA`].
    Worse,
    /// The same within the study's margin: the simultaneous interval at 1 − α/m (two one-sided
    /// tests at α/(2m) each) lies inside ±margin.
    Equivalent,
    /// Neither shown: [`Comparison::seeds_to_decide`] says how many seeds would decide it.
    Undecided,
    /// Every run finished, but fewer than two seeds on a side: no spread to judge by.
    TooFewSeeds,
    /// Runs still missing on either side.
    Pending,
}

impl Verdict {
    /// As tables show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Equivalent => "equivalent",
            Verdict::Undecided => "undecided",
            Verdict::TooFewSeeds => "too few seeds to tell",
            Verdict::Pending => "pending",
        }
    }
}

/// One side of a comparison: a variant's score per finished seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub variant: Variant,
    /// (seed, score) of each finished run, in the profile's seed order.
    pub values: Vec<(u64, f64)>,
    /// Seeds the profile runs.
    pub expected: usize,
}

impl Side {
    pub fn accs(&self) -> Vec<f64> {
        self.values.iter().map(|&(_, a)| a).collect()
    }

    pub fn mean(&self) -> Option<f64> {
        (!self.values.is_empty()).then(|| stats::mean(&self.accs()))
    }

    /// Every seed of the profile finished.
    pub fn complete(&self) -> bool {
        self.values.len() >= self.expected
    }
}

/// One predefined comparison: `variant − reference`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The section's key.
    pub section: String,
    pub reference: Side,
    pub variant: Side,
    /// Welch's test, when both sides are complete with at least two seeds each.
    pub welch: Option<Welch>,
    /// Holm-adjusted p over the family.
    pub p_holm: Option<f64>,
    /// Comparisons in the family (pending ones included).
    pub family_size: usize,
    /// The margin of practical equivalence, in accuracy (the plan's `margin_pp` / 100), if
    /// the study states one.
    pub margin: Option<f64>,
    /// What the two sides' values are.
    pub score: Score,
    /// In a sequential study: where the looks left it ([`Family::sequential`]).
    pub look: Option<LookInfo>,
    /// [`Comparison::mde`], computed once (a quadrature of tens of milliseconds).
    mde: Memo,
}

/// A value computed once, when first asked: a cache, not data — any two are equal, so that
/// comparing two comparisons compares what they say, not what was asked of them.
#[derive(Debug, Clone, Default)]
struct Memo(std::cell::OnceCell<Option<f64>>);

impl PartialEq for Memo {
    fn eq(&self, _: &Memo) -> bool {
        true
    }
}

/// A comparison in a sequential study ([`super::sequential`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookInfo {
    /// The look it was decided at, or the last look judged (0-based); `None`: none judged yet.
    pub look: Option<usize>,
    /// Looks in the design.
    pub looks: usize,
    /// Seeds a side its numbers rest on (its look's).
    pub seeds: usize,
    /// The nominal level its Welch p was held to at that look (its share of α, spent).
    pub level: Option<f64>,
    /// The repeated confidence interval at that look: simultaneous over the family and looks.
    pub interval: Option<(f64, f64)>,
    /// What it decided, if anything.
    pub decided: Option<Call>,
    /// A later look is still to run for it.
    pub open: bool,
}

/// `+1.2` / `−0.6` percentage points (a true minus sign).
pub(crate) fn pp(x: f64) -> String {
    let s = format!("{:+.1}", 100.0 * x);
    if s == "-0.0" { "+0.0".into() } else { s.replacen('-', "−", 1) }
}

/// A Welch difference in words: `+5.6 pp, 95% CI [+3.2, +8.0], p < 0.001`.
pub(crate) fn welch_words(w: &Welch) -> String {
    format!("{} pp, 95% CI [{}, {}], p {}", pp(w.diff), pp(w.ci95.0), pp(w.ci95.1), show_p(w.p))
}

/// A p-value as a reader wants it: three decimals, or `< 0.001`.
pub fn show_p(p: f64) -> String {
    if p < 0.001 { "< 0.001".into() } else { format!("= {p:.3}") }
}

impl Comparison {
    pub fn verdict(&self) -> Verdict {
        if let Some(l) = self.look {
            return match (l.decided, l.open) {
                (Some(Call::Better), _) => Verdict::Better,
                (Some(Call::Worse), _) => Verdict::Worse,
                (Some(Call::Equivalent), _) => Verdict::Equivalent,
                (None, true) => Verdict::Pending,
                (None, false) if self.welch.is_none() => Verdict::TooFewSeeds,
                (None, false) => Verdict::Undecided,
            };
        }
        if !self.reference.complete() || !self.variant.complete() {
            return Verdict::Pending;
        }
        match (self.welch, self.p_holm) {
            (Some(w), Some(p)) if p < ALPHA => {
                if w.diff > 0.0 {
                    Verdict::Better
                } else {
                    Verdict::Worse
                }
            }
            (Some(_), Some(_)) => match (self.ci_family(), self.margin) {
                (Some((lo, hi)), Some(m)) if -m < lo && hi < m => Verdict::Equivalent,
                _ => Verdict::Undecided,
            },
            _ => Verdict::TooFewSeeds,
        }
    }

    /// The interval the verdicts read, simultaneous over the family: the difference's Welch
    /// interval at 1 − α/m (Bonferroni; it excludes zero only where Holm's adjusted p is below
    /// α, so it never sits beside "undecided" away from zero).
    pub fn ci_family(&self) -> Option<(f64, f64)> {
        if let Some(l) = self.look {
            return l.interval;
        }
        let w = self.welch?;
        w.interval(1.0 - ALPHA / self.family_size.max(1) as f64)
    }

    /// Seeds a side that would decide an undecided comparison at the measured spreads, were the
    /// observed difference true: the fewest with which Welch's test would detect it with
    /// [`POWER`] at α/m, or (within the margin) its simultaneous interval would fall inside
    /// ±margin with that probability ([`stats::seeds_to_decide`]), and at least one more than
    /// it has. `None` for a decided one.
    pub fn seeds_to_decide(&self) -> Option<usize> {
        if self.verdict() != Verdict::Undecided || self.look.is_some() {
            return None;
        }
        let (r, v) = (self.reference.accs(), self.variant.accs());
        let n = stats::seeds_to_decide(
            (stats::sd(&r), stats::sd(&v)),
            self.welch?.diff,
            self.margin,
            ALPHA / self.family_size.max(1) as f64,
            POWER,
            MAX_SEEDS,
        )?;
        // These seeds did not decide it: a normal-theory size below them says "one more".
        Some(n.max(self.seeds() + 1))
    }

    /// The minimum detectable effect: the smallest |Δ| these seeds detect with [`POWER`] by
    /// Welch's test as it is run ([`stats::welch_detectable_effect`]: its degrees of freedom
    /// estimated from the samples), at α / family size — Holm's strictest step, the Bonferroni
    /// bound: a difference this large is detected whatever its rank — taking the two sides'
    /// measured SDs and seed counts as the truth. `None` until both sides are complete with
    /// two seeds or more. Computed when first asked (tens of milliseconds), then kept.
    pub fn mde(&self) -> Option<f64> {
        *self.mde.0.get_or_init(|| self.compute_mde())
    }

    fn compute_mde(&self) -> Option<f64> {
        if self.look.is_some() {
            return None;
        }
        self.welch?;
        let (r, v) = (self.reference.accs(), self.variant.accs());
        stats::welch_detectable_effect(
            (stats::sd(&r), stats::sd(&v)),
            (r.len(), v.len()),
            ALPHA / self.family_size.max(1) as f64,
            POWER,
        )
    }

    /// `equivalent within ±1.0 pp`, `undecided (about 12 seeds a side would decide it)`, or
    /// the verdict as tables show it.
    pub fn verdict_text(&self) -> String {
        match self.verdict() {
            Verdict::Equivalent => {
                format!("equivalent within ±{:.1} pp", 100.0 * self.margin.unwrap_or(f64::NAN))
            }
            Verdict::Undecided if self.look.is_some() => "undecided".into(),
            Verdict::Undecided => match self.seeds_to_decide() {
                Some(n) => format!("undecided (about {n} seeds a side would decide it)"),
                None => format!("undecided (more than {MAX_SEEDS} seeds a side)"),
            },
            v => v.as_str().to_string(),
        }
    }

    /// mean(variant) − mean(reference), when both have a finished run.
    pub fn diff(&self) -> Option<f64> {
        Some(self.variant.mean()? - self.reference.mean()?)
    }

    /// The verdict with its numbers, e.g. `worse: −17.1 pp, 95% CI [−20.3, −13.9], p = 0.002,
    /// Holm-adjusted p = 0.021 (n comparisons)`, or `no detectable difference: −0.6 pp, 95% CI
    /// [−2.1, +0.9], …`.
    pub fn describe(&self) -> String {
        let v = self.verdict();
        match v {
            Verdict::Pending => format!(
                "pending: {} of {} seed(s) of {} and {} of {} of {} finished",
                self.variant.values.len(),
                self.variant.expected,
                self.variant.variant.key,
                self.reference.values.len(),
                self.reference.expected,
                self.reference.variant.key
            ),
            Verdict::TooFewSeeds => format!(
                "too few seeds to tell: {} pp from {} against {} seed(s); a confidence interval \
                    needs two per side (CONVLAB_SEEDS=1,2,3)",
                self.diff().map_or("?".into(), pp),
                self.variant.values.len(),
                self.reference.values.len()
            ),
            _ if self.look.is_some() => self.describe_look(),
            _ => {
                let (w, p_holm) = (self.welch.expect("judged"), self.p_holm.expect("judged"));
                let mut s = format!(
                    "{}: {} pp, 95% CI [{}, {}], p {}, Holm-adjusted p {} ({} comparisons)",
                    self.verdict_text(),
                    pp(w.diff),
                    pp(w.ci95.0),
                    pp(w.ci95.1),
                    show_p(w.p),
                    show_p(p_holm),
                    self.family_size
                );
                if let Some((lo, hi)) = self.ci_family() {
                    s += &format!("; over the family, [{}, {}]", pp(lo), pp(hi));
                    if let Some(m) = self.margin {
                        s += &format!(
                            " ({} ±{:.1} pp)",
                            if v == Verdict::Equivalent { "inside" } else { "against" },
                            100.0 * m
                        );
                    }
                }
                if v == Verdict::Undecided && w.p < ALPHA {
                    s += &format!(
                        " — p < {ALPHA} alone, but not once the {} comparisons are accounted for",
                        self.family_size
                    );
                }
                if let Some(m) = self.mde() {
                    s += &format!(
                        "; these seeds detect |Δ| ≥ {:.1} pp at {:.0}% power",
                        100.0 * m,
                        100.0 * POWER
                    );
                }
                s
            }
        }
    }
}

impl Comparison {
    /// Seeds a side its numbers rest on: its look's in a sequential study, else the fewer of
    /// its two sides'.
    pub fn seeds(&self) -> usize {
        match self.look {
            Some(l) => l.seeds,
            None => self.variant.values.len().min(self.reference.values.len()),
        }
    }

    /// [`Comparison::describe`] for a judged comparison of a sequential study: `worse at look
    /// 1 of 4 (5 seeds a side): −9.5 pp, 95% CI [−11.8, −7.2], p < 0.001 against its bound
    /// 0.00012; repeated interval [−14.0, −5.0] (against ±1.0 pp)`.
    fn describe_look(&self) -> String {
        let (Some(l), Some(w)) = (self.look, self.welch) else {
            return self.verdict().as_str().to_string();
        };
        let word = if self.verdict() == Verdict::Undecided { "after" } else { "at" };
        let at = l.look.map_or(String::new(), |k| format!(" {word} look {} of {}", k + 1, l.looks));
        let mut s = format!(
            "{}{at} ({} seeds a side): {} pp, 95% CI [{}, {}], p {}",
            self.verdict_text(),
            l.seeds,
            pp(w.diff),
            pp(w.ci95.0),
            pp(w.ci95.1),
            show_p(w.p)
        );
        if let Some(level) = l.level {
            s += &format!(" against its bound {level:.2e}");
        }
        if let Some((lo, hi)) = l.interval {
            s += &format!("; repeated interval over the family and looks [{}, {}]", pp(lo), pp(hi));
            if let Some(m) = self.margin {
                let inside = self.verdict() == Verdict::Equivalent;
                s += &format!(
                    " ({} ±{:.1} pp)",
                    if inside { "inside" } else { "against" },
                    100.0 * m
                );
            }
        }
        s
    }

    /// [`Comparison::describe`] headed by the metric it compares, for a sentence that sets it
    /// beside numbers of another: `test accuracy of the best epoch — worse: −11.6 pp, …`.
    pub fn labelled(&self) -> String {
        format!("{} — {}", self.score.sentence(), self.describe())
    }

    /// The numbers alone, with their metric, for a table cell: `test, best epoch: −9.5 pp,
    /// over the family [−12.9, −6.1], adjusted p = 0.005` — the interval the verdict reads
    /// ([`Comparison::ci_family`]), so no interval that excludes zero stands beside an
    /// undecided verdict — or the verdict when not judged.
    pub fn brief(&self) -> String {
        let (Some(w), Some((lo, hi))) = (self.welch, self.ci_family()) else {
            return self.verdict().as_str().to_string();
        };
        let head = format!(
            "{}: {} pp, over the family [{}, {}]",
            self.score.name(),
            pp(w.diff),
            pp(lo),
            pp(hi)
        );
        match (self.look, self.p_holm) {
            (Some(l), _) => format!(
                "{head}, look {} of {} ({} seeds), p {} against {:.2e}",
                l.look.map_or(0, |k| k + 1),
                l.looks,
                l.seeds,
                show_p(w.p),
                l.level.unwrap_or(f64::NAN)
            ),
            (None, Some(p)) => format!("{head}, adjusted p {}", show_p(p)),
            (None, None) => self.verdict().as_str().to_string(),
        }
    }
}

/// One member of a family: (section key, reference, variant).
pub type Member = (String, Variant, Variant);

/// The members of a plan's family ([`Plan::family_members`]), owned.
pub fn members_of(plan: &Plan) -> Vec<Member> {
    plan.family_members()
        .into_iter()
        .map(|(s, r, v)| (s.key.clone(), r.clone(), v.clone()))
        .collect()
}

/// Every comparison of the study, adjusted together.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub comparisons: Vec<Comparison>,
    /// What the comparisons compare.
    pub score: Score,
    /// A sequential study's design ([`Family::sequential`]); `None`: fixed seeds.
    pub design: Option<Design>,
}

impl Family {
    /// A fixed family of (section, reference, variant) comparisons, adjusted together (a
    /// study's is its plan's, [`members_of`]; a question's own experiments form smaller ones).
    /// `values(variant)` gives a variant's (seed, `score`) pairs and how many seeds the
    /// profile expects; `margin(section)` the margin of equivalence of a section's comparisons.
    pub fn over(
        members: Vec<Member>,
        score: Score,
        margin: &dyn Fn(&str) -> Option<f64>,
        mut values: impl FnMut(&Variant) -> anyhow::Result<(Vec<(u64, f64)>, usize)>,
    ) -> anyhow::Result<Family> {
        let mut comparisons = Vec::with_capacity(members.len());
        for (section, r, v) in members {
            let section_key = section.clone();
            let (rv, re) = values(&r)?;
            let (vv, ve) = values(&v)?;
            let reference = Side { variant: r, values: rv, expected: re };
            let variant = Side { variant: v, values: vv, expected: ve };
            let welch = if reference.complete() && variant.complete() {
                stats::welch(&reference.accs(), &variant.accs())
            } else {
                None
            };
            comparisons.push(Comparison {
                section,
                reference,
                variant,
                welch,
                p_holm: None,
                family_size: 0,
                margin: margin(&section_key),
                score,
                look: None,
                mde: Default::default(),
            });
        }
        let adjusted =
            stats::holm(&comparisons.iter().map(|c| c.welch.map(|w| w.p)).collect::<Vec<_>>());
        let n = comparisons.len();
        for (c, p) in comparisons.iter_mut().zip(adjusted) {
            c.p_holm = p;
            c.family_size = n;
        }
        Ok(Family { comparisons, score, design: None })
    }

    /// The family of a sequential study ([`super::sequential`]): `values(variant)` gives a
    /// variant's stored (seed, score) pairs in the study's seed order, with no gap; the looks
    /// are replayed over them ([`Design::replay`]) and each comparison is judged on the seeds
    /// of the look that decided it, or of the last look judged.
    pub fn sequential(
        members: Vec<Member>,
        score: Score,
        margin: &dyn Fn(&str) -> Option<f64>,
        design: &Design,
        mut values: impl FnMut(&Variant) -> anyhow::Result<Vec<(u64, f64)>>,
    ) -> anyhow::Result<Family> {
        let stored = members
            .iter()
            .map(|(_, r, v)| Ok((values(r)?, values(v)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let accs: Vec<(Vec<f64>, Vec<f64>)> = stored
            .iter()
            .map(|(r, v)| (r.iter().map(|x| x.1).collect(), v.iter().map(|x| x.1).collect()))
            .collect();
        let scores: Vec<(&[f64], &[f64])> = accs.iter().map(|(r, v)| (&r[..], &v[..])).collect();
        let margins: Vec<Option<f64>> = members.iter().map(|(s, _, _)| margin(s)).collect();
        let replay = design.replay(&scores, &margins);
        let finished = replay.finished(design);
        let mut comparisons = Vec::with_capacity(members.len());
        for (i, ((section, r, v), (rv, vv))) in members.into_iter().zip(stored).enumerate() {
            let n = design.seeds_of(&replay, i);
            let look = replay.decided[i].map(|d| d.look).or(replay.judged.checked_sub(1));
            let welch = look.and_then(|_| stats::welch(&scores[i].0[..n], &scores[i].1[..n]));
            let side = |variant: Variant, values: Vec<(u64, f64)>| Side {
                variant,
                values: values.into_iter().take(n).collect(),
                expected: n,
            };
            comparisons.push(Comparison {
                margin: margins[i],
                look: Some(LookInfo {
                    look,
                    looks: design.looks.len(),
                    seeds: n,
                    level: replay.levels[i],
                    interval: welch.and_then(|w| design.interval(&w, look?)),
                    decided: replay.decided[i].map(|d| d.call),
                    open: replay.decided[i].is_none() && !finished,
                }),
                section,
                reference: side(r, rv),
                variant: side(v, vv),
                welch,
                p_holm: None,
                family_size: design.m,
                score,
                mde: Default::default(),
            });
        }
        Ok(Family { comparisons, score, design: Some(design.clone()) })
    }

    /// The comparisons of one section, in its order.
    pub fn of_section(&self, key: &str) -> Vec<Comparison> {
        self.comparisons.iter().filter(|c| c.section == key).cloned().collect()
    }

    /// One line per comparison: section, variant, reference, seeds, Δ of the score and its
    /// 95% CI (pp), p, Holm-adjusted p, verdict, the MDE, and the paper's own difference of
    /// best validation accuracies where it gives both numbers.
    pub fn table(&self) -> PolarsResult<DataFrame> {
        comparisons_table(&self.comparisons, self.score)
    }

    /// How its verdicts are reached, for a sentence after "the study's n comparisons":
    /// `95% CIs by Welch's t, p adjusted over all of them by Holm's method`, or the looks.
    pub fn method(&self) -> String {
        match &self.design {
            None => "95% CIs by Welch's t, p adjusted over all of them by Holm's method".into(),
            Some(d) => format!(
                "judged at looks of {} seeds a side: Welch's t against {}-type spending \
                    boundaries, Holm's graph over all of them",
                crate::looks::listed(&d.looks),
                d.spending.as_str()
            ),
        }
    }

    /// How many comparisons have each verdict, e.g. `3 worse, 1 better, 11 no detectable
    /// difference`.
    pub fn tally(&self) -> String {
        let order = [
            Verdict::Better,
            Verdict::Worse,
            Verdict::Equivalent,
            Verdict::Undecided,
            Verdict::TooFewSeeds,
            Verdict::Pending,
        ];
        order
            .iter()
            .filter_map(|v| {
                let n = self.comparisons.iter().filter(|c| c.verdict() == *v).count();
                (n > 0).then(|| format!("{n} {}", v.as_str()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The table of [`Family::table`] for any list of comparisons of `score`: its columns are
/// named after the score `S` ([`Score::column`]), `S_delta_pp`, `S_ci95_lo_pp`, …
/// ([`stat_columns`]), and the paper's difference after its metric, `paper_best_val_delta_pp`.
pub fn comparisons_table(cs: &[Comparison], score: Score) -> PolarsResult<DataFrame> {
    let text = |name: &str, g: &dyn Fn(&Comparison) -> String| {
        Column::new(name.into(), cs.iter().map(g).collect::<Vec<String>>())
    };
    let mut cols = vec![
        text("section", &|c| c.section.clone()),
        text("variant", &|c| c.variant.variant.key.clone()),
        text("reference", &|c| c.reference.variant.key.clone()),
        text("seeds", &|c| format!("{}/{}", c.variant.values.len(), c.reference.values.len())),
        Column::new(
            "p".into(),
            cs.iter().map(|c| c.welch.map(|w| round(w.p, 4))).collect::<Vec<_>>(),
        ),
    ];
    let rows: Vec<Option<&Comparison>> = cs.iter().map(Some).collect();
    cols.extend(stat_columns(&rows, score));
    cols.push(text("verdict", &|c| c.verdict().as_str().to_string()));
    cols.push(Column::new(
        "paper_best_val_delta_pp".into(),
        cs.iter()
            .map(|c| {
                let (v, r) = (c.variant.variant.reported?, c.reference.variant.reported?);
                Some(round(100.0 * (v - r), 2))
            })
            .collect::<Vec<Option<f64>>>(),
    ));
    DataFrame::new(cs.len(), cols)
}

/// The columns of a comparison that every table of them shows, a row per entry of `rows`
/// (`None`: a row without one, e.g. a section's reference), named after the score `S`:
/// `S_delta_pp`; its 95% CI alone (`S_ci95_lo_pp`, `S_ci95_hi_pp`) and the interval the
/// verdicts read (`S_ci95_family_lo_pp`, `…_hi_pp`: simultaneous over the family, and in a
/// sequential study over its looks too); `p_holm`; in a sequential study `look` (decided or
/// last judged, `2/4`) and `p_bound` (the level its p was held to); `S_mde_pp`, `margin_pp`
/// and, for an undecided one, `seeds_to_decide`.
pub fn stat_columns(rows: &[Option<&Comparison>], score: Score) -> Vec<Column> {
    let s = score.column();
    let f = |name: String, g: &dyn Fn(&Comparison) -> Option<f64>| {
        Column::new(name.into(), rows.iter().map(|c| c.and_then(g)).collect::<Vec<Option<f64>>>())
    };
    let pp2 = |x: f64| round(100.0 * x, 2);
    let mut cols = vec![
        f(format!("{s}_delta_pp"), &|c| c.diff().map(pp2)),
        f(format!("{s}_ci95_lo_pp"), &|c| c.welch.map(|w| pp2(w.ci95.0))),
        f(format!("{s}_ci95_hi_pp"), &|c| c.welch.map(|w| pp2(w.ci95.1))),
        f(format!("{s}_ci95_family_lo_pp"), &|c| c.ci_family().map(|c| pp2(c.0))),
        f(format!("{s}_ci95_family_hi_pp"), &|c| c.ci_family().map(|c| pp2(c.1))),
        f("p_holm".into(), &|c| c.p_holm.map(|p| round(p, 4))),
    ];
    if rows.iter().flatten().any(|c| c.look.is_some()) {
        let look = |c: &Comparison| {
            let l = c.look?;
            Some(format!("{}/{}", l.look? + 1, l.looks))
        };
        cols.push(Column::new(
            "look".into(),
            rows.iter().map(|c| c.and_then(look)).collect::<Vec<Option<String>>>(),
        ));
        cols.push(f("p_bound".into(), &|c| c.look?.level.map(|x| stats::significant(x, 4))));
    }
    cols.extend([
        f(format!("{s}_mde_pp"), &|c| c.mde().map(pp2)),
        f("margin_pp".into(), &|c| c.margin.map(pp2)),
        Column::new(
            "seeds_to_decide".into(),
            rows.iter()
                .map(|c| c.and_then(|c| c.seeds_to_decide()).map(|n| n as u32))
                .collect::<Vec<_>>(),
        ),
    ]);
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_print_with_a_true_minus_and_no_negative_zero() {
        assert_eq!(
            (pp(0.0123), pp(-0.0123), pp(-0.0004)),
            ("+1.2".into(), "−1.2".into(), "+0.0".into())
        );
    }

    /// A family of three (m = 3) with margins by section — 2 pp for `a`, 1 pp for `b`: the
    /// simultaneous intervals are scipy 1.17.1's `ttest_ind(v, r, equal_var=False)
    /// .confidence_interval(1 - 0.05/3)`, the seeds to decide the same normal-theory size
    /// computed independently with scipy's `t.ppf` (`seeds()` in the note of #36:
    /// (t.ppf(1-α/2, df) + t.ppf(0.8, df))·√((s²a+s²b)/n) ≤ margin − |Δ|).
    #[test]
    fn equivalence_reads_the_simultaneous_interval_inside_the_margin() {
        let get = |k: &str| crate::plan::paper_variant(k).unwrap().clone();
        let members = vec![
            ("a".to_string(), get("xknet18"), get("resnet14")),
            ("b".to_string(), get("xknet18"), get("flips-0.1")),
            ("b".to_string(), get("xknet18"), get("resnet34")),
        ];
        let value = |k: &str| match k {
            "xknet18" => [0.823, 0.820, 0.815],
            "resnet14" => [0.8225, 0.8195, 0.8150],
            "flips-0.1" => [0.826, 0.818, 0.820],
            _ => [0.805, 0.800, 0.809],
        };
        let margin = |s: &str| Some(if s == "a" { 0.02 } else { 0.01 });
        let fam = Family::over(members, Score::TestAtBest, &margin, |v| {
            Ok((value(&v.key).iter().enumerate().map(|(i, &a)| (i as u64, a)).collect(), 3))
        })
        .unwrap();
        let [r14, flips, r34] = [0, 1, 2].map(|i| &fam.comparisons[i]);
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
        assert!(close(r14.ci_family().unwrap(), (-0.013014081134488466, 0.012347414467821897)));
        assert!(close(flips.ci_family().unwrap(), (-0.011275332803272678, 0.015275332803272928)));
        assert!(close(r34.ci_family().unwrap(), (-0.028610751783779274, -0.0007225815495536855)));
        assert_eq!(r14.verdict(), Verdict::Equivalent, "[−1.30, +1.23] inside ±2 pp");
        assert_eq!(flips.verdict(), Verdict::Undecided, "[−1.13, +1.53] not inside ±1 pp");
        assert_eq!(r34.verdict(), Verdict::Worse, "Holm: 3 × 0.0141 < 0.05");
        assert_eq!((r14.seeds_to_decide(), flips.seeds_to_decide()), (None, Some(8)));
        assert_eq!(flips.verdict_text(), "undecided (about 8 seeds a side would decide it)");
        assert!(
            r14.describe().starts_with("equivalent within ±2.0 pp: −0.0 pp")
                || r14.describe().starts_with("equivalent within ±2.0 pp: +0.0 pp"),
            "{}",
            r14.describe()
        );
        assert!(r14.describe().contains("; over the family, [−1.3, +1.2] (inside ±2.0 pp)"));
        assert_eq!(fam.tally(), "1 worse, 1 equivalent, 1 undecided");
        let t = fam.table().unwrap();
        let col = |c: &str| t.column(c).unwrap().f64().unwrap().get(1);
        let seeds = t.column("seeds_to_decide").unwrap().u32().unwrap().get(1);
        assert_eq!((col("margin_pp"), seeds), (Some(1.0), Some(8)));
    }

    /// The verdicts' error rates by simulation (normal scores, seeded), at 5 seeds a side and
    /// m = 15 comparisons, each side's SD 1 and the margin 3 SDs: with every true difference
    /// on the margin's edge, a family calls some comparison *equivalent* in at most α of the
    /// simulated studies; with every true difference 0, a family calls some comparison
    /// better or worse in at most α of them (Holm); and an interval simultaneous over the
    /// family that excludes 0 never stands beside *undecided*. Measured on this seed: 0.45%
    /// false equivalence (the Bonferroni interval is conservative) and 2.75% family-wise.
    #[test]
    fn false_verdicts_are_rare_in_simulation() {
        let base = crate::plan::paper_variant("xknet18").unwrap().clone();
        let members: Vec<Member> = (0..15)
            .map(|i| {
                let mut v = base.clone();
                v.key = format!("v{i}");
                ("s".to_string(), base.clone(), v)
            })
            .collect();
        let mut rng = crate::data::Rng::new(36);
        let reps = 2000;
        let (mut false_equivalent, mut false_difference) = (0, 0);
        for (shift, counter) in [(3.0, &mut false_equivalent), (0.0, &mut false_difference)] {
            for _ in 0..reps {
                let mut draw = |mean: f64| (0..5u64).map(|s| (s, mean + rng.normal())).collect();
                let reference: Vec<(u64, f64)> = draw(0.0);
                let values: Vec<Vec<(u64, f64)>> = (0..15).map(|_| draw(shift)).collect();
                let fam = Family::over(members.clone(), Score::BestVal, &|_| Some(3.0), |v| {
                    Ok(match v.key.strip_prefix('v') {
                        Some(i) => (values[i.parse::<usize>().unwrap()].clone(), 5),
                        None => (reference.clone(), 5),
                    })
                })
                .unwrap();
                let wrong = if shift == 0.0 {
                    [Verdict::Better, Verdict::Worse].as_slice()
                } else {
                    [Verdict::Equivalent].as_slice()
                };
                *counter += fam.comparisons.iter().any(|c| wrong.contains(&c.verdict())) as usize;
                for c in &fam.comparisons {
                    let (lo, hi) = c.ci_family().unwrap();
                    assert!(
                        lo <= 0.0 && 0.0 <= hi || c.verdict() != Verdict::Undecided,
                        "an interval without 0 beside undecided: {}",
                        c.describe()
                    );
                }
            }
        }
        let rate = |n: usize| n as f64 / reps as f64;
        assert!(rate(false_equivalent) <= ALPHA, "false equivalence {}", rate(false_equivalent));
        assert!(rate(false_difference) <= ALPHA, "FWER {}", rate(false_difference));
    }

    fn paper_family(
        values: impl FnMut(&Variant) -> anyhow::Result<(Vec<(u64, f64)>, usize)>,
    ) -> Family {
        Family::over(members_of(crate::plan::paper_plan()), Score::BestVal, &|_| None, values)
            .unwrap()
    }

    /// The paper's own family: its size is the paper's, pinned here.
    #[test]
    fn the_papers_family_is_its_fifteen_predefined_comparisons() {
        let m = members_of(crate::plan::paper_plan());
        assert_eq!(m.len(), 15);
        let names: Vec<String> =
            m.iter().map(|(s, r, v)| format!("{}:{}-{}", s, v.key, r.key)).collect();
        assert_eq!(names[0], "xknet18:xknet18-resnet18");
        assert!(names.contains(&"normalization:instance-xknet18".to_string()));
        assert_eq!(names.last().unwrap(), "depth:resnet34-xknet18");
        // Every pair once.
        let mut pairs: Vec<(&str, &str)> =
            m.iter().map(|(_, r, v)| (r.key.as_str(), v.key.as_str())).collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 15);
    }

    /// Fixed accuracies for three seeds: the family's Welch p-values and Holm adjustment are
    /// those of scipy 1.17.1 (`ttest_ind(v, r, equal_var=False).pvalue`) and statsmodels
    /// 0.15.0 (`multipletests(ps, method="holm")[1]`) on the same numbers, with the
    /// pending comparisons entered as p = 1.
    #[test]
    fn verdicts_follow_the_adjusted_p_and_pending_counts() {
        let xk = [0.823, 0.820, 0.815];
        let value = |key: &str| -> Option<[f64; 3]> {
            match key {
                "xknet18" => Some(xk),
                // 10 pp worse, tight: worse even after adjustment.
                "dropout-0.1" => Some([0.723, 0.719, 0.716]),
                // 0.2 pp better, inside the noise.
                "flips-0.1" => Some([0.826, 0.818, 0.820]),
                // Not run yet: pending.
                "resnet34" => None,
                // Everything else: a small, noisy difference.
                _ => Some([0.815, 0.825, 0.800]),
            }
        };
        let fam = paper_family(|v| {
            Ok((value(&v.key).map_or(vec![], |a| vec![(20211108, a[0]), (1, a[1]), (2, a[2])]), 3))
        });
        let get = |v: &str| fam.comparisons.iter().find(|c| c.variant.variant.key == v).unwrap();
        assert_eq!(get("dropout-0.1").verdict(), Verdict::Worse);
        assert_eq!(get("flips-0.1").verdict(), Verdict::Undecided);
        assert_eq!(get("resnet34").verdict(), Verdict::Pending);
        assert_eq!(get("resnet34").p_holm, None);
        assert!(
            get("resnet34").describe().starts_with("pending: 0 of 3 seed(s) of resnet34"),
            "{}",
            get("resnet34").describe()
        );
        let w = get("dropout-0.1").welch.unwrap();
        // scipy: ttest_ind([0.723, 0.719, 0.716], [0.823, 0.820, 0.815], equal_var=False).pvalue
        assert!((w.p - 6.540398156395746e-06).abs() < 1e-11, "p {}", w.p);
        // statsmodels: multipletests(the 14 p-values + [1.0 for resnet34], method="holm")[1][4]
        assert!(
            (get("dropout-0.1").p_holm.unwrap() - 9.81059723e-05).abs() < 1e-12,
            "{:?}",
            get("dropout-0.1").p_holm
        );
        assert!(
            get("dropout-0.1").describe().starts_with(
                "worse: −10.0 pp, 95% CI [−10.9, −9.1], \
            p < 0.001, Holm-adjusted p < 0.001 (15 comparisons)"
            ),
            "{}",
            get("dropout-0.1").describe()
        );
        assert!(
            get("flips-0.1").describe().starts_with(
                "undecided (about 123 seeds a side would decide it): +0.2 pp, 95% \
            CI [−0.7, +1.1], p = 0.583, Holm-adjusted p = 1.000"
            ),
            "{}",
            get("flips-0.1").describe()
        );
        assert_eq!(fam.tally(), "1 worse, 13 undecided, 1 pending");
        // The minimum detectable effect of Welch's test as it is run, at α/15 with both sides'
        // SDs: scipy 1.17.1's adaptive quadrature, `python bench/welch_mde.py` (its last line:
        // sds 0.0040415 and 0.0035119 by numpy with ddof=1, 3 seeds a side) = 0.03620067781504223.
        assert!(
            (get("dropout-0.1").mde().unwrap() - 0.03620067781504223).abs() < 1e-6,
            "{:?}",
            get("dropout-0.1").mde()
        );
        assert_eq!(get("resnet34").mde(), None, "pending: no spread yet");
        assert!(
            get("dropout-0.1")
                .describe()
                .ends_with("; these seeds detect |Δ| ≥ 3.6 pp at 80% power"),
            "{}",
            get("dropout-0.1").describe()
        );
        let t = fam.table().unwrap();
        assert_eq!(t.height(), 15);
        assert_eq!(t.column("verdict").unwrap().str().unwrap().get(14), Some("pending"));
        assert!(t.column("best_val_delta_pp").is_ok(), "named after the score it compares");

        // One seed a side: too few to tell, and not "no difference".
        let one = paper_family(|v| Ok((value(&v.key).map_or(vec![], |a| vec![(1, a[0])]), 1)));
        assert_eq!(one.comparisons[4].verdict(), Verdict::TooFewSeeds);
        assert!(
            one.comparisons[4].describe().starts_with("too few seeds to tell: "),
            "{}",
            one.comparisons[4].describe()
        );
        // Two of three seeds finished: pending, not judged on part of the runs.
        let part =
            paper_family(|v| Ok((value(&v.key).map_or(vec![], |a| vec![(1, a[0]), (2, a[1])]), 3)));
        assert!(part.comparisons.iter().all(|c| c.verdict() == Verdict::Pending));
    }
}
