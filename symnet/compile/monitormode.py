"""Theano's MonitorMode: call user functions before and after every node.

``MonitorMode(pre_func, post_func)`` is a mode whose functions call
``pre_func(i, node, fn)`` before node ``i`` runs and ``post_func(i, node,
fn)`` after, where ``fn.inputs`` and ``fn.outputs`` are lists of
one-element lists holding the node's input and output values (Theano's
storage cells).  Theano's debugging FAQ uses it to print every value, or
to stop at the first NaN (:func:`detect_nan`).

The monitored function runs node by node through each op's ``perform``
(the py backend's reference), whatever the mode's linker: a compiled
backend fuses nodes into loops and has no per-node values to show.
"""
import numpy as np

from .mode import Mode

__all__ = ["MonitorMode", "detect_nan", "PRINT_TREE"]


class NodeValues:
    """What ``pre_func``/``post_func`` get as ``fn``: ``inputs`` and
    ``outputs``, lists of ``[value]`` cells (outputs hold None before the
    node runs)."""

    __slots__ = ("inputs", "outputs")

    def __init__(self, inputs, outputs):
        self.inputs = [[v] for v in inputs]
        self.outputs = [[v] for v in outputs]


class MonitorMode(Mode):
    """A mode that calls ``pre_func(i, node, fn)`` and ``post_func(i, node,
    fn)`` around every node of the rewritten graph (see the module doc).

    Parameters
    ----------
    pre_func, post_func : callable, optional
    optimizer : str
        The rewrites (``'default'``; ``None`` for none).  ``excluding`` and
        ``including`` work as for :class:`Mode`.
    linker : str, optional
        Accepted for Theano; the nodes always run on the py backend.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x = T.dscalar('x')
    >>> def show(i, node, fn):
    ...     print(i, node.op, [c[0] for c in fn.inputs], [c[0] for c in fn.outputs])
    >>> f = symnet.function([x], 5 * x, mode=MonitorMode(post_func=show))
    >>> f(3.0)
    0 Elemwise{mul,no_inplace} [array(5.), array(3.)] [array(15.)]
    array(15.)
    """

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__("py", optimizer)
        self.pre_func = pre_func
        self.post_func = post_func

    @property
    def monitor(self):
        return self.pre_func is not None or self.post_func is not None

    def _key(self):
        return super()._key() + (self.pre_func, self.post_func)


#: how :func:`detect_nan` prints a node's tree: ``symnet.printing`` (built
#: on top of compile/, so not imported here) registers its ``debugprint``
PRINT_TREE = [print]


def detect_nan(i, node, fn):
    """A ``post_func`` that prints the first node whose output holds a NaN:
    the node's tree and its input and output values (Theano's)."""
    for cell in fn.outputs:
        value = cell[0]
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc" and \
                np.isnan(value).any():
            print("*** NaN detected ***")
            PRINT_TREE[0](node)
            print(f"Inputs : {[c[0] for c in fn.inputs]}")
            print(f"Outputs: {[c[0] for c in fn.outputs]}")
            break
