"""The default student network: a multi-layer perceptron that standardises
its own inputs."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
}


class MLPStudent(nn.Module):
    """Multi-layer perceptron returning logits, with built-in standardisation.

    The feature means and scales are buffers, estimated from the training
    rows, so the student accepts the same raw features as a teacher pipeline
    and the whole network can be exported on its own.

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
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers((X - self.mean) / self.scale)


def standardisation_statistics(X):
    """Column means and scales of ``X``; constant columns get scale 1."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[~(scale > np.finfo(np.float32).eps * np.maximum(1.0, np.abs(mean)))] = 1.0
    return mean, scale
