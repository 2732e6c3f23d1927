"""The fitted attributes of the distilled estimators, set in one place.

``fit`` sets them all with :func:`set_fitted` (``validate_data`` records
the two feature attributes, as in every scikit-learn estimator), and
:mod:`sklearn_kd.persistence` saves and restores the same lists.
"""

from __future__ import annotations

from skorch.history import History

#: Every fitted attribute of a DistilledClassifier.
CLASSIFIER_ATTRIBUTES = (
    "classes_",
    "n_features_in_",
    "feature_names_in_",
    "teacher_",
    "student_",
    "history_",
    "n_iter_",
    "teacher_stats_",
    "knowledge_params_",
    "architecture_",
    "architecture_scores_",
    "encoder_",
)


#: Every fitted attribute of a DistilledRegressor.
REGRESSOR_ATTRIBUTES = (
    "n_outputs_",
    "n_features_in_",
    "feature_names_in_",
    "teacher_",
    "student_",
    "history_",
    "n_iter_",
    "target_mean_",
    "target_scale_",
    "architecture_",
    "architecture_scores_",
    "encoder_",
)

#: The classifier's list, under the name it has always had.
FITTED_ATTRIBUTES = CLASSIFIER_ATTRIBUTES


def fitted_attributes(estimator):
    """The fitted attributes of ``estimator``'s class."""
    return type(estimator)._fitted_attributes


def set_fitted(estimator, **attributes):
    """Set the fitted attributes of a distilled estimator, all in one call.

    ``history_`` and ``n_iter_`` are read from ``student_``; every name must
    be one of the estimator's (:func:`fitted_attributes`).
    """
    if "history_" not in attributes:  # None until the net is initialised
        attributes["history_"] = attributes["student_"].history or History()
    attributes.setdefault("n_iter_", len(attributes["history_"]))
    unknown = set(attributes) - set(fitted_attributes(estimator))
    if unknown:
        raise ValueError(f"Not fitted attributes: {sorted(unknown)!r}.")
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator
