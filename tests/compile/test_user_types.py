"""Graphs over a user's own Type (Theano's "making the double type"): both
backends run them; numba's driver calls the user's op (it has no kernel),
warned (an error under SYMNET_STRICT)."""
import numpy as np
import pytest

import symnet
from symnet.backend.registry import MissingKernelError
from symnet.graph.basic import Apply, Constant
from symnet.graph.op import Op
from symnet.graph.type import Type


class Double(Type):
    def filter(self, x, strict=False, allow_downcast=None):
        if strict and not isinstance(x, float):
            raise TypeError("expected a float")
        return float(x)

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(Double)

    def __str__(self):
        return "double"


double = Double()


class Mul(Op):
    __props__ = ()

    def make_node(self, x, y):
        x, y = (Constant(double, v) if isinstance(v, (int, float)) else v for v in (x, y))
        return Apply(self, [x, y], [double()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * inputs[1]


@pytest.mark.perform_fallback   # the user's op has no kernel
@pytest.mark.parametrize("mode", ["py", "numba"])
def test_values_and_filtering(mode, recwarn):
    x, y = double("x"), double("y")
    f = symnet.function([x, y], Mul()(Mul()(x, y), 2), mode=mode)
    assert f(5, 6) == 60.0 and isinstance(f(5, 6), float)
    assert f(5.5, 2) == 22.0


@pytest.mark.perform_fallback
def test_numba_warns_that_the_op_runs_its_perform():
    from symnet.backend import registry
    registry._WARNED.discard(("numba", "Mul"))
    x = double("x")
    with pytest.warns(RuntimeWarning, match=r"numba backend has no kernel for Mul; it runs "
                                            r"through its Python perform"):
        f = symnet.function([x], Mul()(x, 3), mode="numba")
    assert f(2) == 6.0


def test_numba_under_strict_is_an_error():
    from symnet.configdefaults import config
    config.strict = True
    x = double("x")
    with pytest.raises(MissingKernelError, match="numba backend has no kernel for Mul"):
        symnet.function([x], Mul()(x, 3), mode="numba")


def test_a_filter_error_names_the_input():
    x = double("x")
    f = symnet.function([x], Mul()(x, 3), mode="py")
    with pytest.raises(ValueError, match=r"input 0 \(x\): could not convert string to float"):
        f("abc")
