"""The unit of work of the benchmarks: one cached run on one seed.

A run is a plain dict (``spec``) naming a task, the generator settings, the
teacher, the student family and the seed; :func:`run_task` executes it in a
worker process and returns a JSON-serialisable dict of numbers. The same
seed gives the same data and the same student initialisation in every arm
of an experiment, which makes comparisons paired.

Data. Every run of a seed draws one pool of rows from
:func:`sklearn_kd.datasets.make_hierarchical_classification` with
``bayes_accuracy`` set, so the Bayes accuracy given x alone is held fixed
whatever dial a setting moves. The pool is split, in this order, into test
rows, validation rows (used only to choose an arm's alpha and T), teacher
rows (on which trained teachers are fitted) and training rows; a smaller
``n_train`` takes a prefix of the training rows, so the test rows do not
depend on it.

Arms. A knowledge level with a teacher is one *arm*. Each arm is trained at
every (temperature, alpha) of the profile's grid and the setting with the
best validation accuracy is kept; its test metrics are the arm's result (the
validation rows are independent of the test rows). The hard-label student
gets the same budget: as many fits, over a grid of weight decays, chosen on
the same validation rows.

Placebo arms. ``instance_shuffled`` and ``domain_shuffled`` are the
estimator's placebo levels; ``instance_sigma`` (benchmark only) keeps the
teacher's ``q_T,c`` averaged within each class x noise level cell (the part
of instance knowledge that the difficulty-spread dial controls), with a
uniform rest.
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


# ------------------------------------------------------------------ data
@functools.lru_cache(maxsize=4)
def _make_pool(data_json, seed):
    from sklearn_kd.datasets import make_hierarchical_classification

    cfg = json.loads(data_json)
    sizes = {k: cfg.pop(k) for k in ("n_test", "n_val", "n_teacher", "n_pool")}
    total = sum(sizes.values())
    X, y, info = make_hierarchical_classification(
        total, random_state=seed, return_oracle=True, **cfg
    )
    bounds = np.cumsum([0, sizes["n_test"], sizes["n_val"], sizes["n_teacher"],
                        sizes["n_pool"]])
    parts = dict(zip(["test", "val", "teacher", "train"],
                     [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]))
    return dict(X=X, y=y, bayes=info.bayes_proba, oracle=info.oracle_proba,
                hard=info.hard, parts=parts, superclass=info.superclass,
                class_sep=info.class_sep, n_classes=info.bayes_proba.shape[1])


def make_data(data, seed, n_train):
    """Rows of one setting and seed: train (first ``n_train``), val, test, teacher."""
    pool = _make_pool(json.dumps(data, sort_keys=True), int(seed))
    p = pool["parts"]
    train = slice(p["train"].start, p["train"].start + int(n_train))
    d = dict(superclass=pool["superclass"], n_classes=pool["n_classes"],
             class_sep=pool["class_sep"])
    for name, rows in [("train", train), ("val", p["val"]), ("test", p["test"]),
                       ("teacher", p["teacher"])]:
        d[f"X_{name}"] = pool["X"][rows]
        d[f"y_{name}"] = pool["y"][rows]
        d[f"bayes_{name}"] = pool["bayes"][rows]
        d[f"oracle_{name}"] = pool["oracle"][rows]
        d[f"hard_{name}"] = pool["hard"][rows]
    return d


#: Temperatures at which the dials are measured (those the grids use).
DIAL_TEMPERATURES = (1.0, 2.0, 4.0, 8.0)


def _soften(q, temperature):
    from sklearn_kd.losses import soften

    return soften(np.asarray(q, dtype=np.float64), float(temperature)).numpy()


def teacher_dials(q, y, superclass, temperatures=DIAL_TEMPERATURES):
    """What a teacher passes on, measured at each temperature: the sd and mean
    of ``q_T,c`` and the class-relation information ``KL(R_bar || U)``
    overall and among siblings (nats)."""
    from sklearn_kd.knowledge import class_relation_information

    rows = np.arange(len(y))
    out = {}
    for T in temperatures:
        q_T = _soften(q, T)
        info = class_relation_information(q_T, y, superclass)
        out[f"T={T:g}"] = dict(q_c_sd=float(q_T[rows, y].std()),
                               q_c_mean=float(q_T[rows, y].mean()),
                               kl_overall=info.overall,
                               kl_siblings=info.within_groups)
    return out


def dials(d):
    """The measured dials of a setting, on its test rows; the Bayes teacher's
    dials by temperature on the training rows."""
    rows = np.arange(len(d["y_test"]))
    q_c = d["oracle_test"][rows, d["y_test"]]
    return dict(
        bayes_by_T=teacher_dials(d["bayes_train"], d["y_train"], d["superclass"]),
        bayes_accuracy=float(np.mean(d["bayes_test"].argmax(1) == d["y_test"])),
        bayes_expected_accuracy=float(d["bayes_test"].max(1).mean()),
        oracle_accuracy=float(np.mean(d["oracle_test"].argmax(1) == d["y_test"])),
        q_c_sd=float(q_c.std()),
        q_c_mean=float(q_c.mean()),
        bayes_q_c_mean=float(d["bayes_test"][rows, d["y_test"]].mean()),
        class_sep=float(d["class_sep"]),
    )


# -------------------------------------------------------------- teachers
def _fit_predict(model, d):
    model.fit(d["X_teacher"], d["y_teacher"])
    return model


def _mlp_teacher(d, seed, params, smoothing):
    """A torch MLP fitted on the teacher rows, with or without label smoothing."""
    from sklearn_kd import DistilledClassifier

    kw = dict(params["smoothing_teacher"])
    kw["hidden_layer_sizes"] = tuple(kw["hidden_layer_sizes"])
    loss = dict(loss="label_smoothing", alpha=smoothing) if smoothing else dict(
        alpha=0.0)
    model = DistilledClassifier(architecture="mlp", random_state=seed + 1, **kw,
                                **loss)
    return model.fit(d["X_teacher"], d["y_teacher"])


def teacher_probabilities(name, d, seed, params):
    """Teacher probabilities on the train rows, and the teacher's test accuracy.

    ``oracle`` and ``bayes`` are exact posteriors (given x and the row's
    noise scale; given x alone); ``bayes_smoothed`` is the Bayes posterior
    mixed with the uniform distribution (same argmax, same accuracy); ``hgb``,
    ``rf`` and ``mlp`` are trained on the teacher rows and predict the
    student's rows out of sample; ``overtrained_in_sample`` and
    ``overtrained_oof`` are one over-trained MLP fitted on the student's own
    rows, predicting them in-sample or out-of-fold.
    """
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.model_selection import cross_val_predict
    from sklearn.neural_network import MLPClassifier

    y_test = d["y_test"]
    if name in ("oracle", "bayes"):
        q, q_test = d[f"{name}_train"], d[f"{name}_test"]
    elif name == "bayes_overconfident":
        # the Bayes posterior at a quarter of its temperature: same argmax and
        # accuracy, q_c pushed toward 1 (as if the noise variance were smaller)
        power = params["overconfidence"]
        q, q_test = (_soften(d[f"bayes_{part}"], 1.0 / power)
                     for part in ("train", "test"))
    elif name in ("mlp_plain", "mlp_smoothed"):
        smoothing = params["smoothing"] if name == "mlp_smoothed" else 0.0
        model = _mlp_teacher(d, seed, params, smoothing)
        q, q_test = model.predict_proba(d["X_train"]), model.predict_proba(d["X_test"])
    elif name in ("hgb", "rf", "mlp"):
        kind = {"hgb": HistGradientBoostingClassifier,
                "rf": RandomForestClassifier, "mlp": MLPClassifier}[name]
        kw = dict(params[name])
        if "hidden_layer_sizes" in kw:
            kw["hidden_layer_sizes"] = tuple(kw["hidden_layer_sizes"])
        model = _fit_predict(kind(random_state=seed + 1, **kw), d)
        q, q_test = model.predict_proba(d["X_train"]), model.predict_proba(d["X_test"])
    elif name.startswith("overtrained"):
        kw = dict(params["overtrained"])
        kw["hidden_layer_sizes"] = tuple(kw["hidden_layer_sizes"])
        model = MLPClassifier(random_state=seed + 1, **kw)
        if name == "overtrained_oof":
            q = cross_val_predict(model, d["X_train"], d["y_train"],
                                  cv=params["teacher_cv"], method="predict_proba")
        model.fit(d["X_train"], d["y_train"])
        if name == "overtrained_in_sample":
            q = model.predict_proba(d["X_train"])
        q_test = model.predict_proba(d["X_test"])
    else:
        raise ValueError(f"unknown teacher {name!r}")
    rows = np.arange(len(d["y_train"]))
    q = np.asarray(q, dtype=np.float64)
    return q, dict(
        teacher_test_accuracy=float(np.mean(q_test.argmax(1) == y_test)),
        teacher_train_q_c=float(q[rows, d["y_train"]].mean()),
        teacher_train_confidence=float(q.max(axis=1).mean()),
        teacher_train_non_target_mass=float(1 - q[rows, d["y_train"]].mean()),
        by_T=teacher_dials(q, d["y_train"], d["superclass"]),
    )


# --------------------------------------------------------------- students
def class_vector_geometry(estimator, superclass):
    """Correlation of the centred class-vector cosines with the hierarchy.

    The class vectors are the rows of the student's last ``nn.Linear``
    weight, centred by subtracting their mean (the softmax is invariant to
    adding one vector to all of them, so only centred vectors carry
    geometry). Over all pairs of distinct classes, returns the Pearson
    correlation between their cosine and the indicator that they share a
    super-class (NaN when undefined).
    """
    from torch import nn

    module = estimator.student_.module_
    linear = [m for m in module.modules() if isinstance(m, nn.Linear)]
    W = linear[-1].weight.detach().cpu().numpy().astype(np.float64)
    W = W - W.mean(axis=0, keepdims=True)
    W = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    cosine = W @ W.T
    i, j = np.triu_indices(len(W), k=1)
    same = (np.asarray(superclass)[i] == np.asarray(superclass)[j]).astype(float)
    if same.std() == 0 or cosine[i, j].std() == 0:
        return float("nan")
    return float(np.corrcoef(cosine[i, j], same)[0, 1])


def temperature_scaling(proba_val, y_val):
    """The temperature that minimises the validation NLL of
    ``softmax(log p / T)`` (Guo et al. 2017), searched on log T."""
    from scipy.optimize import minimize_scalar

    log_p = np.log(np.clip(proba_val, 1e-300, None))
    rows = np.arange(len(y_val))

    def nll(log_t):
        z = log_p / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y_val]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def evaluate(estimator, d):
    """Validation accuracy and test metrics of a fitted student: accuracy,
    NLL and ECE as predicted, and NLL and ECE after temperature scaling
    fitted on the validation rows."""
    from sklearn.metrics import log_loss

    from sklearn_kd.metrics import agreement, expected_calibration_error

    proba = estimator.predict_proba(d["X_test"])
    proba_val = estimator.predict_proba(d["X_val"])
    labels = np.arange(d["n_classes"])
    y = d["y_test"]
    t_scale = temperature_scaling(proba_val, d["y_val"])
    scaled = _soften(np.clip(proba, 1e-300, None) / np.clip(
        proba, 1e-300, None).sum(axis=1, keepdims=True), t_scale)
    return dict(
        val_accuracy=float(np.mean(proba_val.argmax(1) == d["y_val"])),
        accuracy=float(np.mean(proba.argmax(1) == y)),
        nll=float(log_loss(y, proba, labels=labels)),
        ece=float(expected_calibration_error(y, proba, labels=labels)),
        scaling_temperature=t_scale,
        nll_scaled=float(log_loss(y, scaled, labels=labels)),
        ece_scaled=float(expected_calibration_error(y, scaled, labels=labels)),
        bayes_agreement=float(agreement(proba.argmax(1), d["bayes_test"].argmax(1))),
        geometry=class_vector_geometry(estimator, d["superclass"]),
        n_iter=int(estimator.n_iter_),
    )


def _student(family, seed, **params):
    from sklearn_kd import DistilledClassifier

    params = {"architecture": "mlp", **family, **params}  # the perceptron
    params["hidden_layer_sizes"] = tuple(params.get("hidden_layer_sizes", ()))
    return DistilledClassifier(random_state=seed, **params)


def instance_sigma_teacher(q, d, temperature):
    """Benchmark-only level: ``q_T,c`` averaged within each class x noise
    level cell of the training rows, uniform rest; returned *unsoftened*
    (``q_T ** T``, renormalised) so that the estimator's softening at
    ``temperature`` gives it back exactly."""
    from sklearn_kd.knowledge import compose_teacher

    y, hard = d["y_train"], d["hard_train"]
    q_T = _soften(q, temperature)
    confidence = q_T[np.arange(len(y)), y]
    cell = y * 2 + hard.astype(int)
    sums = np.bincount(cell, weights=confidence, minlength=2 * d["n_classes"])
    counts = np.bincount(cell, minlength=2 * d["n_classes"])
    averaged = sums[cell] / counts[cell]
    # the uniform rest of the instance teacher (also where q_T,c is 1)
    shape = np.full(q_T.shape, 1.0 / (q_T.shape[1] - 1))
    shape[np.arange(len(y)), y] = 0.0
    target = compose_teacher(averaged, shape, y)
    unsoftened = target ** float(temperature)
    return unsoftened / unsoftened.sum(axis=1, keepdims=True)


def instance_domain_teacher(q, d, temperature):
    """Benchmark-only level: each row's ``q_T,c`` with its class's mean
    non-target shape (instance and domain knowledge combined), unsoftened as
    in :func:`instance_sigma_teacher`."""
    from sklearn_kd.knowledge import compose_teacher, fit_knowledge

    y = d["y_train"]
    q_T = _soften(q, temperature)
    shapes = fit_knowledge(q_T, y, q_T.shape[1]).class_shapes
    target = compose_teacher(q_T[np.arange(len(y)), y], shapes[y], y)
    unsoftened = target ** float(temperature)
    return unsoftened / unsoftened.sum(axis=1, keepdims=True)


#: Arms whose teacher is rebuilt at each temperature by the benchmark.
TEACHER_TRANSFORMS = {"instance_sigma": instance_sigma_teacher,
                      "instance_domain": instance_domain_teacher}


def sweep(family, seed, d, q, grid, transform=None, **params):
    """Train at every grid point; keep the best on the validation rows."""
    tried = []
    for point in grid:
        clf = _student(family, seed, **params, **point)
        teacher = q if transform is None else transform(q, d, point["temperature"])
        clf.fit(d["X_train"], d["y_train"], teacher_proba=teacher)
        tried.append({**point, **evaluate(clf, d)})
    best = max(range(len(tried)), key=lambda i: tried[i]["val_accuracy"])
    return {**tried[best], "grid": tried}


#: Arms: knowledge level or loss variant -> DistilledClassifier parameters.
ARMS = {
    "universe": dict(knowledge="universe"),
    "domain": dict(knowledge="domain"),
    "instance": dict(knowledge="instance"),
    "full": dict(knowledge="full"),
    "instance_shuffled": dict(knowledge="instance_shuffled"),
    "domain_shuffled": dict(knowledge="domain_shuffled"),
    "instance_sigma": dict(knowledge="full"),
    "instance_domain": dict(knowledge="full"),
    "NCKD": dict(loss="dkd", tckd_weight=0.0, nckd_weight=1.0),
    "TCKD": dict(loss="dkd", tckd_weight=1.0, nckd_weight=0.0),
}


def task_hard(spec):
    """The hard-label student (alpha = 0), tuned over ``spec["grid"]`` (weight
    decays: the KD arms' budget), and the setting's measured dials."""
    d = make_data(spec["data"], spec["seed"], spec["n_train"])
    tried = []
    for point in spec["grid"]:
        clf = _student(spec["family"], spec["seed"], alpha=0.0, **point)
        clf.fit(d["X_train"], d["y_train"])
        tried.append({**point, **evaluate(clf, d)})
    best = max(range(len(tried)), key=lambda i: tried[i]["val_accuracy"])
    return {**tried[best], "grid": tried, "dials": dials(d)}


def task_arms(spec):
    """Tuned students of one teacher, one per arm in ``spec["arms"]``."""
    d = make_data(spec["data"], spec["seed"], spec["n_train"])
    q, teacher = teacher_probabilities(spec["teacher"], d, spec["seed"],
                                       spec["teacher_params"])
    out = {"teacher": teacher, "dials": dials(d)}
    for arm in spec["arms"]:
        out[arm] = sweep(spec["family"], spec["seed"], d, q, spec["grid"],
                         transform=TEACHER_TRANSFORMS.get(arm), **ARMS[arm])
    return out


def task_self(spec):
    """Born-again self-distillation and its fidelity to the teacher."""
    from sklearn_kd.metrics import teacher_agreement_score

    d = make_data(spec["data"], spec["seed"], spec["n_train"])
    family = dict(spec["family"])
    if spec.get("converged"):
        # train to convergence: many epochs, no early stopping
        family.update(max_epochs=family["max_epochs"] * spec["converged"],
                      early_stopping=False, n_iter_no_change=None)
    clf = _student(family, spec["seed"], teacher="self", alpha=1.0,
                   temperature=1.0)
    clf.fit(d["X_train"], d["y_train"])
    out = evaluate(clf, d)
    out["teacher_agreement"] = float(teacher_agreement_score(clf, d["X_test"]))
    out["teacher_test_accuracy"] = float(clf.teacher_.score(d["X_test"],
                                                            d["y_test"]))
    return out


def real_data(table, seed, max_rows):
    """A real table split per seed (stratified): half the rows train the
    student, a quarter chooses its settings, a quarter tests it."""
    from sklearn.model_selection import train_test_split

    from .compression_data import load_table

    X, y, _ = load_table(table, max_rows=max_rows, random_state=0)
    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=0.25, stratify=y,
                                  random_state=seed)
    train, val = train_test_split(rest, test_size=1 / 3, stratify=y[rest],
                                  random_state=seed)
    n_classes = int(y.max()) + 1
    d = dict(n_classes=n_classes, superclass=np.arange(n_classes))
    for name, part in [("train", train), ("val", val), ("test", test)]:
        d[f"X_{name}"], d[f"y_{name}"] = X[part], y[part]
    return d


def task_real(spec):
    """Knowledge levels and placebos on a real table: a HistGradientBoosting
    or RandomForest teacher predicts the student's rows out-of-fold; the
    hard-label student and every arm are tuned on the validation rows."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.model_selection import cross_val_predict

    seed = spec["seed"]
    d = real_data(spec["table"], seed, spec["max_rows"])
    kind = {"hgb": HistGradientBoostingClassifier,
            "rf": RandomForestClassifier}[spec["teacher"]]
    model = kind(random_state=seed + 1, **spec["teacher_params"][spec["teacher"]])
    q = cross_val_predict(model, d["X_train"], d["y_train"], cv=spec["cv"],
                          method="predict_proba")
    q_test = model.fit(d["X_train"], d["y_train"]).predict_proba(d["X_test"])
    d["bayes_test"] = q_test  # agreement with the teacher
    out = {"teacher": dict(teacher_test_accuracy=float(np.mean(
        q_test.argmax(1) == d["y_test"])))}
    tried = []
    for point in spec["hard_grid"]:
        clf = _student(spec["family"], seed, alpha=0.0, **point)
        clf.fit(d["X_train"], d["y_train"])
        tried.append({**point, **evaluate(clf, d)})
    out["hard"] = max(tried, key=lambda r: r["val_accuracy"])
    for arm in spec["arms"]:
        out[arm] = sweep(spec["family"], seed, d, np.asarray(q, dtype=np.float64),
                         spec["grid"], transform=TEACHER_TRANSFORMS.get(arm),
                         **ARMS[arm])
    return out


TASKS = {"hard": task_hard, "arms": task_arms, "self": task_self,
         "real": task_real}


def run_task(spec):
    """Execute one run (in a worker process); returns its result dict."""
    _limit_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TASKS[spec["task"]](spec)
