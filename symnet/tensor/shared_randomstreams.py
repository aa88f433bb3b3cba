"""Random streams for symbolic graphs (``theano.tensor.shared_randomstreams``).

A :class:`RandomStreams` object makes symbolic random tensors.  Every draw
gets its own state, a shared int64 ``[seed, counter]`` vector whose
``default_update`` advances the counter, so each call of a compiled
function that uses the draw produces fresh numbers, two draws in one graph
are independent, and the whole sequence is reproducible from the stream's
seed.  Compile with ``no_default_updates=True`` to draw the same numbers on
every call.

Examples
--------
>>> import symnet
>>> srng = RandomStreams(seed=234)
>>> u = srng.uniform((2,))
>>> f = symnet.function([], u, mode='py')
>>> a, b = f(), f()
>>> bool((a != b).all()), a.dtype == symnet.config.floatX
(True, True)
"""
import numpy as np

from ..compile.sharedvalue import TensorSharedVariable
from ..configdefaults import config
from ..graph.basic import Variable
from .basic import as_tensor_variable
from .type import TensorType
from .ops.random import random_draw, _size_list

__all__ = ["RandomStreams", "RandomStateSharedVariable", "RandomStateValue"]

# seeds of the per-draw states are drawn below this bound (any non-negative
# int64 works; a 31-bit range keeps them readable in debug prints)
_SEED_BOUND = 2 ** 31 - 1


class RandomStateValue(np.ndarray):
    """A draw's state ``[seed, counter]`` as ``get_value`` returns it, with
    the methods of numpy's RandomState that Theano code calls on it.

    Theano kept a RandomState in ``draw.rng``; its tutorial reseeds a draw
    with ``r = draw.rng.get_value(borrow=True); r.seed(89234);
    draw.rng.set_value(r, borrow=True)`` and saves and restores it with
    ``get_state``/``set_state``.  The same lines work here (a borrowed
    value is the state itself, so ``seed`` alone already takes effect).
    """

    def seed(self, seed=None):
        """Restart the draw's sequence from ``seed`` (fresh from the OS if None)."""
        if seed is None:
            seed = int(np.random.default_rng().integers(_SEED_BOUND))
        self[...] = (int(seed), 0)

    def get_state(self):
        """The state to give ``set_state`` later (a plain copy)."""
        return np.array(self)

    def set_state(self, state):
        """Go back to a state ``get_state`` returned."""
        self[...] = np.asarray(state, dtype=self.dtype)


class RandomStateSharedVariable(TensorSharedVariable):
    """A draw's state (``draw.rng``): a shared int64 ``[seed, counter]``
    whose ``get_value`` is a :class:`RandomStateValue`."""

    def get_value(self, borrow=False, return_internal_type=False):
        return super().get_value(borrow, return_internal_type).view(RandomStateValue)


