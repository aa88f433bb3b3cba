"""The base classes every layer derives from: ``Layer`` and ``MergeLayer``.

A layer knows its input layer(s) (or only an input shape), its parameters
with their tags, how to compute its output shape from its input shape
(:meth:`Layer.get_output_shape_for`) and its output expression from its
input expression (:meth:`Layer.get_output_for`).  Whole networks are
evaluated by :func:`symnet.layers.get_output`, which calls these methods.
"""
import difflib
import inspect
from collections import OrderedDict

from ..graph.basic import Variable
from .. import utils

__all__ = ["Layer", "MergeLayer"]


class NdimError(ValueError, TypeError):
    """A layer's input has the wrong number of dimensions: the ValueError
    Lasagne raises (and code written for it catches), and the TypeError
    API.md asks for a wrong ndim."""


def _nonlinearity(layer, nonlinearity):
    """``nonlinearity`` checked when the layer is built (None: identity):
    a string such as 'relu' would otherwise fail only in get_output, as
    "'str' object is not callable", naming no layer."""
    if nonlinearity is None:
        from ..nonlinearities import identity
        return identity
    if not callable(nonlinearity):
        raise TypeError(f"{_layer_label(layer)}: nonlinearity must be callable (e.g. "
                        f"lasagne.nonlinearities.rectify), got {type(nonlinearity).__name__} "
                        f"{nonlinearity!r}")
    return nonlinearity


def _layer_label(layer):
    """How errors refer to a layer: its name, else its class."""
    if getattr(layer, "name", None):
        return f"{type(layer).__name__} '{layer.name}'"
    return type(layer).__name__


def _is_layer_like(obj):
    """True for a Layer or anything else with an ``output_shape``.

    Lasagne duck-types its ``incoming`` argument (its own tests pass mocks
    that only have an ``output_shape``), so code written for it may too.
    """
    return isinstance(obj, Layer) or (not isinstance(obj, (tuple, list, str))
                                      and hasattr(obj, "output_shape"))


def _resolve_incoming(layer, incoming, each=""):
    """``(input_shape, input_layer)`` for one ``incoming`` of ``layer``."""
    if isinstance(incoming, tuple):
        return incoming, None
    if _is_layer_like(incoming):
        return incoming.output_shape, incoming
    raise TypeError(f"{_layer_label(layer)}: {each}incoming must be a Layer or a shape "
                    f"tuple (or any object with an output_shape), got "
                    f"{type(incoming).__name__} {repr(incoming)[:60]}")


