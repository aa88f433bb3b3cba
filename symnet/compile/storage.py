"""Where a shared variable's value lives: a storage container.

A ``SharedVariable`` keeps its value in a container (``shared.container``).
A compiled function hands ``container.value`` (the backend's native object)
to the thunk, and writes an update back with ``container.value = new``
after every output of the call is computed (see the thunk protocol in
``symnet/backend/registry.py``).  ``get_value``/``set_value`` go through
``get``/``set``, which transfer between the user's numpy arrays and the
backend's storage.

``HostStorage`` is the numpy implementation every CPU backend uses; a
device backend (CUDA) supplies a container holding device memory, whose
``get`` copies to the host and ``set`` copies to the device.
"""
__all__ = ["Storage", "HostStorage", "ON_DEVICE", "host_values"]

# How many containers a device backend ever took over (it increments it): while
# zero, compiled host functions read ``container.value`` with no other check.
ON_DEVICE = [0]


def host_values(stores):
    """The values of ``stores`` as a host backend needs them (device storage
    copies to the host; host storage gives its array itself)."""
    return [c.value if type(c) is HostStorage else c.get(borrow=True) for c in stores]


class Storage:
    """The interface of a storage container (see the module docstring).

    ``value``
        The backend's native object, read and replaced by compiled
        functions (no copy).
    ``get(borrow)``
        The value as a numpy array; ``borrow=True`` may return the stored
        object itself where it is one.
    ``set(array)``
        Store a numpy array (already checked against the variable's type).
    """

    __slots__ = ("value",)
    backend = None

    def __init__(self, value):
        self.value = value

    def get(self, borrow=False):
        raise NotImplementedError

    def set(self, array):
        raise NotImplementedError


class HostStorage(Storage):
    """A numpy array in host memory: ``value`` is the array itself.

    Examples
    --------
    >>> import numpy as np
    >>> s = HostStorage(np.zeros(2))
    >>> s.set(np.ones(2)); s.get()
    array([1., 1.])
    >>> s.get(borrow=True) is s.value
    True
    """

    __slots__ = ()
    backend = "host"

    def get(self, borrow=False):
        return self.value if borrow else self.value.copy()

    def set(self, array):
        self.value = array

    def __getstate__(self):
        return self.value

    def __setstate__(self, state):
        self.value = state
