"""``ifelse``: one of two branches chosen by a scalar condition, lazily.

``ifelse(cond, a, b)`` builds an ``IfElse`` node reading both branches, so
the graph, its shapes and its gradient are those of a selection.  When a
function is compiled, ``tensor/rewriting/ifelse.py`` moves the nodes that
only one branch needs into that branch's inner graph of a ``LazyIfElse``,
which computes the taken branch only (as Theano's lazy IfElse did): a
branch that would raise (``x[n - 1]`` at ``n = 0``) or costs much is never
run when not taken.  Nodes a branch shares with the rest of the graph stay
outside and are computed once.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.compiler import get_compiler
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType, upcast
from .elemwise import cast

__all__ = ["IfElse", "LazyIfElse", "ifelse"]


def _merged_type(a, b):
    shape = tuple(x if x == y else None for x, y in zip(a.type.shape, b.type.shape))
    return TensorType(a.type.dtype, shape=shape)


def _same(a, b):
    """Two sizes known equal when the graph is built (one variable, or
    equal Python ints)."""
    return a is b or (isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer))
                      and a == b)


class IfElse(Op):
    """``outputs[i] = then[i] if cond else else[i]`` for ``n_outs`` pairs.

    Inputs: ``cond`` (a scalar), the ``n_outs`` then-values, the ``n_outs``
    else-values.  Its ``perform`` selects; laziness comes from the
    compile-time split into a ``LazyIfElse`` (module docstring).
    """

    __props__ = ("n_outs",)

    def __init__(self, n_outs=1, as_view=False, gpu=False, name=None):
        # Theano's constructor; as_view (may the output be a view of the
        # branch taken?) is a hint symnet keeps but does not need: the
        # plan (backend/plan.py) decides aliasing from view_map
        if gpu:
            raise NotImplementedError("IfElse(gpu=True): symnet has no GPU IfElse; the "
                                      "cuda backend runs the ordinary one")
        self.n_outs = n_outs
        self.as_view = bool(as_view)
        self.name = name

    def make_node(self, cond, *branches):
        cond = as_tensor_variable(cond)
        if cond.type.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {cond.type}")
        if len(branches) != 2 * self.n_outs:
            raise ValueError(f"IfElse({self.n_outs}) takes {2 * self.n_outs} branch values, "
                             f"got {len(branches)}")
        branches = [as_tensor_variable(b) for b in branches]
        outs = []
        for k, (a, b) in enumerate(zip(branches[:self.n_outs], branches[self.n_outs:])):
            if a.type.ndim != b.type.ndim or a.type.dtype != b.type.dtype:
                raise TypeError(f"ifelse: output {k}: the then-branch {a} is {a.type} but "
                                f"the else-branch {b} is {b.type}; they must have the same "
                                f"dtype and number of dimensions")
            outs.append(_merged_type(a, b)())
        return Apply(self, [cond] + branches, outs)

    def perform(self, node, inputs, output_storage):
        n = self.n_outs
        chosen = inputs[1:1 + n] if inputs[0] else inputs[1 + n:]
        for cell, v in zip(output_storage, chosen):
            cell[0] = np.array(v, copy=True)    # an output of its own (no view declared)

    def infer_shape(self, node, input_shapes):
        n = self.n_outs
        then, other = input_shapes[1:1 + n], input_shapes[1 + n:]
        # sizes both branches agree on need no choice; the others are chosen
        # lazily too (the untaken branch's may not exist)
        differ = [(j, d) for j, (st, se) in enumerate(zip(then, other))
                  for d, (a, b) in enumerate(zip(st, se)) if not _same(a, b)]
        out = [list(s) for s in then]
        if differ:
            picked = ifelse(node.inputs[0],
                            [as_tensor_variable(then[j][d]) for j, d in differ],
                            [as_tensor_variable(other[j][d]) for j, d in differ])
            for (j, d), v in zip(differ, picked):
                out[j][d] = v
        return [tuple(s) for s in out]

    def connection_pattern(self, node):
        n = self.n_outs
        return [[False] * n] + [[i % n == j for j in range(n)] for i in range(2 * n)]

    def L_op(self, inputs, outputs, output_grads):
        from .shape import zeros_like
        n = self.n_outs
        cond, then, other = inputs[0], inputs[1:1 + n], inputs[1 + n:]
        gt = ifelse(cond, list(output_grads), [zeros_like(t) for t in then])
        ge = ifelse(cond, [zeros_like(e) for e in other], list(output_grads))
        return [None] + list(gt) + list(ge)

    def R_op(self, inputs, eval_points):
        n = self.n_outs
        if any(e is None for e in eval_points[1:]):
            return [None] * n
        return list(ifelse(inputs[0], list(eval_points[1:1 + n]), list(eval_points[1 + n:])))


class LazyIfElse(Op):
    """The split form of an ``IfElse``: each branch an inner graph run only
    when taken.

    Inputs: ``cond``, the then-graph's outer inputs, the else-graph's outer
    inputs.  ``then_graph`` and ``else_graph`` are ``(inner_inputs,
    inner_outputs)``; backends compile them (the py reference compiles each
    with the py backend the first time it is taken).
    """

    def __init__(self, then_graph, else_graph, outputs_types):
        self.then_graph = (list(then_graph[0]), list(then_graph[1]))
        self.else_graph = (list(else_graph[0]), list(else_graph[1]))
        self.output_types = list(outputs_types)
        self.n_then = len(self.then_graph[0])
        self._fns = {}

    # identity semantics, as Scan: two splits are never merged
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        return "LazyIfElse"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_fns"] = {}
        return state

    def make_node(self, cond, *outer):
        if len(outer) != self.n_then + len(self.else_graph[0]):
            raise ValueError(f"LazyIfElse takes {self.n_then} + {len(self.else_graph[0])} "
                             f"branch inputs, got {len(outer)}")
        return Apply(self, [cond] + list(outer), [t() for t in self.output_types])

    def branch(self, taken):
        """(inner inputs, inner outputs, which outer inputs feed them)."""
        n = self.n_then
        if taken:
            return self.then_graph + (slice(1, 1 + n),)
        return self.else_graph + (slice(1 + n, None),)

    def compiled(self, taken, mode="py"):
        """The branch's graph compiled for ``mode`` (once)."""
        key = (bool(taken), mode)
        if key not in self._fns:
            ins, outs, _ = self.branch(taken)
            fn = get_compiler(f"{self}.{'then' if taken else 'else'}")(
                ins, outs, mode=mode, on_unused_input="ignore",
                name=f"{self}.{'then' if taken else 'else'}")
            self._fns[key] = fn.thunk
        return self._fns[key]

    def perform(self, node, inputs, output_storage):
        taken = bool(inputs[0])
        _, _, which = self.branch(taken)
        results = self.compiled(taken)(*inputs[which])
        for cell, v, t in zip(output_storage, results, self.output_types):
            cell[0] = np.array(v, dtype=t.dtype, copy=True)

    def infer_shape(self, node, input_shapes):
        from ...graph.traversal import clone_get_equiv
        picked = []
        for taken in (True, False):     # each branch's outputs over the outer inputs
            ins, outs, which = self.branch(taken)
            memo = clone_get_equiv([], outs, copy_inputs=False,
                                   memo=dict(zip(ins, node.inputs[which])))
            picked.append([memo[o] for o in outs])
        chosen = ifelse(node.inputs[0], picked[0], picked[1])
        return [tuple(o.shape[k] for k in range(o.ndim)) for o in chosen]


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if the scalar ``condition`` is true, else
    ``else_branch``; only the branch taken is computed.

    Parameters
    ----------
    condition : scalar
    then_branch, else_branch : Variable or list of Variables
        As many on each side, pairwise of the same number of dimensions
        (dtypes are upcast to a common one).
    name : str, optional

    Returns
    -------
    Variable or list of Variables (as ``then_branch``)

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, n = T.vector('x'), T.iscalar('n')
    >>> last = ifelse(n > 0, x[n - 1], T.constant(np.float32(0)))
    >>> f = symnet.function([x, n], last, mode='py')
    >>> float(f(np.ones(3, 'float32'), 2)), float(f(np.ones(3, 'float32'), 0))
    (1.0, 0.0)
    """
    single = not isinstance(then_branch, (list, tuple))
    then = [then_branch] if single else list(then_branch)
    other = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(then) != len(other):
        raise ValueError(f"ifelse: the branches have {len(then)} and {len(other)} outputs; "
                         f"they must have the same number")
    then = [as_tensor_variable(v) for v in then]
    other = [as_tensor_variable(v) for v in other]
    for k, (a, b) in enumerate(zip(then, other)):
        if a.dtype != b.dtype:
            dt = upcast(a.dtype, b.dtype)
            then[k], other[k] = cast(a, dt), cast(b, dt)
    if not then:
        return []
    outs = IfElse(len(then))(condition, *then, *other)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    if name is not None:
        for o in outs:
            o.name = name
    return outs[0] if single else outs
