//! A sequential study: the family of comparisons judged at several looks (so many seeds a
//! side, e.g. 5, 10, 15, 20), each comparison stopping once decided, so that the next look's
//! seeds go only where a comparison is still open.
//!
//! The procedure, fixed before any run:
//! - **Differences** (better, worse): Holm's procedure over the family, each hypothesis tested
//!   by a group-sequential boundary spending its current share of α (the graphical approach of
//!   Maurer & Bretz 2013, *Statistics in Biopharmaceutical Research* 5:311, with Holm's graph:
//!   α/j for each of the j hypotheses not yet rejected, a rejected one's share passed to the
//!   others). At look k, a hypothesis is rejected when Welch's two-sided p is below the
//!   nominal level 2(1 − Φ(c_k)) of the spending boundary c_k at its share
//!   ([`super::boundaries`]): the z boundaries carried to Welch's t through their p-values, so
//!   that few seeds do not inflate α (checked by simulation, [`simulate`]).
//! - **Equivalence**: the repeated confidence interval at α/m (Jennison & Turnbull 1989) —
//!   the Welch interval at look k's nominal level for α/m — inside ±margin. Repeated intervals
//!   cover at every look at once, so over the family and its looks an equivalence is wrong
//!   with probability at most α.
//! - A comparison still open after the last look is *undecided*.
//!
//! With one look this is the fixed design: Holm's adjusted p below α, and the Bonferroni
//! interval inside the margin ([`super::compare`]).
use super::boundaries::{Spending, spending_bounds, upper_tail};
use super::stats::{self, Welch};
use crate::data::Rng;
use crate::looks::Looks;

/// A sequential design: the seeds a side at each look, how α is spent, over a family of `m`.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Seeds a side at each look, increasing (the last is the most any comparison gets).
    pub looks: Vec<usize>,
    pub spending: Spending,
    /// The family-wise error rate, over comparisons and looks.
    pub alpha: f64,
    /// The family's size.
    pub m: usize,
    /// `levels[j − 1][k]`: the nominal two-sided level at look k for a share α/j.
    levels: Vec<Vec<f64>>,
}

/// What a decided comparison found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Better,
    Worse,
    Equivalent,
}

/// A comparison decided at a look (0-based index into [`Design::looks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub call: Call,
    pub look: usize,
}

impl Design {
    /// `looks`' seeds a side and spending (checked, [`Looks::validate`]), over a family of `m`
    /// comparisons at family-wise α.
    pub fn new(looks: &Looks, alpha: f64, m: usize) -> Result<Self, String> {
        looks.validate()?;
        let spending = looks.spending;
        let looks = looks.seeds.clone();
        let last = *looks.last().expect("validated") as f64;
        let t: Vec<f64> = looks.iter().map(|&n| n as f64 / last).collect();
        let levels = (1..=m.max(1))
            .map(|j| {
                let c = spending_bounds(spending, alpha / j as f64, &t);
                c.iter().map(|&c| 2.0 * upper_tail(c)).collect()
            })
            .collect();
        Ok(Design { looks, spending, alpha, m: m.max(1), levels })
    }

    /// The nominal two-sided level at look `k` for a hypothesis whose share is α/`j`.
    pub fn level(&self, j: usize, k: usize) -> f64 {
        self.levels[j.clamp(1, self.m) - 1][k]
    }

    /// The repeated confidence interval at look `k`: simultaneous over the family (α/m)
    /// and its looks.
    pub fn interval(&self, w: &Welch, k: usize) -> Option<(f64, f64)> {
        w.interval(1.0 - self.level(self.m, k))
    }

