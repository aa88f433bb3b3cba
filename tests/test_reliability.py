"""Fault injection (issue 15): a kernel cache that heals and trusts no one,
Ctrl-C that always stops, threads that lose no update, functions that pickle.

Each test breaks something on purpose (cache files garbled, truncated,
planted by another user, folders made read-only; SIGINT from a timer thread;
eight threads updating one shared variable) and checks the promise of the
README's "Reliability" section: the results are right, nothing is lost, and
what is refused is said clearly.  The ``symnet train`` checks are in
``test_reliability_cli.py``, the small ones in ``test_reliability_small.py``.
"""
import copy
import glob
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import cache
from symnet.backend.numba_cpu.llvm import jit
from symnet.compile.mode import Mode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
OTHER_UID = 65534   # "nobody": a user that is not us


# -- helpers -------------------------------------------------------------------------

# the cache's promises hold for the kernels of both emitters: numba's
# (modules, numba's index and data files) and the llvm emitter's (one
# object file per graph, llvm/jit.py)
EMITTERS = ["numba", "llvm"]


def _build(emitter="numba"):
    x = T.dvector("x")
    return symnet.function([x], T.exp(x) * 3 - 1,
                           mode=Mode("numba", None, tiered=False, emitter=emitter))


def _warm(monkeypatch, root, emitter="numba"):
    """A cache at ``root`` holding the kernel of ``_build``; returns its folder."""
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(root))
    _new_process(root)
    f = _build(emitter)
    assert [f.thunk.linker.emitter_of(k) for k in f.thunk.linker.kernel_names.values()] \
        == [emitter]
    np.testing.assert_allclose(f(np.zeros(2)), [2.0, 2.0])
    return os.path.join(str(root), "numba")


def _new_process(root):
    """Forget what this process knows of the cache at ``root``, as a new one would."""
    cache._LOADED.clear()
    cache._FOLDER.pop(str(root), None)
    jit._ENGINES.clear()


def _call_recording(emitter="numba"):
    """Build and call ``_build``'s function; returns (output, warning texts,
    {"hits": entries loaded from disk, "misses": entries compiled})."""
    before = dict(jit.stats)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = _build(emitter)
        out = f(np.ones(2))
    if emitter == "llvm":
        counts = {"hits": jit.stats["loaded"] - before["loaded"],
                  "misses": jit.stats["compiled"] - before["compiled"]}
    else:
        ks = list(f.thunk.linker.kernels.values())
        counts = {"hits": sum(sum(k.stats.cache_hits.values()) for k in ks),
                  "misses": sum(sum(k.stats.cache_misses.values()) for k in ks)}
    return out, [str(w.message) for w in caught], counts


def _numba_files(folder, suffix):
    files = sorted(glob.glob(os.path.join(folder, "__pycache__", "*" + suffix)))
    assert files, f"no numba {suffix} file in {folder}"
    return files


def _llvm_files(folder):
    files = sorted(glob.glob(os.path.join(folder, "o_*.o")))
    assert files, f"no llvm object file in {folder}"
    return files


def _entry_files(emitter, folder):
    """The files a planted payload goes into: numba's index (a pickle) or
    the llvm emitter's object file."""
    return _numba_files(folder, ".nbi") if emitter == "numba" else _llvm_files(folder)


def _plant(path, marker):
    """Overwrite ``path`` with a pickle that creates ``marker`` when loaded."""
    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    with open(path, "wb") as fh:
        pickle.dump(Payload(), fh)


WANT = 3 * np.e - 1


# -- damaged entries heal --------------------------------------------------------------

def _truncate(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 3)


def _garble(path):
    data = bytearray(open(path, "rb").read())
    rng = random.Random(len(data))
    for k in range(0, len(data), 7):
        data[k] = rng.randrange(256)
    with open(path, "wb") as fh:
        fh.write(bytes(data))


def _empty(path):
    open(path, "wb").close()


DAMAGE = {
    "nbi-truncated": (".nbi", _truncate), "nbi-garbled": (".nbi", _garble),
    "nbi-empty": (".nbi", _empty), "nbc-truncated": (".nbc", _truncate),
    "nbc-garbled": (".nbc", _garble), "nbc-empty": (".nbc", _empty),
    "o-truncated": (".o", _truncate), "o-garbled": (".o", _garble), "o-empty": (".o", _empty),
}


