"""The student's forward pass, prepared once for prediction.

Training needs the student as it is: parameters with gradients, the
standardisation applied inside the forward pass (so that its gradients
reach the first layer), modules that switch between training and
evaluation. Prediction needs none of it. :func:`prepare` turns a fitted
built-in student into :class:`PreparedStudent`, the same function with
everything that does not depend on the rows computed once:

- the standardisation of an :class:`~sklearn_kd.MLPStudent` folded into its
  first layer (``W / s`` and ``b - (W / s) m``, the numbers its own forward
  pass computes on every call), unless its statistics are too far from zero
  for float32 (see :meth:`~sklearn_kd.MLPStudent.foldable`);
- the piecewise-linear encoding of a :class:`~sklearn_kd.TabularStudent` as
  one matrix product with an ``(n_features, n_bins)`` matrix (each column
  holds one number, its feature's slope for that bin) and one clamp to the
  per-bin bounds;
- contiguous float32 tensors without autograd, and no ``nn.Module`` calls:
  the forward pass is a loop of ``addmm`` and in-place activations;
- on the CPU, the same function in numpy
  (:meth:`PreparedStudent.numpy_logits_t`): the rows transposed with a row
  of ones (each first bias becomes a column of its weight), and each bin
  of an encoding computed as its feature's row, less the bin's edge,
  clamped, with its slope folded into the first layer, instead of the
  ``(n_features, n_bins)`` product whose columns hold one number each
  (measured on 1,000 rows of a 9-feature, 79-bin student with 25 hidden
  units, timed between its teacher's calls: 0.33 instead of 0.43
  milliseconds a ``predict_proba``). Each torch operation crosses the
  dispatcher, and the first matrix product after a pause (another model's
  prediction, an idle server) pays for torch's cold start: measured on
  1,000 rows of a threshold-encoded student, 150-220 microseconds against
  40-80 for numpy's, and on one row the whole call took 24 instead of 100
  microseconds (``python -m benchmarks.predict_overhead``).

A student of two classes needs only the difference of its two logits:
``predict_proba`` is the logistic function of it and ``predict`` its sign.
The numpy path computes that margin in one product with the difference of
the last layer's two rows (``has_margin``, ``numpy_logits_t(...,
margin=True)``), which saves a product, the bias of the second logit and
the subtraction.

The prepared student is also what :mod:`sklearn_kd.onnx` exports: the
smallest graph computing the student (a ``Gemm`` per layer, the
activations, and for the encoding one ``Gemm``, a ``Relu`` and a ``Min``:
see :meth:`PreparedStudent.relu_form`).

A student that handles missing values fills NaN with its training means
(one reduction finds whether a batch holds any) and appends its missing
indicators, as its own forward pass does; its exported graph fills too,
unless exported with ``fill_missing=False`` and without indicators.

Only students whose every tensor is understood are prepared (the exact
``state_dict`` keys of the built-in students); any other module, including
a built-in one that a later version extends, is called as it is, in
evaluation mode and without autograd.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch
from scipy.special import erf, expit
from torch import nn
from torch.nn import functional as F

from ._student import MLPStudent, TabularStudent
from ._threads import restore_blas_threads, set_blas_threads, torch_threads
from ._training import INFERENCE_BATCH_SIZE

__all__ = ["PreparedStudent", "plan_for", "prediction_cost", "prepare"]

#: The activations the built-in students use, as tensor functions.
_ACTIVATIONS = {
    nn.ReLU: torch.relu_,
    nn.Tanh: torch.tanh_,
    nn.Sigmoid: torch.sigmoid_,
    nn.GELU: F.gelu,
}


def _gelu(h):
    """The exact GELU, ``h * Phi(h)``, of a float32 array, in place."""
    cdf = erf(h * np.float32(1 / math.sqrt(2)))
    cdf += 1
    cdf *= 0.5
    h *= cdf
    return h


#: The same activations on numpy arrays, in place; ``zeros`` is a column of
#: zeros as tall as ``h`` (numpy's maximum against it runs about twice as
#: fast as against the scalar 0).
_NUMPY_ACTIVATIONS = {
    torch.relu_: lambda h, zeros: np.maximum(h, zeros, out=h),
    torch.tanh_: lambda h, zeros: np.tanh(h, out=h),
    torch.sigmoid_: lambda h, zeros: expit(h, out=h),
    F.gelu: lambda h, zeros: _gelu(h),
}
#: The multiply-adds one element of an element-wise numpy step costs as
#: much as, measured on 1,000 rows: a clamp of a (79, 1,000) array took
#: 17 microseconds, a (25, 80) @ (80, 1,000) product 62.
ELEMENT_COST = 8
#: The last layer runs one matrix-vector product per output up to this
#: many outputs, on at least this many rows (on a handful of rows the extra
#: numpy calls cost more than they save).
_PER_OUTPUT_MAX = 3
_PER_OUTPUT_MIN_ROWS = 64
#: From this many input columns, a student without an encoding (nor missing
#: indicators) multiplies the rows as they are by its first layer instead of
#: copying them transposed first: on 1,000 rows of 69 features and 25 units
#: the first layer took 86 instead of 124 microseconds, on 150 features 150
#: instead of 250; on 8 to 20 features the copy and its folded bias are
#: faster (31 against 46 microseconds on 8).
ROW_LAYOUT_MIN_INPUTS = 32
_ENCODING_KEYS = (
    "encoding_index",
    "encoding_weight",
    "encoding_bias",
    "encoding_min",
    "encoding_max",
)


class PreparedStudent(nn.Module):
    """A built-in student's forward pass for prediction only.

    ``logits = L_k(act(... act(L_1(encode(X)))))``: an optional input step
    (standardisation, or the piecewise-linear encoding as a matrix product
    and a clamp), then dense layers with one activation between them.

    Parameters
    ----------
    layers : list of (Tensor, Tensor)
        Weight ``(out, in)`` and bias ``(out,)`` of each dense layer.
    activation : callable
        Applied after every layer but the last (in place where torch has an
        in-place form).
    mean, scale : Tensor or None
        Explicit standardisation ``(X - mean) / scale`` when it could not
        be folded into the first layer.
    encoding : dict of str to Tensor or None
        ``matrix`` ``(n_features, n_bins)``, ``bias``, ``lower``, ``upper``
        ``(n_bins,)``: the piecewise-linear encoding
        ``clamp(X @ matrix + bias, lower, upper)``; with ``lower`` None, its
        ReLU form ``min(relu(X @ matrix + bias), upper)`` (see
        :meth:`relu_form`).
    """

    def __init__(
        self,
        layers,
        activation,
        mean=None,
        scale=None,
        encoding=None,
        fill=None,
        indicators=None,
    ):
        super().__init__()
        self.activation = activation
        # missing values: NaN replaced by ``fill`` (the training means), and
        # a 0/1 indicator of the features in ``indicators`` appended to the
        # encoded inputs
        self.fills = fill is not None
        self.n_indicators = 0 if indicators is None else int(indicators.numel())
        if self.fills:
            self.register_buffer("fill", _frozen(fill))
            self.register_buffer("indicator_index", indicators.detach().clone())
        for i, (weight, bias) in enumerate(layers):
            self.register_buffer(f"weight{i}", _frozen(weight))
            self.register_buffer(f"bias{i}", _frozen(bias))
        self.n_layers = len(layers)
        self.standardise = mean is not None
        if self.standardise:
            self.register_buffer("mean", _frozen(mean))
            self.register_buffer("scale", _frozen(scale))
        self.encode = encoding is not None
        # the encoding clamps below (lower bounds) or, in its ReLU form (see
        # relu_form), applies a ReLU; both clamp above when some bound is
        # finite
        self.relu_encoding = self.encode and encoding.get("lower") is None
        self.clamp_above = self.encode and bool(
            torch.isfinite(encoding["upper"]).any()
        )
        if self.encode:
            for name in ("matrix", "bias", "lower", "upper"):
                if encoding.get(name) is not None:
                    self.register_buffer(
                        f"encoding_{name}", _frozen(encoding[name])
                    )
        # the same tensors as the buffers, in the order the forward pass
        # reads them, without nn.Module's attribute lookup on every call:
        # the hidden layers as (bias, transposed weight) for
        # ``addmm(bias, h, weight.T)``, the last as (bias column, weight) for
        # ``addmm(bias, weight, h.T)``, which writes the logits transposed
        # (classes by rows): softmax and argmax over a short first axis of
        # a contiguous tensor are several times faster than over a short
        # last axis
        weights = [getattr(self, f"weight{i}") for i in range(self.n_layers)]
        biases = [getattr(self, f"bias{i}") for i in range(self.n_layers)]
        self.hidden = [(b, w.t()) for w, b in zip(weights[:-1], biases[:-1])]
        self.last = (biases[-1][:, None], weights[-1])

    def forward(self, X):
        if torch.onnx.is_in_onnx_export():
            return self._export_forward(X)
        return self.logits_t(X).t()

    def _filled(self, X, always):
        """``X`` with missing values filled, and the missing indicators (None
        without any). Rows are filled when the student fills and ``always``,
        it has indicators, or ``X`` holds a NaN (one sum finds out)."""
        indicators = None
        if self.fills and (always or self.n_indicators or torch.isnan(X.sum())):
            nan = torch.isnan(X)
            X = torch.where(nan, self.fill, X)
            if self.n_indicators:
                indicators = nan.index_select(1, self.indicator_index).to(X.dtype)
        return X, indicators

    def logits_t(self, X):
        """The logits of the rows ``X``, transposed: (classes, rows)."""
        X, indicators = self._filled(X, always=False)
        h = X
        if self.standardise:
            h = (h - self.mean) / self.scale
        if self.relu_encoding:
            h = torch.relu_(torch.addmm(self.encoding_bias, h, self.encoding_matrix))
            if self.clamp_above:
                h = torch.clamp_(h, max=self.encoding_upper)
        elif self.encode:
            h = torch.addmm(self.encoding_bias, h, self.encoding_matrix)
            h = torch.clamp_(h, self.encoding_lower, self.encoding_upper)
        if indicators is not None:
            h = torch.cat([h, indicators], dim=1)
        activation = self.activation
        for bias, weight_t in self.hidden:
            h = activation(torch.addmm(bias, h, weight_t))
        bias, weight = self.last
        return torch.addmm(bias, weight, h.t())

    def _arrays(self):
        """The numpy form of the forward pass, made on first use: see
        :meth:`numpy_logits_t`."""
        arrays = self.__dict__.get("_numpy")
        if arrays is None:
            with torch.no_grad():
                arrays = self._numpy_arrays()
            self.__dict__["_numpy"] = arrays
        return arrays

    def _numpy_arrays(self):
        """The arrays :meth:`numpy_logits_t` reads (float32, on the CPU).

        The rows run transposed, one column per row, with a row of ones
        appended: the first layer's bias is one more column of its weight.
        An encoded student's bins are rows of that array gathered by
        feature, less the bin's edge, clamped; each bin's slope goes into
        the first layer (see :meth:`numpy_logits_t`).
        """
        weights = [
            getattr(self, f"weight{i}").double().cpu().numpy()
            for i in range(self.n_layers)
        ]
        biases = [
            getattr(self, f"bias{i}").double().cpu().numpy()
            for i in range(self.n_layers)
        ]
        weight, bias = weights[0], biases[0].copy()
        n_inputs = weight.shape[1] - self.n_indicators
        arrays = dict(gather=None)
        if self.encode:
            matrix = self.encoding_matrix.double().cpu().numpy()
            n_features, n_bins = matrix.shape
            index = np.argmax(matrix != 0, axis=0)  # 0 for a column of zeros
            slope = matrix[index, np.arange(n_bins)]
            offset = self.encoding_bias.double().cpu().numpy()
            lower = (
                np.zeros(n_bins)
                if self.relu_encoding
                else self.encoding_lower.double().cpu().numpy()
            )
            upper = self.encoding_upper.double().cpu().numpy()
            # a bin clamp(s x + c, lo, up) is s clamp(x - e, lo / s, up / s)
            # with e = -c / s its edge (the bounds swapped when s < 0): its
            # slope goes into the first layer, and x - e is computed as it
            # is (exact near the edge), not s x + c; a bin of zero slope is
            # the constant clamp(c, lo, up), which goes into the bias
            flat = slope == 0
            safe = np.where(flat, 1.0, slope)
            edge = np.where(flat, 0.0, -offset / safe)
            with np.errstate(invalid="ignore"):
                first, second = lower / safe, upper / safe
            low = np.where(flat, -np.inf, np.where(slope < 0, second, first))
            high = np.where(flat, np.inf, np.where(slope < 0, first, second))
            bins = weight[:, :n_bins]
            bias += bins @ np.where(flat, np.clip(offset, lower, upper), 0.0)
            # the row of ones is gathered as one more bin, left as it is
            arrays.update(
                gather=np.append(index, n_features).astype(np.intp),
                edge=_column(np.append(edge, 0.0)),
                low=_column(np.append(low, -np.inf)),
                high=_column(np.append(high, np.inf)),
                clamp_below=bool(np.isfinite(low).any()),
                clamp_above=bool(np.isfinite(high).any()),
            )
            weight = np.hstack(
                [bins * np.where(flat, 0.0, slope), bias[:, None], weight[:, n_bins:]]
            )
        else:
            # wide rows as they are: ``X @ W.T + b``, no transposed copy
            # (the later layers read the result through a transposed view)
            if (
                n_inputs >= ROW_LAYOUT_MIN_INPUTS
                and not self.n_indicators
                and len(weights) > 1
            ):
                arrays["rows_first"] = (
                    np.ascontiguousarray(weight.T, dtype=np.float32),
                    bias.astype(np.float32),
                )
            weight = np.hstack(
                [weight[:, :n_inputs], bias[:, None], weight[:, n_inputs:]]
            )
        arrays["first"] = np.ascontiguousarray(weight, dtype=np.float32)
        # the later layers, each with the zeros its input's activation
        # compares against (numpy's maximum against a column of zeros is
        # about twice as fast as against the scalar 0)
        arrays["layers"] = [
            (
                np.ascontiguousarray(w, dtype=np.float32),
                _column(b),
                np.zeros((w.shape[1], 1), dtype=np.float32),
            )
            for w, b in zip(weights[1:], biases[1:])
        ]
        arrays["activation"] = _NUMPY_ACTIVATIONS[self.activation]
        # two outputs: the difference of their rows of the last layer, which
        # gives the margin ``logit_1 - logit_0`` in one product (float64
        # difference, then float32)
        arrays["margin"] = None
        if weights[-1].shape[0] == 2:
            last = weight if len(weights) == 1 else weights[-1]
            arrays["margin"] = (
                np.ascontiguousarray(last[1] - last[0], dtype=np.float32),
                None if len(weights) == 1
                else np.float32(biases[-1][1] - biases[-1][0]),
            )
        # few outputs of a wide layer: one matrix-vector product per output
        # written into the logits (about 2x faster than one matrix product
        # at 2 outputs of 100 or 240 inputs)
        arrays["per_output"] = weights[-1].shape[0] <= _PER_OUTPUT_MAX
        for name in ("fill", "indicator_index", "mean", "scale"):
            if name in self._buffers:
                arrays[name] = _numpy_view(self._buffers[name])
        return arrays

    def numpy_logits_t(self, X, finite=False, margin=False):
        """:meth:`logits_t` of a C-ordered float32 array of rows on the CPU,
        computed by numpy: the logits as a (classes, rows) float32 array;
        with ``margin``, for a student of two outputs, ``logit_1 - logit_0``
        as a (rows,) float32 array, from one product with the difference of
        the last layer's rows (see :meth:`has_margin`).

        The rows are transposed with a row of ones appended, so that every
        product is ``weight @ h`` with the first bias folded in as a column
        of the weight. An encoded student gathers each bin's feature row,
        subtracts the bin's edge and clamps it to the bin's bounds; each
        bin's slope is folded into the first layer. That replaces the
        ``(rows, features) @ (features, bins)`` product, whose every column
        holds a single number, by a copy of rows, and is closer to exact:
        near its edge, a value less the edge is computed without rounding.
        A student without an encoding or missing indicators and with at
        least :data:`ROW_LAYOUT_MIN_INPUTS` inputs multiplies the rows as
        they are instead (``X @ W.T + b``; copying wide rows transposed
        costs more than the bias it folds), and the later layers read the
        result through a transposed view.

        ``X`` is left as it is; ``finite``: it is known to hold no NaN (no
        sum is taken to find out). The BLAS library's thread count is the
        caller's (see :func:`~sklearn_kd._threads.set_blas_threads`).
        """
        a = self._arrays()
        n_rows = X.shape[0]
        indicators = None
        if self.fills and (
            self.n_indicators or (not finite and np.isnan(X.sum()))
        ):
            nan = np.isnan(X)
            X = np.where(nan, a["fill"], X)
            if self.n_indicators:
                indicators = nan[:, a["indicator_index"]].T.astype(np.float32)
        if self.standardise:
            X = (X - a["mean"]) / a["scale"]
        if "rows_first" in a:
            weight_t, bias = a["rows_first"]
            h = X @ weight_t
            h += bias
            return self._numpy_hidden(a, h.T, margin)
        h = np.empty((X.shape[1] + 1, n_rows), dtype=np.float32)
        h[:-1] = X.T
        h[-1] = 1.0
        if self.encode:
            h = h.take(a["gather"], axis=0)
            h -= a["edge"]
            if a["clamp_below"]:
                np.maximum(h, a["low"], out=h)
            if a["clamp_above"]:
                np.minimum(h, a["high"], out=h)
        if indicators is not None:
            h = np.concatenate([h, indicators])
        if not a["layers"]:
            if margin:
                return _numpy_margin(a["margin"], h)
            return self._numpy_last(a["first"], None, h, a["per_output"])
        return self._numpy_hidden(a, a["first"] @ h, margin)

    @property
    def has_margin(self):
        """Whether :meth:`numpy_logits_t` can give the margin (two
        outputs)."""
        return self._arrays()["margin"] is not None

    def _numpy_hidden(self, a, h, margin=False):
        """The layers after the first, from its output ``h`` (units, rows)."""
        layers = a["layers"]
        activation = a["activation"]
        for weight, bias, zeros in layers[:-1]:
            activation(h, zeros)
            h = weight @ h
            h += bias
        weight, bias, zeros = layers[-1]
        activation(h, zeros)
        if margin:
            return _numpy_margin(a["margin"], h)
        return self._numpy_last(weight, bias, h, a["per_output"])

    @staticmethod
    def _numpy_last(weight, bias, h, per_output):
        """``weight @ h + bias`` for the last layer (``bias`` None: folded)."""
        if per_output and h.shape[1] >= _PER_OUTPUT_MIN_ROWS:
            logits = np.empty((weight.shape[0], h.shape[1]), dtype=np.float32)
            for row, weights in zip(logits, weight):
                np.dot(weights, h, out=row)
        else:
            logits = weight @ h
        if bias is not None:
            logits += bias
        return logits

    @property
    def row_cost(self):
        """The cost of one row of :meth:`numpy_logits_t`, in multiply-adds.

        The matrix products' multiply-adds, plus :data:`ELEMENT_COST` for
        each element an element-wise step reads: the transposed rows, and
        for an encoded student each bin's copy, subtraction and clamps;
        each later layer's activation and bias.
        """
        a = self._arrays()
        n_sources = a["first"].shape[1] - self.n_indicators
        elements = 0
        if self.encode:
            n_gathered = a["gather"].size
            steps = 2 + a["clamp_below"] + a["clamp_above"]
            elements += steps * n_gathered
            n_sources = int(self.encoding_matrix.shape[0]) + 1
        if "rows_first" in a:  # no transposed copy; the bias added after
            elements += a["first"].shape[0]
        else:
            elements += n_sources
        products = a["first"].size
        for weight, _, _ in a["layers"]:
            products += weight.size
            elements += sum(weight.shape)
        return int(products + ELEMENT_COST * elements)

    def _export_forward(self, X):
        # the operations ONNX has single nodes for: Gemm, Max, Min, Relu and the
        # activations (in-place variants and addmm export less directly);
        # an exported graph fills missing values unless export_fills is False
        # (a student without missing indicators only)
        indicators = None
        if self.__dict__.get("export_fills", True) or self.n_indicators:
            X, indicators = self._filled(X, always=True)
        h = X
        if self.standardise:
            h = (h - self.mean) / self.scale
        if self.encode:
            h = F.linear(h, self.encoding_matrix.t(), self.encoding_bias)
            if self.relu_encoding:
                h = torch.relu(h)
            else:
                h = torch.maximum(h, self.encoding_lower)
            if self.clamp_above:
                h = torch.minimum(h, self.encoding_upper)
        if indicators is not None:
            h = torch.cat([h, indicators], dim=1)
        last = self.n_layers - 1
        for i in range(self.n_layers):
            h = F.linear(h, getattr(self, f"weight{i}"), getattr(self, f"bias{i}"))
            if i < last:
                h = _EXPORT_ACTIVATIONS[self.activation](h)
        return h


    def relu_form(self):
        """The same function with the encoding's lower bounds made ReLUs.

        Every bin of the piecewise-linear encoding is bounded below by 0 or
        not at all, and above by 1 or not at all. A bin bounded below by 0
        is ``min(relu(h), upper)``; the first bin of a feature,
        ``min(h, 1)``, is ``1 - relu(1 - h)``; a feature's only bin, ``h``
        itself, is ``relu(h) - relu(-h)``. The signs and the constant go into
        the encoding's matrix and bias and into the first dense layer, so
        that the encoding is a ``Gemm``, a ``Relu`` (which onnxruntime fuses
        into the ``Gemm``) and one ``Min`` instead of a ``Gemm``, a ``Max``
        and a ``Min``. Equal to this student up to float32 rounding.

        Writing the upper bound as ``relu(h) - relu(h - 1)`` too would drop
        the ``Min`` at the price of a second column per bin: measured on the
        cracker table, one row was as fast (1.82 against 1.87 times the
        teacher's graph) and 1,000 rows half as fast, so the ``Min`` stays.

        Returns
        -------
        prepared : PreparedStudent
            A new prepared student (this one when there is no encoding, or
            its bounds are not of that form).
        """
        if not self.encode or self.relu_encoding:
            return self
        lower, upper = self.encoding_lower, self.encoding_upper
        below = lower == 0
        first = torch.isneginf(lower) & (upper == 1)
        alone = torch.isneginf(lower) & torch.isposinf(upper)
        if not bool((below | first | alone).all()):
            return self
        matrix, bias = self.encoding_matrix, self.encoding_bias
        n_bins = bias.numel()
        # the first layer's columns: the encoded bins, then the indicators
        weight, first_bias = self.weight0[:, :n_bins], self.bias0
        indicator_weight = self.weight0[:, n_bins:]
        sign = torch.where(first, -1.0, 1.0)
        columns = [matrix * sign]
        biases = [torch.where(first, 1.0 - bias, bias)]
        uppers = [torch.where(first, torch.inf, upper)]
        weights = [weight * sign]
        # min(h, 1) = 1 - relu(1 - h): the constant goes to the layer's bias
        first_bias = first_bias + weight[:, first].sum(dim=1)
        if bool(alone.any()):  # h = relu(h) - relu(-h): one more column
            columns.append(-matrix[:, alone])
            biases.append(-bias[alone])
            uppers.append(torch.full_like(bias[alone], torch.inf))
            weights.append(-weight[:, alone])
        layers = [
            (torch.cat([*weights, indicator_weight], dim=1), first_bias),
            *[
                (getattr(self, f"weight{i}"), getattr(self, f"bias{i}"))
                for i in range(1, self.n_layers)
            ],
        ]
        encoding = dict(
            matrix=torch.cat(columns, dim=1),
            bias=torch.cat(biases),
            lower=None,
            upper=torch.cat(uppers),
        )
        return PreparedStudent(
            layers,
            self.activation,
            encoding=encoding,
            **self._missing_arguments(),
        )

    def _missing_arguments(self):
        if not self.fills:
            return {}
        return dict(fill=self.fill, indicators=self.indicator_index)


_EXPORT_ACTIVATIONS = {
    torch.relu_: torch.relu,
    torch.tanh_: torch.tanh,
    torch.sigmoid_: torch.sigmoid,
    F.gelu: F.gelu,
}


def _numpy_margin(margin, h):
    """``logit_1 - logit_0`` of the last layer's input ``h`` (units, rows)."""
    weight, bias = margin
    out = weight @ h
    if bias is not None:
        out += bias
    return out


def _numpy_view(tensor):
    """A tensor as a numpy array: sharing its memory on the CPU, a copy of
    it from another device (whose prepared student only needs the arrays
    for :attr:`PreparedStudent.row_cost`)."""
    return tensor.detach().cpu().numpy()


def _column(values):
    """A float32 column ``(n, 1)`` of ``values``."""
    return np.asarray(values, dtype=np.float32).reshape(-1, 1).copy()


def _frozen(tensor):
    """The tensor as contiguous float32 without autograd, on its device.

    Shares the tensor's storage when it already is one (the prepared
    student then takes no second copy of those weights; a change to them
    is seen by :meth:`InferencePlan.matches`, which prepares it again).
    """
    return tensor.detach().to(torch.float32).contiguous()


def _dense_layers(sequential):
    """The (weight, bias) pairs and the activation of a Linear/activation
    chain, or None when it holds anything else."""
    layers, activations = [], set()
    for i, layer in enumerate(sequential):
        expect_linear = i % 2 == 0
        if expect_linear and type(layer) is nn.Linear and layer.bias is not None:
            layers.append((layer.weight, layer.bias))
        elif not expect_linear and type(layer) in _ACTIVATIONS:
            if type(layer) is nn.GELU and layer.approximate != "none":
                return None
            activations.add(_ACTIVATIONS[type(layer)])
        else:
            return None
    if len(activations) > 1 or not layers or len(sequential) % 2 == 0:
        return None
    return layers, activations.pop() if activations else torch.relu_


def _expected_keys(module, extra):
    layer_keys = {
        f"layers.{i}.{name}"
        for i, layer in enumerate(module.layers)
        if type(layer) is nn.Linear
        for name in ("weight", "bias")
    }
    return {"mean", "scale", *extra, *layer_keys}


def prepare(module):
    """The prepared form of a built-in student, or None for any other.

    Parameters
    ----------
    module : torch.nn.Module
        A student, fitted.

    Returns
    -------
    prepared : PreparedStudent or None
        Computes ``module``'s logits up to float32 rounding; None when
        ``module`` is not an :class:`~sklearn_kd.MLPStudent` or a plain
        (not residual, not periodic) :class:`~sklearn_kd.TabularStudent`
        with exactly the built-in tensors.
    """
    kind = type(module)
    if kind not in (MLPStudent, TabularStudent):
        return None
    state = module.state_dict(keep_vars=True)
    # a student that handles missing values fills NaN with its training
    # means (its ``mean`` buffer) and may append missing indicators
    missing = {}
    extra = ()
    if getattr(module, "handles_missing", False):
        if not isinstance(getattr(module, "missing_index", None), torch.Tensor):
            return None
        missing = dict(fill=module.mean, indicators=module.missing_index)
        extra = ("missing_index",)
    with torch.no_grad():
        if kind is MLPStudent:
            if set(state) != _expected_keys(module, extra):
                return None
            chain = _dense_layers(module.layers)
            if chain is None:
                return None
            layers, activation = chain
            if not module.foldable():
                return PreparedStudent(
                    layers, activation, module.mean, module.scale, **missing
                )
            weight, bias = module.first_layer()
            return PreparedStudent([(weight, bias), *layers[1:]], activation, **missing)
        if module.residual or module.encoder is not None:
            return None
        if module.encoding == "piecewise":
            if set(state) != _expected_keys(module, (*_ENCODING_KEYS, *extra)):
                return None
            chain = _dense_layers(module.layers)
            if chain is None:
                return None
            n_features = module.mean.numel()
            index = module.encoding_index
            matrix = torch.zeros(
                n_features, index.numel(), dtype=torch.float32, device=index.device
            )
            matrix[index, torch.arange(index.numel(), device=index.device)] = (
                module.encoding_weight.to(torch.float32)
            )
            encoding = dict(
                matrix=matrix,
                bias=module.encoding_bias,
                lower=module.encoding_min,
                upper=module.encoding_max,
            )
            return PreparedStudent(*chain, encoding=encoding, **missing)
        if module.encoding is None:
            if set(state) != _expected_keys(module, extra):
                return None
            chain = _dense_layers(module.layers)
            if chain is None:
                return None
            return PreparedStudent(
                *chain, mean=module.mean, scale=module.scale, **missing
            )
    return None


def prediction_cost(module):
    """The cost of one row of ``module``'s prediction in multiply-adds: its
    prepared form's :attr:`PreparedStudent.row_cost`, or its number of
    parameters for a module :func:`prepare` does not know."""
    return _row_work(module, prepare(module))


def _row_work(module, prepared):
    """:func:`prediction_cost` of ``module`` and its prepared form."""
    if prepared is not None:
        return prepared.row_cost
    return int(sum(p.numel() for p in module.parameters()))


class InferencePlan:
    """How an estimator scores rows with one fitted student module.

    Holds the prepared student (or, for a module :func:`prepare` does not
    know, a weak reference to the module itself), the multiply-adds of one
    row, and a fingerprint of the module's tensors: their identity, storage
    and in-place version counters. :meth:`matches` compares the
    fingerprint, so a student whose weights were changed in place (further
    training, ``load_state_dict``) or moved is prepared again.
    """

    def __init__(self, module):
        self.module = weakref.ref(module)  # the plan never keeps it alive
        # where each tensor lives (its owner's dict and name), the tensor,
        # its storage and its version counter
        self.fingerprint = [
            (slots, name, tensor, tensor.data_ptr(), tensor._version)
            for sub in module.modules()
            for slots in (sub._parameters, sub._buffers)
            for name, tensor in slots.items()
            if tensor is not None
        ]
        tensors = [entry[2] for entry in self.fingerprint]
        self.prepared = prepare(module)
        self.device = tensors[0].device if tensors else torch.device("cpu")
        self.on_cpu = self.device.type == "cpu"
        self.row_work = _row_work(module, self.prepared)

    def matches(self):
        """Whether the module's tensors are those this plan was made from,
        unchanged: none replaced, moved or modified in place."""
        for slots, name, tensor, pointer, version in self.fingerprint:
            if (
                slots.get(name) is not tensor
                or tensor._version != version
                or tensor.data_ptr() != pointer
            ):
                return False
        return True

    def logits_t(self, rows, threads, finite=False, margin=False):
        """Float32 logits of the C-ordered float32 array ``rows``,
        transposed (classes, rows), as a numpy array (``finite``: ``rows``
        is known to hold no NaN); with ``margin``, for a student of two
        outputs, ``logit_1 - logit_0`` as a (rows,) array.

        A prepared student on the CPU runs in numpy with ``threads`` BLAS
        threads (:meth:`PreparedStudent.numpy_logits_t`); any other module
        (or device) in torch, with ``threads`` torch threads, in chunks of
        ``INFERENCE_BATCH_SIZE`` rows.
        """
        batch_size = INFERENCE_BATCH_SIZE
        prepared = self.prepared
        n_rows = rows.shape[0]
        if prepared is not None and self.on_cpu:
            margin = margin and prepared.has_margin
            changed = set_blas_threads(threads)
            try:
                if n_rows <= batch_size:
                    return prepared.numpy_logits_t(rows, finite, margin)
                return np.concatenate(
                    [
                        prepared.numpy_logits_t(
                            rows[start : start + batch_size], finite, margin
                        )
                        for start in range(0, n_rows, batch_size)
                    ],
                    axis=-1,
                )
            finally:
                restore_blas_threads(changed)
        forward = prepared
        if forward is None:
            forward = self.module()
            forward.train(False)
        rows = torch.from_numpy(rows)
        chunks = []
        with torch_threads(threads), torch.inference_mode():
            for start in range(0, n_rows, batch_size):
                batch = rows[start : start + batch_size].to(self.device)
                chunks.append(forward(batch).t().to("cpu", torch.float32))
        logits = chunks[0] if len(chunks) == 1 else torch.cat(chunks, dim=1)
        logits = logits.numpy()
        if margin and logits.shape[0] == 2:
            return logits[1] - logits[0]
        return logits


#: The plan of every student module predicted with, for as long as the
#: module lives; the estimator's own attributes are left as they are.
_PLANS = weakref.WeakKeyDictionary()


def plan_for(module):
    """The current :class:`InferencePlan` of ``module``, made if needed."""
    plan = _PLANS.get(module)
    if plan is None or not plan.matches():
        plan = _PLANS[module] = InferencePlan(module)
    return plan
