"""Variables, constants and the Apply nodes that join them into a graph.

A graph is made of ``Variable`` objects; a variable computed by an op has an
``owner``: the ``Apply`` node recording the op and its inputs.  Variables are
hashed and compared by identity, so they can key dicts and sets cheaply.
"""
import collections
import sys

from .compiler import get_compiler

__all__ = ["Node", "Variable", "Constant", "Apply", "user_line", "short_str"]

_PKG_DIR = __file__.rsplit("/graph/", 1)[0]


def user_line():
    """(filename, lineno, funcname) of the first frame outside symnet.

    Walking frames by hand is much cheaper than ``traceback.extract_stack``,
    which matters since every node records where the user built it.
    """
    frame = sys._getframe(1)
    while frame is not None:
        fname = frame.f_code.co_filename
        if not fname.startswith(_PKG_DIR) or "/tests/" in fname:
            return (fname, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


class Tag(dict):
    """A dict whose keys also read as attributes (``var.tag.trace``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


class Node:
    """Common base of Variable and Apply (for isinstance checks)."""
    __slots__ = ()


class Variable(Node):
    """A typed value in the graph: an input, a constant or an op's output.

    Parameters
    ----------
    type : Type
        What values this variable can hold.
    owner : Apply or None
        The node computing it; None for graph inputs.
    index : int or None
        Position among ``owner.outputs``.
    name : str or None
    """

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Tag()
        self.auto_name = f"var{next(_counter)}"

    def clone(self):
        """A new owner-less variable of the same type and name."""
        cp = type(self)(self.type, None, None, self.name)
        cp.tag = Tag(self.tag)
        return cp

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return f"{op}.0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self):
        return REPR[0](self)

    @property
    def clients(self):
        """Theano's ``var.clients``: the ``(node, input index)`` and
        ``('output', i)`` pairs using this variable in the latest
        FunctionGraph holding it (a compiled function's ``f.maker.fgraph``)."""
        for ref in reversed(RECENT_FGRAPHS):
            fg = ref()
            if fg is not None and self in fg.clients:
                return fg.clients[self]
        raise AttributeError(f"{self} is in no FunctionGraph, so it has no clients "
                             f"(compile a function of it, or build a FunctionGraph)")

    #: True for variables that own a value between calls (shared variables):
    #: graph code keeps them as the same inputs when it clones a graph
    owns_value = False

    def eval(self, inputs_to_values=None, mode=None):
        """Compile and run this variable (cached per set of inputs)."""
        function = get_compiler(f"{self}.eval()")
        inputs_to_values = inputs_to_values or {}
        keys = list(inputs_to_values)
        cache = self.__dict__.setdefault("_eval_cache", {})
        key = (tuple(id(k) for k in keys), mode)
        if key not in cache:
            cache[key] = function(keys, self, mode=mode, on_unused_input="ignore")
        return cache[key](*[inputs_to_values[k] for k in keys])


class Constant(Variable):
    """A variable whose value is fixed when the graph is built."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def clone(self):
        cp = type(self)(self.type, self.data, self.name)
        cp.tag = Tag(self.tag)
        return cp

    def signature(self):
        return (self.type, _data_key(self.data))

    def __str__(self):
        if self.name is not None:
            return self.name
        text = str(self.data)
        return text if len(text) < 20 else text[:17] + "..."


def short_str(v):
    """A variable in symnet's short form (``add.0``), for its error messages;
    str(v) shows Theano's (``Elemwise{add,no_inplace}.0``)."""
    if v.name is None and v.owner is not None:
        return f"{v.owner.op.short_name()}.{v.index}"
    return str(v)


def _data_key(data):
    try:
        import numpy as np
        arr = np.asarray(data)
        return (arr.dtype.str, arr.shape, arr.tobytes())
    except Exception:  # pragma: no cover - exotic constants
        return id(data)


class Apply(Node):
    """One application of an op to input variables, producing outputs."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        for i, inp in enumerate(self.inputs):
            if not isinstance(inp, Variable):
                raise TypeError(
                    f"{op}: input {i} must be a Variable, got {type(inp).__name__}")
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is not None and out.owner is not self:
                raise ValueError(f"{op}: output {i} already has an owner")
            out.owner = self
            out.index = i
        self.tag = Tag(trace=user_line())

    def default_output(self):
        """The output that stands for this node (Theano's): the op's
        ``default_output`` index, or the only output; AttributeError when
        neither gives one."""
        do = getattr(self.op, "default_output", None)
        if do is None:
            if len(self.outputs) == 1:
                return self.outputs[0]
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs and no "
                                 f"default_output index")
        if not isinstance(do, int) or isinstance(do, bool):
            raise AttributeError(f"{self.op}.default_output should be an int, got {do!r}")
        if not 0 <= do < len(self.outputs):
            raise AttributeError(f"{self.op}.default_output {do} is out of range for "
                                 f"{len(self.outputs)} outputs")
        return self.outputs[do]

    @property
    def out(self):
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    def clone_with_new_inputs(self, inputs, strict=True):
        """A copy of this node applied to ``inputs`` (types re-checked)."""
        node = self.op.make_node(*inputs)
        node.tag = Tag(self.tag)
        return node

    def clone(self):
        return self.copy_onto(list(self.inputs), [o.clone() for o in self.outputs])

    def copy_onto(self, inputs, outputs):
        """This node's op on the list ``inputs``, owning the fresh owner-less
        ``outputs``, with a copy of this node's tag: a structural copy
        (``clone``, a whole graph's in ``traversal._full_clone``).  Nothing
        is checked again (this node was) and no stack is walked for a trace
        (the tag keeps this node's): a third of cloning a graph."""
        node = Apply.__new__(type(self))
        node.op = self.op
        node.inputs = inputs
        node.outputs = outputs
        for i, out in enumerate(outputs):
            out.owner = node
            out.index = i
        node.tag = type(self.tag)(self.tag)
        return node

    def __str__(self):
        # Theano's form, both ways: users print nodes (a MonitorMode hook's
        # print(i, node), a toposort() list); error messages use short().
        if REPR[0] is not str:
            return REPR[0](self)
        return self.short()

    def short(self):
        """symnet's short form (``add(x, y)``), which its error messages use."""
        return f"{self.op.short_name()}({', '.join(short_str(i) for i in self.inputs)})"

    __repr__ = __str__

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)


#: ``REPR[0](obj)``: how repr() shows a variable, and str() and repr() a
#: node.  symnet.printnames (above graph/) sets Theano's form
#: (``Elemwise{add,no_inplace}.0``), which a prompt and ``str(a_list)``
#: show, as users saw them in Theano; a variable's str() keeps symnet's
#: short names, which its error messages use.
REPR = [str]

#: weak references to the latest FunctionGraphs (graph.fg appends each new
#: one), for ``Variable.clients``: searched only when a user asks, so
#: building a graph pays one append
RECENT_FGRAPHS = collections.deque(maxlen=64)


def _count():
    n = 0
    while True:
        yield n
        n += 1


_counter = _count()