def _damaged_files(folder, suffix):
    return _llvm_files(folder) if suffix == ".o" else _numba_files(folder, suffix)


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_entry_is_compiled_again_once(kind, tmp_path, monkeypatch):
    suffix, damage = DAMAGE[kind]
    emitter = "llvm" if suffix == ".o" else "numba"
    folder = _warm(monkeypatch, tmp_path, emitter)
    for path in _damaged_files(folder, suffix):
        damage(path)
    _new_process(tmp_path)
    out, msgs, _ = _call_recording(emitter)
    np.testing.assert_allclose(out, [WANT, WANT])
    assert not [m for m in msgs if "please report" in m], msgs
    healed = [m for m in msgs if "could not be loaded" in m]
    assert len(healed) == 1, msgs
    # the next process finds the entry intact: no warning, loaded from disk
    _new_process(tmp_path)
    out, msgs, counts = _call_recording(emitter)
    np.testing.assert_allclose(out, [WANT, WANT])
    assert msgs == []
    assert counts["hits"] >= 1 and counts["misses"] == 0


@pytest.mark.parametrize("emitter", EMITTERS)
def test_garbled_index_warns_once_naming_the_entry(emitter, tmp_path, monkeypatch):
    folder = _warm(monkeypatch, tmp_path, emitter)
    for path in _entry_files(emitter, folder):
        _garble(path)
    _new_process(tmp_path)
    _, msgs, _ = _call_recording(emitter)
    (healed,) = [m for m in msgs if "could not be loaded" in m]
    assert folder in healed and "compiled it again" in healed


# -- the cache trusts no one -------------------------------------------------------------

def _plant_object(path):
    """Overwrite the llvm object file ``path`` with a well-formed entry (right
    head and digest) whose code is not ours: loading it is the breach."""
    planted = b"planted object code"
    with open(path, "wb") as fh:
        fh.write(jit._HEAD + jit._digest(planted) + planted)


def _refused(tmp_path, monkeypatch, spoil, what, emitter="numba"):
    """Warm a cache, ``spoil`` it, plant a payload in its entry (a pickle in
    numba's index, foreign object code in the llvm one); the next process
    must warn about ``what`` and never load the planted file."""
    folder = _warm(monkeypatch, tmp_path / "cache", emitter)
    marker = tmp_path / "planted-code-ran"
    for path in _entry_files(emitter, folder):
        if emitter == "numba":
            _plant(path, marker)
        else:
            _plant_object(path)
    spoil(folder)
    _new_process(tmp_path / "cache")
    out, msgs, counts = _call_recording(emitter)
    np.testing.assert_allclose(out, [WANT, WANT])
    assert not marker.exists(), "a cache file someone else could write was loaded"
    if emitter == "llvm":
        # the planted object code would fail to load ("could not be
        # loaded"); the module was compiled, or loaded from the private
        # folder (this process's: an earlier test may have filled it)
        assert counts["hits"] + counts["misses"] == 1, counts
        assert not [m for m in msgs if "could not be loaded" in m], msgs
    assert any(what in m for m in msgs), msgs
    return msgs


@pytest.mark.parametrize("emitter", EMITTERS)
def test_world_writable_cache_folder_is_refused(emitter, tmp_path, monkeypatch):
    msgs = _refused(tmp_path, monkeypatch, lambda d: os.chmod(d, 0o777),
                    "is writable by every user", emitter)
    assert any("private folder" in m for m in msgs)


@pytest.mark.parametrize("emitter", EMITTERS)
def test_group_writable_pycache_folder_is_refused(emitter, tmp_path, monkeypatch):
    _refused(tmp_path, monkeypatch,
             lambda d: os.chmod(os.path.join(d, "__pycache__"), 0o770),
             "is writable by its group", emitter)


@pytest.mark.parametrize("emitter", EMITTERS)
def test_group_writable_index_file_is_refused(emitter, tmp_path, monkeypatch):
    def spoil(folder):
        for path in _entry_files(emitter, folder):
            os.chmod(path, 0o664)
    msgs = _refused(tmp_path, monkeypatch, spoil, "is writable by its group", emitter)
    assert any("does not load the cache file" in m for m in msgs)


@pytest.mark.skipif(not IS_ROOT, reason="giving a folder to another user needs root")
@pytest.mark.parametrize("emitter", EMITTERS)
def test_cache_folder_of_another_user_is_refused(emitter, tmp_path, monkeypatch):
    _refused(tmp_path, monkeypatch, lambda d: os.chown(d, OTHER_UID, -1),
             f"is owned by uid {OTHER_UID}", emitter)


@pytest.mark.skipif(not IS_ROOT, reason="giving a file to another user needs root")
@pytest.mark.parametrize("emitter", EMITTERS)
def test_cache_file_of_another_user_is_refused(emitter, tmp_path, monkeypatch):
    def spoil(folder):
        for path in _entry_files(emitter, folder):
            os.chown(path, OTHER_UID, -1)
    _refused(tmp_path, monkeypatch, spoil, f"is owned by uid {OTHER_UID}", emitter)


