"""Smoke test of the benchmark runner and unit tests of its statistics."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.__main__ import main
from benchmarks.cache import JsonCache
from benchmarks.experiments import PREDICTIONS
from benchmarks.runner import run
from benchmarks.stats import (
    CONTRADICTED,
    HOLDS,
    NOT_SIGNIFICANT,
    combine_verdicts,
    loglog_slope,
    paired_interval,
)


# ------------------------------------------------------------ statistics
def test_paired_interval_matches_scipy_t_interval():
    d = np.array([0.1, 0.3, 0.2, 0.4, 0.0])
    result = paired_interval(d)
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert result["mean"] == pytest.approx(0.2)
    assert result["low"] == pytest.approx(low)
    assert result["high"] == pytest.approx(high)
    assert result["n"] == 5
    assert result["verdict"] == HOLDS


def test_paired_interval_hand_computed():
    # mean 2, sd 1, n 4: half-width t(0.975, 3) * 1 / 2 = 3.182446 / 2.
    result = paired_interval([1.0, 2.0, 3.0, 2.0], direction="greater")
    sd = np.std([1, 2, 3, 2], ddof=1)
    assert result["sd"] == pytest.approx(sd)
    half = 3.182446305284263 * sd / 2
    assert result["low"] == pytest.approx(2 - half)
    assert result["high"] == pytest.approx(2 + half)


@pytest.mark.parametrize(
    "differences, direction, verdict",
    [
        ([1.0, 1.1, 0.9, 1.05], "greater", HOLDS),
        ([1.0, 1.1, 0.9, 1.05], "less", CONTRADICTED),
        ([-1.0, -1.1, -0.9, -1.05], "greater", CONTRADICTED),
        ([-1.0, -1.1, -0.9, -1.05], "less", HOLDS),
        ([1.0, -1.0, 0.5, -0.4], "greater", NOT_SIGNIFICANT),
        ([1.0, -1.0, 0.5, -0.4], "zero", HOLDS),
        ([1.0, 1.1, 0.9, 1.05], "zero", CONTRADICTED),
    ],
)
def test_paired_interval_verdicts(differences, direction, verdict):
    assert paired_interval(differences, direction=direction)["verdict"] == verdict


def test_paired_interval_degenerate_inputs():
    assert paired_interval([])["verdict"] == NOT_SIGNIFICANT
    single = paired_interval([0.5])
    assert single["low"] == -math.inf and single["high"] == math.inf
    assert single["verdict"] == NOT_SIGNIFICANT
    assert paired_interval([0.2, np.nan, 0.3, 0.25])["n"] == 3
    with pytest.raises(ValueError, match="direction"):
        paired_interval([1.0, 2.0], direction="up")


def test_combine_verdicts():
    assert combine_verdicts([HOLDS, HOLDS]) == HOLDS
    assert combine_verdicts([HOLDS, NOT_SIGNIFICANT]) == NOT_SIGNIFICANT
    assert combine_verdicts([HOLDS, CONTRADICTED]) == CONTRADICTED
    assert combine_verdicts([]) == NOT_SIGNIFICANT


def test_loglog_slope_recovers_power_law():
    n = np.array([1e3, 1e4, 1e5, 1e6])
    fit = loglog_slope(n, 2e-5 * n**1.5)
    assert fit["slope"] == pytest.approx(1.5)
    assert fit["low"] == pytest.approx(1.5) and fit["high"] == pytest.approx(1.5)
    assert math.isnan(loglog_slope([1e3, 1e4], [1.0, 10.0])["low"])


def test_json_cache_round_trip_and_torn_file(tmp_path):
    cache = JsonCache(tmp_path)
    key = {"task": "student", "seed": 0, "data": {"rho": 0.5}}
    assert cache.get(key) is None
    cache.set(key, {"accuracy": 0.5})
    assert cache.get({"data": {"rho": 0.5}, "seed": 0, "task": "student"}) == {
        "accuracy": 0.5
    }
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None


# ---------------------------------------------------------------- runner
def test_smoke_profile_writes_report_and_resumes_from_cache(tmp_path):
    out = tmp_path / "bench"
    first = run("smoke", out, progress=False)
    assert first["cache"]["misses"] > 0
    report = (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    for pid in PREDICTIONS:
        assert pid in report
        assert results["predictions"][pid]["verdict"] in (
            HOLDS, NOT_SIGNIFICANT, CONTRADICTED)
        assert results["predictions"][pid]["comparisons"]
    assert {"versions", "machine", "profile", "seeds", "speed"} <= set(results)
    pngs = list(out.glob("*.png"))
    assert len(pngs) >= 4
    assert all(p.stat().st_size > 0 for p in pngs)
    assert any(r.get("rows_per_second") for r in results["speed"]["rows"])

    second = run("smoke", out, progress=False)
    assert second["cache"]["misses"] == 0
    assert second["cache"]["hits"] == first["cache"]["hits"] + first["cache"][
        "misses"]
    for pid in PREDICTIONS:
        assert (second["predictions"][pid]["comparisons"][0]["mean"]
                == pytest.approx(first["predictions"][pid]["comparisons"][0]["mean"],
                                 nan_ok=True))


def test_cli_only_one_experiment(tmp_path, capsys):
    assert main(["--profile", "smoke", "--output", str(tmp_path), "--only",
                 "self_distillation", "--seeds", "2"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["predictions"]["S7"]["verdict"] != "not run"
    assert results["predictions"]["S1"]["verdict"] == "not run"
    assert "S7" in capsys.readouterr().out
