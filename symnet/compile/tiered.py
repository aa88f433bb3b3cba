"""Tiered execution: a function runs on ``py`` until its numba code is compiled.

A cold numba compile of an unusual graph can take many seconds; Theano's
users learnt to wait.  With tiering ``function()`` returns as soon as the
graph is rewritten (in auto mode, also its source generated, to count the
kernels the cache lacks); the source (where not written yet) and the
kernels are compiled in a
background thread while calls run on the ``py`` backend (the reference every
backend agrees with); the first call that starts after the compile finished
runs the compiled code.  A switch happens only between calls, never inside
one, and both tiers read and write the same shared variables through
``Function``, so updates, random streams and in-place rewrites behave the
same whichever tier ran a call.

When it is on (``Mode(tiered=...)``, else ``SYMNET_TIERED``):

- ``tiered=True`` / ``SYMNET_TIERED=1``: always, for the numba backend.
- ``tiered=False`` / ``SYMNET_TIERED=0``: never; ``function()`` compiles.
- ``tiered=None`` (the default) with ``SYMNET_TIERED`` unset or ``auto``:
  when at least ``AUTO_MIN_NEW_KERNELS`` kernels are not in the kernel
  cache yet (a module of the llvm emitter counts as one kernel), i.e. when
  the compile would be slow, and when the graph has numba kernels, all
  cached, but this process has loaded none yet: numba's start-up (importing
  it and its first dispatch, about 0.5 s) then runs in the background
  while the first calls run on py (the llvm emitter's kernels need no
  numba: a graph of only those is not tiered for it).  Otherwise (a warm cache in a process
  that runs numba already, or a small graph) it compiles at once, so
  ``f.source``, ``f.thunk.linker`` and backend comparisons see the
  compiled code.  The
  test suite runs with ``SYMNET_TIERED=0`` (``tests/conftest.py``) so that
  a numba test never silently tests ``py``; the tiering tests ask for it.

The compile thread is not a daemon: a script that ends before its compile
waits for it at exit, so the kernels reach the cache and the next run starts
on compiled code.

A first call never waits for the compiler, not even for ``import numba``:
the compile thread holds the GIL for most of its work (numba's typing and
lowering are Python), so started at once it would slow the first py call
about threefold.  It therefore starts when the first call returns, or
after ``START_GRACE_S`` seconds in which no call began (a script that
prepares its data first loses no compile time); ``wait_compiled`` starts
it at once.

``f.tier`` is the tier of the last call (``'py'`` or the backend's name),
``f.thunk.calls`` counts calls per tier, ``wait_compiled(f)`` blocks until
the compiled tier is in place.  Once the compile has ended, the tier is
final and ``Function`` calls the compiled thunk itself from its next call
on (``TieredThunk.final``): those calls no longer pay for this wrapper
(about 1 us, a third of a scalar function's call) and are not counted in
``calls``, which then ends with one call on the compiled tier (the switch).

Progress: a compile (tiered or not) still running after ``PROGRESS_AFTER_S``
seconds says so once on stderr, with how many kernels it compiles and how
many of them come from the cache, so that a long compile never looks like
a hang.
"""
import collections
import contextlib
import os
import sys
import threading
import time
import warnings

from ..configdefaults import config

__all__ = ["TieredThunk", "make_thunk", "wait_compiled", "tiered_enabled",
           "tier_counts", "describe_tiers", "AUTO_MIN_NEW_KERNELS", "PROGRESS_AFTER_S",
           "Progress", "START_GRACE_S"]

#: in auto mode, tier a function when at least this many kernels are new
AUTO_MIN_NEW_KERNELS = 3
#: seconds after which a compile still running prints its one message
#: (None: never)
PROGRESS_AFTER_S = 3.0
#: a tiered compile starts when the first call returns, or this many
#: seconds after ``function()`` when no call has begun by then
START_GRACE_S = 0.5


