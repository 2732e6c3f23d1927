"""report.md, results.json and the figures of a benchmark run."""

from __future__ import annotations

import json
import math

import numpy as np

from .experiments import DELTA, PREDICTIONS, fmt


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


_COLOURS = {"holds": "tab:green", "equivalent": "tab:blue",
            "inconclusive": "tab:grey", "contradicted": "tab:red"}


def _verdict_figure(results):
    import matplotlib.pyplot as plt

    comps = [c for p in results["predictions"].values() for c in p["comparisons"]
             if c["primary"]]
    if not comps:
        return None
    fig, ax = plt.subplots(figsize=(8.5, 0.22 * len(comps) + 1.4),
                           layout="constrained")
    for i, c in enumerate(comps):
        if not np.isfinite(c["mean"]):
            continue
        scale = c["delta"]
        low = c["low"] if np.isfinite(c["low"]) else c["mean"]
        high = c["high"] if np.isfinite(c["high"]) else c["mean"]
        ax.errorbar(c["mean"] / scale, i,
                    xerr=[[(c["mean"] - low) / scale], [(high - c["mean"]) / scale]],
                    fmt="o", ms=3, color=_COLOURS[c["verdict"]], capsize=2)
    ax.axvline(0, color="k", lw=0.8)
    ax.axvspan(-1, 1, color="grey", alpha=0.15, lw=0)
    ax.set_yticks(range(len(comps)),
                  [f"{c['id']} {c['family']}: {c['description']}" for c in comps],
                  fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=1)
    for verdict, colour in _COLOURS.items():
        ax.plot([], [], "o", color=colour, label=verdict)
    ax.legend(fontsize=7, loc="lower right")
    ax.set(xlabel="mean paired difference / smallest effect of interest\n"
           "(shaded: ±1; 95 % t-interval; log scale beyond ±1)",
           title="Primary comparisons (Holm-adjusted verdicts)")
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

    fig.savefig(path, dpi=110, metadata={"Software": None})
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
    cache = results["cache"]
    source = ("every run came from the cache" if results["all_from_cache"]
              else f"cache: {cache['hits']} hits, {cache['misses']} runs computed")
    families = list(P["families"])
    lines = [
        f"# sklearn_kd benchmarks: profile `{P['name']}`",
        "",
        f"Started {results['started']}; wall time {results['wall_seconds']:.0f} s "
        f"({source}). Seeds: {len(results['seeds'])} (paired). Machine: "
        f"{results['machine']['platform']}, {results['machine']['cpu_count']} CPUs; "
        f"workers run with {results['machine']['worker_threads']} thread(s). "
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "**Settings were fixed before any result of this design was seen and "
        "were not changed afterwards; the verdicts are whatever they came out "
        "to be.**",
        "",
        "## Design",
        "",
        "- Data: `make_hierarchical_classification` with "
        + ", ".join(f"{k}={val}" for k, val in P["data"].items())
        + f"; `easy_noise` 1 and `hard_noise` by spread {P['spreads']}; main "
        f"setting rho={P['main']['rho']}, spread={P['main']['spread']}. Every "
        "setting is calibrated with `bayes_accuracy` to one regime "
        f"{P['regimes']}, so a dial moves without changing how hard the task "
        "is. The measured Bayes accuracy and q_c standard deviation of every "
        "setting are in the dials table below.",
        "- Students: " + "; ".join(f"`{f}` {p}" for f, p in P["families"].items())
        + ". Every prediction is tested for both families; a prediction holds "
        "overall only when it holds for both.",
        "- Arms: each KD arm (knowledge level or loss variant, with its "
        "teacher) is trained at every (T, alpha) in "
        f"{P['grid']} and the setting with the best accuracy on separate "
        "validation rows is kept (the chosen settings are in the tables). The "
        "hard-label student is trained once.",
        "- Teachers: `oracle` (exact posterior given x and the row's own noise "
        "scale: privileged), `bayes` (exact posterior given x alone), and "
        "trained teachers `hgb` (HistGradientBoosting), `rf` (RandomForest), "
        "`mlp` (MLPClassifier, early stopping) fitted on separate teacher rows: "
        f"{P['teacher_params']}.",
        "- Statistics (scipy): each comparison is a paired difference across "
        "seeds with a 95 % t-interval, a two-sided t-test against 0 and a TOST "
        "equivalence test against the smallest effect of interest (0.5 pp for "
        "accuracy; per metric: " + ", ".join(f"{k} {val}" for k, val in
                                             DELTA.items()) + "). "
        f"Holm's correction runs over all {results['holm_family_size']} p-values "
        "of the run. Verdicts: *equivalent* (TOST rejects), else *holds* or "
        "*contradicted* (significant in or against the predicted direction), "
        "else *inconclusive*; for an 'about 0' part, equivalence is *holds*. A "
        "prediction's verdict per student combines its primary parts: "
        "contradicted if any is, holds if all hold, equivalent if all hold or "
        "are equivalent, inconclusive otherwise.",
        "",
        "## Verdicts",
        "",
    ]
    rows = [[pid, *[pred["by_student"][f]["verdict"] for f in families],
             f"**{pred['verdict']}**", pred["statement"]]
            for pid, pred in results["predictions"].items()]
    lines += [_md_table(["prediction", *families, "overall", "claim"], rows), ""]
    lines += ["Primary comparisons (Holm-adjusted p-values; accuracy differences "
              "in percentage points):", ""]
    rows = []
    for pid, pred in results["predictions"].items():
        for c in pred["comparisons"]:
            if not c["primary"]:
                continue
            k = 100 if c["metric"] == "accuracy" else 1
            unit = " pp" if k == 100 else ""
            rows.append([pid, c["family"], f"{c['id']}: {c['description']}",
                         f"{fmt(k * c['mean'], 2)}{unit}",
                         f"[{fmt(k * c['low'], 2)}, {fmt(k * c['high'], 2)}]",
                         f"{c['p_diff_holm']:.2g}", f"{c['p_equiv_holm']:.2g}",
                         c["verdict"]])
    lines += [_md_table(["prediction", "student", "comparison", "mean diff",
                         "95 % CI", "p (diff)", "p (equiv.)", "verdict"], rows), ""]
    if (out / "verdicts.png").exists():
        lines += ["![Primary comparisons in units of the smallest effect of "
                  "interest](verdicts.png)", ""]
    secondary = [c for p in results["predictions"].values()
                 for c in p["comparisons"] if not c["primary"]]
    if secondary:
        lines += ["Secondary comparisons (other teachers; in the Holm family, "
                  "not in the verdicts):", "",
                  _md_table(["prediction", "student", "comparison", "mean diff",
                             "95 % CI", "verdict"],
                            [[c["prediction"], c["family"],
                              f"{c['id']}: {c['description']}",
                              f"{fmt(100 * c['mean'], 2)} pp",
                              f"[{fmt(100 * c['low'], 2)}, {fmt(100 * c['high'], 2)}]",
                              c["verdict"]] for c in secondary]), ""]
    dial_rows = []
    for exp in results["experiments"].values():
        for setting, d in exp.get("dials", {}).items():
            dial_rows.append([setting, fmt(d["bayes_accuracy"]), fmt(d["q_c_sd"]),
                              fmt(d["q_c_mean"]), fmt(d["bayes_q_c_mean"]),
                              fmt(d["class_sep"], 3)])
    if dial_rows:
        lines += ["## Measured dials", "",
                  "Per data setting, on the test rows, mean over seeds: accuracy "
                  "of the Bayes posterior given x, standard deviation and mean of "
                  "the oracle's probability of the true class q_c, the Bayes "
                  "teacher's mean q_c, and the solved class_sep.", "",
                  _md_table(["setting", "Bayes accuracy", "q_c sd", "q_c mean",
                             "Bayes teacher q_c", "class_sep"], dial_rows), ""]
    for name, exp in results["experiments"].items():
        c = exp["counts"]
        lines += [f"## {exp['title']}", ""]
        for pid in exp["predictions"]:
            lines += [f"- **{pid}** {PREDICTIONS[pid]}"]
        lines += ["", f"Design: {exp['design']}", "",
                  f"Cells run ({len(exp['cells'])} per seed; {c['runs']} runs, "
                  f"{c['cached']} from the cache; {exp['wall_seconds']:.0f} s): "
                  + ", ".join(f"`{cell}`" for cell in exp["cells"]) + ".", ""]
        for title, header, trows in exp["tables"]:
            lines += [f"{title}:", "", _md_table(header, trows), ""]
        lines += [f"![{f}]({f})" for n, f in figures if n == name] + [""]
        lines += [f"Threats to validity: {exp['threats']}", ""]
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
