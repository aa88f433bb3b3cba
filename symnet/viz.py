"""The HTML graph viewer: ``viz(f_or_vars, "graph.html")``.

Writes ONE self-contained HTML file (inline JS and CSS, nothing fetched
from the network) that draws a graph at every stage of the compiler and
lets a reader pan, zoom, click a node and switch stage:

``as built``
    The user's variables, as the expressions built them.
``after grad``
    With ``wrt=``: the graph of the cost together with ``symnet.grad``'s.
``after <phase>``
    After each phase of the default rewrite pipeline
    (``symnet.graph.rewriting.PHASES``: simplify, fusion with its cleanup,
    inplace), replayed on a copy of the graph, with the nodes each phase
    created marked and named by the rewrite that created them, a count of
    the rewrites that fired and of the nodes removed.
``as compiled``
    For a compiled function: one box per step of the backend's plan (a fused
    run of elementwise nodes is ONE box, as it is one loop nest), with the
    kernel source and the driver lines that compute it.

Clicking a node shows its op, the dtype and static shape of its outputs,
the user's line that built it (``node.tag.trace``) and, compiled, its code.

Layout: a layered (Sugiyama-style) layout computed here in Python, not a
library: nodes get the layer of their longest path from the inputs and are
ordered within a layer by the mean position of their neighbours, sweeping
down and up a few times.  We chose our own because the page must open
offline: the JavaScript layout libraries (dagre, ELK) would have to be
vendored into every file and are not pip packages, and Graphviz needs the
``dot`` program.  Linear-time sweeps keep 2,000 nodes fast; above
``collapse`` drawn nodes, the nodes each layer of a network built
(``node.tag.layer``, recorded by ``symnet.layers.get_output``) fold into
one box per layer (``symnet._viz_layers``), then chains of single-client
nodes fold into one box (constants are never drawn as nodes: they are
listed in their consumer).

Examples
--------
>>> import os, tempfile, symnet.tensor as T
>>> x = T.vector('x')
>>> path = viz(T.sum(T.exp(x) * 2.0), os.path.join(tempfile.mkdtemp(), 'g.html'))
>>> text = open(path).read()
>>> '<script src' in text or '<link' in text, '"after fusion"' in text
(False, True)
"""
import collections

from .graph.basic import Constant, Variable
from .graph.traversal import io_toposort

__all__ = ["viz", "graph_stages", "layout"]

#: above this many drawn nodes, layer blocks and single-client chains are
#: folded into one box each
COLLAPSE = 400
_SORT_SWEEPS = 4
_LOCAL_TAGS = ("canonicalize", "stabilize", "specialize")
#: (stage, tags excluded) replaying the default pipeline one phase at a time;
#: "fusion" includes the cleanup merge/fold that follows it
_PHASE_REPLAY = (("simplify", ("fusion", "inplace")),
                 ("fusion", _LOCAL_TAGS + ("inplace",)),
                 ("inplace", _LOCAL_TAGS + ("fusion",)))
#: widest row of boxes; a wider layer wraps onto more rows
MAX_ROW = 24


def viz(obj, outfile="graph.html", wrt=None, mode=None, title=None, collapse=COLLAPSE):
    """Write the stages of ``obj``'s graph to ``outfile`` as one HTML page.

    Parameters
    ----------
    obj : Variable, list of Variables or compiled Function
        A function shows its own graph, its rewrite phases and its compiled
        code; variables show the graph as built and after each rewrite phase.
    outfile : str
        Where to write the page; its path is returned.
    wrt : Variable or list of Variables, optional
        With a single cost ``obj``, add the stage ``after grad``
        (``obj`` and ``symnet.grad(obj, wrt)``); the rewrite stages then
        rewrite the cost with its gradients.
    mode : str or Mode, optional
        Whose rewrites to replay (default: the function's mode, else
        ``config.mode``).
    title : str, optional
    collapse : int
        Fold layer blocks and single-client chains when a stage has more
        drawn nodes.

    Returns
    -------
    str : ``outfile``
    """
    from ._viz_page import render
    stages = graph_stages(obj, wrt=wrt, mode=mode)
    for st in stages:
        _finish(st, collapse)
    page = render(stages, title or _title(obj))
    with open(outfile, "w", encoding="utf-8") as fh:
        fh.write(page)
    return outfile


