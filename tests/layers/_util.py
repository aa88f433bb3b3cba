"""Test helper: compile a network's output with the numpy reference backend."""
import symnet
from symnet.layers import InputLayer, get_all_layers, get_output


def run(layer, *xs, **kwargs):
    """Evaluate ``get_output(layer, **kwargs)`` on inputs ``xs`` (mode='py'),
    the input layers taken in ``get_all_layers`` order."""
    ins = [l for l in get_all_layers(layer) if isinstance(l, InputLayer)]
    out = get_output(layer, **kwargs)
    return symnet.function([l.input_var for l in ins], out, mode="py")(*xs)
