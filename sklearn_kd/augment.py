"""Transfer sets: synthetic rows for the teacher to label.

A student that sees the teacher only at the training rows learns the
teacher's function there and guesses in between. A *transfer set* of
synthetic rows near the data, labelled by the teacher, shows the student
more of that function. Bucilă, Caruana & Niculescu-Mizil (KDD 2006, "Model
compression") proposed MUNGE for this; :class:`GaussianAugmenter` is the
simplest baseline.

Any object with ``fit(X)`` (returning itself) and
``sample(n_samples, random_state=None)`` (returning an array of shape
``(n_samples, n_features)``) can serve as an augmenter in
:class:`~sklearn_kd.DistilledClassifier` (``augment=...``).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from ._docstrings import fill_doc

__all__ = ["GaussianAugmenter", "MUNGE", "check_augmenter"]

#: Documentation shared by the augmenters.
_shared_doc = fill_doc(
    example_rows="""
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(50, 3))
    """,
)


def _column_scale(X):
    """Column standard deviations of the observed values; constant (or
    never observed) columns get 1."""
    scale = _observed_moments(X)[1]
    scale[~(scale > 0)] = 1.0
    return scale


def _observed_moments(X):
    """Column means and standard deviations, leaving NaN out; 0 for a
    column without any observed value."""
    if not np.isnan(X).any():
        return X.mean(axis=0), X.std(axis=0)
    observed = ~np.isnan(X)
    count = np.maximum(observed.sum(axis=0), 1)
    filled = np.where(observed, X, 0.0)
    mean = filled.sum(axis=0) / count
    centred = np.where(observed, X - mean, 0.0)
    return mean, np.sqrt((centred**2).sum(axis=0) / count)


class _RowAugmenter(BaseEstimator):
    """Synthetic rows drawn around the training rows that ``fit`` keeps.

    Subclasses set :attr:`_min_rows`, learn what they need from the rows in
    :meth:`_fit_rows` and draw in :meth:`_draw`.
    """

    #: Fewest training rows ``fit`` accepts.
    _min_rows = 1

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Keep the training rows and learn how to draw around them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training rows; :class:`MUNGE` needs at least 2.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted augmenter.
        """
        X = validate_data(
            self,
            X,
            dtype=np.float64,
            ensure_min_samples=self._min_rows,
            ensure_all_finite="allow-nan",
        )
        self.X_ = np.array(X, dtype=np.float64)
        self._fit_rows(_column_scale(self.X_))
        return self

    def sample(self, n_samples, random_state=None):
        """Draw synthetic rows.

        Parameters
        ----------
        n_samples : int
            Number of rows to draw (>= 0).
        random_state : int, RandomState instance or None, default=None
            Seed of the draw; None uses the estimator's ``random_state``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        n_samples = _check_n_samples(n_samples)
        rng = check_random_state(
            self.random_state if random_state is None else random_state
        )
        return self._draw(n_samples, rng)

    def _fit_rows(self, scale):
        """Learn from ``X_``, whose column scales are ``scale``."""

    def _draw(self, n_samples, rng):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values are drawn as such
        return tags


@_shared_doc
class MUNGE(_RowAugmenter):
    """MUNGE transfer-set generator (Bucilă, Caruana & Niculescu-Mizil, 2006).

    Each synthetic row starts as a copy of a training row ``e``; its nearest
    neighbour ``e'`` (Euclidean distance on standardised features) is found
    once in :meth:`fit`. Each feature ``a`` is then, with probability
    ``swap_probability``, replaced by a draw from a normal distribution
    centred on the neighbour's value ``e'_a`` with standard deviation
    ``|e_a - e'_a| / local_variance``. Features where the two rows agree stay
    put, so integer-coded and constant features keep their values when the
    neighbour shares them. Rows are drawn in passes over the training set,
    each pass visiting every training row once in a random order, until
    ``n_samples`` rows exist.

    Missing values (NaN) are kept as such: the neighbour search puts a
    missing value at its feature's mean and adds one missing indicator per
    feature that has NaN, and a feature that is missing in either row is
    swapped to the neighbour's value unchanged, so that its missingness
    moves with it (a synthetic row is missing where the row or the
    neighbour it took the feature from is).

    Parameters
    ----------
    swap_probability : float, default=0.5
        Probability ``p`` that a feature is moved to its neighbour's value,
        in [0, 1].
    local_variance : float, default=1.0
        The ``s`` of the original procedure, > 0: the draw's standard
        deviation is the distance between the two values divided by ``s``.
        Larger values keep the synthetic rows closer to the neighbour.

    Attributes
    ----------
    X_ : ndarray of shape (n_samples, n_features)
        The training rows (float64 copy).
    neighbors_ : ndarray of shape (n_samples,)
        Index of each row's nearest other row.
    n_features_in_ : int
        Number of features seen during fit.

    References
    ----------
    Bucilă, Caruana, Niculescu-Mizil. Model Compression. KDD 2006.

    Examples
    --------
    {example_rows}
    >>> from sklearn_kd.augment import MUNGE
    >>> munge = MUNGE(swap_probability=0.3).fit(X)
    >>> munge.sample(200, random_state=0).shape
    (200, 3)

    Features move only toward the neighbour's values, so with
    ``swap_probability=0`` every synthetic row is a training row:

    >>> X_new = MUNGE(swap_probability=0.0).fit(X).sample(5, random_state=0)
    >>> bool((X_new[:, None, :] == X[None, :, :]).all(axis=2).any(axis=1).all())
    True
    """

    _parameter_constraints: dict = {
        "swap_probability": [Interval(Real, 0, 1, closed="both")],
        "local_variance": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, swap_probability=0.5, local_variance=1.0, random_state=None):
        self.swap_probability = swap_probability
        self.local_variance = local_variance
        self.random_state = random_state

    # a row and its nearest neighbour
    _min_rows = 2

    def _fit_rows(self, scale):
        """Find each training row's nearest neighbour."""
        Z = (self.X_ - _observed_moments(self.X_)[0]) / scale
        missing = np.isnan(Z)
        if missing.any():
            indicators = missing[:, missing.any(axis=0)].astype(np.float64)
            Z = np.hstack([np.where(missing, 0.0, Z), indicators])
        nn = NearestNeighbors(n_neighbors=2).fit(Z)
        index = nn.kneighbors(Z, return_distance=False)
        # a duplicated row may list its twin first and itself second
        own = index[:, 0] == np.arange(len(Z))
        self.neighbors_ = np.where(own, index[:, 1], index[:, 0])

    def _draw(self, n_samples, rng):
        n = len(self.X_)
        n_passes = -(-n_samples // n)
        rows = [rng.permutation(n) for _ in range(n_passes)]
        rows = np.concatenate(rows)[:n_samples] if rows else np.zeros(0, int)
        base = self.X_[rows]
        other = self.X_[self.neighbors_[rows]]
        swap = rng.random_sample(base.shape) < self.swap_probability
        spread = np.abs(base - other) / self.local_variance
        # a missing value on either side: the neighbour's value, as it is
        spread[np.isnan(spread)] = 0.0
        moved = other + spread * rng.standard_normal(base.shape)
        return np.where(swap, moved, base)


@_shared_doc
class GaussianAugmenter(_RowAugmenter):
    """Training rows plus isotropic Gaussian noise on standardised features.

    Each synthetic row is a training row chosen at random, with each feature
    ``j`` shifted by ``N(0, (scale * std_j)^2)``. A missing value (NaN)
    stays missing.

    Parameters
    ----------
    scale : float, default=0.1
        Noise standard deviation in units of each feature's standard
        deviation, > 0.

    Attributes
    ----------
    X_ : ndarray of shape (n_samples, n_features)
        The training rows (float64 copy).
    std_ : ndarray of shape (n_features,)
        Feature standard deviations (1 for constant features).
    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    {example_rows}
    >>> from sklearn_kd.augment import GaussianAugmenter
    >>> GaussianAugmenter().fit(X).sample(10, random_state=0).shape
    (10, 3)
    """

    _parameter_constraints: dict = {
        "scale": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, scale=0.1, random_state=None):
        self.scale = scale
        self.random_state = random_state

    def _fit_rows(self, scale):
        self.std_ = scale

    def _draw(self, n_samples, rng):
        rows = rng.randint(len(self.X_), size=n_samples)
        noise = rng.standard_normal((n_samples, self.X_.shape[1]))
        return self.X_[rows] + noise * (self.scale * self.std_)


def _check_n_samples(n_samples):
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool):
        raise TypeError(
            f"n_samples must be a non-negative integer; got {n_samples!r}."
        )
    if n_samples < 0:
        raise ValueError(
            f"n_samples must be a non-negative integer; got {n_samples!r}."
        )
    return int(n_samples)