def _title(obj):
    name = getattr(obj, "name", None)
    return f"symnet graph: {name}" if name else "symnet graph"


# -- stages ---------------------------------------------------------------------

def graph_stages(obj, wrt=None, mode=None):
    """The stages of ``obj`` as plain dicts (name, nodes, edges, fired):
    what ``viz`` draws, before layout."""
    from .compile.function import Function
    from .compile.mode import get_mode
    from .graph.traversal import graph_inputs
    func = obj if isinstance(obj, Function) else None
    if func is not None:
        roots = list(func.outputs) + [e for _, e in func.updates]
        inputs = list(func.input_vars) + list(func.shared_vars)
        mode = func.mode if mode is None else get_mode(mode)
    else:
        roots = _as_vars(obj)
        inputs = None
        mode = get_mode(mode)
    stages = [_stage("as built", inputs or graph_inputs(roots), roots, {})]
    if wrt is not None:
        from .gradient import grad
        if func is not None or len(roots) != 1:
            raise ValueError("viz: wrt= needs a single cost variable (not a function "
                             f"or a list of {len(roots)} variables)")
        roots = roots + list(grad(roots[0], _as_vars(wrt)))
        stages.append(_stage("after grad", graph_inputs(roots), roots, {}))
    stages.extend(_rewrite_stages(inputs or graph_inputs(roots), roots, mode))
    if func is not None:
        stages.append(_compiled_stage(func))
    return stages


def _as_vars(obj):
    items = obj if isinstance(obj, (list, tuple)) else [obj]
    for k, v in enumerate(items):
        if not isinstance(v, Variable):
            raise TypeError(f"viz: item {k} is a {type(v).__name__}, expected a symbolic "
                            f"variable, a list of variables or a compiled function")
    return list(items)


def _rewrite_stages(inputs, roots, mode):
    """Replay ``mode``'s rewrites on a copy of the graph, snapshotting after
    each phase; a node a phase created records the rewrite that did it."""
    from .graph.fg import FunctionGraph
    from .graph.rewriting import rewrite_graph
    fg = FunctionGraph([v for v in inputs if not isinstance(v, Constant)], roots)
    made_by, fired = {}, collections.Counter()
    layer_of = {}        # a node a rewrite made: the layer of the node it replaced
    current = [None]     # the rewrite whose replacement is under way
    replaced = [""]      # the layer of the variable being replaced
    removed = [0]        # nodes pruned since the last snapshot
    replace = fg.replace

    def traced_replace(old, new, reason=None):
        current[0] = reason or "rewrite"
        replaced[0] = old.owner.tag.get("layer", "") if old.owner is not None else ""
        fired[current[0]] += 1
        try:
            replace(old, new, reason)
        finally:
            current[0] = None
            replaced[0] = ""

    def listen(event, node):
        if event == "import":
            made_by[node] = current[0] or "rewrite"
            if replaced[0] and "layer" not in node.tag:
                layer_of[node] = replaced[0]
        elif event == "prune":
            removed[0] += 1

    fg.replace = traced_replace     # this private copy only: to learn each change's rewrite
    fg.attach_listener(listen)
    stages = []

    def snapshot(phase):
        st = _stage(f"after {phase}", fg.inputs, fg.outputs, dict(made_by), fired=dict(fired),
                    layers=layer_of)
        st["removed"] = removed[0]
        stages.append(st)
        made_by.clear()
        fired.clear()
        removed[0] = 0

    optimizer = getattr(mode, "optimizer", "default")
    if optimizer is None:
        return []
    include, exclude = tuple(mode.include), tuple(mode.exclude)
    if optimizer == "fast_compile":
        rewrite_graph(fg, optimizer=optimizer, include=include, exclude=exclude)
        snapshot("rewrites")
        return stages
    # The pipeline replayed a phase at a time, each call with the other phases'
    # tags excluded (merging and folding, run by every call, are idempotent):
    # the phases stay defined in one place, graph/rewriting.
    for phase, off in _PHASE_REPLAY:
        rewrite_graph(fg, optimizer=optimizer, include=include, exclude=exclude + off)
        snapshot(phase)
    return stages


