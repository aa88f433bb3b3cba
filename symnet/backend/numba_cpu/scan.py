"""Scan in the numba backend: the loop is written into the generated driver.

A ``Scan`` node becomes a ``for`` loop in the outer graph's driver (not an
``Op.perform`` fallback).  Its inner graph is compiled by the same backend,
with the outer function's mode, when the outer graph is generated; the
loop calls that inner driver (its kernels, no ``Function.__call__``) once
per step.  Before the loop the driver preallocates every output's storage
for all steps; a recurrent output's buffer holds its initial taps followed
by the steps, and the taps of step ``t`` are read from it by index.  An
output the op keeps only the last ``m`` steps of (``op.keep``, set by the
``scan_keep_last`` rewrite) lives in a ring of ``max(lag + 1, m)`` slots.

Errors are those of ``Scan.perform`` (same messages); the driver names the
node that raised.
"""
from ...graph.compiler import get_compiler
from ...scan.op import Scan
from .dispatch import driver_op

__all__ = ["inner_function"]


def inner_function(op, mode):
    """The inner graph of ``op`` compiled for ``mode`` (once per op and mode
    linker); an explicit ``scan(mode=...)`` wins over the outer mode."""
    inner_mode = op.mode if op.mode is not None else mode
    key = (getattr(inner_mode, "linker", inner_mode), getattr(inner_mode, "parallel", False),
           bool(getattr(inner_mode, "step_hooks", False)))
    cache = op.__dict__.setdefault("_backend_fns", {})
    if key not in cache:
        fn = get_compiler(str(op))(op.inner_inputs, op.inner_outputs,
                                   mode=inner_mode if inner_mode is not None else "numba",
                                   on_unused_input="ignore", name=f"{op}.inner")
        cache[key] = fn.thunk
    return cache[key]


@driver_op(Scan)
def scan_driver(node, ins, outs, writer):
    op = node.op
    inner = inner_function(op, writer.mode)
    fn = writer.object_const(inner)
    text = getattr(inner, "source", None) or "(no source: another backend)"
    writer.src.appendix.append(
        f"# -- {fn}: the inner graph of {op} (called once per step), its own source\n"
        + "\n".join("# " + ln if ln else "#" for ln in text.splitlines()))
    p = f"_{outs[0]}"           # a prefix for this loop's locals
    n, seqs = f"{p}n", ins[1:1 + op.n_seqs]
    inits = ins[1 + op.n_seqs:1 + op.n_seqs + op.n_states]
    nonseqs = ins[1 + op.n_seqs + op.n_states:]
    keep = op.keep_last()
    q = repr(str(op))           # the op's name, quoted for the generated source
    L = [f"{n} = int({ins[0]})",
         f"if {n} < 0:",
         f"    raise ValueError({q} + ': n_steps must be >= 0, got %d' % {n})"]
    for k, s in enumerate(seqs):
        L += [f"if {s}.shape[0] < {n}:",
              f"    raise ValueError({q} + ': sequence {k} has %d steps but the loop runs "
              f"%d steps' % ({s}.shape[0], {n}))"]
    bufs, si = [], 0
    for j, (t, lag, m) in enumerate(zip(op.taps, op.lags, keep)):
        b, dt = f"{p}b{j}", node.outputs[j].type.dtype
        bufs.append(b)
        if t is None:
            L.append(f"{b} = None")
            continue
        init = inits[si]
        si += 1
        size = f"{lag} + {n}" if m is None else f"{max(lag + 1, m)}"
        L += [f"if {init}.shape[0] != {lag}:",
              f"    raise ValueError({q} + ': the initial buffer of recurrent output "
              f"{si - 1} has %d entries, its taps {t} need {lag}' % {init}.shape[0])",
              f"{b} = _np.empty(({size},) + {init}.shape[1:], _np.{dt})",
              f"{b}[:{lag}] = {init}"]
    t_ = f"{p}t"
    step = [f"{s}[{t_}]" for s in seqs]
    for t, lag, m, b in zip(op.taps, op.lags, keep, bufs):
        if t is not None:
            step += [_slot(b, f"{t_} + {lag + k}", lag, m) for k in t]
    r = f"{p}r"
    L.append(f"for {t_} in range({n}):")
    L.append(f"    {r} = {fn}({', '.join(step + list(nonseqs))})")
    for j, (t, lag, m, b) in enumerate(zip(op.taps, op.lags, keep, bufs)):
        dt = node.outputs[j].type.dtype
        if t is None:
            size = n if m is None else f"min({n}, {m})"
            L += [f"    if {b} is None:",
                  f"        {b} = _np.empty(({size},) + _np.shape({r}[{j}]), _np.{dt})",
                  f"    elif _np.shape({r}[{j}]) != {b}.shape[1:]:",
                  f"        raise ValueError({q} + ': step %d returned shape %s for output "
                  f"{j}, earlier steps %s' % ({t_}, _np.shape({r}[{j}]), {b}.shape[1:]))",
                  f"    {_slot(b, t_, 0, m, ring=None if m is None else size)} = {r}[{j}]"]
            continue
        L += [f"    if _np.shape({r}[{j}]) != {b}.shape[1:]:",
              f"        raise ValueError({q} + ': step %d returned shape %s for recurrent "
              f"output {j}, whose state has shape %s; the step function must keep the "
              f"shape of outputs_info' % ({t_}, _np.shape({r}[{j}]), {b}.shape[1:]))",
              f"    {_slot(b, f'{t_} + {lag}', lag, m)} = {r}[{j}]"]
    for j, (t, lag, m, b, o) in enumerate(zip(op.taps, op.lags, keep, bufs, outs)):
        dt = node.outputs[j].type.dtype
        if t is None:
            rest = tuple(s or 0 for s in node.outputs[j].type.shape[1:])
            L.append(f"{o} = {b} if {b} is not None else _np.zeros((0,) + {rest}, _np.{dt})")
            if m is not None:   # the ring in step order
                L.append(f"{o} = _np.ascontiguousarray(_np.roll({o}, -({n} % {o}.shape[0]) "
                         f"if {o}.shape[0] else 0, axis=0))")
        elif m is None:
            L.append(f"{o} = {b}[{lag}:]")
        else:
            # the last min(n, m) steps, in order, out of the ring
            L.append(f"{o} = {b}[_np.arange({lag} + {n} - min({n}, {m}), {lag} + {n}) "
                     f"% {b}.shape[0]]")
    return L, True


scan_driver.takes_writer = True


def _slot(buf, index, lag, m, ring=None):
    """``buf[index]``, wrapped around the ring when only ``m`` steps are kept."""
    if m is None:
        return f"{buf}[{index}]"
    size = ring if ring is not None else max(lag + 1, m)
    return f"{buf}[({index}) % {size}]"
