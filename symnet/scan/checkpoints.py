"""``theano.scan_checkpoints``: Theano's scan that keeps only every N-th
state for the gradient and recomputes the others (memory for time).

symnet's scan keeps the states its gradient reads (and its rewrites drop
those no gradient reads), so this is ``scan`` with the same results;
``save_every_N`` and ``padding`` are checked and otherwise have no effect
on memory.  Theano's restrictions are kept so that code written for it
behaves the same: sequences are read at tap 0 and outputs fed back at tap
-1 only.
"""
from .basic import scan

__all__ = ["scan_checkpoints"]


def scan_checkpoints(fn, sequences=(), outputs_info=None, non_sequences=(),
                     name="checkpointscan_fn", n_steps=None, save_every_N=10, padding=True):
    """``scan(fn, sequences, outputs_info, non_sequences, n_steps=n_steps)``
    (see the module docstring): returns ``(outputs, updates)``."""
    if not isinstance(save_every_N, int) or save_every_N < 1:
        raise ValueError(f"scan_checkpoints: save_every_N must be a positive int, got "
                         f"{save_every_N!r}")
    seqs = sequences if isinstance(sequences, (list, tuple)) else [sequences]
    outs = outputs_info if isinstance(outputs_info, (list, tuple)) else [outputs_info]
    for s in seqs:
        if isinstance(s, dict):
            raise ValueError(f"scan_checkpoints: sequences are read at tap 0 only, got {s}")
    for o in outs:
        if isinstance(o, dict) and list(o.get("taps", [-1])) != [-1]:
            raise ValueError(f"scan_checkpoints: outputs are fed back at tap -1 only, got {o}")
    return scan(fn, sequences=list(seqs), outputs_info=outputs_info,
                non_sequences=non_sequences, n_steps=n_steps, name=name)
