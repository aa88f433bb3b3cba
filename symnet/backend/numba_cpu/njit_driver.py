"""The whole graph as ONE njit function (opt-in): a call is one dispatch.

When every node of the plan is a compiled kernel or a driver op whose
template is numba code too (``driver_op(..., njit=True)``: views, shapes,
slices, joins; ``Dot`` of 2-D float matrices when numpy's BLAS has a CBLAS
gemm; no ``perform`` fallback), the body of the Python driver is also valid
numba code.  Two substitutions make it so: ``_np.dot(`` (numba's needs
SciPy, which is not a dependency) becomes ``_dot(``, the GEMM of
``lib/cblas.py`` that calls numpy's own BLAS; ``_np.reshape(`` becomes
``_reshape(``, which makes its input C-contiguous first (numba reshapes
nothing else; numpy copies most such inputs too).  ``module_text`` wraps
it in ``drive(*inputs, *consts)``, decorated with ``@nb.njit`` (typed on
first call) in a module of the disk cache that imports the graph's kernels
from their own cached modules, so numba caches the driver's machine code
like the kernels'.

It is opt-in (``SYMNET_NUMBA_NJIT_DRIVER=1``, or a mode with
``njit_driver = True``) because it costs one more numba compilation per
distinct graph, paid on the first call; ``make_run`` measures it
(``linker.njit_compile_s``).  Graphs it cannot take keep the Python driver.

If numba cannot compile ``drive`` (a template numba does not support in
some case), the function keeps the Python driver with a warning (an error
under ``SYMNET_STRICT``).  Errors stay named: when ``drive`` raises, the call is run again by the
Python driver (the same kernels), which raises the error naming the node;
should that run succeed, the njit driver itself is at fault and a
``KernelRuntimeError`` says so.  Nothing is returned from another backend.
"""
import hashlib
import os
import time
import warnings

import numpy as np

from ...configdefaults import config
from ..registry import kernel_for
from .codegen import KERNEL_HEAD, _fastmath_text, is_tensor, lib_source

__all__ = ["requested", "eligible", "module_text", "make_run"]


def requested(mode):
    """Whether ``mode`` asks for njit drivers (``njit_driver = True``) or
    ``SYMNET_NUMBA_NJIT_DRIVER`` does; the graph's and a scan loop's alike."""
    return bool(getattr(mode, "njit_driver", False)) or \
        os.environ.get("SYMNET_NUMBA_NJIT_DRIVER", "") not in ("", "0")


def eligible(src, fgraph):
    """Whether the graph's Python driver body can run as one njit function:
    every node a kernel or a driver op whose template says ``njit=True``."""
    for node, kind in src.kinds.items():
        if kind == "perform":
            return False
        if kind == "driver" and not _njit_ok(node):
            return False
    return bool(src.kinds) and all(is_tensor(v) for v in fgraph.inputs + fgraph.outputs)


def _njit_ok(node):
    """Whether the driver template of ``node`` writes numba code (``njit_ok``:
    a bool, or a function of the node)."""
    ok = getattr(kernel_for("numba", type(node.op)), "njit_ok", False)
    return bool(ok(node)) if callable(ok) else bool(ok)


