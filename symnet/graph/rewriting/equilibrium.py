"""The worklist equilibrium driver, merging, constant folding, type checks.

``EquilibriumDriver`` applies a set of local rewrites until none fires.  It
starts with every node in topological order and afterwards re-examines only
the nodes a change touched (the clients of a replaced variable, the nodes a
replacement imported, the producers of a pruned node's inputs): rescanning
the whole graph after every change would make a 2,000-node graph quadratic.

Two rewrites are built into the driver because they need its state:

- ``merge``: two nodes applying equal ops to the same inputs compute the same
  values, so the later one is replaced by the earlier (common subexpression
  elimination); constants count as the same input when their
  ``Constant.signature()`` (type and data) are equal.
- ``constant_folding``: a node whose inputs are all constants (and whose op's
  ``do_constant_folding(node)`` agrees) is run once with ``perform`` and
  replaced by a ``TensorConstant``; outputs over ``FOLD_LIMIT`` elements are
  not folded unless an input was already that big, so graphs do not bloat.

The driver counts its work in ``work`` (a Counter, shared by every pass of
one ``rewrite_graph``): ``node_visits`` (nodes taken off the worklist),
``rewrite_attempts`` (local rewrites called), ``rewrites_applied``
(rewrites, merges and folds that changed the graph) and the graph events
it saw (``nodes_imported``, ``nodes_pruned``, ``replacements``).  Each is
bounded by a constant times the number of nodes: tests assert that they
grow linearly with the graph, which timings on a busy machine cannot show.

Ops with ``nondeterministic = True`` (random draws) are never merged or
folded.  Every replacement is type-checked first (``check_replacement``); a
rewrite proposing another dtype, ndim or a contradicting static shape is
reported by name (``RewriteTypeError``).
"""
import collections
import warnings

import numpy as np

from ..basic import Constant
from .db import RewriteTypeError

__all__ = ["EquilibriumDriver", "check_replacement", "FOLD_LIMIT"]

#: largest folded constant (elements) unless an input was that big already
FOLD_LIMIT = 10_000

#: FunctionGraph event -> the work counter it increments
_EVENTS = {"import": "nodes_imported", "prune": "nodes_pruned", "replace": "replacements"}


def check_replacement(name, old, new):
    """Raise ``RewriteTypeError`` naming rewrite ``name`` unless ``new`` may
    stand in for ``old``.

    Same dtype and ndim; static sizes may be less (or more) specific but not
    contradict, and an axis that broadcasts (static size 1) must stay
    broadcastable, since the consumers' broadcasting was decided with it.
    """
    ot, nt = old.type, new.type
    if ot == nt:
        return
    why = None
    if hasattr(ot, "ndim") and hasattr(nt, "ndim") and hasattr(ot, "dtype"):
        if ot.dtype != getattr(nt, "dtype", None):
            why = f"dtype {nt.dtype} instead of {ot.dtype}"
        elif ot.ndim != nt.ndim:
            why = f"{nt.ndim} dimensions instead of {ot.ndim}"
        else:
            for axis, (a, b) in enumerate(zip(ot.shape, nt.shape)):
                if a is not None and b is not None and a != b:
                    why = f"static size {b} instead of {a} on axis {axis}"
                    break
                if a == 1 and b != 1:
                    why = f"axis {axis} no longer broadcastable"
                    break
    elif not ot.is_compatible(nt):
        why = "an incompatible type"
    if why is not None:
        raise RewriteTypeError(
            f"rewrite {name!r} replaced {old} (type {ot}) by {new} (type {nt}): {why}. "
            f"This is a bug in the rewrite; switch it off with "
            f"Mode.excluding({name!r}) meanwhile")


def _normalize(result, node):
    """A rewrite's answer -> list of (old, new) pairs (identity pairs dropped)."""
    if isinstance(result, dict):
        pairs = list(result.items())
    else:
        result = list(result)
        if len(result) != len(node.outputs):
            raise ValueError(f"a rewrite returned {len(result)} replacements for "
                             f"{len(node.outputs)} outputs of {node.op.short_name()}")
        pairs = list(zip(node.outputs, result))
    return [(o, n) for o, n in pairs if n is not None and n is not o]


