"""The graph compiler, as seen from the layers below symnet.compile.

graph/ must not import symnet.compile, which is built on it, and ops (Scan,
the jacobian op) should not import it either.  Code there that needs a graph
compiled -- ``Variable.eval``, an op that runs an inner graph of its own in
``perform`` -- calls ``get_compiler()``; symnet.compile registers its
``function`` when it is imported (always, through ``import symnet``).

Examples
--------
>>> import symnet, symnet.tensor as T
>>> get_compiler() is symnet.function
True
"""

__all__ = ["register_compiler", "get_compiler"]

_COMPILER = {}


def register_compiler(function):
    """Make ``function(inputs, outputs, mode=, on_unused_input=, name=)``
    the compiler ``get_compiler`` returns (symnet.compile registers its own)."""
    _COMPILER["function"] = function


def get_compiler(who="this"):
    """The registered compiler; RuntimeError naming ``who`` if there is none."""
    try:
        return _COMPILER["function"]
    except KeyError:
        raise RuntimeError(f"{who} needs a function compiler, and none is registered: "
                           f"import symnet (symnet.compile registers it)") from None
