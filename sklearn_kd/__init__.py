"""sklearn_kd: knowledge distillation for scikit-learn."""

from ._version import __version__

__all__ = ["__version__"]
