"""Shared pytest setup: make ``tests/oracles.py`` importable both as
``tests.oracles`` and ``oracles``, and restore global config after each test
(tests may reassign ``config.floatX``); tiered execution and compile workers
are off by default; the graph cache is on, as for users, but in a test that
patches symnet through ``monkeypatch``; tests marked ``perform_fallback`` run
with ``SYMNET_STRICT`` off."""
import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (_HERE, os.path.dirname(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# Tests of the numba backend must run numba code from their first call:
# tiered execution (symnet.compile.tiered) is off unless a test asks for it.
os.environ.setdefault("SYMNET_TIERED", "0")
# Likewise a compile never forks a worker process (numba_cpu/workers.py;
# opt-in, but a user's environment may set it): test_compile_worker.py
# asks for one.
os.environ.setdefault("SYMNET_NUMBA_WORKERS", "0")

# The graph cache (numba_cpu/graph_cache.py) is on, as for users (it is
# their default): a test's compile may reuse the rewritten graph and source
# an earlier compile of the same graph wrote.  Its key covers the graph,
# the mode, the environment, ``config`` and symnet's source files, not a
# symnet function or constant replaced in the process: a test that replaces
# one through ``monkeypatch`` (an emitter, a budget, a rewrite, a kernel
# table) compiles without the cache until it ends.  ``config`` is in the
# key, and ``graph_cache`` itself is what test_graph_cache.py patches.
_KEYED = ("symnet.configdefaults", "symnet.backend.numba_cpu.graph_cache")


def _patches_symnet(target, name=None):
    if isinstance(target, str):                     # "module.attribute"
        return target.startswith("symnet.") and not target.startswith(_KEYED)
    where = getattr(target, "__name__", None) if isinstance(target, type(os)) else \
        getattr(target, "__module__", None) if isinstance(target, type) else \
        type(target).__module__
    return (where or "").startswith("symnet") and not (where or "").startswith(_KEYED)


def _guard(method, symnet_target):
    def guarded(self, target, *args, **kwargs):
        if symnet_target(target, *args[:1]):
            self.setenv("SYMNET_GRAPH_CACHE", "0")
        return method(self, target, *args, **kwargs)
    return guarded


pytest.MonkeyPatch.setattr = _guard(pytest.MonkeyPatch.setattr, _patches_symnet)
# an item of a symnet table (a kernel registry), or a symnet module made
# unimportable; os.environ's items are in the key
pytest.MonkeyPatch.setitem = _guard(
    pytest.MonkeyPatch.setitem,
    lambda d, k=None: d is not os.environ and (d is not sys.modules or str(k).startswith("symnet")))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "perform_fallback: the test runs ops that have no compiled kernel on "
        "purpose (their Python perform is what it tests): SYMNET_STRICT is off for it")


@pytest.fixture(autouse=True)
def _restore_config(request):
    from symnet import random as srandom
    from symnet.configdefaults import config
    saved = (config.floatX, config.mode, config.strict)
    rng = srandom.get_rng()
    if request.node.get_closest_marker("perform_fallback"):
        config.strict = False
    yield
    config.floatX, config.mode, config.strict = saved
    srandom.set_rng(rng)


@pytest.fixture
def terminal_sigint():
    """SIGINT raises KeyboardInterrupt while the test runs, as at a terminal.

    A shell starts a background job (``pytest &``, a CI script run with
    ``&``) with SIGINT ignored, and Python then keeps it ignored: a test that
    sends itself SIGINT would wait forever for an interrupt that never comes.
    """
    import signal
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture
def theano_shim():
    """``import theano`` gives symnet for the test (symnet.compat.install),
    taken off after it; yields the ``theano`` module."""
    from symnet import compat
    compat.install(lasagne=False)
    import theano
    yield theano
    compat.uninstall()
