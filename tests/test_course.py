"""The course (docs/course/): every chapter's and every solution's ``>>>``
examples run and print what they show (the machinery of docs/tutorial.md:
``tests/doctest_files.py``)."""
import glob
import os

import pytest

from tests.doctest_files import ROOT, run_page

CHAPTERS = sorted(glob.glob(os.path.join(ROOT, "docs", "course", "0*.md")))
SOLUTIONS = sorted(glob.glob(os.path.join(ROOT, "docs", "course", "solutions", "0*.md")))


def _rel(paths):
    return [os.path.relpath(p, ROOT) for p in paths]


def test_eight_chapters_each_with_exercises_and_solutions():
    names = [os.path.basename(p) for p in CHAPTERS]
    assert [n[:3] for n in names] == [f"0{k}-" for k in range(1, 9)], names
    assert [os.path.basename(p) for p in SOLUTIONS] == names
    for path in CHAPTERS:
        text = open(path, encoding="utf-8").read()
        assert "\n## Exercises\n" in text, f"{path} has no exercises"
        assert f"solutions/{os.path.basename(path)}" in text, f"{path} does not link its solutions"


@pytest.mark.parametrize("page", _rel(CHAPTERS + SOLUTIONS))
def test_page_examples_run(page):
    run_page(page, at_least=5)
