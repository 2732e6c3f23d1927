"""Deployment benchmark: is the distilled student the model a user should ship?

A user who distils a gradient-boosting model compares the student with what
they could deploy instead. For each table and seed (a new stratified
train/test split), with a default ``HistGradientBoostingClassifier`` teacher
fitted on the training rows, the models are

- ``teacher``: the teacher itself, in scikit-learn;
- ``teacher (onnxruntime)``: the teacher converted by skl2onnx;
- ``teacher (treelite)``: the teacher compiled to a shared library by
  treelite and tl2cgen with gcc (when both are installed: the
  ``benchmarks`` extra), predicting through ``tl2cgen.Predictor``;
- ``student``: ``DistilledClassifier`` at the package defaults plus
  ``augment="munge"`` (the deployment recipe of the compression guide);
- ``student (onnxruntime)``: the same student exported with
  ``import sklearn_kd.onnx``;
- ``labels only``: the default student trained on the hard labels
  (``alpha=0``), for the gap the student closes;
- ``logistic regression``: standardised features, ``LogisticRegression``;
- ``HGB matched, 1 row`` and ``HGB matched, 1,000 rows``: the most accurate
  shrunken HistGradientBoosting from a grid of ``max_iter`` x
  ``max_leaf_nodes`` whose ``predict_proba`` latency is at most the
  student's at that batch size. The choice uses the training rows only (a
  stratified quarter of them validates the grid, fitted on the rest), then
  the chosen setting is refitted on every training row.

Latency is the median time of ``predict_proba`` (``session.run`` for ONNX)
on 1 row and on 1,000 rows, one thread, every model taking its turn in each
repeat so that load on a shared machine hits them alike; compare ratios.
A model is on the Pareto front of a table at a batch size when no other
model is at least as accurate (mean over seeds) and at least as fast, and
strictly better in one of the two.

Run with ``python -m benchmarks --only compression`` (quick profile, into
``OUTPUT/compression/deployment.md``) or ``python -m benchmarks.deployment
--profile target --output DIR``. Results are cached per task: an
interrupted run resumes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import time
import warnings
from pathlib import Path

import numpy as np

from .cache import cached_json
from .compression_data import (
    BINARY_TABLES,
    EXTRA_TABLES,
    FRESH_TABLES,
    load_table,
)

#: Run sizes by profile; ``student`` overrides package defaults only where a
#: profile must be cheap.
PROFILES = {
    "smoke": dict(tables=["cracker-choice", "star-freelunk"], seeds=1,
                  n_train=300, n_test=200, student=dict(max_epochs=3,
                                                        augment_size=2),
                  max_iter=(5, 20), max_leaf_nodes=(4, 16), repeats=3,
                  one_row_calls=20),
    "quick": dict(tables=["diamonds-cut", "cracker-choice", *BINARY_TABLES],
                  seeds=3, n_train=2000, n_test=1000, student={},
                  max_iter=(5, 10, 20, 50, 100), max_leaf_nodes=(4, 8, 16, 31),
                  repeats=9, one_row_calls=200),
    "target": dict(tables=["diamonds-cut", "doctorcontacts-health", "hi-region",
                           "budgetfood-town", "cracker-choice",
                           "males-occupation", *BINARY_TABLES],
                   seeds=3, n_train=5000, n_test=2000, student={},
                   max_iter=(5, 10, 20, 50, 100), max_leaf_nodes=(4, 8, 16, 31),
                   repeats=9, one_row_calls=200),
    # the quick recipe on binary tables no other profile uses
    "binary-extra": dict(tables=list(EXTRA_TABLES), seeds=3, n_train=2000,
                         n_test=1000, student={},
                         max_iter=(5, 10, 20, 50, 100),
                         max_leaf_nodes=(4, 8, 16, 31), repeats=9,
                         one_row_calls=200),
    # the same on six binary tables picked after the speed work
    "binary-fresh": dict(tables=list(FRESH_TABLES), seeds=3, n_train=2000,
                         n_test=1000, student={},
                         max_iter=(5, 10, 20, 50, 100),
                         max_leaf_nodes=(4, 8, 16, 31), repeats=9,
                         one_row_calls=200),
}

BATCHES = (1, 1000)
#: The student's ONNX export without the replacement of NaN by the training
#: means (``"fill_missing": False``), for inputs known to hold none.
NO_FILL = "student (onnxruntime, no NaN fill)"
#: The models run as ONNX graphs (each records its number of nodes).
ONNX_MODELS = ("teacher (onnxruntime)", "student (onnxruntime)", NO_FILL)
#: The teacher compiled by treelite + tl2cgen (left out when they are not
#: installed, or no C compiler is found).
TREELITE = "teacher (treelite)"


@contextlib.contextmanager
def _integer_flags():
    """skl2onnx 1.20 writes HistGradientBoosting's missing-value flags as
    booleans, which ``onnx.helper.make_attribute`` rejects; give it ints."""
    import onnx.helper

    make_attribute = onnx.helper.make_attribute

    def patched(key, value, *args, **kwargs):
        if isinstance(value, (list, tuple)) and any(
            isinstance(v, (bool, np.bool_)) for v in value
        ):
            value = [int(v) for v in value]
        return make_attribute(key, value, *args, **kwargs)

    onnx.helper.make_attribute = patched
    try:
        yield
    finally:
        onnx.helper.make_attribute = make_attribute


class _OnnxModel:
    """An onnxruntime session with ``predict_proba`` (one thread)."""

    def __init__(self, model, X_sample, options=None):
        import onnxruntime as ort
        import skl2onnx

        with _integer_flags():
            onx = skl2onnx.to_onnx(model, X_sample, options=options)
        serialized = onx.SerializeToString()
        self.size_bytes = len(serialized)
        so = ort.SessionOptions()
        so.intra_op_num_threads = so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(serialized, so,
                                            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.n_nodes = len(onx.graph.node)

    def predict_proba(self, X):
        return self.session.run(None, {self.input: X})[1]


class _TreeliteModel:
    """A tree ensemble compiled to C by treelite + tl2cgen, loaded as a
    shared library with one thread; ``predict_proba`` as scikit-learn
    returns it."""

    def __init__(self, model):
        import tempfile

        import tl2cgen
        import treelite

        self._dir = tempfile.TemporaryDirectory()  # removed with the model
        path = os.path.join(self._dir.name, "model.so")
        tl2cgen.export_lib(treelite.sklearn.import_model(model), toolchain="gcc",
                           libpath=path, params={"parallel_comp": 1}, nthread=1,
                           verbose=False)
        self.size_bytes = os.path.getsize(path)
        self._dmatrix = tl2cgen.DMatrix
        self._predictor = tl2cgen.Predictor(path, nthread=1, verbose=False)

    def predict_proba(self, X):
        proba = self._predictor.predict(self._dmatrix(X)).reshape(len(X), -1)
        if proba.shape[1] == 1:  # a binary model gives the positive class
            proba = np.hstack([1.0 - proba, proba])
        return proba


def _treelite(model):
    """``model`` compiled by treelite, or None (with the reason printed)
    when treelite, tl2cgen or a C compiler is missing."""
    try:
        return _TreeliteModel(model)
    except Exception as error:  # ImportError, or the compiler's failure
        print(f"{TREELITE} left out: {type(error).__name__}: {error}")
        return None


def _latencies(models, X, repeats, one_row_calls, method="predict_proba"):
    """Median seconds per ``method`` call (``predict_proba`` unless told)
    at each batch size, the models taking turns in every repeat."""
    import torch
    from threadpoolctl import threadpool_limits

    rows = {1: X[:1], 1000: X[:1000]}
    calls = {name: getattr(model, method) for name, model in models.items()}
    times = {(name, b): [] for name in models for b in BATCHES}
    with threadpool_limits(limits=1):
        torch.set_num_threads(1)
        for call in calls.values():
            call(rows[1])
            call(rows[1000])  # warm-up
        for _ in range(repeats):
            for name, call in calls.items():
                start = time.perf_counter()
                for _ in range(one_row_calls):
                    call(rows[1])
                times[name, 1].append((time.perf_counter() - start) / one_row_calls)
                start = time.perf_counter()
                call(rows[1000])
                times[name, 1000].append(time.perf_counter() - start)
    return {key: float(np.median(t)) for key, t in times.items()}


def _split(table, seed, P):
    from sklearn.model_selection import train_test_split

    X, y, _ = load_table(table)
    X = X.astype(np.float32)  # what ONNX runtimes take; every model sees it
    n_test = min(P["n_test"], len(y) // 3)
    n_train = min(P["n_train"], len(y) - n_test)
    return train_test_split(X, y, train_size=n_train, test_size=n_test,
                            stratify=y, random_state=seed)


def _hgb(seed, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed, **params)


def _matched_hgb(X_tr, y_tr, student, seed, P):
    """The most accurate shrunken HGB (on a validation quarter of the
    training rows) no slower than ``student`` at each batch size."""
    from sklearn.model_selection import train_test_split

    X_fit, X_val, y_fit, y_val = train_test_split(
        X_tr, y_tr, test_size=0.25, stratify=y_tr, random_state=seed)
    grid = {(it, leaves): _hgb(seed, max_iter=it, max_leaf_nodes=leaves,
                               early_stopping=False).fit(X_fit, y_fit)
            for it in P["max_iter"] for leaves in P["max_leaf_nodes"]}
    models = {"student": student, **{str(k): m for k, m in grid.items()}}
    lat = _latencies(models, X_val, max(3, P["repeats"] // 3),
                     max(20, P["one_row_calls"] // 4))
    chosen = {}
    for batch in BATCHES:
        budget = lat["student", batch]
        fast = [k for k in grid if lat[str(k), batch] <= budget]
        if fast:
            best = max(fast, key=lambda k: (grid[k].score(X_val, y_val),
                                            -lat[str(k), batch]))
        else:  # none is as fast: the fastest, marked as slower
            best = min(grid, key=lambda k: lat[str(k), batch])
        chosen[batch] = dict(max_iter=best[0], max_leaf_nodes=best[1],
                             within_budget=bool(fast))
    return chosen


def run_task(task, P):
    """One (table, seed) cell: every model, then their latencies."""
    import torch
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import sklearn_kd.onnx  # noqa: F401  (registers the converter)
    from sklearn_kd import DistilledClassifier
    from sklearn_kd.persistence import without_teacher

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    table, seed = task
    X_tr, X_te, y_tr, y_te = _split(table, seed, P)
    models, out = {}, {}

    def add(name, model, fit_s=float("nan")):
        models[name] = model
        # a compiled model's file (ONNX graph, shared library), else its pickle
        size = getattr(model, "size_bytes", None) or len(pickle.dumps(model))
        out[name] = dict(accuracy=float(np.mean(
            model.predict_proba(X_te).argmax(axis=1) == y_te)),
            size_bytes=size, fit_s=fit_s)

    def timed_fit(model):
        t0 = time.perf_counter()
        model.fit(X_tr, y_tr)
        return model, time.perf_counter() - t0

    teacher, t_fit = timed_fit(_hgb(seed))
    add("teacher", teacher, t_fit)
    add("teacher (onnxruntime)", _OnnxModel(teacher, X_te[:1], {"zipmap": False}))
    compiled = _treelite(teacher)
    if compiled is not None:
        add(TREELITE, compiled)
    student, s_fit = timed_fit(DistilledClassifier(
        FrozenEstimator(teacher), augment="munge", random_state=seed,
        **P["student"]))
    student = without_teacher(student)
    add("student", student, s_fit)
    out["student"]["architecture"] = student.architecture_
    add("student (onnxruntime)", _OnnxModel(
        student, X_te[:1], {id(student): {"zipmap": False}}))
    # for inputs known to hold no NaN (these tables have none)
    add(NO_FILL, _OnnxModel(
        student, X_te[:1], {id(student): {"zipmap": False,
                                          "fill_missing": False}}))
    # with alpha=0 the teacher only places the bins of the default student
    labels, l_fit = timed_fit(DistilledClassifier(
        FrozenEstimator(teacher), alpha=0.0, random_state=seed, **P["student"]))
    add("labels only", without_teacher(labels), l_fit)
    logreg, g_fit = timed_fit(make_pipeline(StandardScaler(),
                                            LogisticRegression(max_iter=2000)))
    add("logistic regression", logreg, g_fit)
    for batch, params in _matched_hgb(X_tr, y_tr, student, seed, P).items():
        name = f"HGB matched, {batch:,} row" + ("s" if batch > 1 else "")
        within = params.pop("within_budget")
        model, m_fit = timed_fit(_hgb(seed, early_stopping=False, **params))
        add(name, model, m_fit)
        out[name].update(params, within_budget=within)
    latency = _latencies(models, X_te, P["repeats"], P["one_row_calls"])
    for (name, batch), seconds in latency.items():
        out[name][f"latency_{batch}_s"] = seconds
    for name in ONNX_MODELS:
        out[name]["n_nodes"] = models[name].n_nodes
    out["_n_classes"] = int(len(np.unique(y_tr)))
    return out


def _cached(task, P, cache):
    path = cache / f"{task[0]}__{task[1]}__{P['n_train']}.json"
    return cached_json(path, run_task, task, P)


def _family(name):
    """A model and its ONNX export (or compiled form) are one model in two
    runtimes."""
    return name.split(" (")[0]


def dominators(points, name):
    """The models of other families in ``points`` (``{name: (latency,
    accuracy)}``) that dominate ``name``: as fast or faster and as accurate
    or more, strictly better in one."""
    lat, acc = points[name]
    return [other for other, (o_lat, o_acc) in points.items()
            if _family(other) != _family(name) and o_lat <= lat and o_acc >= acc
            and (o_lat < lat or o_acc > acc)]


def pareto_front(points):
    """Names in ``points`` that no model of another family dominates."""
    return [name for name in points if not dominators(points, name)]


def _paired_ci(diff):
    """Mean of paired differences and its 95 % t interval over seeds."""
    from scipy import stats

    diff = np.asarray(diff, dtype=float)
    mean = float(diff.mean())
    if len(diff) < 2 or np.allclose(diff, diff[0]):
        return mean, (mean, mean)
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    return mean, (mean - half, mean + half)


def analyse(results, P):
    """Per table: each model's mean accuracy, median latencies and size, the
    Pareto front at each batch size and the student's verdicts."""
    tables = []
    for table in P["tables"]:
        cells = [results[(table, s)] for s in range(P["seeds"])]
        names = [n for n in cells[0] if not n.startswith("_")]
        models = {}
        for name in names:
            acc = np.array([c[name]["accuracy"] for c in cells])
            models[name] = dict(
                accuracy=float(acc.mean()), accuracies=acc.tolist(),
                size_kb=float(np.median([c[name]["size_bytes"] for c in cells])
                              / 1024),
                **{f"latency_{b}_ms": 1e3 * float(np.median(
                    [c[name][f"latency_{b}_s"] for c in cells])) for b in BATCHES})
        acc = {n: np.array(m["accuracies"]) for n, m in models.items()}
        gap = acc["teacher"] - acc["labels only"]
        row = dict(table=table, n_classes=cells[0]["_n_classes"], models=models,
                   architecture=cells[0]["student"].get("architecture"),
                   gap_pp=100 * float(gap.mean()),
                   gap_closed=(float((acc["student"] - acc["labels only"]).mean()
                                     / gap.mean()) if gap.mean() > 0
                               else float("nan")))
        for b in BATCHES:
            key = f"latency_{b}_ms"
            points = {n: (m[key], m["accuracy"]) for n, m in models.items()
                      if n != "labels only"}  # a baseline, not an option
            row[f"front_{b}"] = pareto_front(points)
            row[f"dominated_{b}"] = {n: dominators(points, n) for n in
                                     ("student", "student (onnxruntime)")}
            row[f"speedup_{b}"] = models["teacher"][key] / models["student"][key]
            row[f"onnx_speedup_{b}"] = (models["teacher (onnxruntime)"][key]
                                        / models["student (onnxruntime)"][key])
            if NO_FILL in models:  # absent from results cached before it
                row[f"onnx_no_fill_speedup_{b}"] = (
                    models["teacher (onnxruntime)"][key] / models[NO_FILL][key])
            if TREELITE in models:  # absent without treelite
                row[f"treelite_speedup_{b}"] = (
                    models[TREELITE][key] / models["student"][key])
            # alternatives at the student's latency or less that match it
            beaten_by = []
            for alt in ("logistic regression", f"HGB matched, {b:,} row"
                        + ("s" if b > 1 else "")):
                if models[alt][key] <= models["student"][key]:
                    diff, ci = _paired_ci(acc["student"] - acc[alt])
                    row.setdefault("vs", {})[f"{alt} @{b}"] = dict(
                        diff_pp=100 * diff, ci_pp=[100 * ci[0], 100 * ci[1]])
                    if diff <= 0:
                        beaten_by.append(alt)
            row[f"matched_by_{b}"] = beaten_by
        tables.append(row)
    return tables


