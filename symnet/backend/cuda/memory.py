"""Device memory of the CUDA backend: shared-variable storage, the caching
allocator of intermediates, transfers and strided views.

``DeviceStorage`` is the storage container (``compile/storage.py``) of a
shared variable used by a ``mode='cuda'`` function: ``value`` is a device
array, ``get`` copies it to the host, ``set`` copies a host array in.  A
pickle holds the host value and loads back as host storage.

``Allocator`` hands out device arrays keyed by (shape, dtype) and takes
back the ones the linker releases after their last use (the plan's
``last_use``): a training loop stops calling the driver's allocator after
its first step.

``view(arr, shape, strides, offset)`` is a strided view of a device array
(for transposes, broadcast axes and blocks such as one group's channels);
on a GPU it shares ``arr``'s memory, in the simulator it is a numpy view.
"""
import numpy as np

from ...compile.storage import ON_DEVICE, HostStorage, Storage
from .runtime import cuda, is_sim

__all__ = ["DeviceStorage", "Allocator", "to_device", "to_host", "is_device", "view",
           "move_to_device", "c_strides"]


def is_device(value):
    """Whether ``value`` is a device array (numba's, the simulator's or any
    object with ``__cuda_array_interface__``)."""
    return not isinstance(value, np.ndarray) and (
        hasattr(value, "__cuda_array_interface__") or hasattr(value, "copy_to_host"))


def to_device(value):
    """``value`` as a device array (numpy values and scalars are copied in)."""
    if is_device(value):
        return value
    return cuda().to_device(np.ascontiguousarray(value))


def to_host(value):
    """``value`` as a numpy array of its own (device arrays are copied out)."""
    if is_device(value):
        return value.copy_to_host()
    return np.asarray(value)


def view(arr, shape, strides, offset=0):
    """A view of device array ``arr`` with ``shape`` and byte ``strides``
    (non-negative), its first element ``offset`` elements past ``arr``'s
    start (``arr``'s elements laid out in memory order)."""
    shape, strides = tuple(int(s) for s in shape), tuple(int(s) for s in strides)
    if offset and 0 not in shape:
        # a 1-D view spanning offset + the new view's extent, sliced: the
        # slice moves the start (numba's device slices do the pointer math)
        it = arr.dtype.itemsize
        span = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) // it
        arr = _strided(arr, (int(offset) + span,), (it,))[int(offset):]
    return _strided(arr, shape, strides)


def _strided(arr, shape, strides):
    if is_sim():
        host = np.lib.stride_tricks.as_strided(arr._ary, shape, strides)
        return type(arr)(host)
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    return DeviceNDArray(shape, strides, arr.dtype, gpu_data=arr.gpu_data)


def c_strides(shape, itemsize):
    """The byte strides of a C-contiguous array of ``shape``."""
    strides, step = [], itemsize
    for s in reversed(tuple(shape)):
        strides.append(step)
        step *= int(s)
    return strides[::-1]


class Allocator:
    """A caching allocator of device arrays (see the module docstring)."""

    def __init__(self):
        self.free = {}       # (shape, dtype str) -> [device arrays]
        self.hits = 0
        self.misses = 0

    def empty(self, shape, dtype):
        key = (tuple(int(s) for s in shape), np.dtype(dtype).str)
        pool = self.free.get(key)
        if pool:
            self.hits += 1
            return pool.pop()
        self.misses += 1
        return cuda().device_array(key[0], dtype=np.dtype(dtype))

    def release(self, arr):
        """Give ``arr`` back: a later ``empty`` of its shape and dtype reuses it."""
        key = (tuple(arr.shape), np.dtype(arr.dtype).str)
        self.free.setdefault(key, []).append(arr)

    def clear(self):
        self.free.clear()


class DeviceStorage(Storage):
    """A shared value in device memory (see the module docstring).

    Examples
    --------
    >>> s = DeviceStorage.from_host(np.arange(3.0))   # doctest: +SKIP
    >>> s.get()                                        # doctest: +SKIP
    array([0., 1., 2.])
    """

    __slots__ = ()
    backend = "cuda"

    @classmethod
    def from_host(cls, array):
        return cls(to_device(array))

    def get(self, borrow=False):
        return to_host(self.value)

    def set(self, array):
        self.value = to_device(array)

    def accept(self, value, var):
        """An update computed by a compiled function, checked against
        ``var``'s type, as the device array to store."""
        if not is_device(value):
            value = np.asarray(value, dtype=var.type.dtype)
            var.type.filter_named(value, f"the update of {var}")
            return to_device(value)
        if np.dtype(value.dtype) != var.type.numpy_dtype or \
                tuple(value.shape) != tuple(self.value.shape):
            var.type.filter_named(to_host(value), f"the update of {var}")
        return value

    def __reduce__(self):
        # a pickle holds the host value and loads as host storage
        return (HostStorage, (self.get(),))


def move_to_device(shared_var):
    """Make ``shared_var``'s container device storage, in place (one
    container per variable: every compiled function keeps reading it; host
    functions then get host copies, ``storage.host_values``, and their
    updates are copied in, ``DeviceStorage.accept``)."""
    store = shared_var.container
    if isinstance(store, DeviceStorage):
        return store
    value = store.value
    store.__class__ = DeviceStorage
    store.value = to_device(value)
    ON_DEVICE[0] += 1     # host functions now check for device storage
    return store
