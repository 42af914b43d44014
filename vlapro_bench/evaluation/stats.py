"""Uncertainty for success rates: Wilson intervals, bootstrap intervals, paired comparisons.

- One task: Wilson score interval (good coverage even at 0/n and n/n, where the normal
  approximation collapses to a zero-width interval).
- A split average (the mean of per-task rates, every task weighted equally, as the paper's
  tables): stratified bootstrap, resampling episodes within each task. Resampling n Bernoulli
  outcomes with replacement gives a Binomial(n, k/n) count, so we draw that directly. Where
  the bootstrap has nothing to resample (one task, or every task at 0% or 100% with the same
  episode count: an expert, a random policy, a backbone that never succeeds) it would print a
  zero-width interval, claiming certainty 1000 episodes cannot give; there the average is the
  pooled rate and its interval the Wilson interval of the pooled episodes
  (:func:`split_average`).
- Two runs on the same (task, seed) pairs: paired stratified bootstrap of the absolute
  difference and of the relative improvement ``(SR_b - SR_a) / SR_a``; resampling pairs within
  a task is a multinomial draw over the four outcome cells (00, 01, 10, 11). The paired test is
  the exact McNemar test on the discordant pairs. Within one task, or when every task's pairs
  sit in one cell (40 paired failures, say), the bootstrap has nothing to resample and would
  print a zero-width difference; there the difference gets Newcombe's score interval for paired
  proportions (:func:`newcombe_paired_difference`) over the pooled pairs.

- Power: the minimum detectable difference (:func:`minimum_detectable_difference`) of a paired
  comparison, the smallest difference its McNemar test would find with 80% power at the 5%
  level, given the pairs played and how often the two arms disagreed. A comparison that finds
  nothing is only evidence of no effect larger than that.

All bootstraps are seeded, so a report is reproducible to the digit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import binomtest, norm

DEFAULT_RESAMPLES = 10_000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval (NaN when undefined)."""

    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def wilson_interval(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for ``successes`` out of ``n`` (no continuity correction)."""
    _check_confidence(confidence)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return Interval(successes / n, float(ci.low), float(ci.high))


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    """Equal-tailed percentile interval; no interpolation when samples hold infinities."""
    alpha = 1.0 - confidence
    method = "linear" if np.all(np.isfinite(samples)) else "inverted_cdf"
    low, high = np.quantile(samples, [alpha / 2, 1 - alpha / 2], method=method)
    return float(low), float(high)


def bootstrap_average(counts: Sequence[tuple[int, int]], resamples: int = DEFAULT_RESAMPLES,
                      confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> Interval:
    """Mean of per-task success rates with a stratified bootstrap interval.

    ``counts``: ``(successes, episodes)`` per task. A task at 0/n or n/n contributes no
    resampling variance (the bootstrap's known blind spot there; Wilson intervals per task
    remain honest about it).
    """
    _check_confidence(confidence)
    if not counts:
        raise ValueError("bootstrap_average needs at least one task")
    rng = np.random.default_rng(seed)
    rates = np.array([k / n for k, n in counts], dtype=float)
    draws = np.empty((len(counts), resamples))
    for i, (k, n) in enumerate(counts):
        if n < 1 or not 0 <= k <= n:
            raise ValueError(f"need 0 <= successes <= episodes and episodes >= 1, got {k}/{n}")
        draws[i] = rng.binomial(n, k / n, size=resamples) / n
    low, high = percentile_interval(draws.mean(axis=0), confidence)
    return Interval(float(rates.mean()), low, high)


#: How :func:`split_average` got its interval (recorded in leaderboard entries).
STRATIFIED_BOOTSTRAP = "stratified_bootstrap"
POOLED_WILSON = "pooled_wilson"


def split_average(counts: Sequence[tuple[int, int]], resamples: int = DEFAULT_RESAMPLES,
                  confidence: float = DEFAULT_CONFIDENCE, seed: int = 0) -> tuple[Interval, str]:
    """The split average with its interval, and the method that gave the interval.

    A stratified bootstrap (:func:`bootstrap_average`), except where it has no variance to
    resample: a single task, or every task at 0/n or n/n with one n for all. The mean of the
    per-task rates then equals the pooled rate, and the Wilson interval of the pooled episodes
    (e.g. [0, 0.4%] for 0/1000) says what the episodes can and cannot rule out.
    """
    if not counts:
        raise ValueError("split_average needs at least one task")
    sizes = {n for _, n in counts}
    at_bounds = all(k in (0, n) for k, n in counts)
    if len(counts) == 1 or (at_bounds and len(sizes) == 1):
        successes, episodes = sum(k for k, _ in counts), sum(n for _, n in counts)
        pooled = wilson_interval(successes, episodes, confidence)
        mean = float(np.mean([k / n for k, n in counts]))
        return Interval(mean, pooled.low, pooled.high), POOLED_WILSON
    return bootstrap_average(counts, resamples, confidence, seed), STRATIFIED_BOOTSTRAP


def mcnemar_exact(base_only: int, method_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts."""
    discordant = base_only + method_only
    if discordant == 0:
        return 1.0
    return float(binomtest(method_only, discordant, 0.5).pvalue)


def newcombe_paired_difference(both: int, method_only: int, base_only: int, neither: int,
                               confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Score interval for ``SR_method - SR_base`` from paired outcome counts.

    Newcombe (1998), "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Statistics in Medicine 17: 2635-2650, method 10: the
    Wilson intervals of the two marginal rates combined with the phi correlation of the 2x2
    table (phi = 0 when a margin is empty). Unlike a bootstrap it keeps a width at 0% and 100%.
    """
    counts = (both, method_only, base_only, neither)
    if min(counts) < 0 or sum(counts) < 1:
        raise ValueError(f"need non-negative paired counts with at least one pair, got {counts}")
    n = sum(counts)
    method_k, base_k = both + method_only, both + base_only
    method, base = wilson_interval(method_k, n, confidence), wilson_interval(base_k, n, confidence)
    margins = (method_k, n - method_k, base_k, n - base_k)
    phi = 0.0 if 0 in margins else (both * neither - method_only * base_only) / math.sqrt(math.prod(margins))
    d_method_low, d_method_high = method.estimate - method.low, method.high - method.estimate
    d_base_low, d_base_high = base.estimate - base.low, base.high - base.estimate
    estimate = method.estimate - base.estimate
    below = math.sqrt(max(d_method_low**2 - 2 * phi * d_method_low * d_base_high + d_base_high**2, 0.0))
    above = math.sqrt(max(d_method_high**2 - 2 * phi * d_method_high * d_base_low + d_base_low**2, 0.0))
    return Interval(estimate, max(estimate - below, -1.0), min(estimate + above, 1.0))


@dataclass(frozen=True)
class PairedComparison:
    """Method (b) against base (a) on the same (task, seed) pairs; rates are task averages."""

    tasks: int
    pairs: int
    base: float
    method: float
    difference: Interval  # SR_b - SR_a
    relative: Interval  # (SR_b - SR_a) / SR_a; NaN when SR_a == 0
    base_only: int  # pairs the base solved and the method did not
    method_only: int  # pairs the method solved and the base did not
    p_value: float  # exact McNemar test on the discordant pairs
    difference_method: str = "paired_bootstrap"  # or "newcombe" (see newcombe_paired_difference)
    mde: float = math.nan  # minimum detectable difference (80% power, 5% two-sided) for these pairs


def minimum_detectable_difference(pairs: int, discordant: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest absolute difference in success rate a McNemar test on ``pairs`` paired episodes
    detects with probability ``power`` at two-sided level ``alpha``.

    Connor (1987), "Sample size for testing differences in proportions for the paired-sample
    design", Biometrics 43: 207-211: ``n = (z_a sqrt(psi) + z_b sqrt(psi - d^2))^2 / d^2`` with
    ``psi`` the probability that the two arms disagree on an episode, solved here for ``d``.
    ``psi`` is the observed share of discordant pairs, but never below ``d`` itself (a
    difference ``d`` needs at least ``d`` of the pairs to disagree), so two arms that never
    disagreed still get a finite, honest bound (about ``(z_a + z_b)^2 / n``). Returns 1.0 when
    no difference up to 100 points is detectable.
    """
    if pairs < 1 or not 0 <= discordant <= pairs:
        raise ValueError(f"need pairs >= 1 and 0 <= discordant <= pairs, got {discordant}/{pairs}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha}, {power}")
    z_a, z_b = float(norm.ppf(1 - alpha / 2)), float(norm.ppf(power))
    observed = discordant / pairs

    def shortfall(d: float) -> float:
        psi = max(observed, d)
        return z_a * math.sqrt(psi) + z_b * math.sqrt(max(psi - d * d, 0.0)) - math.sqrt(pairs) * d

    if shortfall(1.0) > 0:
        return 1.0
    return float(brentq(shortfall, 1e-12, 1.0, xtol=1e-9))


def _relative(diff: np.ndarray, base: np.ndarray) -> np.ndarray:
    """diff / base with x/0 = +-inf and 0/0 = 0 (no change from nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff / base
    out[(base == 0) & (diff == 0)] = 0.0
    return out


def paired_comparison(pairs: Mapping[str, tuple[Sequence[bool], Sequence[bool]]],
                      resamples: int = DEFAULT_RESAMPLES, confidence: float = DEFAULT_CONFIDENCE,
                      seed: int = 0) -> PairedComparison:
    """Compare paired outcomes: ``pairs[task] = (base successes, method successes)``, aligned by seed."""
    _check_confidence(confidence)
    if not pairs:
        raise ValueError("paired_comparison needs at least one task with paired episodes")
    rng = np.random.default_rng(seed)
    base_draws = np.zeros(resamples)
    method_draws = np.zeros(resamples)
    base_rates, method_rates = [], []
    base_only = method_only = total = 0
    pooled = np.zeros(4, dtype=int)
    sizes, one_cell = set(), True
    for task, (a_seq, b_seq) in pairs.items():
        a, b = np.asarray(a_seq, dtype=bool), np.asarray(b_seq, dtype=bool)
        if a.shape != b.shape or a.ndim != 1 or a.size == 0:
            raise ValueError(f"{task}: base and method outcomes must be equal-length, non-empty 1-d sequences")
        n = a.size
        cells = np.array([np.sum(~a & ~b), np.sum(~a & b), np.sum(a & ~b), np.sum(a & b)])  # 00, 01, 10, 11
        draw = rng.multinomial(n, cells / n, size=resamples)
        base_draws += (draw[:, 2] + draw[:, 3]) / n
        method_draws += (draw[:, 1] + draw[:, 3]) / n
        base_rates.append(a.mean())
        method_rates.append(b.mean())
        base_only += int(cells[2])
        method_only += int(cells[1])
        total += n
        pooled += cells
        sizes.add(n)
        one_cell = one_cell and int(np.count_nonzero(cells)) == 1
    k = len(pairs)
    base_draws /= k
    method_draws /= k
    base, method = float(np.mean(base_rates)), float(np.mean(method_rates))
    if k == 1 or (one_cell and len(sizes) == 1):
        # Nothing for a bootstrap to resample: the pooled pairs' score interval (equal task sizes
        # make the mean of per-task differences the pooled difference).
        neither, only_m, only_b, both = (int(c) for c in pooled)
        diff, difference_method = newcombe_paired_difference(both, only_m, only_b, neither, confidence), "newcombe"
    else:
        diff = Interval(method - base, *percentile_interval(method_draws - base_draws, confidence))
        difference_method = "paired_bootstrap"
    if base > 0:
        rel = Interval((method - base) / base, *percentile_interval(_relative(method_draws - base_draws, base_draws),
                                                                     confidence))
    else:
        rel = Interval(math.nan, math.nan, math.nan)
    return PairedComparison(k, total, base, method, diff, rel, base_only, method_only,
                            mcnemar_exact(base_only, method_only), difference_method,
                            minimum_detectable_difference(total, base_only + method_only))
