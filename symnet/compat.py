"""Run Theano and Lasagne code unchanged on symnet.

:func:`install` puts an import hook on ``sys.meta_path`` that answers
``import theano...`` and ``import lasagne...`` with symnet's own modules:
``theano.tensor`` *is* ``symnet.tensor`` (the same module object, so nothing
runs twice and ``isinstance`` checks agree), ``lasagne.layers`` *is*
``symnet.layers``. The few Theano modules symnet has no file for
(``theano.gof``, ``theano.scan_module.scan_utils``, ``theano.gpuarray``,
``theano.scalar``, ``T.xlogx``, ``T.nnet.abstract_conv``) are small modules
built here or in :mod:`symnet.theano_surface` from symnet's names.

This module also holds the graph-comparison helpers Theano users reach for:
:func:`equal_computations` and :func:`is_same_graph`.

Examples
--------
>>> import symnet.compat
>>> symnet.compat.install()
>>> import numpy as np, theano, theano.tensor as T, symnet
>>> theano is symnet and T is symnet.tensor
True
>>> x = T.vector('x')
>>> f = theano.function([x], (x ** 2).sum(), mode='py')
>>> float(f(np.array([1.0, 2.0], dtype=theano.config.floatX)))
5.0
>>> symnet.compat.uninstall()
"""
import importlib
import importlib.abc
import importlib.util
import sys
import types
from functools import partial

from .graph.basic import Apply, Constant, Variable
from .graph.op import Op
from .graph import traversal as _traversal
from . import theano_surface as _surface
from . import theano_gpu as _gpu

__all__ = ["install", "uninstall", "installed", "equal_computations", "is_same_graph",
           "THEANO_MODULES", "GPU_ONLY_MODULES", "UNSUPPORTED_MODULES"]

# ``import theano.compat`` gives this module, so it also answers the Python
# 2/3 helpers scripts import from Theano's compat module (``from
# theano.compat import izip, OrderedDict``). Python 3 only: PY3 is True.
from collections import OrderedDict  # noqa: E402,F401
from collections.abc import Callable  # noqa: E402,F401
from io import BytesIO  # noqa: E402,F401
PY3 = True
izip, imap, ifilter = zip, map, filter
string_types, integer_types = (str,), (int,)


def decode(x):
    """``bytes`` to ``str`` (UTF-8); a ``str`` is returned as it is."""
    return x.decode() if isinstance(x, bytes) else x


def decode_iter(itr):
    """:func:`decode` over an iterable of lines."""
    return (decode(x) for x in itr)


def exc_message(e):
    """The message of the exception ``e`` (its first argument), as ``str``."""
    return decode(e.args[0]) if e.args else ""

