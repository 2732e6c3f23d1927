"""Regression part of the compression benchmark: how much of a gradient
boosting regressor's R-squared a fast student keeps, on real tables.

For each table of :data:`~benchmarks.compression_data.REGRESSION_TABLES`
(at most ``max_rows`` rows of it) and seed (a new 75/25 train/test split,
teacher and student initialisation), with a default
``HistGradientBoostingRegressor`` teacher fitted on the training rows
(``OMP_NUM_THREADS=1``), the models are

- ``teacher``: the teacher itself;
- ``labels only``: ``DistilledRegressor`` trained on the targets alone
  (``alpha=0``; the frozen teacher only places the bins of the encoded
  student);
- ``KD``: the same student distilled from the frozen teacher (default
  ``alpha``);
- ``KD + transfer``: the same with a MUNGE transfer set
  (``augment="munge"``).

Every student is the package default (``architecture="auto"``): each picks
its own architecture from held-out training rows, so that the three may
differ; the report lists the choices by seed.

Each student's *gap closed* is ``mean(R2_arm - R2_labels) / mean(R2_teacher
- R2_labels)`` over the paired seeds, with a 95 % percentile bootstrap
interval over seeds (as in :mod:`benchmarks.compression`); its gain over the
labels-only student, ``R2_arm - R2_labels``, comes with a 95 % t interval
over seeds (:func:`benchmarks.stats.paired_tests`). *Fidelity* is the R2 of
the student's predictions taken against the teacher's on the test rows.
Latency is the median time of ``predict`` per call on 1 row and on 1,000
rows (test rows repeated when the test set is smaller), one thread, every
model taking its turn in each repeat (the helper of
:mod:`benchmarks.deployment`); compare ratios. Sizes: the student's
:func:`sklearn_kd.persistence.save` archive, which holds no teacher, and the
teacher's pickle. A model is on the Pareto front of a table at a batch size
when no other model has at least its mean R2 and at most its latency, and
is strictly better in one.

Run with ``python -m benchmarks --only compression`` (into
``OUTPUT/compression/regression.md``, ``regression.json`` and
``regression.png``), or this part alone with ``python -m
benchmarks.regression --profile quick --output DIR``. Results are cached per
(table, seed) under ``OUTPUT/compression/cache/regression``: an interrupted
run resumes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import time
import warnings
from pathlib import Path

import numpy as np

from .cache import cached_json
from .compression import _bootstrap_ratio
from .compression_data import REGRESSION_TABLES, load_regression_table
from .deployment import BATCHES, _latencies, pareto_front
from .stats import paired_tests

#: Run sizes by profile. ``student`` overrides package defaults for every
#: student, ``transfer`` for the one with a transfer set, only where a
#: profile must be cheap.
PROFILES = {
    "smoke": dict(tables=["star-math"], seeds=2, max_rows=400,
                  student=dict(max_epochs=3), transfer=dict(max_epochs=2,
                                                            augment_size=2),
                  repeats=2, one_row_calls=5),
    "quick": dict(tables=["star-math", "cigar-sales", "sumhes-gdp",
                          "vietnam-lnhhexp", "wages-lwage", "crime-crmrte",
                          "males-wage"],
                  seeds=5, max_rows=5000, student=dict(max_epochs=50),
                  transfer=dict(max_epochs=20, augment_size=4), repeats=9,
                  one_row_calls=100),
    # the package defaults (100 epochs, 10 MUNGE rows per training row)
    "target": dict(tables=list(REGRESSION_TABLES), seeds=5, max_rows=5000,
                   student={}, transfer={}, repeats=9, one_row_calls=100),
}

#: The students, in report order, and their parameters beyond the defaults.
ARMS = {"labels only": dict(alpha=0.0), "KD": {},
        "KD + transfer": dict(augment="munge")}
MODELS = ("teacher", *ARMS)

#: Smallest R2 difference of interest for :func:`~benchmarks.stats.paired_tests`.
DELTA_R2 = 0.005


def _split(table, seed, P):
    from sklearn.model_selection import train_test_split

    X, y, _ = load_regression_table(table, max_rows=P["max_rows"])
    return train_test_split(X, y, test_size=0.25, random_state=seed)


def _batch_rows(X, n):
    """``n`` rows: those of ``X``, repeated when it has fewer."""
    return X[np.arange(n) % len(X)]


def run_task(task, P):
    """One (table, seed) cell: the teacher, the three students, then their
    latencies, measured together and interleaved."""
    import torch
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    from sklearn_kd import DistilledRegressor
    from sklearn_kd.persistence import save

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    table, seed = task
    X_tr, X_te, y_tr, y_te = _split(table, seed, P)
    models, out = {}, {}

    def add(name, model, fit_s, size_bytes):
        pred = model.predict(X_te)
        models[name] = model
        out[name] = dict(
            r2=float(r2_score(y_te, pred)),
            rmse=float(np.sqrt(mean_squared_error(y_te, pred))),
            mae=float(mean_absolute_error(y_te, pred)),
            fidelity=float(r2_score(teacher_pred, pred)),
            size_bytes=int(size_bytes), fit_s=fit_s)

    t0 = time.perf_counter()
    teacher = HistGradientBoostingRegressor(random_state=seed).fit(X_tr, y_tr)
    fit_s = time.perf_counter() - t0
    teacher_pred = teacher.predict(X_te)
    add("teacher", teacher, fit_s,
        len(pickle.dumps(teacher, protocol=pickle.HIGHEST_PROTOCOL)))
    for arm, params in ARMS.items():
        params = {**P["student"], **params}
        if "augment" in params:
            params.update(P["transfer"])
        t0 = time.perf_counter()
        student = DistilledRegressor(FrozenEstimator(teacher), random_state=seed,
                                     **params).fit(X_tr, y_tr)
        fit_s = time.perf_counter() - t0
        add(arm, student, fit_s, len(save(student, io.BytesIO()).getvalue()))
        out[arm].update(architecture=str(student.architecture_),
                        epochs=int(student.n_iter_))
    latency = _latencies(models, _batch_rows(X_te, max(BATCHES)), P["repeats"],
                         P["one_row_calls"], method="predict")
    for (name, batch), seconds in latency.items():
        out[name][f"latency_{batch}_s"] = seconds
    out["_rows"] = dict(train=len(y_tr), test=len(y_te))
    return out


def _key(task, P):
    table, seed = task
    epochs = P["student"].get("max_epochs", "default")
    return f"{table}__{seed}__{P['max_rows']}_{epochs}_v2"


def _cached(task, P, cache):
    return cached_json(cache / (_key(task, P) + ".json"), run_task, task, P)


def analyse(results, P):
    """Per table: each model's mean scores, median latencies and size, the
    students' gap closed and gain over the labels-only student, the
    speed-ups and the Pareto front at each batch size."""
    rng = np.random.RandomState(0)
    tables = []
    for table in P["tables"]:
        cells = [results[(table, s)] for s in range(P["seeds"])]
        r2 = {name: np.array([c[name]["r2"] for c in cells]) for name in MODELS}
        models = {}
        for name in MODELS:
            models[name] = dict(
                r2=float(r2[name].mean()), r2s=r2[name].tolist(),
                **{key: float(np.mean([c[name][key] for c in cells]))
                   for key in ("rmse", "mae", "fidelity")},
                fit_s=float(np.sum([c[name]["fit_s"] for c in cells])),
                size_kb=float(np.median([c[name]["size_bytes"] for c in cells])
                              / 1024),
                **{f"latency_{b}_ms": 1e3 * float(np.median(
                    [c[name][f"latency_{b}_s"] for c in cells])) for b in BATCHES})
        gap = r2["teacher"] - r2["labels only"]
        row = dict(table=table, rows=cells[0]["_rows"], models=models,
                   architectures={arm: [c[arm]["architecture"] for c in cells]
                                  for arm in ARMS},
                   gap=float(gap.mean()))
        for arm in ("KD", "KD + transfer"):
            gain = r2[arm] - r2["labels only"]
            test = paired_tests(gain, delta=DELTA_R2)
            models[arm].update(
                gap_closed=(float(gain.mean() / gap.mean()) if gap.mean() > 0
                            else float("nan")),
                gap_closed_ci=list(_bootstrap_ratio(gain, gap, rng)),
                gain=test["mean"], gain_ci=[test["low"], test["high"]])
        for b in BATCHES:
            key = f"latency_{b}_ms"
            for arm in ARMS:
                models[arm][f"speedup_{b}"] = (models["teacher"][key]
                                               / models[arm][key])
            row[f"front_{b}"] = pareto_front(
                {n: (m[key], m["r2"]) for n, m in models.items()})
        tables.append(row)
    return tables


def _interval(value, ci, fmt="{:.2f}"):
    if not np.isfinite(value):
        return "-"
    low, high = ci
    if not (np.isfinite(low) and np.isfinite(high)):
        return fmt.format(value)
    return f"{fmt.format(value)} [{fmt.format(low)}, {fmt.format(high)}]"


def _fit_seconds(tables):
    return sum(m["fit_s"] for row in tables for m in row["models"].values())


def report(tables, P):
    overrides = ", ".join(f"{k}={v}" for k, v in {**P["student"]}.items())
    transfer = ", ".join(f"{k}={v}" for k, v in P["transfer"].items())
    lines = [
        "# Compression, regression: the student against its gradient-boosting "
        "teacher",
        "",
        f"Default HistGradientBoostingRegressor teacher; {P['seeds']} paired "
        f"seeds (a new 75/25 split of at most {P['max_rows']} rows each). The "
        "students are `DistilledRegressor` at the package defaults"
        + (f" but {overrides}" if overrides else "")
        + ": `labels only` with `alpha=0` (the frozen teacher only places the "
        "bins of the encoded student), `KD` distilled from the frozen teacher, "
        "`KD + transfer` with `augment=\"munge\"`"
        + (f" ({transfer})" if transfer else "")
        + ". Gap closed = mean(R2_arm - R2_labels) / mean(R2_teacher - "
        "R2_labels), 95 % bootstrap interval over seeds; gain = R2_arm - "
        "R2_labels, 95 % t interval over seeds. Speed-up = teacher / student "
        "median `predict` latency, 1 thread, models interleaved (a shared "
        "machine: compare ratios). Sizes: the student's "
        "`sklearn_kd.persistence.save` archive (no teacher), the teacher's "
        f"pickle. Fitting took {_fit_seconds(tables):.0f} s in all, one "
        "thread per cell.",
        "",
        "| table | rows train/test | teacher R2 | labels-only R2 | KD R2 "
        "| KD + transfer R2 | gap | KD gap closed [95 % CI] "
        "| KD + transfer gap closed [95 % CI] | speed-up 1 row "
        "| speed-up 1,000 rows | student KB | teacher KB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in tables:
        m = row["models"]
        kd, tr = m["KD"], m["KD + transfer"]
        lines.append(
            f"| {row['table']} | {row['rows']['train']}/{row['rows']['test']} "
            f"| {m['teacher']['r2']:.4f} | {m['labels only']['r2']:.4f} "
            f"| {kd['r2']:.4f} | {tr['r2']:.4f} | {row['gap']:.4f} "
            f"| {_interval(kd['gap_closed'], kd['gap_closed_ci'])} "
            f"| {_interval(tr['gap_closed'], tr['gap_closed_ci'])} "
            f"| {tr['speedup_1']:.1f}x | {tr['speedup_1000']:.1f}x "
            f"| {tr['size_kb']:.0f} | {m['teacher']['size_kb']:.0f} |")
    lines += [
        "",
        "Speed-ups and the student's size are those of `KD + transfer`. Each "
        "student chooses its architecture (`architecture=\"auto\"`, on held-out "
        "training rows), so the three may differ: the choices by seed and "
        "every student's latency and size are below.",
        "",
    ]
    for arm in ("KD", "KD + transfer"):
        closed = [r["models"][arm]["gap_closed"] for r in tables
                  if np.isfinite(r["models"][arm]["gap_closed"])]
        lines.append(
            f"- {arm}: median gap closed "
            f"{np.median(closed) if closed else float('nan'):.2f} over the "
            f"{len(closed)} of {len(tables)} tables where the teacher leads.")
    speedups = [[r["models"]["KD + transfer"][f"speedup_{b}"] for r in tables]
                for b in BATCHES]
    lines.append(f"- Median speed-up of `KD + transfer`: {np.median(speedups[0]):.1f}x"
                 f" on 1 row, {np.median(speedups[1]):.1f}x on 1,000 rows.")
    lines.append("")
    for row in tables:
        description = REGRESSION_TABLES[row["table"]][3]
        lines += [
            f"## {row['table']} ({description})",
            "",
            "Architecture chosen, by seed: " + "; ".join(
                f"{arm}: {', '.join(chosen)}"
                for arm, chosen in row["architectures"].items()) + ".",
            "",
            "| model | R2 | RMSE | MAE | fidelity R2 | gain over labels only "
            "[95 % CI] | 1 row, ms | 1,000 rows, ms | size KB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, m in row["models"].items():
            gain = (_interval(m["gain"], m["gain_ci"], "{:+.4f}") if "gain" in m
                    else "")
            lines.append(
                f"| {name} | {m['r2']:.4f} | {m['rmse']:.4f} | {m['mae']:.4f} "
                f"| {m['fidelity']:.3f} | {gain} | {m['latency_1_ms']:.3f} "
                f"| {m['latency_1000_ms']:.2f} | {m['size_kb']:.0f} |")
        lines.append("")
        lines += [f"- {b:,} row{'s' if b > 1 else ''}: Pareto front "
                  f"{', '.join(row[f'front_{b}'])}." for b in BATCHES]
        lines.append("")
    return "\n".join(lines)


def figure(tables, path):
    """R2 against latency (log) for every model: one row of panels per
    table, one column per batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    styles = {"teacher": ("*", "tab:blue"), "labels only": ("x", "grey"),
              "KD": ("s", "tab:orange"), "KD + transfer": ("o", "tab:red")}
    fig, axes = plt.subplots(len(tables), 2, figsize=(10, 2.9 * len(tables) + 1.0),
                             squeeze=False)
    for (ax_1, ax_k), row in zip(axes, tables):
        for ax, b in ((ax_1, 1), (ax_k, 1000)):
            front = row[f"front_{b}"]
            for name, m in row["models"].items():
                marker, colour = styles[name]
                ax.scatter(m[f"latency_{b}_ms"], m["r2"], marker=marker,
                           color=colour, s=110 if name in front else 45,
                           edgecolors=("black" if name in front and marker != "x"
                                       else "face" if marker != "x" else None),
                           linewidths=0.8)
            ax.set_xscale("log")
            # ticks at 1, 2 and 5 times each power of ten, written plainly
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"{row['table']}: {b:,} row{'s' if b > 1 else ''}",
                         fontsize=9)
            ax.set_xlabel("predict latency, ms (1 thread, log)", fontsize=8)
            ax.set_ylabel("test R2", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    proxies = [Line2D([], [], linestyle="", marker=marker, color=colour,
                      markersize=7) for marker, colour in styles.values()]
    fig.legend(proxies, list(styles), loc="lower center", ncol=4, fontsize=8,
               frameon=False, title="mean R2 over seeds, median latency; "
               "large: on the Pareto front", title_fontsize=8)
    fig.tight_layout(rect=(0, 0.9 / (2.9 * len(tables) + 1.0), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(output="benchmark-results", profile="quick", seeds=None, jobs=1,
        progress=True, out_dir=None):
    """Run into ``output/compression`` (``regression.md``,
    ``regression.json``, ``regression.png``); returns the table rows."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from joblib import Parallel, delayed

    P = dict(PROFILES.get(profile, PROFILES["quick"]))
    if seeds is not None:
        P["seeds"] = seeds
    out = Path(out_dir) if out_dir is not None else Path(output) / "compression"
    cache = out / "cache" / "regression"
    cache.mkdir(parents=True, exist_ok=True)
    tasks = [(t, s) for s in range(P["seeds"]) for t in P["tables"]]
    started = time.perf_counter()
    done = Parallel(n_jobs=jobs, verbose=10 if progress else 0)(
        delayed(_cached)(task, P, cache) for task in tasks)
    results = dict(zip(tasks, done))
    tables = analyse(results, P)
    wall = time.perf_counter() - started
    (out / "regression.md").write_text(report(tables, P))
    (out / "regression.json").write_text(json.dumps(
        dict(profile=P, tables=tables, wall_seconds=wall), indent=1,
        default=float))
    figure(tables, out / "regression.png")
    return tables


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmark-results")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    name = "compression-target" if args.profile == "target" else "compression"
    out = Path(args.output) / name
    run(args.output, args.profile, args.seeds, args.jobs, out_dir=out)
    print((out / "regression.md").read_text())


if __name__ == "__main__":
    main()
