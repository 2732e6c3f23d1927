"""Tests of sklearn_kd.losses against float64 references written here."""

from __future__ import annotations

import numpy as np
import pytest
import strategies as kst
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from references import np_kd_per_sample
from scipy.special import log_softmax

from sklearn_kd.losses import (
    LOSSES,
    REGRESSION_LOSSES,
    DistillationLoss,
    RegressionDistillationLoss,
    decoupled_kd_loss,
    decoupled_kd_terms,
    distillation_loss,
    kd_loss_per_sample,
    label_smoothing_loss,
    log_soften,
    soften,
)

RTOL, ATOL = 1e-7, 1e-9



def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def weights(n):
    return arrays(np.float64, (n,), elements=st.floats(0.0, 10.0))


def batches_with_weights():
    return kst.kd_batches().flatmap(
        lambda b: st.tuples(st.just(b), weights(b[0].shape[0]))
    )


@given(
    data=batches_with_weights(),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    scale_t2=st.booleans(),
    weighted=st.booleans(),
)
def test_distillation_loss_matches_reference(data, T, alpha, scale_t2, weighted):
    (z, q, y), w = data
    per_sample = np_kd_per_sample(z, q, y, T, alpha, scale_t2)
    expected = np.mean(per_sample * w) if weighted else np.mean(per_sample)
    loss = distillation_loss(
        t64(z),
        t64(q),
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        scale_t2=scale_t2,
        sample_weight=t64(w) if weighted else None,
    )
    assert loss.dtype == torch.float64
    assert_allclose(loss.item(), expected, rtol=RTOL, atol=ATOL)


@given(batch=kst.kd_batches(), T=kst.temperatures())
def test_alpha_zero_is_cross_entropy(batch, T):
    z, q, y = batch
    z1 = t64(z).requires_grad_(True)
    z2 = t64(z).requires_grad_(True)
    loss = distillation_loss(z1, t64(q), torch.as_tensor(y), temperature=T, alpha=0.0)
    ref = F.cross_entropy(z2, torch.as_tensor(y))
    loss.backward()
    ref.backward()
    assert_allclose(loss.item(), ref.item(), rtol=1e-12, atol=1e-12)
    assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("T", [0.05, 1.0, 20.0, 100.0])
@pytest.mark.parametrize("scale_t2", [True, False])
def test_zero_probability_gives_finite_loss(T, scale_t2):
    q = np.array([[0.0, 0.9, 0.1, 0.0], [1.0, 0.0, 0.0, 0.0]])
    z = np.array([[50.0, -50.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]])
    y = np.array([0, 3])
    z_t = t64(z).requires_grad_(True)
    loss = distillation_loss(
        z_t, t64(q), torch.as_tensor(y), temperature=T, alpha=0.5, scale_t2=scale_t2
    )
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.all(torch.isfinite(z_t.grad))
    expected = np.mean(np_kd_per_sample(z, q, y, T, 0.5, scale_t2))
    assert_allclose(loss.item(), expected, rtol=RTOL, atol=ATOL)


def test_log_soften_keeps_zeros_as_minus_infinity():
    log_q = log_soften(t64([[0.5, 0.5, 0.0]]), 20.0)
    assert log_q[0, 2].item() == -np.inf
    assert_allclose(log_q[0, :2].numpy(), np.log(0.5))


@given(data=batches_with_weights(), alpha=kst.alphas())
def test_sample_weight_multiplies_each_sample(data, alpha):
    (z, q, y), w = data
    y_t = torch.as_tensor(y)
    per_sample = torch.stack(
        [
            distillation_loss(
                t64(z[i : i + 1]), t64(q[i : i + 1]), y_t[i : i + 1], alpha=alpha
            )
            for i in range(len(y))
        ]
    )
    weighted = distillation_loss(t64(z), t64(q), y_t, alpha=alpha, sample_weight=w)
    assert_allclose(
        weighted.item(), (per_sample.numpy() * w).mean(), rtol=RTOL, atol=ATOL
    )
    ones = distillation_loss(
        t64(z), t64(q), y_t, alpha=alpha, sample_weight=np.ones(len(y))
    )
    assert_allclose(
        ones.item(),
        distillation_loss(t64(z), t64(q), y_t, alpha=alpha).item(),
        rtol=1e-12,
    )


