//! Group-sequential boundaries for a two-sided test looked at K times (Jennison & Turnbull,
//! *Group Sequential Methods*, 2000, ch. 2 and 7): the z value each look must pass so that the
//! chance of passing at any look under the null is α. Pocock's constant boundary, O'Brien &
//! Fleming's c·√(K/k), and Lan & DeMets' alpha-spending boundaries, which need only the looks'
//! information fractions. Crossing probabilities by the recursive numerical integration of
//! Armitage, McPherson & Rowe (1969) on the joint law of the looks' z statistics (Brownian
//! motion in information). Hand-written: no Rust crate computes group-sequential boundaries.
pub use crate::looks::Spending;
use statrs::function::erf::erfc;

/// Points of the Simpson grid on each look's continuation region (odd).
const GRID: usize = 401;

/// α spent by information fraction `t` (0 < t ≤ 1), two-sided (α/2 a side): O'Brien–Fleming
/// type 4 − 4Φ(z₁₋α/₄ / √t), Pocock type α·ln(1 + (e − 1)t) (Lan & DeMets 1983).
pub fn spent(spending: Spending, alpha: f64, t: f64) -> f64 {
    match spending {
        Spending::ObrienFleming => 4.0 * upper_tail(z_upper(alpha / 4.0) / t.sqrt()),
        Spending::Pocock => alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
    }
}

/// The standard normal density.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// 1 − Φ(z), accurate far into the tail.
pub fn upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The z with 1 − Φ(z) = p, by bisection on [`upper_tail`] (p in (0, 1)).
pub fn z_upper(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid) > p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// Simpson's weights for `n` (odd) equally spaced points `h` apart.
fn simpson(n: usize, h: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let w = if i == 0 || i == n - 1 {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * h / 3.0
        })
        .collect()
}

/// The sub-density of look k's z on its continuation region, for paths that crossed no earlier
/// boundary: grid points, Simpson weights, density values.
struct Continuing {
    z: Vec<f64>,
    w: Vec<f64>,
    g: Vec<f64>,
    /// The look's information fraction.
    t: f64,
}

impl Continuing {
    /// The first look: the standard normal on (−c, c).
    fn first(c: f64, t: f64) -> Self {
        let (z, w) = grid(c);
        let g = z.iter().map(|&z| phi(z)).collect();
        Continuing { z, w, g, t }
    }

    /// P(|Z| ≥ c at a look with information fraction `t`, no boundary crossed before).
    fn crossing(&self, c: f64, t: f64) -> f64 {
        let (r, s) = ((self.t / t).sqrt(), (1.0 - self.t / t).sqrt());
        self.z
            .iter()
            .zip(&self.w)
            .zip(&self.g)
            .map(|((&u, &w), &g)| {
                w * g * (upper_tail((c - r * u) / s) + upper_tail((c + r * u) / s))
            })
            .sum()
    }

    /// The next look's sub-density on (−c, c), at information fraction `t`.
    fn next(&self, c: f64, t: f64) -> Self {
        let (r, s) = ((self.t / t).sqrt(), (1.0 - self.t / t).sqrt());
        let (z, w) = grid(c);
        let g = z
            .iter()
            .map(|&x| {
                let inner = self.z.iter().zip(&self.w).zip(&self.g);
                inner.map(|((&u, &wu), &gu)| wu * gu * phi((x - r * u) / s) / s).sum()
            })
            .collect();
        Continuing { z, w, g, t }
    }
}

/// Simpson's grid on (−c, c), cut at ±12 (beyond, the density is below 1e-31).
fn grid(c: f64) -> (Vec<f64>, Vec<f64>) {
    let c = c.min(12.0);
    let h = 2.0 * c / (GRID - 1) as f64;
    ((0..GRID).map(|i| -c + i as f64 * h).collect(), simpson(GRID, h))
}

/// The probability of first crossing at each look, under the null, of boundaries `c` at
/// information fractions `t` (increasing, the last 1 for a design run to its end).
pub fn crossing(c: &[f64], t: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(c.len());
    let mut state: Option<Continuing> = None;
    for (&ck, &tk) in c.iter().zip(t) {
        state = Some(match state {
            None => {
                out.push(2.0 * upper_tail(ck));
                Continuing::first(ck, tk)
            }
            Some(prev) => {
                out.push(prev.crossing(ck, tk));
                prev.next(ck, tk)
            }
        });
    }
    out
}

