"""``theano.tensor.nnet.conv3d2d``: ``conv3d`` in Theano's other 3-d layout,
signals ``(batch, time, channels, rows, cols)`` and filters ``(out, time,
in, rows, cols)`` (see :func:`symnet.tensor.ops.conv3d.conv3d2d`)."""
from ..ops.conv3d import conv3d2d as conv3d  # noqa: F401

__all__ = ["conv3d"]
