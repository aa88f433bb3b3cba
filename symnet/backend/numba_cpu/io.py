"""``T.load`` (``symnet/tensor/ops/io.py``) in the numba backend's driver:
reading a file is Python's work, so the driver calls the op's own ``read``."""
from ...tensor.ops.io import LoadFromDisk
from .dispatch import driver_op

__all__ = ["load_driver"]


@driver_op(LoadFromDisk, objects=True)
def load_driver(node, ins, outs, writer):
    op = writer.object_const(node.op)
    return [f"{outs[0]} = {op}.read({ins[0]})"], False


load_driver.takes_writer = True
