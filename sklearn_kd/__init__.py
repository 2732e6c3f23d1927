"""sklearn_kd: knowledge distillation for scikit-learn."""

from . import losses
from ._distilled import DistilledClassifier
from ._student import MLPStudent
from ._teacher import OverconfidentTeacherWarning
from ._version import __version__

__all__ = [
    "DistilledClassifier",
    "MLPStudent",
    "OverconfidentTeacherWarning",
    "losses",
    "__version__",
]
