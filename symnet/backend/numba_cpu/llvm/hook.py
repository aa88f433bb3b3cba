"""Where the llvm emitter plugs into the numba backend's code generator.

``codegen._Writer`` writes every kernel's numba text as before (the text
is the kernel's cache key: position-independent, so identical kernels of a
graph are one).  Under the llvm emitter it also passes ``register`` a
factory (``node_kernel``/``run_kernel``) building the same kernel as a
``kernel.LoopKernel``; ``register`` keeps the first one built for a text
under a name ``L<n>`` (``Source.llvm_kernels``), and the linker compiles
them all as one module (``jit.bind``).  A factory that raises
``NotImplementedError`` leaves the kernel to numba.

A kernel's IR text is cached on disk (``ir_text``), keyed on what the
graph already treats as its identity, the numba text, with its name, the
emitter's own source and the versions: lowering a graph's kernels to IR
costs more than reading them back in a new process.
"""
import functools
import hashlib
import os

from . import requested

__all__ = ["enabled", "register", "node_kernel", "run_kernel", "listing", "ir_text"]


def enabled(mode, parallel):
    """Whether the graph's elementwise kernels go to the llvm emitter:
    asked for, serial loops (the threaded loops are numba's prange), and not
    the njit driver (which calls numba kernels)."""
    if not requested(mode) or parallel:
        return False
    from ..njit_driver import requested as njit_requested
    return not njit_requested(mode)


def register(src, text, factory):
    """The name of the llvm kernel for numba ``text`` (built by
    ``factory()`` when unseen), or None when the emitter declines it."""
    kname = src.llvm_names.get(text)
    if kname is not None:
        return kname
    kname = f"L{len(src.llvm_kernels)}"
    try:
        kernel = factory()
        kernel.ir_text = ir_text(kernel, kname, text)    # lowered now: a decline shows here
    except NotImplementedError:
        return None
    src.llvm_names[text] = kname
    src.llvm_kernels[kname] = kernel
    return kname


_IR_HEAD = b"symnet-llvm-ir 1\n"


@functools.lru_cache(maxsize=None)
def _emitter_digest():
    """A hash of the sources that turn a kernel into IR: this folder's, and
    the modules outside it that the lowering reads (the fused sums' block,
    the reductions' initial values, the scalar expressions)."""
    import llvmlite
    from ..codegen import FASTMATH
    h = hashlib.sha256(f"llvmlite={llvmlite.__version__} {FASTMATH}".encode())
    here = os.path.dirname(os.path.abspath(__file__))
    files = sorted(os.path.join(here, n) for n in os.listdir(here) if n.endswith(".py"))
    files += [os.path.join(here, os.pardir, n) for n in ("fused.py", "elemwise.py",
                                                         "reduction.py")]
    files.append(os.path.join(here, os.pardir, os.pardir, "scalar.py"))
    for path in files:
        with open(path, "rb") as fh:
            h.update(os.path.basename(path).encode() + b"\0" + fh.read())
    return h.hexdigest()


def ir_text(kernel, kname, text):
    """``kernel.module_text(kname)``, read from the kernel cache where an
    earlier process lowered the kernel of numba ``text`` (a decline is
    never cached: it raises before anything is written)."""
    from ..cache import file_entry, module_key, read_entry, replace_damaged, write_entry
    from .fastcall import by_object
    # by_object: whether this process's arrays are passed as objects (the
    # IR differs); it follows numpy's and Python's versions, keyed anyway
    key = module_key(f"{_emitter_digest()} by_object={by_object()} {kname}\n{text}")
    path = file_entry(f"ir_{key}.ll")
    try:
        data = read_entry(path, _IR_HEAD)
        if data is not None:
            return data.decode()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        path = replace_damaged(path, exc, stacklevel=4)
    ir = kernel.module_text(kname)
    write_entry(path, _IR_HEAD, ir.encode(), stacklevel=4)
    return ir


def node_kernel(node, kernel, kins, args, arg_vars, results, ctx):
    """The factory of a single ``Elemwise`` node's llvm kernel (None for
    other kernels), written into its input where the numba kernel is."""
    from ....tensor.ops.elemwise import Elemwise
    from ..elemwise import elemwise_kernel
    if kernel is not elemwise_kernel or not isinstance(node.op, Elemwise):
        return None

    def build():
        from .kernel import LoopKernel
        elem_names = dict(zip(node.inputs, kins))
        res = list(results)
        k = node.op.inplace
        if k is not None and node.inputs[k] in ctx.destroyed:
            res = [kins[k]]
        return LoopKernel([node], elem_names, arg_vars, list(node.outputs), res,
                          node.op.short_name())
    return build


def run_kernel(run, elem_names, arg_vars, result_vars, results):
    """The factory of a plan ``Run``'s llvm kernel."""
    def build():
        from .kernel import LoopKernel
        title = "fused: " + "; ".join(n.op.short_name() for n in run.nodes)
        return LoopKernel(run.nodes, dict(elem_names), list(arg_vars), list(result_vars),
                          list(results), title)
    return build


def listing(kernels):
    """``f.source``'s part for the llvm kernels: each wrapper (the native
    function is LLVM IR compiled by ``jit.py``)."""
    out = ["# -- kernels built by the llvm emitter (symnet/backend/numba_cpu/llvm/):",
           "# each wrapper calls its loop nest compiled from LLVM IR"]
    for kname, k in kernels.items():
        out += ["# " + ln for ln in k.wrapper(kname, f"{kname}_native")]
    return "\n".join(out) + "\n"
