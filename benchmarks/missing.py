"""Missing values: does the student keep a NaN-aware teacher's accuracy?

Two tables whose values are missing not at random, so that the
missingness itself tells about the class:

- ``synthetic``: ``make_classification`` (8 features, 3 classes) where
  feature ``j`` is hidden with probability 0.6 in class ``j mod 3`` and
  0.05 elsewhere, on top of its values;
- ``diamonds-cut`` (the real table of the compression benchmark, rows with
  missing values dropped there): the carat, depth and table columns are
  hidden with probability 0.7 where they lie above their 70th percentile
  (values too large to be recorded), 0.05 elsewhere.

For each table and seed (a new stratified train/test split, teacher and
student initialisation) the teacher is a ``HistGradientBoostingClassifier``
with its defaults, which handles NaN natively; the student is a
``DistilledClassifier`` of that teacher (frozen) with the package defaults
plus ``augment="munge"``, fitted on the same rows with their NaN. The
table reports the test accuracy of both, the student's ratio to the teacher
(mean over seeds with a 95 % t-interval), and, for contrast, the accuracy
of a student without missing indicators: the rows mean-imputed in front of
it, the teacher's probabilities of the original rows passed as
``teacher_proba`` (so without the transfer set, which needs the teacher).

Run with ``python -m benchmarks.missing`` (``--seeds``, ``--n-train``;
``--quick`` for a one-seed check in seconds). Set ``OMP_NUM_THREADS`` to
pin the teacher's threads.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

TABLES = ("synthetic", "diamonds-cut")


def synthetic(n, random_state):
    """Three classes; missingness is informative of the class."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n, n_features=8, n_informative=4, n_redundant=2,
        n_classes=3, class_sep=0.6, random_state=random_state,
    )
    rng = np.random.RandomState(random_state)
    for j in range(X.shape[1]):
        p = np.where(y == j % 3, 0.6, 0.05)
        X[rng.rand(n) < p, j] = np.nan
    return X, y


def diamonds(n, random_state):
    """The diamonds table with its large values censored (missing)."""
    from .compression_data import load_table

    X, y, _ = load_table("diamonds-cut", max_rows=n, random_state=random_state)
    rng = np.random.RandomState(random_state)
    for j in (0, 4, 5):  # carat, depth, table
        high = X[:, j] > np.quantile(X[:, j], 0.7)
        X[rng.rand(len(X)) < np.where(high, 0.7, 0.05), j] = np.nan
    return X, y


def run_one(table, seed, n_train, n_test, quick=False):
    """Accuracies of the teacher, the student and the student without
    missing indicators on one split."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from sklearn_kd import DistilledClassifier

    make = synthetic if table == "synthetic" else diamonds
    X, y = make(n_train + n_test, seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=n_train, stratify=y, random_state=seed
    )
    teacher = HistGradientBoostingClassifier(random_state=seed).fit(X_train, y_train)
    params = dict(augment="munge", random_state=seed)
    if quick:
        params.update(max_epochs=5, augment_size=2)
    start = time.perf_counter()
    student = DistilledClassifier(FrozenEstimator(teacher), **params)
    student.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    # the same student on mean-imputed rows, without missing indicators,
    # learning the teacher's probabilities of the original rows (passed as
    # teacher_proba, so without a transfer set, which needs the teacher)
    params.pop("augment")
    params.pop("augment_size", None)
    imputed = make_pipeline(SimpleImputer(), DistilledClassifier(**params))
    imputed.fit(
        X_train, y_train,
        distilledclassifier__teacher_proba=teacher.predict_proba(X_train),
    )
    return dict(
        teacher=teacher.score(X_test, y_test),
        student=student.score(X_test, y_test),
        no_indicators=imputed.score(X_test, y_test),
        missing=float(np.isnan(X_train).mean()),
        fit_seconds=seconds,
    )


def interval(values, confidence=0.95):
    """Mean and the half-width of its Student t-interval."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * stats.sem(values)
    return float(values.mean()), float(half)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.missing", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--quick", action="store_true",
                        help="one seed, 300 rows, 5 epochs: a check, not a measure")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # e.g. the overconfident teacher notice
    if args.quick:
        args.seeds, args.n_train, args.n_test = 1, 300, 300
    print("table         seed  missing  teacher  student  ratio   no-indicators")
    summary = {}
    for table in args.tables:
        rows = []
        for seed in range(args.seeds):
            r = run_one(table, seed, args.n_train, args.n_test, quick=args.quick)
            rows.append(r)
            print(f"{table:13s} {seed:4d}  {r['missing']:7.3f}  {r['teacher']:.4f}"
                  f"   {r['student']:.4f}   {r['student'] / r['teacher']:.4f}"
                  f"  {r['no_indicators']:.4f}   ({r['fit_seconds']:.0f} s)",
                  flush=True)
        summary[table] = rows
    print("\nMeans over seeds with 95 % t-intervals:")
    for table, rows in summary.items():
        ratio = interval([r["student"] / r["teacher"] for r in rows])
        teacher = interval([r["teacher"] for r in rows])
        student = interval([r["student"] for r in rows])
        plain = interval([r["no_indicators"] for r in rows])
        print(f"  {table}: teacher {teacher[0]:.4f} ± {teacher[1]:.4f}, "
              f"student {student[0]:.4f} ± {student[1]:.4f}, "
              f"ratio {ratio[0]:.4f} ± {ratio[1]:.4f}, "
              f"without indicators {plain[0]:.4f} ± {plain[1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
