"""docs/debugging.md: every ``>>>`` example in it runs and prints what it shows."""
from tests.doctest_files import run_page


def test_debugging_doctests():
    run_page("docs/debugging.md", at_least=31)
