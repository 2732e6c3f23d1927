"""Run the experiments, with a cache, and assemble every number."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from . import speed
from .cache import JsonCache, canonical
from .experiments import EXPERIMENTS, PREDICTIONS
from .profiles import get_profile
from .stats import apply_bh, apply_primary_holm, combine_families, loglog_slope
from .tasks import THREADS, run_task

EXPERIMENT_NAMES = [e.name for e in EXPERIMENTS] + ["speed", "compression"]


def _execute(index, spec):
    start, cpu = time.perf_counter(), time.process_time()
    result = run_task(spec)
    result["cpu_seconds"] = time.process_time() - cpu
    return index, result, time.perf_counter() - start


def versions():
    import importlib.metadata as md
    import sys

    out = {"python": sys.version.split()[0]}
    for package in ["sklearn_kd", "numpy", "scipy", "torch", "scikit-learn",
                    "skorch", "joblib", "matplotlib"]:
        try:
            out[package] = md.version(package.replace("sklearn_kd", "sklearn-kd"))
        except md.PackageNotFoundError:
            out[package] = "unknown"
    return out


def machine(device):
    info = dict(platform=platform.platform(), processor=platform.processor(),
                cpu_count=os.cpu_count(), worker_threads=THREADS, device=device)
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory_gb"] = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    if device.startswith("cuda"):
        import torch

        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _bar_enabled(progress):
    """Progress bars only on a terminal; logs get one plain line per experiment."""
    return bool(progress) and sys.stderr.isatty()


def run_experiment(experiment, P, cache, *, jobs, progress=True):
    """Results ``R[label]`` (one dict per seed) of one experiment, and counts."""
    specs = experiment.specs(P)
    seeds = list(range(P["seeds"]))
    keys = [(label, seed, {**spec, "seed": seed})
            for seed in seeds for label, spec in specs.items()]
    results = {}
    todo = []
    for i, (_, _, key) in enumerate(keys):
        hit = cache.get(key)
        if hit is None:
            todo.append(i)
        else:
            results[i] = hit
    # Identical configurations (shared by several labels) run once.
    first = {}
    for i in todo:
        first.setdefault(canonical(keys[i][2]), []).append(i)
    bar = tqdm(total=len(first), desc=f"{experiment.name}",
               disable=not _bar_enabled(progress))
    if todo:
        parallel = Parallel(n_jobs=min(jobs, len(first)),
                            return_as="generator_unordered")
        for i, result, seconds in parallel(
            delayed(_execute)(same[0], keys[same[0]][2]) for same in first.values()
        ):
            result = {**result, "seconds": seconds}
            cache.set(keys[i][2], result)
            for j in first[canonical(keys[i][2])]:
                results[j] = result
            bar.update()
    bar.close()
    R = {label: [] for label in specs}
    for i, (label, _, _) in enumerate(keys):
        R[label].append(results[i])
    counts = dict(runs=len(keys), cached=len(keys) - len(todo), computed=len(first))
    return R, counts


def run_speed(P, cache, *, device, progress=True):
    configs = list(speed.configurations(P, device, THREADS))
    rows = []
    for cfg in tqdm(configs, desc="speed configurations",
                    disable=not _bar_enabled(progress)):
        result = cache.get(cfg)
        if result is None:
            result = speed.run_configuration(cfg, P["speed"]["memory_fraction"])
            if "skipped" not in result or "needs about" in result["skipped"]:
                cache.set(cfg, result)
        rows.append({**cfg, **result})
    return analyse_speed(rows)


def analyse_speed(rows):
    done = [r for r in rows if "skipped" not in r]
    ratios = []
    by = {(r["n_classes"], r["n_samples"], r["method"]): r for r in done}
    for (k, n, method), r in sorted(by.items()):
        plain = by.get((k, n, "plain_torch"))
        if method == "distilled" and plain:
            ratios.append(dict(n_classes=k, n_samples=n,
                               time_ratio=r["seconds"] / plain["seconds"],
                               distilled_rows_per_second=r["rows_per_second"],
                               plain_rows_per_second=plain["rows_per_second"]))
    slopes = []
    for k in sorted({r["n_classes"] for r in done}):
        for method in dict.fromkeys(r["method"] for r in done):
            # seconds per epoch: the profiles train fewer epochs on more rows
            pts = sorted((r["n_samples"], r["seconds"] / r["epochs"]) for r in done
                         if r["n_classes"] == k and r["method"] == method)
            if len(pts) >= 2:
                fit = loglog_slope([p[0] for p in pts], [p[1] for p in pts])
                slopes.append(dict(n_classes=k, method=method, **fit))
    return dict(rows=rows, ratios=ratios, slopes=slopes)


def run(profile="quick", output="benchmark-results", *, only=None, device="cpu",
        seeds=None, jobs=None, progress=True):
    """Run the benchmarks into ``output``; returns the results dict.

    ``only`` is a list of experiment names (see :data:`EXPERIMENT_NAMES`).
    """
    from .report import write_report

    started = time.perf_counter()
    P = get_profile(profile, seeds=seeds)
    only = list(only or [n for n in EXPERIMENT_NAMES
                         if n not in ("compression", "real_levels")])
    unknown = sorted(set(only) - set(EXPERIMENT_NAMES))
    if unknown:
        raise ValueError(f"--only must name experiments among {EXPERIMENT_NAMES}; "
                         f"got {unknown}.")
    jobs = jobs or P["jobs"]
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    cache = JsonCache(out / "cache")
    results = dict(
        profile=P, seeds=list(range(P["seeds"])), device=device,
        versions=versions(), machine=machine(device),
        started=datetime.datetime.now().isoformat(timespec="seconds"),
        experiments={}, predictions={},
    )
    analyses = {}
    for experiment in EXPERIMENTS:
        if experiment.name not in only:
            continue
        t0 = time.perf_counter()
        R, counts = run_experiment(experiment, P, cache, jobs=jobs,
                                   progress=progress)
        if not R:
            continue
        analysis = experiment.analyse(R, P)
        analyses[experiment.name] = analysis
        seconds = time.perf_counter() - t0
        results["experiments"][experiment.name] = dict(
            title=experiment.title, design=experiment.design,
            threats=experiment.threats, predictions=list(experiment.predictions),
            cells=sorted(R), runs=R, tables=analysis["tables"],
            comparisons=analysis["comparisons"],
            primaries=analysis.get("primaries", []),
            dials=analysis.get("dials", {}),
            counts=counts, wall_seconds=seconds,
        )
        if progress:
            cached = (" (all from the cache)" if counts["cached"] == counts["runs"]
                      else f" ({counts['cached']} from the cache)")
            print(f"{experiment.name}: {counts['runs']} runs{cached} in "
                  f"{seconds:.0f} s", file=sys.stderr, flush=True)
    comparisons = [c for a in analyses.values() for c in a["comparisons"]]
    primaries = [p for a in analyses.values() for p in a.get("primaries", [])]
    apply_primary_holm(primaries)
    apply_bh(comparisons)
    results["holm_family_size"] = sum(p["moved"] for p in primaries)
    results["bh_family_size"] = len(comparisons)
    for pid, statement in PREDICTIONS.items():
        by_student = {}
        for family in P["families"]:
            mine = [p for p in primaries
                    if p["prediction"] == pid and p["family"] == family]
            by_student[family] = dict(
                verdict=mine[0]["verdict"] if mine else "not run",
                primary=mine[0] if mine else None)
        verdicts = [b["verdict"] for b in by_student.values()]
        overall = ("not run" if "not run" in verdicts
                   else combine_families(verdicts))
        results["predictions"][pid] = dict(
            statement=statement, verdict=overall, by_student=by_student,
            comparisons=[c for c in comparisons if c["prediction"] == pid],
        )
    if "speed" in only:
        t0 = time.perf_counter()
        results["speed"] = run_speed(P, cache, device=device, progress=progress)
        results["speed"]["wall_seconds"] = time.perf_counter() - t0
    if "compression" in only:  # its own report: OUTPUT/compression/report.md
        from . import compression
        compression.run(out, profile=profile, seeds=seeds, jobs=jobs or 1,
                        progress=progress)
    results["cache"] = dict(hits=cache.hits, misses=cache.misses)
    results["all_from_cache"] = cache.misses == 0
    results["wall_seconds"] = time.perf_counter() - started
    write_report(results, analyses, out)
    return results
