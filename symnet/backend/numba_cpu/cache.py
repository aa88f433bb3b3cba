"""The on-disk cache of generated modules.

A generated module (one kernel, see ``codegen.py``) is written to
``<cache dir>/numba/k_<key>.py`` where ``key`` hashes the module's source
(a deterministic, position-independent function of one node: its op and
props, input types, scalar constant values) together with the symnet, numba, numpy and
Python versions.  Its kernel is compiled with ``cache=True``, so numba
stores the machine code in ``__pycache__`` beside the file and a second
process loads it instead of compiling again.

The first line of every file is a header holding the key and a hash of the
rest of the file; a file whose header does not match (truncated, edited,
written by another version) is rewritten.  Files are written to a temporary
name and moved into place with ``os.replace``, so two processes compiling
the same graph at once never see a half-written file.

Once a module has been imported (its kernel compiled or loaded), a marker
file ``<name>.ok`` is written beside it.  A later process that finds a valid
module and its marker may defer the import to the kernel's first call
(``compiled_before``): building a function from cached kernels then costs no
numba start-up at all.  Should numba's own cache have gone meanwhile, that
first call compiles again; the result is the same.

Beside the modules, one-file entries (``read_entry``/``write_entry``: a
head, the sha256 of the data, the data, checked before the data is read)
hold what a warm process would otherwise redo: the llvm emitter's object
code (``o_*.o``) and IR text (``ir_*.ll``, ``llvm/hook.py``), and a
graph's compiled driver (``c_*.code``, ``cached_code``).

The cache directory is ``$SYMNET_CACHE_DIR`` or ``~/.cache/symnet``.

What is trusted (see ``trust.py``): a cache folder or file owned by another
user or writable by others is refused with a warning, and this process then
compiles in a private folder.  Any error loading a cached entry (a garbled
or truncated numba index or data file, a broken ``.pyc``) marks the entry
corrupt: it is deleted and compiled again, once, with one warning; the next
process finds it intact.  A cache folder this user cannot write to is used
read-only: modules found there are loaded, missing ones are compiled in the
private folder.  Imports are serialised by a lock, so threads compiling the
same graph at once share one module, as processes share one file.
"""
import functools
import hashlib
import importlib.util
import os
import sys
import threading
import warnings

from ...configdefaults import cache_root
from ..._io import atomic_write
from .trust import entry_files, install_locator, private_folder, tighten, unsafe

__all__ = ["cache_dir", "module_key", "load_module", "loaded_any", "file_entry",
           "replace_damaged", "read_entry", "write_entry", "cached_code"]

_HEADER = "# symnet-numba-module"
_LOADED = {}   # module name -> module imported by this process


_IMPORT_LOCK = threading.RLock()
_FOLDER = {}   # cache root -> (folder to use, writable), decided once per process


def cache_dir():
    """The directory generated modules live in (created on demand); a private
    folder where the configured one may not be trusted."""
    return _folder()[0]


def _folder():
    """``(folder, writable)``: the checked cache folder of ``$SYMNET_CACHE_DIR``."""
    root = cache_root()
    state = _FOLDER.get(root)
    if state is None:
        state = _FOLDER[root] = _check_folder(root)
    return state


def _check_folder(root):
    path = os.path.join(root, "numba")
    pyc = os.path.join(path, "__pycache__")
    for folder in (root, path, pyc):
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            break   # a read-only place: what exists is checked below
    if not os.path.isdir(path):
        return _private(path, "cannot be created")
    for folder in (root, path, pyc):
        reason = unsafe(folder)
        if reason:
            return _private(folder, reason + " (chmod go-w, or chown it, to use it)")
    writable = os.access(path, os.W_OK) and os.access(pyc, os.W_OK)
    return path, writable


def _private(folder, reason):
    private = os.path.join(private_folder(), "numba")
    os.makedirs(os.path.join(private, "__pycache__"), mode=0o700, exist_ok=True)
    warnings.warn(f"symnet does not use the kernel cache folder {folder}: it {reason}; "
                  f"compiling in the private folder {private} instead (removed at exit)",
                  RuntimeWarning, stacklevel=4)
    return private, True


