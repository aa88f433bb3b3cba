"""Every code example of the founding documents (``/work/shared/seeds``), run
literally through the compatibility shim: ``import theano`` and
``import lasagne`` exactly as written, after ``symnet.compat.install()``.

Each snippet is copied character for character from its seed; where a
snippet relies on names from an earlier one (``l_in``, ``l_out``, ``l1``...)
the test defines them first, as a reader of the document would. After
running, the test checks the values the text promises.
"""
import textwrap

import numpy as np
import pytest

import symnet
import symnet.compat


@pytest.fixture
def shim():
    """Install the theano/lasagne aliases for one test, then remove them."""
    symnet.compat.install()
    yield
    symnet.compat.uninstall()


def run(src, ns):
    """Execute a seed snippet (``>>>``/``...`` prompts stripped) in ``ns``."""
    lines = []
    for line in textwrap.dedent(src).strip("\n").splitlines():
        stripped = line.lstrip()
        if stripped.startswith(">>> ") or stripped.startswith("... "):
            lines.append(stripped[4:])
        elif stripped in (">>>", "..."):
            lines.append("")
        else:
            lines.append(line)
    exec(compile("\n".join(lines), "<seed>", "exec"), ns)
    return ns


# -- lasagne-layers-guide.txt ----------------------------------------------------

GUIDE_MLP = """
>>> import theano.tensor as T
>>> l_in = lasagne.layers.InputLayer((100, 50))
>>> l_hidden = lasagne.layers.DenseLayer(l_in, num_units=200)
>>> l_out = lasagne.layers.DenseLayer(l_hidden, num_units=10,
...                                   nonlinearity=T.nnet.softmax)
"""


def test_guide_creating_a_layer(shim):
    ns = {}
    run("""
    >>> import lasagne
    """, ns)
    ns["l_in"] = ns["lasagne"].layers.InputLayer((100, 50))
    run("""
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100)
    """, ns)
    import lasagne
    assert isinstance(ns["l"], lasagne.layers.DenseLayer)
    assert isinstance(ns["l"], symnet.layers.Layer)
    assert ns["l"].W.get_value().shape == (50, 100)
    assert ns["l"].b.get_value().shape == (100,)
    assert lasagne.layers.get_output_shape(ns["l"]) == (100, 100)


def test_guide_mlp_naming_and_initialization(shim):
    ns = run("import lasagne", {})
    run(GUIDE_MLP, ns)
    assert ns["l_hidden"].nonlinearity is ns["lasagne"].nonlinearities.rectify
    assert ns["lasagne"].layers.get_output_shape(ns["l_out"]) == (100, 10)
    run("""
    >>> l_hidden = lasagne.layers.DenseLayer(l_in, num_units=200,
    ...                                      name="hidden_layer")
    """, ns)
    assert ns["l_hidden"].name == "hidden_layer"
    run("""
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100,
    ...                               W=lasagne.init.Normal(0.01))
    """, ns)
    w = ns["l"].W.get_value()
    assert w.shape == (50, 100) and w.dtype == symnet.config.floatX
    assert abs(w.std() - 0.01) < 0.002 and abs(w.mean()) < 0.002
    run("""
    >>> import theano
    >>> import numpy as np
    >>> W = theano.shared(np.random.normal(0, 0.01, (50, 100)))
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100, W=W)
    """, ns)
    assert ns["l"].W is ns["W"]
    run("""
    >>> W_init = np.random.normal(0, 0.01, (50, 100))
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100, W=W_init)
    """, ns)
    np.testing.assert_allclose(ns["l"].W.get_value(), ns["W_init"], rtol=1e-6, atol=1e-8)
    assert ns["l"].W.get_value() is not ns["W_init"]  # copied
    run("""
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100,
    ...                               W=lasagne.init.Normal(0.01))
    """, ns)
    assert ns["l"].W.get_value().shape == (50, 100)
    run("""
    >>> def init_W(shape):
    ...     return np.random.normal(0, 0.01, shape)
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100, W=init_W)
    """, ns)
    assert ns["l"].W.get_value().shape == (50, 100)
    run("""
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=100, b=None)
    """, ns)
    assert ns["l"].b is None and ns["l"].get_params() == [ns["l"].W]
    run("""
    >>> l1 = lasagne.layers.DenseLayer(l_in, num_units=100)
    >>> l2 = lasagne.layers.DenseLayer(l_in, num_units=100, W=l1.W)
    """, ns)
    assert ns["l2"].W is ns["l1"].W and ns["l2"].b is not ns["l1"].b
    params = ns["lasagne"].layers.get_all_params([ns["l1"], ns["l2"]])
    assert len(params) == 3  # W shared once, two biases


