"""Layer blocks for the graph viewer (``symnet.viz``): the nodes one
Lasagne-style layer built (``node.tag.layer``, set by
``symnet.layers.get_output``) folded into one box in a big stage.

A block is one box labelled with the layer and its node count; clicking it
lists its members.  Nodes built outside every layer (the cost, the
gradient: ``symnet.grad`` records no layer) that read the nodes of exactly
one layer ``L`` (directly, or through other such nodes) fold into a block
``reads L``: the backward pass of a network becomes one box per layer too,
named for what it reads, not claimed by the layer.

Folding must keep the drawn graph acyclic (the layout needs a topological
order): blocks built by ``get_output`` are, since a layer's nodes only read
older layers', but rewrites may move nodes across layers, so a block that
would close a cycle is left unfolded (inferred blocks first).
"""
import collections
import heapq

__all__ = ["fold_layers"]


def fold_layers(stage):
    """Fold, in place, the nodes of ``stage`` into one box per layer and per
    ``reads L`` block (a block of one apply node stays as it is); node ids
    are renumbered in a topological order of the folded graph."""
    nodes, edges = stage["nodes"], stage["edges"]
    key = _block_keys(nodes, edges)
    members = collections.defaultdict(list)
    for k, name in enumerate(key):
        if name:
            members[name].append(k)
    folded = {name for name, ks in members.items()
              if sum(nodes[k]["kind"] == "apply" for k in ks) > 1}
    if not folded:
        return
    while True:
        box = [key[k] if key[k] in folded else k for k in range(len(nodes))]
        order, stuck = _topo_boxes(box, edges)
        if not stuck:
            break
        # a block on a cycle is drawn node by node instead; inferred
        # ``reads`` blocks go first, the layers' own only when none is left
        cyclic = {box[k] for k in stuck if box[k] in folded}
        guessed = {b for b in cyclic if not _is_layer(b, nodes, members)}
        folded -= guessed or cyclic
    box_id = {b: i for i, b in enumerate(order)}
    first = {}
    for k in range(len(nodes)):
        first.setdefault(box[k], k)
    new_nodes = [nodes[first[b]] if b not in folded else
                 _block(b, members[b], nodes, edges, not _is_layer(b, nodes, members))
                 for b in order]
    stage["nodes"] = new_nodes
    stage["edges"] = sorted({(box_id[box[a]], box_id[box[b]]) for a, b in edges
                             if box[a] != box[b]})


def _is_layer(name, nodes, members):
    """True for the block of a layer's own nodes (not an inferred ``reads``)."""
    return any(nodes[k].get("layer") == name for k in members[name])


def _block_keys(nodes, edges):
    """Each node's block name: its layer; for an apply node outside the
    layers, ``reads L`` with ``L`` the earliest layer among those of the
    nodes it reads (their layer, or their own ``reads``): a gradient flows
    back from the last layer to the first, so each layer's backward nodes
    land in one block, and since names never move later along a path
    outside the layers, these blocks close no cycle.  A node reading only
    inputs (a transposed weight, an op of constants) joins its readers'
    block when they share one; a shared variable read by one layer's nodes
    joins that layer; a node reading one layer only and read by a layer
    (fused by a rewrite, which records no layer) joins the layer it reads;
    else None."""
    pred, succ = collections.defaultdict(list), collections.defaultdict(list)
    for a, b in edges:
        pred[b].append(a)
        succ[a].append(b)
    key = [None] * len(nodes)
    near = [None] * len(nodes)   # the earliest layer an outside node reads
    applies = [k for k, n in enumerate(nodes) if n["kind"] == "apply"]
    # a layer's rank: its last node (ids are topological, producers first);
    # its first could be an op of constants, placed anywhere
    rank = {nodes[k]["layer"]: k for k in applies if nodes[k].get("layer")}
    own = [n.get("layer") if n["kind"] == "apply" else None for n in nodes]
    for k in applies:
        if own[k]:
            key[k] = own[k]
            continue
        srcs = [p for p in pred[k] if nodes[p]["kind"] == "apply"]
        inner = {own[p] for p in srcs}
        if len(inner) == 1 and None not in inner and any(own[b] for b in succ[k]):
            # reads one layer only and feeds a layer: that layer's, untagged
            # by a rewrite (a fused activation); joining it closes no cycle
            key[k] = own[k] = inner.pop()
            continue
        read = [name for name in (own[p] or near[p] for p in srcs) if name]
        if read:
            near[k] = min(read, key=rank.__getitem__)
            key[k] = "reads " + near[k]
    for k in reversed(applies):     # readers first: an op of constants joins theirs
        if key[k] is None and succ[k] and \
                not any(nodes[p]["kind"] == "apply" for p in pred[k]):
            readers = {key[b] for b in succ[k]}
            if len(readers) == 1:
                key[k] = readers.pop()
    for k, n in enumerate(nodes):
        # a parameter goes in the box of the one layer that reads it (its own)
        if n["kind"] == "shared":
            owners = {key[b] for b in succ[k] if nodes[b].get("layer")}
            if len(owners) == 1:
                key[k] = owners.pop()
    return key


