"""The CUDA linker (``mode='cuda'``): plan -> device kernels -> thunk.

A second consumer of ``backend.plan`` (the numba linker is the first): it
walks ``plan.steps`` and gives every step a callable run on device arrays.

* A ``Run`` becomes its ``hoisted`` nodes, then ONE fused elementwise kernel
  (``elemwise.FusedKernel``: a grid-stride loop over the run's domain that
  writes only what later steps read), then the run's full sums as block
  tree reductions (``reduction.py``).
* A node runs its CUDA implementation, registered per op class with
  ``register_kernel('cuda', Op)`` by the family modules (``elemwise``,
  ``reduction``, ``nnet``, ``indexing``, ``advanced``, ``blas``, ``shape``,
  ``conv``, ``pool``: the names of ``numba_cpu``'s).  An implementation is
  ``impl(node, rt) -> fn(*input values) -> [outputs]`` and may decline a case
  with NotImplementedError.
* A node without one falls back loudly: ``registry.warn_fallback`` warns
  once per op class (``SYMNET_STRICT`` refuses), its inputs are copied to
  the host and its ``perform`` runs there; later kernels copy its results in.

An implementation returns each result as a buffer it took from
``rt.empty`` (itself, never a view of it), as a view the op declares
(``view_map``), or as a host value: the allocator's bookkeeping relies on it.

Memory (``memory.py``): shared variables of the graph get device storage
when the function is linked (``get_value`` copies out, ``set_value`` in);
explicit inputs are copied to the device once per call; intermediates come
from a caching allocator and go back to it after the plan's ``last_use``
of every variable sharing their buffer; outputs come back as numpy arrays;
the updates stay device arrays, which ``Function`` commits to the device
storage after every output is computed (``fgraph.n_updates``, set by
``function()``, says how many trailing outputs are updates; read at call
time).  ``CudaMode(device_outputs=True)`` returns the outputs as device
arrays instead, each in a buffer of its own.  Calls of one function run one
at a time (a lock): the allocator's bookkeeping is per call.

Errors name the node (``py.linker.node_error``).  Without a GPU and without
the simulator, linking raises ``runtime.CudaUnavailableError`` saying why.
"""
import threading

import numpy as np

from ..._interrupt import reraise_interrupt
from ...compile.mode import Mode
from ...graph.basic import Constant
from ..plan import Run, build_plan
from ..py.linker import node_error, perform_node
from ..registry import kernel_for, register_linker, warn_fallback
from .elemwise import FusedKernel, contiguous, copy_into
from .memory import Allocator, is_device, move_to_device, to_device, to_host
from .runtime import cuda

__all__ = ["CudaLinker", "CudaMode", "cuda_linker", "FAMILIES", "FALLBACK_FAMILIES",
           "FALLBACK_OPS"]

FAMILIES = ("elemwise", "reduction", "nnet", "indexing", "advanced", "blas", "shape", "conv",
            "conv3d", "pool")
# What deliberately runs its ``perform`` on the host (with the fallback
# warning): no CUDA kernel is written for these yet.
# (linalg, decomp and fft are LAPACK/FFT calls on the host; io reads a
# file; the DynamicPool ops come with the integration branch)
# conv_fused, pool_fused: made only by the conv_epilogue and
# local_pool_bias_act_grad rewrites, which Mode runs for numba (a cuda mode
# that includes them by hand runs their perform)
# ("debug": Print must print host values, SpecifyShape is one comparison)
FALLBACK_FAMILIES = ("random", "linalg", "decomp", "fft", "io", "conv_fused", "pool_fused",
                     "debug", "ifelse",
                     "unique", "choose", "blocksparse")
FALLBACK_OPS = ("ArgSort", "BinCount", "CumOp", "Nonzero", "Sort", "ARange", "Repeat", "Tile",
                "_GradOp", "_JacobianOp", "DynamicPool", "DynamicPoolGrad",
                # max pooling's second derivative (rare: Hessians, double backprop)
                "DownsampleFactorMaxGradGrad",
                # never built for cuda: the numba modes' rewrite makes them
                "MaxPoolArgmax", "MaxPoolArgmaxGrad", "SoftmaxCrossentropyWithGrad",
                # a join whose axis comes at run time (rare; Join is the usual node)
                "RuntimeAxisJoin")
SUPPORTED_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                    "uint32", "uint64", "float32", "float64")


