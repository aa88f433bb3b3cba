"""Rewrites of Scan nodes (registered with the rewrite engine, tag ``scan``).

- ``scan_push_out``: inner computation that does not depend on the carried
  states is computed outside the loop: what uses only non-sequences (and
  constants) once, as a new non-sequence; what also uses sequence slices
  over all steps at once, as a new sequence (elementwise ops, DimShuffles,
  and ``dot(x_t, W)``, which becomes one GEMM over every step, what
  Lasagne's ``precompute_input`` does by hand).
- ``scan_drop_unused``: outputs nobody uses (and that no used output reads
  back through its taps) are removed, then the inner inputs no output uses
  (sequences, non-sequences).
- ``scan_merge_outputs``: outputs without state stacking the same inner
  variable become one.
- ``scan_keep_last``: an output used only as ``out[-1]`` is kept for the
  last step only (``Scan(keep=)``: the backend stores a few slots instead
  of every step).
- ``scan_trivial_length``: a scan whose ``n_steps`` is the constant 1 is
  replaced by its inner graph on the first step's values; 0 steps by empty
  outputs.
- ``scan_full_buffer`` (``buffer.py``): ``concatenate([init, out])`` of a
  recurrent output is the loop's own buffer, returned whole (no copy).
- ``scan_merge`` (``merge.py``): two scans over the same sequences and
  ``n_steps`` become one.
- ``scan_sum_out`` (``sum_out.py``): running sums read only at the end
  (gradient accumulators) are summed after the loop.
- ``scan_sink_bias`` (``sink.py``): a sequence ``P + b`` with ``b`` the
  same every step becomes ``P``, ``b`` added in the step.
- ``scan_dot_swapped`` (``swap_dot.py``, numba only, after these): the
  per-step GEMM's weight is passed transposed so the backend's swapped
  GEMM runs.

Each rewrite builds a new ``Scan`` node and replaces the old outputs.
"""
import numpy as np

from ..graph.basic import Constant
from ..graph.rewriting import register_local
from ..graph.traversal import clone_replace, io_toposort
from ..tensor.basic import as_tensor_variable
from ..tensor.ops.shape import static_values
from .inner import placeholder
from .op import Scan

__all__ = ["scan_push_out", "scan_drop_unused", "scan_merge_outputs", "scan_keep_last",
           "scan_trivial_length"]

TAGS = ("canonicalize", "scan")


class _Parts:
    """A Scan node taken apart: lists of [inner, outer] pairs for sequences
    and non-sequences; per output a dict (inner output, taps, tap
    placeholders, initial buffer, keep, outer output)."""

    def __init__(self, node):
        op = node.op
        self.op, self.n = op, node.inputs[0]
        outer = node.inputs[1:]
        ns, nst = op.n_seqs, op.n_states
        self.seqs = [[op.inner_inputs[k], outer[k]] for k in range(ns)]
        pos, si = ns, 0
        self.outs = []
        for j, t in enumerate(op.taps):
            o = {"inner": op.inner_outputs[j], "taps": t, "tap_inner": [], "init": None,
                 "keep": op.keep[j], "full": op.full[j], "old": node.outputs[j]}
            if t is not None:
                o["tap_inner"] = op.inner_inputs[pos:pos + len(t)]
                o["init"] = outer[ns + si]
                pos += len(t)
                si += 1
            self.outs.append(o)
        self.nonseqs = [[op.inner_inputs[pos + k], outer[ns + nst + k]]
                        for k in range(op.n_nonseqs)]

    def build(self):
        """The new Scan's outer outputs, one per entry of ``outs``."""
        inner_in = [s[0] for s in self.seqs]
        for o in self.outs:
            inner_in += list(o["tap_inner"])
        inner_in += [s[0] for s in self.nonseqs]
        op = self.op
        new = Scan(inner_in, [o["inner"] for o in self.outs], n_seqs=len(self.seqs),
                   taps=[o["taps"] for o in self.outs], n_nonseqs=len(self.nonseqs),
                   mode=op.mode, truncate_gradient=op.truncate_gradient, name=op.name,
                   keep=[o["keep"] for o in self.outs],
                   full=[o.get("full", False) for o in self.outs])
        inits = [o["init"] for o in self.outs if o["taps"] is not None]
        res = new(self.n, *[s[1] for s in self.seqs], *inits, *[s[1] for s in self.nonseqs])
        return res if isinstance(res, list) else [res]

    def replacements(self, new_outs):
        return {o["old"]: v for o, v in zip(self.outs, new_outs)}


