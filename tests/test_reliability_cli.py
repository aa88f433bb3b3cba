"""``symnet train`` never loses a run (issue 15): it checks ``--out`` before
training, leaves no temporary file behind when killed, names params.npz in
its errors, and rejects a bad ``--seed`` in one line."""
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from symnet import cli
from symnet._train_io import PARAMS_TMP, STALE_AFTER_S, remove_stale_temps, umask

from test_reliability import _run_read_only

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
QUICK = ["--epochs", "3", "--width", "16", "--no-progress", "--mode", "py"]


def _temps(folder):
    return [n for n in os.listdir(folder) if n.endswith(PARAMS_TMP[1])]


def test_unwritable_out_fails_before_training(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-m", "symnet", "train", *QUICK, "--out", str(out)]
    res = _run_read_only(str(out), argv, ENV)
    assert res.returncode == 2, res.stderr
    assert "params.npz" in res.stderr and str(out) in res.stderr
    assert "Traceback" not in res.stderr
    assert "epoch" not in res.stdout     # not one epoch trained for nothing


def test_failed_save_names_params_npz(tmp_path, monkeypatch, capsys):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "atomic_write", no_space)
    status = cli.main(["train", *QUICK, "--epochs", "1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert f"{tmp_path}{os.sep}params.npz" in err and "No space left" in err


@pytest.mark.parametrize("seed", ["-1", "4294967296", "x"])
def test_bad_seed_is_one_line(seed, capsys):
    assert cli.main(["train", "--seed", seed]) == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "expected a seed from 0 to 4294967295" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_largest_seed_is_accepted():
    args = cli.build_parser().parse_args(["train", "--seed", "4294967295"])
    assert args.seed == 2 ** 32 - 1


def test_params_file_has_the_users_mode(tmp_path):
    path = tmp_path / "params.npz"
    cli.save_params(str(path), [np.ones(2)])
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask()
    np.testing.assert_array_equal(np.load(path)["arr_0"], [1, 1])


SIGTERM_SAVE = textwrap.dedent("""
    import os, signal, sys, time, numpy as np
    from symnet.cli import save_params
    from symnet._train_io import sigterm_raises

    class Slow:   # SIGTERM arrives while params.npz is being written
        def __array__(self, dtype=None, copy=None):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
            return np.zeros(3)

    with sigterm_raises():
        save_params(os.path.join(sys.argv[1], 'params.npz'), [np.ones(2), Slow()])
""")


def test_sigterm_while_saving_leaves_no_temporary_file(tmp_path):
    res = subprocess.run([sys.executable, "-c", SIGTERM_SAVE, str(tmp_path)], env=ENV,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 128 + signal.SIGTERM, res.stderr
    assert os.listdir(tmp_path) == []


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path):
    stale = tmp_path / (PARAMS_TMP[0] + "dead" + PARAMS_TMP[1])
    fresh = tmp_path / (PARAMS_TMP[0] + "live" + PARAMS_TMP[1])
    other = tmp_path / "notes.tmp"
    for p in (stale, fresh, other):
        p.write_bytes(b"x")
    old = time.time() - STALE_AFTER_S - 10
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert remove_stale_temps(str(tmp_path)) == [stale.name]
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, other.name])


def test_train_killed_at_random_points_leaves_no_temporary_file(tmp_path):
    rng = random.Random(15)
    for k in range(2):
        out = tmp_path / f"run{k}"
        out.mkdir()
        dead = out / (PARAMS_TMP[0] + "killed9" + PARAMS_TMP[1])   # a SIGKILLed run's
        dead.write_bytes(b"half")
        old = time.time() - STALE_AFTER_S - 10
        os.utime(dead, (old, old))
        proc = subprocess.Popen([sys.executable, "-m", "symnet", "train", *QUICK,
                                 "--epochs", "40", "--out", str(out)], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.5, 3.0))
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode in (0, 128 + signal.SIGTERM, -signal.SIGTERM), stderr
        if "epoch" in stdout or proc.returncode == 0:
            assert _temps(out) == []      # the run started: it cleaned up
        if (out / "params.npz").exists():
            assert len(np.load(out / "params.npz").files) == 6