def _softmax_mlp_ref(ns, data):
    W1, b1 = ns["l_hidden"].W.get_value(), ns["l_hidden"].b.get_value()
    W2, b2 = ns["l_out"].W.get_value(), ns["l_out"].b.get_value()
    h = np.maximum(data @ W1 + b1, 0)
    z = h @ W2 + b2
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("mode", ["py", None])
def test_guide_propagating_data(shim, mode):
    ns = run("import lasagne", {})
    run(GUIDE_MLP, ns)
    if mode is not None:
        symnet.config.mode = mode  # restored by conftest
    run("""
    >>> y = lasagne.layers.get_output(l_out)
    >>> import theano
    >>> f = theano.function([l_in.input_var], lasagne.layers.get_output(l_out))
    """, ns)
    data = np.random.RandomState(0).rand(100, 50).astype("float32")
    ref = _softmax_mlp_ref(ns, data)
    out = ns["f"](data)
    assert out.shape == (100, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-6)
    run("""
    >>> x = T.matrix('x')
    >>> y = lasagne.layers.get_output(l_out, x)
    >>> f = theano.function([x], y)
    """, ns)
    np.testing.assert_allclose(ns["f"](data), ref, rtol=1e-4, atol=1e-6)
    run("""
    >>> y = lasagne.layers.get_output(l_out, deterministic=True)
    """, ns)
    g = ns["theano"].function([ns["l_in"].input_var], ns["y"])
    np.testing.assert_allclose(g(data), ref, rtol=1e-4, atol=1e-6)


def test_guide_multiple_inputs_and_outputs(shim):
    import lasagne
    import theano
    ns = {"lasagne": lasagne, "theano": theano}
    run("import theano.tensor as T", ns)
    # "a network with two input layers l_in1 and l_in2 and an output layer l_out"
    l_in1 = lasagne.layers.InputLayer((None, 3))
    l_in2 = lasagne.layers.InputLayer((None, 3))
    ns["l_out"] = lasagne.layers.ElemwiseSumLayer([l_in1, l_in2])
    ns.update(l_in1=l_in1, l_in2=l_in2)
    run("""
    >>> x1 = T.matrix('x1')
    >>> x2 = T.matrix('x2')
    >>> y = lasagne.layers.get_output(l_out, { l_in1: x1, l_in2: x2 })
    """, ns)
    f = theano.function([ns["x1"], ns["x2"]], ns["y"], mode="py")
    a = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(f(a, 2 * a), 3 * a)
    # "a network with two output layers l_out1 and l_out2"
    l_in = lasagne.layers.InputLayer((None, 4))
    ns["l_out1"] = lasagne.layers.DenseLayer(l_in, 3, nonlinearity=None)
    ns["l_out2"] = lasagne.layers.DropoutLayer(ns["l_out1"], p=0.5)
    run("""
    >>> y1, y2 = lasagne.layers.get_output([l_out1, l_out2])
    """, ns)
    f = theano.function([l_in.input_var], [ns["y1"], ns["y2"]], mode="py")
    data = np.ones((5, 4), "float32")
    o1, o2 = f(data)
    ref = data @ ns["l_out1"].W.get_value() + ns["l_out1"].b.get_value()
    np.testing.assert_allclose(o1, ref, rtol=1e-5)
    # dropout with p=0.5 keeps or doubles each value
    assert np.all(np.isclose(o2, 0) | np.isclose(o2, 2 * o1, rtol=1e-5))
    run("""
    >>> y1 = lasagne.layers.get_output(l_out1)
    >>> y2 = lasagne.layers.get_output(l_out2)
    """, ns)
    assert ns["y2"].ndim == 2