def _inner_nodes(op):
    return io_toposort(op.inner_inputs, op.inner_outputs)


def _used(fgraph, var):
    return bool(fgraph.clients.get(var))


# -- push computation out of the loop ---------------------------------------------

def _vectorize(node, ins):
    """``node`` applied over all steps: ``ins`` are (outer var, per_step)
    pairs; returns the outer output, or None when the op is not one we
    know how to apply to a leading step axis."""
    from .. import tensor as T
    from ..tensor.ops.blas import Dot
    from ..tensor.ops.elemwise import DimShuffle, Elemwise
    op = node.op
    if isinstance(op, Elemwise) and len(node.outputs) == 1:
        args = [v if seq else T.shape_padleft(v) for v, seq in ins]
        return op(*args)
    if isinstance(op, DimShuffle):
        (v, _), = ins
        order = (0,) + tuple(d if d == "x" else d + 1 for d in op.new_order)
        return DimShuffle(order)(v)
    if isinstance(op, Dot) and ins[0][1] and not ins[1][1] and ins[1][0].ndim == 2:
        x, w = ins[0][0], ins[1][0]
        if x.ndim == 2:            # x_t a vector: (steps, in) @ (in, out)
            return T.dot(x, w)
        if x.ndim == 3:            # x_t a matrix: one GEMM over steps * rows
            flat = T.reshape(x, (x.shape[0] * x.shape[1], x.shape[2]))
            out = T.dot(flat, w)
            return T.reshape(out, (x.shape[0], x.shape[1], w.shape[1]))
    return None


@register_local(*TAGS, tracks=[Scan])
def scan_push_out(fgraph, node):
    """Inner nodes independent of the states, computed before the loop."""
    parts = _Parts(node)
    n = parts.n
    # inner variable -> (outer variable, per_step): known outside the loop
    outside = {s[0]: (s[1][:n], True) for s in parts.seqs}
    outside.update({s[0]: (s[1], False) for s in parts.nonseqs})
    moved = []       # inner nodes rebuilt outside
    const_only = set()   # computed from constants alone
    for inode in _inner_nodes(node.op):
        ins = []
        for v in inode.inputs:
            if isinstance(v, Constant):
                ins.append((v, False))
            elif v in outside:
                ins.append(outside[v])
            else:
                break
        else:
            if all(v in const_only or isinstance(v, Constant) for v in inode.inputs):
                const_only.update(inode.outputs)   # moved only along with others
            if not any(seq for _, seq in ins):
                res = inode.op.make_node(*[v for v, _ in ins]).outputs
                outs = [(r, False) for r in res]
            else:
                r = _vectorize(inode, ins) if len(inode.outputs) == 1 else None
                if r is None or r.dtype != inode.outputs[0].dtype or \
                        r.ndim != inode.outputs[0].ndim + 1:
                    continue
                outs = [(r, True)]
            for v, o in zip(inode.outputs, outs):
                outside[v] = o
            moved.append(inode)
    moved_set = _keep_cheap_per_step(node.op, moved, outside)
    moved = [n for n in moved if n in moved_set]
    if all(n.outputs[0] in const_only for n in moved):
        return None       # constant folding's business
    # the frontier: moved results read by nodes that stay, or inner outputs
    frontier = []
    for inode in _inner_nodes(node.op):
        if inode in moved_set:
            continue
        frontier += [v for v in inode.inputs if v.owner in moved_set and v not in frontier
                     and v not in const_only]    # constants stay literals inside
    frontier += [v for v in node.op.inner_outputs if v.owner in moved_set
                 and v not in frontier and v not in const_only]
    if not frontier:
        return None
    replace = {}
    for v in frontier:
        known = _known_shape(v)
        if known is not None:
            # a shape whose sizes were known when the graph was built stays a
            # literal: ops such as Conv2dGradWeights read static sizes from
            # it, and a placeholder would lose them (W.dimshuffle(0, 1, 'x', 2)'s
            # gradient then no longer has the broadcastable axis its
            # DimShuffle drops)
            replace[v] = as_tensor_variable(known)
            continue
        ph = placeholder(v.type, v.name)
        replace[v] = ph
        outer, seq = outside[v]
        (parts.seqs if seq else parts.nonseqs).append([ph, outer])
    new_inner = clone_replace([o["inner"] for o in parts.outs], replace)
    for o, v in zip(parts.outs, new_inner):
        o["inner"] = v
    return parts.replacements(parts.build())


