"""FunctionGraph: a private, mutable copy of a graph that rewrites edit.

User graphs are never modified: ``function`` clones the graph into a
FunctionGraph, and rewrites replace variables inside it with ``replace``,
which keeps the ``clients`` lists (who uses each variable) consistent.
"""
import weakref

from .basic import RECENT_FGRAPHS, Variable
from .traversal import _full_clone, io_toposort

__all__ = ["FunctionGraph", "MissingInputError"]


class MissingInputError(ValueError):
    """A free variable the outputs need is not among the inputs (raised by
    ``function`` and by ``scan(strict=True)``, hence defined this low)."""


class FunctionGraph:
    """Inputs, outputs and every Apply node between them, with clients.

    Parameters
    ----------
    inputs, outputs : list of Variable
    clone : bool
        Copy the graph first (the default), so the caller's graph is untouched.
    order : list of Apply, optional
        ``io_toposort(inputs, outputs)``, where the caller has walked the
        graph already (``function()``, for the graph cache's key): the
        graph is not walked again, and its first ``toposort`` is this order.
    """

    def __init__(self, inputs, outputs, clone=True, order=None):
        nodes = order
        if clone:
            nodes = None if order is None else []
            memo = _full_clone(list(inputs), list(outputs), copy_inputs=False,
                               order=order, cloned=nodes)
            outputs = [memo[o] for o in outputs]
            self.memo = memo
        else:
            self.memo = {}
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.apply_nodes = set()
        self.clients = {}
        self.variables = set()
        self._listeners = []
        # the last toposort, until an edit: a compile sorts the graph once
        # per pass (about ten times), mostly with no edit in between
        self._order = None
        for v in self.inputs:
            self._add_var(v)
        for node in io_toposort(self.inputs, self.outputs) if nodes is None else nodes:
            self._import_node(node)
        for i, o in enumerate(self.outputs):
            self._add_var(o)
            self.clients[o].append(("output", i))
        if nodes is not None:
            self._order = (list(self.inputs), list(self.outputs), list(nodes))
        RECENT_FGRAPHS.append(weakref.ref(self))   # for Variable.clients

    # -- bookkeeping ---------------------------------------------------
    def _add_var(self, v):
        if v not in self.clients:
            self.clients[v] = []
            self.variables.add(v)

    def _import_node(self, node):
        if node in self.apply_nodes:
            return
        self.apply_nodes.add(node)
        self._order = None
        for i, inp in enumerate(node.inputs):
            self._add_var(inp)
            self.clients[inp].append((node, i))
        for out in node.outputs:
            self._add_var(out)
        for fn in self._listeners:
            fn("import", node)

    def _import_graph(self, var, trace=None):
        """Import every node computing ``var`` that is not yet in the graph
        (with ``trace``, where given, as their user line)."""
        # Walk only the part not yet imported (an explicit stack, no recursion):
        # a replacement then costs its own size, not the whole graph's.
        order, done = [], set()
        stack = [(var, False)]
        while stack:
            v, expanded = stack.pop()
            node = v.owner
            if node is None or node in done or node in self.apply_nodes \
                    or v in self.clients:  # already in the graph (or an input)
                continue
            if expanded:
                done.add(node)
                order.append(node)
                continue
            stack.append((v, True))
            stack.extend((inp, False) for inp in reversed(node.inputs))
        for node in order:
            if trace is not None:
                node.tag["trace"] = trace
            self._import_node(node)
        self._add_var(var)

    def _prune(self, var):
        """Remove the nodes that only fed ``var`` once it has no clients."""
        stack = [var]
        while stack:
            v = stack.pop()
            if self.clients.get(v) or v.owner is None or v.owner not in self.apply_nodes:
                continue
            node = v.owner
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            self._order = None
            for o in node.outputs:
                self.clients.pop(o, None)
                self.variables.discard(o)
            for fn in self._listeners:
                fn("prune", node)
            for i, inp in enumerate(node.inputs):
                cl = self.clients.get(inp)
                if cl is not None:
                    try:
                        cl.remove((node, i))
                    except ValueError:
                        pass
                    stack.append(inp)

    # -- editing -------------------------------------------------------
    def replace(self, old, new, reason=None):
        """Make every client of ``old`` use ``new`` instead."""
        if old is new:
            return
        if old not in self.clients:
            raise ValueError(f"replace: {old} is not in this graph")
        if not old.type.is_compatible(new.type) and old.type != new.type:
            raise TypeError(
                f"replace ({reason or 'manual'}): {old} has type {old.type} but its "
                f"replacement {new} has type {new.type}")
        # The nodes a rewrite built compute what ``old`` did: errors name the
        # user line that built ``old``, not the function() call that rewrote it.
        self._import_graph(new, old.owner.tag.get("trace") if old.owner is not None else None)
        self._order = None      # a client now reads ``new``: the order may change
        for client, i in list(self.clients[old]):
            if client == "output":
                self.outputs[i] = new
            else:
                client.inputs[i] = new
            self.clients[new].append((client, i))
        self.clients[old] = []
        for fn in self._listeners:
            fn("replace", (old, new))
        self._prune(old)

    def replace_all(self, pairs, reason=None):
        for old, new in pairs:
            self.replace(old, new, reason)

    def attach_listener(self, fn):
        self._listeners.append(fn)

    def detach_listener(self, fn):
        self._listeners.remove(fn)

    # -- queries -------------------------------------------------------
    def toposort(self):
        """The apply nodes, dependencies first (a new list each call)."""
        cached = self._order
        # inputs and outputs are public lists: an order sorted for others is stale
        if cached is None or cached[0] != self.inputs or cached[1] != self.outputs:
            cached = self._order = (list(self.inputs), list(self.outputs),
                                    io_toposort(self.inputs, self.outputs))
        return list(cached[2])

    def __len__(self):
        return len(self.apply_nodes)

    def __contains__(self, item):
        if isinstance(item, Variable):
            return item in self.variables
        return item in self.apply_nodes

    def __str__(self):
        return f"FunctionGraph({len(self.apply_nodes)} nodes)"
