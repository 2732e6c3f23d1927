"""compression_report and persisting the student without its teacher."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_kd import DistilledClassifier
from sklearn_kd.metrics import compression_report
from sklearn_kd.persistence import without_teacher


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3,
                               n_classes=3, random_state=0)
    forest = RandomForestClassifier(30, random_state=0).fit(X[:80], y[:80])
    student = DistilledClassifier(FrozenEstimator(forest), max_epochs=3,
                                  hidden_layer_sizes=(8,), random_state=0)
    student.fit(X[:80], y[:80])
    return forest, student, X[80:], y[80:]


def test_report_values(fitted, capsys):
    forest, student, X, y = fitted
    report = compression_report(forest, student, X, y, n_repeats=2)
    printed = capsys.readouterr().out
    assert "fidelity" in printed and "teacher" in printed
    for name, model in (("teacher", forest), ("student", student)):
        row = report[name]
        assert row["accuracy"] == pytest.approx(model.score(X, y))
        assert row["latency_1_thread_s"] > 0
        assert row["latency_default_threads_s"] > 0
        assert 0 <= row["ece"] <= 1 and row["log_loss"] > 0
    same = np.mean(forest.predict(X) == student.predict(X))
    assert report["fidelity"] == pytest.approx(same)
    n_nodes = sum(t.tree_.node_count for t in forest.estimators_)
    assert report["teacher"]["n_parameters"] == n_nodes
    n_weights = sum(p.numel() for p in student.student_.module_.parameters())
    assert report["student"]["n_parameters"] == n_weights
    # the student's size excludes its (frozen) forest
    assert report["student"]["size_bytes"] < report["teacher"]["size_bytes"]
    assert report["size_ratio"] > 1


def test_report_on_pipelines(fitted):
    forest, student, X, y = fitted
    pipe = make_pipeline(StandardScaler(), DistilledClassifier(
        alpha=0, max_epochs=1, hidden_layer_sizes=(4,), random_state=0))
    pipe.fit(X, y)
    report = compression_report(forest, pipe, X, y, n_repeats=1, verbose=False)
    assert report["student"]["n_parameters"] > 0


def test_report_rejects_different_classes(fitted):
    forest, _, X, y = fitted
    other = DistilledClassifier(alpha=0, max_epochs=1, hidden_layer_sizes=(4,))
    other.fit(X, np.where(y == 2, 1, y))
    with pytest.raises(ValueError, match="same classes"):
        compression_report(forest, other, X, y, verbose=False)


def test_without_teacher(fitted):
    forest, student, X, _ = fitted
    small = without_teacher(student)
    assert small.teacher is None and small.teacher_ is None
    assert student.teacher_ is not None  # the original is untouched
    restored = pickle.loads(pickle.dumps(small))
    np.testing.assert_array_equal(restored.predict_proba(X),
                                  student.predict_proba(X))
    # dropping the teacher saves (nearly) the whole teacher
    saved = len(pickle.dumps(student)) - len(pickle.dumps(small))
    assert saved > 0.9 * len(pickle.dumps(forest))
    with pytest.raises(TypeError, match="DistilledClassifier"):
        without_teacher(forest)


def test_report_shows_both_sizes(fitted, capsys):
    import io

    from sklearn_kd.persistence import save

    forest, student, X, y = fitted
    report = compression_report(forest, student, X, y, n_repeats=1)
    printed = capsys.readouterr().out
    row = report["student"]
    state = student.student_.module_.state_dict()
    assert row["weight_bytes"] == sum(t.nbytes for t in state.values())
    assert row["file_bytes"] == len(save(student, io.BytesIO()).getvalue())
    assert row["size_bytes"] == len(pickle.dumps(without_teacher(student),
                                                 protocol=pickle.HIGHEST_PROTOCOL))
    assert report["teacher"]["size_bytes"] == len(
        pickle.dumps(forest, protocol=pickle.HIGHEST_PROTOCOL))
    assert report["teacher"]["file_bytes"] is None
    assert report["teacher"]["weight_bytes"] is None
    for label in ("pickled size", "persistence file", "raw weights"):
        assert label in printed


def test_report_refuses_unfitted_models(fitted):
    from sklearn.exceptions import NotFittedError

    forest, student, X, y = fitted
    with pytest.raises(NotFittedError, match="RandomForestClassifier"):
        compression_report(RandomForestClassifier(), student, X, y, verbose=False)
    with pytest.raises(NotFittedError, match="DistilledClassifier"):
        compression_report(forest, DistilledClassifier(), X, y, verbose=False)
    frozen_unfitted = FrozenEstimator(RandomForestClassifier())
    with pytest.raises(NotFittedError):
        compression_report(frozen_unfitted, student, X, y, verbose=False)


def test_report_refuses_a_student_that_is_no_distilled_classifier(fitted):
    forest, student, X, y = fitted
    with pytest.raises(TypeError, match="look swapped"):
        compression_report(student, forest, X, y, verbose=False)
    pipe = make_pipeline(StandardScaler(), forest)
    with pytest.raises(TypeError, match="student must be a DistilledClassifier.*"
                       "got Pipeline.$"):
        compression_report(forest, pipe, X, y, verbose=False)


class Float32Forest(RandomForestClassifier):
    """Probabilities in float32, as XGBoost and LightGBM return them."""

    def predict_proba(self, X):
        proba = super().predict_proba(X).astype(np.float32)
        return proba * np.float32(1 + 1e-7)  # sums off by float32 rounding


def test_report_on_float32_probabilities_warns_nothing(fitted):
    import warnings

    _, student, X, y = fitted
    X_fit = np.vstack([X, X])
    forest = Float32Forest(5, random_state=0).fit(X_fit, np.concatenate([y, y]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = compression_report(forest, student, X, y, n_repeats=1,
                                    verbose=False)
    assert report["teacher"]["log_loss"] > 0


# ------------------------------------------------------------ regressor
@pytest.fixture(scope="module")
def fitted_regressors():
    from sklearn.datasets import make_regression
    from sklearn.ensemble import RandomForestRegressor

    from sklearn_kd import DistilledRegressor

    fitted = {}
    for n_outputs in (1, 2):
        X, y = make_regression(n_samples=150, n_features=5, n_targets=n_outputs,
                               noise=1.0, random_state=0)
        forest = RandomForestRegressor(20, random_state=0).fit(X[:100], y[:100])
        student = DistilledRegressor(FrozenEstimator(forest), max_epochs=5,
                                     hidden_layer_sizes=(8,), random_state=0)
        student.fit(X[:100], y[:100])
        fitted[n_outputs] = forest, student, X[100:], y[100:]
    return fitted


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor_report_values(fitted_regressors, capsys, n_outputs):
    import io

    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    from sklearn_kd.persistence import save

    forest, student, X, y = fitted_regressors[n_outputs]
    report = compression_report(forest, student, X, y, n_repeats=2)
    printed = capsys.readouterr().out
    for label in ("R²", "RMSE", "MAE", "R² against the teacher", "raw weights"):
        assert label in printed
    assert "accuracy" not in printed
    for name, model in (("teacher", forest), ("student", student)):
        row = report[name]
        pred = model.predict(X)
        assert row["r2"] == pytest.approx(r2_score(y, pred))
        assert row["rmse"] == pytest.approx(root_mean_squared_error(y, pred))
        assert row["mae"] == pytest.approx(mean_absolute_error(y, pred))
        assert row["latency_1_thread_s"] > 0
        assert row["latency_default_threads_s"] > 0
        assert not {"accuracy", "log_loss", "ece"} & set(row)
    assert report["fidelity"] == pytest.approx(
        r2_score(forest.predict(X), student.predict(X)))
    assert report["n_samples"] == len(X)
    row = report["student"]
    state = student.student_.module_.state_dict()
    assert row["weight_bytes"] == sum(t.nbytes for t in state.values())
    assert row["file_bytes"] == len(save(student, io.BytesIO()).getvalue())
    assert row["size_bytes"] == len(pickle.dumps(without_teacher(student),
                                                 protocol=pickle.HIGHEST_PROTOCOL))
    n_weights = sum(p.numel() for p in student.student_.module_.parameters())
    assert row["n_parameters"] == n_weights
    n_nodes = sum(t.tree_.node_count for t in forest.estimators_)
    assert report["teacher"]["n_parameters"] == n_nodes
    assert report["teacher"]["file_bytes"] is None
    assert report["size_ratio"] > 1


def test_regressor_report_on_a_pipeline(fitted_regressors):
    from sklearn_kd import DistilledRegressor

    forest, _, X, y = fitted_regressors[1]
    pipe = make_pipeline(StandardScaler(), DistilledRegressor(
        alpha=0, max_epochs=1, hidden_layer_sizes=(4,), random_state=0))
    pipe.fit(X, y)
    report = compression_report(forest, pipe, X, y, n_repeats=1, verbose=False)
    assert report["student"]["n_parameters"] > 0
    assert report["student"]["r2"] == pytest.approx(pipe.score(X, y))


def test_regressor_report_refuses_mismatched_models(fitted, fitted_regressors):
    classifier_forest, classifier, _, _ = fitted
    forest, student, X, y = fitted_regressors[2]
    with pytest.raises(TypeError, match="student is a regressor, so teacher"):
        compression_report(classifier_forest, student, X, y, verbose=False)
    with pytest.raises(TypeError, match="student is a classifier, so teacher"):
        compression_report(forest, classifier, X, y, verbose=False)
    with pytest.raises(ValueError, match="predicts 2 output.*y has 1"):
        compression_report(forest, student, X, y[:, 0], verbose=False)
    with pytest.raises(TypeError, match="DistilledRegressor"):
        compression_report(forest, forest, X, y, verbose=False)
