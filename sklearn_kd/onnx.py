"""ONNX export of a fitted :class:`~sklearn_kd.DistilledClassifier` or
:class:`~sklearn_kd.DistilledRegressor`.

Importing this module registers a shape calculator and a converter for
each estimator with `skl2onnx <https://onnx.ai/sklearn-onnx/>`_, after
which ``skl2onnx.to_onnx(model, X[:1])`` converts a fitted estimator, or a
Pipeline ending in one, like any scikit-learn classifier or regressor.

A DistilledClassifier's ONNX model outputs the predicted label and the
class probabilities (as a list of dictionaries by default, as with every
skl2onnx classifier; pass ``options={id(clf): {"zipmap": False}}`` for a
plain matrix, and ``"nocl": True`` for class indices instead of labels).
Either estimator takes the option ``"fill_missing": False``, which leaves
out the replacement of NaN by the training means (see
:func:`export_student`) for inputs known to hold none.

A DistilledRegressor's ONNX model outputs ``"variable"`` of shape
``(n_samples, n_outputs_)``, as skl2onnx's regressors do (one column for a
single output, where ``predict`` returns a 1-D array): the student's
standardised outputs times ``target_scale_`` plus ``target_mean_``.

float64 input (a float64 array, or a DataFrame of float64 columns) is cast
to float32 inside the model, as the student computes in float32. The
dictionaries of the default ZipMap output then hold float32 probabilities,
because ONNX's ZipMap accepts no other type; with ``zipmap=False`` or
``"columns"`` the probabilities take the input's type. A regressor's
output takes the input's type too: with float64 input, the student's
outputs are cast to float64 before they are scaled, as ``predict`` does.

A DataFrame becomes one ONNX input per column, which skl2onnx joins for a
Pipeline; a bare estimator, like skl2onnx's own classifiers, takes one
input: convert it with ``X[:1].to_numpy()`` (unless it encodes
categorical columns itself, below: it then takes the DataFrame's columns).

The student network is exported with :func:`torch.onnx.export` (the
TorchScript-based exporter, which needs no extra package) and its graph is
inlined into the converted model, missing-value handling included (``IsNaN``
and ``Where``). A student that one-hot encodes a DataFrame's categorical
columns itself (``encoder_``) is converted from one input per column, as
``skl2onnx.to_onnx(model, frame[:1])`` declares them (text columns as
strings), with ``ai.onnx.ml.OneHotEncoder`` nodes in front of the network.
The default students export this way; a custom ``module`` whose operations
ONNX cannot express is refused with a :class:`ValueError` naming the module
and torch's reason.

This module knows the estimator classes from the registry that
``sklearn_kd`` fills when it is imported (which ``import sklearn_kd.onnx``
does first); it does not import the modules that fit them.

Needs the ``onnx`` extra: ``pip install sklearn_kd[onnx]`` (skl2onnx, onnx
and onnxruntime to run the result).

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> import skl2onnx
>>> import sklearn_kd.onnx  # registers the converter
>>> from sklearn.datasets import make_classification
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sklearn_kd import DistilledClassifier
>>> X, y = make_classification(n_samples=100, n_features=5, random_state=0)
>>> X = X.astype(np.float32)
>>> clf = DistilledClassifier(alpha=0.0, max_epochs=3, hidden_layer_sizes=(8,),
...                           random_state=0)
>>> pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
>>> onx = skl2onnx.to_onnx(pipe, X[:1], options={id(clf): {"zipmap": False}})
>>> sess = ort.InferenceSession(onx.SerializeToString(),
...                             providers=["CPUExecutionProvider"])
>>> label, proba = sess.run(None, {"X": X})
>>> bool(np.abs(proba - pipe.predict_proba(X)).max() < 1e-5)
True
"""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_numpy_type,
    )
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_kd.onnx needs skl2onnx and onnx: pip install 'sklearn_kd[onnx]' "
        f"({exc})."
    ) from exc

