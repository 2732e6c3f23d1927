"""Tests for the oracle teacher and the imperfect-teacher wrappers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax, logsumexp, softmax
from scipy.stats import multivariate_normal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_kd.datasets import (
    make_difficulty_classification,
    make_hierarchical_classification,
)
from sklearn_kd.teachers import (
    EncodedLabelsTeacher,
    LabelSmoothedTeacher,
    NoisyTeacher,
    OracleTeacher,
    TemperatureScaledTeacher,
)

WRAPPERS = [
    (TemperatureScaledTeacher, "temperature", 2.0),
    (LabelSmoothedTeacher, "epsilon", 0.2),
    (NoisyTeacher, "noise", 0.3),
]


class FixedProba(ClassifierMixin, BaseEstimator):
    """Returns row ``int(X[i, 0])`` of a given probability matrix."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y=None):
        self.proba_ = np.asarray(self.proba, dtype=np.float64)
        self.classes_ = np.arange(self.proba_.shape[1])
        return self

    def predict_proba(self, X):
        return self.proba_[np.asarray(X)[:, 0].astype(int)]


def _index_rows(n):
    return np.arange(n, dtype=np.float64)[:, None]


@st.composite
def proba_with_zeros(draw):
    n_rows = draw(st.integers(1, 6))
    n_classes = draw(st.integers(2, 6))
    raw = draw(arrays(np.float64, (n_rows, n_classes), elements=st.floats(0.0, 1.0)))
    zeros = draw(arrays(np.bool_, (n_rows, n_classes)))
    raw = np.where(zeros, 0.0, raw)
    raw[np.arange(n_rows), draw(st.integers(0, n_classes - 1))] += 1e-3
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_difficulty_classification(
        n_samples=300, n_features=5, n_classes=3, random_state=0
    )
    return X, y


# ---------------------------------------------------------------------------
# OracleTeacher
# ---------------------------------------------------------------------------


def _centers(seed, n_classes=4, n_features=6, equal_norm=True):
    rng = np.random.RandomState(seed)
    centers = rng.standard_normal((n_classes, n_features))
    if equal_norm:
        centers *= 2.0 / np.linalg.norm(centers, axis=1, keepdims=True)
    return centers


@given(
    seed=st.integers(0, 10_000),
    sigma=st.floats(0.2, 5.0),
    priors=st.one_of(st.none(), st.lists(st.floats(0.05, 1.0), min_size=4, max_size=4)),
)
def test_oracle_is_the_softmax_formula(seed, sigma, priors):
    centers = _centers(seed, equal_norm=False)
    X = np.random.RandomState(seed + 1).standard_normal((10, 6)) * 2
    oracle = OracleTeacher(centers, noise_scale=sigma, priors=priors).fit(X)
    pi = np.full(4, 0.25) if priors is None else np.asarray(priors) / sum(priors)
    logits = (
        X @ centers.T / sigma**2
        - (centers**2).sum(axis=1) / (2 * sigma**2)
        + np.log(pi)
    )
    np.testing.assert_allclose(oracle.predict_proba(X), softmax(logits, axis=1))
    np.testing.assert_allclose(
        oracle.predict_proba_given_noise(X, sigma), softmax(logits, axis=1)
    )
    np.testing.assert_allclose(
        oracle.predict_log_proba(X), log_softmax(logits, axis=1), rtol=1e-9, atol=1e-9
    )


@given(
    seed=st.integers(0, 10_000),
    sigma=st.floats(0.3, 4.0),
    temperature=st.floats(0.05, 20.0),
)
def test_temperature_on_oracle_is_noise_variance(seed, sigma, temperature):
    """softmax(log q / T) of the oracle at sigma is the oracle at sigma sqrt(T)
    (equal priors, equal-norm centres)."""
    centers = _centers(seed)
    X = np.random.RandomState(seed + 1).standard_normal((20, 6))
    oracle = OracleTeacher(centers, noise_scale=sigma).fit(X)
    soft = TemperatureScaledTeacher(oracle, temperature=temperature).fit(X)
    hotter = OracleTeacher(centers, noise_scale=sigma * np.sqrt(temperature)).fit(X)
    np.testing.assert_allclose(
        soft.predict_proba(X), hotter.predict_proba(X), rtol=1e-9, atol=1e-300
    )
    frozen = TemperatureScaledTeacher(FrozenEstimator(oracle), temperature=temperature)
    np.testing.assert_allclose(
        frozen.fit(X).predict_proba(X), hotter.predict_proba(X), rtol=1e-9, atol=1e-300
    )


