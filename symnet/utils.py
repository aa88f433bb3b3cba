"""Helpers shared by the network-side modules (``lasagne.utils``).

The most important one is :func:`create_param`, which turns whatever a user
passes as a layer parameter (a shared variable, a numpy array, a callable
initializer, or any symbolic expression) into a graph variable of the right
shape.  The others are small conveniences with Lasagne 0.2's names.

Examples
--------
>>> import numpy as np
>>> from symnet.utils import create_param, floatX
>>> W = create_param(np.zeros((3, 2), dtype='float32'), (3, 2), name='W')
>>> W.get_value().shape, W.name
((3, 2), 'W')
>>> floatX([1, 2]).dtype.name
'float32'
"""
import inspect
import numbers

import numpy as np

from .configdefaults import config
from .graph.basic import Variable
from .graph.traversal import graph_inputs

__all__ = ["floatX", "shared_empty", "as_theano_expression", "collect_shared_vars",
           "one_hot", "unique", "as_tuple", "inspect_kwargs", "compute_norms",
           "create_param", "int_types", "unroll_scan"]

int_types = (numbers.Integral, np.integer)


def floatX(arr):
    """Convert ``arr`` to a numpy array of dtype ``config.floatX``.

    Examples
    --------
    >>> floatX(np.arange(3)).dtype.name
    'float32'
    """
    return np.asarray(arr, dtype=config.floatX)


def shared_empty(dim=2, dtype=None):
    """A shared variable holding an empty array of ``dim`` dimensions.

    Its size is not fixed (``static_shape=False``), so it can later hold data
    of any size.

    Examples
    --------
    >>> s = shared_empty(3)
    >>> s.get_value().shape
    (0, 0, 0)
    """
    from .compile.sharedvalue import shared
    dtype = config.floatX if dtype is None else dtype
    return shared(np.zeros((0,) * dim, dtype=dtype), static_shape=False)


def as_theano_expression(input):
    """Wrap numbers and arrays as graph constants; pass variables through.

    Raises
    ------
    TypeError
        When ``input`` cannot be turned into an expression.

    Examples
    --------
    >>> as_theano_expression(np.ones(2, 'float32')).type.shape
    (2,)
    """
    from .tensor.basic import as_tensor_variable
    if isinstance(input, Variable):
        return input
    try:
        return as_tensor_variable(input)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Input of type {type(input).__name__} is not a "
                        f"symbolic expression and cannot be converted to one: {exc}")


def unique(l):
    """The elements of ``l`` without repeats, in first-seen order.

    Examples
    --------
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    out = []
    for x in l:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def collect_shared_vars(expressions):
    """The shared variables that ``expressions`` depend on, in graph order.

    Parameters
    ----------
    expressions : Variable or list of Variable

    Examples
    --------
    >>> import symnet
    >>> w = symnet.shared(np.ones(2, 'float32'), name='w')
    >>> collect_shared_vars([w * 2, w.sum()])
    [w]
    """
    from .compile.sharedvalue import SharedVariable
    if isinstance(expressions, Variable):
        expressions = [expressions]
    return unique(v for expr in expressions for v in graph_inputs([expr])
                  if isinstance(v, SharedVariable))


def one_hot(x, m=None):
    """One-hot rows for the integer vector ``x`` (symbolic).

    Parameters
    ----------
    x : integer vector expression
    m : int or scalar expression, optional
        Number of classes; ``max(x) + 1`` when omitted.

    Returns
    -------
    matrix expression of dtype ``config.floatX`` and shape ``(len(x), m)``.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> one_hot(T.as_tensor_variable(np.array([0, 2])), 3).eval(mode="py")
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    from . import tensor as T
    x = as_theano_expression(x)
    if m is None:
        m = T.cast(T.max(x) + 1, "int64")
    classes = T.arange(m, dtype="int64")
    return T.cast(T.eq(x.dimshuffle(0, "x"), classes.dimshuffle("x", 0)), config.floatX)


