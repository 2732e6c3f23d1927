"""Distillation losses as stateless PyTorch functions.

Every function here works on a batch: ``student_logits`` of shape
``(n_samples, n_classes)``, teacher probabilities of the same shape and hard
labels ``y`` as integer class indices of shape ``(n_samples,)``.

The teacher is softened from its probabilities alone,
``q_T = softmax(log q / T)``, in log space: a zero probability stays exactly
zero at every temperature and never produces a NaN in the loss or its gradient.

The Hinton loss is

.. math::

    L = (1 - \\alpha)\\, CE(y, softmax(z)) + \\alpha\\, T^2\\, KL(q_T \\| p_T),

averaged over the batch (``batchmean``). Decoupled KD (Zhao et al., 2022)
splits the KL term into a target-class term (TCKD) and a non-target-class term
(NCKD) with their own weights; label smoothing is the no-teacher baseline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "LOSSES",
    "DistillationLoss",
    "decoupled_kd_terms",
    "decoupled_kd_loss",
    "distillation_loss",
    "kd_loss_per_sample",
    "label_smoothing_loss",
    "log_soften",
    "soften",
]

LOSSES = ("kd", "dkd", "label_smoothing")
TEACHER_FORMATS = ("proba", "softened", "log_softened")


def _check_temperature(temperature):
    if not float(temperature) > 0:
        raise ValueError(f"temperature must be a float > 0, got {temperature!r}.")


def _check_alpha(alpha, name="alpha"):
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"{name} must be a float in [0, 1], got {alpha!r}.")


def log_soften(proba, temperature):
    """Log of the teacher probabilities softened at ``temperature``.

    Computes ``log_softmax(log(proba) / temperature)``. Entries where
    ``proba`` is zero are ``-inf`` for every temperature.

    Parameters
    ----------
    proba : torch.Tensor of shape (n_samples, n_classes)
        Probabilities; each row sums to one and may contain exact zeros.
    temperature : float
        Temperature ``T > 0``. ``T > 1`` flattens, ``T < 1`` sharpens.

    Returns
    -------
    log_proba_T : torch.Tensor of shape (n_samples, n_classes)
        Log-probabilities of the softened distribution.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import log_soften
    >>> log_soften(torch.tensor([[0.5, 0.5, 0.0]]), 2.0)
    tensor([[-0.6931, -0.6931,    -inf]])
    """
    _check_temperature(temperature)
    proba = torch.as_tensor(proba)
    return torch.log_softmax(torch.log(proba) / temperature, dim=-1)


def soften(proba, temperature):
    """Soften (T > 1) or sharpen (T < 1) probabilities by a temperature.

    Returns ``softmax(log(proba) / T)``, which equals ``proba ** (1 / T)``
    renormalised per row. ``T = 1`` returns ``proba``; the argmax and the
    zeros of every row are kept at every temperature, and as ``T`` grows the
    rows tend to the uniform distribution over their support.

    Parameters
    ----------
    proba : torch.Tensor of shape (n_samples, n_classes)
        Probabilities; each row sums to one and may contain exact zeros.
    temperature : float
        Temperature ``T > 0``.

    Returns
    -------
    proba_T : torch.Tensor of shape (n_samples, n_classes)
        The softened probabilities; rows sum to one.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import soften
    >>> soften(torch.tensor([[0.8, 0.2, 0.0]], dtype=torch.float64), 2.0)
    tensor([[0.6667, 0.3333, 0.0000]], dtype=torch.float64)
    """
    return torch.exp(log_soften(proba, temperature))


def _kl_from_log(log_q, log_p):
    """Row-wise KL(q || p) given log q (may hold -inf) and finite log p."""
    q = torch.exp(log_q)
    return torch.xlogy(q, q).sum(dim=-1) - (q * log_p).sum(dim=-1)


def _reduce(per_sample, sample_weight):
    if sample_weight is not None:
        per_sample = per_sample * torch.as_tensor(
            sample_weight, dtype=per_sample.dtype, device=per_sample.device
        )
    return per_sample.mean()


def kd_loss_per_sample(
    student_logits,
    log_teacher_T,
    y,
    *,
    temperature,
    alpha,
    scale_t2=True,
):
    """Per-sample Hinton loss from an already softened teacher.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        Raw student outputs (logits).
    log_teacher_T : torch.Tensor of shape (n_samples, n_classes)
        ``log q_T``, the log of the teacher softened at ``temperature``
        (see :func:`log_soften`); may contain ``-inf``.
    y : torch.Tensor of shape (n_samples,)
        Integer class indices.
    temperature : float
        Temperature ``T > 0`` applied to the student in the soft term.
    alpha : float
        Weight of the teacher term in [0, 1].
    scale_t2 : bool, default=True
        Multiply the soft term by ``T ** 2`` (Hinton et al., 2015).

    Returns
    -------
    loss : torch.Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import kd_loss_per_sample, log_soften
    >>> z = torch.zeros(2, 3)
    >>> q = torch.tensor([[0.7, 0.3, 0.0], [0.1, 0.1, 0.8]])
    >>> kd_loss_per_sample(z, log_soften(q, 1.0), torch.tensor([0, 2]),
    ...                    temperature=1.0, alpha=0.0)
    tensor([1.0986, 1.0986])
    """
    ce = F.cross_entropy(student_logits, y, reduction="none")
    if alpha == 0:
        return ce
    log_p_T = torch.log_softmax(student_logits / temperature, dim=-1)
    kl = _kl_from_log(log_teacher_T, log_p_T)
    scale = temperature**2 if scale_t2 else 1.0
    return (1.0 - alpha) * ce + alpha * scale * kl


def distillation_loss(
    student_logits,
    teacher_proba,
    y,
    *,
    temperature=1.0,
    alpha=0.5,
    scale_t2=True,
    sample_weight=None,
):
    """Knowledge-distillation loss of Hinton et al. (2015), batch mean.

    ``(1 - alpha) * CE(y, softmax(z)) + alpha * T**2 * KL(q_T || p_T)`` with
    ``q_T = softmax(log q / T)`` and ``p_T = softmax(z / T)``.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        Raw student outputs (logits).
    teacher_proba : torch.Tensor of shape (n_samples, n_classes)
        Teacher probabilities at temperature 1; exact zeros are allowed and
        give a finite loss and gradient.
    y : torch.Tensor of shape (n_samples,)
        Integer class indices of the hard labels.
    temperature : float, default=1.0
        Temperature ``T > 0``.
    alpha : float, default=0.5
        Weight of the teacher term in [0, 1]; 0 gives plain cross-entropy.
    scale_t2 : bool, default=True
        Multiply the soft term by ``T ** 2`` so that its gradient stays of
        order one as ``T`` grows.
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Per-sample weights multiplying each sample's loss before the mean.

    Returns
    -------
    loss : torch.Tensor
        Scalar, the mean over the batch.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import distillation_loss
    >>> z = torch.tensor([[2.0, 0.5, -1.0]])
    >>> q = torch.tensor([[0.6, 0.4, 0.0]])
    >>> loss = distillation_loss(z, q, torch.tensor([0]), temperature=4.0,
    ...                          alpha=0.9)
    >>> bool(torch.isfinite(loss))
    True
    """
    _check_temperature(temperature)
    _check_alpha(alpha)
    log_q_T = log_soften(teacher_proba, temperature) if alpha != 0 else None
    per_sample = kd_loss_per_sample(
        student_logits,
        log_q_T,
        y,
        temperature=temperature,
        alpha=alpha,
        scale_t2=scale_t2,
    )
    return _reduce(per_sample, sample_weight)


def decoupled_kd_terms(student_logits, log_teacher_T, y, *, temperature):
    """Target-class (TCKD) and non-target-class (NCKD) KL terms.

    With ``b = [p_c, 1 - p_c]`` the binary split into target and rest and
    ``p_hat`` the distribution over the ``K - 1`` non-target classes, both at
    temperature ``T``::

        TCKD = KL(b_q || b_p),  NCKD = KL(q_hat || p_hat)

    and ``KL(q_T || p_T) = TCKD + (1 - q_T,c) * NCKD`` exactly. A teacher
    row with no non-target mass has ``NCKD = 0``.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    log_teacher_T : torch.Tensor of shape (n_samples, n_classes)
        ``log q_T`` (see :func:`log_soften`).
    y : torch.Tensor of shape (n_samples,)
        Integer class indices.
    temperature : float
        Temperature applied to the student logits.

    Returns
    -------
    tckd, nckd : torch.Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import decoupled_kd_terms, log_soften
    >>> q = torch.tensor([[0.5, 0.25, 0.25]])
    >>> tckd, nckd = decoupled_kd_terms(torch.zeros(1, 3), log_soften(q, 1.0),
    ...                                 torch.tensor([0]), temperature=1.0)
    >>> float(nckd)
    0.0
    """
    n_classes = student_logits.shape[-1]
    target = F.one_hot(y, n_classes).bool()
    neg_inf = float("-inf")

    z_T = student_logits / temperature
    lse_all = torch.logsumexp(z_T, dim=-1)
    z_rest = z_T.masked_fill(target, neg_inf)
    log_pc = z_T.gather(1, y[:, None]).squeeze(1) - lse_all
    log_p_rest = torch.logsumexp(z_rest, dim=-1) - lse_all

    log_qc = log_teacher_T.gather(1, y[:, None]).squeeze(1)
    log_q_rest = torch.logsumexp(log_teacher_T.masked_fill(target, neg_inf), dim=-1)
    qc, q_rest = torch.exp(log_qc), torch.exp(log_q_rest)
    tckd = (
        torch.xlogy(qc, qc)
        + torch.xlogy(q_rest, q_rest)
        - qc * log_pc
        - q_rest * log_p_rest
    )

    has_rest = q_rest > 0
    safe_rest = torch.where(has_rest, log_q_rest, torch.zeros_like(log_q_rest))
    log_q_hat = log_teacher_T.masked_fill(target, neg_inf) - safe_rest[:, None]
    q_hat = torch.exp(log_q_hat) * has_rest[:, None]
    log_p_hat = torch.log_softmax(z_rest, dim=-1).masked_fill(target, 0.0)
    nckd = torch.xlogy(q_hat, q_hat).sum(dim=-1) - (q_hat * log_p_hat).sum(dim=-1)
    return tckd, nckd


def decoupled_kd_loss(
    student_logits,
    teacher_proba,
    y,
    *,
    temperature=1.0,
    alpha=0.5,
    tckd_weight=1.0,
    nckd_weight=1.0,
    scale_t2=True,
    sample_weight=None,
):
    """Decoupled knowledge distillation (Zhao et al., 2022), batch mean.

    ``(1 - alpha) * CE + alpha * T**2 * (tckd_weight * TCKD
    + nckd_weight * NCKD)``; see :func:`decoupled_kd_terms`.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_proba : torch.Tensor of shape (n_samples, n_classes)
        Teacher probabilities at temperature 1.
    y : torch.Tensor of shape (n_samples,)
    temperature : float, default=1.0
    alpha : float, default=0.5
        Weight of the teacher terms in [0, 1].
    tckd_weight : float, default=1.0
        Weight of the target-class term.
    nckd_weight : float, default=1.0
        Weight of the non-target-class term.
    scale_t2 : bool, default=True
    sample_weight : torch.Tensor of shape (n_samples,), default=None

    Returns
    -------
    loss : torch.Tensor
        Scalar, the mean over the batch.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import decoupled_kd_loss
    >>> z = torch.tensor([[1.0, 0.0, -1.0]])
    >>> q = torch.tensor([[0.7, 0.2, 0.1]])
    >>> loss = decoupled_kd_loss(z, q, torch.tensor([0]), temperature=2.0,
    ...                          alpha=1.0, tckd_weight=1.0, nckd_weight=8.0)
    >>> loss.ndim
    0
    """
    _check_temperature(temperature)
    _check_alpha(alpha)
    per_sample = _dkd_per_sample(
        student_logits,
        log_soften(teacher_proba, temperature),
        y,
        temperature=temperature,
        alpha=alpha,
        tckd_weight=tckd_weight,
        nckd_weight=nckd_weight,
        scale_t2=scale_t2,
    )
    return _reduce(per_sample, sample_weight)


def _dkd_per_sample(
    student_logits,
    log_teacher_T,
    y,
    *,
    temperature,
    alpha,
    tckd_weight,
    nckd_weight,
    scale_t2,
):
    ce = F.cross_entropy(student_logits, y, reduction="none")
    if alpha == 0:
        return ce
    tckd, nckd = decoupled_kd_terms(
        student_logits, log_teacher_T, y, temperature=temperature
    )
    scale = temperature**2 if scale_t2 else 1.0
    soft = tckd_weight * tckd + nckd_weight * nckd
    return (1.0 - alpha) * ce + alpha * scale * soft


def label_smoothing_loss(student_logits, y, *, epsilon, sample_weight=None):
    """Cross-entropy against smoothed labels ``(1 - eps) y + eps / K``.

    Label smoothing is the teacher-free baseline: at ``T = 1`` it is the KD
    loss with a uniform teacher and ``alpha = epsilon``.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    y : torch.Tensor of shape (n_samples,)
    epsilon : float
        Smoothing in [0, 1].
    sample_weight : torch.Tensor of shape (n_samples,), default=None

    Returns
    -------
    loss : torch.Tensor
        Scalar, the mean over the batch.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import label_smoothing_loss
    >>> label_smoothing_loss(torch.zeros(1, 4), torch.tensor([1]), epsilon=0.1)
    tensor(1.3863)
    """
    _check_alpha(epsilon, "epsilon")
    per_sample = F.cross_entropy(
        student_logits, y, reduction="none", label_smoothing=float(epsilon)
    )
    return _reduce(per_sample, sample_weight)


class DistillationLoss(nn.Module):
    """The sklearn_kd loss family as a ``torch.nn.Module`` criterion.

    Parameters
    ----------
    loss : {"kd", "dkd", "label_smoothing"}, default="kd"
        ``"kd"``: Hinton et al. (2015); ``"dkd"``: decoupled KD;
        ``"label_smoothing"``: cross-entropy against smoothed labels with
        ``epsilon = alpha`` (the teacher is ignored).
    temperature : float, default=1.0
    alpha : float, default=0.5
    tckd_weight, nckd_weight : float, default=1.0
        Weights of the decoupled terms, used when ``loss="dkd"``.
    scale_t2 : bool, default=True
    teacher_format : {"proba", "softened", "log_softened"}, default="proba"
        What ``forward`` receives as ``teacher``: the teacher's probabilities
        ``q`` (softened in every call), the softened ``q_T`` (see
        :func:`soften`), or ``log q_T`` (see :func:`log_soften`). The two
        latter let a training loop soften once per fit rather than once per
        batch.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import DistillationLoss
    >>> criterion = DistillationLoss(temperature=2.0, alpha=0.5)
    >>> q = torch.tensor([[0.9, 0.1]])
    >>> bool(criterion(torch.zeros(1, 2), q, torch.tensor([0])) > 0)
    True
    """

    def __init__(
        self,
        loss="kd",
        temperature=1.0,
        alpha=0.5,
        tckd_weight=1.0,
        nckd_weight=1.0,
        scale_t2=True,
        teacher_format="proba",
    ):
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
        _check_temperature(temperature)
        _check_alpha(alpha)
        self.loss = loss
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.tckd_weight = float(tckd_weight)
        self.nckd_weight = float(nckd_weight)
        self.scale_t2 = bool(scale_t2)
        if teacher_format not in TEACHER_FORMATS:
            raise ValueError(
                f"teacher_format must be one of {TEACHER_FORMATS}, got "
                f"{teacher_format!r}."
            )
        self.teacher_format = teacher_format

    def _log_teacher(self, teacher):
        """``log q_T`` from ``teacher`` in this criterion's format."""
        if self.teacher_format == "log_softened":
            return teacher
        if self.teacher_format == "softened":
            return torch.log(teacher)
        return log_soften(teacher, self.temperature)

    def _softened_teacher(self, teacher):
        """``q_T`` from ``teacher`` in this criterion's format."""
        if self.teacher_format == "softened":
            return teacher
        if self.teacher_format == "log_softened":
            return torch.exp(teacher)
        return soften(teacher, self.temperature)

    def per_sample(self, student_logits, teacher, y):
        """Per-sample loss, before weighting and the batch mean."""
        if self.loss == "label_smoothing":
            return F.cross_entropy(
                student_logits, y, reduction="none", label_smoothing=self.alpha
            )
        if self.alpha == 0:
            return F.cross_entropy(student_logits, y, reduction="none")
        log_q_T = self._log_teacher(teacher)
        if self.loss == "kd":
            return kd_loss_per_sample(
                student_logits,
                log_q_T,
                y,
                temperature=self.temperature,
                alpha=self.alpha,
                scale_t2=self.scale_t2,
            )
        return _dkd_per_sample(
            student_logits,
            log_q_T,
            y,
            temperature=self.temperature,
            alpha=self.alpha,
            tckd_weight=self.tckd_weight,
            nckd_weight=self.nckd_weight,
            scale_t2=self.scale_t2,
        )

    def forward(
        self, student_logits, teacher, y, sample_weight=None, teacher_neg_entropy=None
    ):
        """Batch-mean loss.

        Parameters
        ----------
        student_logits : torch.Tensor of shape (n_samples, n_classes)
        teacher : torch.Tensor of shape (n_samples, n_classes)
            In the format given by ``teacher_format``.
        y : torch.Tensor of shape (n_samples,)
        sample_weight : torch.Tensor of shape (n_samples,), default=None
        teacher_neg_entropy : torch.Tensor of shape (n_samples,), default=None
            Each row's ``sum q_T log q_T``, precomputed; with
            ``loss="kd"`` the KL term is then this constant minus the
            cross-entropy ``sum q_T log p_T``, with no logarithm of the
            teacher per batch. The value and the gradient are unchanged.

        Returns
        -------
        loss : torch.Tensor
            Scalar.
        """
        if self.loss == "kd" and (
            sample_weight is None or teacher_neg_entropy is not None
        ):
            return self._kd_fast(
                student_logits, teacher, y, sample_weight, teacher_neg_entropy
            )
        return _reduce(self.per_sample(student_logits, teacher, y), sample_weight)

    def _kd_fast(self, student_logits, teacher, y, sample_weight, neg_entropy):
        """The Hinton loss in fewer tensor operations (once per batch).

        Equal to the weighted mean of :meth:`per_sample`.
        """
        if sample_weight is None:
            # sum / rows: a row labelled ignore_index (-100, no hard label)
            # adds 0, as in per_sample; equal to the mean otherwise
            ce = F.cross_entropy(student_logits, y, reduction="sum") / y.shape[0]
        else:
            ce = _reduce(
                F.cross_entropy(student_logits, y, reduction="none"), sample_weight
            )
        if self.alpha == 0:
            return ce
        log_p_T = torch.log_softmax(student_logits / self.temperature, dim=-1)
        q_T = self._softened_teacher(teacher)
        if neg_entropy is None:
            kl = F.kl_div(log_p_T, q_T, reduction="batchmean")
        else:
            kl = _reduce(neg_entropy - (q_T * log_p_T).sum(dim=-1), sample_weight)
        scale = self.temperature**2 if self.scale_t2 else 1.0
        return (1.0 - self.alpha) * ce + (self.alpha * scale) * kl
