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

    def __init__(self, module, criterion):
        self.module = module
        self.criterion = criterion
        self.linears = [m for m in module.layers if isinstance(m, nn.Linear)]
        self.forward_act = _FORWARD[module.activation]
        self.backward_act = _BACKWARD[module.activation]
        self.fold = module.foldable()

    @classmethod
    def build(cls, module, criterion):
        """A :class:`FastStep` for this module and criterion, or None."""
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
        return cls(module, criterion)

    def step(self, batch):
        """Forward, loss, gradients in ``.grad``; returns skorch's step dict."""
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

        Xi, y = batch
        module, criterion = self.module, self.criterion
        if not module.training:
            module.train(True)
        with torch.no_grad():
            x = Xi[FEATURES] if isinstance(Xi, dict) else Xi
            linears = self.linears
            first = linears[0]
            if self.fold:
                weight, bias = module.first_layer()
                inputs = [x]
            else:
                weight, bias = first.weight, first.bias
                inputs = [(x - module.mean) / module.scale]
            z = torch.addmm(bias, inputs[0], weight.t())
            for layer in linears[1:]:
                h = self.forward_act(z)
                inputs.append(h)
                z = torch.addmm(layer.bias, h, layer.weight.t())

            n = z.shape[0]
            alpha = criterion.alpha
            log_p = torch.log_softmax(z, dim=1)
            grad = torch.exp(log_p)
            target = y.unsqueeze(1)
            per_row = log_p.gather(1, target).squeeze(1).neg_()
            if alpha > 0:
                T = criterion.temperature
                s = T * T if criterion.scale_t2 else 1.0
                if TEACHER in Xi:
                    q = Xi[TEACHER]
                else:
                    q = densify_top_k(Xi[TOPK], Xi[TOPK_INDEX], Xi[REST], z.shape[1])
                log_p_T = torch.log_softmax(z * (1.0 / T), dim=1)
                neg_entropy = Xi.get(NEG_ENTROPY)
                if neg_entropy is None:
                    neg_entropy = torch.xlogy(q, q).sum(dim=1)
                kl = neg_entropy - (q * log_p_T).sum(dim=1)
                per_row = per_row.mul_(1.0 - alpha).add_(kl, alpha=alpha * s)
                grad.mul_(1.0 - alpha).add_(torch.exp(log_p_T) - q, alpha=alpha * s / T)
            grad.scatter_add_(
                1, target, torch.full((n, 1), alpha - 1.0, device=z.device)
            )
            weights = Xi.get(SAMPLE_WEIGHT) if isinstance(Xi, dict) else None
            if weights is None:
                loss = per_row.mean()
                grad.mul_(1.0 / n)
            else:
                loss = (per_row * weights).mean()
                grad.mul_(weights.unsqueeze(1) * (1.0 / n))

            for i in range(len(linears) - 1, -1, -1):
                layer = linears[i]
                h = inputs[i]
                _write(layer.weight, torch.mm, grad.t(), h)
                _write(layer.bias, torch.sum, grad, 0)
                if i:
                    grad = self.backward_act(grad.mm(layer.weight), h)
            if self.fold:  # gradient of the raw weight under the fold
                g_weight = first.weight.grad
                g_weight.addr_(first.bias.grad, module.mean, alpha=-1.0)
                g_weight.div_(module.scale)
        return {"loss": loss, "y_pred": z}


def _write(param, op, *args):
    """``param.grad = op(*args)``, into the existing buffer when there is one."""
    if param.grad is None or param.grad.shape != param.shape:
        param.grad = op(*args)
    else:
        op(*args, out=param.grad)
