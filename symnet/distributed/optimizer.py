"""A training step that averages gradients over MPI ranks (Horovod's idea).

:func:`distributed_function` compiles two functions from one loss: the
first computes this rank's loss and gradients, written into ONE flat
buffer (gradients, then the loss, then the new batch-norm running
averages); the buffer is summed over the ranks with ONE ``Allreduce`` and
scaled by ``1/size``; the second applies the update rule to the averaged
gradients.  Every rank applies the same update to the same parameters, so
the parameters stay bit-identical across ranks, and with equal per-rank
batches the step equals a single process's step on the concatenated batch
(up to float rounding).

Random streams (dropout) are split per rank: rank ``r > 0`` reseeds every
stream state the loss reads from ``(its old seed, r)``, so ranks drop
different units; rank 0 keeps its streams, so one rank is a plain run.
Batch-norm running averages are averaged across ranks (they ride in the
same buffer; ``sync_running_averages=False`` keeps them per rank, as
Horovod does).
"""
import numpy as np

from ..compile import function
from ..compile.sharedvalue import SharedVariable
from ..gradient import grad
from ..graph.traversal import ancestors, toposort
from ..tensor import concatenate, flatten, reshape, TensorType
from ..tensor.ops.random import RandomDraw, STATE_TYPE
from .comm import world

__all__ = ["distributed_function", "DistributedFunction", "seed_random_streams",
           "running_averages"]

_SEED_BOUND = 2 ** 31 - 1


def seed_random_streams(outputs, *key):
    """Reseed every random stream that ``outputs`` draw from, from ``key``
    (ints, e.g. ``(seed, epoch, rank)``); returns the number of streams.

    Streams are numbered in the graph's topological order, which is the
    same on every rank that built the same graph.
    """
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    states = []
    for node in toposort(outputs):
        state = node.inputs[0] if isinstance(node.op, RandomDraw) else None
        if isinstance(state, SharedVariable) and state not in states:
            states.append(state)
    for i, state in enumerate(states):
        state.set_value(np.array([_derived_seed(*key, i), 0], dtype="int64"))
    return len(states)


def _derived_seed(*key):
    entropy = [int(k) % 2 ** 32 for k in key]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0]) % _SEED_BOUND


def running_averages(loss):
    """The shared variables ``loss`` updates by ``default_update`` other than
    random stream states: batch norm's running averages, in graph order."""
    found = []
    for v in ancestors([loss]):
        if (isinstance(v, SharedVariable) and v.default_update is not None
                and v.type != STATE_TYPE and v not in found):
            found.append(v)
    return found


def _float_dtype(params):
    dtypes = {str(p.get_value(borrow=True).dtype) for p in params}
    bad = sorted(d for d in dtypes if not d.startswith("float"))
    if bad:
        raise TypeError(f"distributed_function: parameters must be floating point, got {bad}")
    return str(np.result_type(*dtypes))


