"""Functions over whole networks: collecting layers and parameters,
computing output expressions and shapes, saving and restoring parameter
values.  A network is named by its output layer (or a list of them).

Every walk here uses an explicit stack, never recursion: a network of
thousands of layers must not hit Python's recursion limit.
"""
import difflib
import warnings

import numpy as np

from .. import utils
from ..graph.basic import Variable
from .base import Layer, MergeLayer, _layer_label
from .input import InputLayer

__all__ = ["get_all_layers", "get_output", "get_output_shape", "get_all_params",
           "count_params", "get_all_param_values", "set_all_param_values"]


def _many(layer_or_layers):
    """The layers of a list, a tuple or another iterable of layers (Lasagne
    takes any: ``get_output(layers.values())`` in its style transfer
    recipe), or None for a single layer."""
    if isinstance(layer_or_layers, Layer):
        return None
    if isinstance(layer_or_layers, (list, tuple)):
        return list(layer_or_layers)
    try:
        return list(iter(layer_or_layers))
    except TypeError:
        return None


def _as_layer_list(layer_or_layers):
    many = _many(layer_or_layers)
    return [layer_or_layers] if many is None else many


def _inputs_of(layer):
    if isinstance(layer, InputLayer):
        # An input layer has no inputs, whatever attributes it (or a mock
        # made from it) carries.
        return []
    if hasattr(layer, "input_layers"):
        return list(layer.input_layers)
    if hasattr(layer, "input_layer"):
        return [layer.input_layer]
    return []


def get_all_layers(layer, treat_as_input=None):
    """Every layer the given layer(s) depend on, inputs before their users.

    Parameters
    ----------
    layer : Layer or list of Layer
    treat_as_input : iterable of Layer, optional
        Layers whose inputs are not followed (they are still included).

    Returns
    -------
    list of Layer
        In depth-first order: each layer's inputs (in the order it lists
        them) come before it, and the given layers keep their order.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, get_all_layers
    >>> l_in = InputLayer((None, 4)); l1 = DenseLayer(l_in, 3); l2 = DenseLayer(l1, 2)
    >>> get_all_layers(l2) == [l_in, l1, l2]
    True
    >>> get_all_layers(l2, treat_as_input=[l1]) == [l1, l2]
    True
    """
    blocked = set(treat_as_input or ())
    result = []
    done = set()
    expanded = set()
    # stack of pending layers: a layer is pushed back under its inputs the
    # first time it is seen and emitted when popped the second time
    stack = list(reversed(_as_layer_list(layer)))
    while stack:
        current = stack[-1]
        if current is None or current in done:
            stack.pop()
            continue
        if current in expanded or current in blocked:
            stack.pop()
            done.add(current)
            result.append(current)
            continue
        expanded.add(current)
        stack.extend(reversed([x for x in _inputs_of(current) if x is not None]))
    return result


def _free_floating(layer, what):
    return ValueError(
        f"{what} was called without giving an input for the free-floating "
        f"{_layer_label(layer)} (created from an input shape, not a layer); pass a "
        f"dictionary mapping it to an input, or build it on an InputLayer")


