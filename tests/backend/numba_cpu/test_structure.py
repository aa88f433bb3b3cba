"""The numba backend's module structure: family modules register through
``dispatch`` and never import the linker (no import cycle), the family list
is found by name, and helper functions are a real module that generated
kernels import."""
import ast
import os
import subprocess
import sys

import symnet.tensor as T
from symnet.backend.numba_cpu import codegen, dispatch
from symnet.backend.numba_cpu.linker import NumbaLinker
from symnet.compile.mode import Mode
from symnet.graph.fg import FunctionGraph

from .emitters import built_by, each_emitter, emitter_mode

PKG = os.path.dirname(os.path.abspath(dispatch.__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(PKG)))
INFRA = {"__init__", "linker", "codegen", "cache", "dispatch", "njit_driver", "trust", "budget",
         "fused", "threads", "inplace", "colsum", "kernel_ref", "compiled",
         "workers", "conv_threads", "conv_direct", "step_pool", "gemm_split", "loop_split",
         "graph_cache", "step_dot"}


def _family_files():
    return sorted(f[:-3] for f in os.listdir(PKG) if f.endswith(".py") and f[:-3] not in INFRA)


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    out = set()
    for node in ast.walk(tree):       # every import, also inside functions
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_family_modules_do_not_import_the_linker():
    bad = {}
    for fam in _family_files():
        found = {m for m in _imports(os.path.join(PKG, fam + ".py"))
                 if m.endswith("linker") and "py.linker" not in m}
        if found:
            bad[fam] = found
    assert not bad, f"family modules importing the numba linker: {bad}"
    assert "elemwise" in _family_files() and "shape" in _family_files()


def test_loading_every_family_leaves_the_linker_unimported():
    code = ("import sys; from symnet.backend.numba_cpu import dispatch; "
            "names = dispatch.load_families(); "
            "assert 'symnet.backend.numba_cpu.linker' not in sys.modules, 'linker imported'; "
            "print(','.join(names))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)
    assert res.returncode == 0, res.stderr
    loaded = set(res.stdout.strip().split(","))
    assert loaded == set(_family_files()), (loaded, _family_files())


def test_families_are_found_by_the_op_family_names():
    ops_dir = os.path.join(ROOT, "symnet", "tensor", "ops")
    op_families = {f[:-3] for f in os.listdir(ops_dir) if f.endswith(".py")
                   and not f.startswith("_")}
    # ops outside tensor/ops (symnet/scan's Scan, symnet/gradient.py's ops):
    # named after their package or module
    op_families |= set(dispatch.OTHER_FAMILIES)
    assert all(os.path.isdir(os.path.join(ROOT, "symnet", f)) or
               os.path.isfile(os.path.join(ROOT, "symnet", f + ".py"))
               for f in dispatch.OTHER_FAMILIES)
    assert set(dispatch.load_families()) == op_families & set(_family_files())
    # every family file of the backend is named after an op family
    assert set(_family_files()) <= op_families | {"lib"}


@each_emitter
def test_kernels_import_helpers_from_a_real_lib_module(emitter):
    # under the llvm emitter, of the kernel's numba equivalent (the listing
    # stays one standalone module: ``symnet export``)
    x = T.fvector("x")
    fg = FunctionGraph([x], [T.tanh(x)])
    linker = NumbaLinker(fg, emitter_mode(emitter, optimizer=None))
    ((kname, _, _, _, text, _),) = built_by(linker, emitter)
    assert linker.code.kernel_libs[kname] == {"fastmath32": {"_tanh32"}}
    module = codegen.kernel_module(text, linker.code.kernel_libs[kname])
    assert "from symnet.backend.numba_cpu.lib.fastmath32 import _tanh32" in module
    # the listing inlines the helper so exported modules need no symnet
    assert "def _tanh32(x):" in linker.source and "symnet.backend" not in \
        linker.source.replace("# -- symnet.backend.numba_cpu.lib.fastmath32 (inlined)", "")
    from symnet.backend.numba_cpu.lib import fastmath32
    assert fastmath32._tanh32.py_func(0.0) == 0.0


def test_a_float64_graph_uses_no_helper():
    x = T.dvector("x")
    linker = NumbaLinker(FunctionGraph([x], [T.tanh(x)]), Mode("numba", optimizer=None))
    assert all(not libs for libs in linker.code.kernel_libs.values())
    assert "fastmath32" not in linker.source


def test_a_graph_loads_only_the_families_of_its_ops():
    code = ("import sys; import symnet.tensor as T; "
            "from symnet.graph.op import Op; "
            "from symnet.backend.numba_cpu import dispatch; "
            "from symnet.backend.registry import kernel_for; "
            "from symnet.tensor.ops.elemwise import Elemwise; "
            "from symnet.tensor.ops.reduction import Reduce; "
            "fam = lambda: sorted(n.rsplit('.', 1)[1] for n in sys.modules "
            "    if n.rsplit('.', 1)[0] == 'symnet.backend.numba_cpu' "
            "    and n.rsplit('.', 1)[1] in dispatch.family_names()); "
            "dispatch.load_families_for({Elemwise, Reduce}); "
            "assert kernel_for('numba', Elemwise) and kernel_for('numba', Reduce); "
            "print(','.join(fam())); "
            "Other = type('Other', (Op,), {}); "
            "dispatch.load_families_for({Elemwise, Other}); "
            "print(','.join(fam()))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)
    assert res.returncode == 0, res.stderr
    first, then = res.stdout.strip().splitlines()
    assert "elemwise" in first.split(",") and "reduction" in first.split(",")
    assert "conv" not in first.split(",") and "scan" not in first.split(",")
    # an op of no family (no kernel anywhere): every family, as before
    assert set(then.split(",")) == set(_family_files())
