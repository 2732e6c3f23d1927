"""Synthetic classification data with a known Bayes posterior.

The generators dial two things a distilled teacher can pass on: how related
the classes are (``class_similarity``, the cosine between class centres of the
same super-class) and how hard each instance is (a per-row noise scale, and an
optional pull toward a sibling class). Because every row comes from a known
isotropic Gaussian mixture, the exact posteriors of each row are returned with
``return_oracle=True`` (given ``x`` alone, and given ``x`` and the row's own
noise scale) and an exact oracle teacher is
:meth:`sklearn_kd.teachers.OracleTeacher.from_generator`. ``bayes_accuracy=``
solves the class separation for a requested Bayes accuracy, so that settings
can vary one dial while holding the difficulty of the task fixed.
"""

from __future__ import annotations

import functools
from numbers import Integral, Real

import numpy as np
from scipy.optimize import brentq
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._docstrings import fill_doc
from ._posterior import check_probability_vector, log_posterior, mixture_components

__all__ = ["make_difficulty_classification", "make_hierarchical_classification"]

#: Documentation shared by the two generators.
_shared_doc = fill_doc(
    difficulty="""
    hard_fraction : float, default=0.3
        The probability in ``[0, 1]`` that a row is hard.

    easy_noise : float, default=1.0
        The noise scale ``sigma > 0`` of easy rows.

    hard_noise : float, default=2.5
        The noise scale ``sigma > 0`` of hard rows.
    """,
    random_state="""
    random_state : int, RandomState instance or None, default=None
        Determines the directions and the rows. Pass an int for reproducible
        output across multiple function calls.
        See :term:`Glossary <random_state>`.
    """,
    X_returned="""
    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The rows, float64.
    """,
)


def _orthonormal_directions(rng, n_directions, n_drawn, n_features):
    """Rows ``0..n_directions-1`` of a random orthonormal set in ``R^n_features``.

    ``n_drawn`` Gaussian rows are always drawn (so the stream does not depend
    on ``n_directions``) and the first ``n_directions`` are orthonormalised by
    QR with the signs fixed: the first ``j`` directions do not depend on how
    many follow them.
    """
    gaussian = rng.standard_normal((n_drawn, n_features))
    q, r = np.linalg.qr(gaussian[:n_directions].T)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return (q * signs).T


def _sibling_mixing(n_subclasses, sibling_heterogeneity):
    """Lower Cholesky factor ``L`` of the siblings' Gram matrix
    ``G_jk = h^|j - k|``: the rows of ``L`` are unit vectors whose inner
    products are ``G`` (siblings along a chain, neighbours most alike)."""
    position = np.arange(n_subclasses)
    gram = sibling_heterogeneity ** np.abs(position[:, None] - position[None, :])
    return np.linalg.cholesky(gram)


def _geometry(rng, n_features, *, n_superclasses, n_subclasses, class_similarity,
              sibling_heterogeneity=0.0):
    """Unit-norm class centres and the directions they are built from.

    ``K`` sub-class directions ``xi_k`` then ``S`` super-class directions
    ``mu_s``, all orthonormal; ``w_k = sqrt(rho) mu_s + sqrt(1 - rho) v_k``
    with ``v_k = xi_k`` when ``sibling_heterogeneity`` is 0, else the
    siblings' ``v`` mix their ``xi`` so that ``v_j . v_k = h^|j - k|``.
    """
    n_classes = n_superclasses * n_subclasses
    n_directions = n_classes + n_superclasses
    if n_directions > n_features:  # only allowed when class_similarity == 0
        n_directions = n_classes
    directions = _orthonormal_directions(
        rng, n_directions, n_classes + n_superclasses, n_features
    )
    subclass_directions = directions[:n_classes]
    superclass_directions = directions[n_classes:] if n_directions > n_classes else None
    superclass = np.repeat(np.arange(n_superclasses), n_subclasses)
    within = subclass_directions
    if sibling_heterogeneity > 0 and n_subclasses > 1:
        mixing = _sibling_mixing(n_subclasses, sibling_heterogeneity)
        within = np.concatenate([
            mixing @ subclass_directions[s * n_subclasses:(s + 1) * n_subclasses]
            for s in range(n_superclasses)
        ])
    centers = np.sqrt(1.0 - class_similarity) * within
    if class_similarity > 0:
        centers = (
            centers + np.sqrt(class_similarity) * superclass_directions[superclass]
        )
    return centers, superclass, superclass_directions, subclass_directions