#: Theano module names whose symnet counterpart is not at the same dotted
#: path. Every other ``theano.a.b`` maps to ``symnet.a.b`` (for example
#: ``theano.tensor.nnet`` -> ``symnet.tensor.nnet``,
#: ``theano.sandbox.rng_mrg`` -> ``symnet.sandbox.rng_mrg``). Values starting
#: with ``symnet.compat.`` are modules built by this file.
THEANO_MODULES = {
    "theano": "symnet",
    "theano.gof": "symnet.compat.gof",
    "theano.gof.graph": "symnet.compat.gof.graph",
    "theano.gof.type": "symnet.compat.gof.type",
    "theano.gof.utils": "symnet.compat.gof.utils",
    "theano.scan_module": "symnet.compat.scan_module",
    "theano.scan_module.scan_utils": "symnet.compat.scan_module.scan_utils",
    "theano.tensor.nnet.abstract_conv": "symnet.compat.abstract_conv",
    "theano.gpuarray": "symnet.compat.gpuarray",
    "theano.sandbox.gpuarray": "symnet.compat.gpuarray",
    "theano.scalar": "symnet.compat.scalar",
    "theano.tensor.xlogx": "symnet.compat.xlogx",
    "theano.d3viz": "symnet.compat.d3viz",
    "theano.d3viz.d3viz": "symnet.compat.d3viz.d3viz",
    "theano.ifelse": "symnet.compat.ifelse",
    "theano.tensor.sharedvar": "symnet.compile.sharedvalue",
    "theano.tests": "symnet.compat.tests",
    "theano.tests.unittest_tools": "symnet.testing",
    "theano.gpuarray.dnn": "symnet.compat.gpuarray.dnn",
    # the old GPU backend; GPU_ONLY_MODULES: only while a GPU device is in use
    "theano.sandbox.cuda": "symnet.compat.cuda",
    "theano.sandbox.cuda.dnn": "symnet.compat.cuda.dnn",
    "theano.sandbox.cuda.basic_ops": "symnet.compat.cuda.basic_ops",
    "theano.gpuarray.basic_ops": "symnet.compat.gpuarray.basic_ops",
    "theano.gof.null_type": "symnet.graph.null_type",
    "theano.gof.fg": "symnet.graph.fg",
    "theano.gof.op": "symnet.graph.op",
    "theano.gof.opt": "symnet.graph.opt",
    "theano.scan_module.scan_op": "symnet.scan.op",
    "theano.scalar.sharedvar": "symnet.compat.scalar_sharedvar",
    # Theano 1.0's home of Function, orig_function and UnusedInputError
    "theano.compile.function_module": "symnet.compile.function",
    "theano.scalar.basic": "symnet.compat.scalar",
}

#: ``{theano module name: symnet module}`` put in sys.modules on install:
#: these modules share their name with a function of their parent
#: (``theano.compile.pfunc`` is both), and importing them through the hook
#: would make the parent's attribute the module instead of the function.
PRELOADED = {
    "theano.compile.pfunc": "symnet.compile.pfunc",
    # theano.tensor.var (TensorVariable...): the attribute ``var`` of
    # theano.tensor, i.e. symnet.tensor, would hide T.var
    "theano.tensor.var": "symnet.tensor.variable",
    # the package's ``d3viz`` is the function, as in Theano
    "theano.d3viz.d3viz": "symnet.compat.d3viz.d3viz",
    **{f"theano.tensor.{sub}": f"symnet.tensor.{sub}" for sub in ("elemwise", "sort", "subtensor")},
}

#: Theano modules ``import theano`` makes attributes of their parent
#: (``theano.tensor.sharedvar.SharedVariable`` with no import of its own)
#: that are symnet modules at another path: imported on install.
IMPORTED_ON_INSTALL = ("theano.tensor.sharedvar", "theano.compile.function_module")

#: Modules that exist only on a GPU installation; importing them raises
#: ImportError, exactly as on a CPU-only Theano, so scripts that try them
#: and fall back keep working, unless a GPU device is in use
#: (THEANO_FLAGS=device=cuda where the CUDA backend runs: compile/device.py).
GPU_ONLY_MODULES = ("lasagne.layers.dnn", "lasagne.layers.corrmm",
                    "lasagne.layers.cuda_convnet",
                    "theano.sandbox.cuda", "theano.sandbox.cuda.dnn",
                    "theano.sandbox.cuda.basic_ops")

#: Lasagne module names whose symnet counterpart is not at the same path
LASAGNE_MODULES = {"lasagne.layers.dnn": "symnet.layers.cudnn"}

#: Theano packages symnet has no counterpart for: importing a submodule
#: raises ImportError saying so, instead of "No module named".  The package
#: itself imports as Theano's does without scipy (``enable_sparse`` False,
#: so scripts and tests that check it skip their sparse parts); any other
#: name read from it raises AttributeError with the same reason.
UNSUPPORTED_MODULES = {
    "theano.sparse": "symnet has no sparse tensors (theano.sparse); use dense tensors "
                     "(a scipy.sparse matrix's .toarray())",
}


def _build_unsupported(top):
    reason = UNSUPPORTED_MODULES[top]

    def missing(name):
        raise AttributeError(f"{top}.{name}: {reason}")
    # named as Theano's, so that ``from theano.sparse import X`` looks for
    # a submodule theano.sparse.X and gets the ImportError with the reason
    return _module(top, f"``{top}``: {reason}.",
                   dict(enable_sparse=False, __getattr__=missing), package=True)

