"""The per-image convolution layout (layers with many output positions:
W4/W7's first layer) split over threads (``conv.SPLIT_PER_IMAGE``,
``conv_threads.forward``/``grad_weights`` with ``per_image``,
``lib/conv_par.py``'s ``*_image_chunks``): forward (plain and with the fused
epilogue) and filter gradient agree with the serial path and the float64
reference over hypothesis-drawn shapes, strides, dilations, pads, groups and
dtypes, in uneven chunks over 2 or 3 threads; the column buffers stay within
the budget; with ``SPLIT_PER_IMAGE`` off the serial loops run."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from symnet.backend.numba_cpu import conv as nconv
from symnet.backend.numba_cpu import conv_fused as nfused
from symnet.backend.numba_cpu import conv_threads
from symnet.backend.numba_cpu.lib import conv_par
from symnet.tensor.ops.conv import Conv2d
from symnet.tensor.ops.conv_fused import bias_act, sign_of

from tests.oracles import examples
from .test_conv_kernels import convs
from .test_conv_threads import _reference, _run_all, check_large_batch, check_three, draw_arrays


def _image_threads(monkeypatch, n, split=True):
    """The per-image layout for every layer, split over ``n`` threads
    (0: serial) when ``split``; returns the names of the threaded loops run."""
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", 1)
    monkeypatch.setattr(nconv, "SPLIT_PER_IMAGE", split)
    monkeypatch.setattr(conv_threads, "chunk_threads", lambda nbytes: n)
    ran = []
    for name in ("forward_image_chunks", "grad_weights_image_chunks", "forward_chunks",
                 "grad_weights_chunks", "grad_inputs_chunks"):
        fn = getattr(conv_par, name)
        monkeypatch.setattr(conv_par, name,
                            lambda *a, _fn=fn, _n=name: ran.append(_n) or _fn(*a))
    return ran


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=convs())
def test_threaded_images_agree_with_serial_and_reference(case, monkeypatch):
    """Hypothesis-drawn shapes, border modes, strides, dilations, flips,
    groups and dtypes; a budget of one image a thread."""
    x, w, gz, kw, dtype = draw_arrays(case)
    ran = _image_threads(monkeypatch, 0)
    serial = _run_all(x, w, gz, kw, dtype, kw["num_groups"])
    assert ran == []
    ran = _image_threads(monkeypatch, 2)
    threaded = _run_all(x, w, gz, kw, dtype, kw["num_groups"], budget=1)
    assert set(ran) == {"forward_image_chunks", "grad_weights_image_chunks"}
    check_three(serial, threaded, x, w, gz, kw, dtype)


@pytest.mark.parametrize("nt", [2, 3])
@pytest.mark.parametrize("kw", [dict(border_mode="valid", subsample=(1, 1),
                                     filter_dilation=(1, 1), filter_flip=True),
                                dict(border_mode=(2, 1), subsample=(2, 1),
                                     filter_dilation=(1, 2), filter_flip=False)])
def test_first_layer_like_conv_in_uneven_chunks(kw, nt, monkeypatch):
    """A conv1-like layer (one input channel, many positions), batch 13 in
    chunks of 2 images over 2 or 3 threads (an odd last chunk, threads with
    different numbers of chunks), float32, against the reference."""
    ran = _image_threads(monkeypatch, nt)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(13, 1, 20, 19)).astype("float32")
    w = rng.normal(size=(8, 1, 5, 5)).astype("float32")
    out_shape = Conv2d(**kw).forward(x[:1].astype("float64"), w.astype("float64")).shape[2:]
    gz = rng.normal(size=(13, 8) + out_shape).astype("float32")
    npos = out_shape[0] * out_shape[1]
    budget = nt * 2 * 25 * npos * 4                             # 2 images a thread
    got = _run_all(x, w, gz, kw, "float32", budget=budget)
    assert ran.count("forward_image_chunks") == nt
    for g, r in zip(got, _reference(x, w, gz, kw)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("act", ["relu", "max", "linear"])
def test_threaded_image_epilogue(keep, act, monkeypatch):
    """``Conv2dBiasAct`` on the threaded per-image path: ``act(c + b)`` and
    the kept int8 sign equal the op's numpy forms (float64: exact signs)."""
    ran = _image_threads(monkeypatch, 2)
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(7, 3, 9, 8)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    c_want = Conv2d(border_mode=(1, 0), subsample=(1, 2)).forward(x, w)
    got = nfused.conv2d_bias_act(x, w, b, (1, 0), (1, 2), (1, 1), True, "float64", 1, act,
                                 keep, budget=1)
    assert ran == ["forward_image_chunks", "forward_image_chunks"]
    r = got[0] if keep else got
    np.testing.assert_allclose(r, bias_act(c_want, b, act), rtol=1e-12, atol=1e-12)
    if keep:
        assert got[1].dtype == np.int8
        np.testing.assert_array_equal(got[1], sign_of(c_want, b))


def test_split_per_image_off_runs_the_serial_loops(monkeypatch):
    """With ``SPLIT_PER_IMAGE`` off, a per-image layer runs no threaded loop
    even where threads are allowed (and gives the same values)."""
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(5, 2, 9, 9)), rng.normal(size=(3, 2, 3, 3))
    gz = rng.normal(size=(5, 3, 7, 7))
    kw = dict(border_mode="valid", subsample=(1, 1), filter_dilation=(1, 1), filter_flip=True)
    ran = _image_threads(monkeypatch, 2, split=False)
    off = _run_all(x, w, gz, kw, "float64")
    assert ran == []
    ran = _image_threads(monkeypatch, 2, split=True)
    on = _run_all(x, w, gz, kw, "float64")
    assert ran == ["forward_image_chunks"] * 2 + ["grad_weights_image_chunks"] * 2  # a thread each
    for a, b in zip(off, on):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("which", ["forward", "grad_weights"])
def test_threaded_images_large_batch_stay_within_the_budget(which, monkeypatch):
    """A batch of 4,096: the column buffers of both threads together stay
    within the budget (a 16th of the whole column matrix)."""
    _image_threads(monkeypatch, 2)
    check_large_batch(which, monkeypatch)


def test_compiled_first_layer_step_agrees_with_py(monkeypatch):
    """A compiled one-channel conv + bias + relu layer and its filter
    gradient on the threaded per-image path: the py backend's values."""
    import symnet
    import symnet.tensor as T
    from symnet.compile.mode import Mode
    from .helpers import use_tmp_cache
    use_tmp_cache()
    ran = _image_threads(monkeypatch, 2)
    rng = np.random.default_rng(6)
    x = T.TensorType("float32", shape=(None, 1, 12, 12))("x")
    w = symnet.shared(rng.normal(size=(6, 1, 5, 5)).astype("float32"), name="w")
    b = symnet.shared(rng.normal(size=6).astype("float32"), name="b")
    h = T.nnet.relu(T.nnet.conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
    loss = T.sum(h * h)
    outs = [loss] + symnet.grad(loss, [w, b])
    xv = rng.normal(size=(9, 1, 12, 12)).astype("float32")
    got = symnet.function([x], outs, mode=Mode("numba", tiered=False))(xv)
    want = symnet.function([x], outs, mode=Mode("py"))(xv)
    assert {"forward_image_chunks", "grad_weights_image_chunks"} <= set(ran)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3)