def as_tuple(x, N, t=None):
    """``x`` as a tuple of length ``N`` (a scalar is repeated).

    Parameters
    ----------
    x : value or iterable
    N : int
    t : type or tuple of types, optional
        Every element must be an instance of ``t``.

    Raises
    ------
    ValueError
        For an iterable of another length.
    TypeError
        For elements that are not instances of ``t``.

    Examples
    --------
    >>> as_tuple(3, 2), as_tuple([1, 2], 2)
    ((3, 3), (1, 2))
    """
    try:
        X = tuple(x)
    except TypeError:
        X = (x,) * N
    if t is not None and not all(isinstance(v, t) for v in X):
        # int_types (Integral or numpy integer) reads as "int", as in Lasagne
        names = "int" if t == int_types else (
            t.__name__ if isinstance(t, type) else " or ".join(c.__name__ for c in t))
        raise TypeError(f"expected a single value or an iterable of {names}, got {x!r} "
                        f"instead (need {N} of them)")
    if len(X) != N:
        raise ValueError(f"expected a single value or an iterable with length {N}, "
                         f"got {x!r} instead")
    return X


def inspect_kwargs(func):
    """Names of the keyword arguments (with defaults) that ``func`` accepts.

    Examples
    --------
    >>> inspect_kwargs(lambda a, b=1, *c, d=2, **e: None)
    ['b', 'd']
    """
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params
            if p.default is not inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def default_norm_axes(ndim, where):
    """The axes a weight norm sums over by default, for a tensor of ``ndim``.

    Axis 0 of a matrix (the incoming weights of each unit) and all but the
    first axis for 3-5 dimensions (one norm per filter); other ranks need
    explicit axes (ValueError naming ``where``).
    """
    if ndim == 2:
        return (0,)
    if ndim in (3, 4, 5):
        return tuple(range(1, ndim))
    raise ValueError(f"{where}: Unsupported tensor dimensionality {ndim}; must specify "
                     f"`norm_axes`")


def compute_norms(array, norm_axes=None):
    """L2 norms of a numpy array or a symbolic tensor over ``norm_axes``.

    By default (see :func:`default_norm_axes`): the absolute values of a
    vector, one norm per column of a matrix (the incoming weights of each
    unit), and one per filter (all but the first axis) for 3-5 dimensions.
    A numpy array gives a numpy array of its dtype, a symbolic tensor a
    symbolic tensor.

    Raises
    ------
    RuntimeError
        For anything else (a list, say): "Unsupported type".

    Examples
    --------
    >>> compute_norms(np.array([[3., 0.], [4., 1.]]))
    array([5., 1.])
    >>> compute_norms(np.array([-2., 3.], 'float32'))
    array([2., 3.], dtype=float32)
    """
    from .graph.basic import Variable
    if not isinstance(array, (np.ndarray, Variable)):
        raise RuntimeError(f"compute_norms: Unsupported type {type(array).__name__}; pass a "
                           f"numpy array or a symbolic tensor")
    ndim = array.ndim
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 1:
        # the norm of each single entry is its absolute value
        return abs(array)
    else:
        sum_over = default_norm_axes(ndim, "compute_norms")
    if isinstance(array, Variable):
        from . import tensor as T
        return T.sqrt(T.sum(T.sqr(array), axis=sum_over))
    return np.sqrt(np.sum(array ** 2, axis=sum_over))


class ParamSpecError(ValueError, TypeError):
    """A parameter spec of the wrong kind or number of dimensions.

    Both a ``TypeError`` (symnet's rule for wrong types and ndims) and a
    ``ValueError`` (what Lasagne raises here), so code written for either
    catches it.
    """