    /// One look `k`: `welch[i]` is comparison i's test on the look's seeds (`None` when it is
    /// decided already); `decided` is updated with what this look decides, and `levels` with
    /// the nominal level each tested comparison's p was last held to.
    pub fn judge(
        &self,
        k: usize,
        welch: &[Option<Welch>],
        margins: &[Option<f64>],
        decided: &mut [Option<Decided>],
        levels: &mut [Option<f64>],
    ) {
        // Holm's step-down with shares α/j, j the hypotheses not yet rejected.
        loop {
            let rejected = decided.iter().flatten().filter(|d| d.call != Call::Equivalent).count();
            let level = self.level(self.m - rejected, k);
            let mut any = false;
            for (i, w) in welch.iter().enumerate() {
                let (None, Some(w)) = (decided[i], w) else { continue };
                levels[i] = Some(level);
                if w.p < level {
                    let call = if w.diff > 0.0 { Call::Better } else { Call::Worse };
                    decided[i] = Some(Decided { call, look: k });
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        for (i, w) in welch.iter().enumerate() {
            if let (None, Some(w), Some(m)) = (decided[i], w, margins[i])
                && self.interval(w, k).is_some_and(|(lo, hi)| -m < lo && hi < m)
            {
                decided[i] = Some(Decided { call: Call::Equivalent, look: k });
            }
        }
    }

    /// The looks replayed over each comparison's scores (reference, variant), in seed order:
    /// look after look while every open comparison has the look's seeds on both sides.
    pub fn replay(&self, scores: &[(&[f64], &[f64])], margins: &[Option<f64>]) -> Replay {
        let mut decided = vec![None; scores.len()];
        let mut levels = vec![None; scores.len()];
        let mut judged = 0;
        for (k, &n) in self.looks.iter().enumerate() {
            let open: Vec<usize> = (0..scores.len()).filter(|&i| decided[i].is_none()).collect();
            if open.is_empty()
                || open.iter().any(|&i| scores[i].0.len() < n || scores[i].1.len() < n)
            {
                break;
            }
            let welch: Vec<Option<Welch>> = (0..scores.len())
                .map(|i| {
                    let (r, v) = scores[i];
                    decided[i].is_none().then(|| stats::welch(&r[..n], &v[..n])).flatten()
                })
                .collect();
            self.judge(k, &welch, margins, &mut decided, &mut levels);
            judged = k + 1;
        }
        Replay { decided, levels, judged }
    }

    /// Seeds a side comparison `i` has at the end: its deciding look's, else the last look
    /// judged.
    pub fn seeds_of(&self, replay: &Replay, i: usize) -> usize {
        match replay.decided[i] {
            Some(d) => self.looks[d.look],
            None => self.looks[replay.judged.max(1) - 1],
        }
    }
}

/// Where a replay of the looks stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Each comparison's decision, if any.
    pub decided: Vec<Option<Decided>>,
    /// The nominal level each comparison's p was last held to.
    pub levels: Vec<Option<f64>>,
    /// Looks judged (0 to K): the next look to run is `looks[judged]`, for the open ones.
    pub judged: usize,
}

impl Replay {
    /// Every look judged, or every comparison decided: nothing more to run.
    pub fn finished(&self, design: &Design) -> bool {
        self.judged == design.looks.len() || self.decided.iter().all(Option::is_some)
    }
}

/// A simulated family: arms with true means, comparisons (reference arm, variant arm) with
/// margins, every score normal with SD `sd`.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub means: Vec<f64>,
    pub pairs: Vec<(usize, usize)>,
    pub margin: f64,
    pub sd: f64,
}

/// What a simulation of the whole procedure found over its repetitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulated {
    pub reps: usize,
    /// Share of repetitions with a better/worse call on a comparison whose true Δ is 0.
    pub false_difference: f64,
    /// Share with a better/worse call of the wrong sign, or an equivalence where |Δ| ≥ margin.
    pub false_any: f64,
    /// Share of repetitions with an equivalence call where the true |Δ| ≥ margin.
    pub false_equivalence: f64,
    /// Per comparison: share decided (better, worse or equivalent).
    pub decided: Vec<f64>,
    /// Per comparison: share called rightly — better for a true Δ > 0, worse for Δ < 0,
    /// equivalent for Δ = 0 — and its mean seeds a side at the end.
    pub right: Vec<f64>,
    pub seeds: Vec<f64>,
    /// Units (arm × seed) run, mean over repetitions, and the fixed design's at the last look.
    pub units: f64,
    pub units_fixed: usize,
}

