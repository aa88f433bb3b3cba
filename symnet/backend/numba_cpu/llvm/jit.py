"""Compile the llvm kernels of one ``function()``: a few modules (one for a
usual graph), each optimized, compiled and cached on disk as object code.

Why few modules: LLVM's fixed costs (pass pipeline set-up, target machine,
MCJIT engine) are paid once per module, not once per kernel.  Why not one
for any graph: O3's time grows with the module, so ``modules`` packs the
graph's distinct kernels (identical ones are one already, ``hook.py``) in
order into modules of at most ``budget.MODULE_BUDGET`` IR instructions,
each compiled and cached on its own.  Why not numba:
numba's first compile in a process sets up its typing and target contexts
(0.2-0.4 s), more than a whole W3 graph needs here (#13).

The pipeline is LLVM's O3 (loop and SLP vectorization on) for the host
CPU and its features, so the loops become vector code as numba's do.  The
object file of the module is written to the kernel cache folder as
``o_<key>.o``, the key hashing the module's IR together with the symnet,
llvmlite, numpy and Python versions and the host CPU and features; a later
process with the same key loads it (``add_object_file``) and skips
optimization and code generation.  The cache is the numba kernels' one
with its checks (``cache.file_entry``: a folder or file someone else could
write is refused, a read-only folder is read and new entries go to the
private folder); a damaged file is compiled again, once, with one warning
naming it (``cache.replace_damaged``).  In a process, graphs whose modules
have the same key (two threads compiling one graph, one graph compiled
twice) share one engine.

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

import numpy as np

__all__ = ["bind", "stats", "modules", "ir_size", "cached_modules"]

_LOCK = threading.Lock()
_ENGINES = {}        # module key -> its engine: alive (with its code) as long as the process
stats = {"compiled": 0, "loaded": 0}    # modules, for tests and profiles


def _llvm():
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    from .fastcall import python_symbols
    python_symbols()
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


# a cache file: this head, the sha256 of the object code, the object code
# (``cache.read_entry``); LLVM does not check an object file it loads (a
# damaged one crashes the process), so the digest is checked first
_HEAD = b"symnet-llvm-object 1\n"


def _digest(data):
    from ..cache import digest
    return digest(data)


def _compile(llvm, tm, texts, path):
    """The object code of the modules ``texts`` linked into one, compiled
    now and written to the cache file ``path``."""
    from ..cache import write_entry
    mod = llvm.parse_assembly(texts[0])
    for text in texts[1:]:      # each kernel was lowered into a module of its own
        mod.link_in(llvm.parse_assembly(text))
    mod.verify()
    _optimize(llvm, mod, tm)
    data = tm.emit_object(mod)
    stats["compiled"] += 1
    write_entry(path, _HEAD, data, stacklevel=4)
    return data


def _load(llvm, tm, texts, key):
    """The MCJIT engine holding the compiled ``texts``: their object code
    loaded from the kernel cache (``cache.file_entry``: the numba kernels'
    trust checks) or compiled now; a damaged entry is compiled again, once,
    with one warning naming it (``cache.replace_damaged``)."""
    from ..cache import file_entry, read_entry, replace_damaged
    path = file_entry(f"o_{key}.o")
    try:
        data = read_entry(path, _HEAD)
        if data is not None:
            engine = _engine(llvm, tm, data)
            stats["loaded"] += 1
            return engine
    except (OSError, ValueError, RuntimeError) as exc:
        path = replace_damaged(path, exc, stacklevel=4)
    return _engine(llvm, tm, _compile(llvm, tm, texts, path))


def _engine(llvm, tm, data):
    empty = llvm.parse_assembly("")
    engine = llvm.create_mcjit_compiler(empty, tm)
    engine.add_object_file(llvm.ObjectFileRef.from_data(data))
    engine.finalize_object()
    return engine


def ir_size(ir_text):
    """The instructions of an IR module's text (its indented lines)."""
    return sum(1 for ln in ir_text.splitlines() if ln.startswith("  ") and
               not ln.lstrip().startswith(";"))


def modules(kernels, budget=None):
    """The kernel names of ``kernels`` (``{name: LoopKernel}``) in modules:
    in order, each holding at most ``budget`` (``MODULE_BUDGET``) IR
    instructions, a kernel larger than that alone."""
    from ..budget import MODULE_BUDGET
    budget = MODULE_BUDGET if budget is None else budget
    out, size = [], 0
    for kname, k in kernels.items():
        n = ir_size(k.ir_text)
        if not out or size + n > budget:
            out.append([])
            size = 0
        out[-1].append(kname)
        size += n
    return out


def _keys(llvm, kernels):
    """(kernel names, cache key) of each module of ``kernels``."""
    return [(names, _key("\n".join(kernels[n].ir_text for n in names), llvm))
            for names in modules(kernels)]


def cached_modules(kernels):
    """(modules, of which cached): what ``bind(kernels)`` would compile,
    and how many of those this process or the disk cache holds already."""
    if not kernels:
        return 0, 0
    from ..cache import cache_dir
    keys = _keys(_llvm(), kernels)
    return len(keys), sum(1 for _, key in keys if key in _ENGINES or
                          os.path.exists(os.path.join(cache_dir(), f"o_{key}.o")))


def bind(kernels):
    """``{kernel name: callable}`` for the llvm kernels of one graph
    (``{kernel name: LoopKernel}``), compiled (or loaded) in ``modules``."""
    if not kernels:
        return {}
    from .fastcall import builtin, by_object
    from .kernel import np_dtype_names
    llvm = _llvm()
    objects = by_object()
    engine_of, key_of, cached = {}, {}, set()
    with _LOCK:
        for names, key in _keys(llvm, kernels):
            key_of.update(dict.fromkeys(names, key))
            engine = _ENGINES.get(key)
            compiled = False
            if engine is None:      # threads compiling one graph share its modules
                texts = [kernels[n].ir_text for n in names]
                before = stats["compiled"]
                engine = _ENGINES[key] = _load(llvm, _target_machine(llvm), texts, key)
                compiled = stats["compiled"] != before
            engine_of.update(dict.fromkeys(names, engine))
            if not compiled:
                cached.update(names)
    from ..codegen import into
    ns = {"_np": np, "_into": into}
    ns.update(np_dtype_names(kernels.values()))
    src = []
    for kname, k in kernels.items():
        addr = engine_of[kname].get_function_address(f"{kname}_native")
        if k.fast:       # a builtin function (fastcall.py)
            ns[f"_{kname}_native"] = builtin(addr, kname)
        else:
            proto = ctypes.CFUNCTYPE(None, *k.ctypes_argtypes(objects))
            ns[f"_{kname}_native"] = proto(addr)
        if k.split_min is not None:
            ns[f"_{kname}_split"] = k.split_plan()
        src += k.wrapper(kname, f"_{kname}_native", objects) + [""]
    text = "\n".join(src)
    exec(compile(text, "<symnet llvm wrappers>", "exec"), ns)
    out = {kname: ns[kname] for kname in kernels}
    for kname in kernels:
        out[kname].llvm_source = text
        out[kname].native_address = engine_of[kname].get_function_address(f"{kname}_native")
        out[kname].llvm_module = key_of[kname]     # the cache key of its module
        out[kname].from_cache = kname in cached    # its module loaded, not compiled
    return out
