"""The skorch seams: tensor datasets, index batches and device placement."""

import numpy as np
import torch

from sklearn_kd import _net
from sklearn_kd._net import IndexBatches, TensorDictDataset, storage_device


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
    limit = int(_net.DEVICE_MEMORY_FRACTION * 1000)
    assert storage_device("cuda", limit, training=True).type == "cuda"
    assert storage_device("cuda", limit + 1, training=True).type == "cpu"
    assert storage_device("cuda", 1, training=False).type == "cpu"
