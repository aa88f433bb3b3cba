#!/usr/bin/env bash
# Run Lasagne's documentation examples and its examples/ scripts on symnet,
# in the two modes of bench/lasagne_suite.sh, and print pass counts.
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
#               the two runs compared (and those of modes A and B, when both
#               run)
#   recurrent   examples/recurrent.py's main (a bidirectional RNN on the
#               data it generates), EPOCHS epochs of 100 steps, numba and
#               py as for mnist
# Environment:
#   PYTHON   interpreter with numpy and numba (python3); PYTHONPATH is kept
#            after the paths the script puts first
#   MODES    which modes to run (default "A B")
#   PARTS    which parts (default "docstrings rst mnist recurrent")
#   MODELS   mnist models (default "mlp custom_mlp:2,800,0.2,0.5 cnn")
#   EPOCHS   epochs of mnist and recurrent (default 2)
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
PARTS=${PARTS:-docstrings rst mnist recurrent}
MODELS=${MODELS:-mlp custom_mlp:2,800,0.2,0.5 cnn}
EPOCHS=${EPOCHS:-2}
OUT=${OUT:-$(mktemp -d -t lasagne_docs.XXXXXX)}
mkdir -p "$OUT"
DOCS="$SYMNET_ROOT/bench/lasagne_docs.py"
status=0

run() {  # run MODE LOG BACKEND ARGS...: one part in a fresh process; its exit status
    local mode=$1 log=$2 backend=$3; shift 3
    local path="$SYMNET_ROOT"
    # mode B imports Lasagne's own package; in mode A the import hook gives
    # symnet for `lasagne`, and LASAGNE_DIR stays off the path
    [ "$mode" = B ] && path="$LASAGNE_DIR:$SYMNET_ROOT"
    local rc=0
    PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}" SYMNET_MODE=$backend SYMNET_TIERED=0 \
        SYMNET_STRICT=1 "$PYTHON" -W ignore "$DOCS" "$@" > "$log" 2>&1 || rc=1
    grep -E '^(RESULT|  FAILED)' "$log" ||
        { echo "no RESULT line; the end of $log:"; tail -n 8 "$log"; }
    return $rc
}

both() {  # both MODE TAG ARGS...: an example on numba, again on py, compared
    local mode=$1 tag=$2; shift 2
    run "$mode" "$OUT/$tag.numba.log" numba "$@" || status=1
    # the py run's lines are shown only when it fails: a pass shows as the
    # comparison's line
    run "$mode" "$OUT/$tag.py.log" py "$@" > "$OUT/$tag.py.lines" ||
        { status=1; echo "on the py backend:"; cat "$OUT/$tag.py.lines"; }
    "$PYTHON" "$DOCS" compare "$OUT/$tag.numba.log" "$OUT/$tag.py.log" || status=1
}

for mode in $MODES; do
    case "$mode" in A|B) ;; *) echo "unknown mode $mode (A or B)" >&2; exit 2 ;; esac
    for part in $PARTS; do
        case "$part" in
            docstrings|rst)
                run "$mode" "$OUT/${part}_$mode.log" py "$part" "$mode" "$LASAGNE_DIR" ||
                    status=1 ;;
            mnist)
                for model in $MODELS; do
                    both "$mode" "mnist_${model%%:*}_$mode" \
                        mnist "$mode" "$LASAGNE_DIR" "$model" "$EPOCHS"
                done ;;
            recurrent) both "$mode" "recurrent_$mode" recurrent "$mode" "$LASAGNE_DIR" "$EPOCHS" ;;
            *) echo "unknown part $part (docstrings, rst, mnist, recurrent)" >&2; exit 2 ;;
        esac
    done
done
# symnet as lasagne and real Lasagne on symnet draw the same weights, data
# orders and dropout masks from the same seed: their runs agree too
if [[ " $MODES " == *" A "* && " $MODES " == *" B "* ]]; then
    for log in "$OUT"/*_A.numba.log; do
        [ -e "$log" ] || continue
        "$PYTHON" "$DOCS" compare "$log" "${log%_A.numba.log}_B.numba.log" || status=1
    done
fi
echo "logs: $OUT"
exit $status
