"""Tests for the synthetic generators with a known Bayes posterior."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_kd.datasets import (
    make_difficulty_classification,
    make_hierarchical_classification,
)
from sklearn_kd.teachers import OracleTeacher

# One-sided z quantile for the statistical bounds: a false alarm once in
# about 10^4 runs, each bound being deterministic given its seed anyway.
Z = norm.ppf(1 - 1e-4)


def _cosine(centers):
    unit = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    return unit @ unit.T


def _true_class_confidence(info, y):
    return info.oracle_proba[np.arange(len(y)), y]


@st.composite
def hierarchy(draw):
    n_superclasses = draw(st.integers(1, 4))
    n_subclasses = draw(st.integers(1, 4))
    rho = draw(st.floats(0.0, 1.0, exclude_max=True))
    n_classes = n_superclasses * n_subclasses
    needed = n_classes + (n_superclasses if rho > 0 else 0)
    n_features = needed + draw(st.integers(0, 5))
    class_sep = draw(st.floats(0.1, 10.0))
    return dict(
        n_superclasses=n_superclasses,
        n_subclasses=n_subclasses,
        class_similarity=rho,
        n_features=n_features,
        class_sep=class_sep,
    )


@given(params=hierarchy(), seed=st.integers(0, 2**31 - 2))
def test_centre_cosine_is_rho_inside_and_zero_across(params, seed):
    _, _, info = make_hierarchical_classification(
        n_samples=1, random_state=seed, return_oracle=True, **params
    )
    centers = info.class_centers
    n_classes = params["n_superclasses"] * params["n_subclasses"]
    assert centers.shape == (n_classes, params["n_features"])
    np.testing.assert_allclose(
        np.linalg.norm(centers, axis=1), params["class_sep"], rtol=1e-12
    )
    cosine = _cosine(centers)
    same = info.superclass[:, None] == info.superclass[None, :]
    off_diagonal = ~np.eye(n_classes, dtype=bool)
    np.testing.assert_allclose(
        cosine[same & off_diagonal], params["class_similarity"], atol=1e-10
    )
    np.testing.assert_allclose(cosine[~same], 0.0, atol=1e-10)
    np.testing.assert_array_equal(
        info.superclass, np.arange(n_classes) // params["n_subclasses"]
    )


def test_returned_arrays_describe_the_draw():
    params = dict(
        n_samples=123,
        n_features=15,
        n_superclasses=2,
        n_subclasses=4,
        class_similarity=0.3,
        class_sep=2.0,
        easy_noise=0.5,
        hard_noise=3.0,
        sibling_pull=0.2,
        random_state=0,
    )
    X, y = make_hierarchical_classification(**params)
    X_o, y_o, info = make_hierarchical_classification(**params, return_oracle=True)
    # Asking for the oracle does not change the draw.
    np.testing.assert_array_equal(X_o, X)
    np.testing.assert_array_equal(y_o, y)
    assert X.shape == (123, 15) and X.dtype == np.float64
    assert y.shape == (123,) and y.dtype == np.int64
    assert set(np.unique(y)) <= set(range(8))
    assert info.oracle_proba.shape == (123, 8)
    np.testing.assert_allclose(info.oracle_proba.sum(axis=1), 1.0, rtol=1e-12)
    # Centres: w_k = r (sqrt(rho) mu_s + sqrt(1 - rho) xi_k) on orthonormal
    # directions, sub-classes 4 s .. 4 s + 3 in super-class s.
    np.testing.assert_array_equal(info.superclass, np.arange(8) // 4)
    directions = np.vstack([info.subclass_directions, info.superclass_directions])
    assert directions.shape == (10, 15)
    np.testing.assert_allclose(directions @ directions.T, np.eye(10), atol=1e-12)
    np.testing.assert_allclose(
        info.class_centers,
        2.0
        * (
            np.sqrt(0.3) * info.superclass_directions[info.superclass]
            + np.sqrt(0.7) * info.subclass_directions
        ),
        atol=1e-12,
    )
    # Each row's noise scale is its difficulty's level.
    assert info.hard.dtype == bool and 0 < info.hard.sum() < 123
    np.testing.assert_array_equal(info.noise_scale, np.where(info.hard, 3.0, 0.5))
    np.testing.assert_array_equal(info.noise_levels, [0.5, 3.0])
    np.testing.assert_allclose(info.priors, np.full(8, 1 / 8))
    # Each row is pulled toward another class of its own super-class.
    assert np.all(info.sibling != y)
    np.testing.assert_array_equal(info.superclass[info.sibling], y // 4)


def test_flat_generator_shapes_and_geometry():
    X, y, info = make_difficulty_classification(
        n_samples=50, n_features=6, n_classes=6, random_state=1, return_oracle=True
    )
    assert X.shape == (50, 6) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(info.superclass, np.arange(6))
    np.testing.assert_allclose(_cosine(info.class_centers), np.eye(6), atol=1e-10)
    assert np.all(info.sibling == -1)
    np.testing.assert_allclose(info.oracle_proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    "make", [make_hierarchical_classification, make_difficulty_classification]
)
def test_same_seed_same_data_different_seed_different_data(make):
    first = make(n_samples=200, random_state=3, return_oracle=True)
    again = make(n_samples=200, random_state=3, return_oracle=True)
    other = make(n_samples=200, random_state=4, return_oracle=True)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    for key in ("oracle_proba", "class_centers", "noise_scale", "hard"):
        np.testing.assert_array_equal(first[2][key], again[2][key])
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[1], other[1])
    assert not np.allclose(first[2].class_centers, other[2].class_centers)


def test_random_state_instance_is_accepted():
    X1, y1 = make_hierarchical_classification(
        n_samples=20, random_state=np.random.RandomState(5)
    )
    X2, y2 = make_hierarchical_classification(n_samples=20, random_state=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_geometry_parameters_keep_the_rows_paired():
    """Changing rho, class_sep, the noise levels or the pull keeps the labels,
    the difficulty draws, the siblings and the Gaussian noise."""
    base = dict(n_samples=300, random_state=7, return_oracle=True)
    settings = [
        dict(class_similarity=0.0),
        dict(class_similarity=0.8, class_sep=5.0),
        dict(class_similarity=0.3, easy_noise=0.5, hard_noise=4.0),
        dict(class_similarity=0.3, sibling_pull=0.4),
    ]
    noises = []
    for setting in settings:
        X, y, info = make_hierarchical_classification(**base, **setting)
        means = info.class_centers[y]
        if info.sibling_pull > 0:
            means = (1 - info.sibling_pull) * means + info.sibling_pull * (
                info.class_centers[info.sibling]
            )
        noises.append((y, info.hard, (X - means) / info.noise_scale[:, None]))
    for y, hard, noise in noises[1:]:
        np.testing.assert_array_equal(y, noises[0][0])
        np.testing.assert_array_equal(hard, noises[0][1])
        np.testing.assert_allclose(noise, noises[0][2], atol=1e-9)
    # The sub-class directions do not depend on rho either.
    infos = [
        make_hierarchical_classification(**base, class_similarity=rho)[2]
        for rho in (0.0, 0.5)
    ]
    np.testing.assert_array_equal(
        infos[0].subclass_directions, infos[1].subclass_directions
    )


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(class_similarity=1.0), InvalidParameterError, "class_similarity"),
        (dict(class_similarity=-0.1), InvalidParameterError, "class_similarity"),
        (dict(sibling_pull=1.0), InvalidParameterError, "sibling_pull"),
        (dict(class_sep=0.0), InvalidParameterError, "class_sep"),
        (dict(hard_fraction=1.5), InvalidParameterError, "hard_fraction"),
        (dict(easy_noise=0.0), InvalidParameterError, "easy_noise"),
        (dict(hard_noise=-1.0), InvalidParameterError, "hard_noise"),
        (dict(n_superclasses=0), InvalidParameterError, "n_superclasses"),
        (dict(n_subclasses=2.5), InvalidParameterError, "n_subclasses"),
        (dict(n_samples=0), InvalidParameterError, "n_samples"),
        (dict(random_state="zero"), InvalidParameterError, "random_state"),
        (dict(return_oracle="yes"), InvalidParameterError, "return_oracle"),
        (
            dict(n_features=11, class_similarity=0.5),
            ValueError,
            r"n_features must be >= 12; got n_features=11",
        ),
        (
            dict(n_features=8, class_similarity=0.0),
            ValueError,
            r"class_similarity == 0 needs .* n_features must be >= 9",
        ),
        (
            dict(n_subclasses=1, sibling_pull=0.2),
            ValueError,
            r"n_subclasses must be >= 2; got sibling_pull=0.2",
        ),
        (dict(weights=[1.0, 2.0]), ValueError, r"weights must have length 9"),
        (dict(weights=[-1.0] + [1.0] * 8), ValueError, r"weights must hold"),
        (dict(weights=[np.nan] * 9), ValueError, r"weights must hold"),
        (dict(weights=[0.0] * 9), ValueError, r"weights must have a positive sum"),
        (dict(weights=np.ones((3, 3))), ValueError, r"weights must be a 1-D"),
    ],
)
def test_invalid_settings_are_clear_errors(params, error, match):
    with pytest.raises(error, match=match):
        make_hierarchical_classification(**{"n_samples": 5, **params})


def test_flat_generator_too_many_classes():
    with pytest.raises(ValueError, match=r"n_features >= n_classes = 7; got n_f"):
        make_difficulty_classification(n_features=6, n_classes=7)


def test_rho_zero_needs_only_one_direction_per_class():
    _, _, info = make_hierarchical_classification(
        n_samples=2,
        n_features=9,
        class_similarity=0.0,
        random_state=0,
        return_oracle=True,
    )
    assert info.superclass_directions is None
    np.testing.assert_allclose(_cosine(info.class_centers), np.eye(9), atol=1e-10)


@pytest.mark.parametrize("sibling_pull", [0.0, 0.35])
def test_oracle_proba_matches_independent_mixture_density(sibling_pull):
    """The posterior equals Bayes' rule on scipy's Gaussian densities."""
    X, y, info = make_hierarchical_classification(
        n_samples=40,
        n_features=7,
        n_superclasses=2,
        n_subclasses=2,
        class_similarity=0.4,
        sibling_pull=sibling_pull,
        weights=[0.1, 0.2, 0.3, 0.4],
        random_state=11,
        return_oracle=True,
    )
    w = info.class_centers
    siblings = {0: [1], 1: [0], 2: [3], 3: [2]}
    for i in range(len(y)):
        cov = info.noise_scale[i] ** 2 * np.eye(7)
        log_joint = []
        for k in range(4):
            means = (
                [(1 - sibling_pull) * w[k] + sibling_pull * w[j] for j in siblings[k]]
                if sibling_pull
                else [w[k]]
            )
            dens = [multivariate_normal(m, cov).logpdf(X[i]) for m in means]
            log_joint.append(
                np.log(info.priors[k]) + logsumexp(dens) - np.log(len(dens))
            )
        expected = np.exp(np.array(log_joint) - logsumexp(log_joint))
        np.testing.assert_allclose(info.oracle_proba[i], expected, rtol=1e-9)


def test_oracle_rows_sum_to_one_and_zero_prior_classes_never_appear():
    X, y, info = make_hierarchical_classification(
        n_samples=2000,
        sibling_pull=0.3,
        weights=[0, 1, 1, 1, 1, 1, 1, 1, 2],
        random_state=0,
        return_oracle=True,
    )
    proba = info.oracle_proba
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert not np.any(y == 0)
    np.testing.assert_array_equal(proba[:, 0], 0.0)
    np.testing.assert_allclose(info.priors, np.r_[0, [1] * 7, 2] / 9)


def test_class_frequencies_follow_weights():
    weights = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9]) / 45
    _, y = make_hierarchical_classification(
        n_samples=20000, weights=weights, random_state=2
    )
    freq = np.bincount(y, minlength=9) / len(y)
    bound = Z * np.sqrt(weights * (1 - weights) / len(y))
    assert np.all(np.abs(freq - weights) <= bound)


@pytest.mark.parametrize(
    "params",
    [dict(), dict(sibling_pull=0.3, class_similarity=0.8), dict(hard_fraction=0.7)],
)
def test_oracle_is_calibrated(params):
    """An exact posterior is calibrated: in every confidence bin the accuracy
    matches the mean confidence up to sampling error."""
    _, y, info = make_hierarchical_classification(
        n_samples=20000, random_state=5, return_oracle=True, **params
    )
    proba = info.oracle_proba
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    bins = np.digitize(confidence, np.linspace(0, 1, 11)[1:-1])
    for b in np.unique(bins):
        rows = bins == b
        if rows.sum() < 100:
            continue
        mean_conf = confidence[rows].mean()
        se = np.sqrt(mean_conf * (1 - mean_conf) / rows.sum())
        assert abs(correct[rows].mean() - mean_conf) <= Z * se + 1e-12
    # Law of total probability: column means estimate the class frequencies.
    freq = np.bincount(y, minlength=proba.shape[1]) / len(y)
    se = np.sqrt(freq * (1 - freq) / len(y))
    assert np.all(np.abs(proba.mean(axis=0) - freq) <= Z * se)


@pytest.mark.parametrize(
    "params",
    [
        dict(hard_fraction=0.0, class_similarity=0.5),
        dict(hard_fraction=0.4, class_similarity=0.7, sibling_pull=0.25),
    ],
)
def test_a_trained_classifier_does_not_beat_the_oracle(params):
    """Logistic regression on 20 000 rows, scored on 20 000 fresh rows around
    the same centres, is not more accurate than the Bayes oracle beyond a
    one-sided paired normal bound."""
    X, y, info = make_hierarchical_classification(
        n_samples=40000, random_state=0, return_oracle=True, **params
    )
    train, test = slice(0, 20000), slice(20000, None)
    model = LogisticRegression(max_iter=2000).fit(X[train], y[train])
    model_correct = model.predict(X[test]) == y[test]
    oracles = {
        "known sigma": info.oracle_proba[test].argmax(axis=1),
        "x only": OracleTeacher.from_generator(info).predict(X[test]),
    }
    for predicted in oracles.values():
        diff = model_correct.astype(float) - (predicted == y[test])
        bound = Z * diff.std(ddof=1) / np.sqrt(diff.size)
        assert diff.mean() <= bound


def _mean_confidence(**params):
    _, y, info = make_hierarchical_classification(
        n_samples=4000, random_state=9, return_oracle=True, **params
    )
    return _true_class_confidence(info, y).mean()


@pytest.mark.parametrize(
    "name, values",
    [
        ("hard_fraction", [0.0, 0.3, 0.6, 1.0]),
        ("hard_noise", [1.0, 2.0, 3.0, 5.0]),
        ("sibling_pull", [0.0, 0.2, 0.4]),
        ("class_similarity", [0.0, 0.4, 0.8]),
    ],
)
def test_harder_settings_lower_the_true_class_confidence(name, values):
    means = [_mean_confidence(**{name: v}) for v in values]
    assert np.all(np.diff(means) < 0), means


def test_larger_class_sep_raises_the_true_class_confidence():
    means = [_mean_confidence(class_sep=r) for r in (1.0, 2.0, 4.0)]
    assert np.all(np.diff(means) > 0), means


@pytest.mark.parametrize("sibling_pull", [0.0, 0.3])
def test_hard_rows_are_less_confident_than_easy_rows(sibling_pull):
    _, y, info = make_hierarchical_classification(
        n_samples=4000, sibling_pull=sibling_pull, random_state=1, return_oracle=True
    )
    confidence = _true_class_confidence(info, y)
    hard, easy = confidence[info.hard], confidence[~info.hard]
    se = np.sqrt(hard.var() / hard.size + easy.var() / easy.size)
    assert easy.mean() - hard.mean() > Z * se
    np.testing.assert_array_equal(info.noise_scale[info.hard], 2.5)
    np.testing.assert_array_equal(info.noise_scale[~info.hard], 1.0)


def test_hard_fraction_is_the_probability_of_a_hard_row():
    _, _, info = make_hierarchical_classification(
        n_samples=20000, hard_fraction=0.25, random_state=3, return_oracle=True
    )
    assert abs(info.hard.mean() - 0.25) <= Z * np.sqrt(0.25 * 0.75 / 20000)
    np.testing.assert_allclose(info.noise_level_weights, [0.75, 0.25])
    np.testing.assert_allclose(info.noise_levels, [1.0, 2.5])


# ------------------------------------------------- calibrated Bayes accuracy
def _empirical_bayes_accuracy(make, n_samples, seeds, **params):
    """Accuracy of ``info.bayes_proba`` on fresh rows, pooled over seeds,
    with its standard error; and the mean largest posterior probability."""
    hits, top = [], []
    for seed in seeds:
        _, y, info = make(n_samples, random_state=seed, return_oracle=True, **params)
        hits.append(info.bayes_proba.argmax(axis=1) == y)
        top.append(info.bayes_proba.max(axis=1))
    hits = np.concatenate(hits)
    return hits.mean(), hits.std() / np.sqrt(hits.size), np.concatenate(top).mean()


@pytest.mark.parametrize(
    "target, params",
    [
        (0.80, dict(class_similarity=0.0)),
        (0.80, dict(class_similarity=0.5)),
        (0.80, dict(class_similarity=0.9)),
        (0.95, dict(class_similarity=0.9, hard_noise=4.0)),
        (0.60, dict(class_similarity=0.5, hard_noise=1.0, n_subclasses=2)),
        (0.90, dict(class_similarity=0.3, sibling_pull=0.3, hard_fraction=0.8)),
    ],
)
def test_bayes_accuracy_is_met_in_expectation(target, params):
    # Fresh seeds, not the solver's internal sample: the expected accuracy of
    # the posterior given x alone is the request within 0.005.
    acc, se, top = _empirical_bayes_accuracy(
        make_hierarchical_classification, 20_000, range(2), n_features=20,
        bayes_accuracy=target, **params)
    assert abs(top - target) < 0.005
    assert abs(acc - target) < 0.005 + 3 * se


@pytest.mark.parametrize("n_classes", [2, 5, 12])
def test_flat_generator_meets_bayes_accuracy_for_any_class_count(n_classes):
    acc, se, top = _empirical_bayes_accuracy(
        make_difficulty_classification, 20_000, range(2), n_classes=n_classes,
        bayes_accuracy=0.85, hard_noise=3.0)
    assert abs(top - 0.85) < 0.005
    assert abs(acc - 0.85) < 0.005 + 3 * se


def test_bayes_accuracy_holds_the_accuracy_fixed_while_a_dial_moves():
    # The point of the calibration: rho moves, the Bayes accuracy does not,
    # while class_sep has to grow with rho to keep it.
    seps = []
    for rho in (0.0, 0.5, 0.9):
        acc, se, _ = _empirical_bayes_accuracy(
            make_hierarchical_classification, 20_000, [7], class_similarity=rho,
            bayes_accuracy=0.8)
        _, _, info = make_hierarchical_classification(
            10, class_similarity=rho, bayes_accuracy=0.8, random_state=0,
            return_oracle=True)
        seps.append(info.class_sep)
        assert abs(acc - 0.8) < 0.005 + 3 * se
    assert seps[0] < seps[1] < seps[2]


def test_bayes_proba_is_the_x_only_oracle_and_oracle_proba_the_privileged_one():
    X, y, info = make_hierarchical_classification(
        3000, class_similarity=0.6, sibling_pull=0.2, hard_noise=3.0,
        bayes_accuracy=0.8, random_state=1, return_oracle=True)
    oracle = OracleTeacher.from_generator(info)
    np.testing.assert_allclose(oracle.predict_proba(X), info.bayes_proba,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        oracle.predict_proba_given_noise(X, info.noise_scale), info.oracle_proba,
        rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(info.bayes_proba.sum(axis=1), 1.0)
    # The two differ (x alone does not reveal sigma_i exactly) and the
    # privileged posterior has the lower log loss.
    rows = np.arange(len(y))
    assert np.abs(info.oracle_proba - info.bayes_proba).max() > 1e-3
    assert (-np.log(info.oracle_proba[rows, y]).mean()
            < -np.log(info.bayes_proba[rows, y]).mean())


def test_solved_class_sep_reproduces_the_draw_of_an_explicit_class_sep():
    X, y, info = make_hierarchical_classification(
        200, bayes_accuracy=0.9, random_state=3, return_oracle=True)
    X2, y2 = make_hierarchical_classification(
        200, class_sep=info.class_sep, random_state=3)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_allclose(X, X2)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(bayes_accuracy=0.1), r"bayes_accuracy cannot be met.*most probable"),
        (dict(bayes_accuracy=0.5, weights=[12, 1, 1, 1, 1, 1, 1, 1, 1]),
         r"bayes_accuracy cannot be met.*0\.6"),
        (dict(bayes_accuracy=0.99, sibling_pull=0.5, n_subclasses=2),
         r"bayes_accuracy=0\.99 cannot be met.*sibling_pull"),
    ],
)
def test_impossible_bayes_accuracy_is_a_clear_error(params, match):
    with pytest.raises(ValueError, match=match):
        make_hierarchical_classification(50, random_state=0, **params)


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, "high"])
def test_bayes_accuracy_outside_zero_one_is_rejected(value):
    with pytest.raises(InvalidParameterError, match="bayes_accuracy"):
        make_difficulty_classification(50, bayes_accuracy=value)


# --------------------------------------------------------------------------
# sibling heterogeneity: a dial for class relations inside a super-class
# --------------------------------------------------------------------------
HETERO = dict(n_features=30, n_superclasses=4, n_subclasses=5, hard_fraction=0.5,
              hard_noise=4.0, class_similarity=0.5, return_oracle=True)


def test_zero_sibling_heterogeneity_is_the_exchangeable_generator():
    a = make_hierarchical_classification(500, random_state=3, **HETERO)
    b = make_hierarchical_classification(
        500, random_state=3, sibling_heterogeneity=0.0, **HETERO
    )
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2].bayes_proba, b[2].bayes_proba)
    assert b[2].sibling_heterogeneity == 0.0


@given(h=st.floats(0.05, 0.95), rho=st.floats(0.0, 0.9), seed=st.integers(0, 100))
def test_sibling_cosines_follow_the_chain(h, rho, seed):
    _, _, info = make_hierarchical_classification(
        10, n_features=12, n_superclasses=2, n_subclasses=4, class_similarity=rho,
        sibling_heterogeneity=h, random_state=seed, return_oracle=True,
    )
    w = info.class_centers
    norms = np.linalg.norm(w, axis=1)
    np.testing.assert_allclose(norms, info.class_sep, rtol=1e-10)
    cosine = (w @ w.T) / np.outer(norms, norms)
    position = np.arange(8) % 4
    same = info.superclass[:, None] == info.superclass[None, :]
    expected = np.where(
        same, rho + (1 - rho) * h ** np.abs(position[:, None] - position[None, :]), 0.0
    )
    np.testing.assert_allclose(cosine, expected, atol=1e-10)
    # siblings now differ: their cosines inside a super-class are not all equal
    off = same & ~np.eye(8, dtype=bool)
    assert np.ptp(cosine[off]) > 0


def test_sibling_dial_moves_class_relations_at_fixed_bayes_accuracy():
    from sklearn_kd.knowledge import class_relation_information

    measured = {}
    for h in (0.0, 0.5):
        X, y, info = make_hierarchical_classification(
            20000, bayes_accuracy=0.8, sibling_heterogeneity=h, random_state=0,
            **HETERO,
        )
        accuracy = np.mean(info.bayes_proba.argmax(axis=1) == y)
        assert abs(accuracy - 0.8) < 0.01
        measured[h] = class_relation_information(info.bayes_proba, y, info.superclass)
    assert measured[0.0].within_groups < 0.05
    assert measured[0.5].within_groups > 0.1
    assert measured[0.5].overall > measured[0.0].overall


def test_sibling_heterogeneity_must_be_below_one():
    with pytest.raises(InvalidParameterError, match="sibling_heterogeneity"):
        make_hierarchical_classification(10, sibling_heterogeneity=1.0)
