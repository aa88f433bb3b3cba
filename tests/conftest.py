"""Shared pytest setup: make ``tests/oracles.py`` importable both as
``tests.oracles`` and ``oracles``, and restore global config after each test
(tests may reassign ``config.floatX``); tiered execution, compile workers and the
graph cache are off by default;
tests marked ``perform_fallback`` run with ``SYMNET_STRICT`` off."""
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
# The graph cache (numba_cpu/graph_cache.py) would let a test's compile
# reuse the plan and source an earlier test made of the same graph, while
# tests patch emitters, budgets and rewrites: test_graph_cache.py turns it on.
os.environ.setdefault("SYMNET_GRAPH_CACHE", "0")


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
