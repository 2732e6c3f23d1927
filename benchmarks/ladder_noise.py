"""How much of a ladder rung's held-out loss is training noise?

``architecture="auto"`` takes the cheapest rung whose held-out log-loss
exceeds the best rung's by less than ``Z`` standard errors of their paired
per-row difference (:mod:`sklearn_kd._ladder`). That standard error counts
the noise of *which rows were held out*; it does not count the noise of
*training*: the same rung, trained again from another initialisation and
batch order on the same rows, scores a different loss.

For each table this fits the default student (``DistilledClassifier`` at
the package defaults, a default HistGradientBoosting teacher on up to
2,000 training rows, as the deployment benchmark; with ``--regression``,
``DistilledRegressor`` on the regression tables) with ``--seeds``
different ``random_state`` values while the ladder's held-out rows stay the
same (its split is pinned to one seed), and prints for each rung the mean
and the standard deviation across seeds of its held-out loss (log-loss, or
squared error of the standardised targets), the rule's mean allowance, the
standard deviation as a share of the mean loss, and how often the rung was
chosen.

The rule does not count this noise: counted at 1 % of each rung's loss, it
sent the default student to cheaper rungs that, trained with a transfer
set on 5,000 rows, lost 1.1 to 2.2 points on two of six tables (the
compression guide's rule section has the numbers).

Run with ``python -m benchmarks.ladder_noise [--regression] [--tables T
...] [--seeds N] [--jobs J]``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from unittest import mock

import numpy as np

#: Tables of the deployment benchmark: binary and multiclass, one wide.
TABLES = ("car-college", "computers-cd", "hdma-deny", "cracker-choice",
          "wages-union", "kakadu-vparks")
#: Tables of the regression benchmark.
REGRESSION_TABLES = ("star-math", "cigar-sales", "wages-lwage", "males-wage")


def _regression_split(table, seed, n_train=2000):
    from sklearn.model_selection import train_test_split

    from .compression_data import load_regression_table

    X, y, _ = load_regression_table(table)
    return train_test_split(X, y, train_size=min(n_train, len(y) * 2 // 3),
                            random_state=seed)[::2]


def measure(table, seeds=5, split_seed=0, regression=False, n_train=2000,
            student=None):
    """``{rung: dict(mean, sd, allowance, chosen)}`` for one table
    (``student``: parameters over the package defaults, for a quick run)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.frozen import FrozenEstimator

    import sklearn_kd._ladder as ladder
    from sklearn_kd import DistilledClassifier, DistilledRegressor

    from .deployment import PROFILES, _hgb, _split

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if regression:
        X_tr, y_tr = _regression_split(table, split_seed, n_train)
        teacher = HistGradientBoostingRegressor(random_state=split_seed)
        estimator, key = DistilledRegressor, "squared_error"
    else:
        X_tr, _, y_tr, _ = _split(table, split_seed,
                                  {**PROFILES["binary-extra"], "n_train": n_train})
        teacher = _hgb(split_seed)
        estimator, key = DistilledClassifier, "log_loss"
    teacher.fit(X_tr, y_tr)
    split = ladder.holdout_split

    def pinned(target, seed, task="classification"):
        return split(target, split_seed, task)

    runs = {}
    with mock.patch.object(ladder, "holdout_split", pinned):
        for seed in range(seeds):
            fitted = estimator(FrozenEstimator(teacher), random_state=seed,
                               **(student or {})).fit(X_tr, y_tr)
            for name, score in fitted.architecture_scores_.items():
                if name != "rule" and key in score:
                    runs.setdefault(name, []).append(score)
    out = {}
    for name, scores in runs.items():
        loss = np.array([s[key] for s in scores])
        out[name] = dict(
            mean=float(loss.mean()),
            sd=float(loss.std(ddof=1)) if len(loss) > 1 else float("nan"),
            allowance=float(np.mean([s["allowance"] for s in scores])),
            chosen=int(sum(s["chosen"] for s in scores)),
        )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regression", action="store_true")
    parser.add_argument("--tables", nargs="+", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    from joblib import Parallel, delayed

    tables = args.tables or list(REGRESSION_TABLES if args.regression
                                 else TABLES)
    results = Parallel(n_jobs=args.jobs)(
        delayed(measure)(table, args.seeds, regression=args.regression)
        for table in tables)
    print("| table | rung | held-out loss | training SD | SD / loss "
          "| allowance | chosen |")
    print("|---|---|---|---|---|---|---|")
    shares = []
    for table, rungs in zip(tables, results):
        for name, r in rungs.items():
            share = r["sd"] / r["mean"]
            shares.append(share)
            print(f"| {table} | {name} | {r['mean']:.4f} | {r['sd']:.4f} "
                  f"| {100 * share:.1f} % | {r['allowance']:.4f} "
                  f"| {r['chosen']}/{args.seeds} |")
    print(f"\nTraining SD as a share of the loss: median "
          f"{100 * np.median(shares):.1f} %, range {100 * min(shares):.1f} to "
          f"{100 * max(shares):.1f} % over {len(shares)} rungs.")


if __name__ == "__main__":
    main()
