"""The dispatch table: kernel lookup through the MRO, loud fallbacks,
clear errors for backends that are not available."""
import warnings

import pytest

import symnet
import symnet.tensor as T
from symnet.backend import registry
from symnet.configdefaults import config


class _Base:
    pass


class _Child(_Base):
    pass


def test_kernel_for_walks_the_mro():
    registry.register_kernel("test-backend", _Base)(lambda *a: "kernel")
    assert registry.kernel_for("test-backend", _Child)() == "kernel"
    assert registry.kernel_for("other-backend", _Child) is None


@pytest.mark.perform_fallback
def test_fallback_warns_once_and_strict_raises():
    op = _Child()
    registry._WARNED.discard(("test-backend", "_Child"))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        registry.warn_fallback("test-backend", op)
        registry.warn_fallback("test-backend", op)
    assert len(rec) == 1 and "_Child" in str(rec[0].message)
    config.strict = True
    with pytest.raises(registry.MissingKernelError, match="_Child"):
        registry.warn_fallback("test-backend", op)


def test_unavailable_backend_is_a_clear_error():
    x = T.scalar("x")
    with pytest.raises(ValueError, match="'cuda' backend is not available"):
        symnet.function([x], x + 1, mode="cuda")
    with pytest.raises(ValueError, match="unknown mode"):
        symnet.function([x], x + 1, mode="gpu-please")
