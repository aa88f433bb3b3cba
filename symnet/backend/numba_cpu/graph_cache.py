"""The graph cache: a warm process skips the rewrites, the plan and the code
generation of a graph it has compiled before.

``function()`` asks ``lookup`` with the graph it was given (inputs, output
and update expressions), before rewriting.  The key is a structural hash of
that graph: every node's op (its class and every attribute, nested ops
included), the types, names and user lines of the variables, the bytes of
every constant, the order of the inputs and outputs and which shared
variable each update writes; plus the mode, the ``SYMNET_*``/``NUMBA_*``
environment and the BLAS and OpenMP thread settings with the number of
usable CPUs (the code generator reads them; not the cache folders, this
cache's switch nor ``SYMNET_TIERED``, which nothing before the source
reads), ``config``, the rewrite registry, the versions, and the size and
time of every symnet source file (so an edited rewrite or emitter never
meets an entry written by the code before it).  The key's walk is the one
``FunctionGraph`` copies the graph along (``order=``): a miss walks the
given graph once, as without the cache.

What the code generator reads from the process beyond the key is checked
on a hit instead: numpy's BLAS thread count (``threadpoolctl`` may change
it in the process), for the graphs whose split of products depends on it
(``_reads``: a large dense step under ``SYMNET_GEMM_SPLIT=auto``); another
count misses, and the compile writes the entry again.  The loop split's
threshold (``LoopKernel.split_min``) is not kept in the entry: a hit asks
this process's settings.  A symnet function or constant replaced inside
the process (monkeypatching an emitter or a budget) is not seen: the test
suite turns the cache off in a test that does so (``tests/conftest.py``).

An entry (``g_<key>.pkl``, a ``cache.read_entry`` file: checked against its
digest before it is read) pickles the rewritten FunctionGraph and the numba
linker's plan and source (``NumbaLinker.__init__``'s results) together; the
variables of the given graph are pickled as their positions in it, so the
rebuilt graph reads this process's inputs, shared variables and constants.
What it rebuilds is what the cold compile made: the same graph, the same
source (the tests compare them), with two differences: ``fgraph.memo`` (the
map from the given graph to its first copy, which nothing reads after the
copy) is empty, and ``f.rewrite_passes`` holds the times of the compile
that wrote the entry.  A hit gives the perform fallback's warning as the
code generator does (``NumbaLinker.restore``); a compile that gave any other
warning in the rewrites or the code generator (``watch``) is not written,
so its warning is given every time.  A damaged entry warns, is deleted and
is written again by this compile.

A miss's entry is written at exit (``atexit``: ``flush``; not by a forked
child, whose copy of the list is its parent's), or when more
than ``PENDING`` misses wait: pickling holds the GIL, and written in a
thread during the first calls it made them slower (W3 N=400's first call
9 -> 26 ms); at exit it costs the process's end about 10 ms (N=100) to
40 ms (N=400).  A process that ends without ``atexit`` (``os._exit``, a
kill) writes nothing: the next one misses and writes it.  A forked child
does not write its parent's entries (its copy of the list).

What is never cached (``lookup`` returns None): modes other than a plain
``Mode`` on numba, profiling, the NaN guard, explicit tiering (its compile
thread writes the source); a graph with an op or a rewrite defined outside
symnet (its code is not in the key), or an op holding a variable or a value
the key cannot describe (an inner graph, an arbitrary object).

On by default (``SYMNET_GRAPH_CACHE=0`` turns it off), and on in the test
suite, so that what it gets wrong fails there.  Measured (W3's tanh chain
in new processes, main and this cache alternating, the box's fast phase):
a warm start (build, grad, compile) takes 93 -> 75 ms at N=20, 168 -> 109
ms at N=100, 481 -> 243 ms at N=400, which keeps N=100 under 0.3 s in the
box's slow phase too (about twice as slow); a cold compile pays the key and
this module's first use, +6 to +19 ms (3-5 %), and its first call nothing.
An entry takes 0.1 MB (N=20) to 1.3 MB (N=400) of the cache folder, one
per distinct graph, like the kernels.  What can go wrong is a stale hit:
something the code generator reads that neither the key nor ``_reads``
covers; the key takes the whole environment and ``config`` rather than a
list, and the suite's tests compare a hit's source and results.
"""
import atexit
import contextlib
import hashlib
import io
import marshal
import os
import pickle
import threading
import types
import warnings

import numpy as np

from ...configdefaults import config
from ...graph.basic import Apply, Constant, Variable
from ...graph.traversal import io_toposort
from . import cache

__all__ = ["lookup", "Entry", "flush"]

