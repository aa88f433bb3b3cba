"""The MPI world of a data-parallel job: rank, size and the few collectives
symnet needs (a sum over ranks with a deadline, broadcasts of parameters).

mpi4py is an optional dependency (``pip install symnet[mpi]``).  Without it,
or in a process started without ``mpiexec``, the world is one process:
rank 0 of 1, every collective a no-op.  A process that *was* started by
``mpiexec`` with several ranks but cannot import mpi4py is an error, not a
silent single-process run (each rank would train alone).
"""
import contextlib
import os
import time

import numpy as np

__all__ = ["World", "init", "world", "CollectiveTimeout", "DistributedError",
           "broadcast_params", "assert_synchronized", "launched_size"]

# Environment variables that mpiexec/srun set in every rank: MPICH's hydra
# and Slurm's PMI (PMI_SIZE), Open MPI (OMPI_COMM_WORLD_SIZE), PMIx, MVAPICH.
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """A data-parallel job cannot go on (bad setup, ranks that disagree)."""


class CollectiveTimeout(DistributedError):
    """The other ranks did not join a collective in time: one died or hangs."""


def launched_size():
    """The number of ranks ``mpiexec`` (or ``srun``) started, from the
    environment; 0 when this process was not started by a launcher."""
    for var in _SIZE_VARS:
        value = os.environ.get(var)
        if value and value.isdigit():
            return int(value)
    return 0


class World:
    """This process's place in the job: ``rank``, ``size``, ``comm``.

    ``comm`` is mpi4py's ``COMM_WORLD`` or None for a single process
    without mpi4py.  ``timeout`` (seconds, None: wait forever) bounds every
    collective: when it passes, :class:`CollectiveTimeout` is raised and
    the caller should :meth:`abort`, which ends every rank.
    """

    def __init__(self, comm=None, timeout=None):
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1
        self.timeout = timeout
        self.allreduce_seconds = 0.0   # time spent in allreduce_sum, for bench/
        self.allreduce_calls = 0

    @property
    def is_root(self):
        return self.rank == 0

    def __repr__(self):
        return f"World(rank={self.rank}, size={self.size})"

    @contextlib.contextmanager
    def patience(self, seconds):
        """Let the collectives inside the ``with`` wait up to ``seconds``
        (at least the usual timeout): e.g. for ranks still compiling."""
        saved = self.timeout
        if saved is not None:
            self.timeout = max(saved, seconds)
        try:
            yield self
        finally:
            self.timeout = saved

    def _wait(self, request, what):
        """Test ``request`` until done, sleeping a little longer each time
        (so a waiting rank leaves the CPU to the others); past the deadline,
        raise instead of hanging forever on a dead peer."""
        deadline = time.monotonic() + self.timeout
        pause = 2e-5
        while not request.Test():
            if time.monotonic() > deadline:
                raise CollectiveTimeout(
                    f"rank {self.rank} of {self.size}: the other ranks did not join {what} "
                    f"within {self.timeout:g} s; a rank has died or hangs")
            time.sleep(pause)
            pause = min(pause * 2, 2e-3)

    def allreduce_sum(self, buf, what="the allreduce"):
        """Sum the contiguous array ``buf`` over all ranks, in place: ONE
        MPI call for the whole buffer."""
        if self.size == 1:
            return buf
        from mpi4py import MPI
        if not (buf.flags.c_contiguous and buf.flags.writeable):
            raise ValueError("allreduce_sum needs a writeable C-contiguous buffer")
        t0 = time.perf_counter()
        if self.timeout is None:
            self.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        else:
            self._wait(self.comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM), what)
        self.allreduce_seconds += time.perf_counter() - t0
        self.allreduce_calls += 1
        return buf

    def max_min(self, value, what="a reduction"):
        """The largest and the smallest of every rank's float ``value``."""
        buf = np.array([value, -value], dtype="float64")
        if self.size > 1:
            from mpi4py import MPI
            out = np.empty_like(buf)
            if self.timeout is None:
                self.comm.Allreduce(buf, out, op=MPI.MAX)
            else:
                self._wait(self.comm.Iallreduce(buf, out, op=MPI.MAX), what)
            buf = out
        return float(buf[0]), -float(buf[1])

    def bcast_array(self, arr, root=0, what="a broadcast"):
        """Overwrite the contiguous array ``arr`` with root's copy."""
        if self.size == 1:
            return arr
        if self.timeout is None:
            self.comm.Bcast(arr, root=root)
        else:
            self._wait(self.comm.Ibcast(arr, root=root), what)
        return arr

    def allgather_object(self, obj):
        """Every rank's picklable ``obj``, in rank order (small metadata only)."""
        if self.size == 1:
            return [obj]
        return self.comm.allgather(obj)

    def barrier(self, what="a barrier"):
        if self.size == 1:
            return
        if self.timeout is None:
            self.comm.Barrier()
        else:
            self._wait(self.comm.Ibarrier(), what)

    def abort(self, code=1):
        """End every rank of the job now (after an error on this one)."""
        if self.size > 1:
            self.comm.Abort(code)
        raise SystemExit(code)


