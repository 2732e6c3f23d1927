"""report.md, results.json and the figures of a benchmark run."""

from __future__ import annotations

import json
import math

import numpy as np

from .experiments import fmt


def _md_table(header, rows):
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else str(obj)
    return obj


def _ci(c, digits=4):
    return f"[{fmt(c['low'], digits)}, {fmt(c['high'], digits)}]"


def _verdict_figure(results):
    import matplotlib.pyplot as plt

    comps = [c for p in results["predictions"].values() for c in p["comparisons"]]
    if not comps:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(comps) + 1.2))
    colours = {"holds": "tab:green", "not significant": "tab:grey",
               "contradicted": "tab:red"}
    for i, c in enumerate(comps):
        if not np.isfinite(c["mean"]):
            continue
        low = c["low"] if np.isfinite(c["low"]) else c["mean"]
        high = c["high"] if np.isfinite(c["high"]) else c["mean"]
        ax.errorbar(c["mean"], i, xerr=[[c["mean"] - low], [high - c["mean"]]],
                    fmt="o", color=colours[c["verdict"]], capsize=3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(comps)), [f"{c['id']} ({c['metric']})" for c in comps],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="mean paired difference, 95 % t-interval (own units per row)",
           title="Predictions: green holds, grey not significant, red contradicted")
    fig.tight_layout()
    return fig


def _speed_figure(speed):
    import matplotlib.pyplot as plt

    done = [r for r in speed["rows"] if "skipped" not in r]
    if not done:
        return None
    ks = sorted({r["n_classes"] for r in done})
    fig, axes = plt.subplots(1, len(ks), figsize=(5.5 * len(ks), 4.2), squeeze=False)
    for ax, k in zip(axes[0], ks):
        for method in dict.fromkeys(r["method"] for r in done):
            pts = sorted((r["n_samples"], r["rows_per_second"]) for r in done
                         if r["n_classes"] == k and r["method"] == method)
            ax.plot(*zip(*pts), marker="o", label=method)
        ax.set(xscale="log", yscale="log", xlabel="training rows n",
               ylabel="rows / s (n * epochs / fit seconds)",
               title=f"Throughput, {k} classes")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _save(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results, analyses, out):
    """Write ``results.json``, the PNG figures and ``report.md`` into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    figures = []
    for name, analysis in analyses.items():
        for filename, make in analysis["figures"]:
            _save(make(None), out / filename)
            figures.append((name, filename))
    fig = _verdict_figure(results)
    if fig is not None:
        _save(fig, out / "verdicts.png")
    if "speed" in results:
        fig = _speed_figure(results["speed"])
        if fig is not None:
            _save(fig, out / "speed.png")
    results["figures"] = [f for _, f in figures] + (
        ["verdicts.png"] if (out / "verdicts.png").exists() else []) + (
        ["speed.png"] if (out / "speed.png").exists() else [])
    (out / "results.json").write_text(json.dumps(_jsonable(results), indent=1))

    P = results["profile"]
    v = results["versions"]
    lines = [
        f"# sklearn_kd benchmarks: profile `{P['name']}`",
        "",
        f"Started {results['started']}; wall time {results['wall_seconds']:.0f} s "
        f"(cache: {results['cache']['hits']} hits, {results['cache']['misses']} "
        f"misses). Seeds: {len(results['seeds'])}. Machine: "
        f"{results['machine']['platform']}, {results['machine']['cpu_count']} CPUs; "
        f"workers run with {results['machine']['worker_threads']} thread(s). "
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "Data: `make_hierarchical_classification` with "
        + ", ".join(f"{k}={val}" for k, val in P["data"].items())
        + f"; the student is an MLP {P['student']}; KD uses {P['kd']} with the "
        "oracle teacher (the exact posterior given each row's noise scale) unless "
        "stated. Every comparison is paired across seeds (same seed: same data, "
        "same initialisation): mean difference, 95 % Student t-interval, and "
        "verdict *holds* (interval excludes 0 in the predicted direction), *not "
        "significant*, or *contradicted* (excludes 0 the other way). For 'about "
        "0' predictions the verdict is *holds* when the interval covers 0, a weak "
        "check. A prediction holds when all its comparisons hold and is "
        "contradicted when any is. Settings were fixed in advance, not tuned.",
        "",
        "## Verdicts",
        "",
    ]
    rows = []
    for pid, pred in results["predictions"].items():
        if not pred["comparisons"]:
            rows.append([pid, pred["verdict"], "-", "-", "-", "-"])
        for c in pred["comparisons"]:
            rows.append([pid, f"**{pred['verdict']}**",
                         f"{c['id']}: {c['description']}", fmt(c["mean"], 4),
                         _ci(c), c["verdict"]])
    lines += [_md_table(["prediction", "verdict", "comparison", "mean diff",
                         "95 % CI", "part verdict"], rows), ""]
    lines += ["Predictions:", ""]
    lines += [f"- **{pid}** {pred['statement']}"
              for pid, pred in results["predictions"].items()]
    lines += ["", "![verdicts](verdicts.png)", ""]
    for name, exp in results["experiments"].items():
        lines += [f"## {exp['title']}", "",
                  f"Experiment `{name}`, {exp['wall_seconds']:.0f} s.", ""]
        for title, header, trows in exp["tables"]:
            lines += [f"{title}:", "", _md_table(header, trows), ""]
        lines += [f"![{f}]({f})" for n, f in figures if n == name] + [""]
    if "speed" in results:
        S = results["speed"]
        lines += ["## Speed", "",
                  f"Rows per second (n * epochs / fit seconds) and peak memory, "
                  f"device `{results['device']}`, one fresh subprocess per "
                  "configuration after a warm-up, every library single-threaded "
                  "(the machine may be shared: timings are noisy). "
                  "`skorch_default` and `sklearn_mlp` train on hard labels; "
                  f"{S['wall_seconds']:.0f} s.", ""]
        rows = []
        for r in S["rows"]:
            if "skipped" in r:
                rows.append([r["n_classes"], r["n_samples"], r["method"], "-", "-",
                             "-", f"skipped: {r['skipped'][:80]}"])
            else:
                mem = (f"{r['cuda_peak_mb']:.0f} (GPU)" if "cuda_peak_mb" in r
                       else f"{r['peak_rss_delta_mb']:.0f}")
                rows.append([r["n_classes"], r["n_samples"], r["method"], r["epochs"],
                             f"{r['seconds']:.2f}", f"{r['rows_per_second']:.0f}",
                             mem])
        lines += [_md_table(["classes", "n", "method", "epochs", "seconds", "rows/s",
                             "peak extra MB"], rows), ""]
        lines += ["DistilledClassifier / plain PyTorch loop (fit-time ratio; 1 is "
                  "parity):", "",
                  _md_table(["classes", "n", "time ratio", "distilled rows/s",
                             "plain rows/s"],
                            [[r["n_classes"], r["n_samples"], f"{r['time_ratio']:.2f}",
                              f"{r['distilled_rows_per_second']:.0f}",
                              f"{r['plain_rows_per_second']:.0f}"]
                             for r in S["ratios"]]), ""]
        lines += ["Log-log slope of fit time per epoch vs n (1 = linear; CI needs "
                  "3 sizes):", "",
                  _md_table(["classes", "method", "slope", "95 % CI"],
                            [[r["n_classes"], r["method"], fmt(r["slope"], 2),
                              _ci(r, 2)] for r in S["slopes"]]), ""]
        if (out / "speed.png").exists():
            lines += ["![speed](speed.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
