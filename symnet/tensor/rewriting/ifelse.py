"""The split of ``IfElse`` nodes into lazy branches (``lazify``).

``function`` runs ``lazify`` on every compiled graph after its rewrites
(not as a rewrite one can switch off: a program relying on the untaken
branch not running must not change meaning with the optimizer).  For each
``IfElse`` node, the nodes whose every use leads into one of its branches
(and nowhere else: no other node, no graph output, not the other branch)
move into that branch's inner graph of a ``LazyIfElse``; a node shared with
the rest of the graph stays outside and is computed once.
"""
from ...graph.basic import Constant
from ...graph.traversal import clone_get_equiv
from ..ops.ifelse import IfElse, LazyIfElse

__all__ = ["lazify"]


def lazify(fgraph):
    """Replace each ``IfElse`` of ``fgraph`` whose branches own nodes by a
    ``LazyIfElse``; returns how many were split."""
    done = 0
    # outputs first: an IfElse inside a branch of another moves with that
    # branch, and the branch's own compile splits it in turn
    for node in reversed(fgraph.toposort()):
        if isinstance(node.op, IfElse) and node in fgraph.apply_nodes:
            done += _split(fgraph, node)
    return done


def _owned(fgraph, node, order, lo, hi):
    """The nodes only ``node``'s inputs ``lo:hi`` (one branch) need."""
    owned = set()
    for m in reversed(order):       # clients before the nodes they read
        if m is node:
            continue
        ok = True
        for o in m.outputs:
            for client, i in fgraph.clients[o]:
                if client is node:
                    ok = ok and lo <= i < hi
                elif client == "output" or client not in owned:
                    ok = False
        if ok:
            owned.add(m)
    return owned


def _branch_graph(targets, owned, order):
    """(outer inputs, inner inputs, inner outputs) of one branch."""
    outer = []
    for m in order:
        if m in owned:
            outer += [i for i in m.inputs if i.owner not in owned
                      and not isinstance(i, Constant) and i not in outer]
    outer += [t for t in targets if (t.owner is None or t.owner not in owned)
              and not isinstance(t, Constant) and t not in outer]
    inner = []
    for v in outer:
        w = v.type()
        w.name = v.name
        inner.append(w)
    memo = clone_get_equiv([], targets, copy_inputs=False, memo=dict(zip(outer, inner)))
    return outer, inner, [memo[t] for t in targets]


def _split(fgraph, node):
    n = node.op.n_outs
    order = fgraph.toposort()
    owned = [_owned(fgraph, node, order, 1, 1 + n), _owned(fgraph, node, order, 1 + n, 1 + 2 * n)]
    if not owned[0] and not owned[1]:
        return 0      # both branches computed anyway: the select is all there is
    then = _branch_graph(node.inputs[1:1 + n], owned[0], order)
    other = _branch_graph(node.inputs[1 + n:], owned[1], order)
    op = LazyIfElse(then[1:], other[1:], [o.type for o in node.outputs])
    new = op.make_node(node.inputs[0], *then[0], *other[0])
    # only the outputs the graph reads: an unread one is not in the graph
    # (an update reading one output of a 4-output ifelse crashed here)
    fgraph.replace_all([(o, v) for o, v in zip(node.outputs, new.outputs)
                        if fgraph.clients.get(o)], reason="lazify_ifelse")
    return 1
