"""The skorch network that trains a student against teacher targets.

skorch stays the engine (``fit_loop``, callbacks, history, validation
split); only its public methods are overridden:

- ``get_dataset`` builds the tensors once and moves them to the device once;
- ``get_iterator`` batches them by index slicing instead of a per-row
  ``Dataset``/``DataLoader`` round trip;
- ``infer`` feeds only the features to the module; the teacher targets and
  sample weights travel beside them in the batch dict;
- ``get_loss`` hands those targets to the distillation criterion;
- ``initialize_optimizer`` asks for torch's fused Adam/AdamW kernels;
- ``notify`` calls only the callbacks that implement a hook;
- ``run_single_epoch`` keeps the batch losses on the device and writes them
  to the history once per epoch, when no callback watches single batches;
  with the closed-form step it prepares small epochs once, calls the fused
  Adam kernel directly and computes the batch losses from the epoch's
  logits;
- the ``train_loss``/``valid_loss`` callbacks read the history's batch rows
  directly (:class:`BatchMeanLoss`);
- ``train_step`` runs the default student's closed-form step (see
  :mod:`sklearn_kd._fast_step`) when the module, loss and optimiser allow it,
  and skorch's autograd step otherwise; which one is decided when the net
  is initialised, not at each fit.

:class:`StudentNet` holds all of this; :class:`DistillationNet` adds the
classifier (class indices, probabilities, the KD criterion's teacher
inputs) and :class:`RegressionDistillationNet` the regressor (float targets
with NaN for rows without a label, raw outputs).
"""

from __future__ import annotations

import copy
import functools
import math
import re
import sys

import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, PassthroughScoring, PrintLog
from skorch.dataset import ValidSplit, get_len
from skorch.history import History

from ._batch import (
    FEATURES,
    NEG_ENTROPY,
    REST,
    SAMPLE_WEIGHT,
    TEACHER,
    TOPK,
    TOPK_INDEX,
    densify_top_k,
    has_label,
)
from ._fast_step import FastStep, fused_adam_step
from ._transfer import LabelledRowSplit
from ._validation import check_choice
from .losses import DistillationLoss, RegressionDistillationLoss

#: Rows per forward pass when not training (prediction and validation).
INFERENCE_BATCH_SIZE = 8192

#: Training tensors go to a GPU once, when they take at most this share of
#: its free memory; otherwise they stay in host memory and each batch is
#: copied over.
DEVICE_MEMORY_FRACTION = 0.5

#: A shuffled epoch whose rows take at most this many bytes is gathered in
#: one operation per tensor and cut into views; larger ones are gathered
#: batch by batch, so that a fit never holds a second copy of large data.
EPOCH_GATHER_BYTES = 32 * 2**20

#: Optimisers that accept ``fused=True``; it is asked for when the caller
#: left ``fused`` and ``foreach`` unset, and dropped if torch refuses it on
#: the device.
FUSABLE_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW)

#: Optimisers whose ``step`` needs no closure: training steps skip skorch's
#: closure round trip for them.
CLOSURE_FREE_OPTIMIZERS = (
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.SGD,
    torch.optim.RMSprop,
    torch.optim.Adagrad,
)

