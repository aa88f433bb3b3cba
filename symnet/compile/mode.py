"""Modes: which backend runs a function and which rewrites run first.

``'py'`` and ``'numba'`` (and ``'cuda'``) run the standard rewrite pipeline;
``'fast_compile'`` runs only merging and constant folding, on the py backend.
``mode.including(*tags)`` / ``mode.excluding(*names)`` return new modes.
"""
import os
import warnings
from dataclasses import dataclass

from ..configdefaults import config
from .device import compiled_linker

__all__ = ["Mode", "get_mode", "get_default_mode", "FAST_COMPILE_TAGS", "LINKERS", "ModeWarning", "NanGuard"]

FAST_COMPILE_TAGS = ("fast_compile",)

#: the backends a Mode may name
LINKERS = ("py", "numba", "cuda")
#: Theano's linker names: their compiled code is what the numba backend does
_THEANO_LINKERS = ("c", "cvm", "vm", "c|py", "cvm_nogc")
_ANNOUNCED = set()


class ModeWarning(UserWarning):
    """A mode name symnet runs as something else (said once per name)."""


def _announce(key, message):
    if key not in _ANNOUNCED:
        _ANNOUNCED.add(key)
        warnings.warn(message, ModeWarning, stacklevel=3)


@dataclass(frozen=True)
class NanGuard:
    """What the NaN guard (``Mode(nan_guard=...)``) treats as an error;
    ``check_inputs`` also checks the function's arguments and shared values."""

    nan_is_error: bool = True
    inf_is_error: bool = True
    big_is_error: bool = False
    check_inputs: bool = False

    def __bool__(self):
        return self.nan_is_error or self.inf_is_error or self.big_is_error


class Mode:
    """A backend name plus a rewrite selection.

    Parameters
    ----------
    linker : str
        'py', 'numba' or 'cuda'.
    optimizer : str or None
        'default' (the standard pipeline), 'fast_compile', or None (no rewrites).
    parallel : bool
        numba only: large elementwise loops and fused runs run on numba's
        threads (``prange``).  Off by default: measured, threads paid only
        past ~250,000 elements on an idle core, and threaded kernels take
        twice as long to compile.  ``SYMNET_NUM_THREADS`` overrides it (see
        ``backend/numba_cpu/threads.py``).
    nan_guard : bool or NanGuard
        Check every node's outputs for NaN/Inf (see ``symnet.compile.nanguardmode``);
        an error names the first node that produced one.  Off: no cost at all.
    tiered : bool or None
        numba only: run calls on the py backend while the kernels compile in
        the background (True), never (False), or when the compile or numba's
        start-up in this process would be slow, unless ``SYMNET_TIERED`` says
        otherwise (None; see ``symnet.compile.tiered``).
    emitter : str or None
        numba only: who writes the elementwise kernels, 'llvm' (LLVM IR
        through llvmlite, the default) or 'numba' (numba source); None:
        ``SYMNET_NUMBA_EMITTER`` decides (see backend/numba_cpu/llvm/).
    """

    #: set by ``function(profile=True)`` on its private copy of the mode
    profile = False
    #: who writes the numba backend's elementwise kernels (None: the environment)
    emitter = None
    #: set on the copy a backend compiles a Scan's step graph with: its plan
    #: fuses elementwise nodes over sizes they require equal (``build_plan``'s
    #: ``unify_sizes``), since every step input's batch size is unknown
    scan_step = False

    def __init__(self, linker="numba", optimizer="default", include=(), exclude=(),
                 parallel=False, nan_guard=False, tiered=None, emitter=None):
        # theano.gof.PerformLinker() and the like name the backend they stand for
        linker = getattr(linker, "mode_linker", linker)
        if linker in _THEANO_LINKERS:
            _announce(linker, f"Theano's linker {linker!r} runs on symnet's numba backend "
                              f"(say linker='numba' to silence this)")
            linker = "numba"
        elif linker not in LINKERS:
            raise ValueError(f"unknown linker {linker!r}; expected one of {LINKERS} "
                             f"(or Theano's {_THEANO_LINKERS}, run on numba)")
        self.linker = linker
        self.optimizer = optimizer
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.parallel = bool(parallel)
        if nan_guard is True:
            nan_guard = NanGuard()
        self.nan_guard = nan_guard or None
        self.tiered = None if tiered is None else bool(tiered)
        if emitter is not None:      # else the class's None: the environment decides
            from ..backend.numba_cpu.llvm import check_emitter
            self.emitter = check_emitter(emitter)

    @property
    def step_hooks(self):
        """Whether the numba driver must report each step's results (it then
        calls ``_step(k, results)``; see compile/instrument.py): for the NaN
        guard, the profile and DebugMode.  Otherwise it has no hook at all."""
        return bool(self.nan_guard or self.profile)

    def _copy(self, **changes):
        new = Mode.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    @property
    def backend(self):
        return self.linker

    def _key(self):
        return (type(self), self.linker, self.optimizer, self.include, self.exclude,
                self.parallel, self.nan_guard, self.profile, self.tiered, self.emitter)

    def including(self, *tags):
        return self._copy(include=self.include + tags)

    def excluding(self, *names):
        return self._copy(exclude=self.exclude + tuple(_THEANO_REWRITES.get(n, n)
                                                       for n in names))

    def requiring(self, *tags):
        return self.including(*tags)

    def rewrite(self, fgraph, profile=None, work=None, passes=None):
        """Apply this mode's rewrites to ``fgraph`` in place; returns stats.
        ``work`` and ``passes`` receive work counters and per-pass times
        (see ``symnet.graph.rewriting.rewrite_graph``)."""
        if self.optimizer is None:
            return {}
        from ..graph.rewriting import rewrite_graph
        # rewrites tagged with a backend's name (optional) run for that backend
        # only: they make ops only it has kernels for (numba: the conv
        # epilogue, the max-pool argmax pair)
        return rewrite_graph(fgraph, optimizer=self.optimizer,
                             include=self.include + (self.linker,),
                             exclude=self.exclude, work=work, passes=passes)

    def __eq__(self, other):
        return isinstance(other, Mode) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        par = ", parallel=True" if self.parallel else ""
        if self.nan_guard:
            par += f", nan_guard={self.nan_guard!r}"
        if self.tiered is not None:
            par += f", tiered={self.tiered}"
        if self.emitter is not None:
            par += f", emitter={self.emitter!r}"
        return (f"{type(self).__name__}(linker={self.linker!r}, optimizer={self.optimizer!r}, "
                f"include={self.include}, exclude={self.exclude}{par})")


