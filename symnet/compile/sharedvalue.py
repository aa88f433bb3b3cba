"""Shared variables: graph inputs that own their value between calls.

A shared variable's type records the value's shape (API.md), so shape
errors between parameters surface when the graph is built.  Pass
``static_shape=False`` for data whose size changes (Theano's behaviour: only
the broadcastable pattern is fixed).
"""
import copy

import numpy as np

from ..graph.basic import Variable
from ..tensor.type import TensorType
from ..tensor.variable import _Operators
from .storage import HostStorage, Storage

__all__ = ["SharedVariable", "TensorSharedVariable", "shared", "state_variable",
           "shared_constructor", "tensor_constructor", "scalar_constructor",
           "ScalarSharedVariable", "load_shared_variable"]


class SharedVariable(Variable):
    """A variable whose value lives with it (``get_value``/``set_value``).

    ``default_update``, when set to an expression, is applied by every
    compiled function that uses the variable and gives no explicit update.
    The value lives in ``container`` (a ``storage.HostStorage``; a backend
    may own another kind), which compiled functions read and update.
    """

    owns_value = True  # graph/traversal keeps it as the same input when cloning
    #: (also on the class: ``del v.default_update`` removes it, as in Theano)
    default_update = None
    #: the ``strict`` and ``allow_downcast`` it was made with: ``set_value``
    #: checks new values by them too (Theano's rule)
    strict = False
    allow_downcast = None

    def __init__(self, type, value, name=None, strict=False, allow_downcast=None,
                 borrow=False):
        super().__init__(type, None, None, name)
        self.container = HostStorage(None)
        value = value if borrow else _copy(value)
        self._value = (type.filter_named(value, name, strict=strict, allow_downcast=allow_downcast)
                       if name else type.filter(value, strict=strict, allow_downcast=allow_downcast))
        self.strict, self.allow_downcast = bool(strict), allow_downcast

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value (a copy unless ``borrow=True``)."""
        return self.container.get(borrow)

    def set_value(self, value, borrow=False):
        """Replace the value; it must fit the variable's type.

        Raises TypeError for a wrong ndim or unsafe dtype, ValueError for a
        shape that differs from the static shape, naming the variable.
        """
        who = self.name or "shared variable"
        try:
            new = self.type.filter_named(value if borrow else _copy(value), who,
                                         strict=self.strict, allow_downcast=self.allow_downcast)
        except TypeError as exc:
            raise TypeError(f"set_value on {who}: {exc}") from None
        except ValueError as exc:
            raise ValueError(
                f"set_value on {who}: {exc}. Create it with "
                f"symnet.shared(value, static_shape=False) if its size must change") from None
        self.container.set(new)

    @property
    def _value(self):
        return self.container.value

    @_value.setter
    def _value(self, value):
        self.container.value = value

    @property
    def value(self):
        return self.container.value

    def __setstate__(self, state):
        # pickles made before the value moved into ``container``
        if "_value" in state:
            state = dict(state)
            state["container"] = HostStorage(state.pop("_value"))
        self.__dict__.update(state)

    def clone(self):
        # Theano's clone: a new variable over the same container, so a value
        # set or updated through either is the value of both (a graph cloned
        # with share_inputs=False still trains the same parameters)
        cp = copy.copy(self)
        Variable.__init__(cp, self.type, None, None, self.name)   # its own name, tag
        cp.__dict__.pop("_eval_cache", None)       # functions compiled for self
        cp.tag = type(self.tag)(self.tag)
        cp.default_update = self.default_update
        cp.strict, cp.allow_downcast = self.strict, self.allow_downcast
        return cp

    def __str__(self):
        return self.name if self.name is not None else f"<shared {self.type}>"

    def zero(self, borrow=False):
        self.container.set(np.zeros_like(self.container.get(borrow=True)))


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


class TensorSharedVariable(_Operators, SharedVariable):
    """A shared numpy array; also a tensor variable for every operator."""


class ScalarSharedVariable(TensorSharedVariable):
    """What :func:`scalar_constructor` makes (Theano's class for shared
    numbers): a shared 0-d array, so also a TensorSharedVariable."""


#: constructors registered with :func:`shared_constructor`, newest last;
#: :func:`shared` tries them newest first, before its own
_CONSTRUCTORS = []


def shared_constructor(ctor, remove=False):
    """Register ``ctor`` for :func:`shared` (Theano's decorator); returns it.

    ``shared(value, name=..., strict=..., allow_downcast=..., **kwargs)``
    calls each registered ``ctor(value, name=name, strict=strict,
    allow_downcast=allow_downcast, **kwargs)``, the newest first; a ctor
    that does not handle ``value`` raises TypeError and the next is tried,
    symnet's own tensor constructor last. ``kwargs`` holds only what the
    caller gave (``borrow=True``...). ``remove=True`` unregisters ``ctor``.

    Examples
    --------
    >>> import numpy as np
    >>> @shared_constructor
    ... def halved(value, name=None, strict=False, allow_downcast=None, **kw):
    ...     if not isinstance(value, str):
    ...         raise TypeError("not mine")
    ...     return shared(np.float64(len(value)) / 2, name=name)
    >>> shared('abcd').get_value(), shared(np.ones(2)).get_value()
    (array(2.), array([1., 1.]))
    >>> shared_constructor(halved, remove=True) is halved
    True
    """
    if remove:
        if ctor in _CONSTRUCTORS:
            _CONSTRUCTORS.remove(ctor)
    elif ctor not in _CONSTRUCTORS:
        _CONSTRUCTORS.append(ctor)
    return ctor


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False,
           broadcastable=None, static_shape=True, shape=None):
    """Make a shared variable holding ``value`` (copied unless ``borrow``).

    Parameters
    ----------
    value : array_like or number
        numpy arrays keep their dtype; Python floats become float64 as in
        numpy (wrap with ``np.float32`` or ``floatX`` for float32).
    name : str, optional
    borrow : bool
        Use ``value``'s memory directly instead of copying it.
    broadcastable : tuple of bool, optional
        Axes that broadcast (they must have size 1).
    static_shape : bool
        Record the value's shape in the type (default).  With False, only
        the broadcastable pattern is fixed and ``set_value`` may change sizes.

    Examples
    --------
    >>> import numpy as np
    >>> w = shared(np.zeros((3, 4), dtype='float32'), name='w')
    >>> w.type.shape, w.dtype
    ((3, 4), 'float32')
    >>> w.set_value(np.ones((2, 4), dtype='float32'))
    Traceback (most recent call last):
      ...
    ValueError: set_value on w: wrong shape for w: expected (3, 4), got (2, 4) ...
    """
    if isinstance(value, Variable):
        raise TypeError(f"shared() needs a value, not the symbolic variable {value}")
    if _CONSTRUCTORS:
        given = {k: v for k, v, default in (("borrow", borrow, False),
                                            ("broadcastable", broadcastable, None),
                                            ("static_shape", static_shape, True),
                                            ("shape", shape, None)) if v is not default}
        for ctor in reversed(_CONSTRUCTORS):
            try:
                return ctor(value, name=name, strict=strict, allow_downcast=allow_downcast,
                            **given)
            except TypeError:
                continue    # not a value this constructor handles (Theano's rule)
    return _tensor_shared(value, name, strict, allow_downcast, borrow, broadcastable,
                          static_shape, shape)


shared.constructors = _CONSTRUCTORS    # Theano's attribute: the registered list


def _tensor_shared(value, name, strict, allow_downcast, borrow, broadcastable,
                   static_shape, shape, cls=TensorSharedVariable):
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype == object:
        raise TypeError(f"shared() cannot hold {type(value).__name__} values")
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        arr = np.asarray(value)  # Python scalars: numpy's default dtypes
    if broadcastable is not None:
        broadcastable = tuple(bool(b) for b in broadcastable)
        if len(broadcastable) != arr.ndim:
            raise ValueError(f"shared {name or ''}: broadcastable {broadcastable} has "
                             f"{len(broadcastable)} entries for a value of ndim {arr.ndim}")
        for axis, (b, s) in enumerate(zip(broadcastable, arr.shape)):
            if b and s != 1:
                raise ValueError(f"shared {name or ''}: axis {axis} is marked broadcastable "
                                 f"but the value has size {s} there")
    if shape is not None:
        static = tuple(shape)
    elif static_shape:
        static = tuple(arr.shape)
        if broadcastable is not None:
            static = tuple(s if (b or s != 1) else None
                           for s, b in zip(static, broadcastable))
    else:
        bc = broadcastable or (False,) * arr.ndim
        static = tuple(1 if b else None for b in bc)
    ttype = TensorType(arr.dtype, shape=static)
    var = cls(ttype, value if borrow else np.array(arr, copy=True),
                               name=name, strict=strict, allow_downcast=allow_downcast,
                               borrow=True)
    # Declared broadcastable axes are part of the variable's Theano type:
    # function() rejects an update not known to have size 1 there.
    var.tag.broadcastable = broadcastable
    return var


def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None, target="cpu", static_shape=True, shape=None):
    """``theano.tensor.sharedvar.tensor_constructor``: a shared numpy array.

    As in Theano it takes only ``numpy.ndarray`` values (TypeError for
    others, so :func:`shared` tries its next constructor) and only
    ``target='cpu'``; the variable is :func:`shared`'s own.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"tensor_constructor needs a numpy.ndarray, got "
                        f"{type(value).__name__}")
    _check_target(target)
    return _tensor_shared(value, name, strict, allow_downcast, borrow, broadcastable,
                          static_shape, shape)