from ._fitted import distilled_classes
from ._inference import prepare

__all__ = ["export_student"]

#: Highest ONNX opset the student's graph is exported at.
MAX_STUDENT_OPSET = 18


def export_student(estimator, opset=MAX_STUDENT_OPSET, fill_missing=True):
    """The student network of a fitted estimator as an ONNX model.

    Input ``"X"``: float32 features of shape ``(n_samples, n_features)``
    (with categorical columns, their encoding by ``encoder_``: numeric
    columns, then one-hot blocks); output ``"logits"``: the network's raw
    outputs, of shape ``(n_samples, n_classes)`` for a classifier (the
    logits) and ``(n_samples, n_outputs_)`` for a regressor (standardised
    predictions, before ``target_scale_`` and ``target_mean_``).

    Parameters
    ----------
    estimator : DistilledClassifier or DistilledRegressor
        A fitted estimator.
    opset : int, default=18
        ONNX opset of the exported graph.
    fill_missing : bool, default=True
        Whether the graph replaces NaN by the training means, as
        ``predict_proba`` does for a student that accepts missing values
        (an ``IsNaN`` and a ``Where`` node). False leaves them out: for
        inputs known to hold no NaN, one row predicts about 15 % faster in
        onnxruntime, and a row with NaN gets NaN outputs. A student with
        missing indicators (fitted on rows with NaN) always fills.

    Returns
    -------
    model : onnx.ModelProto

    Raises
    ------
    ValueError
        If torch cannot express the student's operations in ONNX.
    """
    import torch
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    # a built-in student exports its prepared form: the standardisation
    # folded into the first Gemm, the piecewise-linear encoding as one Gemm,
    # a Relu and a Min (see sklearn_kd._inference)
    module = prepare(estimator.student_.module_)
    if module is None:
        module = copy.deepcopy(estimator.student_.module_)
        if not fill_missing and getattr(module, "handles_missing", False):
            raise ValueError(
                "fill_missing=False needs a student that sklearn_kd can "
                f"prepare for prediction; {type(module).__name__} fills "
                "missing values inside its own forward pass. Leave "
                "fill_missing=True."
            )
    else:
        module = module.relu_form()
        module.export_fills = bool(fill_missing)
    module = module.to("cpu").eval()
    encoder = getattr(estimator, "encoder_", None)
    width = estimator.n_features_in_ if encoder is None else len(encoder.source_)
    example = torch.zeros(2, width, dtype=torch.float32)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's notices
            torch.onnx.export(
                module,
                (example,),
                buffer,
                input_names=["X"],
                output_names=["logits"],
                dynamic_axes={"X": {0: "N"}, "logits": {0: "N"}},
                opset_version=opset,
                dynamo=False,
            )
    except Exception as exc:
        raise ValueError(
            f"The student module {type(module).__name__} cannot be exported to "
            f"ONNX by torch.onnx.export, so this {type(estimator).__name__} "
            "cannot be converted. Use operations ONNX supports (or the default "
            f"student). torch said: {type(exc).__name__}: {exc}"
        ) from exc
    return onnx.load_from_string(buffer.getvalue())


