"""``function(..., profile=True)``: where a compiled function spends its time.

``f.profile`` is a :class:`FunctionProfile`.  It is a dict of the compile
times (``'build'``, ``'rewrite'``, ``'link'``, and on numba ``'codegen'``,
``'compile'``) for every function; with ``profile=True`` it also collects,
at every call, the time of each step the backend runs (one node on py; one
kernel, fused loop, driver line or ``perform`` on numba), and
``f.profile.summary()`` prints per step, per node and per op class: calls,
total and mean time and share of the run, then the compile-time breakdown
(rewrites that fired, codegen, numba compile, kernels found in the cache).
"""
import sys
from collections import defaultdict

__all__ = ["FunctionProfile"]


class FunctionProfile(dict):
    """Compile times (dict items) plus, when profiling, per-step run times.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x, W = T.vector('x'), T.matrix('W')
    >>> f = symnet.function([W, x], T.tanh(T.dot(W, x)), mode='py', profile=True)
    >>> _ = f(np.ones((3, 3), dtype='float32'), np.ones(3, dtype='float32'))
    >>> f.profile.calls, sorted(f.profile.op_class_times())
    (1, ['Dot', 'Elemwise'])
    >>> 'rewrite' in f.profile and 'Compile:' in f.profile.text()
    True
    """

    def __init__(self, times, name=None, rewrite_stats=None, n_nodes=0):
        super().__init__(times)
        self.name = name
        self.rewrite_stats = dict(rewrite_stats or {})
        self.n_nodes = n_nodes
        self.enabled = False
        self.steps = []          # (nodes, results, kind, kernel, driver line)
        self.backend = None
        self.order = {}
        self.calls = 0
        self.call_time = 0.0     # measured around each call as a whole
        self.step_time = []
        self.step_calls = []
        self.step_best = []
        self.kernels = 0
        self.cache_hits = 0
        self.llvm_kernels = 0     # built by the llvm emitter (named L<n>)

    def attach(self, instrumented, linker):
        """Start collecting for ``instrumented`` (an ``instrument.Instrumented``)."""
        self.enabled = True
        self.backend = instrumented.backend
        self.steps = instrumented.steps
        self.order = {node: i for i, node in enumerate(instrumented.fgraph.toposort())}
        self.reset()
        if linker is not None:
            kernels = getattr(linker, "kernels", {})
            self.kernels = len(kernels)
            # a numba kernel loaded on its first call, an llvm one whose module
            # was loaded (llvm/jit.py)
            self.cache_hits = sum(type(k).__name__ == "_LazyKernel" or
                                  getattr(k, "from_cache", False) for k in kernels.values())
            self.llvm_kernels = sum(hasattr(k, "llvm_source") for k in kernels.values())
            self.update(getattr(linker, "times", {}))

    def reset(self):
        """Forget the run times so far (e.g. the first call, which on numba
        also loads the kernels from the cache)."""
        self.calls, self.call_time = 0, 0.0
        self.step_time = [0.0] * len(self.steps)
        self.step_calls = [0] * len(self.steps)
        self.step_best = [float("inf")] * len(self.steps)

    def add_step(self, k, seconds):
        self.step_time[k] += seconds
        self.step_calls[k] += 1
        if seconds < self.step_best[k]:
            self.step_best[k] = seconds

    def add_call(self, seconds):
        self.calls += 1
        self.call_time += seconds

    # -- reading ------------------------------------------------------------------

    @property
    def steps_time(self):
        """The steps' times added up (all calls)."""
        return sum(self.step_time)

    def node_times(self, best=False):
        """{node: seconds in all calls}, or with ``best`` the shortest time of
        one call (which a busy machine disturbs least); a fused loop's time
        is split evenly among its nodes."""
        out = defaultdict(float)
        times = self.step_time if not best else \
            [t if n else 0.0 for t, n in zip(self.step_best, self.step_calls)]
        for (nodes, *_), t in zip(self.steps, times):
            for node in nodes:
                out[node] += t / len(nodes)
        return dict(out)

    def op_class_times(self):
        """{op class name: (seconds, number of nodes)}."""
        out = {}
        for node, t in self.node_times().items():
            name = type(node.op).__name__
            s, n = out.get(name, (0.0, 0))
            out[name] = (s + t, n + 1)
        return out

    def kernel_times(self):
        """numba: {kernel name: (seconds, number of steps calling it)}; one
        kernel serves every node whose code is the same."""
        out = {}
        for (_, _, kind, kname, _), t in zip(self.steps, self.step_time):
            if kind == "kernel" and kname:
                s, n = out.get(kname, (0.0, 0))
                out[kname] = (s + t, n + 1)
        return out

    def _step_label(self, k):
        nodes, _, kind, kname, line = self.steps[k]
        ids = ", ".join(str(self.order.get(n, "?")) for n in nodes)
        if len(nodes) > 1:
            return f"fused loop {kname} (nodes {ids}: " + \
                "; ".join(n.op.short_name() for n in nodes)[:70] + ")"
        what = {"kernel": f"kernel {kname}", "driver": "driver line",
                "perform": "perform"}.get(kind, kind)
        text = f"node {ids}: {nodes[0].op}"
        if self.backend == "numba":
            text += f"  [{what}: {line[:60]}]" if line else f"  [{what}]"
        return text

    def text(self, top=20):
        """The summary as a string (see ``summary``)."""
        head = f"Function profile{' of ' + self.name if self.name else ''}"
        lines = [head, "=" * len(head)]
        if not self.enabled:
            lines.append("run times: not collected (compile with function(..., "
                         "profile=True))")
        else:
            total = self.steps_time or 1e-12
            lines.append(f"{self.calls} call(s), {self.call_time:.6f} s in all; the steps "
                         f"below add up to {self.steps_time:.6f} s "
                         f"({100 * self.steps_time / (self.call_time or 1e-12):.1f} % of "
                         f"the calls); backend {self.backend}")
            lines += ["", f"Steps ({'one node each' if self.backend == 'py' else 'kernels, fused loops, driver lines'}), "
                      f"slowest first:",
                      "  share    total s    mean us  calls  step"]
            ranked = sorted(range(len(self.steps)), key=lambda k: -self.step_time[k])
            for k in ranked[:top]:
                t, n = self.step_time[k], self.step_calls[k]
                lines.append(f"  {100 * t / total:5.1f}%  {t:9.6f}  {1e6 * t / max(n, 1):9.1f}"
                             f"  {n:5d}  {self._step_label(k)}")
            if len(ranked) > top:
                lines.append(f"  ... {len(ranked) - top} more steps")
            lines += ["", "Op classes (a fused loop's time split evenly among its nodes):",
                      "  share    total s  nodes  op class"]
            for name, (t, n) in sorted(self.op_class_times().items(), key=lambda kv: -kv[1][0]):
                lines.append(f"  {100 * t / total:5.1f}%  {t:9.6f}  {n:5d}  {name}")
            kernels = self.kernel_times()
            if kernels:
                lines += ["", "Kernels (each may serve several steps):",
                          "  share    total s  steps  kernel"]
                for name, (t, n) in sorted(kernels.items(), key=lambda kv: -kv[1][0])[:top]:
                    lines.append(f"  {100 * t / total:5.1f}%  {t:9.6f}  {n:5d}  {name}")
        lines += ["", "Compile:"]
        for key in ("build", "rewrite", "link", "codegen", "compile"):
            if key in self:
                label = {"codegen": "  codegen (numba source)",
                         "compile": "  numba compile/load"}.get(key, key)
                if self.llvm_kernels:
                    label = {"codegen": "  codegen (numba source, llvm IR)",
                             "compile": "  compile/load (llvm modules, numba kernels)"
                             }.get(key, label)
                lines.append(f"  {label}: {self[key]:.3f} s")
        if self.kernels:
            by = f" ({self.llvm_kernels} by the llvm emitter: L*)" if self.llvm_kernels else ""
            lines.append(f"  kernels: {self.kernels} distinct{by}, {self.cache_hits} found in "
                         f"the kernel cache")
        fired = sorted(self.rewrite_stats.items(), key=lambda kv: -kv[1])
        if fired:
            lines.append("  rewrites applied: " + ", ".join(f"{n} x{c}" for n, c in fired[:top]))
        return "\n".join(lines)

    def summary(self, file=None, top=20):
        """Print the profile (``top`` rows per table) to ``file`` (stdout)."""
        print(self.text(top), file=file or sys.stdout)
