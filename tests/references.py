"""Float64 NumPy references shared by several test files."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, xlogy


def np_kd_per_sample(z, q, y, T, alpha, scale_t2=True):
    """(1 - alpha) CE + alpha T^2 KL(q_T || p_T), per sample, in NumPy."""
    rows = np.arange(len(y))
    ce = -log_softmax(z, axis=1)[rows, y]
    with np.errstate(divide="ignore"):
        log_q_T = log_softmax(np.log(q) / T, axis=1)
    q_T = np.exp(log_q_T)
    kl = xlogy(q_T, q_T).sum(axis=1) - (q_T * log_softmax(z / T, axis=1)).sum(axis=1)
    return (1 - alpha) * ce + alpha * (T**2 if scale_t2 else 1.0) * kl


def true_entries(a, y):
    """Each row's entry at its class ``y``."""
    return a[np.arange(len(y)), y]
