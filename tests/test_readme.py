"""The README's tour must run as written."""
import os
import re

from symnet.configdefaults import config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_tour_runs(capsys):
    with open(os.path.join(ROOT, "README.md")) as fh:
        text = fh.read()
    code = re.search(r"## A tour\n\n```python\n(.*?)```", text, re.S).group(1)
    config.mode = "py"  # restored by the conftest fixture
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    y, gx = scope["f"](scope["np"].linspace(-1, 1, 5).astype("float32"))
    assert gx.shape == (5,) and gx.dtype == "float32"
    assert len(scope["params"]) == 3          # the tied W counted once
    assert "Elemwise{tanh,no_inplace}" in capsys.readouterr().out   # the gradient graph


def test_readme_names_both_setup_commands():
    with open(os.path.join(ROOT, "README.md")) as fh:
        text = fh.read()
    assert "pip install . && symnet train" in text
    assert "pip install -e '.[test]' && python -m pytest -q" in text
    with open(os.path.join(ROOT, ".ci", "run")) as fh:
        assert "python -m pytest -q" in fh.read()
