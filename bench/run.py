"""The benchmark workloads of the project's card (W1-W6), symnet beside its
peers, in one process, printing one table of medians with ratios.

    python bench/run.py            # full run
    python bench/run.py --quick    # reduced sizes/repeats, under a minute or two

Peers (numpy by hand, PyTensor C and NUMBA modes, JAX jit on CPU, PyTorch
eager on CPU) are optional: a peer that is not installed gets an empty cell.
Every training workload first checks each system's loss against a float64
numpy reference computed from the same initial weights.

W3 (compile) and W5 (calls per second) run each system in a child process
of its own.  W5 there, the same for every system: only that system's
library imported, then several windows of 20,000 calls (each window's
per-call median), the best window in the cell and the spread in the note.
One window in the bench's own process (the method before) read 45-55 %
of a system's rate now and then, for every system alike, numpy's lambda
too (471k against 861-891k for symnet, 1.3-1.7M against 2.9M for numpy):
a uniform slowdown of about a second, not reproduced by anything the
process had done (bench/w5_check.py: W5 after W1, W2, W4 and W3's
rewrite scaling with every peer loaded, the peers' threads idle during
W5, gc.freeze and torch.set_num_threads(1) change nothing), so one
window could not tell a system's overhead from the machine's moment.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# Step times must be the compiled code's: no tiered execution (py while the
# kernels compile) unless asked for; W9 measures both with explicit modes.
os.environ.setdefault("SYMNET_TIERED", "0")
sys.path.insert(0, os.path.dirname(HERE))

from bench import peers  # noqa: E402

LR, MOM = 0.01, 0.9


def call_times(fn, repeats, warmup=2):
    """Seconds of each of ``repeats`` calls of ``fn``, after ``warmup``
    untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def median_time(fn, repeats, warmup=2):
    return statistics.median(call_times(fn, repeats, warmup))


def gemm_rate(n=512, k=784, m=500, repeats=20):
    """float32 FLOP/s numpy's BLAS reaches on this machine now."""
    a = np.random.RandomState(0).randn(n, k).astype("float32")
    b = np.random.RandomState(1).randn(k, m).astype("float32")
    t = median_time(lambda: a @ b, repeats)
    return 2.0 * n * k * m / t


# -- workload data -----------------------------------------------------------------

