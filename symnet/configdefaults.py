"""Global settings: the default float type and the default compilation mode.

``config.floatX`` is read whenever a graph is built (typed constructors,
Python float constants, initializers), so code may reassign it at run time.
It starts from the ``SYMNET_FLOATX`` environment variable (and, after
``symnet.compat.install()``, from ``floatX`` in ``THEANO_FLAGS``).
"""
import contextlib
import functools
import os
import types
import warnings

__all__ = ["config", "change_flags", "cache_root"]

_FLOATS = ("float16", "float32", "float64")
_TEST_VALUE_MODES = ("off", "ignore", "warn", "raise", "pdb")
_THEANO_WARN_FLAGS = ("argmax_pushdown_bug", "gpusum_01_011_0111_bug", "sum_sum_bug",
                      "sum_div_dimshuffle_bug", "subtensor_merge_bug", "gpu_set_subtensor1",
                      "vm_gc_bug", "signal_conv2d_interface", "reduce_join",
                      "inc_set_subtensor1", "round", "identify_1pexp_bug")
_MODES = ("py", "numba", "cuda", "fast_compile", "FAST_COMPILE", "FAST_RUN", "DebugMode",
          "DEBUG_MODE", "NanGuardMode")


def cache_root():
    """symnet's cache folder: ``$SYMNET_CACHE_DIR`` or ``~/.cache/symnet``."""
    return os.environ.get("SYMNET_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "symnet")


def _theano_flag(name):
    for item in os.environ.get("THEANO_FLAGS", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


class Config:
    """Attribute-style settings with validation on assignment."""

    def __init__(self):
        self._floatX = "float32"
        self._mode = "numba"
        self.floatX = os.environ.get("SYMNET_FLOATX", "float32")
        self.mode = os.environ.get("SYMNET_MODE", "numba")
        # Names Theano code reads; kept so ported scripts do not crash.
        self.device = "cpu"
        self.optimizer = "fast_run"
        # Theano's OpenMP settings (its C elemwise loops): read by scripts and
        # Theano's tests; symnet's numba kernels do not use them.
        self.openmp = False
        self.openmp_elemwise_minsize = 200000
        # Theano's in-place rewrite checked for cycles 'regular'ly or 'fast';
        # symnet's in-place rewrite has no such setting (Theano's tests set it).
        self.cycle_detection = "regular"
        # No C compiler is used: Theano code tests `if not config.cxx` to skip C paths
        self.cxx = ""
        self._watchers = {}
        self._compute_test_value = "off"
        self.exception_verbosity = "low"
        # repr() of a tensor variable shows its tag.test_value too (Theano's flag)
        self.print_test_value = False
        self.strict = os.environ.get("SYMNET_STRICT", "") not in ("", "0")
        # Theano's warnings about its own old bugs (config.warn.round = False
        # in ported scripts): symnet never had those bugs, so all are off.
        self.warn = types.SimpleNamespace(**{f: False for f in _THEANO_WARN_FLAGS})
        # Theano's test helpers seed their generators from this (utt.fetch_seed)
        self.unittests = types.SimpleNamespace(rseed=666)
        # Theano's inplace-cycle check setting; its test helpers read it
        self.cycle_detection = "regular"
        # no C compiler: Theano's tests and scripts skip their C-only paths
        self.cxx = ""
        # test values while function() rewrites a graph: off, as in Theano
        self.compute_test_value_opt = "off"
        # what to do when a rewrite fails: symnet's rewrites raise (Theano's
        # scripts set 'raise' to be sure of it)
        self.on_opt_error = "raise"
        # Theano's name for the dtype rule of mixed operations: symnet's rule
        # (API.md: NumPy 2 promotion, floatX the default float) is the one
        # Theano calls 'numpy+floatX'; Theano's tests read it
        self.cast_policy = "numpy+floatX"

    @property
    def compiledir(self):
        """Theano's ``config.compiledir`` (scripts and Theano's tests write
        scratch files there): symnet's cache folder, created on first use."""
        root = cache_root()
        os.makedirs(root, exist_ok=True)
        return root

    base_compiledir = compiledir

    @property
    def floatX(self):
        return self._floatX

    @floatX.setter
    def floatX(self, value):
        if value not in _FLOATS:
            raise ValueError(
                f"config.floatX must be one of {_FLOATS}, got {value!r}")
        self._floatX = value

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        if not isinstance(value, str):
            self._mode = value
            return
        if value not in _MODES:
            raise ValueError(f"config.mode must be one of {_MODES}, got {value!r}")
        self._mode = value

    @property
    def compute_test_value(self):
        """'off' (default), 'ignore', 'warn', 'raise' or 'pdb': compute each
        node's ``tag.test_value`` as the graph is built (see compile/testvalue.py)."""
        return self._compute_test_value

    @compute_test_value.setter
    def compute_test_value(self, value):
        if value not in _TEST_VALUE_MODES:
            raise ValueError(f"config.compute_test_value must be one of "
                             f"{_TEST_VALUE_MODES}, got {value!r}")
        self._compute_test_value = value
        for fn in self._watchers.get("compute_test_value", ()):
            fn(value)

    def watch(self, name, fn):
        """Call ``fn(new_value)`` whenever setting ``name`` is assigned."""
        self._watchers.setdefault(name, []).append(fn)

    def read_theano_flags(self):
        """Apply ``floatX``, ``compute_test_value``, ``device`` and ``mode``
        from ``THEANO_FLAGS`` (used by compat)."""
        fx = _theano_flag("floatX")
        if fx:
            self.floatX = fx
        ctv = _theano_flag("compute_test_value")
        if ctv:
            self.compute_test_value = ctv
        dev = _theano_flag("device")
        if dev:
            self.device = dev
        mode = _theano_flag("mode")
        if mode in _MODES:
            self.mode = mode
        elif mode:
            warnings.warn(f"THEANO_FLAGS mode={mode}: symnet has no such mode (it has "
                          f"{', '.join(_MODES)}); functions compile in mode {self.mode!r}",
                          RuntimeWarning, stacklevel=2)


config = Config()


class change_flags(contextlib.ContextDecorator):
    """Set settings of ``config`` for a ``with`` block or a decorated
    function, and put the old values back after it (also on an error)::

        with change_flags(floatX="float64", compute_test_value="raise"):
            ...

    Dotted names reach nested settings (``**{"unittests.rseed": 1}``); an
    unknown name is an AttributeError before anything is set.
    """

    def __init__(self, args=(), **kwargs):
        self._new = dict(args, **kwargs)
        self._old = []

    @staticmethod
    def _owner(name):
        *path, last = name.split(".")
        obj = functools.reduce(getattr, path, config)
        if not hasattr(obj, last):
            raise AttributeError(f"change_flags: config has no setting {name!r}")
        return obj, last

    def __enter__(self):
        targets = [(self._owner(k), v) for k, v in self._new.items()]
        saved = []
        try:
            for (obj, last), value in targets:
                old = getattr(obj, last)
                setattr(obj, last, value)
                saved.append((obj, last, old))
        except Exception:
            for obj, last, old in reversed(saved):
                setattr(obj, last, old)
            raise
        self._old.append(saved)
        return self

    def __exit__(self, *exc):
        for obj, last, old in reversed(self._old.pop()):
            setattr(obj, last, old)
        return False
