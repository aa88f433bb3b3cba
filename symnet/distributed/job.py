"""What changes in ``symnet train`` when it runs on several workers.

``symnet.cli.train`` asks a job object at a few points: how to shard the
training set, where to print, how to compile the step, which generator
shuffles an epoch, what to do when an epoch ends.  :class:`PlainJob` is a
single process exactly as before; :class:`WorkerJob` is one rank of a
data-parallel run:

- each rank trains on every ``size``-th example (equal shards, so every
  rank takes the same number of steps); ``--batch-size`` is per worker;
- the step averages gradients over the ranks (:func:`distributed_function`);
  the parameters start from rank 0's values (``broadcast_params``);
- every epoch's shuffle and dropout masks are seeded from ``(--seed, epoch,
  rank)``, so a resumed run continues exactly where the checkpoint left it;
- rank 0 alone prints and writes files; after every epoch it writes
  ``OUT/checkpoint.npz`` atomically (parameters, optimizer state, epoch,
  learning history), which ``--resume`` loads.
"""
import json
import os

import numpy as np

from .._io import atomic_write
from ..compile import function
from .comm import DistributedError, broadcast_params, init
from .optimizer import distributed_function

__all__ = ["PlainJob", "WorkerJob", "make_job", "checkpoint_path", "describe_checkpoint",
           "load_checkpoint"]

# options that change the network's shapes: a checkpoint only fits a run with
# the same values
_SHAPE_OPTIONS = ("model", "depth", "width", "data")
#: how long ranks wait for each other to finish compiling
STARTUP_SECONDS = 900


def checkpoint_path(out_dir):
    return os.path.join(out_dir, "checkpoint.npz")


def load_checkpoint(path):
    """``(arrays, epoch, history, meta)`` of a checkpoint file."""
    with np.load(path, allow_pickle=False) as f:
        n = int(f["n_state"])
        arrays = [f[f"state_{i}"] for i in range(n)]
        return (arrays, int(f["epoch"]), [tuple(h) for h in f["history"].tolist()],
                json.loads(str(f["meta"])))


def describe_checkpoint(path):
    """One phrase for error messages: which epoch ``path`` holds, if any."""
    try:
        epoch = load_checkpoint(path)[1]
    except (OSError, KeyError, ValueError):
        return f"no usable checkpoint at {path}"
    return f"the checkpoint {path} holds epoch {epoch}: run the same command with --resume"


class PlainJob:
    """One process, no checkpoints: ``symnet train`` without ``--workers``."""

    rank, size, is_root, checkpoint = 0, 1, True, None

    def __init__(self, args):
        self.shuffle_rng = np.random.RandomState(args.seed)

    def shard(self, X, y):
        return X, y

    def output(self, out):
        return out

    def train_function(self, inputs, loss, params, update_fn, mode, **kwargs):
        return function(inputs, loss, updates=update_fn(loss, params), mode=mode, **kwargs)

    def start(self, network, out):
        """The first epoch to run and the history so far."""
        return 1, []

    def begin_epoch(self, epoch):
        """The generator that shuffles this epoch's minibatches."""
        return self.shuffle_rng

    def end_epoch(self, epoch, history):
        pass


class WorkerJob(PlainJob):
    """One rank of ``symnet train --workers N`` (rank 0 of 1 without mpiexec)."""

    def __init__(self, args):
        self.args = args
        self.world = init(timeout=args.timeout)
        self.rank, self.size = self.world.rank, self.world.size
        self.is_root = self.rank == 0
        self.checkpoint = checkpoint_path(args.out)
        self.step = None
        self.state = []

    def shard(self, X, y):
        n = len(X) // self.size
        if n < self.args.batch_size:
            raise DistributedError(
                f"--batch-size {self.args.batch_size} is larger than each worker's shard "
                f"of the training set ({len(X)} examples / {self.size} workers = {n})")
        return X[self.rank::self.size][:n], y[self.rank::self.size][:n]

    def output(self, out):
        # ranks other than 0 compute the same metrics; printing them would
        # repeat every line N times
        return out if self.is_root else open(os.devnull, "w")

    def train_function(self, inputs, loss, params, update_fn, mode, **kwargs):
        # ``kwargs`` (profile, name) are for one compiled function; a
        # distributed step is two of them around an Allreduce
        self.step = distributed_function(inputs, loss, params, update_fn, mode=mode,
                                         world=self.world)
        return self.step

    def start(self, network, out):
        from ..layers import get_all_params
        params = get_all_params(network)
        known = set(map(id, params))
        self.state = params + [v for v in self.step.updated if id(v) not in known]
        epoch, history = 1, []
        if self.args.resume:
            epoch, history = self._resume()
            print(f"resumed from {self.checkpoint} after epoch {epoch - 1}", file=out)
        # the first collective after compiling: the ranks finish compiling at
        # different times (cold kernel cache), which --timeout must not count
        with self.world.patience(STARTUP_SECONDS):
            broadcast_params(self.state, world_=self.world)
        return epoch, history

    def _resume(self):
        if not os.path.exists(self.checkpoint):
            raise DistributedError(f"--resume: there is no checkpoint {self.checkpoint}")
        try:
            arrays, epoch, history, meta = load_checkpoint(self.checkpoint)
        except (OSError, KeyError, ValueError) as exc:
            raise DistributedError(f"--resume: cannot read {self.checkpoint}: {exc}") from None
        for key in _SHAPE_OPTIONS:
            if meta.get(key) != getattr(self.args, key):
                raise DistributedError(
                    f"--resume: {self.checkpoint} was trained with --{key} {meta.get(key)}, "
                    f"this run has --{key} {getattr(self.args, key)}")
        if len(arrays) != len(self.state):
            raise DistributedError(f"--resume: {self.checkpoint} holds {len(arrays)} arrays, "
                                   f"this network has {len(self.state)}")
        for var, value in zip(self.state, arrays):
            var.set_value(value)     # its errors name the variable and the shapes
        return epoch + 1, history

    def begin_epoch(self, epoch):
        self.step.reseed_streams(self.args.seed, epoch)
        return np.random.RandomState([self.args.seed % 2 ** 32, epoch, self.rank])

    def end_epoch(self, epoch, history):
        if not self.is_root:
            return
        meta = {key: getattr(self.args, key) for key in _SHAPE_OPTIONS}
        meta.update(workers=self.size, seed=self.args.seed)
        arrays = {f"state_{i}": v.get_value(borrow=True) for i, v in enumerate(self.state)}
        atomic_write(self.checkpoint, lambda fh: np.savez(
            fh, n_state=len(self.state), epoch=epoch, history=np.array(history, "float64"),
            meta=json.dumps(meta), **arrays), binary=True, prefix=".checkpoint-",
            suffix=".npz.tmp")


def make_job(args):
    """The job for parsed ``symnet train`` arguments."""
    return WorkerJob(args) if getattr(args, "workers", None) else PlainJob(args)
