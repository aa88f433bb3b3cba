"""The numba loop nest of a ``Run`` of the plan (``emit_fused``): a run of
elementwise nodes over one domain, plus full sums/products of their
results (or sums of a matrix result over its rows: ``colsum.py``),
computed in ONE pass over memory, and on several threads when the domain
is large (when ``threads.py`` says so).

Two facts measured here (AMD EPYC, AVX-512, numba 0.68) shape the code:

* A loop ``for j in range(lo, hi)`` indexing ``x[j]`` does not become
  contiguous vector loads: numba wraps a possibly negative index
  (``j < 0 -> j + n``), which LLVM cannot rule out when ``lo`` is not a
  literal 0, so loads and stores become gathers and scatters (W2's fused
  loop ran 2.3x slower blocked than unblocked).  Every loop here therefore counts from 0
  over *views* of the block (``x[b0:b1]``, no copy).
* A float32 sum accumulated in float32 partials over blocks of
  ``FUSED_SUM_BLOCK`` elements vectorizes (a float64 step per element would
  not); each block's partial is then added in float64, about as accurate
  as numpy's pairwise summation.

Threads: with ``ctx.parallel`` the nest is written twice, the threaded copy
taken at run time when the domain has at least ``PARALLEL_MIN_SIZE``
elements (``ctx.parallel_min`` where set: the update tail's, threads.py).  It splits the outermost axis over a ``prange`` (a 1-d domain
that carries a sum: in chunks of ``PARALLEL_CHUNK`` elements); every chunk
keeps its own partial sums in an array, added in chunk order after the loop, so a sum
does not depend on the number of threads.
"""
from ..scalar import cast_expr
from .elemwise import _axis_size, scalar_expr

__all__ = ["emit_fused", "FUSED_SUM_BLOCK", "PARALLEL_CHUNK"]

# The block of a float32 sum inside a fused loop.
FUSED_SUM_BLOCK = 256

# The chunk of a 1-d domain one thread computes at a time (a multiple of
# FUSED_SUM_BLOCK, so chunked and serial sums add the same blocks).
PARALLEL_CHUNK = 1 << 14


def _lesser(a, b):
    """The smaller of two int64 names as a select: ``min()`` is a numba
    overload, one more function compiled (cold) in each process (#13)."""
    return f"{a} if {a} < {b} else {b}"


class _Acc:
    """One full sum/product carried by the run."""

    def __init__(self, node, ctx):
        from .reduction import _init, _step
        (self.x,) = node.inputs
        self.out = node.outputs[0]
        self.kind = kind = node.op.kind
        odt = self.out.type.dtype
        self.acc_dt = "float64" if odt == "float32" else odt
        self.total = ctx.tmp("a")
        # float32 partials per block (see the module docstring)
        self.blocked = self.x.type.dtype == "float32" and self.acc_dt == "float64"
        self.init = cast_expr(_init(kind, self.acc_dt), self.acc_dt)
        self.blk_init = cast_expr(_init(kind, "float32"), "float32")
        self._step = _step

    def step(self, acc, e):
        return self._step(self.kind, acc, e)


