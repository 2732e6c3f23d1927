"""Save and load a fitted :class:`~sklearn_kd.DistilledClassifier` without pickle.

``pickle`` and ``joblib`` round-trip a DistilledClassifier exactly, but
loading a pickle runs whatever code the file names. :func:`save` writes a
zip archive with exactly two members that :func:`load` reads without
executing anything from the file:

- ``estimator.json``: the plain-data parameters (numbers, strings, booleans,
  None and tuples of them), ``classes_``, ``n_features_in_``,
  ``feature_names_in_``, the training history, ``teacher_stats_``,
  ``knowledge_params_`` and the student's architecture;
- ``student.pt``: the student's ``state_dict`` written by :func:`torch.save`
  and read back with ``torch.load(..., weights_only=True)``, which refuses
  any pickled object other than tensors and plain containers.

What is not saved:

- the teacher (``teacher_`` is None after :func:`load`). Save a
  scikit-learn teacher separately, e.g. with ``skops.io.dump``;
- parameters holding objects (``teacher``, ``module``, ``callbacks``, an
  optimizer class, a ``joblib.Memory`` or ``RandomState``): the loaded
  estimator has their default values, listed in the archive under
  ``"params_not_saved"``. They only matter for refitting.

The default :class:`~sklearn_kd.MLPStudent` is rebuilt from the archive.
A custom student module is never imported from a name in a file: pass its
class (or an instance) to ``load(path, module=...)``.

The loaded student lives on the CPU whatever ``device`` it was trained on;
its predictions equal the original's bit for bit.
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

from ._distilled import DistilledClassifier
from ._net import DistillationNet
from ._student import ACTIVATIONS, MLPStudent
from ._version import __version__
from .losses import DistillationLoss

__all__ = ["load", "save"]

FORMAT = "sklearn_kd.DistilledClassifier"
FORMAT_VERSION = 1
META_NAME = "estimator.json"
WEIGHTS_NAME = "student.pt"
DEFAULT_STUDENT = "sklearn_kd.MLPStudent"

# numpy dtype kinds that classes_ and feature_names_in_ may have in a file.
_ARRAY_KINDS = "biufUO"
_SCALARS = (type(None), bool, int, float, str)


def save(estimator, path):
    """Write a fitted DistilledClassifier to ``path`` without pickling it.

    Parameters
    ----------
    estimator : DistilledClassifier
        A fitted estimator.
    path : str or path-like
        The file to write (a zip archive; ``.skd`` is a fine suffix). An
        existing file is overwritten.

    Returns
    -------
    path : str or path-like
        ``path``, as given.

    Raises
    ------
    TypeError
        If ``estimator`` is not a DistilledClassifier, or its ``classes_``
        hold labels other than numbers, strings and booleans.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load : Read the file back.

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
    ...     path = save(clf, os.path.join(tmp, "student.skd"))
    ...     restored = load(path)
    >>> bool((restored.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    if not isinstance(estimator, DistilledClassifier):
        raise TypeError(
            f"estimator must be a DistilledClassifier; got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    module_ = estimator.student_.module_
    if estimator.module is None and type(module_) is MLPStudent:
        student = {
            "class": DEFAULT_STUDENT,
            "hidden_layer_sizes": [
                layer.out_features
                for layer in module_.layers
                if isinstance(layer, nn.Linear)
            ][:-1],
            "activation": estimator.activation,
        }
    else:
        cls = type(module_)
        student = {"class": f"{cls.__module__}.{cls.__qualname__}"}

    params, not_saved = {}, []
    for name, value in estimator.get_params(deep=False).items():
        encoded = _encode_param(value)
        if encoded is _NOT_DATA:
            not_saved.append(name)
        else:
            params[name] = encoded

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_kd_version": __version__,
        "torch_version": torch.__version__,
        "params": params,
        "params_not_saved": not_saved,
        "student": student,
        "classes_": _encode_array(estimator.classes_, "classes_"),
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": (
            _encode_array(estimator.feature_names_in_, "feature_names_in_")
            if hasattr(estimator, "feature_names_in_")
            else None
        ),
        "history_": _to_json(list(estimator.history_)),
        "teacher_stats_": _to_json(estimator.teacher_stats_),
        "knowledge_params_": _to_json(estimator.knowledge_params_),
    }
    weights = io.BytesIO()
    state = {k: v.detach().cpu() for k, v in module_.state_dict().items()}
    torch.save(state, weights)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(META_NAME, json.dumps(meta, indent=1))
        archive.writestr(WEIGHTS_NAME, weights.getvalue())
    return path


def load(path, *, module=None):
    """Read a DistilledClassifier written by :func:`save`, on the CPU.

    Nothing named in the file is imported or executed: the metadata is JSON
    and the weights are read with ``torch.load(..., weights_only=True)``.

    Parameters
    ----------
    path : str, path-like or binary file object
        A file written by :func:`save`.
    module : torch.nn.Module class or instance, default=None
        The student's module when it was not the default
        :class:`~sklearn_kd.MLPStudent`: a class is instantiated as
        ``module(n_features_in_, n_classes)``, an instance is deep-copied;
        the saved weights are then loaded into it (the parameter names and
        shapes must match). Must be None for the default student.

    Returns
    -------
    estimator : DistilledClassifier
        A fitted estimator whose predictions equal the saved one's. Its
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
        parsed = _parse_meta(meta)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _refuse(path, f"has invalid metadata: {exc!r}") from None
    n_features = parsed["n_features_in_"]
    classes = parsed["classes_"]
    estimator = parsed["estimator"]
    student = meta["student"]
    if student.get("class") == DEFAULT_STUDENT:
        if module is not None:
            raise ValueError(
                "module must be None for a file holding the default MLPStudent; "
                f"got module={module!r}."
            )
        module_ = MLPStudent(
            n_features,
            len(classes),
            hidden_layer_sizes=tuple(student["hidden_layer_sizes"]),
            activation=student["activation"],
        )
    else:
        if module is None:
            raise ValueError(
                f"This file holds a custom student module {student.get('class')!r}; "
                "load never imports code named in a file, so pass "
                "module=<its class or an instance> to load."
            )
        if inspect.isclass(module) and issubclass(module, nn.Module):
            module_ = module(n_features, len(classes))
        elif isinstance(module, nn.Module):
            module_ = copy.deepcopy(module)
        else:
            raise TypeError(
                f"module must be a torch.nn.Module class or instance; got {module!r}."
            )
        estimator.module = module
    try:
        module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"The weights in {WEIGHTS_NAME} do not fit the student module "
            f"{type(module_).__name__}: {exc}"
        ) from None

    estimator.classes_ = classes
    estimator.n_features_in_ = n_features
    if parsed["feature_names_in_"] is not None:
        estimator.feature_names_in_ = parsed["feature_names_in_"]
    estimator.teacher_ = None
    estimator.history_ = parsed["history_"]
    estimator.n_iter_ = len(estimator.history_)
    estimator.teacher_stats_ = parsed["teacher_stats_"]
    estimator.knowledge_params_ = parsed["knowledge_params_"]
    estimator.student_ = _inference_net(estimator, module_)
    return estimator


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
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _refuse(path, f"has no {FORMAT!r} format tag.")
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


def _parse_meta(meta):
    """Decode the JSON metadata; any malformed entry raises."""
    n_features = meta["n_features_in_"]
    if isinstance(n_features, bool) or not isinstance(n_features, int):
        raise TypeError(f"n_features_in_ must be an int, got {n_features!r}")
    student = meta["student"]
    if student["class"] == DEFAULT_STUDENT:
        sizes = student["hidden_layer_sizes"]
        if not all(isinstance(h, int) and h >= 1 for h in sizes):
            raise ValueError(f"bad hidden_layer_sizes {sizes!r}")
        if student["activation"] not in ACTIVATIONS:
            raise ValueError(f"bad activation {student['activation']!r}")
    names = meta["feature_names_in_"]
    return {
        "estimator": DistilledClassifier(
            **{k: _decode_param(v) for k, v in meta["params"].items()}
        ),
        "n_features_in_": n_features,
        "classes_": _decode_array(meta["classes_"], "classes_"),
        "feature_names_in_": (
            None if names is None else _decode_array(names, "feature_names_in_")
        ),
        "history_": History(_from_json(meta["history_"])),
        "teacher_stats_": _from_json(meta["teacher_stats_"]),
        "knowledge_params_": _from_json(meta["knowledge_params_"]),
    }


def _inference_net(estimator, module_):
    """A fitted skorch net around ``module_``, on the CPU, ready to predict."""
    net = DistillationNet(
        module=module_,
        criterion=DistillationLoss(
            loss=estimator.loss,
            temperature=estimator.temperature,
            alpha=estimator.alpha,
            tckd_weight=estimator.tckd_weight,
            nckd_weight=estimator.nckd_weight,
            scale_t2=estimator.scale_t2,
            teacher_format="softened",
        ),
        train_split=None,
        device="cpu",
        predict_nonlinearity=None,
    )
    net.initialize()
    net.module_.eval()
    return net


# ------------------------------------------------------------ JSON codec
class _NotData:
    def __repr__(self):
        return "<not plain data>"


_NOT_DATA = _NotData()


def _encode_param(value):
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not np.isfinite(value):
            return _NOT_DATA
        return value
    if isinstance(value, tuple | list):
        items = [_encode_param(v) for v in value]
        if any(v is _NOT_DATA or isinstance(v, dict | list) for v in items):
            return _NOT_DATA
        return {"tuple": items} if isinstance(value, tuple) else items
    return _NOT_DATA


def _decode_param(value):
    if isinstance(value, dict):
        return tuple(value["tuple"])
    return value


def _encode_array(array, name):
    array = np.asarray(array)
    values = array.tolist()
    if array.ndim != 1 or array.dtype.kind not in _ARRAY_KINDS:
        raise TypeError(
            f"{name} must be a 1-d array of numbers, strings or booleans to "
            f"be saved; got dtype {array.dtype} and shape {array.shape}."
        )
    if array.dtype.kind == "O" and not all(isinstance(v, _SCALARS) for v in values):
        kinds = sorted({type(v).__name__ for v in values})
        raise TypeError(
            f"{name} must hold numbers, strings or booleans to be saved; got "
            f"values of types {kinds}."
        )
    return {"dtype": array.dtype.str, "values": values}


def _decode_array(encoded, name):
    dtype = np.dtype(encoded["dtype"])
    if dtype.kind not in _ARRAY_KINDS:
        raise ValueError(f"{name} in the file has an unsupported dtype {dtype}.")
    values = encoded["values"]
    if dtype.kind == "O":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return np.asarray(values, dtype=dtype)


def _to_json(value):
    """Bunch/dict/list/ndarray/numpy scalars -> JSON-able, tagged."""
    if isinstance(value, Bunch):
        return {"bunch": {k: _to_json(v) for k, v in value.items()}}
    if isinstance(value, dict):
        return {"dict": {str(k): _to_json(v) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        return {"ndarray": _to_json(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Real | Integral):
        return float(value)
    return {"repr": repr(value)}  # kept as text, never evaluated


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "bunch" in value:
        return Bunch(**{k: _from_json(v) for k, v in value["bunch"].items()})
    if "dict" in value:
        return {k: _from_json(v) for k, v in value["dict"].items()}
    if "ndarray" in value:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in _ARRAY_KINDS or dtype.kind == "O":
            dtype = None
        return np.asarray(_from_json(value["ndarray"]), dtype=dtype)
    if "float" in value:
        return float(value["float"])
    if "repr" in value:
        return value["repr"]
    raise ValueError(f"Unknown entry in the file's metadata: {sorted(value)!r}.")


from ._compression import without_teacher  # noqa: E402

__all__ += ["without_teacher"]
