"""The default student network: a multi-layer perceptron that standardises
its own inputs."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
}

#: The standardisation is folded into the first layer's weights only when
#: every feature's mean is within this many of its scales from zero: the
#: folded bias ``b - (W / s) m`` then loses at most about one decimal digit
#: of float32 to cancellation. Features far from zero (years, prices in
#: raw units) are standardised explicitly instead.
FOLD_MAX_OFFSET = 16.0

#: Bytes of float64 working memory per block when computing the
#: standardisation statistics.
STATISTICS_BLOCK_BYTES = 4 * 2**20


class MLPStudent(nn.Module):
    """Multi-layer perceptron returning logits, with built-in standardisation.

    The feature means and scales are buffers, estimated from the training
    rows, so the student accepts the same raw features as a teacher pipeline
    and the whole network can be exported on its own.

    The standardisation is applied through the first layer: its weights are
    divided by the scales and its bias shifted by the means inside the
    forward pass, which costs a few operations on the small weight matrix
    instead of two passes over every batch. The parameters, their gradients
    and the predictions are those of ``layers((X - mean) / scale)`` up to
    float32 rounding. Features whose mean lies far from zero relative to
    their scale are standardised explicitly, to keep float32 precision.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; an empty tuple gives a linear model.
    activation : {"relu", "tanh", "logistic", "gelu"}, default="relu"
        Non-linearity after each hidden layer.
    mean, scale : array-like of shape (n_features,), default=None
        Standardisation statistics; ``None`` means 0 and 1.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd import MLPStudent
    >>> net = MLPStudent(4, 3, hidden_layer_sizes=(8,))
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(100,),
        activation="relu",
        mean=None,
        scale=None,
    ):
        super().__init__()
        mean = np.zeros(n_features) if mean is None else np.asarray(mean)
        scale = np.ones(n_features) if scale is None else np.asarray(scale)
        self.activation = activation
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def foldable(self):
        """Whether the standardisation can go into the first layer."""
        offset = (self.mean.abs() / self.scale).max()
        return bool(offset <= FOLD_MAX_OFFSET) if self.mean.numel() else True

    def first_layer(self):
        """The first layer's weight and bias acting on raw features.

        ``(W / s, b - (W / s) m)``: ``x @ W'.T + b'`` equals
        ``((x - m) / s) @ W.T + b``.
        """
        first = self.layers[0]
        weight = first.weight / self.scale
        return weight, first.bias - weight @ self.mean

    def forward(self, X):
        fold = self.__dict__.get("_fold")
        if fold is None:  # decided once per set of statistics
            fold = self._fold = self.foldable()
        if not fold:
            return self.layers((X - self.mean) / self.scale)
        weight, bias = self.first_layer()
        return self.layers[1:](F.linear(X, weight, bias))

    def _apply(self, fn, *args, **kwargs):
        # moving or loading the buffers may change the statistics: decide again
        self.__dict__.pop("_fold", None)
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, *args, **kwargs):
        self.__dict__.pop("_fold", None)
        return super()._load_from_state_dict(*args, **kwargs)


def standardisation_statistics(X):
    """Column means and scales of ``X``; constant columns get scale 1.

    One pass over ``X`` in blocks of rows (float64 accumulation, merged with
    Chan et al.'s pairwise update), so no copy of ``X`` is made: the working
    memory is one block, whatever the size and dtype of ``X``.
    """
    n, d = X.shape
    block = max(1, STATISTICS_BLOCK_BYTES // (8 * max(d, 1)))
    mean = np.zeros(d)
    m2 = np.zeros(d)
    count = 0
    for start in range(0, n, block):
        chunk = np.array(X[start : start + block], dtype=np.float64)
        k = len(chunk)
        chunk_mean = chunk.mean(axis=0)
        chunk -= chunk_mean
        chunk_m2 = np.einsum("ij,ij->j", chunk, chunk)
        delta = chunk_mean - mean
        total = count + k
        mean += delta * (k / total)
        m2 += chunk_m2 + delta**2 * (count * k / total)
        count = total
    scale = np.sqrt(m2 / max(n, 1))
    scale[~(scale > np.finfo(np.float32).eps * np.maximum(1.0, np.abs(mean)))] = 1.0
    return mean, scale
