"""Group-sequential boundaries computed independently of convlab, with scipy's multivariate normal:
the reference values of src/analysis/boundaries.rs's tests.

    python3 bench/boundaries.py      # needs scipy (the notebooks' venv has it)

The z statistics of K looks at information fractions t are jointly normal with
corr(Z_i, Z_j) = sqrt(t_i / t_j) (i <= j). Each look's two-sided boundary c_k solves
P(|Z_1| < c_1, ..., |Z_{k-1}| < c_{k-1}, |Z_k| >= c_k) = alpha(t_k) - alpha(t_{k-1}),
a difference of two rectangle probabilities (multivariate_normal.cdf with lower_limit).
"""
import numpy as np
from scipy.optimize import brentq
from scipy.stats import multivariate_normal, norm


def inside(c, t):
    k = len(c)
    cov = np.array([[np.sqrt(min(t[i], t[j]) / max(t[i], t[j])) for j in range(k)] for i in range(k)])
    c = np.array(c)
    mvn = multivariate_normal(mean=np.zeros(k), cov=cov, abseps=1e-10, releps=1e-10, maxpts=10**7)
    return mvn.cdf(c, lower_limit=-c)


def spending_bounds(spent, t):
    bounds, before = [], 0.0
    for k in range(len(t)):
        target = spent(t[k]) - before
        stay = inside(bounds, t[:k]) if bounds else 1.0
        f = lambda c: (stay - inside(bounds + [c], t[: k + 1])) - target
        bounds.append(brentq(f, 0.5, 12.0, xtol=1e-10))
        before = spent(t[k])
    return bounds


alpha = 0.05
t4 = [0.25, 0.5, 0.75, 1.0]
of = lambda t: 4 - 4 * norm.cdf(norm.ppf(1 - alpha / 4) / np.sqrt(t))
pk = lambda t: alpha * np.log(1 + (np.e - 1) * t)
print("O'Brien-Fleming-type spending, K = 4:", spending_bounds(of, t4))
print("Pocock-type spending, K = 4:", spending_bounds(pk, t4))
print("O'Brien-Fleming-type spending, unequal looks t = 0.25, 0.5, 1:", spending_bounds(of, [0.25, 0.5, 1.0]))
