"""Which outputs of a call must be copied before the user receives them.

An output that shares memory with an input, a shared value, an update or an
earlier output, or that is read-only (a constant the rewrites folded), is
copied (``Function``'s contract: a result is the caller's own array).

"Shares memory" is ``np.may_share_memory``'s test: the byte ranges of the
two arrays overlap.  Asking it for every (output, input) and (output,
earlier output) pair made a call on the ``py`` tier quadratic: W3 at N=400
(400 outputs, 400 shared values) spent most of its first step there
(240,000 calls).  Past ``PAIRWISE_UP_TO`` pairs the ranges are sorted
once instead, so a call costs O((outputs + inputs) log inputs), with the
same answers.  Small calls keep the pairwise test: ``byte_bounds`` is
Python (about 10 us an array), ``may_share_memory`` is C (0.3 us a pair);
measured: 1 output and 1 input 1.4 us pairwise against 24 us sorted,
10 and 10 267 against 209 us, 50 and 50 5.6 ms against 0.8 ms.
"""
from bisect import bisect_left, insort

import numpy as np

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:      # numpy < 2
    byte_bounds = np.byte_bounds

__all__ = ["unaliased", "Ranges", "PAIRWISE_UP_TO"]

#: calls with at most this many (output, input or earlier output) pairs are
#: checked pair by pair
PAIRWISE_UP_TO = 160


class Ranges:
    """A fixed set of byte ranges ``[low, high)``: ``overlaps(low, high)``
    answers in O(log n) whether any of them overlaps the query."""

    def __init__(self, arrays):
        spans = sorted(byte_bounds(a) for a in arrays
                       if isinstance(a, np.ndarray) and a.size)
        self.lows = [lo for lo, _ in spans]
        # the largest end among the ranges starting at or before each one
        self.reach, top = [], None
        for _, hi in spans:
            top = hi if top is None or hi > top else top
            self.reach.append(top)

    def overlaps(self, low, high):
        i = bisect_left(self.lows, high)    # ranges starting before ``high``
        return i > 0 and self.reach[i - 1] > low


class _Union:
    """A growing union of byte ranges, kept as disjoint ranges sorted by
    start (overlapping or touching ranges are merged: a query overlaps the
    union exactly when it overlaps one of the ranges added)."""

    def __init__(self):
        self.lows, self.highs = [], []

    def overlaps(self, low, high):
        i = bisect_left(self.lows, high)
        return i > 0 and self.highs[i - 1] > low

    def add(self, low, high):
        lows, highs = self.lows, self.highs
        i = bisect_left(lows, low)
        if i > 0 and highs[i - 1] >= low:     # merges with the range before
            i -= 1
            low = lows[i]
        j = i
        while j < len(lows) and lows[j] <= high:
            high = max(high, highs[j])
            j += 1
        lows[i:j] = [low]
        highs[i:j] = [high]


def unaliased(outs, must_check, inputs, updates):
    """``outs``, each copied where the caller must not receive it as is.

    ``must_check[k]``: whether output ``k`` must be checked (a kernel's
    fresh buffer need not be; a borrowed output is never copied), though
    every output handed back as is counts as memory the later ones must
    not share.  ``inputs``: the call's input and shared values;
    ``updates``: the new shared values about to be written."""
    if len(outs) * (len(inputs) + len(outs)) <= PAIRWISE_UP_TO:
        return _pairwise(outs, must_check, inputs, updates)
    taken = Ranges(inputs)
    same = {id(a) for a in inputs} | {id(u) for u in updates}
    earlier = _Union()       # the outputs handed back so far (copies excluded)
    final = []
    for o, check in zip(outs, must_check):
        if isinstance(o, np.ndarray):
            bounds = byte_bounds(o) if o.size else None
            if check and ((bounds is not None and (taken.overlaps(*bounds) or
                                                    earlier.overlaps(*bounds)))
                          or id(o) in same or not o.flags.writeable):
                o = o.copy()     # a fresh buffer: overlaps nothing later
            elif bounds is not None:
                earlier.add(*bounds)
        final.append(o)
    return final


def _pairwise(outs, must_check, inputs, updates):
    """``unaliased`` for a few outputs: ``np.may_share_memory`` per pair."""
    final = []
    for o, check in zip(outs, must_check):
        if isinstance(o, np.ndarray) and check:
            if any(o is a or (isinstance(a, np.ndarray) and a.size and
                              np.may_share_memory(o, a)) for a in inputs) or \
                    any(o is u for u in updates) or not o.flags.writeable or \
                    any(isinstance(p, np.ndarray) and p.size and
                        np.may_share_memory(o, p) for p in final):
                o = o.copy()
        final.append(o)
    return final
