"""Weight penalties for a training loss (Lasagne's ``lasagne.regularization``).

A *penalty* maps one tensor to a scalar (:func:`l1`, :func:`l2`);
:func:`apply_penalty` sums it over several tensors, and the ``regularize_*``
helpers apply it to a network's parameters selected by tags (by default the
``regularizable`` ones: weights, not biases).

Examples
--------
>>> import numpy as np, symnet
>>> w = symnet.shared(np.array([[1., -2.], [3., 0.]]))
>>> float(apply_penalty([w], l2).eval())
14.0
"""
from . import tensor as T
from .graph.basic import Variable

__all__ = ["l1", "l2", "apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params"]


def l1(x):
    """Sum of absolute values of ``x``.

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic scalar
    """
    return T.sum(abs(x))


def l2(x):
    """Sum of squares of ``x`` (note: no factor 1/2 and no square root).

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic scalar
    """
    return T.sum(x ** 2)


def apply_penalty(tensor_or_tensors, penalty, **kwargs):
    """Sum of ``penalty(t, **kwargs)`` over one tensor or a list of them.

    Parameters
    ----------
    tensor_or_tensors : symbolic tensor or list of symbolic tensors
    penalty : callable
        Maps a tensor to a scalar, e.g. :func:`l2`.
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    symbolic scalar
        Or the int 0 for an empty list.
    """
    # test for a variable first: variables of known length are iterable
    if isinstance(tensor_or_tensors, Variable) or \
            not isinstance(tensor_or_tensors, (list, tuple, set)):
        return penalty(tensor_or_tensors, **kwargs)
    # Python's sum, as in Lasagne: the plain int 0 for no tensors, so that
    # ``loss + apply_penalty([], l2)`` leaves the loss's graph unchanged
    return sum(penalty(t, **kwargs) for t in tensor_or_tensors)


def _default_tags(tags):
    # the default dict is never mutated; None is accepted as "the default"
    return {"regularizable": True} if tags is None else dict(tags)


def regularize_layer_params(layer, penalty, tags={'regularizable': True}, **kwargs):
    """Penalty summed over the parameters of one layer or a list of layers.

    Parameters
    ----------
    layer : Layer or list of Layers
        Only these layers' own parameters count (not those below them).
    penalty : callable
    tags : dict
        Tag filter for ``layer.get_params`` (default: the regularizable
        parameters).
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    symbolic scalar
    """
    tags = _default_tags(tags)
    layers = list(layer) if isinstance(layer, (list, tuple)) else [layer]
    params = []
    for lay in layers:
        params.extend(lay.get_params(**tags))
    return apply_penalty(params, penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty, tags={'regularizable': True}, **kwargs):
    """Weighted sum of per-layer penalties.

    Parameters
    ----------
    layers : dict
        ``{layer: coefficient}``.
    penalty : callable
    tags : dict
        Tag filter (default: the regularizable parameters).
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    symbolic scalar
        Or the int 0 when no layer is given.
    """
    if not hasattr(layers, "items"):     # Lasagne: "'list' object has no attribute 'items'"
        raise TypeError(f"regularize_layer_params_weighted: layers must be a dict "
                        f"{{layer: coefficient}}, got {type(layers).__name__}; for one "
                        f"coefficient on a list of layers use regularize_layer_params")
    tags = _default_tags(tags)
    return sum(coeff * apply_penalty(layer.get_params(**tags), penalty, **kwargs)
               for layer, coeff in layers.items())


def regularize_network_params(layer, penalty, tags={'regularizable': True}, **kwargs):
    """Penalty summed over all parameters of a network.

    Parameters
    ----------
    layer : Layer or list of Layers
        Output layer(s); every layer below them counts.
    penalty : callable
    tags : dict
        Tag filter for ``get_all_params`` (default: the regularizable
        parameters).
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    symbolic scalar
    """
    from .layers import get_all_params  # layers import this module's users
    tags = _default_tags(tags)
    return apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)
