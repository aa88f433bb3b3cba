"""``symnet.function``: from symbolic inputs and outputs to a callable.

What happens, in order: normalise inputs, outputs, updates and givens;
collect ``default_update``s; substitute givens; check every free variable
is provided; copy the graph into a FunctionGraph; rewrite it (the mode's
pipeline); hand it to the backend's linker.  Calling the result checks the
arguments, runs the graph, and only then writes all updates at once, so a
call that raises leaves every shared variable unchanged.

Threads: a compiled function may be called from several threads at once.
Calls of functions that have updates are serialised by one process-wide
lock (``UPDATE_LOCK``) from reading the shared values to writing the
updates, so no update is lost and each call sees a consistent state; calls
without updates run concurrently.  An interrupt (Ctrl-C) that surfaces
inside a backend as another error is raised as the interrupt
(``symnet._interrupt``).
"""
import collections
import copy
import operator
import threading
import time
import warnings

import numpy as np

from ..configdefaults import change_flags, config
from ..graph.basic import Constant, Variable
from ..graph.fg import FunctionGraph, MissingInputError
from ..graph.gcpause import gc_paused
from ..graph.traversal import ancestors, clone_get_equiv
from .aliasing import unaliased
from .arguments import InputAccess, bind, containers, current_inputs
from .instrument import instrument
from .io import In, Out, as_in
from .mode import get_mode
from .profiling import FunctionProfile
from .sharedvalue import SharedVariable, state_variable
from .updates import default_updates, normalize_updates
from .storage import ON_DEVICE, HostStorage, host_values
from .._interrupt import reraise_interrupt
from ..tensor.rewriting.ifelse import lazify

__all__ = ["function", "Function", "UnusedInputError", "MissingInputError"]


# Held by a call of a function with updates from reading the shared values to
# writing the updates (an RLock: an update function may run another from a
# callback, e.g. a scan or a debugging hook, in the same thread).
UPDATE_LOCK = threading.RLock()

# a storage container's value (``map`` over containers, no Python frame per call)
_VALUE = operator.attrgetter("value")


class UnusedInputError(ValueError):
    """An input does not contribute to any output or update."""


class GivenInputError(RuntimeError, ValueError):
    """``givens`` replaces an input of the function: Theano's RuntimeError,
    and API.md's ValueError (a wrong value, not a wrong type)."""


def _vname(v):
    return v.name if v.name is not None else str(v)


