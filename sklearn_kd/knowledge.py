"""Teachers that keep only part of a teacher's knowledge.

Write one (already softened) teacher row as ``q = [q_c, (1 - q_c) * r]``:
``q_c`` is the confidence on the true class ``c`` and ``r`` the *shape* of the
remaining mass over the other ``K - 1`` classes. Following Tang et al.
("Understanding and Improving Knowledge Distillation", 2020), each knowledge
level is a teacher that keeps part of that information:

============  ==================================  ==================================
level         ``q_c``                             ``r`` (non-target shape)
============  ==================================  ==================================
``universe``  one constant (training-set mean)    uniform: label smoothing
``domain``    one constant                        class-level mean of ``r``
``instance``  per example                         uniform ("partial teacher")
``full``      per example                         per example: the teacher itself
============  ==================================  ==================================

All functions work on plain NumPy arrays in float64: ``proba`` of shape
``(n_samples, n_classes)`` whose rows are probability distributions and ``y``
of shape ``(n_samples,)`` holding integer class indices in ``[0, n_classes)``.
Rows must be non-negative and sum to one within :data:`ROW_SUM_ATOL`. Inputs
are never modified.

The usual workflow estimates the constants on the training rows once, then
builds the teacher of a level::

    params = fit_knowledge(q_T, y, n_classes)
    teacher = apply_knowledge(q_T, y, "domain", params)

Placebo teachers
----------------
A level's gain over ``universe`` mixes two things: the *information* it
carries about each row or each class, and the mere *shape* of its targets
(confidences that vary, non-target mass that is not uniform). A placebo keeps
the shape and destroys the information, so that comparing a level with its
placebo on your own data answers "does my teacher's gain come from what it
knows about these rows (or these classes)?":

- ``instance_shuffled`` (:func:`instance_shuffled_teacher`) keeps the
  distribution of ``q_c`` within each class (the confidences are permuted
  among the rows of the same class) with a uniform rest, as ``instance`` has;
  which row gets which confidence is random.
- ``domain_shuffled`` (:func:`domain_shuffled_teacher`) keeps one constant
  ``q_c`` and the class-level non-target shapes, as ``domain`` has, but
  relabels them by a random permutation of the classes without fixed
  points: the shapes are as far from uniform as before, and say nothing true
  about which class resembles which.

``instance - instance_shuffled`` measures instance-specific knowledge and
``domain - domain_shuffled`` class-relation knowledge.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._docstrings import fill_doc
from ._validation import (
    KNOWLEDGE_LEVELS,
    ROW_SUM_ATOL,
    check_choice,
    check_class_indices,
    check_fraction,
    check_probabilities,
)

__all__ = [
    "KNOWLEDGE_LEVELS",
    "ROW_SUM_ATOL",
    "apply_knowledge",
    "class_relation_information",
    "compose_teacher",
    "domain_shuffled_teacher",
    "domain_teacher",
    "fit_knowledge",
    "instance_shuffled_teacher",
    "instance_teacher",
    "non_target_shape",
    "true_class_confidence",
    "universe_teacher",
]

#: Documentation shared by the functions of this module.
_shared_doc = fill_doc(
    proba_y="""
    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Probability rows (non-negative, summing to one).
    y : array-like of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    """,
    teacher_y="""
    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Teacher probability rows (already softened if a temperature is used).
    y : array-like of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    """,
    confidence="""
    confidence : float in [0, 1], default=None
        The constant true-class confidence; ``None`` uses the mean of ``q_c``
        over the rows of ``proba``.
    """,
    random_state="""
    random_state : int, RandomState instance or None, default=None
        Draws the permutation. Pass an int for reproducible output across
        multiple function calls. See :term:`Glossary <random_state>`.
    """,
    example_teacher="""
    >>> import numpy as np
    >>> proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    >>> y = [0, 1]
    """,
)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _check_class_shapes(class_shapes, n_classes):
    class_shapes = check_probabilities(
        class_shapes, "class_shapes", n_columns=n_classes
    )
    if class_shapes.shape != (n_classes, n_classes):
        raise ValueError(
            f"class_shapes must have shape ({n_classes}, {n_classes}), got "
            f"{class_shapes.shape}."
        )
    diagonal = np.diag(class_shapes)
    if np.any(diagonal > ROW_SUM_ATOL):
        raise ValueError(
            "class_shapes must be zero on the diagonal (row c is the shape "
            f"over the classes other than c), got a largest diagonal entry of "
            f"{diagonal.max()!r}."
        )
    return class_shapes


def _uniform_shape(y, n_classes):
    shape = np.full((y.shape[0], n_classes), 1.0 / (n_classes - 1))
    shape[np.arange(y.shape[0]), y] = 0.0
    return shape


def _confidence(proba, y):
    return proba[np.arange(proba.shape[0]), y]


def _shape(proba, y):
    n_samples, n_classes = proba.shape
    rest = proba.copy()
    rest[np.arange(n_samples), y] = 0.0
    mass = rest.sum(axis=1, keepdims=True)
    has_mass = mass[:, 0] > 0
    shape = _uniform_shape(y, n_classes)
    shape[has_mass] = rest[has_mass] / mass[has_mass]
    return shape


def _compose(confidence, shape, y):
    proba = (1.0 - confidence)[:, None] * shape
    proba[np.arange(y.shape[0]), y] = confidence
    return proba


def _class_shapes(shape, y, n_classes):
    class_shapes = np.full((n_classes, n_classes), 1.0 / (n_classes - 1))
    np.fill_diagonal(class_shapes, 0.0)
    counts = np.bincount(y, minlength=n_classes)
    sums = np.zeros((n_classes, n_classes))
    np.add.at(sums, y, shape)
    seen = counts > 0
    class_shapes[seen] = sums[seen] / counts[seen, None]
    return class_shapes, counts


def _check_input(proba, y):
    proba = check_probabilities(proba, "proba")
    y = check_class_indices(y, proba.shape[0], proba.shape[1])
    return proba, y


# --------------------------------------------------------------------------
# decomposition
# --------------------------------------------------------------------------
def true_class_confidence(proba, y):
    """Probability each row assigns to its true class, ``q_c``.

    {proba_y}

    Returns
    -------
    confidence : ndarray of shape (n_samples,)
        ``proba[i, y[i]]``.

    Examples
    --------
    {example_teacher}
    >>> from sklearn_kd.knowledge import true_class_confidence
    >>> true_class_confidence(proba, y)
    array([0.7, 0.8])
    """
    proba, y = _check_input(proba, y)
    return _confidence(proba, y).copy()


def non_target_shape(proba, y):
    """Shape ``r`` of each row's mass over its non-target classes.

    ``r_k = q_k / sum_{j != c} q_j`` for ``k != c`` and ``r_c = 0``, so every
    row sums to one. A row with no mass outside its true class (a one-hot
    row) gets the uniform shape ``1 / (n_classes - 1)`` over the other
    classes.

    {proba_y}

    Returns
    -------
    shape : ndarray of shape (n_samples, n_classes)
        Zero at the true class; rows sum to one.

    See Also
    --------
    compose_teacher : Inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import non_target_shape
    >>> proba = np.array([[0.6, 0.3, 0.1], [0.0, 1.0, 0.0]])
    >>> non_target_shape(proba, [0, 1])
    array([[0.  , 0.75, 0.25],
           [0.5 , 0.  , 0.5 ]])
    """
    proba, y = _check_input(proba, y)
    return _shape(proba, y)


def compose_teacher(confidence, shape, y):
    """Build teacher rows ``[q_c, (1 - q_c) * r]`` from their two parts.

    Inverse of :func:`true_class_confidence` and :func:`non_target_shape`:
    ``compose_teacher(true_class_confidence(q, y), non_target_shape(q, y), y)``
    returns ``q`` up to rounding.

    Parameters
    ----------
    confidence : array-like of shape (n_samples,)
        True-class confidence ``q_c`` of each row, in ``[0, 1]``.
    shape : array-like of shape (n_samples, n_classes)
        Non-target shape ``r`` of each row: non-negative, zero at the true
        class (within :data:`ROW_SUM_ATOL`), rows summing to one.
    y : array-like of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Teacher rows; they sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import compose_teacher
    >>> shape = np.array([[0.0, 0.75, 0.25]])
    >>> compose_teacher([0.6], shape, [0])
    array([[0.6, 0.3, 0.1]])
    """
    shape = check_probabilities(shape, "shape")
    n_samples, n_classes = shape.shape
    y = check_class_indices(y, n_samples, n_classes)
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.shape != (n_samples,):
        raise ValueError(
            f"confidence must have shape ({n_samples},) (one value per row of "
            f"shape), got {confidence.shape}."
        )
    if not np.all((confidence >= 0) & (confidence <= 1)):
        raise ValueError(
            "confidence must hold values in [0, 1], got values in "
            f"[{np.nanmin(confidence)!r}, {np.nanmax(confidence)!r}]."
        )
    at_target = _confidence(shape, y)
    if np.any(at_target > ROW_SUM_ATOL):
        raise ValueError(
            "shape must be zero at the true class of each row, got "
            f"{at_target.max()!r} at row {int(np.argmax(at_target))}."
        )
    return _compose(confidence, shape, y)


# --------------------------------------------------------------------------
# knowledge levels
# --------------------------------------------------------------------------
def universe_teacher(proba, y, *, confidence=None):
    """Universe knowledge: one constant ``q_c``, uniform rest (label smoothing).

    {teacher_y}
    {confidence}

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        ``confidence`` on the true class, ``(1 - confidence) / (K - 1)`` on
        every other class. At ``T = 1`` distilling from it is label smoothing
        with ``eps = alpha * K * (1 - confidence) / (K - 1)``.

    Examples
    --------
    {example_teacher}
    >>> from sklearn_kd.knowledge import universe_teacher
    >>> universe_teacher(proba, y, confidence=0.9)
    array([[0.9 , 0.05, 0.05],
           [0.05, 0.9 , 0.05]])

    By default the constant is the mean true-class confidence, here 0.75:

    >>> universe_teacher(proba, y)
    array([[0.75 , 0.125, 0.125],
           [0.125, 0.75 , 0.125]])
    """
    proba, y = _check_input(proba, y)
    if confidence is None:
        confidence = float(_confidence(proba, y).mean())
    confidence = check_fraction(confidence, "confidence", allow_none=True)
    constant = np.full(y.shape[0], confidence)
    return _compose(constant, _uniform_shape(y, proba.shape[1]), y)


def domain_teacher(proba, y, *, confidence=None, class_shapes=None):
    """Domain knowledge: one constant ``q_c``, class-level non-target shape.

    Every row of true class ``c`` becomes ``[q, (1 - q) * R[c]]`` where ``q``
    is a constant and ``R[c]`` the mean non-target shape of the rows of class
    ``c``: class relationships are kept, instance-level information dropped.

    {teacher_y}
    {confidence}
    class_shapes : array-like of shape (n_classes, n_classes), default=None
        Row ``c`` is the non-target shape of class ``c``: zero on the
        diagonal, rows summing to one. ``None`` estimates it from ``proba``
        (see :func:`fit_knowledge`; a class without rows gets the uniform
        shape).

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        Rows sum to one; rows of the same true class are identical.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import domain_teacher
    >>> proba = np.array([[0.8, 0.2, 0.0], [0.6, 0.2, 0.2], [0.1, 0.9, 0.0]])
    >>> np.round(domain_teacher(proba, [0, 0, 1]), 4)
    array([[0.7667, 0.175 , 0.0583],
           [0.7667, 0.175 , 0.0583],
           [0.2333, 0.7667, 0.    ]])
    """
    proba, y = _check_input(proba, y)
    n_classes = proba.shape[1]
    if confidence is None:
        confidence = float(_confidence(proba, y).mean())
    confidence = check_fraction(confidence, "confidence", allow_none=True)
    if class_shapes is None:
        class_shapes, _ = _class_shapes(_shape(proba, y), y, n_classes)
    else:
        class_shapes = _check_class_shapes(class_shapes, n_classes)
    shape = class_shapes[y].copy()
    constant = np.full(y.shape[0], confidence)
    return _compose(constant, shape, y)


def instance_teacher(proba, y):
    """Instance knowledge: per-row ``q_c``, uniform rest ("partial teacher").

    Keeps how confident the teacher is on each example's true class and
    spreads the remaining ``1 - q_c`` evenly over the other ``K - 1``
    classes. At ``T = 1`` it gives the same true-class gradient as the full
    teacher (identity E6 of :ref:`theory`).

    {teacher_y}

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        Rows sum to one; ``teacher[i, y[i]] == proba[i, y[i]]``.

    Examples
    --------
    {example_teacher}
    >>> from sklearn_kd.knowledge import instance_teacher
    >>> instance_teacher(proba, y)
    array([[0.7 , 0.15, 0.15],
           [0.1 , 0.8 , 0.1 ]])
    """
    proba, y = _check_input(proba, y)
    return _compose(_confidence(proba, y), _uniform_shape(y, proba.shape[1]), y)


# --------------------------------------------------------------------------
# placebo teachers
# --------------------------------------------------------------------------
def _shuffle_within_classes(values, y, rng):
    """``values`` permuted at random among the rows of each class."""
    out = values.copy()
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        out[rows] = values[rows[rng.permutation(rows.size)]]
    return out


def _derangement(n_classes, rng):
    """A uniformly random permutation of ``range(n_classes)`` with no fixed
    point (rejection sampling: about ``e`` draws on average)."""
    while True:
        permutation = rng.permutation(n_classes)
        if not np.any(permutation == np.arange(n_classes)):
            return permutation


def instance_shuffled_teacher(proba, y, *, random_state=None):
    """Placebo of instance knowledge: ``q_c`` permuted within each class.

    Every row keeps a true-class confidence drawn *without replacement* from
    the confidences of the rows of its own class (a random permutation among
    them), with the remaining ``1 - q_c`` spread evenly over the other
    classes, as in :func:`instance_teacher`. Per class, the distribution of
    the confidences is exactly that of the ``instance`` teacher; which row
    gets which confidence carries no information about the row.

    Distilling from ``instance`` and from this placebo on the same rows,
    with the same ``temperature`` and ``alpha``, separates the gain due to
    instance-specific information (``instance - instance_shuffled``) from
    the gain of merely varying the targets' confidence.

    {teacher_y}
    {random_state}

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        Rows sum to one; ``sorted(teacher[y == c, c])`` equals
        ``sorted(proba[y == c, c])`` for every class ``c``.

    See Also
    --------
    instance_teacher : The level this placebo controls for.
    domain_shuffled_teacher : The placebo of domain knowledge.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import instance_shuffled_teacher
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    >>> teacher = instance_shuffled_teacher(proba, [0, 0, 1], random_state=1)
    >>> sorted(teacher[:2, 0].tolist()), teacher[2].tolist()
    ([0.6, 0.9], [0.3, 0.7])
    """
    proba, y = _check_input(proba, y)
    rng = check_random_state(random_state)
    confidence = _shuffle_within_classes(_confidence(proba, y), y, rng)
    return _compose(confidence, _uniform_shape(y, proba.shape[1]), y)


def domain_shuffled_teacher(
    proba, y, *, confidence=None, class_shapes=None, random_state=None
):
    """Placebo of domain knowledge: class relations relabelled at random.

    Draws a random permutation ``pi`` of the classes with no fixed point and
    gives every row of class ``c`` the teacher row
    ``[q, (1 - q) * R'[c]]`` with ``R'[c, k] = R[pi(c), pi(k)]``, where ``q``
    and ``R`` are the constant confidence and the class-level non-target
    shapes of :func:`domain_teacher`. The profiles are as far from uniform as
    ``R``'s (the same numbers, moved to other classes), but class ``c`` is now
    said to resemble the classes that ``pi(c)`` resembles: the class
    relations are wrong.

    Distilling from ``domain`` and from this placebo separates the gain due
    to true class relations (``domain - domain_shuffled``) from the gain of
    merely non-uniform non-target targets.

    {teacher_y}
    {confidence}
    class_shapes : array-like of shape (n_classes, n_classes), default=None
        The true class-level shapes ``R`` (zero on the diagonal, rows summing
        to one); ``None`` estimates them from ``proba`` as
        :func:`domain_teacher` does.
    {random_state}

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        Rows sum to one; rows of the same true class are identical.

    See Also
    --------
    domain_teacher : The level this placebo controls for.
    instance_shuffled_teacher : The placebo of instance knowledge.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import domain_shuffled_teacher
    >>> proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.6, 0.2], [0.1, 0.3, 0.6]])
    >>> np.round(domain_shuffled_teacher(proba, [0, 1, 2], random_state=0), 2)
    array([[0.6, 0.1, 0.3],
           [0.1, 0.6, 0.3],
           [0.2, 0.2, 0.6]])

    Class 0's rest now leans to class 2 (the teacher's leans to class 1).
    """
    proba, y = _check_input(proba, y)
    n_classes = proba.shape[1]
    rng = check_random_state(random_state)
    if confidence is None:
        confidence = float(_confidence(proba, y).mean())
    confidence = check_fraction(confidence, "confidence", allow_none=True)
    if class_shapes is None:
        class_shapes, _ = _class_shapes(_shape(proba, y), y, n_classes)
    else:
        class_shapes = _check_class_shapes(class_shapes, n_classes)
    permutation = _derangement(n_classes, rng)
    shuffled = class_shapes[np.ix_(permutation, permutation)]
    constant = np.full(y.shape[0], confidence)
    return _compose(constant, shuffled[y].copy(), y)


def fit_knowledge(proba, y, n_classes=None):
    """Estimate the constants of the knowledge levels on training rows.

    {teacher_y}
    n_classes : int, default=None
        Number of classes; must equal ``proba.shape[1]`` when given.

    Returns
    -------
    params : :class:`~sklearn.utils.Bunch`
        ``confidence`` (float): mean true-class confidence ``q_c``;
        ``class_shapes`` (ndarray of shape (n_classes, n_classes)): row ``c``
        is the mean non-target shape of the rows of class ``c`` (uniform over
        the other classes when class ``c`` has no rows), zero on the
        diagonal; ``class_counts`` (ndarray of shape (n_classes,)): rows per
        class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import fit_knowledge
    >>> proba = np.array([[0.8, 0.2, 0.0], [0.6, 0.2, 0.2], [0.1, 0.9, 0.0]])
    >>> params = fit_knowledge(proba, [0, 0, 1], 3)
    >>> round(params.confidence, 4)
    0.7667
    >>> np.round(params.class_shapes, 2)
    array([[0.  , 0.75, 0.25],
           [1.  , 0.  , 0.  ],
           [0.5 , 0.5 , 0.  ]])
    >>> params.class_counts
    array([2, 1, 0])
    """
    proba, y = _check_input(proba, y)
    n_found = proba.shape[1]
    if n_classes is not None and (
        isinstance(n_classes, bool)
        or not isinstance(n_classes, Integral)
        or n_classes != n_found
    ):
        raise ValueError(
            f"n_classes must be None or equal to the number of columns of "
            f"proba ({n_found}), got {n_classes!r}."
        )
    if proba.shape[0] == 0:
        raise ValueError("proba must have at least one row to fit, got 0.")
    class_shapes, counts = _class_shapes(_shape(proba, y), y, n_found)
    return Bunch(
        confidence=float(_confidence(proba, y).mean()),
        class_shapes=class_shapes,
        class_counts=counts,
    )


def class_relation_information(proba, y, groups=None):
    """How much the teacher says about which classes resemble which.

    The class-level non-target shapes ``R[c]`` (the mean over the rows of
    class ``c`` of each row's non-target shape ``r``, see
    :func:`fit_knowledge`) are compared with the uniform shape: the
    information a ``domain`` teacher passes on is ``KL(R[c] || U)``, 0 when
    every wrong class gets the same share. Measure it on the softened
    teacher (``q_T``) that the student will see: temperature flattens it.

    {teacher_y}
    groups : array-like of shape (n_classes,), default=None
        A group label per class (for example its super-class). When given,
        the information *among the other classes of the same group* is also
        returned: ``R[c]`` restricted to them, renormalised, against the
        uniform shape over them.

    Returns
    -------
    info : :class:`~sklearn.utils.Bunch`
        ``overall`` (float): mean over the classes with rows of
        ``KL(R[c] || U)`` in nats, ``U`` uniform over the ``K - 1`` other
        classes; ``per_class`` (ndarray of shape (n_classes,), NaN for a
        class without rows); with ``groups``, ``within_groups`` (float):
        the same mean restricted to the classes with at least two other
        classes in their group (NaN if none).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.knowledge import class_relation_information
    >>> proba = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1]])
    >>> info = class_relation_information(proba, [0, 1])
    >>> round(info.overall, 4)
    0.0294
    >>> print(round(float(info.per_class[0]), 6), info.per_class[2])
    0.0 nan
    """
    proba, y = _check_input(proba, y)
    n_classes = proba.shape[1]
    shapes, counts = _class_shapes(_shape(proba, y), y, n_classes)
    seen = counts > 0

    def kl_to_uniform(row):
        row = row / row.sum()
        positive = row > 0
        return float(np.sum(row[positive] * np.log(row[positive] * row.size)))

    per_class = np.full(n_classes, np.nan)
    others = ~np.eye(n_classes, dtype=bool)
    for c in np.flatnonzero(seen):
        per_class[c] = kl_to_uniform(shapes[c][others[c]])
    out = Bunch(overall=float(np.nanmean(per_class)), per_class=per_class)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n_classes,):
            raise ValueError(
                f"groups must have shape ({n_classes},) (one label per class), "
                f"got {groups.shape}."
            )
        within = []
        for c in np.flatnonzero(seen):
            mates = (groups == groups[c]) & others[c]
            if mates.sum() >= 2 and shapes[c][mates].sum() > 0:
                within.append(kl_to_uniform(shapes[c][mates]))
        out.within_groups = float(np.mean(within)) if within else float("nan")
    return out


def apply_knowledge(proba, y, level, params=None, *, random_state=None):
    """Build the teacher that keeps one level of knowledge.

    {teacher_y}
    level : {"full", "universe", "domain", "instance", "instance_shuffled", \
"domain_shuffled"}
        ``"full"`` returns a copy of ``proba``; see :data:`KNOWLEDGE_LEVELS`
        and the module docstring for the others. The last two are the
        placebos :func:`instance_shuffled_teacher` and
        :func:`domain_shuffled_teacher`.
    params : Bunch, default=None
        Output of :func:`fit_knowledge` (keys ``confidence`` and
        ``class_shapes``). ``None`` estimates them from ``proba`` and ``y``.
    random_state : int, RandomState instance or None, default=None
        Draws the permutation of the placebo levels; unused by the others.
        See :term:`Glossary <random_state>`.

    Returns
    -------
    teacher : ndarray of shape (n_samples, n_classes)
        Rows sum to one.

    Examples
    --------
    {example_teacher}
    >>> from sklearn_kd.knowledge import apply_knowledge, fit_knowledge
    >>> params = fit_knowledge(proba, y)
    >>> apply_knowledge(proba, y, "universe", params)
    array([[0.75 , 0.125, 0.125],
           [0.125, 0.75 , 0.125]])
    >>> apply_knowledge(proba, y, "instance")
    array([[0.7 , 0.15, 0.15],
           [0.1 , 0.8 , 0.1 ]])
    """
    check_choice(level, "level", KNOWLEDGE_LEVELS)
    proba, y = _check_input(proba, y)
    if level == "full":
        return proba.copy()
    if level == "instance":
        return instance_teacher(proba, y)
    if level == "instance_shuffled":
        return instance_shuffled_teacher(proba, y, random_state=random_state)
    confidence = class_shapes = None
    if params is not None:
        try:
            confidence = params["confidence"]
            class_shapes = params["class_shapes"]
        except (KeyError, TypeError, IndexError):
            raise ValueError(
                "params must be None or the Bunch returned by fit_knowledge "
                "(with keys 'confidence' and 'class_shapes'), got "
                f"{type(params).__name__}."
            ) from None
    if level == "universe":
        return universe_teacher(proba, y, confidence=confidence)
    if level == "domain_shuffled":
        return domain_shuffled_teacher(
            proba,
            y,
            confidence=confidence,
            class_shapes=class_shapes,
            random_state=random_state,
        )
    return domain_teacher(proba, y, confidence=confidence, class_shapes=class_shapes)


# The shared blocks are written in by a call, not a decorator: mutation
# testing (``make mutation``) leaves decorated functions unmutated.
for _documented in (
    true_class_confidence,
    non_target_shape,
    compose_teacher,
    universe_teacher,
    domain_teacher,
    instance_teacher,
    instance_shuffled_teacher,
    domain_shuffled_teacher,
    fit_knowledge,
    class_relation_information,
    apply_knowledge,
):
    _shared_doc(_documented)
del _documented
