"""Test values: every node computed as the graph is built, as in Theano.

With ``symnet.config.compute_test_value`` set to ``'raise'`` (or ``'warn'``,
``'ignore'``), each node that ``Op.__call__`` builds is run at once on the
test values of its inputs: ``x.tag.test_value`` for a free variable, the
data of a constant, the current value of a shared variable.  Its outputs
get ``tag.test_value``, so a shape error in a user graph shows where the
graph is built, with the real shapes, naming the node and the user line.

An input without a test value is an error with ``'raise'``, a warning with
``'warn'``, and with ``'ignore'`` the node is left without test values.
``'pdb'`` behaves as ``'raise'``.  With ``'off'`` (the default) no hook is
installed at all.
"""
import warnings

import numpy as np

from ..backend.py.linker import perform_node
from ..configdefaults import config
from ..graph.basic import Constant
from ..graph.op import BUILD_HOOKS

__all__ = ["TestValueError", "get_test_value", "compute_node_test_value"]

_MISSING = object()


class TestValueError(ValueError):
    """A variable needed a test value and had none."""

    __test__ = False   # not a pytest test class


def _value_of(var):
    """The test value of ``var`` (filtered through its type) or _MISSING."""
    if isinstance(var, Constant):
        return var.data
    if "test_value" in var.tag:
        value = var.tag["test_value"]
        if not hasattr(var.type, "numpy_dtype"):    # not a tensor: taken as is
            return value
        return var.type.filter_named(value, f"the test value of {var}", allow_downcast=True)
    if hasattr(var, "get_value"):          # a shared variable
        return var.get_value(borrow=True)
    return _MISSING


def get_test_value(var):
    """The test value of ``var``; TestValueError when it has none.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.vector('x')
    >>> x.tag.test_value = np.ones(2, dtype='float32')
    >>> get_test_value(x)
    array([1., 1.], dtype=float32)
    """
    value = _value_of(var)
    if value is _MISSING:
        raise TestValueError(f"{var} has no test value (set {var}.tag.test_value)")
    return value


def compute_node_test_value(node):
    """Run ``node`` on its inputs' test values and store its outputs' (the
    build hook; does nothing when ``config.compute_test_value`` is 'off')."""
    mode = config.compute_test_value
    if mode == "off":
        return
    vals = []
    for i, var in enumerate(node.inputs):
        value = _value_of(var)
        if value is _MISSING:
            msg = (f"{node.op.short_name()}: input {i} ({var}) has no test value while "
                   f"config.compute_test_value is {mode!r}; set {var}.tag.test_value "
                   f"to an example value")
            if mode in ("raise", "pdb"):
                raise TestValueError(msg)
            if mode == "warn":
                warnings.warn(msg, stacklevel=4)
            return
        vals.append(value)
    if getattr(node.op, "destroy_map", None):
        vals = [v.copy() if isinstance(v, np.ndarray) else v for v in vals]
    for var, value in zip(node.outputs, perform_node(node, vals)):
        var.tag.test_value = value


def _on_change(value):
    installed = compute_node_test_value in BUILD_HOOKS
    if value == "off" and installed:
        BUILD_HOOKS.remove(compute_node_test_value)
    elif value != "off" and not installed:
        BUILD_HOOKS.append(compute_node_test_value)


config.watch("compute_test_value", _on_change)
_on_change(config.compute_test_value)
