"""The Numba CPU linker: plan -> source -> compiled kernels -> thunk.

``NumbaLinker(fgraph, mode)`` does three things, each in its own module:

1. *analysis*: ``backend.plan.build_plan`` (steps, runs of elementwise
   nodes, protected buffers, fresh outputs), shared with every backend;
2. *source*: ``codegen.generate`` writes the kernels and the driver;
3. *compile* (here): each distinct kernel text is one module in the disk
   cache (``cache.py``), compiled with ``numba.njit`` once per machine, or
   loaded on its first call when an earlier process compiled it (several
   new kernels: part compiled in a forked worker, ``workers.py``); then the
   driver is executed and ``make_thunk`` returns it as the thunk
   (``registry.Thunk``).

Failures are never silent:

* a kernel that fails to *compile* makes the whole graph run on the ``py``
  linker with a warning (an error under ``SYMNET_STRICT``);
* a call that fails at *run time* raises the error naming the node (and the
  user line that built it), found from the driver line that raised.  The
  old replay of the call on the ``py`` backend is a debugging option only:
  ``SYMNET_NUMBA_REPLAY=1`` or a mode with ``replay_on_error = True``; it
  warns every time and ``SYMNET_STRICT`` refuses it.  KeyboardInterrupt
  (also when numba reports it as a ``SystemError`` whose cause is one) is
  re-raised as is, never replayed.

With ``SYMNET_NUMBA_NJIT_DRIVER=1`` a graph whose every node is a kernel
runs as one njit function instead of the Python driver (``njit_driver.py``).

Updates that the plan may write into their shared storage (``plan.tail``,
``backend/update_tail.py``) run last and in place (``inplace.py``);
``SYMNET_NUMBA_INPLACE_UPDATES=0`` writes every update into a fresh array.

``Mode('numba', parallel=True)`` makes elementwise loops and fused runs over
at least ``elemwise.PARALLEL_MIN_SIZE`` elements run their outer loop as a
``prange`` (see ``fused.py`` and ``threads.py``).

Kernels return fresh arrays, so the first compiled function raises glibc's
malloc thresholds once per process (``tune_malloc``): freed buffers are then
reused by the next call instead of being page-faulted in again.
"""
import itertools
import operator
import os
import time
import warnings

import numpy as np

from ...configdefaults import config
from ..._interrupt import reraise_interrupt
from ..plan import build_plan
from ..py.linker import PyLinker, node_error
from ..registry import register_linker, warn_fallback
from . import blas, codegen, njit_driver, step_dot
from .compiled import entry_point
from .budget import RunBudget
from .codegen import (DRIVER_FILE, FASTMATH, KERNEL_HEAD, SUPPORTED_DTYPES, Ctx,  # noqa: F401
                      is_tensor, kernel_module, literal, nb_type)
from .inplace import owned
from .dispatch import (FALLBACK_FAMILIES, FALLBACK_OPS, driver_op, load_families,  # noqa: F401
                       load_families_for)

__all__ = ["NumbaLinker", "Ctx", "FASTMATH", "FALLBACK_FAMILIES", "FALLBACK_OPS", "nb_type",
           "literal", "SUPPORTED_DTYPES", "driver_op", "KERNEL_HEAD", "tune_malloc",
           "KernelRuntimeError"]


def _replay_requested(mode):
    return bool(getattr(mode, "replay_on_error", False)) or \
        os.environ.get("SYMNET_NUMBA_REPLAY", "") not in ("", "0")


def _inplace_updates(mode):
    """Whether updates may be written into the shared storage (plan.tail,
    ``inplace.py``): by default, but not for the njit driver (``_owned`` is
    Python) nor with ``SYMNET_NUMBA_INPLACE_UPDATES=0``, nor under a NaN
    guard: it finds a bad value when the call returns (compile/instrument.py),
    after an in-place update would already have changed a shared variable."""
    return os.environ.get("SYMNET_NUMBA_INPLACE_UPDATES", "1") != "0" and \
        not njit_driver.requested(mode) and not getattr(mode, "nan_guard", None)


#: what ``NumbaLinker.__init__`` computes (the graph cache keeps it)
_STATE = ("fgraph", "plan", "order", "code", "consts", "names", "fallback_nodes", "steps",
          "kernel_texts", "driver_source", "fresh_outputs", "source")


