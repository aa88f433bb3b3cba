"""The ``scan_join_transposed`` rewrite (numba only): a loop's transposed
joined weight is copied block by block, not as one strided transpose.

BPTT multiplies ``delta_t`` by the transpose of the forward's recurrent
weight; an LSTM layer's is the join of its four gate weights, so the
backward loop's non-sequence is ``join(1, U_i, U_f, U_c, U_o).T``.  The
numba driver makes each non-sequence contiguous once per call (the GEMM
reads it every step), and numpy's copy of that transposed view walks a
source whose rows are the whole join wide (W8: 1024 floats, 4 KB apart):
1.2-1.3 ms of the W8 call for its 1 MB.  ``join(0, U_i.T, U_f.T, U_c.T,
U_o.T)`` is the same matrix; the numba driver writes it straight into a
C-ordered result (``backend/numba_cpu/shape.py``), each part transposed
from its own source of 256-float rows, which fits in the core's cache:

    measured (16:58 UTC, load 1.4, 60 calls, median / minimum us, the
    caches flushed before each call, as in the W8 call, where the weights
    were last read before the forward loop):
    ascontiguousarray(join(1, 4 x (256, 256)).T)            1303 / 1121
    concatenate(4 x (256, 256).T, axis=0, out=C buffer)      680 /  546
In the W8 call (every driver line timed, 15 calls, two rounds alternating
with main in one lock, 17:39 UTC, load 1.3-1.4): this line 0.71 and 0.90 ms
a call against main's copy 1.34 and 1.19 ms.  Half a millisecond of a
~125 ms step: the whole step's difference is within its noise.

This pass (phase ``fusion``, tagged ``numba``: the copy it saves is that
driver's) replaces ``join(1, A, B, ...).T`` of 2-D parts, where a Scan
reads it as a non-sequence, by ``join(0, A.T, B.T, ...)``, for every
reader: the values are the same, only the layout differs.  The join of
the untransposed parts stays where something else reads it (the forward
loop's own weight).  Switch it off with
``Mode(exclude=("scan_join_transposed",))``.
"""
from ..graph.rewriting import count_visits, register_global
from .op import Scan

__all__ = ["scan_join_transposed"]


def _joined_parts(v):
    """The parts of ``v`` when it is ``join(1, parts...).T`` of 2-D parts."""
    from ..tensor.ops.elemwise import DimShuffle
    from ..tensor.ops.shape import Join
    own = v.owner
    if own is None or not isinstance(own.op, DimShuffle) or own.op.new_order != (1, 0):
        return None
    j = own.inputs[0].owner
    if j is None or not isinstance(j.op, Join) or j.op.axis != 1 or len(j.inputs) < 2 or \
            any(p.type.ndim != 2 for p in j.inputs):
        return None
    return j.inputs


def _blockwise(v):
    """``join(0, A.T, B.T, ...)`` in ``v``'s type, or None."""
    from ..tensor.ops.shape import join
    from ..tensor.rewriting.basic import fit_type
    parts = _joined_parts(v)
    if parts is None:
        return None
    return fit_type(join(0, *[p.T for p in parts]), v)


@register_global("fusion", "scan", "numba", name="scan_join_transposed", optional=True)
def scan_join_transposed(fgraph):
    """Each transposed join a Scan reads as a non-sequence, joined from
    transposed blocks instead (module doc); returns how many were replaced."""
    n = 0
    order = fgraph.toposort()
    done = set()
    for node in order:
        if not isinstance(node.op, Scan) or node not in fgraph.apply_nodes:
            continue
        op = node.op
        first = 1 + op.n_seqs + op.n_states
        for v in node.inputs[first:]:
            if v in done or v not in fgraph.variables:
                continue
            new = _blockwise(v)
            if new is None:
                continue
            fgraph.replace(v, new, reason="scan_join_transposed")
            done.add(v)
            n += 1
    count_visits(fgraph, len(order))
    return n