def _draw_rows(rows, n_samples, n_subclasses, priors, hard_fraction):
    """Label, hard/easy draw and sibling of every row (steps 3-5)."""
    n_classes = priors.shape[0]
    y = rows.choice(n_classes, size=n_samples, p=priors).astype(np.int64)
    hard = rows.uniform(size=n_samples) < hard_fraction
    if n_subclasses > 1:
        offset = rows.randint(n_subclasses - 1, size=n_samples)
        position = y % n_subclasses
        sibling = y - position + (position + 1 + offset) % n_subclasses
    else:
        sibling = np.full(n_samples, -1, dtype=np.int64)
    return y, hard, sibling


#: Monte-Carlo rows and seed of the class_sep solver: a fixed sample, so the
#: estimated Bayes accuracy is a smooth, deterministic function of class_sep.
_SOLVER_ROWS = 30_000
_SOLVER_SEED = 20_240_531
_SOLVER_MAX_SEP = 1e3


class _BayesAccuracyCurve:
    """Monte-Carlo Bayes accuracy given x alone, as a function of ``class_sep``.

    The rows are ``x_i = r m_i + sigma_i e_i`` with unit-scale means ``m_i``;
    for a component mean ``r u_c`` the squared distance is
    ``r^2 ||m_i - u_c||^2 + 2 r sigma_i e_i . (m_i - u_c) + sigma_i^2 ||e_i||^2``,
    so three fixed arrays give the posterior at every ``r`` in ``O(n C)``
    without redrawing. The estimate is the mean over the rows of
    ``max_k p(k | x_i)``, an unbiased estimate of the Bayes accuracy with a
    smaller variance than the 0/1 hits.
    """

    def __init__(self, n_features, *, n_superclasses, n_subclasses,
                 class_similarity, hard_fraction, easy_noise, hard_noise,
                 sibling_pull, priors, sibling_heterogeneity=0.0):
        rng = np.random.RandomState(_SOLVER_SEED)
        unit, superclass, _, _ = _geometry(
            rng, n_features, n_superclasses=n_superclasses,
            n_subclasses=n_subclasses, class_similarity=class_similarity,
            sibling_heterogeneity=sibling_heterogeneity,
        )
        y, hard, sibling = _draw_rows(
            rng, _SOLVER_ROWS, n_subclasses, priors, hard_fraction
        )
        means = unit[y]
        if sibling_pull > 0:
            means = (1.0 - sibling_pull) * means + sibling_pull * unit[sibling]
        comp_means, owner, log_weight = mixture_components(
            unit, superclass, sibling_pull
        )
        self.sigma = np.where(hard, hard_noise, easy_noise).astype(np.float64)
        self.levels = np.array([easy_noise, hard_noise], dtype=np.float64)
        with np.errstate(divide="ignore"):
            self.log_level_weights = np.log([1.0 - hard_fraction, hard_fraction])
            self.log_priors = np.log(priors)
        self.owner, self.log_weight = owner, log_weight
        self.identity = np.array_equal(owner, np.arange(unit.shape[0]))
        self.n_features = n_features
        self.n_classes = unit.shape[0]
        # ||m_i - u_c||^2, e_i . (m_i - u_c) and ||e_i||^2, in row chunks.
        self.mean_dist = (
            np.einsum("ij,ij->i", means, means)[:, None]
            - 2.0 * means @ comp_means.T
            + np.einsum("ij,ij->i", comp_means, comp_means)[None, :]
        )
        self.cross = np.empty_like(self.mean_dist)
        self.noise_sq = np.empty(_SOLVER_ROWS)
        chunk = max(1, 2_000_000 // n_features)
        for start in range(0, _SOLVER_ROWS, chunk):
            part = slice(start, start + chunk)
            e = rng.standard_normal((self.sigma[part].size, n_features))
            self.cross[part] = (
                np.einsum("ij,ij->i", e, means[part])[:, None] - e @ comp_means.T
            )
            self.noise_sq[part] = np.einsum("ij,ij->i", e, e)

    def __call__(self, class_sep):
        r, s = float(class_sep), self.sigma[:, None]
        sq_dist = (
            r * r * self.mean_dist + 2.0 * r * s * self.cross
            + s * s * self.noise_sq[:, None]
        )
        np.maximum(sq_dist, 0.0, out=sq_dist)
        levels = self.levels[None, :, None]
        log_lik = (
            self.log_weight[None, None, :]
            + self.log_level_weights[None, :, None]
            - self.n_features * np.log(levels)
            - sq_dist[:, None, :] / (2.0 * levels**2)
        )
        log_lik = _logsumexp(log_lik, axis=1)
        if self.identity:
            log_joint = log_lik
        else:
            log_joint = np.stack(
                [_logsumexp(log_lik[:, self.owner == k], axis=1)
                 for k in range(self.n_classes)], axis=1)
        log_joint = log_joint + self.log_priors[None, :]
        # max_k p(k | x) = 1 / sum_k exp(log_joint_k - max_j log_joint_j)
        shifted = log_joint - log_joint.max(axis=1, keepdims=True)
        return float(np.mean(1.0 / np.exp(shifted).sum(axis=1)))


def _logsumexp(a, axis):
    """``log(sum(exp(a)))`` along ``axis`` for arrays with a finite maximum."""
    top = a.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.exp(a - top).sum(axis=axis))


