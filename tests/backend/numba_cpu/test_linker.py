"""The numba backend agrees with py: hypothesis-drawn graphs of elementwise,
reduction, dot, shape and indexing ops; gradients; fused Composite loops;
the loud fallback; the generated source."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.registry import MissingKernelError
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.graph.basic import Apply
from symnet.graph.op import Op
from symnet.tensor.ops.elemwise import SCALAR_OPS, Composite, Elemwise

from .emitters import built_by, each_emitter, emitter_mode, kernels
from .helpers import both, use_tmp_cache

NB = Mode("numba", optimizer=None)

# each step maps (x, y, row, w) -> a new (3, 4) value; x, y are drawn from the pool
UNARY = [T.tanh, lambda a: T.exp(-a * a), lambda a: -a, T.sqr, T.abs_,
         lambda a: T.nnet.sigmoid(a) if hasattr(T, "nnet") else T.tanh(a),
         lambda a: T.log1p(a * a), lambda a: T.switch(a > 0, a, 0.5 * a)]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
          T.maximum, lambda a, b: a / (1 + b * b)]
OTHER = [
    lambda a, b, r, w: a - r,                                   # broadcast row
    lambda a, b, r, w: a * T.sum(b, axis=1, keepdims=True),     # reduction + broadcast
    lambda a, b, r, w: a + T.max(b, axis=0, keepdims=True),
    lambda a, b, r, w: T.dot(a, w),                             # BLAS
    lambda a, b, r, w: a[::-1],                                 # slicing (a view)
    lambda a, b, r, w: T.set_subtensor(a[1:, :2], b[:2, 1:3]),  # IncSubtensor
    lambda a, b, r, w: T.inc_subtensor(a[0], b[2]),
    lambda a, b, r, w: a.T.T * T.mean(b),                       # dimshuffle, full reduce
    lambda a, b, r, w: T.reshape(a, (4, 3)).T,                  # reshape
    lambda a, b, r, w: T.concatenate([a[:1], b[1:]], axis=0),   # join
]


@st.composite
def programs(draw):
    steps = []
    for _ in range(draw(st.integers(2, 5))):
        kind = draw(st.sampled_from(["u", "b", "o"]))
        table = {"u": UNARY, "b": BINARY, "o": OTHER}[kind]
        steps.append((kind, draw(st.integers(0, len(table) - 1)),
                      draw(st.integers(0, 10)), draw(st.integers(0, 10))))
    return steps


def build(steps, x, y, r, w):
    pool = [x, y]
    for kind, k, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "u":
            pool.append(UNARY[k](a))
        elif kind == "b":
            pool.append(BINARY[k](a, b))
        else:
            pool.append(OTHER[k](a, b, r, w))
    return pool[-1], T.sum(pool[-1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=4, deadline=None)
@given(steps=programs())
def test_random_graphs_agree(dtype, steps):
    config.floatX = dtype
    x = T.matrix("x", dtype=dtype)
    y = T.matrix("y", dtype=dtype)
    r = T.TensorType(dtype, shape=(1, None))("r")
    w = T.matrix("w", dtype=dtype)
    out, total = build(steps, x, y, r, w)
    rng = np.random.default_rng(1)
    vals = [rng.uniform(-1, 1, s).astype(dtype) for s in [(3, 4), (3, 4), (1, 4), (4, 4)]]
    tol = 2e-4 if dtype == "float32" else 1e-9
    both([x, y, r, w], [out, total], vals, optimizer=None, rtol=tol, atol=tol)


def test_gradients_agree_with_py():
    x = T.dmatrix("x")
    W = symnet.shared(np.random.default_rng(0).normal(size=(4, 3)), name="W")
    b = symnet.shared(np.zeros(3), name="b")
    h = T.tanh(T.dot(x, W) + b)
    cost = T.sum(h ** 2) + T.max(h) - T.mean(T.exp(-h * h))
    gW, gb, gx = symnet.grad(cost, [W, b, x])
    xv = np.random.default_rng(2).normal(size=(5, 4))
    both([x], [cost, gW, gb, gx], [xv], rtol=1e-9, atol=1e-12)


def test_composite_loop_and_inplace():
    # a fused program: tanh(i0 * i1) + i0, float32, with broadcasting
    mul, tanh, add = SCALAR_OPS["mul"], SCALAR_OPS["tanh"], SCALAR_OPS["add"]
    comp = Composite(2, [(mul, (0, 1), "float32"), (tanh, (2,), "float32"),
                         (add, (3, 0), "float32")], 4)
    x = T.fmatrix("x")
    r = T.TensorType("float32", shape=(1, None))("r")
    out = Elemwise(comp)(x, r)
    out2 = Elemwise(add, inplace=0)(out, x)   # may overwrite ``out``'s buffer
    xv = np.random.default_rng(3).normal(size=(3, 5)).astype("float32")
    rv = np.random.default_rng(4).normal(size=(1, 5)).astype("float32")
    x_before = xv.copy()
    f = both([x, r], [out2], [xv, rv], optimizer=None)
    np.testing.assert_array_equal(xv, x_before)   # inputs are never written
    assert "tanh" in f.source and "for " in f.source


def test_scalar_and_int_graphs():
    s = T.fscalar("s")
    i = T.ivector("i")
    f = both([s], [s + 1, T.sqrt(T.abs_(s)), s > 0], [np.float32(2.5)], optimizer=None)
    out = f(np.float32(1.5))
    assert isinstance(out[0], np.ndarray) and out[0].dtype == np.float32 and out[0].shape == ()
    both([i], [i // 2, i % 3, T.sum(i), T.argmax(i), T.cast(i, "float32") / 3],
         [np.array([5, -7, 3], "int32")], optimizer=None)


def test_updates_and_shared():
    w = symnet.shared(np.ones(3, "float32"), name="w")
    x = T.fvector("x")
    use_tmp_cache()
    f = symnet.function([x], T.sum(w * x), updates=[(w, w - 0.5 * x)], mode=NB)
    assert float(f(np.ones(3, "float32"))) == 3.0
    np.testing.assert_allclose(w.get_value(), [0.5, 0.5, 0.5])
    assert float(f(np.ones(3, "float32"))) == 1.5


def test_runtime_error_names_the_node():
    x, y = T.fvector("x"), T.fvector("y")
    use_tmp_cache()
    f = symnet.function([x, y], x + y, mode=NB)
    with pytest.raises(ValueError, match="add"):
        f(np.ones(3, "float32"), np.ones(4, "float32"))
    k = T.lscalar("k")
    g = symnet.function([x, k], x[k], mode=NB)
    assert float(g(np.arange(3, dtype="float32"), -1)) == 2.0
    with pytest.raises(IndexError):
        g(np.ones(3, "float32"), 7)


class Double(Op):
    """An op the numba backend has no kernel for."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


