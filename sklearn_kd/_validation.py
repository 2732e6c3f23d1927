"""Checks shared by the estimator, the teachers, the losses, the knowledge
levels, the diagnostics and the metrics.

Every probability matrix that enters sklearn_kd goes through
:func:`check_probabilities`, with the one row-sum tolerance
:data:`ROW_SUM_ATOL`: a float32 teacher accepted by the estimator is accepted
by the diagnostics and the metrics too. The scalar checks raise the same
message wherever a parameter of the same kind appears.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

#: Largest accepted ``|row sum - 1|`` of a probability row. Loose enough for
#: float32 ``predict_proba`` output, tight enough to catch logits or
#: unnormalised scores passed by mistake. Softening renormalises exactly.
ROW_SUM_ATOL = 1e-4

#: What a teacher may pass on to the student (see :mod:`sklearn_kd.knowledge`).
KNOWLEDGE_LEVELS = (
    "full",
    "universe",
    "domain",
    "instance",
    "instance_shuffled",
    "domain_shuffled",
)

#: The loss family of :class:`~sklearn_kd.losses.DistillationLoss`.
LOSSES = ("kd", "dkd", "label_smoothing")


def check_probabilities(
    proba, name, *, n_rows=None, n_columns=None, min_rows=0, keep_float=False
):
    """Validate a matrix of probability rows and return it as an array.

    Parameters
    ----------
    proba : array-like of shape (n_rows, n_columns)
        Rows of non-negative, finite numbers summing to 1 within
        :data:`ROW_SUM_ATOL`; at least 2 columns.
    name : str
        How the error messages call ``proba``.
    n_rows, n_columns : int, default=None
        Required shape. With both, a wrong shape is reported as one (the
        columns follow ``classes_``); with ``n_columns`` alone, a wrong
        number of columns.
    min_rows : int, default=0
        Fewest rows accepted.
    keep_float : bool, default=False
        Return floating-point input as it is (float32 stays float32, never
        copied); otherwise the result is float64.

    Returns
    -------
    proba : ndarray
        Never a modified view of the input: a copy is made only to change the
        dtype.
    """
    try:
        proba = np.asarray(proba)
        if not (keep_float and proba.dtype.kind == "f"):
            proba = proba.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array of shape (n_samples, n_classes); "
            f"got an object that cannot be converted to floats: {exc}"
        ) from None
    if proba.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_classes); got "
            f"shape {proba.shape}."
        )
    if n_rows is not None and n_columns is not None:
        if proba.shape != (n_rows, n_columns):
            raise ValueError(
                f"{name} must have shape (n_samples, n_classes) = ({n_rows}, "
                f"{n_columns}) with columns in classes_ order; got shape "
                f"{proba.shape}."
            )
    elif n_columns is not None and proba.shape[1] != n_columns:
        raise ValueError(
            f"{name} must have {n_columns} columns (one per class); got shape "
            f"{proba.shape}."
        )
    if proba.shape[1] < 2:
        raise ValueError(
            f"{name} must have at least 2 columns (classes); got shape {proba.shape}."
        )
    if proba.shape[0] < min_rows:
        raise ValueError(
            f"{name} must have at least {min_rows} row(s); got shape {proba.shape}."
        )
    # a NaN or inf entry makes its row sum non-finite, so the finiteness scan
    # of every entry runs only to report one
    sums = proba.sum(axis=1, dtype=np.float64)
    if not np.all(np.isfinite(sums)):
        bad = int(np.sum(~np.isfinite(proba)))
        raise ValueError(
            f"{name} must hold finite probabilities; got {bad} NaN or infinite entries."
        )
    smallest = proba.min() if proba.size else 0.0
    if smallest < 0:
        row = int(np.flatnonzero((proba < 0).any(axis=1))[0])
        raise ValueError(
            f"{name} must be non-negative; got a minimum of {smallest:.3g} "
            f"(row {row})."
        )
    deviation = np.abs(sums - 1.0)
    if len(sums) and deviation.max() > ROW_SUM_ATOL:
        row = int(np.argmax(deviation))
        raise ValueError(
            f"Each row of {name} must sum to 1 (absolute tolerance "
            f"{ROW_SUM_ATOL:g}); the worst row sums to {sums[row]:.6g} (row {row})."
        )
    return proba


def check_class_indices(y, n_samples, n_classes):
    """1-D int64 array of ``n_samples`` class indices in ``[0, n_classes)``."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ValueError(
            f"y must be a 1-D array of {n_samples} class indices (one per row "
            f"of proba), got shape {y.shape}."
        )
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "b" or not np.issubdtype(y.dtype, np.number):
            raise ValueError(
                f"y must hold integer class indices in [0, {n_classes}), got "
                f"dtype {y.dtype}."
            )
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(
                f"y must hold integer class indices in [0, {n_classes}), got "
                f"non-integer values of dtype {y.dtype}."
            )
    if n_samples and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0].item()
        raise ValueError(
            f"y must hold class indices in [0, {n_classes}) (one per column of "
            f"proba), got {bad!r}."
        )
    return y.astype(np.int64)


def check_fraction(value, name, *, allow_none=False):
    """A float in [0, 1] (booleans refused); ``None`` passes if allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
        allowed = "a float in [0, 1] or None" if allow_none else "a float in [0, 1]"
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")
    return float(value)


def check_temperature(temperature):
    """A float > 0 (booleans refused)."""
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, Real)
        or not temperature > 0
    ):
        raise ValueError(f"temperature must be a float > 0, got {temperature!r}.")
    return float(temperature)


def check_choice(value, name, options):
    """One of ``options`` (a tuple of strings)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}.")
    return value
