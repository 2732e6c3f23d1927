"""Paired statistics and verdicts for the predictions.

Students are compared paired across seeds: the same seed gives the same data
split and the same initialisation, so each seed contributes one difference.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

HOLDS = "holds"
NOT_SIGNIFICANT = "not significant"
CONTRADICTED = "contradicted"

#: Predicted directions: the difference is positive, negative, or about 0.
DIRECTIONS = ("greater", "less", "zero")


def paired_interval(differences, *, direction="greater", confidence=0.95):
    """Mean paired difference, its t-interval and the verdict.

    Parameters
    ----------
    differences : array-like of shape (n_seeds,)
        One difference per seed (treatment minus reference, or a difference
        of gains). NaNs are dropped.
    direction : {"greater", "less", "zero"}, default="greater"
        The predicted sign. ``"greater"``: the prediction holds when the
        interval lies above 0 and is contradicted when it lies below 0;
        ``"less"``: the reverse; ``"zero"`` (an "about 0" prediction): holds
        when the interval covers 0, contradicted otherwise. This is a weak
        check; a wide interval covers 0 too.
    confidence : float, default=0.95
        Coverage of the two-sided Student t-interval.

    Returns
    -------
    result : dict
        ``mean``, ``low``, ``high``, ``sd``, ``n``, ``direction``,
        ``verdict``. With fewer than 2 differences, or all equal, the
        interval is degenerate: ``low = high = mean``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}.")
    d = np.asarray(differences, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    n = len(d)
    if n == 0:
        return dict(
            mean=math.nan, low=math.nan, high=math.nan, sd=math.nan, n=0,
            direction=direction, verdict=NOT_SIGNIFICANT,
        )
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if n > 1 and sd > 0:
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    else:
        half = 0.0 if n > 1 else math.inf
    low, high = mean - half, mean + half
    if direction == "zero":
        verdict = HOLDS if low <= 0 <= high else CONTRADICTED
    else:
        sign = 1 if direction == "greater" else -1
        if sign * low > 0 and sign * high > 0:
            verdict = HOLDS
        elif sign * low < 0 and sign * high < 0:
            verdict = CONTRADICTED
        else:
            verdict = NOT_SIGNIFICANT
    return dict(
        mean=mean, low=low, high=high, sd=sd, n=n, direction=direction,
        verdict=verdict,
    )


def combine_verdicts(verdicts):
    """One verdict for a prediction tested by several comparisons.

    ``"contradicted"`` if any part is contradicted, ``"holds"`` if every part
    holds, ``"not significant"`` otherwise (including no parts).
    """
    verdicts = list(verdicts)
    if not verdicts:
        return NOT_SIGNIFICANT
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    return NOT_SIGNIFICANT


def loglog_slope(n, seconds):
    """Least-squares slope of log(seconds) against log(n), with a 95 % CI.

    Returns ``dict(slope, low, high)``; the interval is NaN with fewer than
    three points.
    """
    x = np.log(np.asarray(n, dtype=np.float64))
    y = np.log(np.asarray(seconds, dtype=np.float64))
    if len(x) < 2:
        return dict(slope=math.nan, low=math.nan, high=math.nan)
    fit = stats.linregress(x, y)
    if len(x) < 3:
        return dict(slope=float(fit.slope), low=math.nan, high=math.nan)
    half = float(stats.t.ppf(0.975, len(x) - 2) * fit.stderr)
    return dict(slope=float(fit.slope), low=fit.slope - half, high=fit.slope + half)
