"""The experiments: which runs each needs and how it tests its predictions.

Each experiment lists its runs per seed (``specs``: label -> spec) and turns
their results into tables, comparisons and figures (``analyse``). Results
come as ``R[label]``: one result dict per seed, in seed order. Comparisons
carry raw p-values; the runner applies Holm's correction across every
comparison of a run and sets the verdicts (:mod:`benchmarks.stats`).

To add an experiment, subclass :class:`Experiment` and append an instance to
:data:`EXPERIMENTS`.
"""

from __future__ import annotations

import itertools

import numpy as np

from .stats import paired_tests

PREDICTIONS = {
    "S1": "Student accuracy: hard labels <= universe <= {domain, instance} <= full "
    "(rho > 0, difficulty varies).",
    "S2": "Domain's gain over universe grows with rho and is about 0 at rho = 0.",
    "S3": "Instance's gain over universe grows with the spread of the oracle's "
    "q_c(x); about 0 when all instances are equally hard.",
    "S4": "The centred class-vector cosines correlate with the hierarchy more "
    "under KD than under hard labels, and more at higher T.",
    "S5": "A label-smoothed teacher yields a worse KD student than a plain "
    "teacher of the same accuracy.",
    "S6": "A teacher predicting its own training rows (over-confident) passes on "
    "less non-target mass and gives a worse student than the same teacher's "
    "out-of-fold predictions.",
    "S7": "Self-distillation: the student does not copy its teacher (test "
    "disagreement beyond 0.5 pp).",
    "S8": "With a confident teacher: NCKD >= KD >= TCKD; NCKD's edge grows with rho.",
    "S9": "KD and label-smoothing students are better calibrated (ECE, NLL) than "
    "hard-label ones.",
}

#: Smallest effect of interest per metric (the equivalence margin).
DELTA = dict(accuracy=0.005, geometry=0.05, ece=0.005, nll=0.01,
             non_target_mass=0.01, disagreement=0.005)

LEVELS = ["universe", "domain", "instance", "full"]
ALL_LEVELS = ["hard", *LEVELS]
#: The narrowest x range of a spread panel (sd of the oracle's q_c).
MIN_SPREAD_SPAN = 0.04


# ----------------------------------------------------------------- helpers
def data_spec(P, regime, *, rho=None, spread=None):
    rho = P["main"]["rho"] if rho is None else rho
    spread = spread or P["main"]["spread"]
    return {**P["data"], "class_similarity": rho,
            "hard_noise": P["spreads"][spread],
            "bayes_accuracy": P["regimes"][regime], "n_pool": max(P["sizes"])}


def grid(P):
    return [dict(temperature=t, alpha=a)
            for t, a in itertools.product(P["grid"]["temperature"], P["grid"]["alpha"])]


def hard_spec(P, family, data, n_train):
    return {"task": "hard", "data": data, "n_train": n_train,
            "family": P["families"][family]}


def arms_spec(P, family, data, n_train, teacher, arms=LEVELS):
    return {"task": "arms", "data": data, "n_train": n_train,
            "family": P["families"][family], "teacher": teacher,
            "teacher_params": P["teacher_params"], "arms": list(arms),
            "grid": grid(P)}


def arm_values(R, label, arm, metric):
    """Per-seed metric of one arm (``arm=None`` for a hard-label run)."""
    if arm is None:
        return np.array([r[metric] for r in R[label]], dtype=float)
    return np.array([r[arm][metric] for r in R[label]], dtype=float)


def grid_values(R, label, arm, metric, **point):
    """Per-seed metric of one arm at one fixed grid point."""
    out = []
    for r in R[label]:
        match = [g for g in r[arm]["grid"]
                 if all(g[k] == v for k, v in point.items())]
        out.append(match[0][metric] if match else np.nan)
    return np.array(out, dtype=float)


def compare(prediction, cid, description, differences, *, family,
            direction="greater", metric="accuracy", primary=True):
    return dict(prediction=prediction, id=cid, description=description,
                metric=metric, family=family, direction=direction,
                primary=primary, differences=[float(x) for x in differences],
                **paired_tests(differences, delta=DELTA[metric]))


def fmt(x, digits=3):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "-"
    return "nan" if not np.isfinite(x) else f"{x:.{digits}f}"


