"""Checks and helpers shared by the distilled estimators.

Each function checks one thing about the data or a parameter and says, when
it fails, what was received and what to do instead; none of them fits or
modifies anything.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from numbers import Integral

import joblib
import numpy as np
import sklearn
import torch
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter
from skorch.callbacks import BatchScoring, EpochScoring, PassthroughScoring

from ._threads import SMALL_WORK, thread_scope
from .augment import AUGMENTERS

#: Packages whose frames stand between a user's call and ``fit``: warnings
#: skip them to point at the user's own line.
#: The dtypes X may have to skip ``validate_data`` at prediction.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

INTERNAL_PACKAGES = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sklearn, joblib)
) + (os.path.dirname(__file__) + os.sep,)


def native_threads(fit):
    """Run ``fit`` under an explicit ``n_threads`` for every thread pool.

    With an integer ``n_threads`` the teacher's OpenMP and BLAS pools are
    capped too (see :mod:`sklearn_kd._threads`); with None nothing changes
    here, and the student's torch threads are chosen around its training.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with thread_scope(self.n_threads, SMALL_WORK, native=True):
            return fit(self, *args, **kwargs)

    return wrapper


def student_work(module, rows):
    """Multiply-adds of one pass of ``rows`` rows: rows times the weights."""
    return int(rows) * sum(p.numel() for p in module.parameters())


def check_class(value, base, name):
    if inspect.isclass(value) and not issubclass(value, base):
        raise TypeError(
            f"{name} must be a subclass of {base.__module__}.{base.__qualname__} "
            f"when given as a class; got {value!r}."
        )

def teacher_accepts_nan(teacher):
    """Whether a teacher accepts missing values (NaN) in ``X``.

    Read from scikit-learn's estimator tags (``input_tags.allow_nan``,
    through a :class:`~sklearn.frozen.FrozenEstimator`): True for the
    estimators that handle NaN natively, such as histogram gradient
    boosting and the forests. A scikit-learn estimator whose tags say no
    refuses NaN (False). A :class:`~sklearn.pipeline.Pipeline` (whose tags
    do not tell whether a step imputes) and any estimator from another
    library give None: their own fit on the rows with NaN decides.

    Parameters
    ----------
    teacher : estimator

    Returns
    -------
    accepts : bool or None
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    while isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    try:
        allow_nan = get_tags(teacher).input_tags.allow_nan
    except Exception:  # tags that cannot be read: let the fit decide
        return None
    if allow_nan:
        return True
    if isinstance(teacher, Pipeline) or not type(teacher).__module__.startswith(
        "sklearn."
    ):
        return None
    return False


#: Words of a teacher's error that point at the categorical columns of X.
CATEGORICAL_HINTS = ("convert", "string", "str ", "categor", "dtype", "object")


def teacher_name(teacher):
    """The class name of a teacher, through a FrozenEstimator."""
    from sklearn.frozen import FrozenEstimator

    while isinstance(teacher, FrozenEstimator):
        teacher = teacher.estimator
    return type(teacher).__name__


def source_columns(encoder, columns):
    """The columns of the user's X behind the student's ``columns``."""
    if encoder is None:
        return columns
    return np.unique(encoder.source_[columns])


def missing_message(estimator, name, missing, *, fit, refused=None):
    """Why ``X`` with NaN in the columns ``missing`` is refused, and what to
    do instead."""
    columns = [int(j) for j in missing[:5]]
    names = getattr(estimator, "feature_names_in_", None)
    where = (
        f"columns {[str(names[j]) for j in columns]!r}"
        if names is not None
        else f"feature indices {columns!r}"
    ) + (" and more" if len(missing) > 5 else "")
    impute = (
        "impute in front of this estimator, e.g. make_pipeline("
        f"SimpleImputer(add_indicator=True), {type(estimator).__name__}(...))"
    )
    if not fit:
        return (
            f"Input {name} contains NaN ({where}), which this student refuses: "
            "it was trained to, because its teacher does not accept missing "
            f"values (or its module is a custom one). {impute[0].upper()}"
            f"{impute[1:]}, or distil a teacher that accepts missing values."
        )
    if estimator.module is not None:
        why = (
            f"module={estimator.module!r} is a custom module, which receives "
            "the raw features and must not see NaN. Use module=None (the "
            f"built-in students handle missing values) or {impute}"
        )
    elif estimator.teacher is None:
        why = (
            "only teacher_proba was given, so no teacher vouches for rows "
            "with missing values. Pass the teacher itself "
            "(teacher=FrozenEstimator(model)) if it accepts NaN, or "
            f"{impute}"
        )
    else:
        teacher = teacher_name(estimator.teacher)
        detail = "" if refused is None else " (its fit refused them)"
        why = (
            f"the teacher {teacher} does not accept missing values{detail}. "
            f"Either {impute}, or distil a teacher that accepts missing "
            "values: the student then handles them itself"
        )
    return f"Input {name} contains NaN ({where}): {why}."


def available_devices():
    """The devices torch can train on in this process, as strings."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def device_problem(device):
    """Why torch cannot use ``device`` here, or None when it can."""
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "no CUDA GPU is available to torch on this machine"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"torch sees {count} CUDA GPU(s), numbered from 0"
        return None
    if device.type == "meta":
        return "the meta device holds no data to train on"
    if device.type == "mps" and not torch.backends.mps.is_available():
        return (
            "torch.backends.mps.is_available() is False (MPS needs an Apple "
            "GPU and a torch build with MPS)"
        )
    try:  # any other backend: can it hold a tensor?
        torch.empty(0, device=device)
    except Exception as exc:  # each backend raises its own type
        return f"torch cannot place a tensor there ({type(exc).__name__})"
    return None


