"""``scan_dot_swapped`` (numba only): a Scan's per-step GEMM weight is passed
transposed, so the inner ``Dot`` reads a transpose and the backend's swapped
GEMM runs, only for products at least ``MIN_COLS`` wide whose weight has
at least ``MIN_ROWS`` rows (where it was measured to win); values and gradients
as without it, on both backends."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.scan.swap_dot import MIN_COLS, MIN_INNER, MIN_ROWS
from symnet.tensor.ops.blas import Dot
from symnet.tensor.ops.elemwise import DimShuffle

from tests.scan._recurrent import KINDS, assert_same, layer_case

# the rewrite needs the weight's rows (the product's inner dimension) >= 512
# and its columns (the product's width) >= 1024: a square state weight of 1024
H = MIN_COLS
assert MIN_INNER <= MIN_ROWS <= H
rng = np.random.default_rng(5)


def inner_nodes(op):
    return io_toposort(op.inner_inputs, op.inner_outputs)


def scans(f):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


def inner_dots(op):
    return [n for n in inner_nodes(op) if isinstance(n.op, Dot)]


def reads_transposed_input(dot, op):
    w = dot.inputs[1]
    return w.owner is not None and isinstance(w.owner.op, DimShuffle) and \
        w.owner.op.new_order == (1, 0) and w.owner.inputs[0] in op.inner_inputs


def rnn(rows=H):
    x = T.dtensor3("x")
    h0 = T.dmatrix("h0")
    W = T.TensorType("float64", shape=(3, rows))("W")
    U = T.TensorType("float64", shape=(rows, rows))("U")
    h, _ = symnet.scan(lambda v, h, W, U: T.tanh(T.dot(v, W) + T.dot(h, U)),
                       sequences=x, outputs_info=h0, non_sequences=[W, U])
    return [x, h0, W, U], h


def args(batch, rows=H, steps=4):
    return (rng.normal(size=(steps, batch, 3)), rng.normal(size=(batch, rows)) * 0.5,
            rng.normal(size=(3, rows)) * 0.3, rng.normal(size=(rows, rows)) * 0.05)


def without(ins, outs):
    return symnet.function(ins, outs, mode=Mode("numba", exclude=("scan_dot_swapped",)))


@pytest.mark.parametrize("batch", [3, 260])    # 260 rows: the swap's runtime rule says no
def test_forward_weight_passed_transposed_same_values(batch):
    ins, h = rnn()
    f = symnet.function(ins, h, mode="numba")
    ref = without(ins, h)
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == 1
    assert ref.rewrite_stats.get("scan_dot_swapped", 0) == 0
    (node,), (before,) = scans(f), scans(ref)
    # the loop's h @ U now reads U.T.T: one more inner node (the view), the
    # same number of products, and the non-sequence is U's transpose
    assert len(inner_nodes(node.op)) == len(inner_nodes(before.op)) + 1
    (dot,), (dot0,) = inner_dots(node.op), inner_dots(before.op)
    assert reads_transposed_input(dot, node.op) and not reads_transposed_input(dot0, before.op)
    outer = node.inputs[-1]
    assert outer.type.shape == (H, H) and isinstance(outer.owner.op, DimShuffle)
    a = args(batch)
    got, want = f(*a), ref(*a)
    assert got.shape == want.shape == (4, batch, H) and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, symnet.function(ins, h, mode="py")(*a), rtol=1e-10,
                               atol=1e-12)


def test_gradient_loop_reads_the_weight_itself_and_matches():
    ins, h = rnn()
    cost = T.sum(h[-1] ** 2) + T.sum(h ** 3)
    grads = symnet.grad(cost, ins)
    f = symnet.function(ins, grads, mode="numba")
    ref = without(ins, grads)
    py = symnet.function(ins, grads, mode="py")
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == 2        # forward and BPTT
    fwd, bwd = scans(f)
    # delta @ U.T (the state's gradient, H wide) reads a transposed
    # non-sequence; delta @ W.T (the input's, 3 wide: too narrow to gain)
    # reads its non-sequence as it is
    nonseqs = set(bwd.op.inner_inputs[len(bwd.op.inner_inputs) - bwd.op.n_nonseqs:])
    dots = [d for d in inner_dots(bwd.op)
            if d.inputs[1] in nonseqs or reads_transposed_input(d, bwd.op)]
    assert len(dots) == 2
    assert sum(reads_transposed_input(d, bwd.op) for d in dots) == 1
    assert sum(d.inputs[1] in nonseqs and d.inputs[1].type.shape == (H, 3) for d in dots) == 1
    # BPTT's ``delta @ U.T``: the loop gets U itself (no transpose outside)
    assert any(v is ins[3] for v in bwd.inputs)
    a = args(3)
    for got, want, base in zip(f(*a), ref(*a), py(*a)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(got, base, rtol=1e-9, atol=1e-11)


def test_verify_grad_through_the_swapped_loop():
    # the weight is a constant (H x H: too many entries for finite
    # differences); the gradient wrt a gain on h @ U goes through the
    # forward and the BPTT loop, both with U passed transposed
    U = T.constant(rng.normal(size=(H, H)) * 0.03)
    seq = T.constant(rng.normal(size=(3, 2, H)) * 0.3)
    h0 = T.constant(rng.normal(size=(2, H)) * 0.3)

    def cost(a):
        h, _ = symnet.scan(lambda v, h, a, U: T.tanh(v + a * T.dot(h, U)), sequences=seq,
                           outputs_info=h0, non_sequences=[a, U])
        return T.sum(h[-1])
    a = T.dvector("a")
    f = symnet.function([a], symnet.grad(cost(a).sum(), a), mode="numba")
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == 2
    symnet.gradient.verify_grad(cost, [np.array([0.8])], rng=np.random.default_rng(0),
                                mode="numba")


def test_left_alone_on_py_small_weights_and_weights_read_elsewhere():
    ins, h = rnn()
    fpy = symnet.function(ins, h, mode="py")
    # (SYMNET_FORCE_BACKEND=numba makes mode='py' a numba mode: it fires there)
    assert fpy.rewrite_stats.get("scan_dot_swapped", 0) == (fpy.mode.linker == "numba")
    ins, h = rnn(rows=16)                 # inner dimension below 128
    assert symnet.function(ins, h, mode="numba").rewrite_stats.get("scan_dot_swapped", 0) == 0
    ins, h = rnn(rows=512)                # 512 wide: below MIN_COLS
    assert symnet.function(ins, h, mode="numba").rewrite_stats.get("scan_dot_swapped", 0) == 0
    U = T.TensorType("float64", shape=(H, H))("U")
    h0 = T.dmatrix("h0")
    # U also read as a product's first operand in the step
    h2, _ = symnet.scan(lambda h, U: T.tanh(T.dot(h, U)) + T.dot(U, h.T).T, outputs_info=h0,
                        non_sequences=[U], n_steps=3)
    f = symnet.function([h0, U], h2, mode="numba")
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == 0
    a = rng.normal(size=(2, H)) * 0.1, rng.normal(size=(H, H)) * 0.05
    np.testing.assert_allclose(f(*a), symnet.function([h0, U], h2, mode="py")(*a), rtol=1e-10)


def two_products(k, n):
    """A step ``h -> tanh(h @ U) @ V`` with U (k, n) and V (n, k)."""
    U = T.TensorType("float64", shape=(k, n))("U")
    V = T.TensorType("float64", shape=(n, k))("V")
    h0 = T.dmatrix("h0")
    h, _ = symnet.scan(lambda h, U, V: T.dot(T.tanh(T.dot(h, U)), V) * 0.5, outputs_info=h0,
                       non_sequences=[U, V], n_steps=3)
    return [h0, U, V], h


@pytest.mark.parametrize("k, n, swapped", [(512, 1024, "U"), (256, 768, None),
                                           (512, 2048, "U"), (1024, 1024, "UV"),
                                           (256, 1024, None), (128, 2048, None)])
def test_decided_by_the_products_width(k, n, swapped):
    # U's product is n wide, V's k wide: each is passed transposed only
    # when its product is at least MIN_COLS wide and its inner dimension
    # (the weight's rows) at least MIN_ROWS: W8's LSTM forward h @ U
    # (256 x 1024) is left alone
    ins, h = two_products(k, n)
    f = symnet.function(ins, h, mode="numba")
    ref = without(ins, h)
    (node,), (before,) = scans(f), scans(ref)
    names = "".join(sorted(d.inputs[1].owner.inputs[0].name[0] for d in inner_dots(node.op)
                           if reads_transposed_input(d, node.op)))
    assert names == (swapped or "")
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == (swapped is not None)
    # one transpose view more inside the loop per weight passed transposed
    assert len(inner_nodes(node.op)) == len(inner_nodes(before.op)) + len(names)
    a = (rng.normal(size=(2, k)) * 0.3, rng.normal(size=(k, n)) * 0.05,
         rng.normal(size=(n, k)) * 0.05)
    got, want = f(*a), symnet.function(ins, h, mode="py")(*a)
    assert got.shape == want.shape == (3, 2, k)
    hs, ref_h = [], a[0]
    for _ in range(3):       # the step in numpy
        ref_h = np.tanh(ref_h @ a[1]) @ a[2] * 0.5
        hs.append(ref_h)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, np.stack(hs), rtol=1e-10, atol=1e-12)


# LSTM: h @ U is 4 * 512 = 2048 wide with 512 rows (swapped), BPTT's
# delta @ U.T 512 wide (not); GRU: 3 * 512 = 1536 wide likewise
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_layers_gradients_match_without_the_rewrite(kind):
    hidden = 512
    ins, outs, args = layer_case(kind, hidden, rng)
    f = symnet.function(ins, outs, mode="numba")
    assert f.rewrite_stats.get("scan_dot_swapped", 0) == 1
    fwd = [n for n in scans(f) if not any(reads_transposed_input(d, n.op)
                                          for d in inner_dots(n.op))]
    assert len(fwd) == len(scans(f)) - 1       # BPTT's loop left alone
    assert_same(f, without(ins, outs), args, rtol=2e-4, atol=1e-5)
