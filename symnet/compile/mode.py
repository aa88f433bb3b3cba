"""Modes: which backend runs a function and which rewrites run first.

``'py'`` and ``'numba'`` (and ``'cuda'``) run the standard rewrite pipeline;
``'fast_compile'`` runs only merging and constant folding, on the py backend.
``mode.including(*tags)`` / ``mode.excluding(*names)`` return new modes.
"""
import os

from ..configdefaults import config

__all__ = ["Mode", "get_mode", "FAST_COMPILE_TAGS"]

FAST_COMPILE_TAGS = ("fast_compile",)


class Mode:
    """A backend name plus a rewrite selection.

    Parameters
    ----------
    linker : str
        'py', 'numba' or 'cuda'.
    optimizer : str or None
        'default' (the standard pipeline), 'fast_compile', or None (no rewrites).
    parallel : bool
        numba only: large elementwise loops run on all cores (``prange``).
        Off by default: a loop pays for its threads only past some hundred
        thousand elements, and parallel kernels take longer to compile.
    tiered : bool or None
        numba only: run calls on the py backend while the kernels compile in
        the background (True), never (False), or when the compile would be
        slow, unless ``SYMNET_TIERED`` says otherwise (None; see
        ``symnet.compile.tiered``).
    """

    def __init__(self, linker="numba", optimizer="default", include=(), exclude=(),
                 parallel=False, tiered=None):
        if linker in ("c", "cvm", "vm", "c|py", "cvm_nogc"):
            linker = "numba"
        self.linker = linker
        self.optimizer = optimizer
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.parallel = bool(parallel)
        self.tiered = None if tiered is None else bool(tiered)

    @property
    def backend(self):
        return self.linker

    def _key(self):
        return (self.linker, self.optimizer, self.include, self.exclude, self.parallel,
                self.tiered)

    def including(self, *tags):
        return Mode(self.linker, self.optimizer, self.include + tags, self.exclude,
                    self.parallel, self.tiered)

    def excluding(self, *names):
        return Mode(self.linker, self.optimizer, self.include, self.exclude + names,
                    self.parallel, self.tiered)

    def requiring(self, *tags):
        return self.including(*tags)

    def rewrite(self, fgraph, profile=None, work=None, passes=None):
        """Apply this mode's rewrites to ``fgraph`` in place; returns stats.
        ``work`` and ``passes`` receive work counters and per-pass times
        (see ``symnet.graph.rewriting.rewrite_graph``)."""
        if self.optimizer is None:
            return {}
        try:
            from ..graph.rewriting import rewrite_graph
        except ImportError:  # rewrites not built yet
            return {}
        return rewrite_graph(fgraph, optimizer=self.optimizer, include=self.include,
                             exclude=self.exclude, work=work, passes=passes)

    def __eq__(self, other):
        return isinstance(other, Mode) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        par = ", parallel=True" if self.parallel else ""
        if self.tiered is not None:
            par += f", tiered={self.tiered}"
        return (f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}, "
                f"include={self.include}, exclude={self.exclude}{par})")


_NAMED = {
    "py": lambda: Mode("py"),
    "numba": lambda: Mode("numba"),
    "cuda": lambda: Mode("cuda"),
    "fast_compile": lambda: Mode("py", "fast_compile"),
    "FAST_COMPILE": lambda: Mode("py", "fast_compile"),
    "FAST_RUN": lambda: Mode("numba"),
    "DebugMode": lambda: Mode("py"),
    "NanGuardMode": lambda: Mode("py"),
}


def get_mode(mode):
    """A Mode from None (``config.mode``), a name, or a Mode.

    With ``SYMNET_FORCE_BACKEND`` set (e.g. to ``numba``), every mode that
    asks for the ``py`` backend gets that backend instead, rewrites unchanged:
    CI uses it to run the whole suite, reference tests included, on numba.
    """
    found = _resolve(mode)
    forced = os.environ.get("SYMNET_FORCE_BACKEND")
    if forced and found.linker == "py":
        found = Mode(forced, found.optimizer, found.include, found.exclude, found.parallel,
                     found.tiered)
    return found


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