class Progress:
    """Print ``message()`` once on stderr if not stopped within ``after`` s.

    A timer thread rather than a check inside the compile: numba compiles
    one kernel at a time without calling back, and a kernel may take long.
    """

    def __init__(self, message, after=None):
        self.message = message
        self.after = PROGRESS_AFTER_S if after is None else after
        self.said = None
        self._timer = None

    def _say(self):
        self.said = self.message()
        print(self.said, file=sys.stderr, flush=True)

    def __enter__(self):
        if self.after is not None:
            self._timer = threading.Timer(self.after, self._say)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc):
        if self._timer is not None:
            self._timer.cancel()
        return False


def tiered_enabled(mode, n_new, numba_started=True):
    """Whether a function of ``mode`` whose compile needs ``n_new`` kernels
    not in the cache yet runs tiered (see the module docstring); with
    ``n_new=None``, None where that depends on the count.
    ``numba_started`` False: its kernels are cached but this process has
    loaded none yet, so its first compiled call would start numba."""
    if getattr(mode, "step_hooks", False):
        return False     # the NaN guard, DebugMode and profile instrument the compiled driver
    flag = getattr(mode, "tiered", None)
    if flag is None:
        env = os.environ.get("SYMNET_TIERED", "auto").strip().lower()
        if env in ("1", "true", "yes", "on"):
            flag = True
        elif env in ("0", "false", "no", "off"):
            flag = False
        elif env not in ("", "auto"):
            raise ValueError(f"SYMNET_TIERED must be 0, 1 or auto, got {env!r}")
    if flag is None:     # (``n_new`` None: not counted yet, so not decided)
        if n_new is None:
            return None
        return n_new >= AUTO_MIN_NEW_KERNELS or not numba_started
    return bool(flag)


def kernels_loaded():
    """Whether this process has loaded a numba kernel already (numba's
    start-up, its import and first dispatch, about 0.5 s, is behind it)."""
    from ..backend.numba_cpu.cache import loaded_any
    return loaded_any()


def _kernel_counts(linker):
    """``(kernels, of which from the cache, new, numba kernels, llvm ones)``
    of a numba linker's graph.  An llvm kernel comes from the cache when its
    module does (``llvm/jit.py``); ``new`` counts each new numba kernel and
    each new llvm module (of bounded size, ``budget.MODULE_BUDGET``)."""
    from ..backend.numba_cpu.cache import compiled_before
    from ..backend.numba_cpu.linker import kernel_module
    texts = getattr(linker, "kernel_texts", {})
    libs = linker.code.kernel_libs if texts else {}
    cached = sum(1 for t, kname in texts.items()
                 if compiled_before(kernel_module(t, libs[kname]), "k"))
    new = len(texts) - cached
    llvm = getattr(getattr(linker, "code", None), "llvm_kernels", None) or {}
    if llvm:
        from ..backend.numba_cpu.llvm.jit import cached_modules
        mods, mods_cached = cached_modules(llvm)
        new += mods - mods_cached
        cached += len(llvm) if mods == mods_cached else 0
    return len(texts) + len(llvm), cached, new, len(texts), len(llvm)


def _compile_message(name, counts, tiered):
    n, cached, _, _, n_llvm = counts
    what = f"function {name!r}" if name else "a function"
    by = f", {n_llvm} by the llvm emitter" if n_llvm else ""
    msg = (f"symnet: still compiling {n} kernel{'s' if n != 1 else ''} "
           f"({cached} from the cache{by}) for {what}")
    if tiered:
        return msg + "; its calls run on the py backend until the compile ends"
    return msg + " (Mode(tiered=True) runs calls on py meanwhile)"


