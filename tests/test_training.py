"""The skorch seams: tensor datasets, index batches and device placement."""

import numpy as np
import torch

from sklearn_kd import _training
from sklearn_kd._training import IndexBatches, TensorDictDataset, storage_device


def _dataset(n=10):
    X = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    return TensorDictDataset({"X": X}, torch.arange(n))


def test_index_batches_cover_every_row_once_per_epoch():
    dataset = _dataset(10)
    batches = IndexBatches(dataset, None, 3, shuffle=True, device="cpu")
    assert len(batches) == 4
    seen = torch.cat([yi for _, yi in batches])
    np.testing.assert_array_equal(np.sort(seen.numpy()), np.arange(10))
    ordered = IndexBatches(dataset, None, 4, shuffle=False, device="cpu")
    np.testing.assert_array_equal(
        torch.cat([yi for _, yi in ordered]).numpy(), np.arange(10)
    )


def test_index_batches_of_a_subset_keep_to_its_rows():
    subset = torch.tensor([1, 4, 7])
    batches = IndexBatches(_dataset(10), subset, 2, shuffle=True, device="cpu")
    rows = torch.cat([yi for _, yi in batches]).numpy()
    np.testing.assert_array_equal(np.sort(rows), [1, 4, 7])


def test_batches_move_to_the_training_device_when_stored_elsewhere():
    # "meta" stands in for a GPU: data stored in host memory travels per batch
    batches = IndexBatches(_dataset(6), None, 4, shuffle=False, device="meta")
    Xi, yi = next(iter(batches))
    assert Xi["X"].device.type == "meta" and yi.device.type == "meta"
    assert Xi["X"].shape == (4, 2)


def test_storage_device_keeps_large_or_prediction_data_on_the_host(monkeypatch):
    assert storage_device("cpu", 10**12, training=True) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1000, 2000))
    limit = int(_training.DEVICE_MEMORY_FRACTION * 1000)
    assert storage_device("cuda", limit, training=True).type == "cuda"
    assert storage_device("cuda", limit + 1, training=True).type == "cpu"
    assert storage_device("cuda", 1, training=False).type == "cpu"


# -- the student net as skorch users know it ---------------------------------
import functools  # noqa: E402

import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from skorch import NeuralNet  # noqa: E402
from skorch.callbacks import (  # noqa: E402
    BatchScoring,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
)
from skorch.dataset import ValidSplit  # noqa: E402

from sklearn_kd import MLPStudent  # noqa: E402
from sklearn_kd._batch import FEATURES, NEG_ENTROPY, TEACHER  # noqa: E402
from sklearn_kd._training import DistillationNet, PlainPrintLog  # noqa: E402
from sklearn_kd.losses import DistillationLoss  # noqa: E402

N_CLASSES = 3


