"""sklearn_kd: knowledge distillation for scikit-learn."""

from . import (
    augment,
    datasets,
    diagnostics,
    knowledge,
    losses,
    metrics,
    persistence,
    teachers,
)
from ._distilled import DistilledClassifier
from ._regressor import DistilledRegressor
from ._student import MLPStudent, TabularStudent
from ._teacher_targets import OverconfidentTeacherWarning
from ._version import __version__
from .datasets import make_difficulty_classification, make_hierarchical_classification
from .teachers import (
    EncodedLabelsTeacher,
    LabelSmoothedTeacher,
    NoisyTeacher,
    OracleTeacher,
    TemperatureScaledTeacher,
)

__all__ = [
    "DistilledClassifier",
    "DistilledRegressor",
    "EncodedLabelsTeacher",
    "LabelSmoothedTeacher",
    "MLPStudent",
    "TabularStudent",
    "augment",
    "NoisyTeacher",
    "OracleTeacher",
    "OverconfidentTeacherWarning",
    "TemperatureScaledTeacher",
    "datasets",
    "diagnostics",
    "knowledge",
    "losses",
    "metrics",
    "persistence",
    "make_difficulty_classification",
    "make_hierarchical_classification",
    "teachers",
    "__version__",
]