def function(inputs, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates=False, accept_inplace=False, name=None,
             rebuild_strict=True, allow_input_downcast=None, profile=None,
             on_unused_input="raise"):
    """Compile a callable computing ``outputs`` from ``inputs``.

    Parameters
    ----------
    inputs : list of Variable or In
    outputs : Variable, list of Variables, dict, or None
        A single variable gives a single return value; a list gives a list;
        a dict ``{name: variable}`` (names are strings) gives a dict.
    mode : str or Mode, optional
        'numba' (default: ``config.mode``), 'py', 'cuda', 'fast_compile'.
    updates : list of pairs or OrderedDict
        ``(shared_variable, new_value_expression)``, applied after every
        output is computed, all at once (each sees the old values).
    givens : list of pairs or dict
        Variables substituted in the graph before compiling.
    profile : bool
        Time every node (every kernel and driver line on numba): see
        ``f.profile.summary()`` and ``symnet.compile.profiling``.
    allow_input_downcast : bool or None
        True allows lossy casts of arguments (float64 data to a float32
        input); None allows only Python floats to floatX.
    on_unused_input : {'raise', 'warn', 'ignore'}

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.vector('x')
    >>> acc = symnet.shared(np.float32(0), name='acc')
    >>> f = symnet.function([x], T.sum(x), updates=[(acc, acc + T.sum(x))], mode='py')
    >>> float(f(np.ones(3, 'float32'))), float(acc.get_value())
    (3.0, 3.0)
    """
    t0 = time.perf_counter()
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got "
                         f"{on_unused_input!r}")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function inputs must be a list, got {type(inputs).__name__} "
                        f"(write function([x], ...) rather than function(x, ...))")
    for k, item in enumerate(inputs):
        if not isinstance(item, (In, Variable, tuple, list)):
            raise TypeError(f"function input {k} must be a symbolic variable, got "
                            f"{type(item).__name__} {item!r}")
    specs = [as_in(i) for i in inputs]
    keys = [s.variable for s in specs]     # before cuts: what f[var] looks up
    in_vars = []
    cuts = []
    # inputs the function keeps between calls: each becomes a private shared
    # variable (substituted like a given), updated with the shared updates
    states, state_upd = {}, []
    for k, s in enumerate(specs):
        if not isinstance(s.variable, Variable):
            raise TypeError(f"function input {k} must be a symbolic variable, got "
                            f"{type(s.variable).__name__} {s.variable!r}")
        if isinstance(s.variable, Constant):
            raise TypeError(f"function input {k} ({s.variable}) is a constant; inputs "
                            f"must be free variables")
        if isinstance(s.variable, SharedVariable):
            raise TypeError(f"function input {k}: Cannot use a shared variable "
                            f"({_vname(s.variable)}) as explicit input: shared variables "
                            f"are implicit inputs, do not list them")
        if s.variable in states or s.variable in in_vars:
            raise ValueError(f"input {_vname(s.variable)} is listed twice")
        if s.stateful:
            states[s.variable] = st = state_variable(s)
            cuts.append((s.variable, st))
            if s.update is not None:
                state_upd.append((st, s.update))
            continue
        if s.variable.owner is not None:
            # Theano cuts the graph at an intermediate input: the outputs
            # take its value from the argument (y.eval({y: value}) works).
            # The sizes symnet inferred for it came from the graph the cut
            # removes, so as in Theano (whose types had no sizes) only its
            # rank, dtype and broadcastable axes bind the value; the nodes
            # after the cut are made again from the cut's type.
            cut_type = s.variable.type
            if hasattr(cut_type, "broadcastable"):
                cut_type = cut_type.clone(broadcastable=cut_type.broadcastable)
            cut = cut_type()
            cut.name = s.variable.name
            cuts.append((s.variable, cut))
            s = specs[k] = copy.copy(s)
            s.variable = cut
        if s.variable in in_vars:
            raise ValueError(f"input {_vname(s.variable)} is listed twice")
        in_vars.append(s.variable)

    output_keys = None
    out_spec = outputs
    if isinstance(outputs, dict):
        # Theano's outputs by name: compiled in the sorted order of their
        # names, and every call returns {name: value}
        bad = [k for k in outputs if not isinstance(k, str)]
        if bad:
            raise TypeError(f"function: the keys of a dict of outputs must be strings, "
                            f"got {', '.join(f'{type(k).__name__} {k!r}' for k in bad)}")
        output_keys = sorted(outputs)
        out_spec = [outputs[k] for k in output_keys]
    single = out_spec is not None and not isinstance(out_spec, (list, tuple))
    out_list = [] if out_spec is None else ([out_spec] if single else list(out_spec))
    from ..tensor.basic import as_tensor_variable
    out_borrow = []
    outs = []
    for o in out_list:
        borrow = False
        if isinstance(o, Out):
            o, borrow = o.variable, o.borrow
        outs.append(o if isinstance(o, Variable) else as_tensor_variable(o))
        out_borrow.append(borrow)

    upd = normalize_updates(updates)
    explicit = list(upd)   # kept for pickling (``updates`` may be an iterator)
    upd += normalize_updates(state_upd)

    # givens: substitute, keeping the user's graph untouched
    if givens or cuts:
        if givens is not None and not isinstance(givens, dict):
            givens = list(givens)    # an iterator, kept for the pickling recipe
        pairs = cuts + (list(givens.items()) if isinstance(givens, dict)
                        else list(givens or ()))
        memo = {}
        for old, new in pairs:
            if not isinstance(old, Variable):
                raise TypeError(f"givens keys must be variables, got {old!r}")
            if old in in_vars:
                # (Theano's error type) the argument would be silently ignored
                raise GivenInputError(f"givens: {_vname(old)} is an input of the function, "
                                   f"so it cannot be replaced; drop it from the inputs or "
                                   f"from givens")
            if not isinstance(new, Variable):
                new = as_tensor_variable(np.asarray(new, dtype=old.dtype))
            if getattr(new.type, "ndim", None) != getattr(old.type, "ndim", None) or \
                    getattr(new.type, "dtype", None) != getattr(old.type, "dtype", None):
                raise TypeError(f"givens: {_vname(old)} of type {old.type} cannot be "
                                f"replaced by {new} of type {new.type}")
            memo[old] = new
        roots = outs + [e for _, e in upd]
        memo = clone_get_equiv([], roots, copy_inputs=False, memo=memo)
        outs = [memo[o] for o in outs]
        upd = [(v, memo[e]) for v, e in upd]
    # Default updates of the shared variables the graph still reads once the
    # givens and cuts are made (Theano's rule: a variable a given replaces, or
    # that only feeds a cut input, is not updated); their expressions get the
    # givens too.
    defaults = default_updates(outs + [e for _, e in upd], upd, no_default_updates)
    if defaults and (givens or cuts):
        memo = clone_get_equiv([], [e for _, e in defaults], copy_inputs=False, memo=memo)
        defaults = [(v, memo[e]) for v, e in defaults]
    upd += defaults

    roots = outs + [e for _, e in upd]
    used = ancestors(roots)
    used_set = set(used)
    for s in specs:
        if s.variable not in used_set and not s.stateful:
            msg = (f"input {_vname(s.variable)} is not used to compute any output or "
                   f"update; pass on_unused_input='ignore' to allow it")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            if on_unused_input == "warn":
                warnings.warn(msg, stacklevel=2)
    in_set = set(in_vars)
    shared_vars = []
    for v in used:
        if v.owner is not None or isinstance(v, Constant) or v in in_set:
            continue
        if isinstance(v, SharedVariable):
            shared_vars.append(v)
            continue
        raise MissingInputError(
            f"variable {_vname(v)} ({v.type}) is needed to compute the outputs but is "
            f"not among the function's inputs {[_vname(i) for i in in_vars]}")
    for v, _ in upd:
        if v not in shared_vars:
            shared_vars.append(v)

    mode_obj = get_mode(mode)
    if profile:   # the backend must report each step (see compile/instrument.py)
        mode_obj = mode_obj._copy(profile=True)
    work, passes = collections.Counter(), []
    with gc_paused():     # the key's walk allocates as much as the copy
        cached = _graph_cache(mode_obj, profile, in_vars + shared_vars,
                              outs + [e for _, e in upd], len(outs),
                              [len(in_vars) + shared_vars.index(v) for v, _ in upd])
        if cached is not None and cached.hit:     # rewritten by an earlier process
            fgraph = cached.fgraph
            t1 = time.perf_counter()
            stats, cached_work, passes = cached.rewrite_info
            work.update(cached_work)
        else:
            fgraph = FunctionGraph(in_vars + shared_vars, outs + [e for _, e in upd],
                                   order=None if cached is None else cached.order)
            t1 = time.perf_counter()
            from .tiered import watch_misses
            # test values check the user's graph as it is built; the rewrites'
            # own nodes get none (Theano's compute_test_value_opt, 'off')
            with watch_misses(cached), change_flags(
                    compute_test_value=config.compute_test_value_opt):
                stats = mode_obj.rewrite(fgraph, profile=profile, work=work, passes=passes)
            # branches of an ifelse run only when taken, whatever the rewrites
            n_lazy = lazify(fgraph)
            if n_lazy:
                stats = dict(stats, lazify_ifelse=n_lazy)
            if cached is not None:
                cached.rewrite_info = (stats, dict(work), passes)
    t2 = time.perf_counter()
    # which graph input each update writes (registry.Thunk: a backend may
    # write an update into its shared storage in place, see plan.py)
    fgraph.n_updates = len(upd)   # a device backend keeps these on the device
    fgraph.update_targets = tuple(len(in_vars) + shared_vars.index(v) for v, _ in upd)
    from ..backend.registry import check_thunk
    from .tiered import make_thunk
    thunk = check_thunk(make_thunk(fgraph, mode_obj, name, cached), fgraph, mode_obj.linker)
    t3 = time.perf_counter()
    prof = FunctionProfile({"build": t1 - t0, "rewrite": t2 - t1, "link": t3 - t2}, name,
                           stats, len(fgraph.apply_nodes))
    thunk = instrument(thunk, fgraph, mode_obj, prof if profile else None,
                       (in_vars + shared_vars, outs + [e for _, e in upd]), stats)
    cls = _StatefulFunction if states else Function
    if output_keys is not None:
        cls = _DICT_OUTPUTS[cls]
    fn = cls(specs, in_vars, shared_vars, outs, upd, fgraph, thunk, single,
             allow_input_downcast, name, mode_obj, out_borrow, states, keys)
    # what pickling stores (the graph and the mode, not the compiled code)
    fn._recipe = dict(inputs=list(inputs), outputs=outputs, mode=mode_obj, updates=explicit,
                      givens=givens, no_default_updates=no_default_updates,
                      accept_inplace=accept_inplace, name=name,
                      rebuild_strict=rebuild_strict,
                      allow_input_downcast=allow_input_downcast,
                      on_unused_input=on_unused_input)
    fn.output_keys = output_keys
    fn.rewrite_stats = stats
    # the numba graph cache (backend/numba_cpu/graph_cache.py): 'hit' (the
    # rewrites and code generation were skipped), 'miss', or None (not used)
    fn.graph_cache = None if cached is None else ("hit" if cached.hit else "miss")
    fn.rewrite_work = dict(work)      # node visits, rewrites tried and applied
    fn.rewrite_passes = passes        # (pass, seconds, work) in order
    fn.profile = prof
    if profile:
        fn.profile_report = _profile_text(fn)
    if cached is not None and not cached.hit and cached.state is not None:
        cached.store(fgraph, cached.state)    # a miss: its entry, written at exit
    return fn


