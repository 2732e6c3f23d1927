"""Teachers with a known answer and deliberately imperfect teachers.

:class:`OracleTeacher` is the exact Bayes posterior of the Gaussian model
behind :func:`sklearn_kd.datasets.make_hierarchical_classification`: a teacher
whose probabilities are the truth, against which students and imperfect
teachers can be measured.

The wrappers degrade any fitted or unfitted classifier that has
``predict_proba``, in numpy float64 and in log space where it matters:

- :class:`TemperatureScaledTeacher`: ``softmax(log q / T)``; ``T > 1``
  softens, ``T < 1`` sharpens, zeros stay zero;
- :class:`LabelSmoothedTeacher`: ``(1 - epsilon) q + epsilon / K``;
- :class:`NoisyTeacher`: ``(1 - noise) q + noise d`` with ``d`` a Dirichlet
  draw fixed by the row's values and ``random_state``.

Each wrapper clones and fits its ``estimator`` in ``fit``; a pre-fitted model
wrapped in :class:`sklearn.frozen.FrozenEstimator` is used as it is.

:class:`EncodedLabelsTeacher` changes no probability: it fits a classifier
that accepts only the labels ``0..n_classes-1`` (such as XGBoost's) on the
labels' indices and reports the labels themselves.
"""

from __future__ import annotations

import hashlib
from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._doc_links import DocLinkMixin
from ._docstrings import fill_doc
from ._posterior import check_probability_vector, log_posterior
from ._validation import check_probabilities
from .losses import soften

__all__ = [
    "EncodedLabelsTeacher",
    "LabelSmoothedTeacher",
    "NoisyTeacher",
    "OracleTeacher",
    "TemperatureScaledTeacher",
]

#: The rows every teacher's prediction methods take.
_X_ROWS = """
    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows to classify.
"""

#: Documentation shared by the teachers' docstrings.
_shared_doc = fill_doc(
    X_parameter=_X_ROWS,
    predict_proba_sections=_X_ROWS
    + """
    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Float64 probabilities; rows sum to 1; columns follow ``classes_``.
    """,
    predict_sections=_X_ROWS
    + """
    Returns
    -------
    y_pred : ndarray of shape (n_samples,)
        Predicted labels from ``classes_``.
    """,
    example_imports="""
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    """,
    wrapped_estimator="""
    estimator : estimator object
        A classifier with ``fit`` and ``predict_proba``. It is cloned and
        fitted in ``fit``, unless it is a
        :class:`~sklearn.frozen.FrozenEstimator`, which is used as it is.
    """,
    wrapper_attributes="""
    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner classifier.

    classes_ : ndarray of shape (n_classes,)
        The class labels, from ``estimator_``.

    n_features_in_ : int
        Number of features seen during ``fit``, from ``estimator_`` (only
        when it defines it).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, from ``estimator_`` (only when it
        defines them).
    """,
)


def _most_probable(classifier, scores):
    """The class in ``classifier.classes_`` of each row's largest score (a
    probability or its logarithm)."""
    return classifier.classes_[np.argmax(scores, axis=1)]


# ---------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------


