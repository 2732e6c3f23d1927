"""How many threads the student's torch operations use, scoped to one call.

torch starts with one intra-op thread per core and keeps that setting for the
whole process. For the small matrices of a tabular student, each operation
then pays for waking and joining threads that have little to do, and on a
busy machine a thread that waits for a core stalls every operation behind
it for a scheduler time slice (milliseconds): a 1,000-row ``predict_proba``
can take a hundred times longer on all cores than on one, and a fit of the
threshold-encoded student on digits forty times longer. The policy here
follows scikit-learn's habit for OpenMP-parallel estimators (a default
chosen for the work, capped by the process's own limits, overridable per
estimator):

- ``n_threads=None`` picks one thread unless each matrix product is large
  (at least :data:`SMALL_WORK` multiply-adds), and otherwise the threads
  torch may use in this process, which already reflects ``OMP_NUM_THREADS``,
  ``threadpoolctl.threadpool_limits`` and the per-worker limits that joblib
  sets for ``GridSearchCV(n_jobs=...)``;
- an integer asks for exactly that many, and during ``fit`` also caps the
  teacher's OpenMP and BLAS thread pools through threadpoolctl;
- the count is always handed to :func:`torch.set_num_threads`, even when
  torch already reports it: ``threadpoolctl`` caps the OpenMP pool that
  :func:`torch.get_num_threads` reads, but not the MKL that torch links
  statically, which would otherwise keep asking for every core on each
  matrix product while the other operations run on one;
- the process's setting is restored when the call returns.
"""

from __future__ import annotations

import contextlib
import os
import sys
from numbers import Integral

import torch

#: Multiply-adds per matrix product (rows per batch times the network's
#: weights) under which ``n_threads=None`` uses one thread. On an idle
#: machine a second thread starts to pay from about 2**23 multiply-adds;
#: on a busy one each operation may wait a scheduler time slice for its
#: second thread, which only a product of several milliseconds on one
#: core (about 2**28 multiply-adds) earns back. Between the two, one thread
#: loses at most about half on an idle machine, where several lost
#: 16-40x on a loaded one (``python -m benchmarks.threads``).
SMALL_WORK = 2**28


def student_work(batch_rows, layer_sizes):
    """Multiply-adds of one pass of ``batch_rows`` rows through the layers.

    ``layer_sizes`` lists the widths, inputs first and logits last.
    """
    weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    return int(batch_rows) * int(weights)


def resolve_threads(n_threads, work):
    """The number of torch threads for a call with ``work`` multiply-adds."""
    if n_threads is not None:
        return int(n_threads)
    if work < SMALL_WORK:
        return 1
    return max(1, torch.get_num_threads())


def check_n_threads(n_threads):
    """``None`` or a positive integer; a clear error otherwise."""
    if n_threads is None or (
        isinstance(n_threads, Integral)
        and not isinstance(n_threads, bool)
        and n_threads >= 1
    ):
        return n_threads
    raise ValueError(
        "n_threads must be None (chosen from the size of the work) or a "
        f"positive integer; got {n_threads!r}."
    )


@contextlib.contextmanager
def torch_threads(n):
    """Run the block with ``n`` torch threads; restore the setting after.

    :func:`torch.set_num_threads` is called even when torch already reports
    ``n``: it also sets the thread count of torch's own MKL, which
    ``threadpoolctl`` cannot reach, so that matrix products and the other
    operations use the same pool (a fraction of a microsecond).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)


_CONTROLLER = {}


def native_controller():
    """A :class:`threadpoolctl.ThreadpoolController` of the loaded libraries.

    Finding the OpenMP and BLAS libraries scans every shared object of the
    process (milliseconds, as much as a small fit's training); the
    controller is kept and found again only when modules were imported
    since, which is how a new native library arrives.
    """
    from threadpoolctl import ThreadpoolController

    n_modules = len(sys.modules)
    if _CONTROLLER.get("n_modules") != n_modules:
        _CONTROLLER["controller"] = ThreadpoolController()
        _CONTROLLER["n_modules"] = len(sys.modules)
    return _CONTROLLER["controller"]


def _blas_controllers():
    """The BLAS libraries numpy's matrix products may call, as threadpoolctl
    controllers, found once per :func:`native_controller`: numpy's own
    (a wheel ships it beside the package, in ``numpy.libs``) when it can be
    told apart, else every loaded one; each with the function that reads
    its thread count."""
    blas = _CONTROLLER.get("blas")
    # every prediction asks: answer from the cache while no module was
    # imported since, without a call into native_controller
    if blas is not None and blas[2] == len(sys.modules):
        return blas[1]
    controller = native_controller()
    if blas is None or blas[0] is not controller:
        libraries = controller.select(user_api="blas").lib_controllers
        own = [
            lib for lib in libraries
            if os.path.basename(os.path.dirname(lib.filepath)).startswith("numpy")
        ]
        blas = _CONTROLLER["blas"] = (
            controller,
            [(lib, _thread_reader(lib)) for lib in own or libraries],
            _CONTROLLER["n_modules"],
        )
    return blas[1]


def _thread_reader(lib):
    """A function returning ``lib``'s thread count: OpenBLAS's own C
    function when threadpoolctl exposes it (a ctypes call, several
    microseconds less than ``lib.get_num_threads`` on a cold cache, which
    is what one-row predictions pay), else ``lib.get_num_threads``."""
    get_symbol = getattr(lib, "_get_symbol", None)
    if (
        get_symbol is not None
        and getattr(lib, "internal_api", None) == "openblas"
        and getattr(lib, "threading_layer", None) != "openmp"
    ):
        try:
            function = get_symbol("openblas_get_num_threads")
        except Exception:  # pragma: no cover - a threadpoolctl that changed
            function = None
        if function is not None:
            return function
    return lib.get_num_threads


def set_blas_threads(n):
    """Give numpy's BLAS library ``n`` threads; returns what
    :func:`restore_blas_threads` needs to undo it.

    The CPU prediction path multiplies numpy arrays, so its thread count is
    the BLAS library's, not torch's. A library already at ``n`` is left
    alone: one call into it (well under a microsecond) is all a process
    limited to one thread (``OMP_NUM_THREADS=1``, ``threadpool_limits``)
    pays.
    """
    changed = []
    for lib, read in _blas_controllers():
        previous = read()
        if previous != n:
            lib.set_num_threads(n)
            changed.append((lib, previous))
    return changed


def restore_blas_threads(changed):
    """Undo :func:`set_blas_threads`."""
    for lib, previous in changed:
        lib.set_num_threads(previous)


@contextlib.contextmanager
def thread_scope(n_threads, work, *, native=False):
    """The thread policy for one ``fit`` or ``predict`` call.

    Parameters
    ----------
    n_threads : int or None
        The estimator's parameter.
    work : int
        Multiply-adds of one matrix product of the call (see
        :func:`student_work`).
    native : bool, default=False
        Also cap the OpenMP and BLAS pools of other libraries (a teacher's
        fit) through threadpoolctl, when ``n_threads`` is an integer. It
        costs about a millisecond, so prediction leaves it off.

    Yields
    ------
    n : int
        The number of torch threads in effect.
    """
    n = resolve_threads(n_threads, work)
    with contextlib.ExitStack() as stack:
        if native and n_threads is not None:
            stack.enter_context(native_controller().limit(limits=n))
        yield stack.enter_context(torch_threads(n))