def emit_fused(nodes, elem_names, arg_vars, result_vars, results, ctx, into=()):
    """Lines of ONE loop nest computing a run of elementwise ``nodes`` over
    the same domain (a ``Run`` of ``backend.plan``), with full sums/products
    of their results accumulated in the same pass.

    ``elem_names`` maps the run's outside inputs to kernel argument names
    (or scalar literals); ``result_vars`` are the values needed after the
    run, returned as ``results``.  A value used only inside the run stays a
    scalar temporary: it is never written to memory.  A result named in
    ``into`` (an argument's name) is written into that argument.
    """
    from ...tensor.ops.reduction import Reduce
    first = nodes[0].outputs[0]
    nd = first.type.ndim
    arrays = [(elem_names[v], v) for v in arg_vars if v.type.ndim == nd]
    lines, dims = [], []
    for axis in range(nd):
        src = [name for name, v in arrays if v.type.shape[axis] != 1]
        if not src:
            if first.type.shape[axis] == 1:
                dims.append("1")
                continue
            raise NotImplementedError("no input gives the size of this axis")
        dims.append(_axis_size(src, axis, ctx, lines))
    shape = "(" + ", ".join(dims) + ("," if nd == 1 else "") + ")"
    res_of = dict(zip(result_vars, results))
    # results over the domain (not a column sum's vector: colsum.py)
    full = [v for v in result_vars if v.type.ndim == nd and not (
        isinstance(v.owner.op, Reduce) and len(v.owner.op.axis) < nd)]
    for v in full:
        if res_of[v] not in into:
            lines.append(f"{res_of[v]} = np.empty({shape}, np.{v.type.dtype})")
    # the arrays the loop reads or writes element by element
    touched = {name: v for name, v in arrays}
    touched.update((res_of[v], v) for v in full)
    idx = [ctx.tmp("j") for _ in range(nd)]
    # names inside the innermost loop: element j of the block view of each
    # array whose last axis is not a broadcast one
    views = {name: ctx.tmp("v") for name, v in touched.items() if v.type.shape[-1] != 1}

    def element(name, v):
        if name in views:
            sub = ["0" if s == 1 else i for s, i in zip(v.type.shape[:-1], idx)]
            return f"{views[name]}[{idx[-1]}]", sub
        return f"{name}[{', '.join('0' if s == 1 else i for s, i in zip(v.type.shape, idx))}]", None

    elem = {}
    for v, name in elem_names.items():
        elem[v] = name if v.type.ndim == 0 else element(name, v)[0]
    inner, accs, cols = [], [], []
    # a result written into an argument (``into``) is stored after every
    # member's value: a member after it may still read the argument's old value
    stores = []
    for node in nodes:
        out = node.outputs[0]
        if isinstance(node.op, Reduce) and len(node.op.axis) < node.inputs[0].type.ndim:
            cols.append((node, elem[node.inputs[0]]))   # a column sum (plan.is_column_sum)
            continue
        if isinstance(node.op, Reduce):
            acc = _Acc(node, ctx)
            accs.append(acc)
            acc.elem = elem[acc.x]
            continue
        in_dts = [v.type.dtype for v in node.inputs]
        expr = scalar_expr(node.op.scalar_op, [elem[v] for v in node.inputs], in_dts,
                           out.type.dtype, inner, ctx)
        t = ctx.tmp("s")
        inner.append(f"{t} = {expr}")
        elem[out] = t
        if out in res_of:
            (stores if res_of[out] in into else inner).append(
                f"{element(res_of[out], out)[0]} = {t}")
    inner += stores
    if cols:
        from .colsum import column_sums
        before, steps, after = column_sums(cols, res_of, dims, idx[-1], accs, ctx)
        nest = _Nest(nd, dims, idx, touched, views, element, inner + steps, [], ctx)
        return lines + before + nest.serial() + after
    for acc in accs:
        acc.blk = ctx.tmp("b")
    nest = _Nest(nd, dims, idx, touched, views, element, inner, accs, ctx)
    lines += [f"{acc.total} = {acc.init}" for acc in accs]
    if not ctx.parallel:
        lines += nest.serial()
    else:
        ctx.uses_prange = True
        from .elemwise import PARALLEL_MIN_SIZE
        lines.append(f"if {' * '.join(dims)} >= {getattr(ctx, 'parallel_min', None) or PARALLEL_MIN_SIZE}:")
        lines += ["    " + ln for ln in nest.threaded()]
        lines.append("else:")
        lines += ["    " + ln for ln in nest.serial()]
    return lines + [f"{res_of[acc.out]} = {cast_expr(acc.total, acc.out.type.dtype)}"
                    for acc in accs]


