"""The Numba CPU backend: compiled per-node kernels called by a Python driver.

``NumbaLinker(fgraph, mode)`` walks the rewritten graph in topological order
and gives every node one of three implementations:

*kernel*
    The node's numba kernel (registered per op class under ``'numba'`` in
    ``symnet.backend.registry`` by the family files beside this one) writes
    a few lines of source; they become one small function compiled eagerly
    with ``numba.njit`` (explicit signature from the input types,
    C-contiguous arrays).  Its source uses position-independent names
    (arguments ``a0, a1, ...``, results ``r0, ...``, scalar constants as
    literals), so the same op on the same types gives the same text
    wherever it occurs.  Each distinct text is one cached file (see
    ``cache.py``): a kernel is compiled once per machine and shared by
    every node, graph and process that needs it.  Compile time therefore
    grows with the number of *distinct* kernels, not with the graph.
*driver op*
    Ops numba cannot speed up (``Dot`` is BLAS through ``np.dot`` either
    way; reshapes, transposes, slices are views) are plain numpy lines in
    the driver, registered with ``driver_op``: no compile cost at all.
    A template ``(node, ins, outs) -> (lines, contiguous)`` says whether its
    result is known C-contiguous (True, False or ``"input"``: as its first
    input), so the driver copies (``_C``) only where a kernel may need it.
    This is deliberate, not a fallback: there is no warning.
*fallback*
    A node with neither (or whose kernel declines the case) runs its
    ``Op.perform`` in the driver and ``warn_fallback`` says so once.

The *driver* ``make_run`` is plain Python with a ``# node k: ...`` comment
above each call; it is what the compiled function calls.  Inside a kernel a
0-d tensor is a numba scalar; in the driver it is a numpy scalar or a 0-d
array.  Constants bigger than a scalar are kernel arguments, never globals,
so they are not frozen into the machine code.

If a kernel fails to compile the whole graph falls back to the ``py`` linker
(with a warning; an error under ``SYMNET_STRICT``).  If a call fails at run
time the call is replayed on the ``py`` linker, which raises the error
naming the node and the user line that built it.

``f.source`` is one standalone module (the distinct kernels, then the
driver); ``symnet.export`` writes it out.  In the cache, the float32 scalar
helpers (``elemwise.HELPERS``) live in one module of their own that kernels
import, so they are compiled once, not once per kernel.

``Mode('numba', parallel=True)`` makes elementwise loops over at least
``elemwise.PARALLEL_MIN_SIZE`` elements run their outer loop as a
``prange`` (kernels compiled with ``parallel=True``); smaller outputs take
the serial copy of the loop in the same kernel.

The thunk's ``fresh_outputs`` says which outputs are returned in buffers no
input, shared value, constant or other output shares (``_fresh_outputs``):
``Function`` skips its aliasing check for those.

Kernels return fresh arrays, so the first compiled function raises glibc's
malloc thresholds once per process (``tune_malloc``): freed buffers are then
reused by the next call instead of being page-faulted in again.
"""
import os
import warnings

import numpy as np

from ...configdefaults import config
from ...graph.basic import Constant
from ..py.linker import PyLinker, node_error
from ..registry import kernel_for, register_kernel, register_linker, warn_fallback

__all__ = ["NumbaLinker", "Ctx", "FASTMATH", "FALLBACK_FAMILIES", "FALLBACK_OPS", "nb_type",
           "literal", "SUPPORTED_DTYPES", "driver_op", "KERNEL_HEAD", "tune_malloc"]

# NaN/Inf keep their IEEE meaning: no 'nnan' or 'ninf'.
FASTMATH = ("afn", "arcp", "contract", "nsz", "reassoc")
SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                    "uint32", "uint64", "float32", "float64", "complex64", "complex128")
_NB_NAMES = {"bool": "nb.boolean"}
# Families and ops that run their ``perform`` in the driver (with the
# fallback warning): no kernel is written for them yet ("advanced" has
# kernels for integer-vector indexing only; its other ops fall back).
FALLBACK_FAMILIES = ("advanced", "conv", "conv3d", "pool", "random", "gradient")
FALLBACK_OPS = ()


def driver_op(*op_classes):
    """Decorator: register a *driver template* for ``op_classes``: numpy
    lines run by the driver instead of a compiled kernel.  It is the numba
    backend's implementation of the op (registered under ``'numba'``),
    marked so that the linker calls it as a template."""
    def deco(fn):
        fn.driver_template = True
        return register_kernel("numba", *op_classes)(fn)
    return deco


