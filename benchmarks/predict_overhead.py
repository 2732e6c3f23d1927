"""What one ``predict_proba`` call costs, part by part, before and after.

Distils a histogram gradient boosting teacher on the cracker-choice table
into the perceptron (``architecture="mlp"``) and the default student
(``"auto"``, for a tree-ensemble teacher the piecewise-linear encoding on
its split thresholds, ``"ple-teacher"``), then times ``predict_proba`` on 1
and 1,000 float64 rows on one thread, split into its parts:

- *validation*: the fitted check and the checks of ``X``
  (``validate_data(reset=False)``, finiteness, float32 range);
- *conversion*: ``X`` to a float32 tensor (none after: the prepared
  student reads the float32 array in numpy);
- *thread scope*: choosing and setting the torch threads of the call
  (after: choosing them; the BLAS threads are set inside *network*);
- *network*: the student's forward pass;
- *output*: the logits to an array and their finiteness check;
- *softmax*: the probabilities.

"before" is the prediction path of sklearn_kd 0.x, rebuilt here step by
step from the same functions (scikit-learn's ``validate_data``, the
student's own ``forward`` in evaluation mode under ``torch.inference_mode``,
scipy's ``softmax``); "torch" runs the prepared student of
:mod:`sklearn_kd._inference` in torch (``addmm`` and in-place activations),
as the previous release did; "after" is the estimator's own path, the same
prepared student in numpy. All run interleaved in this process, so that
they share the machine's load; the table prints medians in microseconds
and each path's ratio to "after", and checks that all give the same
probabilities.

Each case runs twice: back to back ("warm"), and with a pause of
``--pause`` milliseconds (default 5) before every timed call ("after a
pause"), the state of a model that serves a request after other work or
none; torch's operations, its matrix product first, slow down far more
after a pause than numpy's.

Run with ``python -m benchmarks.predict_overhead`` (``--repeats N`` for
more or fewer timed calls per part).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np


def _parts_before(clf, X):
    """The 0.x path, as a list of (part, callable) run in order."""
    import torch
    from scipy.special import softmax
    from sklearn.utils.validation import check_is_fitted, validate_data

    from sklearn_kd._checks import check_float32_range as _check_float32_range
    from sklearn_kd._threads import thread_scope
    from sklearn_kd._training import INFERENCE_BATCH_SIZE

    state = {}
    module = clf.student_.module_

    def validation():
        check_is_fitted(clf)
        state["X"] = validate_data(clf, X, dtype=[np.float64, np.float32], reset=False)
        _check_float32_range(state["X"])

    def conversion():
        state["rows"] = torch.from_numpy(np.asarray(state["X"], dtype=np.float32))

    def scope():
        work = min(len(X), INFERENCE_BATCH_SIZE) * sum(
            p.numel() for p in module.parameters()
        )
        state["scope"] = thread_scope(clf.n_threads, work)
        state["scope"].__enter__()

    def network():
        module.train(False)
        with torch.inference_mode():
            state["logits"] = module(state["rows"])

    def output():
        state["scope"].__exit__(None, None, None)
        logits = torch.cat([state["logits"].to("cpu", torch.float64)]).numpy()
        if not np.isfinite(logits).all(axis=1).all():  # pragma: no cover
            raise ValueError("non-finite logits")
        state["logits"] = logits

    def probabilities():
        state["proba"] = softmax(state["logits"], axis=1)

    parts = [("validation", validation), ("conversion", conversion),
             ("thread scope", scope), ("network", network), ("output", output),
             ("softmax", probabilities)]
    return parts, state


def _parts_after(clf, X):
    """The estimator's own path, as a list of (part, callable)."""
    from sklearn_kd._threads import resolve_threads
    from sklearn_kd._training import INFERENCE_BATCH_SIZE

    state = {}

    def validation():
        state["plan"] = clf._inference_plan()
        # includes the float32 copy of float64 X
        state["X"], state["finite"] = clf._rows(X)

    def conversion():
        pass  # none: the prepared student reads the float32 array itself

    def scope():
        work = min(len(X), INFERENCE_BATCH_SIZE) * state["plan"].row_work
        state["threads"] = resolve_threads(clf.n_threads, work)

    def network():  # the BLAS threads are set and restored in here
        state["logits"] = state["plan"].logits_t(
            state["X"], state["threads"], finite=state["finite"])

    def output():
        if not np.isfinite(float(state["logits"].sum())):  # pragma: no cover
            raise ValueError("non-finite logits")

    def probabilities():
        shifted = state["logits"].astype(np.float64)
        shifted -= shifted.max(axis=0)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=0)
        state["proba"] = shifted.T

    parts = [("validation", validation), ("conversion", conversion),
             ("thread scope", scope), ("network", network), ("output", output),
             ("softmax", probabilities)]
    return parts, state


