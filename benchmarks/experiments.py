"""The experiments: which runs each needs and how it tests its predictions.

Each experiment lists its runs per seed (``specs``) and turns their results
into tables, comparisons (one paired interval and verdict each) and figures
(``analyse``). Results come as ``R[label]``: one result dict per seed, in
seed order.
"""

from __future__ import annotations

import numpy as np

from .stats import paired_interval

PREDICTIONS = {
    "S1": "Student accuracy: hard labels <= universe <= {domain, instance} <= full "
    "(rho > 0, difficulty varies).",
    "S2": "Domain's gain over universe grows with rho and is about 0 at rho = 0.",
    "S3": "Instance's gain over universe grows with the spread of the oracle's "
    "q_c(x); about 0 when all instances are equally hard.",
    "S4": "The class-vector cosine matrix correlates with the hierarchy more "
    "under KD than hard labels, and more at higher T.",
    "S5": "A label-smoothed teacher yields a worse KD student than a plain "
    "teacher of similar accuracy.",
    "S6": "Over-training the teacher lowers the training-set 1 - q_c and the KD "
    "gain; an early-stopped teacher (or out-of-fold predictions) does better.",
    "S7": "Self-distillation: test agreement < 100 % and teacher KL > 0.",
    "S8": "NCKD >= KD >= TCKD; NCKD's edge grows with rho.",
    "S9": "KD and label-smoothing students are better calibrated (ECE, NLL) than "
    "hard-label ones.",
}

LEVELS = ["hard", "universe", "domain", "instance", "full"]


# ----------------------------------------------------------------- helpers
def data_spec(P, *, rho=None, spread=None, **extra):
    easy, hard = P["spreads"][spread or list(P["spreads"])[-1]]
    rho = P["main_rho"] if rho is None else rho
    return {**P["data"], "class_similarity": rho, "easy_noise": easy,
            "hard_noise": hard, **extra}


def student_spec(P, data, **params):
    return {"task": "student", "data": data, "student": {**P["student"], **params}}


def kd(P, **params):
    return {**P["kd"], **params}


def level_params(P, level):
    if level == "hard":
        return {"alpha": 0.0}
    return kd(P, knowledge=level)


def values(R, label, metric):
    return np.array([r[metric] for r in R[label]], dtype=float)


def compare(prediction, cid, description, differences, direction="greater",
            metric="accuracy"):
    return dict(
        prediction=prediction, id=cid, description=description, metric=metric,
        differences=[float(x) for x in differences],
        **paired_interval(differences, direction=direction),
    )