def _load_families():
    """Import the family files so that their kernels are registered."""
    from . import elemwise, reduction, shape, blas, indexing, nnet, advanced, linalg  # noqa: F401,E501


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


def _is_tensor(var):
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
        self.uses_prange = False      # this kernel has one (compiled parallel=True)

    def tmp(self, prefix="t"):
        """A fresh local name."""
        self._n += 1
        return f"_{prefix}{self._n}"

    def can_destroy(self, var):
        """Whether a kernel may write into ``var``'s buffer (never inputs,
        shared values, constants, outputs or views of them).  A kernel asks
        only when it means to write, so a yes marks the argument writable."""
        ok = var not in self._protected
        if ok:
            self.destroyed.add(var)
        return ok


_VIEW_OPS = ("DimShuffle", "Subtensor", "Reshape", "Rebroadcast", "SpecifyShape")


def _protected_vars(fgraph, order):
    prot = set(fgraph.inputs) | set(fgraph.outputs)
    for node in order:
        for v in node.inputs:
            if isinstance(v, Constant):
                prot.add(v)
    for node in order:  # views of protected buffers are protected too
        if type(node.op).__name__ in _VIEW_OPS or getattr(node.op, "view_map", None):
            if any(i in prot for i in node.inputs):
                prot.update(node.outputs)
    return prot


def _fresh_outputs(fgraph, kinds):
    """For each output of ``fgraph``: whether the driver returns it in a new
    buffer that no input, shared value, constant or other output shares.

    True only for the result of a compiled kernel (kernels allocate their
    results; an in-place kernel writes into an intermediate, never into a
    protected buffer) whose buffer no other output reaches through views.
    ``Function`` then skips its run-time aliasing check for that output."""
    def root(v):
        while v.owner is not None:
            node = v.owner
            kind = kinds.get(node)
            if kind == "perform":
                return None          # ``perform`` may return anything
            j = node.outputs.index(v)
            src = (getattr(node.op, "view_map", None) or {}).get(j) or \
                (getattr(node.op, "destroy_map", None) or {}).get(j)
            if src:
                v = node.inputs[src[0]]
            elif kind == "driver":
                v = node.inputs[0] if node.inputs else None   # views, conservatively
                if v is None:
                    return None
            else:
                return v
        return None                  # an input or a constant
    roots = [root(v) for v in fgraph.outputs]
    return tuple(r is not None and v.owner is not None and kinds.get(v.owner) == "kernel"
                 and roots.count(r) == 1 for v, r in zip(fgraph.outputs, roots))


def _arg_name(nm):
    return nm.isidentifier() and nm not in ("True", "False")


def _tuple(items):
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _kernel_text(node, lines, args, arg_vars, results, ctx, title=None):
    """The position-independent source of one kernel (named ``kernel``)."""
    sig = ", ".join(nb_type(v, v not in ctx.destroyed) for v in arg_vars)
    par = "parallel=True, " if ctx.uses_prange else ""
    out = [f"@nb.njit(({sig}{',' if len(arg_vars) == 1 else ''}), {par}**_FLAGS)",
           f"def kernel({', '.join(args)}):",
           f"    # {title or node.op}"]
    out += [f"    {ln}" for ln in lines]
    out.append(f"    return {results[0]}" if len(results) == 1
               else f"    return {_tuple(results)}")
    return "\n".join(out) + "\n"


class _Run:
    """Consecutive elementwise nodes over one loop domain (``key``), plus
    full sums or products of their results, computed by one loop nest;
    ``hoisted`` are nodes met inside the run that depend on none of it,
    emitted before it."""

    def __init__(self, node, key):
        self.nodes = [node]
        self.key = key
        self.hoisted = []
        self.members = {node}
        self.accumulators = set()     # outputs of the reductions in the run


# reductions a run can carry as an accumulator (max/min need NaN and
# empty-axis rules: they keep their own kernel)
_RUN_REDUCE_KINDS = ("sum", "prod")


def _domain(var):
    """The loop domain of an elementwise result: per axis, a static size or
    the (variable, axis) its size is read from."""
    from ...tensor.rewriting.shape import _size_source
    return tuple(_size_source(var, j) for j in range(var.type.ndim))


