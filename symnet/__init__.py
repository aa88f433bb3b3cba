"""symnet: a small symbolic expression compiler with reverse-mode autodiff,
Numba code generation, and a Lasagne-compatible network API on top.

>>> import symnet, symnet.tensor as T
>>> x = T.scalar('x')
>>> f = symnet.function([x], symnet.grad(x ** 2, x))
>>> float(f(3.0))
6.0
"""
from .configdefaults import config, change_flags  # noqa: F401
from .graph.basic import Variable, Constant, Apply  # noqa: F401
from .graph.op import Op  # noqa: F401
from .graph.type import Generic, generic  # noqa: F401  (theano.Generic)
from .graph.traversal import clone_replace  # noqa: F401
from .compile import (function, shared, In, Out, Param, Mode, SharedVariable,  # noqa: F401
                      Function)
from . import tensor  # noqa: F401
from .gradient import grad, Rop, Lop  # noqa: F401
from .gradient import subgraph_grad  # noqa: F401  (theano.subgraph_grad)
from . import gradient  # noqa: F401
from . import printing  # noqa: F401
from .export import export  # noqa: F401
from .misc.pkl_utils import function_dump  # noqa: F401,E402  (theano.function_dump)
# theano.compile.function_dump too; compile/ cannot import it (misc/ imports compile/)
from . import compile as _compile  # noqa: E402
_compile.function_dump = function_dump

from .tensor import dot  # noqa: F401,E402
from .printing import pp  # noqa: F401,E402
from .printing import pprint  # noqa: F401,E402  (theano.pprint, as Theano exports it)
from .compile.updates import OrderedUpdates  # noqa: F401,E402
from .compile.builders import OpFromGraph  # noqa: F401,E402  (theano.OpFromGraph)

clone = clone_replace


def _asarray(a, dtype, order=None):
    """``theano._asarray``: ``np.asarray(a, dtype)`` whose result has exactly
    the dtype asked for (Theano's test code builds its data with it)."""
    import numpy as np
    return np.asarray(a, dtype=np.dtype(dtype), order=order)


__version__ = "0.1.0"
from .scan import scan, map, reduce, foldl, foldr, scan_checkpoints  # noqa: F401,E402
from .graph.type import Type  # noqa: F401,E402
from .graph.fg import FunctionGraph  # noqa: F401,E402


# theano.tensor.grad & co: symnet.tensor re-exports gradient's names, but
# tensor/ is below gradient.py and must not import it; set them from here
for _name in gradient.TENSOR_NAMES:
    setattr(tensor, _name, getattr(gradient, _name))
del _name