def _parts_torch(clf, X):
    """The prepared student run by torch (the path of the previous
    release: ``addmm`` and in-place activations on the prepared tensors),
    as a list of (part, callable)."""
    import torch

    from sklearn_kd._threads import resolve_threads
    from sklearn_kd._training import INFERENCE_BATCH_SIZE

    state = {}

    def validation():
        state["plan"] = clf._inference_plan()
        state["X"], _ = clf._rows(X)

    def conversion():
        state["rows"] = torch.from_numpy(state["X"])

    def scope():
        work = min(len(X), INFERENCE_BATCH_SIZE) * state["plan"].row_work
        threads = resolve_threads(clf.n_threads, work)
        state["previous"] = torch.get_num_threads()
        torch.set_num_threads(threads)

    def network():
        state["logits"] = state["plan"].prepared.logits_t(state["rows"])

    def output():
        torch.set_num_threads(state["previous"])
        if not np.isfinite(float(state["logits"].sum())):  # pragma: no cover
            raise ValueError("non-finite logits")

    def probabilities():
        logits = state["logits"].double()
        state["proba"] = torch.softmax(logits, dim=0).t().numpy()

    parts = [("validation", validation), ("conversion", conversion),
             ("thread scope", scope), ("network", network), ("output", output),
             ("softmax", probabilities)]
    return parts, state


def _run(parts, state):
    """Run the parts of one path in order; its probabilities."""
    for _, part in parts:
        part()
    return state["proba"]


def _baseline_predict_proba(clf, X):
    return _run(*_parts_before(clf, X))


SIDES = ("before", "torch", "after")


def measure(clf, X, repeats, pause=0.0):
    """Median microseconds of every part and of the whole call on each side
    (:data:`SIDES`), interleaved (``pause`` seconds of sleep before each
    timed call and each run of the parts); and the largest difference of
    the "after" probabilities from the others'."""
    sides = {"before": _parts_before(clf, X), "after": _parts_after(clf, X)}
    if clf._inference_plan().prepared is not None:
        sides["torch"] = _parts_torch(clf, X)
    sides = {side: sides[side] for side in SIDES if side in sides}
    names = [name for name, _ in sides["before"][0]] + ["whole call"]
    times = {(side, name): [] for side in sides for name in names}
    torch_side = sides.get("torch")
    wholes = {"before": lambda: _baseline_predict_proba(clf, X),
              "torch": lambda: _run(*torch_side),
              "after": lambda: clf.predict_proba(X)}
    clock = time.perf_counter
    for i in range(repeats + 1):
        for side, (parts, _) in sides.items():
            if pause:
                time.sleep(pause)
            start = clock()
            for name, part in parts:
                part()
                end = clock()
                if i:
                    times[side, name].append(end - start)
                start = end
            if pause:
                time.sleep(pause)
            start = clock()
            wholes[side]()
            if i:
                times[side, "whole call"].append(clock() - start)
    medians = {key: 1e6 * float(np.median(value)) for key, value in times.items()}
    after = sides["after"][1]["proba"]
    error = max(float(np.abs(state["proba"] - after).max())
                for _, state in sides.values())
    return names, medians, error


def _table(title, names, medians):
    sides = [side for side in SIDES if (side, names[0]) in medians]
    header = "".join(f"{side + ' us':>11}" for side in sides)
    ratios = "".join(f"{side + '/after':>14}" for side in sides[:-1])
    lines = [title, f"{'part':<16}{header}{ratios}"]

    def row(label, values):
        cells = "".join(f"{values[side]:>11.1f}" for side in sides)
        quotients = "".join(
            f"{values[side] / max(values['after'], 1e-3):>13.1f}x"
            for side in sides[:-1]
        )
        return f"{label:<16}{cells}{quotients}"

    for name in names:
        if name == "whole call":
            lines.append(row("sum of parts", {
                side: sum(medians[side, n] for n in names[:-1]) for side in sides
            }))
        lines.append(row(name, {side: medians[side, name] for side in sides}))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_overhead")
    parser.add_argument("--repeats", type=int, default=400,
                        help="timed calls per part (default 400)")
    parser.add_argument("--pause", type=float, default=5.0,
                        help="milliseconds of sleep before each timed call "
                             "of the second run (default 5)")
    parser.add_argument("--max-epochs", type=int, default=5,
                        help="training epochs of each student (default 5)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split

    from sklearn_kd import DistilledClassifier

    from .compression_data import load_table

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    X, y, _ = load_table("cracker-choice")
    X_tr, X_te, y_tr, _ = train_test_split(
        X, y, train_size=1500, test_size=1000, stratify=y, random_state=0
    )
    teacher = HistGradientBoostingClassifier(random_state=0).fit(X_tr, y_tr)
    results = {}
    for architecture in ("mlp", "auto"):
        clf = DistilledClassifier(
            FrozenEstimator(teacher), architecture=architecture,
            max_epochs=args.max_epochs, random_state=0,
        ).fit(X_tr, y_tr)
        n_weights = sum(p.numel() for p in clf.student_.module_.parameters())
        for rows in (1, 1000):
            for state, pause in (("warm", 0.0), ("after a pause", args.pause)):
                names, medians, error = measure(
                    clf, X_te[:rows], args.repeats, pause=pause / 1000
                )
                results[clf.architecture_, rows, state] = medians
                print(_table(
                    f"\n{clf.architecture_} student ({n_weights} weights), "
                    f"{rows} row{'s' if rows > 1 else ''} of float64, 1 "
                    f"thread, {state}; max |other - after| = {error:.1e}",
                    names, medians,
                ))
    return results


if __name__ == "__main__":
    main()
