"""The Numba CPU backend: the whole graph as one generated Python module.

``NumbaLinker(fgraph, mode)`` walks the rewritten graph in topological order
and asks each node's kernel (registered per op class in
``symnet.backend.registry`` by the family files beside this one) for a few
lines of source.  Runs of consecutive nodes with kernels become *segments*:
functions compiled eagerly with ``numba.njit`` (explicit signatures from the
input types, C-contiguous arrays, ``cache=True``).  A node without a kernel
(or whose kernel declines the case) runs its ``Op.perform`` between segments
and ``warn_fallback`` says so once.  A plain-Python *driver* calls the
segments and fallbacks in order; it is what the compiled function calls.

Inside a segment a 0-d tensor is a numba scalar; the driver turns 0-d
arrays into scalars on the way in and back into 0-d arrays on the way out.
Constants bigger than a scalar are arguments of the segments, never
globals, so they are not frozen into the machine code.

If a segment fails to compile the whole graph falls back to the ``py``
linker (with a warning; an error under ``SYMNET_STRICT``).  If a call
fails at run time the call is replayed on the ``py`` linker, which raises
the error naming the node and the user line that built it.

The generated source (``f.source``) carries a comment naming each node, e.g.
``# node 3: tanh(v2) -> v3``; ``symnet.export`` writes it out standalone.
"""
import warnings

import numpy as np

from ...configdefaults import config
from ...graph.basic import Constant
from ..py.linker import PyLinker, node_error
from ..registry import kernel_for, register_linker, warn_fallback

__all__ = ["NumbaLinker", "Ctx", "FASTMATH", "FALLBACK_FAMILIES", "FALLBACK_OPS", "nb_type", "literal", "SUPPORTED_DTYPES"]

# NaN/Inf keep their IEEE meaning: no 'nnan' or 'ninf'.
FASTMATH = ("afn", "arcp", "contract", "nsz", "reassoc")
SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                    "uint32", "uint64", "float32", "float64", "complex64", "complex128")
_NB_NAMES = {"bool": "nb.boolean"}
# Families and ops that run their ``perform`` between compiled segments (with
# the fallback warning): no kernel is written for them yet.
FALLBACK_FAMILIES = ("advanced", "conv", "pool", "random", "gradient")
FALLBACK_OPS = ("ARange", "Repeat", "Tile", "CrossentropyCategorical1Hot",
                "SoftmaxCrossentropy")


def _load_families():
    """Import the family files so that their kernels are registered."""
    from . import elemwise, reduction, shape, blas, indexing, nnet  # noqa: F401


def nb_type(var, readonly=False):
    """Source text of the numba type of a segment argument holding ``var``
    (``readonly`` for inputs, shared values and constants, which kernels
    never write and users may pass as read-only arrays)."""
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


class Ctx:
    """What a kernel may ask while emitting source for one node."""

    def __init__(self, protected):
        self._protected = protected
        self._n = 0

    def tmp(self, prefix="t"):
        """A fresh local name."""
        self._n += 1
        return f"_{prefix}{self._n}"

    def can_destroy(self, var):
        """Whether a kernel may write into ``var``'s buffer (never inputs,
        shared values, constants, outputs or views of them)."""
        return var not in self._protected


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


