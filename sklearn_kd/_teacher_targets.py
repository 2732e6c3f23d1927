"""What the student learns from: the teacher's probabilities, their
statistics, and the training targets of a knowledge level.

Everything here is a pure function of its arguments and runs once per
``fit`` (once per fold with ``teacher_cv``), never per epoch:

1. :func:`teacher_probabilities` fits (or reuses) the teacher, or takes
   precomputed probabilities, and returns them with their statistics;
2. :func:`training_targets` keeps the chosen level of knowledge and builds
   the softened float32 targets the student trains on.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import Bunch
from sklearn.utils.validation import check_memory

from ._validation import check_probabilities
from .diagnostics import diagnostics_from_confidence
from .knowledge import apply_knowledge, fit_knowledge
from .losses import soften

#: Entries (rows x classes) processed at a time when softening teacher
#: probabilities: no full float64 copy of a large (n_samples, n_classes)
#: matrix is made, and each 2 MB temporary stays in cache (about 2x faster
#: than 32 MB blocks, 4x faster than the whole matrix at once).
CHUNK_ENTRIES = 1 << 18


class OverconfidentTeacherWarning(UserWarning):
    """The teacher is nearly one-hot on the rows the student learns from."""


def check_teacher_proba(proba, name, n_samples, n_classes):
    """A teacher's probabilities for ``n_samples`` rows and ``n_classes``
    classes, validated; float32 stays float32 and nothing is copied."""
    return check_probabilities(
        proba, name, n_rows=n_samples, n_columns=n_classes, keep_float=True
    )


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
    order = np.argsort(teacher_classes)
    position = order[np.searchsorted(teacher_classes, classes, sorter=order)]
    return proba[:, position]


def is_frozen(teacher):
    """Whether ``teacher`` is used as it is, never refitted."""
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
    proba : ndarray of shape (n_samples, n_classes), floating point
    """
    fit_params = fit_params or {}
    # a FrozenEstimator clones to itself and its fit only checks that the
    # wrapped estimator is fitted
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
            "teacher.predict_proba(X)",
            len(y),
            len(teacher_classes),
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
            proba, "out-of-fold teacher probabilities", len(y), len(classes)
        )
    return fitted, proba


def teacher_probabilities(
    teacher,
    X,
    y,
    y_idx,
    classes,
    *,
    proba=None,
    cv=None,
    fit_params=None,
    memory=None,
    temperature,
    alpha,
):
    """The teacher's probabilities on the training rows, with their statistics.

    Parameters
    ----------
    teacher : estimator or None
        Fitted by :func:`fit_teacher_proba` unless ``proba`` is given.
    X, y : training data as given to ``fit``; ``y_idx`` the labels as
        indices into ``classes``.
    proba : ndarray of shape (n_samples, n_classes), default=None
        Validated precomputed probabilities; used as they are.
    cv, fit_params : passed to :func:`fit_teacher_proba`.
    memory : joblib.Memory or None
        Caches :func:`fit_teacher_proba`.
    temperature, alpha : float
        The statistics describe the teacher softened at ``temperature``, as
        the loss sees it, with the instance weight at ``alpha``.

    Returns
    -------
    result : Bunch or None
        None without teacher and probabilities; else ``teacher`` (the fitted
        teacher, None for precomputed probabilities), ``proba`` and
        ``stats`` (the summary of
        :func:`~sklearn_kd.diagnostics.teacher_diagnostics`).
    """
    fitted = None
    if proba is None:
        if teacher is None:
            return None
        run = fit_teacher_proba
        if memory is not None:
            run = check_memory(memory).cache(fit_teacher_proba)
        fitted, proba = run(teacher, X, y, classes, cv, fit_params)
    _, stats = soften_targets(proba, y_idx, temperature, alpha, build_targets=False)
    return Bunch(teacher=fitted, proba=proba, stats=stats)


def training_targets(proba, y_idx, *, knowledge, temperature, top_k=None):
    """The float32 targets the student trains on, for one knowledge level.

    ``"full"`` softens ``proba`` straight into the targets. The other levels
    soften it in float64, estimate the level's constants on these rows
    (:func:`~sklearn_kd.knowledge.fit_knowledge`), keep that part of the
    teacher (:func:`~sklearn_kd.knowledge.apply_knowledge`) and build the
    targets from the result, already at temperature ``T``.

    Returns
    -------
    targets : Bunch
        As returned by :func:`soften_targets`.
    knowledge_params : Bunch or None
        The level's constants; None for ``"full"``.
    """
    if knowledge == "full":
        targets, _ = soften_targets(proba, y_idx, temperature, 0.0, top_k=top_k)
        return targets, None
    q_T = soften(np.asarray(proba, dtype=np.float64), temperature).numpy()
    params = fit_knowledge(q_T, y_idx)
    q_T = apply_knowledge(q_T, y_idx, knowledge, params)
    # softening at T = 1 leaves q_T as it is and builds its targets
    targets, _ = soften_targets(q_T, y_idx, 1.0, 0.0, top_k=top_k)
    return targets, params


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
        Validated teacher probabilities (see
        :func:`~sklearn_kd._validation.check_probabilities`).
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
    Each block is softened by :func:`~sklearn_kd.losses.soften`, in float32
    for a float32 ``proba`` and in float64 otherwise, so the memory beyond
    the result stays at one block whatever the number of rows and classes.
    """
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
            q = soften(torch.as_tensor(proba[block], dtype=dtype), temperature)
            y_block = y_all[block]
            confidence[block] = q.gather(1, y_block[:, None])[:, 0]
            correct[block] = q.argmax(dim=1) == y_block
            if not build_targets:
                continue
            if compress:
                top, index = torch.topk(q, top_k)
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