@functools.lru_cache(maxsize=None)
def _versions():
    # numba's version from its metadata: importing numba takes a third of a
    # second, which a process that only loads cached kernels can skip (but
    # reading the metadata takes a few ms: numba's own, where imported)
    import numpy
    from ... import __version__ as symnet_version
    numba_version = getattr(sys.modules.get("numba"), "__version__", None)
    if numba_version is None:
        from importlib import metadata
        try:
            numba_version = metadata.version("numba")
        except metadata.PackageNotFoundError:   # an unusual install: ask numba itself
            import numba
            numba_version = numba.__version__
    return (f"symnet={symnet_version} numba={numba_version} "
            f"numpy={numpy.__version__} python={sys.version_info[:3]}")


def module_key(body):
    """The cache key of a module whose source is ``body``."""
    h = hashlib.sha256()
    h.update(_versions().encode())
    h.update(body.encode())
    return h.hexdigest()[:24]


def _header(key, body):
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f"{_HEADER} key={key} body={digest}\n"


def _valid(path, header):
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
            rest = fh.read()
    except (OSError, UnicodeDecodeError):
        return False
    if first != header:
        return False
    return _header(header.split("key=")[1].split()[0], rest) == header


def _write(path, text):
    atomic_write(path, lambda fh: fh.write(text), prefix=".tmp_", suffix=".py")


