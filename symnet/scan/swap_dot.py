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
2-D ``Dot``s whose first operand changes per step, and whose shape is known:
its rows (the product's inner dimension) at least ``MIN_INNER`` (the swap's
own runtime rule needs that and few rows in ``x``; where it does not hold
the product runs unswapped, on the transposed view) and its columns (the
product's width) at least ``MIN_COLS``, where the swap was measured to win.

Measured in round 6 (OpenBLAS, 2 shared cores, load 2.3-2.9 from other
processes; ``x @ W`` against ``(W.T @ x.T).T`` copied to C order, the
order the kernels read; 200 interleaved calls each, minimum and median,
ratio swapped / unswapped):

    x @ W shape            one BLAS thread      two BLAS threads
    32x128 @ 128x512         1.07 / 1.09          1.22 / 1.28
    32x256 @ 256x512         1.01 / 1.07          1.06 / 1.16
    32x256 @ 256x768         1.17 / 1.17          1.15 / 1.22   (GRU forward)
    32x512 @ 512x1536        1.00 / 1.04          1.00 / 1.03
    32x1024 @ 1024x256       1.03 / 1.07          1.07 / 1.10   (LSTM BPTT)
    32x128 @ 128x1024        0.80 / 0.88          0.99 / 1.02
    32x256 @ 256x1024        0.84 / 0.92          0.95 / 1.14   (LSTM forward)
    32x512 @ 512x1024        0.76 / 0.91          0.80 / 0.87
    32x1024 @ 1024x1024      0.78 / 0.85          0.79 / 0.88
    32x512 @ 512x2048        0.82 / 1.03          0.87 / 1.13

so the swap wins only for products at least 1024 wide; BPTT's ``delta @ U.T``
(256 wide) and both of the GRU's
products (768 and 256) lose 3-20% with it and are left alone.  Round 5
measured the same direction with one thread and gains for all four W8
shapes with two, under other load; the minima above are the steadier
figure.  Switch it off with ``Mode(exclude=("scan_dot_swapped",))``.

Round 8 (#17) measured the LSTM forward's ``h @ U`` (32x256 @ 256x1024)
inside the loop, where the table's isolated GEMMs do not see it: the whole
W8 step (forward, BPTT, Adam; 12 alternating calls each, same process,
load 1.2-1.3) took median / minimum 93.5 / 88.9, 98.6 / 85.5 and 104.8 /
84.8 ms with the swap against 81.6 / 76.0, 84.9 / 69.8 and 97.4 / 75.0
without it.  In the loop the swapped product and its copy back to C order
took ~250 us a step against ~130 for the plain one.  So a weight with
fewer than ``MIN_ROWS`` rows (the product's inner dimension; the table's
gains start at 512) is left alone.
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
# products narrower than this ran slower swapped (module doc's table)
MIN_COLS = 1024
# weights with fewer rows ran slower swapped inside a loop (module doc, round 8)
MIN_ROWS = 512


def _swappable(op, nonseqs):
    """The inner non-sequences worth passing transposed (module doc)."""
    from ..tensor.ops.blas import Dot
    readers = {}
    for inode in io_toposort(op.inner_inputs, op.inner_outputs):
        for i, v in enumerate(inode.inputs):
            readers.setdefault(v, []).append((inode, i))
    out = []
    for w in nonseqs:
        rows, cols = w.type.shape if getattr(w.type, "ndim", None) == 2 else (None, None)
        if rows is None or rows < max(MIN_INNER, MIN_ROWS) or cols is None or cols < MIN_COLS or \
                w in op.inner_outputs or \
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