AUGMENTERS = {"munge": MUNGE, "gaussian": GaussianAugmenter}


@validate_params(
    {"augment": [None, str, object], "params": [None, dict]},
    prefer_skip_nested_validation=True,
)
def check_augmenter(augment, params=None):
    """The augmenter object named or given by ``augment``.

    Parameters
    ----------
    augment : {"munge", "gaussian"} or object
        A name, or an object with ``fit(X)`` and
        ``sample(n_samples, random_state)``. Objects are returned unchanged
        (callers clone them before fitting).
    params : dict, default=None
        Parameters of the named augmenter.

    Returns
    -------
    augmenter : object
        An unfitted augmenter.

    Examples
    --------
    >>> from sklearn_kd.augment import check_augmenter
    >>> check_augmenter("munge", {"swap_probability": 0.3})
    MUNGE(swap_probability=0.3)
    """
    if isinstance(augment, str):
        if augment not in AUGMENTERS:
            raise ValueError(
                f"augment must be one of {sorted(AUGMENTERS)}, None, or an "
                "object with fit(X) and sample(n_samples, random_state); got "
                f"{augment!r}."
            )
        return AUGMENTERS[augment](**(params or {}))
    if not (callable(getattr(augment, "fit", None)) and callable(
        getattr(augment, "sample", None)
    )):
        raise TypeError(
            "augment must be one of "
            f"{sorted(AUGMENTERS)}, None, or an object with fit(X) and "
            f"sample(n_samples, random_state); got {augment!r}."
        )
    return augment
