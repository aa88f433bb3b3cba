"""One elementwise kernel as an LLVM function plus its Python wrapper.

``LoopKernel`` takes what the numba emitters take (``fused.emit_fused``
for a plan ``Run``, ``elemwise.elemwise_kernel`` for a single node): the
run's nodes, the names of its outside inputs, its results and the results
written into an argument.  It writes

* ``define void @<name>(ptrs..., scalars..., dims...)``: the loop nest over
  the run's domain, C order, every array C-contiguous, an axis of static
  size 1 read at index 0 (broadcast).  A value used only inside the run
  stays in a register.  Full sums/products accumulate as ``fused.py``'s do
  (float32 partials over blocks of ``FUSED_SUM_BLOCK`` elements of the last
  axis, each added into float64), column sums as ``colsum.py``'s (each row
  added in order into a float64 accumulator per column): the same rules,
  so sums agree with the numba kernels;
* the wrapper's source: the shape checks (the numba kernel's ValueError,
  word for word), the type checks the numba dispatcher does for a kernel
  (dtype, C-contiguous), ``np.empty`` for the results, the native call and
  the same return value as the numba kernel (an array, a scalar, a tuple).

The call: ctypes converting ``a.ctypes.data`` costs about 1 us per array
(2.6 us for a 3-pointer call against 0.5 us, measured), more than a small
kernel's work.  So where numpy's array struct has its data pointer where
its C headers put it (``PyArrayObject_fields``: right after the object
header, checked once per process against ``a.ctypes.data``), the wrapper
passes the arrays themselves (``py_object``) and the native function reads
the pointer (``by_object``); otherwise it passes ``a.ctypes.data``.  A
kernel whose arguments are all arrays (the usual case: scalars arrive
broadcast, as 1-element arrays) goes further: it is a CPython builtin
(``fastcall.py``, 0.8 us a call against numba's 1.2 us).

A large call (``split_min`` elements or more) of a ``splittable`` kernel
runs as chunks of axis 0 on the pool's threads (``loop_split.py``): the
wrapper hands the builtin and its arguments to ``split_plan()``'s
``Split``, which calls the builtin once per chunk with one more argument
(the chunk's partial sums); the entry then releases the GIL.

A member the subset of ``lower.py`` cannot express raises
``NotImplementedError``: the caller then lets numba compile the kernel.
"""
import sys

import numpy as np
from llvmlite import ir

from .fastcall import DATA_OFFSET, by_object
from .types import llvm_type

__all__ = ["LoopKernel"]

I64 = ir.IntType(64)
I8 = ir.IntType(8)

#: rows a matrix run with column sums computes before adding them into the
#: sums (``_col_sum_rows``)
COL_ROWS = 8


#: scalar functions costing several ns an element (a polynomial or a libm
#: call), against well under one for arithmetic
_HEAVY = frozenset(("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "tanh",
                    "sigmoid", "softplus", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                    "arctan2", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "pow", "erf",
                    "erfc", "erfinv", "gamma", "gammaln", "psi"))


def _mem_type(dtype):
    return I8 if dtype == "bool" else llvm_type(dtype)


class _Names:
    """The ``ctx`` that ``elemwise.scalar_expr`` asks for temporaries and
    lib helpers (``CpuSpelling``): the helpers are lowered by name."""

    def __init__(self):
        self.n = 0

    def tmp(self, prefix="t"):
        self.n += 1
        return f"_{prefix}{self.n}"

    def use_lib(self, module, name):
        return name


