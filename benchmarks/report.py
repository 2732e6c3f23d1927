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
            "inconclusive": "tab:grey", "contradicted": "tab:red",
            "untested": "tab:orange"}


def _primaries(results):
    return [b["primary"] for p in results["predictions"].values()
            for b in p["by_student"].values() if b.get("primary")]


def _verdict_figure(results):
    import matplotlib.pyplot as plt

    rows = [(p, part) for p in _primaries(results) for part in p["parts"]]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8.5, 0.24 * len(rows) + 1.9),
                           layout="constrained")
    for i, (p, part) in enumerate(rows):
        if not np.isfinite(part["mean"]):
            continue
        scale = part["delta"]
        low = part["low"] if np.isfinite(part["low"]) else part["mean"]
        high = part["high"] if np.isfinite(part["high"]) else part["mean"]
        ax.errorbar(part["mean"] / scale, i,
                    xerr=[[(part["mean"] - low) / scale],
                          [(high - part["mean"]) / scale]],
                    fmt="o", ms=3, color=_COLOURS[p["verdict"]], capsize=2)
    ax.axvline(0, color="k", lw=0.8)
    ax.axvspan(-1, 1, color="grey", alpha=0.15, lw=0)
    ax.set_yticks(range(len(rows)),
                  [f"{p['prediction']} {p['family']}: {part['label']}"
                   for p, part in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=1)
    for verdict, colour in _COLOURS.items():
        if verdict != "equivalent":  # not a verdict of a primary
            ax.plot([], [], "o", color=colour, label=verdict)
    fig.legend(loc="outside lower center", ncol=4, fontsize=7,
               title="colour: the primary's Holm verdict; bars: 95 % t-intervals "
               "over paired seeds", title_fontsize=7)
    ax.set(xlabel="mean paired difference / smallest effect of interest "
           "(shaded: ±1; log scale beyond ±1)",
           title="Parts of the primary contrasts")
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


def _scaled(c, key):
    k = 100 if c["metric"] == "accuracy" else 1
    return f"{fmt(k * c[key], 2)}{' pp' if k == 100 else ''}" if key == "mean" \
        else fmt(k * c[key], 2)


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
        f"setting rho={P['main']['rho']}, spread={P['main']['spread']}, "
        f"sibling_heterogeneity={P['main']['heterogeneity']}. Every "
        "setting is calibrated with `bayes_accuracy` to one regime "
        f"{P['regimes']}, so a dial moves without changing how hard the task "
        "is. The measured Bayes accuracy and q_c standard deviation of every "
        "setting are in the dials table below.",
        "- Students: " + "; ".join(f"`{f}` {p}" for f, p in P["families"].items())
        + ". Every prediction is tested for both families; a prediction holds "
        "overall only when it holds for both.",
        "- Arms: each KD arm (knowledge level, placebo or loss variant, with its "
        "teacher) is trained at every (T, alpha) in "
        f"{P['grid']} and the setting with the best accuracy on "
        f"{P['data']['n_val']} separate validation rows is kept (the chosen "
        "settings are in the tables; a choice on the grid's edge is flagged). "
        "The hard-label student gets the same budget: as many fits over weight "
        "decays, chosen on the same rows.",
        "- Placebo arms: `instance_shuffled` (q_c permuted among the rows of "
        "each class, uniform rest) and `domain_shuffled` (class relation "
        "profiles relabelled by a random derangement of the classes) keep a "
        "level's shape and destroy its information; `instance_sigma` "
        "(benchmarks only) keeps q_T,c averaged within class x noise level.",
        "- Calibration: every student's test NLL and ECE are reported before "
        "and after temperature scaling fitted on the validation rows.",
        "- Teachers: `bayes` (exact posterior given x; every primary except "
        "S5 and S6), `bayes_overconfident` (the same to the power "
        f"{P['teacher_params']['overconfidence']:g}: same argmax), MLP "
        "teachers trained on separate teacher rows (`mlp_plain`, and "
        "`mlp_smoothed` with label smoothing "
        f"{P['teacher_params']['smoothing']:g}), an over-trained MLP "
        "predicting the student's rows in-sample or out-of-fold, and "
        f"secondary teachers {P['teachers'] or 'none'} (`hgb`: "
        "HistGradientBoosting fitted on the teacher rows).",
        "- Statistics (scipy): one pre-registered primary contrast per "
        "prediction and student family. Each is a one-sided paired t-test "
        "across seeds in the predicted direction; a prediction with several "
        "parts is an intersection-union test (it holds only if every part "
        "does; p is the largest part's). Non-inferiority parts test mean > "
        "-0.5 pp. Holm's correction runs over the "
        f"{results['holm_family_size']} tested primaries (and separately over "
        "their p-values against the prediction). Verdicts: *holds* (Holm p "
        "for < 0.05), *contradicted* (Holm p against < 0.05), *inconclusive*, "
        "or *untested* when the primary's dial did not move the quantity it "
        "claims to move (the measured range is printed beside each primary). "
        f"The {results['bh_family_size']} secondary comparisons get "
        "Benjamini-Hochberg q-values and never enter a verdict. Smallest "
        "effects of interest: " + ", ".join(f"{k} {val}" for k, val in
                                            DELTA.items()) + ".",
        "",
        "## Verdicts",
        "",
    ]
    rows = [[pid, *[pred["by_student"][f]["verdict"] for f in families],
             f"**{pred['verdict']}**", pred["statement"]]
            for pid, pred in results["predictions"].items()]
    lines += [_md_table(["prediction", *families, "overall", "claim"], rows), ""]
    lines += ["Primary contrasts (accuracy differences in percentage points; "
              "95 % t-intervals over paired seeds; one row per part):", ""]
    rows = []
    for p in _primaries(results):
        for i, part in enumerate(p["parts"]):
            k = 100 if part["metric"] == "accuracy" else 1
            unit = " pp" if k == 100 else ""
            rows.append([
                p["prediction"] if i == 0 else "", p["family"] if i == 0 else "",
                p["description"] if i == 0 else "", part["label"],
                f"{fmt(k * part['mean'], 2)}{unit}",
                f"[{fmt(k * part['low'], 2)}, {fmt(k * part['high'], 2)}]",
                f"{part['p_for']:.2g}",
                f"{p['p_for_holm']:.2g}" if i == 0 else "",
                p["verdict"] if i == 0 else "", p["dial"] if i == 0 else ""])
    lines += [_md_table(["prediction", "student", "primary contrast", "part",
                         "mean diff", "95 % CI", "p (part)", "Holm p", "verdict",
                         "dial range (measured)"], rows), ""]
    if (out / "verdicts.png").exists():
        lines += ["![Parts of the primary contrasts in units of the smallest "
                  "effect of interest](verdicts.png)", ""]
    secondary = [c for p in results["predictions"].values()
                 for c in p["comparisons"]]
    if secondary:
        lines += ["Secondary comparisons (two-sided paired t-tests, "
                  "Benjamini-Hochberg q-values; reported, never part of a "
                  "verdict):", "",
                  _md_table(["prediction", "student", "comparison", "mean diff",
                             "95 % CI", "p", "q (BH)"],
                            [[c["prediction"], c["family"], c["description"],
                              _scaled(c, "mean"),
                              f"[{_scaled(c, 'low')}, {_scaled(c, 'high')}]",
                              f"{c['p_diff']:.2g}", f"{c['q_bh']:.2g}"]
                             for c in secondary]), ""]
    dial_rows = []
    temps = []
    for exp in results["experiments"].values():
        for setting, d in exp.get("dials", {}).items():
            temps = temps or [k.split(" ", 1)[1] for k in d if k.startswith("q_c_sd T")]
            dial_rows.append([setting, fmt(d["bayes_accuracy"]), fmt(d["class_sep"])]
                             + [fmt(d[f"q_c_sd {t}"]) for t in temps]
                             + [fmt(d[f"kl_overall {t}"]) for t in temps]
                             + [fmt(d[f"kl_siblings {t}"]) for t in temps])
    if dial_rows:
        lines += ["## Measured dials", "",
                  "Per data setting, mean over seeds: accuracy of the Bayes "
                  "posterior given x (test rows), the solved class_sep, and the "
                  "Bayes teacher softened at each temperature the arms use "
                  "(training rows): sd of q_T,c, class-relation information "
                  "KL(R_bar || U) overall and among siblings (nats).", "",
                  _md_table(["setting", "Bayes accuracy", "class_sep"]
                            + [f"sd q_T,c {t}" for t in temps]
                            + [f"KL overall {t}" for t in temps]
                            + [f"KL siblings {t}" for t in temps], dial_rows), ""]
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
