"""Knowledge levels, the loss family and teacher diagnostics through the
estimator."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklearn_kd import DistilledClassifier, OverconfidentTeacherWarning
from sklearn_kd.knowledge import apply_knowledge, fit_knowledge
from sklearn_kd.losses import soften

FAST = dict(max_epochs=8, hidden_layer_sizes=(16,), lr=1e-2, random_state=0)


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(
        n_samples=180, n_features=6, n_informative=4, n_classes=4, random_state=0
    )
    proba = LogisticRegression(C=0.1).fit(X, y).predict_proba(X)
    return X, y, proba


@pytest.mark.parametrize("level", ["full", "universe", "domain", "instance"])
def test_each_level_trains_and_stores_its_constants(problem, level):
    X, y, proba = problem
    clf = DistilledClassifier(knowledge=level, temperature=2.0, **FAST)
    clf.fit(X, y, teacher_proba=proba)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    if level == "full":
        assert clf.knowledge_params_ is None
    else:
        q_T = soften(proba, 2.0).numpy()
        expected = fit_knowledge(q_T, y, 4)
        assert clf.knowledge_params_.confidence == pytest.approx(expected.confidence)
        np.testing.assert_allclose(
            clf.knowledge_params_.class_shapes, expected.class_shapes
        )


@pytest.mark.parametrize("level", ["universe", "domain", "instance"])
def test_level_equals_precomputed_level_teacher(problem, level):
    """knowledge=level is the full student of the level's teacher (T = 1)."""
    X, y, proba = problem
    a = DistilledClassifier(knowledge=level, **FAST).fit(X, y, teacher_proba=proba)
    level_teacher = apply_knowledge(proba, y, level, fit_knowledge(proba, y, 4))
    b = DistilledClassifier(**FAST).fit(X, y, teacher_proba=level_teacher)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)


def test_universe_at_t1_is_label_smoothing(problem):
    """E3 through the estimator: same gradients, hence the same student."""
    X, y, proba = problem
    alpha, n_classes = 0.6, 4
    q_bar = proba[np.arange(len(y)), y].mean()
    epsilon = alpha * n_classes * (1 - q_bar) / (n_classes - 1)
    kd = DistilledClassifier(knowledge="universe", alpha=alpha, **FAST)
    kd.fit(X, y, teacher_proba=proba)
    ls = DistilledClassifier(loss="label_smoothing", alpha=epsilon, **FAST).fit(X, y)
    np.testing.assert_allclose(kd.predict_proba(X), ls.predict_proba(X), atol=1e-4)


def test_grid_search_over_knowledge_and_loss(problem):
    X, y, proba = problem
    grid = {"knowledge": ["universe", "domain", "instance", "full"], "loss": ["kd"]}
    search = GridSearchCV(DistilledClassifier(**FAST), grid, cv=3)
    search.fit(X, y, teacher_proba=proba)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["knowledge"] in grid["knowledge"]


def test_dkd_with_kd_weights_tracks_kd(problem):
    """DKD with weights (1, 1) differs from KD only by the per-row 1 - q_T,c."""
    X, y, proba = problem
    kd = DistilledClassifier(loss="kd", **FAST).fit(X, y, teacher_proba=proba)
    tckd = DistilledClassifier(loss="dkd", nckd_weight=0.0, **FAST)
    tckd.fit(X, y, teacher_proba=proba)
    assert not np.allclose(kd.predict_proba(X), tckd.predict_proba(X))


def test_teacher_stats_and_overconfidence_warning(problem):
    X, y, proba = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverconfidentTeacherWarning)
        clf = DistilledClassifier(**FAST).fit(X, y, teacher_proba=proba)
    stats = clf.teacher_stats_
    q_c = proba[np.arange(len(y)), y]
    assert stats.mean_confidence == pytest.approx(q_c.mean())
    assert stats.mean_non_target_mass == pytest.approx(1 - q_c.mean())

    one_hot = np.eye(4)[y] * (1 - 1e-6) + 1e-6 / 4
    with pytest.warns(OverconfidentTeacherWarning, match="teacher_cv"):
        DistilledClassifier(**FAST).fit(X, y, teacher_proba=one_hot)
    # a high temperature restores non-target mass and silences the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverconfidentTeacherWarning)
        DistilledClassifier(temperature=10.0, **FAST).fit(
            X, y, teacher_proba=one_hot
        )
