"""Helper modules that generated numba kernels import (real modules, compiled
once and cached by numba; ``f.source`` inlines their text)."""
