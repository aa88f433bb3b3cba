"""``Unique`` in the numba backend's driver: ``np.unique`` sorts once over
the whole array (numba's own ``np.unique`` has no ``axis`` nor the extra
outputs), so the driver line calls the op's ``compute``, its perform."""
from .dispatch import method_driver
from ...tensor.ops.unique import Unique

__all__ = []

method_driver(Unique, "compute", contiguous=True)
