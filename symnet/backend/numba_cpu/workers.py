"""Compiling a graph's new kernels in two processes at once.

numba compiles one function at a time under a global lock, and most of the
work (typing, lowering) is Python under the GIL, so threads do not help.
A cold graph with several new kernels (W3: four, about 0.2 s of numba work
each) therefore forks one worker process (issue #13): the worker compiles
part of the kernels into the kernel cache (``cache.load_module``, numba's
``cache=True``) while this process compiles the rest; this process then
loads the worker's kernels from the cache (milliseconds each).  The work is
split so that kernels calling the same library helper (``_tanh32`` ...)
land in the same process, which then compiles the helper once.

``fork`` rather than a fresh interpreter: the child starts with numpy,
numba and symnet imported (a fresh one would spend 0.5 s importing them,
more than it saves).  It runs only where fork is safe enough: Linux, the
main thread, no MPI (``mpi4py`` imported), at least two CPUs.  The parent
holds the cache's import lock and numba's compiler lock across the fork,
so the child never inherits a lock held by another thread.

Failures are never silent: a worker that raises, dies or hangs (past
``WORKER_TIMEOUT_S``) is reported with a warning, and its kernels are
compiled in this process (the same code, so the same results); under
``SYMNET_STRICT`` it is an error instead.  Ctrl-C while waiting kills the
worker and is re-raised.

A worker only pays where a CPU is idle: on a busy machine the two
processes share one CPU and the split costs more than it saves (each pays
numba's start-up, about 0.2 s; the child pages in copies of the parent's
memory).  ``SYMNET_NUMBA_WORKERS=auto`` forks only when ``/proc/loadavg``
counts fewer runnable tasks than CPUs (an instant sample, not the minute
average, which lags); ``1`` forks wherever it can run (the tests); ``0``,
the default, never.  It is opt-in because the quiet bench run did not show
the gain the CPU accounting below promised: W3 cold with ``0`` against
``1``, one run each on the idle 2-core box (bench/RESULTS.md, sixth
session): N=20 1.42 against 0.97 s, N=100 1.22 against 1.34 s, N=400 1.48
against 1.79 s.

Measured (#13, W3 cold, CPU seconds of ``function()``, under contention,
two or three runs each): N=100 with numba 0.68, in one process 0.90-0.99
s, with the worker 0.65-0.67 s here and 0.62-0.67 s in the worker; with
numba 0.65 (the bench's), 1.43-1.68 s against 0.95-0.96 + 0.91 s; N=400
(numba 0.65) 1.72-1.92 s against 1.22-1.35 + 0.97-1.08 s.  So on an idle
two-CPU machine about a third less wall time, and 0.4-0.5 s more CPU in
all (each process pays numba's start-up; the child pages in copies).
"""
import os
import select
import signal
import sys
import threading
import time
import warnings

from ...configdefaults import config

__all__ = ["compile_kernels", "worker_enabled", "split", "WORKER_TIMEOUT_S",
           "MIN_NEW_KERNELS", "CompileWorkerError"]

#: fork a worker only when at least this many kernels are new
MIN_NEW_KERNELS = 2
#: a worker still running this many seconds after this process finished
#: its own share is taken for hung: killed, its kernels compiled here
WORKER_TIMEOUT_S = 300.0


class CompileWorkerError(RuntimeError):
    """The compile worker failed (raised, died or hung) under SYMNET_STRICT."""


def worker_enabled():
    """Whether a compile may fork a worker now (see the module docstring)."""
    flag = os.environ.get("SYMNET_NUMBA_WORKERS", "0").strip().lower()
    if flag in ("0", "false", "no", "off", ""):
        return False
    if flag not in ("1", "true", "yes", "on", "auto"):
        raise ValueError(f"SYMNET_NUMBA_WORKERS must be 0, 1 or auto, got {flag!r}")
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    if "mpi4py" in sys.modules:     # MPI transports may forbid fork (symnet.distributed)
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return False
    return flag != "auto" or _runnable() < cpus


