"""FunctionGraph: cloning, clients bookkeeping through replace, pruning."""
import pytest

import symnet.tensor as T
from symnet.graph.fg import FunctionGraph


def _check_clients(fg):
    """Every recorded client really uses the variable, and vice versa."""
    for node in fg.apply_nodes:
        for i, inp in enumerate(node.inputs):
            assert (node, i) in fg.clients[inp], f"{node} missing from clients of {inp}"
    for var, cl in fg.clients.items():
        for client, i in cl:
            if client == "output":
                assert fg.outputs[i] is var
            else:
                assert client in fg.apply_nodes and client.inputs[i] is var


def test_fgraph_clones_by_default():
    x, y = T.dscalars("x", "y")
    z = T.exp(x) * y
    fg = FunctionGraph([x, y], [z])
    assert fg.outputs[0] is not z and z.owner not in fg.apply_nodes
    assert len(fg) == 2 and x in fg and fg.outputs[0] in fg
    _check_clients(fg)
    fg2 = FunctionGraph([x, y], [z], clone=False)
    assert fg2.outputs[0] is z and z.owner in fg2


def test_replace_keeps_clients_consistent():
    x, y = T.dscalars("x", "y")
    a = T.exp(x)
    z = a * y + a
    fg = FunctionGraph([x, y], [z], clone=False)
    new = T.log(x)
    fg.replace(a, new, reason="test")
    _check_clients(fg)
    assert a.owner not in fg.apply_nodes and not fg.clients.get(a)
    assert new.owner in fg.apply_nodes
    assert len(fg.clients[new]) == 2
    assert all(n.op.scalar_op.name != "exp" for n in fg.toposort())


def test_replace_output_and_prune():
    x, y = T.dscalars("x", "y")
    z = T.exp(x) + y
    fg = FunctionGraph([x, y], [z], clone=False)
    fg.replace(z, x * 2)
    _check_clients(fg)
    assert len(fg.apply_nodes) == 1 and fg.outputs[0].owner.op.scalar_op.name == "mul"
    assert fg.clients[y] == []


def test_replace_errors():
    x = T.dscalar("x")
    z = x + 1
    fg = FunctionGraph([x], [z], clone=False)
    with pytest.raises(TypeError, match="type"):
        fg.replace(z, T.fvector())
    with pytest.raises(ValueError, match="not in this graph"):
        fg.replace(T.dscalar(), x)


def test_listener_sees_changes():
    x = T.dscalar("x")
    z = T.exp(x) + 1
    fg = FunctionGraph([x], [z], clone=False)
    events = []
    fg.attach_listener(lambda kind, what: events.append(kind))
    fg.replace(z.owner.inputs[0], T.sin(x))
    assert "import" in events and "replace" in events and "prune" in events


def _fresh_order(fg):
    from symnet.graph.traversal import io_toposort
    return io_toposort(fg.inputs, fg.outputs)


def test_toposort_is_kept_until_an_edit_and_follows_every_edit():
    # the order is kept between passes (W3 sorted its graph nine times per
    # compile); every edit, and an outside change of the public output
    # list, gives a new one equal to a fresh sort
    x, y = T.dscalars("x", "y")
    a = T.exp(x)
    z = a * y + a
    fg = FunctionGraph([x, y], [z], clone=False)
    first = fg.toposort()
    assert first == _fresh_order(fg) and len(first) == 3
    first.reverse()                          # a caller's list is its own
    assert fg.toposort() == _fresh_order(fg)
    fg.replace(a, T.log(T.sin(x)), reason="test")     # imports two nodes, prunes one
    order = fg.toposort()
    assert order == _fresh_order(fg) and len(order) == 4
    assert [n.op.scalar_op.name for n in order[:2]] == ["sin", "log"]
    fg.replace(fg.outputs[0], y * 2)         # an output replaced: the rest pruned
    assert fg.toposort() == _fresh_order(fg) and len(fg.toposort()) == 1
    fg.outputs.append(T.cos(y))              # the public list changed from outside
    order = fg.toposort()
    assert order[-1].op.scalar_op.name == "cos" and order == _fresh_order(fg)