/// The boundaries that spend `spending`'s α at fractions `t`: each look's c solves
/// P(first crossing at k) = α(t_k) − α(t_{k−1}).
pub fn spending_bounds(spending: Spending, alpha: f64, t: &[f64]) -> Vec<f64> {
    let mut bounds = Vec::with_capacity(t.len());
    let mut state: Option<Continuing> = None;
    let mut so_far = 0.0;
    for &tk in t {
        let target = spent(spending, alpha, tk) - so_far;
        let c = match &state {
            None => z_upper(target / 2.0),
            Some(prev) => solve_decreasing(|c| prev.crossing(c, tk), target),
        };
        so_far += target;
        state = Some(match state {
            None => Continuing::first(c, tk),
            Some(prev) => prev.next(c, tk),
        });
        bounds.push(c);
    }
    bounds
}

/// The c with f(c) = target, f decreasing on (0, 40).
fn solve_decreasing(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 40.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > target { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// Equally spaced fractions 1/K, 2/K, …, 1.
pub fn equally_spaced(k: usize) -> Vec<f64> {
    (1..=k).map(|i| i as f64 / k as f64).collect()
}

/// Pocock's constant c: the same boundary at each of `k` equally spaced looks, total α.
pub fn pocock(alpha: f64, k: usize) -> f64 {
    let t = equally_spaced(k);
    solve_decreasing(|c| crossing(&vec![c; k], &t).iter().sum(), alpha)
}

/// O'Brien & Fleming's boundaries c·√(K/k) at `k` equally spaced looks, total α.
pub fn obrien_fleming(alpha: f64, k: usize) -> Vec<f64> {
    let t = equally_spaced(k);
    let at = |c: f64| t.iter().map(|&f| c / f.sqrt()).collect::<Vec<f64>>();
    let c = solve_decreasing(|c| crossing(&at(c), &t).iter().sum(), alpha);
    at(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
    }

    /// Jennison & Turnbull (2000), Table 2.1 (Pocock's C_P(K, α = 0.05)) and Table 2.3
    /// (O'Brien–Fleming's C_B(K, 0.05), boundaries C_B·√(K/k)), printed to three decimals;
    /// the same values as Pocock (1977) and O'Brien & Fleming (1979).
    #[test]
    fn pocock_and_obrien_fleming_match_the_published_tables() {
        let pocock: Vec<f64> = (2..=5).map(|k| pocock(0.05, k)).collect();
        assert!(close(&pocock, &[2.178, 2.289, 2.361, 2.413], 0.0015), "{pocock:?}");
        let k3 = obrien_fleming(0.05, 3);
        assert!(close(&k3, &[3.471, 2.454, 2.004], 0.0015), "{k3:?}");
        let k5 = obrien_fleming(0.05, 5);
        assert!(close(&k5, &[4.562, 3.226, 2.634, 2.281, 2.040], 0.0015), "{k5:?}");
    }

    /// The Lan–DeMets boundaries against an independent computation with scipy 1.17.1's
    /// multivariate normal, `python3 bench/boundaries.py` (each look's c solves
    /// P(first crossing at k) = α(t_k) − α(t_{k−1}) by `multivariate_normal.cdf` with
    /// `lower_limit`, correlation √(t_i/t_j)); the O'Brien–Fleming type for K = 4 also matches
    /// the published 4.333, 2.963, 2.359, 2.014 (Lan & DeMets 1983; gsDesign's `sfLDOF`).
    #[test]
    fn spending_boundaries_spend_alpha_as_scipy_computes() {
        let t4 = equally_spaced(4);
        let of = spending_bounds(Spending::ObrienFleming, 0.05, &t4);
        let want = [4.332633646049965, 2.9631315976798924, 2.3590442842579264, 2.014090143440675];
        assert!(close(&of, &want, 1e-4), "{of:?}");
        let pk = spending_bounds(Spending::Pocock, 0.05, &t4);
        let want = [2.368327703516373, 2.36752429466678, 2.3581677366907017, 2.3500295652564485];
        assert!(close(&pk, &want, 1e-4), "{pk:?}");
        let uneven = spending_bounds(Spending::ObrienFleming, 0.05, &[0.25, 0.5, 1.0]);
        assert!(close(&uneven, &[4.332633646049965, 2.9631315976798924, 1.968604317102885], 1e-4));
        let total: f64 = crossing(&of, &t4).iter().sum();
        assert!((total - 0.05).abs() < 1e-7, "{total}");
    }

    #[test]
    fn one_look_is_the_fixed_test() {
        let c = spending_bounds(Spending::ObrienFleming, 0.05, &[1.0]);
        assert!((c[0] - 1.959963984540054).abs() < 1e-9, "{c:?}");
        assert!((pocock(0.05, 1) - 1.959963984540054).abs() < 1e-6);
    }
}
