"""docs/tutorial.md: every ``>>>`` example in it runs and prints what it shows."""
import doctest
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tutorial_doctests():
    result = doctest.testfile(os.path.join(ROOT, "docs", "tutorial.md"),
                              module_relative=False, verbose=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 30
    assert result.failed == 0, f"{result.failed} tutorial examples failed (see stdout)"
