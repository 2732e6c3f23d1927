"""Compression benchmark: how much of a tree ensemble's accuracy a fast
student keeps, on real tables.

For each table, seed (a new stratified train/test split, teacher and
student initialisation) and teacher (HistGradientBoosting, a 300-tree
RandomForest; fitted with ``OMP_NUM_THREADS=1``), the arms are

- ``labels only``: the multi-layer perceptron student
  (``architecture="mlp"``) on the hard labels (``alpha=0``);
- ``KD``: the same student distilled from the teacher;
- ``KD + transfer``: the same with a MUNGE transfer set (``augment="munge"``);
- ``KD + transfer, regenerated``: a fresh transfer set every epoch
  (HistGradientBoosting teacher, first two tables);
- ``strong, labels only``: the default widths with a piecewise-linear
  encoding on the teacher's split thresholds (``architecture="ple-teacher"``),
  trained on the hard labels (``alpha=0``; the teacher only places the bins);
- ``strong``: the same student, distilled;
- ``strong + transfer``: the same with the transfer set;
- ``auto``: the package's default student (``architecture="auto"``, chosen
  from its ladder on held-out training rows), distilled.

Each arm's *gap closed* is ``(acc_arm - acc_labels) / (acc_teacher -
acc_labels)`` with means over the paired seeds, and a 95 % percentile
bootstrap interval over seeds, where ``acc_labels`` is the labels-only
student of the arm's own architecture; the strong arms are also reported
against the labels-only perceptron. Latency is the median ``predict_proba`` time
on 1,000 test rows on one thread; size is the pickled model (a student
without its teacher).

Run with ``python -m benchmarks --only compression`` or
``python -m benchmarks.compression --output DIR``. Results are cached per
task under ``DIR/cache``: an interrupted run resumes.

The same run then calls :mod:`benchmarks.deployment` (the student against
what a user could ship instead) and :mod:`benchmarks.regression` (a
``DistilledRegressor`` against its gradient-boosting teacher, on regression
tables), which write their own reports next to this one.

``--profile ladder`` runs only the perceptron, the encoded student (with
and without labels) and ``auto``, on two seeds of 1,000 rows: what the
default student chooses against the fixed ones.

``--profile target`` measures the target's own definition instead, into
``DIR/compression-target``: the package defaults plus ``augment="munge"``
against the labels-only student of the same (default) architecture, with a
HistGradientBoosting teacher, for the default student and the perceptron.
``--profile target-forest`` asks the same of a 300-tree RandomForest
teacher, into ``DIR/compression-target-forest``. The forest is handed to
each student unfitted, as a user would: the package fits it on the
training rows and, by default (``teacher_cv="auto"``), takes each training
row's out-of-bag probabilities.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from .cache import cached_json
from .compression_data import load_table

#: Run sizes by profile.
PROFILES = {
    "smoke": dict(tables=["cracker-choice"], seeds=1, n_train=300, n_test=200,
                  epochs=3, aug_epochs=2, augment_size=2, n_estimators=20,
                  latency_rows=200, repeats=2),
    "quick": dict(tables=["diamonds-cut", "doctorcontacts-health",
                          "cracker-choice", "males-occupation"],
                  seeds=5, n_train=1000, n_test=1000, epochs=25, aug_epochs=8,
                  augment_size=4, n_estimators=300, latency_rows=1000,
                  repeats=9),
    # the target's own definition: package defaults (100 epochs, 10 MUNGE
    # rows per training row) against the labels-only default student
    "target": dict(tables=["diamonds-cut", "doctorcontacts-health",
                           "hi-region", "budgetfood-town", "cracker-choice",
                           "males-occupation"],
                   seeds=3, n_train=5000, n_test=2000, n_estimators=300,
                   latency_rows=1000, repeats=9, target=True),
    # the same with a forest teacher, fitted by the package (out-of-bag
    # probabilities for the training rows)
    "target-forest": dict(tables=["diamonds-cut", "doctorcontacts-health",
                                  "hi-region", "budgetfood-town",
                                  "cracker-choice", "males-occupation"],
                          seeds=3, n_train=5000, n_test=2000,
                          n_estimators=300, latency_rows=1000, repeats=9,
                          target=True, teacher="RandomForest"),
    # the default student against the two it chooses between, briefly
    "ladder": dict(tables=["diamonds-cut", "doctorcontacts-health",
                           "cracker-choice", "males-occupation"],
                   seeds=2, n_train=1000, n_test=1000, epochs=25, aug_epochs=8,
                   augment_size=4, n_estimators=300, latency_rows=1000,
                   repeats=5, arms=("KD", "strong, labels only", "strong",
                                    "auto")),
}

TEACHERS = ("HistGradientBoosting", "RandomForest")
MLP = dict(architecture="mlp")
STRONG = dict(architecture="ple-teacher", n_bins=16)
#: The arms whose architecture is ``STRONG`` (the others use ``MLP``).
STRONG_ARMS = ("strong, labels only", "strong", "strong + transfer")


def _arms(P, teacher_name, table):
    base = dict(max_epochs=P["epochs"])
    aug = dict(augment="munge", augment_size=P["augment_size"],
               max_epochs=P["aug_epochs"])
    arms = {
        "KD": {**base, **MLP},
        "KD + transfer": {**aug, **MLP},
        "strong, labels only": {**base, **STRONG, "alpha": 0.0},
        "strong": {**base, **STRONG},
        "strong + transfer": {**aug, **STRONG},
        "auto": dict(base),
    }
    if teacher_name == "HistGradientBoosting" and table in P["tables"][:2]:
        arms["KD + transfer, regenerated"] = {**aug, **MLP,
                                              "augment_regenerate": True}
    if P.get("arms"):
        arms = {name: arm for name, arm in arms.items() if name in P["arms"]}
    return arms


def _teacher(name, seed, P):
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    if name == "HistGradientBoosting":
        return HistGradientBoostingClassifier(random_state=seed)
    return RandomForestClassifier(
        n_estimators=P["n_estimators"], random_state=seed, n_jobs=1
    )


def _split(table, seed, P):
    from sklearn.model_selection import train_test_split

    X, y, _ = load_table(table)
    n_test = min(P["n_test"], len(y) // 3)
    n_train = min(P["n_train"], len(y) - n_test)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, train_size=n_train, test_size=n_test, stratify=y, random_state=seed
    )
    return X_tr, X_te, y_tr, y_te


def _latencies(models, rows, repeats):
    """Median ``predict_proba`` seconds per model on one thread, the models
    taking turns in every repeat so that a burst of load on the (shared)
    machine hits them all alike and their ratios stay fair."""
    import torch
    from threadpoolctl import threadpool_limits

    times = {name: [] for name in models}
    with threadpool_limits(limits=1):
        torch.set_num_threads(1)
        for model in models.values():
            model.predict_proba(rows)  # warm-up
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model.predict_proba(rows)
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def run_task(task, P):
    """One (table, seed, teacher) cell: the teacher and its arms.

    ``teacher=None`` runs the labels-only student. Within a cell the
    latencies are measured together at the end, interleaved.
    """
    import torch
    from sklearn.frozen import FrozenEstimator

    from sklearn_kd import DistilledClassifier
    from sklearn_kd._compression import _serialized_size, count_parameters

    torch.set_num_threads(1)
    table, seed, teacher_name = task
    X_tr, X_te, y_tr, y_te = _split(table, seed, P)
    out, models = {}, {}

    def record(name, model, t0):
        models[name] = model
        out[name] = dict(accuracy=float(model.score(X_te, y_te)),
                         size_bytes=_serialized_size(model),
                         n_parameters=count_parameters(model),
                         fit_s=t0)

    if teacher_name is None:
        t0 = time.perf_counter()
        clf = DistilledClassifier(alpha=0.0, max_epochs=P["epochs"],
                                  random_state=seed, **MLP).fit(X_tr, y_tr)
        record("labels only", clf, time.perf_counter() - t0)
    else:
        t0 = time.perf_counter()
        teacher = _teacher(teacher_name, seed, P).fit(X_tr, y_tr)
        record("teacher", teacher, time.perf_counter() - t0)
        teacher_pred = teacher.predict(X_te)
        for arm, params in _arms(P, teacher_name, table).items():
            t0 = time.perf_counter()
            clf = DistilledClassifier(FrozenEstimator(teacher), random_state=seed,
                                      **params).fit(X_tr, y_tr)
            record(arm, clf, time.perf_counter() - t0)
            out[arm]["fidelity"] = float(np.mean(clf.predict(X_te) == teacher_pred))
            out[arm]["epochs"] = int(clf.n_iter_)
            out[arm]["architecture"] = str(clf.architecture_)
    latency = _latencies(models, X_te[: P["latency_rows"]], P["repeats"])
    for name, seconds in latency.items():
        out[name]["latency_s"] = seconds
    return out


def _key(task, P):
    table, seed, teacher = task
    arms = "_".join(P.get("arms", ())).replace(" ", "").replace(",", "")
    return (f"{table}__{seed}__{teacher or 'labels'}__{P['n_train']}_"
            f"{P['epochs']}_v3{arms}")


def _cached(task, P, cache):
    return cached_json(cache / (_key(task, P) + ".json"), run_task, task, P)


def _bootstrap_ratio(num, den, rng, n_boot=2000):
    """Percentile interval of mean(num) / mean(den) over resampled seeds."""
    n = len(num)
    if n < 2:
        return float("nan"), float("nan")
    idx = rng.randint(n, size=(n_boot, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = num[idx].mean(axis=1) / den[idx].mean(axis=1)
    ratios = ratios[np.isfinite(ratios)]
    return tuple(float(v) for v in np.percentile(ratios, [2.5, 97.5]))


def analyse(results, P):
    """Tables of gap closed, accuracy, fidelity, latency and size."""
    rng = np.random.RandomState(0)
    rows = []
    for table in P["tables"]:
        seeds = range(P["seeds"])
        labels = np.array([results[(table, s, None)]["labels only"]["accuracy"]
                           for s in seeds])
        lab_lat = np.median([results[(table, s, None)]["labels only"]["latency_s"]
                             for s in seeds])
        lab_size = np.median([results[(table, s, None)]["labels only"]["size_bytes"]
                              for s in seeds])
        rows.append(dict(table=table, teacher="-", arm="labels only",
                         accuracy=labels.mean(), gap_closed=0.0, ci=(0.0, 0.0),
                         fidelity=float("nan"), latency_ms=1e3 * lab_lat,
                         size_kb=lab_size / 1024, speedup=float("nan")))
        for teacher in TEACHERS:
            cells = [results[(table, s, teacher)] for s in seeds]
            t_acc = np.array([c["teacher"]["accuracy"] for c in cells])
            t_lat = np.median([c["teacher"]["latency_s"] for c in cells])
            gap = t_acc - labels
            strong_labels = np.array(
                [c["strong, labels only"]["accuracy"] for c in cells]
            ) if "strong, labels only" in cells[0] else None
            rows.append(dict(
                table=table, teacher=teacher, arm="teacher", accuracy=t_acc.mean(),
                gap_closed=1.0, ci=(1.0, 1.0), fidelity=1.0,
                latency_ms=1e3 * t_lat,
                size_kb=np.median([c["teacher"]["size_bytes"] for c in cells]) / 1024,
                speedup=1.0, gap_pp=100 * gap.mean(),
                strong_gap_pp=(float("nan") if strong_labels is None
                               else 100 * (t_acc - strong_labels).mean())))
            for arm in cells[0]:
                if arm == "teacher":
                    continue
                acc = np.array([c[arm]["accuracy"] for c in cells])
                lat = np.median([c[arm]["latency_s"] for c in cells])
                # against the labels-only student of the arm's architecture
                base = (strong_labels if arm in STRONG_ARMS[1:] else labels)
                gain, own_gap = acc - base, t_acc - base
                row = dict(
                    table=table, teacher=teacher, arm=arm, accuracy=acc.mean(),
                    gap_closed=gain.mean() / own_gap.mean(),
                    ci=_bootstrap_ratio(gain, own_gap, rng),
                    fidelity=np.mean([c[arm]["fidelity"] for c in cells]),
                    latency_ms=1e3 * lat,
                    size_kb=np.median([c[arm]["size_bytes"] for c in cells]) / 1024,
                    speedup=t_lat / lat,
                    fit_s=np.median([c[arm]["fit_s"] for c in cells]),
                )
                if "architecture" in cells[0][arm]:
                    row["chosen"] = [c[arm]["architecture"] for c in cells]
                if arm in STRONG_ARMS:  # also against the labels-only MLP
                    row["gap_closed_mlp"] = (acc - labels).mean() / gap.mean()
                    row["ci_mlp"] = _bootstrap_ratio(acc - labels, gap, rng)
                rows.append(row)
    return rows


def _median_table(rows, arms, key, fmt="{:.2f}"):
    lines = ["| teacher | " + " | ".join(arms) + " |",
             "|---|" + "---|" * len(arms)]
    for teacher in TEACHERS:
        cells = []
        for arm in arms:
            vals = [r[key] for r in rows
                    if r["teacher"] == teacher and r["arm"] == arm and key in r]
            cells.append(fmt.format(np.median(vals)) if vals else "-")
        lines.append(f"| {teacher} | " + " | ".join(cells) + " |")
    return lines


def _report(rows, P, wall):
    lines = [
        "# Compression benchmark",
        "",
        f"{P['seeds']} paired seeds; {P['n_train']} training rows and up to "
        f"{P['n_test']} test rows per table; students: {P['epochs']} epochs "
        f"({P['aug_epochs']} with a transfer set of {P['augment_size']} MUNGE "
        "rows per training row); latency: median predict_proba on "
        f"{P['latency_rows']} rows over {P['repeats']} runs, 1 thread "
        "(the machine was shared with other jobs: latencies are noisy, the "
        f"speed-ups less so). Wall time {wall:.0f} s.",
        "",
        "Gap closed = mean(acc_arm - acc_labels_only) / mean(acc_teacher - "
        "acc_labels_only), 95 % bootstrap interval over seeds. The labels-only "
        "student has the arm's own architecture: the perceptron "
        "(`architecture=\"mlp\"`) for labels only, KD and KD + transfer; the "
        "strong student (`architecture=\"ple-teacher\"`, bins on the "
        "teacher's split thresholds) for strong and strong + transfer, whose "
        "gap (teacher - strong, labels only) is given on the teacher's row. "
        "The last column measures the strong arms against the labels-only "
        "perceptron instead.",
        "",
        "| table | teacher | arm | accuracy | gap closed [95 % CI] | fidelity "
        "| latency ms | speed-up | size KB | vs labels-only MLP [95 % CI] |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["arm"] == "teacher":
            gap = f"gap {r['gap_pp']:.1f} pp"
            if np.isfinite(r.get("strong_gap_pp", float("nan"))):
                gap += f" (strong: {r['strong_gap_pp']:.1f} pp)"
        elif r["arm"] in ("labels only", "strong, labels only"):
            gap = ""
        else:
            gap = f"{r['gap_closed']:.2f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]"
        vs_mlp = (f"{r['gap_closed_mlp']:.2f} [{r['ci_mlp'][0]:.2f}, "
                  f"{r['ci_mlp'][1]:.2f}]" if "gap_closed_mlp" in r else "")
        lines.append(
            f"| {r['table']} | {r['teacher']} | {r['arm']} | {r['accuracy']:.4f} "
            f"| {gap} | {r['fidelity']:.3f} | {r['latency_ms']:.2f} "
            f"| {r['speedup']:.0f}x | {r['size_kb']:.0f} | {vs_mlp} |"
        )
    present = {r["arm"] for r in rows}
    arms = [a for a in ("KD", "KD + transfer", "KD + transfer, regenerated",
                        "strong", "strong + transfer", "auto") if a in present]
    strong = [a for a in STRONG_ARMS if a in present]
    lines += ["", "Median over tables of the gap closed (against the labels-only "
              "student of the same architecture):", ""]
    lines += _median_table(rows, arms, "gap_closed")
    if strong:
        lines += ["", "Median over tables of the gap closed by the strong arms "
                  "against the labels-only perceptron:", ""]
        lines += _median_table(rows, strong, "gap_closed_mlp")
    chosen = [r for r in rows if r["arm"] == "auto" and "chosen" in r]
    if chosen:
        lines += ["", "The student `architecture=\"auto\"` chose, by seed:", ""]
        lines += [f"- {r['table']}, {r['teacher']}: {', '.join(r['chosen'])}"
                  for r in chosen]
    lines += ["", "Median over tables of the speed-up over the teacher "
              "(teacher latency / student latency, 1 thread):", ""]
    lines += _median_table(rows, arms, "speedup", "{:.0f}x")
    return "\n".join(lines) + "\n"


def _figure(rows, P, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = P["tables"]
    ncols = min(2, len(tables))
    nrows = -(-len(tables) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 4.2 * nrows + 1.4),
                             squeeze=False)
    markers = {"labels only": "o", "KD": "s", "KD + transfer": "^",
               "KD + transfer, regenerated": "v", "strong, labels only": "X",
               "strong": "D", "strong + transfer": "P", "auto": "h",
               "teacher": "*"}
    colours = {"-": "black", "HistGradientBoosting": "tab:blue",
               "RandomForest": "tab:orange"}
    legend = {}
    for ax, table in zip(axes.ravel(), tables):
        for r in rows:
            if r["table"] != table:
                continue
            label = (f"{r['arm']} ({r['teacher']})" if r["teacher"] != "-"
                     else f"{r['arm']} (perceptron)")
            legend[label] = ax.scatter(
                r["latency_ms"], r["accuracy"], marker=markers[r["arm"]],
                color=colours[r["teacher"]],
                s=140 if r["arm"] == "teacher" else 50,
                alpha=0.85, label=label)
        ax.set_xscale("log")
        ax.set_xlabel("predict_proba latency, ms (1,000 rows, 1 thread)")
        ax.set_ylabel("test accuracy (mean over seeds)")
        ax.set_title(table)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(tables):]:
        ax.set_visible(False)
    order = sorted(legend, key=lambda k: (k.split(" (")[1], list(markers).index(
        k.split(" (")[0])))
    fig.legend([legend[k] for k in order], order, loc="lower center", ncol=3,
               fontsize=8.5, frameon=False)
    fig.suptitle("Accuracy against prediction time; 'strong' is the "
                 "piecewise-linear encoding on the teacher's thresholds", fontsize=11)
    fig.tight_layout(rect=(0, 1.3 / (4.2 * nrows + 1.4), 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(output="benchmark-results", profile="quick", seeds=None, jobs=1,
        progress=True):
    """Run the benchmark into ``output/compression``; returns the rows."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from joblib import Parallel, delayed

    P = dict(PROFILES.get(profile, PROFILES["quick"]))
    if seeds is not None:
        P["seeds"] = seeds
    # the student against what a user could deploy instead, and the same
    # question for regression
    from . import deployment, regression

    if P.get("target"):
        run_target(output, P, jobs, progress, name=f"compression-{profile}")
        if profile == "target":
            deployment.run(output, profile, seeds, jobs, progress,
                           out_dir=Path(output) / "compression-target")
            regression.run(output, profile, seeds, jobs, progress,
                           out_dir=Path(output) / "compression-target")
        return None
    out = Path(output) / "compression"
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    tasks = [(t, s, teacher) for s in range(P["seeds"]) for t in P["tables"]
             for teacher in (None, *TEACHERS)]
    started = time.perf_counter()
    done = Parallel(n_jobs=jobs, verbose=10 if progress else 0)(
        delayed(_cached)(task, P, cache) for task in tasks
    )
    results = dict(zip(tasks, done))
    rows = analyse(results, P)
    wall = time.perf_counter() - started
    (out / "report.md").write_text(_report(rows, P, wall))
    (out / "results.json").write_text(json.dumps(
        dict(profile=P, rows=rows, wall_seconds=wall), indent=1, default=float))
    _figure(rows, P, out / "pareto.png")
    deployment.run(output, profile, seeds, jobs, progress)
    regression.run(output, profile, seeds, jobs, progress)
    return rows