class EquilibriumDriver:
    """Apply local rewrites (plus merge and constant folding) to a fixed point.

    Parameters
    ----------
    fgraph : FunctionGraph
    rewrites : list of LocalRewrite
    stats : collections.Counter
        Receives ``{rewrite_name: times_fired}``.
    merge, fold : bool
        Run merging / constant folding.
    work : collections.Counter, optional
        Receives the work counters (see the module docstring).
    """

    def __init__(self, fgraph, rewrites, stats, merge=True, fold=True, work=None):
        self.fgraph = fgraph
        self.stats = stats
        self.work = collections.Counter() if work is None else work
        self.merge = merge
        self.fold = fold
        # dispatch tables: op class -> rewrites; (Elemwise class, scalar name) -> rewrites
        self.by_class = collections.defaultdict(list)
        self.by_scalar = collections.defaultdict(list)
        self.generic = []
        for rw in rewrites:
            if rw.tracks is None:
                self.generic.append(rw)
                continue
            for cls in rw.tracks:
                if rw.scalars is None:
                    self.by_class[cls].append(rw)
                else:
                    for s in rw.scalars:
                        self.by_scalar[(cls, s)].append(rw)
        self._cache = {}
        self.seen = {}        # merge key -> first node
        self.signatures = {}  # constant -> its signature (computed once)
        self.queue = collections.deque()
        self.queued = set()

    # -- worklist ------------------------------------------------------------
    def _push(self, node):
        if node is not None and node not in self.queued:
            self.queued.add(node)
            self.queue.append(node)

    def _listen(self, event, payload):
        self.work[_EVENTS[event]] += 1
        if event == "import":
            self._push(payload)
        elif event == "replace":
            # the moved clients were queued by ``_replace``; only they changed
            self._push(payload[1].owner)
        elif event == "prune":
            # a producer losing a client may now match (single-client patterns)
            for inp in payload.inputs:
                if inp.owner is not None:
                    self._push(inp.owner)

    def run(self):
        fg = self.fgraph
        for node in fg.toposort():
            self._push(node)
        budget = 50 * (len(fg.apply_nodes) + 100)
        work = self.work
        fg.attach_listener(self._listen)
        try:
            while self.queue:
                node = self.queue.popleft()
                self.queued.discard(node)
                if node not in fg.apply_nodes:
                    continue
                work["node_visits"] += 1
                budget -= 1
                if budget < 0:
                    warnings.warn("rewriting did not reach a fixed point; stopping "
                                  "(two rewrites may undo each other)", stacklevel=3)
                    break
                self._process(node)
        finally:
            fg.detach_listener(self._listen)
        return self.stats

    def _replace(self, old, new, reason):
        """``fgraph.replace``, queueing the clients that now read ``new``."""
        clients = self.fgraph.clients.get(old)
        if clients is None:
            return  # pruned meanwhile: nothing reads it
        moved = [c for c, _ in clients if c != "output"]
        self.fgraph.replace(old, new, reason=reason)
        for c in moved:
            self._push(c)

    # -- one node -----------------------------------------------------------
    def _candidates(self, node):
        op = node.op
        scalar = getattr(op, "scalar_op", None)
        key = (type(op), getattr(scalar, "name", None))
        found = self._cache.get(key)
        if found is None:
            found = []
            for cls in type(op).__mro__:
                found.extend(self.by_class.get(cls, ()))
                if scalar is not None:
                    found.extend(self.by_scalar.get((cls, scalar.name), ()))
            found.extend(self.generic)
            self._cache[key] = found
        return found

    def _process(self, node):
        if self.merge and self._merge_node(node):
            return
        if self.fold and self._fold(node):
            return
        for rw in self._candidates(node):
            self.work["rewrite_attempts"] += 1
            result = rw.fn(self.fgraph, node)
            if not result:
                continue
            pairs = _normalize(result, node)
            if not pairs:
                continue
            for old, new in pairs:
                check_replacement(rw.name, old, new)
            for old, new in pairs:
                self._replace(old, new, rw.name)
            self.stats[rw.name] += 1
            self.work["rewrites_applied"] += 1
            return

    def _input_key(self, v):
        """Identity for variables; the data signature for constants, so that
        nodes reading equal constants merge without rewiring the constants
        themselves (one constant with thousands of clients would make every
        later replacement pay for that list)."""
        if not isinstance(v, Constant):
            return id(v)
        sig = self.signatures.get(v)
        if sig is None:
            try:
                sig = v.signature()
                hash(sig)
            except TypeError:  # unhashable constant data: identity only
                sig = id(v)
            self.signatures[v] = sig
        return sig

    def _same_input(self, a, b):
        return a is b or (isinstance(a, Constant) and isinstance(b, Constant)
                          and self._input_key(a) == self._input_key(b))

    def _merge_node(self, node):
        op = node.op
        if op.destroy_map or getattr(op, "nondeterministic", False):
            return False
        try:
            key = (op, tuple(self._input_key(v) for v in node.inputs))
            other = self.seen.get(key)
        except TypeError:  # an op with unhashable props: never merged
            return False
        if other is not None and other is not node and other in self.fgraph.apply_nodes \
                and other.op == op and len(other.inputs) == len(node.inputs) \
                and all(self._same_input(a, b) for a, b in zip(other.inputs, node.inputs)):
            for old, new in zip(node.outputs, other.outputs):
                self._replace(old, new, "merge")
            self.stats["merge"] += 1
            self.work["rewrites_applied"] += 1
            return True
        self.seen[key] = node
        return False

    def _fold(self, node):
        if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
            return False
        op = node.op
        if getattr(op, "nondeterministic", False) or not op.do_constant_folding(node):
            return False
        if not all(o.type.can_fold for o in node.outputs):
            return False
        values = [i.data for i in node.inputs]
        if op.destroy_map:  # never let perform write into a constant
            values = [np.array(v, copy=True) for v in values]
        storage = [[None] for _ in node.outputs]
        try:
            with np.errstate(all="ignore"):
                op.perform(node, values, storage)
        except Exception:
            return False  # leave the error to run time, where it names the user line
        biggest = max((np.size(v) for v in values), default=0)
        news = []
        for out, cell in zip(node.outputs, storage):
            size = np.size(cell[0])
            if size > FOLD_LIMIT and size > biggest:
                return False
            new = out.type.folded_constant(cell[0])
            if new is None:
                return False
            news.append(new)
        for old, new in zip(node.outputs, news):
            check_replacement("constant_folding", old, new)
        for old, new in zip(node.outputs, news):
            self._replace(old, new, "constant_folding")
        self.stats["constant_folding"] += 1
        self.work["rewrites_applied"] += 1
        return True
