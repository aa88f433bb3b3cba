"""Golden files of the numba backend's generated source.

The full ``f.source`` (kernels and driver) of three small graphs (an MLP
training step, a softmax loss with its gradient, reductions), written by
the numba emitter, is compared with ``tests/backend/golden/<name>.py.txt``,
so any change to code generation shows up as a diff in review.  Under the
llvm emitter (symnet/backend/numba_cpu/llvm/) ``<name>.llvm.txt`` pins
which kernels it builds (name, emitter, op) and the LLVM IR of each.

When a change to the generated code is intended, regenerate the files and
review the diff::

    SYMNET_REGEN_GOLDEN=1 python -m pytest tests/backend/numba_cpu/test_golden.py
    git diff tests/backend/golden/

The sources are generated without compiling anything: the graph is
rewritten by the standard pipeline and handed to ``NumbaLinker`` only
(the llvm emitter lowers its kernels to IR there; ``llvm/jit.py`` compiles
them later).
"""
import difflib
import os

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.linker import NumbaLinker
from symnet.compile.mode import Mode

from .emitters import EMITTERS, emitter_mode, kernels

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")
REGEN = os.environ.get("SYMNET_REGEN_GOLDEN", "") not in ("", "0")


def _source(inputs, outputs, updates=None):
    """{emitter: the golden text of the graph under that emitter}."""
    # the numba modes' own rewrites (tag 'numba') included: the graph the
    # numba backend compiles, whether or not SYMNET_FORCE_BACKEND is set
    f = symnet.function(inputs, outputs, updates=updates, mode=Mode("py").including("numba"))
    return {"numba": NumbaLinker(f.fgraph, emitter_mode("numba")).source,
            "llvm": _llvm_text(NumbaLinker(f.fgraph, emitter_mode("llvm")))}


def _llvm_text(linker):
    """The kernels the llvm emitter leaves to numba and builds itself, and
    the IR of each of its own (what ``llvm/jit.py`` compiles)."""
    ks = kernels(linker)
    out = ["# kernels: name, emitter, op"] + [f"# {k.name} {k.emitter}: {k.title}" for k in ks]
    for k in ks:
        if k.emitter == "llvm":
            out += ["", f"# -- {k.name}: LLVM IR", k.text.rstrip("\n")]
    return "\n".join(out) + "\n"


def mlp_step():
    rng = np.random.default_rng(0)
    x, y = T.fmatrix("x"), T.ivector("y")
    w1 = symnet.shared(rng.normal(size=(4, 8)).astype("float32"), name="W1")
    b1 = symnet.shared(np.zeros(8, "float32"), name="b1")
    w2 = symnet.shared(rng.normal(size=(8, 3)).astype("float32"), name="W2")
    b2 = symnet.shared(np.zeros(3, "float32"), name="b2")
    h = T.tanh(T.dot(x, w1) + b1)
    p = T.nnet.softmax(T.dot(h, w2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(p, y))
    params = [w1, b1, w2, b2]
    grads = symnet.grad(loss, params)
    lr = np.float32(0.1)
    return _source([x, y], loss, updates=[(v, v - lr * g) for v, g in zip(params, grads)])


def softmax_loss():
    x, y = T.dmatrix("x"), T.lvector("y")
    loss = T.sum(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    return _source([x, y], [loss, symnet.grad(loss, x)])


def reduction():
    x = T.fmatrix("x")
    return _source([x], [T.sum(x, axis=1), T.max(x, axis=0), T.argmax(x, axis=1),
                         T.sum(T.exp(x) * 2)])


_SUFFIX = {"numba": "py.txt", "llvm": "llvm.txt"}


@pytest.mark.parametrize("build", [mlp_step, softmax_loss, reduction],
                         ids=lambda b: b.__name__)
@pytest.mark.parametrize("emitter", EMITTERS)
def test_generated_source_matches_golden_file(build, emitter):
    path = os.path.join(GOLDEN, f"{build.__name__}.{_SUFFIX[emitter]}")
    got = build()[emitter]
    if REGEN:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(got)
    with open(path, encoding="utf-8") as fh:
        want = fh.read()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            "golden", "generated", n=2))
        pytest.fail(f"the generated {emitter} source of {build.__name__} changed (regenerate "
                    f"with SYMNET_REGEN_GOLDEN=1 if intended, and review the diff):\n{diff}")


@pytest.mark.parametrize("emitter", EMITTERS)
def test_golden_sources_run_and_agree_with_py(emitter):
    """The pinned graphs really compile and run (not only print)."""
    from .helpers import both
    x = T.fmatrix("x")
    xv = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    both([x], [T.sum(x, axis=1), T.max(x, axis=0), T.argmax(x, axis=1),
               T.sum(T.exp(x) * 2)], [xv], rtol=1e-4, emitter=emitter)