#: Theano's names of rewrites that symnet runs under another name or tag:
#: ``mode.excluding('local_elemwise_fusion')`` (Theano's debugging FAQ)
#: turns symnet's fusion off too.
_THEANO_REWRITES = {"local_elemwise_fusion": "fusion", "elemwise_fusion": "fusion",
                    "composite_elemwise_fusion": "fusion"}

_NAMED = {
    "py": lambda: Mode("py"),
    "numba": lambda: Mode("numba"),
    "cuda": lambda: Mode("cuda"),
    "fast_compile": lambda: Mode("py", "fast_compile"),
    "FAST_COMPILE": lambda: Mode("py", "fast_compile"),
    # on the GPU while THEANO_FLAGS device=cuda is active (compile/device.py)
    "FAST_RUN": lambda: Mode(compiled_linker()),
    # "DebugMode" and "NanGuardMode" are added by compile/debugmode.py and
    # compile/nanguardmode.py (symnet.compile imports both)
}

#: Theano's predefined Mode objects (``theano.compile.mode.FAST_RUN``)
FAST_RUN = _NAMED["FAST_RUN"]()
FAST_COMPILE = _NAMED["FAST_COMPILE"]()


def get_mode(mode):
    """A Mode from None (``config.mode``), a name, or a Mode.

    With ``SYMNET_FORCE_BACKEND`` set (e.g. to ``numba``), every mode that
    asks for the ``py`` backend gets that backend instead, rewrites unchanged:
    CI uses it to run the whole suite, reference tests included, on numba.
    """
    found = _resolve(mode)
    forced = os.environ.get("SYMNET_FORCE_BACKEND")
    if forced and found.linker == "py":
        if forced not in LINKERS:
            raise ValueError(f"SYMNET_FORCE_BACKEND: unknown linker {forced!r}; expected "
                             f"one of {LINKERS}")
        found = found._copy(linker=forced)
    return found


def get_default_mode():
    """The Mode a function compiled without ``mode=`` runs in (the one
    ``config.mode`` names): Theano's ``theano.compile.get_default_mode()``,
    which programs derive their own modes from.

    Examples
    --------
    >>> import symnet
    >>> from symnet.compile.mode import get_default_mode
    >>> old, symnet.config.mode = symnet.config.mode, "numba"
    >>> get_default_mode().linker
    'numba'
    >>> get_default_mode().excluding("fusion").exclude
    ('fusion',)
    >>> symnet.config.mode = old
    """
    return get_mode(None)


def _resolve(mode):
    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        if mode in _NAMED:
            return _NAMED[mode]()
        raise ValueError(f"unknown mode {mode!r}; expected one of {sorted(_NAMED)} or a Mode")
    if hasattr(mode, "linker"):
        return Mode(getattr(mode, "linker"), getattr(mode, "optimizer", "default"))
    raise TypeError(f"mode must be a string or Mode, got {type(mode).__name__}")