def drive_text(src, kernel_args=()):
    """The source of ``drive`` (the driver body as one function); the
    functions named in ``kernel_args`` are its last parameters instead of
    globals."""
    consts = [f"c{k}" for k in range(len(src.consts))]
    outs = src.out_names
    lines = ["@nb.njit(**_FLAGS)",
             f"def drive({', '.join(src.in_names + consts + list(kernel_args))}):",
             "    # the whole graph: one dispatch per call"]
    lines += ["    " + ln for ln in src.body]
    lines.append(f"    return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    return "\n".join(lines).replace(_DOT, "_dot(").replace(_SDOT, "_dot(") \
        .replace(_RESHAPE, "_reshape(") + "\n"


def module_text(src, kernel_modules, kernel_args=None):
    """The cached module defining ``drive``; ``kernel_modules`` maps each
    kernel's local name to the module it is imported from.  With
    ``kernel_args`` (the scan loop's) no kernel is imported: ``drive`` takes
    the kernels named there (and ``_dot`` if named) as its last arguments,
    ``KernelRef``s called by address (``kernel_ref.py``); ``tcopy`` (a
    swapped ``Dot``'s C-order copy, ``blas.py``) is imported either way."""
    parts = [KERNEL_HEAD.format(fastmath=_fastmath_text()).replace(
        "One kernel of symnet's numba backend (shared by every graph using it)",
        "The njit driver of one graph (symnet's numba backend)"),
        "import numpy as _np\n\n_C = _np.ascontiguousarray\n"]
    if kernel_args is None:
        for kname, module in sorted(kernel_modules.items()):
            parts.append(f"from {module} import kernel as {kname}  # noqa: E402\n")
    body = drive_text(src, kernel_args or ())
    if "_dot(" in body and "_dot" not in (kernel_args or ()):
        # the lib's digest in the text: a changed GEMM gives the module a new cache key
        digest = hashlib.sha256(lib_source("cblas").encode()).hexdigest()[:16]
        parts.append(f"from {_CBLAS} import dot as _dot  # noqa: E402 (lib {digest})\n")
    if "_tcopy(" in body:     # Dot's transposed product (blas.py)
        digest = hashlib.sha256(lib_source("transpose").encode()).hexdigest()[:16]
        parts.append(f"from {_TRANSPOSE} import tcopy as _tcopy  # noqa: E402 (lib {digest})\n")
    if "_reshape(" in body:
        parts.append(_RESHAPE_C)
    parts.append("\n\n" + body)
    return "".join(parts)


# what ``Dot``'s template writes (``_sdot``: in a scan step, ``step_dot.py``),
# and the module whose ``dot`` replaces it
_DOT, _SDOT = "_np.dot(", "_sdot("
_CBLAS = __package__ + ".lib.cblas"
_TRANSPOSE = __package__ + ".lib.transpose"
# numba reshapes C-contiguous arrays only (numpy copies the others itself)
_RESHAPE = "_np.reshape("
_RESHAPE_C = """

@nb.njit(**_FLAGS)
def _reshape(x, shape):
    return _np.reshape(_np.ascontiguousarray(x), shape)
"""


def make_run(linker, drive, python_run):
    """The thunk body calling ``drive``: 0-d results become 0-d arrays of
    their dtype; a failure is named by ``python_run`` (see module doc)."""
    consts = list(linker.consts)
    scalar_outs = [(k, v.type.dtype) for k, v in enumerate(linker.fgraph.outputs)
                   if v.type.ndim == 0]
    state = {"first": True, "fallback": None}

    def run(*args):
        if state["fallback"] is not None:
            return state["fallback"](*args)
        if state["first"]:      # typed and compiled (or loaded) on the first call
            t0 = time.perf_counter()
            res = _first_call(linker, drive, args, consts, python_run, state)
            linker.njit_compile_s = time.perf_counter() - t0
            state["first"] = False
            if state["fallback"] is not None:
                return state["fallback"](*args)
        else:
            try:
                res = drive(*args, *consts)
            except Exception as exc:
                return linker._njit_failed(exc, python_run, args)
        out = list(res)
        for k, dt in scalar_outs:
            out[k] = np.asarray(out[k], dtype=dt)
        return out
    return run


def _first_call(linker, drive, args, consts, python_run, state):
    """The first call compiles ``drive``; if numba cannot compile it, the
    Python driver takes over for good, with a warning (an error under
    ``SYMNET_STRICT``)."""
    from numba.core.errors import NumbaError
    try:
        return drive(*args, *consts)
    except NumbaError as exc:
        if config.strict:
            raise
        warnings.warn(f"the njit driver could not be compiled ({type(exc).__name__}: "
                      f"{str(exc)[:300]}); this function keeps the Python driver",
                      RuntimeWarning, stacklevel=4)
        state["fallback"] = python_run
        return None
    except Exception as exc:
        return linker._njit_failed(exc, python_run, args)
