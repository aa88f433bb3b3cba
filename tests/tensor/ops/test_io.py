"""T.load (theano.tensor.io): a graph reads a .npy file named by a Generic
input or a string, on py and numba; its shape; its errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.graph.type import Generic


@pytest.fixture
def npy(tmp_path):
    fname = str(tmp_path / "a.npy")
    np.save(fname, np.arange(5, dtype=np.int32))
    return fname


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_load_reads_the_file_each_call(npy, mode):
    path = symnet.Variable(Generic())
    x = T.load(path, "int32", (False,), "c")
    f = symnet.function([path], [(x ** 2).sum(), x], mode=mode)
    for _ in range(2):    # copy-on-write: an in-place op never changes the file
        total, arr = f(npy)
        assert int(total) == 30 and arr.dtype == np.int32
        np.testing.assert_array_equal(arr, np.arange(5))
    assert isinstance(arr, np.memmap)
    np.testing.assert_array_equal(np.load(npy), np.arange(5))
    g = symnet.function([], T.load(npy, "int32", (False,)) * 2, mode=mode)
    np.testing.assert_array_equal(g(), np.arange(5) * 2)


def test_load_errors(npy):
    path = symnet.Variable(Generic())
    for bad in ("r+", "r", "w+", "toto"):
        with pytest.raises(ValueError, match="None and 'c'"):
            T.load(path, "int32", (False,), bad)
    with pytest.raises(TypeError, match="Generic"):
        T.load(T.vector(), "int32", (False,))
    f = symnet.function([path], T.load(path, "float64", (False,)), mode="py")
    with pytest.raises(TypeError, match="int32 array of 1 dimensions; the graph expects "
                                        "float64"):
        f(npy)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_shape_of_the_loaded_array(npy, mode):
    path = symnet.Variable(Generic())
    x = T.load(path, "int32", (False,))
    f = symnet.function([path], [x.shape, (x * 2).shape], mode=mode)
    for shape in f(npy):
        np.testing.assert_array_equal(shape, [5])
