"""Where is X?  ``python -m symnet.where Exp`` answers with file:line.

Give an Op class name (``Dot``, ``Softmax``, ``Elemwise``) or a scalar op
name (``exp``, ``Exp``, ``add``).  The answer lists where the op is defined,
its ``make_node``/``perform``/``infer_shape``/``L_op``/``grad``/``R_op``,
the kernels each backend registered for it in
``symnet.backend.registry.KERNELS``, and the test files mentioning it.

Examples
--------
>>> print(where('Dot').splitlines()[0])  # doctest: +ELLIPSIS
Dot: op class symnet.tensor.ops.blas.Dot
"""
import importlib
import inspect
import os
import pkgutil
import re
import sys
import warnings

__all__ = ["where", "find_op_classes", "main"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_METHODS = ("make_node", "perform", "infer_shape", "L_op", "grad", "R_op")
# optional pieces that may need hardware or heavy imports
_SKIP = ("symnet.backend.cuda", "symnet.__main__", "symnet.where")


def _rel(path):
    try:
        return os.path.relpath(path, _ROOT)
    except ValueError:
        return path


def _import_all():
    """Import every symnet module (so every Op class and kernel is registered)."""
    import symnet
    for info in pkgutil.walk_packages(symnet.__path__, "symnet."):
        if info.name.startswith(_SKIP):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # a half-written module must not hide the others
            warnings.warn(f"symnet.where: cannot import {info.name} "
                          f"({type(exc).__name__}: {exc}); its ops are not listed",
                          RuntimeWarning, stacklevel=2)


def find_op_classes(name):
    """Op subclasses in symnet whose class name equals ``name`` (any case)."""
    from .graph.op import Op
    _import_all()
    found, stack, seen = [], [Op], set()
    # explicit stack over the subclass tree
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if sub.__name__.lower() == name.lower() and sub.__module__.startswith("symnet"):
                found.append(sub)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def _loc(obj):
    try:
        path = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
        return f"{_rel(path)}:{line}"
    except (TypeError, OSError):
        return "?"


def _method_lines(cls):
    from .graph.op import Op
    lines = []
    for m in _METHODS:
        for klass in cls.__mro__:
            if klass is Op or klass is object:
                break
            if m in klass.__dict__:
                lines.append(f"  {m:12s} {_loc(klass.__dict__[m])}"
                             + (f"  (inherited from {klass.__name__})" if klass is not cls else ""))
                break
    return lines


def _kernel_lines(classes):
    from .backend import registry
    lines = []
    for backend in sorted(registry.KERNELS):
        for cls in classes:
            k = registry.kernel_for(backend, cls)
            if k is not None:
                lines.append(f"  {backend:8s} {getattr(k, '__name__', k)} at {_loc(k)}")
    return lines


def _emitter_lines(classes):
    """Who writes the numba backend's elementwise loops and sums (the emitter,
    ``backend/numba_cpu/llvm/``): said for Elemwise and Reduce."""
    from .tensor.ops.elemwise import Elemwise
    from .tensor.ops.reduction import Reduce
    if not any(issubclass(c, (Elemwise, Reduce)) for c in classes):
        return []
    from .backend.numba_cpu import llvm
    from .backend.numba_cpu.llvm.kernel import LoopKernel
    return [f"  {'llvm':8s} LoopKernel at {_loc(LoopKernel)}: the numba backend's "
            f"elementwise loops and full/column sums as LLVM IR (emitter here: "
            f"{llvm.chosen(None)}; default {llvm.DEFAULT}; SYMNET_NUMBA_EMITTER or "
            f"Mode(emitter=...) chooses; f.profile names each kernel's emitter)"]


def _scalar_lines(name):
    from .tensor.ops import elemwise
    ops = elemwise.SCALAR_OPS
    key = name if name in ops else name.lower()
    if key not in ops:
        key = key + "_" if key + "_" in ops else key
    if key not in ops:
        return key, []
    path = inspect.getsourcefile(elemwise)
    lines = []
    with open(path) as fh:
        for k, text in enumerate(fh, 1):
            if re.match(rf'\s*"{re.escape(key)}":', text):
                lines.append(f"  table entry  {_rel(path)}:{k}")
    op = ops[key]
    for what, fn in (("impl", op.impl), ("grad rule", op.grad_rule)):
        loc = _loc(fn) if inspect.isfunction(fn) else f"numpy.{getattr(fn, '__name__', fn)}"
        lines.append(f"  {what:12s} {loc}")
    return key, lines


def _test_files(words):
    tests = os.path.join(_ROOT, "tests")
    pats = [re.compile(rf"\b{re.escape(w)}\b") for w in words]
    hits = []
    for dirpath, _, files in os.walk(tests):
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(dirpath, f)
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            n = sum(len(p.findall(text)) for p in pats)
            if n:
                hits.append(f"  {_rel(path)} ({n} mention{'s' if n > 1 else ''})")
    return sorted(hits)


def where(name):
    """The report ``python -m symnet.where NAME`` prints, as a string.

    Raises
    ------
    LookupError
        ``name`` is neither an Op class nor a scalar op.
    """
    out = []
    classes = find_op_classes(name)
    for cls in classes:
        out.append(f"{cls.__name__}: op class {cls.__module__}.{cls.__qualname__}")
        out.append(f"  {'class':12s} {_loc(cls)}")
        out.extend(_method_lines(cls))
    key, scalar = _scalar_lines(name)
    words = [c.__name__ for c in classes] + [c.__name__.lower() for c in classes]
    if scalar:
        from .tensor.ops.elemwise import Elemwise
        out.append(f"{key}: scalar op in symnet.tensor.ops.elemwise.SCALAR_OPS "
                   f"(runs as Elemwise)")
        out.extend(scalar)
        out.extend(_method_lines(Elemwise))
        classes = classes + [Elemwise]
        words += [key, f"T.{key}"]
    if not out:
        raise LookupError(f"no op named {name!r}: give an Op class name (Dot, Elemwise) "
                          f"or a scalar op name (exp, add)")
    kernels = _kernel_lines(classes) + _emitter_lines(classes)
    out.append("kernels:")
    out.extend(kernels or ["  (none registered: every backend runs perform())"])
    tests = _test_files(sorted(set(words)))
    out.append("tests:")
    out.extend(tests or ["  (no test file mentions it)"])
    return "\n".join(out)


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m symnet.where NAME [NAME ...]\n"
              "  NAME: an Op class (Dot, Softmax) or a scalar op (exp, add)")
        return 0 if argv else 2
    status = 0
    for name in argv:
        try:
            print(where(name))
        except LookupError as exc:
            print(f"symnet.where: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
