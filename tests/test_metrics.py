"""Tests of sklearn_kd.metrics against independent references."""

import numpy as np
import pytest
import torch
from scipy.special import softmax
from scipy.stats import entropy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from sklearn_kd import DistilledClassifier
from sklearn_kd.metrics import (
    SCORERS,
    agreement,
    expected_calibration_error,
    neg_expected_calibration_error_score,
    neg_teacher_kl_divergence_score,
    teacher_agreement_score,
    teacher_kl_divergence,
)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ece_reference(y_true, y_prob, n_bins):
    """Loop-based ECE with explicit right-closed equal-width bins."""
    conf = y_prob.max(axis=1)
    correct = y_prob.argmax(axis=1) == y_true
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        mask = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return total


# ------------------------------------------------------------ agreement
def test_agreement_hand_computed():
    assert agreement([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert agreement(["a", "b"], ["a", "b"]) == 1.0
    assert agreement([0, 1], [1, 0]) == 0.0


def test_agreement_sample_weight():
    assert agreement([0, 1], [0, 0], sample_weight=[3, 1]) == 0.75
    # only the ratios count: weights summing to less than 1 are fine
    assert agreement([0, 1], [0, 0], sample_weight=[0.3, 0.1]) == pytest.approx(0.75)


def test_agreement_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        agreement([0, 1], [0])


# ------------------------------------------------------------------ KL
def test_kl_matches_scipy_entropy():
    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(5), size=50)
    p = rng.dirichlet(np.ones(5), size=50)
    expected = np.mean([entropy(qi, pi) for qi, pi in zip(q, p)])
    assert teacher_kl_divergence(q, p) == pytest.approx(expected, rel=1e-12)


def test_kl_zero_probability_gives_finite_loss():
    q = np.array([[1.0, 0.0, 0.0], [0.0, 0.3, 0.7]])
    p = np.array([[0.5, 0.25, 0.25], [0.2, 0.4, 0.4]])
    kl = teacher_kl_divergence(q, p)
    assert np.isfinite(kl)
    expected = np.mean([entropy(qi, pi) for qi, pi in zip(q, p)])
    assert kl == pytest.approx(expected)


def test_kl_is_zero_for_identical_and_inf_for_student_zero():
    q = np.array([[0.2, 0.8]])
    assert teacher_kl_divergence(q, q) == 0.0
    assert teacher_kl_divergence(q, np.array([[0.0, 1.0]])) == np.inf


def test_kl_rejects_non_probabilities():
    with pytest.raises(ValueError, match="sum to 1"):
        teacher_kl_divergence([[0.5, 0.6]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="columns"):
        teacher_kl_divergence([[0.5, 0.5]], [[0.2, 0.3, 0.5]])


# ----------------------------------------------------------------- ECE
def test_ece_of_calibrated_predictor_is_near_zero():
    # Labels drawn from the predicted distribution: calibrated by design.
    rng = np.random.default_rng(0)
    y_prob = rng.dirichlet(np.full(4, 0.5), size=200_000)
    y_true = (rng.random((len(y_prob), 1)) > y_prob.cumsum(axis=1)).sum(axis=1)
    assert expected_calibration_error(y_true, y_prob, labels=np.arange(4)) < 0.01
    assert expected_calibration_error(
        y_true, y_prob, strategy="quantile", labels=np.arange(4)
    ) < 0.01


def test_ece_of_overconfident_predictor():
    # Always 100 % confident, right half of the time: ECE = 0.5.
    y_prob = np.tile([1.0, 0.0], (10, 1))
    y_true = np.array([0, 1] * 5)
    assert expected_calibration_error(y_true, y_prob) == pytest.approx(0.5)


def test_ece_hand_computed_two_bins():
    y_prob = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    y_true = np.array([0, 1, 1, 1])
    # bin of 0.9: acc 0.5, gap 0.4; bin of 0.6: acc 1.0, gap 0.4; weights 1/2.
    assert expected_calibration_error(y_true, y_prob) == pytest.approx(0.4)
    # A single bin pools them: |0.75 - 0.75| = 0.
    assert expected_calibration_error(y_true, y_prob, n_bins=1) == pytest.approx(0.0)


def test_ece_matches_loop_reference():
    rng = np.random.default_rng(1)
    y_prob = rng.dirichlet(np.ones(3), size=500)
    y_true = rng.integers(0, 3, size=500)
    for n_bins in (1, 5, 15):
        assert expected_calibration_error(
            y_true, y_prob, n_bins=n_bins
        ) == pytest.approx(_ece_reference(y_true, y_prob, n_bins), abs=1e-12)


def test_ece_edge_confidence_goes_to_bin_it_closes():
    # 0.6 is the right edge of bin (0.4, 0.6] with 5 bins.
    y_prob = np.array([[0.6, 0.4], [0.7, 0.3]])
    y_true = np.array([0, 1])
    # Separate bins: 0.5 * |1 - 0.6| + 0.5 * |0 - 0.7| = 0.55.
    assert expected_calibration_error(y_true, y_prob, n_bins=5) == pytest.approx(
        0.55
    )


def test_ece_one_dimensional_probabilities_may_be_0_or_1():
    # certain and right on both rows: perfectly calibrated
    assert expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0
    # certain and wrong on both rows
    assert expected_calibration_error([1, 0], [0.0, 1.0]) == 1.0


def test_ece_bins_below_the_smallest_possible_confidence():
    # Four classes, two bins split at 0.5: confidence 0.4 (right) and 0.9
    # (wrong) fall in different bins.
    y_prob = np.array([[0.4, 0.2, 0.2, 0.2], [0.9, 0.1, 0.0, 0.0]])
    y_true = np.array([0, 1])
    assert expected_calibration_error(
        y_true, y_prob, n_bins=2, labels=[0, 1, 2, 3]
    ) == pytest.approx(0.5 * 0.6 + 0.5 * 0.9)
    # one bin: |mean accuracy - mean confidence|
    assert expected_calibration_error(
        y_true, y_prob, n_bins=1, labels=[0, 1, 2, 3]
    ) == pytest.approx(abs(0.5 - 0.65))
    # three bins split at 1/3 and 2/3: 0.4 and 0.9 in the second and third
    assert expected_calibration_error(
        y_true, y_prob, n_bins=3, labels=[0, 1, 2, 3]
    ) == pytest.approx(0.5 * 0.6 + 0.5 * 0.9)


def test_ece_binary_one_dimensional_probabilities():
    p = np.array([0.9, 0.2, 0.6, 0.3])
    y = np.array([1, 0, 0, 0])
    two = np.column_stack([1 - p, p])
    assert expected_calibration_error(y, p) == expected_calibration_error(y, two)


def test_ece_labels_and_sample_weight():
    y_prob = np.array([[0.8, 0.2], [0.8, 0.2]])
    y_true = np.array(["b", "b"])
    assert expected_calibration_error(
        y_true, y_prob, labels=["b", "c"]
    ) == pytest.approx(0.2)
    weighted = expected_calibration_error(
        np.array([0, 1]), y_prob, sample_weight=[3, 1], n_bins=1
    )
    assert weighted == pytest.approx(abs(0.75 - 0.8))


def test_ece_rejects_bad_arguments():
    y_prob = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0], y_prob, n_bins=0)
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error([0], y_prob, strategy="kmeans")
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error([0], y_prob)