#: The iterator parameters the index batches honour.
ITERATOR_PARAMS = {"iterator_train": {"shuffle"}, "iterator_valid": set()}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def storage_device(device, n_bytes, training):
    """Where a dataset's tensors live: on ``device`` when they fit.

    Data for prediction stays in host memory and travels batch by batch, so
    predicting on many rows never fills the GPU.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return device
    if not training:
        return torch.device("cpu")
    free, _ = torch.cuda.mem_get_info(device)
    return device if n_bytes <= DEVICE_MEMORY_FRACTION * free else torch.device("cpu")


class TensorDictDataset(torch.utils.data.Dataset):
    """Named tensors of equal length plus the hard labels, held on a device.

    Only :class:`IndexBatches` reads it, by gathering whole batches; it has
    no per-row access.
    """

    def __init__(self, tensors, y=None):
        self.tensors = tensors
        self.y = y
        first = next(iter(tensors.values()))
        self.n_rows = len(first)
        self.device = first.device

    def __len__(self):
        return self.n_rows


class IndexBatches:
    """Mini-batches of a :class:`TensorDictDataset` by index slicing.

    Training batches follow a fresh permutation each epoch, drawn from
    torch's default generator (seeded by the estimator); other batches are
    contiguous slices in row order.

    ``transform``, when set, maps a dict of tensors and the labels to a new
    dict (never changing them in place) before they are cut into batches:
    once per epoch when the epoch is held whole (see :meth:`whole_epoch`),
    else batch by batch. ``epoch`` holds the tensors of the epoch last
    iterated when it was held whole, as ``(tensors, y)`` before the
    transform, else None.
    """

    def __init__(self, dataset, indices, batch_size, shuffle, device):
        self.dataset = dataset
        self.indices = indices
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = torch.device(device)
        self.n_rows = len(dataset) if indices is None else len(indices)
        # data kept in host memory travels to the training device per batch
        self.move = dataset.device != self.device
        self.transform = None
        self.epoch = None
        self._epoch_bytes = None

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def epoch_bytes(self):
        """Bytes of one epoch's rows of every tensor."""
        if self._epoch_bytes is None:
            tensors = list(self.dataset.tensors.values())
            if self.dataset.y is not None:
                tensors.append(self.dataset.y)
            row_bytes = sum(t[0].nbytes for t in tensors if len(t))
            self._epoch_bytes = row_bytes * self.n_rows
        return self._epoch_bytes

    def _take(self, idx):
        if isinstance(idx, slice):
            Xi = {key: value[idx] for key, value in self.dataset.tensors.items()}
            yi = self.dataset.y[idx] if self.dataset.y is not None else None
        else:  # index_select gathers rows several times faster than X[idx]
            Xi = {
                key: value.index_select(0, idx)
                for key, value in self.dataset.tensors.items()
            }
            y = self.dataset.y
            yi = y.index_select(0, idx) if y is not None else None
        if self.move:
            Xi = {
                key: value.to(self.device, non_blocking=True)
                for key, value in Xi.items()
            }
            if yi is not None:
                yi = yi.to(self.device, non_blocking=True)
        return Xi, yi

    def whole_epoch(self):
        """Whether an epoch's rows are held at once, in batch order.

        True for small data in memory on the training device (gathered
        in one operation when shuffled).
        """
        return (
            not self.move
            and (self.shuffle or self.indices is None)
            and self.epoch_bytes() <= EPOCH_GATHER_BYTES
        )

    def _transformed(self, Xi, y):
        return Xi if self.transform is None else self.transform(Xi, y)

    def _cut(self, tensors, y):
        """Batches of an epoch held whole: views, one split per tensor."""
        self.epoch = (tensors, y)
        tensors = self._transformed(tensors, y)
        bs = self.batch_size
        splits = {key: value.split(bs) for key, value in tensors.items()}
        ys = [None] * len(self) if y is None else y.split(bs)
        for i, yi in enumerate(ys):
            yield {key: parts[i] for key, parts in splits.items()}, yi

    def __iter__(self):
        n, bs = self.n_rows, self.batch_size
        self.epoch = None
        if self.shuffle:
            order = torch.randperm(n).to(self.dataset.device)
            if self.indices is not None:
                order = self.indices[order]
            if self.whole_epoch():
                # small data: gather the epoch's rows once, then slice views
                yield from self._cut(*self._take(order))
                return
            for start in range(0, n, bs):
                yield self._take_transformed(order[start : start + bs])
        elif (
            # in order and in place, untransformed: views cost nothing
            self.indices is None and not self.move and self.transform is None
        ) or self.whole_epoch():
            yield from self._cut(self.dataset.tensors, self.dataset.y)
        elif self.indices is None:
            for start in range(0, n, bs):
                yield self._take_transformed(slice(start, start + bs))
        else:
            for start in range(0, n, bs):
                yield self._take_transformed(self.indices[start : start + bs])

    def _take_transformed(self, idx):
        Xi, yi = self._take(idx)
        return self._transformed(Xi, yi), yi


def implements(callback, method_name):
    """Whether ``callback`` does something in the hook ``method_name``.

    True when its class overrides the no-op :class:`skorch.callbacks.Callback`
    method or a function was attached to the instance itself.
    """
    method = getattr(callback, method_name, None)
    if method is None:
        return False
    function = getattr(method, "__func__", method)
    return function is not getattr(Callback, method_name, None)


def optimizer_class(optimizer):
    """The class behind ``optimizer``, looking through ``functools.partial``."""
    while isinstance(optimizer, functools.partial):
        optimizer = optimizer.func
    return optimizer


def _partial_keywords(optimizer):
    keywords = {}
    while isinstance(optimizer, functools.partial):
        keywords = {**optimizer.keywords, **keywords}
        optimizer = optimizer.func
    return keywords