def test_toposort_follows_a_replace_that_imports_and_prunes_nothing():
    # an input replaced by a variable already in the graph: no node comes or
    # goes, but exp now reads sin's output and must follow it
    x, y = T.dscalars("x", "y")
    s = T.sin(y)
    z = T.exp(x) + s
    fg = FunctionGraph([x, y], [z], clone=False)
    assert [n.op.scalar_op.name for n in fg.toposort()] == ["exp", "sin", "add"]
    fg.replace(x, s)
    assert [n.op.scalar_op.name for n in fg.toposort()] == ["sin", "exp", "add"]
    assert fg.toposort() == _fresh_order(fg)


def _built_here(x, y):
    return T.exp(x) * y        # the trace every copy of these nodes keeps


def test_a_cloned_graph_keeps_each_nodes_trace_and_owns_fresh_outputs():
    x, y = T.dscalars("x", "y")
    z = _built_here(x, y)
    originals = {n.op.scalar_op.name: n for n in FunctionGraph([x, y], [z], clone=False).toposort()}
    fg = FunctionGraph([x, y], [z])            # clones (traversal._full_clone)
    copy = z.owner.clone()
    for node in fg.toposort() + [copy]:
        orig = originals[node.op.scalar_op.name]
        assert node is not orig and node.op == orig.op
        assert node.tag.trace == orig.tag.trace and node.tag.trace[2] == "_built_here"
        assert node.tag is not orig.tag
        assert [o.owner for o in node.outputs] == [node] * len(node.outputs)
        assert [o.index for o in node.outputs] == list(range(len(node.outputs)))
        assert not set(node.outputs) & set(orig.outputs)
    assert copy.inputs == z.owner.inputs and copy.inputs is not z.owner.inputs
    assert z.owner is originals["mul"] and z.owner.outputs == [z]     # the original untouched
    _check_clients(fg)


def test_a_given_order_builds_the_same_graph():
    """``order`` (the caller's io_toposort, as function() passes for the
    graph cache's key) gives the graph and the toposort a walk would."""
    from symnet.graph.traversal import io_toposort
    x, y = T.dscalars("x", "y")
    a = T.exp(x)
    outs = [a * y + a, T.log(a) - y]
    walked = FunctionGraph([x, y], outs)
    given = FunctionGraph([x, y], outs, order=io_toposort([x, y], outs))
    _check_clients(given)
    assert len(given) == len(walked) == 5
    ops = [str(n.op) for n in given.toposort()]
    assert ops == [str(n.op) for n in walked.toposort()]
    assert [str(n.op) for n in io_toposort(given.inputs, given.outputs)] == ops
    assert a.owner not in given.apply_nodes       # copied, not the caller's nodes
    assert given.outputs[0] is not outs[0] and given.inputs == [x, y]
    # without cloning, the order's own nodes are the graph's
    same = FunctionGraph([x, y], outs, clone=False, order=io_toposort([x, y], outs))
    assert same.toposort() == io_toposort([x, y], outs)
    _check_clients(same)


def test_variable_clients_are_those_of_its_latest_function_graph():
    # Theano's extending/graphstructures.txt: var.clients in f.maker.fgraph
    import symnet
    v = T.dvector("v")
    f = symnet.function([v], (v + 1).sum(), mode="py")
    add, total = f.maker.fgraph.toposort()
    assert add.outputs[0].clients == [(total, 0)]
    assert total.outputs[0].clients == [("output", 0)]
    assert v.clients == [(add, 0)] or v.clients == [(add, 1)]
    with pytest.raises(AttributeError, match="is in no FunctionGraph"):
        T.dvector("w").clients
    fg = FunctionGraph([v], [v * 2], clone=False)     # a newer graph holding v
    assert v.clients == [(fg.outputs[0].owner, 0)]
