//! Statistics of comparisons between variants: Welch's t (unequal variances) for the
//! difference of two means (of whichever score a study compares), its 95% confidence interval, and
//! Holm's step-down adjustment over a fixed family of comparisons. t quantiles come
//! from `statrs`.
use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::statistics::{Data, OrderStatistics, Statistics};

/// One comparison `b − a` by Welch's t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// mean(b) − mean(a).
    pub diff: f64,
    /// Standard error of the difference: √(s²a/na + s²b/nb).
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    pub t: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// 95% confidence interval of the difference.
    pub ci95: (f64, f64),
}

impl Welch {
    /// The difference's two-sided interval at `level` (e.g. 0.95, or 1 − α/m for one
    /// simultaneous over m comparisons), by the same t with the Welch–Satterthwaite df.
    pub fn interval(&self, level: f64) -> Option<(f64, f64)> {
        if !(0.0..1.0).contains(&level) {
            return None;
        }
        if self.se == 0.0 {
            return Some((self.diff, self.diff));
        }
        let q = StudentsT::new(0.0, 1.0, self.df).ok()?.inverse_cdf(0.5 + level / 2.0);
        Some((self.diff - q * self.se, self.diff + q * self.se))
    }
}

/// The mean of `x` (statrs); NaN when it is empty.
pub fn mean(x: &[f64]) -> f64 {
    x.mean()
}

/// The mean and the sample variance (n − 1) of `x` (statrs).
fn mean_var(x: &[f64]) -> (f64, f64) {
    (x.mean(), x.variance())
}

/// Welch's t-test of `b − a`; `None` with fewer than two values on a side (no spread to
/// estimate). Two sides without any spread give p = 1 when their means are equal, else
/// p = 0, with the interval collapsed onto the difference.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let ((ma, va), (mb, vb)) = (mean_var(a), mean_var(b));
    let (qa, qb) = (va / a.len() as f64, vb / b.len() as f64);
    let diff = mb - ma;
    let se = (qa + qb).sqrt();
    if se == 0.0 {
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(Welch { diff, se, df: f64::INFINITY, t: f64::NAN, p, ci95: (diff, diff) });
    }
    let df =
        (qa + qb).powi(2) / (qa * qa / (a.len() as f64 - 1.0) + qb * qb / (b.len() as f64 - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let t = diff / se;
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    let q = dist.inverse_cdf(0.975);
    Some(Welch { diff, se, df, t, p, ci95: (diff - q * se, diff + q * se) })
}

/// A linear contrast `Σ cᵢ·mean(xᵢ)` of several groups with unequal variances (the
/// Welch–Satterthwaite degrees of freedom; [`welch`] is the contrast `b − a`), e.g. an
/// interaction `(b − a) − (d − c)`. `None` when a group has fewer than two values.
pub fn contrast(groups: &[(&[f64], f64)]) -> Option<Welch> {
    if groups.iter().any(|(x, _)| x.len() < 2) {
        return None;
    }
    let diff: f64 = groups.iter().map(|(x, c)| c * mean_var(x).0).sum();
    let terms: Vec<f64> =
        groups.iter().map(|(x, c)| c * c * mean_var(x).1 / x.len() as f64).collect();
    let var: f64 = terms.iter().sum();
    let se = var.sqrt();
    if se == 0.0 {
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(Welch { diff, se, df: f64::INFINITY, t: f64::NAN, p, ci95: (diff, diff) });
    }
    let df = var * var
        / terms.iter().zip(groups).map(|(t, (x, _))| t * t / (x.len() as f64 - 1.0)).sum::<f64>();
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let t = diff / se;
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    let q = dist.inverse_cdf(0.975);
    Some(Welch { diff, se, df, t, p, ci95: (diff - q * se, diff + q * se) })
}

/// The ratio `mean(a) ÷ mean(b)` of two independent samples and its 95% interval by Fieller's
/// theorem: the ratios ρ for which `mean(a) − ρ·mean(b)` is not rejected by the t of that
/// contrast, its Welch–Satterthwaite df taken at the estimate. `None` with fewer than two
/// values on a side, or when `mean(b)` is not clearly away from zero (the interval would be
/// unbounded).
pub fn ratio_ci95(a: &[f64], b: &[f64]) -> Option<(f64, (f64, f64))> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let ((ma, sa), (mb, sb)) = (mean_var(a), mean_var(b));
    let (va, vb) = (sa / a.len() as f64, sb / b.len() as f64);
    let rho = ma / mb;
    let v = va + rho * rho * vb;
    if v == 0.0 {
        return (mb != 0.0).then_some((rho, (rho, rho)));
    }
    let df =
        v * v / (va * va / (a.len() as f64 - 1.0) + rho.powi(4) * vb * vb / (b.len() as f64 - 1.0));
    let q = StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(0.975);
    let lead = mb * mb - q * q * vb;
    if lead <= 0.0 {
        return None;
    }
    let half = (q * q * (ma * ma * vb + mb * mb * va - q * q * va * vb)).max(0.0).sqrt();
    Some((rho, ((ma * mb - half) / lead, (ma * mb + half) / lead)))
}

