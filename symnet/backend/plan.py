"""The backend-neutral plan of a rewritten graph: what every linker runs.

The pipeline, and where a backend plugs in::

    function() -> FunctionGraph -> rewrites -> build_plan(fgraph) -> linker -> thunk
                                               (this module)        (backend)  (registry.Thunk)

``build_plan`` is computed once from the rewritten FunctionGraph.  A linker
(numba today, CUDA next) walks ``plan.steps`` and emits one piece of code
per step; it never re-derives the facts below from the graph:

``steps``
    The execution order: single ``Apply`` nodes, and ``Run`` s of
    elementwise nodes over one loop domain (plus full sums/products of their
    results, and with ``column_sums`` sums of a matrix result over its
    rows) that a backend computes in ONE loop nest or GPU kernel.  A run
    carries ``hoisted`` nodes, met inside it but independent of it, which
    run before it.  ``max_run`` bounds the nodes of a run (a size budget:
    no kernel grows without bound); ``fuse=False`` makes every step a node.
    With ``unify_sizes`` two
    sizes an elementwise node requires equal (two non-broadcastable
    inputs along one axis, or an input and the result) count as one when
    domains are compared, so nodes over the same unknown size read from
    different variables share a run (a Scan's step graph, whose batch size
    every input carries unknown).
``last_use``
    For every variable, the index of the last step that reads it (graph
    outputs live to the end, ``len(steps)``): the point after which its
    buffer may be freed or reused (device memory pools need it; the numba
    driver leaves freeing to Python).
``view_of``
    Which outputs share a buffer with an input of their node, read ONLY
    from the ops' own declarations: ``op.view_map`` (an output is a view)
    and ``op.destroy_map`` (an output overwrites an input).  An op that
    declares neither returns fresh buffers.
``protected``
    Variables whose buffers belong to the caller (graph inputs, shared
    values, constants, graph outputs) or share a buffer with one through
    views: no kernel may write into them (``can_destroy``).
``tail``
    Updates that write into their shared variable's storage, run last
    (``update_tail.py``; only when the linker asks, ``inplace_updates``).
``fresh_outputs(honours)``
    For each graph output, whether it is returned in a buffer no input,
    shared value, constant or other output shares; ``Function`` skips its
    aliasing check for those.  ``honours(node)`` is the backend's word that
    its code for ``node`` allocates exactly as declared (a compiled kernel
    does; an ``Op.perform`` fallback may return anything).

A CUDA linker takes the same plan: each ``Run`` becomes one elementwise
kernel over its domain, each node a kernel or a library call (cuBLAS),
``last_use`` drives a device memory pool, ``protected`` keeps kernels off
the caller's buffers, and ``fresh_outputs`` tells ``Function`` which
results need no copy.  Shared storage lives in containers the backend owns
(see ``registry.py``).
"""
from ..graph.basic import Constant

__all__ = ["Plan", "Run", "build_plan", "MAX_RUN", "RUN_REDUCE_KINDS"]

# The default size budget of a run (in nodes; None: unbounded).  The
# compile-time work on fusion budgets sets it; a linker may pass its own.
MAX_RUN = None

# reductions a run can carry as an accumulator (max/min need NaN and
# empty-axis rules: they keep their own kernel)
RUN_REDUCE_KINDS = ("sum", "prod")


class Run:
    """Consecutive elementwise nodes over one loop domain (``key``), plus
    full sums or products of their results, computed by one loop nest;
    ``hoisted`` are nodes met inside the run that depend on none of it,
    run before it."""

    def __init__(self, node, key, budget=None):
        self.nodes = [node]
        self.key = key
        self.hoisted = []
        self.members = {node}
        self.accumulators = set()     # outputs of the reductions in the run
        self.into = {}    # result -> the shared input it overwrites (plan.tail only)
        # what the run has used of the backend's kernel size budget (None:
        # unbounded); see numba_cpu/budget.py for why runs are cut
        self.budget = budget() if budget is not None else None
        if self.budget is not None:
            self.budget.add(node)

    def fits(self, node):
        """Whether ``node`` may join without passing the size budget."""
        return self.budget is None or self.budget.fits(node)

    def add(self, node, accumulator=False):
        self.nodes.append(node)
        self.members.add(node)
        if self.budget is not None:
            self.budget.add(node)
        if accumulator:
            self.accumulators.add(node.outputs[0])

    def __repr__(self):
        return f"Run({[n.op.short_name() for n in self.nodes]})"


