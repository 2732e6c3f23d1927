"""The default student's training step in closed form, without autograd.

For :class:`~sklearn_kd.MLPStudent` under the KD loss (or plain
cross-entropy) the gradient of the batch loss with respect to the logits
``z`` has a closed form,

``dL/dz_i = w_i / B * [(1 - alpha) (p_i - e_{y_i})
+ alpha * s / T * (p_T,i - q_T,i)]``,

with ``p = softmax(z)``, ``p_T = softmax(z / T)``, ``s = T**2`` (or 1
without ``scale_t2``), ``B`` the batch size and ``w_i`` the sample weights
(1 without them). The step runs the forward pass as matrix products,
back-propagates this gradient through the layers by hand, writes the
parameters' ``.grad`` in place and lets the optimiser step. Only the gradient
is written out here: the loss values come from the criterion's own per-sample
kernel (:meth:`~sklearn_kd.losses.DistillationLoss.per_sample`) applied to
the logits, so there is one definition of the loss. On small data
the autograd graph and its bookkeeping cost more than the arithmetic; here
nothing but the arithmetic runs. The result equals autograd's up to float32
rounding (the test suite checks it), and anything else (another module, a
hook, another loss) falls back to autograd.

:func:`fused_adam_step` does the same for the optimiser: torch's fused
Adam/AdamW kernel called directly on the optimiser's own state, without the
Python around ``Optimizer.step`` (profiler record, hooks, regrouping of the
tensors), which at this size costs several times the kernel.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim import optimizer as optim_module

from ._batch import (
    FEATURES,
    NEG_ENTROPY,
    REST,
    SAMPLE_WEIGHT,
    TEACHER,
    TOPK,
    TOPK_INDEX,
    densify_top_k,
)
from ._student import MLPStudent
from .losses import DistillationLoss

#: The key of :meth:`FastStep.prepare`'s constant gradient part in a batch.
GRAD_TARGET = "_grad_target"
#: The key of the per-row weight of the student's probabilities in a
#: prepared batch, when some rows have no hard label.
LABEL_COEF = "_label_coef"


def _kernel(overload):
    """The C++ callable behind an op overload (the overload if not exposed):
    calling it skips a Python frame per call."""
    return getattr(overload, "_op", overload)


_THRESHOLD_BACKWARD = _kernel(torch.ops.aten.threshold_backward.default)


# the derivative of each activation, given the gradient and the activation's
# output
def _relu_backward(grad, out):
    return _THRESHOLD_BACKWARD(grad, out, 0)


_BACKWARD = {
    "relu": _relu_backward,
    "tanh": _kernel(torch.ops.aten.tanh_backward.default),
    "logistic": _kernel(torch.ops.aten.sigmoid_backward.default),
}
_FORWARD = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "logistic": torch.sigmoid_,
}


def _has_hooks(module):
    return any(
        getattr(m, name, None)
        for m in module.modules()
        for name in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
        )
    )


class FastStep:
    """Closed-form gradient step of an :class:`MLPStudent` (see module doc)."""

    def __init__(self, module, criterion, unlabelled=False):
        self.module = module
        self.criterion = criterion
        self.linears = [m for m in module.layers if isinstance(m, nn.Linear)]
        self.forward_act = _FORWARD[module.activation]
        self.backward_act = _BACKWARD[module.activation]
        alpha = float(criterion.alpha)
        T = float(criterion.temperature)
        self.alpha = alpha
        self.inv_T = 1.0 / T
        self.soft = alpha * (T * T if criterion.scale_t2 else 1.0)  # alpha * s
        self._onehot = {}
        # the gradient buffers, in the order weight, bias of each layer
        self.params = [p for layer in self.linears for p in (layer.weight, layer.bias)]
        self._grads = None
        self.refresh(unlabelled)

    def refresh(self, unlabelled=False):
        """Read the module's statistics and say whether rows without a hard
        label may occur; called at the start of each fit.

        The statistics are constant during a fit, but loading other weights
        (or moving the module) between fits replaces them. ``unlabelled``:
        some labels may be negative (cross-entropy ignores those rows); their
        label term is then masked.
        """
        module = self.module
        self.unlabelled = bool(unlabelled)
        # standardise each batch in one fused multiply-add when the means are
        # near zero (as the fold in MLPStudent.forward), else subtract then
        # scale, for precision
        self.mean = module.mean
        self.inv_scale = 1.0 / module.scale
        self.shift = -module.mean * self.inv_scale
        self.fused_standardise = module.foldable()
        return self

    def clear_cache(self):
        """Drop the cached per-batch tensors (kept during a fit only)."""
        self._onehot.clear()

    @classmethod
    def build(cls, module, criterion, unlabelled=False):
        """A :class:`FastStep` for this module and criterion, or None;
        ``unlabelled``: some labels may be negative (no hard label)."""
        if type(module) is not MLPStudent or type(criterion) is not DistillationLoss:
            return None
        if len(getattr(module, "missing_index", ())):
            return None  # missing indicators extend the inputs in forward
        if (
            criterion.loss != "kd"
            or getattr(module, "activation", None) not in _FORWARD
        ):
            return None
        if criterion.alpha > 0 and criterion.teacher_format != "softened":
            return None
        params = list(module.parameters())
        if not all(p.requires_grad and p.dtype == torch.float32 for p in params):
            return None
        layers = [m for m in module.layers if isinstance(m, nn.Linear)]
        if len(layers) * 2 - 1 != len(module.layers) or any(
            layer.bias is None for layer in layers
        ):
            return None
        if _has_hooks(module):
            return None
        return cls(module, criterion, unlabelled)

    def _weighted_rows(self, logits, Xi, y, q=None):
        """Each row's weighted loss, from the criterion's per-sample kernel.

        ``q`` is the dense softened teacher when the caller has it. Rows
        without a hard label lose their cross-entropy term there (torch's
        ``ignore_index``), as the masked label term of the step does.
        """
        neg_entropy = None
        if self.alpha > 0:
            if q is None:
                q = self._teacher(Xi, logits.shape[1])
            neg_entropy = Xi.get(NEG_ENTROPY)
        per_row = self.criterion.per_sample(
            logits, q, y, teacher_neg_entropy=neg_entropy
        )
        weights = Xi.get(SAMPLE_WEIGHT)
        return per_row if weights is None else per_row.mul_(weights)

    def batch_loss(self, logits, Xi, y, q=None):
        """The loss of one batch from its logits: the criterion's value."""
        return self._weighted_rows(logits, Xi, y, q).mean()

    def epoch_losses(self, logits, Xi, y, batch_size):
        """The batch losses of an epoch from its logits, in one pass.

        ``logits`` are each batch's logits from :meth:`step` (computed
        before that batch's update), concatenated in batch order; ``Xi`` and
        ``y`` the epoch's tensors in the same order, cut into batches of
        ``batch_size`` rows (the last one may be shorter). Each batch loss
        is :meth:`batch_loss` of that batch.
        """
        per_row = self._weighted_rows(logits, Xi, y)
        batch, inv_sizes = self._batches(logits.shape[0], batch_size, logits.device)
        sums = torch.zeros_like(inv_sizes).index_add_(0, batch, per_row)
        return sums.mul_(inv_sizes)

    @staticmethod
    def _teacher(Xi, n_classes):
        """The softened teacher of a batch or an epoch, dense."""
        if TEACHER in Xi:
            return Xi[TEACHER]
        return densify_top_k(Xi[TOPK], Xi[TOPK_INDEX], Xi[REST], n_classes)

    def _batches(self, n, batch_size, device):
        """Each row's batch index, and 1 / each batch's size (cached)."""
        key = ("batches", n, batch_size, device)
        cached = self._onehot.get(key)
        if cached is None:
            ids = torch.arange(n, device=device).div_(batch_size, rounding_mode="floor")
            n_batches = -(-n // batch_size)
            sizes = torch.full((n_batches,), float(batch_size), device=device)
            sizes[-1] = n - batch_size * (n_batches - 1)
            cached = self._onehot[key] = (ids, sizes.reciprocal_())
        return cached

    def standardise(self, x):
        """The student's standardisation of the features ``x`` (a new tensor)."""
        if self.fused_standardise:
            return torch.addcmul(self.shift, x, self.inv_scale)
        return (x - self.mean).mul_(self.inv_scale)

    def _labels(self, y, dtype):
        """The label column for gathers, and the mask of the labelled rows
        (None when every row has a label)."""
        target = y.unsqueeze(1)
        if not self.unlabelled:  # the label term of a row without one is 0
            return target, None
        return target.clamp(min=0), (target >= 0).to(dtype)

    def _onehot_src(self, n, value, device):
        """A cached ``(n, 1)`` column of ``value`` for the label term."""
        key = (n, value, device)
        src = self._onehot.get(key)
        if src is None:
            src = self._onehot[key] = torch.full((n, 1), value, device=device)
        return src

    def _grad_buffers(self):
        """Each parameter's ``.grad``, allocated where missing (bound once)."""
        grads = self._grads
        if grads is None or any(p.grad is not g for p, g in zip(self.params, grads)):
            for p in self.params:
                if p.grad is None or p.grad.shape != p.shape:
                    p.grad = torch.empty_like(p)
            grads = self._grads = [p.grad for p in self.params]
        return grads

    def prepare(self, Xi, y):
        """An epoch's (or a batch's) tensors made ready for a lean step.

        The features standardised and, under :data:`GRAD_TARGET`, the
        constant part of the scaled logit gradient: ``q + (1 - a) / c *
        onehot(y)`` with ``c = a s / T`` (``onehot(y)`` when ``alpha=0``).
        Computed once per epoch, it leaves the steps of
        ``step(..., prepared=True)`` only the softmaxes.
        """
        out = {FEATURES: self.standardise(Xi[FEATURES])}
        if SAMPLE_WEIGHT in Xi:
            out[SAMPLE_WEIGHT] = Xi[SAMPLE_WEIGHT]
        n_classes = self.linears[-1].out_features
        if self.alpha > 0:
            target = self._teacher(Xi, n_classes)
            if TEACHER in Xi:  # written in place below
                target = target.clone()
            value = (1.0 - self.alpha) / (self.soft * self.inv_T)
        else:
            target = torch.zeros(
                (len(y), n_classes), dtype=torch.float32, device=y.device
            )
            value = 1.0
        labels, mask = self._labels(y, target.dtype)
        src = self._onehot_src(len(y), value, y.device)
        if mask is not None:  # rows without a label: no label term at all
            src = src * mask
            out[LABEL_COEF] = mask.mul_(value)
        out[GRAD_TARGET] = target.scatter_add_(1, labels, src)
        return out

    def step(self, batch, *, prepared=False):
        """Forward, loss, gradients in ``.grad``; returns skorch's step dict.

        ``"loss"`` is :meth:`batch_loss` of the logits. With
        ``prepared=True`` the batch comes from :meth:`prepare` and no loss
        is computed (``"loss"`` is None): the caller gets it from the
        logits (:meth:`epoch_losses`).
        """
        self.train_mode()
        with torch.no_grad():
            return self.raw_step(batch, prepared=prepared)

    def train_mode(self):
        """Put the module in training mode (a no-op when it is)."""
        if not self.module.training:
            self.module.train(True)

    def raw_step(self, batch, *, prepared=False):
        """:meth:`step` for a caller that holds ``torch.no_grad()`` and has
        called :meth:`train_mode` (once for many steps)."""
        Xi, y = batch
        if prepared:
            return self._prepared_step(Xi)
        if not isinstance(Xi, dict):
            Xi = {FEATURES: Xi}
        z, inputs = self._forward(self.standardise(Xi[FEATURES]))
        n = z.shape[0]
        alpha = self.alpha
        target, mask = self._labels(y, z.dtype)
        grad = torch.softmax(z, dim=1)
        if mask is not None:
            grad.mul_(mask)
        q = None
        if alpha > 0:
            q = self._teacher(Xi, z.shape[1])
            # dL/dz * n = (1 - a) (p - onehot) + a s / T (p_T - q)
            c = self.soft * self.inv_T
            grad.mul_(1.0 - alpha)
            grad.add_(torch.softmax(z * self.inv_T, dim=1), alpha=c)
            grad.sub_(q, alpha=c)
        src = self._onehot_src(n, alpha - 1.0, z.device)
        grad.scatter_add_(1, target, src if mask is None else src * mask)
        loss = self.batch_loss(z, Xi, y, q)
        self._backward(grad, 1.0 / n, Xi.get(SAMPLE_WEIGHT), inputs)
        return {"loss": loss, "y_pred": z}

    def _prepared_step(self, Xi):
        z, inputs = self._forward(Xi[FEATURES])
        if self.alpha > 0:
            # (p_T + (1 - a) / c p - target) * c / n, c = a s / T
            c = self.soft * self.inv_T
            grad = torch.softmax(z * self.inv_T, dim=1)
            coef = Xi.get(LABEL_COEF)
            if coef is None:
                grad.add_(torch.softmax(z, dim=1), alpha=(1.0 - self.alpha) / c)
            else:  # (1 - a) / c, 0 on rows without a label
                grad.addcmul_(torch.softmax(z, dim=1), coef)
            scale = c / z.shape[0]
        else:
            grad = torch.softmax(z, dim=1)
            if LABEL_COEF in Xi:
                grad.mul_(Xi[LABEL_COEF])
            scale = 1.0 / z.shape[0]
        grad.sub_(Xi[GRAD_TARGET])
        self._backward(grad, scale, Xi.get(SAMPLE_WEIGHT), inputs)
        return {"loss": None, "y_pred": z}

    def _forward(self, x):
        """The logits of the standardised ``x``, and each layer's input."""
        linears = self.linears
        inputs = [x]
        z = torch.addmm(linears[0].bias, x, linears[0].weight.t())
        for layer in linears[1:]:
            h = self.forward_act(z)
            inputs.append(h)
            z = torch.addmm(layer.bias, h, layer.weight.t())
        return z, inputs

    def _backward(self, grad, scale, weights, inputs):
        """Scale the logit gradient, then write every parameter's ``.grad``."""
        if weights is None:
            grad.mul_(scale)
        else:
            grad.mul_(weights.unsqueeze(1) * scale)
        grads = self._grad_buffers()
        linears = self.linears
        for i in range(len(linears) - 1, -1, -1):
            h = inputs[i]
            torch.mm(grad.t(), h, out=grads[2 * i])
            torch.sum(grad, 0, out=grads[2 * i + 1])
            if i:
                grad = self.backward_act(grad.mm(linears[i].weight), h)


def _lr_scheduler_wrapper(step):
    # torch's LR schedulers wrap ``optimizer.step`` on the instance only to
    # note that it was called; any other wrapper may do more
    return getattr(step, "_wrapped_by_lr_sched", False)


def fused_adam_step(optimizer):
    """A function doing ``optimizer.step()`` by torch's fused kernel, or None.

    Only for a plain :class:`torch.optim.Adam` or :class:`torch.optim.AdamW`
    built with ``fused=True`` whose state exists (after its first step) and
    whose every parameter has a gradient, with no step hooks, no gradient
    scaler and float hyper-parameters. The function reads each group's
    hyper-parameters and gradients at every call and updates the
    optimiser's own state tensors in place, exactly as ``optimizer.step()``
    does (the same kernel with the same arguments), so checkpoints, LR
    schedulers and a later ``optimizer.step()`` carry on from it.
    """
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW):
        return None
    own_step = optimizer.__dict__.get("step")
    if own_step is not None and not _lr_scheduler_wrapper(own_step):
        return None
    if (
        optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
        or optim_module._global_optimizer_pre_hooks
        or optim_module._global_optimizer_post_hooks
        or getattr(optimizer, "grad_scale", None) is not None
        or getattr(optimizer, "found_inf", None) is not None
    ):
        return None
    groups = []
    for group in optimizer.param_groups:
        if not group.get("fused") or group.get("differentiable"):
            return None
        params = group["params"]
        if not params:
            continue
        beta1, beta2 = group["betas"]
        if not all(
            isinstance(v, float) for v in (beta1, beta2, group["eps"])
        ) or not isinstance(group["weight_decay"], (int, float)):
            return None
        states = [optimizer.state.get(p) for p in params]
        if any(
            not state or "step" not in state or p.grad is None or p.is_complex()
            for p, state in zip(params, states)
        ):
            return None
        devices = {(p.device, p.dtype) for p in params}
        if len(devices) != 1:
            return None
        amsgrad = bool(group["amsgrad"])
        groups.append(
            (
                group,
                params,
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [s["max_exp_avg_sq"] for s in states] if amsgrad else [],
                [s["step"] for s in states],
                torch._fused_adamw_
                if group.get("decoupled_weight_decay")
                else torch._fused_adam_,
            )
        )

    def step():
        for group, params, avgs, avg_sqs, max_sqs, steps, kernel in groups:
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, 1)
            kernel(
                params,
                [p.grad for p in params],
                avgs,
                avg_sqs,
                max_sqs,
                steps,
                amsgrad=group["amsgrad"],
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                grad_scale=None,
                found_inf=None,
            )

    return step
