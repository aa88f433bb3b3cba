"""The ops that ran their Python ``perform`` on the numba backend now have
an implementation there: sort, argsort, cumulative ops, bincount, nonzero
and the advanced-indexing layouts the integer-vector kernels decline (one
numpy driver line each), softmax/log-softmax over any axis (a loop over an
(outer, axis, inner) view).  Each agrees with py, under SYMNET_STRICT (a
fallback would raise)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.tensor.ops.nnet import LogSoftmax, Softmax

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache


@pytest.fixture
def strict(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)


def _agree(inputs, outputs, values):
    f = symnet.function(inputs, outputs, mode=Mode("numba"))
    fp = symnet.function(inputs, outputs, mode=Mode("py"))
    assert "Python perform" not in f.source
    for a, b in zip(f(*values), fp(*values)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True)
    return f


def test_sorting_scans_and_counts(strict):
    x = T.matrix("x", dtype="float64")
    i = T.lvector("i")
    outs = [T.sort(x, axis=0), T.sort(x, axis=None), T.argsort(x), T.cumsum(x, axis=1),
            T.cumprod(x, axis=0), T.extra_ops.bincount(i, minlength=7),
            T.extra_ops.bincount(i, weights=T.cast(i, "float64")), T.nonzero(x > 0)[1],
            symnet.grad(T.sum(T.sort(x, axis=1) * T.arange(5)), x)]
    xv = np.random.default_rng(0).normal(size=(4, 5))
    f = _agree([x, i], outs, [xv, np.array([0, 3, 3, 5])])
    assert "_np.sort(" in f.source and "_np.bincount(" in f.source


def test_bincount_negative_input_is_named(strict):
    i = T.lvector("i")
    f = symnet.function([i], T.extra_ops.bincount(i), mode=Mode("numba"))
    with pytest.raises(ValueError, match="negative value -2"):
        f(np.array([1, -2]))


def test_advanced_indexing_beyond_the_kernels(strict):
    x = T.tensor3("x", dtype="float64")
    i = T.lvector("i")
    m = x > 0
    outs = [x[m], x[1:, i], x[:, i, i], x[i, None, 1],
            T.inc_subtensor(x[m], 1.0), T.set_subtensor(x[:, i], 2.0),
            T.inc_subtensor(x[i, :, i], 3.0),
            symnet.grad(T.sum(x[:, i] ** 2), x)]
    xv = np.random.default_rng(1).normal(size=(3, 4, 4))
    f = _agree([x, i], outs, [xv, np.array([0, 2, 2])])
    assert "_advanced_get(" in f.source and "_advanced_inc(" in f.source


def test_advanced_indexing_error_is_named(strict):
    x = T.matrix("x", dtype="float64")
    i = T.lvector("i")
    f = symnet.function([x, i], x[1:, i], mode=Mode("numba"))
    with pytest.raises(IndexError, match="AdvancedSubtensor"):
        f(np.ones((3, 3)), np.array([5]))


@settings(max_examples=examples(10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data(),
       log=st.booleans(), dtype=st.sampled_from(["float32", "float64"]))
def test_softmax_over_any_axis_agrees_with_py(shape, data, log, dtype):
    use_tmp_cache()
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    xv = (np.random.default_rng(len(shape)).normal(size=shape) * 5).astype(dtype)
    op = (LogSoftmax if log else Softmax)(axis)
    check_op(lambda x: [op(x), symnet.grad(T.sum(op(x) * T.sin(x)), x)], [xv])


def test_softmax_other_axis_has_no_fallback_and_handles_nan_and_inf(strict):
    x = T.tensor3("x", dtype="float64")
    xv = np.random.default_rng(2).normal(size=(2, 3, 4))
    xv[0, 0, 0] = np.nan
    xv[1, :, 1] = -np.inf
    _agree([x], [Softmax(1)(x), LogSoftmax(0)(x), Softmax(2)(x)], [xv])