class _Nest:
    """Writes the loop nest of ``emit_fused``, serial or threaded."""

    def __init__(self, nd, dims, idx, touched, views, element, inner, accs, ctx):
        self.nd, self.dims, self.idx = nd, dims, idx
        self.touched, self.views, self.element = touched, views, element
        self.inner, self.accs, self.ctx = inner, accs, ctx

    def _innermost(self, lo, hi, totals):
        """Lines looping the last axis over ``[lo, hi)``: views of that
        range, float32 block partials folded into ``totals``."""
        tmp, last = self.ctx.tmp, self.idx[-1]
        blocked = [a for a in self.accs if a.blocked]
        out = []
        if blocked:
            b0, b1 = tmp("b"), tmp("b")
            out.append(f"for {b0} in range({lo}, {hi}, {FUSED_SUM_BLOCK}):")
            out += [f"    {b1} = {b0} + {FUSED_SUM_BLOCK}", f"    {b1} = {_lesser(b1, hi)}"]
            body = self._views(b0, b1) + [f"{a.blk} = {a.blk_init}" for a in blocked]
            body += [f"for {last} in range({b1} - {b0}):"] + self._step_lines(totals)
            body += [f"{totals[a]} = {a.step(totals[a], cast_expr(a.blk, a.acc_dt))}"
                     for a in blocked]
            return out + ["    " + ln for ln in body]
        if lo == "0":
            out += self._views(None, None)
            return out + [f"for {last} in range({hi}):"] + self._step_lines(totals)
        out += self._views(lo, hi)
        return out + [f"for {last} in range({hi} - {lo}):"] + self._step_lines(totals)

    def _views(self, lo, hi):
        out = []
        for name, v in self.touched.items():
            if name not in self.views:
                continue
            sub = self.element(name, v)[1]
            rng = ":" if lo is None else f"{lo}:{hi}"
            if not sub and lo is None:
                out.append(f"{self.views[name]} = {name}")
            else:
                out.append(f"{self.views[name]} = {name}[{', '.join(sub + [rng])}]")
        return out

    def _step_lines(self, totals):
        body = list(self.inner)
        for a in self.accs:
            tgt = a.blk if a.blocked else totals[a]
            e = a.elem if a.blocked or a.x.type.dtype == a.acc_dt else cast_expr(a.elem, a.acc_dt)
            body.append(f"{tgt} = {a.step(tgt, e)}")
        return ["    " + ln for ln in body]

    def _outer(self, first, body):
        """``body`` inside loops over axes ``first .. nd-2``."""
        out = []
        for k in range(first, self.nd - 1):
            out.append("    " * (k - first) + f"for {self.idx[k]} in range({self.dims[k]}):")
        pad = "    " * (self.nd - 1 - first)
        return out + [pad + ln for ln in body]

    def serial(self):
        totals = {a: a.total for a in self.accs}
        return self._outer(0, self._innermost("0", self.dims[-1], totals))

    def threaded(self):
        """The outermost axis (1-d: chunks of it) as a ``prange``; each
        iteration's partial sums land in one array slot each."""
        tmp = self.ctx.tmp
        if self.nd == 1 and not self.accs:
            # no partials to keep: numba splits the elements itself (chunk
            # views measured 25% slower on a loop of one exp)
            return self._views(None, None) + [f"for {self.idx[0]} in nb.prange({self.dims[0]}):"] \
                + self._step_lines({})
        local = {a: tmp("a") for a in self.accs}
        parts = {a: tmp("p") for a in self.accs}
        if self.nd == 1:
            c, c0, c1, nc = tmp("c"), tmp("c"), tmp("c"), tmp("c")
            n = self.dims[0]
            out = [f"{nc} = ({n} + {PARALLEL_CHUNK - 1}) // {PARALLEL_CHUNK}"]
            body = [f"{c0} = {c} * {PARALLEL_CHUNK}", f"{c1} = {c0} + {PARALLEL_CHUNK}",
                    f"{c1} = {_lesser(c1, n)}"]
            body += [f"{local[a]} = {a.init}" for a in self.accs]
            body += self._innermost(c0, c1, local)
        else:
            c, nc = self.idx[0], self.dims[0]
            out = []
            body = [f"{local[a]} = {a.init}" for a in self.accs]
            body += self._outer(1, self._innermost("0", self.dims[-1], local))
        out += [f"{parts[a]} = np.empty({nc}, np.{a.acc_dt})" for a in self.accs]
        body += [f"{parts[a]}[{c}] = {local[a]}" for a in self.accs]
        out.append(f"for {c} in nb.prange({nc}):")
        out += ["    " + ln for ln in body]
        if self.accs:
            k = tmp("c")
            out.append(f"for {k} in range({nc}):")
            out += [f"    {a.total} = {a.step(a.total, f'{parts[a]}[{k}]')}" for a in self.accs]
        return out
