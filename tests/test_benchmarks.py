"""Smoke test of the benchmark runner and unit tests of its statistics."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from benchmarks.__main__ import main
from benchmarks.cache import JsonCache
from benchmarks.experiments import EXPERIMENTS, PREDICTIONS
from benchmarks.profiles import PROFILES
from benchmarks.runner import run
from benchmarks.stats import (
    CONTRADICTED,
    EQUIVALENT,
    HOLDS,
    INCONCLUSIVE,
    VERDICTS,
    apply_holm,
    combine_verdicts,
    holm,
    loglog_slope,
    paired_tests,
    verdict,
)


# ------------------------------------------------------------ statistics
def test_paired_tests_match_scipy():
    d = np.array([0.1, 0.3, 0.2, 0.4, 0.0])
    r = paired_tests(d, delta=0.05)
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert r["mean"] == pytest.approx(0.2)
    assert (r["low"], r["high"]) == pytest.approx((low, high))
    assert r["p_diff"] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
    # TOST: the larger of the two one-sided p-values, by hand
    se = stats.sem(d)
    p_low = stats.t.sf((d.mean() + 0.05) / se, len(d) - 1)
    p_high = stats.t.cdf((d.mean() - 0.05) / se, len(d) - 1)
    assert r["p_equiv"] == pytest.approx(max(p_low, p_high))
    assert r["n"] == 5 and r["delta"] == 0.05


def test_paired_tests_degenerate_inputs():
    single = paired_tests([0.5], delta=0.1)
    assert single["low"] == -math.inf and single["high"] == math.inf
    assert single["p_diff"] == 1.0 and single["p_equiv"] == 1.0
    assert paired_tests([0.2, np.nan, 0.3, 0.25], delta=0.1)["n"] == 3
    same = paired_tests([0.0, 0.0, 0.0], delta=0.1)
    assert same["p_equiv"] == 0.0 and same["p_diff"] == 1.0
    with pytest.raises(ValueError, match="delta"):
        paired_tests([1.0, 2.0], delta=0)


def test_holm_matches_a_hand_computed_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> max-accumulate
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]).max() <= 1.0
    assert len(holm([])) == 0


@pytest.mark.parametrize(
    "mean, p_diff, p_equiv, direction, expected",
    [
        (0.02, 0.001, 0.9, "greater", HOLDS),
        (-0.02, 0.001, 0.9, "greater", CONTRADICTED),
        (0.02, 0.001, 0.9, "less", CONTRADICTED),
        (0.001, 0.001, 0.01, "greater", EQUIVALENT),
        (0.01, 0.2, 0.3, "greater", INCONCLUSIVE),
        (0.0, 0.9, 0.01, "zero", HOLDS),
        (0.02, 0.001, 0.9, "zero", CONTRADICTED),
        (0.0, 0.5, 0.5, "zero", INCONCLUSIVE),
    ],
)
def test_verdicts(mean, p_diff, p_equiv, direction, expected):
    assert verdict(mean, p_diff, p_equiv, direction) == expected
    with pytest.raises(ValueError, match="direction"):
        verdict(mean, p_diff, p_equiv, "up")


def test_holm_can_turn_a_nominal_result_inconclusive():
    rng = np.random.default_rng(0)
    strong = paired_tests(0.02 + 0.005 * rng.standard_normal(10), delta=0.005)
    weak = paired_tests(0.006 + 0.01 * rng.standard_normal(10), delta=0.005)
    comps = [dict(strong, direction="greater"), dict(weak, direction="greater")]
    for _ in range(30):  # many other comparisons in the same run
        comps.append(dict(paired_tests(rng.standard_normal(10), delta=0.005),
                          direction="greater"))
    apply_holm(comps)
    assert comps[0]["verdict"] == HOLDS
    assert comps[1]["p_diff_holm"] >= comps[1]["p_diff"]
    assert all(c["verdict"] in VERDICTS for c in comps)


def test_combine_verdicts():
    assert combine_verdicts([HOLDS, HOLDS]) == HOLDS
    assert combine_verdicts([HOLDS, EQUIVALENT]) == EQUIVALENT
    assert combine_verdicts([HOLDS, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine_verdicts([HOLDS, CONTRADICTED]) == CONTRADICTED
    assert combine_verdicts([]) == INCONCLUSIVE


def test_loglog_slope_recovers_power_law():
    n = np.array([1e3, 1e4, 1e5, 1e6])
    fit = loglog_slope(n, 2e-5 * n**1.5)
    assert fit["slope"] == pytest.approx(1.5)
    assert fit["low"] == pytest.approx(1.5) and fit["high"] == pytest.approx(1.5)
    assert math.isnan(loglog_slope([1e3, 1e4], [1.0, 10.0])["low"])


def test_json_cache_round_trip_and_torn_file(tmp_path):
    cache = JsonCache(tmp_path)
    key = {"task": "hard", "seed": 0, "data": {"rho": 0.5}}
    assert cache.get(key) is None
    cache.set(key, {"accuracy": 0.5})
    assert cache.get({"data": {"rho": 0.5}, "seed": 0, "task": "hard"}) == {
        "accuracy": 0.5
    }
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None


# -------------------------------------------------------------- profiles
def test_profiles_vary_one_dial_at_a_time_and_keep_their_own_cells():
    for name, P in PROFILES.items():
        # a profile's spreads and regimes are its own, not merged with defaults
        assert list(P["spreads"].values()) == sorted(P["spreads"].values()), name
        assert P["main"]["spread"] in P["spreads"]
        assert P["n_train"] in P["sizes"]
    assert PROFILES["quick"]["spreads"] == {"none": 1.0, "wide": 4.0}
    assert len(PROFILES["quick"]["sizes"]) == 2
    full = PROFILES["full"]
    assert full["sizes"] == [250, 500, 1000, 2000, 4000]
    assert full["seeds"] >= 10
    assert set(full["regimes"].values()) == {0.80, 0.95}
    assert full["grid"] == dict(temperature=[1.0, 2.0, 4.0], alpha=[0.5, 0.9])
    assert full["families"]["linear"]["hidden_layer_sizes"] == []
    assert full["families"]["mlp"]["early_stopping"]
    assert full["families"]["mlp"]["weight_decay"] > 0


def test_every_prediction_is_tested_by_an_experiment():
    tested = {p for e in EXPERIMENTS for p in e.predictions}
    assert tested == set(PREDICTIONS)


# ---------------------------------------------------------------- runner
def test_smoke_profile_writes_report_and_resumes_from_cache(tmp_path, capsys):
    out = tmp_path / "bench"
    only = [e.name for e in EXPERIMENTS]
    first = run("smoke", out, only=only)
    assert first["cache"]["misses"] > 0 and not first["all_from_cache"]
    report = (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    families = list(PROFILES["smoke"]["families"])
    for pid in PREDICTIONS:
        assert pid in report
        pred = results["predictions"][pid]
        assert pred["verdict"] in VERDICTS
        for family in families:
            assert pred["by_student"][family]["verdict"] in VERDICTS
        assert pred["comparisons"]
    for c in first["predictions"]["S1"]["comparisons"]:
        assert {"p_diff_holm", "p_equiv_holm", "verdict", "delta"} <= set(c)
    dials = results["experiments"]["dials"]["dials"]
    assert all({"bayes_accuracy", "q_c_sd", "class_sep"} <= set(d)
               for d in dials.values())
    assert "Measured dials" in report and "fixed before" in report
    pngs = {p.name for p in out.glob("*.png")}
    assert {"knowledge_levels.png", "teacher_failures.png", "learning_curves.png",
            "verdicts.png"} <= pngs
    # not a terminal: one plain line per experiment, no progress bar escapes
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    assert err.count("runs") == len(only)

    second = run("smoke", out, only=only)
    assert second["cache"]["misses"] == 0 and second["all_from_cache"]
    assert "all from the cache" in capsys.readouterr().err
    for pid in PREDICTIONS:
        a = first["predictions"][pid]["comparisons"][0]["mean"]
        b = second["predictions"][pid]["comparisons"][0]["mean"]
        assert a == pytest.approx(b, nan_ok=True)


def test_cli_only_one_experiment(tmp_path, capsys):
    assert main(["--profile", "smoke", "--output", str(tmp_path), "--only",
                 "self_distillation", "--seeds", "2"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["predictions"]["S7"]["verdict"] != "not run"
    assert results["predictions"]["S1"]["verdict"] == "not run"
    out = capsys.readouterr().out
    assert "S7" in out and "runs computed" in out
    assert main(["--profile", "smoke", "--output", str(tmp_path), "--only",
                 "self_distillation", "--seeds", "2"]) == 0
    assert "every run came from the cache" in capsys.readouterr().out


def test_target_report_leaves_tables_without_a_gap_out_of_the_first_median():
    from benchmarks.compression import PROFILES as COMPRESSION
    from benchmarks.compression import _target_report

    P = {**COMPRESSION["target"], "tables": ["a", "b", "c"], "seeds": 2}

    def cell(teacher, labels, kd):
        arms = {"labels only": labels, "KD + transfer": kd,
                "MLP, labels only": labels, "MLP, KD + transfer": kd}
        out = {name: dict(accuracy=acc, latency_s=0.001, student="S")
               for name, acc in arms.items()}
        out["teacher"] = dict(accuracy=teacher, latency_s=0.05)
        return out

    results = {}
    for seed in range(2):
        results[("a", seed)] = cell(0.80, 0.70, 0.75)  # closes 0.5
        results[("b", seed)] = cell(0.80, 0.70, 0.79)  # closes 0.9
        # the teacher trails: moving towards it "closes" 1.0 of a negative gap
        results[("c", seed)] = cell(0.60, 0.70, 0.60)
    report = _target_report(results, P, wall=1.0)
    rows = [line for line in report.splitlines()
            if line.startswith("| default student |")]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1:5] == ["0.70", "2 of 3", "0.90", "50x"]


def test_missing_values_benchmark_quick_run(capsys):
    from benchmarks.missing import main as missing_main

    assert missing_main(["--quick", "--tables", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert "synthetic: teacher" in out and "ratio" in out