# Lasagne's top-level package imports these submodules, so that
# ``import lasagne; lasagne.layers.DenseLayer`` works; we import the ones
# symnet has when ``lasagne`` is first imported.
_LASAGNE_SUBMODULES = ("nonlinearities", "init", "layers", "objectives", "random",
                       "regularization", "updates", "utils")


# -- graph comparison -----------------------------------------------------------

def equal_computations(xs, ys, in_xs=None, in_ys=None):
    """True when the graphs of ``xs`` and ``ys`` compute the same thing.

    Two graphs are equal when their nodes apply equal ops (same op class and
    properties) to pairwise-equal inputs in the same order, their constants
    hold equal data of equal type, and their owner-less variables are either
    the same object or matched by position in ``in_xs``/``in_ys``. The pairing
    must be one-to-one, so ``x + x`` does not equal ``x + y``. The walk uses
    an explicit stack (no recursion), so deep graphs are fine.

    Parameters
    ----------
    xs, ys : list of Variable
        The outputs to compare, position by position.
    in_xs, in_ys : list of Variable, optional
        Variables of the first graph and their counterparts in the second.

    Returns
    -------
    bool

    Examples
    --------
    >>> import symnet.tensor as T
    >>> from symnet.compat import equal_computations
    >>> a, b = T.vectors('a', 'b')
    >>> equal_computations([T.exp(a) + 1], [T.exp(a) + 1])
    True
    >>> equal_computations([T.exp(a) + 1], [T.exp(b) + 1])
    False
    >>> equal_computations([T.exp(a) + 1], [T.exp(b) + 1], [a], [b])
    True
    """
    xs, ys = list(xs), list(ys)
    in_xs, in_ys = list(in_xs or ()), list(in_ys or ())
    if len(xs) != len(ys):
        return False
    if len(in_xs) != len(in_ys):
        raise ValueError(f"equal_computations: in_xs and in_ys must have the same length, "
                         f"got {len(in_xs)} and {len(in_ys)}")
    fwd, back = {}, {}

    def pair(x, y):
        # One-to-one: a variable may stand for only one counterpart.
        if fwd.get(x, y) is not y or back.get(y, x) is not x:
            return False
        fwd[x], back[y] = y, x
        return True

    for x, y in zip(in_xs, in_ys):
        if not pair(x, y):
            return False
    stack = list(zip(xs, ys))
    # Iterative so that graphs deeper than Python's recursion limit compare fine.
    while stack:
        x, y = stack.pop()
        if x in fwd or y in back:
            # Seen before (or given): it must be paired with this very variable.
            if fwd.get(x) is not y:
                return False
            continue
        if x.type != y.type:
            return False
        if x.owner is None or y.owner is None:
            if x.owner is not None or y.owner is not None:
                return False
            if isinstance(x, Constant) and isinstance(y, Constant):
                if x.signature() != y.signature():
                    return False
            elif x is not y:
                return False
            pair(x, y)
            continue
        nx, ny = x.owner, y.owner
        if x.index != y.index or nx.op != ny.op or len(nx.inputs) != len(ny.inputs) \
                or len(nx.outputs) != len(ny.outputs):
            return False
        for ox, oy in zip(nx.outputs, ny.outputs):
            if not pair(ox, oy):
                return False
        stack.extend(zip(nx.inputs, ny.inputs))
    return True


def is_same_graph(var1, var2, givens=None):
    """True when ``var1`` and ``var2`` compute the same thing.

    Parameters
    ----------
    var1, var2 : Variable
    givens : dict, optional
        ``{variable_of_var1's_graph: variable_of_var2's_graph}``: inputs
        that are to be taken as equal.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> from symnet.compat import is_same_graph
    >>> x, y = T.matrices('x', 'y')
    >>> is_same_graph(T.dot(x, y).sum(), T.dot(x, y).sum())
    True
    >>> is_same_graph(T.dot(x, y), T.dot(y, x))
    False
    >>> is_same_graph(x * 2, y * 2, givens={x: y})
    True
    """
    givens = dict(givens or {})
    return equal_computations([var1], [var2], list(givens), list(givens.values()))