def _inputs(n=96, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = np.arange(n) % N_CLASSES
    X[:, 0] += y  # learnable
    q = rng.dirichlet(np.ones(N_CLASSES), size=n).astype(np.float32)
    neg_entropy = (q * np.log(q)).sum(axis=1).astype(np.float32)
    return {FEATURES: X, TEACHER: q, NEG_ENTROPY: neg_entropy}, y


def _make_net(module=None, **kwargs):
    torch.manual_seed(0)
    params = dict(
        module=module if module is not None else MLPStudent(5, N_CLASSES, (8,)),
        criterion=DistillationLoss(
            alpha=0.5, temperature=2.0, teacher_format="softened"
        ),
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=3,
        batch_size=16,
        train_split=None,
        verbose=0,
        classes=np.arange(N_CLASSES),
    )
    params.update(kwargs)
    return DistillationNet(**params)


def _fit(net, seed=0):
    X, y = _inputs()
    torch.manual_seed(seed)
    return net.fit(X, y)


class _BatchWatcher(Callback):
    """Implements a batch hook, so the net runs skorch's own epoch loop."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.losses.append(net.history[-1, "batches", -1, "train_loss"])


@pytest.mark.parametrize("name", [torch.optim.Adam, torch.optim.AdamW])
def test_adam_and_adamw_are_fused_by_default(name):
    net = _make_net(optimizer=name).initialize()
    assert net.optimizer_.defaults["fused"] is True


def test_optimizer_arguments_reach_the_optimizer_and_fusing_defers_to_them():
    sgd = functools.partial(torch.optim.SGD, momentum=0.9, nesterov=True)
    net = _make_net(optimizer=sgd).initialize()
    assert isinstance(net.optimizer_, torch.optim.SGD)
    assert net.optimizer_.defaults["momentum"] == 0.9
    assert net.optimizer_.defaults["nesterov"] is True
    net = _make_net(optimizer__momentum=0.5, optimizer=torch.optim.SGD).initialize()
    assert net.optimizer_.defaults["momentum"] == 0.5
    net = _make_net(optimizer__foreach=True).initialize()
    assert not net.optimizer_.defaults["fused"]
    net = _make_net(optimizer=functools.partial(torch.optim.Adam, fused=False))
    assert not net.initialize().optimizer_.defaults["fused"]
    net = _make_net(optimizer=functools.partial(torch.optim.Adam, betas=(0.8, 0.9)))
    net.initialize()
    assert net.optimizer_.defaults["fused"] is True
    assert net.optimizer_.defaults["betas"] == (0.8, 0.9)


@pytest.mark.parametrize("whole_epochs", [True, False])
@pytest.mark.parametrize("shuffle", [True, False])
def test_lean_epoch_loop_records_what_skorchs_loop_records(
    monkeypatch, whole_epochs, shuffle
):
    # small epochs are held whole (losses from the epoch's logits); larger
    # ones are gathered batch by batch (losses assembled from their parts)
    if not whole_epochs:
        monkeypatch.setattr(_training, "EPOCH_GATHER_BYTES", 0)
    items = []
    real_item = torch.Tensor.item

    def counting_item(self):
        items.append(1)
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    lean = _fit(_make_net(iterator_train__shuffle=shuffle))
    assert items == []  # no per-batch host sync: one tolist() per epoch
    monkeypatch.setattr(torch.Tensor, "item", real_item)
    watcher = _BatchWatcher()
    reference = _fit(
        _make_net(callbacks=[("watch", watcher)], iterator_train__shuffle=shuffle)
    )
    for row, ref in zip(lean.history, reference.history):
        assert row["train_batch_count"] == ref["train_batch_count"] == 6
        got = [b["train_loss"] for b in row["batches"]]
        want = [b["train_loss"] for b in ref["batches"]]
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert [b["train_batch_size"] for b in row["batches"]] == [16] * 6
        np.testing.assert_allclose(row["train_loss"], ref["train_loss"], rtol=1e-6)
        # the epoch's loss is the batch-size weighted mean, as in skorch
        assert row["train_loss"] == pytest.approx(np.mean(got), rel=1e-12)
    assert len(watcher.losses) == 3 * 6


def test_callbacks_that_implement_nothing_are_never_called(monkeypatch):
    class Quiet(Callback):
        pass

    def refuse(*args, **kwargs):
        raise AssertionError("skorch's per-batch loop ran")

    monkeypatch.setattr(NeuralNet, "run_single_epoch", refuse)
    net = _fit(_make_net(callbacks=[("quiet", Quiet())]))
    assert "quiet" in dict(net.callbacks_)
    assert not any(isinstance(cb, Quiet) for cb in net._callbacks_with("on_epoch_end"))


def test_hooks_attached_to_an_instance_are_called():
    epochs, batches = [], []
    callback = Callback()
    callback.on_epoch_end = lambda net, **kwargs: epochs.append(len(net.history))
    other = Callback()
    other.on_batch_end = lambda net, training=False, **kw: batches.append(training)
    _fit(_make_net(callbacks=[("a", callback), ("b", other)]))
    assert epochs == [1, 2, 3]
    assert batches == [True] * 18


def test_a_callback_that_is_not_a_skorch_callback_is_a_type_error():
    with pytest.raises(TypeError, match="skorch.callbacks.Callback.*object"):
        _make_net(callbacks=[object()]).initialize()
    with pytest.raises(TypeError, match="skorch callbacks"):
        _make_net(callbacks=[("named", "print")]).initialize()


class _ModeRecorder(torch.nn.Module):
    """A module whose dropout submodule reports its mode at each forward."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(5, N_CLASSES)
        self.dropout = torch.nn.Dropout(0.0)
        self.modes = []

    def forward(self, X):
        self.modes.append((self.training, self.dropout.training))
        return self.dropout(self.linear(X))


@pytest.mark.parametrize("net_class", [DistillationNet, NeuralNet])
def test_training_mode_follows_skorchs_recursive_switch(net_class):
    # skorch switches every submodule before each step: one left in eval by
    # the user trains in train mode, and prediction runs all in eval mode
    module = _ModeRecorder()
    module.dropout.eval()
    kwargs = {} if net_class is DistillationNet else {"classes": None}
    net = _make_net(module=module, **kwargs)
    if net_class is NeuralNet:
        net = NeuralNet(
            module=module,
            criterion=torch.nn.CrossEntropyLoss,
            max_epochs=1,
            batch_size=16,
            train_split=None,
            verbose=0,
        )
        X, y = _inputs()
        net.fit(X[FEATURES], y)
    else:
        _fit(net)
    assert set(net.module_.modes) == {(True, True)}
    net.module_.modes.clear()
    net.module_.dropout.train()
    net.predict_proba(_inputs()[0][FEATURES])
    assert set(net.module_.modes) == {(False, False)}


def test_predict_proba_returns_probabilities_and_predict_classes():
    net = _fit(_make_net())
    X = _inputs()[0][FEATURES]
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(net.predict(X), proba.argmax(axis=1))
    np.testing.assert_array_equal(net.classes_, np.arange(N_CLASSES))


@pytest.mark.parametrize(
    "scoring", ["accuracy", "neg_log_loss", "balanced_accuracy", "f1_macro"]
)
def test_scikit_learn_scorers_work_in_epoch_scoring(scoring):
    net = _fit(
        _make_net(
            train_split=ValidSplit(4, stratified=True),
            callbacks=[
                ("train_score", EpochScoring(scoring, on_train=True, name="tr")),
                ("valid_score", EpochScoring(scoring, name="va")),
            ],
        )
    )
    for key in ("tr", "va"):
        values = np.array(net.history[:, key])
        assert np.isfinite(values).all()
        if scoring == "neg_log_loss":
            assert (values < 0).all()
        else:
            assert ((values >= 0) & (values <= 1)).all()


def test_early_stopping_checkpoint_and_lr_scheduler_keep_working(tmp_path):
    def callbacks(dirname):
        return [
            ("stop", EarlyStopping(monitor="train_loss", patience=2, threshold=10.0)),
            ("ckpt", Checkpoint(monitor="train_loss_best", dirname=dirname)),
            (
                "sched",
                LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5),
            ),
        ]

    params = dict(max_epochs=20, optimizer=torch.optim.SGD, lr=0.1)
    net = _fit(_make_net(callbacks=callbacks(tmp_path / "a"), **params))
    # patience 2 under an impossible threshold: 1 + 2 epochs, then stop
    assert len(net.history) == 3
    assert (tmp_path / "a" / "params.pt").exists()
    assert net.history[0, "event_cp"] is True
    # the same as skorch's own epoch loop (forced by a batch hook)
    reference = _fit(
        _make_net(
            callbacks=[*callbacks(tmp_path / "b"), ("watch", _BatchWatcher())],
            **params,
        )
    )
    assert len(reference.history) == 3
    lr = net.optimizer_.param_groups[0]["lr"]
    assert lr == reference.optimizer_.param_groups[0]["lr"] < 0.1
    np.testing.assert_allclose(
        net.history[:, "train_loss"], reference.history[:, "train_loss"], rtol=1e-6
    )