def summary(x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return dict(mean=float("nan"), sd=float("nan"))
    return dict(mean=float(x.mean()), sd=float(x.std(ddof=1)) if len(x) > 1 else 0.0)


def fmt(x, digits=3):
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def mean_sd(x, digits=3):
    s = summary(x)
    return f"{fmt(s['mean'], digits)} ± {fmt(s['sd'], digits)}"


def _errorbar(ax, xs, R, labels, metric, name):
    means = [np.nanmean(values(R, lab, metric)) for lab in labels]
    sds = [np.nanstd(values(R, lab, metric)) for lab in labels]
    ax.errorbar(xs, means, yerr=sds, marker="o", capsize=3, label=name)


# ------------------------------------------------------------- experiments
class Experiment:
    name = ""
    title = ""
    predictions = ()

    def specs(self, P):
        """label -> run spec (without seed)."""
        raise NotImplementedError

    def analyse(self, R, P):
        """-> dict(tables=[...], comparisons=[...], figures=[(file, fn)])."""
        raise NotImplementedError


class KnowledgeAblation(Experiment):
    name = "knowledge"
    title = "Knowledge levels vs class similarity and difficulty spread (S1-S3)"
    predictions = ("S1", "S2", "S3")

    def specs(self, P):
        out = {}
        for rho in P["rhos"]:
            for level in LEVELS:
                out[f"rho={rho}/{level}"] = student_spec(
                    P, data_spec(P, rho=rho), **level_params(P, level))
        for spread in P["spreads"]:
            for level in LEVELS:
                out[f"spread={spread}/{level}"] = student_spec(
                    P, data_spec(P, spread=spread), **level_params(P, level))
        return out

    def analyse(self, R, P):
        rhos, spreads = P["rhos"], list(P["spreads"])
        main = f"rho={P['main_rho']}"
        acc = {k: values(R, k, "accuracy") for k in R}

        def gain(prefix, a, b):
            return acc[f"{prefix}/{a}"] - acc[f"{prefix}/{b}"]

        comps = [
            compare("S1", "S1a", f"universe - hard ({main})",
                    gain(main, "universe", "hard")),
            compare("S1", "S1b", f"domain - universe ({main})",
                    gain(main, "domain", "universe")),
            compare("S1", "S1c", f"instance - universe ({main})",
                    gain(main, "instance", "universe")),
            compare("S1", "S1d", f"full - domain ({main})",
                    gain(main, "full", "domain")),
            compare("S1", "S1e", f"full - instance ({main})",
                    gain(main, "full", "instance")),
        ]
        lo, hi = f"rho={rhos[0]}", f"rho={rhos[-1]}"
        comps += [
            compare("S2", "S2a",
                    f"(domain - universe) at {hi} minus at {lo}",
                    gain(hi, "domain", "universe") - gain(lo, "domain", "universe")),
            compare("S2", "S2b", f"domain - universe at {lo} (about 0)",
                    gain(lo, "domain", "universe"), direction="zero"),
        ]
        s_lo, s_hi = f"spread={spreads[0]}", f"spread={spreads[-1]}"
        comps += [
            compare("S3", "S3a",
                    f"(instance - universe) at {s_hi} minus at {s_lo}",
                    gain(s_hi, "instance", "universe")
                    - gain(s_lo, "instance", "universe")),
            compare("S3", "S3b", f"instance - universe at {s_lo} (about 0)",
                    gain(s_lo, "instance", "universe"), direction="zero"),
        ]
        rows = []
        for prefix in [f"rho={r}" for r in rhos] + [f"spread={s}" for s in spreads]:
            rows.append([prefix] + [mean_sd(acc[f"{prefix}/{lev}"]) for lev in LEVELS])
        spread_rows = [
            [s, str([round(v, 3) for v in P["spreads"][s]])] for s in spreads
        ]
        tables = [
            ("Test accuracy (mean ± sd over seeds)", ["setting"] + LEVELS, rows),
            ("Difficulty spreads ([easy, hard] noise scales, same RMS)",
             ["spread", "noise scales"], spread_rows),
        ]

        def figure(ax_fig):
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
            for lev in LEVELS:
                _errorbar(axes[0], rhos, R, [f"rho={r}/{lev}" for r in rhos],
                          "accuracy", lev)
            axes[0].set(xlabel="class similarity rho", ylabel="test accuracy",
                        title="Accuracy by knowledge level")
            axes[0].legend(fontsize=8)
            for a, b, name in [("domain", "universe", "domain - universe"),
                               ("instance", "universe", "instance - universe"),
                               ("full", "hard", "full - hard")]:
                g = [gain(f"rho={r}", a, b) for r in rhos]
                axes[1].errorbar(rhos, [x.mean() for x in g],
                                 yerr=[x.std() for x in g], marker="o",
                                 capsize=3, label=name)
                g = [gain(f"spread={s}", a, b) for s in spreads]
                axes[2].errorbar(range(len(spreads)), [x.mean() for x in g],
                                 yerr=[x.std() for x in g], marker="o",
                                 capsize=3, label=name)
            axes[1].axhline(0, color="grey", lw=0.8)
            axes[1].set(xlabel="class similarity rho", ylabel="accuracy gain",
                        title="Gains vs rho (S2)")
            axes[1].legend(fontsize=8)
            axes[2].axhline(0, color="grey", lw=0.8)
            axes[2].set_xticks(range(len(spreads)), spreads)
            axes[2].set(xlabel="spread of instance difficulty",
                        ylabel="accuracy gain", title="Gains vs difficulty spread (S3)")
            axes[2].legend(fontsize=8)
            return fig

        return dict(tables=tables, comparisons=comps,
                    figures=[("knowledge_levels.png", figure)])


class Geometry(Experiment):
    name = "geometry"
    title = "Logit geometry of a linear student (S4)"
    predictions = ("S4",)

    def _student(self, P, **params):
        return student_spec(P, data_spec(P), hidden_layer_sizes=[], **params)

    def specs(self, P):
        out = {"hard": self._student(P, alpha=0.0)}
        for T in P["temperatures"]:
            out[f"full/T={T}"] = self._student(P, **kd(P, temperature=T))
        for level in LEVELS[1:]:
            out[f"{level}/T={P['kd']['temperature']}"] = self._student(
                P, **kd(P, knowledge=level))
        return out

    def analyse(self, R, P):
        temps = P["temperatures"]
        geo = {k: values(R, k, "geometry") for k in R}
        T0 = P["kd"]["temperature"]
        comps = [
            compare("S4", "S4a", f"corr(KD, T={T0}) - corr(hard)",
                    geo[f"full/T={T0}"] - geo["hard"], metric="geometry"),
            compare("S4", "S4b", f"corr(KD, T={temps[-1]}) - corr(KD, T={temps[0]})",
                    geo[f"full/T={temps[-1]}"] - geo[f"full/T={temps[0]}"],
                    metric="geometry"),
        ]
        rows = [[k, mean_sd(geo[k]), mean_sd(values(R, k, "accuracy"))] for k in R]
        tables = [("Correlation of class-vector cosines with the same-super-class "
                   "indicator, and accuracy", ["student", "correlation", "accuracy"],
                   rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
            _errorbar(axes[0], temps, R, [f"full/T={T}" for T in temps],
                      "geometry", "KD (full)")
            axes[0].axhline(np.nanmean(geo["hard"]), color="k", ls="--",
                            label="hard labels")
            for level in LEVELS[1:4]:
                axes[0].scatter([T0], [np.nanmean(geo[f"{level}/T={T0}"])],
                                label=f"{level} (T={T0})", zorder=3)
            axes[0].set_xscale("log", base=2)
            axes[0].set(xlabel="temperature T", ylabel="correlation with hierarchy",
                        title="Class-vector geometry (S4)")
            axes[0].legend(fontsize=8)
            labels = list(R)
            axes[1].barh(range(len(labels)), [np.nanmean(geo[k]) for k in labels],
                         xerr=[np.nanstd(geo[k]) for k in labels])
            axes[1].set_yticks(range(len(labels)), labels, fontsize=8)
            axes[1].set(xlabel="correlation with hierarchy")
            fig.tight_layout()
            return fig

        return dict(tables=tables, comparisons=comps,
                    figures=[("geometry.png", figure)])


class TeacherFailures(Experiment):
    name = "teacher_failures"
    title = "Teacher failures: label-smoothed and over-trained teachers (S5, S6)"
    predictions = ("S5", "S6")

    def specs(self, P):
        data = data_spec(P)
        teacher = P["trained_teacher"]
        out = {
            "trained": {
                "task": "trained_teachers",
                "data": {**data, "n_teacher": P["n_teacher"]},
                "teachers": {
                    "plain": {**teacher, "alpha": 0.0},
                    "smoothed": {**teacher, "loss": "label_smoothing",
                                 "alpha": P["teacher_smoothing"]},
                },
                "student": {**P["student"], **kd(P)},
            },
            "hard": student_spec(P, data, alpha=0.0),
        }
        for name, key, cv in [("overtrained/in-sample", "overtrained_teacher", None),
                              ("early-stopped/in-sample", "early_stopped_teacher",
                               None),
                              ("overtrained/out-of-fold", "overtrained_teacher",
                               P["teacher_cv"])]:
            out[name] = {"task": "sklearn_teacher", "data": data,
                         "teacher": P[key], "teacher_cv": cv,
                         "student": {**P["student"], **kd(P)}}
        return out

    def analyse(self, R, P):
        plain = [r["plain"] for r in R["trained"]]
        smooth = [r["smoothed"] for r in R["trained"]]
        Rs = {"plain teacher": plain, "smoothed teacher": smooth}
        pick = {k: v for k, v in R.items() if k != "trained"}
        Rs.update(pick)
        acc = {k: values(Rs, k, "accuracy") for k in Rs}
        mass = {k: values(Rs, k, "teacher_train_non_target_mass")
                for k in Rs if k != "hard"}
        comps = [
            compare("S5", "S5a", "student(plain teacher) - student(smoothed teacher)",
                    acc["plain teacher"] - acc["smoothed teacher"]),
            compare("S6", "S6a",
                    "training-set 1 - q_c: early-stopped - over-trained (in-sample)",
                    mass["early-stopped/in-sample"] - mass["overtrained/in-sample"],
                    metric="non_target_mass"),
            compare("S6", "S6b", "student: early-stopped - over-trained teacher",
                    acc["early-stopped/in-sample"] - acc["overtrained/in-sample"]),
            compare("S6", "S6c",
                    "student: over-trained out-of-fold - in-sample",
                    acc["overtrained/out-of-fold"] - acc["overtrained/in-sample"]),
        ]
        teacher_gap = (values(Rs, "plain teacher", "teacher_test_accuracy")
                       - values(Rs, "smoothed teacher", "teacher_test_accuracy"))
        gap = paired_interval(teacher_gap, direction="zero")
        rows = []
        for k in Rs:
            t_acc = (mean_sd(values(Rs, k, "teacher_test_accuracy"))
                     if "teacher_test_accuracy" in Rs[k][0] else "-")
            rows.append([k, mean_sd(acc[k]), mean_sd(acc[k] - acc["hard"]), t_acc,
                         mean_sd(mass[k]) if k in mass else "-"])
        tables = [(
            "Students of different teachers (test accuracy, gain over hard labels, "
            "teacher test accuracy, teacher's mean 1 - q_c on the student's "
            "training rows)",
            ["student of", "accuracy", "KD gain", "teacher accuracy",
             "train 1 - q_c"], rows),
            ("Teacher accuracy gap, plain - smoothed (should be about 0 for a fair "
             "S5 comparison)", ["mean", "95 % CI"],
             [[fmt(gap["mean"]), f"[{fmt(gap['low'])}, {fmt(gap['high'])}]"]]),
        ]

        def figure(_):
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
            names = list(Rs)
            axes[0].barh(range(len(names)), [acc[k].mean() for k in names],
                         xerr=[acc[k].std() for k in names])
            axes[0].set_yticks(range(len(names)), names, fontsize=8)
            axes[0].set(xlabel="student test accuracy", title="Students by teacher")
            for k in mass:
                axes[1].scatter(mass[k], acc[k], label=k, alpha=0.7)
            axes[1].set_xscale("symlog", linthresh=1e-3)
            axes[1].set(xlabel="teacher's mean training-set 1 - q_c",
                        ylabel="student test accuracy", title="S5/S6 per seed")
            axes[1].legend(fontsize=7)
            fig.tight_layout()
            return fig

        return dict(tables=tables, comparisons=comps,
                    figures=[("teacher_failures.png", figure)],
                    extra=dict(teacher_accuracy_gap=gap))


class SelfDistillation(Experiment):
    name = "self_distillation"
    title = "Self-distillation fidelity (S7)"
    predictions = ("S7",)

    def specs(self, P):
        return {"self": {"task": "self", "data": data_spec(P),
                         "student": {**P["student"], "alpha": 1.0,
                                     "temperature": 1.0}}}

    def analyse(self, R, P):
        agree = values(R, "self", "teacher_agreement")
        kl = values(R, "self", "teacher_kl")
        comps = [
            compare("S7", "S7a", "1 - test agreement with the teacher",
                    1 - agree, metric="disagreement"),
            compare("S7", "S7b", "test KL(teacher || student)", kl, metric="kl"),
        ]
        rows = [[m, mean_sd(values(R, "self", m), 4)] for m in
                ["teacher_agreement", "train_agreement", "teacher_kl",
                 "accuracy", "teacher_test_accuracy"]]
        tables = [("Born-again student (alpha = 1, T = 1, same architecture)",
                   ["metric", "mean ± sd"], rows)]
        return dict(tables=tables, comparisons=comps, figures=[])


class DecoupledKD(Experiment):
    name = "dkd"
    title = "Decoupled KD: target vs non-target terms (S8)"
    predictions = ("S8",)
    VARIANTS = {"TCKD": dict(loss="dkd", tckd_weight=1.0, nckd_weight=0.0),
                "KD": dict(),
                "NCKD": dict(loss="dkd", tckd_weight=0.0, nckd_weight=1.0)}

    def specs(self, P):
        return {f"rho={rho}/{v}": student_spec(P, data_spec(P, rho=rho),
                                               **kd(P, **params))
                for rho in P["rhos"] for v, params in self.VARIANTS.items()}

    def analyse(self, R, P):
        rhos = P["rhos"]
        acc = {k: values(R, k, "accuracy") for k in R}
        hi, lo = f"rho={rhos[-1]}", f"rho={rhos[0]}"
        edge = {r: acc[f"{r}/NCKD"] - acc[f"{r}/KD"] for r in (lo, hi)}
        comps = [
            compare("S8", "S8a", f"NCKD - KD ({hi})", edge[hi]),
            compare("S8", "S8b", f"KD - TCKD ({hi})",
                    acc[f"{hi}/KD"] - acc[f"{hi}/TCKD"]),
            compare("S8", "S8c", f"(NCKD - KD) at {hi} minus at {lo}",
                    edge[hi] - edge[lo]),
        ]
        rows = [[f"rho={r}"] + [mean_sd(acc[f"rho={r}/{v}"]) for v in self.VARIANTS]
                for r in rhos]
        tables = [("Test accuracy", ["setting", *self.VARIANTS], rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(5.5, 4.2))
            for v in self.VARIANTS:
                _errorbar(ax, rhos, R, [f"rho={r}/{v}" for r in rhos], "accuracy", v)
            ax.set(xlabel="class similarity rho", ylabel="test accuracy",
                   title="Decoupled KD (S8)")
            ax.legend()
            fig.tight_layout()
            return fig

        return dict(tables=tables, comparisons=comps, figures=[("dkd.png", figure)])


class Calibration(Experiment):
    name = "calibration"
    title = "Calibration of KD and label-smoothing students (S9)"
    predictions = ("S9",)

    def specs(self, P):
        data = data_spec(P)
        return {
            "hard": student_spec(P, data, alpha=0.0),
            "KD": student_spec(P, data, **kd(P)),
            "label smoothing": student_spec(P, data, loss="label_smoothing",
                                            alpha=P["label_smoothing"]),
        }

    def analyse(self, R, P):
        comps = []
        for metric, tag in [("ece", "a"), ("nll", "b")]:
            for i, other in enumerate(["KD", "label smoothing"]):
                comps.append(compare(
                    "S9", f"S9{tag}{i + 1}", f"{metric.upper()}: hard - {other}",
                    values(R, "hard", metric) - values(R, other, metric),
                    metric=metric))
        rows = [[k] + [mean_sd(values(R, k, m)) for m in ("accuracy", "ece", "nll")]
                for k in R]
        tables = [("Test calibration", ["student", "accuracy", "ECE (15 bins)",
                                        "NLL"], rows)]

        def figure(_):
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
            names = list(R)
            for ax, m in zip(axes, ("ece", "nll")):
                ax.bar(names, [values(R, k, m).mean() for k in names],
                       yerr=[values(R, k, m).std() for k in names], capsize=4)
                ax.set(ylabel=m.upper(), title=f"{m.upper()} (S9)")
            fig.tight_layout()
            return fig

        return dict(tables=tables, comparisons=comps,
                    figures=[("calibration.png", figure)])


EXPERIMENTS = [KnowledgeAblation(), Geometry(), TeacherFailures(),
               SelfDistillation(), DecoupledKD(), Calibration()]