# -- modules built here -----------------------------------------------------------

def _module(name, doc, attrs, package=False):
    mod = types.ModuleType(name, doc)
    mod.__dict__.update(attrs)
    if package:
        mod.__path__ = []  # lets the import system look for its submodules
    return mod


def _build_gof_graph():
    return _module(
        "symnet.compat.gof.graph", "``theano.gof.graph`` names, from symnet.graph.",
        dict(Variable=Variable, Apply=Apply, Constant=Constant, Node=Apply.__mro__[1],
             inputs=_surface.graph_inputs, ancestors=_traversal.ancestors,
             io_toposort=_traversal.io_toposort, clone=_traversal.clone,
             clone_get_equiv=_traversal.clone_get_equiv, variables=_traversal.variables,
             is_same_graph=is_same_graph, equal_computations=equal_computations))


def _build_gof_parts():
    """``theano.gof.type`` and ``.utils``: the names users' own ops and
    types import from them (``theano.gof.op``/``.fg`` are symnet.graph's)."""
    from .graph.type import Generic, Type
    # Theano raises MethodNotDefined for a missing perform/c_code; symnet's
    # Op raises NotImplementedError, which is what code catching it expects
    parts = dict(type=dict(Type=Type, Generic=Generic),
                 utils=dict(MethodNotDefined=NotImplementedError))
    return {name: _module(f"symnet.compat.gof.{name}", f"``theano.gof.{name}`` names.", attrs)
            for name, attrs in parts.items()}


def _build_gof():
    from .graph import fg, op
    from .graph.rewriting.local_optimizer import LocalOptimizer, local_optimizer
    from .graph.type import Type
    names = dict(Variable=Variable, Apply=Apply, Constant=Constant, Op=Op, PureOp=Op, Type=Type,
                 FunctionGraph=fg.FunctionGraph, MissingInputError=fg.MissingInputError,
                 MethodNotDefined=NotImplementedError, graph=_built("symnet.compat.gof.graph"),
                 op=op, fg=fg, type=_built("symnet.compat.gof.type"),
                 utils=_built("symnet.compat.gof.utils"), **_surface.LINKERS,
                 local_optimizer=local_optimizer, LocalOptimizer=LocalOptimizer)
    return _module("symnet.compat.gof", "``theano.gof`` names, from symnet.graph.", names,
                   package=True)


def _build_scalar_sharedvar():
    from .compile.sharedvalue import shared as _shared

    def shared(value, name=None, strict=False, allow_downcast=None):
        """``theano.scalar.sharedvar.shared``: symnet has no scalar types, so a
        shared 0-d tensor (it updates and computes the same)."""
        import numpy as np
        if np.ndim(value) != 0:
            raise TypeError(f"theano.scalar.sharedvar.shared needs a scalar value, got "
                            f"one of shape {np.shape(value)}")
        return _shared(value, name=name, strict=strict, allow_downcast=allow_downcast)
    return _module("symnet.compat.scalar_sharedvar",
                   "``theano.scalar.sharedvar``: shared scalars.", dict(shared=shared))


def _build_scan_utils():
    return _module("symnet.compat.scan_module.scan_utils",
                   "``theano.scan_module.scan_utils`` names.",
                   dict(equal_computations=equal_computations))


def _build_scan_module():
    from .scan import until
    attrs = {"scan_utils": _built("symnet.compat.scan_module.scan_utils"), "until": until}
    import symnet
    if hasattr(symnet, "scan"):
        attrs["scan"] = symnet.scan
    return _module("symnet.compat.scan_module", "``theano.scan_module`` names.",
                   attrs, package=True)


