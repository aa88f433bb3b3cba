"""Source generation of the numba backend: a plan in, Python source out.

``generate(plan, mode)`` walks the steps of a ``backend.plan.Plan`` and
gives every node one of three implementations:

*kernel*
    The node's numba kernel (registered per op class under ``'numba'`` by
    the family modules, see ``dispatch.py``) writes a few lines of source;
    ``kernel_text`` wraps them in one small ``@nb.njit`` function with an
    explicit signature (C-contiguous arrays).  Its source uses
    position-independent names (arguments ``a0, a1, ...``, results
    ``r0, ...``, scalar constants as literals), so the same op on the same
    types gives the same text wherever it occurs: one cached module per
    distinct text (``cache.py``).  A ``Run`` of the plan becomes ONE such
    kernel (``fused.emit_fused``).
*driver op*
    Ops numba cannot speed up (``Dot`` is BLAS either way; reshapes,
    transposes, slices are views) are numpy lines in the driver
    (``dispatch.driver_op``).  A template says whether its result is known
    C-contiguous, so the driver copies (``_C``) only where a kernel needs it.
*fallback*
    A node with neither (or whose kernel declines the case) runs its
    ``Op.perform`` in the driver and ``warn_fallback`` says so once.

The *driver* ``make_run`` is plain Python with a ``# node k: ...`` comment
above each call (``Source.node_lines`` maps its lines back to the nodes, so
a run-time error names the node).  Inside a kernel a 0-d tensor is a numba
scalar; in the driver it is a numpy scalar or a 0-d array.  Constants bigger
than a scalar are kernel arguments, never globals.

Helpers a kernel calls live in real modules under ``lib/``; a kernel records
them with ``ctx.use_lib`` and its cached module imports them.  ``f.source``
(``Source.listing``) is one standalone module: the lib bodies, the distinct
kernels, then the driver; ``symnet.export`` writes it out.
"""
import hashlib
import os

import numpy as np

from ...compile.sharedvalue import SharedVariable
from ...graph.basic import Constant
from ..registry import kernel_for, warn_fallback
from ..plan import Run
from ..tail_order import static_size
from . import step_pool, threads
from .step_pool import DRIVER_LINES as _POOL

__all__ = ["generate", "Source", "Ctx", "nb_type", "literal", "is_tensor", "kernel_module",
           "into", "FASTMATH", "SUPPORTED_DTYPES", "KERNEL_HEAD", "DRIVER_FILE"]

# NaN/Inf keep their IEEE meaning: no 'nnan' or 'ninf'.
FASTMATH = ("afn", "arcp", "contract", "nsz", "reassoc")
SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                    "uint32", "uint64", "float32", "float64", "complex64", "complex128")
_NB_NAMES = {"bool": "nb.boolean"}
# the file name the driver is compiled under (tracebacks find it by this)
DRIVER_FILE = "<symnet numba driver>"
_LIB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")
_LIB_PACKAGE = __package__ + ".lib"


def nb_type(var, readonly=False):
    """Source text of the numba type of a kernel argument holding ``var``
    (``readonly`` unless the kernel writes into it: users may pass
    read-only arrays)."""
    t = var.type
    scalar = _NB_NAMES.get(t.dtype, f"nb.{t.dtype}")
    if t.ndim == 0:
        return scalar
    ro = ", readonly=True" if readonly else ""
    return f"nb.types.Array({scalar}, {t.ndim}, 'C'{ro})"


