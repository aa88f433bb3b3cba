"""Running a compiled graph step by step: the NaN guard, the profile and DebugMode.

``instrument(thunk, ...)`` is called by ``function`` after linking.  When the
mode asks for nothing (no ``nan_guard``, no profile, not a DebugMode) it
returns the backend's thunk itself: no wrapper, no cost.  Otherwise it
returns an :class:`Instrumented` thunk that

* on the py backend runs the nodes itself (as ``PyLinker`` does), timing and
  checking each one;
* on the numba backend lets the generated driver run, which (because
  ``mode.step_hooks`` was set when it was generated) calls ``_step(k, results)``
  after each step: one kernel, one fused loop of several nodes, one driver
  line or one ``perform``.  A step whose results hold a NaN is located by
  re-running the call node by node on py (the exact node inside a fused loop).

Per-step timings are the time between two hook calls, so the steps' times
add up to the driver's whole run; ``FunctionProfile`` also measures each
call as a whole, and ``summary()`` shows both.
"""
import time

import numpy as np

from ..backend.py.linker import PyLinker, node_error
from .monitormode import NodeValues
from .nanguardmode import NanGuardError, input_problem_error, node_problem_error, problem_in

__all__ = ["instrument", "Instrumented", "py_steps"]

_clock = time.perf_counter


def instrument(thunk, fgraph, mode, profile=None, original=None, rewrite_stats=None):
    """``thunk``, wrapped when ``mode`` asks for a guard, a profile or DebugMode."""
    debug = getattr(mode, "is_debug_mode", False)
    if not (getattr(mode, "nan_guard", None) or profile is not None or debug
            or getattr(mode, "monitor", False)):
        return thunk
    return Instrumented(thunk, fgraph, mode, profile, original, rewrite_stats)


def py_steps(linker, inputs, visit, before=None):
    """Run ``linker``'s (a PyLinker) nodes in order; ``visit(i, node, vals,
    results, seconds)`` after each node sees its inputs and outputs and
    returns the outputs to store (it may raise); ``before(i, node, vals)``,
    if given, is called before each node runs.  Returns the graph outputs."""
    slots = [None] * linker.n_slots
    slots[: len(inputs)] = inputs
    for k, v in linker.consts.items():
        slots[k] = v
    with np.errstate(all="ignore"):
        for i, (node, ins, outs) in enumerate(linker.steps):
            vals = [slots[j] for j in ins]
            storage = [[None] for _ in outs]
            if before is not None:
                before(i, node, vals)
            t0 = _clock()
            try:
                node.op.perform(node, vals, storage)
            except Exception as exc:
                raise node_error(exc, node, vals) from exc
            dt = _clock() - t0
            results = visit(i, node, vals, [cell[0] for cell in storage], dt)
            for k, value in zip(outs, results):
                slots[k] = value
    return [slots[k] for k in linker.out_slots]