def _compiled_stage(func):
    """One box per plan step of ``func``'s backend, with its code."""
    thunk = func.thunk
    linker = getattr(thunk, "linker", None) or getattr(getattr(thunk, "thunk", None),
                                                       "linker", None)
    code = getattr(linker, "code", None)
    plan = getattr(linker, "plan", None)
    fg = func.fgraph
    if code is None or plan is None:
        st = _stage("as compiled", fg.inputs, fg.outputs, {})
        for n in st["nodes"]:
            if n["kind"] == "apply":
                n["source"] = f"{n['op']}.perform (the {getattr(linker, 'backend', 'py')} " \
                    f"backend runs each node's perform)"
        return st
    kernels = {kname: text for text, kname in code.kernels.items()}
    for kname, k in code.llvm_kernels.items():      # the llvm emitter's: their IR
        kernels[kname] = (f"; {kname}: built by the llvm emitter "
                          f"(symnet/backend/numba_cpu/llvm/), as LLVM IR\n" + k.ir_text)
    driver = code.driver.splitlines()
    starts = [first for first, _ in code.node_lines] + [len(driver)]
    lines = {node: "\n".join(_own_lines(driver[first:starts[k + 1]]))
             for k, (first, node) in enumerate(code.node_lines)}
    kname_of = {}
    for nodes, _outs, _kind, kname, _line in code.steps:
        for n in nodes:
            kname_of[n] = kname
    groups = {}
    for step in plan.steps:       # an Apply, or a Run drawn as one box
        for n in getattr(step, "hoisted", ()):
            groups[n] = [n]
        nodes = list(getattr(step, "nodes", [step]))
        for n in nodes:
            groups[n] = nodes
    st = _stage("as compiled", fg.inputs, fg.outputs, {}, groups=groups)
    for n in st["nodes"]:
        node = n.pop("_node", None)
        if node is None:
            continue
        members = groups.get(node, [node])
        texts = []
        for kname in dict.fromkeys(kname_of.get(m) for m in members):
            if kname:
                texts.append(kernels[kname])
        driver_text = "\n".join(lines[m] for m in members if m in lines)
        n["source"] = "\n".join(texts + (["# driver", driver_text] if driver_text else []))
        n["how"] = code.kinds.get(members[-1], "")
    return st


def _own_lines(lines):
    """A node's driver lines, without the driver's closing ``return``/``except``
    that follow the last node."""
    for k, line in enumerate(lines):
        if line.lstrip().startswith(("return ", "except ")):
            return lines[:k]
    return lines


# -- one stage ------------------------------------------------------------------

def _vinfo(v):
    t = v.type
    shape = getattr(t, "shape", None)
    return {"name": v.name or "", "type": str(t), "dtype": str(getattr(t, "dtype", "")),
            "shape": "?" if shape is None else
            "(" + ", ".join("?" if s is None else str(s) for s in shape)
            + ("," if len(shape) == 1 else "") + ")"}


def _trace(node):
    tr = node.tag.get("trace") if hasattr(node, "tag") else None
    if not tr:
        return ""
    fname, line, func = tr
    return f"{fname}:{line} in {func}"


def _layer_of(group, layers):
    """The layer that built every node of ``group``, else ''."""
    names = {m.tag.get("layer") or layers.get(m, "") for m in group}
    return names.pop() if len(names) == 1 else ""


