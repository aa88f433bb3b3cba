"""The CUDA backend (``mode='cuda'``): numba-cuda kernels generated from the
backend-neutral plan (see ``linker.py`` for the whole picture)."""
