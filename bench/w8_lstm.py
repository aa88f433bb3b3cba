"""W8 of the benchmark card: an LSTM training step (and a masked GRU variant).

    python bench/w8_lstm.py            # full size (needs a quiet machine)
    python bench/w8_lstm.py --quick    # tiny sizes, to check it works
    python bench/w8_lstm.py --gru      # the GRU variant, mask of varying lengths
    python bench/w8_lstm.py --profile  # where a step's time goes, symnet and PyTorch

LSTM: input 64, hidden 256, sequence 100, batch 32; loss = mean squared
error of the last hidden state against a random target; forward + backward
+ one Adam step.  symnet runs Lasagne's ``LSTMLayer`` (``GRULayer`` with a
mask for ``--gru``) compiled in numba mode (the scan loop in the generated
driver, ``x_t @ W`` pushed out of the loop by the scan rewrites); the peers,
when installed, are PyTorch's ``nn.LSTM``/``nn.GRU`` (eager, CPU; packed
sequences for the masked GRU) and JAX ``lax.scan`` under ``jit``.  symnet's
first loss is checked against a float64 numpy implementation of the layer's
equations from the same weights.  Compile time is measured in a fresh
process, with an empty kernel cache (cold) and again with it filled (warm).
Tiered execution is off (``Mode(tiered=False)``): every timed step runs the
compiled numba code, none the py tier while numba compiles, and the compile
time is the time to the first compiled step.

BLAS threads (round 7, #17): the loops' per-step GEMMs run on numpy's
OpenBLAS with its two threads.  Measured alone (07:07 UTC, load 1.1, 300
calls x 9, minimum / median us, one thread against two): the forward's
swapped ``(U.T @ h.T).T`` 32x256x1024 200.7 / 221.6 against 111.5 / 113.3;
BPTT's ``delta @ U.T`` 32x1024x256 202.8 / 219.6 against 122.5 / 125.0;
the weight gradient after the loop (3200 rows) 19.4 / 19.8 ms against
10.1 / 10.2 ms.  Two threads win ~1.8x at every W8 shape, so the step keeps
them: a whole W8 step held at one BLAS thread would pay ~17 ms in the loops
and ~9 ms after them.  Nothing of symnet's own is threaded inside the
loops, so the spinning OpenBLAS worker costs them nothing.  Round 8: the
forward's product is no longer swapped (``scan/swap_dot.py``, ``MIN_ROWS``):
inside the loop the swapped form and its copy back took ~250 us a step
against ~130 us for the plain ``h @ U``.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench.run import median_time  # noqa: E402

FULL = dict(n_in=64, hidden=256, seq=100, batch=32)
QUICK = dict(n_in=8, hidden=16, seq=6, batch=4)
LR = 1e-3


def make_data(size, gru, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(size["batch"], size["seq"], size["n_in"]).astype("float32")
    y = rng.randn(size["batch"], size["hidden"]).astype("float32")
    lengths = rng.randint(size["seq"] // 2, size["seq"] + 1, size["batch"])
    lengths[0] = size["seq"]
    mask = (np.arange(size["seq"])[None, :] < lengths[:, None]).astype("float32")
    return x, y, (mask if gru else None), lengths


# -- symnet ----------------------------------------------------------------------

def symnet_step(size, gru, profile=False):
    """(train function, layer) for symnet: loss, then Adam on every param."""
    import symnet
    import symnet.tensor as T
    from symnet.compile.mode import Mode
    from symnet.layers import GRULayer, InputLayer, LSTMLayer, get_all_params, get_output
    from symnet.updates import adam
    l_in = InputLayer((size["batch"], size["seq"], size["n_in"]))
    ins = [l_in.input_var]
    if gru:
        l_mask = InputLayer((size["batch"], size["seq"]))
        ins.append(l_mask.input_var)
        layer = GRULayer(l_in, size["hidden"], mask_input=l_mask, only_return_final=True)
    else:
        layer = LSTMLayer(l_in, size["hidden"], only_return_final=True)
    target = T.fmatrix("y")
    loss = T.mean((get_output(layer) - target) ** 2)
    params = get_all_params(layer, trainable=True)
    fn = symnet.function(ins + [target], loss, updates=adam(loss, params, LR),
                         mode=Mode("numba", tiered=False), profile=profile)
    return fn, layer


def lstm_loss_ref(layer, x, y):
    """The first loss of symnet's LSTMLayer, in float64 numpy (Lasagne's
    equations: peepholes, tanh cell and output nonlinearities)."""
    g = {n: [getattr(layer, f"{w}_{n}").get_value().astype("float64")
             for w in ("W_in_to", "W_hid_to", "b")]
         for n in ("ingate", "forgetgate", "cell", "outgate")}
    pc = {n: getattr(layer, f"W_cell_to_{n}").get_value().astype("float64")
          for n in ("ingate", "forgetgate", "outgate")}
    sig = lambda a: 1 / (1 + np.exp(-a))   # noqa: E731
    x = x.astype("float64")
    c = h = np.zeros((x.shape[0], g["cell"][0].shape[1]))
    for t in range(x.shape[1]):
        lin = {n: x[:, t] @ w + h @ u + b for n, (w, u, b) in g.items()}
        i = sig(lin["ingate"] + c * pc["ingate"])
        f = sig(lin["forgetgate"] + c * pc["forgetgate"])
        c = f * c + i * np.tanh(lin["cell"])
        h = sig(lin["outgate"] + c * pc["outgate"]) * np.tanh(c)
    return float(np.mean((h - y) ** 2))


def compile_once(size, gru):
    """Child process: build, compile and call once; print the seconds."""
    t = time.perf_counter()
    fn, _ = symnet_step(size, gru)
    x, y, mask, _ = make_data(size, gru)
    fn(*([x, mask, y] if gru else [x, y]))
    print(json.dumps({"compile_s": time.perf_counter() - t}))


def compile_times(args):
    """(cold, warm) seconds of build + compile + first call, fresh processes."""
    cache = tempfile.mkdtemp(prefix="symnet-w8-")
    env = dict(os.environ, SYMNET_CACHE_DIR=cache, NUMBA_CACHE_DIR=cache + "-numba")
    cmd = [sys.executable, __file__, "--compile-only"] + \
        (["--quick"] if args.quick else []) + (["--gru"] if args.gru else [])
    out = []
    try:
        for _ in range(2):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            out.append(json.loads(res.stdout.strip().splitlines()[-1])["compile_s"])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(cache + "-numba", ignore_errors=True)
    return tuple(out)


# -- peers (optional) --------------------------------------------------------------

def torch_step(size, gru, x, y, mask, lengths):
    try:
        import torch
    except ImportError:
        return None
    cls = torch.nn.GRU if gru else torch.nn.LSTM
    net = cls(size["n_in"], size["hidden"], batch_first=True)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        if gru:
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                X, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
            _, h = net(packed)
        else:
            _, (h, _) = net(X)
        loss = ((h[0] - Y) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def jax_step(size, gru, x, y, mask):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    rng = np.random.RandomState(1)
    n_g = 3 if gru else 4
    H = size["hidden"]
    ps = [jnp.asarray(rng.randn(size["n_in"], n_g * H).astype("float32") * 0.1),
          jnp.asarray(rng.randn(H, n_g * H).astype("float32") * 0.1),
          jnp.zeros(n_g * H, "float32")]

    def loss_fn(ps, X, Y, M):
        W, U, b = ps
        xw = jnp.einsum("bti,ig->tbg", X, W) + b        # the input GEMM, once
        sig = jax.nn.sigmoid

        def cell(carry, inp):
            c, h = carry
            xt, mt = inp
            if gru:
                hu = h @ U
                r = sig(xt[:, :H] + hu[:, :H])
                u = sig(xt[:, H:2 * H] + hu[:, H:2 * H])
                new = (1 - u) * h + u * jnp.tanh(xt[:, 2 * H:] + r * hu[:, 2 * H:])
                new = mt[:, None] * new + (1 - mt[:, None]) * h
                return (c, new), None
            z = xt + h @ U
            i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
            c = sig(f) * c + sig(i) * jnp.tanh(g)
            return (c, sig(o) * jnp.tanh(c)), None
        zero = jnp.zeros((X.shape[0], H), "float32")
        (_, h), _ = jax.lax.scan(cell, (zero, zero), (xw, M.T))
        return jnp.mean((h - Y) ** 2)

    @jax.jit
    def train(ps, ms, vs, t, X, Y, M):
        g = jax.grad(loss_fn)(ps, X, Y, M)
        ms = [0.9 * m + 0.1 * gi for m, gi in zip(ms, g)]
        vs = [0.999 * v + 0.001 * gi ** 2 for v, gi in zip(vs, g)]
        a = LR * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        return [p - a * m / (jnp.sqrt(v) + 1e-8) for p, m, v in zip(ps, ms, vs)], ms, vs

    M = jnp.asarray(mask if mask is not None else np.ones(x.shape[:2], "float32"))
    X, Y = jnp.asarray(x), jnp.asarray(y)
    state = {"ps": ps, "ms": [jnp.zeros_like(p) for p in ps],
             "vs": [jnp.zeros_like(p) for p in ps], "t": 1}
    t0 = time.perf_counter()
    jax.block_until_ready(train(state["ps"], state["ms"], state["vs"], 1, X, Y, M))
    compile_s = time.perf_counter() - t0

    def step():
        state["ps"], state["ms"], state["vs"] = train(state["ps"], state["ms"], state["vs"],
                                                      state["t"], X, Y, M)
        state["t"] += 1
        jax.block_until_ready(state["ps"])
    return step, compile_s


def profile(size, gru, repeats):
    """Print where one step's time goes: symnet's per-step profile (its two
    scan loops, the GEMMs outside them, the rest), then PyTorch's forward,
    backward and Adam step timed apart (medians and minima, ms; the GRU
    unpacked: the mask is not applied there)."""
    import statistics
    x, y, mask, lengths = make_data(size, gru)
    call = [x, mask, y] if gru else [x, y]
    fn, _ = symnet_step(size, gru, profile=True)
    for _ in range(2):
        fn(*call)
    fn.profile.reset()
    for _ in range(repeats):
        fn(*call)
    fn.profile.summary(top=12)
    try:
        import torch
    except ImportError:
        return
    cls = torch.nn.GRU if gru else torch.nn.LSTM
    net = cls(size["n_in"], size["hidden"], batch_first=True)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    parts = {"forward + loss": [], "backward": [], "Adam": []}
    for r in range(repeats + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        h = net(X)[1]
        loss = (((h if gru else h[0])[0] - Y) ** 2).mean()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if r >= 2:
            for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
                parts[k].append(v)
    print("PyTorch (median / min ms): " + "; ".join(
        f"{k} {statistics.median(v) * 1e3:.2f} / {min(v) * 1e3:.2f}" for k, v in parts.items()))


# -- main ------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, a few repeats")
    ap.add_argument("--gru", action="store_true", help="the masked GRU variant")
    ap.add_argument("--profile", action="store_true",
                    help="where a step's time goes (symnet's profile, PyTorch's parts)")
    ap.add_argument("--compile-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    size = QUICK if args.quick else FULL
    if args.compile_only:
        return compile_once(size, args.gru)
    repeats = 3 if args.quick else 20
    if args.profile:
        return profile(size, args.gru, repeats)
    x, y, mask, lengths = make_data(size, args.gru)
    fn, layer = symnet_step(size, args.gru)
    call = [x, mask, y] if args.gru else [x, y]
    if not args.gru:
        ref = lstm_loss_ref(layer, x, y)
        got = float(fn(*call))
        if abs(got - ref) > 2e-3 * max(abs(ref), 1e-6):
            raise SystemExit(f"W8: symnet's loss {got} differs from numpy's {ref}")
    cold, warm = compile_times(args)
    rows = [("symnet numba", median_time(lambda: fn(*call), repeats), cold, warm)]
    step = torch_step(size, args.gru, x, y, mask, lengths)
    if step is not None:
        rows.append(("PyTorch eager", median_time(step, repeats), None, None))
    step, jax_compile = jax_step(size, args.gru, x, y, mask)
    if step is not None:
        rows.append(("JAX jit lax.scan", median_time(step, repeats), jax_compile, None))
    name = "W8 GRU (masked)" if args.gru else "W8 LSTM"
    print(f"| {name} {size} | step ms | compile cold s | compile warm s |")
    print("|---|---|---|---|")
    for who, t, c, w in rows:
        fmt = lambda v: "" if v is None else f"{v:.3f}"   # noqa: E731
        print(f"| {who} | {t * 1e3:.2f} | {fmt(c)} | {fmt(w)} |")


if __name__ == "__main__":
    main()
