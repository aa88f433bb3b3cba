"""Tests for symnet.random: the generator shared by the initializers."""
import numpy as np
import pytest

from symnet import init
from symnet.random import get_rng, set_rng


@pytest.fixture
def restore_rng():
    old = get_rng()
    yield
    set_rng(old)


def test_default_is_numpy_random_module():
    # Lasagne's default: seeding numpy seeds the initializers.
    assert get_rng() is np.random


def test_set_rng_round_trip(restore_rng):
    rng = np.random.RandomState(3)
    set_rng(rng)
    assert get_rng() is rng


def test_initializers_draw_from_set_rng(restore_rng):
    set_rng(np.random.RandomState(7))
    a = init.Normal()((5, 4))
    set_rng(np.random.RandomState(7))
    b = init.Normal()((5, 4))
    np.testing.assert_array_equal(a, b)
    expected = np.random.RandomState(7).normal(0.0, 0.01, size=(5, 4)).astype(a.dtype)
    np.testing.assert_array_equal(a, expected)


def test_numpy_seed_controls_default_rng(restore_rng):
    set_rng(np.random)
    np.random.seed(11)
    a = init.Uniform()((3, 3))
    np.random.seed(11)
    b = init.Uniform()((3, 3))
    np.testing.assert_array_equal(a, b)