def test_lr_scheduler_stepping_every_batch_sees_every_batch():
    net = _fit(
        _make_net(
            optimizer=torch.optim.SGD,
            lr=1.0,
            callbacks=[
                (
                    "sched",
                    LRScheduler(
                        torch.optim.lr_scheduler.StepLR,
                        step_size=1,
                        gamma=0.9,
                        step_every="batch",
                    ),
                )
            ],
        )
    )
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.9**18)


def test_iterator_settings_are_honoured_or_refused():
    net = _make_net(iterator_train__shuffle=False)
    X, y = _inputs()
    dataset = net.get_dataset(X, y)
    assert net.get_iterator(dataset, training=True).shuffle is False
    assert _make_net().get_iterator(dataset, training=True).shuffle is True
    for key, value in [
        ("iterator_train__num_workers", 2),
        ("iterator_valid__pin_memory", True),
        ("dataset__length", 3),
    ]:
        with pytest.raises(ValueError, match=key):
            _fit(_make_net(**{key: value}))
    with pytest.raises(ValueError, match="iterator_train cannot be replaced"):
        _fit(_make_net(iterator_train=list))


def test_unknown_module_arguments_are_refused():
    with pytest.raises(TypeError, match="foo"):
        _make_net(module=MLPStudent, module__foo=1).initialize()


