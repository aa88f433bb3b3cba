"""pool_3d (Theano's T.signal.pool.pool_3d): every mode against a direct
loop over windows, gradients by finite differences, Theano's output sizes."""
import itertools

import numpy as np
import pytest

import symnet.tensor as T
from symnet.tensor.signal.pool import pool_3d
from tests.oracles import check_op, rand


def naive_pool3d(x, ws, stride, pad, ignore_border, mode):
    n = x.shape[-3:]
    if ignore_border:
        outs = [(s + 2 * p - w) // st + 1 for s, w, st, p in zip(n, ws, stride, pad)]
    else:  # windows may hang over the end, as long as they start inside
        outs = [(s - 1) // st + 1 if st >= w else max(0, (s - 1 - w + st) // st) + 1
                for s, w, st in zip(n, ws, stride)]
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full(x.shape[:-3] + tuple(s + 2 * p + w for s, p, w in zip(n, pad, ws)), fill)
    xp[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(pad, n))] = x
    out = np.zeros(x.shape[:-3] + tuple(outs))
    for pos in itertools.product(*(range(o) for o in outs)):
        lo = [q * st for q, st in zip(pos, stride)]
        sl = tuple(slice(a, a + w) for a, w in zip(lo, ws))
        win = xp[(Ellipsis,) + sl]
        if mode == "max":
            val = win.max(axis=(-3, -2, -1))
        else:
            val = win.sum(axis=(-3, -2, -1))
            if mode == "average_inc_pad":
                hi = [min(a + w, s + 2 * p) for a, w, s, p in zip(lo, ws, n, pad)]
                val = val / np.prod([h - a for h, a in zip(hi, lo)])
            elif mode == "average_exc_pad":
                cnt = [min(a + w, p + s) - max(a, p) for a, w, s, p in zip(lo, ws, n, pad)]
                val = val / np.prod(cnt)
        out[(Ellipsis,) + pos] = val
    return out


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ws, stride, pad, ignore_border", [
    ((2, 2, 2), (2, 2, 2), (0, 0, 0), True),
    ((3, 2, 2), (1, 2, 1), (1, 0, 1), True),
    ((2, 3, 2), (2, 2, 3), (0, 0, 0), False),
])
def test_pool_3d(mode, ws, stride, pad, ignore_border):
    x = rand((2, 2, 5, 4, 6), rng=np.random.default_rng(7))

    def fn(a):
        return pool_3d(a, ws=ws, stride=stride, pad=pad, ignore_border=ignore_border,
                       mode=mode)
    check_op(fn, [x], ref=lambda a: naive_pool3d(a, ws, stride, pad, ignore_border, mode),
             grad=True)


def test_pool_3d_needs_three_window_sizes():
    with pytest.raises(ValueError, match="ws must have 3 entries"):
        pool_3d(T.dtensor4("x"), ws=(2, 2), ignore_border=True)
    with pytest.raises(TypeError, match="at least 3 dims"):
        pool_3d(T.dmatrix("m"), ws=(2, 2, 2), ignore_border=True)
