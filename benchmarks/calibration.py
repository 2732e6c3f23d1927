"""Calibration error of ``bayes_accuracy``: ``python -m benchmarks.calibration``.

For each requested Bayes accuracy and class similarity of the benchmark's
data (20 classes in 4 super-classes, 30 features, half the rows hard with
four times the easy rows' noise), draws fresh rows with seeds the solver
never uses and prints the accuracy of the posterior given x alone, its error
against the request and the standard error over the draws.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def calibration_table(targets=(0.80, 0.95), rhos=(0.0, 0.5, 0.9), *, n_samples=20_000,
                      seeds=range(100, 105)):
    from sklearn_kd.datasets import make_hierarchical_classification

    rows = []
    for target in targets:
        for rho in rhos:
            hits, top = [], []
            for seed in seeds:
                _, y, info = make_hierarchical_classification(
                    n_samples, 30, n_superclasses=4, n_subclasses=5,
                    class_similarity=rho, bayes_accuracy=target, hard_fraction=0.5,
                    easy_noise=1.0, hard_noise=4.0, random_state=seed,
                    return_oracle=True)
                hits.append(np.mean(info.bayes_proba.argmax(1) == y))
                top.append(info.bayes_proba.max(1).mean())
            hits = np.array(hits)
            rows.append(dict(target=target, rho=rho, accuracy=hits.mean(),
                             error=hits.mean() - target,
                             se=hits.std(ddof=1) / np.sqrt(len(hits)),
                             expected_max_proba_error=float(np.mean(top)) - target,
                             class_sep=info.class_sep))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibration",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    rows = calibration_table(n_samples=args.n_samples,
                             seeds=range(100, 100 + args.seeds))
    print("| requested | rho | measured accuracy | error | s.e. | "
          "E[max p] - requested | class_sep |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['target']:.2f} | {r['rho']:.1f} | {r['accuracy']:.4f} | "
              f"{r['error']:+.4f} | {r['se']:.4f} | "
              f"{r['expected_max_proba_error']:+.4f} | {r['class_sep']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