_WORLD = None


def init(seed=None, timeout=None):
    """Join the job and return its :class:`World` (rank and size from
    ``MPI.COMM_WORLD``; a single process without ``mpiexec`` is rank 0 of 1).

    Parameters
    ----------
    seed : int, optional
        Seeds numpy's global generator and :func:`symnet.random.set_rng`
        identically on every rank, so that every rank builds the same
        initial weights (call :func:`broadcast_params` too to be sure).
    timeout : float, optional
        Seconds every collective may wait for the other ranks (None: no limit).

    Examples
    --------
    >>> from symnet import distributed
    >>> w = distributed.init()
    >>> (w.rank, w.size) if w.comm is None else (0, 1)
    (0, 1)
    """
    global _WORLD
    try:
        from mpi4py import MPI
    except ImportError:
        n = launched_size()
        if n > 1:
            raise DistributedError(
                f"this process is one of {n} ranks started by mpiexec, but mpi4py is not "
                f"installed: pip install 'symnet[mpi]'") from None
        comm = None
    else:
        comm = MPI.COMM_WORLD
    if _WORLD is None or _WORLD.comm is not comm:
        _WORLD = World(comm, timeout)
    _WORLD.timeout = timeout
    if seed is not None:
        from .. import random as srandom
        np.random.seed(seed)
        srandom.set_rng(np.random.RandomState(seed))
    return _WORLD


def world():
    """The :class:`World` of :func:`init` (calling it first if needed)."""
    return _WORLD if _WORLD is not None else init()


def _params_of(layer_or_params):
    if isinstance(layer_or_params, (list, tuple)):
        return list(layer_or_params)
    from ..layers import get_all_params
    return get_all_params(layer_or_params)


def _name(p, i):
    return p.name or f"parameter #{i}"


def broadcast_params(layer_or_params, root=0, world_=None):
    """Give every rank ``root``'s values of the parameters of a layer (all
    of them: trainable, batch-norm averages ...) or of a list of shared
    variables.  Shapes and dtypes are checked first, so ranks that built
    different networks get an error naming the parameter."""
    w = world_ or world()
    params = _params_of(layer_or_params)
    mine = [(_name(p, i), p.get_value(borrow=True).shape, str(p.get_value(borrow=True).dtype))
            for i, p in enumerate(params)]
    # every rank sees every rank's list, so all of them raise together
    # instead of some waiting in a broadcast for ranks that gave up
    every = w.allgather_object(mine)
    ref = every[root]
    for rank, theirs in enumerate(every):
        if len(theirs) != len(ref):
            raise DistributedError(f"rank {rank} has {len(theirs)} parameters, rank {root} "
                                   f"has {len(ref)}: the ranks built different networks")
        for (name, shape, dtype), (_, rshape, rdtype) in zip(theirs, ref):
            if (shape, dtype) != (rshape, rdtype):
                raise DistributedError(
                    f"parameter {name}: rank {rank} has shape {shape} {dtype}, rank {root} "
                    f"has {rshape} {rdtype}: the ranks built different networks")
    for i, p in enumerate(params):
        value = np.ascontiguousarray(p.get_value())
        p.set_value(w.bcast_array(value, root=root, what=f"the broadcast of {_name(p, i)}"))
    return params


def assert_synchronized(layer_or_params, world_=None):
    """Raise :class:`DistributedError` unless every parameter is
    bit-identical on every rank (compares a checksum of each)."""
    w = world_ or world()
    params = _params_of(layer_or_params)
    for i, p in enumerate(params):
        value = np.ascontiguousarray(p.get_value(borrow=True))
        # the bytes as integers: equal maxima and minima over ranks of each
        # checksum means every rank holds the same bits (almost surely)
        words = np.frombuffer(value.tobytes(), dtype=np.uint8).astype(np.float64)
        check = float(np.dot(words, np.arange(1, words.size + 1) % 65521))
        high, low = w.max_min(check, what=f"the check of {_name(p, i)}")
        if high != low:
            raise DistributedError(f"parameter {_name(p, i)} differs between ranks")