def _build_ifelse():
    from .tensor.ops.ifelse import IfElse, ifelse
    return _module("symnet.compat.ifelse", "``theano.ifelse``: a lazy ``ifelse``.",
                   dict(ifelse=ifelse, IfElse=IfElse))


_BUILDERS = {
    **{f"symnet.compat.unsupported.{top}": partial(_build_unsupported, top)
       for top in UNSUPPORTED_MODULES},
    "symnet.compat.tests": lambda: _module(
        "symnet.compat.tests", "``theano.tests``: its unittest_tools is symnet.testing.",
        dict(unittest_tools=importlib.import_module("symnet.testing")), package=True),
    "symnet.compat.ifelse": _build_ifelse,
    "symnet.compat.gof": _build_gof,
    "symnet.compat.d3viz": _surface.build_d3viz,
    "symnet.compat.d3viz.d3viz": lambda: _built("symnet.compat.d3viz").d3viz_module,
    **{f"symnet.compat.gof.{name}": (lambda name=name: _build_gof_parts()[name])
       for name in ("type", "utils")},
    "symnet.compat.gof.graph": _build_gof_graph,
    "symnet.compat.scan_module": _build_scan_module,
    "symnet.compat.scan_module.scan_utils": _build_scan_utils,
    "symnet.compat.abstract_conv": _surface.build_abstract_conv,
    "symnet.compat.gpuarray": lambda: _gpu.build_gpuarray(
        _built("symnet.compat.gpuarray.dnn"), _built("symnet.compat.gpuarray.basic_ops")),
    "symnet.compat.gpuarray.dnn": _gpu.build_gpuarray_dnn,
    "symnet.compat.gpuarray.basic_ops": lambda: _gpu.build_basic_ops(
        "symnet.compat.gpuarray.basic_ops"),
    "symnet.compat.cuda": lambda: _gpu.build_cuda(
        _built("symnet.compat.cuda.dnn"), _built("symnet.compat.cuda.basic_ops")),
    "symnet.compat.cuda.dnn": lambda: _gpu.build_gpuarray_dnn("symnet.compat.cuda.dnn"),
    "symnet.compat.cuda.basic_ops": lambda: _gpu.build_basic_ops(
        "symnet.compat.cuda.basic_ops"),
    "symnet.compat.scalar": _surface.build_scalar,
    "symnet.compat.xlogx": _surface.build_xlogx,
    "symnet.compat.scalar_sharedvar": _build_scalar_sharedvar,
}


def _built(name):
    """The module built by ``_BUILDERS[name]``, made once and kept in sys.modules."""
    mod = sys.modules.get(name)
    if mod is None:
        mod = _BUILDERS[name]()
        sys.modules[name] = mod
    return mod


# -- the import hook -------------------------------------------------------------