@functools.lru_cache(maxsize=64)
def _cached_class_sep(bayes_accuracy, n_features, priors, **model):
    return _solve_class_sep(bayes_accuracy, n_features, priors=np.array(priors),
                            **model)


def _solve_class_sep(bayes_accuracy, n_features, **model):
    """The ``class_sep`` whose Bayes accuracy given x alone is the request."""
    curve = _BayesAccuracyCurve(n_features, **model)
    chance = float(model["priors"].max())
    if bayes_accuracy <= chance + 1e-3:
        raise ValueError(
            "bayes_accuracy cannot be met: it must exceed the accuracy of always "
            f"predicting the most probable class ({chance:.4g}, reached at "
            f"class_sep -> 0) by at least 0.001; got bayes_accuracy={bayes_accuracy}."
        )
    high = 1.0
    while curve(high) < bayes_accuracy:
        high *= 2.0
        if high > _SOLVER_MAX_SEP:
            reached = curve(_SOLVER_MAX_SEP)
            raise ValueError(
                f"bayes_accuracy={bayes_accuracy} cannot be met with these "
                f"settings: even class_sep={_SOLVER_MAX_SEP:g} gives a Bayes "
                f"accuracy of only {reached:.4f} (sibling_pull="
                f"{model['sibling_pull']} keeps classes overlapping). Request "
                "a lower bayes_accuracy or a smaller sibling_pull."
            )
    low = high / 2.0 if high > 1.0 else 1e-6
    while curve(low) > bayes_accuracy and low > 1e-6:
        low /= 2.0
    return float(
        brentq(lambda r: curve(r) - bayes_accuracy, low, high, xtol=1e-4)
    )