class KernelRuntimeError(RuntimeError):
    """A compiled call failed where the driver cannot name the node."""


class NumbaLinker:
    """Compile a FunctionGraph into kernels plus a driver (see module doc)."""

    backend = "numba"

    def __init__(self, fgraph, mode=None):
        load_families_for({type(node.op) for node in fgraph.apply_nodes})
        self.fgraph = fgraph
        self.mode = mode
        self.plan = build_plan(fgraph, value_ok=is_tensor, budget=RunBudget,
                               inplace_updates=_inplace_updates(mode),
                               column_sums=True,     # bias gradients: colsum.py
                               unify_sizes=getattr(mode, "scan_step", False))
        self.order = self.plan.order
        self._py = None
        from . import gemm_split
        from .llvm import hook      # the llvm emitter, where asked for (llvm/)
        src = self.code = codegen.generate(self.plan, mode, hook,
                                           split=gemm_split.chosen(self.plan, mode))
        self.consts = src.consts
        self.names = src.names
        self.fallback_nodes = src.fallback_nodes
        self.steps = src.steps     # for symnet.compile.instrument
        self.kernel_texts = src.kernels
        self.driver_source = src.driver
        self.fresh_outputs = self.plan.fresh_outputs(lambda n: src.kinds.get(n) != "perform")
        self.source = src.listing()

    def state(self):
        """What ``__init__`` computed (plan and source), for the graph cache
        (``graph_cache.py``): everything but the mode."""
        return {k: getattr(self, k) for k in _STATE}

    @classmethod
    def restore(cls, state, mode):
        """The linker ``__init__`` would build, from its cached ``state``
        (the op families' kernel modules are not imported: they write
        source, and the source is written)."""
        linker = cls.__new__(cls)
        linker.__dict__.update(state, mode=mode, _py=None)
        for node in linker.fallback_nodes:      # said as the code generator says it
            warn_fallback("numba", node.op)
        return linker

    @property
    def kernel_names(self):
        """Kernel text -> the name the driver calls it by, for every kernel
        of both emitters (numba's ``k<n>``, the llvm emitter's ``L<n>``);
        ``ns[name]`` is the callable (DebugMode and the tests patch it)."""
        return {**self.kernel_texts, **self.code.llvm_names}

    def emitter_of(self, kname):
        """'llvm' or 'numba': who built kernel ``kname``."""
        return "llvm" if kname in self.code.llvm_kernels else "numba"

    # -- compilation ------------------------------------------------------------

    def make_thunk(self):
        from .cache import cached_code, compiled_before, module_path
        kernels, self.paths = {}, []
        self.ns = ns = {"np": np, "_np": np, "_C": np.ascontiguousarray, "_owned": owned,
                          "_starmap": itertools.starmap, "_call": operator.call,
                          "_tcopy": blas.tcopy, "_into": codegen.into, "_sdot": step_dot.dot}
        # a split step's helpers (gemm_split.py, with its thread crew): not
        # imported for a driver without one (a warm graph-cache hit)
        split = "_gsdot(" in self.driver_source or "_ptail(" in self.driver_source
        if split or "_pltail(" in self.driver_source:    # step_pool.tail runs gemm_split's
            from . import gemm_split
        if split:
            ns.update(_gsdot=gemm_split.pdot, _ptail=gemm_split.ptail)
        try:
            new = []
            for text, kname in self.kernel_texts.items():
                libs = self.code.kernel_libs[kname]
                body = kernel_module(text, libs)
                if compiled_before(body, "k"):
                    # compiled by an earlier call or process: imported (with
                    # numba itself) on the first call, not now
                    kernels[kname] = _LazyKernel(self, kname, body)
                    self.paths.append(module_path(body, "k"))
                else:
                    new.append((kname, body, {f"{m}.{n}" for m in libs for n in libs[m]}))
            if self.code.llvm_kernels:     # the llvm emitter's kernels: one module (llvm/)
                from .llvm.jit import bind
                kernels.update(bind(self.code.llvm_kernels))
            # several new kernels: part compiled in a forked worker (workers.py,
            # not imported where every kernel is cached)
            self.worker_kernels = 0
            if new:
                from . import workers
                self.worker_kernels = workers.compile_kernels(
                    new, lambda kname, body: kernels.__setitem__(
                        kname, self._load_kernel(kname, body)), _compile_body)
        except Exception as exc:
            reraise_interrupt(exc)   # a Ctrl-C inside numba: never a py fallback
            if config.strict:
                raise
            warnings.warn(f"the numba backend failed to compile this graph "
                          f"({type(exc).__name__}: {str(exc)[:300]}); running it on "
                          f"the py backend instead", RuntimeWarning, stacklevel=4)
            py = self._py_linker()
            py.source = self.source
            py.fresh_outputs = None
            return py
        self.kernels = kernels
        tune_malloc()
        ns.update((kname, self._bound(kname, fn)) for kname, fn in kernels.items())
        ns["_step"] = lambda k, results: None   # replaced by the instrumentation
        exec(cached_code(self.driver_source, DRIVER_FILE), ns)
        run = plain = ns["make_run"](self.consts, self._perform, self._recover)
        if split:
            # a split step (gemm_split.py): BLAS at one thread
            run = gemm_split.hold_blas(run)
        source = self.source
        if njit_driver.requested(self.mode) and not getattr(self.mode, "step_hooks", False) \
                and njit_driver.eligible(self.code, self.fgraph):
            run, text = self._njit_run(run)
            source += "\n# -- the whole graph as one njit function (used instead of run)\n" \
                + text
        # which outputs ``run(..., _o=buffers)`` writes into given buffers
        # (codegen.Source.given); a wrapped run takes no buffers
        run.given_outputs = self.code.given if run is plain else ()
        run.source = source
        run.linker = self
        run.fresh_outputs = self.fresh_outputs
        return run

    def _njit_run(self, python_run):
        """The thunk calling the whole graph as one njit function (see
        ``njit_driver.py``); every kernel is loaded now, not lazily."""
        from .cache import load_module, module_name
        modules = {}
        for text, kname in self.kernel_texts.items():
            body = kernel_module(text, self.code.kernel_libs[kname])
            self._load_kernel(kname, body)
            modules[kname] = module_name(body)
        text = njit_driver.module_text(self.code, modules)
        drive = load_module(text, "d")[0].drive
        return njit_driver.make_run(self, drive, python_run), njit_driver.drive_text(self.code)

    def _njit_failed(self, exc, python_run, args):
        """``drive`` raised: the Python driver runs the call to name the node."""
        reraise_interrupt(exc)   # a Ctrl-C surfacing as SystemError: never replayed
        python_run(*args)     # raises the error naming the node, as without njit
        raise KernelRuntimeError(
            f"the njit driver failed ({type(exc).__name__}: {exc}) where the Python "
            f"driver running the same kernels did not; unset SYMNET_NUMBA_NJIT_DRIVER "
            f"and please report this") from exc

    def _load_kernel(self, kname, body):
        """Import (compiling if need be) the kernel module ``body`` and bind
        its kernel to ``kname`` in the driver."""
        from .cache import load_module
        module, path, key = load_module(body, "k")
        if path not in self.paths:
            self.paths.append(path)
        fn = module.kernel
        if hasattr(self, "kernels"):
            self.kernels[kname] = fn
        self.ns[kname] = self._bound(kname, fn)
        return fn

    def _bound(self, kname, fn):
        """What the driver calls for the loaded kernel ``fn``: its compiled
        entry point where every call passes arguments of exactly its types
        (codegen's ``direct_kernels``): no type dispatch (compiled.py)."""
        if kname in self.code.direct_kernels and hasattr(fn, "overloads"):
            return entry_point(fn)
        return fn

    def _py_linker(self):
        if self._py is None:
            self._py = PyLinker(self.fgraph)
        return self._py

    def _perform(self, k, vals):
        """A fallback node's ``perform`` (its errors are named by ``_recover``)."""
        node = self.order[k]
        storage = [[None] for _ in node.outputs]
        with np.errstate(all="ignore"):
            node.op.perform(node, list(vals), storage)
        return [cell[0] for cell in storage]

    # -- run-time errors --------------------------------------------------------

    def _failed_node(self, exc):
        """(node, its input values) of the driver line that raised ``exc``."""
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_filename == DRIVER_FILE and frame.f_code.co_name == "run":
                node = self.code.node_at(tb.tb_lineno)
                if node is None:
                    return None, None
                local = frame.f_locals
                vals = self._driver_values(node.inputs, local, {})
                if any(x is None for x in vals):
                    return self._fused_member(node, local) or (node, vals)
                return node, vals
            tb = tb.tb_next
        return None, None

    def _driver_values(self, inputs, local, known):
        """The values of ``inputs`` in the driver frame's ``local`` (or in
        ``known``); None for one computed inside a fused loop."""
        vals = [known[v] if v in known else
                local.get(self.names.get(v, ""), getattr(v, "data", None)) for v in inputs]
        # a kernel's scalar result is a Python scalar in the driver
        # (codegen's ``raw``): ``perform`` expects it typed
        return [np.asarray(x, v.type.dtype)
                if isinstance(x, (bool, int, float, complex)) and is_tensor(v) else x
                for v, x in zip(inputs, vals)]

    def _fused_member(self, node, local):
        """(member, its input values) of the fused loop ending at ``node``
        whose ``perform`` fails first, or None.  The driver names only the
        loop's last node, whose inputs live inside the loop; blaming it
        would name the wrong op and user line (a shape mismatch of an
        ``add`` reported at the ``sum`` after it).  Runs on the error path
        only, on the loop's inputs, and the call raises either way."""
        members = next((nodes for nodes, *_ in self.steps if node in nodes), ())
        known = {}
        for member in members:
            vals = self._driver_values(member.inputs, local, known)
            if any(x is None for x in vals):
                return None
            storage = [[None] for _ in member.outputs]
            try:
                with np.errstate(all="ignore"):
                    member.op.perform(member, list(vals), storage)
            except Exception:
                return member, vals
            known.update((v, cell[0]) for v, cell in zip(member.outputs, storage))
        return None

    def _recover(self, exc, args):
        """A call failed: raise its error naming the node (or, as an explicit
        debugging option, replay the call on the py linker)."""
        reraise_interrupt(exc)   # a Ctrl-C surfacing as SystemError: never replayed
        node, vals = self._failed_node(exc)
        if _replay_requested(self.mode) and not config.strict:
            # raises itself (naming the node) where py fails too
            result = [r.copy() if isinstance(r, np.ndarray) else r
                      for r in self._py_linker()(*args)]
            where = f" at node {node.op.short_name()}" if node is not None else ""
            warnings.warn(f"the numba kernel failed{where} ({type(exc).__name__}: {exc}); "
                          f"the call was replayed on the py backend because "
                          f"SYMNET_NUMBA_REPLAY / replay_on_error asks for it",
                          RuntimeWarning, stacklevel=3)
            return result
        if node is None:
            raise KernelRuntimeError(f"the numba driver failed ({type(exc).__name__}: "
                                     f"{exc})") from exc
        raise node_error(_reference_error(node, vals) or exc, node, vals) from exc


