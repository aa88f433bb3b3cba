"""Sums over the rows of a fused loop's matrix result, in the same pass.

A dense layer's backward step computes the pre-activation gradient
``g * relu'(z)`` (a matrix, batch x units) and then its bias gradient, the
sum of that matrix over its rows.  Apart, the sum is one more kernel call
and one more pass over the matrix; here the loop computing the matrix adds
each element into a float64 accumulator per column while it is in a
register (``plan.is_column_sum`` says which sums qualify; the plan moves
such a sum next to its input so the run takes it in).  The rows are added
in order into float64, exactly as the separate ``Sum{axis=[0]}`` kernel
(``reduction.py``) does, so the result is the same to the bit.

The same loop serves any elementwise run whose matrix result has a row
sum taken (a convolution's bias gradient is a sum over more axes and is
not taken here).  A member the in-place rewrite lets overwrite its input
(the relu gradient overwrites the incoming gradient) does so inside the
run too (``inplace_into``), as its own kernel would.  A threaded loop
(``Mode(parallel=True)``) declines: the run's nodes then go one by one;
the plan never gives one run both full sums and column sums.
"""
from ..plan import is_column_sum
from ..scalar import cast_expr

__all__ = ["column_sums", "inplace_into"]


def column_sums(cols, res_of, dims, j, accs, ctx):
    """The lines before, inside and after the serial loop nest of a run
    (``fused.emit_fused``) that sum the matrices of ``cols`` ((Reduce node,
    its input's name inside the loop) pairs) over their rows into their
    results; ``j`` is the innermost (column) index."""
    if len(dims) != 2 or accs or ctx.parallel:
        raise NotImplementedError("column sums: a serial 2-d loop without other sums")
    empty = ctx.use_lib("alloc", "_empty")
    before, steps, after = [], [], []
    o = ctx.tmp("o")
    for node, e in cols:
        out = node.outputs[0]
        odt = out.type.dtype
        acc = ctx.tmp("c")
        before += [f"{acc} = {empty}(({dims[-1]},), np.float64)",
                   f"for {o} in range({dims[-1]}):",
                   f"    {acc}[{o}] = 0.0"]
        steps.append(f"{acc}[{j}] = {acc}[{j}] + {cast_expr(e, 'float64')}")
        res = res_of[out]
        if odt == "float64":
            after.append(f"{res} = {acc}")
            continue
        after += [f"{res} = {empty}(({dims[-1]},), np.{odt})",
                  f"for {o} in range({dims[-1]}):",
                  f"    {res}[{o}] = {cast_expr(f'{acc}[{o}]', odt)}"]
    return before, steps, after


def inplace_into(run, protected):
    """{result: input} for the members of a run carrying a column sum that
    the in-place rewrite lets overwrite an input (``Elemwise.inplace``):
    the loop writes them there, as the member's own kernel would (its
    ``can_destroy``: never a protected buffer), instead of allocating."""
    from ...tensor.ops.elemwise import Elemwise
    if not any(is_column_sum(n) for n in run.nodes):
        return None
    into = {}
    for node in run.nodes:
        k = getattr(node.op, "inplace", None) if isinstance(node.op, Elemwise) else None
        if k is None:
            continue
        src, out = node.inputs[k], node.outputs[0]
        if src.owner in run.members or src in protected or src in into.values() or \
                src.type.dtype != out.type.dtype or src.type.shape != out.type.shape:
            continue
        into[out] = src
    return into or None
