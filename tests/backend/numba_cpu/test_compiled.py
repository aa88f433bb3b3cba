"""``compiled.py`` and the driver's calls without numba's type dispatch:
kernels whose every call passes arguments of exactly their types (scalars,
and arrays the driver knows: kernel results, constants, shared values) are
called through their compiled entry point; kernels reading an input the
caller passed keep numba's dispatch, so a wrong input still raises.  A
kernel's scalar result stays a Python scalar until numpy code reads it.
Values are checked against the py backend, with and without
``trust_input``."""
import numba as nb
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.compiled import compiled_version, entry_point
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache

NUMBA = Mode("numba", tiered=False)


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray) and g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_entry_point_runs_the_one_compiled_version():
    @nb.njit((nb.float32, nb.types.Array(nb.float32, 1, "C")))
    def axpy(a, x):
        return a * x + np.float32(1)
    x = np.arange(3, dtype="float32")
    ep = entry_point(axpy)
    assert ep is compiled_version(axpy).entry_point
    np.testing.assert_array_equal(ep(2.0, x), axpy(np.float32(2), x))
    assert ep(2.0, x).dtype == np.float32

    @nb.njit([(nb.float32,), (nb.float64,)])
    def twice(a):
        return a * 2
    with pytest.raises(ValueError, match="exactly one compiled signature, it has 2"):
        entry_point(twice)
    assert compiled_version(twice, (nb.float64,)).entry_point(1.5) == 3.0


def _kinds(f):
    """{kernel name: 'entry' or 'dispatch'}: how the driver calls each
    numba kernel now."""
    ns = f.thunk.linker.ns
    return {k: "entry" if type(ns[k]).__name__ == "builtin_function_or_method" else "dispatch"
            for k in f.thunk.linker.kernel_texts.values()}


def test_only_kernels_of_known_argument_types_skip_the_dispatch():
    use_tmp_cache()
    x = T.fmatrix("x")
    w = symnet.shared(np.linspace(-1, 1, 6).astype("float32").reshape(2, 3), name="w")
    e = T.exp(x)
    outs = [T.argmax(e, axis=1),            # reads a kernel's result
            T.max(w * 3.0, axis=0),         # a shared value's
            T.sum(x, axis=1),               # the caller's input: dispatched
            T.max(T.dot(x, x.T), axis=1)]   # a driver line's result (np.dot): dispatched
    f = symnet.function([x], outs, mode=NUMBA)
    ref = symnet.function([x], outs, mode="py")
    a = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    _same(f(a), ref(a))
    lines = f.source[f.source.index("def make_run"):].splitlines()

    def kernel_of(op_text):
        """The kernel the driver calls for the node whose comment names op_text."""
        at = [k for k, ln in enumerate(lines) if "# node" in ln and op_text in ln][0]
        call = [ln for ln in lines[at + 1:] if "= k" in ln][0]
        return call.split("= ", 1)[1].split("(")[0]
    direct = {kernel_of("Argmax"), kernel_of("Max{axis=[0]}")}
    dispatched = {kernel_of("Sum{axis=[1]}"), kernel_of("Max{axis=[1]}")}
    assert f.thunk.linker.code.direct_kernels == direct
    kinds = _kinds(f)
    assert {kinds[k] for k in direct} == {"entry"}
    assert {kinds[k] for k in dispatched} == {"dispatch"}
    for trust in (True, False, True):
        f.trust_input = trust
        _same(f(a), ref(a))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int32", "int64",
                                   "uint8", "complex64"])
def test_scalar_results_of_every_dtype_agree_with_py(dtype):
    use_tmp_cache()
    x = T.scalar("x", dtype=dtype)
    y = x * 3 + 1                       # a kernel's result, passed on to kernels
    outs = [y, y * x,                   # kernels after kernels
            y.dimshuffle("x"),          # numpy code reading a raw scalar
            T.eq(y, x),                 # a bool result
            T.stack([y, x])]            # several readers of one scalar
    f = symnet.function([x], outs, mode=NUMBA)
    ref = symnet.function([x], outs, mode="py")
    v = np.asarray(2, dtype=dtype)
    for trust in (False, True):
        f.trust_input = trust
        _same(f(v), ref(v))
        _same(f(v), ref(v))     # again: the kernels are bound now


def test_wrong_inputs_raise_on_both_paths():
    use_tmp_cache()
    x = T.fmatrix("x")
    f = symnet.function([x], T.argmax(x, axis=1), mode=NUMBA)
    good = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(f(good), [0, 0])
    with pytest.raises(TypeError, match="input 0 \\(x\\)"):
        f(np.ones((2, 3)))              # checked: float64 is not float32
    with pytest.raises(TypeError, match="input 0 \\(x\\)"):
        f(np.ones(3, "float32"))        # checked: one dimension, not two
    f.trust_input = True
    # unchecked: the kernel reading x keeps numba's dispatch, which refuses
    # it; the error is the reference's where it has one (AxisError here)
    with pytest.raises(TypeError, match="while running node Argmax"):
        f(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError, match="while running node Argmax"):
        f(np.ones(3, "float32"))
    np.testing.assert_array_equal(f(good), [0, 0])


def test_a_failing_kernel_after_a_scalar_names_its_node():
    use_tmp_cache()
    x = T.dscalar("x")
    f = symnet.function([x], T.exp(x) * 2.0 + x, mode=Mode("numba", tiered=False,
                                                             optimizer=None))
    assert float(f(np.float64(0.5))) == pytest.approx(2 * np.exp(0.5) + 0.5)
    lines = f.source[f.source.index("def make_run"):].splitlines()
    last = [ln for ln in lines if "= k" in ln][-1].strip()
    kname = last.split("= ", 1)[1].split("(")[0]

    def bad(*args):
        raise ValueError("broken kernel")
    f.thunk.linker.ns[kname] = bad
    with pytest.raises(ValueError, match="broken kernel") as info:
        f(np.float64(0.5))
    assert "while running node add" in str(info.value)
    assert "input shapes [(), ()]" in str(info.value)
