"""Random draws inside a compiled graph.

A tensor type holds numbers, not generator objects, so a random stream's
state is a small integer tensor: an int64 vector ``[seed, counter]``.
``RandomDraw`` takes that state, the output sizes and the distribution's
parameters, and returns ``(new_state, sample)``: the sample is drawn from a
numpy ``Generator`` seeded with ``SeedSequence([seed, counter])`` and the
new state has ``counter + 1``.  Draws are therefore a pure function of the
state (the same state gives the same sample on every backend), and a stream
advances only through the update ``state <- new_state`` that
:class:`~symnet.tensor.shared_randomstreams.RandomStreams` installs as the
state's ``default_update``.

Each distribution is one row of ``DISTRIBUTIONS``: its parameter names and
its numpy sampler.
"""
import numpy as np

from ...graph.basic import Apply, Variable
from ...graph.op import Op
from ..basic import (as_tensor_variable, get_scalar_constant_value,
                     NotScalarConstantError)
from ..type import TensorType, normalize_dtype
from .elemwise import cast

__all__ = ["RandomDraw", "DISTRIBUTIONS", "random_draw", "STATE_TYPE",
           "generator_for", "draw"]

#: the type of every stream state: int64 ``[seed, counter]``
STATE_TYPE = TensorType("int64", shape=(2,))


def _uniform(gen, size, low, high):
    return gen.uniform(low, high, size)


def _normal(gen, size, avg, std):
    return gen.normal(avg, std, size)


def _truncated_normal(gen, size, avg, std):
    # MRG's normal(truncate=True): draws beyond two standard deviations are
    # redrawn (from the same generator, so the result is still a function
    # of the state)
    z = np.asarray(gen.standard_normal(size))
    far = np.abs(z) > 2
    while far.any():
        z[far] = gen.standard_normal(int(far.sum()))
        far = np.abs(z) > 2
    return avg + std * z


def _permutation(gen, size, n):
    # the size ends with n: every row along the last axis permutes range(n)
    if not size or size[-1] != int(n):
        raise ValueError(f"permutation: the last size {size[-1:]} must be n={int(n)}")
    return gen.permuted(np.broadcast_to(np.arange(int(n), dtype="int64"), size), axis=-1)


def _binomial(gen, size, n, p):
    return gen.binomial(n, p, size)


def _integers(gen, size, low, high):
    # inclusive upper bound, like Theano's random_integers
    return gen.integers(low, high, size, endpoint=True)


def _multinomial(gen, size, n, pvals):
    # rows of pvals are distributions; renormalise so float32 rounding in
    # the caller's probabilities does not trip numpy's sum check
    pvals = np.asarray(pvals, dtype="float64")
    pvals = pvals / pvals.sum(axis=-1, keepdims=True)
    return gen.multinomial(n, pvals)


def _choice(gen, size, a, p, replace):
    # an empty p means "uniform" (a tensor input cannot be None)
    # normalised by the float64 sum: float32 probabilities summing to 1 in
    # float32 (softmax, [eps, 1 - eps]) miss 1 by more than NumPy's 1.5e-8
    # when divided by their float32 sum
    if np.size(p):
        p = np.asarray(p, dtype="float64")
        p = p / p.sum()
    else:
        p = None
    a = a.item() if np.ndim(a) == 0 else a
    return gen.choice(a, size, replace=bool(replace), p=p)


#: name -> (parameter names, sampler(gen, size, *params))
DISTRIBUTIONS = {
    "uniform": (("low", "high"), _uniform),
    "normal": (("avg", "std"), _normal),
    "truncated_normal": (("avg", "std"), _truncated_normal),
    "permutation": (("n",), _permutation),
    "binomial": (("n", "p"), _binomial),
    "random_integers": (("low", "high"), _integers),
    "multinomial": (("n", "pvals"), _multinomial),
    "choice": (("a", "p", "replace"), _choice),
}


