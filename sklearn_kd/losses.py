"""Distillation losses as stateless PyTorch functions.

Every function here works on a batch: ``student_logits`` of shape
``(n_samples, n_classes)``, teacher probabilities of the same shape and hard
labels ``y`` as integer class indices of shape ``(n_samples,)``.

The teacher is softened from its probabilities alone,
``q_T = softmax(log q / T)`` (:func:`soften`), in log space: a zero
probability stays exactly zero at every temperature and never produces a NaN
in the loss or its gradient.

The Hinton loss is

.. math::

    L = (1 - \\alpha)\\, CE(y, softmax(z)) + \\alpha\\, T^2\\, KL(q_T \\| p_T),

averaged over the batch (``batchmean``). Decoupled KD (Zhao et al., 2022)
splits the KL term into a target-class term (TCKD) and a non-target-class term
(NCKD) with their own weights; label smoothing is the no-teacher baseline.

Each loss has one per-sample kernel; every batch loss, from the functions
below or from :class:`DistillationLoss`, is that kernel followed by one
reduction (the sample-weighted mean). See :ref:`theory` for the identities
the losses satisfy.

For regression, :class:`RegressionDistillationLoss` mixes a loss against the
labels with the same loss against the teacher's predictions,

.. math::

    L = (1 - \\alpha)\\, \\ell(y, f) + \\alpha\\, \\ell(t, f),

with ``f`` the student's predictions, ``y`` the labels and ``t`` the
teacher's predictions (all standardised), and ``\\ell`` the squared error
or the Huber loss averaged over the outputs.
"""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F
from torch import nn

from ._validation import LOSSES, check_choice, check_fraction, check_temperature

__all__ = [
    "LOSSES",
    "REGRESSION_LOSSES",
    "DistillationLoss",
    "RegressionDistillationLoss",
    "decoupled_kd_terms",
    "decoupled_kd_loss",
    "distillation_loss",
    "kd_loss_per_sample",
    "label_smoothing_loss",
    "log_soften",
    "soften",
]

TEACHER_FORMATS = ("proba", "softened")

#: The losses of :class:`RegressionDistillationLoss`.
REGRESSION_LOSSES = ("squared_error", "huber")


# ------------------------------------------------------------- softening
def soften(proba, temperature, *, log=False):
    """Soften (T > 1) or sharpen (T < 1) probabilities by a temperature.

    Returns ``softmax(log(proba) / T)``, which equals ``proba ** (1 / T)``
    renormalised per row. ``T = 1`` returns ``proba``; the argmax and the
    zeros of every row are kept at every temperature, and as ``T`` grows the
    rows tend to the uniform distribution over their support (identity E11
    of :ref:`theory`).

    Parameters
    ----------
    proba : torch.Tensor or ndarray of shape (n_samples, n_classes)
        Probabilities; each row sums to one and may contain exact zeros.
    temperature : float
        Temperature ``T > 0``.
    log : bool, default=False
        Return ``log_softmax(log(proba) / T)`` instead, ``-inf`` where
        ``proba`` is zero (see :func:`log_soften`).

    Returns
    -------
    proba_T : torch.Tensor of shape (n_samples, n_classes)
        The softened probabilities (or their logarithms); rows sum to one.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import soften
    >>> soften(torch.tensor([[0.8, 0.2, 0.0]], dtype=torch.float64), 2.0)
    tensor([[0.6667, 0.3333, 0.0000]], dtype=torch.float64)
    """
    check_temperature(temperature)
    scaled = torch.log(torch.as_tensor(proba)) / temperature
    if log:
        return torch.log_softmax(scaled, dim=-1)
    return torch.softmax(scaled, dim=-1)


