"""``symnet train``'s output folder: checked before training, never left
with temporary files.

* ``check_writable`` creates and removes a probe file in ``--out`` before
  any training, so an unwritable folder costs seconds, not a whole run.
* ``remove_stale_temps`` deletes the temporary parameter files that a run
  killed with SIGKILL (which no handler sees) left behind.
* ``sigterm_raises`` turns SIGTERM into ``SystemExit(143)`` for the length
  of a run, so ``atomic_write``'s cleanup runs as it does for Ctrl-C.
* ``PARAMS_TMP`` is the prefix and suffix of those temporary files.
"""
import contextlib
import os
import signal
import tempfile
import threading
import time

__all__ = ["PARAMS_TMP", "check_writable", "remove_stale_temps", "sigterm_raises",
           "umask"]

PARAMS_TMP = (".params-", ".npz.tmp")
# A save takes milliseconds; a temporary file this old belongs to no live run.
STALE_AFTER_S = 60.0


def check_writable(folder, name="params.npz"):
    """Raise OSError (naming ``folder`` and ``name``) unless a file can be
    created in ``folder``."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {name} to {folder} "
                                 f"({exc.strerror}); choose another --out") from None
    os.close(fd)
    os.unlink(probe)


def remove_stale_temps(folder, now=None):
    """Delete ``.params-*.npz.tmp`` files in ``folder`` older than
    ``STALE_AFTER_S``; returns their names."""
    now = time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    prefix, suffix = PARAMS_TMP
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        path = os.path.join(folder, name)
        try:
            if now - os.stat(path).st_mtime > STALE_AFTER_S:
                os.unlink(path)
                removed.append(name)
        except OSError:
            pass
    return removed


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_raises():
    """Within the block, SIGTERM raises ``SystemExit(143)`` in the main thread
    (elsewhere signals cannot be handled, and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def umask():
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