_HEAD = b"symnet-graph 1\n"
_PKG = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_FIXED = []       # the process-wide part of the key, computed once
_PLAIN = frozenset((type(None), bool, int, float, complex, str, bytes))
_ENV = ("SYMNET_", "NUMBA_", "OMP_", "OPENBLAS_", "MKL_", "BLIS_", "GOTO_")
#: of those, what neither the rewrites nor the source read: where the caches
#: live, this cache's switch, and tiering (decided after the source is
#: written; a cold process and a warm one commonly differ only in it)
_ENV_NOT_READ = frozenset(("SYMNET_CACHE_DIR", "NUMBA_CACHE_DIR", "SYMNET_GRAPH_CACHE",
                           "SYMNET_TIERED"))
_KNOWN = ("symnet.", "numpy", "builtins", "math", "operator")


#: misses whose entries are not written yet (``flush``): at most this many
#: (their graphs, kept alive until written, are mostly alive anyway: their
#: Functions hold them)
PENDING = 8
_PENDING = []
_ATEXIT = []
_GIVEN = threading.local()    # the variables of the graph an entry is loaded for


def _given(k):
    """Unpickling: the given graph's variable number ``k``."""
    return _GIVEN.variables[k]


def flush():
    """Write the entries of this process's misses (at exit, or now)."""
    while _PENDING:
        _write_oldest()


def _write_oldest():
    entry = _PENDING.pop(0)
    if entry.pid == os.getpid():    # not a forked child's copy of its parent's
        entry._write()


def _bare(cls):
    """Unpickling: an instance whose state is set next."""
    return cls.__new__(cls)


class _Uncacheable(Exception):
    """The graph holds something the key cannot describe."""


def enabled(mode, profile):
    """Whether ``function()`` may use the cache for ``mode``."""
    from ...compile.mode import Mode
    return (type(mode) is Mode and mode.linker == "numba" and not profile
            and not mode.profile and not mode.nan_guard and mode.tiered is not True
            and not mode.scan_step
            and os.environ.get("SYMNET_GRAPH_CACHE", "1") != "0")


def _sources():
    """Size and modification time of every symnet source file."""
    out = []
    stack = [_PKG]
    while stack:      # an explicit stack: the package tree, no recursion
        top = stack.pop()
        with os.scandir(top) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(e.path)
                elif e.name.endswith(".py"):
                    st = e.stat()
                    out.append(f"{e.path} {st.st_size} {st.st_mtime_ns}")
    return "\n".join(sorted(out))


def _fixed():
    if not _FIXED:
        _FIXED.append(hashlib.sha256(
            f"{cache._versions()}\n{_sources()}".encode()).hexdigest())
    return _FIXED[0]


def _cpus():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _settings(mode):
    """The per-call part of the key that is not the graph."""
    from ...graph.rewriting import REGISTRY
    rewrites = []
    for name, rw in REGISTRY.items():
        fn = getattr(rw, "fn", None)      # None: the driver's own (merge, folding)
        if fn is not None and not getattr(fn, "__module__", "").startswith("symnet."):
            raise _Uncacheable(f"rewrite {name} is defined outside symnet")
        rewrites.append(f"{name}:{getattr(fn, '__qualname__', None)}:{sorted(rw.tags)}")
    # the source also follows the CPUs this process may use and the BLAS
    # threads (gemm_split.chosen): their settings are in the key
    env = sorted((k, v) for k, v in os.environ.items()
                 if k.startswith(_ENV) and k not in _ENV_NOT_READ)
    env.append(("cpus", _cpus()))
    conf = sorted((k, repr(v)) for k, v in vars(config).items() if k != "_watchers")
    mode_key = (mode.linker, mode.optimizer, mode.include, mode.exclude, mode.parallel,
                mode.tiered, mode.emitter)
    return repr((_fixed(), mode_key, env, conf, rewrites))


