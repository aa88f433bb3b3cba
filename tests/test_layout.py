"""The layout rules of DESIGN.md, enforced.

- Every Op in ``symnet/tensor/ops/`` and ``symnet/gradient.py`` declares
  ``perform`` (the numpy reference) and ``infer_shape``.
- Every op family ``symnet/tensor/ops/<name>.py`` has its test file
  ``tests/tensor/ops/test_<name>.py``.
- A compiled backend ``symnet/backend/<b>/`` (other than the py reference)
  either has ``<family>.py`` for each op family or lists the family in its
  linker's ``FALLBACK_FAMILIES``; once it has kernels at all (an
  ``elemwise.py``), every Op class has a registered kernel or an explicit
  fallback (``FALLBACK_FAMILIES`` / ``FALLBACK_OPS`` in the linker).
"""
import importlib
import inspect
import os

import pytest

from symnet.graph.op import Op

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS_DIR = os.path.join(ROOT, "symnet", "tensor", "ops")
BACKEND_DIR = os.path.join(ROOT, "symnet", "backend")
# registry names of backends whose folder name differs
BACKEND_NAMES = {"numba_cpu": "numba"}


def families():
    return sorted(f[:-3] for f in os.listdir(OPS_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


def op_modules():
    mods = [importlib.import_module(f"symnet.tensor.ops.{f}") for f in families()]
    return mods + [importlib.import_module("symnet.gradient")]


def op_classes():
    """(module, class) for every concrete Op subclass defined in the op
    modules; a base class that other ops there derive from (``_ConvBase``)
    is checked through its subclasses instead."""
    out = []
    for mod in op_modules():
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Op) and cls is not Op and cls.__module__ == mod.__name__:
                out.append((mod, cls))
    return [(m, c) for m, c in out
            if not any(o is not c and issubclass(o, c) for _, o in out)]


def test_op_modules_define_ops():
    names = {cls.__name__ for _, cls in op_classes()}
    # sanity: the walk finds the core ops, including gradient.py's
    assert {"Elemwise", "Dot", "Reduce", "Reshape", "Subtensor", "_GradOp"} <= names


@pytest.mark.parametrize("method", ["perform", "infer_shape"])
def test_every_op_declares(method):
    missing = _missing(op_classes(), method)
    assert not missing, f"ops without {method}: {missing}"


def _missing(classes, method):
    out = []
    for mod, cls in classes:
        impl = getattr(cls, method, None)
        if impl is None or impl is getattr(Op, method, None):
            out.append(f"{mod.__name__}.{cls.__name__}")
    return out


def test_every_family_has_a_test_file():
    tests = os.path.join(ROOT, "tests", "tensor", "ops")
    missing = [f"tests/tensor/ops/test_{f}.py" for f in families()
               if not os.path.exists(os.path.join(tests, f"test_{f}.py"))]
    assert not missing, f"op families without a test file: {missing}"


def compiled_backends():
    out = []
    for b in sorted(os.listdir(BACKEND_DIR)):
        path = os.path.join(BACKEND_DIR, b)
        if b == "py" or not os.path.isdir(path) or b.startswith("_"):
            continue
        if os.path.exists(os.path.join(path, "linker.py")):
            out.append(b)
    return out


def _linker_module(b):
    try:
        return importlib.import_module(f"symnet.backend.{b}.linker")
    except ImportError:  # e.g. cuda without a GPU toolchain: read the source only
        return None


def _declared(b, attr):
    mod = _linker_module(b)
    if mod is not None:
        return set(getattr(mod, attr, ()) or ())
    src = open(os.path.join(BACKEND_DIR, b, "linker.py")).read()
    return {f for f in families() if f"'{f}'" in src or f'"{f}"' in src} \
        if attr in src else set()


def _has_kernels(b):
    return os.path.exists(os.path.join(BACKEND_DIR, b, "elemwise.py"))


def test_backend_families_mirror_ops():
    problems = []
    for b in compiled_backends():
        if not _has_kernels(b):
            continue  # placeholder backend (runs the py linker): nothing to mirror yet
        fallback = _declared(b, "FALLBACK_FAMILIES")
        for f in families():
            if not os.path.exists(os.path.join(BACKEND_DIR, b, f"{f}.py")) and f not in fallback:
                problems.append(f"symnet/backend/{b}/{f}.py (or '{f}' in FALLBACK_FAMILIES)")
    assert not problems, f"missing backend families: {problems}"


def test_backend_kernel_or_explicit_fallback_for_every_op():
    from symnet.backend import registry
    problems = []
    for b in compiled_backends():
        if not _has_kernels(b) or _linker_module(b) is None:
            continue
        for info in os.listdir(os.path.join(BACKEND_DIR, b)):
            if info.endswith(".py"):
                importlib.import_module(f"symnet.backend.{b}.{info[:-3]}")
        name = BACKEND_NAMES.get(b, b)
        fam_fallback = _declared(b, "FALLBACK_FAMILIES")
        op_fallback = {c if isinstance(c, str) else c.__name__
                       for c in _declared(b, "FALLBACK_OPS")}
        for mod, cls in op_classes():
            fam = mod.__name__.rsplit(".", 1)[-1]
            if registry.kernel_for(name, cls) is None and fam not in fam_fallback \
                    and cls.__name__ not in op_fallback:
                problems.append(f"{cls.__name__} ({fam})")
    assert not problems, (f"ops with neither a kernel nor an explicit fallback "
                          f"(FALLBACK_OPS/FALLBACK_FAMILIES in the linker): {problems}")


def test_layout_checks_can_fail():
    """The perform/infer_shape check really reports an op lacking them."""
    import types

    class Broken(Op):
        def make_node(self, x):
            raise NotImplementedError
    mod = types.SimpleNamespace(__name__="fake")
    assert _missing([(mod, Broken)], "perform") == ["fake.Broken"]
    assert _missing([(mod, Broken)], "infer_shape") == ["fake.Broken"]
