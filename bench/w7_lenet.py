"""W7 of the benchmark card: a LeNet-style CNN training step.

    python bench/w7_lenet.py            # full size (batch 256; needs a quiet machine)
    python bench/w7_lenet.py --quick    # batch 8, a few steps: checks it works

(256, 1, 28, 28) -> conv 32 5x5 -> relu -> maxpool 2 -> conv 64 5x5 -> relu
-> maxpool 2 -> dense 256 relu -> dense 10 softmax, mean cross-entropy, one
Adam step (lr 1e-3), float32.  symnet (numba backend) beside PyTorch eager
on CPU (when installed).  Every system's first loss is checked against a
float64 numpy reference from the same initial weights; the median step
time and the GEMM floor (the FLOPs of the three convolution GEMMs per conv
layer and the dense layers at numpy's float32 GEMM rate) are printed as a
markdown table row for bench/RESULTS.md.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.run import check_loss, gemm_rate, median_time  # noqa: E402

LR = 1e-3


def lenet_data(batch=256, seed=0):
    rng = np.random.RandomState(seed)
    params = [(rng.randn(32, 1, 5, 5) * 0.2).astype("float32"), np.zeros(32, "float32"),
              (rng.randn(64, 32, 5, 5) * 0.035).astype("float32"), np.zeros(64, "float32"),
              (rng.randn(64 * 4 * 4, 256) * 0.03).astype("float32"), np.zeros(256, "float32"),
              (rng.randn(256, 10) * 0.06).astype("float32"), np.zeros(10, "float32")]
    x = rng.randn(batch, 1, 28, 28).astype("float32")
    y = rng.randint(0, 10, batch).astype("int32")
    return params, x, y


def _conv_ref(x, w):
    from numpy.lib.stride_tricks import sliding_window_view
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))
    out = np.tensordot(win, w[:, :, ::-1, ::-1], axes=([1, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2)


def _pool_ref(h):
    b, c, hh, ww = h.shape
    return h.reshape(b, c, hh // 2, 2, ww // 2, 2).max(axis=(3, 5))


def lenet_loss_ref(params, x, y):
    """The float64 loss of the initial weights (numpy)."""
    w1, b1, w2, b2, w3, b3, w4, b4 = [p.astype("float64") for p in params]
    h = _pool_ref(np.maximum(_conv_ref(x.astype("float64"), w1) + b1[:, None, None], 0))
    h = _pool_ref(np.maximum(_conv_ref(h, w2) + b2[:, None, None], 0)).reshape(len(x), -1)
    h = np.maximum(h @ w3 + b3, 0) @ w4 + b4
    h = h - h.max(axis=1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def flops(batch):
    """FLOPs of one step's GEMMs: forward and two gradients per layer."""
    c1 = 2.0 * batch * 32 * 24 * 24 * 25
    c2 = 2.0 * batch * 64 * 8 * 8 * 32 * 25
    dense = 2.0 * batch * (1024 * 256 + 256 * 10)
    return 2 * c1 + 3 * (c2 + dense)      # no gradient wrt the input images


def symnet_step(params, x, y, mode="numba"):
    import symnet
    import symnet.tensor as T
    from symnet import updates
    from symnet.tensor.ops.pool import pool_2d
    sh = [symnet.shared(p.copy(), name=f"p{i}") for i, p in enumerate(params)]
    X = T.TensorType("float32", shape=(None, 1, 28, 28))("x")
    Y = T.ivector("y")
    h = X
    for k in (0, 2):
        h = T.nnet.relu(T.nnet.conv2d(h, sh[k]) + sh[k + 1].dimshuffle("x", 0, "x", "x"))
        h = pool_2d(h, (2, 2), ignore_border=True)
    h = T.nnet.relu(T.dot(h.flatten(2), sh[4]) + sh[5])
    logits = T.dot(h, sh[6]) + sh[7]
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), Y))
    f = symnet.function([X, Y], loss, updates=updates.adam(loss, sh, learning_rate=LR),
                        mode=mode)
    return lambda: f(x, y), f


def torch_step(params, x, y):
    import torch
    F = torch.nn.functional
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.Adam(ps, lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype("int64"))

    def step():
        opt.zero_grad()
        h = xt
        for k in (0, 2):
            h = F.relu(F.conv2d(h, torch.flip(ps[k], (2, 3))) + ps[k + 1][None, :, None, None])
            h = F.max_pool2d(h, 2)
        h = F.relu(h.flatten(1) @ ps[4] + ps[5])
        loss = F.cross_entropy(h @ ps[6] + ps[7], yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="batch 8, a few steps")
    args = ap.parse_args(argv)
    batch, repeats = (8, 3) if args.quick else (256, 15)
    params, x, y = lenet_data(batch)
    ref = lenet_loss_ref(params, x, y)
    floor_ms = flops(batch) / gemm_rate() * 1e3
    row = {}
    step, f = symnet_step(params, x, y)
    check_loss("symnet", "W7", float(step()), ref)
    fallback = [ln.strip() for ln in f.source.splitlines() if "(Python perform)" in ln]
    row["symnet"] = median_time(step, repeats) * 1e3
    try:
        tstep = torch_step(params, x, y)
    except ImportError:
        tstep = None
    if tstep is not None:
        check_loss("torch", "W7", float(tstep()), ref)
        row["torch"] = median_time(tstep, repeats) * 1e3
    cells = " | ".join(f"{k} {v:.2f} ms" for k, v in row.items())
    print(f"| W7 LeNet step b={batch} | {cells} | GEMM floor {floor_ms:.2f} ms |")
    if fallback:
        print(f"symnet ran {len(fallback)} node(s) through Python perform:", *fallback,
              sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
