"""``theano.tensor.raw_random``: draws from an explicit numpy ``RandomState``.

Where :mod:`~symnet.tensor.shared_randomstreams` hides its state, these
functions take the state as a variable of :class:`RandomStateType` and
return ``(new_state, sample)``; the program threads the state itself,
usually as a function input updated by ``new_state``::

    rng = random_state_type()
    new_rng, u = uniform(rng, (2, 3), low=-1.0, high=1.0)
    f = function([In(rng, value=np.random.RandomState(42), update=new_rng,
                      mutable=True)], u)

The sample is what numpy's ``RandomState`` draws from that state (the same
numbers as ``np.random.RandomState(42).uniform(-1, 1, (2, 3))``), on every
backend: the numba backend's driver calls :meth:`RandomFunction.draw`, the
op's ``perform``, once per node.  A draw never changes the state it was
given: the new state is a copy (also for ``inplace`` ops).

Examples
--------
>>> import numpy as np, symnet
>>> rng = random_state_type()
>>> new_rng, u = uniform(rng, (3,))
>>> f = symnet.function([rng], u, mode='py')
>>> bool(np.allclose(f(np.random.RandomState(7)), np.random.RandomState(7).uniform(size=3)))
True
"""
import copy

import numpy as np

from ..configdefaults import config
from ..graph.basic import Apply, Constant, Variable
from ..graph.op import Op, grad_undefined
from ..graph.type import Generic
from .basic import as_tensor_variable
from .type import TensorType, upcast

__all__ = ["RandomStateType", "random_state_type", "RandomFunction", "uniform", "normal",
           "binomial", "random_integers", "choice", "poisson", "permutation",
           "multinomial", "random_integers_helper", "choice_helper",
           "permutation_helper", "multinomial_helper"]


class RandomStateType(Generic):
    """The type of a variable holding a ``numpy.random.RandomState``."""

    def filter(self, value, strict=False, allow_downcast=None, name=None):
        if not isinstance(value, np.random.RandomState):
            raise TypeError(f"expected a numpy.random.RandomState, got {type(value).__name__} "
                            f"({value!r})")
        return value

    def is_valid_value(self, value):
        return isinstance(value, np.random.RandomState)

    def values_eq(self, a, b):
        """Whether the two generators are in the same state (they will draw
        the same numbers)."""
        sa, sb = a.get_state(), b.get_state()
        return all(np.array_equal(x, y) for x, y in zip(sa, sb))

    def __str__(self):
        return "RandomStateType"

    __repr__ = __str__


#: the instance programs call to make a state variable: ``random_state_type()``
random_state_type = RandomStateType()


