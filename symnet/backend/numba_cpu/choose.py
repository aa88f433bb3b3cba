"""``Choose`` and ``ChooseList`` in the numba backend's driver: one ``np.choose`` over the whole
arrays (numba has no ``np.choose``), through the op's ``compute`` so that
an index out of range raises the op's own message."""
from .dispatch import method_driver
from ...tensor.ops.choose import Choose, ChooseList

__all__ = []

method_driver(Choose, "compute")
method_driver(ChooseList, "compute")