def _check_kwargs(layer, kwargs):
    """Raise TypeError for keywords no __init__ in the class chain accepts.

    Python would raise for us, but only naming ``Layer.__init__``; we name the
    layer class and suggest the closest accepted keyword (Lasagne's helper
    does the same for ``get_output``).
    """
    if not kwargs:
        return
    accepted = set()
    for cls in type(layer).__mro__:
        init = cls.__dict__.get("__init__")
        if init is not None:
            accepted.update(p.name for p in inspect.signature(init).parameters.values()
                            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    accepted.discard("self")
    msgs = []
    for key in kwargs:
        close = difflib.get_close_matches(key, sorted(accepted), n=1)
        msgs.append(f"'{key}'" + (f" (perhaps you meant '{close[0]}')" if close else ""))
    raise TypeError(f"{type(layer).__name__}.__init__() got unexpected keyword "
                    f"argument(s) {', '.join(msgs)}")


class Layer:
    """The base class for layers with one input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the expected input shape (entries may
        be None for sizes only known when the network runs).
    name : str, optional
        Also prefixes the names of the layer's parameters (``'dense.W'``).

    Attributes
    ----------
    input_shape : tuple
    input_layer : Layer or None
    params : OrderedDict
        Maps each parameter (a shared variable or expression) to its tags.
    get_output_kwargs : list of str
        Extra keyword arguments ``get_output_for`` understands.

    Examples
    --------
    >>> from symnet.layers import Layer
    >>> class Double(Layer):
    ...     def get_output_for(self, input, **kwargs):
    ...         return 2 * input
    >>> Double((None, 3)).output_shape
    (None, 3)
    """

    get_output_kwargs = []

    def __init__(self, incoming, name=None, **kwargs):
        _check_kwargs(self, kwargs)
        self.name = name        # first: the errors below name the layer
        self.input_shape, self.input_layer = _resolve_incoming(self, incoming)
        self.params = OrderedDict()
        if any(d is not None and d <= 0 for d in self.input_shape):
            raise ValueError(f"Cannot create {_layer_label(self)} with a non-positive "
                             f"input_shape dimension: input_shape={self.input_shape}")

    @property
    def output_shape(self):
        shape = self.get_output_shape_for(self.input_shape)
        if any(isinstance(s, Variable) for s in shape):
            raise ValueError(f"{_layer_label(self)} returned a symbolic output shape "
                             f"{shape}; get_output_shape_for must return ints or None")
        return shape

    def get_params(self, unwrap_shared=True, **tags):
        """The layer's parameters, optionally filtered by tags.

        Parameters
        ----------
        unwrap_shared : bool
            Return the shared variables inside parameter expressions (True) or
            the expressions themselves (False).
        **tags
            ``tag=True`` keeps only parameters with the tag, ``tag=False``
            drops those with it (e.g. ``trainable=True, regularizable=False``).

        Returns
        -------
        list
        """
        result = list(self.params)
        only = {t for t, v in tags.items() if v}
        if only:
            result = [p for p in result if not (only - self.params[p])]
        exclude = {t for t, v in tags.items() if not v}
        if exclude:
            result = [p for p in result if not (self.params[p] & exclude)]
        if unwrap_shared:
            return utils.collect_shared_vars(result)
        return result

    def get_output_shape_for(self, input_shape):
        """The output shape for ``input_shape`` (default: unchanged)."""
        return input_shape

    def get_output_for(self, input, **kwargs):
        """The output expression for the input expression ``input``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_output_for")

    def add_param(self, spec, shape, name=None, **tags):
        """Create a parameter from ``spec`` and register it with ``tags``.

        Parameters
        ----------
        spec : shared variable, expression, numpy array or callable
            See :func:`symnet.utils.create_param`.  When it is an expression,
            the shared variables inside it are the trainable values and get
            this parameter's tags.
        shape : tuple of int
        name : str, optional
            Prefixed with the layer's name when it has one.
        **tags
            ``trainable`` and ``regularizable`` default to True.

        Returns
        -------
        Variable
            The parameter (the expression itself for an expression spec).
        """
        if name is not None and self.name is not None:
            name = f"{self.name}.{name}"
        try:
            param = utils.create_param(spec, shape, name)
        except (ValueError, TypeError) as exc:
            # same class (utils.ParamSpecError is both), now naming the layer
            raise type(exc)(f"{_layer_label(self)}: {exc}") from None
        tags.setdefault("trainable", True)
        tags.setdefault("regularizable", True)
        self.params[param] = {t for t, v in tags.items() if v}
        return param


class MergeLayer(Layer):
    """The base class for layers with several inputs.

    Parameters
    ----------
    incomings : list of Layer or tuple
    name : str, optional

    Examples
    --------
    >>> from symnet.layers import MergeLayer
    >>> class Add(MergeLayer):
    ...     def get_output_shape_for(self, input_shapes):
    ...         return input_shapes[0]
    ...     def get_output_for(self, inputs, **kwargs):
    ...         return inputs[0] + inputs[1]
    >>> Add([(2, 3), (2, 3)]).output_shape
    (2, 3)
    """

    def __init__(self, incomings, name=None, **kwargs):
        _check_kwargs(self, kwargs)
        self.name = name        # first: the errors below name the layer
        self.input_shapes = []
        self.input_layers = []
        for inc in incomings:
            shape, layer = _resolve_incoming(self, inc, each="each ")
            self.input_shapes.append(shape)
            self.input_layers.append(layer)
        self.params = OrderedDict()

    @Layer.output_shape.getter
    def output_shape(self):
        shape = self.get_output_shape_for(self.input_shapes)
        if any(isinstance(s, Variable) for s in shape):
            raise ValueError(f"{_layer_label(self)} returned a symbolic output shape "
                             f"{shape}; get_output_shape_for must return ints or None")
        return shape

    def get_output_shape_for(self, input_shapes):
        """The output shape for the list of input shapes."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_output_shape_for")

    def get_output_for(self, inputs, **kwargs):
        """The output expression for the list of input expressions."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_output_for")
