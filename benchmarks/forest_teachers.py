"""Where a forest teacher's training probabilities come from.

A random forest predicts the rows it was fitted on nearly one-hot: each
tree saw about two thirds of them. This experiment distils a 300-tree
:class:`~sklearn.ensemble.RandomForestClassifier` into the perceptron
student (``architecture="mlp"``; ``--architecture`` sets another) on
digits and on the real tables of the compression benchmark, from

- ``in-sample``: the fitted forest's ``predict_proba`` on its own training
  rows (``teacher_cv=None``);
- ``out-of-bag``: each row's mean over the trees that did not see it
  (``teacher_cv="auto"``, the default; no extra fit);
- ``5-fold``: out-of-fold probabilities (``teacher_cv=5``, five more fits),

against the same student on the labels only (``alpha=0``). The *gap
closed* is ``(acc_arm - acc_labels) / (acc_teacher - acc_labels)`` with
means over the paired seeds. Every fit runs on one thread.

``--teacher ExtraTrees`` distils an ExtraTreesClassifier with bootstrap
samples instead (so that it has out-of-bag rows). ``--augment munge``
adds the package's transfer set to every distilled arm, and
``--architecture auto`` lets each fit choose its student from the ladder;
together with ``--epochs 100 --n-train 2000`` they are the package
defaults of the deployment benchmark.

Run with ``python -m benchmarks.forest_teachers`` (``--seeds``,
``--tables``, ``--epochs``, ``--jobs``).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from .compression_data import load_table

ARMS = {"in-sample": None, "out-of-bag": "auto", "5-fold": 5}
TABLES = ("digits", "diamonds-cut", "doctorcontacts-health", "cracker-choice",
          "males-occupation")


def _data(table, seed, n_train, n_test):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if table == "digits":
        X, y = load_digits(return_X_y=True)
    else:
        X, y, _ = load_table(table)
    n_test = min(n_test, len(y) // 3)
    n_train = min(n_train, len(y) - n_test)
    return train_test_split(X, y, train_size=n_train, test_size=n_test,
                            stratify=y, random_state=seed)


def run_cell(table, seed, args):
    import warnings

    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.frozen import FrozenEstimator

    from sklearn_kd import DistilledClassifier

    warnings.simplefilter("ignore")
    X_tr, X_te, y_tr, y_te = _data(table, seed, args.n_train, args.n_test)
    if args.teacher == "ExtraTrees":
        forest = ExtraTreesClassifier(n_estimators=args.n_estimators,
                                      bootstrap=True, random_state=seed,
                                      n_jobs=1)
    else:
        forest = RandomForestClassifier(n_estimators=args.n_estimators,
                                        random_state=seed, n_jobs=1)
    common = dict(architecture=args.architecture, max_epochs=args.epochs,
                  random_state=seed, n_threads=1,
                  temperature=args.temperature, alpha=args.alpha)
    out = {"teacher": forest.fit(X_tr, y_tr).score(X_te, y_te)}
    # the fitted forest places the bins of a threshold-encoded student
    out["labels only"] = DistilledClassifier(
        FrozenEstimator(forest), **{**common, "alpha": 0.0}).fit(
        X_tr, y_tr).score(X_te, y_te)
    augment = None if args.augment == "none" else args.augment
    for arm, cv in ARMS.items():
        start = time.perf_counter()
        clf = DistilledClassifier(forest, teacher_cv=cv, augment=augment,
                                  **common).fit(X_tr, y_tr)
        out[arm] = clf.score(X_te, y_te)
        out[arm + " fit s"] = time.perf_counter() - start
        out[arm + " non-target"] = clf.teacher_stats_.mean_non_target_mass
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forest_teachers")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-estimators", type=int, default=300)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--architecture", default="mlp",
                        help="the student, e.g. ple-teacher or auto")
    parser.add_argument("--teacher", choices=("RandomForest", "ExtraTrees"),
                        default="RandomForest")
    parser.add_argument("--augment", choices=("none", "munge"), default="none")
    parser.add_argument("--jobs", type=int, default=1,
                        help="(table, seed) cells run in parallel")
    args = parser.parse_args(argv)
    from joblib import Parallel, delayed

    cells_by_table = {}
    flat = Parallel(n_jobs=args.jobs)(
        delayed(run_cell)(table, seed, args)
        for table in args.tables for seed in range(args.seeds))
    for i, table in enumerate(args.tables):
        cells_by_table[table] = flat[i * args.seeds:(i + 1) * args.seeds]
    print("| table | teacher | labels only | "
          + " | ".join(f"{a} (gap closed, fit s)" for a in ARMS) + " |")
    print("|" + "---|" * (3 + len(ARMS)))
    for table in args.tables:
        cells = cells_by_table[table]

        def mean(key, cells=cells):
            return float(np.mean([c[key] for c in cells]))

        gap = mean("teacher") - mean("labels only")
        row = [table, f"{mean('teacher'):.3f}", f"{mean('labels only'):.3f}"]
        for arm in ARMS:
            closed = (mean(arm) - mean("labels only")) / gap if gap else np.nan
            row.append(f"{mean(arm):.3f} ({closed:+.2f}, {mean(arm + ' fit s'):.1f}"
                       f" s, non-target {mean(arm + ' non-target'):.2f})")
        print("| " + " | ".join(row) + " |", flush=True)
    print(f"\nmeans over {args.seeds} seeds; {args.n_estimators}-tree "
          f"{args.teacher}; T={args.temperature}, alpha={args.alpha}, "
          f"{args.epochs} epochs, architecture={args.architecture}, "
          f"augment={args.augment}, {args.n_train} training rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