@pytest.mark.parametrize("emitter", EMITTERS)
def test_files_the_cache_writes_are_private(emitter, tmp_path, monkeypatch):
    old = os.umask(0o002)   # the common umask that makes files group-writable
    try:
        folder = _warm(monkeypatch, tmp_path, emitter)
    finally:
        os.umask(old)
    for path in [folder, *glob.glob(os.path.join(folder, "**", "*"), recursive=True)]:
        assert not os.stat(path).st_mode & 0o022, path


# -- a read-only warm cache is used as it is -------------------------------------------------

READ_ONLY_SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np, symnet, symnet.tensor as T
    from symnet.compile.mode import Mode
    from symnet.backend.numba_cpu.llvm import jit
    x = T.dvector('x')
    f = symnet.function([x], T.exp(x) * 3 - 1,
                        mode=Mode('numba', None, tiered=False, emitter=sys.argv[1]))
    out = f(np.ones(2)).tolist()
    ks = [k for k in f.thunk.linker.kernels.values() if hasattr(k, 'stats')]
    hits = sum(sum(k.stats.cache_hits.values()) for k in ks) + jit.stats['loaded']
    misses = sum(sum(k.stats.cache_misses.values()) for k in ks) + jit.stats['compiled']
    print(json.dumps(dict(out=out, hits=hits, misses=misses)))
