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
parameters' ``.grad`` in place and lets the optimiser step. On small data
the autograd graph and its bookkeeping cost more than the arithmetic; here
nothing but the arithmetic runs. The result equals autograd's up to float32
rounding (the test suite checks it), and anything else (another module, a
hook, another loss) falls back to autograd.
"""

from __future__ import annotations

import torch
from torch import nn

from ._net import (
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


# the derivative of each activation, given the gradient and the activation's
# output; the ``.default`` overloads skip the op packet's dispatch in Python
def _relu_backward(grad, out):
    return torch.ops.aten.threshold_backward.default(grad, out, 0)


_BACKWARD = {
    "relu": _relu_backward,
    "tanh": torch.ops.aten.tanh_backward.default,
    "logistic": torch.ops.aten.sigmoid_backward.default,
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
        # rows without a hard label (a negative index, which cross-entropy
        # ignores) may occur: mask their label term
        self.unlabelled = unlabelled
        self.linears = [m for m in module.layers if isinstance(m, nn.Linear)]
        self.forward_act = _FORWARD[module.activation]
        self.backward_act = _BACKWARD[module.activation]
        # the statistics are constant during a fit: standardise each batch in
        # one fused multiply-add when the means are near zero (as the fold
        # in MLPStudent.forward), else subtract then scale, for precision
        self.mean = module.mean
        self.inv_scale = 1.0 / module.scale
        self.shift = -module.mean * self.inv_scale
        self.fused_standardise = module.foldable()
        alpha = float(criterion.alpha)
        T = float(criterion.temperature)
        self.alpha = alpha
        self.inv_T = 1.0 / T
        self.soft = alpha * (T * T if criterion.scale_t2 else 1.0)  # alpha * s
        self._onehot = {}

    @classmethod
    def build(cls, module, criterion, unlabelled=False):
        """A :class:`FastStep` for this module and criterion, or None;
        ``unlabelled``: some labels may be negative (no hard label)."""
        from .losses import DistillationLoss

        if type(module) is not MLPStudent or type(criterion) is not DistillationLoss:
            return None
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

    def losses(self, components, sizes):
        """The batch losses from the rows written by :meth:`step`."""
        sizes = torch.as_tensor(sizes, dtype=components.dtype, device=components.device)
        parts = components[:, 2] - components[:, 1]
        parts.mul_(self.soft).sub_(components[:, 0], alpha=1.0 - self.alpha)
        return parts.div_(sizes).add_(components[:, 3])

    def _onehot_src(self, n, value, device):
        """A cached ``(n, 1)`` column of ``value`` for the label term."""
        key = (n, value, device)
        src = self._onehot.get(key)
        if src is None:
            src = self._onehot[key] = torch.full((n, 1), value, device=device)
        return src

    def step(self, batch, components=None):
        """Forward, loss, gradients in ``.grad``; returns skorch's step dict.

        With ``components`` (a zeroed row of 4 floats on the device) the
        batch loss is not assembled: its parts are written there instead,
        for :meth:`losses` to assemble once per epoch, and ``"loss"`` is
        None.
        """
        Xi, y = batch
        module = self.module
        if not module.training:
            module.train(True)
        with torch.no_grad():
            x = Xi[FEATURES] if isinstance(Xi, dict) else Xi
            if self.fused_standardise:
                x = torch.addcmul(self.shift, x, self.inv_scale)
            else:
                x = (x - self.mean).mul_(self.inv_scale)
            linears = self.linears
            inputs = [x]
            z = torch.addmm(linears[0].bias, x, linears[0].weight.t())
            for layer in linears[1:]:
                h = self.forward_act(z)
                inputs.append(h)
                z = torch.addmm(layer.bias, h, layer.weight.t())

            n = z.shape[0]
            alpha, soft = self.alpha, self.soft
            weights = Xi.get(SAMPLE_WEIGHT) if isinstance(Xi, dict) else None
            target = y.unsqueeze(1)
            mask = None
            if self.unlabelled:  # the label term of a row without one is 0
                mask = (target >= 0).to(z.dtype)
                target = target.clamp(min=0)
            log_p = torch.log_softmax(z, dim=1)
            log_p_y = log_p.gather(1, target)
            grad = torch.exp(log_p)
            if mask is not None:
                log_p_y.mul_(mask)
                grad.mul_(mask)
            if alpha > 0:
                if TEACHER in Xi:
                    q = Xi[TEACHER]
                else:
                    q = densify_top_k(Xi[TOPK], Xi[TOPK_INDEX], Xi[REST], z.shape[1])
                neg_entropy = Xi.get(NEG_ENTROPY)
                if neg_entropy is None:
                    neg_entropy = torch.xlogy(q, q).sum(dim=1)
                log_p_T = torch.log_softmax(z * self.inv_T, dim=1)
                # dL/dz * n = (1 - a) (p - onehot) + a s / T (p_T - q)
                grad.mul_(1.0 - alpha)
                grad.add_(torch.exp(log_p_T), alpha=soft * self.inv_T)
                grad.sub_(q, alpha=soft * self.inv_T)
                if weights is None and components is not None:
                    torch.sum(log_p_y, (0, 1), out=components[0])
                    torch.vdot(q.reshape(-1), log_p_T.reshape(-1), out=components[1])
                    torch.sum(neg_entropy, (0,), out=components[2])
                    loss = None
                elif weights is None:
                    # sum_i of [(1 - a) CE_i + a s (neg_entropy_i - q_i . log p_T,i)]
                    total = torch.vdot(q.reshape(-1), log_p_T.reshape(-1))
                    total = (neg_entropy.sum() - total).mul_(soft)
                    total.sub_(log_p_y.sum(), alpha=1.0 - alpha)
                    loss = total.mul_(1.0 / n)
                else:
                    kl = neg_entropy - (q * log_p_T).sum(dim=1)
                    per_row = log_p_y.squeeze(1).mul(alpha - 1.0).add_(kl, alpha=soft)
                    loss = (per_row * weights).mean()
            elif weights is None and components is not None:
                torch.sum(log_p_y, (0, 1), out=components[0])
                loss = None
            elif weights is None:
                loss = log_p_y.sum().mul_(-1.0 / n)
            else:
                loss = (log_p_y.squeeze(1) * weights).mean().neg_()
            if loss is not None and components is not None:
                components[3].copy_(loss)
            src = self._onehot_src(n, alpha - 1.0, z.device)
            grad.scatter_add_(1, target, src if mask is None else src * mask)
            if weights is None:
                grad.mul_(1.0 / n)
            else:
                grad.mul_(weights.unsqueeze(1) * (1.0 / n))

            for i in range(len(linears) - 1, -1, -1):
                layer = linears[i]
                h = inputs[i]
                _write(layer.weight, torch.mm, grad.t(), h)
                _write(layer.bias, torch.sum, grad, 0)
                if i:
                    grad = self.backward_act(grad.mm(layer.weight), h)
        return {"loss": loss, "y_pred": z}


def _write(param, op, *args):
    """``param.grad = op(*args)``, into the existing buffer when there is one."""
    if param.grad is None or param.grad.shape != param.shape:
        param.grad = op(*args)
    else:
        op(*args, out=param.grad)
