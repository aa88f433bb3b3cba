"""``gc_paused``: Python's cyclic GC off while symnet builds a graph that
lives on (``grad``'s gradient graph, ``function``'s copy and its rewrites).

Every graph node is in a reference cycle (an Apply and its outputs'
``owner``), so every one is tracked by the collector, and a full collection
scans every tracked object of the process, not only the graph's: with more
survivors each time, the collections that fall inside a big build cost more
than the build (rewriting 30,000 nodes: 16 s against 9 s; ``grad`` of W3's
chain at N=6,400: 4.3 s of GC in 8.3 s).  The cycles left by nodes pruned
meanwhile are collected once it is back on.
"""
import contextlib
import gc

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused():
    """The collector off inside the block; back on after it (also on an
    error) if it was on before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