def _run_member(node):
    """The domain of ``node`` if it may be in a run, else None."""
    from ...tensor.ops.elemwise import Elemwise
    if not isinstance(node.op, Elemwise) or len(node.outputs) != 1:
        return None
    out = node.outputs[0]
    nd = out.type.ndim
    if nd == 0 or not all(_is_tensor(v) for v in node.inputs + node.outputs):
        return None
    if any(v.type.ndim not in (0, nd) for v in node.inputs):
        return None
    return _domain(out)


def _run_reduction(node, run):
    """Whether ``node`` reduces a run member's result over every axis."""
    from ...tensor.ops.reduction import Reduce
    if not isinstance(node.op, Reduce) or node.op.kind not in _RUN_REDUCE_KINDS:
        return False
    (x,) = node.inputs
    return (x.owner in run.members and x not in run.accumulators
            and len(node.op.axis) == x.type.ndim and node.outputs[0].type.ndim == 0
            and _is_tensor(node.outputs[0]))


def _loop_runs(order, fgraph, parallel=False):
    """``order`` regrouped: nodes, and ``_Run``s of two or more nodes that
    one fused loop computes (none with ``parallel``: prange kernels stay
    one node each)."""
    items = []
    run = None

    def close():
        if run is not None:
            items.append(run)
    for node in order:
        if parallel:
            items.append(node)
            continue
        key = _run_member(node)
        uses_run = run is not None and any(v.owner in run.members for v in node.inputs)
        uses_acc = run is not None and any(v in run.accumulators for v in node.inputs)
        if run is not None and not uses_acc:
            if key is not None and key == run.key:
                run.nodes.append(node)
                run.members.add(node)
                continue
            if _run_reduction(node, run):
                run.nodes.append(node)
                run.members.add(node)
                run.accumulators.add(node.outputs[0])
                continue
            if key is None and not uses_run:
                run.hoisted.append(node)
                continue
        close()
        run = _Run(node, key) if key is not None else None
        if run is None:
            items.append(node)
    close()
    return items


