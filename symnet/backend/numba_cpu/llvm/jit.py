"""Compile the llvm kernels of one ``function()``: one module, one
optimization, one code generation, cached on disk as object code.

Why one module: LLVM's fixed costs (pass pipeline set-up, target machine,
MCJIT engine) are paid once per graph, not once per kernel.  Why not numba:
numba's first compile in a process sets up its typing and target contexts
(0.2-0.4 s), more than a whole W3 graph needs here (#13).

The pipeline is LLVM's O3 (loop and SLP vectorization on) for the host
CPU and its features, so the loops become vector code as numba's do.  The
object file of the module is written to the kernel cache folder
(``cache.cache_dir()``: the same trust checks) as ``o_<key>.o``, the key
hashing the module's IR together with the symnet, llvmlite, numpy and
Python versions and the host CPU and features; a later process with the
same key loads it (``add_object_file``) and skips optimization and code
generation.  A file that fails to load is deleted and compiled again.

``bind(kernels)`` returns ``{kernel name: Python wrapper}``: the wrapper
(``kernel.LoopKernel.wrapper``) checks and allocates, then calls the
native code as a CPython builtin (``fastcall.py``), or through ctypes where
that cannot be used.
"""
import ctypes
import hashlib
import os
import sys
import threading
import warnings

import numpy as np

from ...._io import atomic_write

__all__ = ["bind", "stats"]

_LOCK = threading.Lock()
_ENGINES = []        # keeps every engine (and its code) alive with the process
stats = {"compiled": 0, "loaded": 0}    # modules, for tests and profiles


def _llvm():
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def _target_machine(llvm):
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=3, jit=True)


def _optimize(llvm, module, tm):
    """LLVM's O3 pipeline (vectorizers on) over ``module``."""
    pto = llvm.create_pipeline_tuning_options(3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(module, pb)


def _key(ir_text, llvm):
    import llvmlite
    from .... import __version__
    h = hashlib.sha256()
    h.update(f"symnet={__version__} llvmlite={llvmlite.__version__} numpy={np.__version__} "
             f"python={sys.version_info[:3]} cpu={llvm.get_host_cpu_name()} "
             f"{llvm.get_host_cpu_features().flatten()}".encode())
    h.update(ir_text.encode())
    return h.hexdigest()[:24]


# a cache file: this head, the sha256 of the object code, the object code;
# LLVM does not check an object file it loads (a damaged one crashes the
# process), so the digest is checked first
_HEAD = b"symnet-llvm-object 1\n"


def _digest(data):
    return hashlib.sha256(data).digest()


def _checked(blob):
    """The object code in the cache file contents ``blob`` (None: damaged)."""
    n = len(_HEAD)
    data = blob[n + 32:]
    if blob[:n] != _HEAD or not data or blob[n:n + 32] != _digest(data):
        return None
    return data


def _object_code(llvm, tm, texts, path):
    """The object code of the modules ``texts`` linked into one: from the
    cache file ``path`` or compiled now (and written there)."""
    if path is not None and os.path.exists(path):
        with open(path, "rb") as fh:
            data = _checked(fh.read())
        if data is not None:
            stats["loaded"] += 1
            return data, True
        warnings.warn(f"symnet's cached llvm kernels {path} are damaged (truncated or "
                      f"changed); compiled them again", RuntimeWarning, stacklevel=3)
    mod = llvm.parse_assembly(texts[0])
    for text in texts[1:]:      # each kernel was lowered into a module of its own
        mod.link_in(llvm.parse_assembly(text))
    mod.verify()
    _optimize(llvm, mod, tm)
    data = tm.emit_object(mod)
    stats["compiled"] += 1
    if path is not None:
        try:
            atomic_write(path, lambda fh: fh.write(_HEAD + _digest(data) + data),
                         binary=True, suffix=".o")
        except OSError as exc:
            warnings.warn(f"symnet could not write the llvm kernel cache file {path}: {exc}",
                          RuntimeWarning, stacklevel=3)
    return data, False


def _engine(llvm, tm, data):
    empty = llvm.parse_assembly("")
    engine = llvm.create_mcjit_compiler(empty, tm)
    engine.add_object_file(llvm.ObjectFileRef.from_data(data))
    engine.finalize_object()
    return engine


def _cache_path(key):
    from ..cache import _folder
    folder, writable = _folder()
    return os.path.join(folder, f"o_{key}.o") if writable or \
        os.path.exists(os.path.join(folder, f"o_{key}.o")) else None


def bind(kernels):
    """``{kernel name: callable}`` for the llvm kernels of one graph
    (``{kernel name: LoopKernel}``), compiled (or loaded) as one module."""
    if not kernels:
        return {}
    from .fastcall import builtin, by_object
    from .kernel import np_dtype_names
    llvm = _llvm()
    objects = by_object()
    texts = [k.ir_text for k in kernels.values()]
    with _LOCK:
        tm = _target_machine(llvm)
        key = _key("\n".join(texts), llvm)
        path = _cache_path(key)
        data, cached = _object_code(llvm, tm, texts, path)
        try:
            engine = _engine(llvm, tm, data)
        except Exception as exc:      # a damaged cache file: compile again, once
            if not cached:
                raise
            warnings.warn(f"symnet's cached llvm kernels {path} could not be loaded "
                          f"({type(exc).__name__}: {str(exc)[:200]}); compiled them again",
                          RuntimeWarning, stacklevel=3)
            os.unlink(path)
            data, _ = _object_code(llvm, tm, texts, path)
            engine = _engine(llvm, tm, data)
        _ENGINES.append(engine)
    ns = {"_np": np}
    ns.update(np_dtype_names(kernels.values()))
    src = []
    for kname, k in kernels.items():
        addr = engine.get_function_address(f"{kname}_native")
        if k.fast:       # a builtin function (fastcall.py)
            ns[f"_{kname}_native"] = builtin(addr, kname)
        else:
            proto = ctypes.CFUNCTYPE(None, *k.ctypes_argtypes(objects))
            ns[f"_{kname}_native"] = proto(addr)
        src += k.wrapper(kname, f"_{kname}_native", objects) + [""]
    text = "\n".join(src)
    exec(compile(text, "<symnet llvm wrappers>", "exec"), ns)
    out = {kname: ns[kname] for kname in kernels}
    for kname in kernels:
        out[kname].llvm_source = text
        out[kname].native_address = engine.get_function_address(f"{kname}_native")
    return out
