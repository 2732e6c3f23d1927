"""The speed experiment's analysis: growth slopes, tables and figure.

Nothing here times anything: the results are synthetic.
"""

import numpy as np
import pytest
from scipy import stats

from benchmarks import speed


def _results(rng):
    scenario = {
        m: dict(rows_per_second=float(rng.uniform(1e4, 1e5)))
        for m in speed.SIDE_BY_SIDE
    }
    growth = []
    for axis, values, power in (
        ("n_samples", [1000, 2000, 4000], 1.0),
        ("n_classes", [5, 20, 80], 0.3),
    ):
        for method in speed.GROWTH_METHODS:
            for v in values:
                growth.append(
                    dict(
                        axis=axis,
                        method=method,
                        n_samples=v if axis == "n_samples" else 3000,
                        n_classes=v if axis == "n_classes" else 20,
                        seconds_per_epoch=1e-3 * v**power * rng.uniform(0.9, 1.1),
                    )
                )
    timing = {
        "1": dict(scenarios={n: scenario for n in speed.SCENARIOS}, growth=growth),
        "2": dict(scenarios={n: scenario for n in speed.SCENARIOS}, growth=[]),
    }
    mem = dict(peak_rss_delta_mb=70.0, peak_rss_mb=600.0, n_samples=500_000)
    results = dict(timing=timing, memory={"plain_kd_fused": mem, "distilled": mem})
    results["slopes"] = speed.growth_slopes(growth)
    return results


def test_growth_slopes_are_log_log_least_squares_for_every_method():
    results = _results(np.random.default_rng(0))
    slopes = results["slopes"]
    assert {(s["axis"], s["method"]) for s in slopes} == {
        (a, m) for a in ("n_samples", "n_classes") for m in speed.GROWTH_METHODS
    }
    growth = results["timing"]["1"]["growth"]
    for s in slopes:
        pts = [
            g for g in growth if g["axis"] == s["axis"] and g["method"] == s["method"]
        ]
        want = stats.linregress(
            np.log([g[s["axis"]] for g in pts]),
            np.log([g["seconds_per_epoch"] for g in pts]),
        )
        assert s["slope"] == pytest.approx(want.slope)
        assert s["low"] < s["slope"] < s["high"]
        assert s["points"] == 3 and s["lowest"] < s["highest"]
    by_axis = {s["axis"]: s["slope"] for s in slopes if s["method"] == "distilled"}
    assert by_axis["n_samples"] == pytest.approx(1.0, abs=0.2)
    assert by_axis["n_classes"] == pytest.approx(0.3, abs=0.2)


def test_tables_and_figure_show_the_growth():
    results = _results(np.random.default_rng(1))
    table = speed.ratio_table(results)
    for s in results["slopes"]:
        assert f"{s['slope']:.2f}" in table
    assert "| rows | 1,000-4,000 |" in table
    assert "| classes | 5-80 |" in table
    assert "load average" not in table  # no machine state recorded
    results["machine"] = speed.machine_state((0.5, 0.25, 1.0), 12.0)
    assert "load average (1, 5, 15 min) 0.50, 0.25, 1.00 before" in (
        speed.ratio_table(results)
    )
    fig = speed.figure(results)
    growth_axes = fig.axes[2:]
    assert [len(ax.get_lines()) for ax in growth_axes] == [4, 4]
    assert not any(t.get_text() == "not measured in this run" for t in fig.texts)
    legend = [t.get_text() for t in growth_axes[0].get_legend().get_texts()]
    assert any("slope" in text for text in legend)


def test_a_run_without_growth_says_so():
    results = _results(np.random.default_rng(2))
    results["timing"]["1"]["growth"] = []
    results["slopes"] = speed.growth_slopes([])
    assert results["slopes"] == []
    fig = speed.figure(results)
    texts = [t.get_text() for ax in fig.axes[2:] for t in ax.texts]
    assert texts == ["not measured in this run"] * 2
    table = speed.ratio_table(results)
    assert "| Against | Range | Method | Slope | 95 % CI |" in table
    assert "| rows |" not in table
