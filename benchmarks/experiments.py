"""The experiments: which runs each needs and how it tests its predictions.

Each experiment lists its runs per seed (``specs``: label -> spec) and turns
their results into tables, one pre-registered *primary* contrast per
prediction and student family, *secondary* comparisons and figures
(``analyse``). Results come as ``R[label]``: one result dict per seed, in
seed order. The runner applies Holm's correction over the primaries and
Benjamini-Hochberg over the secondary comparisons (:mod:`benchmarks.stats`).

Every primary names the dial it rests on and the dial's measured range; a
primary whose dial did not move the quantity it claims to move is reported
as *untested*, not contradicted.

To add an experiment, subclass :class:`Experiment` and append an instance to
:data:`EXPERIMENTS`.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

from .stats import paired_tests, primary_test

PREDICTIONS = {
    "S1": "Non-inferiority chain: universe >= hard, domain >= universe, instance >= "
    "universe, full >= domain, full >= instance, each within 0.5 pp; and full > "
    "hard.",
    "S2": "Class-relation knowledge: domain - domain_shuffled > 0 where the teacher "
    "carries class relations; it grows with the measured KL(R_bar || U).",
    "S3": "Instance-specific knowledge: instance - instance_shuffled > 0 at every "
    "spread; the spread-controlled part (instance_sigma - universe) grows with the "
    "measured sd of q_T,c.",
    "S4": "The centred class-vector cosines match the hierarchy better under KD than "
    "under hard labels; with an over-confident teacher, more at higher T.",
    "S5": "A teacher trained with label smoothing yields a worse KD student than a "
    "plain teacher of the same accuracy.",
    "S6": "A teacher predicting its own training rows passes on less non-target mass "
    "and gives a worse student than the same teacher's out-of-fold predictions.",
    "S7": "Self-distillation: test disagreement with the teacher beyond 0.5 pp.",
    "S8": "With a confident teacher: NCKD >= KD >= TCKD (within 0.5 pp); NCKD's "
    "edge grows with the measured non-target information.",
    "S9": "KD students are better refined than hard-label ones: lower test NLL "
    "after temperature scaling on validation rows.",
}

#: Smallest effect of interest per metric (the margin of the tests).
DELTA = dict(accuracy=0.005, geometry=0.05, ece=0.005, nll=0.01,
             non_target_mass=0.01, disagreement=0.005)

LEVELS = ["universe", "domain", "instance", "full"]
PLACEBOS = ["instance_shuffled", "domain_shuffled"]
MAIN_ARMS = [*LEVELS, *PLACEBOS]
ALL_LEVELS = ["hard", *MAIN_ARMS]
#: A dial has moved when its measured quantity exceeds these.
MIN_KL = 0.05  # nats of class-relation information
MIN_Q_SD = 0.02  # sd of q_T,c
MIN_NON_TARGET_GAP = 0.05  # non-target mass, out-of-fold minus in-sample
MIN_CONFIDENT = 0.8  # mean q_c of a "confident" teacher
MAX_TEACHER_GAP = 0.01  # |accuracy difference| of "matched" teachers


# ----------------------------------------------------------------- helpers
def data_spec(P, regime, *, rho=None, spread=None, heterogeneity=None):
    rho = P["main"]["rho"] if rho is None else rho
    spread = spread or P["main"]["spread"]
    h = P["main"]["heterogeneity"] if heterogeneity is None else heterogeneity
    return {**P["data"], "class_similarity": rho, "sibling_heterogeneity": h,
            "hard_noise": P["spreads"][spread],
            "bayes_accuracy": P["regimes"][regime], "n_pool": max(P["sizes"])}


def grid(P):
    return [dict(temperature=t, alpha=a)
            for t, a in itertools.product(P["grid"]["temperature"], P["grid"]["alpha"])]


def hard_grid(P):
    """Weight decays for the hard-label student: as many fits as a KD arm."""
    n = len(grid(P))
    decays = [0.0, *np.geomspace(1e-5, 1e-1, n - 1).tolist()] if n > 1 else [0.0]
    return [dict(weight_decay=float(w)) for w in decays]


def hard_spec(P, family, data, n_train):
    return {"task": "hard", "data": data, "n_train": n_train,
            "family": P["families"][family], "grid": hard_grid(P)}


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


def chosen_T(R, label, arm):
    return [r[arm]["temperature"] for r in R[label]]


def teacher_dial(R, label, key, arm=None, source="dials"):
    """Mean over seeds of a teacher dial, each seed at its arm's chosen T
    (``arm=None``: at T = 1)."""
    vals = []
    for r in R[label]:
        T = 1.0 if arm is None else r[arm]["temperature"]
        table = r["dials"]["bayes_by_T"] if source == "dials" else r["teacher"]["by_T"]
        vals.append(table[f"T={T:g}"][key])
    return float(np.nanmean(vals))


def compare(prediction, cid, description, differences, *, family,
            metric="accuracy"):
    """A secondary comparison: reported, never part of a verdict."""
    return dict(prediction=prediction, id=cid, description=description,
                metric=metric, family=family, primary=False,
                differences=[float(x) for x in differences],
                **paired_tests(differences, delta=DELTA[metric]))


def part(label, differences, direction="greater", metric="accuracy"):
    return dict(label=label, differences=np.asarray(differences, dtype=float),
                direction=direction, metric=metric, delta=DELTA[metric])


def primary(prediction, family, description, parts, *, dial="-", moved=True):
    """The one primary contrast of a prediction and family."""
    return dict(prediction=prediction, family=family, description=description,
                dial=dial, moved=bool(moved), primary=True, **primary_test(parts))


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


def chosen(R, label, arm, P=None):
    """The most frequent (T, alpha) chosen across seeds and its count; a
    choice on the edge of the grid (largest T, smallest alpha below 1, or
    T = 1) is flagged 'edge'."""
    picks = [(r[arm]["temperature"], r[arm]["alpha"]) for r in R[label]]
    best = max(set(picks), key=picks.count)
    text = f"T={best[0]:g}, α={best[1]:g} ({picks.count(best)}/{len(picks)})"
    if P is not None:
        temps, alphas = P["grid"]["temperature"], P["grid"]["alpha"]
        edge = best[0] == max(temps) or (best[1] == min(alphas) and min(alphas) > 0)
        if edge:
            text += " edge"
    return text


def ci(x, confidence=0.95):
    """Mean and half-width of the Student t-interval of ``x`` (over seeds)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else np.nan), np.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(
        len(x))
    return float(x.mean()), float(half)


