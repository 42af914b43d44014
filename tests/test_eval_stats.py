"""Statistics against known values and against the truth on synthetic data."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from vlapro_bench.evaluation.stats import (
    bootstrap_average,
    mcnemar_exact,
    minimum_detectable_difference,
    newcombe_paired_difference,
    paired_comparison,
    split_average,
    wilson_interval,
)


def wilson_by_formula(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval, written out independently of the implementation."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 10), (5, 10), (10, 10), (81, 263), (1, 100), (99, 100)])
def test_wilson_matches_the_formula(k, n):
    ci = wilson_interval(k, n)
    low, high = wilson_by_formula(k, n)
    assert ci.estimate == pytest.approx(k / n)
    assert ci.low == pytest.approx(max(low, 0.0), abs=1e-9)
    assert ci.high == pytest.approx(min(high, 1.0), abs=1e-9)


def test_wilson_published_values():
    # Commonly tabulated Wilson 95% bounds (e.g. statsmodels proportion_confint(method="wilson")).
    assert wilson_interval(0, 10).high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10).low == pytest.approx(0.7225, abs=1e-4)
    ci = wilson_interval(5, 10)
    assert (ci.low, ci.high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    ci = wilson_interval(81, 263)
    assert (ci.low, ci.high) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_wilson_refuses_bad_counts():
    for k, n in [(3, 2), (-1, 5), (0, 0)]:
        with pytest.raises(ValueError, match="successes"):
            wilson_interval(k, n)


def test_bootstrap_average_covers_the_truth_at_the_nominal_rate():
    """200 synthetic experiments, 8 tasks x 50 episodes: the 95% interval of the average covers
    the true average in 90-99% of them."""
    rng = np.random.default_rng(123)
    true_rates = rng.uniform(0.15, 0.85, size=8)
    truth = true_rates.mean()
    covered = 0
    for experiment in range(200):
        counts = [(int(rng.binomial(50, p)), 50) for p in true_rates]
        covered += bootstrap_average(counts, resamples=2000, seed=experiment).contains(truth)
    assert 0.90 <= covered / 200 <= 0.99


def test_split_average_uses_the_pooled_wilson_interval_where_the_bootstrap_collapses():
    # every task at 0% (or 100%) with one episode count: a bootstrap would say [0, 0]
    for counts, successes in (([(0, 100)] * 10, 0), ([(100, 100)] * 10, 1000)):
        ci, method = split_average(counts)
        pooled = wilson_interval(successes, 1000)
        assert method == "pooled_wilson"
        assert (ci.estimate, ci.low, ci.high) == (successes / 1000, pooled.low, pooled.high)
        assert ci.high - ci.low > 0.003
    assert bootstrap_average([(0, 100)] * 10).high == 0.0  # what it replaces
    # one task: its own Wilson interval, as the per-task row
    ci, method = split_average([(3, 10)])
    assert method == "pooled_wilson" and (ci.low, ci.high) == (wilson_interval(3, 10).low, wilson_interval(3, 10).high)
    # anything else: the stratified bootstrap, unchanged
    counts = [(3, 10), (0, 10), (10, 10)]
    ci, method = split_average(counts, seed=4)
    assert method == "stratified_bootstrap" and ci == bootstrap_average(counts, seed=4)
    _, method = split_average([(0, 10), (20, 20)])  # at the bounds, but unequal sizes: rate != pooled rate
    assert method == "stratified_bootstrap"


def test_paired_bootstrap_covers_the_true_difference_and_gain():
    """Correlated pairs (a method that keeps most of the base's successes): the paired intervals
    of the absolute difference and of the relative gain cover the truth at about 95%."""
    rng = np.random.default_rng(7)
    p_base = np.array([0.3, 0.5, 0.4, 0.6])
    keep, gain = 0.9, 0.3  # P(b | a) and P(b | not a)
    p_method = p_base * keep + (1 - p_base) * gain
    true_diff = p_method.mean() - p_base.mean()
    true_rel = true_diff / p_base.mean()
    covered_diff = covered_rel = 0
    experiments = 200
    for experiment in range(experiments):
        pairs = {}
        for t, p in enumerate(p_base):
            a = rng.random(60) < p
            b = np.where(a, rng.random(60) < keep, rng.random(60) < gain)
            pairs[f"task{t}"] = (a, b)
        result = paired_comparison(pairs, resamples=2000, seed=experiment)
        covered_diff += result.difference.contains(true_diff)
        covered_rel += result.relative.contains(true_rel)
    assert 0.90 <= covered_diff / experiments <= 0.99
    assert 0.90 <= covered_rel / experiments <= 0.99


def newcombe_by_formula(both: int, method_only: int, base_only: int, neither: int) -> tuple[float, float]:
    """Newcombe (1998) method 10, written out from the paper with the Wilson formula above."""
    n = both + method_only + base_only + neither
    p1, p2 = (both + method_only) / n, (both + base_only) / n
    l1, u1 = (max(v, 0.0) if i == 0 else min(v, 1.0) for i, v in enumerate(wilson_by_formula(both + method_only, n)))
    l2, u2 = (max(v, 0.0) if i == 0 else min(v, 1.0) for i, v in enumerate(wilson_by_formula(both + base_only, n)))
    margins = [(both + method_only), (base_only + neither), (both + base_only), (method_only + neither)]
    phi = 0.0 if 0 in margins else (both * neither - method_only * base_only) / math.sqrt(math.prod(margins))
    theta = p1 - p2
    low = theta - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = theta + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return low, high


@pytest.mark.parametrize("table", [(12, 9, 2, 17), (0, 0, 0, 40), (0, 20, 0, 0), (5, 0, 0, 5), (3, 1, 4, 22)])
def test_newcombe_matches_the_formula(table):
    ci = newcombe_paired_difference(*table)
    low, high = newcombe_by_formula(*table)
    assert (ci.low, ci.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert ci.low <= ci.estimate <= ci.high


def test_newcombe_covers_the_true_paired_difference_near_zero():
    """A rare-success regime (base 8%, correlated method at 13%), 30 pairs: where a bootstrap of a
    handful of successes is overconfident, the score interval covers the truth at about 95%."""
    rng = np.random.default_rng(11)
    p_base, keep, gain = 0.08, 0.8, 0.07
    truth = p_base * keep + (1 - p_base) * gain - p_base
    covered, experiments = 0, 400
    for _ in range(experiments):
        a = rng.random(30) < p_base
        b = np.where(a, rng.random(30) < keep, rng.random(30) < gain)
        cells = (int(np.sum(a & b)), int(np.sum(~a & b)), int(np.sum(a & ~b)), int(np.sum(~a & ~b)))
        covered += newcombe_paired_difference(*cells).contains(truth)
    assert 0.92 <= covered / experiments <= 0.995


def test_paired_difference_keeps_a_width_where_the_bootstrap_collapses():
    fails = {f"task{t}": (np.zeros(4, bool), np.zeros(4, bool)) for t in range(10)}  # 40 paired failures
    result = paired_comparison(fails, resamples=500)
    bound = wilson_interval(0, 40).high
    assert result.difference_method == "newcombe"
    assert (result.difference.low, result.difference.estimate, result.difference.high) == \
        (pytest.approx(-bound), 0.0, pytest.approx(bound))
    # every pair of a task in one cell, but cells differ between tasks (expert vs random): pooled, still wide
    mixed = {"a": (np.zeros(20, bool), np.ones(20, bool)), "b": (np.ones(20, bool), np.ones(20, bool))}
    result = paired_comparison(mixed, resamples=500)
    assert result.difference_method == "newcombe" and result.difference.estimate == pytest.approx(0.5)
    assert result.difference.low < 0.5 < result.difference.high
    # real variation in several tasks: the paired bootstrap, as before
    rng = np.random.default_rng(0)
    varied = {f"t{t}": (rng.random(20) < 0.4, rng.random(20) < 0.6) for t in range(3)}
    assert paired_comparison(varied, resamples=500).difference_method == "paired_bootstrap"


def test_paired_comparison_counts_and_relative_gain():
    a = np.array([1, 1, 0, 0, 0, 0, 1, 0, 0, 0], dtype=bool)  # base 3/10
    b = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 0], dtype=bool)  # method 6/10
    result = paired_comparison({"t": (a, b)}, resamples=500)
    assert (result.base, result.method) == (pytest.approx(0.3), pytest.approx(0.6))
    assert result.relative.estimate == pytest.approx(1.0)  # (0.6 - 0.3) / 0.3
    assert result.difference.estimate == pytest.approx(0.3)
    assert (result.base_only, result.method_only, result.pairs) == (1, 4, 10)
    assert result.difference.low <= 0.3 <= result.difference.high
    # seeded: the same call gives the same interval
    again = paired_comparison({"t": (a, b)}, resamples=500)
    assert again.difference == result.difference and again.relative == result.relative


def test_relative_gain_is_undefined_when_the_base_never_succeeds():
    result = paired_comparison({"t": (np.zeros(5, bool), np.array([1, 0, 1, 0, 0], bool))}, resamples=200)
    assert math.isnan(result.relative.estimate) and math.isnan(result.relative.low)
    assert result.difference.estimate == pytest.approx(0.4)


def test_mcnemar_exact_matches_the_binomial_sum():
    def by_hand(b: int, c: int) -> float:
        n, k = b + c, min(b, c)
        return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)

    for b, c in [(1, 4), (0, 19), (7, 7), (3, 12), (10, 2)]:
        assert mcnemar_exact(b, c) == pytest.approx(by_hand(b, c), rel=1e-9)
    assert mcnemar_exact(0, 0) == 1.0


def test_unequal_pairs_are_refused():
    with pytest.raises(ValueError, match="equal-length"):
        paired_comparison({"t": (np.ones(3, bool), np.ones(4, bool))})


def test_minimum_detectable_difference_follows_connors_formula():
    # n = (z_a sqrt(psi) + z_b sqrt(psi - d^2))^2 / d^2 at the returned d, for the observed discordance psi
    for pairs, discordant in ((150, 30), (300, 60), (1000, 100)):
        d = minimum_detectable_difference(pairs, discordant)
        psi = max(discordant / pairs, d)
        n = (norm.ppf(0.975) * math.sqrt(psi) + norm.ppf(0.8) * math.sqrt(psi - d * d)) ** 2 / d**2
        assert n == pytest.approx(pairs, rel=1e-6)
    # more pairs, or fewer disagreements, detect smaller differences
    assert minimum_detectable_difference(300, 60) < minimum_detectable_difference(150, 30)
    assert minimum_detectable_difference(150, 10) < minimum_detectable_difference(150, 60)
    # the figures: 40 pairs detect about 20 points, 16 pairs about 45
    assert 0.15 < minimum_detectable_difference(40, 6) < 0.25
    assert 0.35 < minimum_detectable_difference(16, 3) < 0.5
    # arms that never disagree still get a finite bound (a difference d needs d of the pairs to disagree)
    assert minimum_detectable_difference(150, 0) == pytest.approx(0.0515, abs=0.002)
    assert minimum_detectable_difference(3, 3) == 1.0  # nothing is detectable from 3 pairs
    with pytest.raises(ValueError, match="discordant"):
        minimum_detectable_difference(10, 11)


def test_paired_comparison_reports_its_power():
    a = [True] * 30 + [False] * 70
    b = [True] * 40 + [False] * 60
    result = paired_comparison({"t": (a, b)}, resamples=200)
    assert result.mde == pytest.approx(minimum_detectable_difference(100, 10))
