"""theano.function_dump (a function() call's arguments pickled, compiled
elsewhere) and theano.misc.pkl_utils.CompatUnpickler (Python 2 pickles)."""
import io
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.misc.pkl_utils import CompatUnpickler, function_dump

LOAD_AND_RUN = """
import pickle, sys, numpy as np, symnet
d = pickle.load(open(sys.argv[1], 'rb'))
d['mode'] = sys.argv[2]
f = symnet.function(**d)
print(f(np.array([1.0, 2.0, 3.0]), 2.0).tolist())
print(f(np.zeros(3), 1.0).tolist())
"""


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_dump_loads_and_compiles_in_another_process(tmp_path, mode):
    x, a = T.dvector("x"), T.dscalar("a")
    w = symnet.shared(np.array([0.5, -1.0, 2.0]), name="w")
    c = T.dscalar("c")
    y = T.tanh(x * w) * c + a
    path = str(tmp_path / "func_dump.bin")
    function_dump(path, [x, a], y, updates=[(w, w + 1)], givens={c: a * 3}, name="dumped")
    d = pickle.load(open(path, "rb"))
    assert sorted(d) == sorted(["inputs", "outputs", "mode", "updates", "givens",
                                "no_default_updates", "accept_inplace", "name",
                                "rebuild_strict", "allow_input_downcast", "profile",
                                "on_unused_input"])
    assert d["name"] == "dumped" and [v.name for v in d["inputs"]] == ["x", "a"]
    assert "trace" not in d["outputs"].owner.tag     # StripPickler's doing
    out = subprocess.run([sys.executable, "-c", LOAD_AND_RUN, path, mode], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    wv = np.array([0.5, -1.0, 2.0])
    first = np.tanh(np.array([1.0, 2.0, 3.0]) * wv) * 6 + 2
    second = np.tanh(np.zeros(3) * (wv + 1)) * 3 + 1     # the update ran once
    np.testing.assert_allclose(json.loads(out[0]), first, rtol=1e-12)
    np.testing.assert_allclose(json.loads(out[1]), second, rtol=1e-12)
    # the dumping process's variable is untouched: nothing was compiled here
    np.testing.assert_array_equal(w.get_value(), wv)


def test_dump_needs_a_file_name():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="needs a file name"):
        function_dump(io.BytesIO(), [x], x * 2)


def reversed_bytes(data):
    """A reconstructor that needs bytes, as numpy's raw-data ones do."""
    if not isinstance(data, bytes):
        raise TypeError(f"need bytes, got {type(data).__name__}")
    return data[::-1]


def _py2_pickle(raw):
    # what Python 2 wrote for reversed_bytes(<str raw>): a SHORT_BINSTRING
    # (Python 2's str), which Python 3 reads back as text
    glob = f"c{__name__}\nreversed_bytes\n".encode()
    return b"\x80\x02" + glob + b"U" + bytes([len(raw)]) + raw + b"\x85R."


def test_compat_unpickler_reads_python2_str_as_bytes():
    raw = bytes([0, 200, 255, 65])
    data = _py2_pickle(raw)
    with pytest.raises(TypeError, match="need bytes, got str"):
        pickle.loads(data, encoding="latin1")
    assert CompatUnpickler(io.BytesIO(data), encoding="latin1").load() == raw[::-1]
    # an ordinary pickle loads as with pickle
    arr = np.arange(4.0)
    back = CompatUnpickler(io.BytesIO(pickle.dumps({"a": arr})), encoding="latin1").load()
    np.testing.assert_array_equal(back["a"], arr)


def test_compat_unpickler_keeps_errors_that_are_not_about_str():
    data = pickle.dumps(int)[:-1]   # truncated
    with pytest.raises(Exception):
        CompatUnpickler(io.BytesIO(data)).load()
    bad = b"\x80\x02" + f"c{__name__}\nreversed_bytes\n".encode() + b"K\x05\x85R."
    with pytest.raises(TypeError, match="need bytes, got int"):
        CompatUnpickler(io.BytesIO(bad), encoding="latin1").load()


def test_theano_names():
    import symnet.compat
    symnet.compat.install()
    try:
        import theano
        from theano.misc.pkl_utils import CompatUnpickler as CU
        from theano.compile import function_dump as from_compile
        assert theano.function_dump is function_dump and CU is CompatUnpickler
        assert from_compile is function_dump
    finally:
        symnet.compat.uninstall()