def softmax_rows(logits):
    """The student's probabilities: softmax over the last axis."""
    return torch.softmax(logits, dim=-1)


class FiniteLossGuard(Callback):
    """Stop a diverging run with a clear error instead of NaN weights."""

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not np.isfinite(value):
                raise FloatingPointError(
                    f"The student's {key} became {value} at epoch "
                    f"{row['epoch']}: training diverged. Lower `lr`, or check "
                    "the inputs and the teacher probabilities."
                )


class BatchMeanLoss(PassthroughScoring):
    """skorch's ``train_loss``/``valid_loss`` callback, read directly.

    The epoch's loss is the mean of its batch losses weighted by the batch
    sizes, as in :class:`skorch.callbacks.PassthroughScoring`; the batch
    rows are read from the history's list instead of through its slicing
    interface, which costs more than a small epoch's training.
    """

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        if type(history) is not History:
            return super().on_epoch_end(net, **kwargs)
        name = self.name
        size_key = "train_batch_size" if self.on_train else "valid_batch_size"
        rows = [b for b in history[-1]["batches"] if name in b]
        if not rows:  # no such batches (no validation data): nothing to record
            return
        weight = sum(b[size_key] for b in rows)
        score = np.float64(sum(b[size_key] * b[name] for b in rows) / weight)
        # skorch's own rule for the ``_best`` flag (a private method of the
        # parent class; test_training checks the flags, so a change in skorch fails)
        is_best = self._is_best_score(score)
        if is_best:
            self.best_score_ = score
        history.record(name, score)
        if is_best is not None:
            history.record(name + "_best", bool(is_best))