def _known_shape(v):
    """`v`'s value as an array when `v` is an integer vector (a shape)
    whose every entry is known at build time, else None."""
    if v.ndim != 1 or not v.dtype.startswith("int") or v.type.shape[0] is None:
        return None
    vals = static_values(v)
    if len(vals) != v.type.shape[0] or None in vals:
        return None
    return np.asarray(vals, dtype=v.dtype)


def _keep_cheap_per_step(op, moved, outside):
    """The movable inner nodes worth moving: ``moved`` less the elementwise
    ops and DimShuffles over per-step values whose results only nodes that
    stay in the loop read (or that are inner outputs).

    Why: such a node does the same work outside as inside, but outside it
    is one more pass over a (steps, ...) array in memory, and the loop then
    reads its result back as one more sequence.  In BPTT the pushed-out
    ``x_t @ W + (h_{t-1} @ U)`` of the recomputed LSTM gates was one such
    pass over 100x32x1024 floats, from two reversed views copied first
    (W8: about 7 ms of a 100 ms step, single thread); in the loop it is a
    32x1024 add on rows in cache.  Nodes on values computed once (no
    sequence involved) are still moved: that saves ``n_steps - 1`` runs.
    Visited last to first, so a chain of such nodes stays in as a whole."""
    from ..tensor.ops.elemwise import DimShuffle, Elemwise
    moved_set = set(moved)
    readers = {}      # inner variable -> inner nodes reading it
    for inode in _inner_nodes(op):
        for v in inode.inputs:
            readers.setdefault(v, []).append(inode)
    for inode in reversed(moved):
        if not isinstance(inode.op, (Elemwise, DimShuffle)) or \
                not all(outside[v][1] for v in inode.outputs):
            continue
        if any(r in moved_set for v in inode.outputs for r in readers.get(v, ())):
            continue
        moved_set.discard(inode)
    return moved_set


# -- drop what nobody uses ---------------------------------------------------------

@register_local(*TAGS, tracks=[Scan])
def scan_drop_unused(fgraph, node):
    """Unused outputs, then unused sequences and non-sequences, removed."""
    from ..graph.traversal import graph_inputs
    parts = _Parts(node)
    needed = {j for j, o in enumerate(parts.outs) if _used(fgraph, o["old"])}
    tap_of = {}
    for j, o in enumerate(parts.outs):
        for ph in o["tap_inner"]:
            tap_of[ph] = j
    stack = list(needed)
    while stack:              # a needed output needs the states it reads
        j = stack.pop()
        for v in graph_inputs([parts.outs[j]["inner"]]):
            i = tap_of.get(v)
            if i is not None and i not in needed:
                needed.add(i)
                stack.append(i)
    if not needed:
        return None           # a dead node: the graph drops it
    outs = [o for j, o in enumerate(parts.outs) if j in needed]
    reads = set(graph_inputs([o["inner"] for o in outs]))
    seqs = [s for s in parts.seqs if s[0] in reads]
    nonseqs = [s for s in parts.nonseqs if s[0] in reads]
    if len(outs) == len(parts.outs) and len(seqs) == len(parts.seqs) and \
            len(nonseqs) == len(parts.nonseqs):
        return None
    parts.outs, parts.seqs, parts.nonseqs = outs, seqs, nonseqs
    return parts.replacements(parts.build())


