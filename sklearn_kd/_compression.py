"""How much a student keeps of its teacher, and at what size and speed.

:func:`compression_report` is published by :mod:`sklearn_kd.metrics`. It
knows the distilled estimators from the registry of :mod:`sklearn_kd._fitted`
and imports neither the estimator modules nor the metrics.
"""

from __future__ import annotations

import copy
import io
import pickle
import time
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ._calibration import expected_calibration_error
from ._fitted import is_distilled
from .persistence import save, without_teacher

__all__ = ["compression_report"]


def _student_of(model):
    """The distilled estimator inside ``model`` (itself or a Pipeline's end),
    or None."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    return last if is_distilled(last) else None


def _serialized_size(model):
    """Bytes of ``pickle.dumps(model)``; a student is stored without teacher."""
    student = _student_of(model)
    if student is not None:
        model = copy.copy(model)
        if hasattr(model, "steps"):
            model.steps = [*model.steps[:-1], (model.steps[-1][0],
                                               without_teacher(student))]
        else:
            model = without_teacher(model)
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def _student_sizes(model):
    """The distilled estimator's :func:`~sklearn_kd.persistence.save` file
    size and the bytes of its student's tensors (``state_dict``), or Nones
    when ``model`` holds none."""
    student = _student_of(model)
    if student is None:
        return None, None
    state = student.student_.module_.state_dict()
    weight_bytes = sum(t.numel() * t.element_size() for t in state.values())
    return len(save(student, io.BytesIO()).getvalue()), int(weight_bytes)


def count_parameters(model):
    """Number of learned numbers in ``model``.

    A torch student counts its trainable tensors' entries; a scikit-learn
    tree or tree ensemble counts its tree nodes (each holds a split or a
    leaf value); linear models count ``coef_`` and ``intercept_``. Returns
    None for anything else. Pipelines add their steps' counts.
    """
    student = _student_of(model) if not hasattr(model, "steps") else None
    if student is not None:
        return int(sum(p.numel() for p in student.student_.module_.parameters()))
    if hasattr(model, "steps"):
        counts = [count_parameters(step) for _, step in model.steps
                  if step not in (None, "passthrough")]
        known = [c for c in counts if c is not None]
        return int(sum(known)) if known else None
    model = getattr(model, "estimator", model) if type(model).__name__ == (
        "FrozenEstimator") else model
    if hasattr(model, "tree_"):
        return int(model.tree_.node_count)
    if hasattr(model, "_predictors"):  # histogram gradient boosting
        return int(sum(len(p.nodes) for stage in model._predictors for p in stage))
    if hasattr(model, "estimators_"):
        trees = np.ravel(np.asarray(model.estimators_, dtype=object)).tolist()
        if all(hasattr(t, "tree_") for t in trees):
            return int(sum(t.tree_.node_count for t in trees))
        return None
    if hasattr(model, "coef_"):
        return int(np.size(model.coef_) + np.size(getattr(model, "intercept_", 0)))
    return None


def _latency(model, X, n_repeats, threads, method="predict_proba"):
    """Median seconds of ``model.<method>(X)`` over ``n_repeats`` runs."""
    import torch

    predict = getattr(model, method)
    previous = torch.get_num_threads()
    times = []
    try:
        with threadpool_limits(limits=threads):
            if threads is not None:
                torch.set_num_threads(threads)
            predict(X)  # warm-up
            for _ in range(n_repeats):
                start = time.perf_counter()
                predict(X)
                times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    return float(np.median(times))


def _quality(model, X, y):
    """A classifier's probabilities, predicted labels and scores on ``(X, y)``."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    # float32 probabilities (XGBoost's, LightGBM's) sum to 1 only within
    # float32 rounding, which log_loss warns about in float64
    proba = proba / proba.sum(axis=1, keepdims=True)
    classes = np.asarray(model.classes_)
    pred = classes[np.argmax(proba, axis=1)]
    return proba, pred, dict(
        accuracy=float(accuracy_score(y, pred)),
        log_loss=float(log_loss(y, np.clip(proba, 1e-15, 1), labels=classes)),
        ece=float(expected_calibration_error(y, proba, labels=classes)),
    )


