"""T.choose: np.choose's values in the modes raise/wrap/clip on every
backend, Theano's broadcasting of the index against the choices, the
gradient to the choices (finite differences, both orders), and the errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from tests.oracles import check_op, rand

INDEX = {"raise": np.array([[0, 2, 1], [1, 0, 2]]),
         "wrap": np.array([[0, 4, -1], [5, -3, 2]]),
         "clip": np.array([[0, 4, -1], [5, -3, 2]])}


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_values_and_gradient_of_a_stacked_tensor(mode):
    a = INDEX[mode]
    c = rand((3, 2, 3), rng=np.random.default_rng(0))
    check_op(lambda c: T.choose(T.constant(a), c, mode=mode), [c],
             ref=lambda c: np.choose(a, c, mode=mode), grad=True, grad2=True)


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_list_of_choices_broadcasts_like_numpy(mode):
    a = np.array([[0, 1, 2], [3, -1, 1]])
    v, m = rand((3,), rng=np.random.default_rng(1)), rand((2, 3), rng=np.random.default_rng(2))
    s = np.array(0.5)
    check_op(lambda v, m, s: T.choose(T.constant(a), [v, m, s], mode=mode), [v, m, s],
             ref=lambda v, m, s: np.choose(a, [v, m, s], mode=mode))
    verify_grad(lambda v, m, s: T.choose(T.constant(a), [v, m, s], mode=mode), [v, m, s],
                rng=np.random.RandomState(0), mode="py")


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_tuple_of_choices_broadcasts_at_run_time(mode):
    # Theano's test_numpy_compare_tuple: tensor3 choices of run-time shapes
    # (1, 6, 1) and (1, 1, 5), no axis declared broadcastable
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2, (2, 1, 1)).astype("int32")
    b, c = rand((1, 6, 1), "float32", rng=rng), rand((1, 1, 5), "float32", rng=rng)
    got = check_op(lambda a, b, c: T.choose(a, (b, c), mode=mode), [a, b, c],
                   ref=lambda a, b, c: np.choose(a, (b, c), mode=mode), infer_shape=False)
    assert got[0].shape == (2, 6, 5)
    x, y, z = T.tensor3(dtype="int32"), T.ftensor3(), T.ftensor3()
    out = T.choose(x, (y, z), mode=mode)
    assert out.broadcastable == (False,) * 3 and out.dtype == "float32"
    f = symnet.function([x, y, z], [out, out.shape], mode="py")
    assert f(a, b, c)[1].tolist() == [2, 6, 5]
    # only where every input is broadcastable is the output
    assert T.choose(T.iscalar(), [T.fcol(), T.fcol()]).broadcastable == (False, True)


def test_tuple_of_choices_that_do_not_broadcast_raises():
    x, y, z = T.ivector("x"), T.dvector("y"), T.dvector("z")
    for mode in ("py", "numba"):
        f = symnet.function([x, y, z], T.choose(x, [y, z]), mode=mode)
        with pytest.raises(ValueError, match=r"choose: a of shape \(2,\) and choices of "
                                             r"shapes \[\(3,\), \(3,\)\] do not broadcast"):
            f(np.array([0, 1], "int32"), np.ones(3), np.ones(3))


def test_index_broadcasts_against_choices():
    a = np.array([1, 0, 1])                      # one row of indices for every row
    c = rand((2, 4, 3), rng=np.random.default_rng(3))
    got = check_op(lambda a, c: T.choose(a, c), [a, c], ref=lambda a, c: np.choose(a, c))
    assert got[0].shape == (4, 3)
    out = T.choose(T.lmatrix(), T.dtensor3())
    assert out.ndim == 2 and out.dtype == "float64"
    assert T.choose(T.lcol(), T.TensorType("float32", shape=(3, 1, 5))()).type.shape == (None, 5)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_index_out_of_range_raises_naming_the_mode(mode):
    a, c = T.lvector("a"), T.dmatrix("c")
    f = symnet.function([a, c], T.choose(a, c), mode=mode)
    with pytest.raises(ValueError, match=r"outside \[0, 2\) \(min 0, max 2\) in mode "
                                         r"'raise'; use mode='wrap' or 'clip'"):
        f(np.array([0, 2]), np.ones((2, 2)))


def test_build_errors():
    with pytest.raises(TypeError, match=r"integer dtype, got .*\(float64\)"):
        T.choose(T.dvector(), T.dmatrix())
    with pytest.raises(ValueError, match="mode must be one of"):
        T.choose(T.lvector(), T.dmatrix(), mode="nearest")
    with pytest.raises(ValueError, match="do not broadcast"):
        T.choose(T.TensorType("int64", shape=(3,))(), T.TensorType("float64", shape=(2, 4))())
