"""``images2neibs``/``neibs2images``: values against a numpy loop written
from Theano's documented semantics, every mode, gradients, errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet.neighbours import Images2Neibs, images2neibs, neibs2images
from tests.oracles import check_op, rand


def np_neibs(x, shape, step=None, mode="valid"):
    (c, d), (sx, sy) = shape, step or shape
    b, ch, h, w = x.shape
    if mode == "wrap_centered":
        gh, gw = -(-h // sx), -(-w // sy)
    else:
        grow = {"valid": 0, "ignore_borders": 0, "half": 2 * (c // 2), "full": 2 * (c - 1)}
        gcol = {"valid": 0, "ignore_borders": 0, "half": 2 * (d // 2), "full": 2 * (d - 1)}
        gh = (h + grow[mode] - c) // sx + 1
        gw = (w + gcol[mode] - d) // sy + 1
    shift = {"valid": (0, 0), "ignore_borders": (0, 0), "half": (c // 2, d // 2),
             "full": (c - 1, d - 1), "wrap_centered": (c // 2, d // 2)}[mode]
    out = np.zeros((b, ch, gh, gw, c, d), x.dtype)
    for a in range(gh):
        for e in range(gw):
            for i in range(c):
                for j in range(d):
                    r, s = a * sx + i - shift[0], e * sy + j - shift[1]
                    if mode == "wrap_centered":
                        r, s = r % h, s % w
                    if 0 <= r < h and 0 <= s < w:
                        out[:, :, a, e, i, j] = x[:, :, r, s]
    return out.reshape(-1, c * d)


@pytest.mark.parametrize("mode,shape,ishape,step", [
    ("valid", (2, 2), (2, 3, 4, 6), None),
    ("valid", (3, 2), (1, 2, 7, 6), (2, 1)),
    ("ignore_borders", (2, 3), (2, 1, 5, 7), None),
    ("ignore_borders", (3, 3), (1, 2, 8, 7), (2, 3)),
    ("half", (3, 3), (1, 2, 6, 5), (1, 1)),
    ("full", (2, 3), (1, 1, 4, 5), (1, 1)),
    ("wrap_centered", (3, 3), (1, 2, 5, 4), None),
    ("wrap_centered", (5, 3), (1, 1, 6, 5), (2, 2)),
])
def test_values_and_gradient(mode, shape, ishape, step):
    check_op(lambda x: images2neibs(x, shape, step, mode), [rand(ishape)],
             ref=lambda x: np_neibs(x, shape, step, mode), grad=True)


def test_op_form_constant_shape_and_inverse():
    x = T.tensor4("x")
    xv = np.arange(2 * 3 * 6 * 4, dtype=symnet.config.floatX).reshape(2, 3, 6, 4)
    neibs = Images2Neibs("valid")(x, T.as_tensor_variable((3, 2)))
    back = neibs2images(neibs, (3, 2), x.shape)
    f = symnet.function([x], [neibs, back], mode="py")
    n, b = f(xv)
    np.testing.assert_array_equal(n, np_neibs(xv, (3, 2)))
    assert n.dtype == xv.dtype
    np.testing.assert_array_equal(b, xv)


def test_neibs2images_ignore_borders_fills_zeros():
    x = T.dtensor4("x")
    xv = rand((1, 2, 5, 7))
    back = neibs2images(images2neibs(x, (2, 3), mode="ignore_borders"), (2, 3), x.shape,
                        mode="ignore_borders")
    want = np.zeros_like(xv)
    want[:, :, :4, :6] = xv[:, :, :4, :6]
    np.testing.assert_array_equal(back.eval({x: xv}, mode="py"), want)


def test_errors():
    x = T.tensor4("x")
    with pytest.raises(TypeError, match="4-D tensor"):
        images2neibs(T.matrix(), (2, 2))
    with pytest.raises(TypeError, match="odd patch sizes"):
        images2neibs(x, (2, 3), mode="wrap_centered")
    with pytest.raises(NotImplementedError, match="mode must be one of"):
        images2neibs(x, (2, 2), mode="same")
    with pytest.raises(TypeError, match="must be known when the graph is built"):
        images2neibs(x, T.ivector())
    with pytest.raises(ValueError, match="positive"):
        images2neibs(x, (2, 2), (0, 1))
    # a size known to the graph is checked when the graph is built
    s = symnet.shared(np.zeros((2, 3, 10, 10)))
    with pytest.raises(TypeError, match="not consistent in mode 'valid'"):
        images2neibs(s, (3, 2))
    assert images2neibs(s, (3, 2), mode="ignore_borders").eval(mode="py").shape == \
        (2 * 3 * 3 * 5, 6)



@pytest.mark.parametrize("backend", ["py", "numba"])
@pytest.mark.parametrize("mode, step, bad, good", [
    ("valid", None, (5, 5), (6, 4)),
    ("valid", (1, 2), (4, 5), (4, 4)),
    ("half", None, (5, 4), (4, 6)),
    ("full", None, (4, 5), (6, 4)),
    ("wrap_centered", None, (2, 3), (3, 3)),
])
def test_sizes_known_only_at_run_time_are_checked_then(backend, mode, step, bad, good):
    # Theano's rule and error type (TypeError) when the function runs
    x = T.tensor4("x")
    k = (3, 3) if mode == "wrap_centered" else (2, 2)
    f = symnet.function([x], T.sqr(images2neibs(x, k, step, mode=mode)), mode=backend)
    with pytest.raises(TypeError, match=f"on axis [23] .*mode {mode!r}|wrap_centered mode"):
        f(np.zeros((2, 3) + bad, dtype=x.dtype))
    want = images2neibs(T.constant(np.ones((2, 3) + good, dtype=x.dtype)), k, step, mode=mode)
    assert f(np.ones((2, 3) + good, dtype=x.dtype)).shape == want.eval(mode="py").shape