#: Arms of the ``target`` profile: package defaults but for these.
TARGET_ARMS = {
    "labels only": dict(alpha=0.0),
    "KD + transfer": dict(augment="munge"),
    "MLP, labels only": dict(alpha=0.0, architecture="mlp"),
    "MLP, KD + transfer": dict(augment="munge", architecture="mlp"),
}


def run_target_task(task, P):
    """One (table, seed) cell of the ``target`` profiles: the default
    student (``architecture="auto"``) and the perceptron, each on the
    labels alone and distilled with ``augment="munge"``, everything else at
    the package defaults. A HistGradientBoosting teacher is fitted once and
    frozen; a RandomForest is handed over unfitted, so that each student's
    fit takes its out-of-bag probabilities."""
    import torch
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator

    from sklearn_kd import DistilledClassifier

    torch.set_num_threads(1)
    table, seed = task
    X_tr, X_te, y_tr, y_te = _split(table, seed, P)
    name = P.get("teacher", "HistGradientBoosting")
    teacher = _teacher(name, seed, P).fit(X_tr, y_tr)
    models = {"teacher": teacher}
    out = {"teacher": dict(accuracy=float(teacher.score(X_te, y_te)))}
    for arm, params in TARGET_ARMS.items():
        given = (FrozenEstimator(teacher) if name == "HistGradientBoosting"
                 else clone(teacher))
        t0 = time.perf_counter()
        clf = DistilledClassifier(given, random_state=seed,
                                  **params).fit(X_tr, y_tr)
        models[arm] = clf
        out[arm] = dict(accuracy=float(clf.score(X_te, y_te)),
                        fit_s=time.perf_counter() - t0,
                        student=type(clf.student_.module_).__name__,
                        architecture=clf.architecture_)
    latency = _latencies(models, X_te[: P["latency_rows"]], P["repeats"])
    for name, seconds in latency.items():
        out[name]["latency_s"] = seconds
    return out


