"""The oracle itself catches wrong results, wrong shapes and wrong gradients."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.graph.basic import Apply
from symnet.graph.op import Op
from symnet.gradient import GradientError
from tests.oracles import backends, check_op, rand


class _Double(Op):
    """2 * x, with a deliberately configurable infer_shape and gradient."""
    __props__ = ("bad_shape", "bad_grad")

    def __init__(self, bad_shape=False, bad_grad=False):
        self.bad_shape, self.bad_grad = bad_shape, bad_grad

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, input_shapes):
        shp = input_shapes[0]
        return [tuple(s + 1 for s in shp) if self.bad_shape else shp]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * (3.0 if self.bad_grad else 2.0)]


def test_backends_include_py_and_numba():
    assert backends()[:2] == ["py", "numba"]


@pytest.mark.perform_fallback
def test_good_op_passes():
    check_op(_Double(), [rand((2, 3))], ref=lambda a: 2 * a, grad=True, grad2=True)


def test_wrong_values_fail():
    with pytest.raises(AssertionError):
        check_op(_Double(), [rand((2, 3))], ref=lambda a: 3 * a)


class _BadDtype(_Double):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = (inputs[0] * 2).astype("float32")


def test_wrong_dtype_fails():
    with pytest.raises(AssertionError, match="dtype"):
        check_op(_BadDtype(), [rand((2,))], ref=lambda a: 2 * a)


@pytest.mark.perform_fallback
def test_wrong_infer_shape_fails():
    with pytest.raises(AssertionError, match="infer_shape"):
        check_op(_Double(bad_shape=True), [rand((2, 3))], ref=lambda a: 2 * a)


@pytest.mark.perform_fallback
def test_wrong_gradient_fails():
    with pytest.raises(GradientError):
        check_op(_Double(bad_grad=True), [rand((2, 3))], ref=lambda a: 2 * a, grad=True)


def test_multiple_outputs_and_default_reference():
    out = check_op(lambda x: [x + 1, T.sum(x)], [rand((3,))])
    assert len(out) == 2 and out[1].shape == ()