def _check_encoder(estimator, inputs):
    """A student that encodes categorical columns itself is converted from
    one input per column of its DataFrame (as ``skl2onnx.to_onnx(model,
    frame[:1])`` declares them), text columns as strings; anything else is
    refused with the way out."""
    encoder = getattr(estimator, "encoder_", None)
    if encoder is None:
        return
    names = [str(c) for c in encoder.dtypes_.index]
    columns = [names[j] for j in encoder.categorical_]
    onehot = encoder.transformer_.named_transformers_["categorical"]
    why = None
    if len(inputs) != len(names):
        why = (
            f"it needs one input per column of X ({len(names)}, as "
            "skl2onnx.to_onnx(model, X[:1]) declares for a DataFrame whose "
            "categorical columns are of dtype object or string); got "
            f"{len(inputs)} input(s)"
        )
    else:
        for j, levels in zip(encoder.categorical_, onehot.categories_):
            if any(_is_missing(v) for v in levels):
                why = (
                    f"column {names[j]!r} has a missing level, which an ONNX "
                    "string input cannot express"
                )
            elif not _level_type(levels):
                why = f"column {names[j]!r} mixes text and numbers in its levels"
    if why is None:
        return
    name = type(estimator).__name__
    raise ValueError(
        f"This {name} one-hot encodes the categorical columns "
        f"{columns!r} itself (encoder_), and the ONNX converter cannot "
        f"export that encoding here: {why}. Encode them in a pipeline in "
        "front of it instead, which skl2onnx converts step by step, e.g.\n\n"
        "    from sklearn.compose import make_column_transformer\n"
        "    from sklearn.preprocessing import OneHotEncoder\n"
        "    from sklearn.pipeline import make_pipeline\n"
        "    model = make_pipeline(\n"
        "        make_column_transformer(\n"
        f"            (OneHotEncoder(handle_unknown='ignore'), {columns!r}),\n"
        "            remainder='passthrough'),\n"
        f"        {name}(teacher),\n"
        "    ).fit(X, y)\n"
    )


def _is_missing(value):
    return value is None or (isinstance(value, float) and value != value)


def _cast(scope, container, source, target, to):
    """A Cast node from ``source`` to ``target`` (ONNX type ``to``)."""
    container.add_node("Cast", source, target, to=to,
                       name=scope.get_unique_operator_name("Cast"))
    return target


def _level_type(levels):
    """``"strings"`` or ``"int64s"``: how the ONNX one-hot encoder names the
    levels of a column; None when they are neither."""
    if all(isinstance(v, str) for v in levels):
        return "strings"
    if all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in levels
    ):
        return "int64s"
    return None


def _encoded_input(scope, operator, container, encoder):
    """ONNX nodes computing ``encoder_.transform`` from one input per
    column; returns the name of the float32 matrix the student sees."""
    onehot = encoder.transformer_.named_transformers_["categorical"]
    parts = []
    for j in encoder.numeric_:
        column = operator.inputs[j].full_name
        parts.append(_cast(scope, container, column,
                           scope.get_unique_variable_name("numeric"),
                           TensorProto.FLOAT))
    for j, levels in zip(encoder.categorical_, onehot.categories_):
        column = operator.inputs[j].full_name
        kind = _level_type(levels)
        if kind == "int64s":
            column = _cast(scope, container, column,
                           scope.get_unique_variable_name("levels"),
                           TensorProto.INT64)
            values = [int(v) for v in levels]
        else:
            values = [str(v) for v in levels]
        encoded = scope.get_unique_variable_name("onehot3d")
        container.add_node(
            "OneHotEncoder",
            column,
            encoded,
            op_domain="ai.onnx.ml",
            name=scope.get_unique_operator_name("OneHotEncoder"),
            zeros=1,
            **{f"cats_{kind}": values},
        )
        shape = scope.get_unique_variable_name("shape")
        container.add_initializer(shape, TensorProto.INT64, [2], [-1, len(values)])
        flat = scope.get_unique_variable_name("onehot")
        container.add_node(
            "Reshape",
            [encoded, shape],
            flat,
            name=scope.get_unique_operator_name("Reshape"),
        )
        parts.append(_cast(scope, container, flat,
                           scope.get_unique_variable_name("onehot_f32"),
                           TensorProto.FLOAT))
    encoded = scope.get_unique_variable_name("encoded")
    container.add_node(
        "Concat",
        parts,
        encoded,
        axis=1,
        name=scope.get_unique_operator_name("Concat"),
    )
    return encoded