class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an already-imported symnet module."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        if self.target in _BUILDERS:
            mod = _built(self.target)
        else:
            mod = importlib.import_module(self.target)
        # The import system overwrites __spec__ after create_module; keep the
        # real one so the module still knows its own name.
        self._real_spec = getattr(mod, "__spec__", None)
        self._module = mod
        return mod

    def exec_module(self, module):
        # The module already ran when symnet imported it; only undo the
        # import system's __spec__ change (see create_module).
        try:
            module.__spec__ = self._real_spec
        except AttributeError:  # pragma: no cover - read-only module objects
            pass
        if self._has_children:
            _make_package(module)
        if self.target == "symnet" and _FINDER is not None and _FINDER.lasagne \
                and self._lasagne_import:
            _import_lasagne_submodules()


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``theano[.x]`` and ``lasagne[.x]`` to symnet modules."""

    def __init__(self, theano=True, lasagne=True):
        self.theano = theano
        self.lasagne = lasagne

    def target_of(self, fullname):
        """The symnet module name for ``fullname``, or None if not ours."""
        root = fullname.partition(".")[0]
        if root == "theano" and self.theano:
            if _gpu_only(fullname):
                return _GPU
            if fullname in UNSUPPORTED_MODULES:
                return f"symnet.compat.unsupported.{fullname}"
            if fullname in THEANO_MODULES:
                return THEANO_MODULES[fullname]
            return "symnet" + fullname[len("theano"):]
        if root == "lasagne" and self.lasagne:
            if _gpu_only(fullname):
                return _GPU
            return LASAGNE_MODULES.get(fullname, "symnet" + fullname[len("lasagne"):])
        return None

    def find_spec(self, fullname, path=None, target=None):
        dest = self.target_of(fullname)
        if dest is None:
            return None
        top = ".".join(fullname.split(".")[:2])
        if top in UNSUPPORTED_MODULES and self.theano and fullname != top:
            raise ImportError(f"{fullname}: {UNSUPPORTED_MODULES[top]}", name=fullname)
        if dest is _GPU:
            raise ImportError(
                f"{fullname} needs a GPU build (cuDNN/CUDA Theano): symnet provides it on "
                f"its CUDA backend with THEANO_FLAGS=device=cuda where that backend runs "
                f"(no GPU device is in use here); or use the CPU layers (e.g. "
                f"lasagne.layers.Conv2DLayer) instead", name=fullname)
        try:
            found = dest in _BUILDERS or importlib.util.find_spec(dest) is not None
        except ModuleNotFoundError:  # symnet has no parent package at that path
            found = False
        if not found:
            if _gpu_only(fullname, active=False):
                raise ImportError(f"{fullname}: symnet has no counterpart of this GPU module "
                                  f"(even with a GPU device in use)", name=fullname)
            return None  # lets the usual ModuleNotFoundError name the theano module
        loader = _AliasLoader(dest)
        loader._lasagne_import = fullname == "lasagne"
        loader._has_children = any(k.startswith(fullname + ".") for k in THEANO_MODULES)
        return importlib.util.spec_from_loader(fullname, loader)


_GPU = object()
_FINDER = None


def _gpu_only(fullname, active=None):
    """Whether ``fullname`` is (in) a GPU-only module that cannot be imported
    now: always when ``active`` is False, else unless a GPU device is in use."""
    if not any(fullname == gpu or fullname.startswith(gpu + ".") for gpu in GPU_ONLY_MODULES):
        return False
    if active is None:
        from .compile.device import gpu_active
        active = gpu_active()
    return not active


def _make_package(mod):
    # theano.tensor.nnet has submodules (abstract_conv, ...) while
    # symnet.tensor.nnet may be a plain module; the import system only looks
    # for submodules of modules that have a __path__.
    if not hasattr(mod, "__path__"):
        mod.__path__ = []


def _import_lasagne_submodules():
    for sub in _LASAGNE_SUBMODULES:
        name = "symnet." + sub
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def install(theano=True, lasagne=True):
    """Make ``import theano`` / ``import lasagne`` give symnet's modules.

    Installing twice is harmless; a second call with other flags replaces
    the first. ``floatX`` (and ``device``) in the ``THEANO_FLAGS``
    environment variable are applied to ``symnet.config``.

    Parameters
    ----------
    theano : bool
        Alias ``theano`` and its submodules.
    lasagne : bool
        Alias ``lasagne`` and its submodules. Pass False to run a real
        Lasagne installation on top of symnet's ``theano``.

    Examples
    --------
    >>> import sys, symnet.compat
    >>> symnet.compat.install(lasagne=False)
    >>> import theano.tensor
    >>> sys.modules['theano.tensor'] is sys.modules['symnet.tensor']
    True
    >>> symnet.compat.installed()
    {'theano': True, 'lasagne': False}
    >>> symnet.compat.uninstall()
    """
    global _FINDER
    if _FINDER is not None:
        if (_FINDER.theano, _FINDER.lasagne) == (bool(theano), bool(lasagne)):
            return
        uninstall()
    _FINDER = _AliasFinder(bool(theano), bool(lasagne))
    sys.meta_path.insert(0, _FINDER)
    if theano:
        for alias, target in PRELOADED.items():
            sys.modules.setdefault(alias, _built(target) if target in _BUILDERS
                                   else importlib.import_module(target))
        for alias in IMPORTED_ON_INSTALL:
            importlib.import_module(alias)
        from .configdefaults import config
        config.read_theano_flags()
        from .compile.device import apply_device
        apply_device(config.device)  # cuda*/gpu*: the CUDA backend becomes the default
        _attach_theano_modules()


def _attach_theano_modules():
    # `import theano` makes theano.gof, T.nnet.abstract_conv, ... attributes
    # of their parents; Lasagne reads T.nnet.abstract_conv without importing it.
    for alias, target in _attached().items():
        parent_alias, _, attr = alias.rpartition(".")
        parent_target = _FINDER.target_of(parent_alias)
        if parent_target is None:  # lasagne.layers.dnn under install(lasagne=False)
            continue
        parent = importlib.import_module(parent_target)
        current = getattr(parent, attr, None)
        # symnet's own same-named submodule (symnet.tensor.nnet.abstract_conv,
        # imported before install) is not Theano's module: the attribute is
        # the built one while installed, and the submodule again after
        shadows = isinstance(current, types.ModuleType) and target in _BUILDERS \
            and current.__name__ == f"{parent_target}.{attr}"
        if current is None or shadows:
            setattr(parent, attr, _built(target) if target in _BUILDERS
                    else importlib.import_module(target))



def _attached():
    # `from theano.sandbox import cuda` finds only an attribute (see
    # theano_surface.ATTACHED); it is one only while a GPU device is in use
    from .compile.device import gpu_active
    return {**_surface.ATTACHED, **(GPU_ATTACHED if gpu_active() else {})}


#: attributes `from theano.sandbox import cuda` and `from lasagne.layers
#: import dnn` find while a GPU device is in use (set on install)
GPU_ATTACHED = {"theano.sandbox.cuda": "symnet.compat.cuda",
                "lasagne.layers.dnn": "symnet.layers.cudnn"}


def installed():
    """Which aliases are active: ``{'theano': bool, 'lasagne': bool}`` or None."""
    if _FINDER is None:
        return None
    return {"theano": _FINDER.theano, "lasagne": _FINDER.lasagne}


def _take_off(module, attr):
    # symnet's own submodule of that name (symnet/tensor/nnet/abstract_conv.py),
    # if imported, is the attribute again
    own = sys.modules.get(f"{module.__name__}.{attr}")
    if own is not None and own is not getattr(module, attr):
        setattr(module, attr, own)
    else:
        delattr(module, attr)


def uninstall():
    """Remove the import hook and every ``theano*``/``lasagne*`` alias.

    Meant for tests: symnet's own modules stay imported and unchanged.
    """
    global _FINDER
    if _FINDER is not None and _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    if _FINDER is not None:
        # `import theano.gof` also set the attribute `gof` on theano's module,
        # which is symnet's: take such attributes off again.
        for alias, target in THEANO_MODULES.items():
            parent_alias, _, attr = alias.rpartition(".")
            parent = sys.modules.get(parent_alias)
            built = sys.modules.get(target) if target in _BUILDERS else None
            if built is not None and parent is not None and \
                    parent.__name__ not in _BUILDERS and getattr(parent, attr, None) is built:
                _take_off(parent, attr)
        for alias, target in {**_surface.ATTACHED, **GPU_ATTACHED}.items():
            parent_alias, _, attr = alias.rpartition(".")
            parent = sys.modules.get(_FINDER.target_of(parent_alias))
            built = sys.modules.get(target)
            if parent is not None and built is not None and getattr(parent, attr, None) is built:
                _take_off(parent, attr)
        for alias in IMPORTED_ON_INSTALL:
            parent_alias, _, attr = alias.rpartition(".")
            parent = sys.modules.get(parent_alias)
            if parent is not None and getattr(parent, attr, None) is sys.modules.get(alias):
                _take_off(parent, attr)
        for name in list(sys.modules):
            root = name.partition(".")[0]
            if (root == "theano" and _FINDER.theano) or (root == "lasagne" and _FINDER.lasagne):
                del sys.modules[name]
    _FINDER = None
