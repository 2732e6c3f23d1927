"""Fuzzing the public API with hypothesis.

The estimator property draws a whole problem (shape, X dtype and scale,
sometimes a NaN or inf, label type, number of classes, a teacher or
generated teacher probabilities, options) and requires that every call
either works or raises one of the documented errors (ValueError or
TypeError), that no probability is ever NaN, and that no input array is
modified. A NaN in X is a mistake unless the estimator's tags allow it
(a teacher that accepts missing values, or none needed). Each example
fits a network, so this property runs ``ESTIMATOR_EXAMPLES`` examples
instead of the profile's 200 (the loss properties use the profile). The
file stays well under 60 s with the "ci" profile.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import strategies as kst
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from sklearn_kd import DistilledClassifier
from sklearn_kd.losses import (
    DistillationLoss,
    decoupled_kd_loss,
    distillation_loss,
    label_smoothing_loss,
    log_soften,
    soften,
)

#: Examples of the (expensive) estimator property; each fits a tiny network.
ESTIMATOR_EXAMPLES = 100

DOCUMENTED_ERRORS = (ValueError, TypeError)

LABELS = {
    "int": np.array([-3, 0, 7, 42]),
    "str": np.array(["a", "b b", "ç", "10"]),
    "object": np.array(["x", "y", "z", "w"], dtype=object),
    "bool": np.array([False, True]),
}



# ------------------------------------------------------------- strategies
MISTAKES = ("nan_in_X", "inf_in_X", "single_class", "bad_teacher_proba", "neg_weight")


@st.composite
def problems(draw):
    """``(X, y, teacher_proba, sample_weight, params, mistake)``.

    ``mistake`` is None for a valid problem (1 in 2) or names the one
    deliberate error planted in it, which fit must reject with ValueError.
    """
    mistake = draw(st.sampled_from((None,) * len(MISTAKES) + MISTAKES))
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from(["float32", "float64", "int64"]))
    if dtype == "int64":
        X = draw(arrays(np.int64, (n, d), elements=st.integers(-1000, 1000)))
    else:
        width = 32 if dtype == "float32" else 64
        unit = st.floats(-1e3, 1e3, width=width, allow_subnormal=False)
        X = draw(arrays(np.dtype(dtype), (n, d), elements=unit))
        X *= X.dtype.type(draw(st.sampled_from([1.0, 1e-20, 1e20])))
    if mistake in ("nan_in_X", "inf_in_X"):
        X = X.astype(np.float64)
        bad = (
            np.nan if mistake == "nan_in_X" else draw(st.sampled_from([1, -1])) * np.inf
        )
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = bad

    kind = draw(st.sampled_from(sorted(LABELS)))
    pool = LABELS[kind]
    if mistake == "single_class":
        index = np.full(n, draw(st.integers(0, len(pool) - 1)))
    else:  # every class present, sizes as even as n allows, rows shuffled
        n_classes = draw(st.integers(2, max(2, min(len(pool), n // 2))))
        order = np.array(draw(st.permutations(range(n))))
        index = order % n_classes
    y = pool[index]

    teacher = draw(st.sampled_from(["proba", "logreg", "dummy", "none"]))
    if mistake == "bad_teacher_proba":
        teacher = "proba"
    teacher_proba = None
    if teacher == "proba":
        k = len(np.unique(y))
        teacher_proba = draw(kst.probabilities((n, k)))
        if mistake == "bad_teacher_proba":
            teacher_proba = teacher_proba * 1.01

    params = dict(
        teacher={
            "logreg": LogisticRegression(max_iter=50),
            "dummy": DummyClassifier(strategy="prior"),
        }.get(teacher),
        alpha=0.0 if teacher == "none" else draw(st.sampled_from([0.0, 0.5, 1.0])),
        temperature=draw(st.sampled_from([0.5, 1.0, 4.0])),
        loss=draw(st.sampled_from(["kd", "dkd", "label_smoothing"])),
        knowledge=draw(st.sampled_from(["full", "universe", "domain", "instance"])),
        early_stopping=draw(st.sampled_from([False, False, False, True])),
        teacher_cv=draw(st.sampled_from([None, None, None, 2])),
        batch_size=draw(st.sampled_from([1, 7, 128])),
        max_epochs=draw(st.integers(1, 3)),
        hidden_layer_sizes=(4,),
        n_iter_no_change=2,
        random_state=0,
    )
    sample_weight = None
    if mistake == "neg_weight" or draw(st.booleans()):
        sample_weight = draw(
            arrays(np.float64, (n,), elements=st.floats(0.0, 5.0, width=32))
        )
        if not sample_weight.any():  # all-zero weights are a separate error
            sample_weight[:] = 1.0
        if mistake == "neg_weight":
            sample_weight[draw(st.integers(0, n - 1))] = -1.0
    return X, y, teacher_proba, sample_weight, params, mistake


def _snapshot(*arrays_):
    return [None if a is None else np.array(a, copy=True) for a in arrays_]


def _assert_unchanged(before, after):
    for old, new in zip(before, after):
        if old is None:
            assert new is None
        else:
            assert new.dtype == old.dtype
            np.testing.assert_array_equal(new, old)


# -------------------------------------------------------------- estimator
@settings(max_examples=ESTIMATOR_EXAMPLES)
@given(problem=problems())
def test_public_api_works_or_raises_a_documented_error(problem):
    X, y, teacher_proba, sample_weight, params, mistake = problem
    before = _snapshot(X, y, teacher_proba, sample_weight)
    clf = DistilledClassifier(**params)
    if mistake == "nan_in_X" and clf.__sklearn_tags__().input_tags.allow_nan:
        mistake = None  # a NaN-aware teacher (or none): the student handles it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X, y, teacher_proba=teacher_proba, sample_weight=sample_weight)
        except DOCUMENTED_ERRORS as exc:
            event(f"fit raised {type(exc).__name__} ({mistake or 'tiny data'})")
            _assert_unchanged(before, [X, y, teacher_proba, sample_weight])
            if mistake is None:
                # a valid problem fails only where it is split: too few rows
                # for a split, or (out-of-fold teacher) a training fold whose
                # sample weights are all zero, which the teacher refuses or
                # answers with non-finite probabilities, named as such
                assert params["early_stopping"] or params["teacher_cv"], exc
                message = str(exc)
                zero_weight_fold = (
                    params["teacher_cv"] is not None
                    and sample_weight is not None
                    and (sample_weight == 0).any()
                    and (
                        "Sample weights must contain" in message
                        or "out-of-fold teacher probabilities" in message
                    )
                )
                assert "rows" in message or zero_weight_fold, exc
            return
        assert mistake is None, f"fit accepted a problem with {mistake}"
        _assert_unchanged(before, [X, y, teacher_proba, sample_weight])
        event("fit worked")
        proba = clf.predict_proba(X)
        assert proba.shape == (len(X), len(clf.classes_))
        assert not np.isnan(proba).any()
        assert np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
        pred = clf.predict(X)
        assert pred.dtype == clf.classes_.dtype
        assert set(clf.classes_.tolist()) == set(y.tolist())
        # The predictions are the most probable classes, the score their
        # accuracy, the log-probabilities the logarithm of the probabilities,
        # and a row's prediction does not depend on the rows beside it.
        np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
        assert clf.score(X, y) == pytest.approx(np.mean(pred == y), abs=1e-12)
        log_proba = clf.predict_log_proba(X)
        assert not np.isnan(log_proba).any()
        np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(
            clf.predict_proba(X[-1:]), proba[-1:], rtol=1e-4, atol=1e-6
        )
        _assert_unchanged(before, [X, y, teacher_proba, sample_weight])


# ----------------------------------------------------------------- losses
def _grad(fn, z, *args, **kwargs):
    z = z.clone().requires_grad_(True)
    value = fn(z, *args, **kwargs)
    value.backward()
    return value.detach(), z.grad


dtypes = st.sampled_from([torch.float32, torch.float64])


@given(
    batch=kst.kd_batches(),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    scale_t2=st.booleans(),
    dtype=dtypes,
)
def test_distillation_loss_is_finite(batch, T, alpha, scale_t2, dtype):
    z, q, y = batch
    z, q = torch.as_tensor(z, dtype=dtype), torch.as_tensor(q, dtype=dtype)
    value, grad = _grad(
        distillation_loss,
        z,
        q,
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        scale_t2=scale_t2,
    )
    assert torch.isfinite(value) and value >= -1e-4
    assert torch.isfinite(grad).all()


@given(
    batch=kst.kd_batches(),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    weights=st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 10.0)),
    dtype=dtypes,
)
def test_decoupled_kd_loss_is_finite(batch, T, alpha, weights, dtype):
    z, q, y = batch
    z, q = torch.as_tensor(z, dtype=dtype), torch.as_tensor(q, dtype=dtype)
    value, grad = _grad(
        decoupled_kd_loss,
        z,
        q,
        torch.as_tensor(y),
        temperature=T,
        alpha=alpha,
        tckd_weight=weights[0],
        nckd_weight=weights[1],
    )
    assert torch.isfinite(value)
    assert torch.isfinite(grad).all()


@given(batch=kst.kd_batches(), eps=kst.alphas(), dtype=dtypes)
def test_label_smoothing_loss_is_finite(batch, eps, dtype):
    z, _, y = batch
    value, grad = _grad(
        label_smoothing_loss,
        torch.as_tensor(z, dtype=dtype),
        torch.as_tensor(y),
        epsilon=eps,
    )
    assert torch.isfinite(value) and torch.isfinite(grad).all()


@given(
    batch=kst.kd_batches(),
    loss=st.sampled_from(["kd", "dkd", "label_smoothing"]),
    T=kst.temperatures(),
    alpha=kst.alphas(),
    teacher_format=st.sampled_from(["proba", "softened"]),
    weights=st.none() | st.floats(0.0, 5.0),
)
def test_distillation_loss_module_is_finite_in_float32(
    batch, loss, T, alpha, teacher_format, weights
):
    """The estimator's path: float32 logits, float32 ``log q_T`` with -inf."""
    z, q, y = batch
    teacher = torch.as_tensor(q)
    if teacher_format == "softened":
        teacher = soften(teacher, T)
    criterion = DistillationLoss(
        loss=loss, temperature=T, alpha=alpha, teacher_format=teacher_format
    )
    sample_weight = None if weights is None else torch.full((len(y),), weights)
    value, grad = _grad(
        criterion,
        torch.as_tensor(z, dtype=torch.float32),
        teacher.to(torch.float32),
        torch.as_tensor(y),
        sample_weight=sample_weight,
    )
    assert torch.isfinite(value) and torch.isfinite(grad).all()


