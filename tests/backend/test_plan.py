"""The backend-neutral plan: steps and runs (with their size budget),
buffer lifetimes, aliasing read from the ops' declarations, protected
buffers and fresh outputs."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend import plan as plan_mod
from symnet.backend.plan import Run, build_plan
from symnet.graph.basic import Apply
from symnet.graph.fg import FunctionGraph
from symnet.graph.op import Op


def _fg(inputs, outputs):
    return FunctionGraph(inputs, outputs)


def _ops(step):
    return [n.op.scalar_op.name if hasattr(n.op, "scalar_op") else type(n.op).__name__
            for n in step.nodes]


def test_a_chain_of_elementwise_nodes_and_its_sum_is_one_run():
    x = T.dvector("x")
    fg = _fg([x], [T.sum(T.exp(x) * 2 + x)])
    p = build_plan(fg)
    assert len(p.steps) == 1 and isinstance(p.steps[0], Run)
    assert _ops(p.steps[0]) == ["exp", "mul", "add", "Reduce"]
    assert p.steps[0].accumulators == {fg.outputs[0]}
    # every node once, each after the nodes it reads (hoisted ones first)
    done = set()
    for node in p.nodes():
        assert all(v.owner is None or v.owner in done for v in node.inputs)
        done.add(node)
    assert done == set(p.order) and len(p.nodes()) == len(p.order)


def test_fuse_false_and_the_size_budget():
    x = T.dvector("x")
    fg = _fg([x], [T.tanh(T.exp(x) * 2 + x) - 1])
    assert all(not isinstance(s, Run) for s in build_plan(fg, fuse=False).steps)
    for budget in (1, 2, 3):
        steps = build_plan(fg, max_run=budget).steps
        sizes = [len(s.nodes) if isinstance(s, Run) else int(hasattr(s.op, "scalar_op"))
                 for s in steps]
        assert sum(sizes) == 5 and max(sizes) == budget
    steps = build_plan(fg).steps
    assert [len(s.nodes) for s in steps if isinstance(s, Run)] == [5]


def test_module_budget_is_the_default(monkeypatch):
    x = T.dvector("x")
    fg = _fg([x], [T.tanh(T.exp(x) * 2 + x) - 1])
    monkeypatch.setattr(plan_mod, "MAX_RUN", 2)
    assert max(len(s.nodes) for s in build_plan(fg).steps if isinstance(s, Run)) == 2


def test_value_ok_keeps_unsupported_types_out_of_runs():
    x = T.dvector("x")
    fg = _fg([x], [T.exp(x) * 2])
    p = build_plan(fg, value_ok=lambda v: v.type.dtype != "float64")
    assert not any(isinstance(s, Run) for s in p.steps)


def test_runs_stop_at_a_different_loop_domain():
    x, m = T.dvector("x"), T.dmatrix("m")
    fg = _fg([x, m], [T.exp(x) * 2, T.exp(m) * 3])
    runs = [s for s in build_plan(fg).steps if isinstance(s, Run)]
    assert [len(r.nodes) for r in runs] == [2, 2]
    assert {r.nodes[0].outputs[0].type.ndim for r in runs} == {1, 2}


def test_unify_sizes_joins_runs_over_sizes_the_graph_requires_equal():
    # a and b have unknown lengths read from different variables; a * b
    # requires them equal, so with unify_sizes exp(a) and tanh(b) share
    # its run (without it the domains differ and three steps remain)
    a, b, c = T.dvector("a"), T.dvector("b"), T.dvector("c")
    fg = _fg([a, b, c], [T.exp(a) * T.tanh(b), T.exp(c)])
    plain = build_plan(fg).steps
    joined = build_plan(fg, unify_sizes=True).steps
    assert not any(isinstance(s, Run) and len(s.nodes) == 3 for s in plain)
    runs = [s for s in joined if isinstance(s, Run)]
    assert [sorted(_ops(r)) for r in runs] == [["exp", "mul", "tanh"]]
    # exp(c) is tied to nothing: its own step either way
    assert sum(1 for s in joined if not isinstance(s, Run)) == 1
    # a static size represents its class: a vector of 3 ties a free one to 3
    d = T.TensorType("float64", shape=(3,))("d")
    fg = _fg([a, d], [T.exp(a) + d, T.exp(d) * 2])
    runs = [s for s in build_plan(fg, unify_sizes=True).steps if isinstance(s, Run)]
    assert [len(r.nodes) for r in runs] == [4] and runs[0].key == (3,)


def test_unify_sizes_keeps_the_shape_error():
    # the fused loop checks its inputs' shapes: lengths that differ raise
    # the elementwise ValueError as the unfused nodes do
    import symnet.compile.mode as mode_mod
    a, b = T.dvector("a"), T.dvector("b")
    out = T.exp(a) * T.tanh(b)
    # (the fusion rewrite off: it would make the three nodes one Composite)
    mode = mode_mod.Mode("numba", tiered=False, exclude=("fuse_elemwise",))._copy(
        scan_step=True)
    f = symnet.function([a, b], out, mode=mode)
    assert any(isinstance(s, Run) and len(s.nodes) == 3
               for s in f.thunk.linker.plan.steps)
    np.testing.assert_allclose(f(np.ones(4), np.ones(4)), np.exp(1) * np.tanh(1))
    with pytest.raises(ValueError, match="shape"):
        f(np.ones(4), np.ones(5))


def test_last_use_of_each_variable():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    b = T.dot(a, y)       # not elementwise: its own step
    fg = _fg([x, y], [b * 2, a])
    p = build_plan(fg, fuse=False)
    index = {n: k for k, n in enumerate(p.steps)}
    ga, gb = fg.outputs[1], fg.outputs[0].owner.inputs[0]
    assert p.last_use[fg.inputs[0]] == index[ga.owner]
    assert p.last_use[fg.inputs[1]] == index[gb.owner]
    assert p.last_use[gb] == index[fg.outputs[0].owner]
    assert p.last_use[ga] == len(p.steps)         # an output lives to the end


class _View(Op):
    """Returns its input (declared)."""
    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0]


class _Undeclared(_View):
    view_map = {}


def test_aliasing_is_read_from_view_map_and_destroy_map_only():
    x = T.dvector("x")
    e = T.exp(x)
    v = _View()(e)
    u = _Undeclared()(e)
    fg = _fg([x], [v, u, x.T])
    p = build_plan(fg)
    gv, gu, gt = fg.outputs
    assert p.view_of[gv] is gv.owner.inputs[0]
    assert gu not in p.view_of            # nothing declared: a fresh buffer
    assert p.root(gt) is fg.inputs[0]     # DimShuffle declares its view


def test_protected_buffers_spread_through_views_both_ways():
    x = T.dmatrix("x")
    e = T.exp(x)              # an intermediate ...
    f = T.tanh(x)
    fg = _fg([x], [e.T, f + 1])
    p = build_plan(fg, fuse=False)
    ge = fg.outputs[0].owner.inputs[0]
    gf = fg.outputs[1].owner.inputs[0]
    assert fg.inputs[0] in p.protected
    assert ge in p.protected              # ... whose view is an output
    assert gf not in p.protected          # a plain intermediate may be overwritten


def test_fresh_outputs_follow_declarations_and_what_the_backend_honours():
    x = T.dmatrix("x")
    y = T.exp(x)
    z = T.tanh(x) * 2
    fg = _fg([x], [y, x, y.T, T.sum(x), z, z, T.dot(x, x)])
    p = build_plan(fg)
    assert p.fresh_outputs(lambda node: True) == (False, False, False, True, False, False,
                                                  True)
    # a node the backend runs through perform may return anything
    dot = fg.outputs[6].owner
    assert p.fresh_outputs(lambda node: node is not dot)[6] is False


def test_numba_thunk_uses_the_plans_fresh_outputs():
    x = T.dmatrix("x")
    f = symnet.function([x], [T.exp(x), x.T, T.dot(x, x)], mode="numba")
    assert f.thunk.fresh_outputs == (True, False, True)
    a = np.eye(2)
    out = f(a)
    out[1][0, 0] = 7.0          # the view output was copied by Function
    assert a[0, 0] == 1.0


@pytest.mark.parametrize("op_name", ["DimShuffle", "Reshape", "Subtensor", "Rebroadcast"])
def test_view_ops_declare_view_map(op_name):
    import symnet.tensor.ops.elemwise as el
    import symnet.tensor.ops.indexing as ix
    import symnet.tensor.ops.shape as sh
    cls = getattr(el, op_name, None) or getattr(sh, op_name, None) or getattr(ix, op_name)
    assert cls.view_map == {0: [0]}
