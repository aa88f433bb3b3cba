"""Updates written into their shared variable's own storage: the plan's tail.

A training step's update (``p <- p - lr * g``, Nesterov's velocity and
parameter) is elementwise over the parameter.  Written into fresh arrays it
reads the old values and the gradient and writes two new arrays per
parameter; written into the shared storage it runs in place, half the
memory traffic (measured on W1's 784x500 Nesterov loop: 60 us against 116
us, numba, one thread).  ``plan_tail`` picks the updates that may run so and
makes them the plan's LAST steps (``plan.tail``, in the order
``tail_order.py`` gives, ``Run`` s each carrying
``into``: result variable -> the shared input it overwrites, also entered
in ``plan.view_of`` as a destroyed input).

The thunk protocol's promise (``registry.py``: if a call raises, no shared
value changes) holds because:

* every other step runs before the tail, so nothing after the first write
  can fail in the graph's own code; and there is no tail at all when
  ``Function``'s check of another update could refuse it (its value's
  static shape does not guarantee the shared variable's);
* a tail step reads only its own destroyed shared values, constants,
  scalars and intermediates in buffers of their own (never a caller's
  buffer, which might alias a shared value); a shared value a tail step
  destroys is read by no other tail step and viewed by no graph output;
* the backend checks every tail step's shapes before the first write and
  writes only buffers it may (``numba_cpu/inplace.py``: C-contiguous,
  writeable, owning their memory, none given twice; others are copied
  first and the update lands in the copy, which ``Function`` commits).

Aliasing, as in Theano: ``get_value(borrow=True)`` (and a shared variable
made with ``borrow=True``) may see later calls change the array;
``get_value()`` returns a copy no call changes.
"""
import collections

from ..graph.basic import Constant
from .tail_order import order_tail

__all__ = ["plan_tail", "FLOAT_DTYPES"]

# float updates only: a float loop cannot raise half-way (numba's numpy
# error model), an integer division by zero could
FLOAT_DTYPES = ("float16", "float32", "float64")


def _nodes(step):
    return list(step.nodes) if hasattr(step, "nodes") else [step]


def plan_tail(plan, value_ok, run_member, run_class):
    """Move the updates that may be written in place to the end of
    ``plan.steps`` (see the module docstring); sets ``plan.tail``."""
    fg = plan.fgraph
    plan.tail = []
    targets = getattr(fg, "update_targets", None)
    if not targets:
        return
    outputs = fg.outputs
    n_out = len(outputs) - len(targets)
    count = collections.Counter(outputs)
    step_of = {}
    for i, step in enumerate(plan.steps):
        for node in _nodes(step):
            step_of[node] = i
    cands = {}    # step index -> {update variable: shared input}
    for k, idx in enumerate(targets):
        o, s = outputs[n_out + k], fg.inputs[idx]
        if o.owner is not None and count[o] == 1 and o.owner in step_of:
            cands.setdefault(step_of[o.owner], {})[o] = s
    tail = {i: d for i, d in cands.items()
            if _eligible(plan, plan.steps[i], d, value_ok, run_member)}
    _drop_conflicts(plan, tail)
    ours = {o for d in tail.values() for o in d}
    for k, idx in enumerate(targets):
        o = outputs[n_out + k]
        if o not in ours and not _fits(o, fg.inputs[idx]):
            return     # ``Function`` may refuse that update after the tail wrote
    if not tail:
        return
    steps, runs = [], []
    for i, step in enumerate(plan.steps):
        if i not in tail:
            steps.append(step)
            continue
        if isinstance(step, run_class):
            steps.extend(step.hoisted)     # independent of the run: stay where they were
            step.hoisted = []
            run = step
        else:
            run = run_class(step, run_member(step, value_ok))
        run.into = tail[i]
        runs.append(run)
        for o, s in run.into.items():
            plan.view_of[o] = s           # a destroyed input (plan.root follows it)
    # the order within that end: each update near its gradient (tail_order.py)
    steps, runs = order_tail(fg, steps, runs, run_class)
    plan.steps = steps + runs
    plan.tail = runs


def _fits(o, s):
    """Whether every value of ``o`` fits the type of shared variable ``s``
    (so ``Function``'s check of the update cannot fail after the tail)."""
    if o.type == s.type:
        return True
    oshape, sshape = getattr(o.type, "shape", None), getattr(s.type, "shape", None)
    if oshape is None or sshape is None or len(oshape) != len(sshape) or \
            getattr(o.type, "dtype", None) != getattr(s.type, "dtype", None):
        return False
    return all(b is None or a == b for a, b in zip(oshape, sshape))


def _eligible(plan, step, dest, value_ok, run_member):
    """Whether ``step`` may write the updates ``dest`` into their shared inputs."""
    fg = plan.fgraph
    nodes = _nodes(step)
    if getattr(step, "accumulators", None):
        return False
    members = set(nodes)
    for node in nodes:
        if run_member(node, value_ok) is None:
            return False
        out = node.outputs[0]
        clients = fg.clients.get(out, ())
        if out in dest:
            # an update's value read by a node outside the run (Adam's new
            # moment inside another parameter's update) is needed before the tail
            if any(c != "output" and c not in members for c, _ in clients):
                return False
        elif any(c == "output" or c not in members for c, _ in clients):
            return False     # a result something else reads: it cannot wait
    ins = {v for node in nodes for v in node.inputs if v.owner not in members}
    for o, s in dest.items():
        if o.type.dtype not in FLOAT_DTYPES or s not in ins or \
                getattr(s.type, "dtype", None) != o.type.dtype or \
                getattr(s.type, "broadcastable", None) != o.type.broadcastable:
            return False
    destroyed = set(dest.values())
    bcast = next(iter(dest)).type.broadcastable
    for v in ins:
        if v in destroyed or v.type.ndim == 0:
            continue
        if not all(v.type.broadcastable) and v.type.broadcastable != bcast:
            return False     # partly broadcast: the shape check would be per axis
        if not isinstance(v, Constant) and plan.root(v) in fg.inputs:
            return False     # a caller's buffer (an input or shared value) may alias
    return True


def _drop_conflicts(plan, tail):
    """Remove from ``tail`` the steps whose destroyed shared values another
    tail step reads, a view feeds, or a graph output shows."""
    fg = plan.fgraph
    while tail:
        owner = {s: i for i, d in tail.items() for s in d.values()}
        bad = set()
        for i in tail:
            for node in _nodes(plan.steps[i]):
                for v in node.inputs:
                    r = plan.root(v)
                    if r in owner and (owner[r] != i or v is not r):
                        bad.update((i, owner[r]))
        ours = {o for d in tail.values() for o in d}
        for v in fg.outputs:
            r = plan.root(v)
            if r in owner and v not in ours:
                bad.add(owner[r])
        if not bad:
            return
        for i in bad:
            del tail[i]