@pytest.mark.perform_fallback
def test_fallback_warns_once_and_strict_raises():
    use_tmp_cache()
    x = T.dvector("x")
    y = T.exp(Double()(T.tanh(x) + 1)) * 3
    from symnet.backend import registry
    registry._WARNED.discard(("numba", "Double"))   # other tests may have warned
    with pytest.warns(RuntimeWarning, match="no kernel for Double"):
        f = symnet.function([x], y, mode=NB)
    xv = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(f(xv), np.exp(2 * (np.tanh(xv) + 1)) * 3)
    # tanh, add before the Python perform; exp, mul after: one loop each
    assert "Python perform" in f.source and len(kernels(f)) == 2      # either emitter's
    assert "v4, = perform(3, (v3,))" in f.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        symnet.function([x], Double()(x) + 1, mode=NB)   # warned once already
    config.strict = True
    with pytest.raises(MissingKernelError, match="Double"):
        symnet.function([x], Double()(x), mode=NB)


@each_emitter
def test_source_has_node_comments(emitter):
    use_tmp_cache()
    x = T.fvector("x")
    f = symnet.function([x], T.tanh(x) * 2, mode=emitter_mode(emitter, optimizer=None))
    src = f.source
    ((k0, *_),) = built_by(f, emitter)     # one kernel: k0, or the llvm emitter's L0
    assert f"# node 0: tanh(i0) -> v2  (one loop: {k0})" in src   # tanh and * in one loop
    assert f"= {k0}(_C(i0)" in src and f"def {k0}(a0" in src
    compile(src, "<generated>", "exec")