@_shared_doc
class OracleTeacher(DocLinkMixin, ClassifierMixin, BaseEstimator):
    """Exact Bayes posterior of an isotropic Gaussian class model.

    Class ``k`` generates ``x = m_k + s * e`` with ``e ~ N(0, I)``, where the
    mean ``m_k`` is the class centre ``w_k`` (or, with ``sibling_pull = lam``,
    ``(1 - lam) w_k + lam w_j`` for a sibling ``j`` drawn uniformly among the
    other classes of ``k``'s super-class) and the noise scale ``s`` is either
    known (one value) or one of several levels with known probabilities. The
    teacher returns the exact posterior, in float64 with ``logsumexp``. With
    one noise scale ``s`` and no pull it is

    ``p(k | x) = softmax_k(w_k . x / s^2 - ||w_k||^2 / (2 s^2) + log pi_k)``,

    so with equal priors and equal-norm centres a temperature ``T`` applied to
    it equals the posterior at noise scale ``s * sqrt(T)``.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    class_centers : array-like of shape (n_classes, n_features)
        The class centres ``w_k``.

    noise_scale : float or array-like of shape (n_levels,), default=1.0
        The standard deviation ``s`` of the isotropic noise. An array gives
        noise levels, one of which generated each row with probability
        ``noise_weights``; :meth:`predict_proba` then marginalises over the
        level, which is the exact posterior given ``x`` alone. To use a known
        per-row scale instead, call :meth:`predict_proba_given_noise`.

    noise_weights : array-like of shape (n_levels,), default=None
        Probabilities of the noise levels (normalised to sum to 1). ``None``
        means equal probabilities.

    priors : array-like of shape (n_classes,), default=None
        Class priors ``pi_k`` (normalised to sum to 1). ``None`` means equal
        priors.

    superclass : array-like of shape (n_classes,), default=None
        Super-class label of each class. Only used, and then required, when
        ``sibling_pull > 0``.

    sibling_pull : float, default=0.0
        Fraction ``lam`` in ``[0, 1)`` of the way from a row's class centre to
        the centre of a random sibling class at which its mean lies.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, ``np.arange(n_classes)`` unless ``fit`` received
        ``n_classes`` distinct labels that are not those integers; column
        ``k`` of :meth:`predict_proba` belongs to ``classes_[k]``.

    n_features_in_ : int
        Number of features, ``class_centers.shape[1]``.

    See Also
    --------
    sklearn_kd.datasets.make_hierarchical_classification : Data drawn from
        this model; ``return_oracle=True`` gives everything the oracle needs.
    TemperatureScaledTeacher : Soften or sharpen any teacher.

    Notes
    -----
    ``fit`` learns nothing: it validates the parameters and ``X`` and sets
    ``classes_``. The generator returns two posteriors. ``info.bayes_proba``
    is the posterior given ``x`` alone, the noise scale marginalised over its
    levels: the Bayes-optimal classifier of ``x``, reproduced exactly by
    :meth:`predict_proba` of :meth:`from_generator`. ``info.oracle_proba``
    uses each row's true noise scale, which cannot be known from a new ``x``
    (a privileged teacher); :meth:`predict_proba_given_noise` reproduces it
    exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.datasets import make_hierarchical_classification
    >>> from sklearn_kd.teachers import OracleTeacher
    >>> X, y, info = make_hierarchical_classification(
    ...     n_samples=200, random_state=0, return_oracle=True)
    >>> oracle = OracleTeacher.from_generator(info)
    >>> oracle.predict_proba(X).shape
    (200, 9)
    >>> bool(np.allclose(oracle.predict_proba(X), info.bayes_proba))
    True
    >>> bool(np.allclose(oracle.predict_proba_given_noise(X, info.noise_scale),
    ...                  info.oracle_proba))
    True
    >>> teacher = OracleTeacher(info.class_centers, noise_scale=1.0).fit(X, y)
    >>> teacher.predict(X[:5]).shape
    (5,)
    """

    _parameter_constraints: dict = {
        "class_centers": ["array-like"],
        "noise_scale": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "noise_weights": ["array-like", None],
        "priors": ["array-like", None],
        "superclass": ["array-like", None],
        "sibling_pull": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        class_centers,
        *,
        noise_scale=1.0,
        noise_weights=None,
        priors=None,
        superclass=None,
        sibling_pull=0.0,
    ):
        self.class_centers = class_centers
        self.noise_scale = noise_scale
        self.noise_weights = noise_weights
        self.priors = priors
        self.superclass = superclass
        self.sibling_pull = sibling_pull

    @classmethod
    def from_generator(cls, info, *, noise_scale=None):
        """Build a fitted oracle from the ``info`` of a generator.

        Parameters
        ----------
        info : Bunch
            The third value returned by
            :func:`~sklearn_kd.datasets.make_hierarchical_classification` or
            :func:`~sklearn_kd.datasets.make_difficulty_classification` with
            ``return_oracle=True``.

        noise_scale : float, default=None
            One noise scale to assume for every row. ``None`` uses the
            generator's noise levels and their probabilities, which gives the
            exact posterior given ``x`` alone.

        Returns
        -------
        oracle : OracleTeacher
            A fitted oracle (``fit`` needs no data).
        """
        if noise_scale is None:
            noise_scale = info.noise_levels
            noise_weights = info.noise_level_weights
        else:
            noise_weights = None
        oracle = cls(
            info.class_centers,
            noise_scale=noise_scale,
            noise_weights=noise_weights,
            priors=info.priors,
            superclass=info.superclass,
            sibling_pull=info.sibling_pull,
        )
        oracle._validate_params()
        oracle._set_model()
        oracle.classes_ = np.arange(oracle.centers_.shape[0])
        oracle.n_features_in_ = oracle.centers_.shape[1]
        return oracle

    def _set_model(self):
        """Validate the model parameters into private float64 arrays."""
        centers = np.asarray(self.class_centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[0] < 1 or centers.shape[1] < 1:
            raise ValueError(
                "class_centers must be a 2-D array of shape (n_classes, n_features),"
                f" got shape {centers.shape}."
            )
        if not np.all(np.isfinite(centers)):
            raise ValueError("class_centers must be finite.")
        n_classes = centers.shape[0]
        scales = np.atleast_1d(np.asarray(self.noise_scale, dtype=np.float64))
        if scales.ndim != 1 or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
            raise ValueError(
                "noise_scale must be a positive float or a 1-D array of positive "
                f"floats, got {self.noise_scale!r}."
            )
        if self.noise_weights is None:
            weights = np.full(scales.size, 1.0 / scales.size)
        else:
            weights = check_probability_vector(
                self.noise_weights, name="noise_weights", length=scales.size
            )
        priors = (
            np.full(n_classes, 1.0 / n_classes)
            if self.priors is None
            else check_probability_vector(self.priors, name="priors", length=n_classes)
        )
        superclass = None
        if self.sibling_pull > 0:
            if self.superclass is None:
                raise ValueError("superclass is required when sibling_pull > 0.")
            superclass = column_or_1d(self.superclass)
            if superclass.shape[0] != n_classes:
                raise ValueError(
                    f"superclass must have length {n_classes} (one entry per "
                    f"class), got length {superclass.shape[0]}."
                )
            _, counts = np.unique(superclass, return_counts=True)
            if np.any(counts < 2):
                raise ValueError(
                    "sibling_pull > 0 needs every class to have a sibling: each "
                    "super-class in superclass must hold at least 2 classes."
                )
        self.centers_ = centers
        with np.errstate(divide="ignore"):
            self._log_noise_weights = np.log(weights)
            self._log_priors = np.log(priors)
        self._noise_levels = scales
        self._superclass = superclass

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` against the class centres and set ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with as many features as the class centres.

        y : array-like of shape (n_samples,), default=None
            Labels. Integers in ``[0, n_classes)`` (or ``None``) keep
            ``classes_ = np.arange(n_classes)``; otherwise ``y`` must hold
            exactly ``n_classes`` distinct labels, which become ``classes_``
            in sorted order.

        Returns
        -------
        self : OracleTeacher
            The fitted oracle.
        """
        self._set_model()
        n_classes, n_features = self.centers_.shape
        X = validate_data(self, X, dtype=np.float64)
        if X.shape[1] != n_features:
            raise ValueError(
                f"X has {X.shape[1]} features but class_centers has {n_features}."
            )
        classes = np.arange(n_classes)
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            labels = np.unique(y)
            in_range = (
                np.issubdtype(labels.dtype, np.integer)
                and np.isin(labels, classes).all()
            )
            if not in_range:
                if labels.size != n_classes:
                    raise ValueError(
                        f"y must hold integers in [0, {n_classes}) or exactly "
                        f"{n_classes} distinct labels (one per class centre), got "
                        f"{labels.size} distinct labels."
                    )
                classes = labels
        self.classes_ = classes
        return self

    def _posterior(self, X, noise_scale, log_noise_weights):
        return log_posterior(
            X,
            self.centers_,
            noise_scale,
            log_noise_weights=log_noise_weights,
            log_priors=self._log_priors,
            superclass=self._superclass,
            sibling_pull=self.sibling_pull,
        )

    def predict_log_proba(self, X):
        """Exact log posterior, marginal over the noise levels.

        {X_parameter}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log p(k | x)``; ``-inf`` only for classes with prior 0.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._posterior(X, self._noise_levels[None, :], self._log_noise_weights)

    def predict_proba(self, X):
        """Exact posterior ``p(k | x)``, marginal over the noise levels.

        {predict_proba_sections}
        """
        return np.exp(self.predict_log_proba(X))

    def predict_proba_given_noise(self, X, noise_scale):
        """Exact posterior ``p(k | x, s_i)`` when each row's noise scale is known.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to classify.

        noise_scale : float or array-like of shape (n_samples,)
            The noise scale ``s_i`` of each row (one float for all rows), for
            example ``info.noise_scale`` from the generator.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        scale = np.asarray(noise_scale, dtype=np.float64)
        if scale.ndim == 0:
            scale = np.full(X.shape[0], float(scale))
        if scale.shape != (X.shape[0],) or not np.all(scale > 0):
            raise ValueError(
                "noise_scale must be a positive float or an array of "
                f"{X.shape[0]} positive floats (one per row of X), got shape "
                f"{scale.shape}."
            )
        return np.exp(self._posterior(X, scale[:, None], None))

    def predict(self, X):
        """Bayes-optimal class: the argmax of :meth:`predict_proba`.

        {predict_sections}
        """
        return _most_probable(self, self.predict_log_proba(X))


# ---------------------------------------------------------------------------
# Imperfect teachers
# ---------------------------------------------------------------------------


@_shared_doc
class _ProbaTransformTeacher(
    DocLinkMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator
):
    """Fit or reuse ``estimator`` and transform its ``predict_proba``."""

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit a clone of ``estimator`` (a FrozenEstimator is used as it is).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, passed to ``estimator.fit``.

        y : array-like of shape (n_samples,), default=None
            Target labels, passed to ``estimator.fit``; ``None`` only for
            estimators that need none, such as :class:`OracleTeacher`.

        **fit_params : dict
            Further parameters passed to ``estimator.fit``.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        # clone(FrozenEstimator) returns the frozen estimator itself and its
        # fit is a no-op, so a pre-fitted model is used unchanged.
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        self._fit_transform()
        return self

    def _fit_transform(self):
        """Set fitted state of the transform itself (none by default)."""

    def _transform(self, proba, X):
        raise NotImplementedError

    def predict_proba(self, X):
        """Transformed class probabilities of the inner estimator.

        {predict_proba_sections}
        """
        check_is_fitted(self)
        proba = check_probabilities(
            self.estimator_.predict_proba(X),
            f"{type(self.estimator_).__name__}.predict_proba(X)",
        )
        return self._transform(proba, X)

    def predict(self, X):
        """Class with the highest transformed probability.

        {predict_sections}
        """
        return _most_probable(self, self.predict_proba(X))


@_shared_doc
class TemperatureScaledTeacher(_ProbaTransformTeacher):
    """Soften (``T > 1``) or sharpen (``T < 1``) a teacher's probabilities.

    ``predict_proba`` returns ``softmax(log q / T) = q^(1/T) / sum_j q_j^(1/T)``
    computed in float64 log space from the inner estimator's probabilities
    ``q``: a zero stays exactly zero at every temperature, rows sum to 1 and
    the argmax is kept. ``T = 1`` returns ``q`` (renormalised); ``T -> inf``
    tends to uniform over the support of ``q``; ``T -> 0`` to one-hot on the
    argmax. On an :class:`OracleTeacher` with noise scale ``s``, equal priors
    and equal-norm centres, temperature ``T`` equals noise scale
    ``s * sqrt(T)``.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    {wrapped_estimator}

    temperature : float, default=1.0
        The temperature ``T > 0``.

    {wrapper_attributes}

    See Also
    --------
    LabelSmoothedTeacher : Mix a teacher with the uniform distribution.
    NoisyTeacher : Mix a teacher with random distributions.

    Examples
    --------
    {example_imports}
    >>> from sklearn_kd.teachers import TemperatureScaledTeacher
    >>> X, y = load_iris(return_X_y=True)
    >>> soft = TemperatureScaledTeacher(LogisticRegression(max_iter=1000),
    ...                                 temperature=4.0).fit(X, y)
    >>> proba = soft.predict_proba(X[:2])
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((2, 3), True)
    >>> bool((soft.predict(X) == soft.estimator_.predict(X)).all())
    True
    """

    _parameter_constraints: dict = {
        **_ProbaTransformTeacher._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, estimator, temperature=1.0):
        self.estimator = estimator
        self.temperature = temperature

    def _transform(self, proba, X):
        return soften(proba, float(self.temperature)).numpy()


@_shared_doc
class LabelSmoothedTeacher(_ProbaTransformTeacher):
    """Mix a teacher's probabilities with the uniform distribution.

    ``predict_proba`` returns ``(1 - epsilon) q + epsilon / K`` for the inner
    estimator's (renormalised) probabilities ``q`` over ``K`` classes. Every
    wrong class of a one-hot ``q`` gets the same ``epsilon / K``: the relations
    between classes that ``q`` carried are diluted uniformly.

    This is a post-hoc stand-in for a teacher *trained* with label smoothing
    (Mueller et al., 2019), whose penultimate-layer geometry erases class
    relations more thoroughly; it is the simplest way to hand a student a
    smoothed teacher of unchanged argmax and accuracy.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    {wrapped_estimator}

    epsilon : float, default=0.1
        Smoothing weight in ``[0, 1]``; ``0`` returns ``q``, ``1`` the uniform
        distribution.

    {wrapper_attributes}

    See Also
    --------
    TemperatureScaledTeacher : Soften a teacher while keeping its zeros.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklearn_kd.teachers import LabelSmoothedTeacher
    >>> X, y = load_iris(return_X_y=True)
    >>> smoothed = LabelSmoothedTeacher(DecisionTreeClassifier(random_state=0),
    ...                                 epsilon=0.3).fit(X, y)
    >>> smoothed.predict_proba(X[:1]).round(2)
    array([[0.8, 0.1, 0.1]])
    """

    _parameter_constraints: dict = {
        **_ProbaTransformTeacher._parameter_constraints,
        "epsilon": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, estimator, epsilon=0.1):
        self.estimator = estimator
        self.epsilon = epsilon

    def _transform(self, proba, X):
        proba = proba / proba.sum(axis=1, keepdims=True)
        eps = float(self.epsilon)
        return (1.0 - eps) * proba + eps / proba.shape[1]


def _row_keys(X):
    """A 64-bit key per row, a hash of the row's values."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got an array of shape {X.shape}.")
    if X.dtype.kind in "biuf":
        # + 0.0 maps -0.0 to 0.0 so that equal values give equal keys.
        rows = np.ascontiguousarray(X, dtype=np.float64) + 0.0
        payloads = (row.tobytes() for row in rows)
    else:
        payloads = (repr(row.tolist()).encode() for row in X)
    return [
        int.from_bytes(hashlib.blake2b(p, digest_size=8).digest(), "little")
        for p in payloads
    ]


@_shared_doc
class NoisyTeacher(_ProbaTransformTeacher):
    """Mix each row of a teacher's probabilities with a random distribution.

    ``predict_proba`` returns ``(1 - noise) q + noise d`` where ``q`` is the
    inner estimator's (renormalised) probability row and ``d`` a draw from a
    symmetric Dirichlet distribution with parameter ``concentration``
    (``1.0``: uniform over the simplex). The draw for a row is seeded by the
    row's values and by a seed fixed in ``fit`` from ``random_state``: the
    same row always gets the same ``d``, whatever the batch it comes in.
    Rows sum to 1; zeros of ``q`` do not stay zero and the argmax may change.

    Read more in the :ref:`User Guide <synthetic_data>`.

    Parameters
    ----------
    {wrapped_estimator}

    noise : float, default=0.1
        Weight in ``[0, 1]`` of the random distribution.

    concentration : float, default=1.0
        Parameter ``> 0`` of the symmetric Dirichlet distribution; small
        values give spiky ``d``, large values nearly uniform ``d``.

    random_state : int, RandomState instance or None, default=None
        Fixes the seed ``seed_`` drawn in ``fit``. Pass an int for the same
        probabilities across calls to ``fit``.

    {wrapper_attributes}

    seed_ : int
        The seed combined with each row's hash to draw its ``d``.

    See Also
    --------
    LabelSmoothedTeacher : Mix a teacher with the uniform distribution.

    Examples
    --------
    {example_imports}
    >>> from sklearn_kd.teachers import NoisyTeacher
    >>> X, y = load_iris(return_X_y=True)
    >>> noisy = NoisyTeacher(LogisticRegression(max_iter=1000), noise=0.2,
    ...                      random_state=0).fit(X, y)
    >>> proba = noisy.predict_proba(X)
    >>> bool(np.allclose(proba.sum(axis=1), 1.0))
    True
    >>> bool(np.array_equal(noisy.predict_proba(X[10:20]), proba[10:20]))
    True
    """

    _parameter_constraints: dict = {
        **_ProbaTransformTeacher._parameter_constraints,
        "noise": [Interval(Real, 0, 1, closed="both")],
        "concentration": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, noise=0.1, concentration=1.0, random_state=None):
        self.estimator = estimator
        self.noise = noise
        self.concentration = concentration
        self.random_state = random_state

    def _fit_transform(self):
        rng = check_random_state(self.random_state)
        self.seed_ = int(rng.randint(np.iinfo(np.int32).max))

    def _transform(self, proba, X):
        proba = proba / proba.sum(axis=1, keepdims=True)
        noise = float(self.noise)
        if noise == 0:
            return proba
        alpha = np.full(proba.shape[1], float(self.concentration))
        keys = _row_keys(X)
        if len(keys) != proba.shape[0]:
            raise ValueError(
                f"X has {len(keys)} rows but {type(self.estimator_).__name__}"
                f".predict_proba returned {proba.shape[0]}."
            )
        draws = np.empty_like(proba)
        for i, key in enumerate(keys):
            draws[i] = np.random.default_rng([self.seed_, key]).dirichlet(alpha)
        draws /= draws.sum(axis=1, keepdims=True)
        return (1.0 - noise) * proba + noise * draws


# ---------------------------------------------------------------------------
# Labels as class indices
# ---------------------------------------------------------------------------


@_shared_doc
class EncodedLabelsTeacher(_ProbaTransformTeacher):
    """Fit a classifier on class indices ``0..n_classes-1`` and decode them.

    Some classifiers accept only labels ``0, 1, ..., n_classes - 1``
    (XGBoost's ``XGBClassifier``, for one, refuses strings and gaps). This
    wrapper fits ``estimator`` on each label's index in the sorted labels
    (as :class:`~sklearn.preprocessing.LabelEncoder` numbers them) and
    reports the original labels: ``classes_`` holds them, ``predict``
    returns them, and the columns of ``predict_proba`` follow them.

    :class:`~sklearn_kd.DistilledClassifier` wraps a teacher in it by
    itself when the teacher's ``fit`` fails on the labels and succeeds on
    their indices; pass it explicitly to skip that failing first fit, or to
    use a :class:`~sklearn.frozen.FrozenEstimator` fitted on the indices.

    Read more in the :ref:`User Guide <teachers>`.

    Parameters
    ----------
    estimator : estimator object
        A classifier with ``fit`` and ``predict_proba``. It is cloned and
        fitted on the label indices in ``fit``, unless it is a
        :class:`~sklearn.frozen.FrozenEstimator`, which is used as it is
        and must have been fitted on the indices.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner classifier, whose ``classes_`` are indices.

    classes_ : ndarray of shape (n_classes,)
        The original class labels, sorted.

    n_features_in_ : int
        Number of features seen during ``fit``, from ``estimator_`` (only
        when it defines it).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during ``fit``, from ``estimator_`` (only when it
        defines them).

    See Also
    --------
    sklearn.preprocessing.LabelEncoder : The same numbering of the labels.

    Examples
    --------
    {example_imports}
    >>> from sklearn_kd.teachers import EncodedLabelsTeacher
    >>> X, y = load_iris(return_X_y=True)
    >>> names = np.array(["setosa", "versicolor", "virginica"])[y]
    >>> teacher = EncodedLabelsTeacher(LogisticRegression(max_iter=1000))
    >>> teacher.fit(X, names).estimator_.classes_
    array([0, 1, 2])
    >>> teacher.predict(X[:1])
    array(['setosa'], dtype='<U10')
    """

    def __init__(self, estimator):
        self.estimator = estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator`` on the labels' indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, passed to ``estimator.fit``.

        y : array-like of shape (n_samples,)
            Target labels, of any type scikit-learn classifies.

        **fit_params : dict
            Further parameters passed to ``estimator.fit``.

        Returns
        -------
        self : object
            The fitted wrapper.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        y = column_or_1d(
            check_array(y, ensure_2d=False, dtype=None, input_name="y"), warn=True
        )
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, y_index, **fit_params)
        inner = np.asarray(self.estimator_.classes_)
        if inner.dtype.kind not in "iu" or not np.isin(
            inner, np.arange(len(self.classes_))
        ).all():
            raise ValueError(
                "estimator must be fitted on the label indices 0.."
                f"{len(self.classes_) - 1}; its classes_ are {inner.tolist()!r}."
            )
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    def _transform(self, proba, X):
        out = np.zeros((len(proba), len(self.classes_)))
        out[:, np.asarray(self.estimator_.classes_)] = proba
        return out
