"""The random number generator shared by symnet's network-side code.

Every initializer in :mod:`symnet.init` (and any other code that needs
random numbers while *building* a network, as opposed to random streams
inside a compiled graph) draws from the generator returned by
:func:`get_rng`. Replace it with :func:`set_rng` to make network
construction reproducible, exactly as with ``lasagne.random``.

By default the generator is the :mod:`numpy.random` module itself, so
``np.random.seed(...)`` also seeds symnet's initializers.
"""
import numpy as np

__all__ = ["get_rng", "set_rng"]

# Lasagne starts from the numpy.random module (which forwards to numpy's
# global RandomState), so seeding numpy seeds the initializers too.
_rng = np.random


def get_rng():
    """Return the generator used for network-side random numbers.

    Returns
    -------
    numpy.random.RandomState or module
        The object set by :func:`set_rng`; initially the
        :mod:`numpy.random` module.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.random import get_rng, set_rng
    >>> old = get_rng()
    >>> set_rng(np.random.RandomState(42))
    >>> float(get_rng().uniform()) == float(np.random.RandomState(42).uniform())
    True
    >>> set_rng(old)
    """
    return _rng


def set_rng(new_rng):
    """Set the generator used for network-side random numbers.

    Parameters
    ----------
    new_rng : numpy.random.RandomState
        The new generator. Anything with the ``RandomState`` methods that
        symnet calls (``normal``, ``uniform``, ``shuffle``, ...) works, the
        :mod:`numpy.random` module included.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.random import get_rng, set_rng
    >>> old = get_rng()
    >>> rng = np.random.RandomState(0)
    >>> set_rng(rng)
    >>> get_rng() is rng
    True
    >>> set_rng(old)
    """
    global _rng
    _rng = new_rng