def _fmt_front(front):
    return ", ".join(front)


def report(tables, P, wall):
    lines = [
        "# Deployment: the student against what a user could ship instead",
        "",
        f"Default HistGradientBoosting teacher; {P['seeds']} seeds (a new split "
        f"each); up to {P['n_train']} training and {P['n_test']} test rows "
        "per table. The student is the package defaults plus "
        "`augment=\"munge\"`"
        + (f" (overridden here: {P['student']})" if P["student"] else "")
        + "; `labels only` is the same student with `alpha=0`. Latency: "
        "median `predict_proba` time per call on 1 row and on 1,000 rows, 1 "
        "thread, models interleaved (a shared machine: compare ratios). "
        "`HGB matched` is the most accurate HistGradientBoosting of a grid "
        f"(max_iter {list(P['max_iter'])} x max_leaf_nodes "
        f"{list(P['max_leaf_nodes'])}) no slower than the student, chosen on "
        f"training rows only. Wall time {wall:.0f} s.",
        "",
    ]
    for row in tables:
        lines += [
            f"## {row['table']} ({row['n_classes']} classes; student "
            f"`{row['architecture']}`)",
            "",
            f"Teacher - labels-only gap {row['gap_pp']:.1f} pp, gap closed "
            f"{row['gap_closed']:.2f}. Speed-up over the teacher: "
            f"{row['speedup_1']:.1f}x on 1 row, {row['speedup_1000']:.1f}x on "
            "1,000 rows; in onnxruntime, student vs teacher: "
            f"{row['onnx_speedup_1']:.1f}x on 1 row, "
            f"{row['onnx_speedup_1000']:.1f}x on 1,000 rows"
            + (f" ({row['onnx_no_fill_speedup_1']:.1f}x and "
               f"{row['onnx_no_fill_speedup_1000']:.1f}x without the NaN fill)"
               if "onnx_no_fill_speedup_1" in row else "") + "."
            + (f" Against the teacher compiled by treelite: "
               f"{row['treelite_speedup_1']:.1f}x on 1 row, "
               f"{row['treelite_speedup_1000']:.1f}x on 1,000 rows."
               if "treelite_speedup_1" in row else ""),
            "",
            "| model | accuracy | 1 row, ms | 1,000 rows, ms | size KB |",
            "|---|---|---|---|---|",
        ]
        for name, m in row["models"].items():
            lines.append(f"| {name} | {m['accuracy']:.4f} | {m['latency_1_ms']:.3f} "
                         f"| {m['latency_1000_ms']:.2f} | {m['size_kb']:.0f} |")
        lines.append("")
        for b in BATCHES:
            lines.append(f"- {b:,} row{'s' if b > 1 else ''}: Pareto front "
                         f"{_fmt_front(row[f'front_{b}'])}.")
            for name, by in row[f"dominated_{b}"].items():
                lines.append(f"  {name}: "
                             + (f"dominated by {', '.join(by)}" if by
                                else "on the front"))
        for alt, v in row.get("vs", {}).items():
            lines.append(
                f"- student - {alt}: {v['diff_pp']:+.2f} pp "
                f"[{v['ci_pp'][0]:+.2f}, {v['ci_pp'][1]:+.2f}] (95 % t interval "
                "over seeds)")
        lines.append("")
    lines += [
        "## Summary",
        "",
        "Speed-ups are teacher / student latency in the same runtime; *vs "
        "treelite* is the teacher compiled by treelite + tl2cgen against the "
        "student's own `predict_proba`. "
        "*On front* says whether the student (its own predict_proba / in "
        "onnxruntime) is dominated by no other model in either runtime.",
        "",
        "| table | classes | gap closed | speed-up 1 row | speed-up 1,000 rows "
        "| ONNX speed-up 1 row (no NaN fill) | vs treelite 1 row / 1,000 rows "
        "| on front, 1 row | on front, 1,000 rows | matched at <= latency by |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def yes(row, b):
        return " / ".join("yes" if not by else "no"
                          for by in row[f"dominated_{b}"].values())

    for row in tables:
        matched = sorted(set(row["matched_by_1"]) | set(row["matched_by_1000"]))
        lines.append(
            f"| {row['table']} | {row['n_classes']} | {row['gap_closed']:.2f} "
            f"| {row['speedup_1']:.1f}x | {row['speedup_1000']:.1f}x "
            f"| {row['onnx_speedup_1']:.1f}x"
            + (f" ({row['onnx_no_fill_speedup_1']:.1f}x)"
               if "onnx_no_fill_speedup_1" in row else "")
            + (f" | {row['treelite_speedup_1']:.1f}x / "
               f"{row['treelite_speedup_1000']:.1f}x"
               if "treelite_speedup_1" in row else " | -")
            + f" | {yes(row, 1)} | {yes(row, 1000)} "
            f"| {', '.join(matched) or '-'} |")
    closed = [r["gap_closed"] for r in tables if np.isfinite(r["gap_closed"])]
    lines += [
        "",
        f"Median gap closed over the {len(closed)} tables where the teacher "
        f"leads: {np.median(closed) if closed else float('nan'):.2f}. Median "
        "speed-up: "
        f"{np.median([r['speedup_1'] for r in tables]):.1f}x on 1 row, "
        f"{np.median([r['speedup_1000'] for r in tables]):.1f}x on 1,000 rows.",
    ]
    return "\n".join(lines) + "\n"


def figure(tables, path):
    """Accuracy against latency (log) for every model: one row of panels per
    table, one column per batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    styles = {"teacher": ("*", "tab:blue"),
              "teacher (onnxruntime)": ("*", "tab:cyan"),
              TREELITE: ("P", "tab:brown"),
              "student": ("o", "tab:red"),
              "student (onnxruntime)": ("o", "tab:pink"),
              NO_FILL: ("D", "tab:pink"),
              "labels only": ("x", "grey"),
              "logistic regression": ("s", "tab:green"),
              "HGB matched, 1 row": ("^", "tab:purple"),
              "HGB matched, 1,000 rows": ("v", "tab:olive")}
    fig, axes = plt.subplots(len(tables), 2, figsize=(10, 2.9 * len(tables) + 1.0),
                             squeeze=False)
    handles = {}
    for (ax_1, ax_k), row in zip(axes, tables):
        for ax, b in ((ax_1, 1), (ax_k, 1000)):
            front = row[f"front_{b}"]
            for name, m in row["models"].items():
                marker, colour = styles[name]
                handles[name] = ax.scatter(
                    m[f"latency_{b}_ms"], m["accuracy"], marker=marker,
                    color=colour, s=110 if name in front else 45,
                    edgecolors=("black" if name in front else
                                "face" if marker != "x" else None),
                    linewidths=0.8)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # no crowded labels
            ax.set_title(f"{row['table']}: {b:,} row{'s' if b > 1 else ''}",
                         fontsize=9)
            ax.set_xlabel("predict_proba latency, ms (1 thread, log)", fontsize=8)
            ax.set_ylabel("test accuracy", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    proxies = [Line2D([], [], linestyle="", marker=styles[name][0],
                      color=styles[name][1], markersize=7) for name in handles]
    fig.legend(proxies, list(handles), loc="lower center", ncol=4,
               fontsize=8, frameon=False,
               title="mean over seeds; outlined: dominated by no model of "
               "another family (a model, its ONNX export and its compiled "
               "form are one family)",
               title_fontsize=8)
    fig.tight_layout(rect=(0, 0.9 / (2.9 * len(tables) + 1.0), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _stem(profile):
    """Output name: the quick profile (and its smoke test) write
    ``deployment.*``, the others ``deployment-PROFILE.*``."""
    return "deployment" if profile in ("quick", "smoke") else f"deployment-{profile}"


def run(output="benchmark-results", profile="quick", seeds=None, jobs=1,
        progress=True, out_dir=None):
    """Run into ``output/compression`` (``deployment.md``,
    ``deployment.json``, ``deployment.png``; ``deployment-PROFILE.*`` for the
    other profiles); returns the table rows."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from joblib import Parallel, delayed

    P = dict(PROFILES.get(profile, PROFILES["quick"]))
    if seeds is not None:
        P["seeds"] = seeds
    out = Path(out_dir) if out_dir is not None else Path(output) / "compression"
    cache = out / "cache-deployment"
    cache.mkdir(parents=True, exist_ok=True)
    tasks = [(t, s) for s in range(P["seeds"]) for t in P["tables"]]
    started = time.perf_counter()
    done = Parallel(n_jobs=jobs, verbose=10 if progress else 0)(
        delayed(_cached)(task, P, cache) for task in tasks)
    results = dict(zip(tasks, done))
    tables = analyse(results, P)
    wall = time.perf_counter() - started
    stem = _stem(profile)
    (out / f"{stem}.md").write_text(report(tables, P, wall))
    (out / f"{stem}.json").write_text(json.dumps(
        dict(profile=P, tables=tables, wall_seconds=wall), indent=1,
        default=float))
    figure(tables, out / f"{stem}.png")
    return tables


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmark-results")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    run(args.output, args.profile, args.seeds, args.jobs)
    print((Path(args.output) / "compression" / f"{_stem(args.profile)}.md")
          .read_text())


if __name__ == "__main__":
    main()
