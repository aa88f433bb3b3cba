"""The viewer page in a real browser: headless Chromium opens the page with
its ``#selftest`` fragment (which switches through every stage and clicks a
node, see ``symnet/_viz_page.py``) and ``--dump-dom`` prints what it saw;
a screenshot checks that something was drawn.

Skipped, saying so, when no Chromium is installed (``apt-get install
chromium`` on Debian/Ubuntu).
"""
import json
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.viz import viz
from tests.test_viz import deep_cost

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER = next((p for p in map(shutil.which, _NAMES) if p), None)

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser: none of chromium, chromium-browser, "
    "google-chrome is on PATH (apt-get install chromium to run the viewer's browser test)")

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--hide-scrollbars", "--window-size=1200,800"]


def _chromium(*args):
    proc = subprocess.run([BROWSER, *_FLAGS, *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    x = T.vector('x')
    w = symnet.shared(np.array([1.0, 2.0, 3.0], dtype='float32'), name='w')
    y = T.sum(T.tanh(x * w) ** 2)
    f = symnet.function([x], [y, symnet.grad(y, w)], mode='numba')
    path = tmp_path_factory.mktemp("viz") / "graph.html"
    viz(f, str(path))
    return f, path


def _selftest(path):
    dom = _chromium("--dump-dom", path.as_uri() + "#selftest")
    found = re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S)
    assert found, "the page's self-test wrote nothing: " + dom[-1000:]
    return json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">")
                      .replace("&quot;", '"').replace("&amp;", "&"))


def test_page_runs_in_chromium(page):
    f, path = page
    seen = _selftest(path)
    names = [s["name"] for s in seen["stages"]]
    assert names == ["as built", "after simplify", "after fusion", "after inplace",
                     "as compiled"]
    built = seen["stages"][0]
    # every box drawn, with its label: x, w and the ops that built y and its gradient
    assert built["drawn"] > 10 and built["edges"] >= built["drawn"] - 2
    assert {"x", "w", "tanh", "mul"} <= set(built["labels"])
    # a click selects the node and shows its op and the line of this file that built it
    assert built["clicked"]["selected"] == 1
    assert built["clicked"]["label"].split("{")[0] in built["clicked"]["op"]
    assert "test_viz_browser.py" in built["clicked"]["trace"]
    compiled = seen["stages"][-1]
    n_apply = len(f.fgraph.apply_nodes)
    assert 2 <= compiled["drawn"] <= n_apply + 2      # fused runs are one box
    assert any(label.startswith("fused") for label in compiled["labels"])
    assert "def kernel(" in compiled["clicked"]["source"] or \
        "# node" in compiled["clicked"]["source"]
    # fusion is fewer boxes than the graph as built
    assert seen["stages"][2]["drawn"] < built["drawn"]
    # the find box: typing "sum" selects the Sum node
    assert seen["find"]["index"] >= 0 and seen["find"]["label"].startswith("Sum")


def test_big_graph_opens_readable(tmp_path):
    path = tmp_path / "big.html"
    viz(deep_cost(150), str(path), mode='py')
    seen = _selftest(path)
    built = seen["stages"][0]
    assert built["drawn"] > 300 and built["edges"] >= built["drawn"] - 1
    assert any(label.startswith("chain of") for label in built["labels"])
    # a big graph opens at a scale where labels show, not squeezed to fit
    assert seen["initialScale"] >= 0.8
    assert "Sum" in seen["find"]["label"]      # the last box: the chain ending in the sum


def _png_size_and_bytes(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return width, height, zlib.decompress(idat)


def test_screenshot_shows_a_drawing(page, tmp_path):
    _, path = page
    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", path.as_uri())
    width, height, pixels = _png_size_and_bytes(shot.read_bytes())
    assert (width, height) == (1200, 800)
    # boxes in three fill colours, text and edges: far from a blank page
    assert len(set(pixels)) > 40


def test_layer_blocks_in_chromium(tmp_path):
    from symnet.layers import get_all_params
    from tests.test_viz_layers import deep_mlp
    _, top, cost = deep_mlp(60)
    path = tmp_path / "mlp.html"
    viz(cost, str(path), wrt=get_all_params(top), mode='py')
    seen = _selftest(path)
    grad = seen["stages"][1]
    assert grad["name"] == "after grad"
    # one box per layer (and per layer its gradient reads), drawn with labels
    assert grad["blocks"] >= 120 and grad["drawn"] < 400
    assert "first (9 nodes)" in grad["labels"]
    # a click on a folded block names the layer and lists its nodes
    assert grad["block"]["label"] == "first (9 nodes)"
    assert grad["block"]["layer"] == "first"
    assert grad["block"]["members"] == 9