def mean_sd(x, digits=3):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return "nan"
    sd = x.std(ddof=1) if len(x) > 1 else 0.0
    return f"{fmt(x.mean(), digits)} ± {fmt(sd, digits)}"


def chosen(R, label, arm):
    """The most frequent (T, alpha) chosen across seeds, and its count."""
    picks = [(r[arm]["temperature"], r[arm]["alpha"]) for r in R[label]]
    best = max(set(picks), key=picks.count)
    return f"T={best[0]:g}, α={best[1]:g} ({picks.count(best)}/{len(picks)})"


def gap_closed(acc, hard, bayes):
    """Fraction of the hard-label student's gap to Bayes that an arm closes."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (acc - hard) / (bayes - hard)


def dial_row(R, label):
    dials = [r["dials"] for r in R[label]]
    keys = ["bayes_accuracy", "q_c_sd", "q_c_mean", "bayes_q_c_mean", "class_sep"]
    return {k: float(np.mean([d[k] for d in dials])) for k in keys}


def _level_figure_axes(ax, xs, means, sds, label, **kw):
    ax.errorbar(xs, means, yerr=sds, marker="o", capsize=3, label=label, **kw)


# ------------------------------------------------------------- experiments
class Experiment:
    name = ""
    title = ""
    predictions = ()
    design = ""
    threats = ""

    def specs(self, P):
        """label -> run spec (without seed)."""
        raise NotImplementedError

    def analyse(self, R, P):
        """-> dict(tables=[...], comparisons=[...], figures=[(file, fn)],
        dials={setting: measured dials})."""
        raise NotImplementedError


class KnowledgeLevels(Experiment):
    name = "levels"
    title = "Knowledge levels by teacher (S1, S4, S5, S9)"
    predictions = ("S1", "S4", "S5", "S9")
    design = (
        "Main setting (rho = 0.5, wide difficulty spread), each regime, each "
        "student family. Per teacher, the four levels are tuned arms; the "
        "hard-label student is shared. S1's verdict uses the x-only Bayes "
        "teacher in every regime (the best teacher a model of x could be); the "
        "other teachers' S1 comparisons are reported and enter the Holm family "
        "but not the verdict. S4 compares the centred class-vector geometry of "
        "the full arm with the hard-label student, and full KD at T = 4 with "
        "T = 1 (alpha = 0.9, from the arm's sweep) in the noisy regime. S5 "
        "compares the full arm of the Bayes teacher with that of the same "
        "teacher mixed 30 % with the uniform distribution (identical argmax: "
        "matched accuracy by construction). S9 compares ECE and NLL of the "
        "hard-label student with the full and universe (label-smoothing-like) "
        "arms of the Bayes teacher.")
    threats = (
        "One generator family and one main setting; in 30 dimensions the "
        "posterior given x nearly recovers each row's noise scale, so the "
        "privileged oracle and the Bayes teacher are close (compare their "
        "mean q_c in the dials table); the smoothed teacher of S5 "
        "is smoothed after the fact, not trained with label smoothing; arms are "
        "chosen on validation accuracy, so S9's calibration is a by-product; "
        "the hard-label student gets no tuned parameter.")

    def _teachers(self, P, regime):
        return P["teachers"][regime]

    def specs(self, P):
        out = {}
        for regime, family in itertools.product(P["regimes"], P["families"]):
            data = data_spec(P, regime)
            out[f"{regime}/{family}/hard"] = hard_spec(P, family, data, P["n_train"])
            for teacher in self._teachers(P, regime):
                out[f"{regime}/{family}/{teacher}"] = arms_spec(
                    P, family, data, P["n_train"], teacher)
            out[f"{regime}/{family}/bayes_smoothed"] = arms_spec(
                P, family, data, P["n_train"], "bayes_smoothed", ["full"])
        return out

    def analyse(self, R, P):
        comps, rows, picks, dials, geo_rows = [], [], [], {}, []
        gaps = {}
        for regime, family in itertools.product(P["regimes"], P["families"]):
            pre = f"{regime}/{family}"
            hard = arm_values(R, f"{pre}/hard", None, "accuracy")
            bayes = np.array([r["dials"]["bayes_accuracy"] for r in R[f"{pre}/hard"]])
            dials[f"{regime}, rho={P['main']['rho']}, spread={P['main']['spread']}"] = (
                dial_row(R, f"{pre}/hard"))
            for teacher in self._teachers(P, regime):
                lab = f"{pre}/{teacher}"
                acc = {a: arm_values(R, lab, a, "accuracy") for a in LEVELS}
                acc["hard"] = hard
                primary = teacher == "bayes"
                for cid, (a, b) in zip("abcde", [("universe", "hard"),
                                                ("domain", "universe"),
                                                ("instance", "universe"),
                                                ("full", "domain"),
                                                ("full", "instance")]):
                    comps.append(compare(
                        "S1", f"S1{cid}", f"{a} - {b} ({regime}, {teacher} teacher)",
                        acc[a] - acc[b], family=family, primary=primary))
                t_acc = [r["teacher"]["teacher_test_accuracy"] for r in R[lab]]
                rows.append([regime, family, teacher, mean_sd(t_acc)]
                            + [mean_sd(acc[a]) for a in ALL_LEVELS]
                            + [mean_sd(gap_closed(acc["full"], hard, bayes), 2)])
                picks.append([regime, family, teacher]
                             + [chosen(R, lab, a) for a in LEVELS])
                gaps[(regime, family, teacher)] = {
                    a: gap_closed(acc[a], hard, bayes) for a in LEVELS}
            # S5: plain vs smoothed Bayes teacher (full arm)
            full = arm_values(R, f"{pre}/bayes", "full", "accuracy")
            smooth = arm_values(R, f"{pre}/bayes_smoothed", "full", "accuracy")
            comps.append(compare("S5", "S5a", f"student(Bayes) - student(smoothed "
                                 f"Bayes) ({regime})", full - smooth, family=family))
            # S9: calibration, hard minus KD / universe
            for metric, tag in [("ece", "a"), ("nll", "b")]:
                h = arm_values(R, f"{pre}/hard", None, metric)
                for i, arm in enumerate(["full", "universe"]):
                    comps.append(compare(
                        "S9", f"S9{tag}{i + 1}",
                        f"{metric.upper()}: hard - {arm} ({regime})",
                        h - arm_values(R, f"{pre}/bayes", arm, metric),
                        family=family, metric=metric))
            # S4: centred geometry in the geometry regime
            if regime == P["geometry_regime"]:
                lab = f"{pre}/bayes"
                geo_hard = arm_values(R, f"{pre}/hard", None, "geometry")
                temps = P["grid"]["temperature"]
                a_hi = max(P["grid"]["alpha"])
                hi = grid_values(R, lab, "full", "geometry", temperature=temps[-1],
                                 alpha=a_hi)
                lo = grid_values(R, lab, "full", "geometry", temperature=temps[0],
                                 alpha=a_hi)
                comps += [
                    compare("S4", "S4a", f"geometry: full (tuned) - hard ({regime})",
                            arm_values(R, lab, "full", "geometry") - geo_hard,
                            family=family, metric="geometry"),
                    compare("S4", "S4b", f"geometry: full T={temps[-1]:g} - "
                            f"T={temps[0]:g}, alpha={a_hi:g} ({regime})", hi - lo,
                            family=family, metric="geometry"),
                ]
                geo_rows.append([family, mean_sd(geo_hard)] + [
                    mean_sd(grid_values(R, lab, "full", "geometry", temperature=T,
                                        alpha=a_hi)) for T in temps])
        tables = [
            ("Test accuracy (mean ± sd over seeds) of the hard-label student and "
             "of each tuned arm, by teacher; last column: fraction of the "
             "hard-label student's gap to Bayes closed by the full arm",
             ["regime", "student", "teacher", "teacher accuracy", *ALL_LEVELS,
              "gap closed (full)"], rows),
            ("Chosen (T, alpha) per arm: the most frequent choice and in how many "
             "seeds", ["regime", "student", "teacher", *LEVELS], picks),
        ]
        if geo_rows:
            temps = P["grid"]["temperature"]
            a_hi = max(P["grid"]["alpha"])
            tables.append((
                f"Correlation of centred class-vector cosines with the hierarchy "
                f"({P['geometry_regime']} regime; full arm at alpha = {a_hi:g})",
                ["student", "hard", *[f"full, T={T:g}" for T in temps]], geo_rows))

        def figure(_):
            import matplotlib.pyplot as plt

            regimes, families = list(P["regimes"]), list(P["families"])
            fig, axes = plt.subplots(len(families), len(regimes), sharey=True,
                                     figsize=(4.6 * len(regimes),
                                              3.4 * len(families)),
                                     squeeze=False, layout="constrained")
            x = np.arange(len(LEVELS))
            for (i, family), (j, regime) in itertools.product(
                    enumerate(families), enumerate(regimes)):
                ax = axes[i, j]
                teachers = [t for (r, f, t) in gaps if r == regime and f == family]
                for k, t in enumerate(teachers):
                    g = gaps[(regime, family, t)]
                    off = (k - (len(teachers) - 1) / 2) * 0.08
                    _level_figure_axes(ax, x + off,
                                       [np.nanmean(g[a]) for a in LEVELS],
                                       [np.nanstd(g[a]) for a in LEVELS], t)
                ax.axhline(0, color="grey", lw=0.8)
                ax.axhline(1, color="grey", lw=0.8, ls=":")
                ax.set_xticks(x, LEVELS)
                ax.set_title(f"{family} student, {regime} "
                             f"(Bayes {P['regimes'][regime]:.2f})", fontsize=10)
                if j == 0:
                    ax.set_ylabel("gap to Bayes closed\n(0 = hard labels, 1 = Bayes)")
            axes[0, 0].legend(fontsize=7, title="teacher", title_fontsize=7,
                              loc="center right")
            return fig

        return dict(tables=tables, comparisons=comps, dials=dials,
                    figures=[("levels_by_teacher.png", figure)])


class Dials(Experiment):
    name = "dials"
    title = "Knowledge levels vs class similarity and difficulty spread (S2, S3)"
    predictions = ("S2", "S3")
    design = (
        "Bayes teacher, tuned arms, n_train as in the main cells. Class "
        "similarity rho moves at the main spread; the spread of difficulty "
        "(hard rows' noise scale, easy rows at 1) moves at the main rho; each "
        "setting is recalibrated to the regime's Bayes accuracy, so neither "
        "dial changes how hard the task is. The spreads are ordered by their "
        "measured standard deviation of the oracle's q_c.")
    threats = (
        "Spread and rho are varied at one value of the other dial. 'No spread' "
        "fixes the noise scale, not the difficulty: the oracle's q_c still "
        "varies with each row's noise draw (see its measured sd), so S3's "
        "premise that all instances are equally hard is not reachable with "
        "this generator. 'About 0' is judged by equivalence within the 0.5 pp "
        "margin.")

    def _settings(self, P):
        for regime in P["dial_regimes"]:
            for rho in P["rhos"]:
                yield regime, "rho", rho, data_spec(P, regime, rho=rho)
            for spread in P["spreads"]:
                yield regime, "spread", spread, data_spec(P, regime, spread=spread)

    def specs(self, P):
        out = {}
        for regime, dial, value, data in self._settings(P):
            for family in P["families"]:
                pre = f"{regime}/{family}/{dial}={value}"
                out[f"{pre}/hard"] = hard_spec(P, family, data, P["n_train"])
                out[f"{pre}/bayes"] = arms_spec(P, family, data, P["n_train"],
                                                "bayes")
        return out

    def analyse(self, R, P):
        comps, rows, dials = [], [], {}
        curves = {}
        rhos, spreads = P["rhos"], list(P["spreads"])
        for regime, family in itertools.product(P["dial_regimes"], P["families"]):
            def gain(dial, value, a, b, pre=f"{regime}/{family}"):
                lab = f"{pre}/{dial}={value}/bayes"
                return (arm_values(R, lab, a, "accuracy")
                        - arm_values(R, lab, b, "accuracy"))

            lo, hi = rhos[0], rhos[-1]
            comps += [
                compare("S2", "S2a", f"(domain - universe) at rho={hi} minus at "
                        f"rho={lo} ({regime})",
                        gain("rho", hi, "domain", "universe")
                        - gain("rho", lo, "domain", "universe"), family=family),
                compare("S2", "S2b", f"domain - universe at rho={lo}, about 0 "
                        f"({regime})", gain("rho", lo, "domain", "universe"),
                        family=family, direction="zero"),
            ]
            s_lo, s_hi = spreads[0], spreads[-1]
            comps += [
                compare("S3", "S3a", f"(instance - universe) at spread={s_hi} minus "
                        f"at spread={s_lo} ({regime})",
                        gain("spread", s_hi, "instance", "universe")
                        - gain("spread", s_lo, "instance", "universe"),
                        family=family),
                compare("S3", "S3b", f"instance - universe at spread={s_lo}, about "
                        f"0 ({regime})", gain("spread", s_lo, "instance", "universe"),
                        family=family, direction="zero"),
            ]
            for dial, vals in [("rho", rhos), ("spread", spreads)]:
                for v in vals:
                    pre = f"{regime}/{family}/{dial}={v}"
                    d = dial_row(R, f"{pre}/hard")
                    dials[f"{regime}, {dial}={v}"] = d
                    accs = [arm_values(R, f"{pre}/hard", None, "accuracy")] + [
                        arm_values(R, f"{pre}/bayes", a, "accuracy") for a in LEVELS]
                    rows.append([regime, family, f"{dial}={v}",
                                 fmt(d["bayes_accuracy"]), fmt(d["q_c_sd"])]
                                + [mean_sd(a) for a in accs])
                    for a, b in [("domain", "universe"), ("instance", "universe")]:
                        g = gain(dial, v, a, b)
                        curves.setdefault((regime, family, dial, f"{a} - {b}"),
                                          []).append((v, d["q_c_sd"], g))
        tables = [(
            "Test accuracy (mean ± sd) by dial setting, with the measured Bayes "
            "accuracy and q_c standard deviation of the setting",
            ["regime", "student", "setting", "Bayes acc.", "q_c sd", *ALL_LEVELS],
            rows)]

        def figure(_):
            import matplotlib.pyplot as plt
            from matplotlib.ticker import MaxNLocator

            regimes, families = P["dial_regimes"], list(P["families"])
            ncol = 2 * len(regimes)
            fig, axes = plt.subplots(len(families), ncol, sharey="row",
                                     figsize=(3.9 * ncol, 3.3 * len(families)),
                                     squeeze=False, layout="constrained")
            for (i, family), (j, regime) in itertools.product(
                    enumerate(families), enumerate(regimes)):
                for k, dial in enumerate(["rho", "spread"]):
                    ax = axes[i, 2 * j + k]
                    for (r, f, dl, name), pts in curves.items():
                        if (r, f, dl) != (regime, family, dial):
                            continue
                        xs = [p[0] if dial == "rho" else p[1] for p in pts]
                        _level_figure_axes(ax, xs, [100 * p[2].mean() for p in pts],
                                           [100 * p[2].std() for p in pts], name)
                        if dial == "spread":
                            for p, xv in zip(pts, xs):
                                ax.annotate(p[0], (xv, 100 * p[2].mean()),
                                            textcoords="offset points",
                                            xytext=(3, 4), fontsize=7)
                    if dial == "spread":
                        # a dial that barely moves is drawn as barely moving,
                        # not stretched across the panel
                        lo, hi = ax.get_xlim()
                        if hi - lo < MIN_SPREAD_SPAN:
                            mid = (lo + hi) / 2
                            ax.set_xlim(mid - MIN_SPREAD_SPAN / 2,
                                        mid + MIN_SPREAD_SPAN / 2)
                    ax.axhline(0, color="grey", lw=0.8)
                    ax.axhspan(-0.5, 0.5, color="grey", alpha=0.15, lw=0)
                    ax.xaxis.set_major_locator(MaxNLocator(4))
                    ax.set_xlabel("class similarity rho" if dial == "rho" else
                                  "spread: sd of the oracle's q_c (measured)")
                    ax.set_title(f"{family}, {regime}: "
                                 f"{'class similarity' if dial == 'rho' else 'spread'}",
                                 fontsize=10)
                    if k == 0 and j == 0:
                        ax.set_ylabel("accuracy gain (pp)")
            axes[0, -1].legend(fontsize=7)
            fig.suptitle("Gains over universe (shaded: ±0.5 pp)", fontsize=10)
            return fig

        return dict(tables=tables, comparisons=comps, dials=dials,
                    figures=[("knowledge_levels.png", figure)])


class LearningCurves(Experiment):
    name = "learning_curve"
    title = "Learning curves: fraction of the gap to Bayes closed per level"
    predictions = ()
    design = (
        "Bayes teacher, main setting, tuned arms, at every training size of the "
        "profile; the headline number per level is the fraction of the "
        "hard-label student's gap to the Bayes accuracy that the level closes.")
    threats = "Descriptive: no verdict; the gap is noisy where it is small."

    def specs(self, P):
        out = {}
        for regime, family, n in itertools.product(P["curve_regimes"],
                                                   P["families"], P["sizes"]):
            data = data_spec(P, regime)
            out[f"{regime}/{family}/n={n}/hard"] = hard_spec(P, family, data, n)
            out[f"{regime}/{family}/n={n}/bayes"] = arms_spec(P, family, data, n,
                                                              "bayes")
        return out

    def analyse(self, R, P):
        rows, curves = [], {}
        for regime, family in itertools.product(P["curve_regimes"], P["families"]):
            for n in P["sizes"]:
                pre = f"{regime}/{family}/n={n}"
                hard = arm_values(R, f"{pre}/hard", None, "accuracy")
                bayes = np.array([r["dials"]["bayes_accuracy"]
                                  for r in R[f"{pre}/hard"]])
                g = {a: gap_closed(arm_values(R, f"{pre}/bayes", a, "accuracy"),
                                   hard, bayes) for a in LEVELS}
                rows.append([regime, family, n, mean_sd(hard),
                             fmt(bayes.mean())] + [mean_sd(g[a], 2) for a in LEVELS])
                for a in LEVELS:
                    curves.setdefault((regime, family, a), []).append((n, g[a]))
        tables = [("Fraction of the gap to Bayes closed (mean ± sd over seeds)",
                   ["regime", "student", "n_train", "hard accuracy", "Bayes",
                    *LEVELS], rows)]

        def figure(_):
            import matplotlib.pyplot as plt
            from matplotlib.ticker import NullFormatter

            keys = list(itertools.product(P["curve_regimes"], P["families"]))
            fig, axes = plt.subplots(1, len(keys), sharey=True,
                                     figsize=(4.4 * len(keys), 3.4), squeeze=False,
                                     layout="constrained")
            for ax, (regime, family) in zip(axes[0], keys):
                for a in LEVELS:
                    pts = curves[(regime, family, a)]
                    _level_figure_axes(ax, [p[0] for p in pts],
                                       [np.nanmean(p[1]) for p in pts],
                                       [np.nanstd(p[1]) for p in pts], a)
                ax.set_xscale("log")
                ax.set_xticks(P["sizes"], [str(n) for n in P["sizes"]])
                ax.xaxis.set_minor_formatter(NullFormatter())
                ax.axhline(0, color="grey", lw=0.8)
                ax.axhline(1, color="grey", lw=0.8, ls=":")
                ax.set(xlabel="training rows (log scale)",
                       title=f"{family}, {regime}")
            axes[0, 0].set_ylabel("gap to Bayes closed\n(0 = hard labels, 1 = Bayes)")
            axes[0, -1].legend(fontsize=7)
            return fig

        return dict(tables=tables, comparisons=[],
                    figures=[("learning_curves.png", figure)])


class DecoupledKD(Experiment):
    name = "dkd"
    title = "Decoupled KD with a confident teacher (S8)"
    predictions = ("S8",)
    design = (
        "Clean regime (Bayes 0.95) so that the Bayes teacher is confident (its "
        "measured mean q_c on the test rows is reported and should be >= 0.8); "
        "KD, NCKD (non-target term only) and TCKD (target term only) as tuned "
        "arms at each rho.")
    threats = (
        "DKD's claim was made for deep networks on images; here students are "
        "small and data are Gaussian.")

    def specs(self, P):
        regime = P["dkd"]["regime"]
        if regime not in P["regimes"]:
            return {}
        return {f"rho={rho}/{family}": arms_spec(
                    P, family, data_spec(P, regime, rho=rho), P["n_train"], "bayes",
                    ["full", "NCKD", "TCKD"])
                for rho in P["dkd"]["rhos"] for family in P["families"]}

    def analyse(self, R, P):
        rhos = P["dkd"]["rhos"]
        comps, rows = [], []
        variants = {"KD": "full", "NCKD": "NCKD", "TCKD": "TCKD"}
        for family in P["families"]:
            acc = {(r, v): arm_values(R, f"rho={r}/{family}", a, "accuracy")
                   for r in rhos for v, a in variants.items()}
            lo, hi = rhos[0], rhos[-1]
            edge = {r: acc[(r, "NCKD")] - acc[(r, "KD")] for r in (lo, hi)}
            comps += [
                compare("S8", "S8a", f"NCKD - KD (rho={hi})", edge[hi], family=family),
                compare("S8", "S8b", f"KD - TCKD (rho={hi})",
                        acc[(hi, "KD")] - acc[(hi, "TCKD")], family=family),
                compare("S8", "S8c", f"(NCKD - KD) at rho={hi} minus at rho={lo}",
                        edge[hi] - edge[lo], family=family),
            ]
            for r in rhos:
                q_c = [x["dials"]["bayes_q_c_mean"] for x in R[f"rho={r}/{family}"]]
                rows.append([family, r, fmt(np.mean(q_c))]
                            + [mean_sd(acc[(r, v)]) for v in variants]
                            + [chosen(R, f"rho={r}/{family}", a)
                               for a in variants.values()])
        tables = [("Test accuracy and chosen (T, alpha) per variant; the teacher's "
                   "mean q_c on the test rows",
                   ["student", "rho", "teacher mean q_c", *variants,
                    *[f"chosen {v}" for v in variants]], rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fams = list(P["families"])
            fig, axes = plt.subplots(1, len(fams), figsize=(4.4 * len(fams), 3.4),
                                     squeeze=False, layout="constrained")
            for ax, family in zip(axes[0], fams):
                for v, a in variants.items():
                    vals = [100 * arm_values(R, f"rho={r}/{family}", a, "accuracy")
                            for r in rhos]
                    _level_figure_axes(ax, rhos, [x.mean() for x in vals],
                                       [x.std() for x in vals], v)
                ax.set(xlabel="class similarity rho", ylabel="test accuracy (%)",
                       title=f"{family} student")
                ax.legend(fontsize=7)
            fig.suptitle("Decoupled KD (S8); y-axis spans the data, not 0-100",
                         fontsize=10)
            return fig

        return dict(tables=tables, comparisons=comps, figures=[("dkd.png", figure)])


class TeacherFailures(Experiment):
    name = "teacher_failures"
    title = "Over-confident teacher: in-sample vs out-of-fold predictions (S6)"
    predictions = ("S6",)
    design = (
        "Noisy regime, main setting. One over-trained MLP teacher (no "
        "regularisation, no early stopping) is fitted on the student's own "
        "training rows; the student learns from its in-sample predictions or "
        "from 5-fold out-of-fold predictions of the same teacher. The two "
        "teachers share the model class, the data and the final model, so "
        "their test accuracy is matched. Full arm, tuned.")
    threats = (
        "Out-of-fold predictions come from fold models fitted on 80 % of the "
        "rows; one teacher class.")

    def specs(self, P):
        if not P["run_overtrained"]:
            return {}
        regime = "noisy" if "noisy" in P["regimes"] else list(P["regimes"])[0]
        data = data_spec(P, regime)
        out = {}
        for family in P["families"]:
            out[f"{family}/hard"] = hard_spec(P, family, data, P["n_train"])
            for t in ("overtrained_in_sample", "overtrained_oof"):
                out[f"{family}/{t}"] = arms_spec(P, family, data, P["n_train"], t,
                                                 ["full"])
        return out

    def analyse(self, R, P):
        comps, rows, points = [], [], {}
        for family in P["families"]:
            def get(t, key, family=family):
                return np.array([r["teacher"][key] for r in R[f"{family}/{t}"]])

            ins, oof = "overtrained_in_sample", "overtrained_oof"
            acc = {t: arm_values(R, f"{family}/{t}", "full", "accuracy")
                   for t in (ins, oof)}
            comps += [
                compare("S6", "S6a", "teacher's training-set 1 - q_c: out-of-fold - "
                        "in-sample", get(oof, "teacher_train_non_target_mass")
                        - get(ins, "teacher_train_non_target_mass"), family=family,
                        metric="non_target_mass"),
                compare("S6", "S6b", "student: out-of-fold - in-sample teacher",
                        acc[oof] - acc[ins], family=family),
            ]
            hard = arm_values(R, f"{family}/hard", None, "accuracy")
            for t in (ins, oof):
                rows.append([family, t, mean_sd(get(t, "teacher_test_accuracy")),
                             mean_sd(get(t, "teacher_train_non_target_mass")),
                             mean_sd(acc[t]), mean_sd(acc[t] - hard),
                             chosen(R, f"{family}/{t}", "full")])
                points[(family, t)] = (get(t, "teacher_train_non_target_mass"),
                                       acc[t])
            points[(family, "hard")] = (None, hard)
        tables = [("Students of an over-trained teacher",
                   ["student", "teacher predictions", "teacher test accuracy",
                    "teacher train 1 - q_c", "student accuracy", "gain over hard",
                    "chosen"], rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fams = list(P["families"])
            fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
            names = ["hard", "overtrained_in_sample", "overtrained_oof"]
            width = 0.8 / len(fams)
            for k, family in enumerate(fams):
                vals = [100 * points[(family, n)][1] for n in names]
                axes[0].bar(np.arange(3) + k * width, [v.mean() for v in vals],
                            width, yerr=[v.std() for v in vals], capsize=3,
                            label=family)
            axes[0].set_xticks(np.arange(3) + width * (len(fams) - 1) / 2,
                               ["hard labels", "in-sample", "out-of-fold"])
            axes[0].set(ylabel="student test accuracy (%)", ylim=(0, 100),
                        title="Students by teacher predictions")
            axes[0].legend(fontsize=7)
            for family in fams:
                for n, marker in [("overtrained_in_sample", "o"),
                                  ("overtrained_oof", "s")]:
                    m, a = points[(family, n)]
                    axes[1].scatter(m, 100 * a, marker=marker, alpha=0.7,
                                    label=f"{family}, {n.split('_', 1)[1]}")
            axes[1].set(xlim=(0, 1), xlabel="teacher's mean training-set 1 - q_c",
                        ylabel="student test accuracy (%)", title="Per seed (S6)")
            axes[1].legend(fontsize=7)
            return fig

        return dict(tables=tables, comparisons=comps,
                    figures=[("teacher_failures.png", figure)])


class SelfDistillation(Experiment):
    name = "self_distillation"
    title = "Self-distillation fidelity (S7)"
    predictions = ("S7",)
    design = (
        "Noisy regime, main setting: a student of the same family trained with "
        "alpha = 1, T = 1 on a first student of the same family. The test "
        "disagreement with the teacher is compared with 0 under the 0.5 pp "
        "margin: equivalence (a faithful copy) and disagreement beyond the "
        "margin are both possible outcomes.")
    threats = "One temperature; the linear student can copy a linear teacher."

    def specs(self, P):
        regime = "noisy" if "noisy" in P["regimes"] else list(P["regimes"])[0]
        return {family: {"task": "self", "data": data_spec(P, regime),
                         "n_train": P["n_train"], "family": P["families"][family]}
                for family in P["families"]}

    def analyse(self, R, P):
        comps, rows = [], []
        for family in P["families"]:
            agree = arm_values(R, family, None, "teacher_agreement")
            comps.append(compare("S7", "S7a", "test disagreement with the teacher",
                                 1 - agree, family=family, metric="disagreement"))
            rows.append([family, mean_sd(agree, 4),
                         mean_sd(arm_values(R, family, None, "accuracy")),
                         mean_sd(arm_values(R, family, None,
                                            "teacher_test_accuracy"))])
        tables = [("Born-again students", ["student", "test agreement",
                                           "student accuracy", "teacher accuracy"],
                   rows)]
        return dict(tables=tables, comparisons=comps, figures=[])


#: The registry: the runner runs these in order. Add an experiment here.
EXPERIMENTS = [
    KnowledgeLevels(),
    Dials(),
    LearningCurves(),
    DecoupledKD(),
    TeacherFailures(),
    SelfDistillation(),
]