class RandomFunction(Op):
    """``(new_state, sample)``: ``fn(state, *args, size)`` drawn from a copy
    of the input state.

    Parameters
    ----------
    fn : str or callable
        A method name of ``numpy.random.RandomState`` (``'uniform'``) or a
        function taking ``(state, *args, size)``.
    outtype : TensorType
        The type of the sample.
    inplace : bool
        Theano's in-place draw: the op declares the state a destroyed input
        (the old state is not to be read again), but still draws from a copy.
    ndim_added : int
        How many dimensions the sample has beyond ``size`` (1 for
        permutations and multinomials).
    """

    __props__ = ("fn", "outtype", "inplace", "ndim_added")

    def __init__(self, fn, outtype, inplace=False, ndim_added=0):
        self.fn = fn
        self.exec_fn = getattr(np.random.RandomState, fn) if isinstance(fn, str) else fn
        self.outtype = outtype
        self.inplace = bool(inplace)
        self.ndim_added = int(ndim_added)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"RandomFunction{{{getattr(self.exec_fn, '__name__', self.fn)}}}"

    def make_node(self, r, shape, *args):
        if not isinstance(r, Variable):
            r = Constant(random_state_type, r)
        if not isinstance(r.type, RandomStateType):
            raise TypeError(f"{self}: the state must be a RandomStateType variable, got {r} "
                            f"({r.type})")
        if isinstance(shape, (tuple, list)) and not shape:
            shape = np.zeros(0, "int64")     # no size: numpy's own (the parameters')
        size = as_tensor_variable(shape)
        if size.ndim != 1 or not size.dtype.startswith(("int", "uint")):
            raise TypeError(f"{self}: the size must be a vector of integers, got {size} "
                            f"({size.ndim} dims, {size.dtype})")
        if size.dtype not in ("int64", "int32"):
            from .ops.elemwise import cast
            size = cast(size, "int64")
        args = [as_tensor_variable(a) for a in args]
        return Apply(self, [r, size] + args, [r.type(), self.outtype()])

    def draw(self, r, size, *args):
        """``(new_state, sample)`` for these values: ``perform``'s work,
        also the numba backend's driver line."""
        size = tuple(int(s) for s in size) if len(size) else None
        want = self.outtype.ndim
        if size is not None and want != len(size) + self.ndim_added:
            raise ValueError(f"{self}: the size {size} has {len(size)} dims, but the sample has "
                             f"{want} (= len(size) + ndim_added {self.ndim_added})")
        # even an inplace op draws from a copy: the scheduler does not run a
        # node that destroys an input after that input's other readers (a
        # non-inplace draw from the same state must see the old state)
        r = copy.deepcopy(r)    # copy.copy would share the bit generator
        sample = np.asarray(self.exec_fn(r, *args, size), dtype=self.outtype.dtype)
        if size is None and sample.ndim == 0 and want > 0:
            # numpy gives a scalar for one draw without a size
            sample = sample.reshape((1,) * want)
        got = sample.shape[:sample.ndim - self.ndim_added]
        if sample.ndim != want or (size is not None and got != size):
            raise ValueError(f"{self}: drew a sample of shape {sample.shape}, expected "
                             f"{want} dims starting with the size {size}")
        return r, sample

    def perform(self, node, inputs, output_storage):
        r, sample = self.draw(*inputs)
        output_storage[0][0] = r
        output_storage[1][0] = sample

    def infer_shape(self, node, input_shapes):
        size = node.inputs[1]
        auto = isinstance(size, Constant) and size.data.size == 0
        if self.ndim_added or auto:
            raise NotImplementedError(f"{self}: the sample's shape is known only when it is drawn")
        return [None, [size[i] for i in range(self.outtype.ndim)]]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, k, v, "no gradient through raw random draws")
                for k, v in enumerate(inputs)]

    def R_op(self, inputs, eval_points):
        return [None for _ in eval_points]

    def connection_pattern(self, node):
        return [[True, True] for _ in node.inputs]


def _size_vector(ndim, size, *params):
    """``(ndim, int64 size vector, broadcastable)`` from a ``size`` given
    as None (the parameters' broadcast shape), a tuple or list (ints,
    scalar variables, ``-1`` for "that of the parameters") or a vector
    variable; ``ndim`` must agree when given."""
    from .. import tensor as B
    need = max([p.ndim for p in params] or [0])
    if size is None:
        if not params:
            raise TypeError("the sample's shape cannot be inferred without a size or "
                            "parameters: give size= (or ndim= and parameters)")
        template = params[0]
        for p in params[1:]:
            template = template + p
        ndim, vec, bcast = template.ndim, template.shape, template.broadcastable
    elif isinstance(size, (tuple, list)):
        if ndim is not None and ndim != len(size):
            raise ValueError(f"ndim should be equal to len(size), got ndim={ndim} and "
                             f"size={size}")
        ndim, entries, bcast = len(size), [], []
        for i, s in enumerate(size):
            if isinstance(s, Variable):
                entries.append(s)
                bcast.append(False)
            elif s >= 0:
                entries.append(as_tensor_variable(int(s)))
                bcast.append(int(s) == 1)
            elif s == -1:
                entries.append(_param_dim(i, ndim, params, bcast))
            else:
                raise ValueError(f"size {size}: {s} is not a length (>= 0, or -1 for the "
                                 f"parameters' length)")
        vec = B.stack(entries) if entries else B.constant(np.zeros(0, "int64"))
    else:
        vec = as_tensor_variable(size)
        if vec.ndim != 1:
            raise TypeError(f"size must be a vector or a list of scalars, got {vec}")
        ndim = B.get_vector_length(vec) if ndim is None else ndim
        bcast = [False] * ndim
    if not str(vec.dtype).startswith(("int", "uint")):
        raise TypeError(f"size must be integers, got {vec} of dtype {vec.dtype}")
    if need > ndim:
        raise ValueError(f"ndim ({ndim}) must be at least that of the parameters ({need})")
    return ndim, B.cast(vec, "int64"), tuple(bcast)