class Instrumented:
    """A thunk that checks and/or times every step (see the module doc)."""

    def __init__(self, thunk, fgraph, mode, profile, original, rewrite_stats):
        self.inner = thunk
        self.fgraph = fgraph
        self.mode = mode
        self.guard = getattr(mode, "nan_guard", None)
        self.monitor = mode if getattr(mode, "monitor", False) else None
        self.profile = profile
        self.debug = mode if getattr(mode, "is_debug_mode", False) else None
        self.original = original
        self.rewrite_stats = rewrite_stats or {}
        self.source = getattr(thunk, "source", None)
        self.fresh_outputs = getattr(thunk, "fresh_outputs", None)
        linker = getattr(thunk, "linker", None)
        if self.monitor is not None:
            # every node runs through its perform (monitormode.py), whichever
            # backend linked the thunk (SYMNET_FORCE_BACKEND may have chosen one)
            self.backend = "py"
            self.py = thunk if isinstance(thunk, PyLinker) else None
            steps = []
        elif isinstance(thunk, PyLinker):
            self.backend, self.py = "py", thunk
            steps = [([node], node.outputs, "perform", None, None) for node, _, _ in thunk.steps]
        elif linker is not None and getattr(linker, "steps", None) is not None \
                and getattr(getattr(linker, "mode", None), "step_hooks", False):
            # (a driver generated with step hooks: it reports every step, if any)
            self.backend, self.py = "numba", None
            steps = linker.steps
            linker.ns["_step"] = self._on_step
        else:
            raise NotImplementedError(
                f"the {getattr(mode, 'linker', '?')} backend does not support the NaN "
                f"guard, profiling or DebugMode; use mode 'py' or 'numba'")
        self.steps = steps
        self.linker = linker
        if profile is not None:
            profile.attach(self, linker)
        self._fail = None
        self._capture = None
        self._last = 0.0

    # -- numba: the driver's per-step hook -------------------------------------------

    def _on_step(self, k, results):
        now = _clock()
        if self.profile is not None:
            self.profile.add_step(k, now - self._last)
        if self.guard and self._fail is None:
            for j, value in enumerate(results):
                kind = problem_in(value, self.guard)
                if kind:
                    self._fail = (k, j, kind)
                    break
        if self._capture is not None:
            for var, value in zip(self.steps[k][1], results):
                self._capture[var] = value.copy() if isinstance(value, np.ndarray) else value
        self._last = _clock()

    def _py_linker(self):
        if self.py is None:
            self.py = PyLinker(self.fgraph)
        return self.py

    # -- calls --------------------------------------------------------------------

    def __call__(self, *args):
        if self.guard and self.guard.check_inputs:
            for i, (var, value) in enumerate(zip(self.fgraph.inputs, args)):
                kind = problem_in(value, self.guard)
                if kind:
                    raise input_problem_error(kind, var, value, i)
        if self.debug is not None:
            return self.debug.debug_call(self, args)
        t0 = self._last = _clock()
        if self.monitor is not None:    # node by node, whatever the backend
            out = py_steps(self._py_linker(), args, self._visit, self._before)
        elif self.backend == "py":
            try:
                out = py_steps(self.py, args, self._visit)
            except NanGuardError as exc:
                raise self._refine(exc, args) from None
        else:
            self._fail = None
            out = self.inner(*args)
            if self._fail is not None:
                raise self._refine(self._locate(args), args)
        if self.profile is not None:
            self.profile.add_call(_clock() - t0)
        return out

    def _visit(self, i, node, vals, results, dt):
        if self.profile is not None:
            # since the previous step ended, as on numba: the steps add up to the run
            self.profile.add_step(i, _clock() - self._last)
        if self.guard:
            check_results(self.guard, node, vals, results, i)
        if self.monitor is not None and self.monitor.post_func is not None:
            self.monitor.post_func(i, node, NodeValues(vals, results))
        self._last = _clock()
        return results

    def _before(self, i, node, vals):
        if self.monitor.pre_func is not None:
            self.monitor.pre_func(i, node, NodeValues(vals, [None] * len(node.outputs)))

    def original_linker(self):
        """A PyLinker over the graph as the user built it (no rewrites)."""
        if getattr(self, "_orig", None) is None:
            from ..graph.fg import FunctionGraph
            inputs, outputs = self.original
            self._orig = PyLinker(FunctionGraph(inputs, outputs))
        return self._orig

    def _refine(self, exc, args):
        """A bad value found in a node the rewrites fused from several: the
        same call on the graph as built (py, no rewrites, guard on) names the
        user's node inside it, when that graph fails the same way."""
        node = exc.node
        if node is None or self.original is None or \
                type(getattr(node.op, "scalar_op", None)).__name__ != "Composite":
            return exc
        guard = self.guard
        fused = node.op.short_name().replace("\n", " ")[:120]

        def visit(i, n, vals, results, dt):
            check_results(guard, n, vals, results, i,
                          note=f"(after rewrites this node is part of the fused node "
                               f"{fused})")
            return results
        try:
            py_steps(self.original_linker(), args, visit)
        except NanGuardError as found:
            if found.kind == exc.kind:
                return found
        return exc

    def _locate(self, args):
        """The error for a numba step that produced a bad value: the exact node,
        found by re-running the call node by node on py with the guard on."""
        k, j, kind = self._fail
        nodes, out_vars, _, kname, line = self.steps[k]
        step = (f"numba step {k} ({'kernel ' + kname if kname else 'driver'}: {line}) "
                f"computing {len(nodes)} node(s)")
        order = {node: i for i, node in enumerate(self._py_linker().order)}

        def visit(i, node, vals, results, dt):
            check_results(self.guard, node, vals, results, order[node],
                          note=f"found by re-running on py after {step} produced {kind}")
            return results
        try:
            py_steps(self._py_linker(), args, visit)
        except NanGuardError as exc:
            return exc
        node = out_vars[j].owner
        return node_problem_error(
            kind, node, node.outputs.index(out_vars[j]), None, order.get(node),
            note=f"{step} produced it but the py backend does not: a numba backend "
                 f"bug, please report it")


def check_results(guard, node, vals, results, position, note=""):
    """Raise NanGuardError for the first bad value among ``node``'s outputs."""
    for j, value in enumerate(results):
        kind = problem_in(value, guard)
        if kind:
            raise node_problem_error(kind, node, j, vals, position, note)