def literal(value, dtype):
    """Source text of a numba scalar literal of ``dtype`` (or None)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return "True" if bool(value) else "False"
    if kind in "iu":
        return f"np.{dtype}({int(value)})"
    if kind == "f":
        v = float(value)
        if np.isnan(v):
            text = "np.nan"
        elif np.isinf(v):
            text = "np.inf" if v > 0 else "-np.inf"
        else:
            text = repr(v)
        return f"np.{dtype}({text})"
    return None


def is_tensor(var):
    """Whether the numba loops handle ``var`` (a tensor of a supported dtype)."""
    t = var.type
    return hasattr(t, "dtype") and hasattr(t, "ndim") and hasattr(t, "shape") \
        and t.dtype in SUPPORTED_DTYPES


def _scalar_ctor(dtype):
    return "_np.bool_" if dtype == "bool" else f"_np.{dtype}"


class Ctx:
    """What a kernel may ask while emitting source for one node."""

    def __init__(self, protected, parallel=False):
        self._protected = protected
        self._n = 0
        self.destroyed = set()
        self.parallel = parallel      # the mode asks for prange loops
        self.parallel_min = None      # elements from which they run (None: PARALLEL_MIN_SIZE)
        self.uses_prange = False      # this kernel has one (compiled parallel=True)
        self.libs = {}                # lib module -> names the kernel calls

    def tmp(self, prefix="t"):
        """A fresh local name."""
        self._n += 1
        return f"_{prefix}{self._n}"

    def can_destroy(self, var):
        """Whether a kernel may write into ``var``'s buffer (never inputs,
        shared values, constants, outputs or views of them: the plan's
        ``protected``).  A kernel asks only when it means to write, so a yes
        marks the argument writable."""
        ok = var not in self._protected
        if ok:
            self.destroyed.add(var)
        return ok

    def use_lib(self, module, name):
        """The kernel calls ``name`` from ``lib/<module>.py``; returns ``name``."""
        self.libs.setdefault(module, set()).add(name)
        return name


def _arg_name(nm):
    return nm.isidentifier() and nm not in ("True", "False")


def _tuple(items):
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def kernel_text(node, lines, args, arg_vars, results, ctx, title=None):
    """The position-independent source of one kernel (named ``kernel``)."""
    sig = ", ".join(nb_type(v, v not in ctx.destroyed) for v in arg_vars)
    par = "parallel=True, " if ctx.uses_prange else ""
    out = [f"@nb.njit(({sig}{',' if len(arg_vars) == 1 else ''}), {par}**_FLAGS)",
           f"def kernel({', '.join(args)}):",
           f"    # {title or node.op.short_name()}"]
    out += [f"    {ln}" for ln in lines]
    out.append(f"    return {results[0]}" if len(results) == 1
               else f"    return {_tuple(results)}")
    return "\n".join(out) + "\n"


def _fastmath_text():
    return "{" + ", ".join(repr(f) for f in FASTMATH) + "}"


def lib_source(module):
    """The text of ``lib/<module>.py``."""
    with open(os.path.join(_LIB_DIR, module + ".py"), encoding="utf-8") as fh:
        return fh.read()


def _lib_body(module):
    text = lib_source(module)
    mark = "# -- body (inlined by f.source)\n"
    return text[text.index(mark) + len(mark):] if mark in text else text


KERNEL_HEAD = '''"""One kernel of symnet's numba backend (shared by every graph using it)."""
import numpy as np
import numba as nb

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", no_cfunc_wrapper=True,
              fastmath={fastmath})


'''


def kernel_module(text, libs=None):
    """The source of the cached module holding the kernel ``text``; ``libs``
    (module -> names) become imports, each with a hash of the lib's text
    so a changed helper gives the kernel a new cache key."""
    parts = [KERNEL_HEAD.format(fastmath=_fastmath_text())]
    for module in sorted(libs or {}):
        digest = hashlib.sha256(lib_source(module).encode()).hexdigest()[:16]
        names = ", ".join(sorted(libs[module]))
        parts.append(f"from {_LIB_PACKAGE}.{module} import {names}  # noqa: F401 "
                     f"(lib {digest})\n\n\n")
    parts.append(text)
    return "".join(parts)


_MODULE_HEAD = '''"""Generated by symnet's numba backend: one graph, compiled by numba.

``k*`` are the compiled kernels (0-d tensors are scalars inside them);
``make_run`` builds the driver that calls them in order.
"""
import numpy as np
import numpy as _np
import numba as nb

_C = _np.ascontiguousarray
_FLAGS = dict(cache=True, nogil=True, error_model="numpy", no_cfunc_wrapper=True,
              fastmath={fastmath})

