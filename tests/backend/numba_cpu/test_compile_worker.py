"""numba_cpu/workers.py: new kernels compiled partly in a forked worker
give the same function as one process; a worker that raises or dies is
reported (a warning, then its kernels compiled here; an error under
SYMNET_STRICT); Ctrl-C while waiting for it is re-raised, the worker
killed.  The worker compiles numba kernels only (the llvm emitter's
modules are compiled in the process, in a fraction of a numba kernel's
time): each test runs with both emitters, the llvm one leaving the worker
the graph's numba kernels (its max and mean reductions)."""
import os
import signal
import sys
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.backend.numba_cpu import linker as linker_mod
from symnet.backend.numba_cpu import workers
from symnet.backend.py.linker import PyLinker
from symnet.compile.mode import Mode
from symnet.configdefaults import config


_SEQ = [0]


def _graph():
    """Inputs, outputs and values of a graph whose kernels are all new to
    this process (every output's loop has a depth that differs from call to
    call, so no kernel text repeats one compiled before)."""
    _SEQ[0] += 1
    depth = _SEQ[0] + os.getpid() % 5
    x = T.fmatrix("x")
    y = T.fmatrix("y")
    a, b, c, d = x, y, x, y
    for _ in range(depth):
        a = T.tanh(a) * np.float32(0.9) + y
        b = T.exp(-b * b) * x
        c = abs(c) * np.float32(0.5) + y * y
        d = T.maximum(d, x) - np.float32(0.25)
    outs = [T.sum(a, axis=0), b, T.max(c * x, axis=1), T.sqrt(d * d + x).mean()]
    rng = np.random.RandomState(_SEQ[0])
    vals = [rng.randn(5, 7).astype("float32"), rng.randn(5, 7).astype("float32")]
    return [x, y], outs, vals


@pytest.fixture(params=["numba", "llvm"])
def fork_worker(monkeypatch, request, tmp_path):
    """The emitter of the test's functions, with the worker turned on; a
    cache of the test's own, so its numba kernels are new (under the llvm
    emitter they are the max and the mean's division, whose texts do not
    change with the depth)."""
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_LOADED", {})
    monkeypatch.setenv("SYMNET_NUMBA_WORKERS", "1")
    if not workers.worker_enabled():
        pytest.skip("no fork or a single CPU here: the worker cannot run")
    return request.param


def _check(f, ins, outs, vals):
    want = symnet.function(ins, outs, mode="py")(*vals)
    for g, w in zip(f(*vals), want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_worker_compiles_part_same_results(fork_worker):
    ins, outs, vals = _graph()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        f = symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    linker = f.thunk.linker
    assert len(linker.kernel_texts) >= 2
    # the worker took a share of the numba kernels, never an llvm one
    assert 1 <= linker.worker_kernels < len(linker.kernel_texts)
    assert bool(linker.code.llvm_kernels) == (fork_worker == "llvm")
    _check(f, ins, outs, vals)
    # the same graph compiled in one process (from the cache now) agrees bit for bit
    os.environ["SYMNET_NUMBA_WORKERS"] = "0"
    g = symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    for a, b in zip(f(*vals), g(*vals)):
        np.testing.assert_array_equal(a, b)


def _boom(body):
    raise RuntimeError("boom in the worker")


def _die(body):
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("body, said", [(_boom, "RuntimeError: boom in the worker"),
                                         (_die, "killed by signal 9")])
def test_failed_worker_warns_and_compiles_here(fork_worker, monkeypatch, body, said):
    monkeypatch.setattr(linker_mod, "_compile_body", body)
    monkeypatch.setattr(config, "strict", False)
    ins, outs, vals = _graph()
    with pytest.warns(RuntimeWarning, match="numba compile worker failed") as rec:
        f = symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    assert any(said in str(w.message) for w in rec)
    assert f.thunk.linker.worker_kernels == 0
    assert not isinstance(f.thunk, PyLinker)    # compiled here, not a py fallback
    _check(f, ins, outs, vals)


def test_hung_worker_is_killed_and_its_kernels_compiled_here(fork_worker, monkeypatch):
    import time
    monkeypatch.setattr(linker_mod, "_compile_body", lambda body: time.sleep(60))
    monkeypatch.setattr(workers, "WORKER_TIMEOUT_S", 0.5)
    monkeypatch.setattr(config, "strict", False)
    ins, outs, vals = _graph()
    with pytest.warns(RuntimeWarning, match=r"worker failed \(still running 0 s"):
        f = symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    assert f.thunk.linker.worker_kernels == 0
    _check(f, ins, outs, vals)


def test_no_fork_warns_and_compiles_here(fork_worker, monkeypatch):
    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(workers.os, "fork", no_fork)
    monkeypatch.setattr(config, "strict", False)
    ins, outs, vals = _graph()
    with pytest.warns(RuntimeWarning, match="could not start it: .*Resource temporarily"):
        f = symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    assert not isinstance(f.thunk, PyLinker)
    _check(f, ins, outs, vals)


def test_failed_worker_is_an_error_under_strict(fork_worker, monkeypatch):
    monkeypatch.setattr(linker_mod, "_compile_body", _boom)
    monkeypatch.setattr(config, "strict", True)
    ins, outs, _ = _graph()
    with pytest.raises(workers.CompileWorkerError, match="boom in the worker"):
        symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))


