"""symnet.tensor.utils (``theano.tensor.utils``): hash_from_ndarray and
shape_of_variables."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.graph.fg import FunctionGraph
from symnet.tensor.utils import hash_from_ndarray, shape_of_variables


def test_hash_from_ndarray_tells_shape_strides_dtype_and_values():
    a = np.arange(6.0).reshape(2, 3)
    assert hash_from_ndarray(a) == hash_from_ndarray(a.copy())
    assert len(hash_from_ndarray(a)) == 64
    b = a.copy()
    b[1, 2] = -1
    assert hash_from_ndarray(a) != hash_from_ndarray(b)
    # same (empty) buffer, different shapes
    assert hash_from_ndarray(np.zeros((1, 0))) != hash_from_ndarray(np.zeros((2, 0)))
    # same bytes, other dtype
    assert hash_from_ndarray(np.zeros(3, "int32")) != hash_from_ndarray(np.zeros(3, "uint32"))
    # a non-contiguous view hashes like its contiguous copy only if strides agree
    sq = np.arange(9.0).reshape(3, 3)
    assert hash_from_ndarray(sq.T) != hash_from_ndarray(sq)
    assert hash_from_ndarray(sq[:, ::2]) == hash_from_ndarray(sq[:, ::2])


def test_shape_of_variables_theano_doc_example():
    x = T.matrix('x')
    y = x[512:]
    fgraph = FunctionGraph([x], [y], clone=False)
    d = shape_of_variables(fgraph, {x: (1024, 1024)})
    assert d[y] == (512, 1024) and d[x] == (1024, 1024)
    assert all(isinstance(s, np.ndarray) and s.dtype == np.int64 and s.ndim == 0
               for s in d[y])


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_shape_of_variables_matches_computed_shapes(mode):
    x, v = T.matrix('x'), T.vector('v')
    w = symnet.shared(np.ones((5, 4)), name='w')
    h = T.tanh(T.dot(x, w)) + v
    out = (h.sum(axis=0) + T.exp(x[:, 3])[:4]).reshape((2, -1))
    fg = FunctionGraph([x, v], [out, h.T])
    d = shape_of_variables(fg, {x: (7, 5), v: (4,)})
    # every variable's shape, computed for real
    variables = [var for var in d if var.owner is not None]
    f = symnet.function(fg.inputs, variables, mode=mode)
    rng = np.random.default_rng(0)
    values = f(rng.normal(size=(7, 5)).astype(x.dtype), rng.normal(size=4).astype(v.dtype))
    assert len(variables) > 8
    for var, value in zip(variables, values):
        assert tuple(int(s) for s in d[var]) == np.shape(value), var
    assert tuple(d[w]) == (5, 4)
    assert tuple(d[fg.outputs[0]]) == (2, 2)


def test_shape_of_variables_errors():
    x, r = T.matrix('x'), T.lvector('r')
    fg = FunctionGraph([x, r], [x.reshape(r, ndim=2)])
    with pytest.raises(ValueError, match="depends on the values of its inputs"):
        shape_of_variables(fg, {x: (2, 3), r: (2,)})
    other = T.matrix('other')
    with pytest.raises(ValueError, match="not inputs of the graph"):
        shape_of_variables(FunctionGraph([x], [x * 2]), {other: (2, 2)})
    with pytest.raises(ValueError, match="has 1 sizes, the input has ndim 2"):
        shape_of_variables(FunctionGraph([x], [x * 2]), {x: (2,)})
    s = T.matrix('s', shape=(2, 3))
    with pytest.raises(ValueError, match="gives size 4 on axis 1"):
        shape_of_variables(FunctionGraph([s], [s + 1]), {s: (2, 4)})


def test_theano_tensor_utils_module():
    import symnet.compat
    symnet.compat.install()
    try:
        from theano.tensor.utils import hash_from_ndarray as h, shape_of_variables as s
        assert h is hash_from_ndarray and s is shape_of_variables
    finally:
        symnet.compat.uninstall()