@pytest.mark.parametrize("sibling_pull", [0.0, 0.3])
def test_from_generator_reproduces_the_generator_posterior(sibling_pull):
    X, y, info = make_hierarchical_classification(
        n_samples=200, sibling_pull=sibling_pull, random_state=4, return_oracle=True
    )
    oracle = OracleTeacher.from_generator(info)
    np.testing.assert_array_equal(oracle.classes_, np.arange(9))
    assert oracle.n_features_in_ == 20
    np.testing.assert_allclose(
        oracle.predict_proba_given_noise(X, info.noise_scale),
        info.oracle_proba,
        rtol=1e-10,
        atol=1e-300,
    )
    np.testing.assert_allclose(oracle.predict_proba(X).sum(axis=1), 1.0)
    # A single assumed scale is the equal-sigma posterior.
    one = OracleTeacher.from_generator(info, noise_scale=1.0)
    np.testing.assert_allclose(
        one.predict_proba(X), oracle.predict_proba_given_noise(X, 1.0)
    )
    # fit on the data is a no-op for the probabilities.
    refit = clone(oracle).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), oracle.predict_proba(X))


def test_oracle_marginal_posterior_matches_scipy_mixture():
    """predict_proba marginalises over the noise levels: Bayes' rule on scipy
    Gaussian densities with the level mixture gives the same numbers."""
    X, _, info = make_hierarchical_classification(
        n_samples=15,
        n_features=6,
        n_superclasses=1,
        n_subclasses=3,
        class_similarity=0.5,
        sibling_pull=0.2,
        hard_fraction=0.4,
        weights=[0.5, 0.3, 0.2],
        random_state=2,
        return_oracle=True,
    )
    oracle = OracleTeacher.from_generator(info)
    w, lam = info.class_centers, 0.2
    for i in range(len(X)):
        log_joint = []
        for k in range(3):
            terms = [
                np.log(pl / 2)
                + multivariate_normal(
                    (1 - lam) * w[k] + lam * w[j], s**2 * np.eye(6)
                ).logpdf(X[i])
                for j in range(3)
                if j != k
                for s, pl in zip(info.noise_levels, info.noise_level_weights)
            ]
            log_joint.append(np.log(info.priors[k]) + logsumexp(terms))
        expected = np.exp(np.array(log_joint) - logsumexp(log_joint))
        np.testing.assert_allclose(oracle.predict_proba(X[i : i + 1])[0], expected)


def test_oracle_classes_follow_labels():
    centers = _centers(0, n_classes=3)
    X = np.zeros((3, 6))
    assert list(OracleTeacher(centers).fit(X, [0, 2, 2]).classes_) == [0, 1, 2]
    labels = np.array(["a", "b", "c"])
    oracle = OracleTeacher(centers).fit(X, labels)
    np.testing.assert_array_equal(oracle.classes_, labels)
    assert oracle.predict(X).dtype == labels.dtype
    with pytest.raises(ValueError, match="exactly 3 distinct labels"):
        OracleTeacher(centers).fit(X, ["a", "b", "b"])


@pytest.mark.parametrize(
    "params, X, match",
    [
        (dict(noise_scale=0.0), np.zeros((2, 6)), "noise_scale"),
        (dict(noise_scale=[1.0, -2.0]), np.zeros((2, 6)), "noise_scale"),
        (dict(sibling_pull=1.0), np.zeros((2, 6)), "sibling_pull"),
        (dict(sibling_pull=0.2), np.zeros((2, 6)), "superclass is required"),
        (
            dict(sibling_pull=0.2, superclass=[0, 0, 1, 2]),
            np.zeros((2, 6)),
            "at least 2 classes",
        ),
        (dict(priors=[1.0, 1.0]), np.zeros((2, 6)), "priors must have length 4"),
        (
            dict(noise_scale=[1.0, 2.0], noise_weights=[1.0]),
            np.zeros((2, 6)),
            "noise_weights must have length 2",
        ),
        (dict(), np.zeros((2, 5)), "X has 5 features"),
    ],
)
def test_oracle_invalid_parameters(params, X, match):
    with pytest.raises(ValueError, match=match):
        OracleTeacher(_centers(0), **params).fit(X)


