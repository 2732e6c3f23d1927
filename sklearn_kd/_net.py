"""The skorch network that trains a student against teacher targets.

skorch stays the engine (``fit_loop``, callbacks, history, validation
split); only its documented seams are overridden:

- ``get_dataset`` builds the tensors once and moves them to the device once;
- ``get_iterator`` batches them by index slicing instead of a per-row
  ``Dataset``/``DataLoader`` round trip;
- ``infer`` feeds only the features to the module; the teacher targets and
  sample weights travel beside them in the batch dict;
- ``get_loss`` hands those targets to the distillation criterion.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback

FEATURES = "X"
TEACHER = "teacher"
SAMPLE_WEIGHT = "sample_weight"
# A top-k compressed teacher: the k largest q_T per row, their class
# indices, and the probability of each other class.
# Each row's sum(q_T log q_T): turns the per-batch cross-entropy against q_T
# into KL(q_T || p_T) without a logarithm per batch.
NEG_ENTROPY = "teacher_neg_entropy"
TOPK = "teacher_topk"
TOPK_INDEX = "teacher_topk_index"
REST = "teacher_rest"

#: Rows per forward pass when not training (prediction and validation).
INFERENCE_BATCH_SIZE = 8192

#: Training tensors go to a GPU once, when they take at most this share of
#: its free memory; otherwise they stay in host memory and each batch is
#: copied over.
DEVICE_MEMORY_FRACTION = 0.5


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
    """Named tensors of equal length plus the hard labels, held on a device."""

    def __init__(self, tensors, y=None):
        self.tensors = tensors
        self.y = y
        first = next(iter(tensors.values()))
        self.n_rows = len(first)
        self.device = first.device

    def __len__(self):
        return self.n_rows

    def __getitem__(self, i):
        Xi = {key: value[i] for key, value in self.tensors.items()}
        yi = self.y[i] if self.y is not None else torch.empty(0)
        return Xi, yi


class IndexBatches:
    """Mini-batches of a :class:`TensorDictDataset` by index slicing.

    Training batches follow a fresh permutation each epoch, drawn from
    torch's default generator (seeded by the estimator); other batches are
    contiguous slices in row order.
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

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

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

    def __iter__(self):
        n, bs = self.n_rows, self.batch_size
        if self.shuffle:
            order = torch.randperm(n).to(self.dataset.device)
            if self.indices is not None:
                order = self.indices[order]
            for start in range(0, n, bs):
                yield self._take(order[start : start + bs])
        elif self.indices is None:
            for start in range(0, n, bs):
                yield self._take(slice(start, start + bs))
        else:
            for start in range(0, n, bs):
                yield self._take(self.indices[start : start + bs])


#: Optimisers whose ``step`` needs no closure: training steps skip skorch's
#: closure round trip for them.
CLOSURE_FREE_OPTIMIZERS = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)


def _implements(callback, method_name):
    """Whether ``callback`` overrides the no-op hook ``method_name``."""
    method = getattr(type(callback), method_name, None)
    return method is not None and method is not getattr(Callback, method_name, None)


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


class DistillationNet(NeuralNet):
    """skorch ``NeuralNet`` whose batches carry teacher targets.

    ``X`` passed to ``fit`` is a dict with the features under ``"X"``, the
    softened teacher ``q_T`` under ``"teacher"`` and optionally
    ``"sample_weight"``; ``y`` holds the hard labels as class indices.
    A plain array is accepted for prediction.
    """

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
        y_np = None if y is None else np.asarray(y, dtype=np.int64)
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
        if not training:
            batch_size = max(batch_size, INFERENCE_BATCH_SIZE)
        return IndexBatches(
            base, indices, max(1, min(batch_size, n)), training, self.device
        )

    # -- per-batch overhead -------------------------------------------------
    # skorch calls every callback's hook for every batch and routes each step
    # through an optimizer closure. Both are kept where they matter (a
    # callback that implements the hook, an optimizer that needs a closure)
    # and skipped otherwise; results are identical.

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self._hooked_callbacks = {}
        return self

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        hooked = self.__dict__.get("_hooked_callbacks")
        if hooked is None:
            hooked = self._hooked_callbacks = {}
        callbacks = hooked.get(method_name)
        if callbacks is None:
            callbacks = hooked[method_name] = [
                cb for _, cb in self.callbacks_ if _implements(cb, method_name)
            ]
        for cb in callbacks:
            getattr(cb, method_name)(self, **cb_kwargs)

    def _set_training(self, training=True):
        # skorch switches every module's mode before every batch; the
        # recursive ``Module.train`` costs about 5 % of a small MLP's step, so
        # switch only when the top-level mode differs.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                return super()._set_training(training)
        return None

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self._lean_step = self._lean_step_possible()

    def train_step(self, batch, **fit_params):
        if not self.__dict__.get("_lean_step", False):
            return super().train_step(batch, **fit_params)
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        self._step_optimizer(None)
        return step

    def _lean_step_possible(self):
        """No closure needed: known optimisers, no on_grad_computed hook."""
        return isinstance(self.optimizer_, CLOSURE_FREE_OPTIMIZERS) and not any(
            _implements(cb, "on_grad_computed") for _, cb in self.callbacks_
        )

    def infer(self, x, **fit_params):
        if isinstance(x, dict):
            x = x[FEATURES]
        return self.module_(x)

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


def densify_top_k(top, top_index, rest, n_classes):
    """Rebuild a batch's ``q_T`` from its top-k compression."""
    dense = rest[:, None].expand(-1, n_classes).clone()
    return dense.scatter_(1, top_index, top)
