"""class_weight: weights of the classes in the student's loss."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_kd import DistilledClassifier

FAST = dict(max_epochs=5, hidden_layer_sizes=(8,), lr=1e-2, random_state=0)


@pytest.fixture(scope="module")
def imbalanced():
    """Two overlapping classes, 9 rows of class 0 to each row of class 1."""
    return make_classification(
        n_samples=200, n_features=4, n_informative=2, weights=[0.9, 0.1],
        class_sep=0.5, random_state=0,
    )


def test_balanced_predicts_the_rare_class_more_often(imbalanced):
    X, y = imbalanced
    plain = DistilledClassifier(alpha=0.0, **FAST).fit(X, y)
    balanced = DistilledClassifier(alpha=0.0, class_weight="balanced", **FAST)
    balanced.fit(X, y)
    rare_plain = np.sum(plain.predict(X) == 1)
    rare_balanced = np.sum(balanced.predict(X) == 1)
    assert rare_balanced > rare_plain + 10


@pytest.mark.parametrize("class_weight", ["balanced", {"b": 3.0}])
def test_class_weight_multiplies_sample_weight(imbalanced, class_weight):
    X, y_idx = imbalanced
    y = np.array(["a", "b"])[y_idx]
    w = np.linspace(0.5, 2.0, len(y))
    if class_weight == "balanced":
        factor = len(y) / (2 * np.bincount(y_idx))[y_idx]
    else:
        factor = np.where(y == "b", 3.0, 1.0)  # "a" is left out: weight 1
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    weighted = DistilledClassifier(class_weight=class_weight, **FAST).fit(
        X, y, teacher_proba=proba, sample_weight=w
    )
    by_hand = DistilledClassifier(**FAST).fit(
        X, y, teacher_proba=proba, sample_weight=w * factor
    )
    np.testing.assert_array_equal(
        weighted.predict_proba(X), by_hand.predict_proba(X)
    )


def test_unlabelled_rows_keep_their_sample_weight(imbalanced):
    X, y = imbalanced
    y = y.copy()
    y[::7] = -1
    proba = LogisticRegression().fit(X, y.clip(0)).predict_proba(X)
    factor = np.where(y == 1, 4.0, 1.0)  # unlabelled rows: 1
    weighted = DistilledClassifier(
        class_weight={1: 4.0}, unlabelled=-1, **FAST
    ).fit(X, y, teacher_proba=proba)
    by_hand = DistilledClassifier(unlabelled=-1, **FAST).fit(
        X, y, teacher_proba=proba, sample_weight=factor
    )
    np.testing.assert_array_equal(
        weighted.predict_proba(X), by_hand.predict_proba(X)
    )


class RecordingTeacher(LogisticRegression):
    """Records the sample_weight its fit receives (on the class)."""

    seen = []

    def fit(self, X, y, sample_weight=None):
        type(self).seen.append(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def test_the_teacher_is_not_class_weighted(imbalanced):
    X, y = imbalanced
    w = np.linspace(0.5, 2.0, len(y))
    RecordingTeacher.seen = []
    DistilledClassifier(RecordingTeacher(), class_weight="balanced", **FAST).fit(
        X, y, sample_weight=w
    )
    np.testing.assert_array_equal(RecordingTeacher.seen[-1], w)
    DistilledClassifier(RecordingTeacher(), class_weight="balanced", **FAST).fit(X, y)
    assert RecordingTeacher.seen[-1] is None


@pytest.mark.parametrize(
    "class_weight, error, match",
    [
        ({0: 1.0, 5: 2.0}, ValueError,
         r"class_weight must name classes of y; got \[5\], which y does not "
         r"hold \(its classes are \[0, 1\]\)"),
        ({"0": 2.0}, ValueError, r"got \['0'\], which y does not hold"),
        ({1: -1.0}, ValueError, r"finite non-negative number; got \{1: -1.0\}"),
        ({1: np.nan}, ValueError, "finite non-negative number"),
        ("auto", InvalidParameterError, "'class_weight' parameter"),
    ],
)
def test_bad_class_weight_is_refused_before_the_teacher_is_fitted(
    imbalanced, class_weight, error, match
):
    X, y = imbalanced
    RecordingTeacher.seen = []
    with pytest.raises(error, match=match):
        DistilledClassifier(
            RecordingTeacher(), class_weight=class_weight, **FAST
        ).fit(X, y)
    assert RecordingTeacher.seen == []
