"""symnet.distributed in one process (no mpi4py needed): the data-parallel
step on one rank is the plain step, stream seeding, running averages,
the collective timeout, the mpiexec command line, checkpoints and
``symnet train --workers 1`` / ``--resume``.  The runs on 2 ranks are in
tests/test_distributed_mpi.py."""
import functools
import importlib.util
import stat
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import cli, distributed, layers, updates
from symnet.distributed import comm, job, launch

import mpi_scenarios


def _net(seed=0, dropout=True, batch_norm=True):
    return mpi_scenarios.build_net(seed, dropout, batch_norm)


def test_init_single_process_is_rank_0_of_1_and_seeds_identically():
    w = distributed.init(seed=7)
    assert (w.rank, w.size, w.is_root) == (0, 1, True)
    a = symnet.random.get_rng().uniform(size=3)
    distributed.init(seed=7)
    np.testing.assert_array_equal(symnet.random.get_rng().uniform(size=3), a)
    assert distributed.world() is w


def test_init_under_mpiexec_without_mpi4py_is_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)       # import fails
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(distributed.DistributedError, match=r"one of 4 ranks.*symnet\[mpi\]"):
        distributed.init()


@pytest.mark.parametrize("var", ["PMI_SIZE", "OMPI_COMM_WORLD_SIZE"])
def test_launched_size_reads_the_launchers_environment(monkeypatch, var):
    for v in comm._SIZE_VARS:
        monkeypatch.delenv(v, raising=False)
    assert distributed.launched_size() == 0
    monkeypatch.setenv(var, "3")
    assert distributed.launched_size() == 3


@pytest.mark.parametrize("update", [
    functools.partial(updates.sgd, learning_rate=0.1),
    functools.partial(updates.nesterov_momentum, learning_rate=0.1, momentum=0.9),
    functools.partial(updates.adam, learning_rate=0.01)], ids=["sgd", "nesterov", "adam"])
