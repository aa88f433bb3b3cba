"""symnet.compile.aliasing: which outputs a call copies, against the pairwise
``np.may_share_memory`` rule it replaces, and through ``function``."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile import aliasing
from symnet.compile.aliasing import Ranges, unaliased


def _pairwise(outs, must_check, inputs, updates):
    """The rule stated pair by pair (an oracle written apart from the module)."""
    final = []
    for o, check in zip(outs, must_check):
        copy = False
        if isinstance(o, np.ndarray) and check:
            others = [a for a in list(inputs) + final if isinstance(a, np.ndarray)]
            copy = (not o.flags.writeable or any(o is a for a in list(inputs) + list(updates))
                    or any(a.size and o.size and np.may_share_memory(o, a) for a in others))
        final.append(o.copy() if copy else o)
    return final


def _views(rng, bases, n):
    """``n`` random arrays: views (slices, reversed, strided, empty) of the
    ``bases``, fresh arrays, read-only views and scalars."""
    out = []
    for _ in range(n):
        kind = rng.randint(7)
        base = bases[rng.randint(len(bases))]
        lo = rng.randint(base.size)
        hi = rng.randint(lo, base.size + 1)
        if kind == 0:
            out.append(base[lo:hi])
        elif kind == 1:
            out.append(base[lo:hi][::-1])
        elif kind == 2:
            out.append(base[lo:hi:rng.randint(1, 4)])
        elif kind == 3:
            out.append(np.zeros(rng.randint(0, 5)))
        elif kind == 4:
            v = base[lo:hi]
            v.flags.writeable = False
            out.append(v)
        elif kind == 5:
            out.append(base)
        else:
            out.append(1.5)
    return out


@pytest.mark.parametrize("pairwise_up_to", [0, 10 ** 6])     # sorted ranges; pair by pair
@pytest.mark.parametrize("seed", range(40))
def test_same_copies_as_the_pairwise_rule(seed, pairwise_up_to, monkeypatch):
    monkeypatch.setattr(aliasing, "PAIRWISE_UP_TO", pairwise_up_to)
    rng = np.random.RandomState(seed)
    bases = [np.arange(rng.randint(1, 30), dtype="float64") for _ in range(4)]
    inputs = _views(rng, bases[:2], rng.randint(0, 6))
    outs = _views(rng, bases, rng.randint(1, 10))
    updates = [outs[i] for i in range(len(outs)) if rng.rand() < 0.2]
    check = [bool(rng.rand() < 0.8) for _ in outs]
    got = unaliased(outs, check, inputs, updates)
    want = _pairwise(outs, check, inputs, updates)
    assert len(got) == len(want)
    for k, (g, w, o) in enumerate(zip(got, want, outs)):
        # copied (a new object) exactly where the pairwise rule copies
        assert (g is o) == (w is o), (seed, k)
        if isinstance(o, np.ndarray):
            np.testing.assert_array_equal(g, o)


def test_ranges_overlap_is_half_open():
    a = np.zeros(8, "uint8")
    r = Ranges([a[2:4], a[6:7]])
    lo = a.__array_interface__["data"][0]
    assert r.overlaps(lo + 3, lo + 5)
    assert not r.overlaps(lo + 4, lo + 6)      # touches 2:4 and 6:7, overlaps neither
    assert r.overlaps(lo + 5, lo + 7)
    assert not r.overlaps(lo, lo + 2)
    assert not Ranges([]).overlaps(lo, lo + 8)


def test_function_many_outputs_aliasing_shared_values_are_copied():
    # a py-tier function whose outputs are its shared values and views of
    # them: each comes back as a copy the caller may write to
    ws = [symnet.shared(np.arange(4, dtype="float32") + i) for i in range(50)]
    outs = [w for w in ws] + [w[1:] for w in ws]
    f = symnet.function([], outs, mode="py")
    got = f()
    for w, g in zip(ws, got[:50]):
        np.testing.assert_array_equal(g, w.get_value())
        assert not np.may_share_memory(g, w.get_value(borrow=True))
    for g in got:
        g[...] = -1
    for i, w in enumerate(ws):
        np.testing.assert_array_equal(w.get_value(), np.arange(4, dtype="float32") + i)