def _load_families():
    import importlib
    import importlib.util
    for name in FAMILIES:
        if importlib.util.find_spec(f"{__package__}.{name}") is not None:
            importlib.import_module(f"{__package__}.{name}")


def _tensor_ok(var):
    t = var.type
    return hasattr(t, "ndim") and getattr(t, "dtype", None) in SUPPORTED_DTYPES


class CudaMode(Mode):
    """``Mode('cuda')`` whose function outputs stay on the device
    (``device_outputs=True``: device arrays, e.g. to feed another CUDA
    function or CuPy without a round trip; ``copy_to_host()`` reads one).

    Examples
    --------
    >>> mode = CudaMode(device_outputs=True)
    >>> mode.linker, mode.device_outputs
    ('cuda', True)
    """

    def __init__(self, device_outputs=False, **options):
        super().__init__("cuda", **options)
        self.device_outputs = bool(device_outputs)


class Runtime:
    """What an implementation may use at run time: ``empty`` (a device array
    from the linker's caching allocator, released after its last use)."""

    def __init__(self):
        self.allocator = Allocator()
        self.pooled = {}      # id -> array handed out during the current call

    def empty(self, shape, dtype):
        arr = self.allocator.empty(shape, dtype)
        self.pooled[id(arr)] = arr
        return arr

    def release(self, arr):
        if self.pooled.pop(id(arr), None) is not None:
            self.allocator.release(arr)


