"""Property tests of the exact identities E1-E11 (doc/theory.rst).

Each test runs sklearn_kd's torch functions in float64 and checks them
against an independent NumPy/SciPy reference written here. Gradients of the
batch-mean losses carry a factor ``1 / n_samples``; the references include it.
"""

from __future__ import annotations

import numpy as np
import pytest
import strategies as kst
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax, logsumexp, softmax, xlogy

from sklearn_kd.knowledge import instance_teacher
from sklearn_kd.losses import (
    decoupled_kd_loss,
    decoupled_kd_terms,
    distillation_loss,
    label_smoothing_loss,
    log_soften,
    soften,
)

RTOL, ATOL = 1e-7, 1e-9



# --------------------------------------------------------------------------
# NumPy references and torch plumbing
# --------------------------------------------------------------------------
def np_log_soften(q, T):
    """log softmax(log q / T), with log 0 = -inf."""
    with np.errstate(divide="ignore"):
        return log_softmax(np.log(q) / T, axis=1)


def one_hot(y, K):
    return np.eye(K)[y]


def np_true(a, y):
    return a[np.arange(len(y)), y]


def tensor(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def loss_and_grad(fn, z, *args, **kwargs):
    """Value of ``fn(z, *args, **kwargs)`` and its gradient wrt ``z``."""
    z_t = tensor(z).requires_grad_(True)
    args = [torch.as_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    args = [a.double() if torch.is_floating_point(a) else a for a in args]
    loss = fn(z_t, *args, **kwargs)
    (grad,) = torch.autograd.grad(loss, z_t)
    return loss.item(), grad.numpy()


def kd(z, q, y, T, alpha, **kwargs):
    return loss_and_grad(
        distillation_loss,
        z,
        tensor(q),
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        **kwargs,
    )


def ce_grad(z, y):
    return loss_and_grad(
        lambda z_t, y_t: F.cross_entropy(z_t, y_t), z, torch.as_tensor(y)
    )[1]


# --------------------------------------------------------------------------
# E1
# --------------------------------------------------------------------------
@given(batch=kst.kd_batches(), T=kst.temperatures(), alpha=kst.alphas())
def test_E1_gradient_matches_closed_form(batch, T, alpha):
    z, q, y = batch
    n, K = z.shape
    _, grad = kd(z, q, y, T, alpha)
    expected = (1 - alpha) * (softmax(z, axis=1) - one_hot(y, K)) + alpha * T * (
        softmax(z / T, axis=1) - np.exp(np_log_soften(q, T))
    )
    assert np.all(np.isfinite(grad))
    assert_allclose(grad, expected / n, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# E2
# --------------------------------------------------------------------------
@given(batch=kst.kd_batches(), alpha=kst.alphas())
def test_E2_kd_at_T1_is_cross_entropy_against_mixed_target(batch, alpha):
    z, q, y = batch
    n, K = z.shape
    loss, grad = kd(z, q, y, 1.0, alpha)
    mixed = (1 - alpha) * one_hot(y, K) + alpha * q
    ce_mixed = -(mixed * log_softmax(z, axis=1)).sum(axis=1)
    teacher_neg_entropy = xlogy(q, q).sum(axis=1)
    # KD = CE(mixed) - alpha * H(q): equal up to the teacher-entropy constant.
    assert_allclose(
        loss, np.mean(ce_mixed + alpha * teacher_neg_entropy), rtol=RTOL, atol=ATOL
    )
    assert_allclose(grad, (softmax(z, axis=1) - mixed) / n, rtol=RTOL, atol=ATOL)


@given(
    batch=kst.shapes().flatmap(lambda s: kst.teacher_and_labels(s, zeros=False)),
    alpha=st.floats(1e-6, 1.0),
    shift=st.floats(-10.0, 10.0),
)
def test_E2_free_logit_minimiser_is_mixed_target(batch, alpha, shift):
    q, y = batch
    K = q.shape[1]
    mixed = (1 - alpha) * one_hot(y, K) + alpha * q
    z_star = np.log(mixed) + shift
    _, grad = kd(z_star, q, y, 1.0, alpha)
    assert_allclose(grad, 0.0, atol=ATOL)
    assert_allclose(softmax(z_star, axis=1), mixed, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# E3
# --------------------------------------------------------------------------
@given(
    batch=kst.shapes().flatmap(
        lambda s: st.tuples(
            kst.logits(s), arrays(np.int64, (s[0],), elements=st.integers(0, s[1] - 1))
        )
    ),
    alpha=kst.alphas(),
)
def test_E3_uniform_teacher_at_T1_is_label_smoothing(batch, alpha):
    z, y = batch
    n, K = z.shape
    uniform = np.full((n, K), 1.0 / K)
    loss, grad = kd(z, uniform, y, 1.0, alpha)
    ls_loss, ls_grad = loss_and_grad(
        label_smoothing_loss, z, torch.as_tensor(y), epsilon=alpha
    )
    y_ls = (1 - alpha) * one_hot(y, K) + alpha / K
    ref_ls = np.mean(-(y_ls * log_softmax(z, axis=1)).sum(axis=1))
    assert_allclose(ls_loss, ref_ls, rtol=RTOL, atol=ATOL)
    # KD = LS + alpha * sum_k (1/K) log(1/K) = LS - alpha log K.
    assert_allclose(loss, ref_ls - alpha * np.log(K), rtol=RTOL, atol=ATOL)
    assert_allclose(grad, (softmax(z, axis=1) - y_ls) / n, rtol=RTOL, atol=ATOL)
    assert_allclose(grad, ls_grad, rtol=RTOL, atol=ATOL)


def test_E3_uniform_teacher_differs_from_label_smoothing_at_T_not_1():
    z = np.array([[2.0, 0.0, -1.0]])
    y = np.array([0])
    uniform = np.full((1, 3), 1.0 / 3)
    alpha = 0.5
    _, ls_grad = loss_and_grad(
        label_smoothing_loss, z, torch.as_tensor(y), epsilon=alpha
    )
    for T in (0.5, 4.0):
        _, grad = kd(z, uniform, y, T, alpha)
        expected = (1 - alpha) * (softmax(z, axis=1) - one_hot(y, 3)) + alpha * T * (
            softmax(z / T, axis=1) - 1.0 / 3
        )
        assert_allclose(grad, expected, rtol=RTOL, atol=ATOL)
        assert np.abs(grad - ls_grad).max() > 1e-2


# --------------------------------------------------------------------------
# E4, E5, E6
# --------------------------------------------------------------------------
@given(batch=kst.kd_batches(max_abs_logit=5.0), alpha=kst.alphas())
def test_E4_true_class_gradient_ratio_is_instance_weight(batch, alpha):
    # |z| <= 5 keeps 1 - p_c >= 4e-5, so the ratio of two O(1 - p_c)
    # gradients is well conditioned at the default tolerances.
    z, q, y = batch
    n, K = z.shape
    rows = np.arange(n)
    p_c = np_true(softmax(z, axis=1), y)
    q_c = np_true(q, y)
    w = 1 - alpha * (1 - q_c) / (1 - p_c)

    _, grad = kd(z, q, y, 1.0, alpha)
    g_ce = ce_grad(z, y)
    assert_allclose(g_ce[rows, y], (p_c - 1) / n, rtol=RTOL, atol=ATOL)
    assert_allclose(grad[rows, y] / g_ce[rows, y], w, rtol=RTOL, atol=ATOL)

    # w is increasing in q_c and equals 1 at q_c = 1.
    _, grad_onehot = kd(z, one_hot(y, K), y, 1.0, alpha)
    assert_allclose(grad_onehot[rows, y] / g_ce[rows, y], 1.0, rtol=RTOL)
    surer_c = (1 + q_c) / 2
    surer = surer_c[:, None] * one_hot(y, K) + (1 - surer_c)[:, None] * (
        1 - one_hot(y, K)
    ) / (K - 1)
    _, grad_surer = kd(z, surer, y, 1.0, alpha)
    ratio, ratio_surer = (
        grad[rows, y] / g_ce[rows, y],
        grad_surer[rows, y] / g_ce[rows, y],
    )
    assert np.all(ratio_surer >= ratio - ATOL)


@given(batch=kst.kd_batches(), fraction=st.floats(0.0, 1.0))
def test_E5_l1_norm_of_gradient_is_weight_times_ce_norm(batch, fraction):
    z, q, y = batch
    n, K = z.shape
    p = softmax(z, axis=1)
    off = 1 - one_hot(y, K)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratios = np.where((off > 0) & (q > 0), p / q, np.inf)
    alpha = fraction * min(1.0, float(ratios.min()))
    # The condition of E5: p_k >= alpha q_k for every k != c (alpha q_k can
    # exceed p_k by a rounding error where alpha = p_k / q_k).
    assert np.all(p * off >= alpha * q * off * (1 - 1e-12))

    p_rest = (p * off).sum(axis=1)  # 1 - p_c without cancellation
    q_rest = (q * off).sum(axis=1)
    assume(np.all(p_rest > 1e-12))
    w = 1 - alpha * q_rest / p_rest

    _, grad = kd(z, q, y, 1.0, alpha)
    g_ce = ce_grad(z, y)
    l1_ce = np.abs(g_ce).sum(axis=1)
    assert_allclose(l1_ce, 2 * p_rest / n, rtol=RTOL, atol=ATOL)
    assert_allclose(np.abs(grad).sum(axis=1), w * l1_ce, rtol=RTOL, atol=ATOL)
    assert np.all(w >= -ATOL)


@given(batch=kst.kd_batches(), alpha=kst.alphas())
def test_E6_partial_teacher_gives_same_true_class_gradient(batch, alpha):
    z, q, y = batch
    n, K = z.shape
    rows = np.arange(n)
    partial = instance_teacher(q, y)
    assert_array_equal(np_true(partial, y), np_true(q, y))
    _, grad_full = kd(z, q, y, 1.0, alpha)
    _, grad_partial = kd(z, partial, y, 1.0, alpha)
    p_c, q_c = np_true(softmax(z, axis=1), y), np_true(q, y)
    expected = ((1 - alpha) * (p_c - 1) + alpha * (p_c - q_c)) / n
    assert_allclose(grad_full[rows, y], expected, rtol=RTOL, atol=ATOL)
    assert_allclose(grad_partial[rows, y], grad_full[rows, y], rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# E7
# --------------------------------------------------------------------------
def _soft_grad(z, q, y, T):
    """Per-sample gradient of T^2 KL(q_T || p_T), i.e. T (p_T - q_T)."""
    _, grad = kd(z, q, y, T, 1.0)
    return grad * z.shape[0]


@given(
    batch=kst.kd_batches(zeros=False, max_abs_logit=5.0, teacher_scales=(0, 1, 5)),
    factor=st.floats(10.0, 1000.0),
)
def test_E7_high_temperature_limit_is_logit_matching(batch, factor):
    z, q, y = batch
    K = z.shape[1]
    v = np.log(q)
    z_c = z - z.mean(axis=1, keepdims=True)
    v_c = v - v.mean(axis=1, keepdims=True)
    spread = max(np.ptp(z, axis=1).max(), np.ptp(v, axis=1).max(), 1.0)
    T = factor * spread
    grad = _soft_grad(z, q, y, T)
    limit = (z_c - v_c) / K
    error = np.abs(grad - limit).max()
    # Second-order term of softmax(x / T) = (1 + x_c / T
    # + (x_c^2 - mean x_c^2) / (2 T^2) + ...) / K bounds T * error by about
    # (max z_c^2 + max v_c^2) / (2K); we allow a factor 2 for higher orders,
    # plus the rounding of p_T (~1e-16) amplified by T twice.
    bound = (np.max(z_c**2) + np.max(v_c**2)) / K + 1e-14 * T**2
    assert error * T <= bound


@given(
    batch=kst.kd_batches(zeros=False),
    T=kst.temperatures(),
    shift_z=st.floats(-20.0, 20.0),
    shift_v=st.floats(-20.0, 20.0),
)
def test_E7_scaled_soft_gradient_is_shift_invariant(batch, T, shift_z, shift_v):
    z, q, y = batch
    v = np.log(q)
    grad = _soft_grad(z, q, y, T)
    shifted = _soft_grad(z + shift_z, softmax(v + shift_v, axis=1), y, T)
    expected = T * (
        softmax((z + shift_z) / T, axis=1) - softmax((v + shift_v) / T, axis=1)
    )
    # Shifting z by up to 20 and rescaling by 1/T = 20 perturbs exponents by
    # ~20 * 20 * 1e-16, a relative 1e-13 in p_T, times T = 100: atol 1e-9.
    assert_allclose(shifted, expected, rtol=RTOL, atol=ATOL)
    assert_allclose(shifted, grad, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# E8
# --------------------------------------------------------------------------
@given(
    batch=kst.shapes().flatmap(lambda s: kst.teacher_and_labels(s, zeros=False)),
    T=kst.temperatures(),
    shift=st.floats(-20.0, 20.0),
)
def test_E8_soft_term_minimised_at_log_teacher(batch, T, shift):
    q, y = batch
    z_star = np.log(q) + shift
    loss, grad = kd(z_star, q, y, T, 1.0)
    assert_allclose(grad, 0.0, atol=ATOL)
    # T^2 KL(q_T || q_T) = 0; rounding of log q + shift, amplified by T^2.
    assert abs(loss) <= ATOL * max(T**2, 1.0)
    # The student's argmax is a teacher argmax (ties allowed), up to the
    # rounding of z* = log q + shift: for the top classes |z*| <= 20 + log K
    # < 25, rounded twice to half an ulp (3.6e-15 each), so two classes whose
    # log q differ by less than 1e-14 may swap. Their probabilities then agree
    # to a relative 1e-14; rtol=1e-13 states that precision with a margin.
    student_top = np.argmax(z_star, axis=1)
    assert_allclose(np_true(q, student_top), q.max(axis=1), rtol=1e-13, atol=0)


# --------------------------------------------------------------------------
# E9
# --------------------------------------------------------------------------
def np_decoupled(z, q, y, T):
    """Reference TCKD, NCKD and KL, from the definitions."""
    n, K = z.shape
    rows = np.arange(n)
    log_q = np_log_soften(q, T)
    q_T = np.exp(log_q)
    log_p = log_softmax(z / T, axis=1)
    target = one_hot(y, K).astype(bool)
    kl = xlogy(q_T, q_T).sum(axis=1) - (q_T * log_p).sum(axis=1)

    q_c = q_T[rows, y]
    q_rest = np.where(target, 0.0, q_T).sum(axis=1)
    log_p_c = log_p[rows, y]
    log_p_rest = logsumexp(np.where(target, -np.inf, z / T), axis=1) - logsumexp(
        z / T, axis=1
    )
    tckd = xlogy(q_c, q_c) + xlogy(q_rest, q_rest) - q_c * log_p_c - q_rest * log_p_rest
    with np.errstate(invalid="ignore", divide="ignore"):
        q_hat = np.where(target, 0.0, q_T) / q_rest[:, None]
    q_hat = np.where(q_rest[:, None] > 0, q_hat, 0.0)
    z_rest = np.where(target, -np.inf, z / T)
    log_p_hat = np.where(target, 0.0, log_softmax(z_rest, axis=1))
    nckd = xlogy(q_hat, q_hat).sum(axis=1) - (q_hat * log_p_hat).sum(axis=1)
    return tckd, nckd, kl, q_rest


@given(batch=kst.kd_batches(), T=kst.temperatures(), alpha=kst.alphas())
def test_E9_kl_decomposes_into_tckd_and_nckd(batch, T, alpha):
    z, q, y = batch
    tckd_ref, nckd_ref, kl_ref, q_rest = np_decoupled(z, q, y, T)
    tckd, nckd = decoupled_kd_terms(
        tensor(z), log_soften(tensor(q), T), torch.as_tensor(y), temperature=T
    )
    tckd, nckd = tckd.numpy(), nckd.numpy()
    assert_allclose(tckd, tckd_ref, rtol=RTOL, atol=ATOL)
    assert_allclose(nckd, nckd_ref, rtol=RTOL, atol=ATOL)
    assert_allclose(tckd + q_rest * nckd, kl_ref, rtol=RTOL, atol=ATOL)

    # DKD with a = 1 and b = 1 - q_T,c per sample is KD: values and gradients.
    kd_loss, kd_grad = kd(z, q, y, T, alpha)
    dkd_loss, dkd_grad = loss_and_grad(
        decoupled_kd_loss,
        z,
        tensor(q),
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        tckd_weight=1.0,
        nckd_weight=tensor(q_rest),
    )
    assert_allclose(dkd_loss, kd_loss, rtol=RTOL, atol=ATOL)
    assert_allclose(dkd_grad, kd_grad, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------
# E10
# --------------------------------------------------------------------------
@given(
    dims=st.tuples(kst.n_classes(), st.integers(2, 8)).flatmap(
        lambda s: st.tuples(
            arrays(np.float64, s, elements=st.floats(-1, 1)),
            arrays(np.float64, (s[1],), elements=st.floats(-3, 3)),
        )
    ),
    radius=st.floats(0.1, 10.0),
)
def test_E10_logit_order_is_reverse_distance_order(dims, radius):
    W, h = dims
    norms = np.linalg.norm(W, axis=1)
    assume(np.all(norms > 1e-3))
    W = radius * W / norms[:, None]
    z = (tensor(h) @ tensor(W).T).numpy()  # z_k = h . w_k
    dist = np.linalg.norm(h[None, :] - W, axis=1)
    # ||h - w_k||^2 = ||h||^2 + r^2 - 2 z_k, so z_j - z_k = (d_k^2 - d_j^2) / 2.
    scale = (np.linalg.norm(h) + radius) ** 2
    assert_allclose(
        z[:, None] - z[None, :],
        (dist[None, :] ** 2 - dist[:, None] ** 2) / 2,
        rtol=RTOL,
        atol=ATOL * scale,
    )
    gap = z[:, None] - z[None, :]
    clear = np.abs(gap) > 1e-9 * scale
    dist_gap = dist[:, None] - dist[None, :]
    assert np.all(np.sign(gap[clear]) == -np.sign(dist_gap[clear]))


@given(
    batch=kst.shapes().flatmap(
        lambda s: st.tuples(
            arrays(np.int64, (s[0],), elements=st.integers(0, s[1] - 1)),
            arrays(np.float64, (s[0], 1), elements=st.floats(-10, 10)),
            st.just(s[1]),
        )
    ),
    eps=st.floats(1e-6, 1.0),
)
def test_E10_label_smoothing_optimum_has_equal_gaps(batch, eps):
    y, offset, K = batch
    gap = np.log1p(K * (1 - eps) / eps)
    z = offset + gap * one_hot(y, K)  # z_c - z_k = gap for every k != c
    _, grad = loss_and_grad(label_smoothing_loss, z, torch.as_tensor(y), epsilon=eps)
    y_ls = (1 - eps) * one_hot(y, K) + eps / K
    assert_allclose(softmax(z, axis=1), y_ls, rtol=RTOL, atol=ATOL)
    assert_allclose(grad, 0.0, atol=ATOL)


# --------------------------------------------------------------------------
# E11
# --------------------------------------------------------------------------
@given(
    q=kst.shapes().flatmap(lambda s: kst.probabilities(s)),
    T=kst.temperatures(),
)
def test_E11_softening_identities(q, T):
    q_T = soften(tensor(q), T).numpy()
    powered = q ** (1.0 / T)
    reference = powered / powered.sum(axis=1, keepdims=True)
    assert_allclose(q_T, reference, rtol=RTOL, atol=ATOL)
    assert np.all(np.isfinite(q_T))
    assert_allclose(q_T.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # zeros kept exactly
    assert np.all(q_T[q == 0] == 0)
    # order kept, so the argmax is kept, up to the precision of q_T itself
    # (relative RTOL against the reference above): near ties may swap.
    top = np.argmax(q, axis=1)
    assert_allclose(np_true(q_T, top), q_T.max(axis=1), rtol=2 * RTOL, atol=2 * ATOL)
    # T = 1 is the identity
    assert_allclose(soften(tensor(q), 1.0).numpy(), q, rtol=1e-12, atol=1e-15)
    # large T: within (e^{R/T} - 1) / m of uniform over the m-class support,
    # where R is the range of log q on the support (exact softmax bound).
    support = q > 0
    m = support.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_q = np.where(support, np.log(np.where(support, q, 1.0)), np.nan)
    R = (np.nanmax(log_q, axis=1) - np.nanmin(log_q, axis=1))[:, None]
    for big_T in (T, 1e3 * T, 1e8):
        soft = soften(tensor(q), big_T).numpy()
        uniform = np.where(support, 1.0 / m, 0.0)
        with np.errstate(over="ignore"):  # R / T may exceed 709: bound = inf
            bound = np.expm1(R / big_T) / m
        assert np.all(np.abs(soft - uniform) <= bound * (1 + 1e-9) + 1e-15)


# --------------------------------------------------------------------------
# edge cases pinned by name
# --------------------------------------------------------------------------
EDGE_TEACHERS = {
    "zero_at_true_class": [[0.0, 0.7, 0.3, 0.0]],
    "one_hot_other_class": [[0.0, 1.0, 0.0, 0.0]],
    "one_hot_true_class": [[1.0, 0.0, 0.0, 0.0]],
    "near_one_hot": [[1.0 - 3e-15, 1e-15, 2e-15, 0.0]],
    "tiny_entries": [[1.0 - 1e-300, 1e-300, 0.0, 0.0]],
}
EDGE_LOGITS = {
    "zero": [[0.0, 0.0, 0.0, 0.0]],
    "extreme": [[50.0, -50.0, 0.0, -50.0]],
    "extreme_wrong": [[-50.0, 50.0, 50.0, -50.0]],
    "huge": [[1e3, -1e3, 0.0, 5.0]],
}


@pytest.mark.parametrize("loss", ["kd", "dkd"])
@pytest.mark.parametrize("T", [0.05, 1.0, 20.0, 100.0])
@pytest.mark.parametrize("teacher", sorted(EDGE_TEACHERS))
@pytest.mark.parametrize("logits", sorted(EDGE_LOGITS))
def test_zero_probability_gives_finite_loss_and_gradient(loss, T, teacher, logits):
    q = np.array(EDGE_TEACHERS[teacher])
    z = np.array(EDGE_LOGITS[logits])
    y = np.array([0])
    fn = distillation_loss if loss == "kd" else decoupled_kd_loss
    value, grad = loss_and_grad(
        fn, z, tensor(q), torch.as_tensor(y), temperature=T, alpha=0.7
    )
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    expected = 0.3 * (softmax(z, axis=1) - one_hot(y, 4)) + 0.7 * T * (
        softmax(z / T, axis=1) - np.exp(np_log_soften(q, T))
    )
    if loss == "kd":  # DKD with unit weights has a different gradient
        assert_allclose(grad, expected, rtol=RTOL, atol=ATOL)


def test_zero_stays_zero_when_softened_not_clipped():
    # A clipped 1e-8 would become 1e-8 ** (1 / 20) = 0.4 before renormalising.
    q = tensor([[0.9, 0.1, 0.0]])
    q_T = soften(q, 20.0).numpy()
    assert q_T[0, 2] == 0.0
    assert_allclose(q_T[0, :2].sum(), 1.0, rtol=1e-12)