@given(
    q=kst.shapes().flatmap(lambda shape: kst.probabilities(shape)),
    T=kst.temperatures(),
)
def test_softening_never_gives_nan(q, T):
    q = torch.as_tensor(q)
    log_q_T = log_soften(q, T)
    assert not torch.isnan(log_q_T).any()
    q_T = soften(q, T)
    assert torch.isfinite(q_T).all()
    torch.testing.assert_close(
        q_T.sum(dim=1), torch.ones(len(q), dtype=q.dtype), rtol=0, atol=1e-9
    )
    assert (q_T[q == 0] == 0).all()  # zeros stay zero (T < 1 may add more)


@given(
    T=st.floats(-10.0, 0.0) | st.just(float("nan")),
    alpha=kst.alphas(),
)
def test_loss_rejects_non_positive_temperature(T, alpha):
    z, q, y = torch.zeros(1, 2), torch.tensor([[0.5, 0.5]]), torch.tensor([0])
    with pytest.raises(ValueError, match=r"temperature must be a float > 0, got"):
        distillation_loss(z, q, y, temperature=T, alpha=alpha)


@given(alpha=st.floats(1.0, 10.0, exclude_min=True) | st.floats(-10.0, -1e-9))
def test_loss_rejects_alpha_outside_unit_interval(alpha):
    z, q, y = torch.zeros(1, 2), torch.tensor([[0.5, 0.5]]), torch.tensor([0])
    with pytest.raises(ValueError, match=r"alpha must be a float in \[0, 1\], got"):
        distillation_loss(z, q, y, temperature=1.0, alpha=alpha)