def _topo_boxes(box, edges):
    """Kahn's order of the boxes (ties broken by their first node, so the
    order stays close to the original); when the folded graph has a cycle,
    the ids of the nodes in boxes on it (or between two)."""
    succ = collections.defaultdict(set)
    indeg = collections.Counter()
    first = {}
    for k, b in enumerate(box):
        first.setdefault(b, k)
    for a, b in edges:
        ba, bb = box[a], box[b]
        if ba != bb and bb not in succ[ba]:
            succ[ba].add(bb)
            indeg[bb] += 1
    ready = [(k, b) for b, k in first.items() if not indeg[b]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, b = heapq.heappop(ready)
        order.append(b)
        for c in succ[b]:
            indeg[c] -= 1
            if not indeg[c]:
                heapq.heappush(ready, (first[c], c))
    if len(order) == len(first):
        return order, []
    # what is left: boxes on a cycle and boxes below one; peel the latter
    # off from the bottom so only blocks that close a cycle are unfolded
    left = set(first) - set(order)
    outdeg = {b: sum(c in left for c in succ[b]) for b in left}
    preds = collections.defaultdict(list)
    for b in left:
        for c in succ[b]:
            if c in left:
                preds[c].append(b)
    sinks = [b for b in left if not outdeg[b]]
    while sinks:
        b = sinks.pop()
        left.discard(b)
        for p in preds[b]:
            outdeg[p] -= 1
            if not outdeg[p]:
                sinks.append(p)
    return order, [k for k, b in enumerate(box) if b in left]


def _block(name, ks, nodes, edges, inferred):
    """The box standing for the nodes ``ks`` of block ``name`` (``inferred``:
    a ``reads L`` block): its outputs are those of its members read outside
    it (or returned)."""
    inside = set(ks)
    leaving = {a for a, b in edges if a in inside and b not in inside}
    tails = [k for k in ks if k in leaving or nodes[k].get("result")] or [ks[-1]]
    mem = [nodes[k] for k in ks]
    return {"kind": "apply", "block": name,
            "layer": f"none (nodes outside the layers that read {name[len('reads '):]}'s)"
            if inferred else name,
            "label": f"{name} ({len(ks)} nodes)",
            "op": f"layer block {name}: " + "; ".join(n["label"] for n in mem),
            "outputs": [o for k in tails for o in nodes[k]["outputs"]],
            "trace": next((n["trace"] for n in mem if n["trace"]), ""),
            "new": next((n["new"] for n in mem if n["new"]), ""),
            "consts": [c for n in mem for c in n["consts"]],
            "result": [r for n in mem for r in n.get("result", [])],
            "source": "\n".join(n["source"] for n in mem if n.get("source")),
            "how": "; ".join(dict.fromkeys(n["how"] for n in mem if n.get("how"))),
            "members": [{"label": n["label"], "op": n["op"], "new": n["new"],
                         "outputs": n["outputs"]} for n in mem]}
