"""symnet.viz: the stages it extracts, its layout and the page it writes
(the page driven in a real browser: tests/test_viz_browser.py)."""
import json
import re

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.printing import viz as printing_viz
from symnet.viz import graph_stages, layout, viz
from tests.oracles import FORCED_BACKEND


def _data(path):
    text = open(path, encoding="utf-8").read()
    blob = re.search(r'<script id="graph-data" type="application/json">(.*?)</script>',
                     text, re.S).group(1)
    return text, json.loads(blob)


def _tanh_cost():
    x = T.vector('x')
    w = symnet.shared(np.array([1.0, 2.0, 3.0], dtype='float32'), name='w')
    return x, w, T.sum(T.tanh(x * w) ** 2)


def test_reexported_from_printing():
    assert printing_viz is viz


def test_stages_of_variables_with_grad(tmp_path):
    x, w, y = _tanh_cost()
    path = viz(y, str(tmp_path / "g.html"), wrt=w)
    text, data = _data(path)
    names = [s["name"] for s in data["stages"]]
    assert names == ["as built", "after grad", "after simplify", "after fusion",
                     "after inplace"]
    built = data["stages"][0]
    labels = [n["label"] for n in built["nodes"]]
    # as built: mul, tanh, pow (+ the DimShuffle of its exponent), Sum, and the inputs
    assert {"mul", "tanh", "pow", "x", "w"} <= set(labels)
    assert sum(n["kind"] == "apply" for n in built["nodes"]) == 5
    kinds = {n["label"]: n["kind"] for n in built["nodes"]}
    assert kinds["x"] == "input" and kinds["w"] == "shared"
    # the user's line that built each node is recorded (this file)
    assert all("test_viz.py" in n["trace"] for n in built["nodes"] if n["kind"] == "apply")
    w_node = built["nodes"][labels.index("w")]
    assert w_node["outputs"][0]["dtype"] == "float32"
    assert w_node["outputs"][0]["shape"] == "(3,)"
    # the grad stage holds more nodes; fusion makes fewer, and says which rewrite did it
    assert len(data["stages"][1]["nodes"]) > len(built["nodes"])
    fusion = data["stages"][3]
    assert fusion["fired"].get("fuse_elemwise", 0) >= 1
    made = [n for n in fusion["nodes"] if n["new"]]
    assert made and all(n["new"] == "fuse_elemwise" for n in made)
    assert any(n["label"].startswith("Composite") for n in made)
    simplify = data["stages"][2]
    assert simplify["fired"].get("local_pow_specialize", 0) >= 1
    # fusion replaced several nodes by fewer: what it removed is counted
    assert fusion["removed"] >= len(simplify["nodes"]) - len(fusion["nodes"]) > 0
    # self-contained: nothing loaded from elsewhere
    assert "<script src" not in text and "<link" not in text and "@import" not in text


@pytest.mark.parametrize("emitter", ["numba", "llvm"])
def test_compiled_stage_shows_kernel_source(tmp_path, emitter):
    x, w, y = _tanh_cost()
    f = symnet.function([x], y, mode=Mode("numba", emitter=emitter))
    _, data = _data(viz(f, str(tmp_path / "f.html")))
    st = data["stages"][-1]
    assert st["name"] == "as compiled"
    ops = [n for n in st["nodes"] if n["kind"] == "apply"]
    # tanh, square and sum: one fused loop nest, one box
    assert len(ops) == 1 and ops[0]["label"].startswith("fused 2:")
    if emitter == "numba":
        assert "@nb.njit" in ops[0]["source"] and "def kernel(" in ops[0]["source"]
    else:       # the kernel's LLVM IR
        assert "built by the llvm emitter" in ops[0]["source"]
        assert "@\"L0_native\"(" in ops[0]["source"], ops[0]["source"]
    assert "# node" in ops[0]["source"]           # its driver lines come with it
    assert ops[0]["how"] == "kernel"
    assert ops[0]["result"] == ["output 0"]
    # and it computes what numpy does
    xv = np.ones(3, dtype='float32')
    np.testing.assert_allclose(f(xv), np.sum(np.tanh(xv * w.get_value()) ** 2), rtol=1e-6)


@pytest.mark.skipif(FORCED_BACKEND is not None,
                    reason="SYMNET_FORCE_BACKEND compiles mode='py' on another backend")
def test_compiled_stage_on_py_says_perform(tmp_path):
    x, w, y = _tanh_cost()
    f = symnet.function([x], y, mode='py')
    st = graph_stages(f)[-1]
    ops = [n for n in st["nodes"] if n["kind"] == "apply"]
    assert ops and all("perform" in n["source"] for n in ops)
    assert len(ops) == len(f.fgraph.apply_nodes)


def test_json_cannot_close_the_script(tmp_path):
    x = T.vector('</script><b>x')
    text, data = _data(viz(T.exp(x), str(tmp_path / "s.html")))
    assert data["stages"][0]["nodes"][-1]["label"] == '</script><b>x'
    assert text.count("</script>") == 2


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="item 1 is a int, expected a symbolic variable"):
        graph_stages([T.vector('x'), 3])
    with pytest.raises(ValueError, match="wrt= needs a single cost"):
        graph_stages([T.scalar('a'), T.scalar('b')], wrt=T.scalar('c'))


def test_layout_is_layered_and_distinct():
    # a diamond plus a tail: 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4
    xs, ys = layout(5, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)])
    assert ys[0] < ys[1] == ys[2] < ys[3] < ys[4]
    assert xs[1] != xs[2]
    assert len(set(zip(xs, ys))) == 5


def deep_cost(depth):
    """A residual stack of ``depth`` blocks: about 7 nodes per block."""
    h = T.matrix('x')
    for i in range(depth):
        w = symnet.shared(np.eye(4, dtype='float32'), name=f'w{i}')
        h = T.tanh(T.dot(h, w) + 1.0) * 0.5 + h
    return T.sum(h)


def test_two_thousand_nodes_fold_into_chains(tmp_path):
    y = deep_cost(200)
    raw = graph_stages(y, mode='py')[0]
    assert len(raw["nodes"]) > 1200
    _, data = _data(viz(y, str(tmp_path / "big.html"), mode='py'))
    built = data["stages"][0]
    assert len(built["nodes"]) < len(raw["nodes"]) * 0.75
    assert any(n["label"].startswith("chain of") for n in built["nodes"])
    # every stage laid out: no two boxes on the same spot
    for st in data["stages"]:
        spots = {(n["x"], n["y"]) for n in st["nodes"]}
        assert len(spots) == len(st["nodes"]), st["name"]
    # edges still join every shared weight to the graph
    used = {a for a, _ in built["edges"]}
    assert all(k in used for k, n in enumerate(built["nodes"]) if n["kind"] == "shared")


def test_replayed_phases_end_where_the_compiler_does():
    # the phase-by-phase replay ends with the graph function() compiles
    x = T.matrix('x')
    w = symnet.shared(np.ones((3, 2), dtype='float32'), name='w')
    cost = T.mean(T.nnet.softmax(T.dot(x, w)) ** 2) + T.sum(T.log(1 + T.exp(x)))
    f = symnet.function([x], [cost, symnet.grad(cost, w)], mode='py')
    stages = graph_stages(f)
    assert [s["name"] for s in stages][-2:] == ["after inplace", "as compiled"]
    replayed = sorted(n["label"] for n in stages[-2]["nodes"] if n["kind"] == "apply")
    compiled = sorted(n.op.short_name() for n in f.fgraph.apply_nodes)
    assert replayed == compiled