def _classifier_shape_calculator(operator):
    estimator = operator.raw_operator
    _check_encoder(estimator, operator.inputs)
    if getattr(estimator, "encoder_", None) is None:
        calculate_linear_classifier_output_shapes(operator)
    else:
        # one input per column: the outputs are those of a linear classifier
        N = operator.inputs[0].get_first_dimension()
        classes = np.asarray(estimator.classes_)
        operator.outputs[0].type = (
            Int64TensorType([N])
            if classes.dtype.kind in "iub"
            else StringTensorType([N])
        )
        operator.outputs[1].type.shape = [N, len(classes)]
    zipmap = operator.scope_inst.get_options(
        operator.raw_operator, dict(zipmap=True)
    )["zipmap"]
    probabilities = operator.outputs[1]
    if zipmap is True and not isinstance(probabilities.type, FloatTensorType):
        # ONNX's ZipMap takes float32 only: with float64 (or integer) input
        # the probabilities are the student's own float32 ones
        probabilities.type = FloatTensorType(probabilities.type.shape)


def _student_graph(scope, operator, container):
    """Inline the student's ONNX graph (after the encoding of categorical
    columns, if any, and a cast to float32); returns the name of its
    float32 output, of shape ``(n_samples, n_outputs)``."""
    estimator = operator.raw_operator
    _check_encoder(estimator, operator.inputs)
    encoder = getattr(estimator, "encoder_", None)
    X = operator.inputs[0]
    opset = min(container.target_opset, MAX_STUDENT_OPSET)
    fill = container.get_options(estimator, dict(fill_missing=True))["fill_missing"]
    graph = export_student(estimator, opset=opset, fill_missing=fill).graph

    names = {}

    def rename(name):
        if not name:
            return name
        if name not in names:
            names[name] = scope.get_unique_variable_name(f"student_{name}")
        return names[name]

    # the student computes in float32
    if encoder is not None:
        names[graph.input[0].name] = _encoded_input(scope, operator, container, encoder)
    elif guess_numpy_type(X.type) == np.float32:
        names[graph.input[0].name] = X.full_name
    else:
        _cast(scope, container, X.full_name, rename(graph.input[0].name),
              TensorProto.FLOAT)
    for init in graph.initializer:
        tensor = numpy_helper.from_array(numpy_helper.to_array(init))
        container.add_initializer(rename(init.name), tensor.data_type, None, tensor)
    for node in graph.node:
        if any(
            a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
            for a in node.attribute
        ):
            raise ValueError(
                "The student's ONNX graph holds control flow (a subgraph in "
                f"node {node.op_type}), which this converter does not inline."
            )
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        inputs = [rename(i) for i in node.input]
        while inputs and not inputs[-1]:  # omitted trailing optional inputs
            inputs.pop()
        if node.op_type == "Clip" and len(inputs) == 3 and not inputs[1]:
            # an omitted lower bound before an upper one
            inputs[1] = scope.get_unique_variable_name("clip_min")
            container.add_initializer(inputs[1], TensorProto.FLOAT, [], [-np.inf])
        if "" in inputs:
            raise ValueError(
                f"The student's ONNX graph omits an optional input of node "
                f"{node.op_type}, which this converter cannot inline."
            )
        container.add_node(
            node.op_type,
            inputs,
            [rename(o) for o in node.output],
            op_domain=node.domain,
            op_version=opset if node.domain in ("", "ai.onnx") else None,
            name=scope.get_unique_operator_name(f"student_{node.op_type}"),
            **attrs,
        )
    return rename(graph.output[0].name)


