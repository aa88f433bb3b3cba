"""The numba driver's tail: updates written into the shared storage.

``backend/update_tail.py`` decides which updates run in place and makes them
the plan's last steps; this module writes their driver lines:

1. one shape check per tail step, all before the first write, so a call
   either writes every in-place update or raises with none written;
2. ``owned(...)``: the destroyed shared values as the kernels may write
   them (C-contiguous, writeable, owning their memory, none given twice:
   otherwise a copy, into which the update then goes and which
   ``Function`` commits as it commits any update);
3. each step's fused loop, whose results are its destroyed arguments
   (``fused.emit_fused`` allocates nothing for them), all called from one
   ``list(starmap(call, ...))``: no Python bytecode runs between two of
   them, so a KeyboardInterrupt cannot fall between two updates.  In a
   split step (``gemm_split.chosen``) the large ones run in row blocks over
   the step's pool, ``_ptail`` (``gemm_split.ptail``), each thread's share
   from one ``starmap`` likewise; in a step on the pool (``step_pool.py``)
   so do the updates reading a product nothing else reads, which is then
   computed there block by block (``_lazy_products``).

The loop reads and writes each parameter through one name, so LLVM sees a
single pointer and vectorizes without a run-time overlap test (separate
output arguments aliasing the inputs made it fall back to scalar code).
"""
import inspect

__all__ = ["owned", "emit_tail", "owned_source"]


def owned(*arrays):
    """``arrays`` as an in-place update may write them: each as given when
    it is C-contiguous, writeable, owns its memory and was not given before
    in this call; otherwise a C-contiguous copy."""
    # (``carray``: C-contiguous, aligned and writeable; the common case, every
    # array fine, returns at once: it is paid on every call of a training step)
    for a in arrays:
        if a.base is not None or not a.flags.carray:
            break
    else:
        if len(set(map(id, arrays))) == len(arrays):
            return arrays
    out = list(arrays)
    seen = set()
    for k, a in enumerate(arrays):
        if a.base is not None or not a.flags.carray or id(a) in seen:
            out[k] = a.copy()
        seen.add(id(a))
    return out


def owned_source():
    """The text of ``owned`` as the driver's ``_owned``, and the names the
    driver's tail calls (for ``f.source``)."""
    return ("from itertools import starmap as _starmap\nfrom operator import call as _call\n\n\n"
            + inspect.getsource(owned).replace("def owned(", "def _owned(", 1))


def emit_tail(writer, runs):
    """Driver lines of the plan's tail ``runs`` (see the module docstring)."""
    names = writer.names
    dest_names = []
    for run in runs:
        dest = list(run.into.values())
        first = names[dest[0]]
        members = set(run.nodes)
        others = {v for node in run.nodes for v in node.inputs
                  if v.owner not in members and v.type.ndim and not all(v.type.broadcastable)}
        cond = [f"{writer.name_of(v)}.shape != {first}.shape"
                for v in sorted(others, key=writer.name_of) if writer.name_of(v) != first]
        who = ", ".join(str(s) for s in dest)
        if cond:
            writer.header(run.nodes[-1], f"# in-place update of {who}: shapes checked "
                                         f"before any update is written")
            writer.drv.append(f"if {' or '.join(cond)}:")
            writer.drv.append(f"    raise ValueError('the update of {_quote(who)}: "
                              f"its terms have other shapes than the shared value')")
        dest_names += [names[s] for s in dest]
    if dest_names:
        lhs = ", ".join(dest_names)
        writer.drv.append(f"{lhs}, = _owned({lhs})")
        writer.contig.update(dest_names)
    calls, moved = [], []
    for run in runs:
        if writer.fused_call(run, into=run.into) is None:
            for k, line in moved:     # called where they are after all
                writer.drv[k] = line
            calls = None
            for node in run.nodes:    # a member the loop cannot express: fresh results
                writer.emit_node(node)
        elif calls is not None and not writer.hooked:
            # the call line (the last: results of ndim > 0 need no dtype fix)
            line = writer.drv[-1]
            lhs, call = line.split(" = ", 1)
            kname, args = call[:-1].split("(", 1)
            moved.append((len(writer.drv) - 1, line))
            writer.drv[-1] = f"# {lhs} = {kname}(...): called below, with the other updates"
            calls.append((lhs, f"({kname}, {args})", writer.tail_rows, run))
    if calls:
        # every kernel of the tail from one C-level loop: no bytecode runs
        # between two of them, so a Ctrl-C arriving meanwhile is raised after
        # the last, never with some updates written and others not
        entries = ", ".join(c[1] for c in calls)
        rows = [c[2] for c in calls]
        split = tuple(k for k, r in enumerate(rows) if r is not None and r[1])
        if writer.pool and all(rows):
            split = _lazy_products(writer, runs, [c[3] for c in calls])
        if split and all(rows):
            # a split step: the large ones in row blocks (gemm_split.ptail);
            # every result is an argument written in place.  A pool step's
            # (step_pool.tail) keeps its own hold: no hold_blas of the linker
            fn = "_pltail" if writer.pool else "_ptail"
            writer.drv.append(f"_t = {fn}(({entries},), {tuple(r[0] for r in rows)!r}, "
                              f"{split!r})")
        else:
            writer.drv.append(f"_t = list(_starmap(_call, ({entries},)))")
        writer.drv += [f"{c[0]} = _t[{k}]" for k, c in enumerate(calls)]


def _lazy_products(writer, runs, called):
    """In a step on the pool (``step_pool.py``): the products only the tail
    reads (a weight gradient for its update) made lazy (``_plazy``,
    ``step_pool.LazyDot``), so each is computed by the tail in row blocks
    right before the update loop over those rows, never whole; returns the
    indices of the tail calls (``called``: the run of each) reading one,
    which ``_pltail`` runs in row blocks over the pool's threads.  A product
    qualifies when it is 2-D, not all broadcastable (so the tail's shape
    check makes it the shape of the value it updates), no output, read by
    tail steps only, and written by a plain ``_pdot`` line (no dtype cast:
    ``blas.dot_driver`` then records its lazy line), with no in-place step
    after it."""
    from ...tensor.ops.blas import Dot
    members = {node for run in runs for node in run.nodes}
    ran = writer.plan.nodes()
    position = {n: k for k, n in enumerate(ran)}
    # a product computed late must read what it would have read: no step
    # after it (before the tail) may write into an array in place (the
    # values the tail itself writes are checked at run time, ptail)
    writes = [k for k, n in enumerate(ran)
              if n not in members and getattr(n.op, "destroy_map", None)]
    lazy = set()
    for run in runs:
        for node in run.nodes:
            for v in node.inputs:
                at = writer.line_at.get(v.owner)
                plain, line = writer.lazy_lines.get(v, (None, None))
                if v in lazy or line is None or at is None or writer.drv[at] != plain or \
                        not isinstance(v.owner.op, Dot) or \
                        v.type.ndim != 2 or all(v.type.broadcastable) or \
                        any(c == "output" or c not in members
                            for c, _ in writer.fg.clients.get(v, ())) or \
                        any(p > position[v.owner] for p in writes):
                    continue
                writer.drv[at] = line
                writer.contig.discard(writer.names[v])
                lazy.add(v)
    return tuple(k for k, run in enumerate(called)
                 if any(v in lazy for node in run.nodes for v in node.inputs))


def _quote(text):
    return text.replace("\\", "\\\\").replace("'", "\\'")
