"""Transfer-set generators: shapes, determinism, parameter checks."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_kd.augment import MUNGE, GaussianAugmenter, check_augmenter


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(40, 3))


@pytest.mark.parametrize("cls", [MUNGE, GaussianAugmenter])
def test_sample_shape_and_seed(cls, X):
    aug = cls().fit(X)
    a = aug.sample(95, random_state=1)
    assert a.shape == (95, 3) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, aug.sample(95, random_state=1))
    assert not np.array_equal(a, aug.sample(95, random_state=2))
    assert aug.sample(0, random_state=0).shape == (0, 3)


def test_munge_without_swaps_returns_training_rows(X):
    rows = MUNGE(swap_probability=0.0).fit(X).sample(len(X), random_state=0)
    assert {tuple(r) for r in rows} == {tuple(r) for r in X}


def test_munge_full_swap_stays_near_neighbours(X):
    aug = MUNGE(swap_probability=1.0, local_variance=1e6).fit(X)
    rows = aug.sample(len(X), random_state=0)
    # with a huge s every feature is (nearly) the neighbour's value
    dist = np.abs(rows[:, None, :] - X[None, :, :]).max(axis=2).min(axis=1)
    assert dist.max() < 1e-3


def test_munge_neighbour_is_not_self(X):
    aug = MUNGE().fit(np.vstack([X, X[:1]]))  # a duplicated row
    assert (aug.neighbors_ != np.arange(len(aug.X_))).all()


def test_munge_keeps_values_shared_with_the_neighbour():
    X = np.column_stack([np.arange(30.0), np.ones(30)])
    rows = MUNGE(swap_probability=1.0).fit(X).sample(60, random_state=0)
    assert (rows[:, 1] == 1.0).all()


def test_does_not_modify_input(X):
    X0 = X.copy()
    MUNGE().fit(X).sample(10, random_state=0)
    np.testing.assert_array_equal(X, X0)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(swap_probability=1.5), "swap_probability"),
        (dict(local_variance=0.0), "local_variance"),
    ],
)
def test_munge_rejects_bad_params(params, match, X):
    with pytest.raises(ValueError, match=match):
        MUNGE(**params).fit(X)


def test_bad_n_samples(X):
    aug = GaussianAugmenter().fit(X)
    with pytest.raises(ValueError, match="n_samples"):
        aug.sample(-1)
    with pytest.raises(TypeError, match="n_samples"):
        aug.sample(2.5)


def test_check_augmenter():
    assert isinstance(check_augmenter("munge"), MUNGE)
    assert check_augmenter("gaussian", {"scale": 0.3}).scale == 0.3
    with pytest.raises(ValueError, match="augment must be one of"):
        check_augmenter("smote")
    with pytest.raises(TypeError, match="fit\\(X\\) and sample"):
        check_augmenter(object())


@parametrize_with_checks([MUNGE(), GaussianAugmenter()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
