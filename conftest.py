"""Settings shared by the test suite and the doctests."""

import importlib.util

import torch

# One intra-op thread: the tests and doctests train tiny networks, for which
# OpenMP threads only add contention (many times slower with several xdist
# workers on a small machine).
torch.set_num_threads(1)

# The ONNX converter's doctests need the optional ``[onnx]`` extra; without it
# (e.g. the minimum-versions run, which installs ``[tests]`` only) the module
# is not collected, as its tests skip with ``pytest.importorskip``.
collect_ignore = []
if not all(importlib.util.find_spec(name) for name in ("onnx", "skl2onnx")):
    collect_ignore.append("sklearn_kd/onnx.py")
