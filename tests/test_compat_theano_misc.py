"""Theano's modules for a program's own settings and for saving models:
``theano.configparser.AddConfigVar``, ``theano.misc.pkl_utils`` (``T.load``
is tested in tests/tensor/ops/test_io.py)."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from symnet.configdefaults import config
from symnet.configparser import (THEANO_FLAGS_DICT, AddConfigVar, BoolParam, ConfigParam,
                                 EnumStr, IntParam)
from symnet.misc.pkl_utils import StripPickler, dump, load


# -- AddConfigVar -------------------------------------------------------------------------

def test_add_config_var_default_filter_and_groups():
    AddConfigVar("t_misc.opt.level", "a level", IntParam(2, is_valid=lambda v: v >= 0))
    assert config.t_misc.opt.level == 2
    config.t_misc.opt.level = "5"           # converted, as a flag's string would be
    assert config.t_misc.opt.level == 5
    with pytest.raises(ValueError, match="t_misc.opt.level"):
        config.t_misc.opt.level = -1
    assert config.t_misc.opt.level == 5
    with pytest.raises(AttributeError, match="already taken"):
        AddConfigVar("t_misc.opt.level", "again", IntParam(1))


def test_add_config_var_invalid_default_raises_unless_flag_overrides():
    def no_invalid(v):
        if v == "invalid":
            raise ValueError("invalid")
        return v
    with pytest.raises(ValueError):
        AddConfigVar("t_misc.bad_a", "x", ConfigParam("invalid", filter=no_invalid))
    assert not hasattr(config, "t_misc") or not hasattr(config.t_misc, "bad_a")
    THEANO_FLAGS_DICT["t_misc.bad_b"] = "ok"
    AddConfigVar("t_misc.bad_b", "x", ConfigParam("invalid", filter=no_invalid))
    assert config.t_misc.bad_b == "ok"
    assert "t_misc.bad_b" not in THEANO_FLAGS_DICT   # consumed


def test_enum_bool_and_no_override():
    AddConfigVar("t_misc_policy", "p", EnumStr("up", "down"))
    with pytest.raises(ValueError, match=r"Valid options are \('up', 'down'\)"):
        config.t_misc_policy = "left"
    AddConfigVar("t_misc_flag", "f", BoolParam("False"))
    assert config.t_misc_flag is False
    with symnet.change_flags(t_misc_flag="1"):
        assert config.t_misc_flag is True
    assert config.t_misc_flag is False
    AddConfigVar("t_misc_fixed", "f", ConfigParam(3, allow_override=False))
    with pytest.raises(Exception, match="after initialization"):
        config.t_misc_fixed = 4


def test_theano_configparser_module_and_compiledir():
    compat.install(lasagne=False)
    try:
        from theano.configparser import AddConfigVar as A, change_flags
        import theano
        assert A is AddConfigVar and change_flags is symnet.change_flags
        assert os.path.isdir(theano.config.compiledir)
    finally:
        compat.uninstall()


# -- pkl_utils -----------------------------------------------------------------------------

def test_dump_names_entries_after_shared_variables():
    foo = [symnet.shared(np.float64(k), name="foo") for k in range(3)]
    buf = io.BytesIO()
    dump((*foo, np.array(3), symnet.shared(np.ones(2))), buf)
    arch = np.load(io.BytesIO(buf.getvalue()))
    assert list(arch.keys()) == ["foo", "foo_2", "foo_3", "array_0", "array_1", "pkl"]
    assert arch["foo_3"] == 2.0
    f1, f2, f3, arr, w = load(io.BytesIO(buf.getvalue()))
    assert [float(v.get_value()) for v in (f1, f2, f3)] == [0.0, 1.0, 2.0]
    assert f3.name == "foo" and arr == 3
    np.testing.assert_array_equal(w.get_value(), np.ones(2))
    # the loaded variables still work in graphs
    out = symnet.function([], f2 * 2 + w.sum(), mode="py")()
    assert float(out) == 4.0


def test_dump_model_shares_one_array_and_mrg_streams():
    from symnet.sandbox.rng_mrg import MRG_RandomStreams
    w = symnet.shared(np.arange(4.0), name="W")
    buf = io.BytesIO()
    dump({"a": w, "b": w, "rng": MRG_RandomStreams(5)}, buf)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert names.count("W.npy") == 1
    got = load(io.BytesIO(buf.getvalue()))
    assert got["a"] is got["b"] and type(got["rng"]) is MRG_RandomStreams


def test_load_of_a_plain_pickle_says_so():
    with pytest.raises(zipfile.BadZipFile):
        load(io.BytesIO(pickle.dumps([1])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("x.npy", b"")
    with pytest.raises(ValueError, match="no 'pkl' entry"):
        load(io.BytesIO(buf.getvalue()))


def test_strip_pickler_drops_traces():
    x = T.matrix("x")
    y = T.exp(x) + 1
    assert "trace" in y.owner.tag
    buf = io.BytesIO()
    StripPickler(buf, protocol=-1, extra_tag_to_remove=["mine"]).dump(y)
    back = pickle.loads(buf.getvalue())
    assert "trace" not in back.owner.tag and "trace" not in y.owner.tag
    f = symnet.function([back.owner.inputs[0].owner.inputs[0]], back, mode="py")
    np.testing.assert_allclose(f(np.zeros((1, 2), config.floatX)), [[2.0, 2.0]])


def test_config_groups_repr_their_settings():
    # the numba graph cache keys on repr() of config's values: no addresses in it
    AddConfigVar("t_misc_group.size", "s", IntParam(3))
    assert repr(config.t_misc_group) == "_Section([('_param_size', 3)])"
