"""Helpers for testing ops and graphs, in the names Theano's
``theano.tests.unittest_tools`` (``utt``) gives them, which the tests of
users' own ops import (``from theano.tests import unittest_tools as utt``).

- :func:`verify_grad`: finite-difference check of a gradient, seeded from
  ``config.unittests.rseed`` when no ``rng`` is given;
- :func:`fetch_seed`, :func:`seed_rng`: that seed;
- :class:`InferShapeTester`: checks an op's ``infer_shape`` (the shape of
  its output is computed without running it, and equals the real one);
- :func:`assert_allclose`: numpy's, with tolerances from the dtype.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet import testing
>>> testing.verify_grad(lambda x: T.tanh(x).sum(), [np.array([0.1, 0.5])])
"""
import logging
import unittest

import numpy as np

from .configdefaults import config
from .gradient import GradientError, verify_grad as _verify_grad

__all__ = ["fetch_seed", "seed_rng", "verify_grad", "InferShapeTester", "assert_allclose"]

_log = logging.getLogger(__name__)


def fetch_seed(pseed=None):
    """``pseed``, else ``config.unittests.rseed`` as an int; None when the
    setting is ``'random'`` (numpy then seeds from the system)."""
    seed = pseed or config.unittests.rseed
    if seed == "random" or not seed:
        return None
    return int(seed)


def seed_rng(pseed=None):
    """Seed numpy's global generator with :func:`fetch_seed`; returns the seed."""
    seed = fetch_seed(pseed)
    np.random.seed(seed)
    return seed


def verify_grad(op, pt, n_tests=2, rng=None, *args, **kwargs):
    """:func:`symnet.gradient.verify_grad`, with numpy's global generator
    seeded by :func:`seed_rng` when ``rng`` is None."""
    if rng is None:
        seed_rng()
        rng = np.random
    _verify_grad(op, pt, n_tests, rng, *args, **kwargs)


#: ``except utt.verify_grad.E_grad`` catches a failed check (Theano's spelling)
verify_grad.E_grad = GradientError

_TOLERANCE = {"float16": 5e-3, "float32": 1e-5, "float64": 1e-8}


def assert_allclose(expected, value, rtol=None, atol=None):
    """``np.testing.assert_allclose`` with tolerances from the less precise
    dtype of the two when not given."""
    expected, value = np.asarray(expected), np.asarray(value)
    tol = max(_TOLERANCE.get(str(a.dtype), 1e-8) for a in (expected, value))
    np.testing.assert_allclose(value, expected, rtol=tol if rtol is None else rtol,
                               atol=tol if atol is None else atol)


class InferShapeTester(unittest.TestCase):
    """Base of tests of an op's ``infer_shape``::

        class TestMyOp(utt.InferShapeTester):
            def test_shape(self):
                x = T.dmatrix()
                self._compile_and_check([x], [MyOp()(x)], [np.ones((3, 4))], MyOp)
    """

    mode = None

    def setUp(self):
        seed_rng()
        if self.mode is None:
            from .compile.mode import get_default_mode
            self.mode = get_default_mode()

    def _compile_and_check(self, inputs, outputs, numeric_inputs, cls, excluding=None,
                           warn=True, check_topo=True):
        """Compile ``outputs`` and their shapes; check that the shapes are
        computed without an op of class ``cls`` (when ``check_topo``) and
        equal the computed outputs' shapes on ``numeric_inputs``."""
        from .compile.function import function
        mode = self.mode.excluding(*excluding) if excluding else self.mode
        if warn:
            for var, value in zip(inputs, numeric_inputs):
                shape = [s for s, b in zip(np.shape(value), getattr(var, "broadcastable", ()))
                         if not b]
                if len(set(shape)) != len(shape):
                    _log.warning("testing the shape inference of %s on an input of shape %s: "
                                 "equal sizes cannot tell a mixed-up axis", cls.__name__,
                                 np.shape(value))
                    break
        outputs_fn = function(inputs, outputs, mode=mode)
        shapes_fn = function(inputs, [o.shape for o in outputs], mode=mode)
        if check_topo:
            left = [n for n in shapes_fn.maker.fgraph.toposort() if isinstance(n.op, cls)]
            assert not left, (f"the shapes of {cls.__name__}'s outputs still compute "
                              f"{cls.__name__}: {left}")
        assert any(isinstance(n.op, cls) for n in outputs_fn.maker.fgraph.toposort()), (
            f"no {cls.__name__} in the compiled outputs (were they rewritten away?)")
        for i, (out, shape) in enumerate(zip(outputs_fn(*numeric_inputs),
                                             shapes_fn(*numeric_inputs))):
            shape = tuple(int(s) for s in shape)
            assert tuple(np.shape(out)) == shape, (
                f"output {i}: infer_shape gives {shape}, the value has shape "
                f"{np.shape(out)}")
