"""Metrics of distillation: fidelity to the teacher and calibration.

Accuracy says how well a student predicts the labels; fidelity says how well
it copies its teacher (Stanton et al., 2021): the share of rows on which the
two agree (:func:`agreement`) and the mean Kullback-Leibler divergence from
the teacher's probabilities to the student's
(:func:`teacher_kl_divergence`). :func:`expected_calibration_error` measures
how far the student's confidence is from its accuracy.

Each metric is a stateless function of arrays. The ``*_score`` functions
have scikit-learn's scorer signature ``scorer(estimator, X, y=None)`` and
follow its convention that greater is better (hence the ``neg_`` prefix of
the losses), so they can be passed as ``scoring`` to
:class:`~sklearn.model_selection.GridSearchCV` or
:func:`~sklearn.model_selection.cross_validate`; :data:`SCORERS` lists them
by name.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr
from sklearn.utils.validation import check_is_fitted

from ._calibration import _check_weights, expected_calibration_error
from ._compression import compression_report
from ._docstrings import fill_doc
from ._teacher_step import align_columns
from ._validation import check_probabilities

__all__ = [
    "SCORERS",
    "agreement",
    "compression_report",
    "expected_calibration_error",
    "neg_expected_calibration_error_score",
    "neg_teacher_kl_divergence_score",
    "teacher_agreement_score",
    "teacher_kl_divergence",
]

#: Documentation shared by the scorers' docstrings.
_shared_doc = fill_doc(
    distillation_data="""
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_kd import DistilledClassifier
    >>> X, y = make_classification(n_samples=120, random_state=0)
    """,
)

# ---------------------------------------------------------------- checks
def _fitted_teacher(estimator):
    check_is_fitted(estimator)
    teacher = getattr(estimator, "teacher_", None)
    if teacher is None:
        raise ValueError(
            "This scorer compares an estimator with its fitted teacher_, but "
            f"{type(estimator).__name__} has teacher_=None (it was fitted with "
            "teacher_proba or without a teacher). Use agreement() or "
            "teacher_kl_divergence() on the arrays instead."
        )
    return teacher


# --------------------------------------------------------------- metrics
def agreement(y_pred, teacher_pred, *, sample_weight=None):
    """Share of rows on which the student predicts the teacher's label.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,)
        Labels predicted by the student.
    teacher_pred : array-like of shape (n_samples,)
        Labels predicted by the teacher on the same rows.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    score : float
        Weighted fraction of equal predictions, in [0, 1]; 1 is a perfect copy.

    See Also
    --------
    teacher_agreement_score : The same, as a scorer of a fitted estimator.
    teacher_kl_divergence : Fidelity of the probabilities, not the labels.

    Examples
    --------
    >>> from sklearn_kd.metrics import agreement
    >>> agreement([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    y_pred = np.asarray(y_pred)
    teacher_pred = np.asarray(teacher_pred)
    if y_pred.ndim != 1 or y_pred.shape != teacher_pred.shape or not len(y_pred):
        raise ValueError(
            "y_pred and teacher_pred must be non-empty 1-D arrays of the same "
            f"length; got shapes {y_pred.shape} and {teacher_pred.shape}."
        )
    weights = _check_weights(sample_weight, len(y_pred))
    return float(np.average(y_pred == teacher_pred, weights=weights))


def teacher_kl_divergence(teacher_proba, student_proba, *, sample_weight=None):
    """Mean Kullback-Leibler divergence ``KL(teacher || student)``.

    For each row, ``KL(q || p) = sum_k q_k log(q_k / p_k)`` with the teacher
    ``q`` and the student ``p``, in nats; the rows are averaged (weighted by
    ``sample_weight``). A class the teacher rules out (``q_k = 0``)
    contributes exactly 0, whatever ``p_k``: zeros of the teacher never give
    NaN. A class the student rules out while the teacher does not
    (``p_k = 0 < q_k``) makes the divergence infinite, as it is.

    Parameters
    ----------
    teacher_proba : array-like of shape (n_samples, n_classes)
        Teacher probabilities; rows sum to 1.
    student_proba : array-like of shape (n_samples, n_classes)
        Student probabilities, columns in the same class order.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    kl : float
        Non-negative; 0 when the student matches the teacher on every row.

    See Also
    --------
    scipy.stats.entropy : ``entropy(q, p)`` is the KL divergence of one row.
    neg_teacher_kl_divergence_score : The same, as a scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_kd.metrics import teacher_kl_divergence
    >>> q = np.array([[1.0, 0.0], [0.5, 0.5]])
    >>> p = np.array([[0.5, 0.5], [0.5, 0.5]])
    >>> round(teacher_kl_divergence(q, p), 4)  # (log 2 + 0) / 2
    0.3466
    >>> teacher_kl_divergence(q, q)
    0.0
    """
    q = check_probabilities(teacher_proba, "teacher_proba", min_rows=1)
    p = check_probabilities(
        student_proba, "student_proba", n_columns=q.shape[1], min_rows=1
    )
    if p.shape[0] != q.shape[0]:
        raise ValueError(
            "teacher_proba and student_proba must have the same number of rows; "
            f"got {q.shape[0]} and {p.shape[0]}."
        )
    weights = _check_weights(sample_weight, len(q))
    per_row = rel_entr(q, p).sum(axis=1)
    return float(max(np.average(per_row, weights=weights), 0.0))


# --------------------------------------------------------------- scorers
def teacher_agreement_score(estimator, X, y=None):
    """Scorer: agreement of a fitted estimator with its ``teacher_``.

    Parameters
    ----------
    estimator : fitted estimator with ``predict`` and ``teacher_``
        Typically a :class:`~sklearn_kd.DistilledClassifier` fitted with a
        teacher (not with ``teacher_proba``).
    X : array-like of shape (n_samples, n_features)
        Rows to compare the predictions on (a test fold in a search).
    y : ignored
        Present for the scorer signature.

    Returns
    -------
    score : float
        ``agreement(estimator.predict(X), estimator.teacher_.predict(X))``;
        greater is better.

    Examples
    --------
    {distillation_data}
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_kd.metrics import teacher_agreement_score
    >>> search = GridSearchCV(
    ...     DistilledClassifier(LogisticRegression(), max_epochs=5,
    ...                         hidden_layer_sizes=(8,), random_state=0),
    ...     {"alpha": [0.5, 1.0]}, scoring=teacher_agreement_score, cv=2,
    ... ).fit(X, y)
    >>> bool(0.0 <= search.best_score_ <= 1.0)
    True
    """
    teacher = _fitted_teacher(estimator)
    return agreement(estimator.predict(X), teacher.predict(X))


def neg_teacher_kl_divergence_score(estimator, X, y=None):
    """Scorer: minus the mean ``KL(teacher_ || estimator)`` on ``X``.

    The teacher's columns are aligned to the estimator's ``classes_`` by
    label.

    Parameters
    ----------
    estimator : fitted estimator with ``predict_proba`` and ``teacher_``
        Typically a :class:`~sklearn_kd.DistilledClassifier`.
    X : array-like of shape (n_samples, n_features)
        Rows to compare the probabilities on.
    y : ignored
        Present for the scorer signature.

    Returns
    -------
    score : float
        ``-teacher_kl_divergence(teacher_.predict_proba(X),
        estimator.predict_proba(X))``; greater (closer to 0) is better.

    Examples
    --------
    {distillation_data}
    >>> from sklearn_kd.metrics import neg_teacher_kl_divergence_score
    >>> clf = DistilledClassifier(LogisticRegression(), alpha=1.0, max_epochs=5,
    ...                           hidden_layer_sizes=(8,), random_state=0)
    >>> neg_teacher_kl_divergence_score(clf.fit(X, y), X) <= 0.0
    True
    """
    teacher = _fitted_teacher(estimator)

    student = estimator.predict_proba(X)
    q = align_columns(teacher.predict_proba(X), teacher.classes_, estimator.classes_)
    return -teacher_kl_divergence(q, student)


def neg_expected_calibration_error_score(estimator, X, y):
    """Scorer: minus the expected calibration error on ``(X, y)``.

    Uses :func:`expected_calibration_error` with its defaults (15 equal-width
    bins of top-label confidence) and ``labels=estimator.classes_``, so test
    folds that lack a class are scored correctly.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba`` and ``classes_``
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        True labels.

    Returns
    -------
    score : float
        ``-ECE``; greater (closer to 0) is better.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_kd.metrics import neg_expected_calibration_error_score
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> scores = cross_val_score(LogisticRegression(), X, y, cv=2,
    ...                          scoring=neg_expected_calibration_error_score)
    >>> bool(((scores <= 0) & (scores >= -1)).all())
    True
    """
    check_is_fitted(estimator)
    return -expected_calibration_error(
        y, estimator.predict_proba(X), labels=estimator.classes_
    )


# The shared blocks are written in by a call, not a decorator: mutation
# testing (``make mutation``) leaves decorated functions unmutated.
_shared_doc(teacher_agreement_score)
_shared_doc(neg_teacher_kl_divergence_score)

#: The scorers of this module by name, for ``scoring=`` of a search, e.g.
#: ``GridSearchCV(..., scoring={"accuracy": "accuracy", **SCORERS},
#: refit="accuracy")``.
SCORERS = {
    "teacher_agreement": teacher_agreement_score,
    "neg_teacher_kl_divergence": neg_teacher_kl_divergence_score,
    "neg_expected_calibration_error": neg_expected_calibration_error_score,
}