def test_one_rank_step_equals_the_plain_step(update):
    batches = mpi_scenarios.global_batches(3, 8, 1, "float32")
    results = []
    for distributed_step in (False, True):
        net, x, y, loss = _net(dropout=False)
        params = layers.get_all_params(net, trainable=True)
        if distributed_step:
            f = distributed.distributed_function([x, y], loss, params, update, mode="py")
        else:
            f = symnet.function([x, y], loss, updates=update(loss, params), mode="py")
        losses = [float(f(xb, yb)) for xb, yb in batches]
        results.append((losses, layers.get_all_param_values(net)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert f.world.allreduce_calls == 0 and f.steps == 3    # size 1: no MPI call


def test_distributed_function_keeps_dropout_and_returns_float_loss():
    net, x, y, loss = _net()
    params = layers.get_all_params(net, trainable=True)
    f = distributed.distributed_function([x, y], loss, params,
                                         functools.partial(updates.sgd, learning_rate=0.0),
                                         mode="py")
    xb, yb = mpi_scenarios.global_batches(1, 16, 1, "float32")[0]
    first, second = f(xb, yb), f(xb, yb)
    assert first.dtype == np.float32 and first.shape == ()
    assert first != second          # lr 0: only the dropout masks changed


def test_distributed_function_rejects_integer_parameters():
    w = symnet.shared(np.arange(3), name="counts")
    x = T.vector("x")
    with pytest.raises(TypeError, match="floating point.*int64"):
        distributed.distributed_function([x], (x * w).sum(), [w], updates.sgd, mode="py")


def test_running_averages_are_batch_norm_not_random_streams():
    net, x, y, loss = _net()
    found = distributed.running_averages(loss)
    assert sorted(v.name for v in found) == ["inv_std", "mean"]
    net, x, y, loss = _net(batch_norm=False)
    assert distributed.running_averages(loss) == []


def test_seed_random_streams_is_a_function_of_the_key():
    net, x, y, loss = _net()
    states = lambda: [v.get_value().tolist() for v in symnet.graph.traversal.ancestors([loss])
                      if isinstance(v, symnet.SharedVariable) and v.name == "rng_state"]
    assert distributed.seed_random_streams(loss, 1, 2, 3) == 1
    a = states()
    distributed.seed_random_streams(loss, 1, 2, 4)
    assert states() != a
    distributed.seed_random_streams([loss], 1, 2, 3)
    assert states() == a and a[0][1] == 0


def test_broadcast_and_check_on_one_rank_leave_values_alone():
    net, x, y, loss = _net()
    before = layers.get_all_param_values(net)
    assert len(distributed.broadcast_params(net)) == len(before)
    distributed.assert_synchronized(net)
    for a, b in zip(before, layers.get_all_param_values(net)):
        np.testing.assert_array_equal(a, b)


class _NeverDone:
    def Test(self):
        return False


def test_a_collective_that_never_completes_times_out():
    w = comm.World(None, timeout=0.05)
    w.rank, w.size = 1, 2
    with pytest.raises(distributed.CollectiveTimeout,
                       match=r"rank 1 of 2: the other ranks did not join the allreduce of "
                             r"step 3 within 0.05 s; a rank has died or hangs"):
        w._wait(_NeverDone(), "the allreduce of step 3")


def test_patience_lengthens_the_timeout_inside_only():
    w = comm.World(None, timeout=0.05)
    w.rank, w.size = 1, 2
    with w.patience(0.3):
        assert w.timeout == 0.3
        with pytest.raises(distributed.CollectiveTimeout, match="within 0.3 s"):
            w._wait(_NeverDone(), "the startup")
    assert w.timeout == 0.05
    with comm.World(None, timeout=None).patience(5) as unlimited:
        assert unlimited.timeout is None


def test_allreduce_on_one_rank_is_the_identity():
    w = comm.World(None)
    buf = np.arange(4.0)
    assert w.allreduce_sum(buf) is buf and buf.tolist() == [0, 1, 2, 3]
    assert w.max_min(2.5) == (2.5, 2.5)


def _fake_mpiexec(tmp_path, version):
    path = tmp_path / "mpiexec"
    path.write_text(f"#!/bin/sh\necho '{version}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_mpiexec_command_for_mpich_and_open_mpi(tmp_path):
    cmd, env = launch.mpiexec_command(3, ["train", "--workers", "3"],
                                      mpiexec=_fake_mpiexec(tmp_path, "HYDRA build details"))
    assert cmd[1:3] == ["-n", "3"] and cmd[3:6] == [sys.executable, "-m", "symnet"]
    assert cmd[-3:] == ["train", "--workers", "3"] and "--oversubscribe" not in cmd
    cmd, env = launch.mpiexec_command(2, ["train"], mpiexec=_fake_mpiexec(
        tmp_path, "mpiexec (Open MPI) 4.1.6"))
    # Open MPI refuses root and more ranks than cores unless told
    assert "--oversubscribe" in cmd and env["OMPI_ALLOW_RUN_AS_ROOT"] == "1"


def test_find_mpiexec_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(distributed.DistributedError, match=r"pip install 'symnet\[mpi\]'"):
        launch.find_mpiexec()


def _args(tmp_path, **kw):
    argv = ["train", "--mode", "py", "--width", "16", "--epochs", "2", "--no-progress",
            "--out", str(tmp_path)]
    for key, value in kw.items():
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return argv


def test_train_one_worker_checkpoints_and_resumes(tmp_path, capsys):
    assert cli.main(_args(tmp_path, workers=1)) == 0
    first = capsys.readouterr().out
    arrays, epoch, history, meta = job.load_checkpoint(str(tmp_path / "checkpoint.npz"))
    # parameters (6 arrays: 3 dense W, b) and nesterov's 6 velocities
    assert epoch == 2 and len(history) == 2 and len(arrays) == 12
    assert meta == dict(model="mlp", depth=2, width=16, data="digits", workers=1, seed=0)
    params = np.load(tmp_path / "params.npz")
    for i in range(6):
        np.testing.assert_array_equal(arrays[i], params[f"arr_{i}"])
    assert "epoch 2/2" in first and "resumed" not in first

    assert cli.main(_args(tmp_path, workers=1, resume=True, epochs=3)) == 0
    rest = capsys.readouterr().out
    assert "resumed from" in rest and "epoch 3/3" in rest and "epoch 2/3" not in rest
    assert job.load_checkpoint(str(tmp_path / "checkpoint.npz"))[1] == 3


@pytest.mark.parametrize("extra, fragment", [
    (dict(resume=True), "--resume needs --workers N"),
    (dict(workers=1, resume=True), "there is no checkpoint"),
])
def test_resume_errors_are_one_line(tmp_path, capsys, extra, fragment):
    assert cli.main(_args(tmp_path, **extra)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and fragment in err and len(err.strip().splitlines()) == 1


def test_resume_with_another_width_names_the_option(tmp_path, capsys):
    assert cli.main(_args(tmp_path, workers=1)) == 0
    assert cli.main(_args(tmp_path, workers=1, resume=True, width=32)) == 2
    assert "trained with --width 16, this run has --width 32" in capsys.readouterr().err


def test_two_workers_without_mpi4py_say_how_to_install_it(tmp_path, capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mpi4py" else find_spec(name, *a))
    for v in comm._SIZE_VARS:
        monkeypatch.delenv(v, raising=False)
    assert cli.main(_args(tmp_path, workers=2)) == 2
    assert "--workers 2 needs mpi4py: pip install 'symnet[mpi]'" in capsys.readouterr().err


def test_shards_are_equal_and_disjoint(tmp_path):
    X, y = np.arange(22).reshape(11, 2), np.arange(11)
    shards = []
    for rank in (0, 1, 2):
        j = job.WorkerJob.__new__(job.WorkerJob)
        j.rank, j.size, j.args = rank, 3, SimpleNamespace(batch_size=2)
        shards.append(j.shard(X, y))
    assert [len(s[1]) for s in shards] == [3, 3, 3]
    assert sorted(np.concatenate([s[1] for s in shards]).tolist()) == [0, 1, 2, 3, 4, 5, 6,
                                                                        7, 8]
    j.args.batch_size = 4
    with pytest.raises(distributed.DistributedError, match="larger than each worker's shard"):
        j.shard(X, y)


def test_describe_checkpoint(tmp_path):
    assert "no usable checkpoint" in job.describe_checkpoint(str(tmp_path / "none.npz"))


def test_help_documents_the_worker_options(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())     # however argparse wrapped it
    for opt in ("--workers N", "mpiexec -n N", "--resume", "checkpoint.npz",
                "--timeout SECONDS"):
        assert opt in text, opt