def log_soften(proba, temperature):
    """Log of the teacher probabilities softened at ``temperature``.

    ``soften(proba, temperature, log=True)``: entries where ``proba`` is
    zero are ``-inf`` for every temperature.

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
    return soften(proba, temperature, log=True)


# --------------------------------------------------------------- kernels
# Each loss is (1 - alpha) * CE + alpha * scale * soft per sample, with its
# own soft term; DistillationLoss.per_sample mixes them, _reduce averages.
def _kd_soft(student_logits, q_T, temperature, neg_entropy=None):
    """Per-sample ``KL(q_T || p_T)`` from the softened teacher ``q_T``.

    ``neg_entropy`` is each row's ``sum q_T log q_T`` when precomputed: the
    KL term is then that constant minus the cross-entropy ``sum q_T log p_T``,
    with no logarithm of the teacher per batch.
    """
    log_p_T = torch.log_softmax(student_logits / temperature, dim=-1)
    if neg_entropy is None:
        neg_entropy = torch.xlogy(q_T, q_T).sum(dim=-1)
    return neg_entropy - (q_T * log_p_T).sum(dim=-1)


def _dkd_soft(student_logits, log_q_T, y, temperature, tckd_weight, nckd_weight):
    """Per-sample weighted decoupled terms from ``log q_T``."""
    tckd, nckd = decoupled_kd_terms(student_logits, log_q_T, y, temperature=temperature)
    return tckd_weight * tckd + nckd_weight * nckd


def _reduce(per_sample, sample_weight):
    """The batch loss: the mean of the (weighted) per-sample losses."""
    if sample_weight is not None:
        per_sample = per_sample * torch.as_tensor(
            sample_weight, dtype=per_sample.dtype, device=per_sample.device
        )
    return per_sample.mean()


def _per_sample(
    loss,
    student_logits,
    teacher,
    y,
    *,
    temperature,
    alpha,
    tckd_weight=1.0,
    nckd_weight=1.0,
    scale_t2=True,
    softened=False,
    neg_entropy=None,
):
    """The per-sample loss of every member of the family.

    ``teacher`` holds probabilities ``q``, or ``q_T`` when ``softened``;
    ``neg_entropy`` is each softened row's ``sum q_T log q_T`` when
    precomputed (KD only). The DKD weights may be per-sample tensors.
    """
    smoothing = loss == "label_smoothing"
    ce = F.cross_entropy(
        student_logits,
        y,
        reduction="none",
        label_smoothing=float(alpha) if smoothing else 0.0,
    )
    if smoothing or alpha == 0:
        return ce
    if loss == "kd":
        if not softened:
            teacher, neg_entropy = soften(teacher, temperature), None
        soft = _kd_soft(student_logits, teacher, temperature, neg_entropy)
    else:
        log_q_T = torch.log(teacher) if softened else log_soften(teacher, temperature)
        soft = _dkd_soft(
            student_logits, log_q_T, y, temperature, tckd_weight, nckd_weight
        )
    scale = temperature**2 if scale_t2 else 1.0
    return ce.mul(1.0 - alpha).add(soft, alpha=alpha * scale)


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
    return _per_sample(
        "kd",
        student_logits,
        torch.exp(log_teacher_T),
        y,
        temperature=temperature,
        alpha=alpha,
        scale_t2=scale_t2,
        softened=True,
    )


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
    check_temperature(temperature)
    check_fraction(alpha, "alpha")
    per_sample = _per_sample(
        "kd",
        student_logits,
        teacher_proba,
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

    and ``KL(q_T || p_T) = TCKD + (1 - q_T,c) * NCKD`` exactly (identity E9
    of :ref:`theory`). A teacher row with no non-target mass has
    ``NCKD = 0``.

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
    neg_inf = -torch.inf

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
        Scalar: the batch mean of the per-sample losses.

    Examples
    --------
    The non-target term alone (NCKD) of a batch of one:

    >>> import torch
    >>> from sklearn_kd.losses import decoupled_kd_loss
    >>> z, y = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([0])
    >>> q = torch.tensor([[0.7, 0.2, 0.1]])
    >>> nckd = decoupled_kd_loss(z, q, y, alpha=1.0, tckd_weight=0.0)
    >>> nckd.ndim, bool(nckd > 0)
    (0, True)
    """
    check_temperature(temperature)
    check_fraction(alpha, "alpha")
    per_sample = _per_sample(
        "dkd",
        student_logits,
        teacher_proba,
        y,
        temperature=temperature,
        alpha=alpha,
        tckd_weight=tckd_weight,
        nckd_weight=nckd_weight,
        scale_t2=scale_t2,
    )
    return _reduce(per_sample, sample_weight)


