"""What a classifier's student learns from: the teacher's probabilities
softened, their statistics, and the training targets of a knowledge level.

Everything here is a pure function of its arguments and runs once per
``fit``, never per epoch. The probabilities come from
:class:`~sklearn_kd._teacher_step.TeacherStep`; :func:`soften_teacher`
softens them once, for their statistics and for the float32 targets of the
chosen level of knowledge that the student trains on
(:func:`sklearn_kd._batch.target_inputs` names them as the student's
inputs).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import Bunch

from .diagnostics import diagnostics_from_confidence
from .knowledge import apply_knowledge, fit_knowledge
from .losses import soften

#: Entries (rows x classes) processed at a time when softening teacher
#: probabilities: no full float64 copy of a large (n_samples, n_classes)
#: matrix is made, and each 2 MB temporary stays in cache (about 2x faster
#: than 32 MB blocks, 4x faster than the whole matrix at once).
CHUNK_ENTRIES = 1 << 18


class OverconfidentTeacherWarning(UserWarning):
    """The teacher is nearly one-hot on the rows the student learns from."""


def soften_teacher(
    proba,
    y_idx,
    *,
    temperature,
    alpha=0.0,
    knowledge="full",
    top_k=None,
    labelled=None,
    build_targets=True,
    random_state=None,
):
    """The teacher softened once: its statistics and the student's targets.

    ``"full"`` softens ``proba`` by row blocks straight into the targets and
    the statistics (:func:`soften_targets`). The other levels soften it in
    float64, take the statistics from it, estimate the level's constants on
    these rows (:func:`~sklearn_kd.knowledge.fit_knowledge`), keep that part
    of the teacher (:func:`~sklearn_kd.knowledge.apply_knowledge`) and build
    the targets from the result, already at temperature ``T``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Validated teacher probabilities.
    y_idx : ndarray of shape (n_samples,)
        Each row's class index: its hard label, or for a row without one
        the teacher's top class.
    temperature : float
        The temperature ``T``.
    alpha : float, default=0.0
        Weight of the teacher term, at which the statistics give the
        instance weight.
    knowledge : str, default="full"
        The level of knowledge the targets keep, one of
        :data:`~sklearn_kd.knowledge.KNOWLEDGE_LEVELS` (placebos included).
    top_k : int or None, default=None
        See :func:`soften_targets`.
    labelled : ndarray of shape (n_samples,), dtype=bool, default=None
        The rows the statistics describe; None means all.
    build_targets : bool, default=True
        If False, compute the statistics only.
    random_state : int, RandomState instance or None, default=None
        Draws the permutation of a placebo level.

    Returns
    -------
    result : Bunch
        ``stats``, the summary of
        :func:`~sklearn_kd.diagnostics.teacher_diagnostics` on the softened
        teacher; ``targets``, as returned by :func:`soften_targets` (None
        unless ``build_targets``); ``knowledge_params``, the level's
        constants (None for ``"full"`` or without targets).
    """
    if knowledge == "full" or not build_targets:
        targets, stats = soften_targets(
            proba,
            y_idx,
            temperature,
            alpha,
            top_k=top_k,
            labelled=labelled,
            build_targets=build_targets,
        )
        return Bunch(stats=stats, targets=targets, knowledge_params=None)
    q_T = soften(np.asarray(proba, dtype=np.float64), temperature).numpy()
    rows = np.arange(len(y_idx))
    stats = _statistics(
        q_T[rows, y_idx], q_T.argmax(axis=1) == y_idx, q_T.shape[1], alpha, labelled
    )
    params = fit_knowledge(q_T, y_idx)
    q_T = apply_knowledge(q_T, y_idx, knowledge, params, random_state=random_state)
    # already at temperature T: the targets are built from q_T as it is
    targets, _ = soften_targets(q_T, y_idx, None, alpha, top_k=top_k)
    return Bunch(stats=stats, targets=targets, knowledge_params=params)


def _statistics(confidence, correct, n_classes, alpha, labelled):
    """The diagnostics summary of the rows in ``labelled`` (None: all)."""
    if labelled is not None:
        confidence, correct = confidence[labelled], correct[labelled]
    return diagnostics_from_confidence(
        confidence, correct, n_classes, alpha=alpha
    ).summary


def soften_targets(
    proba,
    y_idx,
    temperature,
    alpha,
    *,
    top_k=None,
    labelled=None,
    build_targets=True,
    chunk_entries=CHUNK_ENTRIES,
):
    """Softened training targets and the teacher's diagnostics, by row blocks.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Validated teacher probabilities (see
        :func:`~sklearn_kd._validation.check_probabilities`).
    y_idx : ndarray of shape (n_samples,)
        Hard labels as class indices.
    temperature : float or None
        The temperature; None takes ``proba`` as already softened.
    alpha : float
        Weight of the teacher term, for the diagnostics.
    top_k : int or None
        When smaller than the number of classes, keep only each row's
        ``top_k`` largest softened probabilities and spread the remaining mass
        evenly over the other classes: ``2 top_k + 1`` numbers per row instead
        of ``n_classes``.
    labelled : ndarray of shape (n_samples,), dtype=bool, or None
        The rows the diagnostics describe; None means all.
    build_targets : bool
        If False, compute the diagnostics only and return ``targets=None``.
    chunk_entries : int
        Entries softened at a time.

    Returns
    -------
    targets : Bunch or None
        ``q_T`` (float32, dense, or the top ``k`` values), ``top_index`` and
        ``rest`` (None unless compressed), and ``neg_entropy``, each row's
        ``sum q_T log q_T`` (float32), the constant that turns the per-batch
        cross-entropy against ``q_T`` into ``KL(q_T || p_T)``.
    summary : Bunch
        :func:`~sklearn_kd.diagnostics.teacher_diagnostics` summary on
        the rows ``labelled`` of ``q_T``.

    Notes
    -----
    Each block is softened by :func:`~sklearn_kd.losses.soften`, in float32
    for a float32 ``proba`` and in float64 otherwise, so the memory beyond
    the result stays at one block whatever the number of rows and classes.
    """
    n_samples, n_classes = proba.shape
    compress = top_k is not None and top_k < n_classes
    chunk_rows = max(1, chunk_entries // n_classes)
    if build_targets:
        width = top_k if compress else n_classes
        q_T = torch.empty((n_samples, width), dtype=torch.float32)
        neg_entropy = torch.empty(n_samples, dtype=torch.float32)
    if build_targets and compress:
        top_index = torch.empty((n_samples, top_k), dtype=torch.long)
        rest = torch.empty(n_samples, dtype=torch.float32)
    confidence = torch.empty(n_samples, dtype=torch.float64)
    correct = torch.empty(n_samples, dtype=torch.bool)
    y_all = torch.as_tensor(y_idx, dtype=torch.long)
    # soften in the teacher's own precision: float32 teachers (most neural
    # networks) in float32, twice as fast; anything else in float64
    dtype = torch.float32 if proba.dtype == np.float32 else torch.float64
    with torch.no_grad():
        for start in range(0, n_samples, chunk_rows):
            block = slice(start, start + chunk_rows)
            q = torch.as_tensor(proba[block], dtype=dtype)
            if temperature is not None:
                q = soften(q, temperature)
            y_block = y_all[block]
            confidence[block] = q.gather(1, y_block[:, None])[:, 0]
            correct[block] = q.argmax(dim=1) == y_block
            if not build_targets:
                continue
            if compress:
                top, index = torch.topk(q, top_k)
                left = (1.0 - top.sum(dim=1)).clamp_(min=0.0) / (n_classes - top_k)
                q_T[block], top_index[block], rest[block] = top, index, left
                neg_entropy[block] = torch.xlogy(top, top).sum(dim=1) + (
                    n_classes - top_k
                ) * torch.xlogy(left, left)
            else:
                q_T[block] = q
                neg_entropy[block] = torch.xlogy(q, q).sum(dim=1)
    summary = _statistics(
        confidence.numpy(), correct.numpy(), n_classes, alpha, labelled
    )
    if not build_targets:
        return None, summary
    targets = Bunch(
        q_T=q_T.numpy(),
        top_index=top_index.numpy() if compress else None,
        rest=rest.numpy() if compress else None,
        neg_entropy=neg_entropy.numpy(),
    )
    return targets, summary