class PlainPrintLog(PrintLog):
    """skorch's epoch table, with its colour codes only on a terminal.

    Written to a file or a pipe (a log), the table is plain text.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not self._terminal():
            text = _ANSI.sub("", text)
        return text

    def _terminal(self):
        if self.sink is not print:
            return False
        isatty = getattr(sys.stdout, "isatty", None)
        return bool(isatty and isatty())


#: What a pickled net holds in place of a ``module`` that is ``module_``.
_SAME_AS_MODULE_ = "<the module_ attribute>"


def check_callbacks(callbacks):
    """The callbacks, unpacked from their (name, callback) tuples.

    Raises TypeError for anything but a skorch callback (instance or class).
    """
    unpacked = []
    for item in callbacks or []:
        callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        is_class = isinstance(callback, type) and issubclass(callback, Callback)
        if not (is_class or isinstance(callback, Callback)):
            raise TypeError(
                "callbacks must be skorch callbacks (instances or "
                "subclasses of skorch.callbacks.Callback), optionally as "
                f"(name, callback) tuples; got {item!r}."
            )
        unpacked.append(callback)
    return unpacked


class StudentNet(NeuralNet):
    """skorch ``NeuralNet`` whose batches carry teacher targets; the part
    shared by classification and regression.

    ``X`` passed to ``fit`` is a dict with the features under ``"X"``, the
    teacher's targets under their names (see :mod:`sklearn_kd._batch`) and
    optionally ``"sample_weight"``; a plain array is accepted for
    prediction. The criterion is called as ``criterion(y_pred, teacher, y,
    sample_weight=...)``. Subclasses set the dtype of ``y``.

    How training steps run (closure-free, closed form) is decided when the
    net is initialised, and again whenever skorch re-initialises the
    module, criterion, optimiser or callbacks (see :meth:`_choose_step`).
    """

    #: The dtype ``y`` is converted to.
    target_dtype = np.float32

    def __getstate__(self):
        state = super().__getstate__()
        # the ``module`` parameter is the trained ``module_`` itself (the
        # estimator builds the net from an instance): skorch pickles the
        # parameter apart from ``module_``, which would store every weight
        # twice; keep one and point the other at it when unpickled
        if (
            "module_" in self.__dict__
            and self.__dict__.get("module") is self.__dict__["module_"]
        ):
            state["module"] = _SAME_AS_MODULE_
        # the closed-form step holds references to the module and caches:
        # decided again once the parts are back
        state.pop("_fast", None)
        return state

    def __setstate__(self, state):
        same = isinstance(state.get("module"), str) and (
            state["module"] == _SAME_AS_MODULE_
        )
        super().__setstate__(state)
        if same:
            self.__dict__["module"] = self.__dict__["module_"]
        self._choose_step()

    # -- data -------------------------------------------------------------
    def _to_tensors(self, X, y):
        """Tensors built once: on the device when they fit, else on the host.

        ``y`` is given when training; prediction data stays on the host.
        """
        if not isinstance(X, dict):
            X = {FEATURES: X}
        arrays = {}
        for key, value in X.items():
            if torch.is_tensor(value):
                arrays[key] = value
                continue
            dtype = np.int64 if key == TOPK_INDEX else np.float32
            value = np.asarray(value, dtype=dtype)
            if not value.flags.writeable:  # torch refuses read-only memory
                value = value.copy()
            arrays[key] = value
        y_np = None if y is None else self._target_array(y)
        n_bytes = sum(int(v.nbytes) for v in arrays.values())
        n_bytes += 0 if y_np is None else int(y_np.nbytes)
        device = storage_device(self.device, n_bytes, training=y is not None)
        tensors = {
            key: torch.as_tensor(
                value,
                dtype=torch.long if key == TOPK_INDEX else torch.float32,
                device=device,
            )
            for key, value in arrays.items()
        }
        y_t = None if y_np is None else torch.as_tensor(y_np, device=device)
        return tensors, y_t

    def _target_array(self, y):
        """``y`` as the array the criterion takes (:attr:`target_dtype`)."""
        return np.asarray(y, dtype=self.target_dtype)

    def check_data(self, X, y):
        super().check_data(X, y)
        self._check_iterator_params()

    def _check_iterator_params(self):
        """Refuse skorch iterator and dataset settings that are not honoured.

        The batches are gathered by index from tensors (no ``DataLoader``,
        no ``Dataset`` class), so only ``iterator_train__shuffle`` has a
        meaning here; anything else would be silently ignored.
        """
        params = self.get_params(deep=False)
        for key in sorted(params):
            prefix, sep, name = key.partition("__")
            if not sep:
                continue
            if prefix in ITERATOR_PARAMS and name not in ITERATOR_PARAMS[prefix]:
                allowed = sorted(f"{prefix}__{n}" for n in ITERATOR_PARAMS[prefix])
                raise ValueError(
                    f"{key} is not supported: this network gathers its batches "
                    "from in-memory tensors, without a torch DataLoader. "
                    f"Supported {prefix} parameters: {allowed or 'none'}; "
                    f"got {key}={params[key]!r}."
                )
            if prefix == "dataset":
                raise ValueError(
                    f"{key} is not supported: the training data are held as "
                    f"tensors, not a skorch Dataset; got {key}={params[key]!r}."
                )
        for name in ("iterator_train", "iterator_valid"):
            if params[name] is not torch.utils.data.DataLoader:
                raise ValueError(
                    f"{name} cannot be replaced: batches are gathered by index "
                    "from in-memory tensors; got "
                    f"{name}={params[name]!r}."
                )

    def get_dataset(self, X, y=None):
        if isinstance(X, torch.utils.data.Dataset):
            return X
        tensors, y_t = self._to_tensors(X, y)
        return TensorDictDataset(tensors, y_t)

    def get_iterator(self, dataset, training=False):
        indices = None
        base = dataset
        if isinstance(dataset, torch.utils.data.Subset) and isinstance(
            dataset.dataset, TensorDictDataset
        ):
            base = dataset.dataset
            indices = torch.as_tensor(
                np.asarray(dataset.indices), dtype=torch.long, device=base.device
            )
        if not isinstance(base, TensorDictDataset):
            return super().get_iterator(dataset, training=training)
        n = len(base) if indices is None else len(indices)
        batch_size = self.batch_size if self.batch_size != -1 else n
        shuffle = False
        if training:
            shuffle = bool(self.get_params_for("iterator_train").get("shuffle", True))
        else:
            batch_size = max(batch_size, INFERENCE_BATCH_SIZE)
        return IndexBatches(
            base, indices, max(1, min(batch_size, n)), shuffle, self.device
        )

    # -- optimiser ----------------------------------------------------------
    def initialize_optimizer(self, triggered_directly=None):
        """Build the optimiser, with torch's fused kernels for Adam/AdamW.

        ``fused=True`` is added when neither ``fused`` nor ``foreach`` was
        given (as ``optimizer__fused``/``optimizer__foreach`` or in a
        ``functools.partial``) and torch supports it for these parameters on
        this device; otherwise the optimiser is built as skorch would.
        """
        if triggered_directly is not None:  # skorch's deprecated argument
            super().initialize_optimizer(triggered_directly)
            self._choose_step()
            return self
        named_parameters = self.get_all_learnable_params()
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        chosen = {**_partial_keywords(self.optimizer), **kwargs}
        fuse = (
            issubclass_safe(optimizer_class(self.optimizer), FUSABLE_OPTIMIZERS)
            and chosen.get("fused") is None
            and chosen.get("foreach") is None
            and not chosen.get("differentiable", False)
        )
        self.optimizer_ = None
        if fuse:
            try:
                self.optimizer_ = self.optimizer(*args, **kwargs, fused=True)
            except (RuntimeError, ValueError, TypeError):
                self.optimizer_ = None  # not on this device or dtype
        if self.optimizer_ is None:
            args, kwargs = self.get_params_for_optimizer(
                "optimizer", self.get_all_learnable_params()
            )
            self.optimizer_ = self.optimizer(*args, **kwargs)
        self._choose_step()
        return self

    # -- callbacks: only those that implement a hook are called ----------
    def initialize_callbacks(self):
        check_callbacks(self.callbacks)
        super().initialize_callbacks()
        self._hooked = {}
        self._choose_step()
        return self

    def set_params(self, **kwargs):
        super().set_params(**kwargs)
        if any(key.startswith("callbacks") for key in kwargs):
            # skorch replaces named callbacks after initialising them
            self._hooked = {}
            self._choose_step()
        return self

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._callbacks_with(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _callbacks_with(self, method_name):
        hooked = self.__dict__.setdefault("_hooked", {})
        if method_name == "on_train_begin":
            hooked.clear()  # hooks attached since the last fit count too
        callbacks = hooked.get(method_name)
        if callbacks is None:
            callbacks = hooked[method_name] = [
                cb for _, cb in self.callbacks_ if implements(cb, method_name)
            ]
        return callbacks

    def _batch_hooks(self):
        """Whether anything must run around each single batch."""
        own = type(self)
        return (
            own.on_batch_begin is not NeuralNet.on_batch_begin
            or own.on_batch_end is not NeuralNet.on_batch_end
            or bool(self._callbacks_with("on_batch_begin"))
            or bool(self._callbacks_with("on_batch_end"))
        )

    # -- how the steps run: decided at initialisation ---------------------
    def _choose_step(self):
        """Decide how training steps run, from the initialised parts.

        Closure-free steps (no closure round trip) with a closure-free
        optimiser and no ``on_grad_computed`` hook, in a callback or in the
        net's class; then the closed-form step of
        :mod:`sklearn_kd._fast_step` when the module and criterion allow it
        (it checks the module's type, activation, layers, parameters and
        hooks, and the criterion). Called when the optimiser or the
        callbacks are (re)initialised, hence after any change of the
        module, criterion, optimiser or callbacks through ``set_params`` or
        ``initialize``; a hook registered on ``module_`` afterwards needs
        ``initialize()`` to be seen. Before every part exists (during
        ``initialize``), the steps are skorch's.
        """
        state = self.__dict__
        self._closure_free = False
        self._fast = None
        if not all(
            isinstance(state.get(name), torch.nn.Module)
            for name in ("module_", "criterion_")
        ) or not all(name in state for name in ("optimizer_", "callbacks_")):
            return
        own_grad_hook = type(self).on_grad_computed is not NeuralNet.on_grad_computed
        self._closure_free = (
            issubclass_safe(
                optimizer_class(type(self.optimizer_)), CLOSURE_FREE_OPTIMIZERS
            )
            and not own_grad_hook
            and not self._callbacks_with("on_grad_computed")
        )
        if self._closure_free:
            self._fast = FastStep.build(self.module_, self.criterion_)

    def _unlabelled_rows(self, y):
        """Whether some training rows have no hard label (none here)."""
        return False

    # -- the epoch loop -----------------------------------------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        fast = self.__dict__.get("_fast")
        if fast is not None:
            # the module's statistics, and whether the label term needs a mask
            fast.refresh(unlabelled=y is not None and self._unlabelled_rows(y))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        fast = self.__dict__.get("_fast")
        if fast is not None:
            fast.clear_cache()  # a fitted net keeps no per-fit tensors

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, with one host-device sync at its end.

        The batch losses stay on the device until the epoch ends; then the
        history gets its per-batch rows (loss and batch size) at once. When
        a callback implements ``on_batch_begin`` or ``on_batch_end`` (it may
        read the batch's loss as it goes), skorch's own loop runs instead.
        """
        if iterator is None:
            return
        if fit_params or self._batch_hooks():
            return super().run_single_epoch(
                iterator, training, prefix, step_fn, **fit_params
            )
        fast = self.__dict__.get("_fast") if training else None
        if fast is not None and step_fn == self.train_step:
            values, sizes = self._lean_epoch(iterator, fast)
        else:
            losses, sizes = [], []
            for batch in iterator:
                step = step_fn(batch)
                losses.append(step["loss"].detach())
                sizes.append(_batch_len(batch[0]))
            values = torch.stack(losses).tolist() if losses else []
        history = self.history
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        if type(history) is History:  # a list of dicts: append the rows
            history[-1]["batches"].extend(
                {loss_key: value, size_key: size} for value, size in zip(values, sizes)
            )
        else:
            for value, size in zip(values, sizes):
                history.new_batch()
                history.record_batch(loss_key, value)
                history.record_batch(size_key, size)
        history.record(prefix + "_batch_count", len(values))

    def _lean_epoch(self, iterator, fast):
        """A training epoch of closed-form steps; the batch losses and sizes.

        Small data held whole: the epoch's tensors are prepared once (see
        :meth:`FastStep.prepare`), the steps compute only gradients, and
        the batch losses come from the logits in one pass at the end.
        Otherwise each step computes its batch's loss from its logits, kept
        on the device. Either way the host reads the losses once.
        """
        # torch's fused Adam kernel without the Python around
        # ``Optimizer.step``, once the optimiser's state exists
        optimizer_step = fused_adam_step(self.optimizer_)
        retry = optimizer_step is None  # its state may not exist yet
        optimizer_step = optimizer_step or self.optimizer_.step
        whole = isinstance(iterator, IndexBatches) and iterator.whole_epoch()
        outputs = []  # each batch's logits when held whole, else its loss
        if whole:
            iterator.transform = fast.prepare
        sizes = []
        fast.train_mode()  # no callback runs between the batches
        try:
            with torch.no_grad():
                for batch in iterator:
                    step = fast.raw_step(batch, prepared=whole)
                    outputs.append(step["y_pred"] if whole else step["loss"])
                    optimizer_step()
                    if retry:
                        optimizer_step = (
                            fused_adam_step(self.optimizer_) or self.optimizer_.step
                        )
                        retry = False
                    sizes.append(batch[1].shape[0])
        finally:
            if whole:
                iterator.transform = None
        if not sizes:
            return [], []
        if whole:
            tensors, y = iterator.epoch
            losses = fast.epoch_losses(
                torch.cat(outputs), tensors, y, iterator.batch_size
            )
        else:
            losses = torch.stack(outputs)
        return losses.tolist(), sizes

    def train_step(self, batch, **fit_params):
        """One optimisation step.

        With a closure-free optimiser and no ``on_grad_computed`` hook the
        closure round trip is skipped; the default student with the KD loss
        then computes its gradient in closed form (no autograd graph).
        Otherwise this is skorch's step.
        """
        if fit_params or not self.__dict__.get("_closure_free", False):
            return super().train_step(batch, **fit_params)
        optimizer = self.optimizer_
        fast = self.__dict__.get("_fast")
        if fast is not None:
            step = fast.step(batch)
        else:
            optimizer.zero_grad(set_to_none=True)
            step = self.train_step_single(batch)
        optimizer.step()
        return step

    def infer(self, x, **fit_params):
        if isinstance(x, dict):
            x = x[FEATURES]
        return self.module_(x)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        teacher = weights = None
        if isinstance(X, dict):
            teacher, weights = X.get(TEACHER), X.get(SAMPLE_WEIGHT)
        return self.criterion_(y_pred, teacher, y_true, sample_weight=weights)

    def get_default_callbacks(self):
        callbacks = []
        for name, callback in super().get_default_callbacks():
            if name == "print_log":
                callback = PlainPrintLog()
            elif type(callback) is PassthroughScoring:
                callback = BatchMeanLoss(
                    name=callback.name,
                    lower_is_better=callback.lower_is_better,
                    on_train=callback.on_train,
                )
            callbacks.append((name, callback))
        return callbacks


