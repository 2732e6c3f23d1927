"""Settings shared by the test suite and the doctests."""

import torch

# One intra-op thread: the tests and doctests train tiny networks, for which
# OpenMP threads only add contention (many times slower with several xdist
# workers on a small machine).
torch.set_num_threads(1)