def label_smoothing_loss(student_logits, y, *, epsilon, sample_weight=None):
    """Cross-entropy against smoothed labels ``(1 - eps) y + eps / K``.

    Label smoothing is the teacher-free baseline: at ``T = 1`` it is the KD
    loss with a uniform teacher and ``alpha = epsilon`` (identity E3 of
    :ref:`theory`).

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
        The batch mean, a scalar: ``log K`` for uniform logits.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import label_smoothing_loss
    >>> label_smoothing_loss(torch.zeros(1, 4), torch.tensor([1]), epsilon=0.1)
    tensor(1.3863)
    """
    epsilon = check_fraction(epsilon, "epsilon")
    per_sample = _per_sample(
        "label_smoothing", student_logits, None, y, temperature=1.0, alpha=epsilon
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
    teacher_format : {"proba", "softened"}, default="proba"
        What ``forward`` receives as ``teacher``: the teacher's probabilities
        ``q`` (softened in every call) or the softened ``q_T`` (see
        :func:`soften`), which lets a training loop soften once per fit
        rather than once per batch.

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
        self.loss = check_choice(loss, "loss", LOSSES)
        self.temperature = check_temperature(temperature)
        self.alpha = check_fraction(alpha, "alpha")
        self.tckd_weight = float(tckd_weight)
        self.nckd_weight = float(nckd_weight)
        self.scale_t2 = bool(scale_t2)
        self.teacher_format = check_choice(
            teacher_format, "teacher_format", TEACHER_FORMATS
        )

    def per_sample(self, student_logits, teacher, y, teacher_neg_entropy=None):
        """Per-sample loss, before weighting and the batch mean.

        ``teacher_neg_entropy`` (``loss="kd"`` with ``teacher_format=
        "softened"`` only) is each row's ``sum q_T log q_T``, precomputed.
        """
        return _per_sample(
            self.loss,
            student_logits,
            teacher,
            y,
            temperature=self.temperature,
            alpha=self.alpha,
            tckd_weight=self.tckd_weight,
            nckd_weight=self.nckd_weight,
            scale_t2=self.scale_t2,
            softened=self.teacher_format == "softened",
            neg_entropy=teacher_neg_entropy,
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
        per_sample = self.per_sample(student_logits, teacher, y, teacher_neg_entropy)
        return _reduce(per_sample, sample_weight)


# ------------------------------------------------------------ regression
def _check_positive(value, name):
    """A finite float > 0 (booleans refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not 0 < value < float("inf")
    ):
        raise ValueError(f"{name} must be a finite float > 0, got {value!r}.")
    return float(value)


class RegressionDistillationLoss(nn.Module):
    """Distillation loss of a regression student, as a criterion.

    For student predictions ``f``, labels ``y`` and teacher predictions
    ``t``, each of shape ``(n_samples, n_outputs)`` and on the standardised
    scale of the targets, the loss of row ``i`` is

    ``(1 - alpha) * mean_j l(y_ij, f_ij) + alpha * mean_j l(t_ij, f_ij)``,

    the mean running over the outputs, so that the loss keeps its scale
    whatever their number. A label that is NaN (a row without one, such as
    a synthetic row) contributes 0 to its row's label term; it is replaced
    by the prediction before any arithmetic, so no NaN reaches the loss or
    its gradient.

    Parameters
    ----------
    loss : {"squared_error", "huber"}, default="squared_error"
        ``l``: ``0.5 * (y - f) ** 2``, or the Huber loss with threshold
        ``huber_delta`` (:func:`torch.nn.functional.huber_loss`), quadratic
        as ``0.5 * (y - f) ** 2`` within it and linear beyond.
    alpha : float, default=0.5
        Weight of the teacher term in [0, 1]; 0 fits the labels alone, 1
        the teacher alone.
    huber_delta : float, default=1.0
        Threshold of the Huber loss (> 0), in standardised units; unused
        with ``loss="squared_error"``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_kd.losses import RegressionDistillationLoss
    >>> criterion = RegressionDistillationLoss(alpha=0.5)
    >>> f = torch.zeros(2, 1)
    >>> t, y = torch.ones(2, 1), torch.tensor([[2.0], [float("nan")]])
    >>> criterion.per_sample(f, t, y)
    tensor([1.2500, 0.2500])
    """

    def __init__(self, loss="squared_error", alpha=0.5, huber_delta=1.0):
        super().__init__()
        self.loss = check_choice(loss, "loss", REGRESSION_LOSSES)
        self.alpha = check_fraction(alpha, "alpha")
        self.huber_delta = _check_positive(huber_delta, "huber_delta")

    def _elementwise(self, pred, target):
        """``l(target, pred)`` entry by entry."""
        if self.loss == "huber":
            return F.huber_loss(pred, target, reduction="none", delta=self.huber_delta)
        return 0.5 * (pred - target).square()

    @staticmethod
    def _check_shape(pred, other, name):
        if other.shape != pred.shape:
            raise ValueError(
                f"{name} must have the shape of the predictions "
                f"{tuple(pred.shape)} (n_samples, n_outputs); got "
                f"{tuple(other.shape)}."
            )

    def per_sample(self, pred, teacher, y):
        """Per-sample loss, before weighting and the batch mean.

        Parameters
        ----------
        pred : torch.Tensor of shape (n_samples, n_outputs)
            The student's predictions.
        teacher : torch.Tensor of shape (n_samples, n_outputs) or None
            The teacher's predictions; None only when ``alpha == 0``.
        y : torch.Tensor of shape (n_samples, n_outputs)
            The labels, NaN where a row has none; unused when
            ``alpha == 1`` (may then be None).

        Returns
        -------
        loss : torch.Tensor of shape (n_samples,)
        """
        if pred.ndim != 2:
            raise ValueError(
                "The predictions must be 2-D (n_samples, n_outputs); got "
                f"shape {tuple(pred.shape)}."
            )
        alpha = self.alpha
        label = soft = None
        if alpha < 1:
            self._check_shape(pred, y, "y")
            # a missing label becomes the prediction itself: a zero residual,
            # hence a zero term and a zero gradient, with no NaN on the way
            y = torch.where(torch.isnan(y), pred.detach(), y.to(pred.dtype))
            label = self._elementwise(pred, y).mean(dim=1)
        if alpha > 0:
            if teacher is None:
                raise ValueError(
                    "The teacher's predictions are needed when alpha > 0; got "
                    f"None with alpha={alpha}."
                )
            self._check_shape(pred, teacher, "teacher")
            soft = self._elementwise(pred, teacher.to(pred.dtype)).mean(dim=1)
        if soft is None:
            return label
        if label is None:
            return soft
        return label.mul(1.0 - alpha).add_(soft, alpha=alpha)

    def forward(self, pred, teacher, y, sample_weight=None):
        """Batch-mean loss: the mean of the per-sample losses, each
        multiplied by its weight.

        Parameters
        ----------
        pred : torch.Tensor of shape (n_samples, n_outputs)
        teacher : torch.Tensor of shape (n_samples, n_outputs) or None
        y : torch.Tensor of shape (n_samples, n_outputs)
        sample_weight : torch.Tensor of shape (n_samples,), default=None

        Returns
        -------
        loss : torch.Tensor
            Scalar.
        """
        return _reduce(self.per_sample(pred, teacher, y), sample_weight)