class DistillationNet(ClassifierMixin, StudentNet):
    """skorch ``NeuralNet`` whose batches carry teacher targets.

    ``X`` passed to ``fit`` is a dict with the features under ``"X"``, the
    softened teacher ``q_T`` under ``"teacher"`` and optionally
    ``"sample_weight"``; ``y`` holds the hard labels as class indices.
    A plain array is accepted for prediction.

    Like skorch's ``NeuralNetClassifier``, ``predict_proba`` returns class
    probabilities (``predict_nonlinearity`` is a softmax by default) and
    ``predict`` the most probable class index, so every scikit-learn scorer
    works in :class:`skorch.callbacks.EpochScoring`. ``classes`` are the
    class indices (``0 .. n_classes - 1``); ``None`` takes those in ``y``.
    """

    target_dtype = np.int64

    def __init__(
        self,
        module,
        *args,
        criterion=None,
        classes=None,
        predict_nonlinearity=softmax_rows,
        **kwargs,
    ):
        super().__init__(
            module,
            *args,
            criterion=criterion,
            predict_nonlinearity=predict_nonlinearity,
            **kwargs,
        )
        self.classes = classes

    @property
    def classes_(self):
        if self.classes is not None:
            return np.asarray(self.classes)
        try:
            return self.__dict__["classes_inferred_"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no classes_ before fit when built "
                "without classes."
            ) from None

    def predict(self, X):
        """Most probable class index of each row."""
        return self.predict_proba(X).argmax(axis=1)

    def fit(self, X, y=None, **fit_params):
        if y is not None and self.classes is None:
            self.classes_inferred_ = np.unique(np.asarray(y))
        return super().fit(X, y, **fit_params)

    def _unlabelled_rows(self, y):
        # a negative index (NO_LABEL), which cross-entropy ignores
        return bool((np.asarray(y) < 0).any())

    def get_loss(self, y_pred, y_true, X=None, training=False):
        teacher = weights = None
        if isinstance(X, dict):
            teacher = X.get(TEACHER)
            if teacher is None and TOPK in X:
                teacher = densify_top_k(
                    X[TOPK], X[TOPK_INDEX], X[REST], y_pred.shape[-1]
                )
            weights = X.get(SAMPLE_WEIGHT)
            if NEG_ENTROPY in X:
                return self.criterion_(
                    y_pred,
                    teacher,
                    y_true,
                    sample_weight=weights,
                    teacher_neg_entropy=X[NEG_ENTROPY],
                )
        return self.criterion_(y_pred, teacher, y_true, sample_weight=weights)


