"""CUDA kernels for elementwise work: a ``Run`` of the plan (or one
``Elemwise`` node) becomes ONE ``cuda.jit`` kernel with a grid-stride loop
over the flat index of the broadcast output shape; ``DimShuffle`` is a
strided view.

The element expressions come from the shared table ``backend/scalar.py``;
``CudaSpelling`` writes its math functions as ``math.<name>`` (numba-cuda
maps them to libdevice; in the simulator ``math`` is bound to numpy's
functions, see ``runtime.namespace``).

Only the values a later step reads (or the graph returns) are written out;
the run's other results live in registers.
"""
import numpy as np

from ..registry import register_kernel
from ..scalar import Spelling, expression
from ...tensor.ops.elemwise import DimShuffle, Elemwise
from .memory import to_device, view
from .runtime import compile_kernel, launch

__all__ = ["CudaSpelling", "FusedKernel", "flat1", "contiguous", "is_c_contiguous",
           "copy_into", "broadcast_to"]

# numpy's names -> math's (libdevice's) where they differ
_MATH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
               "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2"}


class CudaSpelling(Spelling):
    """``math.<fn>`` calls; ``rint``, ``sign`` and ``exp2`` written out."""

    module = "np"     # casts: np.float32(x), which numba-cuda compiles too

    def fn(self, name, *args):
        if name == "rint":
            return f"_rint({args[0]})"
        if name == "sign":
            x = args[0]
            return f"(1 if {x} > 0 else (-1 if {x} < 0 else {x}))"
        if name == "exp2":
            return f"(2.0 ** {args[0]})"
        return f"math.{_MATH_NAMES.get(name, name)}({', '.join(args)})"


def scalar_source(scalar_op, args, in_dtypes, out_dtype, lines, fresh):
    """Source of ``scalar_op`` on element expressions ``args``; a composite
    program appends its steps to ``lines`` (its own ops are not composite)."""
    if scalar_op.name != "composite":
        return expression(scalar_op.name, args, in_dtypes, out_dtype, CudaSpelling())
    vals, dts = list(args), list(in_dtypes)
    for op, refs, dtype in scalar_op.program:
        if op.name == "composite":
            raise NotImplementedError("nested composite")
        t = fresh()
        expr = expression(op.name, [vals[r] for r in refs], [dts[r] for r in refs], dtype,
                          CudaSpelling())
        lines.append(f"{t} = {expr}")
        vals.append(t)
        dts.append(dtype)
    return vals[scalar_op.out]


def _literal(var):
    """Source of a one-element constant's value as a typed scalar, or None."""
    data = getattr(var, "data", None)
    if not isinstance(data, np.ndarray) or data.size != 1 or \
            getattr(var, "owner", 1) is not None:
        return None
    value, dtype = data.reshape(()).item(), str(data.dtype)
    if dtype == "bool":
        return repr(bool(value))
    if data.dtype.kind in "iu":
        return f"np.{dtype}({int(value)})"
    if data.dtype.kind != "f":
        return None
    text = "np.nan" if value != value else ("np.inf" if value == np.inf else
                                             "-np.inf" if value == -np.inf else repr(value))
    return f"np.{dtype}({text})"


def flat1(arr):
    """A 0-d device array as a 1-element vector (kernels read ``a[0]``)."""
    return view(arr, (1,), (arr.dtype.itemsize,))