class CudaLinker:
    """Compile a FunctionGraph for the GPU (see the module docstring)."""

    backend = "cuda"
    device_values = True    # takes device storage values as they are (Function)

    def __init__(self, fgraph, mode=None):
        cuda()    # raises CudaUnavailableError where no GPU and no simulator
        _load_families()
        self.fgraph = fgraph
        self.mode = mode
        self.plan = plan = build_plan(fgraph, value_ok=_tensor_ok)
        self.rt = Runtime()
        self._lock = threading.Lock()
        self.fallback_nodes = []
        for v in fgraph.inputs:
            if hasattr(v, "container"):
                move_to_device(v)
        # constants: float arrays live on the device from now on (kernels
        # read them every call); scalars and int arrays (shapes, indices) stay
        # on the host, where their readers want them
        self.consts = {}
        for node in plan.order:
            for v in node.inputs:
                if isinstance(v, Constant) and v not in self.consts:
                    data = v.data
                    on_device = isinstance(data, np.ndarray) and data.size > 1 and \
                        data.dtype.kind == "f"
                    self.consts[v] = to_device(data) if on_device else data
        clients = {}
        for node in plan.order:
            for v in node.inputs:
                clients.setdefault(v, set()).add(node)
        self.steps = [self._step(step, clients) for step in plan.steps]
        self.release_at = self._releases()
        self.source = "\n".join(t for t in self._texts())

    @property
    def n_updates(self):
        """How many trailing outputs are updates (``function()`` sets
        ``fgraph.n_updates`` once the thunk is built)."""
        return getattr(self.fgraph, "n_updates", 0)

    @property
    def fresh_outputs(self):
        # outputs are host copies of their own; updates stay device arrays
        n, k = len(self.fgraph.outputs), self.n_updates
        return (True,) * (n - k) + (False,) * k

    # -- link time --------------------------------------------------------------

    def _node(self, node):
        """``[(node, fn(values))]`` running one node."""
        impl = kernel_for("cuda", type(node.op))
        fn = None
        if impl is not None:
            try:
                fn = impl(node, self.rt)
            except NotImplementedError:
                fn = None
        if fn is None:
            warn_fallback("cuda", node.op)
            self.fallback_nodes.append(node)
            return [(node, _host_call(node))]
        return [(node, _device_call(node, fn))]

    def _step(self, step, clients):
        if not isinstance(step, Run):
            return self._node(step)
        parts = []
        for node in step.hoisted:
            parts += self._node(node)
        elem = [n for n in step.nodes if n.outputs[0] not in step.accumulators]
        members = set(elem)
        outs = self.fgraph.outputs
        needed = [n.outputs[0] for n in elem
                  if n.outputs[0] in outs or clients.get(n.outputs[0], set()) - members]
        fused = FusedKernel(elem, needed)
        parts.append((elem, _fused_call(fused, self.rt)))
        for node in step.nodes:
            if node.outputs[0] in step.accumulators:
                parts += self._node(node)
        return parts

    def _releases(self):
        """For each step, the pooled buffers free after it: a buffer is free
        once every variable living in it (views included) was last read."""
        plan = self.plan
        end = {}
        for var, k in plan.last_use.items():
            root = plan.root(var)
            end[root] = max(end.get(root, -1), k)
        for node in plan.order:
            for v in node.outputs:
                root = plan.root(v)
                end.setdefault(root, plan.last_use.get(v, -1))
        at = [[] for _ in plan.steps]
        for root, k in end.items():
            if root in plan.protected or root.owner is None or k >= len(plan.steps):
                continue
            if 0 <= k:
                at[k].append(root)
            else:    # never read: free once its step ran
                step = self._step_of(root.owner)
                if step is not None:
                    at[step].append(root)
        return at

    def _step_of(self, node):
        for k, step in enumerate(self.plan.steps):
            if step is node or (isinstance(step, Run) and
                                (node in step.members or node in step.hoisted)):
                return k
        return None

    def _texts(self):
        for parts in self.steps:
            for _, fn in parts:
                text = getattr(fn, "text", None)
                if text:
                    yield text

    # -- run time -----------------------------------------------------------------

    def __call__(self, *args):
        # one call at a time per function: the allocator's bookkeeping is per
        # call (the GPU's default stream serialises the kernels anyway)
        with self._lock:
            return self._run(args)

    def _run(self, args):
        fg = self.fgraph
        values = dict(self.consts)
        for var, a in zip(fg.inputs, args):
            values[var] = a if (is_device(a) or not _tensor_ok(var)) else to_device(a)
        rt = self.rt
        for k, parts in enumerate(self.steps):
            for _, fn in parts:
                fn(values)
            for root in self.release_at[k]:
                arr = values.get(root)
                if arr is not None and is_device(arr):
                    rt.release(arr)
        n_out = len(fg.outputs) - self.n_updates
        on_device = getattr(self.mode, "device_outputs", False)
        updates = [to_device(values[v]) for v in fg.outputs[n_out:]]
        taken = {id(a) for a in args} | {id(u) for u in updates}
        result = []
        for var in fg.outputs[:n_out]:
            val = values[var]
            if on_device:     # a buffer of its own, as fresh_outputs promises
                result.append(self._own_device(val, taken))
            else:
                result.append(to_host(contiguous(val, rt.empty)) if is_device(val)
                              else np.array(val, copy=True))
        result += updates
        # outputs copied to the host: their buffers go back to the pool; the
        # updates' (and what they view) become the shared storage, as device
        # outputs become the caller's
        kept = fg.outputs[n_out:] if not on_device else fg.outputs
        keep = {id(values[self.plan.root(v)]) for v in kept if self.plan.root(v) in values}
        keep.update(id(r) for r in (result[n_out:] if not on_device else result))
        for arr in list(rt.pooled.values()):
            if id(arr) not in keep:
                rt.release(arr)
        rt.pooled.clear()
        return result


    def _own_device(self, val, taken):
        """A device output in a buffer of its own: a pooled buffer no input,
        update or earlier output holds (ids in ``taken``), else a copy."""
        val = to_device(val)
        if self.rt.pooled.get(id(val)) is not val or id(val) in taken:
            out = self.rt.empty(val.shape, val.dtype)
            val = copy_into(out, val)
        self.rt.pooled.pop(id(val))     # the caller's now, never reused
        taken.add(id(val))
        return val


def _device_call(node, fn):
    def call(values):
        vals = [values[v] for v in node.inputs]
        try:
            outs = fn(*vals)
        except Exception as exc:
            reraise_interrupt(exc)
            raise node_error(exc, node, vals) from exc
        for var, val in zip(node.outputs, outs):
            values[var] = val
    call.text = getattr(fn, "text", None)
    return call


def _host_call(node):
    def call(values):
        vals = [to_host(values[v]) if is_device(values[v]) else values[v]
                for v in node.inputs]
        for var, val in zip(node.outputs, perform_node(node, vals)):
            values[var] = val
    return call


def _fused_call(fused, rt):
    def call(values):
        try:
            values.update(fused(values, rt.empty))
        except Exception as exc:
            reraise_interrupt(exc)
            node = fused.nodes[0]
            raise node_error(exc, node, [values.get(v) for v in node.inputs]) from exc
    call.text = fused.text
    return call


def cuda_linker(fgraph, mode=None):
    """The linker factory registered as 'cuda'."""
    return CudaLinker(fgraph, mode)


register_linker("cuda", cuda_linker)