def _regression_quality(model, X, y):
    """A regressor's predictions (rows, outputs) and scores on ``(X, y)``."""
    pred = np.asarray(model.predict(X), dtype=np.float64).reshape(len(y), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    if pred.shape != y.shape:
        raise ValueError(
            f"{type(model).__name__} predicts {pred.shape[1]} output(s) but y "
            f"has {y.shape[1]}; teacher and student must predict the targets "
            "of y."
        )
    return pred, dict(
        r2=float(r2_score(y, pred)),
        rmse=float(root_mean_squared_error(y, pred)),
        mae=float(mean_absolute_error(y, pred)),
    )


def _check_models(teacher, student):
    """Both models fitted, the student a (fitted) distilled estimator and
    the teacher of the same kind; returns the student's task."""
    if _student_of(student) is None:
        swapped = (
            " The arguments look swapped: the teacher comes first, "
            "compression_report(teacher, student, X, y)."
            if _student_of(teacher) is not None
            else ""
        )
        raise TypeError(
            "student must be a DistilledClassifier or a DistilledRegressor, or "
            "a Pipeline ending in one (the model distilled from teacher); got "
            f"{type(student).__name__}." + swapped
        )
    for model in (teacher, student):
        check_is_fitted(model)
    task = _student_of(student)._task
    other_kind = is_regressor if task == "classification" else is_classifier
    if other_kind(teacher):
        kind = "classifier" if task == "classification" else "regressor"
        raise TypeError(
            f"The student is a {kind}, so teacher must be one too; got "
            f"{type(teacher).__name__}."
        )
    return task


@validate_params(
    {
        "teacher": [object],
        "student": [object],
        "X": ["array-like"],
        "y": ["array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def compression_report(teacher, student, X, y, *, n_repeats=7, verbose=True):
    """Compare a fitted teacher and its fitted student on held-out data.

    For each model: accuracy, log-loss and expected calibration error
    (:func:`~sklearn_kd.metrics.expected_calibration_error`) of a
    classifier, or R², root mean squared error and mean absolute error of
    a regressor (averaged over the outputs); the median latency of
    ``predict_proba(X)`` (a regressor's ``predict(X)``) over ``n_repeats``
    runs on one thread and at the default number of threads (limited with
    ``threadpoolctl`` and ``torch.set_num_threads``); the size of the
    pickled model (a :class:`~sklearn_kd.DistilledClassifier` or
    :class:`~sklearn_kd.DistilledRegressor` is pickled as
    :func:`~sklearn_kd.persistence.without_teacher` gives it: no teacher,
    no training state); for the student, the size of its
    :func:`~sklearn_kd.persistence.save` file and the bytes of its network's
    tensors (the raw weights, float32); and the number of parameters (see
    below). Plus the student's fidelity: for a classifier, the share of
    rows where its predicted class equals the teacher's; for a regressor,
    the R² of its predictions against the teacher's (1 for a perfect copy).

    Parameters counted: a torch student's trainable entries; a tree or tree
    ensemble's nodes; a linear model's coefficients; None otherwise.

    Parameters
    ----------
    teacher : estimator
        The fitted teacher (it may be a Pipeline): a classifier with
        ``predict_proba`` and ``classes_``, or a regressor.
    student : DistilledClassifier, DistilledRegressor or Pipeline
        The fitted student distilled from ``teacher``: a DistilledClassifier
        whose ``classes_`` are the teacher's in the same order, or a
        DistilledRegressor predicting the teacher's outputs, or a Pipeline
        ending in one.
    X : array-like of shape (n_samples, n_features)
        Held-out rows; the latency is measured on all of them.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Their labels, or a regressor's targets.
    n_repeats : int, default=7
        Timed runs per model and thread setting.
    verbose : bool, default=True
        Print the table.

    Returns
    -------
    report : dict
        ``{"teacher": {...}, "student": {...}, "fidelity": float,
        "speedup_1_thread": float, "speedup_default_threads": float,
        "size_ratio": float, "n_samples": int}``; each model's dict has
        ``accuracy``, ``log_loss`` and ``ece`` (a classifier) or ``r2``,
        ``rmse`` and ``mae`` (a regressor), ``latency_1_thread_s``,
        ``latency_default_threads_s``, ``size_bytes`` (pickled),
        ``file_bytes`` (the :func:`~sklearn_kd.persistence.save` file) and
        ``weight_bytes`` (the network's tensors), both None for a model
        that is not a distilled estimator (or a Pipeline ending in one),
        and ``n_parameters``.

    Raises
    ------
    TypeError
        If ``student`` is not a DistilledClassifier or a DistilledRegressor
        or a Pipeline ending in one (for instance when teacher and student
        are swapped), or ``teacher`` is a regressor for a classifier
        student or a classifier for a regressor student.
    ValueError
        If the teacher's classes differ from the student's, or a
        regressor's outputs are not the columns of ``y``.
    sklearn.exceptions.NotFittedError
        If either model is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_kd import DistilledClassifier
    >>> from sklearn_kd.metrics import compression_report
    >>> X, y = make_classification(n_samples=300, random_state=0)
    >>> forest = RandomForestClassifier(50, random_state=0).fit(X[:200], y[:200])
    >>> from sklearn.frozen import FrozenEstimator
    >>> student = DistilledClassifier(FrozenEstimator(forest), max_epochs=5,
    ...                               hidden_layer_sizes=(16,),
    ...                               random_state=0).fit(X[:200], y[:200])
    >>> report = compression_report(forest, student, X[200:], y[200:],
    ...                             n_repeats=2, verbose=False)
    >>> sorted(report["student"])  # doctest: +NORMALIZE_WHITESPACE
    ['accuracy', 'ece', 'file_bytes', 'latency_1_thread_s',
     'latency_default_threads_s', 'log_loss', 'n_parameters', 'size_bytes',
     'weight_bytes']
    >>> 0 <= report["fidelity"] <= 1
    True

    A regressor's report holds R², RMSE and MAE instead:

    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn_kd import DistilledRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> forest = RandomForestRegressor(50, random_state=0).fit(X[:200], y[:200])
    >>> student = DistilledRegressor(FrozenEstimator(forest), max_epochs=5,
    ...                              hidden_layer_sizes=(16,),
    ...                              random_state=0).fit(X[:200], y[:200])
    >>> report = compression_report(forest, student, X[200:], y[200:],
    ...                             n_repeats=2, verbose=False)
    >>> sorted(report["student"])  # doctest: +NORMALIZE_WHITESPACE
    ['file_bytes', 'latency_1_thread_s', 'latency_default_threads_s', 'mae',
     'n_parameters', 'r2', 'rmse', 'size_bytes', 'weight_bytes']
    """
    task = _check_models(teacher, student)
    if task == "regression":
        return _report(teacher, student, X, y, n_repeats, verbose,
                       _regression_quality, "predict", _r2_fidelity)
    y = np.asarray(y)
    t_classes, s_classes = np.asarray(teacher.classes_), np.asarray(student.classes_)
    if t_classes.shape != s_classes.shape or not (t_classes == s_classes).all():
        raise ValueError(
            "teacher and student must predict the same classes in the same "
            f"order; got teacher.classes_={t_classes.tolist()!r} and "
            f"student.classes_={s_classes.tolist()!r}."
        )
    return _report(teacher, student, X, y, n_repeats, verbose,
                   _label_quality, "predict_proba", _agreement)


def _label_quality(model, X, y):
    _, pred, row = _quality(model, X, y)
    return pred, row


def _agreement(teacher_pred, student_pred):
    """A classifier's fidelity: the share of rows of the same class."""
    return float(np.mean(teacher_pred == student_pred))


def _r2_fidelity(teacher_pred, student_pred):
    """A regressor's fidelity: R² of the student's predictions against the
    teacher's (averaged over the outputs)."""
    return float(r2_score(teacher_pred, student_pred))


def _report(teacher, student, X, y, n_repeats, verbose, quality, method,
            fidelity):
    """The report of :func:`compression_report`, each model scored by
    ``quality(model, X, y) -> (predictions, scores)``, timed on ``method``
    and compared by ``fidelity(teacher_pred, student_pred)``."""
    report = {"n_samples": int(len(y))}
    predictions = {}
    for name, model in (("teacher", teacher), ("student", student)):
        pred, row = quality(model, X, y)
        predictions[name] = pred
        row["latency_1_thread_s"] = _latency(model, X, n_repeats, 1, method)
        row["latency_default_threads_s"] = _latency(
            model, X, n_repeats, None, method
        )
        row["size_bytes"] = _serialized_size(model)
        row["file_bytes"], row["weight_bytes"] = _student_sizes(model)
        row["n_parameters"] = count_parameters(model)
        report[name] = row
    t, s = report["teacher"], report["student"]
    report["fidelity"] = fidelity(predictions["teacher"], predictions["student"])
    report["speedup_1_thread"] = t["latency_1_thread_s"] / s["latency_1_thread_s"]
    report["speedup_default_threads"] = (
        t["latency_default_threads_s"] / s["latency_default_threads_s"]
    )
    report["size_ratio"] = t["size_bytes"] / s["size_bytes"]
    if verbose:
        print(format_report(report))
    return report


def _bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def _maybe_bytes(n):
    return "-" if n is None else _bytes(n)


#: The scores of each model in the printed table: key and label.
_CLASSIFICATION_SCORES = (("accuracy", "accuracy"), ("log_loss", "log-loss"),
                          ("ece", "ECE"))
_REGRESSION_SCORES = (("r2", "R²"), ("rmse", "RMSE"), ("mae", "MAE"))


def _score(value):
    """A regressor's score in the table: four decimals, or four significant
    digits for errors far from 1 in the targets' units."""
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}"


def format_report(report):
    """The table :func:`compression_report` prints, as a string."""
    t, s = report["teacher"], report["student"]
    regression = "r2" in t
    scores = _REGRESSION_SCORES if regression else _CLASSIFICATION_SCORES
    score = _score if regression else "{:.4f}".format
    rows = [(label, score(t[key]), score(s[key])) for key, label in scores]
    rows += [
        ("latency, 1 thread (ms)", f"{1e3 * t['latency_1_thread_s']:.2f}",
         f"{1e3 * s['latency_1_thread_s']:.2f}"),
        ("latency, default threads (ms)",
         f"{1e3 * t['latency_default_threads_s']:.2f}",
         f"{1e3 * s['latency_default_threads_s']:.2f}"),
        ("pickled size", _bytes(t["size_bytes"]), _bytes(s["size_bytes"])),
        ("persistence file", _maybe_bytes(t["file_bytes"]),
         _maybe_bytes(s["file_bytes"])),
        ("raw weights", _maybe_bytes(t["weight_bytes"]),
         _maybe_bytes(s["weight_bytes"])),
        ("parameters", str(t["n_parameters"]), str(s["n_parameters"])),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"Compression report on {report['n_samples']} rows",
             f"{'':{width}}  {'teacher':>12}  {'student':>12}"]
    lines += [f"{a:{width}}  {b:>12}  {c:>12}" for a, b, c in rows]
    what = "R² against the teacher" if regression else "same predicted class"
    lines.append(f"fidelity ({what}): {report['fidelity']:.4f}")
    lines.append(
        f"student is {report['speedup_1_thread']:.1f}x faster on 1 thread, "
        f"{report['speedup_default_threads']:.1f}x at default threads, "
        f"{report['size_ratio']:.1f}x smaller"
    )
    return "\n".join(lines)
