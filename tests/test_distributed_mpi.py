"""Data-parallel training under ``mpiexec -n 2`` (issue 20): parameters stay
identical across ranks, the averaged step equals one process's step on the
whole batch, ``symnet train --workers 2`` learns as well as one worker, a
killed or hung rank ends the job with an error and a usable checkpoint,
``--resume`` continues the loss curve.

Skipped only when mpi4py is not installed (``pip install symnet[mpi]``).
The ranks run the ``py`` backend (or what SYMNET_FORCE_BACKEND says) on
tiny networks, so the whole file takes well under a minute.
"""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'symnet[mpi]')")

import symnet  # noqa: E402
from symnet import layers  # noqa: E402
from symnet.distributed.launch import find_mpiexec  # noqa: E402
from symnet.distributed.job import load_checkpoint  # noqa: E402

import mpi_scenarios  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
           MKL_NUM_THREADS="1")
SCRIPT = os.path.join(ROOT, "tests", "mpi_scenarios.py")
QUICK = ["--mode", "py", "--width", "32", "--no-progress", "--timeout", "60"]


def scenario(name, tmp_path):
    """Run ``name`` on 2 ranks; the two ranks' result dicts."""
    cmd, env = _mpiexec(2, [SCRIPT, name, str(tmp_path)])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [dict(np.load(tmp_path / f"{name}-rank{r}.npz")) for r in (0, 1)]


def _mpiexec(n, args):
    from symnet.distributed.launch import mpiexec_command
    cmd, env = mpiexec_command(n, [], mpiexec=find_mpiexec())
    # mpiexec_command runs ``python -m symnet``; a scenario runs a script
    cmd = cmd[:cmd.index(sys.executable)] + [sys.executable, *args]
    return cmd, dict(env, **{k: v for k, v in ENV.items() if k not in env or k == "PYTHONPATH"})


def run_cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "symnet", "train", *args],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=timeout)


def epoch_lines(text):
    """The per-epoch numbers, without the epoch count and the time."""
    return [re.sub(r"^epoch (\d+)/\d+", r"epoch \1", line.rsplit("(", 1)[0])
            for line in text.splitlines() if line.startswith("epoch")]


def accuracy(text):
    return float(re.search(r"test accuracy: ([\d.]+) %", text).group(1))


def test_parameters_identical_across_ranks(tmp_path):
    r0, r1 = scenario("identical", tmp_path)
    params = sorted(k for k in r0 if k.startswith("p"))
    assert len(params) == 8            # dense W b, batch norm x4, dense W b
    for k in params:
        assert r0[k].tobytes() == r1[k].tobytes(), k      # bit-identical
    # the ranks did train (rank 1 started from other weights, then got rank 0's)
    np.testing.assert_array_equal(r0["losses"], r1["losses"])
    assert np.isfinite(r0["losses"]).all() and r0["losses"][-1] != r0["losses"][0]
    # dropout masks come from different streams on each rank
    assert r0["rng"].shape == r1["rng"].shape == (1, 2)
    assert r0["rng"][0, 0] != r1["rng"][0, 0]
    # one allreduce per step (assert_synchronized does not count: it is no allreduce_sum)
    assert int(r0["allreduces"]) == 6


def test_averaged_step_equals_one_process_step_on_whole_batch(tmp_path):
    r0, r1 = scenario("equivalence", tmp_path)
    net, x, y, loss = mpi_scenarios.build_equivalence()
    params = layers.get_all_params(net, trainable=True)
    f = symnet.function([x, y], loss, updates=mpi_scenarios.UPDATE(loss, params), mode="py")
    losses = [float(f(xb, yb)) for xb, yb in mpi_scenarios.global_batches(3, 10, 2, "float64")]
    np.testing.assert_allclose(r0["losses"], losses, rtol=1e-12)
    for i, value in enumerate(layers.get_all_param_values(net)):
        np.testing.assert_allclose(r0[f"p{i}"], value, rtol=1e-10, atol=1e-13)
        assert r0[f"p{i}"].tobytes() == r1[f"p{i}"].tobytes()
    assert int(r0["allreduces"]) == 3


def test_batch_norm_running_averages_are_averaged(tmp_path):
    r0, r1 = scenario("running", tmp_path)
    (xb, yb), = mpi_scenarios.global_batches(1, 10, 2, "float64")
    per_rank = []
    for rank in (0, 1):
        # each rank's own update of the averages, in one process
        net, x, y, loss = mpi_scenarios.build_equivalence(batch_norm=True)
        symnet.function([x, y], loss, mode="py")(xb[rank * 10:(rank + 1) * 10],
                                                  yb[rank * 10:(rank + 1) * 10])
        per_rank.append({f"{i}_{p.name}": p.get_value()
                         for i, p in enumerate(layers.get_all_params(net))})
    for key in ("4_mean", "5_inv_std"):
        expected = (per_rank[0][key] + per_rank[1][key]) / 2
        np.testing.assert_allclose(r0[key], expected, rtol=1e-12)
        assert r0[key].tobytes() == r1[key].tobytes()
        assert not np.allclose(per_rank[0][key], per_rank[1][key])   # the ranks differed