def _stage(name, inputs, outputs, made_by, fired=None, groups=None, layers=None):
    """Nodes and edges of the graph between ``inputs`` and ``outputs``;
    ``groups`` maps an Apply to the members drawn as one box with it;
    ``layers`` gives a layer to nodes without ``tag.layer``."""
    order = io_toposort(list(inputs), list(outputs))
    ids, nodes, edges = {}, [], set()
    out_pos = {}
    for i, o in enumerate(outputs):
        out_pos.setdefault(o, []).append(i)

    def leaf_id(v):
        if v not in ids:
            ids[v] = len(nodes)
            shared = type(v).__name__.endswith("SharedVariable") or hasattr(v, "get_value")
            nodes.append({"kind": "shared" if shared else "input", "label": v.name or str(v),
                          "op": "shared variable" if shared else "input",
                          "outputs": [_vinfo(v)], "trace": "", "new": "", "consts": []})
        return ids[v]

    for node in order:
        members = groups.get(node) if groups else None
        head = members[-1] if members else node
        if head in ids:
            ids[node] = ids[head]
            continue
        k = ids[node] = len(nodes)
        if members:
            ids[head] = k
        group = members or [node]
        label = node.op.short_name() if len(group) == 1 else \
            f"fused {len(group)}: " + " > ".join(str(m.op) for m in group[:4]) \
            + (" ..." if len(group) > 4 else "")
        nodes.append({"kind": "apply", "label": label, "op": type(node.op).__name__ + ": "
                      + "; ".join(str(m.op) for m in group),
                      "outputs": [_vinfo(o) for o in head.outputs], "trace": _trace(node),
                      "new": made_by.get(node, ""), "consts": [], "_node": node,
                      "layer": _layer_of(group, layers or {}),
                      "result": [f"output {i}" for o in head.outputs
                                 for i in out_pos.get(o, [])]})
    for node in order:
        k = ids[node]
        for inp in node.inputs:
            if isinstance(inp, Constant):
                nodes[k]["consts"].append(str(inp))
                continue
            src = ids[inp.owner] if inp.owner is not None and inp.owner in ids else leaf_id(inp)
            if src != k:
                edges.add((src, k))
    for o in outputs:
        if o.owner is None and not isinstance(o, Constant):
            leaf_id(o)
    if not groups:
        for n in nodes:
            n.pop("_node", None)
    return {"name": name, "nodes": nodes, "edges": sorted(edges), "fired": fired or {}}


def _finish(stage, collapse):
    """Fold layer blocks and chains when the stage is big, then lay it out."""
    from ._viz_layers import fold_layers
    for n in stage["nodes"]:
        n.pop("_node", None)
    if len(stage["nodes"]) > collapse:
        fold_layers(stage)
        _fold_chains(stage)
    x, y = layout(len(stage["nodes"]), stage["edges"])
    for n, xi, yi in zip(stage["nodes"], x, y):
        n["x"], n["y"] = xi, yi


