"""``symnet train`` end to end (in a subprocess, as a user runs it) and the
pieces of symnet/cli.py: argument checking, atomic parameter saving."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from symnet import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tiny matrices: BLAS threads only fight each other on a shared 2-core box.
ENV = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
           MKL_NUM_THREADS="1")
QUICK = ["--epochs", "2", "--width", "16", "--no-progress"]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symnet", *args], capture_output=True,
                          text=True, env=ENV, cwd=cwd or ROOT, timeout=120)


def numbers(text):
    """The per-epoch lines and the test accuracy line, for comparing runs."""
    return [line.rsplit("(", 1)[0] for line in text.splitlines()
            if line.startswith(("epoch", "test accuracy"))]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    proc = run_cli("train", *QUICK, "--seed", "3", "--out", str(out))
    return proc, out


def test_train_end_to_end(first_run):
    proc, out = first_run
    assert proc.returncode == 0, proc.stderr
    epochs = [line for line in proc.stdout.splitlines() if line.startswith("epoch")]
    assert len(epochs) == 2
    for line in epochs:
        assert "training loss" in line and "validation loss" in line \
            and "validation accuracy" in line
    match = re.search(r"^test accuracy: (\d+\.\d\d) %$", proc.stdout, re.M)
    assert match, proc.stdout
    acc = float(match.group(1))
    assert 30 < acc <= 100  # two epochs of 16 units: far better than chance (10 %)
    assert "learning curve" in proc.stdout


def test_params_file_loads_and_matches_network(first_run):
    _, out = first_run
    with np.load(out / "params.npz", allow_pickle=False) as f:
        shapes = [f[f"arr_{i}"].shape for i in range(len(f.files))]
    # W, b of 64->16, 16->16, 16->10, in get_all_param_values order
    assert shapes == [(64, 16), (16,), (16, 16), (16,), (16, 10), (10,)]
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


def test_same_seed_same_numbers(first_run, tmp_path):
    proc1, _ = first_run
    proc2 = run_cli("train", *QUICK, "--seed", "3", "--out", str(tmp_path))
    assert proc2.returncode == 0, proc2.stderr
    assert numbers(proc1.stdout) == numbers(proc2.stdout)
    proc3 = run_cli("train", *QUICK, "--seed", "4", "--out", str(tmp_path))
    assert numbers(proc3.stdout) != numbers(proc1.stdout)


def test_numba_run_compiles_before_its_first_step(tmp_path):
    # As a user runs it, SYMNET_TIERED unset (the suite sets it to 0): a
    # tiered first step would run on py, and where the switch to numba falls
    # would decide the numbers, so the same --seed could give different ones.
    env = {k: v for k, v in ENV.items() if k != "SYMNET_TIERED"}
    proc = subprocess.run([sys.executable, "-m", "symnet", "train", *QUICK, "--seed", "3",
                           "--out", str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    tiers = [line.rsplit("(", 1)[1] for line in proc.stdout.splitlines()
             if line.startswith("epoch")]
    assert len(tiers) == 2 and all(t.endswith("s, numba)") for t in tiers), proc.stdout


def test_custom_model_in_process(tmp_path, capsys):
    args = cli.build_parser().parse_args(
        ["train", "--model", "custom", "--depth", "1", "--width", "8", "--drop-input", "0",
         "--epochs", "1", "--no-progress", "--out", str(tmp_path)])
    cli.train(args)
    text = capsys.readouterr().out
    assert "model custom: 610 parameters" in text  # 64*8+8 + 8*10+10
    with np.load(tmp_path / "params.npz") as f:
        assert f["arr_0"].shape == (64, 8)


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
    (["train", "--lr", "fast"], "--lr: expected a positive number"),
    (["train", "--model", "rnn"], "invalid choice: 'rnn'"),
    (["train", "--drop-input", "1.5"], "probability in [0, 1)"),
    (["train", "--data", "cifar"], "--data must be 'digits' or 'mnist:DIR'"),
    (["train", "--data", "mnist:/nonexistent/dir"], "is not a directory"),
    (["fly"], "invalid choice: 'fly'"),
    (["train", "--threads", "-1"], "--threads: expected a whole number >= 0"),
    (["train", "--out", "/proc/no/such/dir"], "--out /proc/no/such/dir: cannot create"),
    (["train", "--batch-size", "5000"], "larger than the training set"),
])
def test_bad_arguments_one_line(argv, fragment, capsys):
    assert cli.main(argv) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err


def test_unreadable_mnist_one_line(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"garbage")
    proc = run_cli("train", "--data", f"mnist:{tmp_path}", "--out", str(tmp_path / "o"))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")


def test_help_documents_every_option():
    proc = run_cli("train", "--help")
    assert proc.returncode == 0
    for opt in ("--model", "--depth", "--width", "--drop-input", "--drop-hidden", "--epochs",
                "--batch-size", "--lr", "--seed", "--mode", "--out", "--data", "mnist:DIR"):
        assert opt in proc.stdout, opt


def test_save_params_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "params.npz"
    cli.save_params(str(path), [np.arange(3.0)])
    old = path.read_bytes()

    def broken_savez(f, *arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        cli.save_params(str(path), [np.zeros(1000)])
    assert path.read_bytes() == old  # the previous file is untouched
    assert os.listdir(tmp_path) == ["params.npz"]  # and no temporary file is left
    monkeypatch.undo()
    fresh = tmp_path / "new" / "params.npz"
    fresh.parent.mkdir()
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        cli.save_params(str(fresh), [np.zeros(3)])
    assert os.listdir(fresh.parent) == []  # never a half-written params.npz


def test_iterate_minibatches_covers_each_example_once():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    batches = list(cli.iterate_minibatches(X, y, 3, shuffle=True,
                                           rng=np.random.RandomState(0)))
    assert [len(b[1]) for b in batches] == [3, 3, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert len(set(seen.tolist())) == 9
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)


def test_limit_blas_threads_finds_openblas():
    try:
        with open("/proc/self/maps") as f:
            has_openblas = "openblas" in f.read().lower()
    except OSError:
        has_openblas = False
    # numpy's wheels bundle OpenBLAS: then the setter is found and called.
    assert cli.limit_blas_threads(1) is has_openblas


def _write_idx(path, array):
    import gzip
    import struct
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + \
        struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_train_on_mnist_directory(tmp_path, capsys):
    # A stand-in MNIST: load_mnist holds out 10,000 training images for
    # validation, so the training part proper here is 100 images.
    rng = np.random.RandomState(0)
    data = tmp_path / "mnist"
    data.mkdir()
    for prefix, n in (("train", 10100), ("t10k", 50)):
        labels = rng.randint(0, 10, n)
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        images[np.arange(n), labels, :] = 255  # row `label` lit: learnable
        _write_idx(data / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", labels)
    assert cli.main(["train", "--data", f"mnist:{data}", "--epochs", "1", "--width", "8",
                     "--batch-size", "10", "--no-progress", "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    assert "100 training, 10000 validation, 50 test examples" in text
    assert re.search(r"^test accuracy: \d+\.\d\d %$", text, re.M)
    with np.load(tmp_path / "o" / "params.npz") as f:
        assert f["arr_0"].shape == (784, 8)  # DenseLayer flattens (1, 28, 28)
