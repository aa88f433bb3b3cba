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

The step writes what it can straight into the buffers (the out=
protocol, round 11): the inner driver is ``run(*step_inputs, _o=slots)``,
``slots`` holding per output the view of its slot for this step (or None);
its llvm kernels, joins and GEMMs computing an output, or an output with
leading broadcast axes added (BPTT's ``g[None]`` states), write into the
slot when it fits (``codegen.into``) and return it, and the loop stores only
the outputs returned in another array.  Which outputs a compiled step may
write so is recorded on its source (``codegen.Source.given``, the thunk's
``given_outputs``): W8's forward step stored 7 arrays a step, its BPTT step
a (32, 1024) join and two states; call of W8, main / branch, three
alternating rounds of 10 x 5 calls under the bench lock: medians 70.2-71.8
against 64.9-67.1 ms (load 2.0), 60.1-61.3 against 57.3-57.8 ms (load 1.2);
``bench/w8_lstm.py``: 59.5 and 60.6 against 57.9 and 58.0 ms (PyTorch
59.8-60.5), the masked GRU 50.3 and 50.2 against 46.5 and 46.9 ms.  Under
step hooks (``profile=True``, DebugMode) the step takes no buffers.

Errors are those of ``Scan.perform`` (same messages); the driver names the
node that raised.

When the mode asks for njit drivers (``SYMNET_NUMBA_NJIT_DRIVER=1``, see
``njit_driver.py``) and the inner graph qualifies (every node a kernel or
an njit-able template -- views, constant slices, joins, reshapes, and
``Dot`` of 2-D float matrices through ``lib/cblas.py``'s GEMM, so an LSTM's
or GRU's step qualifies --, no 0-d step values, every step of an output
without taps kept; a state may live in a ring, as in the Python loop), the
whole loop is ONE njit function calling the inner graph's njit ``drive``
per step (``njit_loop``): no Python at all between steps.  The Python loop
stays in the driver for the case numba cannot compile it (a warning says
so).

The loop takes the inner kernels, the GEMM (``lib/cblas.py``'s ``dot``,
compiled once per dtype for any layout) and ``drive`` (compiled for the
step's types) as arguments called by their native address
(``kernel_ref.py``), so numba compiles only the loop's own body: linked in
(``BY_ADDRESS = False``, as in round 3), every kernel was optimized and
machine-coded again inside each loop.  Step values are copied into the
loop's buffers by element loops, and ``drive`` has one call site: numba's
``buf[t] = array`` and a peeled first step cost seconds of compile each.

It stays opt-in, by measurement (W8, LSTM forward + BPTT + Adam, on 2
shared cores under load 3-10, so only ratios): cold compiles (build +
first call, fresh caches) took 2.1x the Python loop's time (40 vs 19 s at
load 5; 101 vs 45-59 s at load 8, and 126 s with the kernels linked in as
in round 3): the two loops and their drives compile for 5-9 s and the GEMM
for ~6 s once per machine.  Warm (cached) compiles were shorter (2.2 vs
3.5 s).  Steps, one BLAS thread, interleaved, 25 each: LSTM medians 211 vs
235 ms (minima 185 vs 213), masked GRU 162 vs 170 ms (minima 147 vs 150).
Round 5 (load 5, fresh caches, W8 build + first call): 22.5 s Python loop
against 57.8 s njit loop, warm 5.9 vs 5.7 s; of the difference, compiling
``lib/cblas.py``'s ``dot`` for (A, A) arrays alone took 4.1-8.5 s (a
variant reading the layouts from integer strides, one ``_gemm`` call site:
2.6-3.7 s), so the loop stays opt-in.
"""
import warnings

import numpy as np

from ...compile.mode import get_mode
from ...configdefaults import config
from ...graph.compiler import get_compiler
from ...scan.op import Scan
from ...tensor.ops.blas import Dot
from . import njit_driver
from .codegen import kernel_module
from .dispatch import driver_op

__all__ = ["inner_function", "inner_constant"]


def inner_function(op, mode):
    """The inner graph of ``op`` compiled for ``mode`` (once per op and mode
    linker); an explicit ``scan(mode=...)`` wins over the outer mode."""
    inner_mode = op.mode if op.mode is not None else mode
    key = (getattr(inner_mode, "linker", inner_mode), getattr(inner_mode, "parallel", False),
           bool(getattr(inner_mode, "step_hooks", False)))
    cache = op.__dict__.setdefault("_backend_fns", {})
    if key not in cache:
        step_mode = get_mode(inner_mode if inner_mode is not None else "numba")
        if step_mode.linker == "numba":
            # the step's elementwise nodes fuse over sizes they require equal
            # (the plan's ``unify_sizes``): W8's LSTM step ran 9 kernels in
            # BPTT and 3 forward where the step's inputs are all batch-sized
            step_mode = step_mode._copy(scan_step=True)
        fn = get_compiler(op.short_name())(op.inner_inputs, op.inner_outputs,
                                   mode=step_mode,
                                   on_unused_input="ignore", name=f"{op.short_name()}.inner")
        cache[key] = fn.thunk
    return cache[key]


def inner_constant(op, writer, per):
    """The driver's name for ``op``'s compiled inner graph; its source goes
    to the appendix of the outer source (``per``: what one call covers)."""
    inner = inner_function(op, writer.mode)
    fn = writer.object_const(inner)
    text = getattr(inner, "source", None) or "(no source: another backend)"
    writer.src.appendix.append(
        f"# -- {fn}: the inner graph of {op.short_name()} (called once per {per}), "
        f"its own source\n"
        + "\n".join("# " + ln if ln else "#" for ln in text.splitlines()))
    return fn


# objects: a non-sequence may be a typed list, passed to the step as it is
@driver_op(Scan, objects=True)
def scan_driver(node, ins, outs, writer):
    op = node.op
    fn = inner_constant(op, writer, "step")
    p = f"_{outs[0]}"           # a prefix for this loop's locals
    n, seqs = f"{p}n", ins[1:1 + op.n_seqs]
    inits = ins[1 + op.n_seqs:1 + op.n_seqs + op.n_states]
    nonseqs = ins[1 + op.n_seqs + op.n_states:]
    keep = _kept(node, writer)
    q = repr(op.short_name())           # the op's name, quoted for the generated source
    L = [f"{n} = int({ins[0]})",
         f"if {n} < 0:",
         f"    raise ValueError({q} + ': n_steps must be >= 0, got %d' % {n})"]
    for k, s in enumerate(seqs):
        L += [f"if {s}.shape[0] < {n}:",
              f"    raise ValueError({q} + ': sequence {k} has %d steps but the loop runs "
              f"%d steps' % ({s}.shape[0], {n}))"]
    # the non-sequences are read every step: made contiguous once here, not
    # copied by the kernels' ``_C`` each step (a transposed weight, as in
    # BPTT's ``delta @ W.T``, also runs its GEMM faster contiguous)
    cont = []
    for k, v in enumerate(nonseqs):
        if getattr(node.inputs[1 + op.n_seqs + op.n_states + k].type, "ndim", 0) >= 1:
            L.append(f"{p}c{k} = _np.ascontiguousarray({v})")
            v = f"{p}c{k}"
        cont.append(v)
    head, L = L, []
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
              f"{b}[:{lag}] = {init}",
              f"{p}s{j} = {b}.shape[1:]"]
    t_ = f"{p}t"
    step = [f"{s}[{t_}]" for s in seqs]
    for t, lag, m, b in zip(op.taps, op.lags, keep, bufs):
        if t is not None:
            step += [_slot(b, f"{t_} + {lag + k}", lag, m) for k in t]
    r = f"{p}r"
    L.append(f"for {t_} in range({n}):")
    # the step writes the outputs it can (``given_outputs``, codegen's
    # ``Source.given``) straight into their slot of the buffer, a view given
    # as ``_o``; an output returned in its own array is stored as before
    # (the first step of an output without taps: its buffer is made then)
    given = set(getattr(inner_function(op, writer.mode), "given_outputs", ()))
    dests, slots = [], []
    for j, (t, lag, m, b) in enumerate(zip(op.taps, op.lags, keep, bufs)):
        ring = None if t is not None or m is None else f"min({n}, {m})"
        slots.append(_slot(b, t_, 0, m, ring=ring) if t is None else
                     _slot(b, f"{t_} + {lag}", lag, m))
        if j not in given:
            dests.append("None")
            continue
        dests.append(f"{p}d{j}")
        L.append(f"    {p}d{j} = {slots[j]}" + (f" if {b} is not None else None"
                                                  if t is None else ""))
    out = [f"_o=({', '.join(dests)},)"] if given else []
    L.append(f"    {r} = {fn}({', '.join(step + cont + out)})")
    # per step and output: one index into the results, one shape compared
    # with a tuple made once (``{p}s{j}``), one store into the buffer
    o_ = f"{p}o"
    for j, (t, lag, m, b) in enumerate(zip(op.taps, op.lags, keep, bufs)):
        dt = node.outputs[j].type.dtype
        shp = f"{p}s{j}"
        L.append(f"    {o_} = {r}[{j}]")
        if t is None:
            size = n if m is None else f"min({n}, {m})"
            store = [f"if {b} is None:",
                     f"    {b} = _np.empty(({size},) + _np.shape({o_}), _np.{dt})",
                     f"    {shp} = {b}.shape[1:]",
                     f"elif _np.shape({o_}) != {shp}:",
                     f"    raise ValueError({q} + ': step %d returned shape %s for output "
                     f"{j}, earlier steps %s' % ({t_}, _np.shape({o_}), {shp}))",
                     f"{slots[j]} = {o_}"]
        else:
            store = [f"if _np.shape({o_}) != {shp}:",
                     f"    raise ValueError({q} + ': step %d returned shape %s for recurrent "
                     f"output {j}, whose state has shape %s; the step function must keep the "
                     f"shape of outputs_info' % ({t_}, _np.shape({o_}), {shp}))",
                     f"{slots[j]} = {o_}"]
        if j in given:      # written into its slot already: nothing to store
            L += [f"    if {o_} is not {p}d{j}:"] + ["        " + ln for ln in store]
        else:
            L += ["    " + ln for ln in store]
    for j, (t, lag, m, b, o) in enumerate(zip(op.taps, op.lags, keep, bufs, outs)):
        dt = node.outputs[j].type.dtype
        if t is None:
            rest = tuple(s or 0 for s in node.outputs[j].type.shape[1:])
            L.append(f"{o} = {b} if {b} is not None else _np.zeros((0,) + {rest}, _np.{dt})")
            if m is not None:   # the ring in step order
                L.append(f"{o} = _np.ascontiguousarray(_np.roll({o}, -({n} % {o}.shape[0]) "
                         f"if {o}.shape[0] else 0, axis=0))")
        elif m is None:     # a view: the buffer with or without its initial taps
            L.append(f"{o} = {b}" if op.full[j] else f"{o} = {b}[{lag}:]")
        else:
            # the last min(n, m) steps, in order, out of the ring
            L.append(f"{o} = {b}[_np.arange({lag} + {n} - min({n}, {m}), {lag} + {n}) "
                     f"% {b}.shape[0]]")
    loop = njit_loop(node, inner_function(op, writer.mode), writer.mode, keep)
    if loop is None:
        return head + L, True
    # the whole loop as one njit function; the Python loop stays for the case
    # numba cannot compile it (it then warns once and returns None)
    j = writer.object_const(loop)
    res = f"{p}j"
    return head + [f"{res} = {j}({', '.join([n] + list(ins[1:]))})",
                   f"if {res} is None:"] + ["    " + ln for ln in L] + \
        ["else:", f"    {', '.join(outs)}, = {res}"], True


scan_driver.takes_writer = True


def _kept(node, writer):
    """``op.keep_last()``, where a state that nothing reads after the loop
    keeps its last step only: a ring of ``lag + 1`` slots.  BPTT's ``dh`` and
    ``dc`` (W8's LSTM) were stored at every step, 2 x 3.3 MB a call, never
    read.  Not a graph rewrite: ``scan_merge`` would then join such a scan
    with its twin of another keep into one whose states share placeholders.
    Not under step hooks (DebugMode compares every output with py's)."""
    op = node.op
    keep = op.keep_last()
    if getattr(writer.mode, "step_hooks", False):
        return keep
    clients = writer.plan.fgraph.clients
    return [1 if t is not None and m is None and not f and not clients.get(v) else m
            for t, m, f, v in zip(op.taps, keep, op.full, node.outputs)]


def _slot(buf, index, lag, m, ring=None):
    """``buf[index]``, wrapped around the ring when only ``m`` steps are kept."""
    if m is None:
        return f"{buf}[{index}]"
    size = ring if ring is not None else max(lag + 1, m)
    return f"{buf}[({index}) % {size}]"


# -- the whole loop in one njit function (opt-in, like njit_driver.py) --------------

# the loop calls the inner kernels by address (``kernel_ref.py``) instead of
# linking them in (False: linked, as before; kept to measure the two)
BY_ADDRESS = True

def njit_loop(node, inner, mode, keep=None):
    """A ``_NjitLoop`` running every step of ``node`` inside one njit
    function that calls the inner graph's njit ``drive`` (see
    ``njit_driver.py``), or None when the mode does not ask for njit
    drivers or the loop does not qualify: every inner node a kernel or an
    njit-able template (``njit_driver.eligible``), no 0-d step values,
    every step of an output without taps kept (a state may keep its last
    steps only: a ring of ``max(lag + 1, m)`` slots, as in the Python loop;
    ``keep``: the driver's, ``op.keep`` by default)."""
    op = node.op
    keep = op.keep if keep is None else keep
    linker = getattr(inner, "linker", None)
    code = getattr(linker, "code", None)
    if not njit_driver.requested(mode) or code is None or \
            not njit_driver.eligible(code, linker.fgraph) or \
            any(m is not None and t is None for t, m in zip(op.taps, keep)) or \
            any(v.type.ndim == 0 for v in op.inner_inputs + op.inner_outputs):
        return None
    return _NjitLoop(node, linker, keep)


def loop_text(node, n_consts, kernels=(), drive_arg=False, keep=None):
    """The source of ``loop(n, seqs..., inits..., nonseqs..., consts...,
    kernels...[, drive])``; ``kernels``: the names of the inner kernels
    passed by address, handed on to ``drive``, itself an argument with
    ``drive_arg``; ``keep``: per output, the steps kept (``op.keep`` by
    default)."""
    op = node.op
    seqs = [f"s{k}" for k in range(op.n_seqs)]
    inits = [f"i{k}" for k in range(op.n_states)]
    nonseqs = [f"n{k}" for k in range(op.n_nonseqs)]
    consts = [f"c{k}" for k in range(n_consts)] + list(kernels)
    msg = op.short_name().replace('"', "'")
    L = [f"def loop({', '.join(['n'] + seqs + inits + nonseqs + consts + ['drive'] * drive_arg)}):"]
    for s in seqs:
        L += [f"    if {s}.shape[0] < n:",
              f'        raise ValueError("{msg}: a sequence has fewer steps than n_steps")']
    si, bufs = 0, []
    # a state keeping its last m steps only lives in a ring of ``size[j]`` slots
    keep = op.keep if keep is None else keep
    size = [None if m is None else max(lag + 1, m) for lag, m in zip(op.lags, keep)]

    def slot(j, index):
        return f"b{j}[{index}]" if size[j] is None else f"b{j}[({index}) % {size[j]}]"
    for j, (t, lag) in enumerate(zip(op.taps, op.lags)):
        dt = node.outputs[j].type.dtype
        if t is None:
            bufs.append(None)
            continue
        init = inits[si]
        si += 1
        bufs.append(f"b{j}")
        L += [f"    if {init}.shape[0] != {lag}:",
              f'        raise ValueError("{msg}: an initial buffer does not match its taps")',
              f"    b{j} = np.empty(({f'{lag} + n' if size[j] is None else size[j]},) + "
              f"{init}.shape[1:], np.{dt})"]
        L += ["    " + ln for ln in _copy(f"b{j}", init, node.outputs[j].type.ndim, j)]

    def call(t):
        args = [f"{s}[{t}]" for s in seqs]
        for j, (tp, lag) in enumerate(zip(op.taps, op.lags)):
            if tp is not None:
                args += [slot(j, f"{t} + {lag + k}") for k in tp]
        return f"drive({', '.join(args + nonseqs + consts)})"

    def store(t, pad):
        out = []
        for j, (tp, lag) in enumerate(zip(op.taps, op.lags)):
            dst = f"o{j}[{t}]" if tp is None else slot(j, f"{t} + {lag}")
            shape = f"o{j}.shape[1:]" if tp is None else f"b{j}.shape[1:]"
            out += [f"if r[{j}].shape != {shape}:",
                    f'    raise ValueError("{msg}: a step returned an output of another '
                    f'shape than its state or the earlier steps")']
            out += _copy(dst, f"r[{j}]", node.outputs[j].type.ndim - 1, j)
        return [pad + ln for ln in out]
    # one call site of ``drive`` (a peeled first step would compile it twice):
    # the outputs without taps are allocated at step 0, once their shape is known
    for j, tp in enumerate(op.taps):
        if tp is None:
            v = node.outputs[j].type
            L.append(f"    o{j} = np.zeros((0,) + {(0,) * (v.ndim - 1)}, np.{v.dtype})")
    L.append("    for t in range(n):")
    L.append(f"        r = {call('t')}")
    for j, tp in enumerate(op.taps):
        if tp is None:
            dt = node.outputs[j].type.dtype
            L += ["        if t == 0:", f"            o{j} = np.empty((n,) + r[{j}].shape, np.{dt})"]
    L += store("t", "        ")
    for j, (lag, m) in enumerate(zip(op.lags, keep)):
        if size[j] is not None:     # the last min(n, m) steps, in order, out of the ring
            v = node.outputs[j].type
            L += [f"    k{j} = np.empty((min(n, {m}),) + b{j}.shape[1:], np.{v.dtype})",
                  f"    for q{j} in range(k{j}.shape[0]):"]
            src = slot(j, f"{lag} + n - k{j}.shape[0] + q{j}")
            L += ["        " + ln for ln in _copy(f"k{j}[q{j}]", src, v.ndim - 1, j)]
    res = [f"o{j}" if tp is None else f"k{j}" if size[j] is not None else
           f"b{j}" if op.full[j] else f"b{j}[{lag}:]"
           for j, (tp, lag) in enumerate(zip(op.taps, op.lags))]
    L.append(f"    return ({', '.join(res)},)")
    return "@nb.njit(**_FLAGS)\n" + "\n".join(L) + "\n"


def _copy(dst, src, ndim, j):
    """Lines copying the ``ndim``-d array ``src`` into ``dst`` (``src``'s
    shape fits; ``j`` names the locals) element by element: numba's ``dst[...]
    = src`` compiles a general broadcasting assignment, about 9 s for the
    first one of a process."""
    idx = [f"_a{d}" for d in range(ndim)]
    lines = [f"_d{j} = {dst}", f"_s{j} = {src}"]
    for d, i in enumerate(idx):
        lines.append("    " * d + f"for {i} in range(_s{j}.shape[{d}]):")
    lines.append("    " * ndim + f"_d{j}[{', '.join(idx)}] = _s{j}[{', '.join(idx)}]")
    return lines


def _step_types(node, args):
    """The numba types of one step's arguments of ``drive`` (the sequences'
    and taps' entries, the non-sequences) in the njit loop called with
    ``args`` (sequences, initial buffers, non-sequences)."""
    import numba
    op = node.op
    seqs, nonseqs = args[:op.n_seqs], args[op.n_seqs + op.n_states:]
    out = []
    for s in seqs:      # s[t]: C stays C, any other layout is 'A'
        ty = numba.typeof(s)
        out.append(ty.copy(ndim=ty.ndim - 1, layout="C" if ty.layout == "C" else "A"))
    for j, tp in enumerate(op.taps):
        if tp is not None:  # b[t + k]: an entry of the loop's own C buffer
            v = node.outputs[j].type
            out += [numba.types.Array(numba.from_dtype(np.dtype(v.dtype)), v.ndim - 1, "C")] * \
                len(tp)
    return tuple(out) + tuple(numba.typeof(v) for v in nonseqs)


class _NjitLoop:
    """Calls the njit loop of one Scan node; built (kernels loaded, module
    compiled) on the first call.  If numba cannot compile it, it warns once
    (an error under ``SYMNET_STRICT``) and returns None from then on, and
    the driver runs its Python loop."""

    def __init__(self, node, linker, keep=None):
        self.node, self.linker = node, linker
        self.keep = node.op.keep if keep is None else keep
        self.fn, self.failed = None, False
        self.source = self.module = None
        self.extra = ()         # the constants, then the kernels when by address
        self._drives = {}       # step types -> KernelRef of ``drive`` compiled for them
        self.by_address = BY_ADDRESS

    def _build(self):
        from .cache import load_module, module_name
        from .kernel_ref import KernelRef, dot_ref   # imports numpy's BLAS (lib/cblas.py)
        linker = self.linker
        modules, fns = {}, {}
        for text, kname in linker.kernel_texts.items():
            body = kernel_module(text, linker.code.kernel_libs[kname])
            fns[kname] = linker._load_kernel(kname, body)
            modules[kname] = module_name(body)
        self.by_address = BY_ADDRESS
        refs = {k: KernelRef(fns[k]) for k in modules} if self.by_address else {}
        dots = {n.outputs[0].type.dtype for n in linker.fgraph.apply_nodes
                if isinstance(n.op, Dot)}
        if refs and len(dots) == 1:      # one GEMM for the loop's products, by address too
            refs["_dot"] = dot_ref(dots.pop())
        names = sorted(refs)
        self.source = njit_driver.module_text(linker.code, modules,
                                              names if self.by_address else None) + \
            "\n\n" + loop_text(self.node, len(linker.consts), names, self.by_address,
                                 self.keep)
        self.module = load_module(self.source, "d")[0]
        self.extra = tuple(linker.consts) + tuple(refs[k] for k in names)
        if self.by_address:      # fixed for the loop's life: typed once, not per call
            from numba import typeof
            self._extra_types = tuple(typeof(c) for c in self.extra)
        self.fn = self.module.loop

    def _drive(self, args):
        """``drive`` by address, compiled for the types of this call's steps
        (a later call with other layouts gets its own)."""
        from .kernel_ref import KernelRef
        types = _step_types(self.node, args) + self._extra_types
        if types not in self._drives:
            self.module.drive.compile(types)
            self._drives[types] = (KernelRef(self.module.drive, types),)
        return self._drives[types]

    def __call__(self, n, *args):
        if self.failed:
            return None
        from numba.core.errors import NumbaError
        try:
            if self.fn is None:
                self._build()
            drive = self._drive(args) if self.by_address else ()
            return self.fn(n, *args, *self.extra, *drive)
        except NumbaError as exc:
            self.failed = True
            _not_compiled(self.node.op, exc)      # raises under SYMNET_STRICT
            return None


def _not_compiled(op, exc):
    """Warn that ``op`` keeps its Python loop (an error under SYMNET_STRICT)."""
    if config.strict:
        raise exc
    warnings.warn(f"{op.short_name()}: the njit loop could not be compiled ({type(exc).__name__}: "
                  f"{str(exc)[:300]}); this scan keeps its Python loop",
                  RuntimeWarning, stacklevel=3)