def _fmt_shape(shape):
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def create_param(spec, shape, name=None):
    """Turn a parameter specification into a graph variable of ``shape``.

    Parameters
    ----------
    spec : SharedVariable, expression, numpy array, number or callable
        A shared variable or any other symbolic expression is returned as it
        is (after checking its ndim and, where known at build time, its
        shape); a numpy array is copied into a new shared variable; a
        callable is called with ``shape`` and its result treated the same way.
    shape : tuple of int
    name : str, optional
        Given to the variable when it has no name yet; used in errors.

    Returns
    -------
    Variable
        Shared variables get the broadcastable pattern ``size == 1``.

    Raises
    ------
    ValueError
        For a non-positive size, or a value/expression of the wrong shape.
    TypeError
        For a spec of an unsupported type.

    Examples
    --------
    >>> import symnet
    >>> p = create_param(lambda shp: np.ones(shp, 'float32'), (1, 3), 'b')
    >>> p.broadcastable, p.get_value().sum()
    ((True, False), np.float32(3.0))
    >>> create_param(np.ones((2, 2)), (3, 2), 'W')
    Traceback (most recent call last):
      ...
    ValueError: cannot initialize parameter W: the provided numpy array has shape (2, 2), ...
    """
    from .compile.sharedvalue import shared
    if isinstance(shape, int_types):
        shape = (shape,)
    shape = tuple(shape)
    if any(d <= 0 for d in shape):
        raise ValueError(f"cannot create param {name} with a non-positive shape "
                         f"dimension: {shape}")
    what = "the provided {}"
    if callable(spec) and not isinstance(spec, Variable):
        spec = spec(shape)
        what = "the {} returned by the provided callable"
    prefix = f"cannot initialize parameter {name}: "
    if isinstance(spec, (numbers.Number, np.generic)) and not isinstance(spec, Variable):
        spec = np.asarray(spec)
    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise ValueError(prefix + what.format("numpy array")
                             + f" has shape {spec.shape}, should be {shape}")
        spec = shared(spec, name=name, broadcastable=tuple(s == 1 for s in shape))
    if isinstance(spec, Variable):
        ndim = getattr(spec.type, "ndim", None)
        if ndim != len(shape):
            raise ParamSpecError(prefix + what.format("expression")
                                 + f" {spec} has {ndim} dimensions, should be {len(shape)} "
                                 f"(shape {shape})")
        static = getattr(spec.type, "shape", (None,) * ndim)
        if any(a is not None and a != b for a, b in zip(static, shape)):
            raise ValueError(prefix + what.format("expression")
                             + f" {spec} has shape {_fmt_shape(static)}, should be {shape}")
        if not spec.name:
            spec.name = name
        return spec
    if what.startswith("the provided"):
        raise ParamSpecError(prefix + f"the provided spec ({type(spec).__name__}) is not "
                             "a numpy array, a symbolic expression, or a callable")
    raise ParamSpecError(prefix + f"the value ({type(spec).__name__}) returned by the "
                         "provided callable is not a numpy array or a symbolic expression")


def unroll_scan(fn, sequences, outputs_info, non_sequences, n_steps, go_backwards=False):
    """A ``scan`` loop built as straight-line graph (Lasagne's helper).

    Calls ``fn(*seq_slices, *previous_outputs, *non_sequences)`` ``n_steps``
    times, the step's outputs feeding the next step; entries of
    ``outputs_info`` that are None are outputs not fed back.

    Parameters
    ----------
    fn : callable
    sequences : list of symbolic tensors, iterated over their first axis
    outputs_info : list of initial values (or None)
    non_sequences : list of symbolic tensors passed unchanged to every step
    n_steps : int, the number of steps (known when the graph is built)
    go_backwards : bool, iterate the sequences from the end

    Returns
    -------
    list of symbolic tensors, each output of every step stacked on axis 0

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> out = unroll_scan(lambda xt, acc: acc + xt, [x], [T.constant(0.)], [], 3)
    >>> out[0].eval({x: np.array([1., 2., 3.])})
    array([1., 3., 6.])
    """
    from . import tensor as T
    if not isinstance(sequences, (list, tuple)):
        sequences = [sequences]
    if not isinstance(outputs_info, (list, tuple)):
        outputs_info = [outputs_info]
    if not isinstance(non_sequences, (list, tuple)):
        non_sequences = [non_sequences]
    steps = range(n_steps)[::-1] if go_backwards else range(n_steps)
    prev = list(outputs_info)
    history = [[] for _ in prev]
    for t in steps:
        step = [s[t] for s in sequences]
        out = fn(*(step + [p for p in prev if p is not None] + list(non_sequences)))
        if not isinstance(out, (list, tuple)):
            out = [out]
        # fed-back outputs are the ones with an initial value (not None)
        prev = [o if p is not None else None for o, p in zip(out, prev)] \
            if len(out) == len(prev) else list(out)
        for h, o in zip(history, out):
            h.append(o)
    return [T.stack(h, axis=0) for h in history]