class LoopKernel:
    """See the module docstring.  ``elem_names``: outside input -> kernel
    argument name (``a0``...) or scalar literal text; ``arg_vars``: the
    argument variables in order; ``result_vars``/``results``: what the
    kernel returns, a result named like an argument is written into it."""

    def __init__(self, nodes, elem_names, arg_vars, result_vars, results, title):
        from ....tensor.ops.elemwise import Elemwise
        from ....tensor.ops.reduction import Reduce
        from ..reduction import _init
        self.nodes, self.title = nodes, title
        first = nodes[0].outputs[0]
        self.nd = nd = first.type.ndim
        if nd == 0:
            raise NotImplementedError("llvm emitter: 0-d loop")
        self.elem_names, self.arg_vars = elem_names, arg_vars
        self.args = [elem_names[v] for v in arg_vars]
        # the wrapper takes ``out=``: per result, a buffer to write it into
        # (codegen's ``llvm_dests``: a scan step's outputs)
        self.given = False
        self.result_vars, self.results = result_vars, results
        for v in arg_vars:
            if v.type.ndim not in (0, nd):
                raise NotImplementedError("llvm emitter: mixed ndims")
            llvm_type(v.type.dtype)
        self.accs, self.cols = [], []
        for node in nodes:
            out = node.outputs[0]
            llvm_type(out.type.dtype)
            if isinstance(node.op, Reduce):
                if node.op.kind not in ("sum", "prod"):
                    raise NotImplementedError("llvm emitter: reduction kind")
                x = node.inputs[0]
                odt = out.type.dtype
                if len(node.op.axis) < x.type.ndim:
                    if nd != 2 or node.op.axis != (0,) or odt not in ("float32", "float64"):
                        raise NotImplementedError("llvm emitter: partial reduction")
                    self.cols.append(node)
                else:
                    acc_dt = "float64" if odt == "float32" else odt
                    blocked = x.type.dtype == "float32" and acc_dt == "float64"
                    self.accs.append((node, acc_dt, blocked, _init(node.op.kind, acc_dt)))
            elif not isinstance(node.op, Elemwise):
                raise NotImplementedError("llvm emitter: not elementwise")
        if self.cols and self.accs:
            raise NotImplementedError("column sums with full sums")
        self.arrays = [(elem_names[v], v) for v in arg_vars if v.type.ndim == nd]
        self.dims = []       # per axis: None (static 1) or (source names)
        for axis in range(nd):
            src = [name for name, v in self.arrays if v.type.shape[axis] != 1]
            if not src:
                if first.type.shape[axis] != 1:
                    raise NotImplementedError("no input gives the size of this axis")
                self.dims.append(None)
            else:
                self.dims.append(list(dict.fromkeys(src)))

    @property
    def splittable(self):
        """Whether a call over a large domain may run in chunks of axis 0 on
        several threads (``loop_split.py``): a builtin call (``fast``), no
        column sums (their per-column order of rows would change), and an
        axis 0 whose size some input gives."""
        return self.fast and not self.cols and self.dims[0] is not None

    @property
    def split_min(self):
        """The domain size from which a call runs in chunks
        (``loop_split.min_size``, read when first asked: the function's
        compile), or None: never (not ``splittable``, or the split off)."""
        if not hasattr(self, "_split_min"):
            from ..loop_split import min_size
            n = min_size(self.heavy_ops()) if self.splittable else None
            self._split_min = n if n is not None and n < sys.maxsize else None
        return self._split_min

    def split_plan(self):
        """The ``loop_split.Split`` of this kernel's call: which call
        arguments are cut along axis 0, and its full sums' partials."""
        from ..fused import FUSED_SUM_BLOCK     # not at import (a graph-cache hit)
        from ..loop_split import Split
        fresh = [(v, r) for v, r in zip(self.result_vars, self.results) if r not in self.args]
        call_vars = list(self.arg_vars) + [v for v, _ in fresh]
        cut = [v.type.ndim == self.nd and v.type.shape[0] != 1 for v in call_vars]
        accs = [(len(self.args) + [v for v, _ in fresh].index(node.outputs[0]),
                 node.op.kind, acc_dt, init) for node, acc_dt, _, init in self.accs]
        align = 1 if self.nd > 1 else FUSED_SUM_BLOCK if any(a[2] for a in self.accs) else 16
        return Split(cut, accs, align, title=self.title)

    def heavy_ops(self):
        """How many exp/log/tanh-like functions one element computes (the
        split's threshold falls with them: ``loop_split.min_size``)."""
        from ....tensor.ops.elemwise import Composite, Elemwise
        n = 0
        for node in self.nodes:
            if not isinstance(node.op, Elemwise):
                continue
            op = node.op.scalar_op
            ops = [o for o, _, _ in op.program] if isinstance(op, Composite) else [op]
            n += sum(1 for o in ops if o.name in _HEAVY)
        return n

    # -- the wrapper -------------------------------------------------------------

    @property
    def fast(self):
        """Whether the kernel is called as a builtin (``fastcall.py``): every
        argument an array, and numpy's array struct as expected."""
        return by_object() and all(v.type.ndim for v in self.arg_vars)

    def wrapper(self, kname, fn_name, by_object=True):
        """Source lines of ``def kname(args)`` calling the native ``fn_name``
        (its builtin entry where ``fast``: the sizes are read natively)."""
        nd = self.nd
        given = self.given and any(r not in self.args and v.type.ndim > 0
                                   for v, r in zip(self.result_vars, self.results))
        params = list(self.args) + (["out=None"] if given else [])
        lines = [f"def {kname}({', '.join(params)}):", f"    # {self.title}"]
        checks = []
        for name, v in self.arrays:
            d = f"_d_{v.type.dtype}"
            checks.append(f"({name}.dtype is not {d} and {name}.dtype != {d})"
                          f" or not {name}.flags.c_contiguous")
        if checks:
            lines += ["    if " + " or ".join(checks) + ":",
                      f"        raise TypeError('{kname}: an array argument is not C-contiguous "
                      f"of its declared dtype')"]
        sizes = []
        for axis, src in enumerate(self.dims):
            if src is None:
                sizes.append("1")
                continue
            d = f"_n{axis}"
            sizes.append(d)
            lines.append(f"    {d} = {src[0]}.shape[{axis}]")
            if len(src) > 1:
                lines += ["    if " + " or ".join(f"{o}.shape[{axis}] != {d}" for o in src[1:])
                          + ":",
                          f"        raise ValueError('elemwise: input shapes do not match "
                          f"along axis {axis}')"]
        shape = "(" + ", ".join(sizes) + ("," if nd == 1 else "") + ")"
        ptrs, ret, allocs = [], [], []
        for j, (v, r) in enumerate(zip(self.result_vars, self.results)):
            if r in self.args:        # written into the argument
                ret.append(r)
                continue
            dt = v.type.dtype
            if v.type.ndim == 0:
                lines.append(f"    {r} = _np.empty(1, _np.{dt})")
                ret.append(f"{r}[0]")
                ptrs.append(r if by_object else f"{r}.ctypes.data")
                continue
            rshape = f"({sizes[-1]},)" if v.type.ndim == 1 and nd == 2 else shape  # column sum
            allocs.append((j, r, rshape, "bool_" if dt == "bool" else dt))
            ret.append(r)
            ptrs.append(r if by_object else f"{r}.ctypes.data")
        if given:       # a given buffer that fits is written into (codegen.into)
            lines.append("    if out is None:")
            lines += [f"        {r} = _np.empty({s}, _np.{dt})" for _, r, s, dt in allocs]
            lines.append("    else:")
            lines += [f"        {r} = _into(out[{j}], {s}, _np.{dt})" for j, r, s, dt in allocs]
        else:
            lines += [f"    {r} = _np.empty({s}, _np.{dt})" for _, r, s, dt in allocs]
        scratch = []
        for node in self.cols:
            if node.outputs[0].type.dtype != "float64":
                t = f"_w{len(scratch)}"
                lines.append(f"    {t} = _np.empty(({sizes[-1]},), _np.float64)")
                scratch.append(t if by_object else f"{t}.ctypes.data")
        call = []
        for name, v in zip(self.args, self.arg_vars):
            call.append(name if by_object or not v.type.ndim else f"{name}.ctypes.data")
        call += ptrs + scratch
        if not self.fast:
            call += [s for s, src in zip(sizes, self.dims) if src is not None]
        if self.split_min is not None:     # large domains in chunks (loop_split.py)
            size = " * ".join(s for s in sizes if s != "1")
            lines += [f"    if {size} >= {self.split_min}:",
                      f"        _{kname}_split.run({fn_name}, ({', '.join(call)},))",
                      "    else:",
                      f"        {fn_name}({', '.join(call)})"]
        else:
            lines.append(f"    {fn_name}({', '.join(call)})")
        lines.append(f"    return {ret[0]}" if len(ret) == 1 else f"    return ({', '.join(ret)})")
        return lines

    def ctypes_argtypes(self, by_object=True):
        """The ctypes types of the native function's parameters."""
        import ctypes
        arr = ctypes.py_object if by_object else ctypes.c_void_p
        ct = {"bool": ctypes.c_bool, "float32": ctypes.c_float, "float64": ctypes.c_double}
        out = []
        for v in self.arg_vars:
            dt = v.type.dtype
            out.append(arr if v.type.ndim else
                       ct.get(dt) or getattr(ctypes, f"c_{dt}"))
        n_out = sum(1 for r in self.results if r not in self.args)
        n_scratch = sum(1 for n in self.cols if n.outputs[0].type.dtype != "float64")
        out += [arr] * (n_out + n_scratch)
        out += [ctypes.c_int64] * sum(1 for s in self.dims if s is not None)
        return out

    # -- the IR ------------------------------------------------------------------

    #: not pickled (graph_cache.py): what ``define`` leaves behind while
    #: lowering (llvmlite objects, not the kernel's once its IR text exists),
    #: and ``split_min``'s answer (a hit asks this process's settings again)
    _LOWERING = ("fn", "b", "module", "dim_vals", "low", "ptr", "col_acc", "totals",
                 "_split_min")

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in self._LOWERING}

    def module_text(self, kname):
        """The IR of a module holding only this kernel, ``@<kname>_native``
        (``jit.bind`` links the modules of one graph into one)."""
        module = ir.Module(name=kname)
        if not self.fast:
            self.define(module, f"{kname}_native", by_object())
            return str(module)
        from .fastcall import define_entry
        partials = self.splittable and bool(self.accs)
        native = self.define(module, f"{kname}_loops", by_object=False, partials=partials)
        native.linkage = "internal"      # inlined into the entry
        n_ptr = sum(1 for t in native.function_type.args if isinstance(t, ir.PointerType))
        n_ptr -= partials
        dims = [(self.args.index(src[0]), axis) for axis, src in enumerate(self.dims)
                if src is not None]
        define_entry(module, native, f"{kname}_native", list(range(n_ptr)), dims,
                     chunk=partials if self.splittable else None)
        return str(module)

    def define(self, module, fn_name, by_object=True, partials=False):
        """Add ``@fn_name`` (the loop nest) to the llvmlite ``module``;
        ``by_object``: arrays come as numpy objects (see the module doc);
        ``partials``: a last ``i8* part`` parameter, null for a whole call;
        a chunk's call (``loop_split.py``) passes there where its full sums
        go, unrounded (the accumulator's type, 8 bytes apart), and leaves
        the sums' results alone."""
        params = []
        for v in self.arg_vars:
            t = _mem_type(v.type.dtype)
            params.append(t.as_pointer() if v.type.ndim else t)
        outs = [(v, r) for v, r in zip(self.result_vars, self.results) if r not in self.args]
        params += [_mem_type(v.type.dtype).as_pointer() for v, _ in outs]
        scratch = [n for n in self.cols if n.outputs[0].type.dtype != "float64"]
        params += [ir.DoubleType().as_pointer() for _ in scratch]
        n_dims = sum(1 for s in self.dims if s is not None)
        params += [I64] * n_dims + ([I8.as_pointer()] if partials else [])
        data_types = params
        if by_object:
            params = [I8.as_pointer() if isinstance(t, ir.PointerType) else t for t in params]
        fn = ir.Function(module, ir.FunctionType(ir.VoidType(), params), fn_name)
        # the parameters named as in the wrapper (a<k> arguments, r<k>
        # results, w<k> column-sum scratch, n<axis> sizes): the IR is read
        # beside the wrapper and the numba text (f.source, viz)
        pnames = list(self.args) + [r for _, r in outs] + \
            [f"w{k}" for k in range(len(scratch))] + \
            [f"n{axis}" for axis, src in enumerate(self.dims) if src is not None] + \
            (["part"] if partials else [])
        for a, nm in zip(fn.args, pnames):
            a.name = nm
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.fn, self.b, self.module = fn, b, module
        args = list(fn.args)
        if by_object:     # the data pointer of each array object
            for k, t in enumerate(data_types):
                if isinstance(t, ir.PointerType):
                    field = b.bitcast(b.gep(args[k], [ir.Constant(I64, DATA_OFFSET)]),
                                      t.as_pointer())
                    args[k] = b.load(field)
        ptr, env = {}, {}
        from .lower import Lowerer     # not needed where the IR is cached (hook.py)
        low = Lowerer(b, module)
        for k, (name, v) in enumerate(zip(self.args, self.arg_vars)):
            a = args[k]
            if v.type.ndim:
                ptr[name] = (a, v)
            else:
                val = b.icmp_unsigned("!=", a, ir.Constant(I8, 0)) \
                    if v.type.dtype == "bool" else a
                env[name] = (val, v.type.dtype)
        k = len(self.arg_vars)
        for v, r in outs:
            ptr[r] = (args[k], v)
            k += 1
        col_acc = {}
        for node in self.cols:
            if node.outputs[0].type.dtype == "float64":
                col_acc[node] = ptr[self.results[self.result_vars.index(node.outputs[0])]][0]
            else:
                col_acc[node] = args[k]
                k += 1
        part = args[-1] if partials else None
        dim_args = iter(args[k:len(args) - partials])
        dims = [ir.Constant(I64, 1) if s is None else next(dim_args) for s in self.dims]
        self.dim_vals = dims
        low.env.update(env)
        # literal scalars (constants written as text by codegen)
        for v, name in self.elem_names.items():
            if name not in self.args:
                low.env[f"_lit{id(v)}"] = low.value(name)
        self.low, self.ptr = low, ptr
        for node in self.cols:       # zero the column accumulators
            self._loop(dims[-1], lambda j, acc=col_acc[node]: b.store(
                ir.Constant(ir.DoubleType(), 0.0), b.gep(acc, [j], inbounds=True)))
        totals = {}
        for node, acc_dt, blocked, init in self.accs:
            slot = self._slot(llvm_type(acc_dt))
            b.store(low.cast(low.value(init), acc_dt), slot)
            totals[node] = slot
        self.col_acc, self.totals = col_acc, totals
        self._nest(0, [])
        for node in self.cols:       # cast the float64 column sums into their result
            out = node.outputs[0]
            if out.type.dtype == "float64":
                continue
            res = ptr[self.results[self.result_vars.index(out)]][0]
            acc = col_acc[node]
            self._loop(dims[-1], lambda j, res=res, acc=acc: b.store(
                b.fptrunc(b.load(b.gep(acc, [j], inbounds=True)), res.type.pointee),
                b.gep(res, [j], inbounds=True)))
        if part is not None and self.accs:
            whole = fn.append_basic_block("whole")
            chunk = fn.append_basic_block("chunk")
            b.cbranch(b.icmp_unsigned("==", part, ir.Constant(part.type, None)), whole, chunk)
            b.position_at_end(chunk)
            for k, (node, acc_dt, _, _) in enumerate(self.accs):
                p = b.gep(part, [ir.Constant(I64, 8 * k)], inbounds=True)
                b.store(b.load(totals[node]), b.bitcast(p, llvm_type(acc_dt).as_pointer()))
            b.ret_void()
            b.position_at_end(whole)
        for node, acc_dt, blocked, init in self.accs:
            out = node.outputs[0]
            r = self.results[self.result_vars.index(out)]
            val = low.cast((b.load(totals[node]), acc_dt), out.type.dtype)
            b.store(self._to_mem(val, out.type.dtype), ptr[r][0])
        b.ret_void()
        return fn

    def _slot(self, t, name="acc"):
        """A stack slot in the entry block (promoted to a register by LLVM)."""
        b = self.b
        with b.goto_entry_block():
            return b.alloca(t, name=name)

    def _to_mem(self, val, dtype):
        return self.b.zext(val, I8) if dtype == "bool" else val

    def _loop(self, n, body, start=None):
        """``for j in range(start or 0, n): body(j)`` at the builder's position."""
        b = self.b
        pre = b.block
        head = self.fn.append_basic_block("head")
        loop = self.fn.append_basic_block("body")
        done = self.fn.append_basic_block("done")
        b.branch(head)
        b.position_at_end(head)
        j = b.phi(I64, name="j")
        j.add_incoming(start if start is not None else ir.Constant(I64, 0), pre)
        b.cbranch(b.icmp_signed("<", j, n), loop, done)
        b.position_at_end(loop)
        body(j)
        j.add_incoming(b.add(j, ir.Constant(I64, 1)), b.block)
        b.branch(head)
        b.position_at_end(done)

    def _stride(self, v, axis):
        """Elements between consecutive indices of ``axis`` in ``v``."""
        s = ir.Constant(I64, 1)
        for m in range(axis + 1, self.nd):
            if v.type.shape[m] != 1:
                s = self.b.mul(s, self.dim_vals[m])
        return s

    def _nest(self, axis, idx):
        """The loops over axes ``axis .. nd-2`` around the innermost one."""
        if axis == 0 and self.nd == 2 and self._col_sources():
            self._col_sum_rows(self._col_sources())
            return
        if axis < self.nd - 1:
            self._loop(self.dim_vals[axis], lambda j: self._nest(axis + 1, idx + [j]))
            return
        b = self.b
        rows = self._rows(idx)
        n = self.dim_vals[-1]
        blocked = [(node, acc_dt) for node, acc_dt, bl, _ in self.accs if bl]
        if not blocked:
            self._loop(n, lambda j: self._element(rows, j, j, {}))
            return
        # imported here: a kernel read back from the graph cache (its IR
        # text cached too) is never lowered, and fused.py imports elemwise's
        from ..fused import FUSED_SUM_BLOCK
        blk = {node: self._slot(ir.FloatType(), "block_acc") for node, _ in blocked}
        step = ir.Constant(I64, FUSED_SUM_BLOCK)

        def block(b0):
            b1 = b.add(b0, step)
            b1 = b.select(b.icmp_signed("<", b1, n), b1, n)
            for node, _ in blocked:     # a product's partial starts at 1 (fused.py's blk_init)
                b.store(ir.Constant(ir.FloatType(), 1.0 if node.op.kind == "prod" else 0.0),
                        blk[node])
            self._loop(b1, lambda j: self._element(rows, j, j, blk), start=b0)
            for node, acc_dt in blocked:
                t = self.totals[node]
                s = b.fpext(b.load(blk[node]), ir.DoubleType())
                b.store(self._acc_step(node, b.load(t), s), t)
        # for b0 in range(0, n, FUSED_SUM_BLOCK)
        nb = b.sdiv(b.add(n, ir.Constant(I64, FUSED_SUM_BLOCK - 1)), step)
        self._loop(nb, lambda k: block(b.mul(k, step)))

    def _rows(self, idx):
        """Each array's pointer to the start of the innermost row at the
        outer indices ``idx``."""
        b = self.b
        rows = {}
        for name, (p, v) in self.ptr.items():
            if v.type.ndim != self.nd:     # a sum's result: not indexed by the nest
                continue
            off = ir.Constant(I64, 0)
            for k, j in enumerate(idx):
                if v.type.shape[k] != 1:
                    off = b.add(off, b.mul(j, self._stride(v, k)))
            rows[name] = b.gep(p, [off], inbounds=True)
        return rows

    def _col_sources(self):
        """``{column-sum node: the array its input is stored in}`` where every
        column sum sums a float array of the run's shape that is in memory
        once the row is computed (an argument or a result), else None."""
        if not self.cols:
            return None
        src = {}
        for node in self.cols:
            v = node.inputs[0]
            if v.type.dtype not in ("float32", "float64") or v.type.shape[0] == 1 \
                    or v.type.shape[-1] == 1:
                return None
            if v in self.result_vars:
                src[node] = self.results[self.result_vars.index(v)]
            elif self.elem_names.get(v) in self.ptr and self.elem_names[v] not in self.results:
                # (an argument the run writes in place holds the new values
                # by then; its sum must read the old: the one loop does)
                src[node] = self.elem_names[v]
            else:
                return None
        return src

    def _col_sum_rows(self, col_src):
        """The rows of a matrix run whose column sums read arrays
        (``_col_sources``), ``COL_ROWS`` at a time: each row's elements in
        a loop without the sums, at the float32 vector width, then one loop
        over the columns adding the rows just written (in L1) into each
        column's float64 accumulator, in row order, loading and storing it
        once for them all.  The sums are the one-loop kernel's bit for bit:
        each row added in turn, the adds without the reassociation flag.
        Why: one loop takes float64's width (4 lanes, not 8) for all its
        work and moves 16 bytes of accumulator per element; the relu
        gradient with its bias-gradient sum took 13.5 us at 64x500, 3x a
        plain relu.  The rows left over (``n0 % COL_ROWS``) go one at a
        time."""
        b, low = self.b, self.low
        n0, n1 = self.dim_vals
        groups = b.sdiv(n0, ir.Constant(I64, COL_ROWS))

        def rows_from(i0, count):
            row_ptrs = [self._rows([b.add(i0, ir.Constant(I64, r))]) for r in range(count)]
            for rows in row_ptrs:
                self._loop(n1, lambda j, rows=rows: self._element(rows, j, j, {}, cols=False))

            def column(j):
                for node, name in col_src.items():
                    dt = node.inputs[0].type.dtype
                    p = b.gep(self.col_acc[node], [j], inbounds=True)
                    acc = b.load(p)
                    for rows in row_ptrs:
                        x = b.load(b.gep(rows[name], [j], inbounds=True))
                        acc = b.fadd(acc, low.cast((x, dt), "float64"))
                    b.store(acc, p)
            self._loop(n1, column)

        self._loop(groups, lambda g: rows_from(b.mul(g, ir.Constant(I64, COL_ROWS)), COL_ROWS))
        self._loop(n0, lambda i: rows_from(i, 1), start=b.mul(groups, ir.Constant(I64, COL_ROWS)))

    def _acc_step(self, node, acc, x):
        f = self.b.fadd if node.op.kind == "sum" else self.b.fmul
        if isinstance(acc.type, (ir.FloatType, ir.DoubleType)):
            return self.low._flag(f(acc, x))
        return (self.b.add if node.op.kind == "sum" else self.b.mul)(acc, x)

    def _element(self, rows, j, col, blk, cols=True):
        """One element: load the inputs, compute the members, store the
        results and add into the sums (the column sums only with ``cols``;
        else ``_col_sum_rows`` adds them in a loop of their own)."""
        from ..elemwise import scalar_expr
        from ....tensor.ops.reduction import Reduce
        b, low = self.b, self.low
        val = {}
        for v, name in self.elem_names.items():
            if name in self.ptr:
                p, _ = self.ptr[name]
                x = b.load(rows[name] if v.type.shape[-1] == 1 else
                           b.gep(rows[name], [j], inbounds=True), name=f"{name}_j")
                if v.type.dtype == "bool":
                    x = b.icmp_unsigned("!=", x, ir.Constant(I8, 0))
                val[v] = (x, v.type.dtype)
            elif name in low.env:
                val[v] = low.env[name]
            else:
                val[v] = low.env[f"_lit{id(v)}"]
        names = _Names()
        stores = []
        for node in self.nodes:
            out = node.outputs[0]
            if isinstance(node.op, Reduce):
                x, xdt = val[node.inputs[0]]
                if node in self.col_acc:
                    if not cols:
                        continue
                    p = b.gep(self.col_acc[node], [col], inbounds=True)
                    b.store(low._flag(b.fadd(b.load(p), low.cast((x, xdt), "float64"))), p)
                    continue
                _, acc_dt, blocked, _ = next(a for a in self.accs if a[0] is node)
                slot = blk[node] if blocked else self.totals[node]
                e = x if blocked else low.cast((x, xdt), acc_dt)
                b.store(self._acc_step(node, b.load(slot), e), slot)
                continue
            env_names = []
            for v in node.inputs:
                nm = f"_in{len(low.env)}"
                low.env[nm] = val[v]
                env_names.append(nm)
            lines = []
            expr = scalar_expr(node.op.scalar_op, env_names, [v.type.dtype for v in node.inputs],
                               out.type.dtype, lines, names)
            low.lines(lines)
            x = low.cast(low.value(expr), out.type.dtype)
            val[out] = (x, out.type.dtype)
            if out in self.result_vars:
                r = self.results[self.result_vars.index(out)]
                stores.append((self._to_mem(x, out.type.dtype),
                               b.gep(rows[r], [j], inbounds=True)))
        for x, p in stores:
            b.store(x, p)


def np_dtype_names(kernels):
    """``{_d_<dtype>: np.dtype}`` for the wrappers' dtype checks."""
    out = {}
    for k in kernels:
        for _, v in k.arrays:
            out[f"_d_{v.type.dtype}"] = np.dtype(v.type.dtype)
    return out
