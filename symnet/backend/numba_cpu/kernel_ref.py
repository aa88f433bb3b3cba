"""Compiled kernels passed to njit code by address, so callers need not
compile them again.

When an njit function calls another njit function named in its globals,
numba links the callee's LLVM module into the caller's and optimizes and
machine-codes the whole again: a scan's njit loop calling twenty kernels
took longer to compile than the kernels themselves (W8: 34 s cold against
12 s for the Python loop).  A ``KernelRef`` wraps a kernel (a dispatcher
compiled with its one explicit signature, as every kernel of ``codegen``
is) and is typed as ``KernelFn(signature)``, a first-class function type
of numba whose calls go through the kernel's native address with numba's
own calling convention (errors raised by the kernel propagate).  The
caller then compiles only its own body; its machine code holds no address
(they come in as arguments), so numba's disk cache keeps it.

Unboxing reads the address once per call of the caller from the wrapper
(``jit_addr``, found when the wrapper is made), not through numba's generic
first-class function path, which needs a C wrapper the kernels do not have
(``no_cfunc_wrapper=True``).
"""
from numba.core import cgutils, types
from numba.experimental.function_type import FunctionModel
from numba.extending import NativeValue, register_model, typeof_impl, unbox

from .compiled import compiled_version
from .lib.cblas import dot as _cblas_dot

__all__ = ["KernelFn", "KernelRef", "dot_ref"]


class KernelFn(types.FunctionType):
    """The numba type of a ``KernelRef``: a function of one signature."""


register_model(KernelFn)(FunctionModel)


class KernelRef:
    """A compiled kernel (a numba dispatcher with one signature) as a value
    that njit code calls by its native address."""

    def __init__(self, dispatcher, args=None):
        """``args``: the argument types of the compiled version to call;
        None for a dispatcher with exactly one."""
        cres = compiled_version(dispatcher, args)
        self.dispatcher, self.signature = dispatcher, cres.signature
        self.jit_addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
        if not self.jit_addr:
            raise ValueError(f"{dispatcher}: no native address for {self.signature}")

    def __repr__(self):
        return f"KernelRef({self.dispatcher.py_func.__module__}, {self.signature})"


@typeof_impl.register(KernelRef)
def _typeof_kernel_ref(val, c):
    return KernelFn(val.signature)


@unbox(KernelFn)
def _unbox_kernel_ref(typ, obj, c):
    fn = cgutils.create_struct_proxy(typ)(c.context, c.builder)
    addr = c.pyapi.object_getattr_string(obj, "jit_addr")
    failed = cgutils.is_null(c.builder, addr)
    with c.builder.if_then(c.builder.not_(failed), likely=True):
        fn.jit_addr = c.pyapi.long_as_voidptr(addr)
        c.pyapi.decref(addr)
    fn.c_addr = cgutils.get_null_value(fn.c_addr.type)
    fn.py_addr = c.builder.ptrtoint(obj, c.context.get_value_type(types.voidptr))
    return NativeValue(fn._getvalue(), is_error=failed)   # an AttributeError propagates


_DOTS = {}


def dot_ref(dtype):
    """A ``KernelRef`` to ``lib/cblas.py``'s ``dot`` compiled once (and
    cached) for read-only 2-D arrays of ``dtype`` in any layout, so njit
    code calling it by address does not compile the GEMM's code again for
    the layouts of its own arguments (C, F, a transposed view...)."""
    dtype = str(dtype)
    if dtype not in _DOTS:
        arr = types.Array(getattr(types, dtype), 2, "A", readonly=True)
        _cblas_dot.compile((arr, arr))
        _DOTS[dtype] = KernelRef(_cblas_dot, (arr, arr))
    return _DOTS[dtype]
