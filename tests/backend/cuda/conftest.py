"""The CUDA backend's tests run on a GPU or under numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``, how CI runs them); they are skipped, saying
why, where numba-cuda is not installed or neither is available."""
import importlib.util
import os

import pytest


def _why_skip():
    if importlib.util.find_spec("numba_cuda") is None:
        return ("numba-cuda is not installed (pip install numba-cuda, then run with "
                "NUMBA_ENABLE_CUDASIM=1 where there is no GPU)")
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "") not in ("", "0"):
        return None
    from symnet.backend.cuda.runtime import CudaUnavailableError, cuda
    try:
        cuda()
    except CudaUnavailableError as exc:
        return f"no GPU here and NUMBA_ENABLE_CUDASIM is not set ({str(exc)[:120]})"
    return None


_SKIP = _why_skip()


def pytest_collection_modifyitems(config, items):
    if _SKIP is None:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    mark = pytest.mark.skip(reason=_SKIP)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(mark)
