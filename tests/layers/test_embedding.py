"""EmbeddingLayer."""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.layers import InputLayer, EmbeddingLayer, get_output


def test_embedding_lookup_and_grad():
    W = np.random.RandomState(0).randn(5, 3).astype("float32")
    x = T.imatrix("x")
    l = EmbeddingLayer(InputLayer((None, 2), input_var=x), input_size=5, output_size=3, W=W)
    assert l.output_shape == (None, 2, 3)
    idx = np.array([[0, 4], [2, 2]], "int32")
    out = get_output(l)
    np.testing.assert_array_equal(symnet.function([x], out, mode="py")(idx), W[idx])
    g = symnet.grad(out.sum(), l.W)
    counts = np.zeros((5, 3), "float32")
    np.add.at(counts, idx.ravel(), 1)
    np.testing.assert_array_equal(symnet.function([x], g, mode="py")(idx), counts)


def test_embedding_default_init():
    l = EmbeddingLayer(InputLayer((None,), input_var=T.ivector()), 10, 4)
    assert l.W.get_value().shape == (10, 4) and l.params[l.W] == {"trainable", "regularizable"}
