"""Compiling graphs into callables: function(), Mode, In/Out, shared."""
from .sharedvalue import SharedVariable, TensorSharedVariable, shared  # noqa: F401
from .sharedvalue import shared_constructor  # noqa: F401  (theano.compile.shared_constructor)
from .io import In, Out, Param  # noqa: F401
from .mode import Mode, get_mode, get_default_mode  # noqa: F401
from .function import function, Function, UnusedInputError, MissingInputError  # noqa: F401
from . import testvalue  # noqa: F401  (registers the test-value hook)
from .nanguardmode import NanGuardMode  # noqa: F401  (also registers the named modes)
from .debugmode import DebugMode  # noqa: F401
from .monitormode import MonitorMode  # noqa: F401
from . import monitormode  # noqa: F401  (theano.compile.monitormode.detect_nan)
from .ops import as_op, FromFunctionOp  # noqa: F401
# the function shadows its module's name, as in Theano (compat keeps
# `import theano.compile.pfunc` working: see compat.PRELOADED)
from .pfunc import pfunc, rebuild_collect_shared  # noqa: F401,E402
from ..configdefaults import config  # noqa: F401,E402  (theano.compile.config)
from .builders import OpFromGraph  # noqa: F401,E402  (registers its inlining rewrite)

from ..graph.compiler import register_compiler  # noqa: E402

register_compiler(function)  # Variable.eval, Scan and the jacobian op compile through it
