"""The closed-form training step equals autograd's."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_kd import MLPStudent
from sklearn_kd._batch import (
    FEATURES,
    NEG_ENTROPY,
    NO_LABEL,
    REST,
    SAMPLE_WEIGHT,
    TEACHER,
    TOPK,
    TOPK_INDEX,
    densify_top_k,
)
from sklearn_kd._fast_step import FastStep, fused_adam_step
from sklearn_kd._training import DistillationNet
from sklearn_kd.losses import DistillationLoss

N, D, K = 40, 6, 4


def _batch(offset=0.0, weights=False, top_k=False, seed=0, unlabelled=False):
    rng = np.random.default_rng(seed)
    X = torch.as_tensor(rng.standard_normal((N, D)) * 3 + offset, dtype=torch.float32)
    y = torch.as_tensor(rng.integers(0, K, N))
    if unlabelled:  # a third of the rows without a hard label (transfer rows)
        y[::3] = NO_LABEL
    q = torch.as_tensor(rng.dirichlet(np.ones(K), N), dtype=torch.float32)
    Xi = {FEATURES: X, NEG_ENTROPY: (q * q.log()).sum(1)}
    if top_k:
        top, index = q.topk(2, dim=1)
        rest = (1 - top.sum(1)) / (K - 2)
        Xi.update({TOPK: top, TOPK_INDEX: index, REST: rest})
        del Xi[NEG_ENTROPY]  # also covers the entropy computed in the step
    else:
        Xi[TEACHER] = q
    if weights:
        Xi[SAMPLE_WEIGHT] = torch.as_tensor(rng.uniform(0, 2, N), dtype=torch.float32)
    return Xi, y


def _module(activation, offset, hidden=(7, 5)):
    torch.manual_seed(0)
    X = _batch(offset)[0][FEATURES]
    return MLPStudent(
        D,
        K,
        hidden_layer_sizes=hidden,
        activation=activation,
        mean=X.mean(0).numpy(),
        scale=X.std(0).numpy(),
    )


def _dense_teacher(Xi):
    teacher = Xi.get(TEACHER)
    if teacher is None and TOPK in Xi:
        teacher = densify_top_k(Xi[TOPK], Xi[TOPK_INDEX], Xi[REST], K)
    return teacher


def _autograd_grads(module, criterion, Xi, y):
    module.zero_grad(set_to_none=True)
    loss = criterion(
        module(Xi[FEATURES]),
        _dense_teacher(Xi),
        y,
        sample_weight=Xi.get(SAMPLE_WEIGHT),
        teacher_neg_entropy=Xi.get(NEG_ENTROPY),
    )
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize(
    "offset, weights, top_k, scale_t2, unlabelled",
    [
        (0.0, False, False, True, False),
        (100.0, True, False, True, False),
        (0.0, True, True, False, False),
        (0.0, False, False, True, True),
        (100.0, True, True, True, True),
    ],
)
def test_closed_form_step_equals_autograd(
    activation, alpha, offset, weights, top_k, scale_t2, unlabelled
):
    # offset 100 puts the means far from zero: the student standardises
    # explicitly instead of folding the statistics into the first layer
    module = _module(activation, offset)
    assert module.foldable() is (offset == 0.0)
    criterion = DistillationLoss(
        alpha=alpha, temperature=3.0, scale_t2=scale_t2, teacher_format="softened"
    )
    Xi, y = _batch(offset, weights, top_k, unlabelled=unlabelled)
    loss, want = _autograd_grads(module, criterion, Xi, y)
    fast = FastStep.build(module, criterion, unlabelled=unlabelled)
    assert fast is not None
    module.zero_grad(set_to_none=True)
    step = fast.step((Xi, y))
    torch.testing.assert_close(step["loss"], loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        step["y_pred"], module(Xi[FEATURES]), rtol=1e-5, atol=1e-5
    )
    for param, grad in zip(module.parameters(), want):
        torch.testing.assert_close(param.grad, grad, rtol=1e-4, atol=1e-6)
    # the loss is the criterion's own value on the step's logits
    assert torch.equal(
        step["loss"],
        criterion(
            step["y_pred"],
            _dense_teacher(Xi),
            y,
            sample_weight=Xi.get(SAMPLE_WEIGHT),
            teacher_neg_entropy=Xi.get(NEG_ENTROPY),
        ),
    )
    # a second step writes into the same gradient buffers
    buffers = [p.grad for p in module.parameters()]
    torch.testing.assert_close(fast.step((Xi, y))["loss"], loss, rtol=1e-5, atol=1e-6)
    assert all(p.grad is b for p, b in zip(module.parameters(), buffers))
    for param, grad in zip(module.parameters(), want):
        torch.testing.assert_close(param.grad, grad, rtol=1e-4, atol=1e-6)
    # the lean epoch's step: tensors prepared once, gradients only, and the
    # loss from the logits afterwards
    prepared = fast.prepare(Xi, y)
    assert prepared[FEATURES] is not Xi[FEATURES]  # the input is left alone
    step = fast.step((prepared, y), prepared=True)
    assert step["loss"] is None
    for param, grad in zip(module.parameters(), want):
        torch.testing.assert_close(param.grad, grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(
        fast.epoch_losses(step["y_pred"], Xi, y, N)[0], loss, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize(
    "weights, top_k, unlabelled",
    [(False, False, False), (True, True, False), (False, False, True)],
)
def test_epoch_losses_are_the_batch_losses(alpha, weights, top_k, unlabelled):
    # 40 rows in batches of 16: two full batches and one of 8
    module = _module("relu", 0.0)
    criterion = DistillationLoss(
        alpha=alpha, temperature=2.0, teacher_format="softened"
    )
    fast = FastStep.build(module, criterion, unlabelled=unlabelled)
    Xi, y = _batch(0.0, weights, top_k, seed=3, unlabelled=unlabelled)
    logits, want = [], []
    for start in range(0, N, 16):
        part = {key: value[start : start + 16] for key, value in Xi.items()}
        step = fast.step((part, y[start : start + 16]))
        logits.append(step["y_pred"])
        want.append(step["loss"])
    got = fast.epoch_losses(torch.cat(logits), Xi, y, 16)
    torch.testing.assert_close(got, torch.stack(want), rtol=1e-5, atol=1e-6)


class _Custom(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(D, K)

    def forward(self, X):
        return self.linear(X)


def test_anything_else_falls_back_to_autograd():
    kd = DistillationLoss(alpha=0.5, teacher_format="softened")
    module = _module("relu", 0.0)
    assert FastStep.build(module, kd) is not None
    assert FastStep.build(_Custom(), kd) is None
    assert FastStep.build(_module("gelu", 0.0), kd) is None
    assert FastStep.build(module, DistillationLoss(loss="dkd", alpha=0.5)) is None
    assert FastStep.build(module, DistillationLoss(alpha=0.5)) is None  # raw q
    hooked = _module("relu", 0.0)
    hooked.layers[0].register_forward_hook(lambda *args: None)
    assert FastStep.build(hooked, kd) is None
    frozen = _module("relu", 0.0)
    frozen.layers[0].weight.requires_grad_(False)
    assert FastStep.build(frozen, kd) is None


def test_a_fit_with_the_closed_form_step_follows_autograd():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, D)).astype(np.float32) * 2 + 1
    y = rng.integers(0, K, 120)
    q = rng.dirichlet(np.ones(K), 120).astype(np.float32)
    inputs = {FEATURES: X, TEACHER: q, NEG_ENTROPY: (q * np.log(q)).sum(1)}

    def fit(hook):
        module = _module("relu", 0.0)
        if hook:  # any forward hook sends the net down the autograd path
            module.layers[0].register_forward_hook(lambda *args: None)
        net = DistillationNet(
            module=module,
            criterion=DistillationLoss(
                alpha=0.6, temperature=2.0, teacher_format="softened"
            ),
            optimizer=torch.optim.Adam,
            lr=0.01,
            max_epochs=4,
            batch_size=32,
            train_split=None,
            verbose=0,
        )
        torch.manual_seed(0)
        net.fit(inputs, y)
        return net

    fast, slow = fit(False), fit(True)
    assert fast._fast is not None and slow._fast is None  # kept for refits
    np.testing.assert_allclose(
        fast.history[:, "train_loss"], slow.history[:, "train_loss"], rtol=1e-4
    )
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


def _net(**kwargs):
    return DistillationNet(
        module=_module("relu", 0.0),
        criterion=DistillationLoss(
            alpha=0.6, temperature=2.0, teacher_format="softened"
        ),
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=2,
        batch_size=16,
        train_split=None,
        verbose=0,
        **kwargs,
    )


def _inputs(unlabelled=False):
    Xi, y = _batch(unlabelled=unlabelled)
    return {key: value.numpy() for key, value in Xi.items()}, y.numpy()


class _GradWatcher(Callback):
    def on_grad_computed(self, net, named_parameters, **kwargs):
        pass


def test_the_step_is_chosen_when_the_net_is_initialised(monkeypatch):
    net = _net().initialize()
    fast = net._fast
    assert fast is not None and net._closure_free
    # fitting does not decide again: the same step serves every fit
    calls = []
    monkeypatch.setattr(
        FastStep, "build", classmethod(lambda cls, *a, **k: calls.append(a))
    )
    net.partial_fit(*_inputs())
    net.partial_fit(*_inputs())
    assert net._fast is fast and not calls
    monkeypatch.undo()
    # re-initialising a part decides again
    net.set_params(criterion__loss="dkd", criterion__teacher_format="proba")
    assert net._fast is None and net._closure_free
    net.set_params(criterion__loss="kd", criterion__teacher_format="softened")
    assert net._fast is not None and net._fast is not fast
    net.set_params(callbacks__print_log=_GradWatcher())
    assert net._fast is None and not net._closure_free
    net.set_params(callbacks__print_log=None)
    assert net._fast is not None
    net.set_params(callbacks=[_GradWatcher()])  # skorch: at the next initialize
    net.initialize()
    assert net._fast is None and not net._closure_free
    net.set_params(callbacks=None)
    net.optimizer = torch.optim.LBFGS  # needs a closure
    net.initialize()
    assert net._fast is None and not net._closure_free
    net.optimizer = torch.optim.SGD
    net.initialize()
    assert net._fast is not None and net._fast.module is net.module_


def test_rows_without_a_label_after_a_fit_with_labels():
    # the step chosen at initialisation masks the label term of the second
    # fit only, and trains as autograd does (skorch's step, forced by a
    # gradient hook)
    nets = []
    for callbacks in (None, [_GradWatcher()]):
        net = _net(warm_start=True, callbacks=callbacks)
        torch.manual_seed(0)
        net.fit(*_inputs())
        if callbacks is None:
            assert not net._fast.unlabelled
        net.fit(*_inputs(unlabelled=True))
        nets.append(net)
    fast, slow = nets
    assert fast._fast.unlabelled and slow._fast is None
    np.testing.assert_allclose(
        fast.history[:, "train_loss"], slow.history[:, "train_loss"], rtol=1e-4
    )


def test_a_pickled_net_rebuilds_its_step():
    net = _net()
    net.fit(*_inputs())
    copy = pickle.loads(pickle.dumps(net))
    assert copy._fast is not None and copy._fast is not net._fast
    assert copy._fast.module is copy.module_
    copy.partial_fit(*_inputs())
    assert np.isfinite(copy.history[-1, "train_loss"])


def _adam_pair(cls, **kwargs):
    """Two identical modules, each with its own fused optimiser."""
    pair = []
    for _ in range(2):
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(D, 5), torch.nn.Linear(5, K))
        pair.append((module, cls(module.parameters(), fused=True, **kwargs)))
    return pair


def _set_grads(module, seed):
    gen = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        p.grad = torch.randn(p.shape, generator=gen)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (torch.optim.Adam, {}),
        (torch.optim.Adam, {"weight_decay": 0.1, "amsgrad": True}),
        (torch.optim.AdamW, {"weight_decay": 0.1, "betas": (0.8, 0.9)}),
        (torch.optim.Adam, {"maximize": True, "eps": 1e-4}),
    ],
)
def test_direct_fused_adam_step_equals_the_optimizers_own(cls, kwargs):
    (m1, opt1), (m2, opt2) = _adam_pair(cls, lr=0.01, **kwargs)
    assert fused_adam_step(opt2) is None  # no state before the first step
    for i in range(4):
        _set_grads(m1, i)
        _set_grads(m2, i)
        if i == 2:  # a scheduler changes the learning rate between steps
            for opt in (opt1, opt2):
                opt.param_groups[0]["lr"] = 0.003
        opt1.step()
        if i == 0:
            opt2.step()
            direct = fused_adam_step(opt2)
            assert direct is not None
        else:
            direct()
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)
    for key, value in opt1.state_dict()["state"].items():
        for name, tensor in value.items():
            assert torch.equal(tensor, opt2.state_dict()["state"][key][name])


def test_direct_fused_adam_step_only_where_it_is_the_same():
    def stepped(opt, module):
        _set_grads(module, 0)
        opt.step()
        return opt

    (m, opt), _ = _adam_pair(torch.optim.Adam)
    assert fused_adam_step(stepped(opt, m)) is not None
    # an LR scheduler's wrapper of step only records the call
    torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    assert fused_adam_step(opt) is not None
    (m, opt), _ = _adam_pair(torch.optim.Adam)
    opt.register_step_post_hook(lambda *args: None)
    assert fused_adam_step(stepped(opt, m)) is None
    torch.manual_seed(0)
    m = torch.nn.Linear(D, K)
    for opt in (
        torch.optim.Adam(m.parameters(), fused=False),
        torch.optim.SGD(m.parameters(), lr=0.1),
    ):
        assert fused_adam_step(stepped(opt, m)) is None
    (m, opt), _ = _adam_pair(torch.optim.Adam)
    stepped(opt, m)
    m[0].weight.grad = None  # a parameter without a gradient
    assert fused_adam_step(opt) is None
