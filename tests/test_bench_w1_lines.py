"""bench/w1_lines.py's driver with a clock read before each statement: it
computes what the bench's driver computes, and names W1's eight products."""
import numpy as np
import pytest

pytest.importorskip("numba")

from bench.w1_lines import _kind, line_times, timed_driver  # noqa: E402
from bench.w1_products import w1_step  # noqa: E402


def test_timed_driver_computes_the_same_steps():
    plain, f_plain = w1_step(8)
    timed_step, f = w1_step(8)
    run, labels, stamps = timed_driver(f.thunk.linker)
    original = f.thunk
    run.__dict__.update(vars(original))
    f.thunk = run
    try:
        for _ in range(3):       # each step updates the weights the next one reads
            stamps.clear()
            assert np.float32(timed_step()) == np.float32(plain())
            assert len(stamps) == len(labels)
    finally:
        f.thunk = original
    assert np.float32(timed_step()) == np.float32(plain())


def test_line_times_names_the_eight_products_and_the_tail():
    labels, cols, totals = line_times(8, calls=3)
    assert len(cols) == len(labels) and len(totals) == 3
    assert all(len(ts) == 3 and min(ts) >= 0 for ts in cols)
    kinds = [_kind(label, statement) for label, statement in labels]
    assert kinds.count("products") == 8
    assert kinds.count("update tail") == 1
    assert sum(sum(ts) for ts in cols) <= sum(totals)
