"""The backend-free graph core: variables, apply nodes, ops, traversal."""
from .basic import Apply, Constant, Variable, Node  # noqa: F401
from .op import Op  # noqa: F401
from .type import Type  # noqa: F401
from .traversal import (ancestors, graph_inputs, toposort, io_toposort,  # noqa: F401
                        clone_replace, clone, variables, applys_between)
from .fg import FunctionGraph  # noqa: F401