def _classifier_converter(scope, operator, container):
    estimator = operator.raw_operator
    label_out, proba_out = operator.outputs
    logits = _student_graph(scope, operator, container)

    proba_dtype = guess_numpy_type(proba_out.type)
    proba_f32 = (
        proba_out.full_name
        if proba_dtype == np.float32
        else scope.get_unique_variable_name("proba_f32")
    )
    container.add_node(
        "Softmax",
        logits,
        proba_f32,
        axis=1,
        name=scope.get_unique_operator_name("Softmax"),
    )
    if proba_f32 != proba_out.full_name:
        _cast(scope, container, proba_f32, proba_out.full_name,
              helper.np_dtype_to_tensor_dtype(np.dtype(proba_dtype)))

    classes = np.asarray(estimator.classes_)
    if container.get_options(estimator, dict(nocl=False))["nocl"]:
        classes = np.arange(len(classes))  # labels as class indices
    if classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes))):
        # the labels are the class indices: ArgMax writes them directly
        container.add_node(
            "ArgMax", logits, label_out.full_name, axis=1, keepdims=0,
            name=scope.get_unique_operator_name("ArgMax"),
        )
        return
    index = scope.get_unique_variable_name("argmax")
    container.add_node(
        "ArgMax",
        logits,
        index,
        axis=1,
        keepdims=0,
        name=scope.get_unique_operator_name("ArgMax"),
    )
    classes_name = scope.get_unique_variable_name("classes")
    if classes.dtype.kind in "iub":
        container.add_initializer(
            classes_name,
            TensorProto.INT64,
            [len(classes)],
            classes.astype(np.int64).tolist(),
        )
    else:
        container.add_initializer(
            classes_name,
            TensorProto.STRING,
            [len(classes)],
            [str(c).encode("utf-8") for c in classes],
        )
    container.add_node(
        "Gather",
        [classes_name, index],
        label_out.full_name,
        axis=0,
        name=scope.get_unique_operator_name("Gather"),
    )


def _regressor_shape_calculator(operator):
    """One output, ``(N, n_outputs_)``, of the input's float type (float32
    for any other input, as with skl2onnx's regressors)."""
    estimator = operator.raw_operator
    _check_encoder(estimator, operator.inputs)
    N = operator.inputs[0].get_first_dimension()
    kind = type(operator.inputs[0].type)
    if len(operator.inputs) > 1 or kind not in (FloatTensorType, DoubleTensorType):
        kind = FloatTensorType
    operator.outputs[0].type = kind([N, int(estimator.n_outputs_)])


def _regressor_converter(scope, operator, container):
    """The student's outputs times ``target_scale_`` plus ``target_mean_``,
    in the output's type (float64 arithmetic for float64 input, as
    ``predict`` computes)."""
    estimator = operator.raw_operator
    (out,) = operator.outputs
    outputs = _student_graph(scope, operator, container)
    dtype = np.dtype(guess_numpy_type(out.type))
    onnx_type = helper.np_dtype_to_tensor_dtype(dtype)
    if dtype != np.float32:
        outputs = _cast(scope, container, outputs,
                        scope.get_unique_variable_name("outputs_cast"), onnx_type)
    n_outputs = int(estimator.n_outputs_)
    scale = scope.get_unique_variable_name("target_scale")
    mean = scope.get_unique_variable_name("target_mean")
    container.add_initializer(
        scale, onnx_type, [n_outputs],
        np.asarray(estimator.target_scale_, dtype=dtype).ravel().tolist(),
    )
    container.add_initializer(
        mean, onnx_type, [n_outputs],
        np.asarray(estimator.target_mean_, dtype=dtype).ravel().tolist(),
    )
    scaled = scope.get_unique_variable_name("scaled")
    container.add_node("Mul", [outputs, scale], scaled,
                       name=scope.get_unique_operator_name("Mul"))
    container.add_node("Add", [scaled, mean], out.full_name,
                       name=scope.get_unique_operator_name("Add"))


_CONVERTERS = {
    "classification": dict(
        shape_fct=_classifier_shape_calculator,
        convert_fct=_classifier_converter,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False],
                 "fill_missing": [True, False]},
    ),
    "regression": dict(
        shape_fct=_regressor_shape_calculator,
        convert_fct=_regressor_converter,
        options={"fill_missing": [True, False]},
    ),
}



def _register_converters():
    """Register the converter of its task for each registered estimator."""
    for cls in distilled_classes():
        if cls._task in _CONVERTERS:
            update_registered_converter(
                cls, f"SklearnKD{cls.__name__}", **_CONVERTERS[cls._task]
            )


_register_converters()
