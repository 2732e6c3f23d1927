"""Teacher handling: fit or freeze, out-of-fold predictions, column alignment,
validation of probability matrices and softening.

Everything here runs once per ``fit`` (once per fold with ``teacher_cv``),
never per epoch.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

#: Rows of a teacher probability matrix must sum to 1 within this absolute
#: tolerance; softening then renormalises them exactly.
ROW_SUM_ATOL = 1e-4

#: Entries (rows x classes) processed at a time when softening teacher
#: probabilities: no full float64 copy of a large (n_samples, n_classes)
#: matrix is made, and each 2 MB temporary stays in cache (about 2x faster
#: than 32 MB blocks, 4x faster than the whole matrix at once).
CHUNK_ENTRIES = 1 << 18


class OverconfidentTeacherWarning(UserWarning):
    """The teacher is nearly one-hot on the rows the student learns from."""


def check_teacher_proba(proba, n_samples, n_classes, *, name="teacher_proba"):
    """Validate a teacher probability matrix and return it as an array.

    Raises ValueError naming ``name`` when the matrix has the wrong shape,
    holds NaN, inf or negative entries, or has rows that do not sum to 1
    within :data:`ROW_SUM_ATOL`. Floating-point input is returned as it is
    (never copied nor modified; :func:`soften_targets` renormalises), other
    numeric input as float64.
    """
    try:
        proba = np.asarray(proba)
        if proba.dtype.kind != "f":
            proba = proba.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array of shape (n_samples, n_classes) = "
            f"({n_samples}, {n_classes}); got an object that cannot be "
            f"converted to floats: {exc}"
        ) from None
    if proba.shape != (n_samples, n_classes):
        raise ValueError(
            f"{name} must have shape (n_samples, n_classes) = ({n_samples}, "
            f"{n_classes}) with columns in classes_ order; got shape "
            f"{proba.shape}."
        )
    # two passes over the matrix: a NaN or inf entry makes its row sum
    # non-finite, so the full finiteness scan runs only to report one
    sums = proba.sum(axis=1, dtype=np.float64)
    if not np.all(np.isfinite(sums)):
        bad = int(np.sum(~np.isfinite(proba)))
        raise ValueError(
            f"{name} must hold finite probabilities; got {bad} NaN or infinite entries."
        )
    smallest = proba.min() if proba.size else 0.0
    if smallest < 0:
        raise ValueError(
            f"{name} must be non-negative; got a minimum of {smallest:.3g}."
        )
    worst = np.max(np.abs(sums - 1.0)) if len(sums) else 0.0
    if worst > ROW_SUM_ATOL:
        raise ValueError(
            f"Each row of {name} must sum to 1 (absolute tolerance "
            f"{ROW_SUM_ATOL}); the worst row sums to "
            f"{sums[np.argmax(np.abs(sums - 1.0))]:.6g}."
        )
    return proba


def align_columns(proba, teacher_classes, classes):
    """Reorder the teacher's columns to ``classes`` by label.

    Raises ValueError when the teacher's classes differ from ``classes``.
    """
    teacher_classes = np.asarray(teacher_classes)
    if len(teacher_classes) != len(classes) or set(teacher_classes.tolist()) != set(
        np.asarray(classes).tolist()
    ):
        raise ValueError(
            "The teacher's classes_ must be the classes of y: the teacher "
            f"predicts {teacher_classes.tolist()!r}, y holds "
            f"{np.asarray(classes).tolist()!r}."
        )
    order = np.argsort(teacher_classes, kind="stable")
    position = order[np.searchsorted(teacher_classes, classes, sorter=order)]
    return proba[:, position]


def is_frozen(teacher):
    return isinstance(teacher, FrozenEstimator)


def fit_teacher_proba(teacher, X, y, classes, cv=None, fit_params=None):
    """Fit (or reuse a frozen) teacher and return its training probabilities.

    Parameters
    ----------
    teacher : estimator with ``predict_proba``
        Unfitted estimators are cloned and fitted; a ``FrozenEstimator`` is
        used as it is.
    X, y : training data as given to ``fit``.
    classes : ndarray
        The estimator's ``classes_``; columns are returned in this order.
    cv : None, int or CV splitter
        None: the fitted teacher predicts its own training rows. Otherwise
        the probabilities are out-of-fold (``cross_val_predict``) and the
        teacher is also fitted on all rows.
    fit_params : dict, default=None
        Passed to the teacher's ``fit``.

    Returns
    -------
    teacher_ : fitted estimator
    proba : ndarray of shape (n_samples, n_classes), float64
    """
    fit_params = fit_params or {}
    if is_frozen(teacher):
        check_is_fitted(teacher)
        fitted = teacher
    else:
        fitted = clone(teacher).fit(X, y, **fit_params)
    if cv is None:
        teacher_classes = getattr(fitted, "classes_", None)
        if teacher_classes is None:
            raise TypeError(
                "teacher must expose classes_ once fitted, as scikit-learn "
                f"classifiers do; {type(fitted).__name__} has none."
            )
        proba = check_teacher_proba(
            fitted.predict_proba(X),
            len(y),
            len(teacher_classes),
            name="teacher.predict_proba(X)",
        )
        proba = align_columns(proba, teacher_classes, classes)
    else:
        splitter = check_cv(cv, y, classifier=True)
        proba = cross_val_predict(
            clone(teacher),
            X,
            y,
            cv=splitter,
            method="predict_proba",
            params=fit_params,
        )
        proba = check_teacher_proba(
            proba, len(y), len(classes), name="out-of-fold teacher probabilities"
        )
    return fitted, proba


def log_soften_numpy(proba, temperature):
    """``log softmax(log(proba) / T)`` in float64; zeros stay ``-inf``.

    Rows must hold at least one positive entry (validated probabilities do).
    """
    with np.errstate(divide="ignore"):
        log_q = np.log(np.asarray(proba, dtype=np.float64))
    log_q /= temperature
    log_q -= log_q.max(axis=1, keepdims=True)
    log_q -= np.log(np.exp(log_q).sum(axis=1, keepdims=True))
    return log_q


def soften_targets(
    proba,
    y_idx,
    temperature,
    alpha,
    *,
    top_k=None,
    build_targets=True,
    chunk_entries=CHUNK_ENTRIES,
):
    """Softened training targets and the teacher's diagnostics, by row blocks.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Validated teacher probabilities (see :func:`check_teacher_proba`).
    y_idx : ndarray of shape (n_samples,)
        Hard labels as class indices.
    temperature, alpha : float
    top_k : int or None
        When smaller than the number of classes, keep only each row's
        ``top_k`` largest softened probabilities and spread the remaining mass
        evenly over the other classes: ``2 top_k + 1`` numbers per row instead
        of ``n_classes``.
    build_targets : bool
        If False, compute the diagnostics only and return ``targets=None``.
    chunk_entries : int
        Entries softened at a time.

    Returns
    -------
    targets : Bunch or None
        ``q_T`` (float32, dense, or the top ``k`` values), ``top_index`` and
        ``rest`` (None unless compressed), and ``neg_entropy``, each row's
        ``sum q_T log q_T`` (float32), the constant that turns the per-batch
        cross-entropy against ``q_T`` into ``KL(q_T || p_T)``.
    summary : Bunch
        :func:`~sklearn_kd.diagnostics.teacher_diagnostics` summary on
        ``q_T``.

    Notes
    -----
    Each block is softened by torch's vectorised kernels, in float32 for a
    float32 ``proba`` and in float64 otherwise, so the memory beyond the
    result stays at one block whatever the number of rows and classes.
    """
    from .diagnostics import diagnostics_from_confidence

    n_samples, n_classes = proba.shape
    compress = top_k is not None and top_k < n_classes
    chunk_rows = max(1, chunk_entries // n_classes)
    if build_targets:
        width = top_k if compress else n_classes
        q_T = torch.empty((n_samples, width), dtype=torch.float32)
        neg_entropy = torch.empty(n_samples, dtype=torch.float32)
    if build_targets and compress:
        top_index = torch.empty((n_samples, top_k), dtype=torch.long)
        rest = torch.empty(n_samples, dtype=torch.float32)
    confidence = torch.empty(n_samples, dtype=torch.float64)
    correct = torch.empty(n_samples, dtype=torch.bool)
    y_all = torch.as_tensor(y_idx, dtype=torch.long)
    # soften in the teacher's own precision: float32 teachers (most neural
    # networks) in float32, twice as fast; anything else in float64
    dtype = torch.float32 if proba.dtype == np.float32 else torch.float64
    with torch.no_grad():
        for start in range(0, n_samples, chunk_rows):
            block = slice(start, start + chunk_rows)
            q = torch.softmax(
                torch.log(torch.as_tensor(proba[block], dtype=dtype)) / temperature,
                dim=1,
            )
            y_block = y_all[block]
            confidence[block] = q.gather(1, y_block[:, None])[:, 0]
            correct[block] = q.argmax(dim=1) == y_block
            if not build_targets:
                continue
            if compress:
                top, index = torch.topk(q, top_k, dim=1)
                left = (1.0 - top.sum(dim=1)).clamp_(min=0.0) / (n_classes - top_k)
                q_T[block], top_index[block], rest[block] = top, index, left
                neg_entropy[block] = torch.xlogy(top, top).sum(dim=1) + (
                    n_classes - top_k
                ) * torch.xlogy(left, left)
            else:
                q_T[block] = q
                neg_entropy[block] = torch.xlogy(q, q).sum(dim=1)
    summary = diagnostics_from_confidence(
        confidence.numpy(), correct.numpy(), n_classes, alpha=alpha
    ).summary
    if not build_targets:
        return None, summary
    targets = Bunch(
        q_T=q_T.numpy(),
        top_index=top_index.numpy() if compress else None,
        rest=rest.numpy() if compress else None,
        neg_entropy=neg_entropy.numpy(),
    )
    return targets, summary
