"""``symnet train --workers N``: start the job under ``mpiexec``, or run as
one of its ranks.

Started by hand, the command re-launches itself as ``mpiexec -n N python -m
symnet train ...`` (the ``mpiexec`` of the ``mpich`` wheel beside this
Python first, then the one on ``PATH``) and waits; when a rank fails, the
launcher reports it and names the checkpoint to resume from.  Started by
``mpiexec`` or ``srun`` (the launcher's variables are in the environment),
it runs the training as this process's rank; an error on one rank aborts
every rank (``MPI_Abort``), so no rank is left waiting for a dead one.
"""
import importlib.util
import os
import shutil
import subprocess
import sys

from .comm import CollectiveTimeout, DistributedError, init, launched_size

__all__ = ["find_mpiexec", "mpiexec_command", "run_workers"]


def find_mpiexec():
    """The ``mpiexec`` to start ranks with; DistributedError if none."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise DistributedError("--workers needs mpiexec, found neither beside "
                               f"{sys.executable} nor on PATH: pip install 'symnet[mpi]' "
                               "(brings the mpich wheel's mpiexec)")
    return found


def mpiexec_command(n, argv, mpiexec=None):
    """The command line running ``python -m symnet ARGV`` on ``n`` ranks,
    and the environment for it."""
    mpiexec = mpiexec or find_mpiexec()
    env = dict(os.environ)
    cmd = [mpiexec, "-n", str(n)]
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    if "Open MPI" in version or "OpenRTE" in version:
        # Open MPI refuses root and more ranks than cores unless told;
        # MPICH's hydra allows both.
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        cmd.append("--oversubscribe")
    return cmd + [sys.executable, "-m", "symnet", *argv], env


def _relaunch(args, argv):
    if importlib.util.find_spec("mpi4py") is None:
        raise DistributedError(f"--workers {args.workers} needs mpi4py: "
                               "pip install 'symnet[mpi]'")
    cmd, env = mpiexec_command(args.workers, argv)
    status = subprocess.run(cmd, env=env).returncode
    if status != 0:
        from .job import checkpoint_path, describe_checkpoint
        ckpt = describe_checkpoint(checkpoint_path(args.out))
        print(f"error: the job on {args.workers} workers failed (mpiexec exit status "
              f"{status}: a rank failed or was killed); {ckpt}", file=sys.stderr, flush=True)
    return status


def run_workers(args, argv, train, user_errors=()):
    """Run the parsed ``symnet train`` job ``args`` data-parallel; returns
    the exit status.  ``train(args)`` is the job itself, ``argv`` the
    command line to relaunch with, ``user_errors`` the exceptions that
    mean a bad command (exit status 2)."""
    launched = launched_size()
    if launched == 0:
        if args.workers > 1:
            return _relaunch(args, argv)
        train(args)        # one worker: this process is rank 0 of 1
        return 0
    world = init(timeout=args.timeout)
    if args.workers is None:
        args.workers = world.size
    if world.size != args.workers:
        raise DistributedError(f"--workers {args.workers}, but mpiexec started "
                               f"{world.size} ranks")
    try:
        train(args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if world.size == 1:
            raise
        # One rank's error must end them all: the others would wait for it
        # in the next allreduce until their timeout.
        where = f"rank {world.rank} of {world.size}: "
        message = str(exc) if str(exc).startswith(where) else where + str(exc)
        print(f"error: {message}", file=sys.stderr, flush=True)
        user = isinstance(exc, user_errors) and not isinstance(exc, CollectiveTimeout)
        world.abort(2 if user else 1)
    return 0
