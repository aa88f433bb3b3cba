"""Theano 0.7/0.8's pooling names: ``downsample.max_pool_2d`` and
``pool.max_pool_2d`` with the old argument names (ds, st, padding)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.signal import downsample, pool
from tests.oracles import rand


def np_max_pool(x, ds, st, ignore_border):
    h, w = x.shape[-2:]
    if ignore_border:
        oh, ow = (h - ds[0]) // st[0] + 1, (w - ds[1]) // st[1] + 1
    else:
        oh, ow = -(-max(h - ds[0], 0) // st[0]) + 1, -(-max(w - ds[1], 0) // st[1]) + 1
    out = np.empty(x.shape[:-2] + (oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[..., i, j] = x[..., i * st[0]:i * st[0] + ds[0],
                               j * st[1]:j * st[1] + ds[1]].max(axis=(-1, -2))
    return out


@pytest.mark.parametrize("fn", [downsample.max_pool_2d, pool.max_pool_2d])
@pytest.mark.parametrize("ds,st,ignore_border", [((2, 2), None, True), ((3, 2), (1, 2), False),
                                                 ((2, 3), (2, 2), True)])
def test_max_pool_2d_old_names(fn, ds, st, ignore_border):
    x = T.tensor4("x")
    xv = rand((2, 3, 7, 8), dtype=symnet.config.floatX)
    y = fn(x, ds=ds, ignore_border=ignore_border, st=st)
    got = symnet.function([x], y, mode="py")(xv)
    np.testing.assert_array_equal(got, np_max_pool(xv, ds, st or ds, ignore_border))
    assert got.dtype == xv.dtype


def test_old_padding_and_mode_arguments():
    x = T.matrix("x")
    xv = np.arange(16, dtype=symnet.config.floatX).reshape(4, 4)
    got = downsample.max_pool_2d(x, (2, 2), True, padding=(1, 1), mode="sum").eval(
        {x: xv}, mode="py")
    want = np.pad(xv, 1).reshape(3, 2, 3, 2).sum(axis=(1, 3))
    np.testing.assert_array_equal(got, want)


def test_theano_module_path():
    import symnet.compat
    symnet.compat.install(lasagne=False)
    try:
        from theano.tensor.signal import downsample as tds
        from theano.tensor.signal.pool import AveragePoolGrad, max_pool_2d
        assert tds is downsample and max_pool_2d is pool.max_pool_2d
        assert AveragePoolGrad is pool.AveragePoolGrad
    finally:
        symnet.compat.uninstall()
