"""Mode resolution: names, Mode objects, the SYMNET_FORCE_BACKEND override."""


def test_force_backend_env_replaces_py(monkeypatch):
    from symnet.compile.mode import Mode, get_mode
    monkeypatch.setenv("SYMNET_FORCE_BACKEND", "numba")
    assert get_mode("py").linker == "numba"
    assert get_mode(Mode("py", None)).optimizer is None
    assert get_mode("numba").linker == "numba"
    monkeypatch.delenv("SYMNET_FORCE_BACKEND")
    assert get_mode("py").linker == "py"