class RegressionDistillationNet(RegressorMixin, StudentNet):
    """skorch ``NeuralNet`` training a regression student on teacher targets.

    ``X`` passed to ``fit`` is a dict with the features under ``"X"``, the
    teacher's standardised predictions under ``"teacher"`` (shape
    ``(n_samples, n_outputs)``) and optionally ``"sample_weight"``; ``y``
    holds the standardised labels, float, of shape ``(n_samples,
    n_outputs)`` (a 1-D ``y`` is one output), NaN in the rows without one.
    The criterion is a :class:`~sklearn_kd.losses.RegressionDistillationLoss`
    or any module called the same way. ``predict`` returns the module's raw
    outputs, of shape ``(n_samples, n_outputs)``.
    """

    def __init__(
        self, module, *args, criterion=None, predict_nonlinearity=None, **kwargs
    ):
        super().__init__(
            module,
            *args,
            criterion=criterion,
            predict_nonlinearity=predict_nonlinearity,
            **kwargs,
        )

    def predict(self, X):
        """The module's outputs for each row, of shape (n_samples, n_outputs)."""
        return self.predict_proba(X)

    def _target_array(self, y):
        y = super()._target_array(y)
        return y.reshape(len(y), -1) if y.ndim == 1 else y


def _batch_len(Xi):
    if isinstance(Xi, dict):
        return len(Xi[FEATURES]) if FEATURES in Xi else get_len(Xi)
    return get_len(Xi)


