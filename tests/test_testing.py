"""symnet.testing: Theano's unittest_tools names for testing users' ops."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet import testing
from symnet.configdefaults import change_flags
from symnet.graph.basic import Apply
from symnet.graph.op import Op

pytestmark = [pytest.mark.perform_fallback,   # ops defined here have no kernel
              pytest.mark.filterwarnings("ignore:the numba backend has no kernel")]


class Twice(Op):
    """2x, with a right (``flip=False``) or a wrong (``flip=True``) shape and
    gradient."""
    __props__ = ("flip", "bad_grad")

    def __init__(self, flip=False, bad_grad=False):
        self.flip, self.bad_grad = flip, bad_grad

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * 2

    def infer_shape(self, node, shapes):
        return [shapes[0][::-1]] if self.flip else shapes

    def grad(self, inputs, g):
        return [g[0] * (3 if self.bad_grad else 2)]


class NoShape(Twice):
    infer_shape = None


class TestInferShape(testing.InferShapeTester):
    def test_right_shape_passes(self):
        x = T.dmatrix()
        self._compile_and_check([x], [Twice()(x)], [np.ones((5, 4))], Twice)

    def test_wrong_shape_fails(self):
        x = T.dmatrix()
        with pytest.raises(AssertionError, match=r"infer_shape gives \(4, 5\), the value has "
                                                 r"shape \(5, 4\)"):
            self._compile_and_check([x], [Twice(True)(x)], [np.ones((5, 4))], Twice)

    def test_an_op_left_in_the_shape_graph_fails(self):
        x = T.dmatrix()
        with pytest.raises(AssertionError, match="the shapes of NoShape's outputs still compute"):
            self._compile_and_check([x], [NoShape()(x)], [np.ones((5, 4))], NoShape)
        self._compile_and_check([x], [NoShape()(x)], [np.ones((5, 4))], NoShape,
                                check_topo=False)


def test_verify_grad_passes_and_fails():
    testing.verify_grad(Twice(), [np.random.rand(3, 2)])
    with pytest.raises(testing.verify_grad.E_grad):
        testing.verify_grad(Twice(bad_grad=True), [np.random.rand(3, 2)])


def test_seeds_follow_the_config():
    assert testing.fetch_seed() == 666 and testing.fetch_seed(3) == 3
    a = (testing.seed_rng(), np.random.rand())
    assert a == (testing.seed_rng(), np.random.rand())
    with change_flags(**{"unittests.rseed": "random"}):
        assert testing.fetch_seed() is None


def test_assert_allclose_tolerance_from_the_dtype():
    testing.assert_allclose(np.float32(1.0), np.float32(1.0 + 5e-6))
    with pytest.raises(AssertionError):
        testing.assert_allclose(np.float64(1.0), np.float64(1.0 + 5e-6))


def test_theano_path(theano_shim):
    from theano.tests import unittest_tools as utt
    import theano.tests.unittest_tools as utt2
    assert utt is testing and utt2 is testing