def mlp_data(batch, sizes=(784, 500, 500, 10), seed=0):
    rng = np.random.RandomState(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(rng.uniform(-lim, lim, (fan_in, fan_out)).astype("float32"))
        params.append((rng.randn(fan_out) * 0.01).astype("float32"))
    x = rng.randn(batch, sizes[0]).astype("float32")
    y = rng.randint(0, sizes[-1], batch).astype("int32")
    return params, x, y


def mlp_loss_ref(params, x, y):
    h = x.astype("float64")
    n = len(params) // 2
    for i in range(n):
        h = h @ params[2 * i].astype("float64") + params[2 * i + 1]
        if i < n - 1:
            h = np.maximum(h, 0)
    h = h - h.max(axis=1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def cnn_data(batch=64, seed=0):
    rng = np.random.RandomState(seed)
    w1 = (rng.randn(32, 1, 5, 5) * 0.1).astype("float32")
    b1 = np.zeros(32, "float32")
    w2 = (rng.randn(32 * 12 * 12, 256) * 0.01).astype("float32")
    b2 = np.zeros(256, "float32")
    w3 = (rng.randn(256, 10) * 0.05).astype("float32")
    b3 = np.zeros(10, "float32")
    x = rng.randn(batch, 1, 28, 28).astype("float32")
    y = rng.randint(0, 10, batch).astype("int32")
    return [w1, b1, w2, b2, w3, b3], x, y


def cnn_loss_ref(params, x, y):
    from numpy.lib.stride_tricks import sliding_window_view
    w1, b1, w2, b2, w3, b3 = [p.astype("float64") for p in params]
    win = sliding_window_view(x.astype("float64"), (5, 5), axis=(2, 3))
    h = np.tensordot(win, w1[:, :, ::-1, ::-1], axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    h = np.maximum(h + b1[None, :, None, None], 0)
    b, c, hh, ww = h.shape
    h = h.reshape(b, c, hh // 2, 2, ww // 2, 2).max(axis=(3, 5)).reshape(b, -1)
    h = np.maximum(h @ w2 + b2, 0)
    h = h @ w3 + b3
    h = h - h.max(axis=1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


# -- workloads ---------------------------------------------------------------------

def run_w1(systems, quick, rows):
    rate = gemm_rate()
    for batch in ((64,) if quick else (64, 512)):
        params, x, y = mlp_data(batch)
        ref = mlp_loss_ref(params, x, y)
        flops = 2.0 * batch * (784 * 500 + 500 * 500 + 500 * 10)
        floor = (3 * flops - 2.0 * batch * 784 * 500) / rate
        row = {"workload": f"W1 MLP step b={batch}", "unit": "ms", "floor": floor * 1e3}
        comp = {"workload": f"W1 compile b={batch}", "unit": "s"}
        for name, mk in systems.items():
            fn = getattr(mk, "mlp", None)
            if fn is None:
                continue
            try:
                t0 = time.perf_counter()
                step = fn([p.copy() for p in params], x, y, LR, MOM)
                loss = float(step())  # first call includes lazy compilation (JAX)
                comp[name] = time.perf_counter() - t0
                check_loss(name, "W1", loss, ref)
                row[name] = median_time(step, 5 if quick else 30) * 1e3
            except Exception as exc:  # a peer failing must not end the run
                row[name] = f"error: {type(exc).__name__}: {exc}"[:60]
        rows += [row, comp]


def run_w2(systems, quick, rows):
    n = 100_000 if quick else 1_000_000
    rng = np.random.RandomState(0)
    x = rng.randn(n).astype("float32")
    a, b = np.float32(0.7), np.float32(-0.2)
    xt = np.tanh(a * x + b)
    floor = median_time(lambda: (np.tanh(x), np.exp(x)), 10)
    row = {"workload": f"W2 tanh*exp loss+grad n={n}", "unit": "ms", "floor": floor * 1e3}
    ref_loss = float(np.sum(np.tanh(a * x.astype("float64") + b) * np.exp(-x.astype("float64") ** 2)))
    del xt
    for name, mk in systems.items():
        fn = getattr(mk, "elemwise", None)
        if fn is None:
            continue
        try:
            call = fn(x, a, b)
            loss, grad = call()
            check_loss(name, "W2", float(loss), ref_loss, rel=1e-3)
            row[name] = median_time(call, 10 if quick else 50) * 1e3
        except Exception as exc:
            row[name] = f"error: {type(exc).__name__}: {exc}"[:60]
    rows.append(row)


def run_w3(systems, quick, rows):
    for n in ((20, 100) if quick else (20, 100, 400)):
        row = {"workload": f"W3 compile N={n} (cold)", "unit": "s"}
        warm = {"workload": f"W3 compile N={n} (warm, new process)", "unit": "s"}
        first = {"workload": f"W3 N={n} warm: first call after compile", "unit": "s"}
        for name, mk in systems.items():
            if getattr(mk, "deep_chain", None) is None:
                continue
            if name.startswith("pytensor") and n >= 400:
                row[name] = "skipped (ran out of 23 GiB here)"
                continue
            cold = _subprocess_time(name, n, fresh_cache=True)
            row[name] = cold if isinstance(cold, str) else cold[0]
            _import_note(row, name, cold)
            if name.startswith("symnet"):
                # the default tiering (auto): with every kernel cached, the
                # first call runs on py while numba starts; the row says so
                got = _subprocess_time(name, n, fresh_cache=False, tiered="auto")
                warm[name], first[name] = (got, None) if isinstance(got, str) else got[:2]
                _import_note(warm, name, got)
                if not isinstance(got, str) and got[2]:
                    first["note"] = f"{name}'s first call ran on {got[2]} (SYMNET_TIERED=auto)"
        # with tiering (the default for a cold compile), the time from
        # building the graph to the end of the first step, beside the
        # peers' cold compile: the first step runs on py, never waiting
        tiered = {"workload": f"W3 N={n} tiered: build to first step (cold)", "unit": "s"}
        got = _subprocess_time("symnet_tiered", n, fresh_cache=True)
        tiered["symnet"] = got if isinstance(got, str) else got[0] + got[1]
        for name in systems:
            if not name.startswith("symnet") and isinstance(row.get(name), float):
                tiered[name] = row[name]
        tiered["note"] = "peers: their cold compile (the row above)"
        if not isinstance(got, str):
            tiered["note"] += (f"; symnet's imports (symnet, numba) before the timer "
                               f"{got[3]:.2f}s, with them {got[0] + got[1] + got[3]:.2f}s")
        for r in (row, warm):
            if r.get("_imports"):
                r["note"] = ("imports before the timer, not in the cells (numba for "
                             "symnet): " + ", ".join(r.pop("_imports")))
        rows += [row, warm, first, tiered]
    rows.append(_rewrite_scaling(quick))


def _import_note(row, name, got):
    """Note the seconds of ``name``'s imports (made before its timer) and
    its time with them, so that the row hides neither."""
    if not isinstance(got, str):
        row.setdefault("_imports", []).append(
            f"{name} {got[3]:.2f}s (with them {got[0] + got[3]:.2f}s)")


def _rewrite_scaling(quick):
    """W3's graphs through build + grad + rewrite only (py linker, no numba
    compile): seconds of rewriting per 1,000 rewritten nodes, per N."""
    import gc
    import symnet
    import symnet.tensor as T
    notes = []
    gc_s, started = [0.0], [0.0]

    def on_gc(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            gc_s[0] += time.perf_counter() - started[0]
    for n in ((20, 100) if quick else (20, 100, 400)):
        rng = np.random.RandomState(0)
        y = T.fmatrix("y")
        h, params = y, []
        # this process holds every peer's objects (jax, torch, pytensor): a
        # full collection that falls in the window scans them all (0.4-0.9 s
        # here), so one starts it clean and the note says what GC took
        gc.collect()
        gc_s[0] = 0.0
        gc.callbacks.append(on_gc)
        t0 = time.perf_counter()
        for _ in range(n // 2):
            w = symnet.shared((rng.randn(64, 64) * 0.1).astype("float32"))
            b = symnet.shared(np.zeros(64, "float32"))
            params += [w, b]
            h = T.tanh(T.dot(h, w) + b)
        grads = symnet.grad(T.sum(h), params)
        t1 = time.perf_counter()
        f = symnet.function([y], grads, mode="py")
        gc.callbacks.remove(on_gc)
        nodes = len(f.fgraph.apply_nodes)
        notes.append(f"N={n}: build+grad {t1 - t0:.2f}s, rewrite {f.profile['rewrite']:.2f}s "
                     f"for {nodes} nodes = {1000 * f.profile['rewrite'] / nodes:.2f}s/1k nodes "
                     f"(GC {gc_s[0]:.2f}s of it all)")
    return {"workload": "W3 rewrite scaling (py linker)", "unit": "",
            "note": "; ".join(notes)}


def _w3_child(system, n):
    """One W3 compile in this fresh process: prints its seconds, the first
    call's seconds and tier, and the seconds the imports took.

    The accounting is the same for every system: its library (jax;
    pytensor; symnet, and numba, the compiler of symnet's and PyTensor
    NUMBA's code) is imported before the timer, and no other system's;
    everything else (a backend's start, numba's first compile, XLA's
    client) runs inside it."""
    t = time.perf_counter()
    if system == "symnet_tiered":
        from symnet.compile.mode import Mode
        adapter = peers.Symnet(Mode("numba", tiered=True))
    else:
        adapter = peers.adapter(system)
    if system.startswith("symnet") or system == "pytensor_numba":
        import numba  # noqa: F401  (imported, not warmed up: no compile here)
    import_s = time.perf_counter() - t
    compile_s = adapter.deep_chain(int(n))
    print(compile_s, getattr(adapter, "first_call_s", None) or "-",
          getattr(adapter, "first_call_tier", None) or "-", import_s)
    return 0


def _subprocess_time(system, n, fresh_cache, tiered=None):
    env = dict(os.environ)
    if tiered is not None:
        env["SYMNET_TIERED"] = tiered
    if fresh_cache:
        import tempfile
        env["SYMNET_CACHE_DIR"] = env["_BENCH_CACHE"] = tempfile.mkdtemp(prefix="w3-")
    else:
        env["SYMNET_CACHE_DIR"] = os.environ.get("_BENCH_CACHE_LAST", "")
    # cold means every cache: numba's (symnet's float32 helpers live there)
    # and PyTensor's compiled C modules too, not only symnet's kernels
    env["NUMBA_CACHE_DIR"] = env["SYMNET_CACHE_DIR"] + "-numba"
    env["PYTENSOR_FLAGS"] = f"compiledir={env['SYMNET_CACHE_DIR']}-pytensor"
    out = subprocess.run([sys.executable, __file__, "--w3-child", system, str(n)],
                         capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        return f"error: {out.stderr.strip().splitlines()[-1][:50] if out.stderr else '?'}"
    if fresh_cache:
        os.environ["_BENCH_CACHE_LAST"] = env["SYMNET_CACHE_DIR"]
    compile_s, first_s, tier, import_s = out.stdout.strip().splitlines()[-1].split()
    return (float(compile_s), None if first_s == "-" else float(first_s),
            None if tier == "-" else tier, float(import_s))


def run_w4(systems, quick, rows):
    params, x, y = cnn_data(16 if quick else 64)
    ref = cnn_loss_ref(params, x, y)
    rate = gemm_rate()
    b = x.shape[0]
    conv = 2.0 * b * 32 * 24 * 24 * 25
    dense = 2.0 * b * (4608 * 256 + 256 * 10)
    floor = (2 * conv + 3 * dense) / rate
    row = {"workload": f"W4 CNN step b={b}", "unit": "ms", "floor": floor * 1e3}
    for name, mk in systems.items():
        fn = getattr(mk, "cnn", None)
        if fn is None:
            continue
        try:
            step = fn([p.copy() for p in params], x, y, LR, MOM)
            check_loss(name, "W4", float(step()), ref)
            row[name] = median_time(step, 3 if quick else 15) * 1e3
        except Exception as exc:
            row[name] = f"error: {type(exc).__name__}: {exc}"[:60]
    rows.append(row)


# W5: windows per system, calls per window (see the module docstring)
W5_WINDOWS, W5_CALLS = 7, 20000


def run_w5(systems, quick, rows):
    row = {"workload": "W5 f(x)=x+1 calls/s", "unit": "calls/s", "higher_is_better": True}
    spread = []
    for name, mk in systems.items():
        if getattr(mk, "overhead", None) is None:
            continue
        got = _w5_subprocess(name, quick)
        if isinstance(got, str):
            row[name] = got
            continue
        row[name] = max(got)
        spread.append(f"{name} {statistics.median(got) / 1e3:.0f}k/{min(got) / 1e3:.0f}k")
    row["note"] = (f"each system in its own process, best of {3 if quick else W5_WINDOWS} "
                   f"windows of {2000 if quick else W5_CALLS} calls; median/worst window: "
                   + ", ".join(spread))
    rows.append(row)


def _w5_child(system, quick):
    """W5 for one system in this fresh process (its library only): prints
    the calls/s of each window."""
    call = peers.adapter(system).overhead()
    n, windows = (2000, 3) if quick == "1" else (W5_CALLS, W5_WINDOWS)
    print(" ".join(repr(1.0 / median_time(call, n, warmup=100)) for _ in range(windows)))
    return 0


def _w5_subprocess(system, quick):
    """The calls/s of each window of ``system``'s W5 child (or an error text)."""
    out = subprocess.run([sys.executable, __file__, "--w5-child", system, "1" if quick else "0"],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return f"error: {out.stderr.strip().splitlines()[-1][:50] if out.stderr else '?'}"
    return [float(v) for v in out.stdout.strip().splitlines()[-1].split()]


def run_w6(quick, rows):
    import tempfile
    out = tempfile.mkdtemp(prefix="w6-")
    cmd = [sys.executable, "-m", "symnet", "train", "--out", out]
    if quick:
        cmd += ["--epochs", "3"]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    acc = None
    for line in res.stdout.splitlines():
        if "test accuracy" in line:
            acc = line.strip()
    rows.append({"workload": "W6 symnet train (wall)", "unit": "s",
                 "symnet": wall if res.returncode == 0 else f"error rc={res.returncode}",
                 "note": acc})


def check_loss(system, workload, loss, ref, rel=2e-3):
    if not np.isfinite(loss) or abs(loss - ref) > rel * max(1.0, abs(ref)):
        raise AssertionError(f"{system} computes loss {loss} on {workload}, reference {ref}")


# -- reporting ---------------------------------------------------------------------

def fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def print_table(rows, names):
    print()
    header = ["workload", "unit"] + names + ["floor", "symnet/best peer", "symnet/floor"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        best_peer = None
        hib = r.get("higher_is_better", False)
        for n in names:
            v = r.get(n)
            if isinstance(v, float) and not n.startswith("symnet"):
                if best_peer is None or (v > best_peer if hib else v < best_peer):
                    best_peer = v
        s = r.get("symnet")
        ratio = fmt(s / best_peer) if isinstance(s, float) and best_peer else ""
        floor = r.get("floor")
        rf = fmt(s / floor) if isinstance(s, float) and floor else ""
        cells = [r["workload"], r["unit"]] + [fmt(r.get(n)) for n in names] + \
            [fmt(floor), ratio, rf]
        lines.append("| " + " | ".join(cells) + " |")
        if r.get("note"):
            lines.append(f"|  ↳ {r['note']} |")
    text = "\n".join(lines)
    print(text)
    return text


def versions():
    out = {"python": platform.python_version(), "numpy": np.__version__,
           "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    for mod in ("numba", "jax", "torch", "pytensor", "symnet"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:
            out[mod] = None
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes and repeats")
    ap.add_argument("--only", default="W1,W2,W3,W4,W5,W6",
                    help="comma-separated workloads to run (default W1-W6; W9, "
                         "compile time, runs only when named)")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--w3-child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--w5-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.w3_child:
        return _w3_child(*args.w3_child)
    if args.w5_child:
        return _w5_child(*args.w5_child)
    systems = peers.available()
    names = list(systems)
    print("systems:", ", ".join(names))
    print("versions:", json.dumps(versions()))
    rows = []
    only = set(args.only.split(","))
    if "W1" in only:
        run_w1(systems, args.quick, rows)
    if "W2" in only:
        run_w2(systems, args.quick, rows)
    if "W3" in only:
        run_w3(systems, args.quick, rows)
    if "W4" in only:
        run_w4(systems, args.quick, rows)
    if "W5" in only:
        run_w5(systems, args.quick, rows)
    if "W6" in only:
        run_w6(args.quick, rows)
    if "W9" in only:      # compile time: not in the default list (it is long)
        from bench.compile_time import run_w9
        run_w9(args.quick, rows)
        names.insert(1, "symnet_tiered")      # W9's time to the first step
    print_table(rows, names)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"versions": versions(), "rows": rows}, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
