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

The cache directory is ``$SYMNET_CACHE_DIR`` or ``~/.cache/symnet``.
"""
import functools
import hashlib
import importlib.util
import os
import sys

from ..._io import atomic_write

__all__ = ["cache_dir", "module_key", "load_module"]

_HEADER = "# symnet-numba-module"
_LOADED = {}   # module name -> module imported by this process


def cache_dir():
    """The directory generated modules live in (created on demand)."""
    root = os.environ.get("SYMNET_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "symnet")
    path = os.path.join(root, "numba")
    os.makedirs(path, exist_ok=True)
    return path


@functools.lru_cache(maxsize=None)
def _versions():
    # numba's version from its metadata: importing numba takes a third of a
    # second, which a process that only loads cached kernels can skip
    from importlib import metadata
    import numpy
    from ... import __version__ as symnet_version
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
    # numba rebuilds cached code against sys.modules[name]: register first
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


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
    path = os.path.join(cache_dir(), f"{prefix}_{key}.py")
    header = _header(key, body)
    if not _valid(path, header):
        _write(path, header + body)
    try:
        module = _import(name, path)
    except (SyntaxError, ImportError, EOFError, ValueError, OSError):
        # a file replaced under our feet or a broken numba index: start over
        _purge(path)
        _write(path, header + body)
        module = _import(name, path)
    _LOADED[name] = (module, path, key)
    if not os.path.exists(path + ".ok"):
        atomic_write(path + ".ok", lambda fh: fh.write(key), prefix=".tmp_", suffix=".ok")
    return module, path, key


def _purge(path):
    """Remove ``path`` and numba's cache entries for it."""
    base = os.path.splitext(os.path.basename(path))[0]
    pyc = os.path.join(os.path.dirname(path), "__pycache__")
    for stale in (path, path + ".ok"):
        try:
            os.unlink(stale)
        except OSError:
            pass
    if os.path.isdir(pyc):
        for f in os.listdir(pyc):
            if f.startswith(base + "."):
                try:
                    os.unlink(os.path.join(pyc, f))
                except OSError:
                    pass