/// `x` rounded to `digits` decimals, as the study's tables show numbers.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The 95% confidence interval of the mean of `x` (Student's t, n − 1 degrees of
/// freedom); `None` with fewer than two values.
pub fn mean_ci95(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let (m, v) = mean_var(x);
    let se = (v / x.len() as f64).sqrt();
    let q = StudentsT::new(0.0, 1.0, x.len() as f64 - 1.0).ok()?.inverse_cdf(0.975);
    Some((m - q * se, m + q * se))
}

/// Holm's step-down adjustment of a family's p-values. `None` entries are comparisons
/// still pending: they stay `None`, but count in the family's size (they are not dropped
/// from the adjustment), ranked as if their p-values were 1.
pub fn holm(ps: &[Option<f64>]) -> Vec<Option<f64>> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| ps[i].unwrap_or(1.0).total_cmp(&ps[j].unwrap_or(1.0)));
    let mut out = vec![None; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let adjusted = ((m - rank) as f64 * ps[i].unwrap_or(1.0)).min(1.0);
        running = running.max(adjusted);
        if ps[i].is_some() {
            out[i] = Some(running);
        }
    }
    out
}

/// A least-squares line `y = intercept + slope·x` with the slope's standard error, its
/// two-sided p-value (t with n − 2 degrees of freedom) and its 95% CI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regression {
    pub slope: f64,
    pub intercept: f64,
    pub se: f64,
    pub df: f64,
    pub p: f64,
    pub ci95: (f64, f64),
}

/// Ordinary least squares of `y` on `x` (scipy's `linregress`); `None` with fewer than
/// three points or when every `x` is the same (no slope to estimate).
pub fn linregress(x: &[f64], y: &[f64]) -> Option<Regression> {
    let n = x.len();
    if n < 3 || y.len() != n {
        return None;
    }
    let (mx, my) = (x.mean(), y.mean());
    if x.iter().all(|v| *v == x[0]) {
        return None;
    }
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = x.iter().zip(y).map(|(a, b)| (b - intercept - slope * a).powi(2)).sum();
    let df = (n - 2) as f64;
    let se = (sse / df / sxx).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = if se == 0.0 {
        if slope == 0.0 { 1.0 } else { 0.0 }
    } else {
        (2.0 * (1.0 - dist.cdf((slope / se).abs()))).clamp(0.0, 1.0)
    };
    let q = dist.inverse_cdf(0.975);
    Some(Regression { slope, intercept, se, df, p, ci95: (slope - q * se, slope + q * se) })
}

/// The median of `x` (the mean of the middle two for an even count); `None` when empty.
pub fn median(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| Data::new(x.to_vec()).median())
}

