"""``OpFromGraph``: a graph packaged as an op (Theano's
``theano.compile.builders``).

``op = OpFromGraph([x, y], [x + y * 2])`` makes an op that ``op(a, b)``
applies to other variables, as often as needed.  Shared variables the graph
reads become hidden inputs of every node, so gradients reach them.  The
op's gradient, R-op and shapes come from its graph (or from the overrides
given); compiled functions inline it (the ``inline_op_from_graph``
rewrite), so every backend runs the graph's own ops, and the py reference
runs the graph itself (``perform``) where the rewrite is switched off.
"""
import warnings

import numpy as np

from ..graph.basic import Constant, Variable
from ..graph.compiler import get_compiler
from ..graph.null_type import DisconnectedType
from ..graph.op import BUILD_HOOKS, Op
from ..graph.rewriting import register_local
from ..graph.traversal import clone_replace, graph_inputs, io_toposort
from .sharedvalue import SharedVariable

__all__ = ["OpFromGraph"]

_DEFAULT = "default"


class OpFromGraph(Op):
    """An op computing ``outputs`` from ``inputs``.

    Parameters
    ----------
    inputs : list of Variable
        The graph's free variables (no constants, no shared variables).
    outputs : Variable or list of Variable
    inline : bool
        Accepted for Theano; symnet always inlines the graph when it
        compiles a function.
    grad_overrides : 'default', callable, OpFromGraph or list
        ``f(inputs, output_grads) -> input grads`` instead of the graph's
        gradient; a list gives one entry per input ('default', a callable
        returning that input's gradient, or a NullType/DisconnectedType
        variable).
    lop_overrides : 'default', callable or OpFromGraph
        ``f(inputs, outputs, output_grads) -> input grads``.
    rop_overrides : 'default', callable or OpFromGraph
        ``f(inputs, eval_points) -> output R-ops``, used by the op's
        ``R_op``; ``symnet.Rop`` does not call ops' R-ops (it differentiates
        twice), so giving one warns.
    connection_pattern : list of list of bool, optional
        ``[input][output]``: which outputs depend on which inputs.
    name : str, optional

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, y = T.dvectors('x', 'y')
    >>> op = OpFromGraph([x, y], [x + 2 * y])
    >>> a, b = T.dvectors('a', 'b')
    >>> out = op(a, b) * op(b, a)
    >>> f = symnet.function([a, b], [out, symnet.grad(out.sum(), a)], mode='py')
    >>> [v.tolist() for v in f(np.array([1.0]), np.array([2.0]))]
    [[20.0], [14.0]]
    """

    def __init__(self, inputs, outputs, inline=False, grad_overrides=_DEFAULT,
                 lop_overrides=_DEFAULT, rop_overrides=_DEFAULT,
                 connection_pattern=None, name=None, **kwargs):
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        for v in list(inputs) + list(outputs):
            if not isinstance(v, Variable):
                raise TypeError(f"OpFromGraph: inputs and outputs must be variables, got "
                                f"{type(v).__name__} {v!r}")
        for v in inputs:
            if isinstance(v, (Constant, SharedVariable)):
                raise TypeError(f"OpFromGraph: {v} cannot be an input: constants and "
                                f"shared variables are read by the graph itself")
        missing = [v for v in graph_inputs(list(outputs)) if v not in inputs
                   and not isinstance(v, (Constant, SharedVariable))]
        if missing:
            raise ValueError(f"OpFromGraph: the outputs depend on "
                             f"{', '.join(str(v) for v in missing)}, which "
                             f"{'is' if len(missing) == 1 else 'are'} not among the inputs")
        self.shared_inputs = [v for v in graph_inputs(list(outputs))
                              if isinstance(v, SharedVariable)]
        # the inner graph reads the shared variables through placeholders, so
        # that a node can pass them in as its hidden inputs
        holders = [v.type.make_variable(v.name) for v in self.shared_inputs]
        self.inner_inputs = list(inputs) + holders
        self.inner_outputs = clone_replace(list(outputs),
                                           dict(zip(self.shared_inputs, holders)))
        self.n_user = len(inputs)
        self.inline = inline
        self.name = name
        if lop_overrides != _DEFAULT and grad_overrides != _DEFAULT:
            raise ValueError("OpFromGraph: give grad_overrides or lop_overrides, not both")
        if rop_overrides != _DEFAULT:
            # symnet's Rop differentiates the graph twice (gradient.py) and
            # asks no op for an R-op: say so rather than ignore it quietly
            warnings.warn(f"OpFromGraph{'(' + name + ')' if name else ''}: rop_overrides "
                          f"is not used: symnet.Rop computes R-ops from gradients",
                          stacklevel=2)
        self._grad, self._lop, self._rop = grad_overrides, lop_overrides, rop_overrides
        self._pattern = connection_pattern
        self.kwargs = kwargs
        self._fn = None

    # every OpFromGraph is distinct (comparing inner graphs is not worth it)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return f"OpFromGraph{{{self.name}}}" if self.name else "OpFromGraph"

    __repr__ = __str__

    def inline_on(self, inputs):
        """The op's outputs computed by a copy of its graph on ``inputs``
        (the user inputs followed by the shared variables)."""
        outs = clone_replace(self.inner_outputs, dict(zip(self.inner_inputs, inputs)))
        if BUILD_HOOKS:
            # a copy's nodes are made without Op.__call__: give them what
            # building them would have (test values)
            for node in io_toposort(list(inputs), outs):
                for hook in BUILD_HOOKS:
                    hook(node)
        return outs

    def make_node(self, *inputs):
        from ..tensor import as_tensor_variable
        from ..graph.basic import Apply
        if len(inputs) == self.n_user:
            inputs = tuple(inputs) + tuple(self.shared_inputs)
        if len(inputs) != len(self.inner_inputs):
            raise TypeError(f"{self} takes {self.n_user} inputs, got "
                            f"{len(inputs) - len(self.shared_inputs)}")
        inputs = [as_tensor_variable(v) for v in inputs]
        for k, (v, want) in enumerate(zip(inputs, self.inner_inputs)):
            if v.dtype != want.dtype or v.ndim != want.ndim:
                raise TypeError(f"{self}: input {k} ({v}) has type {v.type}, expected "
                                f"{want.type} like {want}")
        # output types from a copy on these inputs: their static shapes
        outs = self.inline_on(inputs)
        return Apply(self, inputs, [o.type.make_variable() for o in outs])

    def perform(self, node, inputs, output_storage):
        if self._fn is None:
            self._fn = get_compiler(str(self))(self.inner_inputs, self.inner_outputs,
                                               mode="py", on_unused_input="ignore",
                                               name=str(self)).thunk
        for store, value in zip(output_storage, self._fn(*inputs)):
            # an output that is an input (or a view of one) would alias it:
            # the op declares no view_map, so it hands out a copy
            if any(np.may_share_memory(value, v) for v in inputs):
                value = np.array(value, copy=True)
            store[0] = value

    def infer_shape(self, node, input_shapes):
        return [[o.shape[i] for i in range(o.ndim)] for o in self.inline_on(node.inputs)]

    def connection_pattern(self, node):
        pattern = self._graph_pattern()
        if self._pattern is not None:
            # hidden shared inputs: connected as the graph says
            pattern = [list(row) for row in self._pattern] + pattern[len(self._pattern):]
        if isinstance(self._grad, (list, tuple)):
            # an input whose gradient override is DisconnectedType is declared
            # disconnected
            for k, entry in enumerate(self._grad):
                if isinstance(getattr(entry, "type", None), DisconnectedType):
                    pattern[k] = [False] * len(self.inner_outputs)
        return pattern

    def _graph_pattern(self):
        # through each inner node's own pattern (an inner OpFromGraph, a
        # random draw), not merely "is an ancestor"
        deps = {v: {k} for k, v in enumerate(self.inner_inputs)}
        for node in io_toposort(self.inner_inputs, self.inner_outputs):
            pattern = node.op.connection_pattern(node)
            for j, out in enumerate(node.outputs):
                deps[out] = set().union(*[deps.get(inp, set())
                                          for i, inp in enumerate(node.inputs)
                                          if pattern[i][j]])
        return [[k in deps.get(o, ()) for o in self.inner_outputs]
                for k in range(len(self.inner_inputs))]

    def L_op(self, inputs, outputs, output_grads):
        if "grad" in vars(self):
            # ``op.grad = f`` on the instance: Theano before 1.0 asked the
            # op's grad, so this overrode it (the Recipes' guided
            # backpropagation notebook swaps relu's gradient this way)
            return _as_grads(_call(vars(self)["grad"], inputs, output_grads), inputs)
        if self._lop != _DEFAULT:
            return _as_grads(_call(self._lop, inputs, outputs, output_grads), inputs)
        if callable(self._grad) or isinstance(self._grad, OpFromGraph):
            return _as_grads(_call(self._grad, inputs, output_grads), inputs)
        default = None
        if self._grad == _DEFAULT or isinstance(self._grad, (list, tuple)):
            default = self._default_grads(inputs, output_grads)
        if self._grad == _DEFAULT:
            return default
        if len(self._grad) != self.n_user:
            raise ValueError(f"{self}: grad_overrides has {len(self._grad)} entries for "
                             f"{self.n_user} inputs")
        out = list(default)
        for k, entry in enumerate(self._grad):
            if isinstance(entry, Variable):
                out[k] = entry
            elif callable(entry):
                out[k] = _call(entry, inputs, output_grads)
        return out

    def _default_grads(self, inputs, output_grads):
        from ..gradient import grad
        outs = self.inline_on(inputs)
        known = {o: g for o, g in zip(outs, output_grads)
                 if o.dtype.startswith("float") and g is not None}
        if not known:
            return [None] * len(inputs)
        return grad(None, list(inputs), known_grads=known, disconnected_inputs="ignore",
                    return_disconnected="None")

    def R_op(self, inputs, eval_points):
        if self._rop != _DEFAULT:
            return list(_call(self._rop, inputs, eval_points))
        from ..gradient import Rop
        from ..tensor import zeros_like
        pts = [zeros_like(v) if e is None else e for v, e in zip(inputs, eval_points)]
        outs = self.inline_on(inputs)
        return Rop(outs, list(inputs), pts, disconnected_outputs="ignore")


def _call(override, *lists):
    """An override called as Theano calls it: an OpFromGraph on all the
    variables of the lists, a function on the lists."""
    if isinstance(override, OpFromGraph):
        res = override(*[v for part in lists for v in part][:override.n_user])
        return res if isinstance(res, list) else [res]
    return override(*[list(part) for part in lists])


def _as_grads(grads, inputs):
    grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    # the hidden shared inputs get no gradient from a user override
    return grads + [None] * (len(inputs) - len(grads))


@register_local("canonicalize", tracks=[OpFromGraph])
def inline_op_from_graph(fgraph, node):
    """Every backend runs the graph's own ops: the node becomes its graph."""
    return dict(zip(node.outputs, node.op.inline_on(node.inputs)))
