"""Initializers: callables that create the starting values of parameters.

A layer receives an initializer for each of its parameters and calls it with
the parameter's shape; the initializer returns a numpy array of that shape
and of dtype ``config.floatX`` (read at call time), drawn from
:func:`symnet.random.get_rng`. Names, signatures and defaults follow
``lasagne.init`` from Lasagne 0.2, and for the same generator state the
draws are the same as Lasagne's.

Examples
--------
>>> from symnet.init import Constant, GlorotUniform
>>> W = GlorotUniform('relu')((100, 50))
>>> W.shape, W.dtype
((100, 50), dtype('float32'))
>>> Constant(0.5)(3)
array([0.5, 0.5, 0.5], dtype=float32)
"""
import numpy as np

from .configdefaults import config
from .random import get_rng

__all__ = [
    "Initializer", "Normal", "Uniform", "Glorot", "GlorotNormal", "GlorotUniform",
    "He", "HeNormal", "HeUniform", "Constant", "Sparse", "Orthogonal",
]


def _floatX(arr):
    # config.floatX is read on every call so code may reassign it at run time.
    return np.asarray(arr, dtype=config.floatX)


def _as_shape(shape):
    # Lasagne accepts an int where a shape is expected (numpy does too).
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(shape)


def _gain(gain):
    # 'relu' is the one named gain Lasagne knows: sqrt(2) for rectifiers.
    if isinstance(gain, str):
        if gain == "relu":
            return np.sqrt(2)
        raise ValueError(f"gain must be a number or 'relu', got {gain!r}")
    return gain


def _need_two_axes(shape):
    if len(shape) < 2:
        raise RuntimeError(
            "This initializer only works with shapes of length >= 2, "
            f"got shape {shape}; use Normal or Uniform for biases")


def _need_c01b(shape):
    if len(shape) != 4:
        raise RuntimeError(
            "If c01b is True, only shapes of length 4 are accepted, "
            f"got shape {shape}")


