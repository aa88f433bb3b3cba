"""Network layers with Lasagne 0.2's names and behaviour.

A network is a graph of :class:`Layer` objects; :func:`get_output` turns it
into a symbolic expression that :func:`symnet.function` compiles.

Examples
--------
>>> import symnet, numpy as np
>>> from symnet.layers import InputLayer, DenseLayer, get_output
>>> l_in = InputLayer((None, 3))
>>> l_out = DenseLayer(l_in, num_units=2)
>>> f = symnet.function([l_in.input_var], get_output(l_out), mode='py')
>>> f(np.ones((4, 3), 'float32')).shape
(4, 2)
"""
import importlib as _importlib
import importlib.util as _importlib_util

from .base import *  # noqa: F401,F403
from .helper import *  # noqa: F401,F403
from .input import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .noise import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403


def _export_optional_families():
    """Export the public names of the families written separately
    (convolution, pooling, recurrence) when their module is present. A
    module that exists but fails to import raises, as any import would."""
    for family in ("conv", "local", "pool", "recurrent"):
        if _importlib_util.find_spec(f"{__name__}.{family}") is not None:
            mod = _importlib.import_module(f"{__name__}.{family}")
            globals().update({n: getattr(mod, n) for n in getattr(mod, "__all__", ())})


_export_optional_families()