/// The procedure run `reps` times on simulated scores: every arm draws the last look's seeds,
/// and each look uses the first n (the study's own t statistics at its own seed counts).
pub fn simulate(design: &Design, s: &Scenario, reps: usize, seed: u64) -> Simulated {
    let mut rng = Rng::new(seed);
    let last = *design.looks.last().expect("a design has looks");
    let margins = vec![Some(s.margin); s.pairs.len()];
    let (mut fd, mut fa, mut fe, mut units) = (0usize, 0usize, 0usize, 0usize);
    let mut decided = vec![0usize; s.pairs.len()];
    let (mut right, mut seeds) = (vec![0usize; s.pairs.len()], vec![0usize; s.pairs.len()]);
    for _ in 0..reps {
        let draws: Vec<Vec<f64>> = s
            .means
            .iter()
            .map(|&mu| (0..last).map(|_| mu + s.sd * rng.normal()).collect())
            .collect();
        let scores: Vec<(&[f64], &[f64])> =
            s.pairs.iter().map(|&(r, v)| (&draws[r][..], &draws[v][..])).collect();
        let replay = design.replay(&scores, &margins);
        let (mut any_fd, mut any_fa, mut any_fe) = (false, false, false);
        let mut arm_seeds = vec![0usize; s.means.len()];
        for (i, &(r, v)) in s.pairs.iter().enumerate() {
            let delta = s.means[v] - s.means[r];
            let n = design.seeds_of(&replay, i);
            arm_seeds[r] = arm_seeds[r].max(n);
            arm_seeds[v] = arm_seeds[v].max(n);
            seeds[i] += n;
            let Some(d) = replay.decided[i] else { continue };
            let want = match delta {
                x if x > 0.0 => Call::Better,
                x if x < 0.0 => Call::Worse,
                _ => Call::Equivalent,
            };
            right[i] += (d.call == want) as usize;
            decided[i] += 1;
            let wrong = match d.call {
                Call::Better => delta <= 0.0,
                Call::Worse => delta >= 0.0,
                Call::Equivalent => delta.abs() >= s.margin,
            };
            any_fd |= d.call != Call::Equivalent && delta == 0.0;
            any_fe |= d.call == Call::Equivalent && wrong;
            any_fa |= wrong;
        }
        units += arm_seeds.iter().sum::<usize>();
        fd += any_fd as usize;
        fa += any_fa as usize;
        fe += any_fe as usize;
    }
    let share = |n: usize| n as f64 / reps as f64;
    Simulated {
        reps,
        false_difference: share(fd),
        false_any: share(fa),
        false_equivalence: share(fe),
        decided: decided.into_iter().map(share).collect(),
        right: right.into_iter().map(share).collect(),
        seeds: seeds.into_iter().map(share).collect(),
        units: units as f64 / reps as f64,
        units_fixed: s.means.len() * last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's family shape: 15 comparisons on 16 arms, xknet18 (arm 1) the reference of
    /// 14 of them, resnet18 (arm 0) of the first.
    fn paper_pairs() -> Vec<(usize, usize)> {
        std::iter::once((1, 0)).chain((2..16).map(|v| (1, v))).collect()
    }

    fn design(looks: &[usize]) -> Design {
        let looks = Looks { seeds: looks.to_vec(), spending: Spending::ObrienFleming };
        Design::new(&looks, 0.05, 15).unwrap()
    }

    #[test]
    fn one_look_is_holm_and_the_bonferroni_interval() {
        let d = design(&[5]);
        assert!((d.level(15, 0) - 0.05 / 15.0).abs() < 1e-9 && (d.level(1, 0) - 0.05).abs() < 1e-9);
        // Holm's steps: 0.003 < 0.05/15 rejects; then 0.0035 < 0.05/14 (but not 0.05/15)
        // rejects at the next step; 0.5 never.
        let w = |p: f64, diff: f64| {
            Some(Welch { diff, se: 0.01, df: 8.0, t: 3.0, p, ci95: (0.0, 0.0) })
        };
        let mut welch = vec![w(0.5, 0.001); 15];
        welch[0] = w(0.003, -0.05);
        welch[1] = w(0.0035, 0.04);
        let (mut decided, mut levels) = (vec![None; 15], vec![None; 15]);
        d.judge(0, &welch, &[None; 15], &mut decided, &mut levels);
        assert!((levels[2].unwrap() - 0.05 / 13.0).abs() < 1e-12, "the third step's share");
        assert_eq!(decided[0], Some(Decided { call: Call::Worse, look: 0 }));
        assert_eq!(decided[1], Some(Decided { call: Call::Better, look: 0 }));
        assert!(decided[2..].iter().all(Option::is_none));
    }

    /// The whole procedure on simulated scores at the study's looks 5/10/15/20, with the t
    /// statistics of those seed counts: under the global null its family-wise error stays
    /// below α; with true |Δ| at the margin, equivalence is wrong below α; and a mix of
    /// true nulls and alternatives keeps both. (`bench/sequential` runs 20,000 repetitions
    /// and the power table; here 1,500.)
    #[test]
    fn the_procedure_keeps_its_error_rates_in_simulation() {
        let d = design(&[5, 10, 15, 20]);
        let pairs = paper_pairs();
        let null = Scenario { means: vec![0.0; 16], pairs: pairs.clone(), margin: 1.0, sd: 1.0 };
        let r = simulate(&d, &null, 1500, 1);
        assert!(r.false_difference <= 0.05, "FWER under the global null {}", r.false_difference);
        let mut at_margin = null.clone();
        at_margin.means = (0..16).map(|a| if a == 1 { 0.0 } else { 1.0 }).collect();
        at_margin.means[0] = -1.0;
        let r = simulate(&d, &at_margin, 1500, 2);
        assert!(r.false_equivalence <= 0.05, "false equivalence {}", r.false_equivalence);
        let mut mixed = null.clone();
        mixed.means = (0..16).map(|a| [0.0, 0.0, 3.0, -3.0, 0.0][a % 5]).collect();
        let r = simulate(&d, &mixed, 1500, 3);
        assert!(r.false_any <= 0.05, "any false call in the mixed family {}", r.false_any);
        // Large effects decide at the first looks: fewer units than the fixed 20 seeds.
        let big = r
            .decided
            .iter()
            .zip(&pairs)
            .filter(|(_, (rf, v))| (mixed.means[*v] - mixed.means[*rf]).abs() >= 3.0);
        assert!(big.clone().all(|(s, _)| *s > 0.9), "3 SD effects decided {:?}", r.decided);
        assert!(r.units < r.units_fixed as f64, "{} units against {}", r.units, r.units_fixed);
    }
}