def errorbars(ax, xs, samples, label, scale=1.0, names=None, **kw):
    """Means with 95 % t-intervals over seeds; ``names`` label the points."""
    stats_ = [ci(scale * np.asarray(s)) for s in samples]
    ax.errorbar(xs, [m for m, _ in stats_], yerr=[h for _, h in stats_],
                marker="o", capsize=3, label=label, **kw)
    for x, (m, _), name in zip(xs, stats_, names or []):
        ax.annotate(name, (x, m), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)


def no_effect_band(ax, label="±0.5 pp"):
    """The zero line and the band of the smallest effect of interest."""
    ax.axhline(0, color="grey", lw=0.8)
    ax.axhspan(-0.5, 0.5, color="grey", alpha=0.15, lw=0, label=label)


def legend_below(fig, axes, ncol=4):
    handles, labels = [], []
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=7,
               title="bars: 95 % t-intervals over paired seeds", title_fontsize=7)


def dial_summary(R, label):
    dials = [r["dials"] for r in R[label]]
    keys = ["bayes_accuracy", "q_c_sd", "q_c_mean", "bayes_q_c_mean", "class_sep"]
    out = {k: float(np.mean([d[k] for d in dials])) for k in keys}
    for T in dials[0]["bayes_by_T"]:
        for k in ("q_c_sd", "kl_overall", "kl_siblings"):
            out[f"{k} {T}"] = float(np.nanmean([d["bayes_by_T"][T][k]
                                                for d in dials]))
    return out


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
        """-> dict(tables=[...], primaries=[...], comparisons=[...],
        figures=[(file, fn)], dials={setting: measured dials})."""
        raise NotImplementedError