def _target_report(results, P, wall):
    rng = np.random.RandomState(0)
    pairs = {"default student": ("labels only", "KD + transfer"),
             "perceptron": ("MLP, labels only", "MLP, KD + transfer")}
    lines = [
        "# Compression target: package defaults plus augment=\"munge\"",
        "",
        f"{P.get('teacher', 'HistGradientBoosting')} teacher"
        + (f" ({P['n_estimators']} trees, fitted by each student: out-of-bag "
           "probabilities for the training rows)"
           if P.get("teacher") == "RandomForest" else "")
        + f"; {P['seeds']} paired seeds; "
        f"up to {P['n_train']} training rows and {P['n_test']} test rows (a "
        "table too small for both gives a third of its rows to the test); every "
        "student at the package defaults (100 epochs; the transfer set: 10 "
        "MUNGE rows per training row) but `alpha=0` for the labels-only "
        "students and `augment=\"munge\"` for the distilled ones. The "
        "default student is `architecture=\"auto\"` (each fit chooses from "
        "the ladder; the choices are listed below the tables); the perceptron is "
        "`architecture=\"mlp\"`. Gap closed = mean(acc_KD - acc_labels) / "
        "mean(acc_teacher - acc_labels) for the same architecture, 95 % "
        "bootstrap interval over seeds; speed-up = teacher / student "
        f"predict_proba latency on {P['latency_rows']} rows, 1 thread, interleaved (a "
        f"shared machine). Wall time {wall:.0f} s.",
        "",
        "| table | teacher acc | student | labels-only acc | KD + transfer acc "
        "| gap pp | gap closed [95 % CI] | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    medians = {name: ([], [], []) for name in pairs}
    for table in P["tables"]:
        cells = [results[(table, s)] for s in range(P["seeds"])]
        t_acc = np.array([c["teacher"]["accuracy"] for c in cells])
        for name, (lab, kd) in pairs.items():
            a_lab = np.array([c[lab]["accuracy"] for c in cells])
            a_kd = np.array([c[kd]["accuracy"] for c in cells])
            gap = t_acc - a_lab
            closed = (a_kd - a_lab).mean() / gap.mean()
            lo, hi = _bootstrap_ratio(a_kd - a_lab, gap, rng)
            speed = (np.median([c["teacher"]["latency_s"] for c in cells])
                     / np.median([c[kd]["latency_s"] for c in cells]))
            medians[name][0].append(closed)
            medians[name][1].append(speed)
            medians[name][2].append(gap.mean())
            lines.append(
                f"| {table} | {t_acc.mean():.4f} | {name} ({cells[0][kd]['student']})"
                f" | {a_lab.mean():.4f} | {a_kd.mean():.4f} | {100 * gap.mean():.1f} "
                f"| {closed:.2f} [{lo:.2f}, {hi:.2f}] | {speed:.0f}x |")
    lines += [
        "",
        "A table where the labels-only student is as accurate as the teacher "
        "or more (gap <= 0) has no gap to close: its ratio is left out of the "
        "first median (a KD student that moves towards a worse teacher would "
        "count as closing it) and kept in the second.",
        "",
        "| student | median gap closed, teacher ahead | tables | "
        "median gap closed, all tables | median speed-up |",
        "|---|---|---|---|---|"]
    for name, (closed, speed, gaps) in medians.items():
        closed, gaps = np.array(closed), np.array(gaps)
        ahead = closed[gaps > 0]
        lines.append(
            f"| {name} | {np.median(ahead) if len(ahead) else float('nan'):.2f} "
            f"| {len(ahead)} of {len(closed)} | {np.median(closed):.2f} | "
            f"{np.median(speed):.0f}x |")
    lines += ["", "The default student `architecture=\"auto\"` chose, by seed "
              "(labels only; KD + transfer):", ""]
    for table in P["tables"]:
        cells = [results[(table, s)] for s in range(P["seeds"])]
        chose = [", ".join(str(c[arm].get("architecture")) for c in cells)
                 for arm in ("labels only", "KD + transfer")]
        lines.append(f"- {table}: {chose[0]}; {chose[1]}")
    return "\n".join(lines) + "\n"


def run_target(output, P, jobs=1, progress=True, name="compression-target"):
    """A ``target`` profile into ``output/name``."""
    from joblib import Parallel, delayed

    out = Path(output) / name
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    tasks = [(t, s) for s in range(P["seeds"]) for t in P["tables"]]

    def cached(task):
        path = cache / f"{task[0]}__{task[1]}__{P['n_train']}.json"
        return cached_json(path, run_target_task, task, P)

    started = time.perf_counter()
    done = Parallel(n_jobs=jobs, verbose=10 if progress else 0)(
        delayed(cached)(task) for task in tasks)
    results = dict(zip(tasks, done))
    wall = time.perf_counter() - started
    (out / "report.md").write_text(_target_report(results, P, wall))
    (out / "results.json").write_text(json.dumps(
        dict(profile=P, results={f"{t}__{s}": r for (t, s), r in results.items()},
             wall_seconds=wall), indent=1, default=float))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmark-results")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    run(args.output, args.profile, args.seeds, args.jobs)
    name = (f"compression-{args.profile}" if args.profile.startswith("target")
            else "compression")
    print((Path(args.output) / name / "report.md").read_text())


if __name__ == "__main__":
    main()