# -- lasagne-init-reference.txt ----------------------------------------------------

def test_init_reference_example(shim):
    ns = run("""
    >>> from lasagne.layers import DenseLayer
    >>> from lasagne.init import Constant, GlorotUniform
    >>> l1 = DenseLayer((100,20), num_units=50,
    ...                 W=GlorotUniform('relu'), b=Constant(0.0))
    """, {})
    W = ns["l1"].W.get_value()
    assert W.shape == (20, 50)
    # gain='relu': a = sqrt(2) * sqrt(6 / (fan_in + fan_out)) = sqrt(12 / 70)
    a = np.sqrt(12.0 / 70)
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.9 * a
    np.testing.assert_array_equal(ns["l1"].b.get_value(), np.zeros(50))


# -- expressions-as-layer-parameters.txt ----------------------------------------------

BLOG_DEFAULT = """
from lasagne.layers import InputLayer, DenseLayer
batch_size = 64
l1 = InputLayer((batch_size, 784))
l2 = DenseLayer(l1, num_units=500)
"""

BLOG_FACTORIZED = """
import theano
import theano.tensor as T
from lasagne.init import GlorotUniform
from lasagne.utils import floatX
w_init = GlorotUniform()
w1 = theano.shared(floatX(w_init((784, 100))))
w2 = theano.shared(floatX(w_init((100, 500))))
l2 = DenseLayer(l1, num_units=500, W=T.dot(w1, w2))
"""


def _out(layer, inp, data):
    import lasagne
    import theano
    return theano.function([inp.input_var], lasagne.layers.get_output(layer),
                           mode="py")(data)


def test_blog_default_and_tied_weights(shim):
    ns = run(BLOG_DEFAULT, {})
    assert ns["l2"].W.get_value().shape == (784, 500)
    run("""
    l2 = DenseLayer(l1, num_units=500)
    l3 = DenseLayer(l1, num_units=500, W=l2.W)
    # l2 and l3 now share the same weight matrix!
    """, ns)
    assert ns["l3"].W is ns["l2"].W
    run("""
    l2 = DenseLayer(l1, num_units=500)
    l3 = DenseLayer(l2, num_units=784, W=l2.W.T)
    """, ns)
    import lasagne
    l2, l3 = ns["l2"], ns["l3"]
    assert l3.get_params() == [l2.W, l3.b]
    assert lasagne.layers.get_all_params(l3) == [l2.W, l2.b, l3.b]
    data = np.random.RandomState(1).rand(64, 784).astype("float32")
    W = l2.W.get_value()
    h = np.maximum(data @ W + l2.b.get_value(), 0)
    ref = np.maximum(h @ W.T + l3.b.get_value(), 0)
    np.testing.assert_allclose(_out(l3, ns["l1"], data), ref, rtol=1e-4, atol=1e-5)