def _function_loss(name, z, q, y, T, alpha, tckd_w, nckd_w, w, scale_t2=True):
    if name == "kd":
        return distillation_loss(
            z, q, y, temperature=T, alpha=alpha, sample_weight=w, scale_t2=scale_t2
        )
    if name == "dkd":
        return decoupled_kd_loss(
            z,
            q,
            y,
            temperature=T,
            alpha=alpha,
            tckd_weight=tckd_w,
            nckd_weight=nckd_w,
            sample_weight=w,
            scale_t2=scale_t2,
        )
    return label_smoothing_loss(z, y, epsilon=alpha, sample_weight=w)


@given(
    data=batches_with_weights(),
    name=st.sampled_from(LOSSES),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    tckd_w=st.floats(0.0, 10.0),
    nckd_w=st.floats(0.0, 10.0),
    teacher_format=st.sampled_from(["proba", "softened"]),
    weighted=st.booleans(),
    neg_entropy=st.booleans(),
    scale_t2=st.booleans(),
)
def test_module_agrees_with_functions(
    data,
    name,
    T,
    alpha,
    tckd_w,
    nckd_w,
    teacher_format,
    weighted,
    neg_entropy,
    scale_t2,
):
    """Every path of the module (unweighted, weighted, with the teacher's
    precomputed entropy) equals the functional loss."""
    (z, q, y), w = data
    if not weighted:
        w = np.ones(len(y))
    criterion = DistillationLoss(
        loss=name,
        temperature=T,
        alpha=alpha,
        tckd_weight=tckd_w,
        nckd_weight=nckd_w,
        scale_t2=scale_t2,
        teacher_format=teacher_format,
    )
    teacher = {
        "proba": t64(q),
        "softened": soften(t64(q), T),
    }[teacher_format]
    z1 = t64(z).requires_grad_(True)
    z2 = t64(z).requires_grad_(True)
    y_t = torch.as_tensor(y)
    extra = {}
    if neg_entropy:
        q_T = soften(t64(q), T)
        extra["teacher_neg_entropy"] = torch.xlogy(q_T, q_T).sum(dim=-1)
    weight = t64(w) if weighted else None
    got = criterion(z1, teacher, y_t, sample_weight=weight, **extra)
    expected = _function_loss(
        name, z2, t64(q), y_t, T, alpha, tckd_w, nckd_w, t64(w), scale_t2
    )
    got.backward()
    expected.backward()
    # float64 rounding of terms near zero, multiplied by the T**2 factor
    # (up to 1e4 at T = 100): the absolute tolerance scales with it
    atol = 1e-12 * (T**2 if scale_t2 else 1.0)
    assert_allclose(got.item(), expected.item(), rtol=1e-12, atol=atol)
    assert_allclose(z1.grad.numpy(), z2.grad.numpy(), rtol=1e-12, atol=atol)
    per_sample = criterion.per_sample(t64(z), teacher, y_t)
    assert per_sample.shape == (len(y),)
    assert_allclose(
        (per_sample.detach().numpy() * w).mean(), got.item(), rtol=1e-12, atol=1e-12
    )


@given(batch=kst.kd_batches(), T=kst.temperatures(), alpha=kst.alphas())
def test_dkd_is_weighted_sum_of_terms(batch, T, alpha):
    z, q, y = batch
    y_t = torch.as_tensor(y)
    tckd, nckd = decoupled_kd_terms(t64(z), log_soften(t64(q), T), y_t, temperature=T)
    ce = -log_softmax(z, axis=1)[np.arange(len(y)), y]
    expected = np.mean(
        (1 - alpha) * ce + alpha * T**2 * (2.0 * tckd.numpy() + 8.0 * nckd.numpy())
    )
    loss = decoupled_kd_loss(
        t64(z),
        t64(q),
        y_t,
        temperature=T,
        alpha=alpha,
        tckd_weight=2.0,
        nckd_weight=8.0,
    )
    assert_allclose(loss.item(), expected, rtol=RTOL, atol=ATOL)


def test_soften_matches_power_example():
    q_T = soften(t64([[0.8, 0.2, 0.0]]), 2.0).numpy()
    assert_allclose(q_T, [[2 / 3, 1 / 3, 0.0]], rtol=1e-12)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
Z = torch.zeros(1, 3, dtype=torch.float64)
Q = torch.tensor([[0.5, 0.25, 0.25]], dtype=torch.float64)
Y = torch.tensor([0])


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan")])
@pytest.mark.parametrize(
    "call",
    [
        lambda T: distillation_loss(Z, Q, Y, temperature=T),
        lambda T: decoupled_kd_loss(Z, Q, Y, temperature=T),
        lambda T: log_soften(Q, T),
        lambda T: soften(Q, T),
        lambda T: DistillationLoss(temperature=T),
    ],
)
def test_bad_temperature_raises(call, temperature):
    with pytest.raises(ValueError, match=r"temperature must be a float > 0, got"):
        call(temperature)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda a: distillation_loss(Z, Q, Y, alpha=a), "alpha"),
        (lambda a: decoupled_kd_loss(Z, Q, Y, alpha=a), "alpha"),
        (lambda a: DistillationLoss(alpha=a), "alpha"),
        (lambda a: label_smoothing_loss(Z, Y, epsilon=a), "epsilon"),
    ],
)
def test_bad_alpha_raises(call, name, alpha):
    with pytest.raises(ValueError, match=rf"{name} must be a float in \[0, 1\], got"):
        call(alpha)


