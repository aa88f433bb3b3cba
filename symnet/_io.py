"""Writing files so that a reader never sees half of one.

Used by the numba kernel cache (two processes may compile the same graph at
once) and by ``symnet train`` (an interrupted run must not leave a broken
parameter file).
"""
import os
import tempfile

__all__ = ["atomic_write"]


def atomic_write(path, write, binary=False, prefix=".tmp_", suffix=".tmp", mode=None):
    """Call ``write(fh)`` on a temporary file beside ``path``, then move it
    into place with ``os.replace`` (atomic).  On any exception, Ctrl-C
    included, the temporary file is removed and the old ``path`` is kept.
    The file is private (0600) unless ``mode`` gives its permissions."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb" if binary else "w",
                       **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
