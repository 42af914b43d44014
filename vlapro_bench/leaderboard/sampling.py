"""Which recorded episodes ``leaderboard verify`` re-runs: a sample a submitter cannot predict.

A forger keeps honest the episodes a check will look at and makes up the rest, so the sample
must not be computable in advance (a fixed seed made it so: issue 17 showed the random policy
at 75% instead of 2.5%, "10/10 reproduced"). The sample is therefore:

- drawn from a fresh seed of operating-system entropy (:func:`draw_sample_seed`) on every run;
  the seed is printed, and passing it back (``--sample-seed``) re-runs the same sample;
- weighted toward recorded successes: an entry gains rank only by claiming successes it did
  not get, so :data:`SUCCESS_SHARE` of the sample is drawn from the claimed successes and the
  rest from the failures (where forged step counts or instructions would show);
- uniform within each outcome, without replacement, so every claimed success is equally likely
  to be re-run wherever a forger put it. With ``S`` claimed successes of which ``F`` are forged,
  and ``n`` of them re-run, a forgery escapes with the hypergeometric probability
  :func:`escape_probability` ``= C(S-F, n) / C(S, n) <= (1 - F/S)^n``. (A task-balanced or
  systematic sample would give some successes a smaller chance, and a forger would put the
  forged ones there.)
- the whole run when it is small (at most :data:`WHOLE_RUN_EPISODES` records, which covers the
  packaged small protocols: 40 and 16 episodes): there the default sample would already re-run
  a third or more of it, so re-running everything costs at most three times as much and leaves
  nothing to chance.

The default sample, :data:`DEFAULT_SAMPLE_EPISODES` = 16 episodes (12 claimed successes), makes
a forgery escape with probability at most ``(1 - F/S)^12``: below 5% once a quarter of the
claimed successes are forged (0.75^12 = 3.2%), and never for issue 17's forgery of the random
policy under robotwin-v0 (750 claimed successes, 9 true: 12 draws cannot all be true ones).
Smaller forgeries need a larger ``--episodes``: at a tenth forged, 29 re-run successes
(``--episodes 38``) bring the bound under 5%.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence

import numpy as np

from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.leaderboard.records import sorted_records

#: Episodes re-run by default when the run is larger than :data:`WHOLE_RUN_EPISODES`.
DEFAULT_SAMPLE_EPISODES = 16
#: Runs with at most this many recorded episodes are re-run whole by default.
WHOLE_RUN_EPISODES = 48
#: The share of the sample drawn from the recorded successes (rounded up).
SUCCESS_SHARE = 0.75


def draw_sample_seed() -> int:
    """A fresh 63-bit seed from the operating system's entropy: nobody can compute it in advance."""
    return secrets.randbits(63)


def sample_size(recorded: int, requested: int | None = None) -> int:
    """How many of ``recorded`` episodes to re-run: ``requested`` (at most all of them), or by
    default the whole run if it is small, else :data:`DEFAULT_SAMPLE_EPISODES`."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"episodes must be >= 1, got {requested}")
        return min(requested, recorded)
    return recorded if recorded <= WHOLE_RUN_EPISODES else min(DEFAULT_SAMPLE_EPISODES, recorded)


def split_sample(successes: int, failures: int, k: int) -> tuple[int, int]:
    """``(successes, failures)`` to draw for a sample of ``k``: :data:`SUCCESS_SHARE` of it from
    the successes, the rest from the failures, either side filling in when the other runs out."""
    from_successes = min(successes, max(math.ceil(k * SUCCESS_SHARE), k - failures))
    return from_successes, min(failures, k - from_successes)


def select_episodes(records: Sequence[EpisodeRecord], k: int, seed: int) -> list[EpisodeRecord]:
    """``k`` of ``records``, drawn with ``seed`` as described above, in (task, seed) order."""
    if k < 1:
        raise ValueError(f"episodes must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    ordered = sorted_records(records)
    successes = [r for r in ordered if r.success]
    failures = [r for r in ordered if not r.success]
    n_successes, n_failures = split_sample(len(successes), len(failures), k)
    chosen = [successes[i] for i in rng.choice(len(successes), n_successes, replace=False)]
    chosen += [failures[i] for i in rng.choice(len(failures), n_failures, replace=False)]
    return sorted_records(chosen)


def escape_probability(successes: int, forged: int, checked: int) -> float:
    """The chance that ``checked`` successes drawn uniformly from ``successes`` claimed ones, of
    which ``forged`` are made up, miss every forged one (hypergeometric)."""
    if not 0 <= forged <= successes or not 0 <= checked <= successes:
        raise ValueError(f"need 0 <= forged, checked <= successes; got {forged}, {checked}, {successes}")
    return math.comb(successes - forged, checked) / math.comb(successes, checked)
