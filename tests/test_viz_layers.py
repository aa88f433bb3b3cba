"""symnet.viz folds the nodes each layer of a network built into one box per
layer in a big stage (symnet/_viz_layers.py); the page in a browser:
tests/test_viz_browser.py."""
import numpy as np

import symnet
import symnet.tensor as T
from symnet._viz_layers import fold_layers
from symnet.layers import InputLayer, DenseLayer, get_output, get_all_params
from symnet.viz import COLLAPSE, graph_stages, viz
from tests.test_viz import _data


def deep_mlp(depth, width=8):
    """``depth`` dense layers (the first named), their squared-mean cost."""
    l_in = InputLayer((None, width), name="in")
    layer = DenseLayer(l_in, width, name="first")
    for _ in range(depth - 1):
        layer = DenseLayer(layer, width)
    return l_in, layer, T.mean(get_output(layer) ** 2)


def test_deep_mlp_with_grad_folds_into_layer_blocks(tmp_path):
    depth = 100
    l_in, top, cost = deep_mlp(depth)
    params = get_all_params(top)
    raw = graph_stages(cost, wrt=params, mode="py")
    assert len(raw[1]["nodes"]) > 2000                       # after grad
    _, data = _data(viz(cost, str(tmp_path / "mlp.html"), wrt=params, mode="py"))
    names = [s["name"] for s in data["stages"]]
    assert names == ["as built", "after grad", "after simplify", "after fusion",
                     "after inplace"]
    for st, before in zip(data["stages"], raw):
        # readable: far fewer boxes than the threshold that triggers folding
        assert len(st["nodes"]) < COLLAPSE < len(before["nodes"]), st["name"]
        blocks = {n["block"]: n for n in st["nodes"] if n.get("block")}
        layers = ["first"] + [f"DenseLayer#{k}" for k in range(2, depth + 1)]
        assert set(layers) <= set(blocks), st["name"]
        # a block's label counts its members, listed for the page
        for name in layers:
            b = blocks[name]
            assert b["label"] == f"{name} ({len(b['members'])} nodes)"
            assert b["layer"] == name
            labels = [m["label"].split(".")[-1] for m in b["members"]]
            assert {"Dot", "W", "b"} <= set(labels)       # with its parameters
        # the blocks are chained in the network's order
        ids = {n.get("block"): k for k, n in enumerate(st["nodes"])}
        edges = set(map(tuple, st["edges"]))
        assert all((ids[a], ids[b]) in edges for a, b in zip(layers, layers[1:])), st["name"]
        assert len({(n["x"], n["y"]) for n in st["nodes"]}) == len(st["nodes"])
        # every edge goes down the page: the folded graph stayed acyclic
        assert all(st["nodes"][a]["y"] < st["nodes"][b]["y"] for a, b in st["edges"]
                   if st["nodes"][a]["kind"] == "apply"), st["name"]
    # the gradient (no layer recorded) folds into one block per layer it reads
    grad = data["stages"][1]
    inferred = [n for n in grad["nodes"] if n.get("block", "").startswith("reads ")]
    assert len(inferred) == depth
    assert all(n["layer"].startswith("none (nodes outside the layers") for n in inferred)
    # the members of every box add up to the unfolded graph
    def size(n):
        if n["label"].startswith("chain of "):
            return int(n["label"].split()[2].rstrip(":"))
        return len(n.get("members", [])) or 1
    assert sum(map(size, grad["nodes"])) == len(raw[1]["nodes"])


def test_small_graph_is_not_folded_but_shows_layers(tmp_path):
    _, top, cost = deep_mlp(3)
    _, data = _data(viz(cost, str(tmp_path / "small.html"), wrt=get_all_params(top)))
    for st in data["stages"]:
        assert not any(n.get("block") for n in st["nodes"])
    built = data["stages"][0]["nodes"]
    dots = [n for n in built if n["label"] == "Dot"]
    assert [n["layer"] for n in dots] == ["first", "DenseLayer#2", "DenseLayer#3"]
    assert not any(n.get("layer") for n in built if n["kind"] != "apply")
    # the cost was built outside the layers
    assert [n["layer"] for n in built if n["label"].startswith("Sum")] == [""]


def test_compiled_function_folds_with_collapse_zero(tmp_path):
    l_in, top, cost = deep_mlp(3)
    params = get_all_params(top)
    f = symnet.function([l_in.input_var], [cost] + symnet.grad(cost, params), mode="py")
    _, data = _data(viz(f, str(tmp_path / "f.html"), collapse=0))
    compiled = data["stages"][-1]
    assert compiled["name"] == "as compiled"
    blocks = {n["block"] for n in compiled["nodes"] if n.get("block")}
    # the nodes that survived compilation keep their layer
    assert {"first", "DenseLayer#2", "DenseLayer#3"} <= blocks
    assert all(compiled["nodes"][a]["y"] < compiled["nodes"][b]["y"]
               for a, b in compiled["edges"] if compiled["nodes"][a]["kind"] == "apply")
    x = np.random.RandomState(1).randn(4, 8).astype("float32")
    want = np.mean(symnet.function([l_in.input_var], get_output(top), mode="py")(x) ** 2)
    np.testing.assert_allclose(f(x)[0], want, rtol=1e-5)


def _stage(layers, edges):
    nodes = [{"kind": "apply", "label": f"op{k}", "op": "op", "outputs": [], "trace": "",
              "new": "", "consts": [], "layer": name} for k, name in enumerate(layers)]
    return {"nodes": nodes, "edges": edges}


def test_a_block_that_would_close_a_cycle_is_left_unfolded():
    # 0 (L) -> 1 (M) -> 2 (L): folding L would draw L -> M -> L
    st = _stage(["L", "M", "L", "N", "N"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    fold_layers(st)
    labels = [n["label"] for n in st["nodes"]]
    assert labels == ["op0", "op1", "op2", "N (2 nodes)"]
    assert st["edges"] == [(0, 1), (1, 2), (2, 3)]


def test_blocks_renumber_in_topological_order():
    # L's first node (0) comes before 1 (of M), which L's second node reads:
    # the box of L must come after M's
    st = _stage(["L", "M", "L"], [(0, 2), (1, 2)])
    fold_layers(st)
    assert [n["label"] for n in st["nodes"]] == ["op1", "L (2 nodes)"]
    assert st["edges"] == [(0, 1)]
    assert [m["label"] for m in st["nodes"][1]["members"]] == ["op0", "op2"]


def test_ops_outside_the_layers_fold_by_what_they_read():
    # 0, 1 of L; 2 reads L; 3 reads 2; 4 reads nothing drawn and feeds 3
    st = _stage(["L", "L", "", "", ""], [(0, 1), (1, 2), (2, 3), (4, 3)])
    fold_layers(st)
    assert [n["label"] for n in st["nodes"]] == ["L (2 nodes)", "reads L (3 nodes)"]
    assert [m["label"] for m in st["nodes"][1]["members"]] == ["op2", "op3", "op4"]
    assert st["nodes"][1]["layer"] == "none (nodes outside the layers that read L's)"