def generator_for(state):
    """The numpy Generator that a draw from ``state`` uses.

    Parameters
    ----------
    state : array of int64, shape (2,)
        ``[seed, counter]``.

    Returns
    -------
    numpy.random.Generator
    """
    seed, counter = (int(s) for s in state)
    if seed < 0 or counter < 0:
        raise ValueError(f"random stream state must be non-negative, got {list(state)}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, counter])))


def draw(dist, dtype, state, size, params):
    """``(new_state, sample)`` of one draw: the whole computation of
    ``RandomDraw`` (its ``perform`` and the numba backend's driver line both
    call it, so every backend draws the same numbers from the same state).

    Parameters
    ----------
    dist : str
        A key of ``DISTRIBUTIONS``.
    dtype : str
        The sample's dtype.
    state : array of int64, shape (2,)
    size : tuple of int
    params : sequence of arrays
    """
    sampler = DISTRIBUTIONS[dist][1]
    try:
        out = sampler(generator_for(state), size, *params)
    except ValueError as exc:
        raise ValueError(f"RandomDraw{{dist={dist!r}, dtype={dtype!r}, ndim={len(size)}}}: cannot draw size {size} with parameters "
                         f"{[np.shape(p) for p in params]}: {exc}") from None
    out = np.asarray(out)
    if out.shape != size:
        out = np.broadcast_to(out, size)
    new_state = np.array(state, dtype="int64", copy=True)
    new_state[1] += 1
    return new_state, np.array(out, dtype=dtype)


class RandomDraw(Op):
    """One draw from distribution ``dist``.

    Inputs: ``state`` (int64 ``[seed, counter]``), then ``ndim`` int64 scalar
    sizes, then the distribution's parameters (tensors broadcasting to the
    sizes).  Outputs: ``(new_state, sample)`` with ``sample`` of ``dtype``.
    """

    __props__ = ("dist", "dtype", "ndim")

    def __init__(self, dist, dtype, ndim):
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {dist!r}; known: "
                             f"{sorted(DISTRIBUTIONS)}")
        self.dist = dist
        self.dtype = normalize_dtype(dtype)
        self.ndim = int(ndim)

    def make_node(self, state, *rest):
        state = as_tensor_variable(state)
        if state.dtype != "int64" or state.ndim != 1:
            raise TypeError(f"{self}: the state must be an int64 vector [seed, counter], "
                            f"got {state.type}")
        pnames = DISTRIBUTIONS[self.dist][0]
        if len(rest) != self.ndim + len(pnames):
            raise TypeError(f"{self}: expected {self.ndim} sizes and parameters "
                            f"{pnames}, got {len(rest)} inputs")
        sizes = [as_tensor_variable(s) for s in rest[:self.ndim]]
        for s in sizes:
            if s.ndim != 0 or s.dtype[:3] not in ("int", "uin"):
                raise TypeError(f"{self}: sizes must be integer scalars, got {s.type}")
        sizes = [cast(s, "int64") for s in sizes]
        params = [as_tensor_variable(p) for p in rest[self.ndim:]]
        for name, p in zip(pnames, params):
            if p.ndim > self.ndim and self.dist != "choice":
                raise ValueError(f"{self}: parameter {name} has {p.ndim} dims, more than "
                                 f"the {self.ndim} of the requested size")
        static = []
        for s in sizes:
            try:
                static.append(int(get_scalar_constant_value(s)))
            except NotScalarConstantError:
                static.append(None)
        sample = TensorType(self.dtype, shape=tuple(static))()
        return Apply(self, [state] + sizes + params, [state.type(), sample])

    def perform(self, node, inputs, output_storage):
        size = tuple(int(s) for s in inputs[1:1 + self.ndim])
        new_state, sample = draw(self.dist, self.dtype, inputs[0], size,
                                 inputs[1 + self.ndim:])
        output_storage[0][0] = new_state
        output_storage[1][0] = sample

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0], tuple(node.inputs[1:1 + self.ndim])]

    def L_op(self, inputs, outputs, output_grads):
        # samples are not differentiable functions of state, size or params
        return [None] * len(inputs)

    def connection_pattern(self, node):
        return [[False, False] for _ in node.inputs]

    def do_constant_folding(self, node):
        return False  # a draw must happen at run time, every call


def _size_list(size):
    """Normalise a ``size`` argument to a list of int64 scalar variables."""
    if isinstance(size, Variable):
        size = as_tensor_variable(size)
        if size.ndim == 0:
            return [size]
        if size.ndim != 1:
            raise TypeError(f"size must be a tuple or an integer vector, got {size.type}")
        n = size.type.shape[0]
        if n is None:
            raise ValueError(f"the length of the symbolic size {size} must be known when "
                             f"the graph is built (e.g. x.shape, or a tuple of scalars)")
        return [size[i] for i in range(n)]
    if isinstance(size, (int, np.integer)):
        return [as_tensor_variable(np.int64(size))]
    out = []
    for s in size:
        if isinstance(s, (int, np.integer)):
            if s < 0:
                raise ValueError(f"negative size {s} in {tuple(size)}")
            s = np.int64(s)
        out.append(as_tensor_variable(s))
    return out


def random_draw(dist, state, size, params, dtype):
    """Build a draw: returns ``(new_state, sample)``.

    Parameters
    ----------
    dist : str
        A key of ``DISTRIBUTIONS``.
    state : int64 vector variable, ``[seed, counter]``
    size : tuple of int or scalar variables, or an integer vector variable
    params : list
        The distribution's parameters (numbers or tensors).
    dtype : str
        The sample's dtype.

    Examples
    --------
    >>> import numpy as np, symnet
    >>> st = symnet.shared(np.array([7, 0], dtype='int64'))
    >>> new, x = random_draw('uniform', st, (2, 3), [0.0, 1.0], 'float64')
    >>> x.type.shape, new.type.shape
    ((2, 3), (2,))
    """
    sizes = _size_list(size)
    op = RandomDraw(dist, dtype, len(sizes))
    # through Op.__call__: its build hooks give the draw test values
    new_state, sample = op(state, *sizes, *params)
    return new_state, sample