class DistributedFunction:
    """The compiled data-parallel training step; see :func:`distributed_function`.

    Calling it with this rank's batch runs one step and returns the loss
    averaged over the ranks.  ``updated`` lists the shared variables the
    update rule writes (parameters and optimizer state), ``running`` the
    averaged running statistics; ``world`` is the job's :class:`World`.
    """

    def __init__(self, inputs, loss, params, update_fn, mode=None, world_=None,
                 sync_running_averages=True, split_streams=True):
        self.world = world_ or world()
        params = list(params)
        if not params:
            raise ValueError("distributed_function: no parameters to train")
        self.dtype = _float_dtype(params)
        grads = grad(loss, params)
        self.running = running_averages(loss) if sync_running_averages else []
        pieces = [flatten(g).astype(self.dtype) for g in grads]
        self.n_grad = sum(int(np.prod(p.get_value(borrow=True).shape)) for p in params)
        pieces.append(reshape(loss, (1,)).astype(self.dtype))
        # the new running averages are the values the default updates write:
        # sending them in the same buffer keeps one Allreduce per step
        pieces += [flatten(v.default_update).astype(self.dtype) for v in self.running]
        self._local = function(inputs, concatenate(pieces), mode=mode)

        flat = TensorType(self.dtype, (False,))("averaged_gradients")
        averaged, start = [], 0
        for p in params:
            shape = p.get_value(borrow=True).shape
            size = int(np.prod(shape))
            averaged.append(reshape(flat[start:start + size], shape).astype(p.dtype))
            start += size
        updates = update_fn(averaged, params)
        self.updated = list(updates.keys())
        self._apply = function([flat], [], updates=updates, mode=mode)
        if split_streams and self.world.rank > 0:
            self._reseed_for_rank(loss)
        self._loss = loss
        self.steps = 0

    def _reseed_for_rank(self, loss):
        done = set()
        for node in toposort([loss]):
            state = node.inputs[0] if isinstance(node.op, RandomDraw) else None
            if isinstance(state, SharedVariable) and state not in done:
                done.add(state)
                old, counter = (int(v) for v in state.get_value(borrow=True))
                state.set_value(np.array([_derived_seed(old, self.world.rank), counter],
                                         dtype="int64"))

    def reseed_streams(self, *key):
        """Reseed the loss's random streams from ``key`` and this rank."""
        return seed_random_streams([self._loss], *key, self.world.rank)

    @property
    def tier(self):
        """The backend that ran the last local step (see ``Function.tier``)."""
        return self._local.tier

    def __call__(self, *args):
        buf = np.require(self._local(*args), dtype=self.dtype, requirements=["C", "W"])
        self.world.allreduce_sum(buf, what=f"the gradient allreduce of step {self.steps + 1}")
        if self.world.size > 1:
            buf *= buf.dtype.type(1.0 / self.world.size)
        self._apply(buf[:self.n_grad])
        start = self.n_grad + 1
        for v in self.running:
            value = v.get_value(borrow=True)
            v.set_value(buf[start:start + value.size].reshape(value.shape).astype(value.dtype))
            start += value.size
        self.steps += 1
        return buf[self.n_grad].copy()


def distributed_function(inputs, loss, params, update_fn, mode=None, world=None,
                         sync_running_averages=True, split_streams=True):
    """Compile a data-parallel training step (ONE fused Allreduce per call).

    Parameters
    ----------
    inputs : list of Variable
        The step's inputs (this rank's batch).
    loss : scalar Variable
        This rank's mean loss over its batch.
    params : list of SharedVariable
        The parameters to train.
    update_fn : callable
        ``update_fn(grads, params) -> updates``, e.g.
        ``functools.partial(symnet.updates.nesterov_momentum, learning_rate=0.01)``;
        it is given the averaged gradients.
    mode : str, optional
        Backend of both compiled functions.
    world : World, optional
        Default: :func:`symnet.distributed.world`.
    sync_running_averages : bool
        Average batch norm's running averages over the ranks after every
        step (default); False keeps one set per rank, as Horovod does.
    split_streams : bool
        Give each rank its own dropout masks (default).

    Returns
    -------
    DistributedFunction
        ``f(*batch)`` runs one step and returns the loss averaged over ranks.

    Examples
    --------
    >>> import functools, numpy as np, symnet, symnet.tensor as T
    >>> from symnet import distributed, updates
    >>> w = symnet.shared(np.ones(2, 'float32'), name='w')
    >>> x = T.fvector('x')
    >>> step = distributed.distributed_function(
    ...     [x], ((x * w) ** 2).sum(), [w],
    ...     functools.partial(updates.sgd, learning_rate=0.125), mode='py')
    >>> float(step(np.ones(2, 'float32')))
    2.0
    >>> w.get_value().tolist()      # single process: a plain sgd step
    [0.75, 0.75]
    """
    return DistributedFunction(inputs, loss, params, update_fn, mode=mode, world_=world,
                               sync_running_averages=sync_running_averages,
                               split_streams=split_streams)
