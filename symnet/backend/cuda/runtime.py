"""Finding a GPU (or numba's CUDA simulator), launch sizes, kernel compiling.

``cuda()`` returns the ``numba.cuda`` module once it is known usable, else
raises ``CudaUnavailableError`` saying why (numba-cuda not installed, no
driver, no device) and how to run the simulator instead.

``SIM`` says whether numba runs the simulator (``NUMBA_ENABLE_CUDASIM=1``):
every thread of a simulated block is a Python thread, so launches there use
one small block (grid-stride loops still cover every element) and a small
``TPB`` for the block tree reductions.

``compile_kernel(text)`` execs a generated kernel module once per distinct
text (per process) and returns its ``kernel``.  Kernels see ``cuda``, ``np``,
``math`` and ``_rint``; in the simulator a kernel is plain Python, where
``math.exp(1e4)`` raises instead of giving inf, so there ``math`` is
``SIM_MATH`` (math's names on numpy's functions): the generated text is the
same on both.
"""
import math
import os
import types

import numpy as np

__all__ = ["cuda", "CudaUnavailableError", "is_sim", "launch", "tpb", "compile_kernel", "unravel",
           "SIM_HINT"]

SIM_HINT = ("to run the CUDA backend without a GPU, use numba's CUDA simulator: set "
            "NUMBA_ENABLE_CUDASIM=1 in the environment before starting Python "
            "(slow: for tests and debugging only)")

# threads per block on a GPU, and blocks at most per launch (grid-stride loops
# cover the rest)
GPU_TPB = 256
GPU_MAX_BLOCKS = 4096
# in the simulator every thread is a Python thread
SIM_TPB = 4


class CudaUnavailableError(ValueError):
    """``mode='cuda'`` cannot run here; the message says why and what to do
    (a ValueError, as for any backend that is not available)."""


_STATE = {}


def cuda():
    """The usable ``numba.cuda`` module (see the module docstring)."""
    mod = _STATE.get("cuda")
    if mod is not None:
        return mod
    try:
        from numba import cuda as mod
    except ImportError as exc:
        raise CudaUnavailableError(
            f"the 'cuda' backend is not available here: it needs numba-cuda, which is "
            f"not installed ({exc}); "
            f"pip install 'symnet[cuda]' on a machine with an NVIDIA GPU, or "
            f"pip install numba-cuda and {SIM_HINT}") from None
    if not _sim_enabled():
        try:
            ok = mod.is_available()
        except Exception as exc:   # a broken driver install raises here
            ok, why = False, f"{type(exc).__name__}: {exc}"
        else:
            why = "no CUDA driver or no NVIDIA device was found"
        if not ok:
            try:
                mod.detect()
            except Exception as exc:
                why = f"{why} ({type(exc).__name__}: {str(exc).strip()[:200]})"
            raise CudaUnavailableError(f"the 'cuda' backend is not available here: {why}; "
                                       f"{SIM_HINT}")
    _STATE["cuda"] = mod
    return mod


def _sim_enabled():
    from numba import config
    return bool(getattr(config, "ENABLE_CUDASIM", 0)) or \
        os.environ.get("NUMBA_ENABLE_CUDASIM", "") not in ("", "0")


def is_sim():
    """Whether kernels run on numba's CUDA simulator."""
    return _sim_enabled()


def tpb():
    """Threads per block of the block tree reductions (a power of two)."""
    return SIM_TPB if is_sim() else GPU_TPB


def launch(n):
    """``(blocks, threads)`` of a grid-stride launch over ``n`` items."""
    if is_sim():
        return 1, SIM_TPB
    blocks = max(1, min(GPU_MAX_BLOCKS, (int(n) + GPU_TPB - 1) // GPU_TPB))
    return blocks, GPU_TPB


def _sim_math():
    """``math``'s names on numpy's functions (IEEE results, no exceptions)."""
    ns = types.SimpleNamespace()
    for name in ("exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "tanh", "sinh",
                 "cosh", "sin", "cos", "tan", "floor", "ceil", "trunc", "isinf", "isnan"):
        setattr(ns, name, getattr(np, name))
    for mname, npname in (("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"),
                          ("asinh", "arcsinh"), ("acosh", "arccosh"), ("atanh", "arctanh"),
                          ("atan2", "arctan2")):
        setattr(ns, mname, getattr(np, npname))
    return ns


SIM_MATH = _sim_math()


def _rint_gpu():
    from numba.cuda import libdevice
    return libdevice.rint


def namespace(sim):
    """Globals the generated kernels use beyond ``cuda`` and ``np``."""
    if sim:
        return {"math": SIM_MATH, "_rint": np.rint}
    return {"math": math, "_rint": _rint_gpu()}


def unravel(names, array, var="flat", indent=4):
    """Kernel source splitting the flat C-order index ``var`` over the axes
    of ``array`` into ``names`` (one per axis)."""
    pad = " " * indent
    lines = [f"{pad}_t = {var}"]
    for k in range(len(names) - 1, 0, -1):
        lines += [f"{pad}{names[k]} = _t % {array}.shape[{k}]",
                  f"{pad}_t = _t // {array}.shape[{k}]"]
    lines.append(f"{pad}{names[0]} = _t")
    return "\n".join(lines) + "\n"


_KERNELS = {}
KERNEL_MODULE = "symnet_cuda_kernel"   # the generated kernels' module name


def compile_kernel(text):
    """The ``kernel`` defined by the module source ``text`` (compiled by
    numba-cuda on its first launch; one per distinct text per process)."""
    fn = _KERNELS.get(text)
    if fn is None:
        ns = {"cuda": cuda(), "np": np, "__name__": KERNEL_MODULE}
        ns.update(namespace(is_sim()))
        if is_sim():
            # simulated threads do not inherit np.errstate: IEEE results are
            # intended (as on a GPU), so numpy's warnings about them are muted
            import warnings
            warnings.filterwarnings("ignore", category=RuntimeWarning,
                                    module=KERNEL_MODULE)
        exec(compile(text, "<symnet cuda kernel>", "exec"), ns)
        fn = _KERNELS[text] = ns["kernel"]
    return fn
