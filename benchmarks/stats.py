"""Paired statistics, equivalence tests, Holm's correction and verdicts.

Verdicts rest on *primary* contrasts only: one pre-registered contrast per
prediction and student family (:func:`primary_test`), each a one-sided test
in the predicted direction (an intersection-union test when a prediction has
several parts: it holds only if every part does, and its p-value is the
largest of the parts'). Holm's correction runs over the primaries
(:func:`apply_primary_holm`); a primary whose dial did not move the quantity
it claims to move is *untested*. Every other comparison is *secondary*:
reported with Benjamini-Hochberg q-values (:func:`apply_bh`), never part of a
verdict. The older helpers below (:func:`apply_holm`, :func:`verdict`)
describe single comparisons with an equivalence margin.

Students are compared paired across seeds: the same seed gives the same data
and the same initialisation, so each seed contributes one difference. Every
comparison has a smallest effect of interest ``delta`` (0.5 pp for accuracy)
and gets two p-values from scipy's one-sample t-test:

- ``p_diff``: two-sided test of a zero mean difference;
- ``p_equiv``: two one-sided tests (TOST) of ``|mean| >= delta``, the larger
  of the two one-sided p-values.

Holm's step-down correction is applied to all these p-values of a run
together (:func:`holm`). A comparison's verdict is then exactly one of

- ``"equivalent"``: TOST rejects: the difference lies within ``±delta``;
- ``"holds"``: otherwise, the difference is significant in the predicted
  direction;
- ``"contradicted"``: otherwise, it is significant in the opposite direction;
- ``"inconclusive"``: neither.

For a prediction that a difference is about 0 (``direction="zero"``),
equivalence is the prediction holding and a significant difference outside
the margin contradicts it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

HOLDS = "holds"
CONTRADICTED = "contradicted"
EQUIVALENT = "equivalent"
INCONCLUSIVE = "inconclusive"
UNTESTED = "untested"
VERDICTS = (HOLDS, CONTRADICTED, EQUIVALENT, INCONCLUSIVE, UNTESTED)

#: Predicted directions: the difference is positive, negative, or about 0.
DIRECTIONS = ("greater", "less", "zero")

#: Directions of a primary part: positive; not below ``-delta``
#: (non-inferiority); above ``+delta``; negative.
PART_DIRECTIONS = ("greater", "noninferior", "exceeds", "less")

#: Family-wise error rate controlled by Holm's correction.
ALPHA = 0.05


def paired_tests(differences, *, delta, confidence=0.95):
    """Mean paired difference, its t-interval, and the two raw p-values.

    Parameters
    ----------
    differences : array-like of shape (n_seeds,)
        One difference per seed. NaNs are dropped.
    delta : float
        Smallest effect of interest (> 0): the equivalence margin.
    confidence : float, default=0.95
        Coverage of the two-sided Student t-interval.

    Returns
    -------
    result : dict
        ``mean``, ``low``, ``high``, ``sd``, ``n``, ``delta``, ``p_diff``,
        ``p_equiv``. With fewer than 2 differences the p-values are 1 and
        the interval is infinite; with zero spread the interval is the point
        and the p-values are exact (0 or 1).
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0; got {delta!r}.")
    d = np.asarray(differences, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    n = len(d)
    out = dict(n=n, delta=float(delta))
    if n < 2:
        mean = float(d.mean()) if n else math.nan
        return {**out, "mean": mean, "low": -math.inf, "high": math.inf,
                "sd": math.nan, "p_diff": 1.0, "p_equiv": 1.0}
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    if sd == 0:
        return {**out, "mean": mean, "low": mean, "high": mean, "sd": 0.0,
                "p_diff": 0.0 if mean != 0 else 1.0,
                "p_equiv": 0.0 if abs(mean) < delta else 1.0}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    p_diff = float(stats.ttest_1samp(d, 0.0).pvalue)
    p_low = float(stats.ttest_1samp(d, -delta, alternative="greater").pvalue)
    p_high = float(stats.ttest_1samp(d, delta, alternative="less").pvalue)
    return {**out, "mean": mean, "low": mean - half, "high": mean + half,
            "sd": sd, "p_diff": p_diff, "p_equiv": max(p_low, p_high)}


def one_sided(differences, direction, delta):
    """One-sided p-values of a paired difference: for the predicted direction
    and against it.

    ``greater``: H1 mean > 0 (against: mean < 0); ``less``: the mirror;
    ``noninferior``: H1 mean > -delta (against: mean < -delta);
    ``exceeds``: H1 mean > delta (against: mean < delta).
    """
    if direction not in PART_DIRECTIONS:
        raise ValueError(
            f"direction must be one of {PART_DIRECTIONS}; got {direction!r}.")
    d = np.asarray(differences, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    shift = {"greater": 0.0, "less": 0.0, "noninferior": -delta,
             "exceeds": delta}[direction]
    up = direction != "less"
    if len(d) < 2:
        return 1.0, 1.0
    if d.std() == 0:
        above = d.mean() > shift
        below = d.mean() < shift
        p_up, p_down = (0.0 if above else 1.0), (0.0 if below else 1.0)
    else:
        p_up = float(stats.ttest_1samp(d, shift, alternative="greater").pvalue)
        p_down = float(stats.ttest_1samp(d, shift, alternative="less").pvalue)
    return (p_up, p_down) if up else (p_down, p_up)


def primary_test(parts):
    """Intersection-union test of a prediction's parts.

    Parameters
    ----------
    parts : list of dict
        Each with ``differences``, ``direction`` (see :func:`one_sided`) and
        ``delta``.

    Returns
    -------
    result : dict
        ``p_for``: the largest of the parts' one-sided p-values in the
        predicted direction (the prediction holds only if every part does);
        ``p_against``: the smallest p-value against a part, times the number
        of parts (Bonferroni: any part may contradict); and ``parts``, each
        with its :func:`paired_tests` summary and its two p-values.
    """
    out = []
    for part in parts:
        p_for, p_against = one_sided(part["differences"], part["direction"],
                                     part["delta"])
        out.append({**part, **paired_tests(part["differences"],
                                           delta=part["delta"]),
                    "p_for": p_for, "p_against": p_against,
                    "differences": [float(x) for x in part["differences"]]})
    return dict(parts=out, p_for=max(p["p_for"] for p in out),
                p_against=min(1.0, len(out) * min(p["p_against"] for p in out)))


def apply_primary_holm(primaries, *, alpha=ALPHA):
    """Holm over the primaries' ``p_for`` (and, separately, over their
    ``p_against``); sets each primary's verdict in place.

    *untested* when the primary's dial did not move (``moved`` False);
    else *holds* when the adjusted ``p_for`` is below ``alpha``,
    *contradicted* when the adjusted ``p_against`` is, *inconclusive*
    otherwise.
    """
    tested = [p for p in primaries if p["moved"]]
    p_for = holm([p["p_for"] for p in tested])
    p_against = holm([p["p_against"] for p in tested])
    for p, a, b in zip(tested, p_for, p_against):
        p["p_for_holm"], p["p_against_holm"] = float(a), float(b)
        p["verdict"] = (HOLDS if a < alpha else CONTRADICTED if b < alpha
                        else INCONCLUSIVE)
    for p in primaries:
        if not p["moved"]:
            p["p_for_holm"] = p["p_against_holm"] = math.nan
            p["verdict"] = UNTESTED
    return primaries


def apply_bh(comparisons):
    """Benjamini-Hochberg q-values of the secondary comparisons' two-sided
    p-values (:func:`scipy.stats.false_discovery_control`), in place."""
    if comparisons:
        q = stats.false_discovery_control([c["p_diff"] for c in comparisons])
        for c, value in zip(comparisons, q):
            c["q_bh"] = float(value)
    return comparisons


def combine_families(verdicts):
    """A prediction's overall verdict from its verdict per student family:
    the common verdict when they agree, *contradicted* if any is, otherwise
    *inconclusive* (a mix of holds, untested and inconclusive)."""
    verdicts = list(verdicts)
    if not verdicts:
        return INCONCLUSIVE
    if all(v == verdicts[0] for v in verdicts):
        return verdicts[0]
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    return INCONCLUSIVE


def holm(pvalues):
    """Holm's step-down adjusted p-values (same order as the input)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def verdict(mean, p_diff_adj, p_equiv_adj, direction, *, alpha=ALPHA):
    """The verdict of one comparison from its Holm-adjusted p-values."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}.")
    equivalent = p_equiv_adj < alpha
    different = p_diff_adj < alpha
    if direction == "zero":
        if equivalent:
            return HOLDS
        return CONTRADICTED if different else INCONCLUSIVE
    if equivalent:
        return EQUIVALENT
    if not different:
        return INCONCLUSIVE
    sign = 1 if direction == "greater" else -1
    return HOLDS if sign * mean > 0 else CONTRADICTED


def apply_holm(comparisons, *, alpha=ALPHA):
    """Adjust every comparison's two p-values together; set the verdicts.

    ``comparisons`` is a list of dicts from :func:`paired_tests` with a
    ``direction`` key; each gets ``p_diff_holm``, ``p_equiv_holm`` and
    ``verdict`` in place. Returns the list.
    """
    raw = [c["p_diff"] for c in comparisons] + [c["p_equiv"] for c in comparisons]
    adjusted = holm(raw)
    m = len(comparisons)
    for i, c in enumerate(comparisons):
        c["p_diff_holm"] = float(adjusted[i])
        c["p_equiv_holm"] = float(adjusted[m + i])
        c["verdict"] = verdict(c["mean"], c["p_diff_holm"], c["p_equiv_holm"],
                               c["direction"], alpha=alpha)
    return comparisons


def combine_verdicts(verdicts):
    """One verdict from the verdicts of several parts.

    ``"contradicted"`` if any part is; ``"holds"`` if every part holds;
    ``"equivalent"`` if every part holds or is equivalent and one is
    equivalent; ``"inconclusive"`` otherwise (including no parts).
    """
    verdicts = list(verdicts)
    if not verdicts:
        return INCONCLUSIVE
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    if all(v in (HOLDS, EQUIVALENT) for v in verdicts):
        return EQUIVALENT
    return INCONCLUSIVE


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
