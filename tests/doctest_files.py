"""Run the ``>>>`` examples of a markdown page (docs/, the course and its
solutions) with doctest: what a page shows is what symnet does."""
import doctest
import os

import symnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

__all__ = ["run_page", "ROOT"]


def run_page(relpath, at_least):
    """Run the examples of ``ROOT/relpath``; fail unless there are at least
    ``at_least`` of them and none failed (the failures are printed)."""
    try:
        result = doctest.testfile(os.path.join(ROOT, relpath), module_relative=False,
                                  verbose=False, report=True, optionflags=FLAGS)
    finally:
        symnet.config.compute_test_value = "off"   # even when an example failed
    assert result.attempted >= at_least, \
        f"{relpath}: only {result.attempted} examples ran, expected at least {at_least}"
    assert result.failed == 0, f"{result.failed} examples of {relpath} failed (see stdout)"
