"""The numba backend's 3-D convolution (vol2col + GEMM over chunks of the
batch): forward and both gradients agree with the py reference over
hypothesis-drawn shapes, border modes, strides, dilations, flips and
groups (``num_groups``), and with the direct-loop oracle
(tests/conv3d_oracle.py); gradients check against finite differences on
both backends; the column buffer of a large batch is bounded by
``COLUMN_BUDGET``, grouped or not; a conv3d step compiles with no Python
perform."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv3d as nconv3d
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import conv_output_length
from symnet.tensor.ops.conv3d import Conv3d, Conv3dGradInputs, Conv3dGradWeights, _pads

from tests.conv3d_oracle import conv3d_loops
from tests.oracles import check_op, examples
from .helpers import use_tmp_cache


def _triple(draw, lo, hi):
    return tuple(draw(st.integers(lo, hi)) for _ in range(3))


@st.composite
def convs(draw):
    """(x shape, w shape, conv3d keywords, dtype) whose output is not empty."""
    k = _triple(draw, 1, 3)
    groups = draw(st.integers(1, 3))
    kw = dict(border_mode=draw(st.one_of(st.sampled_from(["valid", "full", "half"]),
                                         st.tuples(*(st.integers(0, 2),) * 3))),
              subsample=_triple(draw, 1, 2), filter_flip=draw(st.booleans()),
              filter_dilation=_triple(draw, 1, 2), num_groups=groups)
    x_shape = (draw(st.integers(1, 3)), groups * draw(st.integers(1, 2))) + _triple(draw, 1, 5)
    pads = _pads(kw["border_mode"], k, kw["filter_dilation"])
    assume(all(conv_output_length(*a) > 0 for a in
               zip(x_shape[2:], k, pads, kw["subsample"], kw["filter_dilation"])))
    return (x_shape, (groups * draw(st.integers(1, 2)), x_shape[1] // groups) + k, kw,
            draw(st.sampled_from(["float32", "float64"])))


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=convs(), seed=st.integers(0, 2 ** 16))
def test_conv3d_and_its_gradients_agree_with_py(case, seed):
    x_shape, w_shape, kw, dtype = case
    use_tmp_cache()
    rng = np.random.default_rng(seed)
    def ref(x, w):
        y = conv3d_loops(x, w, **kw)
        return [y, *conv3d_loops(x, w, **kw, gy=2 * y)]
    # the output and both gradients (of a loss quadratic in it): one graph,
    # on py and numba against the loop oracle
    check_op(lambda x, w: [y := T.nnet.conv3d(x, w, **kw),
                           *symnet.grad(T.sum(y * y), [x, w])],
             [rng.normal(size=s).astype(dtype) for s in (x_shape, w_shape)],
             ref=ref, static_shapes=True)


@pytest.mark.parametrize("kw", [dict(border_mode="valid"),
                                dict(border_mode="half", subsample=(2, 1, 1),
                                     filter_flip=False),
                                dict(border_mode=(1, 0, 1), filter_dilation=(1, 2, 1)),
                                dict(border_mode="full", subsample=(1, 1, 2)),
                                dict(border_mode="half", subsample=(1, 2, 1), num_groups=2),
                                dict(border_mode=(0, 1, 1), filter_dilation=(1, 1, 2),
                                     filter_flip=False, num_groups=2)])
def test_conv3d_gradients_by_finite_differences_on_both_backends(kw):
    use_tmp_cache()
    rng = np.random.default_rng(2)
    g = kw.get("num_groups", 1)
    xv, wv = rng.normal(size=(2, 2, 4, 5, 4)), rng.normal(size=(2 * g, 2 // g, 2, 3, 2))
    for backend in ("numba", "py"):
        verify_grad(lambda x, w: T.nnet.conv3d(x, w, **kw), [xv, wv],
                    rng=np.random.RandomState(1), mode=Mode(backend))


def _perform(op, *inputs):
    out = [[None]]
    op.perform(op.make_node(*inputs), list(inputs), out)
    return out[0][0]


@pytest.fixture
def column_bytes(monkeypatch):
    """The bytes of every column buffer conv3d allocates, recorded."""
    sizes, real = [], nconv3d._alloc
    monkeypatch.setattr(nconv3d, "_alloc", lambda shape, dtype: sizes.append(
        int(np.prod(shape)) * np.dtype(dtype).itemsize) or real(shape, dtype))
    return sizes


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("which", ["forward", "grad_weights", "grad_inputs"])
def test_large_batch_never_allocates_the_whole_column_matrix(which, groups, monkeypatch,
                                                             column_bytes):
    rng = np.random.default_rng(0)
    b = 4096
    x, w, gz = (rng.normal(size=s).astype("float32") for s in
                ((b, 2, 3, 3, 3), (2 * groups, 2 // groups, 2, 2, 2), (b, 2 * groups, 2, 2, 2)))
    whole = b * 2 * 8 * 8 * 4                # bytes of the full column matrix (all groups)
    from symnet.backend.numba_cpu import conv as nconv
    monkeypatch.setattr(nconv, "COLUMN_BUDGET", whole // 16)
    args = ("valid", (1, 1, 1), (1, 1, 1), True, "float32", groups)
    got, want = {
        "forward": lambda: (nconv3d.conv3d_forward(x, w, *args),
                            _perform(Conv3d(num_groups=groups), x, w)),
        "grad_weights": lambda: (nconv3d.conv3d_grad_weights(x, gz, w.shape, *args),
                                 _perform(Conv3dGradWeights(num_groups=groups), x, gz,
                                          np.array(w.shape))),
        "grad_inputs": lambda: (nconv3d.conv3d_grad_inputs(w, gz, x.shape, *args),
                                _perform(Conv3dGradInputs(num_groups=groups), w, gz,
                                         np.array(x.shape))),
    }[which]()
    # one buffer, within the budget: a group's columns are 1/groups of the chunk's
    assert len(column_bytes) == 1 and column_bytes[0] <= whole // 16
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_conv3d_step_has_no_python_perform(monkeypatch):
    """A conv3d + pool_3d step and its gradient compile with no fallback."""
    from symnet.tensor.ops.pool import pool_3d
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    x = T.tensor5("x", dtype="float32")
    w = symnet.shared(np.random.default_rng(0).normal(size=(3, 1, 3, 3, 3)).astype("float32"))
    h = pool_3d(T.maximum(T.nnet.conv3d(x, w, border_mode="half"), 0), (2, 2, 2),
                ignore_border=True)
    loss = T.mean(h ** 2)
    g = symnet.grad(loss, w)
    f = symnet.function([x], [loss, g], mode=Mode("numba"))
    fp = symnet.function([x], [loss, g], mode=Mode("py"))
    assert "Python perform" not in f.source
    xv = np.random.default_rng(1).normal(size=(2, 1, 4, 6, 6)).astype("float32")
    for a, b in zip(f(xv), fp(xv)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_mismatched_channels_name_both_shapes():
    x = np.zeros((1, 2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"2 channels, filters expect 3 .*\(1, 2, 3, 3, 3\)"):
        nconv3d.conv3d_forward(x, np.zeros((1, 3, 2, 2, 2)), "valid", (1, 1, 1), (1, 1, 1),
                               True, "float64")
    with pytest.raises(ValueError, match="do not fit"):
        nconv3d.conv3d_forward(x, np.zeros((1, 2, 4, 2, 2)), "valid", (1, 1, 1), (1, 1, 1),
                               True, "float64")


def test_grouped_shapes_that_do_not_split_name_both_shapes():
    x, args = np.zeros((1, 4, 3, 3, 3)), ("valid", (1, 1, 1), (1, 1, 1), True, "float64", 2)
    with pytest.raises(ValueError, match=r"4 channels, filters expect 3 .*per group of "
                                         r"num_groups=2"):
        nconv3d.conv3d_forward(x, np.zeros((6, 3, 2, 2, 2)), *args)
    with pytest.raises(ValueError, match=r"4 input channels and 3 filters \(shapes "
                                         r"\(1, 4, 3, 3, 3\) and \(3, 2, 2, 2, 2\)\)"):
        nconv3d.conv3d_forward(x, np.zeros((3, 2, 2, 2, 2)), *args)
    with pytest.raises(ValueError, match=r"filter gradient.*\(num_groups=2\)"):
        nconv3d.conv3d_grad_weights(x, np.zeros((1, 4, 2, 2, 2)), (4, 3, 2, 2, 2), *args)
    with pytest.raises(ValueError, match=r"input gradient.*\(num_groups=2\)"):
        nconv3d.conv3d_grad_inputs(np.zeros((4, 3, 2, 2, 2)), np.zeros((1, 4, 2, 2, 2)),
                                   x.shape, *args)


@pytest.mark.parametrize("groups", [1, 2])
def test_read_only_inputs(groups):
    """Constants and frozen arrays reach the loops read-only (a group's
    channels as a read-only view)."""
    rng = np.random.default_rng(7)
    x, w, gz = (rng.normal(size=s) for s in ((2, 2, 3, 4, 3), (2, 2 // groups, 2, 2, 2),
                                             (2, 2, 2, 3, 2)))
    args = ("valid", (1, 1, 1), (1, 1, 1), True, "float64", groups)
    want = [nconv3d.conv3d_forward(x, w, *args), nconv3d.conv3d_grad_weights(x, gz, w.shape, *args),
            nconv3d.conv3d_grad_inputs(w, gz, x.shape, *args)]
    for a in (x, w, gz):
        a.setflags(write=False)
    got = [nconv3d.conv3d_forward(x, w, *args), nconv3d.conv3d_grad_weights(x, gz, w.shape, *args),
           nconv3d.conv3d_grad_inputs(w, gz, x.shape, *args)]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
