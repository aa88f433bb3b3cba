"""``until``: a scan that stops once a condition holds (Theano's while loop).

A step function may return ``until(cond)`` with its outputs (and updates);
the scan then stops after the first step whose ``cond`` is true, and its
outputs hold only the steps run.  symnet builds this from the ordinary
Scan op, so every backend and the gradient support it unchanged: the loop
carries one more state, ``done`` (``done | cond``); once it is set every
fed-back state (and every shared variable the step updates) keeps its
value, and the outputs are cut to the steps up to the first true ``cond``.
The loop itself still runs ``n_steps`` steps (the frozen steps after the
condition are computed and thrown away), so ``n_steps`` should be a
bound, not a huge number.
"""
from ..graph.basic import Variable

__all__ = ["until"]


class until:
    """Returned by a scan step (with its outputs) to stop the loop once
    ``condition``, a scalar, is true.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> from symnet.scan import scan
    >>> limit = T.dscalar('limit')
    >>> def double(prev, limit):
    ...     return prev * 2, until(prev * 2 > limit)
    >>> powers, _ = scan(double, outputs_info=T.constant(1.0, dtype='float64'),
    ...                  non_sequences=limit, n_steps=100)
    >>> symnet.function([limit], powers, mode='py')(45.0)
    array([ 2.,  4.,  8., 16., 32., 64.])
    """

    def __init__(self, condition):
        from ..tensor.basic import as_tensor_variable
        cond = as_tensor_variable(condition)
        if cond.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {cond} of type "
                            f"{cond.type}")
        self.condition = cond


def split_until(res, split):
    """``(outputs, updates, condition or None)`` from what a step returned:
    ``split`` (scan's) reads outputs and updates from the rest, which may
    be ``outs``, ``[outs...]``, ``(outs, updates)`` as without until."""
    if isinstance(res, until):
        return [], {}, res.condition
    if not isinstance(res, (list, tuple)):
        return (*split(res), None)
    found = [i for i in res if isinstance(i, until)]
    if len(found) > 1:
        raise TypeError("scan: the step function returned more than one until")
    if not found:
        return (*split(res), None)
    rest = [i for i in res if not isinstance(i, until)]
    if len(rest) == 1 and isinstance(rest[0], (list, tuple, dict)):
        rest = rest[0]     # ([a, b], until(c)) or (updates, until(c))
    return (*split(rest), found[0].condition)


def freeze_after_done(outs, states, state_inner, cond):
    """The fed-back outputs kept at their previous value once ``done`` is
    set, and the ``done`` state itself: returns ``(outs, done_out,
    done_init, done_in)`` for the caller to add as the last state."""
    from .. import tensor as T
    from .inner import placeholder, with_test_value
    done_in = placeholder(T.TensorType("int8", shape=()), "done[t-1]")
    with_test_value(done_in, T.constant(0, dtype="int8"))
    new = list(outs)
    si = 0
    for k, (o, st) in enumerate(zip(outs, states)):
        if st is None:
            continue
        taps = st[1]
        prev = state_inner[si][taps.index(-1)] if -1 in taps else None
        si += 1
        if prev is None:
            raise NotImplementedError(
                f"scan with until: fed-back output {k} has taps {taps} without -1, "
                f"which it needs to keep its value once the loop is done")
        new[k] = T.switch(done_in, prev, o) if isinstance(o, Variable) else o
        if new[k].dtype != o.dtype:
            new[k] = T.cast(new[k], o.dtype)
    done_out = T.cast(T.or_(T.neq(done_in, 0), T.neq(cond, 0)), "int8")
    # scan_grad finds it by this mark: truncate_gradient counts the steps
    # back from the last one run, not from the frozen ones after it
    done_out.tag.until_done = True
    done_init = T.shape_padleft(T.constant(0, dtype="int8"))
    return new, done_out, done_init, done_in


def steps_run(done, n):
    """How many steps ran: up to and including the first with ``done`` set
    (``n`` when none has it); ``done`` holds one int8 per step."""
    from .. import tensor as T
    return T.minimum(n - T.sum(done, dtype="int64") + 1, n)