class Plan:
    """The plan of one FunctionGraph (see the module docstring)."""

    def __init__(self, fgraph, order, steps):
        self.fgraph = fgraph
        self.order = order
        self.position = {node: k for k, node in enumerate(order)}
        self.steps = steps
        self.view_of = _aliases(order)
        self.protected = _protected(fgraph, order, self.view_of)
        self.last_use = _last_use(fgraph, steps)
        self.tail = []     # updates written in place, the last steps (update_tail.py)

    def nodes(self):
        """Every node in the order the steps run them."""
        out = []
        for step in self.steps:
            if isinstance(step, Run):
                out.extend(step.hoisted)
                out.extend(step.nodes)
            else:
                out.append(step)
        return out

    def root(self, var):
        """The variable whose buffer ``var`` lives in, following declared
        views and destroyed inputs (``var`` itself when fresh)."""
        seen = 0
        while var in self.view_of and seen <= len(self.order):
            var = self.view_of[var]
            seen += 1
        return var

    def fresh_outputs(self, honours):
        """For each graph output, whether it is returned in a buffer of its
        own (see the module docstring); ``honours(node)`` says the backend's
        code for ``node`` allocates as the op declares."""
        outs = self.fgraph.outputs
        roots = []
        for v in outs:
            r = self.root(v)
            # a buffer a node allocated; the chain of views/destroys to it
            # must run through code that honours the declarations
            v2, ok = v, True
            while True:
                if v2.owner is None or not honours(v2.owner):
                    ok = False
                    break
                if v2 is r:
                    break
                v2 = self.view_of[v2]
            roots.append(r if ok else None)
        return tuple(r is not None and roots.count(r) == 1 for r in roots)


def _aliases(order):
    """``{output: the input whose buffer it views or overwrites}`` from the
    ops' ``view_map`` and ``destroy_map`` (empty unless declared)."""
    out = {}
    for node in order:
        op = node.op
        for table in (getattr(op, "view_map", None) or {},
                      getattr(op, "destroy_map", None) or {}):
            for j, srcs in table.items():
                if srcs and j < len(node.outputs):
                    out.setdefault(node.outputs[j], node.inputs[srcs[0]])
    return out


def _protected(fgraph, order, view_of):
    """Caller-owned variables and every variable viewing the same buffer.

    Only views spread protection: a destroyed intermediate is the point of
    an in-place kernel, its result may well be an output."""
    # the buffer each view lives in, in one pass: ``order`` is topological,
    # so a view's source has its root already (linear, no chain walks)
    vroot = {}
    for node in order:
        view_map = getattr(node.op, "view_map", None) or {}
        for j, v in enumerate(node.outputs):
            srcs = view_map.get(j)
            if srcs:
                src = node.inputs[srcs[0]]
                vroot[v] = vroot.get(src, src)
    owned = set(fgraph.inputs) | set(fgraph.outputs)
    for node in order:
        owned.update(v for v in node.inputs if isinstance(v, Constant))
    roots = {vroot.get(v, v) for v in owned}
    prot = set(owned)
    for node in order:
        for v in node.inputs + node.outputs:
            if vroot.get(v, v) in roots:
                prot.add(v)
    return prot


def _last_use(fgraph, steps):
    last = {}
    for k, step in enumerate(steps):
        nodes = (step.hoisted + step.nodes) if isinstance(step, Run) else [step]
        for node in nodes:
            for v in node.inputs:
                last[v] = k
    for v in fgraph.outputs:
        last[v] = len(steps)
    return last


