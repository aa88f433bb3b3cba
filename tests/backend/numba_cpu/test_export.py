"""``symnet.export``: the standalone module reproduces the function in a
process where symnet cannot be imported."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache


@pytest.mark.parametrize("w_shape", [(3, 2), (400, 400)])
def test_export_round_trip_without_symnet(tmp_path, w_shape, monkeypatch):
    # (400, 400): a step whose products and update are split over symnet's
    # threads under SYMNET_GEMM_SPLIT=auto (gemm_split.py); the exported
    # module runs them as numpy's dot and one kernel call
    monkeypatch.setenv("SYMNET_GEMM_SPLIT", "auto")
    use_tmp_cache()
    rng = np.random.default_rng(0)
    W = symnet.shared(rng.normal(size=w_shape).astype("float32"), name="W")
    x = T.fmatrix("x")
    y = T.fvector("y")
    loss = T.sum(T.dot(x, W)) * T.sum(y)
    f = symnet.function([x, y], loss, updates=[(W, W - 0.1 * T.tanh(W))],
                        mode=Mode("numba", optimizer=None))
    xv = rng.normal(size=(4, w_shape[0])).astype("float32")
    yv = rng.normal(size=4).astype("float32")
    from symnet.backend.numba_cpu import gemm_split
    split = w_shape[0] > 3 and gemm_split.chosen(f.thunk.linker.plan)
    assert ("_gsdot(" in f.source) == split and ("_ptail(" in f.source) == split
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    symnet.export(f, str(out_dir / "model_step.py"))
    np.save(tmp_path / "x.npy", xv)
    np.save(tmp_path / "y.npy", yv)
    script = textwrap.dedent(f"""
        import sys, numpy as np
        # symnet may be installed (CI installs it): block it, so the exported
        # module is shown to need only numpy and numba.
        sys.modules['symnet'] = None
        import model_step as m
        assert not any(k.startswith('symnet.') for k in sys.modules), 'symnet was imported'
        x, y = np.load({str(tmp_path / 'x.npy')!r}), np.load({str(tmp_path / 'y.npy')!r})
        l1 = m.step(x, y)
        l2 = m.step(x, y)
        outs, new = m.pure(x, y, m.SHARED['W'])
        np.savez({str(tmp_path / 'res.npz')!r}, l1=l1, l2=l2, W=m.SHARED['W'],
                 l3=outs[0], W3=new[0])
    """)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(out_dir)
    res = subprocess.run([sys.executable, "-c", script], cwd=str(cwd), env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = np.load(tmp_path / "res.npz")
    want1 = f(xv, yv)
    want2 = f(xv, yv)
    np.testing.assert_allclose(got["l1"], want1, rtol=1e-5)
    np.testing.assert_allclose(got["l2"], want2, rtol=1e-5)
    np.testing.assert_allclose(got["W"], W.get_value(), rtol=1e-5)
    want3 = f(xv, yv)
    np.testing.assert_allclose(got["l3"], want3, rtol=1e-5)
    np.testing.assert_allclose(got["W3"], W.get_value(), rtol=1e-5)


@pytest.mark.perform_fallback
def test_export_refuses_python_fallback_ops(tmp_path):
    import pytest
    from .test_linker import Double
    use_tmp_cache()
    x = T.dvector("x")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the fallback warning
        f = symnet.function([x], Double()(x) + 1, mode=Mode("numba", optimizer=None))
    with pytest.raises(NotImplementedError, match="Double"):
        symnet.export(f, str(tmp_path / "m.py"))


def test_export_refuses_ops_calling_symnet_helpers(tmp_path):
    """A random draw's driver line imports symnet: the module would not be
    standalone, so export says which op is in the way."""
    import pytest
    from symnet.tensor.shared_randomstreams import RandomStreams
    use_tmp_cache()
    x = T.dvector("x")
    f = symnet.function([x], x * RandomStreams(1).uniform((3,), dtype="float64"),
                        mode=Mode("numba"))
    with pytest.raises(NotImplementedError, match="RandomDraw"):
        symnet.export(f, str(tmp_path / "m.py"))
