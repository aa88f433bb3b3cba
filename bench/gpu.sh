#!/usr/bin/env bash
# One go on a machine with an NVIDIA GPU (GPU time is scarce; prepared and
# checked on the simulator): install symnet[cuda,test], run the CUDA tests
# on the real device (no simulator), train with --mode cuda, then the GPU
# benchmark rows beside PyTorch CUDA / JAX GPU where installed.
#   bash bench/gpu.sh            # PEERS=1 also pip-installs torch and jax[cuda12]
# Paste the printed table, card and versions into bench/RESULTS.md.
set -uo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .gpu-venv
. .gpu-venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[cuda,test]' || exit 1
if [ "${PEERS:-0}" = 1 ]; then
    python -m pip install -q torch 'jax[cuda12]' || echo "peers: install failed, rows stay empty"
fi
unset NUMBA_ENABLE_CUDASIM
export SYMNET_CACHE_DIR="${SYMNET_CACHE_DIR:-$PWD/.gpu-cache/symnet}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.gpu-cache/numba}"
nvidia-smi || exit 1
python -c "from numba import cuda; cuda.detect()"
status=0
echo "== CUDA tests on the device =="
python -m pytest -q -p no:cacheprovider tests/backend/cuda || status=1
echo "== symnet train --mode cuda =="
symnet train --mode cuda --epochs 5 --out .gpu-out || status=1
echo "== GPU bench (W1 b=512/4096, W2 n=1e7, W4) =="
python bench/gpu.py --json .gpu-out/gpu-bench.json || status=1
exit $status
