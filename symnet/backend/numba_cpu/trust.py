"""What the kernel cache trusts: folder and file checks, the private folder,
and where numba keeps the machine code of our modules.

Everything in the cache ends up executed: the modules are Python, numba's
index (``.nbi``) and data (``.nbc``) files are pickles, Python's ``.pyc``
are code objects.  So a cache folder or file that someone else could have
written is never read: a folder or file owned by another user, or writable
by the group or by everyone, is refused (``unsafe``).  A refused folder is
replaced by a private one (``private_folder``: created by this process,
mode 0700, removed at exit) with a warning that says why and how to fix it.

numba normally keeps a module's index in ``__pycache__`` beside it, or under
``$NUMBA_CACHE_DIR``, and refuses a folder it cannot write to (it then looks
elsewhere, and with no writable place the kernel cannot even be defined).
``install_locator`` puts a locator of our own in front of numba's: for our
cache folders the index always sits in ``<folder>/__pycache__`` (a folder
we checked), and a read-only folder is still read, so a warm cache that is
read-only is used as it is.  numba's locators are not a public API, so
where they are missing the hook is skipped with a warning: the cache then
works as before (numba's own locators), without the read-only case.
"""
import atexit
import os
import shutil
import stat
import tempfile
import threading
import warnings

__all__ = ["unsafe", "private_folder", "install_locator", "tighten", "entry_files"]

_LOCK = threading.Lock()
_PRIVATE = []          # the private folder of this process, once made
_FOLDERS = set()       # our cache folders (absolute): the locator serves these
_INSTALLED = []


def unsafe(path):
    """Why ``path`` (a folder or file) must not be trusted, or None if it may
    be: it must belong to this user and be writable by nobody else."""
    if not hasattr(os, "geteuid"):   # no POSIX owners (Windows): ACLs decide
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be inspected ({exc.strerror})"
    uid = os.geteuid()
    if st.st_uid != uid:
        return f"is owned by uid {st.st_uid}, not by this user (uid {uid})"
    if st.st_mode & stat.S_IWOTH:
        return "is writable by every user"
    if st.st_mode & stat.S_IWGRP:
        return "is writable by its group"
    return None


def private_folder():
    """A folder only this process uses (mode 0700), removed when it exits."""
    with _LOCK:
        if not _PRIVATE:
            path = tempfile.mkdtemp(prefix="symnet-private-cache-")
            atexit.register(shutil.rmtree, path, True)
            _PRIVATE.append(path)
        return _PRIVATE[0]


def entry_files(path):
    """The files of the cache entry whose module is ``path``: the module, its
    marker, and what Python and numba keep for it in ``__pycache__``."""
    base = os.path.splitext(os.path.basename(path))[0] + "."
    pyc = os.path.join(os.path.dirname(path), "__pycache__")
    files = [path, path + ".ok"]
    try:
        files += [os.path.join(pyc, f) for f in os.listdir(pyc) if f.startswith(base)]
    except OSError:
        pass
    return files


def tighten(path):
    """Take the group's and others' write permission off the files of the
    entry ``path`` that this user owns (numba writes its files with the
    umask's mode, 0664 under the common umask 002)."""
    if not hasattr(os, "geteuid"):
        return
    for f in entry_files(path):
        try:
            st = os.stat(f)
            if st.st_uid == os.geteuid() and st.st_mode & 0o022:
                os.chmod(f, stat.S_IMODE(st.st_mode) & ~0o022)
        except OSError:
            pass


def install_locator(folder):
    """Make numba keep the machine code of modules in ``folder`` in
    ``folder/__pycache__`` (read-only or not); see the module docstring."""
    _FOLDERS.add(os.path.abspath(folder))
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    try:
        from numba.core import caching
        base, impl = caching.InTreeCacheLocator, caching.CacheImpl
        impl._locator_classes  # noqa: B018 -- present in the numba versions we know
    except (ImportError, AttributeError) as exc:
        warnings.warn(f"symnet cannot place numba's cache files itself with this numba "
                      f"({exc}); a read-only kernel cache will not be used",
                      RuntimeWarning, stacklevel=2)
        return

    class SymnetCacheLocator(base):
        """numba's in-tree locator for symnet's cache folders, which does not
        demand a writable folder to read from it (saving still does)."""

        @classmethod
        def from_function(cls, py_func, py_file):
            folder = os.path.dirname(os.path.abspath(py_file))
            if folder not in _FOLDERS or not os.path.exists(py_file):
                return None
            return cls(py_func, py_file)

    impl._locator_classes.insert(0, SymnetCacheLocator)