def test_unknown_loss_name_raises():
    with pytest.raises(ValueError, match=r"loss must be one of .*'kd'.*got 'mse'"):
        DistillationLoss(loss="mse")


# --------------------------------------------------------------------------
# per-sample kernel, defaults, dtypes
# --------------------------------------------------------------------------
@given(
    batch=kst.kd_batches(),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    scale_t2=st.booleans(),
)
def test_kd_loss_per_sample_matches_reference(batch, T, alpha, scale_t2):
    z, q, y = batch
    per_sample = kd_loss_per_sample(
        t64(z),
        log_soften(t64(q), T),
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        scale_t2=scale_t2,
    )
    assert per_sample.shape == (len(y),)
    expected = np_kd_per_sample(z, q, y, T, alpha, scale_t2)
    assert_allclose(per_sample.numpy(), expected, rtol=RTOL, atol=ATOL)


def test_documented_defaults():
    rng = np.random.default_rng(0)
    z = t64(rng.normal(size=(5, 4)) * 3)
    q = t64(rng.dirichlet(np.ones(4), size=5))
    y = torch.as_tensor(rng.integers(0, 4, size=5))
    assert distillation_loss(z, q, y).item() == pytest.approx(
        distillation_loss(z, q, y, temperature=1.0, alpha=0.5, scale_t2=True).item(),
        rel=1e-15,
    )
    assert decoupled_kd_loss(z, q, y).item() == pytest.approx(
        decoupled_kd_loss(
            z,
            q,
            y,
            temperature=1.0,
            alpha=0.5,
            tckd_weight=1.0,
            nckd_weight=1.0,
            scale_t2=True,
        ).item(),
        rel=1e-15,
    )
    criterion = DistillationLoss()
    assert (criterion.loss, criterion.temperature, criterion.alpha) == ("kd", 1.0, 0.5)
    assert (criterion.tckd_weight, criterion.nckd_weight) == (1.0, 1.0)
    assert criterion.scale_t2 is True and criterion.teacher_format == "proba"
    assert criterion(z, q, y).item() == pytest.approx(
        distillation_loss(z, q, y).item(), rel=1e-12
    )
    # Not the same loss at other settings: the defaults above are meaningful.
    assert distillation_loss(z, q, y).item() != pytest.approx(
        distillation_loss(z, q, y, temperature=2.0).item(), rel=1e-6
    )


@pytest.mark.parametrize("name", LOSSES)
def test_float32_logits_give_a_float32_loss_with_float64_weights(name):
    rng = np.random.default_rng(1)
    z = torch.as_tensor(rng.normal(size=(6, 3)), dtype=torch.float32)
    q = torch.as_tensor(rng.dirichlet(np.ones(3), size=6), dtype=torch.float32)
    y = torch.as_tensor(rng.integers(0, 3, size=6))
    w = rng.uniform(0.5, 2.0, size=6)  # NumPy float64
    criterion = DistillationLoss(loss=name, temperature=2.0, alpha=0.3)
    loss = criterion(z, q, y, sample_weight=w)
    assert loss.dtype == torch.float32
    per_sample = criterion.per_sample(z, q, y).double().numpy()
    assert loss.item() == pytest.approx(np.mean(w * per_sample), rel=1e-6)


@given(data=batches_with_weights(), eps=kst.alphas())
def test_label_smoothing_matches_reference(data, eps):
    (z, _, y), w = data
    K = z.shape[1]
    log_p = log_softmax(z, axis=1)
    smoothed = (1 - eps) * np.eye(K)[y] + eps / K
    per_sample = -(smoothed * log_p).sum(axis=1)
    loss = label_smoothing_loss(
        t64(z), torch.as_tensor(y), epsilon=eps, sample_weight=t64(w)
    )
    assert_allclose(loss.item(), np.mean(w * per_sample), rtol=RTOL, atol=ATOL)


