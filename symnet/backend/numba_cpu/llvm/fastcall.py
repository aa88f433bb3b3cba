"""The cheap call of an llvm kernel: a CPython builtin written in IR.

ctypes converts each argument into a C value on every call (about 0.5 us
an array object, more for an ``int``), so a three-array call cost 2-4 us
where numba's dispatcher takes about 1.1 us: on W3's 150 small kernel
calls per step that was most of the difference.  A kernel whose arguments
are all arrays gets instead an entry point with CPython's ``METH_FASTCALL``
signature::

    PyObject *entry(PyObject *self, PyObject *const *args, Py_ssize_t nargs)

turned into a builtin function object by ``PyCFunction_NewEx`` (through
``ctypes.pythonapi``, once per kernel).  Calling it costs what calling
``len`` costs.  The entry reads each array's data pointer and sizes from
numpy's array struct (``PyArrayObject_fields``: ``data`` at offset 16,
``dimensions`` at 32; ``by_object`` checks the layout once per
process), calls the loop nest, and returns its first argument (a new
reference).  The Python wrapper has already checked dtypes, layouts and
shapes and allocated the results, and always passes exactly the arguments
the entry expects.
"""
import ctypes

from llvmlite import ir

__all__ = ["define_entry", "builtin", "by_object", "python_symbols", "DATA_OFFSET",
           "DIMS_OFFSET"]

I8P = ir.IntType(8).as_pointer()
I64 = ir.IntType(64)
# where PyArrayObject_fields keeps ``data`` (after ob_refcnt and ob_type)
DATA_OFFSET = 16
# and ``dimensions`` (after ``data`` and ``nd``)
DIMS_OFFSET = 32
METH_FASTCALL = 0x0080


def define_entry(module, native, name, objects, dims, chunk=None):
    """Add ``@name``, the METH_FASTCALL entry calling ``native``.

    ``objects``: per native pointer parameter, the index of the argument
    object whose data it is; ``dims``: per native size parameter, (argument
    index, axis) it is read from.  ``chunk``: None, or whether ``native``
    takes a last ``i8*`` for its partial sums.  A kernel that may run in
    chunks on several threads (``loop_split.py``) is called with one more
    argument than ``objects`` names: then the entry releases the GIL
    around the loops (so the chunks run at once) and passes that array's
    data as the partials pointer; the usual call passes null and keeps
    the GIL, so a small kernel's call costs what it did."""
    fn = ir.Function(module, ir.FunctionType(I8P, [I8P, I8P.as_pointer(), I64]), name)
    for a, nm in zip(fn.args, ("self", "args", "nargs")):      # CPython's names
        a.name = nm
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    _, args, nargs = fn.args

    def obj(k):
        return b.load(b.gep(args, [ir.Constant(I64, k)], inbounds=True))

    def field(o, offset, t):
        p = b.gep(o, [ir.Constant(I64, offset)], inbounds=True)
        return b.load(b.bitcast(p, t.as_pointer()))
    call = []
    for k, t in zip(objects, native.function_type.args):
        call.append(field(obj(k), DATA_OFFSET, t))
    for k, axis in dims:
        shape = field(obj(k), DIMS_OFFSET, I64.as_pointer())
        call.append(b.load(b.gep(shape, [ir.Constant(I64, axis)], inbounds=True)))
    if chunk is None:
        b.call(native, call)
    else:
        _chunked_call(module, fn, b, native, call, obj, nargs, len(objects), chunk)
    first = obj(0)
    refcnt = b.bitcast(first, I64.as_pointer())       # ob_refcnt: a new reference
    b.store(b.add(b.load(refcnt), ir.Constant(I64, 1)), refcnt)
    b.ret(first)
    return fn


def _chunked_call(module, fn, b, native, call, obj, nargs, n_obj, partials):
    """``native(*call[, part])``, the GIL released around it when ``nargs``
    says a chunk is called (see ``define_entry``)."""
    save = module.globals.get("PyEval_SaveThread") or ir.Function(
        module, ir.FunctionType(I8P, []), "PyEval_SaveThread")
    restore = module.globals.get("PyEval_RestoreThread") or ir.Function(
        module, ir.FunctionType(ir.VoidType(), [I8P]), "PyEval_RestoreThread")
    null = ir.Constant(I8P, None)
    is_chunk = b.icmp_signed(">", nargs, ir.Constant(I64, n_obj), name="is_chunk")
    start = b.block
    release = fn.append_basic_block("release")
    loops = fn.append_basic_block("loops")
    b.cbranch(is_chunk, release, loops)
    b.position_at_end(release)
    state = b.call(save, [])
    part = null
    if partials:
        p = b.gep(obj(n_obj), [ir.Constant(I64, DATA_OFFSET)], inbounds=True)
        part = b.load(b.bitcast(p, I8P.as_pointer()))
    b.branch(loops)
    b.position_at_end(loops)
    ts = b.phi(I8P, name="thread_state")
    ts.add_incoming(null, start)
    ts.add_incoming(state, release)
    if partials:
        pp = b.phi(I8P, name="part")
        pp.add_incoming(null, start)
        pp.add_incoming(part, release)
        call = call + [pp]
    b.call(native, call)
    reacquire = fn.append_basic_block("reacquire")
    done = fn.append_basic_block("done")
    b.cbranch(is_chunk, reacquire, done)
    b.position_at_end(reacquire)
    b.call(restore, [ts])
    b.branch(done)
    b.position_at_end(done)


def python_symbols():
    """Tell LLVM where CPython's GIL functions are (the chunk entries call
    them); the executable may not export them to the JIT's lookup."""
    if not _SYMBOLS:
        import llvmlite.binding as llvm
        for nm in ("PyEval_SaveThread", "PyEval_RestoreThread"):
            llvm.add_symbol(nm, ctypes.cast(getattr(ctypes.pythonapi, nm),
                                            ctypes.c_void_p).value)
        _SYMBOLS.append(True)


_SYMBOLS = []
_BY_OBJECT = []


def by_object():
    """Whether numpy arrays keep their data pointer at ``DATA_OFFSET`` in
    this process (checked once): the wrappers then pass the arrays."""
    if not _BY_OBJECT:
        import sys
        import numpy as np
        a = np.empty(3)
        ok = ctypes.c_void_p.from_address(id(a) + DATA_OFFSET).value == a.ctypes.data
        _BY_OBJECT.append(ok and sys.implementation.name == "cpython")
    return _BY_OBJECT[0]


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


_KEEP = []     # the method definitions must outlive their builtins


def builtin(address, name):
    """The builtin function object calling the entry at ``address``."""
    mdef = _MethodDef(name.encode(), address, METH_FASTCALL, None)
    _KEEP.append(mdef)
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]
    return new(ctypes.addressof(mdef), None, None)