def _domain(var, memo=None):
    """The loop domain of an elementwise result: per axis, a static size or
    the (variable, axis) its size is read from (``memo`` remembers the size
    sources met so far, so a deep chain is walked once)."""
    from ..tensor.rewriting.shape import _size_source
    return tuple(_size_source(var, j, memo) for j in range(var.type.ndim))


def _run_member(node, value_ok, memo=None):
    """The domain of ``node`` if it may be in a run, else None."""
    from ..tensor.ops.elemwise import Elemwise
    if not isinstance(node.op, Elemwise) or len(node.outputs) != 1:
        return None
    out = node.outputs[0]
    nd = out.type.ndim
    if nd == 0 or not all(value_ok(v) for v in node.inputs + node.outputs):
        return None
    if any(v.type.ndim not in (0, nd) for v in node.inputs):
        return None
    return _domain(out, memo)


def _run_reduction(node, run, value_ok, column_sums=False):
    """Whether ``node`` reduces a run member's result over every axis (or,
    with ``column_sums``, sums a matrix member over its rows)."""
    from ..tensor.ops.reduction import Reduce
    if not isinstance(node.op, Reduce) or node.op.kind not in RUN_REDUCE_KINDS:
        return False
    (x,) = node.inputs
    if x.owner not in run.members or x in run.accumulators or not value_ok(node.outputs[0]):
        return False
    # a run carries full sums or column sums, not both (one loop nest each)
    if column_sums and is_column_sum(node):
        return not run.accumulators
    return len(node.op.axis) == x.type.ndim and node.outputs[0].type.ndim == 0 \
        and not any(a.type.ndim for a in run.accumulators)


def is_column_sum(node):
    """Whether ``node`` sums a float matrix over its rows (axis 0): a bias
    gradient, which a backend taking ``column_sums`` computes in the pass
    that computes the matrix."""
    from ..tensor.ops.reduction import Reduce
    if not isinstance(node.op, Reduce) or node.op.kind != "sum" or node.op.axis != (0,):
        return False
    (x,) = node.inputs
    return x.type.ndim == 2 and str(x.type.dtype) in ("float32", "float64") \
        and node.outputs[0].type.dtype == x.type.dtype


def _sums_beside(order):
    """``order`` with each column sum of an elementwise result moved to
    just after the node computing that result (its only input, so the
    order stays topological), where a run can take it in."""
    from ..tensor.ops.elemwise import Elemwise
    after = {}
    for node in order:
        x = node.inputs[0] if node.inputs else None
        if is_column_sum(node) and x.owner is not None and isinstance(x.owner.op, Elemwise):
            after.setdefault(x.owner, []).append(node)
    if not after:
        return order
    moved = {n for sums in after.values() for n in sums}
    out = []
    for node in order:
        if node not in moved:
            out.append(node)
            out.extend(after.get(node, ()))
    return out


def _tensor(var):
    t = var.type
    return hasattr(t, "dtype") and hasattr(t, "ndim") and hasattr(t, "shape")


def _equal_sizes(order, memo):
    """``find(size)``: one representative per class of sizes that the
    elementwise nodes of ``order`` require equal (a static size, an int,
    represents its class).  Sound because an elementwise node raises when
    the sizes of its non-broadcastable axes differ: a run fused over such
    sizes raises the same error from its own shape checks."""
    from ..tensor.ops.elemwise import Elemwise
    from ..tensor.rewriting.shape import _size_source
    parent = {}

    def find(a):
        path = []
        while a in parent:     # a loop, not recursion: the classes may be long chains
            path.append(a)
            a = parent[a]
        for p in path:
            parent[p] = a
        return a

    for node in order:
        if not isinstance(node.op, Elemwise) or not node.outputs:
            continue
        nd = node.outputs[0].type.ndim
        for j in range(nd):
            sizes = [_size_source(v, j, memo) for v in node.inputs
                     if v.type.ndim == nd and not v.type.broadcastable[j]]
            sizes += [_size_source(v, j, memo) for v in node.outputs]
            roots = {find(a) for a in sizes}
            static = [r for r in roots if isinstance(r, int)]
            if len(static) > 1:      # two different static sizes: the node fails anyway
                continue
            top = static[0] if static else next(iter(roots))
            for r in roots:
                if r is not top:
                    parent[r] = top
    return find


