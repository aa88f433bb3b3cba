"""Mode resolution: names, Mode objects, the SYMNET_FORCE_BACKEND override."""


def test_force_backend_env_replaces_py(monkeypatch):
    from symnet.compile.mode import Mode, get_mode
    monkeypatch.setenv("SYMNET_FORCE_BACKEND", "numba")
    assert get_mode("py").linker == "numba"
    assert get_mode(Mode("py", None)).optimizer is None
    assert get_mode("numba").linker == "numba"
    monkeypatch.delenv("SYMNET_FORCE_BACKEND")
    assert get_mode("py").linker == "py"


def test_get_default_mode_follows_config_mode_as_in_theano():
    # Theano programs write `theano.compile.mode.get_default_mode().excluding(...)`
    # (the tutorials' test.py reads theano.compile.mode.get_default_mode())
    import os
    import numpy as np
    import symnet
    import symnet.tensor as T
    from symnet import compat
    # CI's SYMNET_FORCE_BACKEND=numba run gives every py mode numba instead
    forced = os.environ.get("SYMNET_FORCE_BACKEND")

    def want(linker):
        return forced if forced and linker == "py" else linker
    old = symnet.config.mode
    compat.install(lasagne=False)
    try:
        import theano
        for name, linker in (("py", "py"), ("FAST_RUN", "numba"), ("FAST_COMPILE", "py")):
            symnet.config.mode = name
            assert theano.compile.mode.get_default_mode() == symnet.compile.get_mode(name)
            assert theano.compile.get_default_mode().linker == want(linker)
        symnet.config.mode = "py"
        mode = theano.compile.get_default_mode().excluding("fusion")
        assert mode.linker == want("py") and mode.exclude == ("fusion",)
        x = T.vector("x")
        f = theano.function([x], T.exp(x) * 2, mode=mode)
        np.testing.assert_allclose(f(np.array([0.0, 1.0], "float32")), [2, 2 * np.e], rtol=1e-6)
    finally:
        symnet.config.mode = old
        compat.uninstall()