class KnowledgeLevels(Experiment):
    name = "levels"
    title = "Knowledge levels and their placebos (S1, S4, S9)"
    predictions = ("S1", "S4", "S9")
    design = (
        "Main setting (rho and sibling heterogeneity as in the profile, wide "
        "difficulty spread), each regime, each student family. The Bayes "
        "teacher (exact posterior given x) gives six tuned arms: the four "
        "levels and the placebos instance_shuffled and domain_shuffled. The "
        "hard-label student is tuned over as many weight decays as a KD arm "
        "has grid points, on the same validation rows. S1's primary is the "
        "noisy regime: five non-inferiority links at 0.5 pp and full > hard, "
        "all required (intersection-union). S4's primary needs both the tuned "
        "full arm's geometry above the hard student's (Bayes teacher) and, "
        "with an over-confident teacher (the Bayes posterior sharpened to the "
        "power of the profile's overconfidence: same argmax), geometry at the "
        "largest T above T = 1 at alpha = 0.9. S9's primary: test NLL after "
        "temperature scaling fitted on the validation rows, hard minus full; "
        "ECE before scaling is secondary. Other teachers are secondary.")
    threats = (
        "The hard-label student's budget is spent on weight decay, the KD arms' "
        "on (T, alpha) with the family's own regularisation, so universe - hard "
        "compares label smoothing with tuned L2, not with no regulariser. Arms "
        "that hurt (the placebos) choose the grid's smallest alpha: tuned "
        "further they would tend to the hard-label student with the family's "
        "regularisation (for the linear family 'hard, wd=0'), so a "
        "level-minus-placebo contrast may overstate the gap by at most the "
        "placebo's remaining deficit to it. "
        "One generator family; arms are chosen on validation accuracy, so "
        "calibration is a by-product (hence scaling before comparing NLL); "
        "the over-confident teacher is a transformation of the exact "
        "posterior, not a trained model.")

    def specs(self, P):
        out = {}
        for regime, family in itertools.product(_level_regimes(P), P["families"]):
            data = data_spec(P, regime)
            out[f"{regime}/{family}/hard"] = hard_spec(P, family, data, P["n_train"])
            out[f"{regime}/{family}/bayes"] = arms_spec(
                P, family, data, P["n_train"], "bayes", MAIN_ARMS)
            for teacher in P["teachers"].get(regime, []):
                out[f"{regime}/{family}/{teacher}"] = arms_spec(
                    P, family, data, P["n_train"], teacher, LEVELS)
            if regime == P["geometry_regime"]:
                out[f"{regime}/{family}/bayes_overconfident"] = arms_spec(
                    P, family, data, P["n_train"], "bayes_overconfident", ["full"])
        return out

    def analyse(self, R, P):
        prims, comps, rows, picks, dials, geo_rows = [], [], [], [], {}, []
        gains = {}
        main_regime = P["primary_regime"]
        temps = P["grid"]["temperature"]
        a_geo = P["geometry_alpha"]
        for regime, family in itertools.product(_level_regimes(P), P["families"]):
            pre = f"{regime}/{family}"
            hard = arm_values(R, f"{pre}/hard", None, "accuracy")
            dials[f"{regime}, main setting"] = dial_summary(R, f"{pre}/hard")
            lab = f"{pre}/bayes"
            acc = {a: arm_values(R, lab, a, "accuracy") for a in MAIN_ARMS}
            acc["hard"] = hard
            gains[(regime, family)] = {a: acc[a] - hard for a in MAIN_ARMS}
            links = [("universe", "hard"), ("domain", "universe"),
                     ("instance", "universe"), ("full", "domain"),
                     ("full", "instance")]
            parts = [part(f"{a} - {b} > -0.5 pp", acc[a] - acc[b], "noninferior")
                     for a, b in links]
            parts.append(part("full - hard > 0", acc["full"] - hard))
            if regime == main_regime:
                prims.append(primary(
                    "S1", family, f"non-inferiority chain and full > hard "
                    f"({regime}, Bayes teacher)", parts,
                    dial=f"Bayes teacher at the full arm's chosen T: sd of q_T,c "
                    f"{teacher_dial(R, lab, 'q_c_sd', 'full'):.3f}, "
                    f"KL(R_bar||U) {teacher_dial(R, lab, 'kl_overall', 'full'):.3f}"
                    " nats"))
            else:
                for p in parts:
                    comps.append(compare("S1", "S1-sec", f"{p['label']} ({regime})",
                                         p["differences"], family=family))
            for a, b in [("instance", "instance_shuffled"),
                         ("domain", "domain_shuffled"),
                         ("instance_shuffled", "universe"),
                         ("domain_shuffled", "universe")]:
                comps.append(compare("S1", "placebo", f"{a} - {b} ({regime})",
                                     acc[a] - acc[b], family=family))
            for teacher in P["teachers"].get(regime, []):
                tl = f"{pre}/{teacher}"
                for a in LEVELS:
                    comps.append(compare(
                        "S1", "teacher", f"{a} - hard ({regime}, {teacher} teacher)",
                        arm_values(R, tl, a, "accuracy") - hard, family=family))
            untuned = np.array([[g["accuracy"] for g in r["grid"]
                                 if g["weight_decay"] == 0.0][0]
                                for r in R[f"{pre}/hard"]])
            rows.append([regime, family, "bayes", mean_sd(untuned)]
                        + [mean_sd(acc[a]) for a in ALL_LEVELS])
            picks.append([regime, family, "bayes", _hard_pick(R, f"{pre}/hard")]
                         + [chosen(R, lab, a, P) for a in MAIN_ARMS])
            # S9: refinement after temperature scaling; ECE before (secondary)
            h_nll = arm_values(R, f"{pre}/hard", None, "nll_scaled")
            f_nll = arm_values(R, lab, "full", "nll_scaled")
            s9 = part("NLL after scaling: hard - full > 0", h_nll - f_nll,
                      metric="nll")
            t_hard = np.mean(arm_values(R, f"{pre}/hard", None,
                                        "scaling_temperature"))
            t_full = np.mean(arm_values(R, lab, "full", "scaling_temperature"))
            if regime == main_regime:
                prims.append(primary(
                    "S9", family, f"test NLL after temperature scaling: hard - full "
                    f"({regime})", [s9], dial=f"scaling T: hard {t_hard:.2f}, full "
                    f"{t_full:.2f}"))
            else:
                comps.append(compare("S9", "S9-sec", f"NLL after scaling: hard - "
                                     f"full ({regime})", s9["differences"],
                                     family=family, metric="nll"))
            for metric in ("ece", "nll", "ece_scaled"):
                for arm in ("full", "universe"):
                    comps.append(compare(
                        "S9", metric, f"{metric}: hard - {arm} ({regime})",
                        arm_values(R, f"{pre}/hard", None, metric)
                        - arm_values(R, lab, arm, metric), family=family,
                        metric=metric.split("_")[0]))
            # S4: geometry
            if regime == P["geometry_regime"]:
                ol = f"{pre}/bayes_overconfident"
                geo_hard = arm_values(R, f"{pre}/hard", None, "geometry")
                geo_full = arm_values(R, lab, "full", "geometry")
                hi = grid_values(R, ol, "full", "geometry", temperature=temps[-1],
                                 alpha=a_geo)
                lo = grid_values(R, ol, "full", "geometry", temperature=temps[0],
                                 alpha=a_geo)
                q_bayes = np.mean([r["teacher"]["teacher_train_confidence"]
                                   for r in R[lab]])
                q_over = np.mean([r["teacher"]["teacher_train_confidence"]
                                  for r in R[ol]])
                prims.append(primary(
                    "S4", family, f"geometry: full (tuned, Bayes) - hard; and "
                    f"over-confident teacher T={temps[-1]:g} - T={temps[0]:g} "
                    f"at alpha={a_geo:g} ({regime})",
                    [part("full - hard", geo_full - geo_hard, metric="geometry"),
                     part(f"over-confident T={temps[-1]:g} - T={temps[0]:g}",
                          hi - lo, metric="geometry")],
                    dial=f"teacher mean max-probability (its accuracy is the "
                    f"Bayes accuracy): Bayes {q_bayes:.3f}, over-confident "
                    f"{q_over:.3f}; T {temps[0]:g} to {temps[-1]:g}",
                    moved=q_over - q_bayes > 0.05))
                geo_rows.append([family, mean_sd(geo_hard), mean_sd(geo_full)] + [
                    mean_sd(grid_values(R, ol, "full", "geometry", temperature=T,
                                        alpha=a_geo)) for T in temps])
                gains[(regime, family, "geometry")] = dict(
                    hard=geo_hard, temps=temps, over=[grid_values(
                        R, ol, "full", "geometry", temperature=T, alpha=a_geo)
                        for T in temps])
        tables = [
            ("Test accuracy (mean ± sd over seeds) of the tuned hard-label student "
             "and of each tuned arm of the Bayes teacher, placebos included; "
             "'hard, wd=0' is the hard-label student without weight decay (for "
             "the linear family, whose arms have none, the limit of any arm as "
             "alpha goes to 0; the MLP arms keep the family's weight decay)",
             ["regime", "student", "teacher", "hard, wd=0", *ALL_LEVELS], rows),
            ("Chosen settings: the hard student's weight decay, and (T, alpha) per "
             "arm: the most frequent choice and in how many seeds ('edge': on the "
             "grid's edge)", ["regime", "student", "teacher", "hard", *MAIN_ARMS],
             picks),
        ]
        if geo_rows:
            tables.append((
                "Correlation of centred class-vector cosines with the hierarchy "
                f"({P['geometry_regime']} regime): hard, tuned full arm (Bayes "
                f"teacher), and the over-confident teacher's full arm at alpha = "
                f"{a_geo:g} by T", ["student", "hard", "full (Bayes, tuned)",
                                    *[f"over-confident T={T:g}" for T in temps]],
                geo_rows))

        def figure(_):
            import matplotlib.pyplot as plt

            regimes, families = _level_regimes(P), list(P["families"])
            fig, axes = plt.subplots(1, len(regimes) * len(families),
                                     figsize=(3.6 * len(regimes) * len(families),
                                              3.8), squeeze=False, sharey=True,
                                     layout="constrained")
            x = np.arange(len(MAIN_ARMS))
            for ax, (regime, family) in zip(axes[0], itertools.product(
                    regimes, families)):
                g = gains[(regime, family)]
                errorbars(ax, x, [g[a] for a in MAIN_ARMS], "gain over the tuned "
                          "hard-label student", scale=100, ls="none")
                no_effect_band(ax, "±0.5 pp (smallest effect of interest)")
                ax.set_xticks(x, MAIN_ARMS, rotation=35, ha="right", fontsize=8)
                ax.set_title(f"{family} student, {regime} (Bayes teacher)",
                             fontsize=9)
            axes[0, 0].set_ylabel("test accuracy gain (pp)")
            legend_below(fig, axes, ncol=2)
            return fig

        def geometry_figure(_):
            import matplotlib.pyplot as plt

            families = list(P["families"])
            fig, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families),
                                                                3.6),
                                     squeeze=False, sharey=True,
                                     layout="constrained")
            for ax, family in zip(axes[0], families):
                g = gains.get((P["geometry_regime"], family, "geometry"))
                if g is None:
                    continue
                errorbars(ax, g["temps"], g["over"], "over-confident teacher, "
                          f"full arm, alpha={a_geo:g}")
                m, h = ci(g["hard"])
                ax.axhspan(m - h, m + h, color="tab:red", alpha=0.2, lw=0,
                           label="tuned hard-label student (95 % CI)")
                ax.set_xscale("log", base=2)
                ax.set_xticks(g["temps"], [f"{t:g}" for t in g["temps"]])
                ax.set(xlabel="temperature T", title=f"{family} student")
            axes[0, 0].set_ylabel("corr(centred cosines, same super-class)")
            legend_below(fig, axes, ncol=2)
            return fig

        figures = [("knowledge_levels.png", figure)]
        if geo_rows:
            figures.append(("geometry.png", geometry_figure))
        return dict(tables=tables, primaries=prims, comparisons=comps, dials=dials,
                    figures=figures)


