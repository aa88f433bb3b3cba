"""Compiling graphs into callables: function(), Mode, In/Out, shared."""
from .sharedvalue import SharedVariable, TensorSharedVariable, shared  # noqa: F401
from .io import In, Out  # noqa: F401
from .mode import Mode, get_mode  # noqa: F401
from .function import function, Function, UnusedInputError, MissingInputError  # noqa: F401

from ..graph.basic import register_eval_compiler  # noqa: E402

register_eval_compiler(function)  # Variable.eval compiles through us
