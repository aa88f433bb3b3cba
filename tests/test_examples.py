"""Every script in examples/ runs (``--quick``) and shows what it claims."""
import os
import re
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
# py backend: these runs test the examples, not the numba compiler's start-up.
ENV = dict(os.environ, PYTHONPATH=ROOT, SYMNET_MODE="py", OPENBLAS_NUM_THREADS="1")


def run_example(name, *args):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), "--quick", *args],
                          capture_output=True, text=True, env=ENV, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_every_example_is_tested():
    # _-prefixed modules are helpers the scripts import, not scripts
    scripts = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py") and f[0] != "_")
    assert scripts == ["factorized_weights.py", "positive_weights.py", "psd_weights.py",
                       "theano_style_mnist.py", "tied_autoencoder.py"]


def test_tied_autoencoder():
    out = run_example("tied_autoencoder.py")
    # one W (64x32) and two biases, against two W's untied
    assert "3 parameter arrays (W, b, b), 2144 weights; untied it would have 4192" in out
    before, after = map(float, re.search(r"error: ([\d.]+) before training, ([\d.]+) after",
                                         out).groups())
    assert after < before
    assert "still its transpose: True" in out


def test_factorized_weights():
    out = run_example("factorized_weights.py")
    assert "768 factorized (64x8 + 8x32) instead of 2048 (64x32)" in out
    assert "['w1', 'w2', 'b']" in out
    assert "trained through the product: True" in out
    assert float(re.search(r"test accuracy: ([\d.]+) %", out).group(1)) > 50


def test_positive_weights():
    out = run_example("positive_weights.py")
    assert "all positive: True" in out
    smallest = float(re.search(r"smallest weight of W = exp\(w\): (\S+)", out).group(1))
    assert smallest > 0


def test_psd_weights():
    out = run_example("psd_weights.py")
    assert "W is symmetric: True" in out
    assert "(>= 0: True)" in out


def test_theano_style_mnist():
    out = run_example("theano_style_mnist.py")
    assert out.count("validation accuracy:") == 2  # --quick: two epochs
    acc = float(re.search(r"test accuracy:\s+([\d.]+) %", out).group(1))
    assert acc > 50


def test_theano_style_custom_model():
    out = run_example("theano_style_mnist.py", "custom:1,32,0,0")
    assert float(re.search(r"test accuracy:\s+([\d.]+) %", out).group(1)) > 50
