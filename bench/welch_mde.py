#!/usr/bin/env python3
# The reference for convlab's `stats::welch_detectable_effect` (pinned in src/analysis/stats.rs and
# src/analysis/compare.rs): needs scipy and numpy (any venv: `pip install scipy`); ~9 min on 2 cores.
# Welch's two-sided power as the test is run (df estimated from the samples), by scipy's
# adaptive quadrature over the two sample variances with exact t quantiles; the MDE by brentq.
import numpy as np
from scipy import stats, integrate, optimize

def power(delta, sa, sb, na, nb, alpha):
    ka, kb = na - 1, nb - 1
    qa, qb = sa**2 / na, sb**2 / nb
    se = np.sqrt(qa + qb)
    def f(ub, ua):  # ua ~ chi2(ka), ub ~ chi2(kb)
        va, vb = qa * ua / ka, qb * ub / kb
        s2 = va + vb
        df = s2**2 / (va**2 / ka + vb**2 / kb)
        c = stats.t.ppf(1 - alpha / 2, df) * np.sqrt(s2)
        p = stats.norm.cdf((-c - delta) / se) + stats.norm.sf((c - delta) / se)
        return p * stats.chi2.pdf(ua, ka) * stats.chi2.pdf(ub, kb)
    v, _ = integrate.dblquad(f, 0, stats.chi2.ppf(1 - 1e-12, ka), 0, stats.chi2.ppf(1 - 1e-12, kb), epsabs=1e-10, epsrel=1e-9)
    return v

def mde(sa, sb, na, nb, alpha, pw=0.8):
    return optimize.brentq(lambda d: power(d, sa, sb, na, nb, alpha) - pw, 1e-9, 1000 * (sa + sb), xtol=1e-12)

a = np.array([0.823, 0.820, 0.815]); b = np.array([0.723, 0.719, 0.716])
for args in [(1, 1, 5, 5), (1, 2.5, 5, 5), (0.5, 1, 10, 4), (a.std(ddof=1), b.std(ddof=1), 3, 3)]:
    print(args, repr(mde(*args, 0.05 / 15)))
