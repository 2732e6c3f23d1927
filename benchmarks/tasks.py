"""The unit of work of the benchmarks: one cached run on one seed.

A run is a plain dict (``spec``) naming a task, the generator settings, the
estimators' parameters and the seed; :func:`run_task` executes it in a
worker process and returns a JSON-serialisable dict of numbers. The same
seed gives the same data split and the same student initialisation in every
arm of an experiment, which makes comparisons paired.
"""

from __future__ import annotations

import functools
import json
import warnings

import numpy as np

#: Worker processes run single-threaded: on a shared 2-core machine torch's
#: intra-op threads slow small networks down by an order of magnitude.
THREADS = 1


def _limit_threads():
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(THREADS)
    threadpool_limits(THREADS)


@functools.lru_cache(maxsize=8)
def _make_data(data_json, seed):
    from sklearn_kd.datasets import make_hierarchical_classification

    cfg = json.loads(data_json)
    n_train, n_test = cfg.pop("n_train"), cfg.pop("n_test")
    n_teacher = cfg.pop("n_teacher", 0)
    X, y, info = make_hierarchical_classification(
        n_train + n_test + n_teacher, random_state=seed, return_oracle=True, **cfg
    )
    q = info.oracle_proba
    train = slice(0, n_train)
    test = slice(n_train, n_train + n_test)
    teacher = slice(n_train + n_test, None)
    return dict(
        X=X[train], y=y[train], q=q[train],
        X_test=X[test], y_test=y[test], q_test=q[test],
        X_teacher=X[teacher], y_teacher=y[teacher],
        superclass=info.superclass, n_classes=q.shape[1],
    )


def make_data(data, seed):
    """Train, test (and teacher) rows of the hierarchical generator."""
    return _make_data(json.dumps(data, sort_keys=True), int(seed))


def class_vector_geometry(estimator, superclass):
    """Correlation of the last layer's class-vector cosines with the hierarchy.

    The class vectors are the rows of the student's last ``nn.Linear``
    weight. Over all pairs of distinct classes, returns the Pearson
    correlation between their cosine and the indicator that they share a
    super-class (NaN when undefined).
    """
    from torch import nn

    module = estimator.student_.module_
    linear = [m for m in module.modules() if isinstance(m, nn.Linear)]
    W = linear[-1].weight.detach().cpu().numpy().astype(np.float64)
    W = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    cosine = W @ W.T
    i, j = np.triu_indices(len(W), k=1)
    same = (np.asarray(superclass)[i] == np.asarray(superclass)[j]).astype(float)
    if same.std() == 0:
        return float("nan")
    return float(np.corrcoef(cosine[i, j], same)[0, 1])


def evaluate(estimator, d):
    """Test metrics of a fitted student against labels and the oracle."""
    from sklearn.metrics import log_loss

    from sklearn_kd.metrics import (
        agreement,
        expected_calibration_error,
        teacher_kl_divergence,
    )

    proba = estimator.predict_proba(d["X_test"])
    labels = np.arange(d["n_classes"])
    y = d["y_test"]
    out = dict(
        accuracy=float(np.mean(proba.argmax(1) == y)),
        nll=float(log_loss(y, proba, labels=labels)),
        ece=expected_calibration_error(y, proba, labels=labels),
        oracle_agreement=agreement(proba.argmax(1), d["q_test"].argmax(1)),
        oracle_kl=teacher_kl_divergence(d["q_test"], proba),
        geometry=class_vector_geometry(estimator, d["superclass"]),
        n_iter=int(estimator.n_iter_),
    )
    stats = getattr(estimator, "teacher_stats_", None)
    if stats is not None:
        out["teacher_train_non_target_mass"] = float(stats["mean_non_target_mass"])
        out["teacher_train_accuracy"] = float(stats["accuracy"])
    return out


def _student(params, seed):
    from sklearn_kd import DistilledClassifier

    params = dict(params)
    params["hidden_layer_sizes"] = tuple(params.get("hidden_layer_sizes", (32,)))
    return DistilledClassifier(random_state=seed, **params)


def _teacher_summary(teacher, d):
    proba = teacher.predict_proba(d["X_test"])
    train = teacher.predict_proba(d["X"])
    return dict(
        teacher_test_accuracy=float(np.mean(proba.argmax(1) == d["y_test"])),
        teacher_student_rows_non_target_mass=float(
            1 - train[np.arange(len(d["y"])), d["y"]].mean()
        ),
    )


def task_student(spec):
    """A student from the oracle teacher (or none, for hard labels)."""
    d = make_data(spec["data"], spec["seed"])
    clf = _student(spec["student"], spec["seed"])
    clf.fit(d["X"], d["y"], teacher_proba=d["q"])
    return evaluate(clf, d)


def task_trained_teachers(spec):
    """S5: students of a plain and a label-smoothed trained teacher.

    Both teachers are trained on separate teacher rows and predict the
    student's training rows out of sample; their accuracy is reported.
    """
    d = make_data(spec["data"], spec["seed"])
    out = {}
    for name, teacher_params in spec["teachers"].items():
        teacher = _student(teacher_params, spec["seed"] + 1)
        teacher.fit(d["X_teacher"], d["y_teacher"])
        clf = _student(spec["student"], spec["seed"])
        clf.fit(d["X"], d["y"], teacher_proba=teacher.predict_proba(d["X"]))
        out[name] = {**evaluate(clf, d), **_teacher_summary(teacher, d)}
    return out


def task_sklearn_teacher(spec):
    """S6: a student of an MLPClassifier teacher fitted on the student's rows."""
    from sklearn.neural_network import MLPClassifier

    d = make_data(spec["data"], spec["seed"])
    params = dict(spec["teacher"])
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    teacher = MLPClassifier(random_state=spec["seed"] + 1, **params)
    clf = _student(
        {**spec["student"], "teacher": teacher, "teacher_cv": spec["teacher_cv"]},
        spec["seed"],
    )
    clf.fit(d["X"], d["y"])
    out = evaluate(clf, d)
    out["teacher_test_accuracy"] = float(clf.teacher_.score(d["X_test"], d["y_test"]))
    return out


def task_self(spec):
    """S7: born-again self-distillation and its fidelity to the teacher."""
    from sklearn_kd.metrics import (
        neg_teacher_kl_divergence_score,
        teacher_agreement_score,
    )

    d = make_data(spec["data"], spec["seed"])
    clf = _student({**spec["student"], "teacher": "self"}, spec["seed"])
    clf.fit(d["X"], d["y"])
    out = evaluate(clf, d)
    out["teacher_agreement"] = teacher_agreement_score(clf, d["X_test"])
    out["teacher_kl"] = -neg_teacher_kl_divergence_score(clf, d["X_test"])
    out["teacher_test_accuracy"] = float(clf.teacher_.score(d["X_test"], d["y_test"]))
    out["train_agreement"] = teacher_agreement_score(clf, d["X"])
    return out


TASKS = {
    "student": task_student,
    "trained_teachers": task_trained_teachers,
    "sklearn_teacher": task_sklearn_teacher,
    "self": task_self,
}


def run_task(spec):
    """Execute one run (in a worker process); returns its result dict."""
    _limit_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TASKS[spec["task"]](spec)