class Initializer:
    """Base class for parameter initializers.

    Subclasses implement :meth:`sample`; calling an initializer with a shape
    calls ``sample(shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.init import Initializer
    >>> class Arange(Initializer):
    ...     def sample(self, shape):
    ...         return np.arange(np.prod(shape), dtype='float32').reshape(shape)
    >>> Arange()((2, 2))
    array([[0., 1.],
           [2., 3.]], dtype=float32)
    """

    def __call__(self, shape):
        """Return ``self.sample(shape)``."""
        return self.sample(shape)

    def sample(self, shape):
        """Return an array of the given shape and dtype ``config.floatX``.

        Parameters
        ----------
        shape : tuple or int
            Shape of the returned array.

        Returns
        -------
        numpy.ndarray
            Array of shape `shape` and dtype ``config.floatX``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement sample(shape)")


class Normal(Initializer):
    """Sample weights from the Gaussian distribution N(mean, std).

    Parameters
    ----------
    std : float
        Standard deviation of the values.
    mean : float
        Mean of the values.

    Examples
    --------
    >>> from symnet.init import Normal
    >>> W = Normal(std=0.1, mean=1.0)((1000, 100))
    >>> round(float(W.mean()), 1), round(float(W.std()), 2)
    (1.0, 0.1)
    """

    def __init__(self, std=0.01, mean=0.0):
        self.std = std
        self.mean = mean

    def sample(self, shape):
        return _floatX(get_rng().normal(self.mean, self.std, size=shape))


class Uniform(Initializer):
    """Sample weights from the uniform distribution U(a, b).

    Parameters
    ----------
    range : float or tuple
        Used when `std` is None: a float ``r`` gives U(-r, r), a pair
        ``(a, b)`` gives U(a, b).
    std : float or None
        If given, sample from U(mean - sqrt(3) * std, mean + sqrt(3) * std),
        which has standard deviation `std`.
    mean : float
        Centre of the interval when `std` is given.

    Examples
    --------
    >>> from symnet.init import Uniform
    >>> W = Uniform((2.0, 3.0))((100, 100))
    >>> bool(W.min() >= 2.0 and W.max() < 3.0)
    True
    >>> [round(x, 4) for x in Uniform(std=1.0).range]
    [-1.7321, 1.7321]
    """

    def __init__(self, range=0.01, std=None, mean=0.0):
        if std is not None:
            a = mean - np.sqrt(3) * std
            b = mean + np.sqrt(3) * std
        elif isinstance(range, (tuple, list)):
            if len(range) != 2:
                raise ValueError(
                    f"Uniform range must be a number or a pair (low, high), "
                    f"got {range!r}")
            a, b = range
        else:
            a, b = -range, range
        self.range = (float(a), float(b))

    def sample(self, shape):
        low, high = self.range
        return _floatX(get_rng().uniform(low=low, high=high, size=shape))


class Glorot(Initializer):
    """Glorot (Xavier) initialization, with a chosen distribution.

    Values are drawn with standard deviation
    ``gain * sqrt(2 / ((fan_in + fan_out) * receptive_field))``, where for a
    shape ``(n1, n2, *rest)`` fan_in and fan_out are ``n1`` and ``n2`` and
    the receptive field is ``prod(rest)`` (with ``c01b=True``: a 4-d shape
    ``(c, 0, 1, b)``, fans ``c`` and ``b``, receptive field ``0 * 1``).

    Parameters
    ----------
    initializer : class or callable
        Called as ``initializer(std=...)`` to make the initializer that
        draws the values, e.g. :class:`Normal` or :class:`Uniform`.
    gain : float or 'relu'
        Scale factor: 1.0 for linear and sigmoid units, 'relu' (sqrt(2)) for
        rectifiers, sqrt(2 / (1 + alpha**2)) for leaky rectifiers.
    c01b : bool
        Compute the fans for a ``(channels, rows, cols, batch)`` filter
        layout, as used by cuda-convnet layers.

    Raises
    ------
    RuntimeError
        When sampling a shape with fewer than 2 axes, or a non-4-d shape
        with ``c01b=True``.

    References
    ----------
    Xavier Glorot and Yoshua Bengio (2010): Understanding the difficulty of
    training deep feedforward neural networks. AISTATS.

    Examples
    --------
    >>> from symnet.init import Glorot, Normal
    >>> W = Glorot(Normal)((400, 600))
    >>> round(float(W.std()) / (2 / 1000) ** 0.5, 1)
    1.0
    """

    def __init__(self, initializer, gain=1.0, c01b=False):
        self.initializer = initializer
        self.gain = _gain(gain)
        self.c01b = c01b

    def sample(self, shape):
        shape = _as_shape(shape)
        if self.c01b:
            _need_c01b(shape)
            n1, n2 = shape[0], shape[3]
            receptive_field = shape[1] * shape[2]
        else:
            _need_two_axes(shape)
            n1, n2 = shape[:2]
            receptive_field = int(np.prod(shape[2:]))
        std = self.gain * np.sqrt(2.0 / ((n1 + n2) * receptive_field))
        return self.initializer(std=std).sample(shape)


class GlorotNormal(Glorot):
    """Glorot initialization drawing from a Normal distribution.

    See :class:`Glorot` for the parameters.

    Examples
    --------
    >>> from symnet.init import GlorotNormal
    >>> GlorotNormal(gain='relu')((20, 30)).shape
    (20, 30)
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class GlorotUniform(Glorot):
    """Glorot initialization drawing from a Uniform distribution.

    See :class:`Glorot` for the parameters. For a dense layer the values lie
    in ``[-a, a]`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Examples
    --------
    >>> from symnet.init import GlorotUniform
    >>> W = GlorotUniform()((10, 14))
    >>> bool(abs(W).max() <= (6 / 24) ** 0.5)
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class He(Initializer):
    """He initialization, with a chosen distribution.

    Values are drawn with standard deviation ``gain * sqrt(1 / fan_in)``,
    where fan_in is ``shape[0]`` for a 2-d shape, ``prod(shape[1:])`` for
    more axes, and ``prod(shape[:3])`` with ``c01b=True``.

    Parameters
    ----------
    initializer : class or callable
        Called as ``initializer(std=...)`` to make the initializer that
        draws the values, e.g. :class:`Normal` or :class:`Uniform`.
    gain : float or 'relu'
        Scale factor, as for :class:`Glorot`.
    c01b : bool
        Compute fan_in for a ``(channels, rows, cols, batch)`` layout.

    Raises
    ------
    RuntimeError
        When sampling a shape with fewer than 2 axes, or a non-4-d shape
        with ``c01b=True``.

    References
    ----------
    Kaiming He et al. (2015): Delving deep into rectifiers: Surpassing
    human-level performance on ImageNet classification. arXiv:1502.01852.

    Examples
    --------
    >>> from symnet.init import He, Normal
    >>> W = He(Normal, gain='relu')((500, 800))
    >>> round(float(W.std()) / (2 / 500) ** 0.5, 1)
    1.0
    """

    def __init__(self, initializer, gain=1.0, c01b=False):
        self.initializer = initializer
        self.gain = _gain(gain)
        self.c01b = c01b

    def sample(self, shape):
        shape = _as_shape(shape)
        if self.c01b:
            _need_c01b(shape)
            fan_in = int(np.prod(shape[:3]))
        else:
            _need_two_axes(shape)
            fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
        std = self.gain * np.sqrt(1.0 / fan_in)
        return self.initializer(std=std).sample(shape)


class HeNormal(He):
    """He initialization drawing from a Normal distribution.

    See :class:`He` for the parameters.

    Examples
    --------
    >>> from symnet.init import HeNormal
    >>> HeNormal('relu')((16, 3, 5, 5)).shape
    (16, 3, 5, 5)
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class HeUniform(He):
    """He initialization drawing from a Uniform distribution.

    See :class:`He` for the parameters.

    Examples
    --------
    >>> from symnet.init import HeUniform
    >>> W = HeUniform()((12, 7))
    >>> bool(abs(W).max() <= (3 / 12) ** 0.5)
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class Constant(Initializer):
    """Fill the array with one constant value.

    Parameters
    ----------
    val : float
        The value.

    Examples
    --------
    >>> from symnet.init import Constant
    >>> Constant(1.5)((2, 3))
    array([[1.5, 1.5, 1.5],
           [1.5, 1.5, 1.5]], dtype=float32)
    """

    def __init__(self, val=0.0):
        self.val = val

    def sample(self, shape):
        return _floatX(np.ones(shape) * self.val)


class Sparse(Initializer):
    """A sparse matrix: a fixed number of Gaussian non-zeros per column.

    Each column of an ``(n_inputs, n_outputs)`` matrix gets exactly
    ``int(sparsity * n_inputs)`` non-zero entries, at random rows, drawn from
    N(0, std).

    Parameters
    ----------
    sparsity : float
        Exact fraction of non-zero values per column, in [0, 1]. Larger
        values give a denser matrix.
    std : float
        Standard deviation of the non-zero values.

    Raises
    ------
    NotImplementedError
        When sampling a shape that is not 2-d.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.init import Sparse
    >>> W = Sparse(sparsity=0.25)((8, 5))
    >>> (W != 0).sum(axis=0)
    array([2, 2, 2, 2, 2])
    """

    def __init__(self, sparsity=0.1, std=0.01):
        if not 0 <= sparsity <= 1:
            raise ValueError(f"Sparse sparsity must be in [0, 1], got {sparsity!r}")
        self.sparsity = sparsity
        self.std = std

    def sample(self, shape):
        shape = _as_shape(shape)
        if len(shape) != 2:
            raise NotImplementedError(
                f"sparse initializer only works with shapes of length 2, got shape {shape}")
        n_inputs, n_outputs = shape
        size = int(self.sparsity * n_inputs)
        rng = get_rng()
        w = _floatX(np.zeros(shape))
        for col in range(n_outputs):
            rows = np.arange(n_inputs)
            rng.shuffle(rows)
            w[rows[:size], col] = _floatX(rng.normal(0.0, self.std, size=size))
        return w


class Orthogonal(Initializer):
    """An orthogonal matrix, scaled by a gain.

    For a shape ``(n, *rest)`` the matrix has shape ``(n, prod(rest))`` (for
    convolution filters the trailing axes are the fan-in) and is reshaped to
    `shape`. Its rows are orthonormal when ``n <= prod(rest)``, its columns
    otherwise, times `gain`.

    Parameters
    ----------
    gain : float or 'relu'
        Scale factor, as for :class:`Glorot`.

    Raises
    ------
    RuntimeError
        When sampling a shape with fewer than 2 axes.

    References
    ----------
    Saxe, McClelland and Ganguli (2013): Exact solutions to the nonlinear
    dynamics of learning in deep linear neural networks. arXiv:1312.6120.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.init import Orthogonal
    >>> W = Orthogonal()((4, 6))
    >>> np.allclose(W @ W.T, np.eye(4), atol=1e-5)
    True
    """

    def __init__(self, gain=1.0):
        self.gain = _gain(gain)

    def sample(self, shape):
        shape = _as_shape(shape)
        if len(shape) < 2:
            raise RuntimeError(
                f"Only shapes of length 2 or more are supported, got shape {shape}")
        flat_shape = (shape[0], int(np.prod(shape[1:])))
        a = get_rng().normal(0.0, 1.0, flat_shape)
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        # u is (n, k) and vt is (k, m) with k = min(n, m): exactly one of them
        # has the flat shape (both when n == m; u is then used, as in Lasagne).
        q = u if u.shape == flat_shape else vt
        return _floatX(self.gain * q.reshape(shape))
