"""Diagnostics of a teacher's probabilities before distilling from it.

A teacher that is nearly one-hot on its training rows (over-trained, too
large, or predicting on the rows it was fitted on, as random forests and
boosting do) carries almost no knowledge: its non-target mass ``1 - q_c``,
which holds the class relationships, vanishes, and the instance weight ``w``
of identity E4 (see :ref:`theory`) is close to 1 for every example.
:func:`teacher_diagnostics` measures this; :func:`is_overconfident` turns it
into a yes/no answer. Out-of-fold teacher predictions or a higher temperature
restore the lost knowledge (Cho & Hariharan, 2019).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.utils import Bunch

from ._validation import check_class_indices, check_fraction, check_probabilities

__all__ = [
    "OVERCONFIDENCE_THRESHOLD",
    "QUANTILES",
    "is_overconfident",
    "diagnostics_from_confidence",
    "teacher_diagnostics",
]

#: Default threshold on the mean non-target mass ``mean(1 - q_c)`` below
#: which a teacher counts as nearly one-hot (over-confident).
OVERCONFIDENCE_THRESHOLD = 0.01

#: Quantile levels reported in the summary of :func:`teacher_diagnostics`.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def teacher_diagnostics(proba, y, *, alpha=0.5, student_proba=None):
    """Per-example and summary statistics of a teacher's probabilities.

    With ``q_c`` the teacher's probability of the true class, the instance
    rescaling weight of identity E4 of :ref:`theory` (at ``T = 1``) is

    .. math::

        w = 1 - \\alpha \\frac{1 - q_c}{1 - p_c},

    the ratio of the KD gradient to the cross-entropy gradient on the true
    logit. ``p_c`` is the student's probability of the true class: taken from
    ``student_proba`` when given, otherwise that of an untrained student
    predicting the uniform distribution, ``p_c = 1 / K``, so that
    ``w = 1 - alpha * K * (1 - q_c) / (K - 1)``. ``w`` is below 1 for the
    examples the teacher finds hard (it may be negative when the teacher is
    less confident than the student) and equals 1 when ``q_c = 1``.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Teacher probability rows, as used in the loss (softened if a
        temperature other than 1 is used).
    y : array-like of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    alpha : float, default=0.5
        Weight of the teacher term in ``[0, 1]``.
    student_proba : array-like of shape (n_samples, n_classes), default=None
        Student probabilities at which ``w`` is evaluated; ``None`` uses the
        uniform initial student. Rows with ``p_c = 1`` get ``w = nan`` (the
        cross-entropy gradient vanishes); the summary ignores them.

    Returns
    -------
    diagnostics : :class:`~sklearn.utils.Bunch`
        Per-row arrays of shape (n_samples,): ``confidence`` (``q_c``),
        ``non_target_mass`` (``1 - q_c``), ``weight`` (``w``) and ``correct``
        (bool, teacher argmax equals ``y``); and ``summary``, a Bunch of
        floats: ``n_samples``, ``n_classes``, ``alpha``, ``accuracy``,
        ``mean_confidence``, ``mean_non_target_mass``, ``mean_weight``,
        ``weight_at`` (``"student"`` or ``"uniform"``), ``quantiles``
        (:data:`QUANTILES`) and the matching ``confidence_quantiles``,
        ``non_target_mass_quantiles`` and ``weight_quantiles`` (ndarrays).

    See Also
    --------
    is_overconfident : The nearly one-hot criterion on the summary.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.diagnostics import teacher_diagnostics
    >>> proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
    >>> diag = teacher_diagnostics(proba, [0, 0, 1], alpha=0.5)
    >>> diag.weight
    array([0.9, 0.4, 0.8])
    >>> diag.correct
    array([ True, False,  True])
    >>> round(diag.summary.mean_non_target_mass, 4)
    0.3
    """
    proba = check_probabilities(proba, "proba")
    n_samples, n_classes = proba.shape
    y = check_class_indices(y, n_samples, n_classes)
    alpha = check_fraction(alpha, "alpha")
    if n_samples == 0:
        raise ValueError("proba must have at least one row, got 0.")
    rows = np.arange(n_samples)
    student_confidence = None
    if student_proba is not None:
        student_proba = check_probabilities(
            student_proba, "student_proba", n_columns=n_classes
        )
        if student_proba.shape[0] != n_samples:
            raise ValueError(
                f"student_proba must have shape {proba.shape} (like proba), "
                f"got {student_proba.shape}."
            )
        student_confidence = student_proba[rows, y]
    return diagnostics_from_confidence(
        proba[rows, y].copy(),
        np.argmax(proba, axis=1) == y,
        n_classes,
        alpha=alpha,
        student_confidence=student_confidence,
    )


def diagnostics_from_confidence(
    confidence, correct, n_classes, *, alpha=0.5, student_confidence=None
):
    """:func:`teacher_diagnostics` from each row's true-class confidence.

    Every diagnostic depends on a teacher row only through ``q_c`` and
    whether its argmax is the true class, so they can be gathered block by
    block without keeping the rows (no validation here).

    Parameters
    ----------
    confidence : ndarray of shape (n_samples,)
        The teacher's probability of the true class, ``q_c``.
    correct : ndarray of shape (n_samples,), dtype=bool
        Whether the teacher's argmax is the true class.
    n_classes : int
        Number of classes ``K``.
    alpha : float, default=0.5
        Weight of the teacher term in the loss.
    student_confidence : ndarray of shape (n_samples,), default=None
        The student's ``p_c``; None means the uniform ``1 / K``.

    Returns
    -------
    diagnostics : Bunch
        As returned by :func:`teacher_diagnostics`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.diagnostics import diagnostics_from_confidence
    >>> diag = diagnostics_from_confidence(
    ...     np.array([0.9, 0.4]), np.array([True, False]), 2, alpha=0.5)
    >>> diag.weight
    array([0.9, 0.4])
    """
    non_target_mass = 1.0 - confidence
    if student_confidence is None:
        weight_at = "uniform"
        student_rest = np.full(len(confidence), 1.0 - 1.0 / n_classes)
    else:
        weight_at = "student"
        student_rest = 1.0 - student_confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(
            student_rest > 0,
            1.0 - alpha * non_target_mass / student_rest,
            np.nan,
        )
    summary = _summary(
        confidence, non_target_mass, weight, correct, n_classes, alpha, weight_at
    )
    return Bunch(
        confidence=confidence,
        non_target_mass=non_target_mass,
        weight=weight,
        correct=correct,
        summary=summary,
    )


def _summary(confidence, non_target_mass, weight, correct, n_classes, alpha, weight_at):
    """Summary statistics of the per-row diagnostics."""
    defined = weight[~np.isnan(weight)]
    return Bunch(
        n_samples=len(confidence),
        n_classes=int(n_classes),
        alpha=alpha,
        accuracy=float(correct.mean()),
        mean_confidence=float(confidence.mean()),
        mean_non_target_mass=float(non_target_mass.mean()),
        mean_weight=float(defined.mean()) if defined.size else float("nan"),
        weight_at=weight_at,
        quantiles=np.asarray(QUANTILES),
        confidence_quantiles=np.quantile(confidence, QUANTILES),
        non_target_mass_quantiles=np.quantile(non_target_mass, QUANTILES),
        weight_quantiles=(
            np.quantile(defined, QUANTILES)
            if defined.size
            else np.full(len(QUANTILES), np.nan)
        ),
    )


def is_overconfident(summary, threshold=OVERCONFIDENCE_THRESHOLD):
    """Whether a teacher is nearly one-hot on its rows.

    The criterion is ``summary["mean_non_target_mass"] < threshold``: on
    average less than ``threshold`` of the teacher's probability lies outside
    the true class, so it passes on almost no class relationships and
    distillation reduces to training on hard labels. Remedies: out-of-fold
    teacher predictions (``teacher_cv``) or a higher temperature.

    Parameters
    ----------
    summary : Bunch or mapping
        The ``summary`` of :func:`teacher_diagnostics` (the full diagnostics
        Bunch is accepted too).
    threshold : float, default=OVERCONFIDENCE_THRESHOLD
        Threshold on the mean non-target mass, in ``[0, 1]``;
        :data:`OVERCONFIDENCE_THRESHOLD` is 0.01.

    Returns
    -------
    overconfident : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.diagnostics import is_overconfident, teacher_diagnostics
    >>> proba = np.array([[0.999, 0.001], [0.002, 0.998]])
    >>> is_overconfident(teacher_diagnostics(proba, [0, 1]).summary)
    True
    >>> is_overconfident(teacher_diagnostics(proba, [0, 1]).summary, 0.001)
    False
    """
    check_fraction(threshold, "threshold")
    if isinstance(summary, Mapping) and "summary" in summary:
        summary = summary["summary"]
    try:
        mass = summary["mean_non_target_mass"]
    except (KeyError, TypeError):
        raise ValueError(
            "summary must be the summary Bunch of teacher_diagnostics (with key "
            "'mean_non_target_mass'), got "
            f"{type(summary).__name__}."
        ) from None
    return bool(mass < threshold)