class NumbaLinker:
    """Compile a FunctionGraph into kernels plus a driver (see module doc)."""

    backend = "numba"

    def __init__(self, fgraph, mode=None):
        _load_families()
        self.fgraph = fgraph
        self.mode = mode
        self.order = fgraph.toposort()
        self._py = None
        self.fallback_nodes = []
        self.source = self._generate()

    # -- source generation ----------------------------------------------------

    def _generate(self):
        fg = self.fgraph
        names = {}
        self.consts = []          # values passed to the driver
        for k, v in enumerate(fg.inputs):
            names[v] = f"i{k}"
        protected = _protected_vars(fg, self.order)
        contig = set()      # driver names known to hold C-contiguous arrays
        scalars = set()     # driver names known to hold numpy scalars
        self.kernel_texts = {}   # kernel text -> local name (k0, k1, ...)
        self.kernel_ops = {}     # local name -> op string (for the listing)

        def name_of(v):
            if v in names:
                return names[v]
            if isinstance(v, Constant):
                data = np.asarray(v.data)
                if _is_tensor(v) and data.ndim == 0:
                    lit = literal(data, v.type.dtype)
                    if lit is not None:
                        names[v] = lit
                        return lit
                nm = f"c{len(self.consts)}"
                names[v] = nm
                self.consts.append(np.ascontiguousarray(data) if data.ndim else data)
                if data.ndim:
                    contig.add(nm)
                return nm
            raise KeyError(v)

        def value(v):
            """Driver expression of ``v`` for numpy code, perform and outputs."""
            nm = names[v]
            if not _arg_name(nm) or (v.type.ndim == 0 and nm[0] != "i"):
                return f"_np.asarray({nm})"   # numpy scalars become 0-d arrays
            return nm

        drv = []
        counter = [0]
        kinds = {}    # node -> "kernel", "driver" or "perform"
        position = {node: k for k, node in enumerate(self.order)}

        def new_names(node):
            outs = []
            for v in node.outputs:
                counter[0] += 1
                names[v] = f"v{counter[0]}"
                outs.append(names[v])
            return outs

        def emit_node(node):
            k = position[node]
            ins = [name_of(v) for v in node.inputs]
            outs = new_names(node)
            head = f"# node {k}: {node.op}({', '.join(ins)}) -> {', '.join(outs)}"
            lines = None
            tensors = all(_is_tensor(v) for v in node.inputs + node.outputs)
            kernel = kernel_for("numba", type(node.op)) if tensors else None
            if kernel is not None and getattr(kernel, "driver_template", False):
                lines = self._driver_op(kernel, node, ins, outs, contig)
            elif kernel is not None:
                lines = self._kernel_call(kernel, node, ins, outs, protected, contig, scalars)
            kinds[node] = "driver" if kernel is not None and lines is not None and \
                getattr(kernel, "driver_template", False) else "kernel"
            if lines is None:
                kinds[node] = "perform"
                warn_fallback("numba", node.op)
                self.fallback_nodes.append(node)
                vals = [value(v) for v in node.inputs]
                drv.append(f"{head}  (Python perform)")
                drv.append(f"{', '.join(outs)}, = perform({k}, {_tuple(vals)})")
            else:
                drv.append(head)
                drv.extend(lines)

        def emit_run(run):
            for node in run.hoisted:
                emit_node(node)
            if len(run.nodes) == 1:
                emit_node(run.nodes[0])
                return
            lines = self._fused_call(run, name_of, new_names, position, contig, scalars)
            if lines is None:        # a member the fused loop cannot express
                for node in run.nodes:
                    emit_node(node)
                return
            for node in run.nodes:
                kinds[node] = "kernel"
            drv.extend(lines)

        for item in _loop_runs(self.order, fg, parallel=getattr(self.mode, "parallel", False)):
            if isinstance(item, _Run):
                emit_run(item)
            else:
                emit_node(item)
        for v in fg.outputs:   # outputs that are constants need a name too
            name_of(v)
        self.fresh_outputs = _fresh_outputs(fg, kinds)
        self.names = names
        in_names = ", ".join(names[v] for v in fg.inputs)
        ret = ", ".join(value(v) for v in fg.outputs)
        consts = ", ".join(f"c{k}" for k in range(len(self.consts)))
        driver = [
            "def make_run(consts, perform, recover):",
            "    \"\"\"The driver: ``run(*inputs, *shared) -> [outputs..., updates...]``.\"\"\"",
            f"    {consts}{',' if len(self.consts) == 1 else ''} = consts" if self.consts
            else "    del consts",
            "",
            f"    def run({in_names}):",
            "        try:",
        ]
        driver += ["            " + ln for ln in drv]
        driver += [f"            return [{ret}]",
                   "        except Exception as exc:",
                   f"            return recover(exc, {_tuple([names[v] for v in fg.inputs])})",
                   "    return run", ""]
        self.driver_source = "\n".join(driver)
        return self._listing()

    def _driver_op(self, template, node, ins, outs, contig):
        try:
            lines, is_contig = template(node, ins, outs)
        except NotImplementedError:
            return None
        if is_contig == "input":   # a view that keeps its input's layout
            is_contig = ins[0] in contig
        if is_contig:
            contig.update(outs)
        return lines

    def _kernel_call(self, kernel, node, ins, outs, protected, contig, scalars):
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
            if v.type.ndim == 0:
                call.append(nm if nm in scalars else f"{nm}[()]")
            else:
                call.append(nm if nm in contig else f"_C({nm})")
        results = [f"r{j}" for j in range(len(outs))]
        ctx = Ctx(protected, parallel=getattr(self.mode, "parallel", False))
        try:
            body = kernel(node, kins, results, ctx)
        except NotImplementedError:
            return None
        text = _kernel_text(node, body, args, arg_vars, results, ctx)
        kname = self.kernel_texts.get(text)
        if kname is None:
            kname = self.kernel_texts[text] = f"k{len(self.kernel_texts)}"
            self.kernel_ops[kname] = str(node.op)
        lines = [f"{', '.join(outs)}{',' if len(outs) > 1 else ''} = "
                 f"{kname}({', '.join(call)})"]
        for v, nm in zip(node.outputs, outs):
            if v.type.ndim == 0:       # numba returns Python scalars: fix the dtype
                lines.append(f"{nm} = {_scalar_ctor(v.type.dtype)}({nm})")
                scalars.add(nm)
            else:
                contig.add(nm)
        return lines

    def _fused_call(self, run, name_of, new_names, position, contig, scalars):
        """Driver lines calling one kernel that computes a run of elementwise
        nodes (and full sums over them) in a single loop nest; None when
        some member cannot be written so (its nodes then go one by one)."""
        from .elemwise import emit_fused
        members = set(run.nodes)
        args, arg_vars, call = [], [], []
        elem_names = {}              # variable -> its name inside the kernel
        for node in run.nodes:
            for v in node.inputs:
                if v.owner in members or v in elem_names:
                    continue
                nm = name_of(v)
                if not _arg_name(nm):     # a scalar literal
                    elem_names[v] = nm
                    continue
                a = f"a{len(args)}"
                args.append(a)
                arg_vars.append(v)
                elem_names[v] = a
                if v.type.ndim == 0:
                    call.append(nm if nm in scalars else f"{nm}[()]")
                else:
                    call.append(nm if nm in contig else f"_C({nm})")
        clients = self.fgraph.clients
        results, result_vars = [], []
        for node in run.nodes:
            v = node.outputs[0]
            if any(c == "output" or c not in members for c, _ in clients.get(v, ())):
                results.append(f"r{len(results)}")
                result_vars.append(v)
        ctx = Ctx(set())
        try:
            body = emit_fused(run.nodes, elem_names, arg_vars, result_vars, results, ctx)
        except NotImplementedError:
            return None
        text = _kernel_text(run.nodes[-1], body, args, arg_vars, results, ctx,
                            title="fused: " + "; ".join(str(n.op) for n in run.nodes))
        kname = self.kernel_texts.get(text)
        if kname is None:
            kname = self.kernel_texts[text] = f"k{len(self.kernel_texts)}"
            self.kernel_ops[kname] = "fused loop"
        lines = []
        for node in run.nodes:           # one comment per member, as for other nodes
            ins = [name_of(v) for v in node.inputs]
            outs = new_names(node)
            lines.append(f"# node {position[node]}: {node.op}({', '.join(ins)}) -> "
                         f"{', '.join(outs)}  (one loop: {kname})")
        outs = [name_of(v) for v in result_vars]
        lines.append(f"{', '.join(outs)}{',' if len(outs) > 1 else ''} = "
                     f"{kname}({', '.join(call)})")
        for v, nm in zip(result_vars, outs):
            if v.type.ndim == 0:
                lines.append(f"{nm} = {_scalar_ctor(v.type.dtype)}({nm})")
                scalars.add(nm)
            else:
                contig.add(nm)
        return lines

    def _listing(self):
        """``f.source``: a standalone module (header, kernels, driver)."""
        parts = [_MODULE_HEAD.format(fastmath=_fastmath_text())]
        texts = list(self.kernel_texts)
        if any("_tanh32" in t for t in texts):
            from .elemwise import HELPERS
            parts.append(HELPERS.lstrip("\n") + "\n")
        for text, kname in self.kernel_texts.items():
            parts.append(text.replace("def kernel(", f"def {kname}(", 1) + "\n")
        parts.append(self.driver_source)
        return "\n".join(parts)

    # -- compilation ------------------------------------------------------------

    def make_thunk(self):
        from .cache import compiled_before, module_path
        kernels, self.paths = {}, []
        self.ns = ns = {"np": np, "_np": np, "_C": np.ascontiguousarray}
        try:
            for text, kname in self.kernel_texts.items():
                body = kernel_module(text)
                if compiled_before(body, "k"):
                    # compiled by an earlier call or process: imported (with
                    # numba itself) on the first call, not now
                    kernels[kname] = _LazyKernel(self, kname, body)
                    self.paths.append(module_path(body, "k"))
                else:
                    kernels[kname] = self._load_kernel(kname, body)
        except Exception as exc:
            if config.strict:
                raise
            warnings.warn(f"the numba backend failed to compile this graph "
                          f"({type(exc).__name__}: {str(exc)[:300]}); running it on "
                          f"the py backend instead", RuntimeWarning, stacklevel=4)
            py = self._py_linker()
            py.source = self.source
            return py
        self.kernels = kernels
        tune_malloc()
        ns.update(kernels)
        exec(compile(self.driver_source, "<symnet numba driver>", "exec"), ns)
        run = ns["make_run"](self.consts, self._perform, self._recover)
        run.source = self.source
        run.linker = self
        run.fresh_outputs = self.fresh_outputs
        return run

    def _load_kernel(self, kname, body):
        """Import (compiling if need be) the kernel module ``body`` and bind
        its kernel to ``kname`` in the driver."""
        from .cache import load_module
        if "_tanh32" in body:
            helpers_module()      # kernels import their helpers from it
        module, path, key = load_module(body, "k")
        if path not in self.paths:
            self.paths.append(path)
        fn = module.kernel
        if hasattr(self, "kernels"):
            self.kernels[kname] = fn
        self.ns[kname] = fn
        return fn

    def _py_linker(self):
        if self._py is None:
            self._py = PyLinker(self.fgraph)
        return self._py

    def _perform(self, k, vals):
        node = self.order[k]
        storage = [[None] for _ in node.outputs]
        with np.errstate(all="ignore"):
            try:
                node.op.perform(node, list(vals), storage)
            except Exception as exc:
                raise node_error(exc, node, vals) from exc
        return [cell[0] for cell in storage]

    def _recover(self, exc, args):
        """Replay a failed call on the py linker: it raises the error with the
        node named, or (a numba-side problem) computes the result."""
        # copies: ``fresh_outputs`` promises buffers no input shares
        result = [r.copy() if isinstance(r, np.ndarray) else r
                  for r in self._py_linker()(*args)]
        warnings.warn(f"the numba kernel failed ({type(exc).__name__}: {exc}) where "
                      f"the py backend succeeded; please report this", RuntimeWarning,
                      stacklevel=3)
        return result


