"""The GPU rows of the benchmark card: symnet's mode='cuda' beside PyTorch
CUDA and JAX GPU (each when installed), on the same card in one process.

    python bench/gpu.py [--quick] [--json FILE]

Rows: W1 (MLP training step) at batch 512 and 4,096, W2 (tanh*exp loss and
gradient) at 1e7 elements, W4 (CNN training step: conv as im2col + cuBLAS,
pooling kernels, dropout's random draws on the host).  Each
system's loss is first checked against the float64 numpy reference.  The
card, driver and versions are printed with the table for bench/RESULTS.md.
Run by ``bench/gpu.sh``; needs a GPU (the simulator would take hours).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench import peers  # noqa: E402
from bench.run import (LR, MOM, check_loss, cnn_data, cnn_loss_ref, median_time,  # noqa: E402
                       mlp_data, mlp_loss_ref, print_table, versions)


class TorchCuda(peers.Torch):
    """PyTorch with parameters and data on the GPU (``loss.item()`` waits
    for the device, so the timings are whole steps)."""

    def __init__(self):
        super().__init__(device="cuda")
        if not self.torch.cuda.is_available():
            raise RuntimeError("torch sees no CUDA device")


class JaxGpu(peers.Jax):
    """JAX on its GPU platform (``block_until_ready`` syncs)."""

    def __init__(self):
        os.environ["JAX_PLATFORMS"] = "cuda"
        super().__init__()
        import jax
        if jax.devices()[0].platform != "gpu":
            raise RuntimeError("jax sees no GPU")


def systems():
    out = {"symnet_cuda": peers.Symnet("cuda")}
    for name, mk in (("torch_cuda", TorchCuda), ("jax_gpu", JaxGpu)):
        try:
            out[name] = mk()
        except Exception as exc:   # a missing peer leaves an empty column
            print(f"{name}: not run ({type(exc).__name__}: {exc})")
    return out


def _timed(row, name, make, check, repeats):
    try:
        call = make()
        check(call())
        row[name] = median_time(call, repeats) * 1e3
    except Exception as exc:   # a system failing must not end the run
        row[name] = f"error: {type(exc).__name__}: {exc}"[:60]


def run(quick=False):
    systems_ = systems()
    rows = []
    for batch in ((512,) if quick else (512, 4096)):
        params, x, y = mlp_data(batch)
        ref = mlp_loss_ref(params, x, y)
        row = {"workload": f"W1 MLP step b={batch} (GPU)", "unit": "ms"}
        for name, sysm in systems_.items():
            _timed(row, name, lambda: sysm.mlp([p.copy() for p in params], x, y, LR, MOM),
                   lambda loss: check_loss(name, "W1", float(loss), ref), 5 if quick else 30)
        rows.append(row)
    n = 1_000_000 if quick else 10_000_000
    x = np.random.RandomState(0).randn(n).astype("float32")
    a, b = np.float32(0.7), np.float32(-0.2)
    ref = float(np.sum(np.tanh(a * x.astype("float64") + b) * np.exp(-x.astype("float64") ** 2)))
    row = {"workload": f"W2 tanh*exp loss+grad n={n} (GPU)", "unit": "ms"}
    for name, sysm in systems_.items():
        _timed(row, name, lambda: sysm.elemwise(x, a, b),
               lambda out: check_loss(name, "W2", float(out[0]), ref, rel=1e-3),
               10 if quick else 50)
    rows.append(row)
    params, x, y = cnn_data(64)
    ref = cnn_loss_ref(params, x, y)
    row = {"workload": "W4 CNN step b=64 (GPU)", "unit": "ms"}
    for name, sysm in systems_.items():
        _timed(row, name, lambda: sysm.cnn([p.copy() for p in params], x, y, LR, MOM),
               lambda loss: check_loss(name, "W4", float(loss), ref), 3 if quick else 15)
    rows.append(row)
    return rows, list(systems_)


def card():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                               "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi failed: {exc}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and repeats")
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    info = dict(versions(), card=card())
    for mod in ("numba_cuda", "cupy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    print("versions:", json.dumps(info))
    rows, names = run(args.quick)
    print_table(rows, names)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"versions": info, "rows": rows}, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