def test_ctrl_c_while_waiting_is_raised_and_worker_killed(fork_worker, monkeypatch,
                                                          terminal_sigint):
    import time
    monkeypatch.setattr(linker_mod, "_compile_body", lambda body: time.sleep(60))
    started, finish = [], workers._Worker.finish

    def interrupted_finish(self):
        started.append(self.pid)
        os.kill(os.getpid(), signal.SIGINT)    # Ctrl-C while this process waits
        return finish(self)
    monkeypatch.setattr(workers._Worker, "finish", interrupted_finish)
    ins, outs, _ = _graph()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        symnet.function(ins, outs, mode=Mode("numba", emitter=fork_worker))
    assert time.perf_counter() - t0 < 30          # did not wait for the sleeping worker
    assert started and started[0] > 0
    with pytest.raises(ChildProcessError):         # killed and reaped: no zombie left
        os.waitpid(started[0], os.WNOHANG)


def test_split_keeps_helpers_together_and_gives_the_worker_a_share():
    # W3's four kernels: two call _tanh32, one allocates
    items = [("k0", "x" * 900, {"fastmath32._tanh32"}), ("k1", "x" * 950, {"fastmath32._tanh32"}),
             ("k2", "x" * 800, set()), ("k3", "x" * 700, {"alloc._empty"})]
    mine, theirs = workers.split(items)
    shares = sorted(sorted(n for n, _, _ in share) for share in (mine, theirs))
    assert shares == [["k0", "k1"], ["k2", "k3"]]
    assert [n for n, _, _ in workers.split(items[:2])[1]]     # two kernels: one each
    assert workers.split(items[:1]) == (items[:1], [])
    # many kernels (greedy): every kernel in exactly one share, both used,
    # loads within one kernel of each other
    many = [(f"k{i}", "x" * (100 * i), set()) for i in range(25)]
    mine, theirs = workers.split(many)
    assert sorted(n for n, _, _ in mine + theirs) == sorted(n for n, _, _ in many)
    assert abs(workers._load(mine) - workers._load(theirs)) <= workers._load([many[-1]])


def test_workers_flag(monkeypatch):
    monkeypatch.delenv("SYMNET_NUMBA_WORKERS")      # opt-in: off by default
    assert not workers.worker_enabled()
    monkeypatch.setenv("SYMNET_NUMBA_WORKERS", "0")
    assert not workers.worker_enabled()
    monkeypatch.setenv("SYMNET_NUMBA_WORKERS", "1")
    monkeypatch.setitem(sys.modules, "mpi4py", object())    # an MPI process never forks
    assert not workers.worker_enabled()
    monkeypatch.setenv("SYMNET_NUMBA_WORKERS", "sometimes")
    with pytest.raises(ValueError, match="SYMNET_NUMBA_WORKERS must be 0, 1 or auto"):
        workers.worker_enabled()


_LOCK_SCRIPT = """
import os, sys, threading, time
sys.path.insert(0, {tests!r})
os.environ["SYMNET_NUMBA_WORKERS"] = "1"
from numba.core.compiler_lock import global_compiler_lock
from symnet.backend.numba_cpu.cache import _IMPORT_LOCK
from symnet.compile.mode import Mode
import symnet
from backend.numba_cpu.test_compile_worker import _graph

held = threading.Event()

def other_compile():
    # what a tiered function's compile thread does: the cache's lock held
    # while numba compiles (taking the compiler lock)
    with _IMPORT_LOCK:
        held.set()
        time.sleep(0.5)
        with global_compiler_lock:
            pass

t = threading.Thread(target=other_compile)
t.start()
held.wait()
ins, outs, vals = _graph()
f = symnet.function(ins, outs, mode=Mode("numba"))
t.join()
print("worker kernels", f.thunk.linker.worker_kernels)
"""


def test_fork_waits_for_a_thread_inside_the_cache_without_deadlock(tmp_path):
    import subprocess
    import sys
    tests = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, SYMNET_CACHE_DIR=str(tmp_path), PYTHONPATH=os.path.dirname(tests))
    res = subprocess.run([sys.executable, "-c", _LOCK_SCRIPT.format(tests=tests)], env=env,
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    assert int(res.stdout.split("worker kernels")[-1]) >= 1