class RandomStreams(object):
    """Factory of symbolic random tensors with reproducible, advancing state.

    Parameters
    ----------
    seed : int, optional
        Seeds the generator of the per-draw states.  ``None`` seeds from
        the operating system (not reproducible).

    Attributes
    ----------
    state_updates : list of (SharedVariable, Variable)
        ``(state, new_state)`` for every draw made so far.
    """

    def __init__(self, seed=None):
        self.state_updates = []
        self.default_instance_seed = seed
        self.gen_seedgen = _seed_generator(seed)

    # -- state management ------------------------------------------------------

    def _new_state(self):
        seed = int(self.gen_seedgen.integers(_SEED_BOUND))
        return RandomStateSharedVariable(TensorType("int64", shape=(2,)),
                                         np.array([seed, 0], dtype="int64"),
                                         name="rng_state", borrow=True)

    def seed(self, seed=None):
        """Re-seed the stream and every state it has made.

        Parameters
        ----------
        seed : int, optional
            The new seed (default: the one given to the constructor).
        """
        if seed is None:
            seed = self.default_instance_seed
        self.gen_seedgen = _seed_generator(seed)
        for state, _ in self.state_updates:
            s = int(self.gen_seedgen.integers(_SEED_BOUND))
            state.set_value(np.array([s, 0], dtype="int64"))

    def updates(self):
        """The ``(state, new_state)`` pairs of all draws made so far."""
        return list(self.state_updates)

    def _draw(self, dist, size, params, ndim, dtype):
        if size is None:
            size = _broadcast_size(params)
        sizes = _size_list(size)
        if ndim is not None and ndim != len(sizes):
            raise ValueError(f"{dist}: ndim={ndim} does not match size {size!r} "
                             f"({len(sizes)} dims)")
        state = self._new_state()
        new_state, sample = random_draw(dist, state, sizes, params, dtype)
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        # Theano's draws carry their state and update for code that reads them
        sample.rng = state
        sample.update = (state, new_state)
        return sample

    # -- distributions ---------------------------------------------------------

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None,
                **kwargs):
        """Uniform samples in ``[low, high)``.

        Parameters
        ----------
        size : tuple of int or symbolic scalars, or symbolic int vector
            Output shape; ``x.shape`` works.  ``None``: the broadcast shape
            of ``low`` and ``high``.
        low, high : float or symbolic tensor
        ndim : int, optional
            Checked against ``len(size)``.
        dtype : str, optional
            Default ``config.floatX``.
        nstreams : ignored
            Accepted for ``MRG_RandomStreams`` compatibility.

        Returns
        -------
        symbolic tensor
        """
        return self._draw("uniform", size, [low, high], ndim, dtype or config.floatX)

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None,
               truncate=False, **kwargs):
        """Normal samples with mean ``avg`` and standard deviation ``std``.

        Parameters are as for :meth:`uniform`; with ``truncate=True`` (MRG)
        draws beyond two standard deviations are redrawn.

        Returns
        -------
        symbolic tensor
        """
        dist = "truncated_normal" if truncate else "normal"
        return self._draw(dist, size, [avg, std], ndim, dtype or config.floatX)

    def binomial(self, size=(), n=1, p=0.5, ndim=None, dtype="int64", nstreams=None,
                 **kwargs):
        """Binomial samples: successes in ``n`` trials of probability ``p``.

        With ``n=1`` (the default) these are Bernoulli 0/1 masks, as used by
        dropout (``binomial(x.shape, p=keep, dtype=x.dtype)``).

        Returns
        -------
        symbolic tensor of ``dtype`` (default int64)
        """
        return self._draw("binomial", size, [n, p], ndim, dtype)

    def random_integers(self, size=(), low=0, high=1, ndim=None, dtype="int64"):
        """Uniform integers in ``[low, high]`` (both ends included).

        Returns
        -------
        symbolic tensor of ``dtype`` (default int64)
        """
        return self._draw("random_integers", size, [low, high], ndim, dtype)

    def choice(self, size=(), a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Samples from ``a`` (``range(a)`` for an int), optionally weighted.

        Parameters
        ----------
        size : tuple or symbolic shape
        a : int or 1-d tensor
            The population (or its size).
        replace : bool
            Draw with replacement.
        p : 1-d tensor, optional
            Probabilities of the entries of ``a`` (default: uniform).
        dtype : str

        Returns
        -------
        symbolic tensor of ``dtype``
        """
        a = as_tensor_variable(a)
        if a.ndim > 1:
            raise TypeError(f"choice: a must be an int or a vector, got {a.type}")
        p = np.zeros(0) if p is None else p
        return self._draw("choice", size, [a, p, bool(replace)], ndim, dtype)

    def permutation(self, size=(), n=1, ndim=None, dtype="int64"):
        """Permutations of ``range(n)``: an array of shape ``size + (n,)``.

        Returns
        -------
        symbolic tensor of ``dtype``
        """
        sizes = _size_list(size)
        if ndim is not None and ndim != len(sizes):
            raise ValueError(f"permutation: ndim={ndim} does not match size {size!r} "
                             f"({len(sizes)} dims)")
        n = np.int64(n) if isinstance(n, (int, np.integer)) else n
        return self._draw("permutation", sizes + [n], [n], None, dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64",
                    nstreams=None, **kwargs):
        """Multinomial counts, one draw of ``n`` trials per row of ``pvals``.

        Parameters
        ----------
        size : ignored unless it disagrees with ``pvals.shape``
        n : int
        pvals : symbolic matrix
            Rows of probabilities; the output has the same shape.
        dtype : str

        Returns
        -------
        symbolic tensor of ``dtype``, shaped like ``pvals``
        """
        if pvals is None:
            raise TypeError("multinomial needs pvals")
        pvals = as_tensor_variable(pvals)
        return self._draw("multinomial", pvals.shape, [n, pvals], ndim, dtype)


def _seed_generator(seed):
    """The generator of per-draw seeds; any non-negative int (or None) seeds it."""
    if seed is not None and int(seed) < 0:
        raise ValueError(f"RandomStreams: the seed must be non-negative, got {seed}")
    return np.random.default_rng(None if seed is None else int(seed))


def _broadcast_size(params):
    """The shape of the broadcast of ``params``, for ``size=None``."""
    tensors = [as_tensor_variable(p) for p in params if isinstance(p, Variable)]
    if not tensors:
        return ()
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t  # only its shape is used
    return total.shape
