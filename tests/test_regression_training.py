"""The regression student's trainer: build_student_net(task="regression")."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_kd import MLPStudent
from sklearn_kd._batch import FEATURES, SAMPLE_WEIGHT, TEACHER, append_rows
from sklearn_kd._training import (
    RegressionDistillationNet,
    build_student_net,
    prediction_net,
)
from sklearn_kd._transfer import LabelledRowSplit
from sklearn_kd.losses import RegressionDistillationLoss

N, D, K = 200, 4, 2

PARAMS = {
    "loss": "squared_error",
    "alpha": 0.5,
    "verbose": 0,
    "optimizer": "adam",
    "lr": 0.01,
    "weight_decay": 0.0,
    "max_epochs": 30,
    "batch_size": 32,
    "early_stopping": False,
    "validation_fraction": 0.2,
    "n_iter_no_change": None,
    "tol": 1e-4,
    "callbacks": None,
}


def _data(seed=0):
    """A linear target of two outputs, standardised; the teacher is the
    noiseless target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(np.float32)
    W = rng.standard_normal((D, K))
    clean = X @ W
    y = clean + 0.1 * rng.standard_normal((N, K))
    mean, scale = y.mean(0), y.std(0)
    y = ((y - mean) / scale).astype(np.float32)
    teacher = ((clean - mean) / scale).astype(np.float32)
    return {FEATURES: X, TEACHER: teacher}, y


def _module(seed=0, hidden=(16,)):
    torch.manual_seed(seed)
    return MLPStudent(D, K, hidden_layer_sizes=hidden)


def _fit(params=None, inputs=None, y=None, seed=0, **kwargs):
    if inputs is None:
        inputs, y = _data()
    net = build_student_net(
        _module(seed),
        {**PARAMS, **(params or {})},
        n_rows=len(y),
        seed=seed,
        y_idx=y,
        task="regression",
        **kwargs,
    )
    torch.manual_seed(seed)
    return net.fit(inputs, y)


def test_the_regression_net_learns_a_linear_target():
    inputs, y = _data()
    net = _fit(inputs=inputs, y=y)
    assert isinstance(net, RegressionDistillationNet)
    assert isinstance(net.criterion_, RegressionDistillationLoss)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < 0.2 * losses[0]
    pred = net.predict(inputs[FEATURES])
    assert pred.shape == (N, K) and pred.dtype == np.float32
    assert np.mean((pred - y) ** 2) < 0.1
    # the raw outputs, no softmax
    with torch.no_grad():
        raw = net.module_(torch.as_tensor(inputs[FEATURES])).numpy()
    np.testing.assert_allclose(pred, raw, rtol=1e-6, atol=1e-6)
    assert net.score(inputs[FEATURES], y) > 0.9  # R^2


def test_huber_and_its_threshold_reach_the_criterion():
    net = _fit({"loss": "huber", "huber_delta": 0.25, "max_epochs": 2})
    assert net.criterion_.loss == "huber" and net.criterion_.huber_delta == 0.25
    assert _fit({"max_epochs": 1}).criterion_.huber_delta == 1.0


def test_targets_stay_float():
    inputs, y = _data()
    net = _fit({"max_epochs": 1}, inputs=inputs, y=y)
    dataset = net.get_dataset(inputs, y)
    assert dataset.y.dtype == torch.float32
    torch.testing.assert_close(dataset.y, torch.as_tensor(y))
    # one output as a 1-D y: a column
    assert net.get_dataset(inputs, y[:, 0]).y.shape == (N, 1)


def test_rows_without_labels_train_on_the_teacher_only():
    inputs, y = _data()
    X = inputs[FEATURES]
    # the same rows again, without labels, after the labelled ones
    new = {FEATURES: X, TEACHER: inputs[TEACHER]}
    weights = np.ones(N, dtype=np.float32)
    rows, y_all = append_rows(
        {**inputs, SAMPLE_WEIGHT: weights}, y, new, weights, no_label=np.nan
    )
    assert np.isnan(y_all[N:]).all() and not np.isnan(y_all[:N]).any()
    net = _fit({"max_epochs": 10}, inputs=rows, y=y_all)
    losses = net.history[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert all(torch.isfinite(p).all() for p in net.module_.parameters())
    # with alpha=1 the labels never count: the fits with and without them
    # are the same
    teacher_only = {"alpha": 1.0, "max_epochs": 3}
    a = _fit(teacher_only, inputs=rows, y=y_all)
    b = _fit(teacher_only, inputs=rows, y=np.full_like(y_all, np.nan))
    for p, q in zip(a.module_.parameters(), b.module_.parameters()):
        torch.testing.assert_close(p, q)


def test_early_stopping_on_the_validation_loss():
    net = _fit(
        {
            "early_stopping": True,
            "n_iter_no_change": 2,
            "tol": 0.5,  # a large relative improvement needed: stops early
            "max_epochs": 50,
        }
    )
    history = net.history
    assert len(history) < 50
    assert all("valid_loss" in row for row in history)
    assert np.isfinite(history[:, "valid_loss"]).all()
    n_valid = sum(
        b["valid_batch_size"] for b in history[0]["batches"] if "valid_batch_size" in b
    )
    assert n_valid == int(np.ceil(0.2 * N))


def test_validation_is_drawn_from_the_labelled_rows():
    inputs, y = _data()
    y = y.copy()
    y[::4] = np.nan  # a quarter of the rows without labels
    params = {"early_stopping": True, "n_iter_no_change": 3, "max_epochs": 4}
    net = build_student_net(
        _module(), {**PARAMS, **params}, n_rows=N, seed=0, y_idx=y, task="regression"
    )
    split = net.train_split
    assert isinstance(split, LabelledRowSplit) and not split.stratified
    train, valid = split(net.get_dataset(inputs, y))
    assert not np.isnan(y[valid.indices]).any()
    assert set(range(0, N, 4)) <= set(train.indices)
    assert len(train) + len(valid) == N
    torch.manual_seed(0)
    net.fit(inputs, y)
    assert np.isfinite(net.history[:, "valid_loss"]).all()


def test_the_classification_split_is_unchanged():
    inputs, y = _data()
    labels = (y[:, 0] > 0).astype(np.int64)
    net = build_student_net(
        _module(),
        {
            **PARAMS,
            "loss": "kd",
            "temperature": 2.0,
            "tckd_weight": 1.0,
            "nckd_weight": 1.0,
            "scale_t2": True,
            "early_stopping": True,
        },
        seed=0,
        y_idx=labels,
        n_classes=2,
    )
    assert net.train_split.stratified is True
    assert type(net).__name__ == "DistillationNet"


def test_prediction_net_for_regression_and_pickling():
    net = _fit({"max_epochs": 2})
    restored = prediction_net(net.module_, PARAMS, net.history, task="regression")
    assert isinstance(restored, RegressionDistillationNet)
    X = _data()[0][FEATURES]
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    copy = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(copy.predict(X), net.predict(X))


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task must be one of"):
        build_student_net(_module(), PARAMS, task="ranking")
