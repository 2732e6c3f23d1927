"""Run before every gallery example (``sphinx_gallery_conf["reset_modules"]``)."""

import os


def reset_threads(gallery_conf, fname, when=None):
    """Limit torch and OpenMP/BLAS to ``SKLEARN_KD_DOC_THREADS`` threads (1).

    The gallery's networks are tiny: one thread is as fast as several on an
    idle machine and much faster on a shared CI machine, where extra threads
    only fight over the cores.
    """
    n_threads = int(os.environ.get("SKLEARN_KD_DOC_THREADS", "1"))
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n_threads)
    threadpool_limits(n_threads)