def _runnable():
    """Tasks running or runnable on the machine now, this one included
    (``/proc/loadavg``'s fourth field); a large number where unknown."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            return int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 1 << 30


#: a kernel's cost in units (about 0.17 s of numba work each): one, plus
#: its source length / ``_CHARS_PER_UNIT``, plus ``_HELPER_UNITS`` per
#: library helper its share compiles first (``_tanh32``, the allocator)
_CHARS_PER_UNIT = 2000.0
_HELPER_UNITS = 0.5
#: up to this many new kernels every split is tried; more: greedy
_EXACT_UP_TO = 10


def _load(share):
    helpers = set().union(*(libs for _, _, libs in share)) if share else set()
    return sum(1.0 + len(body) / _CHARS_PER_UNIT for _, body, _ in share) + \
        _HELPER_UNITS * len(helpers)


def split(items):
    """``(mine, worker's)``: the kernels ``items`` (``(name, body, libs)``,
    ``libs`` the helpers it calls) in two shares of about equal cost (see
    ``_load``: a helper is paid once per share, so kernels sharing one tend
    to land together).  Every split is tried for a few kernels, largest
    first onto the cheaper share for more; the worker's share is never
    empty when there are two kernels or more."""
    items = list(items)
    if len(items) < 2:
        return items, []
    if len(items) <= _EXACT_UP_TO:
        best = None
        for mask in range(1, 1 << (len(items) - 1)):   # item 0 stays mine: no mirror splits
            theirs = [it for k, it in enumerate(items) if mask >> k & 1]
            mine = [it for k, it in enumerate(items) if not mask >> k & 1]
            worst = max(_load(mine), _load(theirs))
            if best is None or worst < best[0]:
                best = (worst, mine, theirs)
        return best[1], best[2]
    shares = [[], []]
    for item in sorted(items, key=lambda it: -_load([it])):
        costs = [_load(shares[s] + [item]) for s in (0, 1)]
        shares[0 if costs[0] <= costs[1] else 1].append(item)
    if not shares[1]:
        shares[1].append(shares[0].pop())
    return shares[0], shares[1]


def compile_kernels(items, load, compile_body):
    """Compile the new kernels ``items`` (``(name, body, libs)``), part in a
    forked worker when ``worker_enabled()``; ``load(name, body)`` binds each
    kernel in this process (importing it from the cache once the worker has
    compiled it); ``compile_body(body)`` is what the worker runs per kernel.
    Returns the number of kernels the worker compiled."""
    if len(items) < MIN_NEW_KERNELS or not worker_enabled():
        for name, body, _ in items:
            load(name, body)
        return 0
    mine, theirs = split(items)
    try:
        worker = _Worker.start([body for _, body, _ in theirs], compile_body)
    except OSError as exc:       # no fork now (process limit, memory)
        worker, failure = None, f"could not start it: {exc}"
    try:
        for name, body, _ in mine:
            load(name, body)
        if worker is not None:
            failure = worker.finish()
    except BaseException:
        if worker is not None:
            worker.kill()    # Ctrl-C or an error here: the worker's work is moot
        raise
    if failure is not None:
        message = (f"the numba compile worker failed ({failure}); compiling its "
                   f"{len(theirs)} kernel{'s' if len(theirs) != 1 else ''} in this "
                   f"process instead (SYMNET_NUMBA_WORKERS=0 turns the worker off)")
        if config.strict:
            raise CompileWorkerError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)
    for name, body, _ in theirs:
        load(name, body)      # from the cache, or compiled here after a failure
    return 0 if failure is not None else len(theirs)


class _Worker:
    """One forked child compiling ``bodies``; reports on a pipe."""

    def __init__(self, pid, read_fd):
        self.pid, self.fd = pid, read_fd

    @classmethod
    def start(cls, bodies, compile_body):
        from numba.core.compiler_lock import global_compiler_lock
        from .cache import _IMPORT_LOCK
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # no other thread may be inside numba or the cache at the fork: the
        # child would inherit its lock held forever.  The cache's lock
        # first: ``load_module`` holds it while numba compiles (takes the
        # compiler lock), so the other order could deadlock with a thread
        # compiling (a tiered function's)
        with _IMPORT_LOCK, global_compiler_lock:
            pid = os.fork()
            if pid == 0:      # the child: never returns
                os.close(read_fd)
                _child(bodies, compile_body, write_fd)
        os.close(write_fd)
        return cls(pid, read_fd)

    def finish(self):
        """Wait for the worker; None when it compiled everything, else what
        went wrong (a sentence).  Its report ends when the pipe closes (it
        exited); a worker silent past ``WORKER_TIMEOUT_S`` is killed."""
        chunks, deadline = [], time.monotonic() + WORKER_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return f"still running {WORKER_TIMEOUT_S:.0f} s after this process's share"
            if select.select([self.fd], [], [], min(left, 1.0))[0]:
                data = os.read(self.fd, 4096)
                if not data:
                    break
                chunks.append(data)
        os.close(self.fd)
        self.fd = None
        try:
            code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        except ChildProcessError:    # reaped elsewhere (SIGCHLD ignored): the report says
            code = None
        self.pid = None
        report = b"".join(chunks).decode("utf-8", "replace")
        if report == "ok" and code in (0, None):
            return None
        if code is not None and code < 0:
            return f"killed by signal {-code}" + (f": {report}" if report else "")
        return report or f"exit status {code}, no report"

    def kill(self):
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _child(bodies, compile_body, write_fd):
    """The worker: compile each body into the cache, report, exit (never
    running the parent's atexit handlers or flushing its buffers)."""
    code, report = 1, "no report"
    try:
        for body in bodies:
            compile_body(body)
        code, report = 0, "ok"
    except BaseException as exc:   # the parent learns of any failure, Ctrl-C too
        report = f"{type(exc).__name__}: {str(exc)[:300]}"
        code = 2 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        try:
            os.write(write_fd, report.encode("utf-8", "replace"))
        finally:
            os._exit(code)