def test_oracle_checks_fitted_and_feature_count():
    oracle = OracleTeacher(_centers(0))
    with pytest.raises(NotFittedError):
        oracle.predict_proba(np.zeros((1, 6)))
    with pytest.raises(NotFittedError):
        oracle.predict(np.zeros((1, 6)))
    oracle.fit(np.zeros((1, 6)))
    with pytest.raises(ValueError, match="features"):
        oracle.predict_proba(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="one per row"):
        oracle.predict_proba_given_noise(np.zeros((2, 6)), [1.0, 1.0, 1.0])


def test_oracle_plugs_into_a_wrapper_after_clone():
    X, y, info = make_hierarchical_classification(
        n_samples=100, random_state=0, return_oracle=True
    )
    oracle = OracleTeacher.from_generator(info)
    smoothed = LabelSmoothedTeacher(oracle, epsilon=0.1).fit(X, y)
    np.testing.assert_allclose(
        smoothed.predict_proba(X), 0.9 * oracle.predict_proba(X) + 0.1 / 9
    )


# ---------------------------------------------------------------------------
# Wrappers
# ---------------------------------------------------------------------------


@given(proba=proba_with_zeros(), temperature=st.floats(0.05, 50.0))
def test_temperature_keeps_zeros_rows_and_argmax(proba, temperature):
    X = _index_rows(len(proba))
    soft = TemperatureScaledTeacher(FixedProba(proba), temperature=temperature)
    out = soft.fit(X).predict_proba(X)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_array_equal(out[proba == 0], 0.0)
    if temperature >= 1:  # sharpening may underflow tiny entries to 0
        assert np.all(out[proba > 0] > 0)
    expected = proba ** (1 / temperature)
    np.testing.assert_allclose(
        out, expected / expected.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-300
    )
    np.testing.assert_array_equal(np.argmax(out, axis=1), np.argmax(proba, axis=1))


@given(proba=proba_with_zeros())
def test_temperature_one_is_identity_and_high_is_uniform_on_support(proba):
    X = _index_rows(len(proba))
    same = TemperatureScaledTeacher(FixedProba(proba), temperature=1.0).fit(X)
    np.testing.assert_allclose(same.predict_proba(X), proba, rtol=1e-12, atol=1e-300)
    hot = TemperatureScaledTeacher(FixedProba(proba), temperature=1e9).fit(X)
    support = proba > 0
    uniform = support / support.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(hot.predict_proba(X), uniform, rtol=1e-6)


@given(proba=proba_with_zeros(), epsilon=st.floats(0.0, 1.0))
def test_label_smoothing_formula(proba, epsilon):
    X = _index_rows(len(proba))
    out = LabelSmoothedTeacher(FixedProba(proba), epsilon=epsilon).fit(X)
    k = proba.shape[1]
    np.testing.assert_allclose(
        out.predict_proba(X), (1 - epsilon) * proba + epsilon / k, atol=1e-15
    )


def test_label_smoothing_is_constant_on_wrong_classes_of_a_one_hot_teacher(blobs):
    X, y = blobs
    tree = DecisionTreeClassifier(random_state=0)
    smoothed = LabelSmoothedTeacher(tree, epsilon=0.3).fit(X, y)
    proba = smoothed.predict_proba(X)  # the tree is one-hot on its training rows
    wrong = np.ones_like(proba, dtype=bool)
    wrong[np.arange(len(y)), y] = False
    np.testing.assert_allclose(proba[wrong], 0.3 / 3)
    np.testing.assert_allclose(proba[~wrong], 0.7 + 0.3 / 3)


@given(
    proba=proba_with_zeros(),
    noise=st.floats(0.0, 1.0),
    concentration=st.floats(0.05, 10.0),
    seed=st.integers(0, 2**31 - 2),
)
def test_noisy_rows_sum_to_one_and_stay_close(proba, noise, concentration, seed):
    X = _index_rows(len(proba))
    noisy = NoisyTeacher(
        FixedProba(proba), noise=noise, concentration=concentration, random_state=seed
    ).fit(X)
    out = noisy.predict_proba(X)
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    # (1 - noise) q + noise d with d on the simplex: total variation <= noise.
    assert np.all(0.5 * np.abs(out - proba).sum(axis=1) <= noise + 1e-12)