class _LazyKernel:
    """Stands in the driver for a kernel compiled before: its first call
    imports the cached module and rebinds the driver's name to the kernel."""

    def __init__(self, linker, kname, body):
        self.linker, self.kname, self.body = linker, kname, body

    def __call__(self, *args):
        return self.linker._load_kernel(self.kname, self.body)(*args)


# glibc's mallopt parameters (malloc.h) and the values the driver sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD = 32 << 20
MALLOC_TRIM_THRESHOLD = 128 << 20
_MALLOC_TUNED = []


def tune_malloc():
    """Keep freed memory of the process for reuse instead of handing it back
    to the kernel at every call (glibc only; once per process).

    Every kernel returns fresh arrays; a training step frees some tens of
    megabytes of them at its end.  With glibc's defaults (an adaptive mmap
    threshold and a trim threshold of twice that) those pages go back to the
    kernel and the next call page-faults them in again, which costs more
    than the elementwise work itself (W1: 9 ms a step instead of 2.7 ms).
    Larger fixed thresholds keep up to ``MALLOC_TRIM_THRESHOLD`` bytes of
    free heap.  Nothing happens where the user set ``MALLOC_MMAP_THRESHOLD_``
    or ``MALLOC_TRIM_THRESHOLD_`` (their choice wins) or with another libc.
    Returns whether the thresholds were set (now or before)."""
    if _MALLOC_TUNED:
        return _MALLOC_TUNED[0]
    ok = False
    if not any(k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        try:
            import ctypes
            import platform
            if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
                libc = ctypes.CDLL(None)
                ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)) and \
                    bool(libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))
        except (OSError, AttributeError, ValueError):
            ok = False
    _MALLOC_TUNED.append(ok)
    return ok