def test_float32_tanh_matches_numpy_everywhere():
    # the generated code computes float32 tanh from exp (no SVML here)
    x = T.fvector("x")
    use_tmp_cache()
    f = symnet.function([x], T.tanh(x), mode=NB)
    assert "_tanh32" in f.source
    xv = np.concatenate([np.linspace(-30, 30, 20001), [0.0, -0.0, 1e-30, np.inf, -np.inf,
                                                       np.nan]]).astype("float32")
    np.testing.assert_allclose(f(xv), np.tanh(xv), rtol=2e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_kernels(dtype):
    x = T.matrix("x", dtype=dtype)
    xv = np.random.default_rng(5).normal(size=(4, 6)).astype(dtype) * 10
    xv[1, 2] = 200.0   # stability
    f = both([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)], [xv], optimizer=None,
             rtol=1e-5, atol=1e-6)
    assert "Python perform" not in f.source


def _deep_chain(layers):
    rng = np.random.default_rng(0)
    y = T.fmatrix("y")
    h, params = y, []
    for _ in range(layers):
        w = symnet.shared(rng.normal(size=(4, 4)).astype("float32") * 0.5)
        b = symnet.shared(np.zeros(4, "float32"))
        params += [w, b]
        h = T.tanh(T.dot(h, w) + b)
    return y, [T.sum(h)] + symnet.grad(T.sum(h), params)


def test_kernel_count_does_not_grow_with_depth():
    # compile time follows the number of distinct kernels, not the graph size
    use_tmp_cache()
    y, outs = _deep_chain(3)
    f3 = symnet.function([y], outs)
    y6, outs6 = _deep_chain(6)
    f6 = both([y6], outs6, [np.ones((2, 4), "float32")], rtol=1e-4, atol=1e-5)
    assert len(f6.thunk.linker.order) > len(f3.thunk.linker.order)
    assert len(f6.thunk.linker.kernels) == len(f3.thunk.linker.kernels)
    # products and views are numpy lines of the driver, never compiled
    assert "_np.dot(" in f6.source and ".transpose(1, 0)" in f6.source
    assert "Python perform" not in f6.source


def test_driver_views_and_shape_ops_agree():
    x = T.fmatrix("x")
    k = T.lscalar("k")
    m = T.TensorType("float32", shape=(1, None))("m")
    outs = [x[k], x[1:k, ::-1] * 2, x.shape, x.reshape((k, -1)) + 1,
            T.concatenate([x, x[:1] * 2], axis=0), T.alloc(np.float32(3), k, 2),
            m.dimshuffle(1) * 2, x.T * 3, T.batched_dot(x, x.dimshuffle(0, 1, "x"))]
    xv = np.arange(6, dtype="float32").reshape(2, 3)
    both([x, k, m], outs, [xv, 1, np.ones((1, 3), "float32")], optimizer=None)
    with pytest.raises(IndexError):
        symnet.function([x, k], x[k], mode=NB)(xv, 5)