def make_thunk(fgraph, mode, name=None, cached=None):
    """The thunk ``function()`` calls: the backend's compiled one, or a
    ``TieredThunk`` when tiering is on for this graph.  ``cached``: the
    graph's ``graph_cache.Entry`` (numba), whose plan and source a hit
    reuses and a miss stores."""
    from ..backend.registry import linker_for
    if mode.linker != "numba":
        return linker_for(mode.linker)(fgraph, mode)
    if tiered_enabled(mode, None) is True:
        # tiering asked for: the backend's modules are imported and the plan
        # and source written in the compile thread, so ``function()``
        # returns after the rewrites
        return TieredThunk(fgraph, mode, None, name)
    linker_for("numba")          # registers the backend
    from ..backend.numba_cpu.linker import NumbaLinker
    t_gen = time.perf_counter()
    state = None
    if cached is not None and cached.hit:
        linker = NumbaLinker.restore(cached.state, mode)
    else:
        with watch_misses(cached):
            linker = NumbaLinker(fgraph, mode)      # source only: no compile yet
        if cached is not None:
            state = linker.state()
    t_gen = time.perf_counter() - t_gen
    counts = _kernel_counts(linker)
    # numba's start-up matters only to a graph with numba kernels (the llvm
    # emitter's are loaded without numba)
    n_numba = counts[3]
    if not tiered_enabled(mode, counts[2], numba_started=n_numba == 0 or kernels_loaded()):
        with Progress(lambda: _compile_message(name, counts, False)):
            t0 = time.perf_counter()
            thunk = linker.make_thunk()
        # the profile's compile-time rows (the source was written above)
        linker.times = {"codegen": t_gen, "compile": time.perf_counter() - t0}
    else:
        thunk = TieredThunk(fgraph, mode, linker, name)
    if state is not None:
        # stored by function() once the Function is built (the entry is
        # written at exit: graph_cache.flush)
        cached.state = state
    return thunk


def watch_misses(cached):
    """The graph cache's watch on a miss's warnings (``graph_cache.watch``);
    nothing where the cache is not used (``cached`` None), so the module is
    not imported then."""
    if cached is None:
        return contextlib.nullcontext()
    from ..backend.numba_cpu import graph_cache
    return graph_cache.watch(cached)