/// P(T ≤ t) for T noncentral t with `df` degrees of freedom and noncentrality `ncp`:
/// E[Φ(t·S/√df − ncp)] over S ~ χ(df), integrated by Simpson's rule on the chi density
/// (smooth for df ≥ 2: no library here has the noncentral t).
pub fn noncentral_t_cdf(t: f64, df: f64, ncp: f64) -> f64 {
    use statrs::function::{erf::erfc, gamma::ln_gamma};
    let phi = |x: f64| 0.5 * erfc(-x / std::f64::consts::SQRT_2);
    let log_norm = (df / 2.0 - 1.0) * std::f64::consts::LN_2 + ln_gamma(df / 2.0);
    let chi = |s: f64| {
        if s <= 0.0 {
            if df == 1.0 { (-log_norm).exp() } else { 0.0 }
        } else {
            ((df - 1.0) * s.ln() - s * s / 2.0 - log_norm).exp()
        }
    };
    let (hi, n) = (df.sqrt() + 14.0, 4000usize);
    let h = hi / n as f64;
    let f = |s: f64| phi(t * s / df.sqrt() - ncp) * chi(s);
    let inner: f64 = (1..n).map(|i| f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 }).sum();
    ((f(0.0) + inner + f(hi)) * h / 3.0).clamp(0.0, 1.0)
}

/// Power of the two-sided two-sample t-test with `n` values a side at level `alpha` for an
/// effect of `d` standard deviations: P(|T| > t₁₋α/₂) with T noncentral t(2n − 2, d·√(n/2)) —
/// what statsmodels' `TTestIndPower().power(d, n, alpha)` computes.
pub fn t_test_power(d: f64, n: usize, alpha: f64) -> f64 {
    let df = 2.0 * n as f64 - 2.0;
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else { return f64::NAN };
    let crit = t.inverse_cdf(1.0 - alpha / 2.0);
    let ncp = d * (n as f64 / 2.0).sqrt();
    1.0 - noncentral_t_cdf(crit, df, ncp) + noncentral_t_cdf(-crit, df, ncp)
}