def _fastmath_text():
    return "{" + ", ".join(repr(f) for f in FASTMATH) + "}"


KERNEL_HEAD = '''"""One kernel of symnet's numba backend (shared by every graph using it)."""
import numpy as np
import numba as nb

_FLAGS = dict(cache=True, nogil=True, error_model="numpy", no_cfunc_wrapper=True,
              fastmath={fastmath})


'''


def kernel_module(text):
    """The source of the cached module holding the kernel ``text``."""
    parts = [KERNEL_HEAD.format(fastmath=_fastmath_text())]
    if "_tanh32" in text:
        from .cache import module_name
        parts.append(f"from {module_name(_helpers_source())} import _exp32, _sigmoid32, "
                     f"_tanh32  # noqa: F401\n\n\n")
    parts.append(text)
    return "".join(parts)


_HELPERS_HEAD = '''"""The scalar helpers of symnet's numba kernels (see ``elemwise.HELPERS``),
compiled once and called by every kernel that uses them."""
import numpy as np
import numba as nb
'''


def helpers_module():
    """The cached module defining ``elemwise.HELPERS``, imported (and so
    registered in ``sys.modules``) before any kernel that imports from it:
    compiled once per machine instead of once per kernel module."""
    from .cache import load_module
    return load_module(_helpers_source(), "h")[0]


def _helpers_source():
    from .elemwise import HELPERS
    return _HELPERS_HEAD + HELPERS


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


def numba_linker(fgraph, mode=None):
    """The linker factory registered as 'numba'."""
    return NumbaLinker(fgraph, mode).make_thunk()


register_linker("numba", numba_linker)
