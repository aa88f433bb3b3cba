"""``theano.tensor.nnet.bn``: batch normalization values against numpy,
both parameter layouts, running averages, gradients, errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.nnet import bn
from tests.oracles import check_op, rand


@pytest.mark.parametrize("mode", ["low_mem", "high_mem"])
def test_batch_normalization(mode):
    x, g, b, m, s = rand((4, 5)), rand((5,)), rand((5,)), rand((5,)), rand((5,), low=0.5, high=2)
    check_op(lambda *a: bn.batch_normalization(*a, mode=mode), [x, g, b, m, s],
             ref=lambda x, g, b, m, s: (x - m) * (g / s) + b, grad=True)
    with pytest.raises(ValueError, match="'low_mem' or 'high_mem'"):
        bn.batch_normalization(*[T.vector()] * 5, mode="fast")


def np_train(x, g, b, axes, eps, f, rm, rv, full):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)

    def shape(p):
        return p if full else np.expand_dims(p, axes)

    out = (x - mean) * invstd * shape(g) + shape(b)
    m = np.prod([x.shape[a] for a in axes])
    stats = [mean, invstd, shape(rm) * (1 - f) + mean * f,
             shape(rv) * (1 - f) + m / (m - 1) * var * f]
    if not full:
        stats = [s.squeeze(axis=axes) for s in stats]
    return [out] + stats


@pytest.mark.parametrize("axes,shape,full", [
    ("per-activation", (5, 3), False), ("spatial", (4, 3, 2, 2), False),
    ((0, 2), (3, 4, 5), True), ("spatial", (4, 3, 2, 2), True)])
def test_batch_normalization_train(axes, shape, full):
    x = rand(shape)
    ax = {"per-activation": (0,), "spatial": (0, 2, 3)}.get(axes, axes)
    pshape = tuple(1 if i in ax else n for i, n in enumerate(shape)) if full else \
        tuple(n for i, n in enumerate(shape) if i not in ax)
    params = [rand(pshape), rand(pshape), rand(pshape), rand(pshape, low=0.5, high=2)]
    check_op(lambda x, g, b, rm, rv: list(bn.batch_normalization_train(
                 x, g, b, axes, 1e-3, 0.3, rm, rv)),
             [x] + params,
             ref=lambda x, g, b, rm, rv: np_train(x, g, b, ax, 1e-3, 0.3, rm, rv, full))
    # the gradient of the normalized output wrt inputs and parameters
    check_op(lambda x, g, b: bn.batch_normalization_train(x, g, b, axes)[0].sum() ** 2,
             [x] + params[:2], grad=True)


def test_batch_normalization_train_three_outputs_and_float32():
    x, g, b = T.fmatrix("x"), T.fvector("g"), T.fvector("b")
    outs = bn.batch_normalization_train(x, g, b)
    assert len(outs) == 3 and all(o.dtype == "float32" for o in outs)
    assert outs[1].ndim == 1


def test_batch_normalization_test():
    x = rand((4, 3, 2, 2))
    p = [rand((3,)), rand((3,)), rand((3,)), rand((3,), low=0.5, high=2)]

    def ref(x, g, b, m, v):
        e = (slice(None), None, None)
        return (x - m[e]) * g[e] / np.sqrt(v[e] + 1e-4) + b[e]

    check_op(lambda *a: bn.batch_normalization_test(*a, axes="spatial"), [x] + p, ref=ref,
             grad=True)


def test_errors():
    x, v = T.matrix("x"), T.vector("v")
    with pytest.raises(ValueError, match="'per-activation', 'spatial' or a tuple"):
        bn.batch_normalization_train(x, v, v, axes="channel")
    with pytest.raises(ValueError, match=r"axes should be in \[0, 2\)"):
        bn.batch_normalization_train(x, v, v, axes=(2,))
    with pytest.raises(ValueError, match="at least one normalization axis"):
        bn.batch_normalization_train(x, v, v, axes=())
    with pytest.raises(ValueError, match="epsilon must be at least 1e-5"):
        bn.batch_normalization_train(x, v, v, epsilon=1e-6)
    with pytest.raises(ValueError, match="both be given or both be None"):
        bn.batch_normalization_train(x, v, v, running_mean=v)
    with pytest.raises(ValueError, match="parameters must have 2 dims"):
        bn.batch_normalization_train(x, T.tensor3(), v)
    with pytest.raises(ValueError, match="beta must have 1 dims like gamma"):
        bn.batch_normalization_test(x, v, x, v, v)


def test_theano_module_path():
    import symnet.compat
    symnet.compat.install(lasagne=False)
    try:
        from theano.tensor.nnet import bn as tbn
        import theano.tensor.nnet.neighbours as tneib
        assert tbn is bn and tneib.images2neibs is not None
    finally:
        symnet.compat.uninstall()
