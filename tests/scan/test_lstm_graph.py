"""The graph symnet builds for the gradient of Lasagne's ``LSTMLayer``, after
the scan rewrites: the backward loop does one GEMM per step (``delta @
W_hid.T``); the weight gradients are one GEMM each over every step's rows
after the loop (as PyTorch's LSTM backward does), not a rank-``batch``
update per step; values as without the scan rewrites."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot

STEPS, BATCH, N_IN, HID = 5, 3, 4, 6


def build(mode):
    from symnet.layers import InputLayer, LSTMLayer, get_all_params, get_output
    l_in = InputLayer((BATCH, STEPS, N_IN))
    net = LSTMLayer(l_in, HID, only_return_final=True)
    loss = T.sum(get_output(net) ** 2)
    params = get_all_params(net, trainable=True)
    grads = symnet.grad(loss, params)
    return symnet.function([l_in.input_var], [loss] + grads, mode=mode), params


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_weight_gradients_are_one_gemm_each_after_the_loop(mode):
    f, params = build(Mode(mode))
    fwd, bwd = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    inner = io_toposort(bwd.op.inner_inputs, bwd.op.inner_outputs)
    (dot,) = [n for n in inner if isinstance(n.op, Dot)]     # delta @ W_hid.T only
    assert dot.outputs[0].type.shape[-1] == HID
    # no accumulator carried back for a weight: only the two states' gradients
    assert bwd.op.n_states == 2
    outer = [n for n in f.fgraph.toposort() if isinstance(n.op, Dot)]
    # products by the stacked gate gradients (their rows: every step's batch
    # rows, no static size): W_hid's and W_in's gradients, one GEMM each
    by_gates = [n for n in outer if n.inputs[1].type.shape[0] is None
                and n.inputs[1].type.shape[-1] == 4 * HID]
    assert len(by_gates) == 2 and all(v.ndim == 2 for n in by_gates for v in n.inputs)
    x = np.random.default_rng(2).normal(size=(BATCH, STEPS, N_IN)).astype("float32")
    ref, ref_params = build(Mode("py", exclude=("scan",)))
    for p, q in zip(params, ref_params):
        q.set_value(p.get_value())
    # without the scan rewrites BPTT carries the weights' sums step by step
    (rb,) = [n for n in ref.fgraph.toposort() if isinstance(n.op, Scan)
             and (n.op.name or "").startswith("grad_of")]
    rinner = io_toposort(rb.op.inner_inputs, rb.op.inner_outputs)
    assert rb.op.n_states > 2 and sum(isinstance(n.op, Dot) for n in rinner) > 1
    for got, want in zip(f(x), ref(x)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)


def _kernel_steps(plan):
    """The steps of ``plan`` that run an elementwise loop (runs and single
    elementwise nodes)."""
    from symnet.backend.plan import Run
    from symnet.tensor.ops.elemwise import Elemwise
    return [s for s in plan.steps if isinstance(s, Run) or isinstance(s.op, Elemwise)]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_graphs_fuse_over_the_batch_size(kind):
    # numba compiles each loop's step graph with ``scan_step`` set: its plan
    # fuses elementwise nodes over sizes they require equal (every step
    # input's batch size is unknown, read from different variables), so
    # the steps run fewer loops; values as the py backend's
    from symnet.backend.numba_cpu.linker import is_tensor
    from symnet.backend.numba_cpu.budget import RunBudget
    from symnet.backend.numba_cpu.scan import inner_function
    from symnet.backend.plan import build_plan
    from tests.scan._recurrent import layer_case
    ins, outs, args = layer_case(kind, HID, np.random.default_rng(3))
    f = symnet.function(ins, outs, mode=Mode("numba", tiered=False))
    scans = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(scans) == 2
    fewer = 0
    for node in scans:
        linker = inner_function(node.op, f.mode).linker
        assert linker.mode.scan_step
        plain = build_plan(linker.fgraph, value_ok=is_tensor, budget=RunBudget,
                           column_sums=True)
        got, before = len(_kernel_steps(linker.plan)), len(_kernel_steps(plain))
        assert got <= before
        fewer += got < before
    assert fewer >= 1
    ref = symnet.function(ins, outs, mode="py")
    for got, want in zip(f(*args), ref(*args)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-5)