def test_parallel_mode_splits_large_elementwise_loops():
    from symnet.backend.numba_cpu.elemwise import PARALLEL_MIN_SIZE
    use_tmp_cache()
    x = T.fmatrix("x")
    a = T.fscalar("a")
    out = T.tanh(a * x) * T.exp(-x * x) + 1
    par = Mode("numba", parallel=True)
    assert par != Mode("numba") and "parallel=True" in repr(par)
    assert par.including("fast_run").parallel and par.excluding("fusion").parallel
    f = symnet.function([x, a], out, mode=par)
    g = symnet.function([x, a], out, mode="py")
    assert "nb.prange(" in f.source and "parallel=True" in f.source
    assert "prange" not in symnet.function([x, a], out, mode="numba").source
    rng = np.random.default_rng(0)
    for shape in [(3, 5), (PARALLEL_MIN_SIZE // 64 + 1, 64)]:   # serial and threaded branch
        xv = rng.normal(size=shape).astype("float32")
        np.testing.assert_allclose(f(xv, np.float32(0.7)), g(xv, np.float32(0.7)),
                                   rtol=2e-6, atol=2e-6)


@each_emitter
def test_one_loop_for_a_run_of_elementwise_nodes_and_their_sum(emitter):
    use_tmp_cache()
    x = T.fvector("x")
    a, b = T.fscalars("a", "b")
    loss = T.sum(T.tanh(a * x + b) * T.exp(-x * x))
    outs = [loss, symnet.grad(loss, x)]
    f = symnet.function([x, a, b], outs, mode=emitter_mode(emitter))
    ((k0, *_),) = built_by(f, emitter)
    assert f"(one loop: {k0})" in f.source
    xv = np.random.default_rng(0).normal(size=100_003).astype("float32")  # not whole blocks
    got = f(xv, np.float32(0.5), np.float32(0.1))
    x64 = xv.astype("float64")
    want = np.sum(np.tanh(0.5 * x64 + 0.1) * np.exp(-x64 * x64))
    assert got[0].dtype == np.float32 and got[0].shape == ()
    np.testing.assert_allclose(got[0], want, rtol=2e-6)   # float32 blocks, float64 total
    ref = symnet.function([x, a, b], outs, mode="py")(xv, np.float32(0.5), np.float32(0.1))
    np.testing.assert_allclose(got[1], ref[1], rtol=2e-5, atol=1e-6)


def test_fused_runs_respect_sums_used_by_later_nodes_and_broadcasting():
    use_tmp_cache()
    x = T.dmatrix("x")
    r = T.TensorType("float64", shape=(1, None))("r")
    i = T.lmatrix("i")
    centred = x * 2 - T.mean(x * 2)          # the mean is needed before the subtraction
    outs = [centred * r, T.sum(T.exp(x) + r), T.sum(i * 3), T.prod(x + 1)]
    xv = np.random.default_rng(1).uniform(0.1, 1, size=(3, 5))
    rv = np.random.default_rng(2).uniform(size=(1, 5))
    iv = np.arange(15).reshape(3, 5)
    f = both([x, r, i], outs, [xv, rv, iv], optimizer=None, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f(xv, rv, iv)[0], (2 * xv - np.mean(2 * xv)) * rv, rtol=1e-12)
    assert f(xv, rv, iv)[2] == 3 * iv.sum()
    with pytest.raises(ValueError, match="do not match along axis 1"):
        f(xv, np.ones((1, 4)), iv)


def test_join_of_a_transposed_view_feeds_a_kernel_in_c_order():
    # numpy's concatenate of F-ordered views returns an F-ordered array; the
    # sum's kernel downstream is typed for C (hypothesis found this graph)
    x = T.matrix("x", dtype="float64")
    v = T.reshape(x, (4, 3)).T
    out = T.concatenate([x[:1], v[1:]], axis=0)
    vals = [np.random.default_rng(1).uniform(-1, 1, (3, 4))]
    both([x], [out, T.sum(out)], vals, optimizer=None, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "uint64"])
def test_integer_sign_and_floor_division_corners_agree_with_py(dtype):
    # numba's own np.sign of an unsigned int wraps -1 (255 for uint8), and
    # its int64 MIN // -1 is 0 where numpy's wraps to MIN
    info = np.iinfo(dtype)
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    a = np.array([info.min, info.max, 0, 7, info.min, 5], dtype)
    b = np.array([-1 if info.min < 0 else 1, 2, 3, -1 if info.min < 0 else 2, 1, 2], dtype)
    with np.errstate(all="ignore"):
        both([x, y], [T.sgn(x), x // y, x % y], [a, b], optimizer=None, rtol=0, atol=0)
