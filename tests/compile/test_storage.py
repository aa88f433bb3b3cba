"""Shared values live in a storage container: get_value/set_value transfer
through it, compiled functions read it and commit updates into it, and a
backend may supply its own kind of container."""
import pickle

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.storage import HostStorage, Storage


def test_shared_value_lives_in_a_host_container():
    a = np.arange(3.0)
    w = symnet.shared(a, name="w")
    assert isinstance(w.container, HostStorage) and w.container.backend == "host"
    assert w.container.value is w.get_value(borrow=True)
    a[0] = 9.0                              # copied on the way in
    assert w.get_value()[0] == 0.0
    got = w.get_value()
    got[1] = 9.0                            # and on the way out
    assert w.get_value()[1] == 1.0
    w.set_value(np.ones(3))
    np.testing.assert_array_equal(w.container.value, np.ones(3))
    with pytest.raises(ValueError, match="set_value on w"):
        w.set_value(np.ones(4))
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_function_reads_the_container_and_commits_updates_into_it(mode):
    x = T.dvector("x")
    w = symnet.shared(np.zeros(2), name="w")
    store = w.container
    f = symnet.function([x], T.sum(w), updates=[(w, w + x)], mode=mode)
    assert float(f(np.ones(2))) == 0.0
    assert w.container is store
    np.testing.assert_array_equal(store.value, np.ones(2))
    w.set_value(np.full(2, 5.0))
    assert float(f(np.ones(2))) == 10.0


class _CountingStorage(Storage):
    """A stand-in for device storage: counts the transfers."""
    __slots__ = ("gets", "sets")
    backend = "test"

    def __init__(self, value):
        super().__init__(value)
        self.gets = self.sets = 0

    def get(self, borrow=False):
        self.gets += 1
        return np.array(self.value)

    def set(self, array):
        self.sets += 1
        self.value = np.array(array)


def test_get_value_and_set_value_go_through_the_container():
    w = symnet.shared(np.zeros(2), name="w")
    w.container = _CountingStorage(w.container.value)
    w.set_value(np.ones(2))
    np.testing.assert_array_equal(w.get_value(borrow=True), np.ones(2))
    assert (w.container.gets, w.container.sets) == (1, 1)


def test_shared_variables_pickle_with_their_container():
    w = symnet.shared(np.arange(3.0), name="w")
    w2 = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(w2.get_value(), np.arange(3.0))
    assert isinstance(w2.container, HostStorage)