def issubclass_safe(cls, bases):
    return isinstance(cls, type) and issubclass(cls, bases)


#: The tasks :func:`build_student_net` builds a net for.
TASKS = ("classification", "regression")

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def _silent(*args, **kwargs):
    """Sink that drops skorch's early-stopping messages when not verbose."""


def build_student_net(
    module,
    params,
    *,
    device="cpu",
    n_rows=None,
    seed=None,
    y_idx=None,
    extra_callbacks=(),
    n_classes=None,
    task="classification",
):
    """The skorch net that trains ``module`` with a distilled estimator's
    parameters ``params`` (its ``get_params()``), unfitted.

    A :class:`DistillationNet` with a :class:`DistillationLoss` for
    classification, a :class:`RegressionDistillationNet` with a
    :class:`RegressionDistillationLoss` for regression; both share the
    optimiser, batching, early stopping and callbacks built here.

    Parameters
    ----------
    module : torch.nn.Module
        The student.
    params : dict
        The estimator's parameters, already validated.
    device : str or torch.device, default="cpu"
    n_rows : int, default=None
        Training rows; the batch size is capped at it.
    seed : int, default=None
        Seeds the validation split of ``early_stopping`` (stratified by
        class for classification).
    y_idx : ndarray of shape (n_rows,) or (n_rows, n_outputs), default=None
        The training labels: class indices, or the regression targets;
        when some rows have none (``NO_LABEL``, or NaN targets), the
        validation split is drawn from the labelled rows only.
    extra_callbacks : sequence of (name, callback), default=()
        Callbacks of the fit itself (e.g. regenerating the transfer set).
    n_classes : int, default=None
        Number of classes: the net's ``classes_`` are their indices
        (classification only).
    task : {"classification", "regression"}, default="classification"
        For regression, ``params`` gives ``loss`` (see
        :data:`~sklearn_kd.losses.REGRESSION_LOSSES`), ``alpha`` and
        optionally ``huber_delta`` (1.0 when absent); the class-specific
        parameters (``temperature`` and the rest) are not read.
    """
    regression = check_choice(task, "task", TASKS) == "regression"
    verbose = params["verbose"]
    optimizer = params["optimizer"]
    if regression:
        criterion = RegressionDistillationLoss(
            loss=params["loss"],
            alpha=params["alpha"],
            huber_delta=params.get("huber_delta", 1.0),
        )
    else:
        criterion = DistillationLoss(
            loss=params["loss"],
            temperature=params["temperature"],
            alpha=params["alpha"],
            tckd_weight=params["tckd_weight"],
            nckd_weight=params["nckd_weight"],
            scale_t2=params["scale_t2"],
            teacher_format="softened",
        )
    callbacks = [("finite_loss", FiniteLossGuard()), *extra_callbacks]
    train_split = None
    if params["early_stopping"]:
        if y_idx is not None and not has_label(y_idx).all():
            train_split = LabelledRowSplit(
                params["validation_fraction"],
                y_idx,
                random_state=seed,
                stratified=not regression,
            )
        else:
            train_split = ValidSplit(
                params["validation_fraction"],
                stratified=not regression,
                random_state=seed,
            )
    if params["n_iter_no_change"] is not None:
        monitor = "valid_loss" if params["early_stopping"] else "train_loss"
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    patience=params["n_iter_no_change"],
                    threshold=params["tol"],
                    threshold_mode="rel",
                    load_best=params["early_stopping"],
                    sink=print if verbose else _silent,
                ),
            )
        )
    for i, callback in enumerate(copy.deepcopy(params["callbacks"] or [])):
        if not isinstance(callback, tuple):
            callback = (f"user_callback_{i}", callback)
        callbacks.append(callback)
    batch_size = params["batch_size"]
    if regression:
        net_class, task_kwargs = RegressionDistillationNet, {}
    else:
        classes = None if n_classes is None else np.arange(n_classes)
        net_class, task_kwargs = DistillationNet, {"classes": classes}
    net = net_class(
        module=module,
        criterion=criterion,
        optimizer=OPTIMIZERS.get(optimizer, optimizer),
        lr=params["lr"],
        optimizer__weight_decay=params["weight_decay"],
        max_epochs=params["max_epochs"],
        batch_size=batch_size if n_rows is None else min(batch_size, n_rows),
        train_split=train_split,
        callbacks=callbacks,
        device=str(device),
        verbose=verbose,
        **task_kwargs,
    )
    if not verbose:
        net.set_params(callbacks__print_log=None)
    return net


def prediction_net(module, params, history=None, device="cpu", task="classification"):
    """A skorch net holding a trained ``module`` for prediction only.

    The net of :func:`build_student_net` with ``module_`` set and nothing
    of training: no optimizer (nor its state), criterion or initialised
    callbacks, and ``history`` (an empty history by default). It is what
    :func:`sklearn_kd.persistence.load` and
    :func:`sklearn_kd.persistence.without_teacher` give ``student_``;
    refitting the estimator builds a new net as every ``fit`` does.

    Parameters
    ----------
    module : torch.nn.Module
        The trained student.
    params : dict
        The estimator's parameters (its ``get_params()``).
    history : skorch.history.History, default=None
        The net's ``history_``.
    device : str or torch.device, default="cpu"
        The net's ``device``, where ``module`` is.
    task : {"classification", "regression"}, default="classification"
        The estimator's task (see :func:`build_student_net`).
    """
    net = build_student_net(module, params, device=device, task=task)
    net._initialize_module()  # module_ is the module itself, on its device
    # set_params(callbacks__...) in build_student_net initialised callbacks
    net.__dict__.pop("callbacks_", None)
    net.history_ = History() if history is None else history
    net.initialized_ = True
    return net