def _fold_chains(stage):
    """Merge every apply node with its single apply consumer when that
    consumer reads nothing else drawn but nodes of constants (a
    ``DimShuffle`` of a literal, folded in too): a chain becomes one box.
    Layer blocks are not folded further."""
    nodes, edges = stage["nodes"], stage["edges"]
    succ = collections.defaultdict(list)
    pred = collections.defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    into = list(range(len(nodes)))   # node -> the node it folds into

    def find(k):
        while into[k] != k:
            k = into[k]
        return k

    def foldable(k):
        return nodes[k]["kind"] == "apply" and "block" not in nodes[k]

    def op_of_constants(k):
        return foldable(k) and not pred[k]
    for a in range(len(nodes)):     # ids are topological: producers first
        if not foldable(a) or not succ[a] or nodes[a].get("result"):
            continue
        if op_of_constants(a):
            # a constant in all but name: listed in its first reader's box
            if all(foldable(b) for b in succ[a]):
                into[a] = min(succ[a])
            continue
        b = succ[a][0]
        if len(succ[a]) == 1 and foldable(b) and \
                [p for p in pred[b] if not op_of_constants(p)] == [a]:
            into[b] = find(a)
    groups = collections.defaultdict(list)
    for k in range(len(nodes)):
        groups[find(k)].append(k)
    box_of = {h: i for i, h in enumerate(sorted(groups))}
    new_nodes = []
    for h in sorted(groups):
        ks = groups[h]
        tail = nodes[max(ks)]       # the chain's last node: its outputs leave the box
        box = dict(nodes[h], outputs=tail["outputs"], result=tail.get("result", []))
        if len(ks) > 1:
            labels = [nodes[k]["label"] for k in ks]
            box["label"] = f"chain of {len(ks)}: {labels[0]} .. {labels[-1]}"
            box["op"] = " > ".join(nodes[k]["op"] for k in ks)
            box["consts"] = [c for k in ks for c in nodes[k]["consts"]]
            box["new"] = next((nodes[k]["new"] for k in ks if nodes[k]["new"]), "")
            layers = {nodes[k].get("layer", "") for k in ks}
            box["layer"] = layers.pop() if len(layers) == 1 else ""
            box["source"] = "\n".join(nodes[k]["source"] for k in ks if nodes[k].get("source"))
        new_nodes.append(box)
    stage["nodes"] = new_nodes
    folded_constant = {a for a in range(len(nodes)) if into[a] != a and op_of_constants(a)}
    stage["edges"] = sorted({(box_of[find(a)], box_of[find(b)]) for a, b in edges
                             if find(a) != find(b) and a not in folded_constant})


# -- layout ---------------------------------------------------------------------

def layout(n, edges, dx=170.0, dy=70.0, max_row=MAX_ROW):
    """Layered layout of ``n`` nodes whose ids are a topological order:
    ``(x, y)`` lists.  Layer = longest path from a source; order within a
    layer by the mean position of the neighbours (down and up sweeps); a
    layer of more than ``max_row`` nodes takes several rows."""
    pred = [[] for _ in range(n)]
    succ = [[] for _ in range(n)]
    for a, b in edges:
        pred[b].append(a)
        succ[a].append(b)
    layer = [0] * n
    for k in range(n):           # ids are topological, so one pass suffices
        for p in pred[k]:
            layer[k] = max(layer[k], layer[p] + 1)
    for k in range(n):
        if not pred[k] and succ[k]:    # an input sits just above its first reader
            layer[k] = min(layer[s] for s in succ[k]) - 1
    rows = collections.defaultdict(list)
    for k in range(n):
        rows[layer[k]].append(k)
    pos = [0.0] * n
    for row in rows.values():
        for i, k in enumerate(row):
            pos[k] = float(i)
    depth = max(rows) + 1 if rows else 0
    for sweep in range(_SORT_SWEEPS):
        down = sweep % 2 == 0
        for d in (range(1, depth) if down else range(depth - 2, -1, -1)):
            row = rows.get(d, [])
            near = pred if down else succ
            key = {k: (sum(pos[j] for j in near[k]) / len(near[k]) if near[k] else pos[k])
                   for k in row}
            row.sort(key=lambda k: key[k])
            for i, k in enumerate(row):
                pos[k] = float(i)
    # A layer wider than ``max_row`` boxes is wrapped into several rows, so
    # a big graph grows down, not into one unreadable line.
    xs, ys = [0.0] * n, [0.0] * n
    y = 0.0
    for d in sorted(rows):
        row = rows[d]
        for start in range(0, len(row), max_row):
            part = row[start:start + max_row]
            off = (len(part) - 1) / 2.0
            for i, k in enumerate(part):
                xs[k] = round((i - off) * dx, 1)
                ys[k] = round(y, 1)
            y += dy
    return xs, ys

