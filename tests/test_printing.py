"""debugprint, pp and pydotprint."""
import io
import sys

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.printing import debugprint, pp, pydotprint


def test_debugprint_tree_ids_and_shared():
    w = symnet.shared(np.ones(3), name="w")
    x = T.dvector("x")
    a = T.exp(x * w)
    out = debugprint([a + a], file="str")
    lines = out.splitlines()
    assert lines[0].startswith("add [id 0]")
    assert sum("exp [id 1]" in ln for ln in lines) == 2  # printed twice...
    assert sum(ln.strip(" |").startswith("mul") for ln in lines) == 1  # ...subtree once
    assert any("w [id" in ln and "[shared]" in ln for ln in lines)
    assert " | |x [id" in out


def test_debugprint_options():
    x = T.dmatrix("x")
    y = T.sum(x, axis=0)
    y.name = "colsum"
    assert "<TensorType(float64, vector)>" in debugprint(y, file="str", print_type=True)
    assert "'colsum'" in debugprint(y, file="str")
    assert "[id A]" in debugprint(y, file="str", ids="CHAR")
    assert "[id" not in debugprint(y, file="str", ids="")
    assert len(debugprint(T.exp(T.exp(x)), file="str", depth=1).splitlines()) == 2
    buf = io.StringIO()
    assert debugprint(y, file=buf) is buf and "Sum" in buf.getvalue()
    with pytest.raises(TypeError):
        debugprint(42)
    with pytest.raises(ValueError):
        debugprint(y, file="str", ids="bogus")


def test_debugprint_stdout(capsys):
    x = T.dscalar("x")
    assert debugprint(x + 1) is None  # so a prompt shows only the tree
    assert capsys.readouterr().out.startswith("add [id 0]")
    assert symnet.printing.pprint(x + 1) == pp(x + 1) == "(x + 1.0)"


def test_debugprint_function_prints_fgraph():
    x = T.dvector("x")
    f = symnet.function([x], [T.exp(x), x * 2], mode="py")
    text = debugprint(f, file="str")
    assert "exp" in text and "mul" in text
    assert text == debugprint(f.fgraph.outputs, file="str")


def test_debugprint_deep_graph_is_linear():
    x = T.dscalar("x")
    y = x
    for _ in range(20000):
        y = y + 1
    text = debugprint(y, file="str")
    assert text.count("\n") == 2 * 20000 + 1 and len(text) < 200 * 40001
    assert pp(y).count("+") == 20000
    assert sys.getrecursionlimit() < 20000


def test_pp():
    x, y = T.dscalars("x", "y")
    assert pp(x + 2.0 * y) == "(x + (2.0 * y))"
    assert pp(T.exp(-x) / y) == "(exp((-x)) / y)"
    m = T.dmatrix("m")
    assert pp(m.T) == "m.T"
    assert pp(T.dot(m, m)) == "Dot(m, m)"
    z = x * y
    z.name = "z"
    assert pp(T.log(z) + z) == "(log(z) + z)"
    assert pp([x, y]) == "x\ny"
    assert symnet.printing.Printer()(x - y) == "(x - y)"


def test_pydotprint(tmp_path, monkeypatch):
    x = T.dvector("x")
    w = symnet.shared(np.ones(2), name="w")
    src = pydotprint(T.exp(x) * w, return_source=True)
    assert src.startswith("digraph G {") and 'label="exp"' in src and "palegreen" in src
    out = pydotprint(T.exp(x), str(tmp_path / "g.dot"), format="dot")
    assert open(out).read().startswith("digraph")
    # without graphviz nor dot: a clear ImportError
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ImportError, match="graphviz"):
        pydotprint(T.exp(x), str(tmp_path / "g.png"))
