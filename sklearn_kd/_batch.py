"""The student's training inputs: the names of their arrays, and the code
that assembles them.

A fit hands the trainer (:mod:`sklearn_kd._training`) one dict of equal-length
arrays per row: the features, the teacher's targets and the row weights.
The names are defined here, next to the functions that write them, and
read by the trainer and the closed-form step.
"""

from __future__ import annotations

import numpy as np
import torch

#: The student's features (float32).
FEATURES = "X"
#: The teacher's softened probabilities ``q_T`` of each row (classification),
#: or its standardised predictions (regression).
TEACHER = "teacher"
#: Each row's weight in the loss.
SAMPLE_WEIGHT = "sample_weight"
#: Each row's ``sum(q_T log q_T)``: turns the per-batch cross-entropy
#: against ``q_T`` into ``KL(q_T || p_T)`` without a logarithm per batch.
NEG_ENTROPY = "teacher_neg_entropy"
#: A top-k compressed teacher: the k largest ``q_T`` per row, their class
#: indices, and the probability of each other class.
TOPK = "teacher_topk"
TOPK_INDEX = "teacher_topk_index"
REST = "teacher_rest"

#: Hard label of a row that has none (a synthetic or unlabelled row): the
#: class index that ``torch.nn.functional.cross_entropy`` ignores.
NO_LABEL = -100

#: Every name a row of the training inputs may carry.
TARGET_KEYS = (FEATURES, TEACHER, NEG_ENTROPY, TOPK, TOPK_INDEX, REST)


def target_inputs(targets):
    """The student's target arrays by input name: ``q_T`` or its top-k."""
    inputs = {NEG_ENTROPY: targets.neg_entropy}
    if targets.top_index is None:
        inputs[TEACHER] = targets.q_T
    else:
        inputs.update(
            {TOPK: targets.q_T, TOPK_INDEX: targets.top_index, REST: targets.rest}
        )
    return inputs


def append_rows(inputs, y, new, sample_weight, no_label=NO_LABEL):
    """Training inputs with the synthetic rows ``new`` after the real ones;
    their hard target is ``no_label`` and their weight the mean weight.

    ``y`` is one-dimensional (class indices) or two-dimensional
    (regression targets, one column per output).
    """
    n_new = len(new[FEATURES])
    out = {}
    for key, value in inputs.items():
        if key == SAMPLE_WEIGHT:
            extra = np.full(n_new, np.mean(sample_weight))
            out[key] = np.concatenate([value, extra])
        elif torch.is_tensor(value):
            out[key] = torch.cat([value, torch.as_tensor(new[key])])
        else:
            out[key] = np.concatenate([value, new[key]])
    y_new = np.full((n_new, *np.shape(y)[1:]), no_label, dtype=np.asarray(y).dtype)
    return out, np.concatenate([y, y_new])


def has_label(y):
    """Whether each row has a label: a class index other than
    :data:`NO_LABEL` (one-dimensional ``y``), or at least one target that is
    not NaN (regression, one column per output)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        finite = ~np.isnan(y)
        return finite if y.ndim == 1 else finite.reshape(len(y), -1).any(axis=1)
    return y != NO_LABEL


def densify_top_k(top, top_index, rest, n_classes):
    """Rebuild a batch's ``q_T`` from its top-k compression."""
    dense = rest[:, None].expand(-1, n_classes).clone()
    return dense.scatter_(1, top_index, top)
