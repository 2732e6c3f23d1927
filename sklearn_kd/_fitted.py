"""The distilled estimators' classes and fitted attributes, in one place.

``fit`` sets the fitted attributes with :func:`set_fitted`
(``validate_data`` records the two feature attributes, as in every
scikit-learn estimator), and :mod:`sklearn_kd.persistence` saves and
restores the same lists. Each estimator class enters :data:`ESTIMATORS`
with :func:`register` where it is defined, so that the modules that read
fitted estimators (persistence, the ONNX converter, the compression report)
know the classes without importing the modules that fit them.
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


#: The distilled estimator classes by class name, filled by :func:`register`
#: when ``sklearn_kd`` is imported.
ESTIMATORS = {}


def register(cls):
    """Class decorator: enter a distilled estimator class in
    :data:`ESTIMATORS` under its name."""
    ESTIMATORS[cls.__name__] = cls
    return cls


def distilled_classes(task=None):
    """The registered estimator classes, as a tuple for ``isinstance``; only
    those of ``task`` (``"classification"`` or ``"regression"``) when given."""
    return tuple(
        cls for cls in ESTIMATORS.values() if task is None or cls._task == task
    )


def is_distilled(estimator, task=None):
    """Whether ``estimator`` is an instance of a registered estimator class
    (of ``task``, when given)."""
    return isinstance(estimator, distilled_classes(task))


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
