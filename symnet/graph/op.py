"""The Op contract.

An Op is a small class holding everything about one operation that does not
depend on a backend:

- ``make_node(*inputs)``: check input types, compute output types (dtype and
  static shape) and return an ``Apply``; bad input raises here, at build time.
- ``perform(node, inputs, output_storage)``: the numpy reference; every
  backend is tested against it.  ``output_storage[i][0]`` receives output i.
- ``infer_shape(node, input_shapes)``: output shapes from input shapes,
  as symbolic scalars or ints, without computing the outputs.
- ``L_op(inputs, outputs, output_grads)`` (or ``grad(inputs, output_grads)``):
  the vector-Jacobian product, as symbolic graph.
- ``__props__``: the attribute names that make two instances the same op;
  equality and hashing use them, so merging recognises equal nodes.
"""
from .basic import Apply, Variable

__all__ = ["Op", "NullTypeGradError", "BUILD_HOOKS", "OP_STR", "grad_undefined"]

#: ``OP_STR[0](op)``: what str(op) shows.  symnet.printnames (above graph/)
#: sets Theano's form (``Elemwise{add,no_inplace}``), which users print and
#: compare with Theano's docs; ``op.short_name()`` stays symnet's (``add``)
#: for its error messages and generated code.
OP_STR = [None]

#: callables ``hook(node)`` run on every node ``Op.__call__`` builds; the
#: layers above register theirs here (graph/ imports nothing above it)
BUILD_HOOKS = []


class NullTypeGradError(TypeError):
    """Raised when a gradient is needed through an op that has none."""


class _Undefined:
    """Marks an input gradient an op cannot provide (raises only if needed)."""

    def __init__(self, op, index, reason):
        self.op, self.index, self.reason = op, index, reason


def grad_undefined(op, index, x, comment=""):
    """What an ``L_op`` returns for an input whose gradient it cannot give;
    ``grad`` raises ``NullTypeGradError`` naming ``op`` only if it is needed.

    Here, beside the Op contract, so that ops need not import symnet.gradient
    (which is built on top of them); ``symnet.gradient`` re-exports it."""
    return _Undefined(op, index, comment or "undefined gradient")


class Op:
    """Base class of all operations (see the module docstring)."""

    __props__ = ()
    #: output indices that may overwrite an input: {out_index: [in_index]}
    destroy_map = {}
    view_map = {}
    #: ops that are not differentiable set this to a reason string
    default_output = None

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # an op class that writes its own __str__ names itself that way in
        # symnet's messages too
        own = cls.__dict__.get("__str__")
        if own is not None and "short_name" not in cls.__dict__:
            cls.short_name = own
        perform = cls.__dict__.get("perform")
        if perform is not None and getattr(cls, "get_params", None) is not None \
                and perform.__code__.co_argcount >= 5:
            cls.perform = _with_params(perform)

    def short_name(self):
        """symnet's name for this op (``add``, ``Join{axis=0}``)."""
        if self.__props__:
            args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
            return f"{type(self).__name__}{{{args}}}"
        return type(self).__name__

    def __str__(self):
        return OP_STR[0](self) if OP_STR[0] is not None else self.short_name()

    __repr__ = __str__

    def __call__(self, *inputs, return_list=False, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        if BUILD_HOOKS:   # e.g. test values (symnet.compile.testvalue)
            for hook in BUILD_HOOKS:
                hook(node)
        if return_list:     # Theano's keyword: the outputs as a list, even one
            return list(node.outputs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    #: Theano's short form of make_node: lists of input and output types
    #: (``itypes = [T.dmatrix]``); an op that sets both gets the make_node
    #: below, which checks the inputs against ``itypes``
    itypes = None
    otypes = None

    def make_node(self, *inputs):
        if self.itypes is None or self.otypes is None:
            raise NotImplementedError(
                f"{type(self).__name__}.make_node (or set itypes and otypes)")
        if len(inputs) != len(self.itypes):
            raise TypeError(f"{self}: expected {len(self.itypes)} inputs "
                            f"({', '.join(map(str, self.itypes))}), got {len(inputs)}")
        checked = []
        for i, (var, want) in enumerate(zip(inputs, self.itypes)):
            if not isinstance(var, Variable):
                var = want.as_variable(var)
            if not want.is_compatible(var.type):
                raise TypeError(f"{self}: input {i} ({var}) has type {var.type}, "
                                f"expected {want} (itypes)")
            checked.append(var)
        return Apply(self, checked, [t() for t in self.otypes])

    def perform(self, node, inputs, output_storage):
        raise NotImplementedError(f"{type(self).__name__}.perform")

    def L_op(self, inputs, outputs, output_grads):
        return self.grad(inputs, output_grads)

    def grad(self, inputs, output_grads):
        raise NullTypeGradError(
            f"{self} has no gradient defined (needed for inputs "
            f"{', '.join(str(i) for i in inputs)})")

    def R_op(self, inputs, eval_points):
        raise NotImplementedError(f"{self} has no R_op")

    def connection_pattern(self, node):
        """[input][output] booleans: which outputs depend on which inputs."""
        return [[True] * len(node.outputs) for _ in node.inputs]

    def do_constant_folding(self, node):
        return True


def _with_params(perform):
    """Theano's op params: an op with ``get_params(node)`` (and a
    ``params_type``) whose ``perform`` takes a fourth argument gets
    ``get_params(node)`` there; every caller of perform passes three."""
    missing = object()

    def run(self, node, inputs, output_storage, params=missing):
        if params is missing:
            params = self.get_params(node)
        return perform(self, node, inputs, output_storage, params)
    run.__doc__, run.__name__ = perform.__doc__, perform.__name__
    return run


def apply(op, inputs, outputs):
    return Apply(op, inputs, outputs)
