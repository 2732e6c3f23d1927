"""Every call to the teacher in a fit, in one place.

The teacher answers for three kinds of row, and each answer is checked
once, here:

- the training rows: the teacher is fitted (or a frozen one reused) and
  predicts them, or gives out-of-fold (``teacher_cv``) or out-of-bag
  answers; precomputed answers are checked instead
  (:func:`teacher_probabilities`, :func:`fit_teacher_pred`);
- unlabelled training rows and synthetic rows of a transfer set: the fitted
  teacher labels them in batches (:meth:`TeacherStep.label`).

A classifier's teacher answers with ``predict_proba``, columns aligned to
the estimator's ``classes_``; a regressor's with ``predict``, as a float64
array of shape (n_samples, n_outputs).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils.validation import _num_samples, check_memory

from ._validation import check_probabilities
from .teachers import EncodedLabelsTeacher

#: Rows the teacher labels per call.
LABEL_BATCH_ROWS = 8192


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


def _unwrapped(teacher):
    """The estimator inside any FrozenEstimator wrappers."""
    while isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    return teacher


def check_regressor_teacher(teacher):
    """Refuse a teacher that cannot teach a regressor: a classifier, or an
    object without ``fit`` and ``predict``."""
    inner = _unwrapped(teacher)
    if is_classifier(inner):
        raise TypeError(
            "DistilledRegressor distils a regressor's predict; got the "
            f"classifier {type(inner).__name__} as teacher. Use a regressor "
            "(e.g. HistGradientBoostingRegressor()), or distil the classifier "
            "with sklearn_kd.DistilledClassifier."
        )
    missing = [m for m in ("fit", "predict") if not hasattr(teacher, m)]
    if missing:
        raise TypeError(
            "teacher must be a scikit-learn regressor with fit and predict; "
            f"{type(teacher).__name__} has no {' or '.join(missing)}."
        )


def check_teacher_pred(pred, name, n_samples, n_outputs):
    """A teacher's predictions for ``n_samples`` rows as a float64 array of
    shape (n_samples, n_outputs), checked finite; the input is not
    modified (a new array is returned whenever a cast or reshape is
    needed)."""
    pred = np.asarray(pred)
    given_shape = pred.shape
    if pred.ndim == 1:
        pred = pred.reshape(-1, 1)
    expected = f"({n_samples},)" if n_outputs == 1 else f"({n_samples}, {n_outputs})"
    if pred.ndim != 2 or pred.shape != (n_samples, n_outputs):
        raise ValueError(
            f"{name} must hold one prediction per row and output, of shape "
            f"{expected}; got shape {given_shape}."
        )
    if pred.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must be numeric; got dtype {pred.dtype}."
        )
    pred = pred.astype(np.float64, copy=False)
    bad = ~np.isfinite(pred)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{name} must be finite; got {int(bad.sum())} non-finite values "
            f"(NaN or inf) in {len(rows)} rows, the first at row {int(rows[0])}."
        )
    return pred


def out_of_bag_pred(fitted, X, n_outputs):
    """The out-of-bag predictions of a bagging regressor fitted with
    ``oob_score=True``; a row without out-of-bag members takes the
    ensemble's own prediction."""
    n_rows = _num_samples(X)
    pred = np.array(fitted.oob_prediction_, dtype=np.float64).reshape(n_rows, -1)
    missing = ~np.isfinite(pred).all(axis=1)
    if missing.any():
        rows = _safe_indexing(X, np.flatnonzero(missing))
        pred[missing] = np.asarray(fitted.predict(rows)).reshape(len(rows), -1)
    return check_teacher_pred(
        pred, "teacher.oob_prediction_", len(pred), n_outputs
    )


def fit_teacher_pred(teacher, X, y, n_outputs, cv=None, fit_params=None):
    """Fit (or reuse a frozen) regressor and return its training predictions.

    ``cv`` as in :func:`fit_teacher_proba`: None (its own predictions),
    ``"oob"`` (out-of-bag, for a bagging ensemble) or a cross-validation
    (out-of-fold, the teacher also fitted on all rows). ``y`` is passed to
    the teacher as the user gave it.
    """
    fit_params = fit_params or {}
    if isinstance(cv, str) and cv == "oob":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some inputs do not have OOB")
            fitted = clone(teacher).set_params(oob_score=True).fit(
                X, y, **fit_params
            )
        return fitted, out_of_bag_pred(fitted, X, n_outputs)
    fitted = clone(teacher).fit(X, y, **fit_params)
    if cv is None:
        return fitted, check_teacher_pred(
            fitted.predict(X), "teacher.predict(X)", _num_samples(X), n_outputs
        )
    pred = cross_val_predict(
        clone(teacher),
        X,
        y,
        cv=check_cv(cv, y, classifier=False),
        method="predict",
        params=fit_params,
    )
    return fitted, check_teacher_pred(
        pred, "out-of-fold teacher predictions", _num_samples(X), n_outputs
    )


