"""Shared helpers of the numba backend tests: a per-session cache dir and
running a graph in both modes."""
import atexit
import os
import shutil
import tempfile
import warnings

import numpy as np

import symnet
from symnet.compile.mode import Mode

_DIR = None


def use_tmp_cache():
    """Point SYMNET_CACHE_DIR at one temporary directory per test session
    (``SYMNET_TEST_CACHE_DIR``, where set: a folder kept between runs, so a
    second run meets the kernels and graph cache entries of the first; the
    tests that count the kernel files a compile adds, test_cache.py's and
    test_llvm_modules.py's, then find none to add)."""
    global _DIR
    if _DIR is None:
        _DIR = os.environ.get("SYMNET_TEST_CACHE_DIR")
        if not _DIR:
            _DIR = tempfile.mkdtemp(prefix="symnet-cache-")
            # tens of MB of kernels: removed when the test process exits
            atexit.register(shutil.rmtree, _DIR, True)
    os.environ["SYMNET_CACHE_DIR"] = _DIR
    return _DIR


def both(inputs, outputs, values, updates=None, optimizer="default", rtol=1e-5, atol=1e-6,
         emitter=None):
    """Compile in 'numba' and 'py', run on ``values``, assert they agree;
    returns the numba function.  ``emitter``: the numba backend's emitter
    ("numba" or "llvm"; None: the default)."""
    use_tmp_cache()
    mode = Mode("numba", optimizer)
    if emitter is not None:
        mode.emitter = emitter      # as emitters.emitter_mode
    fn = symnet.function(inputs, outputs, updates=updates, mode=mode,
                         on_unused_input="ignore")
    fp = symnet.function(inputs, outputs, updates=updates, mode=Mode("py", optimizer),
                         on_unused_input="ignore")
    with warnings.catch_warnings():
        # "the numba kernel failed ... where py succeeded" must never happen
        warnings.filterwarnings("error", "the numba kernel failed")
        got = fn(*values)
    want = fp(*values)
    assert_agree(got, want, outputs, rtol, atol)
    return fn


def assert_agree(got, want, outputs, rtol, atol):
    """The results ``got`` equal ``want`` in dtype, shape and value (NaN
    where ``want`` has NaN); ``outputs`` a list: lists of results."""
    if not isinstance(outputs, (list, tuple)):
        got, want = [got], [want]
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


#: the head of a script run by ``run_cold``: ``seen`` gets the (module,
#: qualname) of every function numba compiles in that process
SPY_COMPILES = '''
from numba.core import event
seen = []
class _Seen(event.Listener):
    def on_start(self, ev):
        fn = getattr(ev.data.get("dispatcher"), "py_func", None)
        seen.append((getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")))
    def on_end(self, ev):
        pass
event.register("numba:compile", _Seen())
'''


def run_cold(script, tmp_path, **env):
    """Run ``SPY_COMPILES + script`` in a new process with empty kernel
    caches (symnet's and numba's, under ``tmp_path``); the JSON its last
    line prints."""
    import json
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    env = dict(os.environ, SYMNET_CACHE_DIR=str(tmp_path / "s"),
               NUMBA_CACHE_DIR=str(tmp_path / "n"), PYTHONPATH=root, **env)
    res = subprocess.run([sys.executable, "-c", SPY_COMPILES + script], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def mlp_nesterov(mode, params, lr, mom, static_shape=True, extra_grad=False):
    """W1 in small: a relu MLP (``params``: weight, bias per layer),
    softmax crossentropy, Nesterov momentum on every parameter; returns
    (f, shared params, velocities).  ``extra_grad``: the first weight's
    gradient is also an output of ``f(x, y)``."""
    import symnet.tensor as T
    sh = [symnet.shared(p.copy(), name=f"p{k}") for k, p in enumerate(params)]
    vel = [symnet.shared(np.zeros_like(p), name=f"v{k}", static_shape=static_shape)
           for k, p in enumerate(params)]
    x, y = T.fmatrix("x"), T.ivector("y")
    h, n = x, len(params) // 2
    for i in range(n):
        h = T.dot(h, sh[2 * i]) + sh[2 * i + 1]
        if i < n - 1:
            h = T.nnet.relu(h)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(h), y))
    grads = symnet.grad(loss, sh)
    updates = []
    for p, v, g in zip(sh, vel, grads):
        nv = mom * v - lr * g
        updates += [(v, nv), (p, p + mom * nv - lr * g)]
    outs = [loss, grads[0]] if extra_grad else loss
    m = Mode(mode, tiered=False) if mode == "numba" else Mode(mode)
    return symnet.function([x, y], outs, updates=updates, mode=m), sh, vel


def assert_raises_changing_nothing(shared, call, match=None):
    """``call()`` raises ValueError (matching ``match``) and every shared
    variable in ``shared`` keeps its value."""
    import pytest
    before = [s.get_value() for s in shared]
    with pytest.raises(ValueError, match=match):
        call()
    for s, b in zip(shared, before):
        np.testing.assert_array_equal(s.get_value(), b)


def conv_step(mode, lazy_out=False, other_reader=False):
    """A W4-like step (conv 5x5 relu, 2x2 max pool, dense relu, dense
    softmax, SGD with momentum) at batch 6; ``lazy_out``: the dense weight
    gradient is also an output; ``other_reader``: its sum is added to the
    loss reported (a reader that is not an update).  Returns the losses of
    three steps, the parameters after them and the function."""
    import symnet.tensor as T
    from symnet.tensor.ops.pool import pool_2d
    rng = np.random.default_rng(11)
    shapes = [(4, 1, 5, 5), (4,), (256, 64), (64,), (64, 5), (5,)]
    sh = [symnet.shared((rng.normal(size=s) * 0.1).astype("float32"), name=f"p{i}")
          for i, s in enumerate(shapes)]
    vel = [symnet.shared(np.zeros(s, "float32")) for s in shapes]
    X, Y = T.TensorType("float32", shape=(None, 1, 20, 20))("x"), T.ivector("y")
    h = T.nnet.relu(T.nnet.conv2d(X, sh[0]) + sh[1].dimshuffle("x", 0, "x", "x"))
    h = pool_2d(h, (2, 2), ignore_border=True).flatten(2)
    h = T.nnet.relu(T.dot(h, sh[2]) + sh[3])
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, sh[4]) + sh[5]), Y))
    grads = symnet.grad(loss, sh)
    updates = []
    for p, v, g in zip(sh, vel, grads):
        nv = 0.9 * v - 0.05 * g
        updates += [(v, nv), (p, p + 0.9 * nv - 0.05 * g)]
    outs = [loss]
    if lazy_out:
        outs.append(grads[2])
    if other_reader:
        outs = [loss + 0.0 * grads[2].sum()]
    f = symnet.function([X, Y], outs, updates=updates, mode=mode)
    x = rng.normal(size=(6, 1, 20, 20)).astype("float32")
    y = rng.integers(0, 5, 6).astype("int32")
    losses = [float(np.asarray(f(x, y)[0])) for _ in range(3)]
    return losses, [p.get_value() for p in sh + vel], f