def _level_regimes(P):
    return list(P.get("level_regimes") or P["regimes"])


def _hard_pick(R, label):
    picks = [r["weight_decay"] for r in R[label]]
    best = max(set(picks), key=picks.count)
    return f"wd={best:.0e} ({picks.count(best)}/{len(picks)})"


class ClassRelations(Experiment):
    name = "relations"
    title = "Class-relation knowledge against its placebo (S2)"
    predictions = ("S2",)
    design = (
        "Bayes teacher, noisy regime, main rho and spread; the sibling "
        "heterogeneity dial moves class relations inside the super-classes at "
        "fixed Bayes accuracy. Arms universe, domain and domain_shuffled, "
        "tuned. Primary: domain - domain_shuffled > 0 at the largest "
        "heterogeneity; its dial is the class-relation information KL(R_bar || "
        "U) of the softened teacher at the domain arm's chosen T (untested "
        "below 0.05 nats). Secondary: the same contrast at the smallest "
        "heterogeneity and its growth.")
    threats = (
        "A derangement of the classes also breaks the super-class block, so "
        "the placebo removes both levels of relation; the growth contrast has "
        "the dial range printed beside it.")

    def specs(self, P):
        out = {}
        regime = P["primary_regime"]
        for h, family in itertools.product(P["heterogeneities"], P["families"]):
            data = data_spec(P, regime, heterogeneity=h)
            out[f"h={h}/{family}"] = arms_spec(
                P, family, data, P["n_train"], "bayes",
                ["universe", "domain", "domain_shuffled"])
        return out

    def analyse(self, R, P):
        prims, comps, rows, dials, curves = [], [], [], {}, {}
        hs = P["heterogeneities"]
        for family in P["families"]:
            diff, kl = {}, {}
            for h in hs:
                lab = f"h={h}/{family}"
                acc = {a: arm_values(R, lab, a, "accuracy")
                       for a in ("universe", "domain", "domain_shuffled")}
                diff[h] = acc["domain"] - acc["domain_shuffled"]
                kl[h] = dict(
                    overall=teacher_dial(R, lab, "kl_overall", "domain"),
                    siblings=teacher_dial(R, lab, "kl_siblings", "domain"),
                    siblings_T1=teacher_dial(R, lab, "kl_siblings"))
                dials[f"{P['primary_regime']}, heterogeneity={h}"] = dial_summary(
                    R, lab)
                rows.append([family, h, fmt(kl[h]["siblings_T1"]),
                             fmt(kl[h]["overall"]), fmt(kl[h]["siblings"])]
                            + [mean_sd(acc[a]) for a in acc]
                            + [chosen(R, lab, "domain", P)])
                curves.setdefault(family, []).append(
                    (kl[h]["siblings_T1"], diff[h], acc["domain"] - acc["universe"]))
            lo, hi = hs[0], hs[-1]
            prims.append(primary(
                "S2", family, f"domain - domain_shuffled at heterogeneity={hi}",
                [part("domain - domain_shuffled", diff[hi])],
                dial=f"KL at chosen T: overall {kl[hi]['overall']:.3f}, siblings "
                f"{kl[hi]['siblings']:.3f} nats (siblings at T=1: "
                f"{kl[lo]['siblings_T1']:.3f} at h={lo} to "
                f"{kl[hi]['siblings_T1']:.3f} at h={hi})",
                moved=kl[hi]["overall"] >= MIN_KL))
            comps += [
                compare("S2", "S2-lo", f"domain - domain_shuffled at "
                        f"heterogeneity={lo}", diff[lo], family=family),
                compare("S2", "S2-growth", f"(domain - domain_shuffled) at h={hi} "
                        f"minus at h={lo} (sibling KL {kl[lo]['siblings_T1']:.3f} "
                        f"to {kl[hi]['siblings_T1']:.3f})", diff[hi] - diff[lo],
                        family=family),
            ]
        tables = [("Test accuracy by sibling heterogeneity; measured class-relation "
                   "information of the Bayes teacher (nats): among siblings at T = "
                   "1, and overall and among siblings at the domain arm's chosen T",
                   ["student", "heterogeneity", "sibling KL (T=1)",
                    "overall KL (chosen T)", "sibling KL (chosen T)", "universe",
                    "domain", "domain_shuffled", "chosen (domain)"], rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fams = list(P["families"])
            fig, axes = plt.subplots(1, len(fams), figsize=(4.3 * len(fams), 3.6),
                                     squeeze=False, sharey=True,
                                     layout="constrained")
            for ax, family in zip(axes[0], fams):
                pts = curves[family]
                xs = [p[0] for p in pts]
                errorbars(ax, xs, [p[1] for p in pts], "domain - domain_shuffled",
                          scale=100, names=[f"h={h}" for h in hs])
                errorbars(ax, xs, [p[2] for p in pts], "domain - universe",
                          scale=100, ls="--")
                no_effect_band(ax)
                ax.set(xlabel="measured sibling KL(R_bar || U) at T=1 (nats)",
                       title=f"{family} student")
            axes[0, 0].set_ylabel("test accuracy difference (pp)")
            legend_below(fig, axes, ncol=3)
            return fig

        return dict(tables=tables, primaries=prims, comparisons=comps, dials=dials,
                    figures=[("class_relations.png", figure)])


class InstanceKnowledge(Experiment):
    name = "instance"
    title = "Instance-specific knowledge against its placebo (S3)"
    predictions = ("S3",)
    design = (
        "Bayes teacher, noisy regime, main rho and heterogeneity; the spread "
        "of difficulty (hard rows' noise scale, easy rows at 1) moves at fixed "
        "Bayes accuracy. Arms universe, instance, instance_shuffled and "
        "instance_sigma (q_T,c averaged within class x noise level), tuned. "
        "Primary: instance - instance_shuffled > 0 at every spread "
        "(intersection-union); its dial is the sd of q_T,c at the instance "
        "arm's chosen T (untested below 0.02). Secondary: (instance_sigma - "
        "universe) at the widest spread minus at none, beside the measured "
        "sd of q_T,c at the arm's chosen T.")
    threats = (
        "At fixed Bayes accuracy the sd of q_c is bounded; the spread dial "
        "moves it more at high T, which is why the dial is measured at the "
        "chosen T.")

    def specs(self, P):
        out = {}
        regime = P["primary_regime"]
        for spread, family in itertools.product(P["spreads"], P["families"]):
            data = data_spec(P, regime, spread=spread)
            out[f"spread={spread}/{family}"] = arms_spec(
                P, family, data, P["n_train"], "bayes",
                ["universe", "instance", "instance_shuffled", "instance_sigma"])
        return out

    def analyse(self, R, P):
        prims, comps, rows, dials, curves = [], [], [], {}, {}
        spreads = list(P["spreads"])
        arms = ["universe", "instance", "instance_shuffled", "instance_sigma"]
        for family in P["families"]:
            diffs, sigma_gain, sd = {}, {}, {}
            for s in spreads:
                lab = f"spread={s}/{family}"
                acc = {a: arm_values(R, lab, a, "accuracy") for a in arms}
                diffs[s] = acc["instance"] - acc["instance_shuffled"]
                sigma_gain[s] = acc["instance_sigma"] - acc["universe"]
                sd[s] = dict(instance=teacher_dial(R, lab, "q_c_sd", "instance"),
                             sigma=teacher_dial(R, lab, "q_c_sd", "instance_sigma"),
                             T1=teacher_dial(R, lab, "q_c_sd"))
                dials[f"{P['primary_regime']}, spread={s}"] = dial_summary(R, lab)
                rows.append([family, s, fmt(sd[s]["T1"]), fmt(sd[s]["instance"]),
                             fmt(sd[s]["sigma"])] + [mean_sd(acc[a]) for a in arms]
                            + [chosen(R, lab, "instance", P)])
                curves.setdefault(family, []).append(
                    (sd[s]["instance"], diffs[s], sd[s]["sigma"], sigma_gain[s]))
            sds = [sd[s]["instance"] for s in spreads]
            prims.append(primary(
                "S3", family, "instance - instance_shuffled > 0 at every spread",
                [part(f"spread={s}", diffs[s]) for s in spreads],
                dial="sd of q_T,c at chosen T: " + ", ".join(
                    f"{s} {sd[s]['instance']:.3f}" for s in spreads),
                moved=min(sds) >= MIN_Q_SD))
            lo, hi = spreads[0], spreads[-1]
            comps.append(compare(
                "S3", "S3-sigma", f"(instance_sigma - universe) at spread={hi} minus "
                f"at {lo} (sd q_T,c {sd[lo]['sigma']:.3f} to {sd[hi]['sigma']:.3f})",
                sigma_gain[hi] - sigma_gain[lo], family=family))
            for s in spreads:
                comps.append(compare("S3", "S3-shape", f"instance_shuffled - universe "
                                     f"(spread={s})", arm_values(
                                         R, f"spread={s}/{family}",
                                         "instance_shuffled", "accuracy")
                                     - arm_values(R, f"spread={s}/{family}",
                                                  "universe", "accuracy"),
                                     family=family))
        tables = [("Test accuracy by spread; measured sd of the Bayes teacher's "
                   "q_T,c at T = 1 and at the chosen T of the instance and "
                   "instance_sigma arms",
                   ["student", "spread", "sd q_c (T=1)", "sd q_T,c (instance T)",
                    "sd q_T,c (instance_sigma T)", *arms, "chosen (instance)"],
                   rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fams = list(P["families"])
            fig, axes = plt.subplots(1, len(fams), figsize=(4.3 * len(fams), 3.6),
                                     squeeze=False, sharey=True,
                                     layout="constrained")
            for ax, family in zip(axes[0], fams):
                pts = curves[family]
                errorbars(ax, [p[0] for p in pts], [p[1] for p in pts],
                          "instance - instance_shuffled (x: instance arm's T)",
                          scale=100, names=spreads)
                errorbars(ax, [p[2] for p in pts], [p[3] for p in pts],
                          "instance_sigma - universe (x: its arm's T)", scale=100,
                          ls="--", names=spreads)
                no_effect_band(ax)
                ax.set(xlabel="measured sd of q_T,c at the chosen T",
                       title=f"{family} student")
            axes[0, 0].set_ylabel("test accuracy difference (pp)")
            legend_below(fig, axes, ncol=2)
            return fig

        return dict(tables=tables, primaries=prims, comparisons=comps, dials=dials,
                    figures=[("instance_knowledge.png", figure)])


class SmoothedTeacher(Experiment):
    name = "smoothing"
    title = "A teacher trained with label smoothing (S5)"
    predictions = ("S5",)
    design = (
        "Noisy regime, main setting. Two MLP teachers of the same architecture "
        "and budget are trained on the teacher rows, one with plain "
        "cross-entropy and one with label smoothing; each teaches a tuned full "
        "arm. Primary: student(plain) - student(smoothed) > 0; untested unless "
        "the teachers' test accuracies match within 1 pp. The dial is the "
        "teachers' class-relation information at T = 1.")
    threats = "One architecture and one smoothing value; matching is checked, "\
        "not enforced."

    def specs(self, P):
        regime = P["primary_regime"]
        data = data_spec(P, regime)
        return {f"{family}/{t}": arms_spec(P, family, data, P["n_train"], t,
                                           ["full"])
                for family in P["families"] for t in ("mlp_plain", "mlp_smoothed")}

    def analyse(self, R, P):
        prims, rows = [], []
        for family in P["families"]:
            def get(t, key, family=family):
                return np.array([r["teacher"][key] for r in R[f"{family}/{t}"]])

            acc = {t: arm_values(R, f"{family}/{t}", "full", "accuracy")
                   for t in ("mlp_plain", "mlp_smoothed")}
            t_acc = {t: get(t, "teacher_test_accuracy") for t in acc}
            kl = {t: np.mean([r["teacher"]["by_T"]["T=1"]["kl_overall"]
                              for r in R[f"{family}/{t}"]]) for t in acc}
            gap = float(np.mean(t_acc["mlp_plain"] - t_acc["mlp_smoothed"]))
            prims.append(primary(
                "S5", family, "student(plain teacher) - student(label-smoothed "
                "teacher)", [part("plain - smoothed", acc["mlp_plain"]
                                  - acc["mlp_smoothed"])],
                dial=f"teacher accuracy gap {100 * gap:.2f} pp; teacher KL(R_bar||U) "
                f"at T=1: plain {kl['mlp_plain']:.3f}, smoothed "
                f"{kl['mlp_smoothed']:.3f}",
                moved=abs(gap) <= MAX_TEACHER_GAP))
            for t in acc:
                rows.append([family, t, mean_sd(t_acc[t]), fmt(kl[t]),
                             mean_sd(acc[t]), chosen(R, f"{family}/{t}", "full", P)])
        tables = [("Students of a plain and a label-smoothed MLP teacher",
                   ["student", "teacher", "teacher test accuracy",
                    "teacher KL(R_bar||U), T=1", "student accuracy", "chosen"],
                   rows)]
        return dict(tables=tables, primaries=prims, comparisons=[], figures=[])


class LearningCurves(Experiment):
    name = "learning_curve"
    title = "Learning curves: gains over the tuned hard-label student"
    predictions = ()
    design = (
        "Bayes teacher, main setting, tuned arms (universe and full), at every "
        "training size of the profile.")
    threats = "Descriptive: no verdict."

    def specs(self, P):
        out = {}
        for regime, family, n in itertools.product(P["curve_regimes"],
                                                   P["families"], P["sizes"]):
            data = data_spec(P, regime)
            out[f"{regime}/{family}/n={n}/hard"] = hard_spec(P, family, data, n)
            out[f"{regime}/{family}/n={n}/bayes"] = arms_spec(
                P, family, data, n, "bayes", ["universe", "full"])
        return out

    def analyse(self, R, P):
        rows, curves = [], {}
        for regime, family in itertools.product(P["curve_regimes"], P["families"]):
            for n in P["sizes"]:
                pre = f"{regime}/{family}/n={n}"
                hard = arm_values(R, f"{pre}/hard", None, "accuracy")
                g = {a: arm_values(R, f"{pre}/bayes", a, "accuracy") - hard
                     for a in ("universe", "full")}
                rows.append([regime, family, n, mean_sd(hard)]
                            + [mean_sd(100 * g[a], 2) for a in g])
                for a in g:
                    curves.setdefault((regime, family, a), []).append((n, g[a]))
        tables = [("Gain over the tuned hard-label student (pp, mean ± sd)",
                   ["regime", "student", "n_train", "hard accuracy",
                    "universe - hard", "full - hard"], rows)]

        def figure(_):
            import matplotlib.pyplot as plt
            from matplotlib.ticker import NullFormatter

            keys = list(itertools.product(P["curve_regimes"], P["families"]))
            fig, axes = plt.subplots(1, len(keys), sharey=True,
                                     figsize=(4.2 * len(keys), 3.5), squeeze=False,
                                     layout="constrained")
            for ax, (regime, family) in zip(axes[0], keys):
                for a in ("universe", "full"):
                    pts = curves[(regime, family, a)]
                    errorbars(ax, [p[0] for p in pts], [p[1] for p in pts],
                              f"{a} - hard", scale=100)
                ax.set_xscale("log")
                ax.set_xticks(P["sizes"], [str(n) for n in P["sizes"]])
                ax.xaxis.set_minor_formatter(NullFormatter())
                ax.axhline(0, color="grey", lw=0.8)
                ax.set(xlabel="training rows (log scale)",
                       title=f"{family}, {regime}")
            axes[0, 0].set_ylabel("accuracy gain (pp)")
            legend_below(fig, axes, ncol=2)
            return fig

        return dict(tables=tables, primaries=[], comparisons=[],
                    figures=[("learning_curves.png", figure)])


class DecoupledKD(Experiment):
    name = "dkd"
    title = "Decoupled KD with a confident teacher (S8)"
    predictions = ("S8",)
    design = (
        "Clean regime so that the Bayes teacher is confident (untested unless "
        "its mean training q_c is >= 0.8); KD, NCKD (non-target term only) and "
        "TCKD (target term only) as tuned arms at the smallest and largest "
        "sibling heterogeneity. Primary, at the largest: NCKD >= KD - 0.5 pp "
        "and KD >= TCKD - 0.5 pp (intersection-union). Secondary: NCKD's edge "
        "at the largest heterogeneity minus at the smallest, beside the "
        "measured non-target information.")
    threats = (
        "DKD's claim was made for deep networks on images; here students are "
        "small and data are Gaussian.")

    def specs(self, P):
        regime = P["dkd"]["regime"]
        if regime not in P["regimes"]:
            return {}
        return {f"h={h}/{family}": arms_spec(
                    P, family, data_spec(P, regime, heterogeneity=h), P["n_train"],
                    "bayes", ["full", "NCKD", "TCKD"])
                for h in P["dkd"]["heterogeneities"] for family in P["families"]}

    def analyse(self, R, P):
        hs = P["dkd"]["heterogeneities"]
        prims, comps, rows = [], [], []
        variants = {"KD": "full", "NCKD": "NCKD", "TCKD": "TCKD"}
        for family in P["families"]:
            acc = {(h, v): arm_values(R, f"h={h}/{family}", a, "accuracy")
                   for h in hs for v, a in variants.items()}
            lo, hi = hs[0], hs[-1]
            q_c = np.mean([r["teacher"]["teacher_train_q_c"]
                           for r in R[f"h={hi}/{family}"]])
            kl = {h: teacher_dial(R, f"h={h}/{family}", "kl_overall") for h in hs}
            prims.append(primary(
                "S8", family, f"NCKD >= KD and KD >= TCKD within 0.5 pp "
                f"(heterogeneity={hi})",
                [part("NCKD - KD", acc[(hi, "NCKD")] - acc[(hi, "KD")],
                      "noninferior"),
                 part("KD - TCKD", acc[(hi, "KD")] - acc[(hi, "TCKD")],
                      "noninferior")],
                dial=f"teacher mean q_c {q_c:.3f}; KL(R_bar||U) at T=1 "
                f"{kl[lo]:.3f} to {kl[hi]:.3f}", moved=q_c >= MIN_CONFIDENT))
            edge = {h: acc[(h, "NCKD")] - acc[(h, "KD")] for h in hs}
            comps.append(compare("S8", "S8-growth", f"(NCKD - KD) at h={hi} minus "
                                 f"at h={lo} (KL {kl[lo]:.3f} to {kl[hi]:.3f})",
                                 edge[hi] - edge[lo], family=family))
            for h in hs:
                rows.append([family, h, fmt(kl[h])]
                            + [mean_sd(acc[(h, v)]) for v in variants]
                            + [chosen(R, f"h={h}/{family}", a, P)
                               for a in variants.values()])
        tables = [("Test accuracy and chosen (T, alpha) per variant; the teacher's "
                   "KL(R_bar || U) at T = 1",
                   ["student", "heterogeneity", "teacher KL", *variants,
                    *[f"chosen {v}" for v in variants]], rows)]
        return dict(tables=tables, primaries=prims, comparisons=comps, figures=[])


class TeacherFailures(Experiment):
    name = "teacher_failures"
    title = "Over-confident teacher: in-sample vs out-of-fold predictions (S6)"
    predictions = ("S6",)
    design = (
        "Noisy regime, main setting. One over-trained MLP teacher (no "
        "regularisation, no early stopping) is fitted on the student's own "
        "training rows; the student learns from its in-sample predictions or "
        "from 5-fold out-of-fold predictions of the same teacher. Full arm, "
        "tuned. Primary: student(out-of-fold) - student(in-sample) > 0; its "
        "dial is the teachers' training non-target mass (untested unless the "
        "out-of-fold teacher passes on at least 0.05 more).")
    threats = (
        "Out-of-fold predictions come from fold models fitted on 80 % of the "
        "rows; one teacher class.")

    def specs(self, P):
        if not P["run_overtrained"]:
            return {}
        data = data_spec(P, P["primary_regime"])
        out = {}
        for family in P["families"]:
            for t in ("overtrained_in_sample", "overtrained_oof"):
                out[f"{family}/{t}"] = arms_spec(P, family, data, P["n_train"], t,
                                                 ["full"])
        return out

    def analyse(self, R, P):
        prims, comps, rows = [], [], []
        for family in P["families"]:
            def get(t, key, family=family):
                return np.array([r["teacher"][key] for r in R[f"{family}/{t}"]])

            ins, oof = "overtrained_in_sample", "overtrained_oof"
            acc = {t: arm_values(R, f"{family}/{t}", "full", "accuracy")
                   for t in (ins, oof)}
            mass = {t: get(t, "teacher_train_non_target_mass") for t in (ins, oof)}
            gap = float(np.mean(mass[oof] - mass[ins]))
            prims.append(primary(
                "S6", family, "student: out-of-fold - in-sample teacher",
                [part("out-of-fold - in-sample", acc[oof] - acc[ins])],
                dial=f"teacher train 1 - q_c: in-sample {mass[ins].mean():.3f}, "
                f"out-of-fold {mass[oof].mean():.3f}",
                moved=gap >= MIN_NON_TARGET_GAP))
            comps.append(compare("S6", "S6-mass", "teacher's training 1 - q_c: "
                                 "out-of-fold - in-sample", mass[oof] - mass[ins],
                                 family=family, metric="non_target_mass"))
            for t in (ins, oof):
                rows.append([family, t, mean_sd(get(t, "teacher_test_accuracy")),
                             mean_sd(mass[t]), mean_sd(acc[t]),
                             chosen(R, f"{family}/{t}", "full", P)])
        tables = [("Students of an over-trained teacher",
                   ["student", "teacher predictions", "teacher test accuracy",
                    "teacher train 1 - q_c", "student accuracy", "chosen"], rows)]
        return dict(tables=tables, primaries=prims, comparisons=comps, figures=[])


class SelfDistillation(Experiment):
    name = "self_distillation"
    title = "Self-distillation fidelity (S7)"
    predictions = ("S7",)
    design = (
        "Noisy regime, main setting: a student of the same family trained with "
        "alpha = 1, T = 1 on a first student of the same family, at the "
        "suite's training budget (primary: test disagreement > 0.5 pp) and "
        "trained to convergence (epochs multiplied, no early stopping; "
        "secondary).")
    threats = "One temperature; the linear student can copy a linear teacher."

    def specs(self, P):
        data = data_spec(P, P["primary_regime"])
        out = {}
        for family in P["families"]:
            base = {"task": "self", "data": data, "n_train": P["n_train"],
                    "family": P["families"][family]}
            out[family] = base
            if P.get("converged_epochs"):
                out[f"{family}/converged"] = {**base,
                                              "converged": P["converged_epochs"]}
        return out

    def analyse(self, R, P):
        prims, comps, rows = [], [], []
        for family in P["families"]:
            agree = arm_values(R, family, None, "teacher_agreement")
            epochs = P["families"][family]["max_epochs"]
            prims.append(primary(
                "S7", family, "test disagreement with the teacher > 0.5 pp "
                "(suite's budget)", [part("disagreement", 1 - agree, "exceeds",
                                          metric="disagreement")],
                dial=f"budget {epochs} epochs; at convergence "
                f"{epochs * P.get('converged_epochs', 1)} epochs without early "
                "stopping (secondary)"))
            rows.append([family, "budget", mean_sd(agree, 4),
                         mean_sd(arm_values(R, family, None, "accuracy")),
                         mean_sd(arm_values(R, family, None,
                                            "teacher_test_accuracy"))])
            if f"{family}/converged" in R:
                conv = arm_values(R, f"{family}/converged", None, "teacher_agreement")
                comps.append(compare("S7", "S7-converged", "test disagreement at "
                                     "convergence", 1 - conv, family=family,
                                     metric="disagreement"))
                rows.append([family, "converged", mean_sd(conv, 4),
                             mean_sd(arm_values(R, f"{family}/converged", None,
                                                "accuracy")),
                             mean_sd(arm_values(R, f"{family}/converged", None,
                                                "teacher_test_accuracy"))])
        tables = [("Born-again students", ["student", "training", "test agreement",
                                           "student accuracy", "teacher accuracy"],
                   rows)]
        return dict(tables=tables, primaries=prims, comparisons=comps, figures=[])


class RealLevels(Experiment):
    name = "real_levels"
    title = "Knowledge levels and placebos on real tables (descriptive)"
    predictions = ()
    design = (
        "Real tables shipped in packages (see the compression benchmark's "
        "tables), split per seed into half training, a quarter validation and a "
        "quarter test rows (stratified). HistGradientBoosting and RandomForest "
        "teachers predict the student's rows out-of-fold; the hard-label "
        "student and every arm (full, universe, instance, instance_shuffled, "
        "domain, domain_shuffled, and instance_domain: each row's q_c with its "
        "class's mean rest) are tuned on the validation rows. Contrasts per "
        "table with 95 % t-intervals over seeds, and their mean over tables "
        "with a t-interval over tables.")
    threats = "Descriptive: no verdict; tables differ in size and difficulty."
    contrasts = [("full", "hard"), ("universe", "hard"),
                 ("instance", "instance_shuffled"), ("domain", "domain_shuffled"),
                 ("full", "instance_domain")]

    def specs(self, P):
        from .compression_data import TABLES

        R = P["real"]
        out = {}
        for table, teacher, family in itertools.product(
                R["tables"] or list(TABLES), R["teachers"], P["families"]):
            out[f"{table}/{teacher}/{family}"] = {
                "task": "real", "table": table, "teacher": teacher,
                "family": P["families"][family], "max_rows": R["max_rows"],
                "cv": R["cv"], "teacher_params": P["teacher_params"],
                "grid": grid(P), "hard_grid": hard_grid(P),
                "arms": ["full", "universe", "instance", "instance_shuffled",
                         "domain", "domain_shuffled", "instance_domain"]}
        return out

    #: Contrasts of the non-target shape, which two classes do not have (the
    #: rest of a binary row is its one other class: domain is universe and
    #: the placebo equals the arm), so they are left out on binary tables.
    shape_contrasts = (("domain", "domain_shuffled"), ("full", "instance_domain"))

    def analyse(self, R, P):
        from .compression_data import BINARY_TABLES

        rows, pooled = [], {}
        for label in R:
            table, teacher, family = label.split("/")
            cells = []
            for a, b in self.contrasts:
                if table in BINARY_TABLES and (a, b) in self.shape_contrasts:
                    cells.append("n/a (2 classes)")
                    continue
                diff = 100 * (np.array([r[a]["accuracy"] for r in R[label]])
                              - np.array([r[b]["accuracy"] for r in R[label]]))
                m, h = ci(diff)
                cells.append(f"{m:+.2f} ± {h:.2f}")
                pooled.setdefault((teacher, family, a, b), []).append(m)
            t_acc = np.mean([r["teacher"]["teacher_test_accuracy"] for r in R[label]])
            rows.append([table, teacher, family, fmt(t_acc),
                         mean_sd([r["hard"]["accuracy"] for r in R[label]])] + cells)
        summary = []
        for (teacher, family, a, b), means in pooled.items():
            m, h = ci(means)
            summary.append([teacher, family, f"{a} - {b}", f"{m:+.2f}",
                            f"[{m - h:+.2f}, {m + h:+.2f}]", len(means)])
        header = [f"{a} - {b} (pp)" for a, b in self.contrasts]
        tables = [
            ("Per table: teacher test accuracy, tuned hard-label student, and "
             "each contrast (mean ± half-width of the 95 % t-interval over "
             "seeds, percentage points)",
             ["table", "teacher", "student", "teacher acc.", "hard acc.", *header],
             rows),
            ("Mean over tables of each contrast, with a 95 % t-interval over "
             "tables (the non-target-shape contrasts over the multiclass "
             "tables only)", ["teacher", "student", "contrast", "mean (pp)",
                              "95 % CI", "tables"], summary),
        ]
        return dict(tables=tables, primaries=[], comparisons=[], figures=[])


#: The registry: the runner runs these in order. Add an experiment here.
EXPERIMENTS = [
    KnowledgeLevels(),
    ClassRelations(),
    InstanceKnowledge(),
    SmoothedTeacher(),
    DecoupledKD(),
    TeacherFailures(),
    SelfDistillation(),
    LearningCurves(),
    RealLevels(),
]
