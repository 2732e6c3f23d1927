"""Thread settings of a fit, on an idle and on a loaded machine.

For each student (the perceptron ``architecture="mlp"`` and the encoding on
the teacher's thresholds ``architecture="ple-teacher"``) and each thread
setting (``n_threads=None``, ``n_threads=1``, ``n_threads=2`` and
``n_threads=None`` inside ``threadpoolctl.threadpool_limits(1)``), a fresh
process fits the student on digits (1,347 training rows) from a frozen
random forest, several times, and reports the median fit time. Each setting
runs twice: alone, and while as many competing CPU-bound processes as there
are cores spin beside it (a loaded machine). Ratios are against
``n_threads=1`` on the same student and load, measured in the same run.

Run with ``python -m benchmarks.threads`` (``--repeats``, ``--epochs``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

SETTINGS = ("None", "1", "2", "limits(1)")
STUDENTS = ("mlp", "ple-teacher")


def _spin(stop):
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def worker(student, setting, repeats, epochs):
    """Median fit time (seconds) of ``repeats`` fits in this process."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from sklearn_kd import DistilledClassifier

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, random_state=0, stratify=y)
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    teacher = FrozenEstimator(forest.fit(X_train, y_train))
    n_threads = None if setting in ("None", "limits(1)") else int(setting)
    times = []
    for seed in range(repeats + 1):  # the first fit warms up
        clf = DistilledClassifier(
            teacher, temperature=2.0, alpha=0.7, architecture=student,
            max_epochs=epochs, n_iter_no_change=None, random_state=seed,
            n_threads=n_threads,
        )
        start = time.perf_counter()
        if setting == "limits(1)":
            with threadpool_limits(1):
                clf.fit(X_train, y_train)
        else:
            clf.fit(X_train, y_train)
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def measure(student, setting, repeats, epochs, loaded):
    """Run :func:`worker` in a fresh process, with competitors if ``loaded``."""
    stop = multiprocessing.Event()
    competitors = []
    if loaded:
        competitors = [
            multiprocessing.Process(target=_spin, args=(stop,))
            for _ in range(os.cpu_count() or 1)
        ]
        for process in competitors:
            process.start()
    try:
        code = (
            "import json, sys; from benchmarks.threads import worker; "
            f"print(json.dumps(worker({student!r}, {setting!r}, {repeats}, "
            f"{epochs})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        stop.set()
        for process in competitors:
            process.join()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", default=None, help="write the JSON here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    results = {}
    for loaded in (False, True):
        for student in STUDENTS:
            for setting in SETTINGS:
                key = (student, setting, "loaded" if loaded else "idle")
                results[key] = measure(
                    student, setting, args.repeats, args.epochs, loaded
                )
                print(f"{key}: {results[key]:.3f} s", flush=True)
    print(
        f"\n{os.cpu_count()} cores, load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; median of {args.repeats} fits, "
        f"{args.epochs} epochs, digits (1,347 rows)\n"
    )
    header = (
        "| student | setting | idle (s) | x n_threads=1 "
        "| loaded (s) | x n_threads=1 |"
    )
    print(header)
    print("|" + "---|" * 6)
    for student in STUDENTS:
        for setting in SETTINGS:
            cells = []
            for load in ("idle", "loaded"):
                t = results[(student, setting, load)]
                base = results[(student, "1", load)]
                cells += [f"{t:.3f}", f"{t / base:.2f}x"]
            print(f"| {student} | {setting} | " + " | ".join(cells) + " |")
    if args.output:
        with open(args.output, "w") as fh:
            json.dump({" / ".join(k): v for k, v in results.items()}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
