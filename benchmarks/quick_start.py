"""The README's quick start: does the default student match the perceptron?

``architecture="auto"`` chooses the student from a ladder on held-out
training rows. On the README's own example (digits, a 300-tree random
forest teacher, ``temperature=2.0``, ``alpha=0.7``, ``teacher_cv=5``) this
prints, for a few seeds (each a new split, forest and student), the test
accuracy of the default student and of ``architecture="mlp"``, the student
``auto`` chose, each fit's time and the forest's accuracy; and the largest
shortfall of the default against the perceptron.

Run with ``python -m benchmarks.quick_start [--seeds N]`` (one thread per
fit; compare times measured in the same run only).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings


def run(seeds=3):
    """Print one line per seed; return the rows as dicts."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from sklearn_kd import DistilledClassifier

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, random_state=seed
        )
        row = dict(seed=seed)
        for architecture in ("auto", "mlp"):
            start = time.perf_counter()
            student = DistilledClassifier(
                RandomForestClassifier(n_estimators=300, random_state=seed),
                temperature=2.0, alpha=0.7, teacher_cv=5, random_state=seed,
                architecture=architecture,
            ).fit(X_train, y_train)
            row[architecture] = dict(
                accuracy=float(student.score(X_test, y_test)),
                chosen=str(student.architecture_),
                fit_s=time.perf_counter() - start,
            )
        row["teacher"] = float(student.teacher_.score(X_test, y_test))
        rows.append(row)
        print(
            f"seed {seed}: auto {row['auto']['accuracy']:.4f} "
            f"({row['auto']['chosen']}, {row['auto']['fit_s']:.1f} s), "
            f"mlp {row['mlp']['accuracy']:.4f} ({row['mlp']['fit_s']:.1f} s), "
            f"teacher {row['teacher']:.4f}",
            flush=True,
        )
    worst = max(r["mlp"]["accuracy"] - r["auto"]["accuracy"] for r in rows)
    print(f"largest shortfall of auto against mlp: {100 * worst:.2f} pp")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    run(args.seeds)


if __name__ == "__main__":
    main()
