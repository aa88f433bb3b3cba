"""theano.gof.opt.check_stack_trace: whether compiled nodes keep the user
line that built them, for each way of naming the nodes to check."""
import pytest

import symnet
import symnet.tensor as T
from symnet.graph.fg import FunctionGraph
from symnet.graph.opt import check_stack_trace
from symnet.tensor.ops.elemwise import Elemwise


def test_compiled_nodes_keep_their_trace():
    x = T.vector("x")
    f = symnet.function([x], T.exp(x) * 2, mode="py")
    assert check_stack_trace(f)
    assert check_stack_trace(f, ops_to_check="all")
    assert check_stack_trace(f, ops_to_check=Elemwise)
    assert check_stack_trace(f, ops_to_check=[Elemwise])
    assert check_stack_trace(f.maker.fgraph, ops_to_check=lambda op: True)
    # T.exp is a function holding its op, which Theano code passes as the op
    g = symnet.function([x], T.exp(x), mode="py")
    assert check_stack_trace(g, ops_to_check=T.exp)
    assert check_stack_trace(g, ops_to_check=[T.exp])
    with pytest.raises(Exception, match="no node of"):
        check_stack_trace(f, ops_to_check=T.log)


def test_a_node_without_trace_is_reported():
    x = T.vector("x")
    y = T.exp(x)
    fg = FunctionGraph([x], [y])
    assert check_stack_trace(fg)
    for node in fg.apply_nodes:
        node.tag.trace = None
    assert not check_stack_trace(fg, ops_to_check="all")


def test_bad_arguments_and_missing_ops():
    x = T.vector("x")
    f = symnet.function([x], x + 1, mode="py")
    with pytest.raises(ValueError, match="must be a compiled function or a FunctionGraph"):
        check_stack_trace(x)
    with pytest.raises(ValueError, match="the strings it takes are 'last' and 'all'"):
        check_stack_trace(f, ops_to_check="first")
    with pytest.raises(Exception, match="no node of"):
        check_stack_trace(f, ops_to_check=lambda op: False)
    assert check_stack_trace(f, ops_to_check=lambda op: False, bug_print="ignore")
    with pytest.warns(UserWarning, match="no node of"):
        check_stack_trace(f, ops_to_check=lambda op: False, bug_print="warn")
