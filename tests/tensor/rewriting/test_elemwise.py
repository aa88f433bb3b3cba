"""Elementwise rewrites: canonicalization, fusion, in-place."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.tensor.ops.elemwise import Composite, Elemwise
from tests.oracles import examples

from ._helpers import NOFUSE, PY, RAW, compare, op_names

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))
POS = rng.uniform(0.5, 2.0, (3, 4))


@pytest.mark.parametrize("build, name", [
    (lambda x: x * 1, "local_mul_one"),
    (lambda x: 1 * x, "local_mul_one"),
    (lambda x: x + 0, "local_add_zero"),
    (lambda x: 0 + x, "local_add_zero"),
    (lambda x: x - 0, "local_sub_zero"),
    (lambda x: x / 1, "local_div_one"),
    (lambda x: -(-x), "local_neg_neg"),
    (lambda x: T.log(T.exp(x)), "local_log_exp"),
    (lambda x: T.cast(T.cast(x, "float32"), "float64") * 0 + x, None),
])
def test_identity_rewrites_remove_every_op(build, name):
    x = T.dmatrix("x")
    f = compare([x], build(x), [X])
    if name is not None:
        assert op_names(f) == [] and f.rewrite_stats[name] >= 1


def test_sub_self_is_zeros():
    x = T.dmatrix("x")
    f = compare([x], x - x, [X])
    assert "sub" not in op_names(f) and f.rewrite_stats["local_sub_self"] == 1


def test_int_divided_by_one_keeps_float_dtype():
    x = T.ivector("x")
    f = compare([x], x / 1, [np.array([1, 2, 3], "int32")])
    assert op_names(f) == ["cast"]


def test_useless_casts():
    x = T.fvector("x")
    f = compare([x], T.cast(T.cast(x, "float64"), "float32"), [X[0].astype("float32")])
    assert op_names(f) == [] and f.rewrite_stats["local_useless_cast"] == 1
    f = compare([x], T.cast(T.cast(x, "float64"), "int32"), [X[0].astype("float32")])
    assert op_names(f) == ["cast"]
    # a narrowing round trip loses information: kept
    d = T.dvector("d")
    f = compare([d], T.cast(T.cast(d, "float32"), "float64"), [X[0] / 3])
    assert op_names(f) == ["cast", "cast"]


def test_dimshuffles_merge():
    x = T.dmatrix("x")
    f = compare([x], x.T.dimshuffle(1, "x", 0), [X])
    assert op_names(f) == ["DimShuffle"]
    f = compare([x], x.T.T, [X])
    assert op_names(f) == []


def test_constants_are_collected():
    x = T.dmatrix("x")
    f = compare([x], ((x + 1.0) + 2.0) * 2.0 * 3.0, [X])
    assert op_names(f) == ["add", "mul"]
    assert f.rewrite_stats["local_add_constants"] == 1
    assert f.rewrite_stats["local_mul_constants"] == 1


def test_pow_specialize():
    x = T.dmatrix("x")
    f = compare([x], [x ** 2, x ** 0.5, x ** -1, x ** 1], [POS])
    assert sorted(op_names(f)) == ["reciprocal", "sqr", "sqrt"]


# -- fusion ------------------------------------------------------------------------

def _chain(x, n=10):
    y = x
    ops = [T.tanh, T.exp, lambda v: v * 0.5, T.sin, lambda v: v + 1.5, T.cos,
           lambda v: v - 0.25, T.sqr, T.sigmoid, lambda v: v / 3.0]
    for k in range(n):
        y = ops[k % len(ops)](y)
    return y


def test_fusion_turns_a_chain_into_one_node():
    x = T.dmatrix("x")
    f = compare([x], _chain(x), [X], mode=PY)
    nodes = f.fgraph.toposort()
    assert len(nodes) == 1 and isinstance(nodes[0].op.scalar_op, Composite)
    assert len(nodes[0].op.scalar_op.program) == 10
    assert f.rewrite_stats["fuse_elemwise"] == 1


def test_fusion_respects_broadcasting_and_shared_intermediates():
    x, r = T.dmatrix("x"), T.drow("r")
    a = T.exp(r) * 2.0           # (1, n): broadcast into the matrix part
    b = T.tanh(x) + a
    f = compare([x, r], [b * b, T.exp(x)], [X, X[:1]], mode=PY)
    # b is used twice inside the group, exp(x) is an output: two nodes
    comps = [n for n in f.fgraph.toposort() if isinstance(n.op.scalar_op, Composite)]
    assert len(comps) == 1 and len(f.fgraph.toposort()) == 2


def test_fusion_keeps_outputs_used_elsewhere():
    x = T.dvector("x")
    a = T.exp(x)
    f = compare([x], [T.tanh(a) + 1.0, a], [X[0]], mode=PY)
    assert sum(1 for n in f.fgraph.toposort()) == 2


def test_fusion_inlines_composites_and_reduces_feed_it():
    x = T.dmatrix("x")
    y = T.tanh(x * 2.0).sum(axis=1)
    f = compare([x], T.exp(y) - y, [X], mode=PY)
    assert op_names(f).count("composite") == 2


# -- in-place ----------------------------------------------------------------------

def test_inplace_never_destroys_inputs_or_shared():
    x = T.dmatrix("x")
    w = symnet.shared(X.copy(), name="w")
    y = T.exp(x) + w
    out = T.tanh(y) * 2.0 + x       # x and w are read again after y
    f = symnet.function([x], [out, y], updates=[(w, w * 2.0)], mode=PY.excluding("fusion"))
    xv = X.copy()
    r1 = f(xv)
    np.testing.assert_array_equal(xv, X)          # the input array is untouched
    np.testing.assert_allclose(w.get_value(), 2 * X)
    np.testing.assert_allclose(r1[1], np.exp(X) + X)
    np.testing.assert_allclose(r1[0], np.tanh(np.exp(X) + X) * 2 + X)
    for node in f.fgraph.toposort():
        for outs, ins in node.op.destroy_map.items():
            for i in ins:
                v = node.inputs[i]
                assert v not in f.fgraph.inputs and v.owner is not None


def test_inplace_marks_chains_and_computes_right():
    x = T.dmatrix("x")
    y = T.exp(x)
    z = T.tanh(y) * 3.0 - 1.0
    f = symnet.function([x], z, mode=PY.excluding("fusion"))
    marked = [n for n in f.fgraph.toposort() if getattr(n.op, "inplace", None) is not None]
    assert len(marked) >= 2 and f.rewrite_stats["inplace_elemwise"] >= 2
    xv = X.copy()
    np.testing.assert_allclose(f(xv), np.tanh(np.exp(X)) * 3 - 1)
    np.testing.assert_array_equal(xv, X)


def test_inplace_skips_views_and_broadcasts():
    x, r = T.dmatrix("x"), T.drow("r")
    v = x.T                                 # a view of the input: never destroyed
    f = symnet.function([x, r], [T.exp(v) * 2.0, T.exp(r) + x],
                        mode=PY.excluding("fusion"))
    for node in f.fgraph.toposort():
        if getattr(node.op, "inplace", None) is not None:
            k = node.op.inplace
            assert node.inputs[k].owner is not None
            assert type(node.inputs[k].owner.op).__name__ != "DimShuffle"
            assert node.inputs[k].broadcastable == node.outputs[0].broadcastable
    xv = X.copy()
    a, b = f(xv, X[:1].copy())
    np.testing.assert_array_equal(xv, X)
    np.testing.assert_allclose(a, np.exp(X.T) * 2)
    np.testing.assert_allclose(b, np.exp(X[:1]) + X)


def test_inplace_inc_subtensor():
    x = T.dvector("x")
    y = T.exp(x)
    z = T.inc_subtensor(y[1:3], 10.0)
    f = symnet.function([x], [z], mode=PY.excluding("fusion"))
    ops = [n.op for n in f.fgraph.toposort()]
    assert any(getattr(o, "inplace", False) is True for o in ops)
    xv = X[0].copy()
    want = np.exp(X[0])
    want[1:3] += 10
    np.testing.assert_allclose(f(xv)[0], want)
    np.testing.assert_array_equal(xv, X[0])


def test_elemwise_inplace_perform_writes_into_its_input():
    x = T.dvector("x")
    node = Elemwise(T.SCALAR_OPS["exp"], inplace=0).make_node(x)
    buf = np.array([0.0, 1.0])
    out = [[None]]
    node.op.perform(node, [buf], out)
    assert out[0][0] is buf
    np.testing.assert_allclose(buf, np.exp([0.0, 1.0]))
    comp = Composite(1, [(T.SCALAR_OPS["exp"], (0,), "float64"),
                         (T.SCALAR_OPS["neg"], (1,), "float64")], 2)
    node = Elemwise(comp, inplace=0).make_node(x)
    buf = np.array([0.0, 1.0])
    node.op.perform(node, [buf], out)
    assert out[0][0] is buf
    np.testing.assert_allclose(buf, -np.exp([0.0, 1.0]))


# -- random graphs -----------------------------------------------------------------

UNARY = [T.exp, T.tanh, T.sin, T.sigmoid, lambda v: -v, lambda v: v * 1,
         lambda v: v + 0, lambda v: T.log(T.exp(v)), lambda v: -(-v), T.sqr]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
          lambda a, b: T.maximum(a, b), lambda a, b: a - a + b]


@st.composite
def graphs(draw):
    """A random DAG of elementwise ops and reductions over (3, 4) inputs."""
    ops = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 100),
                                  st.integers(0, 100), st.integers(0, 100)),
                        min_size=1, max_size=14))
    return ops


@settings(max_examples=examples(20), deadline=None)
@given(graphs())
def test_random_graphs_keep_their_values(ops):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    pool = [x, y]
    for kind, a, b, c in ops:
        u, v = pool[a % len(pool)], pool[b % len(pool)]
        if kind == 0:
            pool.append(UNARY[c % len(UNARY)](u))
        elif kind == 1:
            pool.append(BINARY[c % len(BINARY)](u, v))
        else:  # reduce then broadcast back, to mix reductions into the graph
            pool.append(u.sum(axis=c % 2, keepdims=True).sum(axis=(c + 1) % 2,
                                                             keepdims=True) * 0.1 + v)
    outs = pool[2:][-3:]
    xv = rng.uniform(-1, 1, (3, 4))
    yv = rng.uniform(-1, 1, (3, 4))
    compare([x, y], outs, [xv, yv], mode=PY, rtol=1e-6, atol=1e-9)
    xc = xv.copy()
    symnet.function([x, y], outs, mode=PY, on_unused_input="ignore")(xc, yv)
    np.testing.assert_array_equal(xc, xv)


def test_fusion_stops_at_the_size_limits():
    from symnet.tensor.rewriting.elemwise import MAX_FUSED_INPUTS, MAX_FUSED_OPS
    x = T.dvector("x")
    y, params = x, []
    for i in range(40):                 # 120 elementwise ops, 81 inputs
        w, b = T.dvector(f"w{i}"), T.dvector(f"b{i}")
        params += [w, b]
        y = T.tanh(y * w + b)
    f = symnet.function([x] + params, y, mode=PY)
    comps = [n for n in f.fgraph.apply_nodes
             if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]
    assert len(comps) >= 120 // MAX_FUSED_OPS + 1
    for n in comps:
        assert len(n.op.scalar_op.program) <= MAX_FUSED_OPS
        assert len(n.inputs) <= MAX_FUSED_INPUTS
    rng = np.random.default_rng(0)
    vals = [rng.uniform(-1, 1, 3) for _ in range(81)]
    want = vals[0]
    for i in range(40):
        want = np.tanh(want * vals[1 + 2 * i] + vals[2 + 2 * i])
    np.testing.assert_allclose(f(*vals), want, rtol=1e-12)


def test_gradient_seed_alloc_becomes_a_broadcast_scalar():
    x = T.fmatrix("x")
    cost = T.sum(T.tanh(x) * T.exp(-x * x))
    g = symnet.grad(cost, x)
    xv = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    f = compare([x], [cost, g], [xv], rtol=1e-6, atol=1e-6)
    assert "Alloc" not in op_names(f)
    assert f.rewrite_stats.get("local_elemwise_alloc", 0) >= 1


def test_alloc_whose_size_no_other_input_gives_is_kept():
    n = T.lscalar("n")
    s = T.dscalar("s")
    v = T.dvector("v")
    out = T.alloc(np.float64(2.0), n) * s        # only the Alloc knows the size
    f = compare([n, s], [out], [np.int64(3), np.float64(1.5)])
    assert "Alloc" in op_names(f)
    np.testing.assert_array_equal(f(3, 1.5)[0], [3.0, 3.0, 3.0])
    # a size that differs from the other input's is an error, not a broadcast
    bad = symnet.function([n, v], T.alloc(np.float64(1.0), n) + v, mode=NOFUSE)
    assert "Alloc" in op_names(bad)
    with pytest.raises(Exception):
        bad(4, np.ones(3))


def test_one_instruction_ops_are_copied_into_each_consumer_loop():
    x = T.dvector("x")
    y = T.dvector("y")
    nx = -x                      # read by two fused loops
    e = T.exp(x)                 # expensive: computed once, never copied
    outs = [T.exp(nx) * e, T.tanh(nx) + e, (x * y) + 1, T.sum(x * y)]
    xv, yv = np.linspace(-1, 1, 5), np.linspace(2, 3, 5)
    f = compare([x, y], outs, [xv, yv], mode=PY)
    names = op_names(f)
    assert "neg" not in names                       # no loop of its own
    assert names.count("exp") == 1 and sum(         # exp(x) in one loop, read twice;
        str(n.op.scalar_op).count("exp(") for n in f.fgraph.apply_nodes   # exp(-x) fused
        if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)) == 1
    # ``x * y`` also feeds a reduction (not a loop it can join): computed once
    assert names.count("mul") == 1
