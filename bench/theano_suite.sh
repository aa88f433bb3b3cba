#!/usr/bin/env bash
# Run Theano's own unit tests on symnet-as-theano and print pass counts.
#
#   bench/theano_suite.sh THEANO_DIR [TEST_FILES...] [-- PYTEST_ARGS...]
#
# THEANO_DIR is a checkout of github.com/Theano/Theano (left untouched: the
# tests run from a throwaway copy; Theano's own library code is never
# imported). TEST_FILES are paths inside the checkout, e.g.
# theano/tests/test_gradient.py; without them, DEFAULT_FILES below (the files
# that test what user programs do: functions, gradients, scan, tensor ops,
# nnet, pooling, random streams).
#
# How: symnet.compat.install() answers `import theano...` with symnet; an
# import hook put in front of it answers every `theano.<...>.tests<...>`
# module (Theano's test helpers such as theano.tests.unittest_tools, and test
# modules that import each other) from the copy, so the tests run exactly as
# written against symnet's library.
#
# Environment:
#   PYTHON       interpreter with numpy, numba, pytest (python3)
#   PYTHONPATH   kept after the paths the script puts first: a folder holding
#                what Theano's tests import (pip install --target DIR six nose
#                scipy parameterized mock)
#   SYMNET_MODE  symnet backend for the tests (default py)
#   OUT          where the junit XML and failure lists go (a temp dir)
# Compat fixes for Theano's test code on today's stack (its library is not
# involved), always on, listed so that a count is read knowing them:
#   numpy.testing.dec (gone since numpy 1.25) is given a small stand-in with
#   skipif/knownfailureif/slow decorators; numpy.find_common_type (gone in
#   numpy 2) is numpy.result_type of its arguments, numpy.product is
#   numpy.prod, numpy.cast[dtype](x) is numpy.asarray(x, dtype);
#   numpy.vstack/hstack take a generator again (numpy 2 wants a sequence).
#   A name that a test file imports from a theano module symnet has but that
#   lacks the name (`from theano.tensor import Tri`, an op class symnet does
#   not have) is given, in that file only, a placeholder that raises
#   NotImplementedError naming it when called: the file collects and only the
#   tests that use the name fail (with that message), instead of the import
#   hiding every test of the file. Missing modules still fail collection.
#   Test files are imported under their own dotted names
#   (theano.tensor.tests.test_basic, not pytest's tests.test_basic): Theano's
#   op testers check their class names by eval()ing module.ClassName, and a
#   file that another imports is then loaded once.
#   An op tester that test_basic's makeTester builds for another test file
#   (SigmoidTester in test_sigm) takes that file as its __module__, so the
#   check of its name in its setUp (module.ClassName) finds it.
#   A plain (not unittest) test class's setUp/tearDown run around each test,
#   as nose ran them (pytest calls setup_method/teardown_method).
#   A generator test, of a module or of a class (nose's yield tests, which
#   pytest 9 refuses to collect, failing the whole file or class) runs as one
#   test calling each yielded (function, *args).
# Not part of CI: CI has no Theano checkout.
set -u
if [ $# -lt 1 ] || [ ! -d "$1/theano/tests" ]; then
    echo "usage: $0 THEANO_DIR [TEST_FILES...] [-- PYTEST_ARGS...]" >&2
    exit 2
fi
THEANO_DIR=$(cd "$1" && pwd); shift
SYMNET_ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
export SYMNET_MODE=${SYMNET_MODE:-py}
OUT=${OUT:-$(mktemp -d -t theano_suite.XXXXXX)}
mkdir -p "$OUT"
DEFAULT_FILES="theano/tests/test_gradient.py theano/tests/test_rop.py
theano/tests/test_2nd_order_grads.py theano/tests/test_ifelse.py
theano/tests/test_updates.py theano/tests/test_dictionary_output.py
theano/compile/tests/test_function.py theano/compile/tests/test_pfunc.py
theano/compile/tests/test_shared.py theano/compile/tests/test_function_module.py
theano/compile/tests/test_builders.py theano/scan_module/tests/test_scan.py
theano/tensor/tests/test_basic.py theano/tensor/tests/test_subtensor.py
theano/tensor/tests/test_inc_subtensor.py theano/tensor/tests/test_elemwise.py
theano/tensor/tests/test_extra_ops.py theano/tensor/tests/test_keepdims.py
theano/tensor/tests/test_var.py theano/tensor/tests/test_sharedvar.py
theano/tensor/tests/test_sort.py theano/tensor/tests/test_nlinalg.py
theano/tensor/tests/test_casting.py theano/tensor/tests/test_xlogx.py
theano/tensor/nnet/tests/test_nnet.py theano/tensor/nnet/tests/test_sigm.py
theano/tensor/nnet/tests/test_bn.py theano/tensor/nnet/tests/test_abstract_conv.py
theano/tensor/nnet/tests/test_conv.py theano/tensor/nnet/tests/test_neighbours.py
theano/tensor/signal/tests/test_pool.py theano/sandbox/tests/test_rng_mrg.py
theano/tensor/tests/test_shared_randomstreams.py theano/tensor/tests/test_raw_random.py"
FILES=()
PYTEST_ARGS=()
seen_dashes=0
for a in "$@"; do
    if [ "$a" = "--" ]; then seen_dashes=1
    elif [ $seen_dashes = 1 ]; then PYTEST_ARGS+=("$a")
    else FILES+=("$a"); fi
done
[ ${#FILES[@]} -gt 0 ] || FILES=($DEFAULT_FILES)

WORK=$(mktemp -d -t theano_src.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Only the test folders travel (so no Theano library module can be imported
# by accident); they keep their place in the tree, which the hook reads.
mkdir -p "$WORK/src"
(cd "$THEANO_DIR" && find theano -type d -name tests) | while read -r d; do
    mkdir -p "$WORK/src/$d"
    cp -r "$THEANO_DIR/$d/." "$WORK/src/$d/"
done
TESTS=()
for f in "${FILES[@]}"; do
    if [ -e "$WORK/src/${f%%::*}" ]; then TESTS+=("$WORK/src/$f")
    else echo "no such test file in $THEANO_DIR: $f" >&2; exit 2; fi
done
printf '[pytest]\naddopts =\npython_files = test*py\n' > "$WORK/pytest.ini"
cat > "$WORK/conftest.py" <<'EOF'
"""Loaded before any test module: symnet answers `import theano`, and this
hook answers Theano's test modules from the copy next to this file."""
import builtins
import importlib.abc
import inspect
import importlib.util
import os
import sys
import types
import unittest

import numpy.testing

import symnet.compat

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")


class TheanoTests(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if parts[0] != "theano" or "tests" not in parts:
            return None
        base = os.path.join(SRC, *parts)
        if os.path.isdir(base):
            return importlib.util.spec_from_file_location(
                fullname, os.path.join(base, "__init__.py"),
                submodule_search_locations=[base])
        if os.path.exists(base + ".py"):
            return importlib.util.spec_from_file_location(fullname, base + ".py")
        return None


symnet.compat.install()
sys.meta_path.insert(0, TheanoTests())


def _skipif(cond, msg=""):
    import pytest
    return pytest.mark.skipif(bool(cond() if callable(cond) else cond), reason=msg or "dec.skipif")


def _knownfailureif(cond, msg=""):
    import pytest
    return pytest.mark.xfail(bool(cond() if callable(cond) else cond), reason=msg or "knownfailure",
                             strict=False)


_real_import = builtins.__import__


def _placeholder(module, name):
    def new(cls, *args, **kwargs):
        raise NotImplementedError(f"symnet has no {module}.{name} (a placeholder given by "
                                  f"theano_suite.sh so that the rest of the file runs)")
    return type(name, (), {"__new__": new, "__module__": "theano_suite_placeholder"})


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    mod = _real_import(name, globals, locals, fromlist, level)
    if not fromlist or level or not name.startswith("theano") or \
            not str((globals or {}).get("__file__", "")).startswith(SRC):
        return mod
    missing = [n for n in fromlist if n != "*" and not hasattr(mod, n)]
    if not missing:
        return mod
    # a copy for this import statement only: symnet's modules are left as they are
    view = types.ModuleType(mod.__name__)
    view.__dict__.update(mod.__dict__)
    view.__dict__.update({n: _placeholder(name, n) for n in missing})
    return view


builtins.__import__ = _import


def pytest_pycollect_makemodule(module_path, parent):
    import pytest
    rel = os.path.relpath(str(module_path), SRC)
    if rel.startswith(".."):
        return None
    dotted = rel[:-len(".py")].replace(os.sep, ".")

    class TheanoTestModule(pytest.Module):
        def _getobj(self):
            return importlib.import_module(dotted)
    return TheanoTestModule.from_parent(parent, path=module_path)


def pytest_pycollect_makeitem(collector, name, obj):
    import inspect
    import pytest
    if inspect.isclass(obj) and isinstance(collector, pytest.Module) \
            and getattr(obj, "check_name", False) and obj.__name__ == name:
        # a tester that test_basic's makeTester built for another file: its
        # setUp looks itself up as module.ClassName, module being its own
        obj.__module__ = collector.obj.__name__
    if inspect.isclass(obj) and isinstance(collector, pytest.Module) \
            and not issubclass(obj, unittest.TestCase) and "setup_method" not in vars(obj) \
            and (hasattr(obj, "setUp") or hasattr(obj, "tearDown")):
        # nose ran setUp/tearDown of plain classes; pytest's names differ
        obj.setup_method = lambda self, method: getattr(self, "setUp", lambda: None)()
        obj.teardown_method = lambda self, method: getattr(self, "tearDown", lambda: None)()
    if not (isinstance(collector, (pytest.Module, pytest.Class))
            and collector.funcnamefilter(name) and inspect.isgeneratorfunction(obj)):
        return None

    def run_yielded():
        # a method's cases come from a fresh instance (setup_class has run)
        cases = obj(collector.obj()) if isinstance(collector, pytest.Class) else obj()
        for case in cases:
            case[0](*case[1:])
    return pytest.Function.from_parent(collector, name=name, callobj=run_yielded)


if not hasattr(numpy, "find_common_type"):
    numpy.find_common_type = lambda array_types, scalar_types: numpy.result_type(
        *array_types, *scalar_types)


if not hasattr(numpy, "product"):
    numpy.product = numpy.prod


def _takes_generators(stack):
    def wrapped(tup, *args, **kwargs):
        return stack(list(tup) if inspect.isgenerator(tup) else tup, *args, **kwargs)
    return wrapped


numpy.vstack = _takes_generators(numpy.vstack)
numpy.hstack = _takes_generators(numpy.hstack)
if "cast" not in numpy.__dict__:
    class _Cast:
        def __getitem__(self, dtype):
            return lambda x: numpy.asarray(x, dtype=dtype)
    numpy.cast = _Cast()


if not hasattr(numpy.testing, "dec"):
    dec = types.ModuleType("numpy.testing.dec")
    dec.skipif = _skipif
    dec.knownfailureif = _knownfailureif
    dec.slow = lambda f: f
    numpy.testing.dec = dec
    sys.modules["numpy.testing.dec"] = dec


class _Cast(dict):
    def __missing__(self, dtype):
        return lambda x: numpy.asarray(x, dtype=dtype)


if "cast" not in numpy.__dict__:
    numpy.cast = _Cast()
EOF

(cd "$WORK" && PYTHONPATH="$SYMNET_ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m pytest \
    -c "$WORK/pytest.ini" --rootdir "$WORK" -p no:cacheprovider -q \
    --import-mode=importlib --continue-on-collection-errors --junitxml="$OUT/suite.xml" \
    "${PYTEST_ARGS[@]}" "${TESTS[@]}" > "$OUT/suite.log" 2>&1)
if [ ! -s "$OUT/suite.xml" ]; then
    echo "pytest did not run the suite; the end of $OUT/suite.log:"
    tail -n 8 "$OUT/suite.log" | sed 's/^/  /'
    exit 1
fi
"$PYTHON" - "$OUT/suite.xml" "$OUT/failures" <<'EOF'
import collections
import sys
import xml.etree.ElementTree as ET
xml, failures = sys.argv[1:]
per_file = collections.defaultdict(lambda: dict(passed=0, failed=0, error=0, skipped=0))
lines, collect = [], []
for case in ET.parse(xml).iter("testcase"):
    cls = case.get("classname") or ""
    # the file: the dotted name up to its first test_* part
    dotted = (cls or case.get("name")).removeprefix("::").removeprefix("src.").split(".")
    first = next((i for i, p in enumerate(dotted) if p.startswith("test_")), len(dotted) - 1)
    key = ".".join(dotted[:first + 1])
    kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
    kind = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    per_file[key][kind] += 1
    if kind in ("failed", "error"):
        msg = (case.find(kinds[0]).get("message") or "").splitlines()
        lines.append(f"{kind} {cls}::{case.get('name')}: {msg[0][:200] if msg else ''}")
        if not cls:
            collect.append(case.get("name"))
tot = collections.Counter()
for key in sorted(per_file):
    c = per_file[key]
    tot.update(c)
    ran = c["passed"] + c["failed"] + c["error"]
    print(f"  {key}: {c['passed']}/{ran} passed, {c['skipped']} skipped")
ran = tot["passed"] + tot["failed"] + tot["error"]
pct = 100.0 * tot["passed"] / ran if ran else 0.0
print(f"Theano's tests on symnet: {tot['passed']}/{ran} passed ({pct:.1f}%), {tot['failed']} failed, "
      f"{tot['error']} errors, {tot['skipped']} skipped")
if collect:
    print(f"  {len(collect)} file(s) failed to collect: " + ", ".join(collect))
with open(failures, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"  failures: {failures}")
EOF
echo "logs and junit XML: $OUT"