def test_broadcast_params_names_a_mismatched_parameter(tmp_path):
    r0, r1 = scenario("mismatch", tmp_path)
    for r in (r0, r1):
        assert "dense.W" in str(r["error"]) and "different networks" in str(r["error"])


def test_train_two_workers_learns_as_well_as_one(tmp_path):
    # trained to convergence with light dropout, so that the accuracies of two
    # runs with other masks and minibatches differ by a few examples only;
    # the same 32 examples per step: 32 on one worker, 16 on each of two
    model = ["--model", "custom", "--depth", "1", "--drop-input", "0", "--drop-hidden", "0.2",
             "--width", "64", "--epochs", "20"]
    one = run_cli(*QUICK, *model, "--workers", "1", "--batch-size", "32",
                  "--out", str(tmp_path / "w1"))
    two = run_cli(*QUICK, *model, "--workers", "2", "--batch-size", "16",
                  "--out", str(tmp_path / "w2"))
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    # metrics from rank 0 only: each epoch printed once
    assert len(epoch_lines(two.stdout)) == 20
    assert two.stdout.count("test accuracy") == 1
    assert accuracy(one.stdout) > 94 and abs(accuracy(two.stdout) - accuracy(one.stdout)) < 3
    arrays, epoch, history, meta = load_checkpoint(str(tmp_path / "w2" / "checkpoint.npz"))
    assert epoch == 20 and len(history) == 20 and meta["workers"] == 2
    final = np.load(tmp_path / "w2" / "params.npz")
    for i, a in enumerate(arrays[:len(final.files)]):
        np.testing.assert_array_equal(a, final[f"arr_{i}"])


def test_resume_continues_the_loss_curve(tmp_path):
    full = run_cli(*QUICK, "--epochs", "4", "--workers", "2", "--out", str(tmp_path / "a"))
    half = run_cli(*QUICK, "--epochs", "2", "--workers", "2", "--out", str(tmp_path / "b"))
    rest = run_cli(*QUICK, "--epochs", "4", "--workers", "2", "--resume",
                   "--out", str(tmp_path / "b"))
    for proc in (full, half, rest):
        assert proc.returncode == 0, proc.stderr
    assert "resumed from" in rest.stdout and "after epoch 2" in rest.stdout
    assert epoch_lines(half.stdout) + epoch_lines(rest.stdout) == epoch_lines(full.stdout)
    assert accuracy(rest.stdout) == accuracy(full.stdout)


def _rank_pid(out_dir, rank):
    """The pid of the rank ``rank`` process training into ``out_dir``."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as fh:
                environ = fh.read().split(b"\0")
        except OSError:
            continue
        if str(out_dir).encode() in cmdline and f"PMI_RANK={rank}".encode() in environ \
                and b"-m" in cmdline:
            return int(pid)
    return None


def _start_and_wait_for_checkpoint(out, *extra):
    proc = subprocess.Popen([sys.executable, "-m", "symnet", "train", *QUICK, "--epochs", "500",
                             "--workers", "2", "--out", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            cwd=ROOT)
    deadline = time.monotonic() + 300   # a cold kernel cache compiles first
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if load_checkpoint(str(out / "checkpoint.npz"))[1] >= 2:
                break
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    pid = _rank_pid(out, 1)
    if pid is None:
        proc.kill()
        pytest.fail("rank 1 not found (an MPI without PMI_RANK?): " + proc.communicate()[1])
    return proc, pid


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "hung"])
def test_a_dead_or_hung_rank_ends_the_job_and_resume_works(tmp_path, sig):
    out = tmp_path / "run"
    proc, pid = _start_and_wait_for_checkpoint(out, "--timeout", "10")
    os.kill(pid, sig)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the job hangs after a rank stopped")
    assert proc.returncode != 0
    assert "error: the job on 2 workers failed" in stderr, stderr
    assert "--resume" in stderr
    if sig == signal.SIGSTOP:       # rank 0's own timeout caught it
        assert "did not join" in stderr and "within 10 s" in stderr, stderr
    _, epoch, history, _ = load_checkpoint(str(out / "checkpoint.npz"))
    assert epoch >= 2 and len(history) == epoch
    rest = run_cli(*QUICK, "--epochs", str(epoch + 1), "--workers", "2", "--resume",
                   "--out", str(out))
    assert rest.returncode == 0, rest.stderr
    assert epoch_lines(rest.stdout)[0].startswith(f"epoch {epoch + 1} ")
    assert accuracy(rest.stdout) > 50
