"""Reading arrays from disk inside a graph: ``T.load`` (Theano's
``theano.tensor.io.load``), whose input is a file name given when the
function is called (a ``Generic`` variable) or fixed in the graph (a str)."""
import numpy as np

from ...graph.basic import Apply, Constant, Variable
from ...graph.op import Op
from ...graph.type import Generic, generic
from ..type import TensorType

__all__ = ["LoadFromDisk", "load"]

# 'r', 'r+' and 'w+' would let an in-place op of the graph write into the
# file; 'c' (copy-on-write) keeps the file as it was.
_MMAP_MODES = (None, "c")


class LoadFromDisk(Op):
    """``numpy.load(path, mmap_mode)``, checked against ``dtype`` and the
    number of axes of ``broadcastable``."""

    __props__ = ("dtype", "broadcastable", "mmap_mode")

    def __init__(self, dtype, broadcastable, mmap_mode=None):
        if mmap_mode not in _MMAP_MODES:
            raise ValueError(f"load: the only supported values for mmap_mode are None and "
                             f"'c', got {mmap_mode!r}")
        self.dtype = np.dtype(dtype).name
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.mmap_mode = mmap_mode

    def make_node(self, path):
        if isinstance(path, str):
            path = Constant(generic, path)
        if not isinstance(path, Variable) or not isinstance(path.type, Generic):
            raise TypeError(f"load: the path must be a str or a Variable of type Generic "
                            f"(theano.Variable(theano.Generic())), got {path!r}")
        return Apply(self, [path], [TensorType(self.dtype, self.broadcastable)()])

    def read(self, path):
        """The array in ``path``, checked (every backend calls this)."""
        out = np.load(path, mmap_mode=self.mmap_mode)
        if out.dtype != np.dtype(self.dtype) or out.ndim != len(self.broadcastable):
            raise TypeError(f"load: {path!r} holds a {out.dtype} array of {out.ndim} "
                            f"dimensions; the graph expects {self.dtype} with "
                            f"{len(self.broadcastable)}")
        return out

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.read(inputs[0])

    def infer_shape(self, node, input_shapes):
        # the sizes are in the file, read when the function runs: the shape
        # is the loaded array's own (static sizes where its type has them)
        from .shape import Shape_i
        out = node.outputs[0]
        return [tuple(s if s is not None else Shape_i(j)(out)
                      for j, s in enumerate(out.type.shape))]

    def do_constant_folding(self, node):
        return False   # the file is read when the function runs, not when it compiles

    def __str__(self):
        return f"Load{{dtype: {self.dtype}, broadcastable: {self.broadcastable}, " \
               f"mmep: {self.mmap_mode}}}"


def load(path, dtype, broadcastable, mmap_mode=None):
    """A tensor read from the ``.npy`` file ``path`` each time the function runs.

    Parameters
    ----------
    path : str or Variable of type Generic
        A Generic variable is given the file name as a function input.
    dtype : str
        The array's dtype (checked when it is read).
    broadcastable : tuple of bool
        The output's broadcastable pattern (one entry per axis).
    mmap_mode : None or 'c'
        ``'c'`` maps the file copy-on-write instead of reading it.

    Raises
    ------
    ValueError
        ``mmap_mode`` is not None or 'c'.

    Examples
    --------
    >>> import os, tempfile, numpy as np, symnet
    >>> from symnet.graph.type import Generic
    >>> fname = os.path.join(tempfile.mkdtemp(), 'a.npy')
    >>> np.save(fname, np.arange(3, dtype='int32'))
    >>> path = symnet.Variable(Generic())
    >>> f = symnet.function([path], load(path, 'int32', (False,)) * 2, mode='py')
    >>> f(fname)
    array([0, 2, 4], dtype=int32)
    """
    return LoadFromDisk(dtype, broadcastable, mmap_mode)(path)