/// The smallest effect, in standard deviations, that `n` values a side detect with `power`
/// at two-sided level `alpha` (the noncentral t, as [`t_test_power`]; statsmodels'
/// `TTestIndPower().solve_power(nobs1=n, alpha, power)`); `None` below two values a side.
pub fn detectable_effect(n: usize, alpha: f64, power: f64) -> Option<f64> {
    if n < 2 || !(0.0..1.0).contains(&alpha) || !(0.0..1.0).contains(&power) {
        return None;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_test_power(hi, n, alpha) < power {
        hi *= 2.0;
        if hi > 1e6 {
            return None;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if t_test_power(mid, n, alpha) < power { lo = mid } else { hi = mid }
    }
    Some(0.5 * (lo + hi))
}

/// The power of Welch's two-sided test, as it is run, at level `alpha`, for a true difference
/// `delta` between two normal sides with true SDs `sd.0`, `sd.1` and `n.0`, `n.1` values: the
/// test estimates both variances, and with them its Welch–Satterthwaite degrees of freedom, so
/// the power is the mean over the two sample variances (scaled χ² each, independent of the
/// difference of the means) of P(|D| > t₁₋α/₂(df̂)·ŝe), D normal. A two-dimensional Simpson
/// rule on the χ densities, with the t quantile interpolated in log–log over the df's range.
/// Hand-written: statrs and the crates on crates.io have no Welch power.
pub fn welch_power(delta: f64, sd: (f64, f64), n: (usize, usize), alpha: f64) -> f64 {
    WelchPower::new(sd, n, alpha).map_or(f64::NAN, |w| w.at(delta))
}

/// [`welch_power`] for one design, its quadrature grid and quantiles computed once.
struct WelchPower {
    /// (weight, ŝe, t quantile at df̂) of each grid point, the weights summing to 1.
    points: Vec<(f64, f64, f64)>,
    /// The true standard error of the difference of the means.
    se: f64,
}

impl WelchPower {
    fn new(sd: (f64, f64), n: (usize, usize), alpha: f64) -> Option<Self> {
        if n.0 < 2
            || n.1 < 2
            || sd.0.max(sd.1) <= 0.0
            || sd.0.is_nan()
            || sd.1.is_nan()
            || !(0.0..1.0).contains(&alpha)
        {
            return None;
        }
        let k = ((n.0 - 1) as f64, (n.1 - 1) as f64);
        let (qa, qb) = (sd.0 * sd.0 / n.0 as f64, sd.1 * sd.1 / n.1 as f64);
        // t₁₋α/₂(df) for df between its bounds, min(k) and k.0 + k.1: log c linear in log df.
        let (lo, hi) = (k.0.min(k.1), k.0 + k.1);
        let m = 256;
        let quantile: Vec<f64> = (0..=m)
            .map(|i| {
                let df = lo * (hi / lo).powf(i as f64 / m as f64);
                StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(1.0 - alpha / 2.0))
            })
            .collect();
        let c_at = |df: f64| {
            let x = ((df / lo).ln() / (hi / lo).ln() * m as f64).clamp(0.0, m as f64);
            let i = (x.floor() as usize).min(m - 1);
            let f = x - i as f64;
            (quantile[i].ln() * (1.0 - f) + quantile[i + 1].ln() * f).exp()
        };
        // Each side's sample variance is σ²·x²/k with x ~ χ(k): Simpson nodes on x.
        let nodes = |k: f64| -> Vec<(f64, f64)> {
            let steps = 120usize;
            let top = k.sqrt() + 9.0;
            let h = top / steps as f64;
            let ln_norm = (k / 2.0 - 1.0) * std::f64::consts::LN_2
                + statrs::function::gamma::ln_gamma(k / 2.0);
            let density = |x: f64| {
                if x <= 0.0 {
                    if k == 1.0 { (-ln_norm).exp() } else { 0.0 }
                } else {
                    ((k - 1.0) * x.ln() - x * x / 2.0 - ln_norm).exp()
                }
            };
            (0..=steps)
                .map(|i| {
                    let w = if i == 0 || i == steps {
                        1.0
                    } else if i % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    let x = i as f64 * h;
                    (x * x / k, w * h / 3.0 * density(x))
                })
                .collect()
        };
        let (xa, xb) = (nodes(k.0), nodes(k.1));
        let mut points = Vec::with_capacity(xa.len() * xb.len());
        for &(ra, wa) in &xa {
            for &(rb, wb) in &xb {
                let (va, vb) = (qa * ra, qb * rb);
                let s2 = va + vb;
                if s2 <= 0.0 || wa * wb == 0.0 {
                    continue;
                }
                let df = s2 * s2 / (va * va / k.0 + vb * vb / k.1);
                points.push((wa * wb, s2.sqrt(), c_at(df)));
            }
        }
        let total: f64 = points.iter().map(|p| p.0).sum();
        points.iter_mut().for_each(|p| p.0 /= total);
        Some(Self { points, se: (qa + qb).sqrt() })
    }

    fn at(&self, delta: f64) -> f64 {
        use statrs::function::erf::erfc;
        let phi = |x: f64| 0.5 * erfc(-x / std::f64::consts::SQRT_2);
        self.points
            .iter()
            .map(|&(w, s, c)| {
                w * (phi((-c * s - delta) / self.se) + 1.0 - phi((c * s - delta) / self.se))
            })
            .sum()
    }
}

/// The minimum detectable effect of Welch's test as it is run ([`welch_power`]): the smallest
/// true |difference| detected with `power` at two-sided level `alpha`, for sides of `n`
/// values with SDs `sd` (in the data's units); `None` below two values a side, or with no
/// spread on either side.
pub fn welch_detectable_effect(
    sd: (f64, f64),
    n: (usize, usize),
    alpha: f64,
    power: f64,
) -> Option<f64> {
    if !(0.0..1.0).contains(&power) {
        return None;
    }
    let w = WelchPower::new(sd, n, alpha)?;
    let (mut lo, mut hi) = (0.0f64, w.se);
    while w.at(hi) < power {
        hi *= 2.0;
        if hi > 1e6 * w.se {
            return None;
        }
    }
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if w.at(mid) < power { lo = mid } else { hi = mid }
    }
    Some(0.5 * (lo + hi))
}

