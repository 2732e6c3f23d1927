"""The thread policy: chosen from the work, scoped, restored."""

import sys
import types

import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_kd._threads import (
    SMALL_WORK,
    check_n_threads,
    native_controller,
    resolve_threads,
    student_work,
    thread_scope,
)


def test_work_counts_the_multiply_adds_of_one_pass():
    assert student_work(128, [64, 100, 10]) == 128 * (64 * 100 + 100 * 10)


def test_small_work_gets_one_thread_large_work_what_the_process_allows():
    assert resolve_threads(None, SMALL_WORK - 1) == 1
    assert resolve_threads(None, SMALL_WORK) == torch.get_num_threads()
    assert resolve_threads(3, 1) == 3
    with threadpool_limits(limits=1):  # threadpoolctl caps torch's OpenMP pool
        assert resolve_threads(None, 10 * SMALL_WORK) == 1


def test_the_scope_restores_the_process_setting():
    before = torch.get_num_threads()
    with thread_scope(None, 1) as n:
        assert n == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with thread_scope(2, 1):
            assert torch.get_num_threads() == 2
            raise RuntimeError
    assert torch.get_num_threads() == before


def test_an_explicit_count_also_caps_native_pools_during_fit():
    def openmp_threads():
        return [
            i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"
        ]

    before = openmp_threads()
    with thread_scope(1, SMALL_WORK * 10, native=True):
        assert set(openmp_threads()) <= {1}
    assert openmp_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "auto"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="n_threads must be"):
        check_n_threads(bad)


def test_the_native_controller_is_found_again_only_after_imports(monkeypatch):
    first = native_controller()
    assert native_controller() is first
    # a new module may bring a new OpenMP or BLAS library
    monkeypatch.setitem(sys.modules, "_a_new_extension", types.ModuleType("x"))
    assert native_controller() is not first


def test_the_count_reaches_torch_even_when_it_already_reports_it(monkeypatch):
    # threadpoolctl caps the OpenMP pool torch reports, not torch's own MKL:
    # the scope must still hand the count to torch.set_num_threads
    calls = []
    real = torch.set_num_threads

    def spy(n):
        calls.append(n)
        real(n)

    monkeypatch.setattr(torch, "set_num_threads", spy)
    with threadpool_limits(limits=1):
        assert torch.get_num_threads() == 1
        with thread_scope(None, SMALL_WORK * 10) as n:
            assert n == 1
    assert calls[0] == 1


def test_blas_thread_readers_agree_with_threadpoolctl():
    # the fast reader of each BLAS library's thread count (OpenBLAS's own C
    # function where threadpoolctl exposes it) gives threadpoolctl's answer,
    # before and inside a limit
    from threadpoolctl import threadpool_limits

    from sklearn_kd._threads import _blas_controllers

    libraries = _blas_controllers()
    assert libraries
    for lib, read in libraries:
        assert read() == lib.get_num_threads()
    with threadpool_limits(1, user_api="blas"):
        for lib, read in libraries:
            assert read() == lib.get_num_threads() == 1
