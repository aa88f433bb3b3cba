"""symnet.compat: the theano/lasagne import aliases and graph comparison."""
import importlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from symnet.compat import equal_computations, is_same_graph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def shim():
    compat.install()
    yield
    compat.uninstall()


def run_python(code, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1",
                                   **env))


# -- the import hook -------------------------------------------------------------

@pytest.mark.parametrize("alias, target", [
    ("theano", "symnet"),
    ("theano.tensor", "symnet.tensor"),
    ("theano.tensor.nnet", "symnet.tensor.nnet"),
    ("theano.tensor.extra_ops", "symnet.tensor.extra_ops"),
    ("theano.tensor.signal.pool", "symnet.tensor.signal.pool"),
    ("theano.gradient", "symnet.gradient"),
    ("theano.printing", "symnet.printing"),
    ("theano.compile", "symnet.compile"),
    ("theano.compile.sharedvalue", "symnet.compile.sharedvalue"),
    ("lasagne", "symnet"),
    ("lasagne.layers", "symnet.layers"),
    ("lasagne.init", "symnet.init"),
    ("lasagne.nonlinearities", "symnet.nonlinearities"),
    ("lasagne.updates", "symnet.updates"),
    ("lasagne.objectives", "symnet.objectives"),
    ("lasagne.utils", "symnet.utils"),
])
def test_module_identity(shim, alias, target):
    mod = importlib.import_module(alias)
    assert mod is importlib.import_module(target)
    assert sys.modules[alias] is sys.modules[target]
    assert mod.__name__ == target and mod.__spec__.name == target  # still knows its name


def test_modules_do_not_run_twice(shim):
    import symnet.layers
    marker = object()
    symnet.layers._compat_marker = marker
    import lasagne.layers
    assert lasagne.layers._compat_marker is marker
    del symnet.layers._compat_marker


def test_attribute_access_after_plain_import(shim):
    import lasagne
    import theano
    assert lasagne.layers.DenseLayer is symnet.layers.DenseLayer
    assert lasagne.init.GlorotUniform is symnet.init.GlorotUniform
    assert theano.tensor.dot is T.dot
    assert theano.config is symnet.config


def test_built_modules(shim):
    from theano.gof import Variable, Apply, Constant, Op, graph
    from theano.gof.graph import inputs
    from theano.scan_module.scan_utils import equal_computations as eq
    import theano.gpuarray
    assert (Variable, Apply, Constant, Op) == (symnet.Variable, symnet.Apply,
                                               symnet.Constant, symnet.Op)
    assert graph is sys.modules["theano.gof.graph"]
    x, y = T.scalars("x", "y")
    ins = inputs([x * y + 1])
    assert ins[:2] == [x, y] and len(ins) == 3 and isinstance(ins[2], Constant)
    assert eq is equal_computations
    assert theano.gpuarray.pygpu_activated is False
    import theano.tensor.nnet.abstract_conv  # exists, with the names symnet has
    assert importlib.import_module("theano.gof") is importlib.import_module("theano.gof")


def test_unsupported_theano_package_says_so(shim):
    # the package imports as Theano's does without scipy, so scripts and
    # tests that check enable_sparse skip their sparse parts
    import theano.sparse
    assert theano.sparse.enable_sparse is False
    with pytest.raises(AttributeError, match=r"theano.sparse.csr_matrix: symnet has no sparse "
                                             r"tensors .*toarray"):
        theano.sparse.csr_matrix  # noqa: B018
    with pytest.raises(ImportError, match=r"theano.sparse.basic: symnet has no sparse"):
        import theano.sparse.basic  # noqa: F401
    with pytest.raises(ImportError, match=r"theano.sparse.SparseType: symnet has no sparse"):
        from theano.sparse import SparseType  # noqa: F401


def test_scan_module_after_plain_import(shim):
    import theano
    # Theano's scan docs reach scan_module through the package attribute
    assert theano.scan_module.scan is symnet.scan
    from symnet.scan import until
    assert theano.scan_module.until is until


def test_ifelse(shim):
    from theano.ifelse import ifelse
    a, b = T.scalars("a", "b")
    f = symnet.function([a, b], ifelse(T.lt(a, b), a * 2.0, b * 3.0), mode="py")
    assert float(f(1.0, 5.0)) == 2.0 and float(f(5.0, 1.0)) == 3.0
    g = symnet.function([a, b], symnet.grad(ifelse(T.lt(a, b), a * 2.0, b * 3.0), a),
                        mode="py")
    assert float(g(1.0, 5.0)) == 2.0 and float(g(5.0, 1.0)) == 0.0


@pytest.mark.parametrize("name", ["lasagne.layers.dnn", "lasagne.layers.corrmm",
                                  "lasagne.layers.cuda_convnet", "theano.sandbox.cuda",
                                  "theano.sandbox.cuda.dnn"])
def test_gpu_only_modules_raise_import_error(shim, name):
    with pytest.raises(ImportError, match="GPU"):
        importlib.import_module(name)


def test_unknown_module_is_not_found(shim):
    with pytest.raises(ModuleNotFoundError, match="theano.no_such_thing"):
        importlib.import_module("theano.no_such_thing")


def test_theano_only(shim):
    compat.install(theano=True, lasagne=False)
    assert compat.installed() == {"theano": True, "lasagne": False}
    import theano.tensor  # noqa: F401
    assert sys.modules["theano.tensor"] is T
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("lasagne.layers")


