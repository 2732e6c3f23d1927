"""Save and load a fitted distilled estimator without pickle.

``pickle`` and ``joblib`` round-trip a
:class:`~sklearn_kd.DistilledClassifier` or a
:class:`~sklearn_kd.DistilledRegressor` exactly, but loading a pickle runs
whatever code the file names. :func:`save` writes a zip archive with
exactly two members that :func:`load` reads without executing anything
from the file:

- ``estimator.json``: which of the two estimators it is, the plain-data
  parameters (numbers, strings, booleans, None and tuples of them),
  ``n_features_in_``, ``feature_names_in_``, the training history (each
  epoch's entries by default, see :func:`save`), the classifier's
  ``classes_``, ``teacher_stats_`` and ``knowledge_params_`` or the
  regressor's ``n_outputs_``, ``target_mean_`` and ``target_scale_``, and
  the student's architecture (with the features that have a missing
  indicator, when it handles missing values), and the columns and levels of
  the encoding of categorical columns (``encoder_``), which is rebuilt from
  them, as compact JSON;
- ``student.pt``: the student's ``state_dict`` written by :func:`torch.save`
  and read back with ``torch.load(..., weights_only=True)``, which refuses
  any pickled object other than tensors and plain containers.

What is not saved:

- the teacher (``teacher_`` is None after :func:`load`). Save a
  scikit-learn teacher separately, e.g. with ``skops.io.dump``;
- parameters holding objects (``teacher``, ``module``, ``callbacks``, an
  optimizer class, a ``joblib.Memory`` or ``RandomState``) or dicts whose
  keys are not strings (``class_weight={0: 2.0}``, whose keys JSON would
  turn into strings): the loaded estimator has their default values, listed
  in the archive under ``"params_not_saved"``. They only matter for
  refitting.

Every built-in student (``module=None``, any ``architecture``: an
:class:`~sklearn_kd.MLPStudent` or a :class:`~sklearn_kd.TabularStudent`
with its bin edges, encoding and residual blocks) is rebuilt from the
archive by the factory the estimator fits with. A custom student module
is never imported from a name in a file: pass its class (or an instance)
to ``load(path, module=...)``.

The loaded student lives on the CPU whatever ``device`` it was trained on;
its predictions equal the original's bit for bit. Its ``student_`` holds
the network for prediction only (no optimizer, criterion or callbacks);
``fit`` builds a new one, as it always does. Files written by earlier
versions (indented JSON, per-batch history) load as they are.
"""

from __future__ import annotations

import copy
import inspect
import io
import json
import pickle
import zipfile
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History
from torch import nn

from ._encoding import from_spec
from ._fitted import ESTIMATORS, is_distilled, set_fitted
from ._student import (
    ACTIVATIONS,
    ARCHITECTURES,
    MLPStudent,
    TabularStudent,
    make_student_module,
)
from ._training import prediction_net
from ._version import __version__

__all__ = ["load", "save", "without_teacher"]

#: The format tag of a file holding a DistilledClassifier; a file holding
#: another estimator is tagged ``"sklearn_kd."`` and its class name.
FORMAT = "sklearn_kd.DistilledClassifier"
_FORMAT_PREFIX = "sklearn_kd."
FORMAT_VERSION = 1
META_NAME = "estimator.json"
WEIGHTS_NAME = "student.pt"
DEFAULT_STUDENT = "sklearn_kd.MLPStudent"
TABULAR_STUDENT = "sklearn_kd.TabularStudent"
#: The classes of the built-in students, rebuilt without ``module=``.
BUILT_IN = (DEFAULT_STUDENT, TABULAR_STUDENT)

# numpy dtype kinds an array may have in a file.
_ARRAY_KINDS = "biufUO"
_SCALARS = (type(None), bool, int, float, str)
# fitted attributes that are not JSON: the student's weights go to
# WEIGHTS_NAME, the teacher is never saved.
_NOT_JSON = ("student_", "teacher_", "encoder_")
#: What :func:`save` may write of the training history.
HISTORY_OPTIONS = ("epochs", "full", "none")
#: Fitted attributes a file may lack: ``feature_names_in_`` (no names in
#: fit) and ``architecture_`` (written before the attribute existed).
_OPTIONAL = ("feature_names_in_", "architecture_", "architecture_scores_")


