"""pfunc, rebuild_collect_shared and OrderedUpdates (theano.compile.pfunc,
theano.updates)."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile import pfunc, rebuild_collect_shared
from symnet.compile.updates import OrderedUpdates


def test_pfunc_is_function():
    x = T.dscalar('x')
    w = symnet.shared(np.float64(2.0), name='w')
    f = pfunc([x], x * w, updates=[(w, w + 1)], mode='py')
    assert float(f(3.0)) == 6.0
    assert float(w.get_value()) == 3.0
    with pytest.raises(symnet.compile.UnusedInputError):
        pfunc([x, T.dscalar('y')], x, mode='py')


def test_rebuild_collect_shared_replaces_and_collects():
    x, y = T.dscalars('x', 'y')
    w = symnet.shared(np.float64(2.0), name='w')
    c = symnet.shared(np.float64(5.0), name='c')
    ins, out, (clone_d, upd_d, upd_expr, shared_ins) = rebuild_collect_shared(
        x * w, [x], replace={x: y}, updates=[(c, c + x)])
    assert ins == [y]                          # copy_inputs_over: kept as given
    assert out.ndim == 0 and not isinstance(out, list)
    np.testing.assert_allclose(out.eval({y: 3.0}), 6.0)
    assert set(shared_ins) == {w, c}
    assert list(upd_d) == [c] and upd_expr[0][0] is c
    # the update's expression was rebuilt with the replacement too
    np.testing.assert_allclose(upd_d[c].eval({y: 4.0}), 9.0)
    assert clone_d[x] is y


def test_rebuild_collect_shared_copies_inputs():
    x = T.dvector('x')
    ins, outs, _ = rebuild_collect_shared([T.exp(x)], [x], copy_inputs_over=False)
    assert ins[0] is not x and ins[0].type == x.type
    np.testing.assert_allclose(outs[0].eval({ins[0]: np.zeros(2)}), [1.0, 1.0])
    with pytest.raises(TypeError, match="number of dimensions"):
        rebuild_collect_shared([x * 2], [x], replace={x: T.dmatrix()})


def test_rebuild_collect_shared_default_updates():
    s = symnet.shared(np.float64(0.0), name='s')
    s.default_update = s + 1
    _, _, (_, upd_d, _, _) = rebuild_collect_shared([s * 2])
    assert list(upd_d) == [s]
    _, _, (_, upd_d, _, _) = rebuild_collect_shared([s * 2], no_default_updates=True)
    assert upd_d == {}


def test_ordered_updates():
    a = symnet.shared(np.float64(0), name='a')
    b = symnet.shared(np.float64(1), name='b')
    up1, up2 = OrderedUpdates(), OrderedUpdates()
    assert not (up1 + up2)
    up1[a] = a + 1
    up2[b] = b * 2
    both = up1 + up2
    assert isinstance(both, OrderedUpdates) and list(both) == [a, b]
    assert len(up1 + up1) == 1            # equal updates merge
    up2[a] = a - 1
    with pytest.raises(KeyError, match="two different updates for a"):
        up1 + up2
    with pytest.raises(TypeError, match="must be shared variables, got int 5"):
        up1[5] = 7
    with pytest.raises(TypeError, match="must be shared variables"):
        up1[T.vector()] = 7
    with pytest.raises(TypeError):
        OrderedUpdates(dict(d=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OrderedUpdates(OrderedDict([(a, 1), (b, 2)]))     # ordered: no warning
    with pytest.warns(UserWarning, match="unordered"):
        OrderedUpdates({a: 1, b: 2})
    f = symnet.function([], [], updates=both, mode='py')
    f()
    assert float(a.get_value()) == 1.0 and float(b.get_value()) == 2.0
    assert symnet.OrderedUpdates is OrderedUpdates


def test_deleting_a_default_update():
    x = symnet.shared(np.int64(0))
    x.default_update = x + 1
    f = pfunc([], [x], mode='py')
    f()
    assert x.get_value() == 1
    del x.default_update                  # gone for new functions, kept by f
    assert x.default_update is None
    f()
    assert x.get_value() == 2
    pfunc([], [x], mode='py')()
    assert x.get_value() == 2


def test_default_updates_follow_givens_and_cuts():
    # a shared variable only read by the part of the graph a cut input
    # replaces is not updated (Theano's rule)
    a = symnet.shared(np.int64(0), name='a')
    a.default_update = a + 1
    b = 2 * a
    f = symnet.function([b], b, mode='py')
    assert int(f(21)) == 21 and int(a.get_value()) == 0
    # nor is one a given replaces
    c = symnet.shared(np.float64(1.0), name='c')
    c.default_update = c + 3.0
    x = T.dscalar('x')
    f = symnet.function([x], c + 10, givens={c: x}, mode='py')
    assert float(f(5.0)) == 15.0 and float(c.get_value()) == 1.0
    assert len(f.maker.fgraph.inputs) == 1
    # the givens apply to the default update's expression as well
    f = symnet.function([], c + 10, givens={c: c + 10}, mode='py')
    assert float(f()) == 21.0
    assert float(f()) == 34.0          # c became (1 + 10) + 3


def test_shared_variable_as_explicit_input_names_it():
    w = symnet.shared(np.ones(2), name='w')
    with pytest.raises(TypeError, match=r"Cannot use a shared variable \(w\) as explicit"):
        pfunc([w], T.sum(w * w), mode='py')


def test_givens_cannot_replace_an_input():
    x = T.dscalar('x')
    with pytest.raises(RuntimeError, match="x is an input of the function"):
        symnet.function([x], x * 2, givens={x: x + 1}, mode='py')