@register_local(*TAGS, tracks=[Scan])
def scan_merge_outputs(fgraph, node):
    """Outputs without state that stack the same inner variable: one is kept."""
    parts = _Parts(node)
    first, same = {}, {}
    for j, o in enumerate(parts.outs):
        if o["taps"] is None:
            key = (o["inner"], o["keep"])
            if key in first:
                same[j] = first[key]
            else:
                first[key] = j
    if not same:
        return None
    kept = [j for j in range(len(parts.outs)) if j not in same]
    old = parts.outs
    parts.outs = [old[j] for j in kept]
    new = dict(zip(kept, parts.build()))
    return {o["old"]: new[same.get(j, j)] for j, o in enumerate(old)}


# -- keep the last step only -------------------------------------------------------

def _last_step_clients(fgraph, var):
    """The ``var[-1]`` nodes using ``var`` when they are all its clients."""
    from ..tensor.ops.indexing import Subtensor
    found = []
    for client, _ in fgraph.clients.get(var, ()):
        if client == "output" or not isinstance(client.op, Subtensor) or \
                client.op.idx_list != (-1,) or len(client.inputs) != 1:
            return None
        found.append(client)
    return found or None


@register_local(*TAGS, tracks=[Scan])
def scan_keep_last(fgraph, node):
    """Outputs used only as ``out[-1]`` keep only their last step."""
    parts = _Parts(node)
    clients = {}
    for j, o in enumerate(parts.outs):
        if o["keep"] is None and not o["full"]:
            found = _last_step_clients(fgraph, o["old"])
            if found:
                clients[j] = found
                o["keep"] = 1
    if not clients:
        return None
    new = parts.build()
    rep = {}
    for j, (o, v) in enumerate(zip(parts.outs, new)):
        if j in clients:
            for c in clients[j]:
                rep[c.outputs[0]] = v[-1]
        else:
            rep[o["old"]] = v
    return rep


# -- loops of a known length of 0 or 1 ---------------------------------------------

@register_local(*TAGS, tracks=[Scan])
def scan_trivial_length(fgraph, node):
    """``n_steps`` the constant 1: the inner graph on the first step's values;
    the constant 0: empty outputs (when their shapes are known)."""
    from .. import tensor as T
    n = node.inputs[0]
    if not isinstance(n, Constant) or int(n.data) not in (0, 1):
        return None
    parts = _Parts(node)
    if int(n.data) == 0:
        res = []
        for o in parts.outs:
            if o["taps"] is not None:
                res.append(o["init"] if o["full"] else o["init"][:0])
                continue
            shape = o["inner"].type.shape
            if any(s is None for s in shape):
                return None
            res.append(T.zeros((0,) + tuple(shape), dtype=o["inner"].dtype))
        return parts.replacements(res)
    rep = {s[0]: s[1][0] for s in parts.seqs}
    rep.update({s[0]: s[1] for s in parts.nonseqs})
    for o in parts.outs:
        lag = None if o["taps"] is None else -min(o["taps"])
        for ph, k in zip(o["tap_inner"], o["taps"] or ()):
            rep[ph] = o["init"][lag + k]
    step = clone_replace([o["inner"] for o in parts.outs], rep)
    res = [T.concatenate([o["init"], T.shape_padleft(v)], axis=0) if o["full"]
           else T.shape_padleft(v) for o, v in zip(parts.outs, step)]
    return parts.replacements(res)