def _generate(
    n_samples,
    n_features,
    *,
    n_superclasses,
    n_subclasses,
    class_similarity,
    class_sep,
    hard_fraction,
    easy_noise,
    hard_noise,
    sibling_pull,
    priors,
    random_state,
    return_oracle,
    sibling_heterogeneity=0.0,
):
    """The generative process, on validated parameters."""
    rng = check_random_state(random_state)
    geometry_seed, sample_seed = rng.randint(np.iinfo(np.int32).max, size=2)
    unit_centers, superclass, superclass_directions, subclass_directions = _geometry(
        np.random.RandomState(geometry_seed),
        n_features,
        n_superclasses=n_superclasses,
        n_subclasses=n_subclasses,
        class_similarity=class_similarity,
        sibling_heterogeneity=sibling_heterogeneity,
    )
    centers = class_sep * unit_centers

    # 3-6. Rows: label, difficulty, sibling and Gaussian noise, drawn from a
    # stream of their own so that the geometry parameters do not change them.
    rows = np.random.RandomState(sample_seed)
    y, hard, sibling = _draw_rows(rows, n_samples, n_subclasses, priors, hard_fraction)
    noise = rows.standard_normal((n_samples, n_features))

    noise_scale = np.where(hard, hard_noise, easy_noise).astype(np.float64)
    means = centers[y]
    if sibling_pull > 0:
        means = (1.0 - sibling_pull) * means + sibling_pull * centers[sibling]
    else:
        sibling = np.full(n_samples, -1, dtype=np.int64)
    X = means + noise_scale[:, None] * noise

    if not return_oracle:
        return X, y
    with np.errstate(divide="ignore"):
        log_priors = np.log(priors)
        log_level_weights = np.log([1.0 - hard_fraction, hard_fraction])
    model = dict(log_priors=log_priors, superclass=superclass,
                 sibling_pull=sibling_pull)
    oracle_proba = np.exp(log_posterior(X, centers, noise_scale[:, None], **model))
    bayes_proba = np.exp(
        log_posterior(
            X,
            centers,
            np.array([[easy_noise, hard_noise]], dtype=np.float64),
            log_noise_weights=log_level_weights,
            **model,
        )
    )
    info = Bunch(
        bayes_proba=bayes_proba,
        oracle_proba=oracle_proba,
        class_centers=centers,
        superclass=superclass,
        noise_scale=noise_scale,
        hard=hard,
        noise_levels=np.array([easy_noise, hard_noise], dtype=np.float64),
        noise_level_weights=np.array([1.0 - hard_fraction, hard_fraction]),
        sibling=sibling.astype(np.int64),
        sibling_pull=float(sibling_pull),
        priors=priors,
        class_similarity=float(class_similarity),
        sibling_heterogeneity=float(sibling_heterogeneity),
        class_sep=float(class_sep),
        superclass_directions=superclass_directions,
        subclass_directions=subclass_directions,
    )
    return X, y, info


def _make(n_samples, n_features, *, class_sep, bayes_accuracy, priors,
          random_state, return_oracle, **model):
    """Both generators on validated parameters: ``class_sep`` solved from
    ``bayes_accuracy`` when that is set, then the rows drawn."""
    for name in ("class_similarity", "hard_fraction", "easy_noise", "hard_noise",
                 "sibling_pull"):
        model[name] = float(model[name])
    if model.get("sibling_heterogeneity", 0.0) == 0.0:
        # 0 is today's generator exactly (and shares its solver cache)
        model.pop("sibling_heterogeneity", None)
    else:
        model["sibling_heterogeneity"] = float(model["sibling_heterogeneity"])
    if bayes_accuracy is not None:
        class_sep = _cached_class_sep(
            float(bayes_accuracy), n_features, tuple(priors.tolist()), **model
        )
    return _generate(
        n_samples,
        n_features,
        class_sep=class_sep,
        priors=priors,
        random_state=random_state,
        return_oracle=return_oracle,
        **model,
    )


def _check_priors(weights, n_classes):
    if weights is None:
        return np.full(n_classes, 1.0 / n_classes)
    return check_probability_vector(weights, name="weights", length=n_classes)


