"""docs/tutorial.md: every ``>>>`` example in it runs and prints what it shows."""
from tests.doctest_files import run_page


def test_tutorial_doctests():
    run_page("docs/tutorial.md", at_least=31)