def test_noisy_is_deterministic_per_row(blobs):
    X, y = blobs
    noisy = NoisyTeacher(LogisticRegression(), noise=0.5, random_state=0).fit(X, y)
    full = noisy.predict_proba(X)
    # The inner model's matrix product on reversed (negative-stride) rows may
    # round differently in the last bit (NumPy < 2.3): equal up to rounding.
    np.testing.assert_allclose(noisy.predict_proba(X[::-1]), full[::-1], rtol=1e-12)
    np.testing.assert_array_equal(noisy.predict_proba(X[50:60]), full[50:60])
    again = clone(noisy).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(again, full)
    other = noisy.set_params(random_state=1).fit(X, y).predict_proba(X)
    assert not np.allclose(other, full)
    plain = LogisticRegression().fit(X, y).predict_proba(X)
    zero = NoisyTeacher(LogisticRegression(), noise=0.0).fit(X, y)
    np.testing.assert_allclose(zero.predict_proba(X), plain)
    # Identical rows get identical noise, whatever their position.
    twice = np.vstack([X[:3], X[:3]])
    out = noisy.predict_proba(twice)
    np.testing.assert_array_equal(out[:3], out[3:])


@pytest.mark.parametrize("Wrapper, name, value", WRAPPERS)
def test_wrappers_with_random_forest_and_frozen(Wrapper, name, value, blobs):
    X, y = blobs
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    wrapper = Wrapper(forest, **{name: value}).fit(X, y)
    assert wrapper.estimator_ is not forest  # cloned
    np.testing.assert_array_equal(wrapper.classes_, [0, 1, 2])
    assert wrapper.n_features_in_ == 5
    proba = wrapper.predict_proba(X)
    assert proba.shape == (300, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(wrapper.predict(X), np.argmax(proba, axis=1))

    fitted = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    before = fitted.predict_proba(X)
    frozen = Wrapper(FrozenEstimator(fitted), **{name: value})
    frozen.fit(X[:20], np.zeros(20, dtype=int))  # must not refit the forest
    assert frozen.estimator_.estimator is fitted
    np.testing.assert_array_equal(fitted.predict_proba(X), before)
    np.testing.assert_array_equal(frozen.classes_, [0, 1, 2])
    np.testing.assert_allclose(frozen.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("Wrapper, name, value", WRAPPERS)
def test_wrappers_clone_and_unfitted(Wrapper, name, value, blobs):
    X, y = blobs
    wrapper = Wrapper(LogisticRegression(C=0.5), **{name: value})
    copy = clone(wrapper)
    assert copy.get_params()[name] == value
    assert copy.get_params()["estimator__C"] == 0.5
    with pytest.raises(NotFittedError):
        copy.predict_proba(X)
    fitted = clone(wrapper.fit(X, y))
    assert not hasattr(fitted, "estimator_")


@pytest.mark.parametrize(
    "wrapper, match",
    [
        (
            TemperatureScaledTeacher(LogisticRegression(), temperature=0.0),
            "temperature",
        ),
        (TemperatureScaledTeacher(LinearSVC()), "estimator"),
        (LabelSmoothedTeacher(LogisticRegression(), epsilon=1.5), "epsilon"),
        (NoisyTeacher(LogisticRegression(), noise=-0.1), "noise"),
        (NoisyTeacher(LogisticRegression(), concentration=0.0), "concentration"),
    ],
)
def test_wrappers_invalid_parameters(wrapper, match, blobs):
    with pytest.raises(InvalidParameterError, match=match):
        wrapper.fit(*blobs)


def test_wrappers_reject_invalid_inner_probabilities():
    bad = np.array([[0.5, np.nan], [0.0, 0.0]])
    X = _index_rows(2)
    wrapper = TemperatureScaledTeacher(FixedProba(bad)).fit(X)
    with pytest.raises(ValueError, match=r"predict_proba\(X\) must hold finite"):
        wrapper.predict_proba(X[:1])
    with pytest.raises(ValueError, match=r"predict_proba\(X\) must sum to 1"):
        wrapper.predict_proba(X[1:])


@parametrize_with_checks(
    [
        TemperatureScaledTeacher(LogisticRegression(), temperature=2.0),
        LabelSmoothedTeacher(LogisticRegression(), epsilon=0.1),
        NoisyTeacher(LogisticRegression(), noise=0.1, random_state=0),
        EncodedLabelsTeacher(LogisticRegression()),
    ]
)
def test_wrappers_are_sklearn_estimators(estimator, check):
    check(estimator)
