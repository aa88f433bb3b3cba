"""docs/debugging.md: every ``>>>`` example in it runs and prints what it shows."""
import doctest
import os

import symnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_debugging_doctests():
    try:
        result = doctest.testfile(os.path.join(ROOT, "docs", "debugging.md"),
                                  module_relative=False, verbose=False, report=True,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    finally:
        symnet.config.compute_test_value = "off"   # even when an example failed
    assert result.attempted > 30
    assert result.failed == 0, f"{result.failed} examples of docs/debugging.md failed (see stdout)"