# ------------------------------------------------------------- scorers
class _FixedClassifier(ClassifierMixin, BaseEstimator):
    """Fitted classifier whose probabilities are a fixed function of X.

    The probabilities of ``classes`` are ``softmax(X[:, columns] + shift)``;
    ``teacher`` becomes ``teacher_``.
    """

    def __init__(self, classes=(0, 1, 2), columns=(0, 1, 2), shift=0.0, teacher=None):
        self.classes = classes
        self.columns = columns
        self.shift = shift
        self.teacher = teacher

    def fit(self, X=None, y=None):
        self.classes_ = np.asarray(self.classes)
        self.teacher_ = self.teacher
        return self

    def predict_proba(self, X):
        return softmax(np.asarray(X)[:, list(self.columns)] + self.shift, axis=1)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _scorer_problem():
    X = np.random.default_rng(3).normal(size=(40, 3)) * 2.0
    # The teacher lists its classes in another order and favours class 0,
    # so it disagrees with the student on some rows.
    teacher = _FixedClassifier(
        classes=(2, 0, 1), columns=(2, 0, 1), shift=np.array([0.0, 1.5, 0.0])
    ).fit()
    student = _FixedClassifier(teacher=teacher).fit()
    return X, student, teacher


def test_scorers_hand_computed_on_fixed_probabilities():
    X, student, teacher = _scorer_problem()
    p = softmax(X, axis=1)  # columns of classes 0, 1, 2
    q = softmax(X + [1.5, 0.0, 0.0], axis=1)  # the teacher's, classes 0, 1, 2
    np.testing.assert_allclose(teacher.predict_proba(X)[:, [1, 2, 0]], q)
    teacher_pred = q.argmax(axis=1)
    student_pred = p.argmax(axis=1)
    expected = np.mean(student_pred == teacher_pred)
    assert 0 < expected < 1
    y = (teacher_pred + 1) % 3  # labels that never equal the teacher's
    assert teacher_agreement_score(student, X, y) == expected
    expected_kl = np.mean([entropy(qi, pi) for qi, pi in zip(q, p)])
    assert neg_teacher_kl_divergence_score(student, X) == pytest.approx(
        -expected_kl, rel=1e-12
    )
    assert neg_expected_calibration_error_score(student, X, y) == pytest.approx(
        -_ece_reference(y, p, 15), abs=1e-12
    )