def load_shared_variable(val):
    """``theano.tensor.sharedvar.load_shared_variable``: ``tensor_constructor(val)``.

    Theano kept it so that pickles of shared variables made in 2011, which
    name it as their constructor, still load.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.compile.sharedvalue import load_shared_variable
    >>> load_shared_variable(np.arange(3.0)).get_value().tolist()
    [0.0, 1.0, 2.0]
    """
    return tensor_constructor(val)


def scalar_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       target="cpu"):
    """``theano.tensor.sharedvar.scalar_constructor``: a shared 0-d tensor of a
    Python or numpy number, of numpy's dtype for it (float64 for a Python
    float). Other values raise TypeError, as in Theano."""
    if not isinstance(value, (np.number, float, int, complex)) or isinstance(value, bool):
        raise TypeError(f"scalar_constructor needs a number, got {type(value).__name__}")
    _check_target(target)
    return _tensor_shared(np.asarray(value), name, strict, allow_downcast, True, None,
                          True, None, cls=ScalarSharedVariable)


def _check_target(target):
    if target != "cpu":
        raise TypeError(f"symnet keeps shared values on the host: target={target!r} is not "
                        f"supported, only 'cpu'")


def state_variable(spec):
    """The private shared variable holding a stateful input's value
    (``In(s, value=..., update=...)``, see ``compile/io.py``).

    It has the input's own type, so the graph is the same as with ``s``; a
    ``value`` that is a storage container (another function's
    ``f.container[s]``) is shared, anything else is checked against the
    type and copied unless ``mutable``.
    """
    var = spec.variable
    name = spec.name or var.name
    if isinstance(spec.value, Storage):
        st = TensorSharedVariable(var.type, spec.value.value, name=name, borrow=True)
        st.container = spec.value
    else:
        st = TensorSharedVariable(var.type, spec.value, name=name, strict=spec.strict,
                                  allow_downcast=spec.allow_downcast, borrow=spec.mutable)
    return st