@given(batch=kst.kd_batches(), T=kst.temperatures(), alpha=kst.alphas())
def test_dkd_without_t2_scaling(batch, T, alpha):
    z, q, y = batch
    y_t = torch.as_tensor(y)
    tckd, nckd = decoupled_kd_terms(t64(z), log_soften(t64(q), T), y_t, temperature=T)
    ce = -log_softmax(z, axis=1)[np.arange(len(y)), y]
    expected = np.mean((1 - alpha) * ce + alpha * (tckd.numpy() + 3.0 * nckd.numpy()))
    loss = decoupled_kd_loss(
        t64(z), t64(q), y_t, temperature=T, alpha=alpha, nckd_weight=3.0, scale_t2=False
    )
    assert_allclose(loss.item(), expected, rtol=RTOL, atol=ATOL)


def _fixed_batch(n=6, k=4, seed=3):
    rng = np.random.default_rng(seed)
    z = t64(rng.normal(size=(n, k)) * 2)
    q = t64(rng.dirichlet(np.full(k, 0.5), size=n))
    return z, q, torch.as_tensor(rng.integers(0, k, size=n))


@pytest.mark.parametrize("name", LOSSES)
def test_every_function_weights_each_sample(name):
    z, q, y = _fixed_batch()
    w = np.linspace(0.0, 3.0, len(y))
    kwargs = dict(temperature=2.0, alpha=0.6, tckd_weight=0.5, nckd_weight=2.0)
    per_sample = DistillationLoss(loss=name, **kwargs).per_sample(z, q, y)
    loss = _function_loss(name, z, q, y, 2.0, 0.6, 0.5, 2.0, w)
    assert loss.item() == pytest.approx(np.mean(w * per_sample.numpy()), rel=1e-12)


def test_kd_loss_per_sample_scales_by_t2_by_default():
    z, q, y = _fixed_batch()
    log_q_T = log_soften(q, 3.0)
    kwargs = dict(temperature=3.0, alpha=0.7)
    default = kd_loss_per_sample(z, log_q_T, y, **kwargs)
    assert_allclose(
        default.numpy(),
        kd_loss_per_sample(z, log_q_T, y, scale_t2=True, **kwargs).numpy(),
        rtol=1e-15,
    )
    assert not np.allclose(
        default.numpy(),
        kd_loss_per_sample(z, log_q_T, y, scale_t2=False, **kwargs).numpy(),
    )


def test_kd_loss_per_sample_with_the_teacher_alone():
    z, q, y = _fixed_batch()
    per_sample = kd_loss_per_sample(
        z, log_soften(q, 2.0), y, temperature=2.0, alpha=1.0
    )
    expected = np_kd_per_sample(z.numpy(), q.numpy(), y.numpy(), 2.0, 1.0, True)
    assert_allclose(per_sample.numpy(), expected, rtol=RTOL, atol=ATOL)


def test_precomputed_neg_entropy_is_the_constant_of_the_kl_term():
    # The KL term is neg_entropy minus the cross-entropy: shifting the given
    # neg_entropy by c shifts every per-sample loss by alpha * T**2 * c.
    z, q, y = _fixed_batch()
    q_T = soften(q, 2.0)
    neg_entropy = torch.xlogy(q_T, q_T).sum(dim=1)
    criterion = DistillationLoss(temperature=2.0, alpha=0.6, teacher_format="softened")
    shifted = criterion.per_sample(z, q_T, y, neg_entropy + 1.0)
    assert_allclose(
        (shifted - criterion.per_sample(z, q_T, y, neg_entropy)).numpy(),
        0.6 * 4.0,
        rtol=1e-12,
    )
    loss = criterion(z, q_T, y, teacher_neg_entropy=neg_entropy + 1.0)
    assert loss.item() == pytest.approx(criterion(z, q_T, y).item() + 2.4, rel=1e-12)


def test_sample_weight_follows_the_device_of_the_loss():
    # NumPy weights move to the logits' device (the meta device stands in
    # for an accelerator: mixing it with CPU tensors is an error).
    z = torch.zeros(3, 4, device="meta")
    q = torch.full((3, 4), 0.25, device="meta")
    y = torch.zeros(3, dtype=torch.long, device="meta")
    for name in LOSSES:
        loss = DistillationLoss(loss=name)(z, q, y, sample_weight=np.ones(3))
        assert loss.device.type == "meta" and loss.shape == ()


def test_unknown_teacher_format_raises_naming_it():
    with pytest.raises(
        ValueError,
        match=r"^teacher_format must be one of \('proba', 'softened'\), "
        r"got 'logits'\.$",
    ):
        DistillationLoss(teacher_format="logits")


