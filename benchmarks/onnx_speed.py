"""ONNX export next to the teacher's own ONNX graph: nodes, size and speed.

On the cracker-choice table (4 brands) and the wage panel's union
membership (binary), 1,500 training rows each, fits a histogram gradient
boosting teacher and a 300-tree random forest, converts each with
skl2onnx, and distils each into the perceptron (``architecture="mlp"``)
and the default student (``"auto"``: for these tree ensembles the
piecewise-linear encoding on their split thresholds, ``"ple-teacher"``),
converted with ``import sklearn_kd.onnx``.

Every student is converted twice: *before* is the graph of sklearn_kd 0.x,
the student module exported as it trains (standardisation and encoding
computed in the graph; rebuilt here by exporting the module without
:func:`sklearn_kd._inference.prepare`), *after* the prepared student of
this version (standardisation folded into the first ``Gemm``, the encoding
as one ``Gemm``, a ``Relu`` and a ``Min``, the labels straight from
``ArgMax`` when they are the class indices, which both graphs do here;
the converter of 0.x added a ``Gather`` of the labels to each).

For each graph it prints the number of nodes, the file size, the largest
difference from ``predict_proba``, and the median time of one
``InferenceSession.run`` on 1 and on 1,000 rows with one onnxruntime thread
(``intra_op_num_threads=1``), all interleaved so that they share the
machine's load, with the ratio of the teacher's time to each student's
(above 1: the student is faster).

Run with ``OMP_NUM_THREADS=1 python -m benchmarks.onnx_speed`` (``--repeats
N`` timed calls per graph and size, default 500).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings
from unittest import mock

import numpy as np


def _session(model):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _interleaved_medians(functions, repeats):
    """Median microseconds of each callable, timed in turn ``repeats`` times."""
    for f in functions.values():
        f()
    times = {name: [] for name in functions}
    clock = time.perf_counter
    for _ in range(repeats):
        for name, f in functions.items():
            start = clock()
            f()
            times[name].append(clock() - start)
    return {name: 1e6 * float(np.median(t)) for name, t in times.items()}


def _convert(model, X, before=False):
    import skl2onnx

    import sklearn_kd.onnx as kd_onnx

    from .deployment import _integer_flags

    with contextlib.ExitStack() as stack:
        stack.enter_context(_integer_flags())  # skl2onnx 1.20 and HGB
        if before:
            stack.enter_context(
                mock.patch.object(kd_onnx, "prepare", lambda module: None))
        return skl2onnx.to_onnx(model, X[:1], options={id(model): {"zipmap": False}})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.onnx_speed")
    parser.add_argument("--repeats", type=int, default=500,
                        help="timed calls per graph and size (default 500)")
    parser.add_argument("--max-epochs", type=int, default=5,
                        help="training epochs of each student (default 5)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split

    from sklearn_kd import DistilledClassifier

    from .compression_data import load_table

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    tasks = {name: load_table(name) for name in ("cracker-choice", "wages-union")}
    teachers = {
        "hist gradient boosting": lambda: HistGradientBoostingClassifier(
            random_state=0),
        "random forest (300 trees)": lambda: RandomForestClassifier(
            300, random_state=0, n_jobs=1),
    }
    results = {}
    for task, (X, y, description) in tasks.items():
        X_tr, X_te, y_tr, _ = train_test_split(
            X.astype(np.float32), y, train_size=1500, test_size=1000, stratify=y,
            random_state=0,
        )
        for teacher_name, make_teacher in teachers.items():
            teacher = make_teacher().fit(X_tr, y_tr)
            graphs = {"teacher": (_convert(teacher, X_te), teacher)}
            for architecture in ("mlp", "auto"):
                clf = DistilledClassifier(
                    FrozenEstimator(teacher), architecture=architecture,
                    max_epochs=args.max_epochs, random_state=0,
                ).fit(X_tr, y_tr)
                for when in ("before", "after"):
                    graphs[f"{clf.architecture_} {when}"] = (
                        _convert(clf, X_te, before=when == "before"), clf)
            sessions = {name: _session(onx) for name, (onx, _) in graphs.items()}
            lines = [f"\n{task} ({description}), {teacher_name} teacher; "
                     "onnxruntime on 1 thread",
                     f"{'graph':<20}{'nodes':>6}{'KB':>8}{'max err':>9}"
                     f"{'1 row us':>10}{'vs teacher':>11}"
                     f"{'1000 rows us':>14}{'vs teacher':>11}"]
            timings = {}
            for rows in (1, 1000):
                batch = X_te[:rows]
                timings[rows] = _interleaved_medians(
                    {name: (lambda s=s, b=batch: s.run(None, {"X": b}))
                     for name, s in sessions.items()}, args.repeats)
            for name, (onx, model) in graphs.items():
                proba = sessions[name].run(None, {"X": X_te})[1]
                error = float(np.abs(proba - model.predict_proba(X_te)).max())
                t1, t1000 = timings[1][name], timings[1000][name]
                lines.append(
                    f"{name:<20}{len(onx.graph.node):>6}"
                    f"{len(onx.SerializeToString()) / 1024:>8.1f}{error:>9.1e}"
                    f"{t1:>10.1f}{timings[1]['teacher'] / t1:>10.2f}x"
                    f"{t1000:>14.1f}{timings[1000]['teacher'] / t1000:>10.2f}x"
                )
                results[task, teacher_name, name] = dict(
                    nodes=len(onx.graph.node), error=error, us_1=t1, us_1000=t1000)
            print("\n".join(lines))
    return results


if __name__ == "__main__":
    main()