def _steps(order, fuse, max_run, value_ok, budget=None, column_sums=False,
           unify_sizes=False):
    """``order`` regrouped into nodes and ``Run``s of two or more nodes."""
    items = []
    run = None
    memo = {}
    find = _equal_sizes(order, memo) if fuse and unify_sizes else None

    def close():
        if run is None:
            return
        if len(run.nodes) == 1:     # a run of one is a plain node
            items.extend(run.hoisted)
            items.append(run.nodes[0])
        else:
            items.append(run)
    for node in order:
        if not fuse:
            items.append(node)
            continue
        key = _run_member(node, value_ok, memo)
        if key is not None and find is not None:
            key = tuple(find(a) for a in key)
        full = run is not None and ((max_run is not None and len(run.nodes) >= max_run)
                                    or not run.fits(node))
        uses_run = run is not None and any(v.owner in run.members for v in node.inputs)
        uses_acc = run is not None and any(v in run.accumulators for v in node.inputs)
        if run is not None and not uses_acc and not full:
            if key is not None and key == run.key:
                run.add(node)
                continue
            if _run_reduction(node, run, value_ok, column_sums):
                run.add(node, accumulator=True)
                continue
            if key is None and not uses_run:
                run.hoisted.append(node)
                continue
        close()
        run = Run(node, key, budget) if key is not None else None
        if run is None:
            items.append(node)
    close()
    return items


def build_plan(fgraph, fuse=True, max_run=None, value_ok=None, budget=None,
               inplace_updates=False, column_sums=False, unify_sizes=False):
    """The plan of the rewritten ``fgraph``.

    Parameters
    ----------
    fgraph : FunctionGraph
        Rewritten already; the plan does not change it.
    fuse : bool
        Group elementwise nodes into ``Run`` s (False: one step per node).
    max_run : int or None
        The most nodes in one run (default ``MAX_RUN``).
    value_ok : callable or None
        ``value_ok(var)``: whether the backend's loops handle ``var``'s type
        (e.g. its dtypes); default: any tensor.
    budget : callable or None
        Makes a fresh size budget per run (an object with ``fits(node)`` and
        ``add(node)``, e.g. ``numba_cpu.budget.RunBudget``); a node that
        does not fit starts a new run.
    inplace_updates : bool
        Let updates write into their shared variable's storage, as the
        plan's last steps (``plan.tail``, see ``update_tail.py``).
    column_sums : bool
        A run may also carry sums of its matrix results over axis 0
        (``is_column_sum``: a bias gradient beside the relu gradient), each
        moved next to its input; for backends whose loops write them.
    unify_sizes : bool
        Compare run domains up to the sizes the elementwise nodes require
        equal (see ``steps`` in the module docstring).

    Examples
    --------
    >>> import symnet.tensor as T
    >>> from symnet.graph.fg import FunctionGraph
    >>> x = T.dvector('x')
    >>> plan = build_plan(FunctionGraph([x], [T.exp(x) * 2 + 1]))
    >>> [type(s).__name__ for s in plan.steps]
    ['Run']
    """
    order = fgraph.toposort()
    if column_sums and fuse:
        order = _sums_beside(order)
    if max_run is None:
        max_run = MAX_RUN
    steps = _steps(order, fuse, max_run, value_ok or _tensor, budget, column_sums,
                   unify_sizes)
    plan = Plan(fgraph, order, steps)
    if inplace_updates:
        from .update_tail import plan_tail
        plan_tail(plan, value_ok or _tensor, _run_member, Run)
        plan.last_use = _last_use(fgraph, plan.steps)
    return plan