class TieredThunk:
    """Runs calls on the py backend until ``linker.make_thunk()`` (run in a
    background thread) has built the compiled thunk, then on that."""

    backend = "numba"
    switches_tier = True      # Function asks ``fresh_outputs`` again once compiled
    source_later = True       # ``source`` may be written on demand (registry.check_thunk)

    def __init__(self, fgraph, mode, linker, name=None):
        from ..backend.registry import linker_for
        self._fgraph, self._mode, self._name = fgraph, mode, name
        self._linker = linker      # None: written by the compile thread
        self._linker_lock = threading.Lock()
        self._py = linker_for("py")(fgraph, mode)
        self._compiled = None
        self._tier_name = self.backend
        self._error = None
        self.calls = collections.Counter()
        self.last_tier = None
        self.compile_seconds = None
        self._done = threading.Event()
        self._go = threading.Event()       # set: the compile may start
        self._first_begun = False
        self._progress = Progress(self._message)
        # Not a daemon: a script that ends before the compile does waits for
        # it at exit, so the kernels reach the cache and its next run starts
        # compiled (a daemon thread would be killed and the work lost).
        self._thread = threading.Thread(target=self._compile, name="symnet-compile")
        self._thread.start()

    @property
    def fresh_outputs(self):
        """None (py's outputs may alias: Function checks them) until the
        compiled tier runs, then that thunk's."""
        compiled = self._compiled
        return None if compiled is None else getattr(compiled, "fresh_outputs", None)

    @property
    def compile_ended(self):
        """Whether the tier is final: the compile finished (or failed)."""
        return self._done.is_set()

    def final(self):
        """What ``Function`` calls instead of this wrapper from its current
        call on: None while the compile runs; then the compiled thunk (the
        switch is recorded here: ``last_tier``, and that call counted in
        ``calls``); this wrapper itself after a failed compile (it warns,
        then runs py)."""
        if not self._done.is_set():
            return None
        fn = self._compiled
        if fn is None:
            return self
        self.calls[self._tier_name] += 1
        self.last_tier = self._tier_name
        return fn

    @property
    def linker(self):
        """The ``NumbaLinker`` (plan and source; written now if the compile
        thread has not yet)."""
        if self._linker is None:
            with self._linker_lock:
                if self._linker is None:
                    from ..backend.registry import linker_for
                    linker_for("numba")          # registers the backend
                    from ..backend.numba_cpu.linker import NumbaLinker
                    self._linker = NumbaLinker(self._fgraph, self._mode)
        return self._linker

    @property
    def source(self):
        return self.linker.source

    def _message(self):
        if self._linker is None:     # still writing the source
            what = f"function {self._name!r}" if self._name else "a function"
            return (f"symnet: still writing the numba source for {what}; its calls "
                    f"run on the py backend until the compile ends")
        return _compile_message(self._name, _kernel_counts(self._linker), True)

    def _compile(self):
        # wait for the first call to end (see the module docstring); a call
        # that begins within the grace period is waited for to its end
        if not self._go.wait(START_GRACE_S) and self._first_begun:
            self._go.wait()
        t0 = time.perf_counter()
        with self._progress:
            try:
                # (warnings are not caught here: ``catch_warnings`` would swap
                # the whole process's filters while the compile runs)
                thunk = self.linker.make_thunk()
                # kernels of a warm cache load on their first call: load
                # them here, so the switch never makes a call wait
                for kernel in list(getattr(self.linker, "kernels", {}).values()):
                    if hasattr(kernel, "load"):
                        kernel.load()
                # ``make_thunk`` may itself fall back to py (with a warning)
                self._tier_name = getattr(thunk, "backend", self.backend)
                self._compiled = thunk
            except Exception as exc:  # reported by the next call, in its thread
                self._error = exc
        self.compile_seconds = time.perf_counter() - t0
        self._done.set()

    @property
    def tier(self):
        """The tier the next call runs on."""
        return self._tier_name if self._compiled is not None else "py"

    def _settle(self):
        """Once the compile ended with an error: raise it in the caller's
        thread under SYMNET_STRICT, else warn (once) and stay on py."""
        if self._error is not None:
            exc, self._error = self._error, None
            if config.strict:
                raise exc
            warnings.warn(f"compiling for the numba backend failed "
                          f"({type(exc).__name__}: {exc}); this function keeps "
                          f"running on the py backend", RuntimeWarning, stacklevel=4)

    def __call__(self, *args):
        if self._error is not None and self._done.is_set():
            self._settle()
        fn = self._compiled
        tier = "py" if fn is None else self._tier_name
        self.calls[tier] += 1
        self.last_tier = tier
        if fn is None and not self._go.is_set():
            self._first_begun = True
            try:
                return self._py(*args)
            finally:
                self._go.set()       # the first call is over: compile now
        return (self._py if fn is None else fn)(*args)

    def wait(self, timeout=None):
        """Block until the compile ended (or ``timeout`` s); True when the
        compiled tier will run the next call."""
        self._go.set()
        self._done.wait(timeout)
        if self._done.is_set():
            self._settle()
        return self._compiled is not None


def wait_compiled(fn, timeout=None):
    """Block until ``fn`` (a ``Function``) runs compiled code; True then.
    Functions that are not tiered are compiled already."""
    thunk = getattr(fn, "thunk", fn)
    if isinstance(thunk, TieredThunk):
        return thunk.wait(timeout)
    return True


def tier_counts(fn):
    """Calls of ``fn`` so far per tier (empty for a function not tiered)."""
    return collections.Counter(getattr(getattr(fn, "thunk", None), "calls", None) or {})


def describe_tiers(fn, before):
    """Which tier ran ``fn``'s calls since ``before`` (a ``tier_counts``):
    ``'numba'``, ``'py'``, or ``'py for 12 steps, then numba'``."""
    now = tier_counts(fn)
    now.subtract(before)
    py, other = now.get("py", 0), sum(n for t, n in now.items() if t != "py")
    if py > 0 and other > 0:
        return f"py for {py} step{'s' if py != 1 else ''}, then {fn.tier}"
    return fn.tier
