"""The expected calibration error of the top label, and the row-weight check
of the metrics.

:mod:`sklearn_kd.metrics` publishes :func:`expected_calibration_error`.
The compression report (:mod:`sklearn_kd._compression`) computes it too and
takes it from here, so that the metrics, which re-export the report, import
the report's module and not the other way round.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._validation import check_probabilities

__all__ = ["expected_calibration_error"]

_STRATEGIES = ("uniform", "quantile")


def _check_weights(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},); got {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if weights.sum() <= 0:
        raise ValueError("sample_weight must have a positive sum; got 0.")
    return weights


def _top_label(y_true, y_prob, labels):
    """Confidence and correctness of the top label of each row."""
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_true.ndim != 1 or not len(y_true):
        raise ValueError(
            f"y_true must be a non-empty 1-D array; got shape {y_true.shape}."
        )
    if y_prob.ndim == 1:  # binary: probability of the positive class
        if np.any((y_prob < 0) | (y_prob > 1)) or not np.all(np.isfinite(y_prob)):
            raise ValueError("A 1-D y_prob must hold probabilities in [0, 1].")
        y_prob = np.column_stack([1.0 - y_prob, y_prob])
    y_prob = check_probabilities(y_prob, "y_prob", min_rows=1)
    if y_prob.shape[0] != len(y_true):
        raise ValueError(
            f"y_true and y_prob must have the same number of rows; got "
            f"{len(y_true)} and {y_prob.shape[0]}."
        )
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if len(labels) != y_prob.shape[1]:
        raise ValueError(
            f"y_prob has {y_prob.shape[1]} columns but there are {len(labels)} "
            "labels; pass labels=estimator.classes_ when y_true lacks some "
            "classes."
        )
    unknown = ~np.isin(y_true, labels)
    if np.any(unknown):
        raise ValueError(
            f"y_true holds labels not in labels: {np.unique(y_true[unknown])!r}."
        )
    top = np.argmax(y_prob, axis=1)
    confidence = y_prob[np.arange(len(top)), top]
    correct = labels[top] == y_true
    return confidence, correct


def expected_calibration_error(
    y_true, y_prob, *, n_bins=15, strategy="uniform", labels=None, sample_weight=None
):
    """Expected calibration error of the top label.

    Each row's confidence is its largest probability,
    ``conf_i = max_k p_ik``, and the row is correct when that class is its
    label. The confidences are grouped into ``n_bins`` bins and

    ``ECE = sum_b (n_b / n) * |acc_b - conf_b|``,

    where ``n_b`` is the number (total weight) of rows in bin ``b``,
    ``acc_b`` their accuracy and ``conf_b`` their mean confidence; empty bins
    contribute nothing. With ``strategy="uniform"`` the bins have equal width
    and are closed on the right: ``[0, 1/B], (1/B, 2/B], ..., ((B-1)/B, 1]``.
    With ``strategy="quantile"`` their edges are quantiles of the
    confidences, so they hold about equally many rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``labels`` order; a 1-D array is
        the probability of the second (positive) of two labels, as
        scikit-learn's scorers pass for binary problems.
    n_bins : int, default=15
        Number of bins ``B``.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-mass bins.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_prob``; ``None`` means the sorted
        unique values of ``y_true``, which must then number ``n_classes``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    ece : float
        In [0, 1]; 0 for a perfectly calibrated predictor (up to sampling
        noise of order ``sqrt(B / n)``).

    See Also
    --------
    sklearn.calibration.calibration_curve : Reliability diagram of a binary
        classifier.
    neg_expected_calibration_error_score : The same, as a scorer.

    References
    ----------
    Naeini, Cooper, Hauskrecht. Obtaining Well Calibrated Probabilities Using
    Bayesian Binning, AAAI 2015. Guo, Pleiss, Sun, Weinberger. On Calibration
    of Modern Neural Networks, ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.metrics import expected_calibration_error
    >>> y_prob = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    >>> y_true = np.array([0, 1, 1, 1])
    >>> # bin (0.8667, 0.9333]: conf 0.9, acc 0.5; bin (0.5333, 0.6]: 0.6, 1.0
    >>> round(expected_calibration_error(y_true, y_prob), 4)
    0.4
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1; got {n_bins!r}.")
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"strategy must be one of {_STRATEGIES}; got {strategy!r}."
        )
    confidence, correct = _top_label(y_true, y_prob, labels)
    weights = _check_weights(sample_weight, len(confidence))
    levels = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    if strategy == "uniform":
        inner_edges = levels
    else:
        inner_edges = np.quantile(confidence, levels)
    # searchsorted's default side ("left"): a confidence equal to an edge
    # falls in the bin it closes.
    bins = np.searchsorted(inner_edges, confidence)
    conf_sum = np.bincount(bins, weights=weights * confidence, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=weights * correct, minlength=n_bins)
    return float(np.sum(np.abs(acc_sum - conf_sum)) / weights.sum())