def test_real_lasagne_package_runs_on_theano_alias(tmp_path):
    # With lasagne=False an installed Lasagne is used as is; it starts with
    # these probes of its Theano (Lasagne 0.2's __init__), then builds graphs.
    pkg = tmp_path / "lasagne"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import theano
        import theano.tensor.signal.pool
        theano_backend = "cpu"
        try:
            from theano import gpuarray as gpu
            if gpu.pygpu_activated:
                theano_backend = "pygpu"
        except ImportError:
            pass
        try:
            from theano.sandbox import cuda
            theano_backend = "cuda"
        except ImportError:
            pass
        from theano.tensor.shared_randomstreams import RandomStreams
    """))
    proc = subprocess.run(
        [sys.executable, "-c", "import symnet.compat; symnet.compat.install(lasagne=False)\n"
         "import lasagne, sys\nprint(lasagne.theano_backend, lasagne.__file__)\n"
         "print(sys.modules['theano'] is sys.modules['symnet'])"],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT])))
    assert proc.returncode == 0, proc.stderr
    backend, path, same = proc.stdout.split()
    assert backend == "cpu" and path == str(pkg / "__init__.py") and same == "True"


def test_install_is_idempotent_and_uninstall_cleans_up():
    n = len(sys.meta_path)
    compat.install()
    compat.install()
    assert len(sys.meta_path) == n + 1
    import theano.gof  # noqa: F401
    assert symnet.gof is sys.modules["theano.gof"]  # the import system sets it
    compat.uninstall()
    assert not hasattr(symnet, "gof")
    assert len(sys.meta_path) == n
    assert "theano" not in sys.modules and compat.installed() is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("theano")
    assert sys.modules["symnet"] is symnet  # symnet itself is untouched


def test_theano_flags_floatx():
    proc = run_python("""
        import symnet.compat; symnet.compat.install()
        import theano, theano.tensor as T
        print(theano.config.floatX, T.matrix().dtype)
    """, THEANO_FLAGS="device=cpu,floatX=float64")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float64", "float64"]


def test_founding_post_verbatim():
    # The code of seeds/expressions-as-layer-parameters.txt, unchanged, run
    # through `import theano` / `import lasagne`; then a check of what it claims.
    proc = run_python("""
        import symnet.compat; symnet.compat.install()
        from lasagne.layers import InputLayer, DenseLayer
        batch_size = 64
        l1 = InputLayer((batch_size, 784))
        l2 = DenseLayer(l1, num_units=500)

        l2 = DenseLayer(l1, num_units=500)
        l3 = DenseLayer(l1, num_units=500, W=l2.W)
        # l2 and l3 now share the same weight matrix!
        assert l3.W is l2.W

        l2 = DenseLayer(l1, num_units=500)
        l3 = DenseLayer(l2, num_units=784, W=l2.W.T)

        import theano
        import theano.tensor as T
        from lasagne.init import GlorotUniform
        from lasagne.utils import floatX
        w_init = GlorotUniform()
        w1 = theano.shared(floatX(w_init((784, 100))))
        w2 = theano.shared(floatX(w_init((100, 500))))
        l2 = DenseLayer(l1, num_units=500, W=T.dot(w1, w2))
        import lasagne
        assert lasagne.layers.count_params(l2, regularizable=True) == 128400

        l2_a = DenseLayer(l1, num_units=100, b=None, nonlinearity=None)
        l2 = DenseLayer(l2_a, num_units=500)

        from lasagne.init import Normal
        w = theano.shared(floatX(Normal(0.01, mean=-10)((784, 500))))
        l2 = DenseLayer(l1, num_units=500, W=T.exp(w))
        assert float(l2.W.eval().min()) > 0

        l2 = DenseLayer(l1, num_units=500)
        w = theano.shared(floatX(w_init((500, 500))))
        w_psd = T.dot(w, w.T)
        l3 = DenseLayer(l2, num_units=500, W=w_psd)
        assert l3.get_params() == [w, l3.b]
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# -- graph comparison ----------------------------------------------------------------

def test_equal_computations_structure():
    x, y = T.matrices("x", "y")
    assert equal_computations([T.dot(x, y) + 1.0], [T.dot(x, y) + 1.0])
    assert not equal_computations([T.dot(x, y) + 1.0], [T.dot(x, y) + 2.0])  # constants
    assert not equal_computations([T.dot(x, y)], [T.dot(y, x)])  # input order
    assert not equal_computations([T.exp(x)], [T.log(x)])  # ops
    assert not equal_computations([x + x], [x])
    assert not equal_computations([x], [x, y])


def test_equal_computations_input_mapping_is_one_to_one():
    a, b, c, d = T.vectors("a", "b", "c", "d")
    assert equal_computations([a * b], [c * d], [a, b], [c, d])
    assert not equal_computations([a * b], [c * d], [a, b], [d, c])
    # a stands for c only: a * a is not c * d
    assert not equal_computations([a * a], [c * d], [a], [c])
    assert is_same_graph(T.sum(a ** 2), T.sum(c ** 2), givens={a: c})
    assert not is_same_graph(T.sum(a ** 2), T.sum(c ** 2))


def test_equal_computations_shared_and_independent_builds():
    w = symnet.shared(np.ones((3, 3), dtype="float32"), name="w")

    def build():
        x = T.matrix("x")
        return x, T.nnet.sigmoid(T.dot(x, w)).sum(axis=1)

    x1, out1 = build()
    x2, out2 = build()
    assert equal_computations([out1], [out2], [x1], [x2])
    assert not equal_computations([out1], [out2])  # x1 and x2 are different inputs


def test_equal_computations_deep_graph_no_recursion():
    x, y = T.scalars("x", "y")
    a, b = x, y
    for _ in range(5000):
        a, b = a + 1.0, b + 1.0
    assert equal_computations([a], [b], [x], [y])
    assert not equal_computations([a * 2.0], [b * 3.0], [x], [y])