class TeacherStep:
    """Every call to the teacher of one fit.

    Parameters
    ----------
    task : {"classification", "regression"}
    classes : ndarray, default=None
        The classifier's ``classes_``: the teacher's columns are aligned to
        them.
    n_outputs : int, default=None
        The regressor's number of outputs.
    feature_names : ndarray, default=None
        Names of the columns the teacher was fitted on: synthetic rows are
        handed to it as a DataFrame with these columns.

    Attributes
    ----------
    fitted : estimator or None
        The fitted teacher, after :meth:`training_rows`; None for
        precomputed outputs.
    """

    def __init__(self, task, *, classes=None, n_outputs=None, feature_names=None):
        self.task = task
        self.classes = classes
        self.n_outputs = n_outputs
        self.feature_names = feature_names
        self.fitted = None

    @property
    def width(self):
        """Columns of the teacher's outputs."""
        return len(self.classes) if self.task == "classification" else self.n_outputs

    def training_rows(self, teacher, X, y, labelled, *, given=None, cv=None,
                      fit_params=None, memory=None):
        """The teacher's outputs on every training row, or None without a
        teacher.

        The teacher is fitted on the ``labelled`` rows (a boolean mask; the
        rows of ``X``, ``y`` and ``given`` it selects); the other rows are
        labelled by the fitted teacher, unless ``given`` covers them.
        ``given``: precomputed outputs, already checked.
        """
        some_unlabelled = not labelled.all()
        if some_unlabelled and "sample_weight" in (fit_params or {}):
            fit_params = {**fit_params,
                          "sample_weight": fit_params["sample_weight"][labelled]}
        X_lab = _safe_indexing(X, labelled) if some_unlabelled else X
        y_lab = y[labelled] if some_unlabelled else y
        given_lab = (
            given[labelled] if some_unlabelled and given is not None else given
        )
        if self.task == "classification":
            result = teacher_probabilities(
                teacher, X_lab, y_lab, self.classes, proba=given_lab, cv=cv,
                fit_params=fit_params, memory=memory,
            )
            outputs = None if result is None else result.proba
            self.fitted = None if result is None else result.teacher
        else:
            outputs = given_lab
            if given_lab is None and teacher is not None:
                run = fit_teacher_pred
                if memory is not None:
                    run = check_memory(memory).cache(fit_teacher_pred)
                self.fitted, outputs = run(
                    teacher, X_lab, y_lab, self.n_outputs, cv, fit_params
                )
        if outputs is None or not some_unlabelled:
            return outputs
        full = np.empty((len(labelled), self.width))
        full[labelled] = outputs
        if given is not None:
            full[~labelled] = given[~labelled]
        else:
            full[~labelled] = self.label(_safe_indexing(X, ~labelled))
        return full

    def label(self, X, feature_names=None):
        """The fitted teacher's outputs on new rows ``X``, in batches of
        :data:`LABEL_BATCH_ROWS`; handed to it as a DataFrame with
        ``feature_names`` when given (the columns it was fitted on)."""
        out = np.empty((len(X), self.width), dtype=np.float64)
        for start in range(0, len(X), LABEL_BATCH_ROWS):
            block = _rows(X, start, LABEL_BATCH_ROWS, feature_names)
            out[start : start + len(block)] = self._answer(block)
        return out

    def _answer(self, block):
        """The fitted teacher's checked outputs on one batch of new rows:
        probabilities in ``classes`` order, or predictions."""
        if self.task == "classification":
            teacher_classes = getattr(self.fitted, "classes_", self.classes)
            proba = check_teacher_proba(
                self.fitted.predict_proba(block),
                "teacher.predict_proba(X_transfer)",
                len(block),
                len(teacher_classes),
            )
            return align_columns(proba, teacher_classes, self.classes)
        return check_teacher_pred(
            self.fitted.predict(block),
            "teacher.predict(X_transfer)",
            len(block),
            self.n_outputs,
        )


def _rows(X, start, n_rows, feature_names=None):
    """Rows ``start:start + n_rows`` of ``X``, as a DataFrame with
    ``feature_names`` when given."""
    block = X.iloc[start : start + n_rows] if hasattr(X, "iloc") else X[
        start : start + n_rows
    ]
    if feature_names is not None:
        import pandas as pd

        block = pd.DataFrame(block, columns=feature_names)
    return block