/// Seeds a side (at most `max`) that would decide a
/// comparison whose sides have SDs `sd`, were its observed difference `diff` true: the fewest
/// n with which a two-sided Welch test at `alpha` detects `diff` with `power`, or — when
/// |diff| < `margin` — with which the interval at 1 − `alpha` falls inside ±margin with
/// `power`. The usual normal-theory sample size with t quantiles at the Welch–Satterthwaite
/// df of n seeds a side: (t₁₋α/₂ + t_power)·se(n) ≤ |diff|, or ≤ margin − |diff|. An
/// estimate for planning seeds, not a test; `None` beyond the most seeds looked at.
pub fn seeds_to_decide(
    sd: (f64, f64),
    diff: f64,
    margin: Option<f64>,
    alpha: f64,
    power: f64,
    max: usize,
) -> Option<usize> {
    let (va, vb) = (sd.0 * sd.0, sd.1 * sd.1);
    if va + vb <= 0.0 || (va + vb).is_nan() {
        return None;
    }
    let room = |n: usize| {
        let df = (va + vb).powi(2) * (n as f64 - 1.0) / (va * va + vb * vb);
        let t = StudentsT::new(0.0, 1.0, df).ok()?;
        let se = ((va + vb) / n as f64).sqrt();
        Some((t.inverse_cdf(1.0 - alpha / 2.0) + t.inverse_cdf(power)) * se)
    };
    let decides = |n: usize| {
        room(n).is_some_and(|r| {
            r <= diff.abs() || margin.is_some_and(|m| diff.abs() < m && r <= m - diff.abs())
        })
    };
    let (mut lo, mut hi) = (2usize, 2usize);
    while !decides(hi) {
        if hi >= max {
            return None;
        }
        lo = hi;
        hi = (hi * 2).min(max);
    }
    // The fewest in (lo, hi]: `decides` holds from some n on.
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if decides(mid) { hi = mid } else { lo = mid }
    }
    Some(if decides(lo) { lo } else { hi })
}