class _Encoder:
    """The key's text for ops and types (memoised by identity: one op
    object serves many nodes)."""

    def __init__(self):
        self.memo = {}
        self.by_value = {}

    def __call__(self, x, depth=0):
        cls = type(x)
        if cls in _PLAIN:
            return repr(x)
        if cls is tuple and all(type(v) in _PLAIN for v in x):
            return repr(x)       # a shape, a broadcast pattern, an axis list
        if depth > 8:
            raise _Uncacheable("nested too deep")
        got = self.memo.get(id(x))
        if got is not None:
            return got
        state = getattr(x, "__dict__", None)
        if state is not None:
            try:        # equal types (most variables' are) share one text
                vkey = (cls, tuple(state.items()))
                got = self.by_value.get(vkey)
            except TypeError:        # an unhashable attribute
                vkey = got = None
            if got is not None:
                return got
        if state is not None and cls.__module__.startswith("symnet.") and all(
                type(v) in _PLAIN or type(v) is tuple and all(type(i) in _PLAIN for i in v)
                for v in state.values()):
            # a type (dtype, shape, name): one line, no walk
            text = self.memo[id(x)] = f"{cls.__module__}.{cls.__qualname__}{sorted(state.items())!r}"
            if vkey is not None:
                self.by_value[vkey] = text
            return text
        if isinstance(x, (tuple, list, frozenset, set)):
            items = [self(v, depth + 1) for v in x]
            if isinstance(x, (set, frozenset)):
                items.sort()
            text = f"{type(x).__name__}({','.join(items)})"
        elif isinstance(x, dict):
            text = "{" + ",".join(sorted(f"{self(k, depth + 1)}:{self(v, depth + 1)}"
                                         for k, v in x.items())) + "}"
        elif isinstance(x, np.dtype):
            text = f"dtype({x.str})"
        elif isinstance(x, (np.ndarray, np.generic)):
            a = np.ascontiguousarray(x)
            text = f"array({a.dtype.str},{a.shape},{hashlib.sha256(a.view(np.uint8)).hexdigest()})"
        elif isinstance(x, (type, types.FunctionType, types.BuiltinFunctionType, np.ufunc)):
            # named by where it is defined: only code whose source the key
            # covers (symnet's) or that is fixed by a version in it
            where = getattr(x, "__module__", None) or "numpy"
            if not where.startswith(_KNOWN) or "<" in getattr(x, "__qualname__", ""):
                raise _Uncacheable(f"{x!r} in an op")
            text = f"{where}.{getattr(x, '__qualname__', x.__name__)}"
        elif isinstance(x, (Variable, Apply)) or not type(x).__module__.startswith("symnet."):
            raise _Uncacheable(f"{type(x).__name__} in an op")
        elif type(x).__reduce_ex__ is not object.__reduce_ex__ or \
                type(x).__reduce__ is not object.__reduce__:
            # it says how it pickles (a table's scalar op by its name): the
            # recipe names it, as the cached graph will
            text = "reduce" + self(x.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[:2], depth + 1)
        else:
            text = f"{type(x).__module__}.{type(x).__qualname__}" + self(
                getattr(x, "__dict__", None) or
                {s: getattr(x, s, None) for s in getattr(type(x), "__slots__", ())}, depth + 1)
        self.memo[id(x)] = text
        return text


def lookup(mode, inputs, roots, n_outputs, targets):
    """An ``Entry`` for the graph from ``inputs`` to ``roots`` (the outputs,
    then the updates' expressions, ``targets`` their inputs' positions):
    ``entry.hit`` where it was found in the cache; None where the graph may
    not be cached."""
    try:
        key, variables, order = _key(mode, inputs, roots, (n_outputs, tuple(targets)))
    except _Uncacheable:
        return None
    except Exception as exc:     # a bug here must not stop the compile: said, and skipped
        warnings.warn(f"symnet's graph cache could not describe this graph "
                      f"({type(exc).__name__}: {exc}); compiling it without the cache",
                      RuntimeWarning, stacklevel=3)
        return None
    return Entry(key, variables, order)


def _key(mode, inputs, roots, outputs):
    from ...tensor.type import TensorType
    enc = _Encoder()
    index = {}
    variables = []
    ops = {}          # id(op) -> its number in ``seen`` (one op serves many nodes)
    # every op's text, type and user line once, in the order first met:
    # the rows name them by number (the bytes hashed are a few per node)
    seen = {}
    once = seen.setdefault       # once(x, len(seen)): x's number
    # plain tuples, hashed at once (marshal version 2: no references, so
    # the same graph gives the same bytes in every process)
    rows = [_settings(mode), outputs]

    def constant(v):
        if not isinstance(v, Constant):
            raise _Uncacheable("a free variable")    # function() reports it
        k = index[v] = len(variables)
        variables.append(v)
        rows.append((enc(v.type), v.name, enc(v.data)))
        return k

    for v in inputs:
        index[v] = len(variables)
        variables.append(v)
        rows.append((enc(v.type), v.name))
    order = io_toposort(inputs, roots)
    for node in order:
        op = node.op
        k_op = ops.get(id(op))
        if k_op is None:
            if not type(op).__module__.startswith("symnet."):
                raise _Uncacheable(f"op {type(op).__name__} is defined outside symnet")
            k_op = ops[id(op)] = once(enc(op), len(seen))
        args = [index[v] if v in index else constant(v) for v in node.inputs]
        outs = []
        for o in node.outputs:
            index[o] = len(variables)
            variables.append(o)
            t = o.type
            # a tensor's type (most of them): its attributes as they are,
            # plain values marshal takes (or refuses: then not cached)
            outs.append(once(tuple(t.__dict__.items()) if type(t) is TensorType
                             else enc(t), len(seen)))
            outs.append(o.name)
        try:
            trace = once(node.tag.get("trace"), len(seen))
        except TypeError:          # a trace holding an unhashable value
            raise _Uncacheable("a user line the key cannot read") from None
        rows.append((k_op, tuple(args), tuple(outs), trace))
    rows.append(tuple(index[v] if v in index else constant(v) for v in roots))
    rows.append(tuple(seen))       # dicts keep the order of insertion
    try:
        data = marshal.dumps(tuple(rows), 2)
    except ValueError as exc:          # a trace of other values than names and numbers
        raise _Uncacheable(str(exc)) from None
    return hashlib.sha256(data).hexdigest()[:40], variables, order