""")

# Root writes through any permission: a read-only bind mount in a private
# mount namespace makes the folder read-only for it too.
_RO_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'


def _run_read_only(folder, argv, env):
    if IS_ROOT:
        probe = subprocess.run(["unshare", "-m", "sh", "-c", _RO_MOUNT, folder, "true"],
                               capture_output=True)
        if probe.returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (unshare -m)")
        return subprocess.run(["unshare", "-m", "sh", "-c", _RO_MOUNT, folder, *argv],
                              capture_output=True, text=True, env=env, timeout=300)
    modes = {}
    for d, _, _ in os.walk(folder):
        modes[d] = os.stat(d).st_mode
        os.chmod(d, modes[d] & ~0o222)
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    finally:
        for d, mode in modes.items():
            os.chmod(d, mode)


@pytest.mark.parametrize("emitter", EMITTERS)
def test_read_only_warm_cache_is_loaded_not_recompiled(emitter, tmp_path):
    import json
    env = dict(os.environ, SYMNET_CACHE_DIR=str(tmp_path / "symnet"), PYTHONPATH=ROOT,
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))   # both folders read-only
    env.pop("NUMBA_OPT", None)
    argv = [sys.executable, "-W", "error::RuntimeWarning", "-c", READ_ONLY_SCRIPT, emitter]
    warm = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert warm.returncode == 0, warm.stderr
    res = _run_read_only(str(tmp_path), argv, env)
    assert res.returncode == 0, res.stderr     # no warning (they are errors here)
    got = json.loads(res.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(got["out"], [WANT, WANT])
    assert got["hits"] >= 1 and got["misses"] == 0


# -- Ctrl-C always stops ------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["py", "numba"])
def test_sigint_from_a_timer_always_stops_a_loop_of_calls(mode, terminal_sigint):
    x = T.fmatrix("x")
    w = symnet.shared(np.zeros((120, 120), "float32"), name="w")
    count = symnet.shared(np.float64(0), name="count")
    y = T.tanh(T.dot(x, w) + x) * 2 + T.exp(-x)
    f = symnet.function([x], T.sum(y), mode=mode,
                        updates=[(w, w + 0.001 * T.tanh(y)), (count, count + 1)])
    xv = np.random.default_rng(0).random((120, 120), dtype=np.float32)
    f(xv)
    rng = random.Random(15)
    lost = caught = done = 0
    for _ in range(60):
        timer = threading.Timer(rng.uniform(0, 0.003), os.kill, (os.getpid(), signal.SIGINT))
        deadline = time.perf_counter() + 10.0
        try:
            timer.start()
            while time.perf_counter() < deadline:
                f(xv)
                done += 1
            lost += 1    # the interrupt was swallowed somewhere
        except KeyboardInterrupt:
            caught += 1
        timer.join()
    assert lost == 0 and caught == 60
    # each completed call counted once; an interrupted one at most once
    assert done + 1 <= count.get_value() <= done + 1 + caught


def test_an_interrupt_hidden_in_an_error_is_raised():
    # what a SIGINT inside a kernel looks like from Python
    from symnet._interrupt import hidden_interrupt
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x), mode="py")
    real = f.thunk

    def thunk(*args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("<built-in function> returned a result with an "
                              "exception set") from None

    f.thunk = thunk
    with pytest.raises(KeyboardInterrupt):
        f(np.zeros(2))
    f.thunk = real
    assert hidden_interrupt(ValueError("plain")) is None


# -- threads lose no update ---------------------------------------------------------------

def _in_threads(work, n, timeout):
    """Run ``work`` in ``n`` threads at once; re-raise the first error."""
    errors = []

    def run():
        try:
            work()
        except Exception as exc:     # reported below, not lost with the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_eight_threads_lose_no_update(mode):
    acc = symnet.shared(np.zeros(64), name="acc")
    x = T.dvector("x")
    f = symnet.function([x], T.sum(acc), updates=[(acc, acc + x)], mode=mode)
    one = np.ones(64)
    f(one)
    calls = 300

    def work():
        for _ in range(calls):
            f(one)

    _in_threads(work, 8, timeout=120)
    np.testing.assert_array_equal(acc.get_value(), np.full(64, 8 * calls + 1.0))


@pytest.mark.parametrize("emitter", EMITTERS)
def test_threads_compiling_one_graph_share_one_module(emitter, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNET_CACHE_DIR", str(tmp_path))
    _new_process(tmp_path)
    before = jit.stats["compiled"]
    results = []
    _in_threads(lambda: results.append(_build(emitter)(np.zeros(3))), 4, timeout=300)
    assert len(results) == 4
    for r in results:
        np.testing.assert_allclose(r, [2.0] * 3)
    if emitter == "numba":
        assert len(glob.glob(str(tmp_path / "numba" / "k_*.py"))) == 1
    else:       # one module compiled, one object file, one engine
        assert jit.stats["compiled"] - before == 1
        assert len(glob.glob(str(tmp_path / "numba" / "o_*.o"))) == 1


# -- pickling ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["py", "numba"])
def test_pickled_function_computes_and_updates_its_own_copy(mode):
    acc = symnet.shared(np.arange(3.0), name="acc")
    x = T.dvector("x")
    f = symnet.function([x], T.exp(x).sum() + acc.sum(), updates=[(acc, acc + x)],
                        mode=mode, name="step")
    f(np.ones(3))
    g, acc2 = pickle.loads(pickle.dumps((f, acc)))
    assert acc2 is not acc and acc2.name == "acc" and g.name == "step"
    np.testing.assert_array_equal(acc2.get_value(), acc.get_value())
    want = f(np.full(3, 0.5))          # acc: [1.5, 2.5, 3.5]
    got = g(np.full(3, 0.5))           # acc2 from the pickled [1, 2, 3]
    np.testing.assert_allclose(got, want)
    np.testing.assert_array_equal(acc2.get_value(), acc.get_value())
    assert g.mode.linker == f.mode.linker


def test_deepcopy_of_a_function_has_its_own_shared_values():
    acc = symnet.shared(np.zeros(2), name="acc")
    x = T.dvector("x")
    f = symnet.function([x], acc * 2, updates=[(acc, acc + x)], mode="py")
    g = copy.deepcopy(f)
    g(np.ones(2))
    g(np.ones(2))
    np.testing.assert_array_equal(acc.get_value(), [0.0, 0.0])
    (acc_g,) = g.shared_vars
    np.testing.assert_array_equal(acc_g.get_value(), [2.0, 2.0])
    np.testing.assert_array_equal(f(np.ones(2)), [0.0, 0.0])


def test_pickled_network_function_matches():
    from symnet import layers
    x = T.tensor4("x")
    net = layers.InputLayer((None, 1, 6, 6), x)
    net = layers.Conv2DLayer(net, 2, 3)
    net = layers.MaxPool2DLayer(net, 2)
    net = layers.DenseLayer(net, 3, nonlinearity=symnet.nonlinearities.softmax)
    f = symnet.function([x], layers.get_output(net, deterministic=True), mode="py")
    xv = np.random.default_rng(1).random((2, 1, 6, 6), dtype=np.float32)
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(g(xv), f(xv), rtol=1e-6)


def test_shared_variable_pickles_with_its_value():
    v = symnet.shared(np.arange(6, dtype="float32").reshape(2, 3), name="W")
    w = pickle.loads(pickle.dumps(v))
    assert w.name == "W" and w.dtype == "float32" and w.type == v.type
    np.testing.assert_array_equal(w.get_value(), v.get_value())


def test_pickled_function_keeps_updates_given_as_an_iterator():
    acc = symnet.shared(np.zeros(2), name="acc")
    x = T.dvector("x")
    f = symnet.function([x], acc.sum(), updates=iter([(acc, acc + x)]),
                        givens=iter([]), mode="py")
    g, acc2 = pickle.loads(pickle.dumps((f, acc)))
    g(np.ones(2))
    np.testing.assert_array_equal(acc2.get_value(), [1.0, 1.0])
