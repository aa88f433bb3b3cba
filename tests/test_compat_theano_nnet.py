"""Theano's nnet module paths that programs import, through the compat
shim: blocksparse, corr/corr3d, ctc, and theano.gof.opt; an unknown module
under a theano package symnet builds elsewhere (theano.gof.xyz) is a
ModuleNotFoundError naming the theano module."""
import numpy as np
import pytest

from tests.test_compat_theano import theano  # noqa: F401 (the fixture)


def test_nnet_module_paths(theano):  # noqa: F811
    from theano.tensor.nnet import corr, corr3d  # noqa: F401
    from theano.tensor.nnet.blocksparse import sparse_block_dot
    from theano.tensor.nnet.ctc import ctc_available
    from theano.gof.opt import check_stack_trace
    import theano.tensor as T
    assert ctc_available() is False
    W = np.ones((2, 2, 1, 1), "float32")
    out = sparse_block_dot(W, np.ones((1, 2, 1), "float32"), np.array([[0, 1]], "int32"),
                           np.zeros((2, 1), "float32"), np.array([[1]], "int32"))
    assert out.eval().tolist() == [[[2.0]]]
    x = T.matrix()
    f = theano.function([x], corr.CorrMM()(x.dimshuffle("x", "x", 0, 1),
                                           np.ones((1, 1, 1, 1), "float32")))
    assert check_stack_trace(f, ops_to_check="all")


def test_unknown_gof_module_names_the_theano_module(theano):  # noqa: F811
    with pytest.raises(ModuleNotFoundError, match="theano.gof.no_such_module"):
        import theano.gof.no_such_module  # noqa: F401


def test_cast_policy_is_numpy_floatx(theano):  # noqa: F811
    assert theano.config.cast_policy == "numpy+floatX"
