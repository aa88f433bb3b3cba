"""W9, compile time: the graph shapes that made compiles look like hangs.

    python bench/run.py --only W9            # full sizes (a quiet machine)
    python bench/run.py --only W9 --quick    # reduced sizes, a few minutes
    python bench/compile_time.py --quick     # the same, W9 alone
    python bench/compile_time.py --cases=chain=100,updates=300 --systems=symnet,jax
                                             # only those cases, sizes and systems

Cases (WORKLOADS.md): a ``tanh(y) * 0.5 + 0.1`` chain with its gradient
(2,000 deep; 100 deep too), separate shared-vector updates ``s + 1`` (300),
a Python ``sum()`` of ``tanh(x * c)`` terms with its gradient (2,000),
rewriting a 20,000-node graph, and a 100,000-node chain built,
differentiated and compiled.  Each compile runs in a fresh process, with a
fresh kernel cache (cold) and again with that cache (warm).  Seconds are
the time to the first result: ``function()`` (symnet with ``tiered=False``:
the whole numba compile; PyTensor; JAX's ``jit(...).lower().compile()``)
plus the first call (which loads a warm cache's kernels); for symnet
tiered the first call runs on py while the compile goes on, so it never
waits for the compiler.  The row notes say which tier ran symnet's first
call.  Rewriting alone is ``f.profile['rewrite']`` of a py-mode function.

Accounting, as W3's (bench/run.py): each system's library is imported
before the timer (jax; pytensor; symnet and numba, its compiler, for the
numba modes); everything else (a backend's start, the first compile, JAX's
first device array) is inside it.

PyTensor runs with the recursion limit raised to 100,000 (its graph
walkers recurse once per node, as its users know); a peer's process is
stopped after ``W9_PEER_TIMEOUT_S`` seconds (default 600) and its cell
says so.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

__all__ = ["run_w9", "CASES"]

#: case -> (full sizes, quick sizes)
CASES = {
    "chain": ((100, 2000), (100,)),
    "updates": ((300,), (50,)),
    "wide": ((2000,), (100,)),
    "rewrite": ((20_000,), (5_000,)),
    "big_chain": ((100_000,), ()),
}
SYSTEMS = ("symnet", "symnet_tiered", "pytensor_c", "pytensor_numba", "jax")
VEC = 1000     # elements of every vector


# -- the graphs, written once for Theano-style libraries ----------------------------

def _theano_graph(lib, T, case, n):
    """(inputs, outputs, updates, argument values) of a case."""
    x = T.fvector("x")
    xv = np.linspace(-1, 1, VEC).astype("float32")
    if case in ("chain", "rewrite", "big_chain"):
        depth = n if case == "chain" else n // 10     # about ten nodes a link
        y = x
        for _ in range(depth):
            y = T.tanh(y) * np.float32(0.5) + np.float32(0.1)
        c = T.sum(y)
        return [x], [c, lib.grad(c, x)], [], [xv]
    if case == "wide":
        terms = [T.tanh(x * np.float32((i + 1) / n)) for i in range(n)]
        c = T.sum(sum(terms))
        return [x], [c, lib.grad(c, x)], [], [xv]
    if case == "updates":
        ss = [lib.shared(np.zeros(VEC, "float32")) for _ in range(n)]
        return [], [], [(s, s + np.float32(1)) for s in ss], []
    raise ValueError(case)


def _theano_time(lib, T, case, n, mode):
    t0 = time.perf_counter()
    ins, outs, upd, args = _theano_graph(lib, T, case, n)
    t1 = time.perf_counter()
    f = lib.function(ins, outs, updates=upd, mode=mode)
    t2 = time.perf_counter()
    f(*args)
    t3 = time.perf_counter()
    return {"build": t1 - t0, "compile": t2 - t1, "first_call": t3 - t2,
            "to_first_step": t3 - t1, "tier": getattr(f, "tier", None),
            # PyTensor's ``f.profile`` is None unless profiling was asked for
            "rewrite": (getattr(f, "profile", None) or {}).get("rewrite")}


def _jax_time(case, n):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    t0 = time.perf_counter()
    xv = jnp.asarray(np.linspace(-1, 1, VEC).astype("float32"))    # starts XLA's backend
    if case in ("chain", "big_chain", "rewrite"):
        depth = n if case == "chain" else n // 10

        def loss(x):
            y = x
            for _ in range(depth):
                y = jnp.tanh(y) * 0.5 + 0.1
            return jnp.sum(y)
        fn, args = jax.jit(jax.value_and_grad(loss)), (xv,)
    elif case == "wide":
        def loss(x):
            return jnp.sum(sum(jnp.tanh(x * ((i + 1) / n)) for i in range(n)))
        fn, args = jax.jit(jax.value_and_grad(loss)), (xv,)
    else:
        ss = [jnp.zeros(VEC, "float32") for _ in range(n)]
        fn, args = jax.jit(lambda ss: [s + 1 for s in ss]), (ss,)
    compiled = fn.lower(*args).compile()
    t1 = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    t2 = time.perf_counter()
    return {"compile": t1 - t0, "first_call": t2 - t1, "to_first_step": t2 - t0}


def child(system, case, n):
    """Measure one case in this (fresh) process; returns a dict of seconds."""
    if system == "jax":
        return _jax_time(case, n)
    if system.startswith("pytensor"):
        # PyTensor's graph walkers (clone, toposort, grad) recurse once per
        # node: its users raise the limit for deep graphs, and so do we
        # (the 2,000-deep chain and sum stop at Python's 1,000 otherwise)
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
        import pytensor
        import pytensor.tensor as pt
        mode = "FAST_RUN" if system == "pytensor_c" else "NUMBA"
        return _theano_time(pytensor, pt, case, n, mode)
    import symnet
    import symnet.tensor as T
    from symnet.compile.mode import Mode
    if case == "rewrite":       # rewriting only: the py linker compiles nothing
        return _theano_time(symnet, T, case, n, Mode("py"))
    import numba  # noqa: F401  (the compiler's import, like ``import jax``: before the timer)
    mode = Mode("numba", tiered=(system == "symnet_tiered"))
    return _theano_time(symnet, T, case, n, mode)


# -- the driver: one fresh process per measurement ----------------------------------

def _measure(system, case, n, cache):
    env = dict(os.environ, SYMNET_CACHE_DIR=cache, NUMBA_CACHE_DIR=cache + "-numba",
               PYTENSOR_FLAGS=f"compiledir={cache}-pytensor")
    # a peer's process is stopped past W9_PEER_TIMEOUT_S (PyTensor C on the
    # 2,000-deep cases ran past 10 minutes on a loaded 2-core machine)
    limit = 3600 if system.startswith("symnet") else \
        float(os.environ.get("W9_PEER_TIMEOUT_S", "600"))
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", system,
                               case, str(n)], capture_output=True, text=True, env=env,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        return f"error: past {limit:g} s (stopped)"
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return f"error: {last[0][:50]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _available(system):
    module = {"jax": "jax", "pytensor_c": "pytensor", "pytensor_numba": "pytensor"}
    name = module.get(system)
    if name is None:
        return True
    import importlib.util
    return importlib.util.find_spec(name) is not None


def run_w9(quick, rows, systems=SYSTEMS):
    """Append W9's rows (cold and warm per case and size) to ``rows``."""
    systems = [s for s in systems if _available(s)]
    for case, (full, small) in CASES.items():
        for n in (small if quick else full):
            who = ["symnet"] if case == "rewrite" else systems
            cold = {"workload": f"W9 {case} n={n} (cold)", "unit": "s"}
            warm = {"workload": f"W9 {case} n={n} (warm)", "unit": "s"}
            notes = []
            for system in who:
                cache = tempfile.mkdtemp(prefix=f"w9-{system}-")
                for row in (cold, warm):
                    got = _measure(system, case, n, cache)
                    if isinstance(got, str):
                        row[system] = got
                        continue
                    row[system] = got["rewrite" if case == "rewrite" else "to_first_step"]
                    if system == "symnet_tiered" and row is cold:
                        notes.append(f"tiered first call ran on {got['tier']}")
            if notes:
                cold["note"] = "; ".join(notes)
            rows += [cold] if case == "rewrite" else [cold, warm]
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        system, case, n = argv[1], argv[2], int(argv[3])
        print(json.dumps(child(system, case, n)))
        return 0
    from bench.run import print_table
    systems = SYSTEMS
    for arg in argv:
        # --cases chain=100,updates=300: only those cases and sizes
        if arg.startswith("--cases="):
            picked = {}
            for item in arg.split("=", 1)[1].split(","):
                case, _, n = item.partition("=") if "=" in item else (item, "", "")
                if case not in CASES:
                    raise SystemExit(f"--cases: unknown case {case!r}; known: {', '.join(CASES)}")
                sizes = (int(n),) if n else CASES[case][0]
                picked[case] = (picked.get(case, ((), ()))[0] + sizes,) * 2
            CASES.clear()
            CASES.update(picked)
        elif arg.startswith("--systems="):
            systems = tuple(arg.split("=", 1)[1].split(","))
    rows = run_w9("--quick" in argv, [], systems)
    print_table(rows, [s for s in systems if _available(s)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
