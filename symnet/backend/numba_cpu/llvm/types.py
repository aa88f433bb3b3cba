"""The LLVM types of numpy scalars, for ``lower.py`` and ``kernel.py``.

Apart from ``lower.py`` so that a kernel whose IR the cache holds
(``hook.ir_text``) is built without importing the lowering.
"""
from llvmlite import ir

__all__ = ["llvm_type", "INT_TYPES", "FLOAT_TYPES", "BOOL"]

FLOAT_TYPES = {"float32": ir.FloatType(), "float64": ir.DoubleType()}
INT_TYPES = {f"{s}int{b}": ir.IntType(b) for s in ("", "u") for b in (8, 16, 32, 64)}
BOOL = ir.IntType(1)


def llvm_type(dtype):
    """The LLVM type of a scalar of ``dtype`` (in registers: bool is i1)."""
    if dtype == "bool":
        return BOOL
    t = FLOAT_TYPES.get(dtype) or INT_TYPES.get(dtype)
    if t is None:
        raise NotImplementedError(f"llvm emitter: dtype {dtype}")
    return t