@contextlib.contextmanager
def watch(entry):
    """Around a miss's cached stages (the rewrites, ``NumbaLinker``): the
    warnings they give go on to the caller, and an entry whose compile
    warned is not written (a hit would skip the code that warns; only the
    perform fallback's warning, kept in the plan, is given again on a hit:
    ``NumbaLinker.restore``)."""
    if entry is None or entry.hit:
        yield
        return
    with warnings.catch_warnings(record=True) as got:
        try:
            yield
        finally:
            for w in got:
                if w.category is not RuntimeWarning or "no kernel for" not in str(w.message):
                    entry.warned = True
    for w in got:       # outside the recording: to the caller's filters again
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


class Entry:
    """One graph's cache entry: ``hit`` and what ``load`` read, or ``store``."""

    def __init__(self, key, variables, order):
        self.key = key
        self.variables = variables
        self.order = order      # the given graph's nodes (FunctionGraph's ``order``)
        self.path = cache.file_entry(f"g_{key}.pkl")
        self.fgraph = self.state = None
        self.rewrite_info = self.reads = None
        self.warned = False
        self.hit = self._load()

    def _load(self):
        try:
            data = cache.read_entry(self.path, _HEAD)
            if data is None:
                return False
            _GIVEN.variables = self.variables
            try:
                self.fgraph, self.state, self.rewrite_info, reads = pickle.loads(data)[1:]
            finally:
                _GIVEN.variables = None
            if _reads_now(reads) != reads:      # compiled for another BLAS count
                self.fgraph = self.state = self.rewrite_info = None
                return False
            return True
        except Exception as exc:      # damaged: warn, delete, compile again
            self.path = cache.replace_damaged(self.path, exc, stacklevel=5)
            return False

    def store(self, fgraph, state):
        """Keep the rewritten graph and the linker's plan and source
        (``state``; ``rewrite_info`` is set by ``function()``) to be written
        at exit (``flush``), or when ``PENDING`` later misses are waiting:
        pickling holds the GIL, so written now it would slow the first
        calls (N=400: 9 -> 26 ms in a thread)."""
        if self.warned:
            return
        self.reads = _reads(state)
        self.fgraph, self.state, self.order = fgraph, state, None
        if not _ATEXIT:
            atexit.register(flush)
            _ATEXIT.append(True)
        self.pid = os.getpid()
        _PENDING.append(self)
        while len(_PENDING) > PENDING:
            _write_oldest()

    def _write(self):
        if not os.path.isdir(os.path.dirname(self.path)):
            return    # its folder is gone (a temporary cache, removed before exit)
        fgraph = self.fgraph
        index = {id(v): k for k, v in enumerate(self.variables)}

        class Pickler(pickle.Pickler):
            # called for objects other than plain values and containers
            # (half the time of a ``persistent_id`` called for every one)
            def reducer_override(self, obj):
                if obj is fgraph:
                    # FunctionGraph.memo maps the given graph to its first
                    # copy, mostly replaced by the rewrites: nothing reads
                    # it after the copy, and it would be most of the entry
                    return (_bare, (type(obj),), dict(vars(obj), memo={}))
                k = index.get(id(obj))
                return NotImplemented if k is None else (_given, (k,))

        buf = io.BytesIO()
        try:
            # the nodes in order first: each is then pickled after its
            # inputs, so pickle's own recursion stays shallow on deep graphs
            Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(
                (fgraph.toposort(), fgraph, self.state, self.rewrite_info, self.reads))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            return       # something in the graph does not pickle: compiled each time
        cache.write_entry(self.path, _HEAD, buf.getvalue(), stacklevel=4)


def _reads(state):
    """What the compile read from the process that neither the key nor a
    hit's own compile covers: numpy's BLAS thread count (``threadpoolctl``
    may change it in the process) where ``gemm_split.chosen`` decides by it,
    a large dense training step.  A hit needs the same now (``Entry._load``);
    for other graphs it is not asked (loading the BLAS probe costs ~10 ms)."""
    from . import gemm_split
    if gemm_split.setting() is None and gemm_split.large_dense_step(state["plan"]):
        return {"blas_threads": gemm_split._blas_threads()}
    return {}


def _reads_now(reads):
    if "blas_threads" in reads:
        from . import gemm_split
        return {"blas_threads": gemm_split._blas_threads()}
    return {}
