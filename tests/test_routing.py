"""Metadata routing: sample_weight and other fit parameters reach the teacher."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklearn_kd import DistilledClassifier

#: what each RecordingTeacher.fit received, keyed by ``key``
RECEIVED = {}


class RecordingTeacher(LogisticRegression):
    def __init__(self, key="default", C=1.0):
        super().__init__(C=C)
        self.key = key

    def fit(self, X, y, sample_weight=None, groups_hint=None):
        RECEIVED[self.key] = {
            "sample_weight": sample_weight,
            "groups_hint": groups_hint,
        }
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_without_routing_sample_weight_reaches_a_teacher_that_accepts_it(
    tiny, binary_data
):
    X, y = binary_data
    w = np.linspace(0.5, 2.0, len(y))
    DistilledClassifier(RecordingTeacher(key="legacy"), **tiny).fit(
        X, y, sample_weight=w
    )
    np.testing.assert_array_equal(RECEIVED["legacy"]["sample_weight"], w)


def test_without_routing_extra_params_need_a_teacher(tiny, binary_data):
    X, y = binary_data
    proba = np.full((len(y), 2), 0.5)
    with pytest.raises(TypeError, match="Extra fit parameters"):
        DistilledClassifier(**tiny).fit(X, y, teacher_proba=proba, groups_hint=1)


def test_routing_sends_sample_weight_only_when_requested(tiny, routing, binary_data):
    X, y = binary_data
    w = np.linspace(0.5, 2.0, len(y))
    teacher = RecordingTeacher(key="requested").set_fit_request(sample_weight=True)
    est = DistilledClassifier(teacher, **tiny).set_fit_request(sample_weight=True)
    est.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(RECEIVED["requested"]["sample_weight"], w)

    teacher = RecordingTeacher(key="declined").set_fit_request(sample_weight=False)
    est = DistilledClassifier(teacher, **tiny)
    est.fit(X, y, sample_weight=w)
    assert RECEIVED["declined"]["sample_weight"] is None


def test_routing_unrequested_metadata_is_an_error(tiny, routing, binary_data):
    X, y = binary_data
    est = DistilledClassifier(RecordingTeacher(key="unset"), **tiny)
    with pytest.raises(ValueError, match="sample_weight"):
        est.fit(X, y, sample_weight=np.ones(len(y)))


def test_routing_other_fit_params_reach_the_teacher(tiny, routing, binary_data):
    X, y = binary_data
    teacher = RecordingTeacher(key="extra").set_fit_request(groups_hint=True)
    DistilledClassifier(teacher, **tiny).fit(X, y, groups_hint="hello")
    assert RECEIVED["extra"]["groups_hint"] == "hello"


def test_routing_through_grid_search(tiny, routing, binary_data):
    X, y = binary_data
    w = np.ones(len(y))
    teacher = RecordingTeacher(key="grid").set_fit_request(sample_weight=True)
    est = (
        DistilledClassifier(teacher, **tiny)
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=False)
    )
    search = GridSearchCV(est, {"alpha": [0.2, 0.8]}, cv=2)
    search.fit(X, y, sample_weight=w)
    # the refit on all rows is the last fit the teacher saw
    assert len(RECEIVED["grid"]["sample_weight"]) == len(y)


def test_routing_teacher_proba_sliced_by_grid_search(tiny, routing, binary_data):
    X, y = binary_data
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    est = DistilledClassifier(**tiny).set_fit_request(teacher_proba=True)
    search = GridSearchCV(est, {"temperature": [1.0, 3.0]}, cv=3)
    search.fit(X, y, teacher_proba=proba)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