#: Theano's name of it (its tests call it)
_infer_ndim_bcast = _size_vector


def _param_dim(i, ndim, params, bcast):
    """Size ``-1`` at position ``i``: the length of the first parameter
    that is not broadcastable there (1 if they all are)."""
    overlapping = [p for p in params if i >= ndim - p.ndim]
    if not overlapping:
        raise ValueError(f"size -1 at position {i} overlaps no parameter's dimensions")
    for p in overlapping:
        k = i + p.ndim - ndim
        if not p.broadcastable[k]:
            bcast.append(False)
            return p.shape[k]
    bcast.append(True)
    return as_tensor_variable(1)


def _tensors(*values):
    return [as_tensor_variable(v) for v in values]


def _draw(fn, dtype, bcast, random_state, size, *params, ndim_added=0):
    op = RandomFunction(fn, TensorType(dtype, broadcastable=bcast), ndim_added=ndim_added)
    return op(random_state, size, *params)


def uniform(random_state, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
    """Uniform draws in ``[low, high)``; ``dtype`` at least ``floatX``."""
    low, high = _tensors(low, high)
    dtype = dtype or upcast(config.floatX, low.dtype, high.dtype)
    ndim, size, bcast = _size_vector(ndim, size, low, high)
    return _draw("uniform", dtype, bcast, random_state, size, low, high)


def normal(random_state, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
    """Normal draws of mean ``avg`` and standard deviation ``std``."""
    avg, std = _tensors(avg, std)
    dtype = dtype or upcast(config.floatX, avg.dtype, std.dtype)
    ndim, size, bcast = _size_vector(ndim, size, avg, std)
    return _draw("normal", dtype, bcast, random_state, size, avg, std)


def binomial(random_state, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
    """The number of successes of ``n`` trials of probability ``p``
    (``prob`` is Theano's old name of ``p``)."""
    n, p = _tensors(n, p if prob is None else prob)
    ndim, size, bcast = _size_vector(ndim, size, n, p)
    return _draw("binomial", dtype, (False,) * ndim, random_state, size, n, p)


def _each(size, *arrays):
    """Indices ``(out_index, index of each array)`` over ``size``, the
    arrays broadcast against it (their leading axes; a length-1 axis
    repeats)."""
    for a in arrays:
        bad = [d for d, n in enumerate(size) if a.shape[d] not in (1, n)]
        if bad:
            raise ValueError(f"a parameter of shape {a.shape} does not broadcast to the size "
                             f"{tuple(size)} (axis {bad[0]})")
    for idx in np.ndindex(*size):
        yield (idx,) + tuple(tuple(0 if a.shape[d] == 1 else i for d, i in enumerate(idx))
                             for a in arrays)


def _lead(a, ndim, who, name):
    """``a`` with ones prepended to ``ndim`` leading axes."""
    if a.ndim > ndim:
        raise ValueError(f"{who}: {name} has {a.ndim} dims, more than the size's {ndim}")
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _broadcast_size(size, ndim, *arrays):
    if size is not None:
        return tuple(size)
    return tuple(max(a.shape[d] for a in arrays) for d in range(ndim))


def random_integers_helper(random_state, low, high, size):
    """Integers in ``[low, high]`` (inclusive), one ``randint`` per element in
    C order, ``low`` and ``high`` broadcast to the size."""
    low, high = np.asarray(low), np.asarray(high)
    ndim = len(size) if size is not None else max(low.ndim, high.ndim)
    low = _lead(low, ndim, "random_integers", "low")
    high = _lead(high, ndim, "random_integers", "high")
    size = _broadcast_size(size, ndim, low, high)
    out = np.empty(size, dtype="int64")
    for oi, li, hi in _each(size, low, high):
        out[oi] = random_state.randint(low=low[li], high=high[hi] + 1)
    return out


def random_integers(random_state, size=None, low=0, high=1, ndim=None, dtype="int64"):
    """Integers between ``low`` and ``high``, both included."""
    low, high = _tensors(low, high)
    ndim, size, bcast = _size_vector(ndim, size, low, high)
    return _draw(random_integers_helper, dtype, bcast, random_state, size, low, high)


def choice_helper(random_state, a, replace, p, size):
    """``RandomState.choice`` with ``p`` of length 0 meaning uniform."""
    a, p = np.asarray(a), np.asarray(p)
    if a.ndim > 1:
        raise ValueError(f"choice: a must be a scalar or a vector, got {a.ndim} dims")
    if p.ndim != 1:
        raise ValueError(f"choice: p must be a vector, got {p.ndim} dims")
    return random_state.choice(a, size, bool(replace), p if p.size else None)


def choice(random_state, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
    """Draws from ``a`` (a vector, or ``range(a)`` for a scalar), with or
    without replacement, with probabilities ``p`` (uniform if None)."""
    a = as_tensor_variable(a)
    replace = as_tensor_variable(np.int8(replace) if isinstance(replace, bool) else replace)
    # no p (Theano also reads p=0 so) is an empty vector: the op's input
    # cannot be None
    none = p is None or (isinstance(p, (int, float)) and p == 0)
    p = as_tensor_variable(np.zeros(0, config.floatX) if none else p)
    ndim, size, bcast = _size_vector(ndim, size)
    return _draw(choice_helper, dtype, bcast, random_state, size, a, replace, p)


def poisson(random_state, size=None, lam=1.0, ndim=None, dtype="int64"):
    """Poisson counts of mean ``lam``; ``size`` or ``ndim`` must be given."""
    (lam,) = _tensors(lam)
    ndim, size, bcast = _size_vector(ndim, size)
    return _draw("poisson", dtype, bcast, random_state, size, lam)


def permutation_helper(random_state, n, shape):
    """One permutation of ``range(n)`` per index of ``shape``: a sample of
    shape ``shape + (n,)``."""
    n = int(np.asarray(n).item())
    shape = tuple(shape) if shape is not None else ()
    out = np.empty(shape + (n,), dtype="int64")
    for idx in np.ndindex(*shape):
        out[idx] = random_state.permutation(n)
    return out


def permutation(random_state, size=None, n=1, ndim=None, dtype="int64"):
    """Permutations of ``range(n)``, one per index of ``size``: the sample
    has one more dimension than ``size`` (of length ``n``)."""
    if size is None or size == ():
        if ndim not in (None, 1):
            raise TypeError(f"permutation: one permutation (no size) is 1-d, got ndim={ndim}")
        size, bcast = (), ()
    else:
        _, size, bcast = _size_vector(ndim, size)
    return _draw(permutation_helper, dtype, bcast + (False,), random_state, size,
                 as_tensor_variable(n), ndim_added=1)


def multinomial_helper(random_state, n, pvals, size):
    """One multinomial draw per index of the size, of ``n`` (broadcast)
    trials over the rows of ``pvals``."""
    n, pvals = np.asarray(n), np.asarray(pvals)
    ndim = len(size) if size is not None else max(n.ndim, pvals.ndim - 1)
    n = _lead(n, ndim, "multinomial", "n")
    pvals = _lead(pvals, ndim + 1, "multinomial", "pvals")
    size = _broadcast_size(size, ndim, n, pvals)
    out = np.empty(size + (pvals.shape[-1],), dtype="int64")
    if pvals.size and pvals.min() < 0:
        raise ValueError(f"multinomial: pvals must be non-negative, got {pvals.min()}")
    for oi, ni, pi in _each(size, n, pvals):
        row = pvals[pi].astype("float64")
        # rounding may put a row's sum a hair above 1, which numpy refuses
        total = row.sum()
        if 1.0 < total < 1.0 + 1e-5 or row[-1] < 5e-5:
            row = row * (1.0 - 5e-5)
        out[oi] = random_state.multinomial(n=n[ni], pvals=row)
    return out


def multinomial(random_state, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
    """Counts of ``n`` draws from the distributions along the last axis of
    ``pvals``: the sample has the size's dimensions plus that last one."""
    n, pvals = _tensors(n, np.asarray(pvals) if isinstance(pvals, (list, tuple)) else pvals)
    tmp = pvals.T[0].T if pvals.ndim else pvals
    ndim, size, bcast = _size_vector(ndim, size, n, tmp)
    return _draw(multinomial_helper, dtype, bcast + (False,), random_state, size, n, pvals,
                 ndim_added=1)
