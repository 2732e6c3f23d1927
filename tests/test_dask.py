"""Searches over DistilledClassifier give the same results on a cluster.

The fits of a grid or randomized search run under joblib's Dask backend on a
local two-worker cluster (separate processes, one thread each) and must give
the same ``cv_results_`` as a local, sequential run with the same seeds. An
optional Ray variant runs when ray is installed.
"""

import numpy as np
import pytest
from joblib import parallel_config
from scipy.stats import loguniform, uniform
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from sklearn_kd import DistilledClassifier

PARAM_GRID = {"temperature": [0.5, 2.0], "alpha": [0.3, 0.9]}
PARAM_DISTRIBUTIONS = {"temperature": loguniform(0.5, 4.0), "alpha": uniform(0, 1)}


def make_data():
    return make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )


def make_student():
    return DistilledClassifier(
        LogisticRegression(),
        hidden_layer_sizes=(8,),
        max_epochs=5,
        batch_size=32,
        n_iter_no_change=None,
        random_state=0,
    )


def make_searches():
    return {
        "grid": GridSearchCV(make_student(), PARAM_GRID, cv=3, n_jobs=2),
        "randomized": RandomizedSearchCV(
            make_student(),
            PARAM_DISTRIBUTIONS,
            n_iter=4,
            cv=3,
            random_state=0,
            n_jobs=2,
        ),
    }


@pytest.fixture(scope="module")
def local_results():
    """cv_results_ of each search run sequentially in this process."""
    X, y = make_data()
    results = {}
    for name, search in make_searches().items():
        search.set_params(n_jobs=1).fit(X, y)
        results[name] = search
    return results


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def assert_same_search(search, reference):
    assert search.cv_results_["params"] == reference.cv_results_["params"]
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        search.cv_results_["std_test_score"],
        reference.cv_results_["std_test_score"],
        rtol=0,
        atol=1e-12,
    )
    assert search.best_params_ == reference.best_params_
    X, _ = make_data()
    np.testing.assert_allclose(
        search.predict_proba(X), reference.predict_proba(X), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("name", ["grid", "randomized"])
def test_search_on_dask_matches_local_run(name, dask_client, local_results):
    from distributed import get_task_stream

    X, y = make_data()
    search = make_searches()[name]
    with get_task_stream(dask_client) as tasks, parallel_config(backend="dask"):
        search.fit(X, y)
    # The fits ran on the cluster's workers, not in this process.
    assert len(tasks.data) > 0
    assert {task["worker"] for task in tasks.data} <= set(
        dask_client.scheduler_info()["workers"]
    )
    assert_same_search(search, local_results[name])


def test_search_on_ray_matches_local_run(local_results):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, y = make_data()
    search = make_searches()["grid"]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with parallel_config(backend="ray"):
            search.fit(X, y)
    finally:
        ray.shutdown()
    assert_same_search(search, local_results["grid"])
