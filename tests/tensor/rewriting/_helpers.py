"""Shared helpers of the rewrite tests: compile with and without rewrites
and compare values."""
import numpy as np

import symnet
from symnet.compile.mode import Mode
from symnet.tensor.ops.elemwise import Elemwise

PY = Mode("py")
NOFUSE = PY.excluding("fusion", "inplace")
RAW = Mode("py", optimizer=None)


def compare(inputs, outputs, values, mode=NOFUSE, rtol=1e-6, atol=1e-8):
    """Compile ``outputs`` with ``mode`` and without rewrites; assert equal
    values on ``values``; return the rewritten function."""
    f = symnet.function(inputs, outputs, mode=mode, on_unused_input="ignore")
    g = symnet.function(inputs, outputs, mode=RAW, on_unused_input="ignore")
    got, want = f(*[np.copy(v) for v in values]), g(*[np.copy(v) for v in values])
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return f


def op_names(f):
    """Each node's op: the scalar op name for Elemwise, else the class name."""
    return [n.op.scalar_op.name if isinstance(n.op, Elemwise) else type(n.op).__name__
            for n in f.fgraph.toposort()]
