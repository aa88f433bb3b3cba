"""``lib/claim.py``'s ``claim``: pieces of a split loop handed out one at a
time, each to exactly one thread, and the two loops that claim their
pieces (the convolution's per-image forward, ``PoolConvGradWeights``'
filter gradient) give the same bits on any number of threads."""
import threading

import numba as nb
import numpy as np
import pytest

from symnet.backend.numba_cpu import conv, conv_fused, conv_threads, pool_fused
from symnet.backend.numba_cpu.lib.claim import claim


@nb.njit(nogil=True)
def _take_all(ctr, n, owner, t):
    """Claim pieces until ``n`` are gone, marking each with ``t``; the
    number this call took."""
    got = 0
    while True:
        j = claim(ctr)
        if j >= n:
            return got
        owner[j] = t
        got += 1


def test_claim_counts_up_from_zero():
    ctr = np.zeros(1, np.int64)
    owner = np.full(5, -1, np.int64)
    assert _take_all(ctr, 5, owner, 7) == 5
    assert owner.tolist() == [7] * 5
    assert ctr[0] == 6          # the last claim found nothing left


def test_claim_rejects_other_counters():
    with pytest.raises(nb.core.errors.TypingError):
        _take_all(np.zeros(1, np.int32), 3, np.zeros(3, np.int64), 0)


def test_each_piece_goes_to_exactly_one_thread():
    """Four threads racing over 200,000 pieces: every piece taken once, and
    the takings add up (a plain read-add-write counter loses pieces or
    hands some out twice)."""
    n, nt = 200_000, 4
    ctr = np.zeros(1, np.int64)
    owner = np.full(n, -1, np.int64)
    counts = [0] * nt

    def work(t):
        counts[t] = _take_all(ctr, n, owner, t)
    _take_all(np.zeros(1, np.int64), 1, np.zeros(1, np.int64), 0)    # compiled before the race
    threads = [threading.Thread(target=work, args=(t,)) for t in range(nt)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(counts) == n
    assert (owner >= 0).all()
    assert np.bincount(owner, minlength=nt).tolist() == counts


def _pool_case(b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, 2, 14, 13)).astype(dtype)
    w = rng.normal(size=(5, 2, 3, 3)).astype(dtype)
    bias = rng.normal(size=5).astype(dtype)
    return x, w, bias


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("b", [1, 5, 37])
def test_claimed_loops_give_the_same_bits_on_any_thread_count(b, dtype, monkeypatch):
    """The forward (chunks of one image: ``CLAIM_CHUNKS`` above the batch)
    and the pooled filter gradient (runs of images with their own sums)
    on 1, 2 and 3 threads: bit-identical outputs, offsets, signs and
    gradients, which a per-thread sum would not promise."""
    x, w, bias = _pool_case(b, dtype)
    monkeypatch.setattr(conv, "PER_IMAGE_POSITIONS", 1)
    monkeypatch.setattr(conv_threads, "CLAIM_CHUNKS", 64)
    results = []
    for nt in (1, 2, 3):
        monkeypatch.setattr(conv_threads, "chunk_threads", lambda nbytes, _n=nt: _n)
        monkeypatch.setattr(pool_fused, "_threads", lambda nbytes, _n=nt: _n)
        r, s, pooled, idx = conv_fused.conv2d_bias_act_pool(
            x, w, bias, "valid", (1, 1), (1, 1), True, dtype, 1, "relu", True, (2, 2),
            "uint8", budget=1 << 30, shape_only=False)
        gz = np.random.default_rng(1).normal(size=pooled.shape).astype(dtype)
        gw, gb = pool_fused.pool_conv_grad_weights(
            x, r, idx, gz, s, np.array(w.shape), (2, 2), "relu", "valid", (1, 1), (1, 1),
            True, dtype)
        results.append((r, s, pooled, idx, gw, gb))
    for other in results[1:]:
        for a, o in zip(results[0], other):
            np.testing.assert_array_equal(a, o)