def test_ece_scorer_scores_the_estimators_classes():
    # A test fold holding only classes 1 and 2 of a 3-class estimator.
    X, student, _ = _scorer_problem()
    p = student.predict_proba(X)
    y = np.where(p.argmax(axis=1) == 0, 1, 2)
    assert neg_expected_calibration_error_score(student, X, y) == pytest.approx(
        -_ece_reference(y, p, 15), abs=1e-12
    )


def test_teacher_scorers_on_a_classifier_without_teacher_say_what_to_use():
    X, _, _ = _scorer_problem()
    plain = LogisticRegression().fit(X, np.arange(len(X)) % 3)
    message = (
        r"^This scorer compares an estimator with its fitted teacher_, but "
        r"LogisticRegression has teacher_=None \(it was fitted with teacher_proba "
        r"or without a teacher\)\. Use agreement\(\) or teacher_kl_divergence\(\) "
        r"on the arrays instead\.$"
    )
    for scorer in (teacher_agreement_score, neg_teacher_kl_divergence_score):
        with pytest.raises(ValueError, match=message):
            scorer(plain, X)


def test_scorers_need_a_fitted_estimator_with_a_teacher():
    X, student, _ = _scorer_problem()
    without = _FixedClassifier().fit()
    for scorer in (teacher_agreement_score, neg_teacher_kl_divergence_score):
        with pytest.raises(ValueError, match="teacher_=None"):
            scorer(without, X)
        with pytest.raises(NotFittedError):
            scorer(_FixedClassifier(), X)
    with pytest.raises(NotFittedError):
        neg_expected_calibration_error_score(_FixedClassifier(), X, [0] * len(X))


def _student(**params):
    defaults = dict(
        teacher=LogisticRegression(),
        max_epochs=5,
        hidden_layer_sizes=(8,),
        random_state=0,
    )
    return DistilledClassifier(**{**defaults, **params})


def test_scorers_match_functions(data):
    X, y = data
    clf = _student(alpha=1.0).fit(X, y)
    assert teacher_agreement_score(clf, X) == agreement(
        clf.predict(X), clf.teacher_.predict(X)
    )
    assert neg_teacher_kl_divergence_score(clf, X) == pytest.approx(
        -teacher_kl_divergence(clf.teacher_.predict_proba(X), clf.predict_proba(X))
    )
    assert neg_expected_calibration_error_score(clf, X, y) == pytest.approx(
        -expected_calibration_error(y, clf.predict_proba(X))
    )


def test_teacher_agreement_score_compares_with_the_teacher_not_y(data):
    X, y = data
    clf = _student(alpha=1.0).fit(X, y)
    teacher_pred = clf.teacher_.predict(X)
    # Labels that never equal the teacher's predictions.
    y_other = (teacher_pred + 1) % 3
    expected = agreement(clf.predict(X), teacher_pred)
    assert teacher_agreement_score(clf, X, y_other) == expected
    assert teacher_agreement_score(clf, X, y) == expected
    assert expected != agreement(clf.predict(X), y_other)