# ------------------------------------------------------------ regression
def _regression_batch(n=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((n, k)) for _ in range(3))


def _np_regression(f, t, y, loss, alpha, delta=1.0):
    """Per-row loss in float64, written out: mean over the outputs."""

    def ell(target, pred):
        r = np.abs(pred - target)
        if loss == "huber":
            return np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
        return 0.5 * r**2

    label = np.where(np.isnan(y), 0.0, ell(np.nan_to_num(y), f)).mean(axis=1)
    return (1 - alpha) * label + alpha * ell(t, f).mean(axis=1)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_regression_loss_matches_a_hand_computation(loss, alpha):
    f, t, y = _regression_batch()
    f *= 2  # residuals on both sides of the Huber threshold
    criterion = RegressionDistillationLoss(loss=loss, alpha=alpha, huber_delta=0.7)
    got = criterion.per_sample(t64(f), t64(t), t64(y))
    assert got.shape == (6,)
    assert_allclose(got.numpy(), _np_regression(f, t, y, loss, alpha, 0.7), RTOL)
    w = np.linspace(0.0, 2.0, 6)
    assert_allclose(
        float(criterion(t64(f), t64(t), t64(y), sample_weight=t64(w))),
        np.mean(w * _np_regression(f, t, y, loss, alpha, 0.7)),
        RTOL,
    )


def test_regression_loss_edge_weights_need_only_their_term():
    f, t, y = map(t64, _regression_batch())
    labels_only = RegressionDistillationLoss(alpha=0.0)
    assert_allclose(
        labels_only.per_sample(f, None, y).numpy(),
        (0.5 * (f - y) ** 2).mean(1).numpy(),
        RTOL,
    )
    teacher_only = RegressionDistillationLoss(alpha=1.0)
    assert_allclose(
        teacher_only.per_sample(f, t, None).numpy(),
        (0.5 * (f - t) ** 2).mean(1).numpy(),
        RTOL,
    )
    with pytest.raises(ValueError, match="teacher"):
        RegressionDistillationLoss(alpha=0.5)(f, None, y)
    with pytest.raises(ValueError, match="y must have the shape"):
        RegressionDistillationLoss(alpha=0.5)(f, t, y[:, 0])


def test_regression_loss_huber_is_torchs():
    f, t, y = map(t64, _regression_batch(seed=1))
    criterion = RegressionDistillationLoss(loss="huber", alpha=0.0, huber_delta=0.5)
    want = F.huber_loss(f * 3, y, reduction="none", delta=0.5).mean(1)
    assert_allclose(criterion.per_sample(f * 3, None, y).numpy(), want.numpy(), RTOL)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_rows_without_labels_train_on_the_teacher_alone(loss):
    f, t, y = _regression_batch()
    y[::2] = np.nan  # whole rows without a label
    y[1, 0] = np.nan  # one missing output
    alpha = 0.4
    criterion = RegressionDistillationLoss(loss=loss, alpha=alpha)
    pred = t64(f).requires_grad_(True)
    per_row = criterion.per_sample(pred, t64(t), t64(y))
    assert torch.isfinite(per_row).all()
    teacher_term = RegressionDistillationLoss(loss=loss, alpha=1.0).per_sample(
        t64(f), t64(t), None
    )
    assert_allclose(per_row[::2].detach().numpy(), alpha * teacher_term[::2], RTOL)
    assert_allclose(
        per_row.detach().numpy(), _np_regression(f, t, y, loss, alpha), RTOL
    )
    criterion(pred, t64(t), t64(y)).backward()
    assert torch.isfinite(pred.grad).all()
    # the gradient of a row without labels is the teacher term's alone
    alone = t64(f).requires_grad_(True)
    RegressionDistillationLoss(loss=loss, alpha=1.0)(
        alone, t64(t), None, sample_weight=torch.full((6,), alpha, dtype=torch.float64)
    ).backward()
    assert_allclose(pred.grad[::2].numpy(), alone.grad[::2].numpy(), RTOL)


def test_regression_loss_validates_its_parameters():
    with pytest.raises(ValueError, match="loss must be one of"):
        RegressionDistillationLoss(loss="absolute_error")
    with pytest.raises(ValueError, match="alpha"):
        RegressionDistillationLoss(alpha=1.5)
    for delta in (0.0, -1.0, float("inf"), True, "1"):
        with pytest.raises(ValueError, match="huber_delta"):
            RegressionDistillationLoss(loss="huber", huber_delta=delta)
    with pytest.raises(ValueError, match="2-D"):
        RegressionDistillationLoss()(torch.zeros(3), torch.zeros(3), torch.zeros(3))