_DIFFICULTY_CONSTRAINTS = {
    "class_sep": [Interval(Real, 0, None, closed="neither")],
    "bayes_accuracy": [Interval(Real, 0, 1, closed="neither"), None],
    "hard_fraction": [Interval(Real, 0, 1, closed="both")],
    "easy_noise": [Interval(Real, 0, None, closed="neither")],
    "hard_noise": [Interval(Real, 0, None, closed="neither")],
    "weights": ["array-like", None],
    "random_state": ["random_state"],
    "return_oracle": ["boolean"],
}


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_superclasses": [Interval(Integral, 1, None, closed="left")],
        "n_subclasses": [Interval(Integral, 1, None, closed="left")],
        "class_similarity": [Interval(Real, 0, 1, closed="left")],
        "sibling_heterogeneity": [Interval(Real, 0, 1, closed="left")],
        "sibling_pull": [Interval(Real, 0, 1, closed="left")],
    }
    # A union rather than ``**``: Sphinx cannot parse ``**`` in a decorator's
    # dict, and its source pages would then lose this module.
    | _DIFFICULTY_CONSTRAINTS,
    prefer_skip_nested_validation=True,
)
@_shared_doc
def make_hierarchical_classification(
    n_samples=1000,
    n_features=20,
    *,
    n_superclasses=3,
    n_subclasses=3,
    class_similarity=0.5,
    sibling_heterogeneity=0.0,
    class_sep=3.0,
    bayes_accuracy=None,
    hard_fraction=0.3,
    easy_noise=1.0,
    hard_noise=2.5,
    sibling_pull=0.0,
    weights=None,
    random_state=None,
    return_oracle=False,
):
    """Generate classes grouped in super-classes, with easy and hard rows.

    There are ``K = n_superclasses * n_subclasses`` classes; class ``k``
    belongs to super-class ``k // n_subclasses``. The data are drawn as
    follows (``S = n_superclasses``, ``d = n_features``, ``r = class_sep``,
    ``rho = class_similarity``):

    1. Orthonormal directions are drawn at random (QR of a Gaussian matrix): one
       ``xi_k`` per class and one ``mu_s`` per super-class, all mutually
       orthogonal.
    2. Class ``k`` of super-class ``s`` has centre
       ``w_k = r * (sqrt(rho) * mu_s + sqrt(1 - rho) * v_k)``. With
       ``sibling_heterogeneity = h = 0``, ``v_k = xi_k``: all centres have
       norm ``r``; the cosine between two centres is ``rho`` inside a
       super-class and ``0`` across super-classes, so ``rho`` dials how
       related the classes are (``rho = 0``: all classes equidistant), and
       the siblings of a super-class are exchangeable. With ``h > 0`` the
       siblings ``j, k`` (their positions in the super-class) get unit
       vectors ``v`` mixed from their ``xi`` with ``v_j . v_k = h^|j - k|``,
       so their cosine is ``rho + (1 - rho) h^|j - k|``: siblings along a
       chain, neighbours more alike than distant ones. Norms stay ``r``.
    3. Each row's class ``y_i`` is drawn with probabilities ``weights``.
    4. Each row is hard with probability ``hard_fraction``, independently of
       its class; its noise scale is ``sigma_i = hard_noise`` if hard and
       ``easy_noise`` otherwise.
    5. With ``sibling_pull = lam > 0``, each row draws a sibling ``j_i``
       uniformly among the other ``n_subclasses - 1`` classes of its
       super-class and its mean moves to ``(1 - lam) w_y + lam w_j``;
       otherwise its mean is ``w_y``.
    6. ``x_i = mean_i + sigma_i * e_i`` with ``e_i ~ N(0, I_d)``.

    Two exact posteriors are returned with ``return_oracle=True``; they differ
    in what they condition on:

    - ``info.bayes_proba``, the posterior **given x alone**,
      ``p(k | x) ∝ pi_k * sum_l P(sigma = s_l) N_k(x; s_l)``: the row's noise
      scale is not observable, so it is marginalised over its distribution (a
      mixture over the easy and hard levels). This is the Bayes-optimal
      classifier of ``x``; no model trained on ``x`` can beat its accuracy
      in expectation. ``bayes_accuracy`` calibrates this posterior.
    - ``info.oracle_proba``, the posterior **given x and the row's own
      sigma_i**, ``p(k | x, sigma_i) ∝ pi_k * N_k(x; sigma_i)``: a privileged
      teacher that knows how hard each row was made. In expectation it is at
      least as accurate as ``bayes_proba`` and its confidence tracks the difficulty
      draw exactly.

    Here ``N_k(x; s)`` is the class density at noise scale ``s``. The
    posterior given ``x`` and ``sigma_i`` is
    ``p(k | x, sigma) ∝ pi_k * mean_j N(x; m_kj, sigma^2 I)``, the mean over
    ``k``'s siblings ``j`` of Gaussian densities at
    ``m_kj = (1 - lam) w_k + lam w_j`` (a single density at ``w_k`` when
    ``lam = 0``, where it reduces to
    ``softmax_k(w_k . x / sigma^2 + log pi_k)``, centres having equal norms).
    The pull is part of the model, so the posterior stays exact. It is
    computed in float64 with ``logsumexp`` and returned with
    ``return_oracle=True``. Hard rows have a larger ``sigma_i`` and hence, on
    average, a lower posterior probability of their true class; raising
    ``hard_fraction``, ``hard_noise`` or ``sibling_pull`` lowers the mean
    true-class probability, raising ``class_sep`` or lowering ``rho`` raises
    it.

    Given ``random_state``, the geometry and the rows are drawn from two
    separate streams: changing ``class_similarity``, ``class_sep``,
    ``easy_noise``, ``hard_noise`` or ``sibling_pull`` keeps the labels, the
    hard/easy draws, the siblings and the Gaussian noise ``e_i`` and moves only
    the rows' means and scales, which makes comparisons across settings
    paired. For fresh rows around the same centres, generate more rows at once
    and split them.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    n_samples : int, default=1000
        The number of rows.

    n_features : int, default=20
        The number of features. Must be at least
        ``n_superclasses + n_superclasses * n_subclasses`` (the number of
        orthonormal directions) when ``class_similarity > 0``, and at least
        ``n_superclasses * n_subclasses`` when ``class_similarity == 0``.

    n_superclasses : int, default=3
        The number of super-classes ``S``.

    n_subclasses : int, default=3
        The number of classes in each super-class.

    class_similarity : float, default=0.5
        The cosine ``rho`` in ``[0, 1)`` between the centres of two classes of
        the same super-class (when ``sibling_heterogeneity`` is 0).

    sibling_heterogeneity : float, default=0.0
        The dial ``h`` in ``[0, 1)`` of how much siblings differ in their
        relations: siblings ``j`` and ``k`` of a super-class have cosine
        ``rho + (1 - rho) * h ** |j - k|``. ``0`` reproduces the exchangeable
        siblings exactly (the same output for the same ``random_state``);
        larger values make some siblings closer than others, which gives a
        teacher class relations to pass on inside a super-class. Use it with
        ``bayes_accuracy`` to hold the task's difficulty fixed.

    class_sep : float, default=3.0
        The norm ``r > 0`` of every class centre, in units of the per-feature
        noise scale. Distances between centres are ``r * sqrt(2 (1 - rho))``
        inside a super-class and ``r * sqrt(2)`` across. Ignored when
        ``bayes_accuracy`` is set.

    bayes_accuracy : float, default=None
        If set, ``class_sep`` is solved so that the expected accuracy of the
        posterior given ``x`` alone (``info.bayes_proba``) equals this value,
        whatever the other settings; the solved value is ``info.class_sep``.
        The accuracy is estimated by Monte Carlo on a fixed internal sample of
        30,000 rows (the mean of the largest posterior probability, within
        about 0.002 of the truth) and solved with :func:`scipy.optimize.brentq`.
        A ``ValueError`` is raised when no ``class_sep`` reaches it: at or
        below chance (the largest class prior), or above what
        ``sibling_pull`` leaves reachable.

    {difficulty}

    sibling_pull : float, default=0.0
        The fraction ``lam`` in ``[0, 1)`` of the way from a row's class
        centre toward the centre of a random sibling class at which its mean
        lies. Requires ``n_subclasses >= 2`` when positive. At ``lam = 0.5``
        with two sub-classes, sibling classes generate identical distributions.

    weights : array-like of shape (n_superclasses * n_subclasses,), default=None
        The class priors ``pi_k``, non-negative and normalised to sum to 1.
        ``None`` means equal priors.

    {random_state}

    return_oracle : bool, default=False
        If True, also return a :class:`~sklearn.utils.Bunch` describing the
        model and the exact posterior of every row.

    {X_returned}

    y : ndarray of shape (n_samples,)
        The class of each row, int64 in ``[0, n_superclasses * n_subclasses)``.

    info : :class:`~sklearn.utils.Bunch`
        Only when ``return_oracle=True``; ``K = n_superclasses * n_subclasses``.

        bayes_proba : ndarray of shape (n_samples, K)
            Exact posterior ``p(k | x_i)`` given the row alone, the noise scale
            marginalised over its two levels.
        oracle_proba : ndarray of shape (n_samples, K)
            Exact posterior ``p(k | x_i, sigma_i)`` given the row and its own
            noise scale (privileged).
        class_centers : ndarray of shape (K, n_features)
            The centres ``w_k``.
        superclass : ndarray of shape (K,)
            The super-class of each class, ``k // n_subclasses``.
        noise_scale : ndarray of shape (n_samples,)
            The noise scale ``sigma_i`` of each row.
        hard : ndarray of shape (n_samples,)
            Boolean mask of the hard rows.
        noise_levels, noise_level_weights : ndarray of shape (2,)
            ``[easy_noise, hard_noise]`` and their probabilities
            ``[1 - hard_fraction, hard_fraction]``.
        sibling : ndarray of shape (n_samples,)
            The class each row was pulled toward, ``-1`` when
            ``sibling_pull == 0``.
        sibling_pull, class_similarity, sibling_heterogeneity, class_sep : float
            The parameters of the same names; ``class_sep`` is the solved value
            when ``bayes_accuracy`` is set.
        priors : ndarray of shape (K,)
            The normalised class priors.
        superclass_directions : ndarray of shape (n_superclasses, n_features) \
or None
            The ``mu_s``; None when ``class_similarity == 0`` and there are too
            few features to hold them.
        subclass_directions : ndarray of shape (K, n_features)
            The ``xi_k``.

    See Also
    --------
    make_difficulty_classification : Equidistant classes, only instance
        difficulty varies.
    sklearn_kd.teachers.OracleTeacher : The exact posterior as a classifier.
    sklearn.datasets.make_classification : Hypercube clusters without a
        known posterior.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.datasets import make_hierarchical_classification
    >>> X, y, info = make_hierarchical_classification(
    ...     n_samples=500, class_similarity=0.6, random_state=0, return_oracle=True)
    >>> X.shape, X.dtype, y.dtype, info.oracle_proba.shape
    ((500, 20), dtype('float64'), dtype('int64'), (500, 9))
    >>> w = info.class_centers / np.linalg.norm(info.class_centers, axis=1,
    ...                                         keepdims=True)
    >>> cosine = w @ w.T
    >>> round(float(cosine[0, 1]), 6), round(float(cosine[0, 3]), 6)
    (0.6, 0.0)
    >>> confidence = info.oracle_proba[np.arange(len(y)), y]
    >>> bool(confidence[info.hard].mean() < confidence[~info.hard].mean())
    True
    """
    n_classes = n_superclasses * n_subclasses
    needed = n_classes + n_superclasses if class_similarity > 0 else n_classes
    if needed > n_features:
        if class_similarity > 0:
            rule = (
                "class_similarity > 0 needs n_superclasses + n_superclasses * "
                f"n_subclasses = {n_superclasses} + {n_classes} = {needed} "
                "orthonormal directions"
            )
        else:
            rule = (
                "class_similarity == 0 needs n_superclasses * n_subclasses = "
                f"{needed} orthonormal directions"
            )
        raise ValueError(
            f"n_features is too small: {rule}, so n_features must be >= "
            f"{needed}; got n_features={n_features}."
        )
    if sibling_pull > 0 and n_subclasses < 2:
        raise ValueError(
            "sibling_pull > 0 needs a sibling class to pull toward, so "
            f"n_subclasses must be >= 2; got sibling_pull={sibling_pull} and "
            f"n_subclasses={n_subclasses}."
        )
    return _make(
        n_samples,
        n_features,
        n_superclasses=n_superclasses,
        n_subclasses=n_subclasses,
        class_similarity=class_similarity,
        sibling_heterogeneity=sibling_heterogeneity,
        class_sep=class_sep,
        bayes_accuracy=bayes_accuracy,
        hard_fraction=hard_fraction,
        easy_noise=easy_noise,
        hard_noise=hard_noise,
        sibling_pull=sibling_pull,
        priors=_check_priors(weights, n_classes),
        random_state=random_state,
        return_oracle=return_oracle,
    )


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 1, None, closed="left")],
    }
    | _DIFFICULTY_CONSTRAINTS,
    prefer_skip_nested_validation=True,
)
@_shared_doc
def make_difficulty_classification(
    n_samples=1000,
    n_features=20,
    *,
    n_classes=5,
    class_sep=3.0,
    bayes_accuracy=None,
    hard_fraction=0.3,
    easy_noise=1.0,
    hard_noise=2.5,
    weights=None,
    random_state=None,
    return_oracle=False,
):
    """Generate equidistant classes where only instance difficulty varies.

    The flat special case of :func:`make_hierarchical_classification`: each
    class is its own super-class and the class similarity is 0, so the
    ``n_classes`` centres ``w_k = class_sep * xi_k`` are orthogonal, have
    norm ``class_sep`` and are all ``class_sep * sqrt(2)`` apart: there are no
    class relationships for a teacher to pass on. Each row's class is drawn
    with probabilities ``weights``; each row is hard with probability
    ``hard_fraction`` and gets noise scale ``hard_noise`` if hard and
    ``easy_noise`` otherwise; ``x_i = w_{y_i} + sigma_i * e_i`` with
    ``e_i ~ N(0, I)``. The exact posterior given ``x_i`` and its own
    ``sigma_i`` (``info.oracle_proba``, privileged) is
    ``softmax_k(w_k . x_i / sigma_i^2 + log pi_k)``; the posterior given
    ``x_i`` alone (``info.bayes_proba``, the Bayes-optimal classifier)
    marginalises ``sigma_i`` over its two levels.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    n_samples : int, default=1000
        The number of rows.

    n_features : int, default=20
        The number of features, at least ``n_classes``.

    n_classes : int, default=5
        The number of classes.

    class_sep : float, default=3.0
        The norm ``r > 0`` of every class centre. Ignored when
        ``bayes_accuracy`` is set.

    bayes_accuracy : float, default=None
        If set, ``class_sep`` is solved so that the expected accuracy of the
        posterior given ``x`` alone equals this value, as in
        :func:`make_hierarchical_classification`.

    {difficulty}

    weights : array-like of shape (n_classes,), default=None
        The class priors, non-negative and normalised to sum to 1. ``None``
        means equal priors.

    {random_state}

    return_oracle : bool, default=False
        If True, also return the :class:`~sklearn.utils.Bunch` described in
        :func:`make_hierarchical_classification` (with ``superclass`` equal to
        ``np.arange(n_classes)``).

    {X_returned}

    y : ndarray of shape (n_samples,)
        The class of each row, int64 in ``[0, n_classes)``.

    info : :class:`~sklearn.utils.Bunch`
        Only when ``return_oracle=True``: the exact posteriors
        ``bayes_proba`` (given ``x``) and ``oracle_proba`` (given ``x`` and
        ``sigma_i``) and the model, as in
        :func:`make_hierarchical_classification`.

    See Also
    --------
    make_hierarchical_classification : Classes related through super-classes.

    Examples
    --------
    >>> from sklearn_kd.datasets import make_difficulty_classification
    >>> X, y, info = make_difficulty_classification(
    ...     n_samples=300, n_classes=4, hard_fraction=0.5, random_state=0,
    ...     return_oracle=True)
    >>> X.shape, info.oracle_proba.shape, sorted(set(y.tolist()))
    ((300, 20), (300, 4), [0, 1, 2, 3])
    >>> sorted(set(info.noise_scale.tolist()))
    [1.0, 2.5]

    Calibrated to a Bayes accuracy of 0.8 given ``x`` alone:

    >>> X, y, info = make_difficulty_classification(
    ...     n_samples=20000, n_classes=4, bayes_accuracy=0.8, random_state=0,
    ...     return_oracle=True)
    >>> round(float(info.bayes_proba.max(axis=1).mean()), 2)
    0.8
    """
    if n_classes > n_features:
        raise ValueError(
            "n_features is too small: n_classes orthogonal class centres need "
            f"n_features >= n_classes = {n_classes}; got n_features={n_features}."
        )
    # each class its own super-class: no siblings, no similarity
    return _make(
        n_samples,
        n_features,
        n_superclasses=n_classes,
        n_subclasses=1,
        class_similarity=0.0,
        class_sep=class_sep,
        bayes_accuracy=bayes_accuracy,
        hard_fraction=hard_fraction,
        easy_noise=easy_noise,
        hard_noise=hard_noise,
        sibling_pull=0.0,
        priors=_check_priors(weights, n_classes),
        random_state=random_state,
        return_oracle=return_oracle,
    )