def get_output(layer_or_layers, inputs=None, **kwargs):
    """The output expression(s) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
        A list is computed in one pass, so stochastic layers (dropout) use
        the same samples for every output.
    inputs : None, expression, array, or dict
        None uses the networks' ``InputLayer.input_var``; a single expression
        or numpy array replaces the input of a network with one input layer;
        a dict maps layers (input layers or any others) to expressions.
    **kwargs
        Passed to every layer's ``get_output_for`` (e.g.
        ``deterministic=True``). An argument no layer takes draws a warning.

    Returns
    -------
    expression or list of expressions

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import InputLayer, DenseLayer, get_output
    >>> l_in = InputLayer((None, 2))
    >>> l = DenseLayer(l_in, 1, W=np.ones((2, 1), 'float32'))
    >>> get_output(l, np.array([[1., 2.]], 'float32')).eval(mode="py")
    array([[3.]], dtype=float32)
    """
    if isinstance(inputs, dict):
        for key in inputs:
            # None stands for the input of a layer built from a shape
            if key is not None and not isinstance(key, Layer):
                raise TypeError(f"get_output(): the keys of the inputs dictionary must be "
                                f"Layer instances (or None), got {type(key).__name__} "
                                f"{key!r}")
    many = _many(layer_or_layers)
    if many is not None:
        layer_or_layers = many  # an iterator is read once
    treat_as_input = list(inputs.keys()) if isinstance(inputs, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    outputs = {l: l.input_var for l in all_layers
               if isinstance(l, InputLayer) and l not in treat_as_input}
    if isinstance(inputs, dict):
        for l, expr in inputs.items():
            outputs[l] = utils.as_theano_expression(expr)
    elif inputs is not None:
        if len(outputs) > 1:
            raise ValueError("get_output() was called with a single input expression on "
                             "a network with multiple input layers; pass a dictionary "
                             "mapping input layers to expressions instead")
        for l in outputs:
            outputs[l] = utils.as_theano_expression(inputs)
    accepted = {"deterministic"}
    # what existed before a layer ran: walks that tag its new nodes stop here
    known = {v for v in outputs.values() if isinstance(v, Variable)}
    for l in all_layers:
        params = getattr(l, "params", None)
        if isinstance(params, dict):   # duck-typed layers (Mock) may have anything
            known.update(params)
    for position, layer in enumerate(all_layers):
        if layer in outputs:
            continue
        try:
            if isinstance(layer, MergeLayer):
                layer_inputs = [outputs[x] for x in layer.input_layers]
            else:
                layer_inputs = outputs[layer.input_layer]
        except KeyError:
            raise _free_floating(layer, "get_output()") from None
        outputs[layer] = layer.get_output_for(layer_inputs, **kwargs)
        _tag_new_nodes(outputs[layer], _block_name(layer, position), known)
        try:
            accepted.update(utils.inspect_kwargs(layer.get_output_for))
        except (TypeError, ValueError):
            pass
        accepted.update(getattr(layer, "get_output_kwargs", ()))
    unused = sorted(set(kwargs) - accepted)
    if unused:
        lines = []
        for key in unused:
            close = difflib.get_close_matches(key, sorted(accepted), n=1)
            lines.append(f"{key} (perhaps you meant {close[0]})" if close else key)
        warnings.warn("get_output() was called with unused kwargs:\n\t" + "\n\t".join(lines),
                      stacklevel=2)
    if many is not None:
        return [outputs[l] for l in many]
    return outputs[layer_or_layers]


def _block_name(layer, position):
    """What a node's ``tag.layer`` says: the layer's name, else its class and
    its position in the network (``DenseLayer#3``)."""
    return getattr(layer, "name", None) or f"{type(layer).__name__}#{position}"


def _tag_new_nodes(out, name, known):
    """Record ``name`` as ``node.tag.layer`` on the Apply nodes computing
    ``out`` that are new: the walk (an explicit stack) stops at the
    variables in ``known`` (inputs, earlier layers' outputs, parameter
    expressions) and at nodes already tagged (shared sub-expressions, tied
    weights keep the layer that built them first), so it costs O(new nodes).
    ``out`` joins ``known`` afterwards."""
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    stack = [v for v in outs if isinstance(v, Variable)]
    while stack:
        v = stack.pop()
        node = v.owner
        if node is None or v in known or "layer" in node.tag:
            continue
        node.tag["layer"] = name
        stack.extend(node.inputs)
    known.update(v for v in outs if isinstance(v, Variable))


def get_output_shape(layer_or_layers, input_shapes=None):
    """The output shape(s) of a network, optionally for other input shapes.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    input_shapes : None, tuple, or dict
        Like ``inputs`` of :func:`get_output`, with shapes instead of
        expressions.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, get_output_shape
    >>> l = DenseLayer(InputLayer((None, 2)), 5)
    >>> get_output_shape(l), get_output_shape(l, (7, 2))
    ((None, 5), (7, 5))
    """
    many = _many(layer_or_layers)
    if many is not None:
        layer_or_layers = many
    if input_shapes is None or (isinstance(input_shapes, dict) and not input_shapes):
        if many is not None:
            return [l.output_shape for l in many]
        return layer_or_layers.output_shape
    treat_as_input = list(input_shapes.keys()) if isinstance(input_shapes, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    shapes = {l: l.shape for l in all_layers
              if isinstance(l, InputLayer) and l not in treat_as_input}
    if isinstance(input_shapes, dict):
        shapes.update(input_shapes)
    else:
        if len(shapes) > 1:
            raise ValueError("get_output_shape() was called with a single input shape on "
                             "a network with multiple input layers; pass a dictionary "
                             "mapping input layers to shapes instead")
        for l in shapes:
            shapes[l] = tuple(input_shapes)
    for layer in all_layers:
        if layer in shapes:
            continue
        try:
            if isinstance(layer, MergeLayer):
                in_shapes = [shapes[x] for x in layer.input_layers]
            else:
                in_shapes = shapes[layer.input_layer]
        except KeyError:
            raise _free_floating(layer, "get_output_shape()") from None
        shapes[layer] = layer.get_output_shape_for(in_shapes)
    if many is not None:
        return [shapes[l] for l in many]
    return shapes[layer_or_layers]


def get_all_params(layer, unwrap_shared=True, **tags):
    """The parameters of every layer of a network, without repeats.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        Return the shared variables inside parameter expressions (True) or
        the expressions themselves.
    **tags
        Filter as in :meth:`Layer.get_params` (``trainable=True``, ...).

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, get_all_params
    >>> l1 = DenseLayer(InputLayer((None, 4)), 3, name='h')
    >>> l2 = DenseLayer(l1, 2, name='out')
    >>> [p.name for p in get_all_params(l2)]
    ['h.W', 'h.b', 'out.W', 'out.b']
    >>> [p.name for p in get_all_params(l2, regularizable=True)]
    ['h.W', 'out.W']
    """
    params = []
    for l in get_all_layers(layer):
        params.extend(l.get_params(unwrap_shared=unwrap_shared, **tags))
    return utils.unique(params)


def count_params(layer, **tags):
    """The total number of scalar values in the network's parameters.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, count_params
    >>> count_params(DenseLayer(InputLayer((None, 784)), 500))
    392500
    """
    return int(sum(int(np.prod(p.get_value(borrow=True).shape))
                   for p in get_all_params(layer, **tags)))


def get_all_param_values(layer, **tags):
    """Copies of the values of the network's parameters, in
    :func:`get_all_params` order.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, get_all_param_values
    >>> [v.shape for v in get_all_param_values(DenseLayer(InputLayer((None, 4)), 3))]
    [(4, 3), (3,)]
    """
    return [p.get_value() for p in get_all_params(layer, **tags)]


def _cast_param(p, v):
    """``v`` as ``p``'s dtype; refuses what the cast would lose silently:
    imaginary parts, values that overflow to inf, non-integral or
    out-of-range values for an integer parameter."""
    want = np.dtype(p.dtype)
    who = f"parameter {p.name or p} ({want.name})"
    if v.dtype.kind == "c" and want.kind != "c":
        raise TypeError(f"cannot set {who} from complex values (dtype {v.dtype}): "
                        f"the imaginary part would be dropped")
    if v.dtype.kind not in "biufc":
        raise TypeError(f"cannot set {who} from values of dtype {v.dtype}")
    with np.errstate(all="ignore"):
        out = v.astype(want, copy=False)
    if want.kind in "fc" and v.dtype.kind in "fc":
        grown = np.isinf(out) & np.isfinite(v)
        if grown.any():
            raise ValueError(f"cannot set {who}: {int(grown.sum())} value(s) overflow "
                             f"{want.name} (largest magnitude {np.abs(v[grown]).max():g})")
    elif want.kind in "biu" and not np.array_equal(out, v):
        raise ValueError(f"cannot set {who} from values of dtype {v.dtype}: they are not "
                         f"all exactly representable")
    return out


def set_all_param_values(layer, values, **tags):
    """Set the network's parameters from a list of arrays.

    Every value is checked before any is set: a wrong count or a wrong
    shape raises ValueError and leaves all parameters unchanged.

    Parameters
    ----------
    layer : Layer or list of Layer
    values : list of numpy arrays
        In :func:`get_all_params` order (as from :func:`get_all_param_values`).
    **tags
        Filter as in :func:`get_all_params`.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import InputLayer, DenseLayer, set_all_param_values
    >>> l = DenseLayer(InputLayer((None, 4)), 3, name='d')
    >>> set_all_param_values(l, [np.zeros((4, 3)), np.zeros(2)])
    Traceback (most recent call last):
      ...
    ValueError: mismatch: parameter d.b has shape (3,) but value to set has shape (2,)
    """
    params = get_all_params(layer, **tags)
    if len(params) != len(values):
        raise ValueError(f"mismatch: got {len(values)} values to set {len(params)} "
                         f"parameters")
    arrays = []
    for p, v in zip(params, values):
        v = np.asarray(v)
        have = p.get_value(borrow=True).shape
        if have != v.shape:
            raise ValueError(f"mismatch: parameter {p.name or p} has shape {have} but value "
                             f"to set has shape {v.shape}")
        arrays.append(_cast_param(p, v))
    for p, v in zip(params, arrays):
        p.set_value(v)
