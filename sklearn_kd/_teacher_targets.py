"""What the student learns from: the teacher's probabilities, their
statistics, and the training targets of a knowledge level.

Everything here is a pure function of its arguments and runs once per
``fit`` (once per fold with ``teacher_cv``), never per epoch:

1. :func:`teacher_probabilities` fits (or reuses) the teacher, or takes
   precomputed probabilities, and returns them;
2. :func:`soften_teacher` softens them once, for their statistics and for
   the float32 targets of the chosen level of knowledge that the student
   trains on (:func:`sklearn_kd._batch.target_inputs` names them as the
   student's inputs).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils.validation import check_memory

from ._validation import check_probabilities
from .diagnostics import diagnostics_from_confidence
from .knowledge import apply_knowledge, fit_knowledge
from .losses import soften
from .teachers import EncodedLabelsTeacher

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
        hint = ""
        if len(teacher_classes) == len(classes) and set(
            teacher_classes.tolist()
        ) == set(range(len(classes))):
            hint = (
                " It predicts the labels' indices: wrap it in "
                "sklearn_kd.teachers.EncodedLabelsTeacher to map them to the "
                "sorted labels."
            )
        raise ValueError(
            "The teacher's classes_ must be the classes of y: the teacher "
            f"predicts {teacher_classes.tolist()!r}, y holds "
            f"{np.asarray(classes).tolist()!r}.{hint}"
        )
    order = np.argsort(teacher_classes)
    position = order[np.searchsorted(teacher_classes, classes, sorter=order)]
    return proba[:, position]


def is_frozen(teacher):
    """Whether ``teacher`` is used as it is, never refitted."""
    return isinstance(teacher, FrozenEstimator)


def fit_teacher(teacher, X, y, classes, fit_params):
    """The teacher that fits on these labels, and its fitted clone.

    A FrozenEstimator clones to itself and its fit only checks that the
    wrapped estimator is fitted. When a teacher's ``fit`` refuses labels
    other than ``0..n_classes-1`` (a ValueError or TypeError, as XGBoost's
    raises) and succeeds on their indices, it is wrapped in
    :class:`~sklearn_kd.teachers.EncodedLabelsTeacher`; when both fail, the
    first error is raised. Other errors (a diverging network, memory) are
    raised at once, without a second fit.

    Returns
    -------
    teacher : estimator
        ``teacher``, or ``EncodedLabelsTeacher(teacher)``, unfitted.
    fitted : estimator
        Its fitted clone.
    """
    try:
        return teacher, clone(teacher).fit(X, y, **fit_params)
    except (ValueError, TypeError) as exc:
        classes = np.asarray(classes)
        if (
            is_frozen(teacher)
            or isinstance(teacher, EncodedLabelsTeacher)
            or np.array_equal(classes, np.arange(len(classes)))
        ):
            raise
        encoded = EncodedLabelsTeacher(teacher)
        try:
            return encoded, clone(encoded).fit(X, y, **fit_params)
        except Exception:
            raise exc from None


def bags_out_of_sample(teacher):
    """Whether ``teacher``, fitted here, can give out-of-bag probabilities.

    True for an unfitted bagging ensemble (random forests, extra trees and
    :class:`~sklearn.ensemble.BaggingClassifier`) with ``bootstrap=True``:
    fitted with ``oob_score=True``, its ``oob_decision_function_`` gives each
    training row the mean probabilities of the members that did not see it.
    """
    if is_frozen(teacher) or not hasattr(teacher, "get_params"):
        return False
    params = teacher.get_params(deep=False)
    return "oob_score" in params and params.get("bootstrap") is True


def resolve_teacher_cv(teacher_cv, teacher):
    """``teacher_cv`` with ``"auto"`` resolved: ``"oob"`` for a bagging
    ensemble fitted here (see :func:`bags_out_of_sample`), None otherwise."""
    if isinstance(teacher_cv, str) and teacher_cv == "auto":
        return "oob" if bags_out_of_sample(teacher) else None
    return teacher_cv


def out_of_bag_proba(fitted, X, classes):
    """The out-of-bag probabilities of a bagging ensemble fitted with
    ``oob_score=True``, in ``classes`` order.

    A row that every member saw (possible with very few members) has no
    out-of-bag estimate: it takes the ensemble's own ``predict_proba``.
    """
    proba = np.array(fitted.oob_decision_function_, dtype=np.float64)
    missing = ~(proba.sum(axis=1) > 0) | ~np.isfinite(proba).all(axis=1)
    if missing.any():
        rows = _safe_indexing(X, np.flatnonzero(missing))
        proba[missing] = fitted.predict_proba(rows)
    proba = check_teacher_proba(
        proba, "teacher.oob_decision_function_", len(proba), len(fitted.classes_)
    )
    return align_columns(proba, fitted.classes_, classes)


def fit_teacher_proba(teacher, X, y, classes, cv=None, fit_params=None):
    """Fit (or reuse a frozen) teacher and return its training probabilities.

    Parameters
    ----------
    teacher : estimator with ``predict_proba``
        Unfitted estimators are cloned and fitted (see :func:`fit_teacher`);
        a ``FrozenEstimator`` is used as it is.
    X, y : training data as given to ``fit``.
    classes : ndarray
        The estimator's ``classes_``; columns are returned in this order.
    cv : None, "oob", int or CV splitter
        None: the fitted teacher predicts its own training rows. ``"oob"``:
        the teacher, a bagging ensemble (see :func:`bags_out_of_sample`), is
        fitted once with ``oob_score=True`` and each row takes its
        out-of-bag probabilities. Otherwise the probabilities are
        out-of-fold (``cross_val_predict``) and the teacher is also fitted
        on all rows.
    fit_params : dict, default=None
        Passed to the teacher's ``fit``.

    Returns
    -------
    teacher_ : fitted estimator
    proba : ndarray of shape (n_samples, n_classes), floating point
    """
    fit_params = fit_params or {}
    if isinstance(cv, str) and cv == "oob":
        with warnings.catch_warnings():
            # rows without out-of-bag members are filled in below
            warnings.filterwarnings("ignore", message="Some inputs do not have OOB")
            teacher, fitted = fit_teacher(
                clone(teacher).set_params(oob_score=True), X, y, classes, fit_params
            )
        if hasattr(fitted, "oob_decision_function_"):
            return fitted, out_of_bag_proba(fitted, X, classes)
        cv = None  # refitted on label indices: its own predictions
    else:
        teacher, fitted = fit_teacher(teacher, X, y, classes, fit_params)
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
    teacher, X, y, classes, *, proba=None, cv=None, fit_params=None, memory=None
):
    """The teacher's probabilities on the training rows.

    Parameters
    ----------
    teacher : estimator or None
        Fitted by :func:`fit_teacher_proba` unless ``proba`` is given.
    X, y : training data as given to ``fit``.
    classes : ndarray
        The estimator's ``classes_``; columns are returned in this order.
    proba : ndarray of shape (n_samples, n_classes), default=None
        Validated precomputed probabilities; used as they are.
    cv, fit_params : passed to :func:`fit_teacher_proba`.
    memory : joblib.Memory or None
        Caches :func:`fit_teacher_proba`.

    Returns
    -------
    result : Bunch or None
        None without teacher and probabilities; else ``teacher`` (the fitted
        teacher, None for precomputed probabilities) and ``proba``.
    """
    fitted = None
    if proba is None:
        if teacher is None:
            return None
        run = fit_teacher_proba
        if memory is not None:
            run = check_memory(memory).cache(fit_teacher_proba)
        fitted, proba = run(teacher, X, y, classes, cv, fit_params)
    return Bunch(teacher=fitted, proba=proba)


def soften_teacher(
    proba,
    y_idx,
    *,
    temperature,
    alpha=0.0,
    knowledge="full",
    top_k=None,
    labelled=None,
    build_targets=True,
    random_state=None,
):
    """The teacher softened once: its statistics and the student's targets.

    ``"full"`` softens ``proba`` by row blocks straight into the targets and
    the statistics (:func:`soften_targets`). The other levels soften it in
    float64, take the statistics from it, estimate the level's constants on
    these rows (:func:`~sklearn_kd.knowledge.fit_knowledge`), keep that part
    of the teacher (:func:`~sklearn_kd.knowledge.apply_knowledge`) and build
    the targets from the result, already at temperature ``T``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Validated teacher probabilities.
    y_idx : ndarray of shape (n_samples,)
        Each row's class index: its hard label, or for a row without one
        the teacher's top class.
    temperature : float
        The temperature ``T``.
    alpha : float, default=0.0
        Weight of the teacher term, at which the statistics give the
        instance weight.
    knowledge : str, default="full"
        The level of knowledge the targets keep, one of
        :data:`~sklearn_kd.knowledge.KNOWLEDGE_LEVELS` (placebos included).
    top_k : int or None, default=None
        See :func:`soften_targets`.
    labelled : ndarray of shape (n_samples,), dtype=bool, default=None
        The rows the statistics describe; None means all.
    build_targets : bool, default=True
        If False, compute the statistics only.
    random_state : int, RandomState instance or None, default=None
        Draws the permutation of a placebo level.

    Returns
    -------
    result : Bunch
        ``stats``, the summary of
        :func:`~sklearn_kd.diagnostics.teacher_diagnostics` on the softened
        teacher; ``targets``, as returned by :func:`soften_targets` (None
        unless ``build_targets``); ``knowledge_params``, the level's
        constants (None for ``"full"`` or without targets).
    """
    if knowledge == "full" or not build_targets:
        targets, stats = soften_targets(
            proba,
            y_idx,
            temperature,
            alpha,
            top_k=top_k,
            labelled=labelled,
            build_targets=build_targets,
        )
        return Bunch(stats=stats, targets=targets, knowledge_params=None)
    q_T = soften(np.asarray(proba, dtype=np.float64), temperature).numpy()
    rows = np.arange(len(y_idx))
    stats = _statistics(
        q_T[rows, y_idx], q_T.argmax(axis=1) == y_idx, q_T.shape[1], alpha, labelled
    )
    params = fit_knowledge(q_T, y_idx)
    q_T = apply_knowledge(q_T, y_idx, knowledge, params, random_state=random_state)
    # already at temperature T: the targets are built from q_T as it is
    targets, _ = soften_targets(q_T, y_idx, None, alpha, top_k=top_k)
    return Bunch(stats=stats, targets=targets, knowledge_params=params)


def _statistics(confidence, correct, n_classes, alpha, labelled):
    """The diagnostics summary of the rows in ``labelled`` (None: all)."""
    if labelled is not None:
        confidence, correct = confidence[labelled], correct[labelled]
    return diagnostics_from_confidence(
        confidence, correct, n_classes, alpha=alpha
    ).summary


def soften_targets(
    proba,
    y_idx,
    temperature,
    alpha,
    *,
    top_k=None,
    labelled=None,
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
    temperature : float or None
        The temperature; None takes ``proba`` as already softened.
    alpha : float
        Weight of the teacher term, for the diagnostics.
    top_k : int or None
        When smaller than the number of classes, keep only each row's
        ``top_k`` largest softened probabilities and spread the remaining mass
        evenly over the other classes: ``2 top_k + 1`` numbers per row instead
        of ``n_classes``.
    labelled : ndarray of shape (n_samples,), dtype=bool, or None
        The rows the diagnostics describe; None means all.
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
        the rows ``labelled`` of ``q_T``.

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
            q = torch.as_tensor(proba[block], dtype=dtype)
            if temperature is not None:
                q = soften(q, temperature)
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
    summary = _statistics(
        confidence.numpy(), correct.numpy(), n_classes, alpha, labelled
    )
    if not build_targets:
        return None, summary
    targets = Bunch(
        q_T=q_T.numpy(),
        top_index=top_index.numpy() if compress else None,
        rest=rest.numpy() if compress else None,
        neg_entropy=neg_entropy.numpy(),
    )
    return targets, summary