def save(estimator, path, *, history="epochs"):
    """Write a fitted distilled estimator to ``path`` without pickling it.

    The file takes about the student's weight bytes (its ``state_dict``)
    plus a few kilobytes of compressed metadata.

    Parameters
    ----------
    estimator : DistilledClassifier or DistilledRegressor
        A fitted estimator.
    path : str or path-like
        The file to write (a zip archive; ``.skd`` is a fine suffix). An
        existing file is overwritten.
    history : {"epochs", "full", "none"}, default="epochs"
        How much of ``history_`` to write: each epoch's entries (losses,
        duration, best-so-far flags) without skorch's per-batch records,
        which take most of a long training's history; everything; or
        nothing (the loaded ``history_`` is then empty, ``n_iter_`` is
        kept).

    Returns
    -------
    path : str or path-like
        ``path``, as given.

    Raises
    ------
    TypeError
        If ``estimator`` is neither a DistilledClassifier nor a
        DistilledRegressor, or its ``classes_`` hold labels other than
        numbers, strings and booleans.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import io, zipfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_kd import DistilledClassifier
    >>> from sklearn_kd.persistence import save
    >>> X, y = load_iris(return_X_y=True)
    >>> student = DistilledClassifier(alpha=0.0, max_epochs=2, random_state=0)
    >>> archive = save(student.fit(X, y), io.BytesIO())
    >>> sorted(zipfile.ZipFile(archive).namelist())
    ['estimator.json', 'student.pt']
    """
    _check_estimator(estimator)
    if history not in HISTORY_OPTIONS:
        raise ValueError(
            f"history must be one of {HISTORY_OPTIONS!r}; got {history!r}."
        )
    check_is_fitted(estimator)
    module_ = estimator.student_.module_
    if estimator.module is None and type(module_) is MLPStudent:
        student = {
            "class": DEFAULT_STUDENT,
            "architecture": "mlp",
            "hidden_layer_sizes": [
                layer.out_features
                for layer in module_.layers
                if isinstance(layer, nn.Linear)
            ][:-1],
            "activation": estimator.activation,
        }
    elif estimator.module is None and type(module_) is TabularStudent:
        student = {
            "class": TABULAR_STUDENT,
            "architecture": _tabular_architecture(module_),
            "hidden_layer_sizes": list(module_.hidden_layer_sizes),
            "activation": module_.activation,
            "bins": None
            if module_.bins is None
            else [[float(e) for e in edges] for edges in module_.bins],
        }
    else:
        cls = type(module_)
        student = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    if student["class"] in BUILT_IN and getattr(module_, "handles_missing", False):
        # absent: the student refuses NaN (and files written before
        # students handled missing values read the same)
        student["missing"] = [int(j) for j in module_.missing_index.tolist()]

    params, not_saved = {}, []
    for name, value in estimator.get_params(deep=False).items():
        encoded = _encode(value)
        if _is_plain(encoded) and _str_keys(value):
            params[name] = encoded
        else:
            not_saved.append(name)

    meta = {
        "format": _FORMAT_PREFIX + type(estimator).__name__,
        "format_version": FORMAT_VERSION,
        "sklearn_kd_version": __version__,
        "torch_version": torch.__version__,
        "params": params,
        "params_not_saved": not_saved,
        "student": student,
    }
    for name in type(estimator)._fitted_attributes:
        if name not in _NOT_JSON and hasattr(estimator, name):
            value = getattr(estimator, name)
            if name == "history_":
                value = _history_entries(value, history)
            meta[name] = _encode(value)
    if getattr(estimator, "encoder_", None) is not None:
        meta["encoder"] = estimator.encoder_.spec()
    weights = io.BytesIO()
    state = {k: v.detach().cpu().contiguous() for k, v in module_.state_dict().items()}
    torch.save(state, weights)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(META_NAME, json.dumps(meta, separators=(",", ":")))
        archive.writestr(WEIGHTS_NAME, weights.getvalue())
    return path


def _history_entries(history, mode):
    """The entries of ``history`` that :func:`save` writes (see its
    ``history``)."""
    if mode == "none":
        return []
    entries = list(history)
    if mode == "epochs":
        entries = [{k: v for k, v in row.items() if k != "batches"} for row in entries]
    return entries