class NumbaLinker:
    """Compile a FunctionGraph into one generated module (see module doc)."""

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
        const_vars = []
        for k, v in enumerate(fg.inputs):
            names[v] = f"i{k}"
        ctx = Ctx(_protected_vars(fg, self.order))
        n = 0

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
                names[v] = f"c{len(self.consts)}"
                self.consts.append(np.ascontiguousarray(data) if data.ndim else data)
                const_vars.append(v)
                return names[v]
            raise KeyError(v)

        blocks = []   # (node_index, node, lines or None)
        for k, node in enumerate(self.order):
            ins = [name_of(v) for v in node.inputs]
            outs = []
            for v in node.outputs:
                n += 1
                names[v] = f"v{n}"
                outs.append(names[v])
            lines = None
            if all(_is_tensor(v) for v in node.inputs + node.outputs):
                kernel = kernel_for("numba", type(node.op))
                if kernel is not None:
                    try:
                        lines = kernel(node, ins, outs, ctx)
                    except NotImplementedError:
                        lines = None
            if lines is None:
                warn_fallback("numba", node.op)
                self.fallback_nodes.append(node)
            head = f"# node {k}: {node.op}({', '.join(ins)}) -> {', '.join(outs)}"
            blocks.append((k, node, head, lines))
        for v in fg.outputs:   # outputs that are constants need a name too
            name_of(v)
        self.names = names
        return self._assemble(blocks, names)

    def _assemble(self, blocks, names):
        fg = self.fgraph
        # group consecutive compiled blocks into segments
        groups = []
        for blk in blocks:
            if blk[3] is None:
                groups.append(("py", [blk]))
            elif groups and groups[-1][0] == "nb":
                groups[-1][1].append(blk)
            else:
                groups.append(("nb", [blk]))
        # where each variable is used (by group index) for liveness
        last_use = {}
        for gi, (_, blks) in enumerate(groups):
            for _, node, _, _ in blks:
                for v in node.inputs:
                    last_use[v] = max(last_use.get(v, -1), gi)
        out_set = set(fg.outputs)
        fixed = set(fg.inputs) | {v for v in names if isinstance(v, Constant)}
        seg_src, drv = [], []
        self.segments = []
        scalar_wrap = {}
        for gi, (kind, blks) in enumerate(groups):
            if kind == "py":
                _, node, head, _ = blks[0]
                k = self.order.index(node)
                outs = [names[v] for v in node.outputs]
                ins = [_value(names[v]) for v in node.inputs]
                drv.append(f"    {head}  (Python perform)")
                drv.append(f"    {', '.join(outs)}, = perform({k}, "
                           f"({', '.join(ins)}{',' if len(ins) == 1 else ''}))")
                continue
            produced, args = set(), []
            for _, node, _, _ in blks:
                for v in node.inputs:
                    if v not in produced and v not in args and _arg_name(names[v]):
                        args.append(v)
                produced.update(node.outputs)
            results = [v for v in _ordered(blks) if v in out_set or last_use.get(v, -1) > gi]
            sname = f"seg{len(self.segments)}"
            self.segments.append(sname)
            sig = ", ".join(nb_type(v, v in fixed) for v in args)
            seg_src.append(f"@nb.njit(({sig}{',' if len(args) == 1 else ''}), **_FLAGS)")
            seg_src.append(f"def {sname}({', '.join(names[v] for v in args)}):")
            for _, node, head, lines in blks:
                seg_src.append(f"    {head}")
                seg_src.extend(f"    {ln}" for ln in lines)
            res = ", ".join(names[v] for v in results)
            seg_src.append(f"    return ({res}{',' if len(results) == 1 else ''})")
            seg_src.append("")
            seg_src.append("")
            call_args = ", ".join(_pass(names[v], v) for v in args)
            if results:
                drv.append(f"    {res}, = {sname}({call_args})")
            else:
                drv.append(f"    {sname}({call_args})")
            for v in results:
                if v.type.ndim == 0:
                    drv.append(f"    {names[v]} = _np.asarray({names[v]}, _np.{v.type.dtype})")
        in_names = ", ".join(names[v] for v in fg.inputs)
        ret = ", ".join(_value(names[v]) for v in fg.outputs)
        consts = ", ".join(f"c{k}" for k in range(len(self.consts)))
        from .elemwise import HELPERS
        header = _MODULE_HEAD.format(fastmath="{" + ", ".join(repr(f) for f in FASTMATH)
                                     + "}") + HELPERS.lstrip("\n") + "\n\n"
        driver = [
            "def make_run(consts, perform, recover):",
            "    \"\"\"The driver: ``run(*inputs, *shared) -> [outputs..., updates...]``.\"\"\"",
            f"    {consts}{',' if len(self.consts) == 1 else ''} = consts" if self.consts
            else "    del consts",
            "",
            f"    def run({in_names}):",
            "        try:",
        ]
        driver += ["        " + ln for ln in drv]
        driver += [f"            return [{ret}]",
                   "        except Exception as exc:",
                   f"            return recover(exc, ({in_names}{',' if len(fg.inputs) == 1 else ''}))",
                   "    return run", ""]
        return header + "\n".join(seg_src) + "\n".join(driver)

    # -- compilation ------------------------------------------------------------

    def make_thunk(self):
        from .cache import load_module
        try:
            module, path, key = load_module(self.source)
        except Exception as exc:
            if config.strict:
                raise
            warnings.warn(f"the numba backend failed to compile this graph "
                          f"({type(exc).__name__}: {str(exc)[:300]}); running it on "
                          f"the py backend instead", RuntimeWarning, stacklevel=4)
            py = self._py_linker()
            py.source = self.source
            return py
        self.path, self.key, self.module = path, key, module
        run = module.make_run(self.consts, self._perform, self._recover)
        run.source = self.source
        run.linker = self
        return run

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
        result = self._py_linker()(*args)
        warnings.warn(f"the numba kernel failed ({type(exc).__name__}: {exc}) where "
                      f"the py backend succeeded; please report this", RuntimeWarning,
                      stacklevel=3)
        return result


def _arg_name(nm):
    return nm.isidentifier() and nm not in ("True", "False")


def _value(nm):
    """Driver-side expression of a name (literals become 0-d arrays)."""
    return nm if _arg_name(nm) else f"_np.asarray({nm})"


def _pass(name, var):
    if var.type.ndim == 0:
        return f"{name}[()]"
    return f"_C({name})"


def _ordered(blks):
    out = []
    for _, node, _, _ in blks:
        out.extend(node.outputs)
    return out


_MODULE_HEAD = '''"""Generated by symnet's numba backend: one graph, compiled by numba.

``seg*`` are the compiled segments (0-d tensors are scalars inside them);
``make_run`` builds the driver that calls them in order.
"""
import numpy as np
import numpy as _np
import numba as nb

_C = _np.ascontiguousarray
_FLAGS = dict(cache=True, nogil=True, error_model="numpy",
              fastmath={fastmath})


'''


def numba_linker(fgraph, mode=None):
    """The linker factory registered as 'numba'."""
    return NumbaLinker(fgraph, mode).make_thunk()


register_linker("numba", numba_linker)
