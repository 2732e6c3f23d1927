"""The exact posterior of the isotropic Gaussian class model, and its accuracy.

Shared by :mod:`sklearn_kd.datasets` (which draws data from the model) and
:mod:`sklearn_kd.teachers` (whose :class:`~sklearn_kd.teachers.OracleTeacher`
returns the posterior). Everything is float64 and every normalisation is a
``logsumexp``.

Two posteriors of the same model are used throughout the package:

- given ``x`` and the row's own noise scale ``sigma_i`` (privileged: the
  scale is not observable);
- given ``x`` alone: the noise scale is marginalised over its distribution,
  a mixture over the difficulty levels. This is the Bayes posterior that no
  classifier trained on ``x`` can beat.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

__all__ = ["check_probability_vector", "log_posterior", "mixture_components"]


def check_probability_vector(values, *, name, length=None):
    """Float64 1-D vector of non-negative weights with a positive finite sum,
    normalised to sum to 1."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array-like, got an array of shape {values.shape}."
        )
    if length is not None and values.shape[0] != length:
        raise ValueError(
            f"{name} must have length {length} (one entry per class), "
            f"got length {values.shape[0]}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(
            f"{name} must hold finite non-negative numbers, got {values.tolist()!r}."
        )
    total = values.sum()
    if not total > 0:
        raise ValueError(f"{name} must have a positive sum, got {values.tolist()!r}.")
    return values / total


def mixture_components(class_centers, superclass, sibling_pull):
    """Means, class index and log weight of every Gaussian component.

    Without a pull each class is one component centred on its centre. With
    ``sibling_pull = lam > 0`` class ``k`` is an equal-weight mixture over its
    siblings ``j`` (the other classes of its super-class) of components centred
    on ``(1 - lam) w_k + lam w_j``.
    """
    n_classes = class_centers.shape[0]
    if sibling_pull == 0:
        return class_centers, np.arange(n_classes), np.zeros(n_classes)
    means, owner, log_weight = [], [], []
    for k in range(n_classes):
        siblings = np.flatnonzero(superclass == superclass[k])
        siblings = siblings[siblings != k]
        means.append(
            (1.0 - sibling_pull) * class_centers[k]
            + sibling_pull * class_centers[siblings]
        )
        owner.append(np.full(siblings.size, k))
        log_weight.append(np.full(siblings.size, -np.log(siblings.size)))
    return np.vstack(means), np.concatenate(owner), np.concatenate(log_weight)


def log_posterior(
    X,
    class_centers,
    noise_scale,
    *,
    log_noise_weights=None,
    log_priors=None,
    superclass=None,
    sibling_pull=0.0,
):
    """Exact log posterior ``log p(k | x)`` of the isotropic Gaussian model.

    ``noise_scale`` is either a column of shape ``(n_samples, 1)`` (the noise
    scale of each row is known: the posterior given ``x`` and ``sigma_i``) or
    a row of shape ``(1, n_levels)`` (the scale is one of ``n_levels`` values
    with probabilities ``exp(log_noise_weights)``, marginalised out: the
    posterior given ``x`` alone).
    """
    X = np.asarray(X, dtype=np.float64)
    n_samples, n_features = X.shape
    n_classes = class_centers.shape[0]
    noise_scale = np.asarray(noise_scale, dtype=np.float64)
    if log_noise_weights is None:
        log_noise_weights = np.zeros(noise_scale.shape[1])
    if log_priors is None:
        log_priors = np.full(n_classes, -np.log(n_classes))

    means, owner, log_weight = mixture_components(
        class_centers, superclass, sibling_pull
    )
    sq_dist = (
        np.einsum("ij,ij->i", X, X)[:, None]
        - 2.0 * X @ means.T
        + np.einsum("ij,ij->i", means, means)[None, :]
    )
    np.maximum(sq_dist, 0.0, out=sq_dist)
    # log N(x; mean_c, s^2 I) up to the constant -d/2 log(2 pi), for every
    # row i, noise level l and component c: shape (n_samples, n_levels, C).
    variance = noise_scale**2
    log_lik = (
        log_weight[None, None, :]
        + log_noise_weights[None, :, None]
        - n_features * np.log(noise_scale)[:, :, None]
        - sq_dist[:, None, :] / (2.0 * variance[:, :, None])
    )
    if np.array_equal(owner, np.arange(n_classes)):
        log_joint = logsumexp(log_lik, axis=1)
    else:
        log_joint = np.empty((n_samples, n_classes))
        for k in range(n_classes):
            log_joint[:, k] = logsumexp(log_lik[:, :, owner == k], axis=(1, 2))
    log_joint += log_priors[None, :]
    return log_joint - logsumexp(log_joint, axis=1, keepdims=True)
