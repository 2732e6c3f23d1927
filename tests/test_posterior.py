"""Tests of sklearn_kd._posterior against a density written out term by term."""

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from sklearn_kd._posterior import check_probability_vector, log_posterior


def reference_log_posterior(
    X, centers, scales, noise_weights, priors, superclass=None, pull=0.0
):
    """log p(k | x) from scipy's Gaussian densities, one component at a time.

    Class ``k`` is an equal-weight mixture over its siblings ``j`` of
    Gaussians centred on ``(1 - pull) c_k + pull c_j`` (its own centre
    without a pull); the noise scale is one of ``scales``, with
    ``noise_weights``.
    """
    n_classes, n_features = centers.shape
    log_joint = np.empty((len(X), n_classes))
    for k in range(n_classes):
        if pull:
            siblings = [
                j for j in range(n_classes) if superclass[j] == superclass[k] and j != k
            ]
            means = [(1 - pull) * centers[k] + pull * centers[j] for j in siblings]
        else:
            means = [centers[k]]
        terms = [
            np.log(w / len(means))
            + multivariate_normal(mean, s**2 * np.eye(n_features)).logpdf(X)
            for mean in means
            for s, w in zip(scales, noise_weights)
        ]
        log_joint[:, k] = np.log(priors[k]) + logsumexp(terms, axis=0)
    return log_joint - logsumexp(log_joint, axis=1, keepdims=True)


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 3))
    # rows close to the centres (squared distances well below 1) and far off
    X = np.vstack(
        [centers + 0.1 * rng.normal(size=(5, 3)), 2.0 * rng.normal(size=(6, 3))]
    )
    return X, centers


def test_defaults_are_one_component_per_class_and_uniform_priors(model):
    X, centers = model
    got = log_posterior(X, centers, np.full((len(X), 1), 0.4))
    expected = reference_log_posterior(X, centers, [0.4], [1.0], np.full(5, 0.2))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_marginal_over_noise_levels_with_priors(model):
    X, centers = model
    priors = np.array([0.1, 0.3, 0.2, 0.25, 0.15])
    scales, weights = [0.3, 1.5], [0.7, 0.3]
    got = log_posterior(
        X,
        centers,
        np.array([scales]),
        log_noise_weights=np.log(weights),
        log_priors=np.log(priors),
    )
    expected = reference_log_posterior(X, centers, scales, weights, priors)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_sibling_mixtures_of_unequal_superclasses(model):
    # Super-classes of 2 and 3 classes: the component weights 1/2 and 1/3
    # differ between classes and do not cancel.
    X, centers = model
    superclass = np.array([0, 0, 1, 1, 1])
    priors = np.full(5, 0.2)
    got = log_posterior(
        X,
        centers,
        np.full((len(X), 1), 0.5),
        log_priors=np.log(priors),
        superclass=superclass,
        sibling_pull=0.3,
    )
    expected = reference_log_posterior(
        X, centers, [0.5], [1.0], priors, superclass, 0.3
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_computed_in_float64_whatever_the_input_dtype(model):
    X, centers = model
    X32 = X.astype(np.float32)
    scales32 = np.array([[0.3, 1.7]], dtype=np.float32)
    got = log_posterior(X32, centers, scales32)
    expected = log_posterior(
        X32.astype(np.float64), centers, scales32.astype(np.float64)
    )
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_probability_vectors_are_normalised_and_validated():
    np.testing.assert_array_equal(
        check_probability_vector([1, 3], name="priors"), [0.25, 0.75]
    )
    for bad in ([0.5, None], [0.5, np.nan], [0.5, -0.1]):
        with pytest.raises(
            ValueError, match=r"^priors must hold finite non-negative numbers, got "
        ):
            check_probability_vector(bad, name="priors")
    with pytest.raises(ValueError, match=r"^priors must have a positive sum"):
        check_probability_vector([0.0, 0.0], name="priors")
    with pytest.raises(ValueError, match=r"^priors must have length 3 \(one entry"):
        check_probability_vector([0.5, 0.5], name="priors", length=3)
    with pytest.raises(ValueError, match=r"^priors must be a 1-D array-like"):
        check_probability_vector([[0.5, 0.5]], name="priors")
