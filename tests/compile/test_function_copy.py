"""Function.copy: Theano's swap and delete_updates (its tutorial's accumulator)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T


def _accumulator(mode):
    state, inc = symnet.shared(np.int64(0), name="state"), T.lscalar("inc")
    return state, symnet.function([inc], state, updates=[(state, state + inc)], mode=mode)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_copy_with_swap_updates_the_new_shared_variable(mode):
    state, acc = _accumulator(mode)
    assert acc(10) == 0 and state.get_value() == 10
    new_state = symnet.shared(np.int64(0), name="new_state")
    new_acc = acc.copy(swap={state: new_state})
    out = new_acc(100)
    assert isinstance(out, list) and out[0] == 0  # a list, as Theano's copy
    assert new_state.get_value() == 100 and state.get_value() == 10
    assert new_acc(1)[0] == 100 and new_state.get_value() == 101
    assert acc(1) == 10 and state.get_value() == 11  # the original is untouched


def test_copy_without_updates():
    state, acc = _accumulator("py")
    acc(10)
    null = acc.copy(delete_updates=True, name="null")
    assert null(9000)[0] == 10 and state.get_value() == 10
    assert null.name == "null"
    # a default update (a random stream's state) is dropped too
    srng = symnet.tensor.shared_randomstreams.RandomStreams(seed=1)
    u = srng.uniform((2,), dtype="float64")
    draw = symnet.function([], u, mode="py").copy(delete_updates=True)
    np.testing.assert_array_equal(draw()[0], draw()[0])


def test_copy_swap_errors_name_the_variables():
    state, acc = _accumulator("py")
    other = symnet.shared(np.int64(0), name="other")
    with pytest.raises(ValueError, match=r"other is not a shared variable of .*state"):
        acc.copy(swap={other: state})
    wrong = symnet.shared(np.zeros(2), name="wrong")
    with pytest.raises(TypeError, match=r"state \(.*\) must be swapped for a shared "
                                        r"variable of the same type, got wrong"):
        acc.copy(swap={state: wrong})
