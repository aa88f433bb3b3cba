"""The documentation's links: every relative link between the markdown
files of docs/ and README.md points at a file (and heading) that exists;
and, where MkDocs is installed (the ``docs`` extra), the HTML site builds
with ``--strict``, which fails on a broken link or anchor."""
import glob
import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests.doctest_files import ROOT

PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)) + \
    [os.path.join(ROOT, "README.md")]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _slug(heading):
    """The anchor MkDocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"[^\w\s-]", "", heading).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path):
    text = _FENCE.sub("", open(path, encoding="utf-8").read())
    return {_slug(m) for m in re.findall(r"^#+\s+(.*)$", text, re.M)}


def _links(path):
    text = _FENCE.sub("", open(path, encoding="utf-8").read())
    return _LINK.findall(text)


def test_slug_matches_mkdocs_rule():
    assert _slug("1. Build a graph") == "1-build-a-graph"
    assert _slug("Merging and constant folding") == "merging-and-constant-folding"
    assert _slug("`python -m symnet.where`: find a model") == "python-m-symnetwhere-find-a-model"


@pytest.mark.parametrize("page", [os.path.relpath(p, ROOT) for p in PAGES])
def test_relative_links_resolve(page):
    path = os.path.join(ROOT, page)
    broken = []
    for target in _links(path):
        if re.match(r"^[a-z]+:", target):      # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
            if file_part else path
        if not os.path.exists(dest):
            broken.append(f"{target} (no file {os.path.relpath(dest, ROOT)})")
        elif anchor and dest.endswith(".md") and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading with anchor #{anchor})")
    assert broken == [], f"{page} has broken links: {broken}"


def test_every_docs_page_is_reachable_from_the_index():
    seen, stack = set(), [os.path.join(ROOT, "docs", "index.md")]
    while stack:          # explicit stack over the pages' links
        page = stack.pop()
        if page in seen or not page.endswith(".md") or not os.path.exists(page):
            continue
        seen.add(page)
        for target in _links(page):
            file_part = target.partition("#")[0]
            if file_part and not re.match(r"^[a-z]+:", file_part):
                stack.append(os.path.normpath(os.path.join(os.path.dirname(page), file_part)))
    docs = {p for p in PAGES if p.startswith(os.path.join(ROOT, "docs"))}
    assert sorted(docs - seen) == []


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="MkDocs is not installed (pip install -e '.[docs]'): the HTML "
                           "build of docs/ is not checked; the link checks above still run")
def test_mkdocs_build_is_strict_clean(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-f", os.path.join(ROOT, "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for page in ("index.html", "course/index.html", "course/06-writing-an-op/index.html",
                 "course/solutions/01-expressions/index.html"):
        assert (tmp_path / "site" / page).exists(), page
