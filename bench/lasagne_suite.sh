#!/usr/bin/env bash
# Run Lasagne's own test suite on symnet, in two modes, and print pass counts.
#
#   bench/lasagne_suite.sh LASAGNE_DIR [PYTEST_ARGS...]
#
# LASAGNE_DIR is a checkout of github.com/Lasagne/Lasagne (left untouched: the
# suite runs from a throwaway copy). The modes:
#   A  symnet as lasagne:  symnet.compat.install(); `import theano` and
#      `import lasagne` both give symnet.
#   B  real Lasagne on symnet-as-theano: symnet.compat.install(lasagne=False),
#      with LASAGNE_DIR's `lasagne` package on the path.
# Environment:
#   PYTHON       interpreter with numpy, numba, pytest, mock, scipy (python3)
#   PYTHONPATH   kept after the paths the script puts first (e.g. a folder
#                holding mock and scipy installed with pip --target)
#   MODES        which modes to run, e.g. "B" (default "A B")
#   SYMNET_MODE  symnet backend for the tests (default py: numba compiles
#                make the whole suite take much longer)
#   OUT          where the junit XML and failure lists go (a temp dir)
#   NUMPY2_TEST_FIXES=1  patch the copy's test_conv.py reference helper, which
#                indexes with a list of slices (an error since numpy 1.23), so
#                that file can be collected; off by default (Lasagne's own
#                code is never patched)
# PYTEST_ARGS are passed on, e.g. `-k recurrent` or `-x`; test paths are
# relative to Lasagne's tests folder (e.g. layers/test_dense.py).
# Not part of CI: CI has no Lasagne checkout.
set -u
if [ $# -lt 1 ] || [ ! -d "$1/lasagne/tests" ]; then
    echo "usage: $0 LASAGNE_DIR [PYTEST_ARGS...]  (LASAGNE_DIR/lasagne/tests must exist)" >&2
    exit 2
fi
LASAGNE_DIR=$(cd "$1" && pwd); shift
SYMNET_ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
MODES=${MODES:-A B}
export SYMNET_MODE=${SYMNET_MODE:-py}
OUT=${OUT:-$(mktemp -d -t lasagne_suite.XXXXXX)}
mkdir -p "$OUT"
WORK=$(mktemp -d -t lasagne_src.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp -r "$LASAGNE_DIR/." "$WORK/"
# lasagne/conftest.py only keeps the doctest collector off the GPU modules
# (we collect no doctests) and uses a hook signature pytest 9 rejects.
rm -f "$WORK/lasagne/conftest.py"
if [ "${NUMPY2_TEST_FIXES:-0}" = 1 ]; then
    sed -i -e 's/output = output\[slices\]/output = output[tuple(slices)]/' \
        -e 's/output\[\[slice(None, None, factor) for factor in factors\]\]/output[tuple(slice(None, None, factor) for factor in factors)]/' \
        "$WORK/lasagne/tests/layers/test_conv.py"
    echo "NUMPY2_TEST_FIXES: test_conv.py's numpy references index with tuples of slices"
fi
# Lasagne's setup.cfg asks for coverage and pep8 plugins; our own ini wins.
printf '[pytest]\naddopts =\npython_files = test*py\n' > "$WORK/pytest.ini"
# Loaded before any test module, so the import hook is in place before
# Lasagne (or its tests) import theano.
cat > "$WORK/conftest.py" <<'EOF'
import os
import symnet.compat
symnet.compat.install(lasagne=os.environ["LASAGNE_SUITE_MODE"] == "A")
EOF

# Mode A runs a copy of the tests outside the lasagne package (whose name
# the import hook gives to symnet), at the same depth: test_examples.py
# finds Lasagne's examples three folders up.
mkdir -p "$WORK/mode_a"
cp -r "$WORK/lasagne/tests" "$WORK/mode_a/tests"

for mode in $MODES; do
    case "$mode" in
        A) path="$SYMNET_ROOT"; what="symnet as lasagne"; tests_dir="$WORK/mode_a/tests" ;;
        B) path="$WORK:$SYMNET_ROOT"; what="real Lasagne on symnet-as-theano"
           tests_dir="$WORK/lasagne/tests" ;;
        *) echo "unknown mode $mode (A or B)" >&2; exit 2 ;;
    esac
    TESTS=()
    has_path=0
    for a in "$@"; do
        case "$a" in
            -*) TESTS+=("$a") ;;
            *) if [ -e "$tests_dir/${a%%::*}" ]; then TESTS+=("$tests_dir/$a"); has_path=1
               else TESTS+=("$a"); fi ;;
        esac
    done
    [ $has_path = 1 ] || TESTS+=("$tests_dir")
    (cd "$WORK" && LASAGNE_SUITE_MODE=$mode PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m pytest \
        -c "$WORK/pytest.ini" --rootdir "$WORK" -p no:cacheprovider -q \
        --import-mode=importlib --continue-on-collection-errors --junitxml="$OUT/mode_$mode.xml" "${TESTS[@]}" \
        > "$OUT/mode_$mode.log" 2>&1)
    if [ ! -s "$OUT/mode_$mode.xml" ]; then
        echo "mode $mode ($what): pytest did not run the suite; the end of $OUT/mode_$mode.log:"
        tail -n 8 "$OUT/mode_$mode.log" | sed 's/^/  /'
        continue
    fi
    "$PYTHON" - "$OUT/mode_$mode.xml" "$mode" "$what" "$OUT/mode_$mode.failures" <<'EOF'
import sys
import xml.etree.ElementTree as ET
xml, mode, what, failures = sys.argv[1:]
counts = dict(passed=0, failed=0, error=0, skipped=0)
collect = []
lines = []
for case in ET.parse(xml).iter("testcase"):
    kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
    name = f"{case.get('classname')}::{case.get('name')}"
    if not kinds:
        counts["passed"] += 1
        continue
    kind = {"failure": "failed"}.get(kinds[0], kinds[0])
    counts[kind] += 1
    if kind != "skipped":
        msg = (case.find(kinds[0]).get("message") or "").splitlines()
        lines.append(f"{kind} {name}: {msg[0][:200] if msg else ''}")
        if not case.get("classname"):  # a file that failed to collect
            collect.append(case.get("name"))
ran = counts["passed"] + counts["failed"] + counts["error"]
pct = 100.0 * counts["passed"] / ran if ran else 0.0
print(f"mode {mode} ({what}): {counts['passed']}/{ran} passed ({pct:.1f}%), "
      f"{counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped")
if collect:
    print(f"  {len(collect)} file(s) failed to collect; their tests are not counted: "
          + ", ".join(collect))
with open(failures, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"  failures: {failures}")
EOF
done
echo "logs and junit XML: $OUT"