def _reference_error(node, vals):
    """The error the py reference raises for ``node`` on ``vals``, or None.

    A kernel's messages are constants fixed at compile time ("label out of
    range"); the op's ``perform`` says which values were wrong and what was
    expected.  Only the failing node runs, only on this error path, and the
    call raises either way: nothing is replayed."""
    if any(v is None for v in vals):     # an input computed inside a fused loop
        return None
    storage = [[None] for _ in node.outputs]
    try:
        with np.errstate(all="ignore"):
            node.op.perform(node, list(vals), storage)
    except Exception as ref:
        return ref
    return None


def _compile_body(body):
    """What the compile worker does per kernel: compile it into the cache."""
    from .cache import load_module
    load_module(body, "k")


class _LazyKernel:
    """Stands in the driver for a kernel compiled before: its first call
    imports the cached module and rebinds the driver's name to the kernel."""

    def __init__(self, linker, kname, body):
        self.linker, self.kname, self.body = linker, kname, body

    def __call__(self, *args):
        return self.load()(*args)

    def load(self):
        """Import the kernel now (tiered execution does so in the background)."""
        return self.linker._load_kernel(self.kname, self.body)


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


def numba_linker(fgraph, mode=None):
    """The linker factory registered as 'numba'."""
    t0 = time.perf_counter()
    linker = NumbaLinker(fgraph, mode)
    t1 = time.perf_counter()
    thunk = linker.make_thunk()
    linker.times = {"codegen": t1 - t0, "compile": time.perf_counter() - t1}  # profile
    return thunk


register_linker("numba", numba_linker)