def check_float32_range(X):
    """The student computes in float32: refuse X that would overflow it."""
    if X.dtype == np.float32 or not X.size:  # finite float32 is in range
        return
    limit = float(np.finfo(np.float32).max)
    biggest = max(float(np.nanmax(X, initial=0.0)), -float(np.nanmin(X, initial=0.0)))
    if biggest > limit:
        raise ValueError(
            "X must hold values within float32 range (|x| <= "
            f"{limit:.4g}) because the student computes in float32; got a "
            f"largest absolute value of {biggest:.4g}."
        )


def check_hidden_layer_sizes(hidden_layer_sizes):
    sizes = np.asarray(hidden_layer_sizes, dtype=object).ravel().tolist()
    if not all(
        isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a sequence of positive integers (one "
            f"width per hidden layer, () for none); got {hidden_layer_sizes!r}."
        )
    return tuple(int(h) for h in sizes)


#: What ``<name>__<arg>`` parameters set.
NESTED = {"teacher": "teacher", "augment": "augmenter"}

def nested_hint(name, value, arg):
    """How to give ``<name>__<arg>`` a value to set: an estimator there."""
    if name == "augment" and isinstance(value, str) and value in AUGMENTERS:
        cls = AUGMENTERS[value].__name__
        return (
            f"Pass augment={cls}() (from sklearn_kd.augment) instead of "
            f"augment={value!r}, e.g. GridSearchCV(DistilledClassifier(..., "
            f"augment={cls}()), {{'augment__{arg}': [...]}}), or search over "
            f"instances: {{'augment': [{cls}({arg}=...), ...]}}."
        )
    if name == "teacher":
        return "Pass the teacher estimator, e.g. teacher=LogisticRegression()."
    return "Pass an augmenter instance, e.g. augment=MUNGE()."


#: Values of ``monitor`` (skorch's EarlyStopping, Checkpoint, ...) that
#: only a validation split records.
VALIDATION_MONITORS = ("valid_loss", "valid_loss_best")


def check_no_validation_callbacks(callbacks):
    """Refuse callbacks that read a validation split when there is none.

    skorch's scoring callbacks skip an epoch without validation data
    silently, and monitors of ``valid_loss`` fail after the teacher's fit.
    """
    for i, callback in enumerate(callbacks):
        if isinstance(callback, type):
            continue  # a class: skorch instantiates it with its defaults
        name = type(callback).__name__
        if isinstance(callback, (EpochScoring, BatchScoring, PassthroughScoring)):
            if callback.on_train:
                continue
            what = f"{name} scores the validation rows (on_train=False)"
            fix = f"score the training rows with {name}(..., on_train=True)"
        elif getattr(callback, "monitor", None) in VALIDATION_MONITORS:
            what = f"{name} monitors {callback.monitor!r}"
            fix = f"monitor {callback.monitor.replace('valid', 'train')!r}"
        else:
            continue
        raise ValueError(
            f"callbacks[{i}]: {what}, but early_stopping=False holds out no "
            "validation rows, so it would record nothing. Set "
            "early_stopping=True, which holds out validation_fraction of the "
            "rows (with n_iter_no_change=None it does not stop early), or "
            f"{fix}."
        )


def accepts_sample_weight(estimator):
    try:
        return has_fit_parameter(estimator, "sample_weight")
    except (TypeError, ValueError):
        return False


def caller_stacklevel():
    """``stacklevel`` of a warning raised by this function's caller that
    names the first frame outside sklearn_kd, scikit-learn and joblib: the
    user's own call to ``fit`` (or to the pipeline or search around it)."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(
        INTERNAL_PACKAGES
    ):
        frame = frame.f_back
        level += 1
    return level


def rng_devices(device):
    """The CUDA devices whose random state a fit forks."""
    if device.type == "cuda":
        return [device.index if device.index is not None else 0]
    return []