def test_scorers_inside_grid_search(data):
    X, y = data
    grid = {"alpha": [0.0, 1.0]}
    cv = StratifiedKFold(2)
    search = GridSearchCV(
        _student(),
        grid,
        scoring={"accuracy": "accuracy", **SCORERS},
        refit="teacher_agreement",
        cv=cv,
    ).fit(X, y)
    results = search.cv_results_
    # Each mean test score is the documented quantity on the held-out folds,
    # computed here from students fitted on the same training folds.
    references = {
        "teacher_agreement": lambda clf, Xt, yt: agreement(
            clf.predict(Xt), clf.teacher_.predict(Xt)
        ),
        "neg_teacher_kl_divergence": lambda clf, Xt, yt: -teacher_kl_divergence(
            clf.teacher_.predict_proba(Xt), clf.predict_proba(Xt)
        ),
        "neg_expected_calibration_error": lambda clf, Xt, yt: (
            -expected_calibration_error(yt, clf.predict_proba(Xt))
        ),
    }
    assert set(references) == set(SCORERS)
    for i, params in enumerate(results["params"]):
        folds = {name: [] for name in references}
        for train, test in cv.split(X, y):
            clf = _student(**params).fit(X[train], y[train])
            for name, reference in references.items():
                folds[name].append(reference(clf, X[test], y[test]))
        for name in references:
            np.testing.assert_allclose(
                results[f"mean_test_{name}"][i], np.mean(folds[name]), rtol=1e-12
            )
    best = int(np.argmax(results["mean_test_teacher_agreement"]))
    assert search.best_params_ == results["params"][best]


def test_ece_scorer_works_on_any_classifier(data):
    X, y = data
    scores = cross_validate(
        LogisticRegression(), X, y, cv=3, scoring=neg_expected_calibration_error_score
    )["test_score"]
    assert np.all((scores <= 0) & (scores >= -1))


def test_teacher_scorers_need_a_teacher(data):
    X, y = data
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    clf = _student(teacher=None).fit(X, y, teacher_proba=proba)
    with pytest.raises(ValueError, match="teacher_=None"):
        teacher_agreement_score(clf, X)
    with pytest.raises(ValueError, match="teacher_=None"):
        neg_teacher_kl_divergence_score(clf, X)


# ------------------------------------------------------- argument checks
Q2 = np.array([[0.7, 0.3], [0.2, 0.8]])
Y2 = np.array([0, 1])


def _agree(**kwargs):
    return lambda: agreement([0, 1], [0, 1], **kwargs)


def _ece(y=Y2, y_prob=Q2, **kwargs):
    return lambda: expected_calibration_error(y, y_prob, **kwargs)


Q3 = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
NON_NEGATIVE = r"^sample_weight must be finite and non-negative\.$"