def _import(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    install_locator(os.path.dirname(path))   # numba's files beside it (trust.py)
    # numba rebuilds cached code against sys.modules[name]: register first
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def loaded_any():
    """Whether this process has imported a generated module (so numba is
    imported and its first dispatch done)."""
    return bool(_LOADED)


def module_name(body):
    """The name the module with source ``body`` is imported under."""
    return f"symnet_numba_{module_key(body)}"


def module_path(body, prefix="m"):
    """The cache file of the module with source ``body``."""
    return os.path.join(cache_dir(), f"{prefix}_{module_key(body)}.py")


def compiled_before(body, prefix="m"):
    """Whether this process or an earlier one imported the module with source
    ``body`` from the cache (so its numba code is cached too) and the file
    is still intact: the caller may then import it later, on first use."""
    key = module_key(body)
    if f"symnet_numba_{key}" in _LOADED:
        return True
    path = os.path.join(cache_dir(), f"{prefix}_{key}.py")
    return os.path.exists(path + ".ok") and _valid(path, _header(key, body))


def load_module(body, prefix="m"):
    """Import the module with source ``body`` from the cache (writing it first
    when missing or corrupt).  Returns ``(module, path, key)``; ``prefix``
    starts the file name (``k`` for kernels, ``m`` for other modules)."""
    key = module_key(body)
    name = f"symnet_numba_{key}"
    if name in _LOADED:  # compiled earlier in this process: no file access
        return _LOADED[name]
    with _IMPORT_LOCK:   # threads: one import (and compile) per module
        if name in _LOADED:
            return _LOADED[name]
        folder, writable = _folder()
        path = os.path.join(folder, f"{prefix}_{key}.py")
        header = _header(key, body)
        if not writable and not _usable_read_only(path, header):
            path = os.path.join(_private_numba(), f"{prefix}_{key}.py")
            writable = True
        module = _import_entry(name, path, header, body, writable)
        _LOADED[name] = (module, path, key)
        return module, path, key


def _usable_read_only(path, header):
    """Whether the entry ``path`` of a read-only folder is complete and safe."""
    if not (os.path.exists(path + ".ok") and _valid(path, header)):
        return False
    return not any(unsafe(f) for f in entry_files(path))


def file_entry(name):
    """The path of the cache entry ``name`` that is one file (the llvm
    emitter's object code, ``llvm/jit.py``), checked as a module entry is:
    a file someone else could have written is refused (deleted where the
    folder is ours, else passed over) with the same warning, and where the
    folder is read-only a missing entry is written to the private folder."""
    folder, writable = _folder()
    path = os.path.join(folder, name)
    reason = unsafe(path)        # None for a missing file
    if reason:
        _distrust(path, reason, stacklevel=3)
        if writable:
            _purge(path)
            return path
    if writable or (not reason and os.path.exists(path)):
        return path
    return os.path.join(_private_numba(), name)


def replace_damaged(path, exc, stacklevel=2):
    """Say (once per call) that the cache entry ``path`` failed to load
    with ``exc``; returns where to write it again: the same place once
    deleted, the private folder where it cannot be."""
    _damaged(path, exc, stacklevel + 1)
    try:
        os.unlink(path)
        return path
    except OSError:
        return os.path.join(_private_numba(), os.path.basename(path))


def digest(data):
    return hashlib.sha256(data).digest()


def read_entry(path, head):
    """The data of the one-file cache entry at ``path`` (``head``, the
    sha256 of the data, the data): None where there is none; a ValueError
    where it is damaged (truncated or changed), checked before anything
    reads the data (LLVM does not check object code, nor marshal code)."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except FileNotFoundError:
        return None
    n = len(head)
    data = blob[n + 32:]
    if blob[:n] != head or not data or blob[n:n + 32] != digest(data):
        raise ValueError("its digest does not match its contents (truncated or changed)")
    return data


def write_entry(path, head, data, stacklevel=2):
    """Write the one-file cache entry ``path`` (see ``read_entry``); a
    failure to write warns: the caller has the data anyway."""
    try:
        atomic_write(path, lambda fh: fh.write(head + digest(data) + data),
                     binary=True, suffix=os.path.splitext(path)[1])
    except OSError as exc:
        warnings.warn(f"symnet could not write the cache file {path}: {exc}",
                      RuntimeWarning, stacklevel=stacklevel + 1)


_CODE_HEAD = b"symnet-code 1\n"


def cached_code(source, filename):
    """``compile(source, filename, "exec")``, from the cache where an
    earlier process compiled the same text: a graph's driver is a few
    thousand lines, a third of a warm compile's code generation to compile
    again (marshalled code objects depend on the bytecode version, which
    is in the key)."""
    import marshal
    key = module_key(f"{importlib.util.MAGIC_NUMBER!r} {filename}\n{source}")
    path = file_entry(f"c_{key}.code")
    try:
        data = read_entry(path, _CODE_HEAD)
        if data is not None:
            return marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        path = replace_damaged(path, exc, stacklevel=3)
    code = compile(source, filename, "exec")
    write_entry(path, _CODE_HEAD, marshal.dumps(code), stacklevel=2)
    return code


def _distrust(path, reason, stacklevel):
    warnings.warn(f"symnet does not load the cache file {path}: it {reason}; "
                  f"compiling its entry again", RuntimeWarning, stacklevel=stacklevel + 1)


def _damaged(path, exc, stacklevel):
    warnings.warn(f"symnet's cached kernel {path} could not be loaded "
                  f"({type(exc).__name__}: {str(exc)[:200]}); deleted it and "
                  f"compiled it again", RuntimeWarning, stacklevel=stacklevel + 1)


def _private_numba():
    path = os.path.join(private_folder(), "numba")
    os.makedirs(os.path.join(path, "__pycache__"), mode=0o700, exist_ok=True)
    return path


def _import_entry(name, path, header, body, writable):
    if writable:
        for f in entry_files(path):
            reason = unsafe(f)
            if reason:
                _distrust(f, reason, stacklevel=4)
                _purge(path)
                break
        if not _valid(path, header):
            _write(path, header + body)
    try:
        module = _import(name, path)
    except Exception as exc:
        # Any load error is a damaged entry (a truncated or garbled numba
        # index or data file, a broken .pyc, a file replaced under our feet):
        # compile it again, once; a second failure is a real error.
        if writable:
            _damaged(path, exc, stacklevel=4)
            _purge(path)
        else:   # read-only: compile it in the private folder instead
            path = os.path.join(_private_numba(), os.path.basename(path))
        _write(path, header + body)
        module = _import(name, path)
    tighten(path)
    if not os.path.exists(path + ".ok"):
        atomic_write(path + ".ok", lambda fh: fh.write(header.split("key=")[1].split()[0]),
                     prefix=".tmp_", suffix=".ok")
    return module


def _purge(path):
    """Remove ``path``, its marker, and Python's and numba's files for it."""
    for stale in entry_files(path):
        try:
            os.unlink(stale)
        except OSError:
            pass
