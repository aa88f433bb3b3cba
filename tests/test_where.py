"""``python -m symnet.where``: file:line of an op's pieces, in a subprocess."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run([sys.executable, "-m", "symnet.where", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _check_locations(text):
    for path, line in re.findall(r"(symnet/[\w/]+\.py):(\d+)", text):
        lines = open(os.path.join(ROOT, path)).read().splitlines()
        assert 1 <= int(line) <= len(lines)
    return text


def test_scalar_op():
    r = run("Exp")
    assert r.returncode == 0, r.stderr
    out = _check_locations(r.stdout)
    assert "exp: scalar op" in out
    m = re.search(r"table entry\s+(symnet/tensor/ops/elemwise.py):(\d+)", out)
    line = open(os.path.join(ROOT, m.group(1))).read().splitlines()[int(m.group(2)) - 1]
    assert '"exp"' in line
    for piece in ("make_node", "perform", "infer_shape", "L_op", "kernels:", "tests:"):
        assert piece in out
    assert "tests/tensor/ops/test_elemwise.py" in out


def test_op_class():
    r = run("Dot")
    assert r.returncode == 0, r.stderr
    out = _check_locations(r.stdout)
    m = re.search(r"class\s+(symnet/tensor/ops/blas.py):(\d+)", out)
    assert m and "class Dot" in open(os.path.join(ROOT, m.group(1))).read().splitlines()[
        int(m.group(2)) - 1]
    assert "tests/tensor/ops/test_blas.py" in out


def test_unknown_name():
    r = run("NoSuchOpAnywhere")
    assert r.returncode == 1 and "no op named" in r.stderr
    assert run().returncode == 2


def test_where_function_in_process():
    from symnet.where import where, find_op_classes
    assert [c.__name__ for c in find_op_classes("reshape")] == ["Reshape"]
    assert "symnet/tensor/ops/shape.py" in where("Reshape")


def test_elementwise_ops_say_which_emitter_builds_their_loops():
    from symnet.backend.numba_cpu import llvm
    env = dict(os.environ)
    for chosen in ("numba", "llvm"):
        env["SYMNET_NUMBA_EMITTER"] = chosen
        r = subprocess.run([sys.executable, "-m", "symnet.where", "exp"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        out = _check_locations(r.stdout)
        m = re.search(r"llvm\s+LoopKernel at (symnet/backend/numba_cpu/llvm/kernel.py):(\d+)",
                      out)
        assert m, out
        assert f"emitter here: {chosen}; default {llvm.DEFAULT}" in out
    r = run("Dot")
    assert "LoopKernel" not in r.stdout      # not an elementwise op