def test_epoch_log_has_no_colour_codes_off_a_terminal(capsys):
    callbacks = [("stop", EarlyStopping(monitor="train_loss", patience=100))]
    _fit(_make_net(verbose=1, callbacks=callbacks))
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out


def test_epoch_log_keeps_colour_codes_on_a_terminal(monkeypatch):
    lines = []
    log = PlainPrintLog(sink=print).initialize()
    monkeypatch.setattr(PlainPrintLog, "_terminal", lambda self: True)
    row = {"epoch": 1, "train_loss": 0.5, "train_loss_best": True, "dur": 0.1}
    lines.append(log.table(row))
    assert "\x1b[" in lines[0]
    monkeypatch.setattr(PlainPrintLog, "_terminal", lambda self: False)
    assert "\x1b[" not in log.table(row)


# -- through the estimator ----------------------------------------------------
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from sklearn_kd import DistilledClassifier  # noqa: E402


def _estimator_data():
    X, y = _inputs(n=90)
    return X[FEATURES], y, X[TEACHER]


def _estimator(**params):
    base = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    return DistilledClassifier(**{**base, **params})


def test_estimator_epoch_scoring_with_scorer_strings_on_train_and_valid():
    X, y, q = _estimator_data()
    clf = _estimator(
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=None,
        callbacks=[
            EpochScoring("accuracy", on_train=True, name="train_acc"),
            EpochScoring("neg_log_loss", name="valid_nll"),
        ],
    ).fit(X, y, teacher_proba=q)
    acc = np.array(clf.history_[:, "train_acc"])
    nll = np.array(clf.history_[:, "valid_nll"])
    assert ((acc >= 0) & (acc <= 1)).all()
    assert (np.isfinite(nll) & (nll < 0)).all()


def test_estimator_optimizer_arguments_reach_the_optimizer_and_survive_clone():
    X, y, q = _estimator_data()
    sgd = functools.partial(torch.optim.SGD, momentum=0.9, nesterov=True)
    clf = _estimator(optimizer=sgd, lr=0.05)
    twin = clone(clf)
    assert twin.optimizer.func is torch.optim.SGD
    assert twin.optimizer.keywords == {"momentum": 0.9, "nesterov": True}
    twin.fit(X, y, teacher_proba=q)
    defaults = twin.student_.optimizer_.defaults
    assert defaults["momentum"] == 0.9 and defaults["nesterov"] is True
    assert _estimator().fit(X, y, teacher_proba=q).student_.optimizer_.defaults["fused"]


def test_estimator_optimizer_arguments_are_grid_searchable():
    X, y, q = _estimator_data()
    grid = [functools.partial(torch.optim.SGD, momentum=m) for m in (0.0, 0.9)]
    search = GridSearchCV(
        _estimator(alpha=0.0, max_epochs=2), {"optimizer": grid}, cv=2
    ).fit(X, y)
    assert search.best_estimator_.optimizer.func is torch.optim.SGD


@pytest.mark.parametrize("key", ["optimizer__momentum", "module__width"])
def test_estimator_nested_optimizer_or_module_parameters_are_a_clear_error(key):
    with pytest.raises(ValueError, match=f"{key}.*functools.partial"):
        _estimator().set_params(**{key: 0.9})


def test_estimator_refuses_partials_of_non_optimizers_and_non_callbacks():
    X, y, q = _estimator_data()
    with pytest.raises(TypeError, match="functools.partial must wrap"):
        _estimator(optimizer=functools.partial(len)).fit(X, y, teacher_proba=q)
    with pytest.raises(TypeError, match="skorch callbacks"):
        _estimator(callbacks=[object()]).fit(X, y, teacher_proba=q)


class _ThreadRecorder(Callback):
    def initialize(self):
        self.threads = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.threads.append(torch.get_num_threads())


@pytest.mark.parametrize("n_threads, expected", [(None, 1), (2, 2)])
def test_estimator_thread_policy_is_scoped_to_fit_and_predict(
    n_threads, expected, monkeypatch
):
    X, y, q = _estimator_data()
    before = torch.get_num_threads()
    clf = _estimator(
        n_threads=n_threads, callbacks=[("threads", _ThreadRecorder())]
    ).fit(X, y, teacher_proba=q)
    assert set(dict(clf.student_.callbacks_)["threads"].threads) == {expected}
    assert torch.get_num_threads() == before
    seen = []
    from sklearn_kd._inference import PreparedStudent
    from sklearn_kd._threads import _blas_controllers

    def blas():  # the threads of the BLAS library numpy multiplies with
        return [lib.get_num_threads() for lib, _ in _blas_controllers()]

    numpy_logits_t = PreparedStudent.numpy_logits_t

    def spy(self, *args, **kwargs):  # the student's forward pass, in numpy
        seen.append(set(blas()))
        return numpy_logits_t(self, *args, **kwargs)

    blas_before = blas()
    monkeypatch.setattr(PreparedStudent, "numpy_logits_t", spy)
    clf.predict_proba(X)
    assert seen == [{expected}]
    assert torch.get_num_threads() == before
    assert blas() == blas_before


