"""Device-resident shared variables, the caching allocator, the loud
fallback, and the error without a GPU."""
import pickle

import numpy as np
import pytest

import symnet
from symnet import tensor as T
from symnet.backend import registry
from symnet.backend.cuda import runtime
from symnet.backend.cuda.memory import DeviceStorage, is_device


def test_shared_values_live_on_the_device_and_updates_stay_there():
    w = symnet.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = symnet.function([x], (w * x).sum(), updates=[(w, w + x)], mode="cuda")
    assert isinstance(w.container, DeviceStorage) and is_device(w.container.value)
    out = f(np.ones(3))
    assert isinstance(out, np.ndarray) and out == pytest.approx(3.0)
    assert is_device(w.container.value)          # the update was committed on the device
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])   # a host copy
    w.set_value(np.zeros(3))                     # copied in
    assert is_device(w.container.value)
    assert f(np.ones(3)) == 0.0
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0, 1.0])


def test_set_value_is_checked_and_pickles_load_on_the_host():
    w = symnet.shared(np.zeros(2), name="w")
    symnet.function([], w * 2, mode="cuda")
    with pytest.raises(ValueError, match="set_value on w"):
        w.set_value(np.zeros(3))
    w2 = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(w2.get_value(), [0.0, 0.0])
    assert isinstance(w2.container.value, np.ndarray)


def test_failed_call_commits_no_update():
    w = symnet.shared(np.ones(2), name="w")
    x = T.dmatrix("x")
    f = symnet.function([x], T.dot(x, w), updates=[(w, w * 3)], mode="cuda")
    with pytest.raises(ValueError, match="not aligned"):
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])


def test_allocator_reuses_intermediates_across_calls():
    x = T.dmatrix("x")
    f = symnet.function([x], T.dot(T.tanh(T.dot(x, x)), x).sum(), mode="cuda")
    xv = np.eye(2) * 0.5
    first = f(xv)
    linker = f.thunk
    misses = linker.rt.allocator.misses
    assert f(xv) == first
    assert linker.rt.allocator.hits > 0 and linker.rt.allocator.misses == misses


def test_op_without_kernel_falls_back_loudly_and_strict_refuses(monkeypatch):
    from symnet.configdefaults import config
    x = T.dvector("x")
    registry._WARNED.discard(("cuda", "Sort"))
    with pytest.warns(RuntimeWarning, match="cuda backend has no kernel for Sort"):
        f = symnet.function([x], T.sort(x) * 2, mode="cuda")
    np.testing.assert_array_equal(f(np.array([3.0, 1.0, 2.0])), [2.0, 4.0, 6.0])
    monkeypatch.setattr(config, "strict", True)
    with pytest.raises(registry.MissingKernelError, match="Sort"):
        symnet.function([x], T.sort(x), mode="cuda")


def test_no_gpu_and_no_simulator_says_why_and_how(monkeypatch):
    from numba import cuda
    monkeypatch.setattr(runtime, "_sim_enabled", lambda: False)
    monkeypatch.setattr(runtime, "_STATE", {})
    monkeypatch.setattr(cuda, "is_available", lambda: False, raising=False)
    monkeypatch.setattr(cuda, "detect", lambda: False, raising=False)
    x = T.dvector("x")
    with pytest.raises(runtime.CudaUnavailableError, match="NUMBA_ENABLE_CUDASIM=1"):
        symnet.function([x], x + 1, mode="cuda")


def test_outputs_are_numpy_and_inputs_untouched():
    x = T.dmatrix("x")
    f = symnet.function([x], [x.T, x[0], x + 0], mode="cuda")
    xv = np.arange(6.0).reshape(2, 3)
    outs = f(xv)
    assert all(type(o) is np.ndarray for o in outs)
    np.testing.assert_array_equal(outs[0], xv.T)
    outs[1][:] = -1
    np.testing.assert_array_equal(xv, np.arange(6.0).reshape(2, 3))