/// `x` to `digits` significant digits (a tiny level keeps its digits: 1.547e-5).
pub fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// The sample standard deviation (n − 1) of `x` (statrs); NaN below two values.
pub fn sd(x: &[f64]) -> f64 {
    mean_var(x).1.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fieller's interval by inverting the contrast's t numerically (A, B the lists below),
    /// scipy 1.17.1:
    /// `a, b = A - 0.1, B - 0.1; ma, mb = a.mean(), b.mean(); va, vb = a.var(ddof=1)/5,
    /// b.var(ddof=1)/5; r = ma/mb; v = va + r**2*vb; df = v*v/(va*va/4 + r**4*vb*vb/4);
    /// q = stats.t.ppf(0.975, df); f = lambda th: abs(ma - th*mb)/np.sqrt(va + th**2*vb) - q;
    /// optimize.brentq(f, 0, r, xtol=1e-14), optimize.brentq(f, r, 1, xtol=1e-14)`.
    #[test]
    fn fieller_matches_scipy() {
        let a: Vec<f64> = [0.191, 0.198, 0.185, 0.205, 0.200].iter().map(|x| x - 0.1).collect();
        let b: Vec<f64> = [0.419, 0.450, 0.430, 0.441, 0.425].iter().map(|x| x - 0.1).collect();
        let (r, (lo, hi)) = ratio_ci95(&a, &b).unwrap();
        assert!((r - 0.2876876876876877).abs() < 1e-12, "{r}");
        assert!((lo - 0.259282215438918).abs() < 1e-9, "{lo}");
        assert!((hi - 0.3170954238543615).abs() < 1e-9, "{hi}");
        // A denominator indistinguishable from zero: no bounded interval.
        assert_eq!(ratio_ci95(&a, &[0.01, -0.02, 0.015]), None);
        assert_eq!(ratio_ci95(&a[..1], &b), None);
        // No spread on either side: the interval is the ratio itself.
        assert_eq!(ratio_ci95(&[0.1, 0.1], &[0.2, 0.2]), Some((0.5, (0.5, 0.5))));
    }

    /// statsmodels 0.15.0 (`from statsmodels.stats.power import TTestIndPower`):
    /// `TTestIndPower().solve_power(effect_size=None, nobs1=n, alpha=a, power=0.8, ratio=1.0,
    /// alternative='two-sided')` — its root finder stops within ~2e-6 (at n = 3, α = 0.01 its own
    /// `power()` of its answer is 0.7999997; of ours, 0.8000000000012) — and
    /// `TTestIndPower().power(effect_size=d, nobs1=n, alpha=a, ratio=1.0,
    /// alternative='two-sided')`.
    #[test]
    fn detectable_effects_match_statsmodels() {
        for (n, alpha, want) in [
            (3, 0.05, 3.070892269599019),
            (5, 0.05, 2.024440145655355),
            (5, 0.05 / 15.0, 3.2813035065614913),
            (10, 0.01, 1.6861052616126382),
            (3, 0.01, 4.7998257324262354),
            (20, 0.05, 0.9091290410935777),
        ] {
            let got = detectable_effect(n, alpha, 0.8).unwrap();
            assert!((got - want).abs() < 2e-6, "n {n} alpha {alpha}: {got} vs statsmodels {want}");
            assert!((t_test_power(got, n, alpha) - 0.8).abs() < 1e-9);
        }
        for (d, n, alpha, want) in [
            (1.5, 5, 0.05, 0.549385597762396),
            (4.8, 3, 0.01, 0.800029645343233),
            (0.9, 20, 0.05, 0.7920362552634235),
            (3.0, 5, 0.05 / 15.0, 0.7041166907893355),
        ] {
            assert!(
                (t_test_power(d, n, alpha) - want).abs() < 1e-9,
                "power({d}, {n}, {alpha}) = {} vs statsmodels {want}",
                t_test_power(d, n, alpha)
            );
        }
        assert_eq!(detectable_effect(1, 0.05, 0.8), None);
    }

    /// Welch's detectable effect as the test is run, pinned to an independent computation —
    /// scipy 1.17.1's adaptive quadrature (`dblquad`) over the two sample variances with exact
    /// t quantiles, solved by `brentq`: `python bench/welch_mde.py` — and checked by
    /// simulation: at the effect it computes, 20,000 simulated Welch tests (normal sides,
    /// seeded) reject 80% of the time, for equal and unequal spreads and seed counts and for
    /// two seeds a side (df between 1 and 2). The pooled t's 2n − 2 degrees of freedom
    /// understate it: 3.28 SDs at 5 seeds a side against Welch's 3.55.
    #[test]
    fn welch_detectable_effects_hold_in_simulation() {
        let alpha = 0.05 / 15.0;
        for (sd, n, scipy) in [
            ((1.0, 1.0), (5, 5), 3.550835188847474),
            ((1.0, 2.5), (5, 5), 8.067696254111278),
            ((0.5, 1.0), (10, 4), 4.828670598563296),
        ] {
            let got = welch_detectable_effect(sd, n, alpha, 0.8).unwrap();
            assert!((got / scipy - 1.0).abs() < 2e-5, "sd {sd:?} n {n:?}: {got} vs scipy {scipy}");
        }
        let pooled = detectable_effect(5, alpha, 0.8).unwrap();
        assert!((pooled - 3.2813035065614913).abs() < 2e-6, "the pooled t's, for contrast");
        for (sd, n) in [
            ((1.0, 1.0), (5, 5)),
            ((1.0, 2.5), (5, 5)),
            ((1.0, 1.0), (2, 2)),
            ((0.5, 1.0), (10, 4)),
        ] {
            let mde = welch_detectable_effect(sd, n, alpha, 0.8).unwrap();
            let mut rng = crate::data::Rng::new(20261205);
            let reps = 20_000;
            let mut rejected = 0;
            for _ in 0..reps {
                let a: Vec<f64> = (0..n.0).map(|_| sd.0 * rng.normal()).collect();
                let b: Vec<f64> = (0..n.1).map(|_| mde + sd.1 * rng.normal()).collect();
                rejected += (welch(&a, &b).unwrap().p < alpha) as usize;
            }
            let rate = rejected as f64 / reps as f64;
            assert!((rate - 0.8).abs() < 0.012, "sd {sd:?} n {n:?}: power {rate} at {mde}");
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-12)
    }

    /// References: scipy 1.17.1, `r = scipy.stats.ttest_ind(b, a, equal_var=False)`,
    /// `r.confidence_interval(0.95)`.
    /// One scipy case: a, b, t, df, p, CI.
    type WelchCase<'a> = (&'a [f64], &'a [f64], f64, f64, f64, (f64, f64));

    #[test]
    fn welch_matches_scipy() {
        let cases: [WelchCase; 3] = [
            (
                &[0.823, 0.820, 0.815],
                &[0.798, 0.812, 0.805],
                -3.07142857142854,
                0.05005781530709271,
                3.1999999999999997,
                (-0.028673201671994636, 6.535005328239807e-06),
            ),
            (
                &[0.5, 0.6, 0.55, 0.58],
                &[0.52, 0.61],
                0.1500625390896456,
                0.8984253274945884,
                1.494449355326848,
                (-0.29477697061946384, 0.30977697061946374),
            ),
            (
                &[0.823, 0.82],
                &[0.790, 0.781],
                -7.589466384404064,
                0.056446961780878054,
                1.2195121951219512,
                (-0.07581632666864177, 0.0038163266686421574),
            ),
        ];
        for (a, b, t, p, df, (lo, hi)) in cases {
            let w = welch(a, b).unwrap();
            assert!(close(w.t, t, 1e-9) && close(w.df, df, 1e-9), "{a:?} {b:?}: {w:?}");
            assert!(close(w.p, p, 1e-6), "{a:?} {b:?}: p {} vs scipy {p}", w.p);
            assert!(
                close(w.ci95.0, lo, 1e-6),
                "{a:?} {b:?}: ci {:?} vs scipy ({lo}, {hi})",
                w.ci95
            );
            assert!(
                (w.ci95.1 - hi).abs() < 1e-9,
                "{a:?} {b:?}: ci {:?} vs scipy ({lo}, {hi})",
                w.ci95
            );
        }
        assert_eq!(welch(&[0.8], &[0.7, 0.75]), None, "one seed: too few to tell");
        let flat = welch(&[0.5, 0.5], &[0.5, 0.5]).unwrap();
        assert_eq!((flat.p, flat.ci95), (1.0, (0.0, 0.0)));
    }

    /// References: scipy 1.17.1, `scipy.stats.t.interval(0.95, len(x) - 1, loc=np.mean(x),
    /// scale=scipy.stats.sem(x))`.
    #[test]
    fn mean_ci_matches_scipy() {
        let cases: [(&[f64], (f64, f64)); 2] = [
            (&[0.823, 0.820, 0.815], (0.8092938102972511, 0.8293728563694154)),
            (&[0.5, 0.6, 0.55, 0.58, 0.41], (0.4336825619241489, 0.6223174380758512)),
        ];
        for (x, (lo, hi)) in cases {
            let (l, h) = mean_ci95(x).unwrap();
            assert!(
                close(l, lo, 1e-9) && close(h, hi, 1e-9),
                "{x:?}: ({l}, {h}) vs scipy ({lo}, {hi})"
            );
        }
        assert_eq!(mean_ci95(&[0.8]), None);
    }

    /// Reference: the Welch–Satterthwaite contrast computed with numpy and scipy 1.17.1
    /// (`L = Σ c·mean`, `v = Σ c²·var(ddof=1)/n`, `df = v² / Σ (c²·var/n)²/(n−1)`,
    /// `p = 2·t.sf(|L|/√v, df)`, CI `L ± t.ppf(0.975, df)·√v`).
    #[test]
    fn contrast_matches_the_welch_satterthwaite_reference() {
        let (a, b, c, d) = ([0.629, 0.606], [0.230, 0.239], [0.686, 0.694], [0.503, 0.515]);
        let w = contrast(&[(&a, 1.0), (&b, -1.0), (&c, -1.0), (&d, 1.0)]).unwrap();
        assert!(
            close(w.diff, 0.202, 1e-9)
                && close(w.se, 0.014300349646075083, 1e-9)
                && close(w.df, 2.1499065012177234, 1e-9),
            "{w:?}"
        );
        assert!(close(w.p, 0.0036971771833844824, 1e-6), "{w:?}");
        assert!(
            close(w.ci95.0, 0.14440442975909332, 1e-6) && close(w.ci95.1, 0.2595955702409067, 1e-6),
            "{w:?}"
        );
        // Two groups: Welch's test itself.
        let (x, y) = ([0.823, 0.820, 0.815], [0.798, 0.812, 0.805]);
        assert_eq!(
            contrast(&[(&y, 1.0), (&x, -1.0)]).map(|w| (w.diff, w.df)),
            welch(&x, &y).map(|w| (w.diff, w.df))
        );
        assert_eq!(contrast(&[(&[0.5], 1.0), (&y, -1.0)]), None);
    }

    /// References: scipy 1.17.1, `r = scipy.stats.linregress(x, y)`; the CI is
    /// `r.slope ± scipy.stats.t.ppf(0.975, len(x) - 2) * r.stderr`.
    #[test]
    fn linregress_matches_scipy() {
        let x = [0.0, 0.0, 0.0, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3];
        let y = [0.617, 0.64, 0.63, 0.61, 0.6, 0.62, 0.58, 0.59, 0.6, 0.57, 0.55, 0.58];
        let r = linregress(&x, &y).unwrap();
        assert!(
            close(r.slope, -0.20700000000000005, 1e-9)
                && close(r.intercept, 0.6299666666666667, 1e-9),
            "{r:?}"
        );
        assert!(
            close(r.se, 0.02765943680634957, 1e-9) && close(r.p, 2.1013643922214246e-05, 1e-6),
            "{r:?}"
        );
        assert!(
            close(r.ci95.0, -0.2686290657722867, 1e-9)
                && close(r.ci95.1, -0.1453709342277134, 1e-9),
            "{r:?}"
        );
        // A noisy, flat one: the CI spans zero.
        let r = linregress(&[0.0, 0.0, 0.1, 0.2, 0.3, 0.3], &[0.6, 0.4, 0.62, 0.17, 0.58, 0.61])
            .unwrap();
        assert!(
            close(r.slope, 0.06315789473684198, 1e-9) && close(r.p, 0.9274492985016247, 1e-6),
            "{r:?}"
        );
        assert!(
            close(r.ci95.0, -1.7460466930842806, 1e-9) && close(r.ci95.1, 1.8723624825579648, 1e-9),
            "{r:?}"
        );
        assert_eq!(linregress(&[0.1, 0.1, 0.1], &[0.5, 0.6, 0.7]), None, "one x: no slope");
        assert_eq!(linregress(&[0.1, 0.2], &[0.5, 0.6]), None, "two points: no spread");
        assert_eq!(
            (median(&[3.0, 1.0, 2.0]), median(&[4.0, 1.0, 2.0, 3.0]), median(&[])),
            (Some(2.0), Some(2.5), None)
        );
    }

    /// References: statsmodels 0.15.0, `multipletests(ps, method="holm")[1]`; the pending
    /// comparison is entered there as p = 1 in a family of six.
    #[test]
    fn holm_matches_statsmodels_and_counts_pending() {
        let got = holm(&[Some(0.01), Some(0.04), Some(0.03), Some(0.005), Some(0.5)]);
        let want = [0.04, 0.09, 0.09, 0.025, 0.5];
        for (g, w) in got.iter().zip(want) {
            assert!(close(g.unwrap(), w, 1e-12), "{got:?}");
        }
        let got = holm(&[Some(0.01), Some(0.04), Some(0.03), Some(0.005), Some(0.5), None]);
        let want = [Some(0.05), Some(0.12), Some(0.12), Some(0.03), Some(1.0), None];
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.is_some(), w.is_some());
            if let (Some(g), Some(w)) = (g, w) {
                assert!(close(*g, w, 1e-12), "{got:?}");
            }
        }
    }
}
