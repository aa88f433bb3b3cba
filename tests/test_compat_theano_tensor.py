"""Theano's tensor module paths under compat.install(): theano.tensor.sort,
.elemwise, .subtensor, .inplace, .opt, theano.misc.may_share_memory and
theano.gof.op; importing them leaves T.sort/T.elemwise/T.subtensor the
functions they are."""
import numpy as np
import pytest

import symnet.compat


@pytest.fixture
def theano():
    symnet.compat.install()
    import theano
    yield theano
    symnet.compat.uninstall()


def test_module_paths_import_and_keep_the_functions(theano):
    import theano.tensor as T
    from theano.tensor.sort import topk, sort, argsort, SortOp  # noqa: F401
    from theano.tensor.elemwise import Elemwise, DimShuffle  # noqa: F401
    from theano.tensor.subtensor import (Subtensor, IncSubtensor, AdvancedSubtensor1,  # noqa
                                         set_subtensor, advanced_set_subtensor)
    from theano.tensor import inplace, opt
    from theano.misc.may_share_memory import may_share_memory
    from theano.gof.op import Op
    import theano.tensor.sort  # noqa: F401
    import theano.tensor.elemwise  # noqa: F401
    import theano.tensor.subtensor  # noqa: F401
    assert callable(T.sort) and callable(T.elemwise) and callable(T.subtensor)
    assert T.sort is sort and Op is theano.gof.Op is theano.gof.op.Op
    assert opt.MakeVector is type(T.stack([T.dscalar(), T.dscalar()]).owner.op)
    assert may_share_memory(np.zeros(2), np.zeros(2)) is False
    x = T.dvector("x")
    f = theano.function([x], [topk(x, 1), inplace.neg_inplace(x)], mode="py")
    assert [a.tolist() for a in f(np.array([2.0, 5.0]))] == [[5.0], [-2.0, -5.0]]


def test_config_settings_theano_code_reads(theano):
    assert theano.config.openmp is False
    assert theano.config.openmp_elemwise_minsize == 200000
    assert theano.config.cycle_detection == "regular"


def test_scalar_ops_and_linkers(theano):
    import theano.tensor as T
    x = T.dvector("x")
    f = theano.function([x], T.Elemwise(theano.scalar.add)(x, x),
                        mode=theano.Mode(linker=theano.gof.PerformLinker()))
    assert f(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]
    assert "uint8" in theano.scalar.all_types and "float16" in theano.scalar.float_types


def test_cast_policy_names_the_rules_symnet_follows():
    # Theano's 'numpy+floatX': numpy's result dtypes, except that a float64
    # numpy would make from inputs with no float64 is floatX
    import symnet.tensor as T
    from symnet.configdefaults import config
    assert config.cast_policy == "numpy+floatX"
    assert T.exp(T.ivector()).dtype == config.floatX == "float32"
    assert (T.imatrix() / T.imatrix()).dtype == "float32"
    assert (T.fmatrix() * 2.0).dtype == "float32"
    assert (T.dmatrix() + T.fmatrix()).dtype == "float64"