def test_updates_from_pooled_buffers_are_not_reused_by_later_calls():
    """Updates computed into allocator buffers (a reduction, a reshape copy)
    become shared storage: later calls must not write into them."""
    s = symnet.shared(np.zeros(3), name="s")
    t = symnet.shared(np.zeros(6), name="t")
    x = T.dmatrix("x")
    f = symnet.function([x], [(x * 3).sum(axis=0), (x.T * 2).reshape((6,))],
                        updates=[(s, T.max(x, axis=0)), (t, x.T.reshape((6,)))],
                        mode="cuda")
    for k in range(3):
        xv = np.arange(6.0).reshape(2, 3) + 10 * k
        out = f(xv)
        np.testing.assert_array_equal(out[0], (xv * 3).sum(axis=0))
        np.testing.assert_array_equal(out[1], (xv.T * 2).reshape(6))
        np.testing.assert_array_equal(s.get_value(), xv.max(axis=0))
        np.testing.assert_array_equal(t.get_value(), xv.T.reshape(6))


def test_host_functions_share_parameters_with_cuda_functions():
    """Train on the GPU, evaluate and update the same shared variable with a
    py function: it reads host copies and its updates are copied in."""
    w = symnet.shared(np.ones(2), name="w")
    x = T.dvector("x")
    gpu_step = symnet.function([x], (w * x).sum(), updates=[(w, w + x)], mode="cuda")
    gpu_step(np.array([1.0, 2.0]))
    host_eval = symnet.function([x], w * x, mode="py")
    np.testing.assert_array_equal(host_eval(np.ones(2)), [2.0, 3.0])
    host_step = symnet.function([], [], updates=[(w, w * 10)], mode="py")
    host_step()
    assert is_device(w.container.value)
    assert gpu_step(np.zeros(2)) == 0.0
    np.testing.assert_array_equal(w.get_value(), [20.0, 30.0])


def test_zero_and_clone_of_a_device_held_variable():
    w = symnet.shared(np.arange(3.0), name="w")
    symnet.function([], w + 1, mode="cuda")
    c = w.clone()      # Theano's clone: the same (device-held) storage
    np.testing.assert_array_equal(c.get_value(), [0.0, 1.0, 2.0])
    assert c.container is w.container
    w.zero()
    assert is_device(w.container.value)
    np.testing.assert_array_equal(w.get_value(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(c.get_value(), [0.0, 0.0, 0.0])


def test_device_outputs_stay_on_the_device_in_buffers_of_their_own():
    from symnet.backend.cuda.linker import CudaMode
    w = symnet.shared(np.ones(3), name="w")
    x = T.dvector("x")
    f = symnet.function([x], [x * 2, w + x, x], updates=[(w, w + x)],
                        mode=CudaMode(device_outputs=True))
    first = f(np.arange(3.0))
    assert all(is_device(o) for o in first)
    second = f(np.ones(3))          # must not write into the first call's results
    np.testing.assert_array_equal(first[0].copy_to_host(), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(first[1].copy_to_host(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(second[1].copy_to_host(), [2.0, 3.0, 4.0])
    # the output equal to the update is not the shared storage itself
    assert second[1] is not w.container.value
    np.testing.assert_array_equal(w.get_value(), [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(second[2].copy_to_host(), [1.0, 1.0, 1.0])


def test_view_at_an_offset_shares_memory():
    """``view(..., offset)`` starts that many elements in (a group's block)."""
    from symnet.backend.cuda.memory import to_device, to_host, view
    a = to_device(np.arange(24.0).reshape(4, 6))
    # rows 1..2, columns 2..4 of a: offset 1*6+2, byte strides of a
    v = view(a, (2, 3), (48, 8), 8)
    np.testing.assert_array_equal(to_host(v), [[8, 9, 10], [14, 15, 16]])
    t = view(a, (3, 2), (8, 48), 8)       # the same block, transposed
    np.testing.assert_array_equal(to_host(t), [[8, 14], [9, 15], [10, 16]])
    assert view(a, (0, 3), (48, 8), 8).shape == (0, 3)
    v[1, 2] = -1.0                          # written through: a changes
    assert to_host(a)[2, 4] == -1.0