def load(path, *, module=None):
    """Read an estimator written by :func:`save`, on the CPU.

    Nothing named in the file is imported or executed: the metadata is JSON
    and the weights are read with ``torch.load(..., weights_only=True)``.

    Parameters
    ----------
    path : str, path-like or binary file object
        A file written by :func:`save`.
    module : torch.nn.Module class or instance, default=None
        The student's module when it was not a built-in one (``module=None``
        at fit, whatever the ``architecture``): a class is instantiated as
        ``module(n_features_in_, n_classes)`` (``n_outputs_`` for a
        regressor), an instance is deep-copied;
        the saved weights are then loaded into it (the parameter names and
        shapes must match). Must be None for a built-in student.

    Returns
    -------
    estimator : DistilledClassifier or DistilledRegressor
        A fitted estimator of the saved class, whose predictions equal the
        saved one's. Its
        ``teacher_`` is None and parameters that held objects have their
        defaults (see the module docstring).

    Raises
    ------
    ValueError
        If the file is not an archive written by :func:`save` (other or
        extra members, a pickle holding anything but tensors, an unknown
        format version), or the weights do not fit the student.
    TypeError
        If ``module`` is not a torch module class or instance.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_kd import DistilledClassifier
    >>> from sklearn_kd.persistence import load, save
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> clf = DistilledClassifier(alpha=0.0, max_epochs=3,
    ...                           hidden_layer_sizes=(8,), random_state=0)
    >>> clf = clf.fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     restored = load(save(clf, os.path.join(tmp, "student.skd")))
    >>> restored.teacher_ is None, restored.n_features_in_
    (True, 4)
    >>> bool((restored.predict(X) == clf.predict(X)).all())
    True
    """
    meta, state = _read_archive(path)
    try:
        estimator, fitted = _parse_meta(meta)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _refuse(path, f"has invalid metadata: {exc!r}") from None
    student = meta["student"]
    if student.get("class") in BUILT_IN:
        if module is not None:
            raise ValueError(
                "module must be None for a file holding a built-in student "
                f"({student['class']}); got module={module!r}."
            )
    else:
        if module is None:
            raise ValueError(
                f"This file holds a custom student module {student.get('class')!r}; "
                "load never imports code named in a file, so pass "
                "module=<its class or an instance> to load."
            )
        if not (
            isinstance(module, nn.Module)
            or (inspect.isclass(module) and issubclass(module, nn.Module))
        ):
            raise TypeError(
                f"module must be a torch.nn.Module class or instance; got {module!r}."
            )
        estimator.module = module
    encoder = None
    if meta.get("encoder") is not None:
        try:
            encoder = from_spec(meta["encoder"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _refuse(path, f"has an invalid encoder: {exc!r}") from None
    module_ = make_student_module(
        module,
        fitted["n_features_in_"] if encoder is None else len(encoder.source_),
        _n_outputs(type(estimator), fitted),
        hidden_layer_sizes=tuple(student.get("hidden_layer_sizes", ())),
        activation=student.get("activation"),
        architecture=student.get("architecture", "mlp"),
        bins=student.get("bins"),
        missing=student.get("missing"),
    )
    try:
        module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The weights in {WEIGHTS_NAME} do not fit the student module "
            f"{type(module_).__name__}: {exc}"
        ) from None
    module_.eval()
    student_ = prediction_net(
        module_,
        estimator.get_params(deep=False),
        history=fitted["history_"],
        task=estimator._task,
    )
    return set_fitted(
        estimator, teacher_=None, student_=student_, encoder_=encoder, **fitted
    )


def _check_estimator(estimator):
    if not is_distilled(estimator):
        raise TypeError(
            "estimator must be a DistilledClassifier or a DistilledRegressor; "
            f"got {type(estimator).__name__}."
        )


def _n_outputs(cls, fitted):
    """The width of the student's output: one logit per class, or one value
    per target."""
    if cls._task == "classification":
        return len(fitted["classes_"])
    return fitted["n_outputs_"]


def _tabular_architecture(module_):
    """The ``architecture`` that builds a TabularStudent like ``module_``."""
    if module_.encoding == "piecewise":
        return "ple"  # the bins are saved: how they were found does not matter
    if module_.encoding == "periodic":
        return "periodic"
    return "resnet"


# --------------------------------------------------------------- reading
def _refuse(path, why):
    return ValueError(
        f"path must be a file written by sklearn_kd.persistence.save (a zip "
        f"with exactly {META_NAME!r} and {WEIGHTS_NAME!r}); {path!r} {why}"
    )


def _read_archive(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            if names != sorted([META_NAME, WEIGHTS_NAME]):
                raise _refuse(path, f"holds the members {names!r}.")
            meta_bytes = archive.read(META_NAME)
            weights = archive.read(WEIGHTS_NAME)
    except zipfile.BadZipFile:
        raise _refuse(path, "is not a zip archive.") from None
    try:
        meta = json.loads(meta_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"has an unreadable {META_NAME}: {exc}") from None
    if not isinstance(meta, dict) or _estimator_class(meta) is None:
        formats = [_FORMAT_PREFIX + name for name in ESTIMATORS]
        raise _refuse(path, f"has none of the format tags {formats!r}.")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            path,
            f"has format_version {meta.get('format_version')!r}; this "
            f"sklearn_kd reads version {FORMAT_VERSION}.",
        )
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise _refuse(
            path,
            f"has a {WEIGHTS_NAME} that torch.load(weights_only=True) refuses "
            f"(only tensors may be stored there): {exc}",
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise _refuse(path, f"has a {WEIGHTS_NAME} that is not a state_dict.")
    return meta, state


def _estimator_class(meta):
    """The registered estimator class that the format tag of ``meta`` names,
    or None."""
    tag = meta.get("format")
    if not isinstance(tag, str) or not tag.startswith(_FORMAT_PREFIX):
        return None
    return ESTIMATORS.get(tag[len(_FORMAT_PREFIX):])


def _parse_meta(meta):
    """The estimator with its parameters, and its fitted attributes (but the
    student and the teacher); any malformed entry raises."""
    student = meta["student"]
    architecture = None  # a custom module
    if student["class"] in BUILT_IN:
        sizes = student["hidden_layer_sizes"]
        if not all(isinstance(h, int) and h >= 1 for h in sizes):
            raise ValueError(f"bad hidden_layer_sizes {sizes!r}")
        if student["activation"] not in ACTIVATIONS:
            raise ValueError(f"bad activation {student['activation']!r}")
        architecture = student.get("architecture", "mlp")
        if (architecture == "mlp") != (student["class"] == DEFAULT_STUDENT) or (
            architecture not in ARCHITECTURES
        ):
            raise ValueError(f"bad architecture {architecture!r}")
        bins = student.get("bins")
        if architecture.startswith("ple") and not (
            isinstance(bins, list)
            and all(
                isinstance(edges, list)
                and len(edges) >= 2
                and all(isinstance(e, (int, float)) for e in edges)
                and np.all(np.isfinite(edges))
                and np.all(np.diff(edges) > 0)
                for edges in bins
            )
        ):
            raise ValueError(f"bad bins {bins!r}")
        missing = student.get("missing")
        if missing is not None and not (
            isinstance(missing, list)
            and all(
                isinstance(j, int) and not isinstance(j, bool) and j >= 0
                for j in missing
            )
        ):
            raise ValueError(f"bad missing {missing!r}")
    cls = _estimator_class(meta)
    estimator = cls(**{k: _decode(v) for k, v in meta["params"].items()})
    fitted = {
        name: _decode(meta[name])
        for name in cls._fitted_attributes
        if name not in _NOT_JSON and (name in meta or name not in _OPTIONAL)
    }
    # files written before ``architecture_`` existed: the stored student's
    fitted.setdefault("architecture_", architecture)
    if fitted["architecture_"] not in (None, *ARCHITECTURES):
        raise ValueError(f"bad architecture_ {fitted['architecture_']!r}")
    n_features = fitted["n_features_in_"]
    if isinstance(n_features, bool) or not isinstance(n_features, int):
        raise TypeError(f"n_features_in_ must be an int, got {n_features!r}")
    for name in ("classes_", "feature_names_in_"):
        if name in fitted and (
            not isinstance(fitted[name], np.ndarray) or fitted[name].ndim != 1
        ):
            raise TypeError(f"{name} must be a 1-d array, got {fitted[name]!r}")
    if cls._task == "regression":
        _check_target_statistics(fitted)
    fitted["history_"] = History(fitted["history_"])
    return estimator, fitted


def _check_target_statistics(fitted):
    """A regressor's ``n_outputs_`` is a positive int, and its target means
    and scales finite float arrays of that length (the scales positive)."""
    n_outputs = fitted["n_outputs_"]
    if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 1:
        raise TypeError(f"n_outputs_ must be a positive int, got {n_outputs!r}")
    for name in ("target_mean_", "target_scale_"):
        value = fitted[name]
        if (
            not isinstance(value, np.ndarray)
            or value.dtype.kind != "f"
            or value.shape != (n_outputs,)
            or not np.all(np.isfinite(value))
        ):
            raise TypeError(
                f"{name} must be a finite float array of shape ({n_outputs},), "
                f"got {value!r}"
            )
    scale = fitted["target_scale_"]
    if not np.all(scale > 0):
        raise ValueError(f"target_scale_ must be positive, got {scale!r}")


# ------------------------------------------------------------ JSON codec
def _encode(value):
    """Plain data -> JSON, tagged so that :func:`_decode` restores the type.

    Tuples, arrays (with their dtype), Bunches, dicts and non-finite floats
    are tagged; anything else that is not plain data is kept as its
    ``repr``, text that is never evaluated.
    """
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Bunch):
        return {"bunch": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Real | Integral):
        return float(value)
    return {"repr": repr(value)}


def _encode_array(array):
    values = array.tolist()
    if array.dtype.kind not in _ARRAY_KINDS or (
        array.dtype.kind == "O"
        and not all(isinstance(v, _SCALARS) for v in array.ravel().tolist())
    ):
        kinds = sorted({type(v).__name__ for v in array.ravel().tolist()})
        raise TypeError(
            "Arrays must hold numbers, strings or booleans to be saved; got "
            f"dtype {array.dtype} with values of types {kinds}."
        )
    return {"dtype": array.dtype.str, "values": values}


def _str_keys(value):
    """Whether every dict in ``value`` has string keys, which JSON keeps
    (``class_weight={0: 2.0}`` would come back as ``{"0": 2.0}``)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _str_keys(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_str_keys(v) for v in value)
    return True


def _is_plain(encoded):
    """Whether ``encoded`` holds no ``repr`` of an object."""
    if isinstance(encoded, list):
        return all(_is_plain(v) for v in encoded)
    if isinstance(encoded, dict):
        if "repr" in encoded:
            return False
        return all(_is_plain(v) for v in encoded.values())
    return True


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "tuple" in value:
        return tuple(_decode(v) for v in value["tuple"])
    if "float" in value:
        return float(value["float"])
    if "bunch" in value:
        return Bunch(**{k: _decode(v) for k, v in value["bunch"].items()})
    if "dict" in value:
        return {k: _decode(v) for k, v in value["dict"].items()}
    if "dtype" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"unsupported array dtype {dtype}")
        if dtype.kind == "O":
            values = value["values"]
            array = np.empty(len(values), dtype=object)
            array[:] = values
            return array
        return np.asarray(value["values"], dtype=dtype)
    if "repr" in value:
        return value["repr"]
    raise ValueError(f"Unknown entry in the file's metadata: {sorted(value)!r}.")


def without_teacher(estimator, *, training_state=False):
    """A copy of a fitted distilled estimator that holds what prediction needs.

    The copy predicts exactly as ``estimator`` does; its ``teacher``
    parameter and ``teacher_`` attribute are None, so pickling it (or
    ``joblib.dump``) stores the student, not the teacher's trees. Unless
    ``training_state=True``, it holds no training state either: its
    ``student_`` is a net with the trained ``module_`` only (no optimizer
    and its moment estimates, no criterion, no initialised callbacks, which
    may hold a copy of the best weights) and ``history_`` is empty
    (``n_iter_`` is kept). Every other fitted attribute and every parameter
    is kept. ``estimator`` itself is left unchanged. For a file format that
    runs no code on loading, use :func:`sklearn_kd.persistence.save`, which
    never stores the teacher either.

    Parameters
    ----------
    estimator : DistilledClassifier or DistilledRegressor
        A fitted estimator.
    training_state : bool, default=False
        Keep ``history_`` and the whole skorch net (optimizer state,
        callbacks) as ``estimator`` has them.

    Returns
    -------
    student : DistilledClassifier or DistilledRegressor
        The copy; refitting it needs a teacher again (``set_params``).

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn_kd import DistilledClassifier
    >>> from sklearn_kd.persistence import without_teacher
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> clf = DistilledClassifier(RandomForestClassifier(50, random_state=0),
    ...                           max_epochs=2, hidden_layer_sizes=(8,),
    ...                           random_state=0).fit(X, y)
    >>> small = without_teacher(clf)
    >>> saved = len(pickle.dumps(clf)) - len(pickle.dumps(small))
    >>> saved > 0.9 * len(pickle.dumps(clf.teacher_))  # the forest is gone
    True
    >>> hasattr(small.student_, "optimizer_"), len(small.history_)
    (False, 0)
    >>> bool((small.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    _check_estimator(estimator)
    check_is_fitted(estimator)
    shallow = copy.copy(estimator)
    shallow.teacher = None
    shallow.teacher_ = None
    if not training_state:
        net = prediction_net(
            estimator.student_.module_,
            estimator.get_params(deep=False),
            device=estimator.student_.device,
            task=estimator._task,
        )
        shallow.student_ = net
        shallow.history_ = net.history_
    return copy.deepcopy(shallow)