def test_blog_factorized_weights(shim):
    ns = run(BLOG_DEFAULT, {})
    run(BLOG_FACTORIZED, ns)
    import lasagne
    l2, w1, w2 = ns["l2"], ns["w1"], ns["w2"]
    assert w1.dtype == symnet.config.floatX
    assert l2.get_params() == [w1, w2, l2.b]
    assert l2.get_params(regularizable=True) == [w1, w2]
    # 784*100 + 100*500 weights + 500 biases
    assert lasagne.layers.count_params(l2) == 128400 + 500
    data = np.random.RandomState(2).rand(3, 784).astype("float32")
    ns["l1"] = lasagne.layers.InputLayer((3, 784))
    l2b = lasagne.layers.DenseLayer(ns["l1"], num_units=500, W=ns["T"].dot(w1, w2))
    ref = np.maximum(data @ (w1.get_value() @ w2.get_value()) + l2b.b.get_value(), 0)
    np.testing.assert_allclose(_out(l2b, ns["l1"], data), ref, rtol=1e-4, atol=1e-5)
    # the gradient reaches the factors
    import theano
    loss = lasagne.layers.get_output(l2b).sum()
    g1, g2 = theano.grad(loss, [w1, w2])
    gv1, gv2 = theano.function([ns["l1"].input_var], [g1, g2], mode="py")(data)
    # d sum(relu(x W1 W2 + b)) / dW1 = x^T M W2^T with M the relu mask
    mask = (data @ (w1.get_value() @ w2.get_value()) + l2b.b.get_value() > 0)
    np.testing.assert_allclose(gv1, data.T @ mask @ w2.get_value().T, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gv2, w1.get_value().T @ data.T @ mask, rtol=1e-3, atol=1e-4)
    run("""
    l2_a = DenseLayer(l1, num_units=100, b=None, nonlinearity=None)
    l2 = DenseLayer(l2_a, num_units=500)
    """, ns)
    assert lasagne.layers.count_params(ns["l2"]) == 784 * 100 + 100 * 500 + 500


def test_blog_positive_weights(shim):
    ns = run(BLOG_DEFAULT, {})
    run(BLOG_FACTORIZED, ns)
    run("""
    from lasagne.init import Normal
    w = theano.shared(floatX(Normal(0.01, mean=-10)((784, 500))))
    l2 = DenseLayer(l1, num_units=500, W=T.exp(w))
    """, ns)
    w, l2 = ns["w"], ns["l2"]
    assert abs(w.get_value().mean() + 10) < 0.01
    assert l2.get_params() == [w, l2.b]
    # "You could also use T.softplus(w) instead of T.exp(w)"; and T.maximum(w, 0)
    T, DenseLayer = ns["T"], ns["DenseLayer"]
    for expr, fn in [(T.softplus(w), lambda v: np.log1p(np.exp(v))),
                     (T.maximum(w, 0), lambda v: np.maximum(v, 0))]:
        layer = DenseLayer(ns["l1"], num_units=500, W=expr)
        assert layer.get_params() == [w, layer.b]
        data = np.random.RandomState(3).rand(64, 784).astype("float32")
        ref = np.maximum(data @ fn(w.get_value()) + layer.b.get_value(), 0)
        np.testing.assert_allclose(_out(layer, ns["l1"], data), ref, rtol=1e-4, atol=1e-6)


def test_blog_positive_semidefinite_weights(shim):
    ns = run(BLOG_DEFAULT, {})
    run(BLOG_FACTORIZED, ns)
    run("""
    l2 = DenseLayer(l1, num_units=500)
    w = theano.shared(floatX(w_init((500, 500))))
    w_psd = T.dot(w, w.T)
    l3 = DenseLayer(l2, num_units=500, W=w_psd)
    """, ns)
    import lasagne
    l2, l3, w = ns["l2"], ns["l3"], ns["w"]
    assert l3.get_params() == [w, l3.b]
    assert lasagne.layers.get_all_params(l3, trainable=True) == [l2.W, l2.b, w, l3.b]
    data = np.random.RandomState(4).rand(2, 784).astype("float32")
    h = np.maximum(data @ l2.W.get_value() + l2.b.get_value(), 0)
    wv = w.get_value()
    ref = np.maximum(h @ (wv @ wv.T) + l3.b.get_value(), 0)
    np.testing.assert_allclose(_out(l3, ns["l1"], data), ref, rtol=1e-3, atol=1e-4)


def test_blog_wrong_expression_shape_is_a_build_time_error(shim):
    ns = run(BLOG_DEFAULT, {})
    run(BLOG_FACTORIZED, ns)
    with pytest.raises(ValueError, match=r"\(784, 500\).*\(784, 300\)|\(784, 300\).*\(784, 500\)"):
        ns["DenseLayer"](ns["l1"], num_units=300, W=ns["T"].dot(ns["w1"], ns["w2"]))