def _graph_cache(mode, profile, inputs, roots, n_outputs, targets):
    """The numba backend's graph cache entry for this graph (a warm process
    skips rewriting and code generation), or None where it does not apply."""
    if mode.linker != "numba":
        return None
    from ..backend.numba_cpu import graph_cache
    if not graph_cache.enabled(mode, profile):
        return None
    return graph_cache.lookup(mode, inputs, roots, n_outputs, targets)


def _profile_text(fn):
    lines = [f"function {fn.name or ''}: rewrite {fn.profile['rewrite']:.3f}s, "
             f"link {fn.profile['link']:.3f}s, {len(fn.fgraph.apply_nodes)} nodes"]
    for name, n in sorted((fn.rewrite_stats or {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name}: {n}")
    for name, secs, done in getattr(fn, "rewrite_passes", ()):
        lines.append(f"  pass {name}: {secs:.3f}s, {done.get('node_visits', 0)} node visits")
    return "\n".join(lines)


class _Maker:
    def __init__(self, fgraph, mode, inputs):
        self.fgraph = fgraph
        self.mode = mode
        self.inputs = inputs


class Function(InputAccess):
    """A compiled graph: call it with the input values (see ``function``);
    ``f[key]``, ``f.value[key]``, ``f.container[key]`` give its inputs'
    defaults and states (``arguments.InputAccess``)."""

    #: the names of the outputs given as a dict (sorted), else None
    output_keys = None

    def __init__(self, specs, in_vars, shared_vars, outputs, updates, fgraph, thunk,
                 single, allow_input_downcast, name, mode, out_borrow, states=None,
                 keys=None):
        self.specs = specs
        self.input_vars = in_vars
        self.shared_vars = shared_vars
        self.outputs = outputs
        self.updates = updates
        self.fgraph = fgraph
        self.thunk = thunk      # (also sets ``_call``, what a call runs)
        self.single = single
        self.allow_input_downcast = allow_input_downcast
        self.name = name
        self.mode = mode
        self.maker = _Maker(fgraph, mode, specs)
        self._n_in = len(specs)
        self._n_out = len(outputs)
        self._names = {}
        for k, s in enumerate(specs):
            if s.name:
                # a name two inputs share is no keyword (arguments.bind says so)
                self._names[s.name] = None if s.name in self._names else k
        states = states or {}
        # per input: its private shared variable if the function keeps its
        # value (In with an update), the container of its default or state,
        # and the variable f[var] looks it up by (the user's, before a cut)
        self._states = [states.get(s.variable) for s in specs]
        self._containers = containers(specs, states, allow_input_downcast)
        self._keys = list(keys) if keys is not None else [s.variable for s in specs]
        self._positional = [k for k, s in enumerate(specs) if not s.implicit]
        self._upd_vars = [v for v, _ in updates]
        self._upd_dtypes = [getattr(v.type, "numpy_dtype", None) for v in self._upd_vars]
        # the thunk reads shared values from their storage containers and
        # Function writes updates back (registry.Thunk)
        self._stores = [v.container for v in shared_vars]
        # a host thunk given shared values a device backend holds gets host
        # copies (storage.host_values); a device thunk says it takes its own
        self._device_thunk = bool(getattr(thunk, "device_values", False))
        self._expect = [(s.variable.type.numpy_dtype, s.variable.type.shape)
                        if hasattr(s.variable.type, "numpy_dtype") and not s.strict
                        else None for s in specs]
        self._out_borrow = out_borrow
        # Outputs the backend returns in buffers of their own (the thunk's
        # ``fresh_outputs``, see registry.Thunk) need no aliasing check.
        # A tiered thunk (compile/tiered.py) knows them once its compiled
        # tier runs: until then every output is checked (``_await_fresh``).
        self._await_fresh = bool(getattr(thunk, "switches_tier", False))
        self._trust = False
        self._set_fresh(getattr(thunk, "fresh_outputs", None))

    def _set_fresh(self, fresh):
        """The call paths for the thunk's ``fresh_outputs`` (None: none is)."""
        fresh = fresh or (False,) * len(self.fgraph.outputs)
        self._check_out = [not f for f in fresh[: self._n_out]]
        self._check_any = any(self._check_out)
        # which outputs ``_unaliased`` checks: not fresh and not borrowed
        self._must_check = [c and not b for c, b in zip(self._check_out, self._out_borrow)]
        self._plain = not self.updates and not self._check_any
        self.trust_input = self._trust   # (sets ``_direct``, the fastest path's flag)

    @property
    def thunk(self):
        """The backend's callable (``registry.Thunk``)."""
        return self._thunk

    @thunk.setter
    def thunk(self, value):
        # what a call runs: the thunk, or once a tiered thunk's tier is final
        # the compiled thunk it wraps (``_settle_fresh``); a thunk set later
        # (a debugging wrapper) is what calls run from then on
        self._thunk = self._call = value

    def _settle_fresh(self):
        """Once a tiered thunk's tier is final (compiled, or py after a failed
        compile), so is ``fresh_outputs``, and this call and the next go to
        what ``TieredThunk.final`` names (the compiled thunk: no wrapper)."""
        thunk = self.thunk
        final = thunk.final() if hasattr(thunk, "final") else thunk
        if final is not None:
            self._call = final
            self._await_fresh = False
            self._set_fresh(getattr(thunk, "fresh_outputs", None))

    @property
    def tier(self):
        """The backend that ran the last call (``'py'`` while a tiered
        function's compile runs; see ``symnet.compile.tiered``), or that
        will run the first."""
        last = getattr(self.thunk, "last_tier", None)
        if last is not None:
            return last
        return (getattr(self.thunk, "tier", None) or getattr(self.thunk, "backend", None)
                or self.mode.linker)

    @property
    def source(self):
        """The backend's generated source, where the backend generates any."""
        return getattr(self.thunk, "source", None)

    def _args(self, args, kwargs):
        return bind(self, args, kwargs)[0]   # (a function with no state)

    def _arg_names(self):
        return [_vname(s.variable) for s in self.specs]

    def _label(self):
        return f"function {self.name!r}" if self.name else "the compiled function"

    def _fast_args(self, args):
        """Arguments that already are arrays of exactly the input types (the
        common case in a training loop), or None to take the checked path."""
        out = []
        for val, expect in zip(args, self._expect):
            if expect is None:
                return None
            dtype, shape = expect
            if type(val) is not np.ndarray:
                if isinstance(val, np.generic) and not shape and val.dtype == dtype:
                    val = np.asarray(val)
                else:
                    return None
            elif val.dtype != dtype or val.ndim != len(shape):
                return None
            else:
                for want, got in zip(shape, val.shape):
                    if want is not None and want != got:
                        return None
            out.append(val)
        return out

    def __call__(self, *args, **kwargs):
        # The steady-state path of a training loop: every line here is paid
        # on every call (W5 measures it), so it reads plain attributes only
        # and calls nothing it can skip.
        if self._direct and not kwargs and len(args) == self._n_in:
            # trusted arguments, no shared value, no update, fresh outputs:
            # the arguments go to the thunk as they are
            try:
                results = self._call(*args)
            except Exception as exc:
                reraise_interrupt(exc)   # Ctrl-C inside a kernel: never an error
                raise
            return results[0] if self.single else results
        if self._await_fresh:
            self._settle_fresh()
        if kwargs or len(args) != self._n_in:
            vals = self._args(args, kwargs)
        elif self._trust:   # ``trust_input``: the caller vouches (as in Theano)
            vals = args
        else:
            vals = self._fast_args(args)
            if vals is None:
                vals = self._args(args, kwargs)
        if self._plain:   # no updates, every output in a buffer of its own
            stores = self._stores
            try:   # inlined ``_run``
                if not stores:
                    results = self._call(*vals)
                elif ON_DEVICE[0]:
                    results = self._call(*vals, *self._shared_values())
                else:
                    results = self._call(*vals, *map(_VALUE, stores))
            except Exception as exc:
                reraise_interrupt(exc)   # Ctrl-C inside a kernel: never an error
                raise
            return results[0] if self.single else results
        if not self.updates:
            return self._finish(vals, self._shared_values())
        with UPDATE_LOCK:
            return self._finish(vals, self._shared_values())

    @property
    def trust_input(self):
        """True: calls pass their arguments to the graph unchecked (the
        caller vouches that they have the inputs' types, as in Theano)."""
        return self._trust

    @trust_input.setter
    def trust_input(self, value):
        self._trust = bool(value)
        self._direct = self._trust and self._plain and not self._stores

    def _shared_values(self):
        if ON_DEVICE[0] and not self._device_thunk:
            return host_values(self._stores)
        return list(map(_VALUE, self._stores))

    def _run(self, vals, shared_vals):
        try:
            return self._call(*vals, *shared_vals)
        except Exception as exc:
            reraise_interrupt(exc)   # Ctrl-C inside a kernel: never an error
            raise

    def _finish(self, vals, shared_vals):
        """Run the graph, check its results and write the updates."""
        results = self._run(vals, shared_vals)
        outs = results[: self._n_out]
        new = results[self._n_out:]
        # check every update before writing any: a call that raises changes nothing
        checked = []
        for var, dtype, value in zip(self._upd_vars, self._upd_dtypes, new):
            store = var.container
            if type(store) is HostStorage and value is store.value:
                # updated in place (the numba driver's tail): its dtype and
                # shape are the store's own; the checks below cost ~0.5 us
                # an update, paid on every training step
                checked.append(value)
                continue
            if type(store) is not HostStorage and hasattr(store, "accept"):
                checked.append(store.accept(value, var))   # device storage checks its own
                continue
            if dtype is None:        # not an array (raw_random's RandomState)
                checked.append(var.type.filter_named(value, f"the update of {_vname(var)}"))
                continue
            if type(value) is not np.ndarray or value.dtype != dtype:
                value = np.asarray(value, dtype=dtype)
            if value.shape != store.value.shape:
                var.type.filter_named(value, f"the update of {_vname(var)}")
            checked.append(value)
        if not self._check_any:   # every output in a buffer of its own
            final = outs
        else:
            final = self._unaliased(outs, vals, shared_vals, checked)
        for var, value in zip(self._upd_vars, checked):
            var.container.value = value
        if self.single:
            return final[0]
        return final

    def _unaliased(self, outs, vals, shared_vals, checked):
        """``outs``, each copied where the user must not receive it as is
        (``aliasing.py``)."""
        return unaliased(outs, self._must_check, [*vals, *shared_vals], checked)

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None,
             profile=None):
        """A new function computing the same outputs (Theano's ``copy``).

        Parameters
        ----------
        share_memory : bool
            Accepted for Theano; the copy never shares default-value storage
            with this function (shared variables are shared either way).
        swap : dict, optional
            ``{old_shared: new_shared}``: the copy reads and updates
            ``new_shared`` where this function uses ``old_shared``.
        delete_updates : bool
            The copy updates nothing (explicit and default updates dropped).
        name : str, optional
            The copy's name (default: this function's).

        Returns
        -------
        Function
            As in Theano, the copy returns a list even for a single output.

        Examples
        --------
        >>> import symnet, symnet.tensor as T
        >>> state, inc = symnet.shared(0), T.iscalar('inc')
        >>> acc = symnet.function([inc], state, updates=[(state, state + inc)], mode='py')
        >>> new_state = symnet.shared(0)
        >>> acc.copy(swap={state: new_state})(5)
        [array(0)]
        >>> print(new_state.get_value(), state.get_value())
        5 0
        """
        from .sharedvalue import SharedVariable
        recipe = getattr(self, "_recipe", None)
        if recipe is None:
            raise TypeError(f"{self._label()} was not made by symnet.function and "
                            f"cannot be copied")
        recipe = dict(recipe, name=self.name if name is None else name,
                      inputs=current_inputs(self, recipe["inputs"]))
        if profile:
            recipe["profile"] = profile
        swap = dict(swap or {})
        for old, new in swap.items():
            if old not in self.shared_vars:
                raise ValueError(f"copy(swap=...): {_vname(old)} is not a shared variable "
                                 f"of {self._label()} (it uses "
                                 f"{[_vname(v) for v in self.shared_vars]})")
            if not isinstance(new, SharedVariable) or new.type != old.type:
                raise TypeError(f"copy(swap=...): {_vname(old)} ({old.type}) must be "
                                f"swapped for a shared variable of the same type, got "
                                f"{new!r} ({getattr(new, 'type', type(new).__name__)})")
        if delete_updates:  # an input only the updates read is no error now
            recipe.update(updates=[], no_default_updates=True, on_unused_input="ignore")
        elif swap:
            recipe["updates"] = [(swap.get(v, v), e) for v, e in normalize_updates(
                recipe["updates"])]
        if swap:
            givens = recipe["givens"]
            givens = list(givens.items()) if isinstance(givens, dict) else list(givens or ())
            recipe["givens"] = givens + list(swap.items())
        fn = function(**recipe)
        fn.trust_input = self.trust_input
        fn.single = False
        return fn

    def __reduce__(self):
        # ``pickle``/``copy.deepcopy``: the arguments ``function`` was called
        # with (the user's graph, shared variables with their values, the
        # mode); loading compiles again, which the kernel cache makes cheap.
        recipe = getattr(self, "_recipe", None)
        if recipe is None:
            raise TypeError(f"{self._label()} was not made by symnet.function and "
                            f"cannot be pickled")
        recipe = dict(recipe, inputs=current_inputs(self, recipe["inputs"]))
        return (_rebuild_function, (recipe, self.trust_input))

    def free(self):
        pass


class _StatefulFunction(Function):
    """A function that keeps some inputs' values between calls (``In`` with
    an update): a state passed as an argument is stored before the call and
    the old value put back if the call raises, so, as with shared updates,
    a call that raises changes nothing."""

    def __call__(self, *args, **kwargs):
        if self._await_fresh:
            self._settle_fresh()
        vals, assign = bind(self, args, kwargs)
        with UPDATE_LOCK:
            old = [(store, store.value) for store, _ in assign]
            for store, value in assign:
                store.set(value)
            try:
                return self._finish(vals, self._shared_values())
            except BaseException:
                for store, value in old:
                    store.value = value
                raise


class _DictOutputs:
    """Outputs given as a dict (Theano's ``output_keys``): a call returns
    ``{name: value}``; ``f.outputs`` lists them in the sorted order of
    their names."""

    def __call__(self, *args, **kwargs):
        return dict(zip(self.output_keys, super().__call__(*args, **kwargs)))


class _DictFunction(_DictOutputs, Function):
    pass


class _DictStatefulFunction(_DictOutputs, _StatefulFunction):
    pass


_DICT_OUTPUTS = {Function: _DictFunction, _StatefulFunction: _DictStatefulFunction}


def _rebuild_function(recipe, trust_input):
    """Unpickling a ``Function``: compile its recipe again."""
    fn = function(**recipe)
    fn.trust_input = trust_input
    return fn