@pytest.mark.parametrize("architecture", ["mlp", "ple"])
def test_prediction_calls_the_module_as_skorch_would_in_any_chunking(
    architecture, monkeypatch
):
    # predict_proba calls the prepared student (no autograd) in chunks of
    # INFERENCE_BATCH_SIZE rows: the logits are skorch's own
    X, y, q = _estimator_data()
    clf = _estimator(architecture=architecture, max_epochs=2).fit(
        X, y, teacher_proba=q
    )
    want = clf.student_.forward(X.astype(np.float32)).numpy()
    monkeypatch.setattr("sklearn_kd._inference.INFERENCE_BATCH_SIZE", 7)
    got = clf.predict_log_proba(X)
    np.testing.assert_allclose(
        got, torch.log_softmax(torch.as_tensor(want, dtype=torch.float64), 1),
        rtol=0, atol=1e-6,
    )


def test_estimator_verbose_log_has_no_colour_codes_off_a_terminal(capsys):
    X, y, q = _estimator_data()
    _estimator(verbose=1, n_iter_no_change=1, tol=10.0).fit(X, y, teacher_proba=q)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out


def test_epoch_losses_are_skorchs_batch_size_weighted_means():
    # 96 rows, 24 held out: batches of 16 then 8 (train), 24 (valid)
    net = _fit(_make_net(train_split=ValidSplit(4), max_epochs=2))
    for row in net.history:
        for prefix in ("train", "valid"):
            batches = [b for b in row["batches"] if f"{prefix}_loss" in b]
            want = np.average(
                [b[f"{prefix}_loss"] for b in batches],
                weights=[b[f"{prefix}_batch_size"] for b in batches],
            )
            assert row[f"{prefix}_loss"] == pytest.approx(want, rel=1e-12)
    assert net.history[0, "valid_loss_best"] is True
    assert net.history[:, "train_loss_best"][0] is True


@pytest.mark.parametrize(
    "callback, fix",
    [
        (EpochScoring("accuracy"), r"EpochScoring\(\.\.\., on_train=True\)"),
        (BatchScoring("accuracy"), r"BatchScoring\(\.\.\., on_train=True\)"),
        (("stop", EarlyStopping(monitor="valid_loss")), "monitor 'train_loss'"),
        (Checkpoint(dirname="unused"), "monitor 'train_loss_best'"),
    ],
)
def test_estimator_validation_callbacks_without_a_validation_split_are_refused(
    callback, fix
):
    X, y, _ = _estimator_data()
    _CountingTeacher.fits = 0
    with pytest.raises(
        ValueError,
        match=r"^callbacks\[1\]: .*early_stopping=False holds out no validation "
        rf"rows.*Set early_stopping=True.*, or .*{fix}\.$",
    ):
        _estimator(
            teacher=_CountingTeacher(),
            callbacks=[EpochScoring("accuracy", on_train=True), callback],
        ).fit(X, y)
    assert _CountingTeacher.fits == 0  # refused before the teacher's fit


def test_estimator_validation_scoring_with_a_held_out_split_records_scores():
    X, y, q = _estimator_data()
    clf = _estimator(
        early_stopping=True, n_iter_no_change=None,
        callbacks=[EpochScoring("accuracy"), EpochScoring("f1_macro", on_train=True)],
    ).fit(X, y, teacher_proba=q)
    assert len(clf.history_[:, "accuracy"]) == clf.n_iter_ == 3
    assert len(clf.history_[:, "f1_macro"]) == 3


def test_estimator_non_callbacks_are_refused_before_the_teacher_is_fitted():
    X, y, _ = _estimator_data()
    _CountingTeacher.fits = 0
    with pytest.raises(TypeError, match="skorch callbacks"):
        _estimator(teacher=_CountingTeacher(), callbacks=[object()]).fit(X, y)
    assert _CountingTeacher.fits == 0


class _CountingTeacher(LogisticRegression):
    """Counts the fits of all its clones."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)