@pytest.mark.parametrize(
    "call, match",
    [
        (_agree(sample_weight=[1.0]), r"sample_weight must have shape \(2,\); got \("),
        (_agree(sample_weight=[1.0, -1.0]), NON_NEGATIVE),
        (_agree(sample_weight=[1.0, np.nan]), NON_NEGATIVE),
        (_agree(sample_weight=[1.0, np.inf]), NON_NEGATIVE),
        (_agree(sample_weight=[1.0, None]), NON_NEGATIVE),
        (
            _agree(sample_weight=[0.0, 0.0]),
            r"^sample_weight must have a positive sum; got 0\.$",
        ),
        (
            lambda: agreement([], []),
            r"non-empty 1-D arrays of the same length; got shapes \(0,\) and \(0,",
        ),
        (lambda: agreement([[0, 1]], [[0, 1]]), r"got shapes \(1, 2\) and \(1, 2\)"),
        (lambda: teacher_kl_divergence(Q3, Q3[:1]), "same number of rows; got 2 and 1"),
        (
            lambda: teacher_kl_divergence([[0.5, 0.6]], Q2[:1]),
            r"^Each row of teacher_proba must sum to 1",
        ),
        (
            lambda: teacher_kl_divergence(Q2[:1], [[0.5, 0.6]]),
            r"^Each row of student_proba must sum to 1",
        ),
        (
            lambda: teacher_kl_divergence(Q2[:0], Q2[:0]),
            r"^teacher_proba must have at least 1 row\(s\); got shape \(0, 2\)",
        ),
        (
            lambda: teacher_kl_divergence(Q2[:1], Q2[:0]),
            r"^student_proba must have at least 1 row\(s\); got shape \(0, 2\)",
        ),
        (
            lambda: teacher_kl_divergence(Q2, Q2, sample_weight=[1.0]),
            "sample_weight must have shape",
        ),
        (_ece(n_bins=True), "n_bins must be an integer >= 1; got True"),
        (_ece(n_bins=2.0), "n_bins must be an integer >= 1; got 2.0"),
        (_ece(strategy="kmeans"), r"strategy must be one of \('uniform', 'quantile"),
        (_ece(y=[[0, 1]]), r"y_true must be a non-empty 1-D array; got shape \(1, 2"),
        (_ece(y=[]), r"y_true must be a non-empty 1-D array; got shape \(0,\)"),
        (_ece(y_prob=[0.5, 1.5]), r"A 1-D y_prob must hold probabilities in \[0, 1"),
        (_ece(y_prob=[-0.5, 0.5]), r"A 1-D y_prob must hold probabilities in \[0, 1"),
        (_ece(y_prob=[np.nan, 0.5]), r"A 1-D y_prob must hold probabilities"),
        (
            _ece(y_prob=[None, 0.5]),
            r"^A 1-D y_prob must hold probabilities in \[0, 1\]\.$",
        ),
        (_ece(y_prob=[[0.5, 0.6], [0.5, 0.5]]), r"^Each row of y_prob must sum to 1"),
        (
            _ece(y=[0], y_prob=Q2[:0]),
            r"^y_prob must have at least 1 row\(s\); got shape \(0, 2\)",
        ),
        (_ece(y=[0, 1, 2], y_prob=Q3), "same number of rows; got 3 and 2"),
        (_ece(y=[0, 1, 1]), "same number of rows; got 3 and 2"),
        (
            _ece(y=[0, 0]),
            r"^y_prob has 2 columns but there are 1 labels; pass "
            r"labels=estimator\.classes_ when y_true lacks some classes\.$",
        ),
        (
            _ece(y=[0, 5], labels=[0, 1]),
            r"y_true holds labels not in labels: array\(\[5\]\)",
        ),
        (_ece(sample_weight=[1.0, -2.0]), NON_NEGATIVE),
    ],
)
def test_bad_arguments_are_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sample_weight_weights_every_metric():
    rng = np.random.default_rng(2)
    q = rng.dirichlet(np.ones(3), size=30)
    p = rng.dirichlet(np.ones(3), size=30)
    y = rng.integers(0, 3, size=30)
    w = rng.uniform(0.0, 2.0, size=30)
    per_row = np.array([entropy(qi, pi) for qi, pi in zip(q, p)])
    assert teacher_kl_divergence(q, p, sample_weight=w) == pytest.approx(
        np.average(per_row, weights=w), rel=1e-12
    )
    same = q.argmax(axis=1) == p.argmax(axis=1)
    assert agreement(q.argmax(axis=1), p.argmax(axis=1), sample_weight=w) == (
        pytest.approx(np.average(same, weights=w), rel=1e-12)
    )
    # Integer weights equal repeated rows.
    counts = rng.integers(0, 3, size=30)
    counts[0] = 1
    rows = np.repeat(np.arange(30), counts)
    assert expected_calibration_error(
        y, p, sample_weight=counts, labels=[0, 1, 2], n_bins=5
    ) == pytest.approx(
        expected_calibration_error(y[rows], p[rows], labels=[0, 1, 2], n_bins=5),
        abs=1e-12,
    )


def test_ece_quantile_bins_hold_equal_shares():
    # Confidences 0.5 .. 0.95: two quantile bins split them at the median.
    conf = np.linspace(0.5, 0.95, 10)
    y_prob = np.column_stack([conf, 1 - conf])
    y_true = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    low, high = conf[:5], conf[5:]
    expected = 0.5 * abs(0.8 - low.mean()) + 0.5 * abs(1.0 - high.mean())
    assert expected_calibration_error(
        y_true, y_prob, n_bins=2, strategy="quantile"
    ) == pytest.approx(expected, abs=1e-12)
    # Uniform bins of width 1/2 put every row in the upper bin.
    assert expected_calibration_error(y_true, y_prob, n_bins=2) == pytest.approx(
        abs(0.9 - conf.mean()), abs=1e-12
    )