'''


class Source:
    """What ``generate`` produces for one plan.

    ``kernels``: kernel text -> local name (``k0``, ...); ``kernel_libs``:
    local name -> {lib module: names}; ``driver``: the source of
    ``make_run(consts, perform, recover)``; ``consts``: the values passed to
    it; ``names``: variable -> driver name; ``kinds``: node -> "kernel",
    "driver" or "perform"; ``node_lines``: (first driver line, node) pairs,
    ascending; ``fallback_nodes``: nodes running ``perform``; ``steps``: the
    driver's steps (see ``_Writer.mark``); ``direct_kernels``: the numba
    kernels the driver may call through their compiled entry point, without
    numba's type dispatch (``_Writer.register``); ``given``: the positions
    of the outputs that ``run(..., _o=buffers)`` may write straight into
    the buffers given for them (a scan step's, ``_Writer.dest``)."""

    def __init__(self):
        self.kernels = {}
        self.kernel_libs = {}
        self.kernel_ops = {}
        self.llvm_kernels = {}     # llvm kernel name -> llvm.kernel.LoopKernel
        self.llvm_names = {}       # the numba text it stands for -> its name
        self.consts = []
        self.names = {}
        self.kinds = {}
        self.node_lines = []
        self.fallback_nodes = []
        # one entry per driver step, (nodes, result variables, kind, kernel
        # name, driver line), for ``symnet.compile.instrument``
        self.steps = []
        self.driver = ""
        self.body, self.in_names, self.out_names = [], [], []
        self.appendix = []      # commented text listed after the driver (Scan's inner graphs)
        self.uses_owned = False   # the driver calls ``_owned`` (in-place updates)
        self.direct_kernels = set()
        self.given = ()

    def listing(self):
        """``f.source``: a standalone module (header, libs, kernels, driver)."""
        parts = [_MODULE_HEAD.format(fastmath=_fastmath_text())]
        libs = sorted({m for used in self.kernel_libs.values() for m in used})
        for module in libs:
            parts.append(f"# -- {_LIB_PACKAGE}.{module} (inlined)\n" + _lib_body(module)
                         + "\n")
        for text, kname in self.kernels.items():
            parts.append(text.replace("def kernel(", f"def {kname}(", 1) + "\n")
        for text, kname in self.llvm_names.items():
            # an llvm kernel's numba equivalent (what the default emitter
            # compiles): the listing stays one standalone module (export)
            parts.append(f"# {kname}: built by the llvm emitter; its numba equivalent:\n"
                         + text.replace("def kernel(", f"def {kname}(", 1) + "\n")
        if self.llvm_kernels:     # the llvm emitter's wrappers (llvm/hook.py)
            parts.append(self.llvm_listing(self.llvm_kernels))
        if self.uses_owned:
            from .inplace import owned_source
            parts.append(owned_source() + "\n")
        parts.append(self.driver)
        parts.extend(self.appendix)
        return "\n".join(parts)

    def node_at(self, lineno):
        """The node whose driver code holds line ``lineno`` (or None)."""
        found = None
        for first, node in self.node_lines:
            if first > lineno:
                break
            found = node
        return found


def into(dest, shape, dtype):
    """Where a result of ``shape`` and ``dtype`` is written: ``dest``, a
    buffer the caller gave (``Source.given``), when it fits (C-contiguous,
    writeable, that shape and dtype), else a new array.  The caller finds
    out by identity whether its buffer was used: a step returning another
    shape than its state then reaches the Scan driver's own error."""
    if dest is not None and dest.shape == shape and dest.dtype == dtype:
        flags = dest.flags
        if flags.c_contiguous and flags.writeable:
            return dest
    return np.empty(shape, dtype)


def generate(plan, mode=None, llvm=None, split=False):
    """The ``Source`` of ``plan`` (see the module docstring); ``llvm``: the
    llvm emitter's hook module (``llvm/hook.py``), which may build the
    elementwise kernels instead of numba when the mode asks for it;
    ``split``: products and large updates split over the step's pool
    (``gemm_split.py``)."""
    return _Writer(plan, mode, llvm, split).write()


class _Writer:
    """Writes the driver and kernels of one plan (state of one generation)."""

    def __init__(self, plan, mode, llvm=None, split=False):
        self.plan = plan
        self.fg = plan.fgraph
        self.mode = mode
        self.parallel = threads.policy(mode)     # see threads.py
        # an op splits its work over the step's pool: the driver holds numpy's
        # BLAS at one thread throughout and splits Dot too (step_pool.py)
        self.pool = step_pool.uses_pool(plan.order)
        # else a training step with large products may split them over the
        # same pool, BLAS held at one, and run its large update loops in row
        # blocks there (the linker asks gemm_split.chosen)
        self.split = split and not self.pool
        self.tail_rows = None      # see fused_call
        self.src = Source()
        self.names = self.src.names
        self.contig = set()     # driver names known to hold C-contiguous arrays
        self.scalars = set()    # driver names known to hold scalars (no ``[()]``)
        # names holding a kernel's scalar result as numba returned it, a
        # Python scalar: made a numpy scalar (``typed_lines``) or a 0-d array
        # (``value``) only where numpy code reads it; kernels take it as is
        self.raw = {}           # name -> dtype
        # names of arrays whose dtype, rank and C order the driver knows,
        # whatever the caller passed (``trust_input`` checks nothing): kernel
        # results, constants, shared values (see ``register``)
        self.typed = set()
        self.checked = set()    # kernels some call of which needs numba's dispatch
        self.drv = []           # driver body lines
        # node -> the index in ``drv`` of its last line (``emit_node``), and a
        # pool step's products -> (their line, the line computing them lazily
        # instead) (``blas.dot_driver``): ``inplace._lazy_products`` may swap
        # the second in
        self.line_at, self.lazy_lines = {}, {}
        self.counter = 0
        # the NaN guard, DebugMode and the profiler ask the driver to report
        # every step's results to ``_step``; without them no line is added
        self.hooked = getattr(mode, "step_hooks", False)
        # the llvm emitter's hook (llvm/hook.py) when it builds this graph's
        # elementwise kernels
        self.llvm = llvm if llvm is not None and llvm.enabled(mode, self.parallel) else None
        if self.llvm is not None:
            self.src.llvm_listing = llvm.listing
        # a scan step's outputs, by position, that its kernels may write into
        # the loop's own buffers (``dest``): the Scan driver then stores
        # nothing.  Only llvm kernels and joins take a buffer, and a hooked
        # driver (DebugMode, profiles) may wrap the kernels it calls.
        self.given, self.used_given = {}, set()
        # an output that is a step value with leading broadcast axes added
        # (BPTT's states, ``g[None]``): ``g`` goes into the given buffer's
        # entry, and the output is then the buffer itself (``emit_node``)
        self.lifted, self.lifted_out = {}, {}
        if getattr(mode, "scan_step", False) and self.llvm is not None and not self.hooked:
            from ...tensor.ops.elemwise import DimShuffle
            inputs = set(self.fg.inputs)
            for k, v in enumerate(self.fg.outputs):
                if v.owner is not None and v not in inputs and is_tensor(v) and v.type.ndim:
                    self.given.setdefault(v, k)
            for v, k in list(self.given.items()):
                node = v.owner
                if not isinstance(node.op, DimShuffle):
                    continue
                u = node.inputs[0]
                p = v.type.ndim - u.type.ndim
                if p > 0 and node.op.new_order == ("x",) * p + tuple(range(u.type.ndim)) \
                        and u.owner is not None and u not in self.given \
                        and len(self.fg.clients.get(u, ())) == 1:
                    self.lifted[u] = (k, p)

    # -- names ----------------------------------------------------------------

    def name_of(self, v):
        names = self.names
        if v in names:
            return names[v]
        if isinstance(v, Constant) and not is_tensor(v):
            names[v] = self.object_const(v.data)   # a Python object (a Generic str)
            return names[v]
        if isinstance(v, Constant):
            data = np.asarray(v.data)
            if is_tensor(v) and data.ndim == 0:
                lit = literal(data, v.type.dtype)
                if lit is not None:
                    names[v] = lit
                    return lit
            consts = self.src.consts
            nm = f"c{len(consts)}"
            names[v] = nm
            consts.append(np.ascontiguousarray(data) if data.ndim else data)
            if data.ndim:
                self.contig.add(nm)
                self.typed.add(nm)
            return nm
        raise KeyError(v)

    def object_const(self, obj):
        """The driver name of a Python object the driver calls (a Scan's
        compiled inner graph): passed in with the constants."""
        consts = self.src.consts
        consts.append(obj)
        return f"c{len(consts) - 1}"

    def dest(self, v):
        """The driver expression of the buffer the caller may give for the
        output ``v`` (``_o[k]``, possibly None at run time; see ``into``), or
        None when ``v`` gets none."""
        k = self.given.get(v)
        if k is not None:
            self.used_given.add(k)
            return f"_o[{k}]"
        if v not in self.lifted:
            return None
        k, p = self.lifted[v]
        self.used_given.add(k)
        self.lifted_out[v] = k
        entry = ", ".join(["0"] * p)
        return f"(_og{k} := (_o[{k}][{entry}] if _o[{k}] is not None else None))"

    def llvm_dests(self, kname, result_vars):
        """``out=(...)`` for the call of llvm kernel ``kname`` computing
        ``result_vars`` when some of them are given outputs (``dest``), else
        None; a result written into an argument takes none."""
        kernel = self.src.llvm_kernels.get(kname)
        if kernel is None or not self.given:
            return None
        # a 0-d result is returned as a scalar: it has no buffer to write into
        dests = [None if r in kernel.args or v.type.ndim == 0 else self.dest(v)
                 for v, r in zip(result_vars, kernel.results)]
        if not any(dests):
            return None
        kernel.given = True
        return f"out={_tuple([d or 'None' for d in dests])}"

    def value(self, v):
        """Driver expression of ``v`` for numpy code, perform and outputs."""
        nm = self.names[v]
        if nm in self.raw:
            return f"_np.asarray({nm}, {_scalar_ctor(self.raw[nm])})"
        if not is_tensor(v):
            return nm     # a Python object (a Generic input): passed as it is
        if not _arg_name(nm) or (v.type.ndim == 0 and nm[0] != "i"):
            return f"_np.asarray({nm})"   # numpy scalars become 0-d arrays
        return nm

    def new_names(self, node):
        outs = []
        for v in node.outputs:
            self.counter += 1
            self.names[v] = f"v{self.counter}"
            outs.append(self.names[v])
        return outs

    def arg(self, v, nm):
        """Driver expression passing ``v`` (named ``nm``) to a kernel."""
        if v.type.ndim == 0:
            return nm if nm in self.scalars else f"{nm}[()]"
        return nm if nm in self.contig else f"_C({nm})"

    def exact_args(self, arg_vars):
        """Whether a kernel may take ``arg_vars`` through its entry point,
        which converts scalars as numba's dispatch does but unboxes arrays
        without checking their dtype, rank or order: scalars, and arrays
        the driver knows (``typed``), passed C-contiguous (``arg``)."""
        return all(v.type.ndim == 0 or self.names[v] in self.typed for v in arg_vars)

    def typed_lines(self, names):
        """Lines making the raw scalars among ``names`` numpy scalars of
        their dtype, for numpy code that reads them (a Python float would
        change its result dtype)."""
        lines = []
        for nm in dict.fromkeys(names):
            dtype = self.raw.pop(nm, None)
            if dtype is not None:
                lines.append(f"{nm} = {_scalar_ctor(dtype)}({nm})")
        return lines

    def mark(self, nodes, out_vars, kind, line, kname=None):
        """Record one driver step (with ``step_hooks``, report it to ``_step``)."""
        steps = self.src.steps
        steps.append((nodes, out_vars, kind, kname, line.strip()))
        if self.hooked:
            self.drv.append(f"_step({len(steps) - 1}, "
                            f"{_tuple([self.names[v] for v in out_vars])})")

    def header(self, node, text):
        self.src.node_lines.append((len(self.drv), node))
        self.drv.append(text)

    # -- steps ----------------------------------------------------------------

    def write(self):
        fg, src = self.fg, self.src
        for k, v in enumerate(fg.inputs):
            self.names[v] = f"i{k}"
            if isinstance(v, SharedVariable) and getattr(v.type, "ndim", 0):
                self.typed.add(f"i{k}")     # set_value checked it (passed through _C)
        tail = self.plan.tail
        for step in self.plan.steps[: len(self.plan.steps) - len(tail)]:
            if isinstance(step, Run):
                self.emit_run(step)
            else:
                self.emit_node(step)
        if tail:    # updates written into the shared storage (inplace.py)
            from .inplace import emit_tail
            emit_tail(self, tail)
            src.uses_owned = True
        for v in fg.outputs:   # outputs that are constants need a name too
            self.name_of(v)
        in_names = ", ".join(self.names[v] for v in fg.inputs)
        src.given = tuple(sorted(self.used_given))
        if src.given:       # the buffers given for the outputs (``dest``)
            in_names += (", " if in_names else "") + "_o=_NO"
        ret = ", ".join(self.value(v) for v in fg.outputs)
        n = len(src.consts)
        consts = ", ".join(f"c{k}" for k in range(n))
        driver = [
            "def make_run(consts, perform, recover):",
            "    \"\"\"The driver: ``run(*inputs, *shared) -> [outputs..., updates...]``.\"\"\"",
            f"    {consts}{',' if n == 1 else ''} = consts" if n else "    del consts",
            *([f"    _NO = {_tuple(['None'] * len(fg.outputs))}"] if src.given else []),
            *_POOL[:1 if self.pool else 0],
            "",
            f"    def run({in_names}):",
            *_POOL[1:2 if self.pool else 1],
            "        try:",
        ]
        offset = len(driver) + 1      # line numbers start at 1
        src.node_lines = [(first + offset, node) for first, node in src.node_lines]
        driver += ["            " + ln for ln in self.drv]
        driver += [f"            return [{ret}]",
                   "        except Exception as exc:",
                   f"            return recover(exc, {_tuple([self.names[v] for v in fg.inputs])})",
                   *(_POOL[2:] if self.pool else ()), "    return run", ""]
        src.driver = "\n".join(driver)
        # what ``njit_driver`` needs to write the same body as one njit function
        src.body = list(self.drv)
        src.in_names = [self.names[v] for v in fg.inputs]
        src.out_names = [self.names[v] for v in fg.outputs]
        src.direct_kernels = set(src.kernels.values()) - self.checked
        return src

    def emit_node(self, node):
        k = self.plan.position[node]
        ins = [self.name_of(v) for v in node.inputs]
        outs = self.new_names(node)
        head = f"# node {k}: {node.op.short_name()}({', '.join(ins)}) -> {', '.join(outs)}"
        lines = None
        kernel = kernel_for("numba", type(node.op))
        if not getattr(kernel, "objects_ok", False) and \
                not all(is_tensor(v) for v in node.inputs + node.outputs):
            kernel = None   # numba's loops take tensors only
        template = kernel is not None and getattr(kernel, "driver_template", False)
        if template:
            lines = self.driver_op(kernel, node, ins, outs)
        elif kernel is not None:
            lines = self.kernel_call(kernel, node, ins, outs)
            # a kernel covering the common cases may name a driver template
            # (whole-array numpy lines) for the cases it declines
            other = getattr(kernel, "driver_cases", None)
            if lines is None and other is not None:
                lines = self.driver_op(other, node, ins, outs)
                template = lines is not None
        if lines is None:
            self.src.kinds[node] = "perform"
            warn_fallback("numba", node.op)
            self.src.fallback_nodes.append(node)
            vals = [self.value(v) for v in node.inputs]
            self.header(node, f"{head}  (Python perform)")
            self.drv.append(f"{', '.join(outs)}, = perform({k}, {_tuple(vals)})")
            self.mark([node], node.outputs, "perform", self.drv[-1])
            return
        kind = self.src.kinds[node] = "driver" if template else "kernel"
        self.header(node, head)
        self.drv.extend(lines)
        self.line_at[node] = len(self.drv) - 1
        u = node.inputs[0] if node.inputs else None
        if template and u in self.lifted_out and self.given.get(node.outputs[0]) is not None:
            # its value was written into the given buffer's entry: the output
            # is that buffer (the Scan driver then stores nothing)
            k = self.lifted_out[u]
            self.drv.append(f"{outs[0]} = _o[{k}] if {ins[0]} is _og{k} else {outs[0]}")
        line = lines[0] if lines else head
        kname = line.split("= ", 1)[-1].split("(", 1)[0] if kind == "kernel" else None
        self.mark([node], node.outputs, kind, line, kname)

    def emit_run(self, run):
        for node in run.hoisted:
            self.emit_node(node)
        from .colsum import inplace_into     # a run with a bias gradient (colsum.py)
        lines = self.fused_call(run, into=inplace_into(run, self.plan.protected))
        if lines is None:        # a member the fused loop cannot express
            for node in run.nodes:
                self.emit_node(node)

    def driver_op(self, template, node, ins, outs):
        try:
            if getattr(template, "takes_writer", False):   # e.g. Scan: see scan.py
                lines, is_contig = template(node, ins, outs, self)
            else:
                lines, is_contig = template(node, ins, outs)
        except NotImplementedError:
            return None
        lines = self.typed_lines(ins) + lines
        if is_contig == "scalar":  # a numpy scalar (no ``[()]`` to pass it on)
            self.scalars.update(outs)
            return lines
        if is_contig == "input":   # a view that keeps its input's layout
            is_contig = ins[0] in self.contig
        if is_contig:
            self.contig.update(outs)
        return lines

    def register(self, text, ctx, op_text, llvm=None, exact=False):
        """The local name of the kernel ``text`` (a new one if unseen);
        under the llvm emitter ``llvm()`` may build it instead of numba.
        ``exact``: this call passes arguments of exactly the kernel's
        types (``exact_args``); a numba kernel all of whose calls do is
        called through its compiled entry point (``direct_kernels``),
        which skips numba's type dispatch (half a microsecond a call)."""
        if self.llvm is not None and llvm:
            kname = self.llvm.register(self.src, text, llvm)
            if kname is not None:
                self.src.kernel_libs.setdefault(
                    kname, {m: set(n) for m, n in ctx.libs.items()})   # for the listing
                return kname
        kernels = self.src.kernels
        kname = kernels.get(text)
        if kname is None:
            kname = kernels[text] = f"k{len(kernels)}"
            self.src.kernel_ops[kname] = op_text
            self.src.kernel_libs[kname] = {m: set(n) for m, n in ctx.libs.items()}
        if not exact:
            self.checked.add(kname)
        return kname

    def call_lines(self, kname, result_vars, outs, call):
        """The driver lines calling kernel ``kname`` and fixing scalar dtypes."""
        lines = [f"{', '.join(outs)}{',' if len(outs) > 1 else ''} = "
                 f"{kname}({', '.join(call)})"]
        for v, nm in zip(result_vars, outs):
            if v.type.ndim == 0:       # numba returns Python scalars
                self.scalars.add(nm)
                self.raw[nm] = v.type.dtype
                if self.hooked:        # the hooks see every step's numpy values
                    lines += self.typed_lines([nm])
            else:
                self.contig.add(nm)
                self.typed.add(nm)
        return lines

    def kernel_call(self, kernel, node, ins, outs):
        args, arg_vars, kins, call = [], [], [], []
        for v, nm in zip(node.inputs, ins):
            if not _arg_name(nm):          # a scalar literal: part of the kernel text
                kins.append(nm)
                continue
            if v in arg_vars:
                kins.append(args[arg_vars.index(v)])
                continue
            a = f"a{len(args)}"
            args.append(a)
            arg_vars.append(v)
            kins.append(a)
            call.append(self.arg(v, nm))
        results = [f"r{j}" for j in range(len(outs))]
        ctx = Ctx(self.plan.protected, parallel=self.parallel)
        try:
            body = kernel(node, kins, results, ctx)
        except NotImplementedError:
            return None
        text = kernel_text(node, body, args, arg_vars, results, ctx)
        kname = self.register(text, ctx, node.op.short_name(), self.llvm and self.llvm.node_kernel(
            node, kernel, kins, args, arg_vars, results, ctx), self.exact_args(arg_vars))
        out = self.llvm_dests(kname, node.outputs)
        return self.call_lines(kname, node.outputs, outs, call + ([out] if out else []))

    def fused_call(self, run, into=None):
        """Driver lines calling one kernel that computes a run of elementwise
        nodes (and full sums over them) in a single loop nest; None when
        some member cannot be written so (its nodes then go one by one).
        ``into``: result -> the run's input it is written into (the plan's
        tail, see inplace.py)."""
        from .fused import emit_fused
        members = run.members
        args, arg_vars, call = [], [], []
        elem_names = {}              # variable -> its name inside the kernel
        for node in run.nodes:
            for v in node.inputs:
                if v.owner in members or v in elem_names:
                    continue
                nm = self.name_of(v)
                if not _arg_name(nm):     # a scalar literal
                    elem_names[v] = nm
                    continue
                a = f"a{len(args)}"
                args.append(a)
                arg_vars.append(v)
                elem_names[v] = a
                call.append(self.arg(v, nm))
        clients = self.fg.clients
        results, result_vars = [], []
        for node in run.nodes:
            v = node.outputs[0]
            if any(c == "output" or c not in members for c, _ in clients.get(v, ())):
                results.append(f"r{len(results)}")
                result_vars.append(v)
        ctx = Ctx(set(), parallel=self.parallel)
        large = into and threads.tail_threads(self.mode, self.split) and \
            min(static_size(s) or 0 for s in into.values()) >= threads.TAIL_MIN_SIZE
        if large and not self.split:
            ctx.parallel, ctx.parallel_min = True, threads.TAIL_MIN_SIZE   # threads.py
        # a split step runs this serial kernel on row blocks over its pool
        # instead (gemm_split.ptail), and a pool step may (a product only the
        # tail reads, inplace.py): the positions of its results among its
        # arguments, read by the tail; no threaded copy to compile
        self.tail_rows = None
        for j, v in enumerate(result_vars):
            if into and v in into:
                results[j] = elem_names[into[v]]     # the kernel writes its argument
                ctx.destroyed.add(into[v])
        if (self.split or self.pool) and into and all(v in into for v in result_vars):
            self.tail_rows = (tuple(int(r[1:]) for r in results), bool(large))
        try:
            body = emit_fused(run.nodes, elem_names, arg_vars, result_vars, results, ctx,
                              into=set(results) & set(args))
        except NotImplementedError:
            return None
        text = kernel_text(run.nodes[-1], body, args, arg_vars, results, ctx,
                           title="fused: " + "; ".join(n.op.short_name() for n in run.nodes))
        # not the in-place update tail: its kernels run from one C-level loop
        # so that Ctrl-C never lands between two of them (inplace.py), and an
        # llvm kernel's wrapper is Python
        kname = self.register(text, ctx, "fused loop", self.llvm and run not in self.plan.tail
                              and self.llvm.run_kernel(run, elem_names, arg_vars,
                                                       result_vars, results),
                              self.exact_args(arg_vars))
        for node in run.nodes:           # one comment per member, as for other nodes
            ins = [self.name_of(v) for v in node.inputs]
            outs = self.new_names(node)
            self.src.kinds[node] = "kernel"
            self.header(node, f"# node {self.plan.position[node]}: {node.op.short_name()}"
                              f"({', '.join(ins)}) -> {', '.join(outs)}  (one loop: {kname})")
        outs = [self.name_of(v) for v in result_vars]
        out = self.llvm_dests(kname, result_vars)
        lines = self.call_lines(kname, result_vars, outs, call + ([out] if out else []))
        self.drv.extend(lines)
        first = [ln for ln in lines if not ln.startswith("#")][:1] or [kname]
        self.mark(run.nodes, result_vars, "kernel", first[0], kname)
        return True
