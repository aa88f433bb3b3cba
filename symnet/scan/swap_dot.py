"""The ``scan_dot_swapped`` rewrite (numba only): a loop's per-step GEMM
with few rows is asked of BLAS the other way round.

An RNN step multiplies the small per-step matrix (batch rows) by a weight
that is a non-sequence: the forward ``h_{t-1} @ U`` (32 x 256 by
256 x 1024 in W8) and BPTT's ``delta_t @ U.T`` (32 x 1024 by 1024 x 256).
The numba backend already computes ``x @ w.T`` with few rows in ``x`` as
``(w @ x.T).T`` (``backend/numba_cpu/blas.py``: OpenBLAS runs that form
faster at these shapes), but only where the second operand is a transpose
in the graph, and ``scan_push_out`` moves a transpose of a non-sequence
out of the loop (it is loop-invariant), so inside the loop the weight is a
plain matrix and the slow form runs every step.

This pass, run after the loop rewrites (phase ``fusion``, tagged ``numba``:
the swap is that backend's), gives such a Scan the transpose ``W.T`` of the
weight as its non-sequence (``M`` itself when the weight was ``M.T``) and
reads the weight inside the loop as ``W.T.T``, a view: the inner ``Dot``'s
second operand is then a transpose and the swapped GEMM runs.  The loop
head makes non-sequences contiguous once per call (one copy of ``W``).

It applies to a non-sequence that is read only as the second operand of
2-D ``Dot``s whose first operand changes per step, and whose rows (the
product's inner dimension) are known to be at least 128 (the swap's own
runtime rule needs that and few rows in ``x``; where it does not hold the
product runs unswapped, on the transposed view).

Measured (OpenBLAS, 2 shared cores under load from other processes;
per-step GEMM plus the copy to C order, minimum of 300 calls, us):

    x @ W shape           one BLAS thread     two BLAS threads
    32x256 @ 256x1024       248 -> 205          143 -> 125
    32x1024 @ 1024x256      192 -> 197          149 -> 116
    32x256 @ 256x768        141 -> 153          110 -> 95
    32x768 @ 768x256        144 -> 148          112 -> 89

so with one BLAS thread only the LSTM's forward product gains; with two
(the default, and blas.py's own rule was measured so) all of them do.
Switch it off with ``Mode(exclude=("scan_dot_swapped",))``.
"""
from ..graph.rewriting import count_visits, register_global
from ..graph.traversal import clone_replace, io_toposort
from .inner import placeholder
from .op import Scan
from .rewriting import _Parts

__all__ = ["scan_dot_swapped"]

# the swap's runtime rule (blas.py's ``_SWAP``) needs an inner dimension of
# at least this many; a weight known to have fewer rows is left alone
MIN_INNER = 128


def _swappable(op, nonseqs):
    """The inner non-sequences worth passing transposed (module doc)."""
    from ..tensor.ops.blas import Dot
    readers = {}
    for inode in io_toposort(op.inner_inputs, op.inner_outputs):
        for i, v in enumerate(inode.inputs):
            readers.setdefault(v, []).append((inode, i))
    out = []
    for w in nonseqs:
        rows = w.type.shape[0] if w.type.ndim == 2 else None
        if rows is None or rows < MIN_INNER or w in op.inner_outputs or \
                w.type.dtype not in ("float32", "float64"):
            continue
        uses = readers.get(w, [])
        if uses and all(isinstance(n.op, Dot) and i == 1 and n.inputs[0].type.ndim == 2
                        and n.inputs[0] not in nonseqs for n, i in uses):
            out.append(w)
    return out


def _transposed(outer):
    """``outer.T``; ``M`` itself when ``outer`` is ``M.T``."""
    from ..tensor.ops.elemwise import DimShuffle
    own = outer.owner
    if own is not None and isinstance(own.op, DimShuffle) and own.op.new_order == (1, 0):
        return own.inputs[0]
    return DimShuffle((1, 0))(outer)


def _rewrite(node):
    """{old outer output: new} for one Scan node, or None."""
    from ..tensor.ops.elemwise import DimShuffle
    from ..tensor.type import TensorType
    parts = _Parts(node)
    inner = [s[0] for s in parts.nonseqs]
    targets = _swappable(node.op, inner)
    if not targets:
        return None
    replace = {}
    for pair in parts.nonseqs:
        w, outer = pair
        if w not in targets:
            continue
        t = w.type
        wt = placeholder(TensorType(t.dtype, shape=tuple(reversed(t.shape))), f"{w.name or 'w'}.T")
        replace[w] = DimShuffle((1, 0))(wt)
        pair[0], pair[1] = wt, _transposed(outer)
    new_inner = clone_replace([o["inner"] for o in parts.outs], replace)
    for o, v in zip(parts.outs, new_inner):
        o["inner"] = v
    return parts.replacements(parts.build())


@register_global("fusion", "scan", "numba", name="scan_dot_swapped", optional=True)
def scan_dot_swapped(fgraph):
    """Each Scan's per-step GEMM weights passed transposed (module doc);
    returns the number of Scans rewritten."""
    n = 0
    order = fgraph.toposort()
    for node in order:
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        rep = _rewrite(node)
        if rep is None:
            continue
        fgraph.replace_all([(old, new) for old, new in rep.items() if old is not None
                            and old in fgraph.variables], reason="scan_dot_swapped")
        n += 1
    count_visits(fgraph, len(order))
    return n
