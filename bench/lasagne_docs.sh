#!/usr/bin/env bash
# Run Lasagne's documentation examples and examples/mnist.py on symnet, in
# the two modes of bench/lasagne_suite.sh, and print pass counts.
#
#   bench/lasagne_docs.sh LASAGNE_DIR
#
# LASAGNE_DIR is a checkout of github.com/Lasagne/Lasagne, left untouched
# (nothing is copied or patched). Per mode (A: symnet as lasagne; B: real
# Lasagne on symnet-as-theano), bench/lasagne_docs.py runs:
#   docstrings  every `>>>` example in Lasagne's module docstrings (py backend)
#   rst         the code of docs/user/{tutorial,layers,custom_layers}.rst,
#               page by page (py backend)
#   mnist       examples/mnist.py's main for mlp, custom_mlp:2,800,0.2,0.5
#               and cnn, 2 epochs on symnet's bundled digits in MNIST's
#               shapes (797/500/500 images, no download), numba backend with
#               every function compiled before its first call
#               (SYMNET_TIERED=0, SYMNET_STRICT=1: no kernel may fall back);
#               each run again on the py backend, and the numbers printed by
#               the two runs compared
# Environment:
#   PYTHON   interpreter with numpy, numba (python3)
#   MODES    which modes to run (default "A B")
#   PARTS    which parts (default "docstrings rst mnist")
#   MODELS   mnist models (default "mlp custom_mlp:2,800,0.2,0.5 cnn")
#   EPOCHS   mnist epochs (default 2)
#   OUT      where the logs go (a temp dir)
#   LASAGNE_DOCS_NUMPY2_REPR=1  print numpy scalars as numpy 2 does
#            (np.True_, np.int64(4)); by default numpy 1's reprs, which the
#            docstrings were written against
# Not part of CI: CI has no Lasagne checkout.
set -u
if [ $# -lt 1 ] || [ ! -f "$1/examples/mnist.py" ] || [ ! -d "$1/docs/user" ]; then
    echo "usage: $0 LASAGNE_DIR  (LASAGNE_DIR/examples/mnist.py and docs/user must exist)" >&2
    exit 2
fi
LASAGNE_DIR=$(cd "$1" && pwd)
SYMNET_ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
MODES=${MODES:-A B}
PARTS=${PARTS:-docstrings rst mnist}
MODELS=${MODELS:-mlp custom_mlp:2,800,0.2,0.5 cnn}
EPOCHS=${EPOCHS:-2}
OUT=${OUT:-$(mktemp -d -t lasagne_docs.XXXXXX)}
mkdir -p "$OUT"
DOCS="$SYMNET_ROOT/bench/lasagne_docs.py"
status=0

run() {  # run MODE LOG BACKEND ARGS...: one part in a fresh process
    local mode=$1 log=$2 backend=$3; shift 3
    local path="$SYMNET_ROOT"
    # mode B imports Lasagne's own package; in mode A the import hook gives
    # symnet for `lasagne`, and LASAGNE_DIR stays off the path
    [ "$mode" = B ] && path="$LASAGNE_DIR:$SYMNET_ROOT"
    PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}" SYMNET_MODE=$backend SYMNET_TIERED=0 \
        SYMNET_STRICT=1 "$PYTHON" -W ignore "$DOCS" "$@" > "$log" 2>&1 || status=1
    grep -E '^(RESULT|  FAILED)' "$log" || { echo "no RESULT line; the end of $log:"; tail -n 8 "$log"; }
}

for mode in $MODES; do
    case "$mode" in A|B) ;; *) echo "unknown mode $mode (A or B)" >&2; exit 2 ;; esac
    for part in $PARTS; do
        case "$part" in
            docstrings|rst) run "$mode" "$OUT/${part}_$mode.log" py "$part" "$mode" "$LASAGNE_DIR" ;;
            mnist)
                for model in $MODELS; do
                    tag="mnist_${model%%:*}_$mode"
                    run "$mode" "$OUT/$tag.numba.log" numba mnist "$mode" "$LASAGNE_DIR" "$model" "$EPOCHS"
                    run "$mode" "$OUT/$tag.py.log" py mnist "$mode" "$LASAGNE_DIR" "$model" "$EPOCHS" > /dev/null
                    "$PYTHON" "$DOCS" compare "$OUT/$tag.numba.log" "$OUT/$tag.py.log" || status=1
                done ;;
            *) echo "unknown part $part (docstrings, rst, mnist)" >&2; exit 2 ;;
        esac
    done
done
echo "logs: $OUT"
exit $status