class FusedKernel:
    """One kernel computing elementwise ``nodes`` (one loop domain) and
    writing ``outputs`` (see the module docstring)."""

    def __init__(self, nodes, outputs):
        self.nodes = list(nodes)
        produced = {n.outputs[0] for n in self.nodes}
        self.inputs = []
        self.literals = {}      # one-element constants, written into the kernel
        for n in self.nodes:
            for v in n.inputs:
                if v in produced or v in self.inputs or v in self.literals:
                    continue
                lit = _literal(v)
                if lit is not None:
                    self.literals[v] = lit
                else:
                    self.inputs.append(v)
        self.outputs = list(outputs)
        self.nd = self.nodes[0].outputs[0].type.ndim
        self.text = self._source()
        self.kernel = None

    def _source(self):
        nd, counter = self.nd, [0]

        def fresh():
            counter[0] += 1
            return f"_s{counter[0]}"
        idx = [f"j{k}" for k in range(nd)]
        dims = [f"d{k}" for k in range(nd)]
        a_names = {v: f"a{k}" for k, v in enumerate(self.inputs)}
        o_names = {v: f"o{k}" for k, v in enumerate(self.outputs)}
        body = ["    r = flat"]
        for k in range(nd - 1, 0, -1):
            body += [f"    {idx[k]} = r % {dims[k]}", f"    r = r // {dims[k]}"]
        body.append(f"    {idx[0] if nd else '_'} = r")
        elem = dict(self.literals)
        for v, name in a_names.items():
            if v.type.ndim == 0 or nd == 0:
                sub = "0"
            else:
                sub = ", ".join("0" if s == 1 else i for s, i in zip(v.type.shape, idx))
            t = fresh()
            body.append(f"    {t} = {name}[{sub}]")
            elem[v] = t
        for node in self.nodes:
            out = node.outputs[0]
            lines = []
            expr = scalar_source(node.op.scalar_op, [elem[v] for v in node.inputs],
                                 [v.type.dtype for v in node.inputs], out.type.dtype,
                                 lines, fresh)
            t = fresh()
            body += ["    " + ln for ln in lines] + [f"    {t} = {expr}"]
            elem[out] = t
        at = ", ".join(idx) if nd else "0"
        for v, name in o_names.items():
            body.append(f"    {name}[{at}] = {elem[v]}")
        args = ["n"] + dims + list(o_names.values()) + list(a_names.values())
        return "\n".join([
            "@cuda.jit",
            f"def kernel({', '.join(args)}):",
            "  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):",
        ] + ["  " + ln for ln in body]) + "\n"

    def shape(self, values):
        """The loop domain from the input values, checked as Theano's rule
        wants (only static-broadcastable axes broadcast)."""
        shape = [1] * self.nd
        known = [None] * self.nd
        for v in self.inputs:
            if v.type.ndim == 0:
                continue
            for axis, (s, size) in enumerate(zip(v.type.shape, values[v].shape)):
                if s == 1:
                    continue
                if known[axis] is None:
                    known[axis] = size
                    shape[axis] = size
                elif known[axis] != size:
                    shapes = ", ".join(str(tuple(values[i].shape)) for i in self.inputs)
                    raise ValueError(
                        f"{self.nodes[0].op}: input shapes {shapes} do not match along "
                        f"axis {axis} ({known[axis]} vs {size}); only axes declared "
                        f"broadcastable may broadcast")
        return tuple(shape)

    def __call__(self, values, alloc):
        """Launch over ``values`` (var -> value); returns {output var: array}."""
        if self.kernel is None:
            self.kernel = compile_kernel(self.text)
        shape = self.shape(values)
        n = int(np.prod(shape)) if shape else 1
        outs = {v: alloc(shape, v.type.dtype) for v in self.outputs}
        if n == 0:
            return outs
        args = [n] + list(shape)
        for v in self.outputs:
            args.append(outs[v] if self.nd else flat1(outs[v]))
        for v in self.inputs:
            a = to_device(values[v])
            args.append(flat1(a) if a.ndim == 0 else a)
        blocks, threads = launch(n)
        with np.errstate(all="ignore"):    # the simulator computes with numpy scalars
            self.kernel[blocks, threads](*args)
        return outs


def is_c_contiguous(arr):
    """Whether ``arr``'s strides are C order (size-1 axes ignored)."""
    expect = arr.dtype.itemsize
    for size, stride in zip(reversed(arr.shape), reversed(arr.strides)):
        if size != 1 and stride != expect:
            return False
        expect *= size
    return True


def _copy_text(nd, add=False):
    idx = [f"j{k}" for k in range(nd)]
    at = ", ".join(idx)
    value = f"dst[{at}] + src[{at}]" if add else f"src[{at}]"
    lines = ["@cuda.jit", "def kernel(n, dst, src):",
             "  for flat in range(cuda.grid(1), n, cuda.gridsize(1)):", "    r = flat"]
    for k in range(nd - 1, 0, -1):
        lines += [f"    j{k} = r % dst.shape[{k}]", f"    r = r // dst.shape[{k}]"]
    lines += ["    j0 = r", f"    dst[{at}] = {value}"]
    return "\n".join(lines) + "\n"


def copy_into(dst, src, add=False):
    """``dst[...] = src`` (``add``: ``dst[...] += src``) on the device; ``src``
    has ``dst``'s shape (a broadcast view where it broadcasts)."""
    n = int(np.prod(dst.shape)) if dst.ndim else 1
    d, s = (flat1(dst), flat1(src)) if dst.ndim == 0 else (dst, src)
    if n:
        blocks, threads = launch(n)
        compile_kernel(_copy_text(d.ndim, add))[blocks, threads](n, d, s)
    return dst


def broadcast_to(arr, shape):
    """A stride-0 view of ``arr`` broadcast to ``shape`` (numpy's rules)."""
    arr = to_device(arr)
    pad = len(shape) - arr.ndim
    strides = [0] * pad
    for size, want, stride in zip(arr.shape, shape[pad:], arr.strides):
        if size != want and size != 1:
            raise ValueError(f"cannot broadcast shape {tuple(arr.shape)} to {tuple(shape)}")
        strides.append(stride if size == want else 0)
    return view(arr, shape, strides)


def contiguous(arr, alloc):
    """``arr`` itself when C-contiguous, else a C-contiguous device copy."""
    if arr.ndim == 0 or is_c_contiguous(arr):
        return arr
    return copy_into(alloc(arr.shape, arr.dtype), arr)


@register_kernel("cuda", Elemwise)
def elemwise_impl(node, rt):
    fused = FusedKernel([node], node.outputs)

    def run(*vals):
        return [fused(dict(zip(node.inputs, vals)), rt.empty)[node.outputs[0]]]
    run.text = fused.text
    return run


@register_kernel("cuda", DimShuffle)
def dimshuffle_impl(node, rt):
    order = node.op.new_order
    kept = [d for d in order if d != "x"]
    dropped = [d for d in range(node.inputs[0].type.ndim) if d not in kept]

    def run(x):
        x = to_device(x)
        if any(x.shape[d] != 1 for d in dropped):
            raise ValueError(f"{node.op.short_name()}: cannot drop an axis of size != 1 "
                             f"from shape {tuple(x.shape)}")
        shape = tuple(1 if d == "x" else x.shape[d] for d in order)
        strides = tuple(0 if d == "x" else x.strides[d] for d in order)
        return [view(x, shape, strides)]
    return run
