"""MonitorMode: pre_func/post_func around every node (Theano's debugging FAQ)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.monitormode import MonitorMode, detect_nan


@pytest.mark.parametrize("linker", [None, "numba"])
def test_pre_and_post_see_every_node_in_order(linker):
    x, y = T.dvectors("x", "y")
    seen = []

    def pre(i, node, fn):
        assert all(c[0] is None for c in fn.outputs)
        seen.append(("pre", i, type(node.op).__name__, [c[0].tolist() for c in fn.inputs]))

    def post(i, node, fn):
        seen.append(("post", i, [np.asarray(c[0]).tolist() for c in fn.outputs]))
    mode = MonitorMode(pre, post, linker=linker).excluding("fusion")
    f = symnet.function([x, y], T.dot(x, y) + 1, mode=mode)
    assert float(f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))) == 12.0
    nodes = f.fgraph.toposort()
    assert len(seen) == 2 * len(nodes)
    assert [s[1] for s in seen] == [i for i in range(len(nodes)) for _ in (0, 1)]
    assert ("pre", 0, "Dot", [[1.0, 2.0], [3.0, 4.0]]) in seen
    assert seen[-1][2] == [12.0]


def test_detect_nan_prints_the_node_and_its_values(capsys):
    x = T.dscalar("x")
    mode = MonitorMode(post_func=detect_nan).excluding("local_elemwise_fusion", "inplace")
    f = symnet.function([x], [T.log(x) * x], mode=mode)
    f(2.0)
    assert capsys.readouterr().out == ""
    f(0.0)
    out = capsys.readouterr().out
    # not fused; laid out as Theano's debug_faq shows it
    assert out.startswith("*** NaN detected ***\nElemwise{mul,no_inplace} [id A] ''   \n"
                          " |Elemwise{log,no_inplace} [id B] ''   \n | |x [id C]\n |x [id C]\n")
    assert "Inputs : [array(-inf), array(0.)]\nOutputs: [array(nan)]\n" in out


def test_monitor_mode_from_theano_names():
    import symnet.compat
    symnet.compat.install()
    try:
        import theano
        assert theano.compile.MonitorMode is MonitorMode
        assert theano.compile.monitormode.detect_nan is detect_nan
    finally:
        symnet.compat.uninstall()
