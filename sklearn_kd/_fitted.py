"""The fitted attributes of the distilled estimators, set in one place.

``fit`` sets them all with :func:`set_fitted` (``validate_data`` records
the two feature attributes, as in every scikit-learn estimator), and
:mod:`sklearn_kd.persistence` saves and restores the same lists.
"""

from __future__ import annotations

from skorch.history import History

#: Every fitted attribute of a DistilledClassifier. ``fit`` sets them all
#: in one place (:func:`set_fitted`; ``validate_data`` records the two
#: feature attributes, as in every scikit-learn estimator) and
#: :mod:`sklearn_kd.persistence` saves and restores this same list.
FITTED_ATTRIBUTES = (
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


def set_fitted(estimator, **attributes):
    """Set the fitted attributes of a DistilledClassifier, all in one call.

    ``history_`` and ``n_iter_`` are read from ``student_``; every name must
    be in :data:`FITTED_ATTRIBUTES`.
    """
    if "history_" not in attributes:  # None until the net is initialised
        attributes["history_"] = attributes["student_"].history or History()
    attributes.setdefault("n_iter_", len(attributes["history_"]))
    unknown = set(attributes) - set(FITTED_ATTRIBUTES)
    if unknown:
        raise ValueError(f"Not fitted attributes: {sorted(unknown)!r}.")
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator
