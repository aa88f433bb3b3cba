"""ifelse: only the taken branch runs (py and numba), values, shapes and
gradients of the taken branch, nodes shared with the rest computed once."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.printing import Print
from symnet.tensor.ops.ifelse import IfElse, LazyIfElse, ifelse

MODES = ["py", "numba"]


@pytest.mark.parametrize("mode", MODES)
def test_untaken_branch_that_would_raise_does_not_run(mode):
    x, n = T.vector("x"), T.iscalar("n")
    zero = T.constant(np.asarray(0, x.dtype))
    f = symnet.function([x, n], ifelse(n > 0, x[n - 1], zero), mode=mode)
    empty = np.zeros(0, x.dtype)
    assert float(f(empty, 0)) == 0.0               # x[-1] of an empty x never runs
    assert float(f(np.arange(4, dtype=x.dtype), 3)) == 2.0
    with pytest.raises(IndexError):
        f(empty, 1)                                 # the taken branch's error is real
    y = T.matrix("y")
    bad = T.reshape(y, (n, 5)).sum()                # raises unless y.size == 5 n
    g = symnet.function([y, n], ifelse(T.eq(n, 0), y.sum(), bad), mode=mode)
    assert float(g(np.ones((2, 3), y.dtype), 0)) == 6.0
    with pytest.raises(ValueError):
        g(np.ones((2, 3), y.dtype), 1)


@pytest.mark.parametrize("mode", MODES)
def test_shared_node_runs_once_and_untaken_branch_not_at_all(mode, capsys):
    x, c = T.dvector("x"), T.iscalar("c")
    shared = Print("shared")(T.exp(x))
    only_then = Print("then")(shared * 2)
    only_else = Print("else")(x - 1)
    out = ifelse(c > 0, only_then.sum(), only_else.sum()) + shared.sum()
    f = symnet.function([x, c], out, mode=mode)
    xv = np.array([0.0, 1.0])
    np.testing.assert_allclose(f(xv, 1), 3 * np.exp(xv).sum())
    assert [ln.split(" ")[0] for ln in capsys.readouterr().out.splitlines()] == \
        ["shared", "then"]
    np.testing.assert_allclose(f(xv, 0), (xv - 1).sum() + np.exp(xv).sum())
    assert [ln.split(" ")[0] for ln in capsys.readouterr().out.splitlines()] == \
        ["shared", "else"]
    kinds = [type(nd.op) for nd in f.fgraph.toposort()]
    assert LazyIfElse in kinds and IfElse not in kinds


@pytest.mark.parametrize("mode", MODES)
def test_several_outputs_nested_and_branch_shapes(mode):
    x, k = T.dvector("x"), T.iscalar("k")
    inner = ifelse(k > 1, x[:2] * 10, x[:1])        # lengths 2 and 1
    a, b = ifelse(k > 0, [inner, T.sum(x)], [x * 0, T.max(x)])
    f = symnet.function([x, k], [a, b, a.shape[0]], mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    for kv, want_a, want_b in [(2, [10.0, 20.0], 6.0), (1, [1.0], 6.0), (0, [0.0] * 3, 3.0)]:
        got_a, got_b, got_n = f(xv, kv)
        np.testing.assert_array_equal(got_a, want_a)
        assert float(got_b) == want_b and int(got_n) == len(want_a)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_the_taken_branch(mode):
    def fun(a, b):
        return ifelse(T.sum(a) > 0, a * T.exp(b), T.sin(a) - b ** 2)
    rng = np.random.RandomState(0)
    pos = rng.uniform(0.5, 1.0, 4)
    verify_grad(fun, [pos, rng.uniform(-1, 1, 4)], mode=mode, rng=rng)
    verify_grad(fun, [-pos, rng.uniform(-1, 1, 4)], mode=mode, rng=rng)
    x, n = T.dvector("x"), T.iscalar("n")
    g = T.grad(ifelse(n > 0, x[n - 1] ** 2, T.constant(0.0)), x)
    fg = symnet.function([x, n], g, mode=mode)
    np.testing.assert_array_equal(fg(np.array([1.0, 3.0]), 2), [0.0, 6.0])
    np.testing.assert_array_equal(fg(np.array([1.0, 3.0]), 0), [0.0, 0.0])


def test_dtypes_upcast_and_bad_branches_refused():
    i, d, s = T.ivector("i"), T.dvector("d"), T.scalar("s")
    assert ifelse(s > 0, i, d).dtype == "float64"
    with pytest.raises(TypeError, match="the condition must be a scalar"):
        ifelse(d, d, d)
    with pytest.raises(TypeError, match=r"output 0: the then-branch .* must have the same"):
        ifelse(s > 0, d, T.dmatrix("m"))
    with pytest.raises(ValueError, match="the branches have 2 and 1 outputs"):
        ifelse(s > 0, [d, d], [d])


def test_compat_theano_ifelse_is_lazy():
    from symnet import compat
    was = compat.installed()
    compat.install()
    try:
        from theano.ifelse import ifelse as th_ifelse
        assert th_ifelse is ifelse
    finally:
        if not was:
            compat.uninstall()


def test_infer_shape_chooses_only_sizes_the_branches_disagree_on():
    x, c = T.dmatrix("x"), T.iscalar("c")
    node = ifelse(c > 0, x * 2, x + 1).owner
    rows = x.shape[0]
    (shape,) = node.op.infer_shape(node, [(), (rows, 3), (rows, 4)])
    assert shape[0] is rows
    assert isinstance(shape[1].owner.op, IfElse)
    f = symnet.function([c], shape[1], mode="py")
    assert (int(f(1)), int(f(0))) == (3, 4)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_one_output_of_a_multi_output_ifelse_read_by_an_update(mode):
    # only output 0 is read (by an update): the lazy split replaced all four
    # and failed on the unread ones ("not in this graph")
    rng = np.random.default_rng(0)
    shapes = ([4, 8], [8], [8, 3], [3])
    p = [symnet.shared(rng.random(s)) for s in shapes]
    ins = [T.dtensor3('a'), T.dmatrix('b'), T.dtensor3('c'), T.dmatrix('d')]
    new = ifelse(T.constant(1, 'int8') >= 0, [v[-1] for v in ins], p)
    f = symnet.function(ins, [], updates=[(p[0], new[0])], mode=mode)
    vals = [rng.random([19] + s) for s in shapes]
    f(*vals)
    np.testing.assert_array_equal(p[0].get_value(), vals[0][-1])


def test_ifelse_op_takes_theanos_constructor_arguments():
    op = IfElse(2, as_view=True, name='sel')
    assert op == IfElse(2) and op.as_view and op.name == 'sel'
    with pytest.raises(NotImplementedError, match="gpu"):
        IfElse(1, gpu=True)
