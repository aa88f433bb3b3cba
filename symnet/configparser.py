"""``theano.configparser``: settings a program adds to ``config`` itself.

Theano programs and libraries built on Theano declare their own settings
with :func:`AddConfigVar` (``AddConfigVar('mylib.verbose', doc,
BoolParam(False))``); a value given in ``THEANO_FLAGS`` overrides the
default, is checked by the parameter's filter, and is then taken out of
:data:`THEANO_FLAGS_DICT` (what is left there is flags nobody declared).
The settings symnet itself has live in :mod:`symnet.configdefaults`.

Examples
--------
>>> from symnet.configparser import AddConfigVar, EnumStr, config
>>> AddConfigVar('doc_example.policy', 'how to round', EnumStr('up', 'down'))
>>> config.doc_example.policy
'up'
>>> config.doc_example.policy = 'sideways'
Traceback (most recent call last):
  ...
ValueError: Invalid value ('sideways') for configuration variable 'doc_example.policy'. Valid options are ('up', 'down')
"""
import os

from .configdefaults import Config, change_flags, config

__all__ = ["AddConfigVar", "ConfigParam", "EnumStr", "TypedParam", "StrParam", "IntParam",
           "FloatParam", "BoolParam", "THEANO_FLAGS_DICT", "config", "change_flags"]


def _parse_flags(text):
    flags = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            # Theano's shorthand: a bare flag name means True
            value = "True"
        flags[key.strip()] = value.strip()
    return flags


#: ``THEANO_FLAGS`` as a dict (``{'floatX': 'float64', ...}``); a flag is
#: removed when :func:`AddConfigVar` declares the setting it sets.
THEANO_FLAGS_DICT = _parse_flags(os.environ.get("THEANO_FLAGS", ""))


class ConfigParam:
    """One declared setting: a default (a value, or a callable giving it on
    first use), a ``filter`` that checks and converts every value given
    (raising ValueError on a bad one), and whether it may change after
    it was first read (``allow_override``)."""

    def __init__(self, default, filter=None, allow_override=True):
        self.default = default
        self.filter = filter
        self.allow_override = allow_override
        self.fullname = None
        self.doc = None
        self.is_default = True

    def _check(self, value):
        return self.filter(value) if self.filter is not None else value

    def initial(self):
        """The value from ``THEANO_FLAGS`` (consumed) or else the default."""
        if self.fullname in THEANO_FLAGS_DICT:
            self.is_default = False
            return self._check(THEANO_FLAGS_DICT.pop(self.fullname))
        default = self.default() if callable(self.default) else self.default
        return self._check(default)


class EnumStr(ConfigParam):
    """A string among ``default`` and ``options``."""

    def __init__(self, default, *options, **kwargs):
        self.all = (default,) + options
        convert = kwargs.pop("convert", None)

        def check(value):
            if convert is not None:
                value = convert(value)
            if value not in self.all:
                raise ValueError(f"Invalid value ({value!r}) for configuration variable "
                                 f"{self.fullname!r}. Valid options are {self.all}")
            return value
        super().__init__(default, check, **kwargs)


class TypedParam(ConfigParam):
    """A value converted by ``mytype`` (int, float, str...), then checked
    by ``is_valid`` when given."""

    def __init__(self, default, mytype, is_valid=None, allow_override=True):
        self.mytype = mytype

        def check(value):
            try:
                converted = mytype(value)
            except (TypeError, ValueError):
                raise ValueError(f"Invalid value ({value!r}) for configuration variable "
                                 f"{self.fullname!r}: not a {mytype.__name__}") from None
            if is_valid is not None and not is_valid(converted):
                raise ValueError(f"Invalid value ({converted!r}) for configuration "
                                 f"variable {self.fullname!r}")
            return converted
        super().__init__(default, check, allow_override)


def StrParam(default, is_valid=None, allow_override=True):
    """A string setting."""
    return TypedParam(default, str, is_valid, allow_override)


def IntParam(default, is_valid=None, allow_override=True):
    """An integer setting (``'3'`` from THEANO_FLAGS becomes 3)."""
    return TypedParam(default, int, is_valid, allow_override)


def FloatParam(default, is_valid=None, allow_override=True):
    """A float setting."""
    return TypedParam(default, float, is_valid, allow_override)


_TRUE, _FALSE = ("1", "true", "True", True, 1), ("0", "false", "False", False, 0)


def _to_bool(value):
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected a boolean (True/False/1/0), got {value!r}")


def BoolParam(default, is_valid=None, allow_override=True):
    """A boolean setting: ``True``/``False``, or ``'1'``/``'0'``/``'True'``/
    ``'False'`` from THEANO_FLAGS."""
    return TypedParam(default, _to_bool, is_valid, allow_override)


class _Section:
    """A group of settings (the ``a`` of ``config.a.b``)."""

    def __repr__(self):
        # its settings, not an address: the numba graph cache keys on repr(config values)
        return f"_Section({sorted(vars(self).items())!r})"


def _own_class(obj):
    # Properties go on a class of this object alone: each section gets its
    # own subclass, and ``config`` is the only instance of Config.
    if type(obj) is _Section:
        obj.__class__ = type("_Section", (_Section,), {})
    return type(obj)


def _install(owner, attr, param):
    store = "_param_" + attr

    def get(self):
        return getattr(self, store)

    def set_(self, value):
        if not param.allow_override:
            raise Exception(f"Can't change the value of the configuration variable "
                            f"{param.fullname!r} after initialization")
        setattr(self, store, param._check(value))
        param.is_default = False
    value = param.initial()   # an invalid default raises here, before anything is added
    setattr(_own_class(owner), attr, property(get, set_, doc=param.doc))
    setattr(owner, store, value)


def AddConfigVar(name, doc, configparam, root=config, in_c_key=True):
    """Declare the setting ``name`` (dotted names make groups:
    ``'lib.opt.level'`` is ``config.lib.opt.level``).

    Its value is ``THEANO_FLAGS``'s (then removed from
    :data:`THEANO_FLAGS_DICT`) or else the parameter's default, checked by
    its filter: an invalid default raises ValueError here unless
    THEANO_FLAGS gives a valid value. ``in_c_key`` is accepted for
    Theano's signature (symnet has no C code to key).

    Raises
    ------
    AttributeError
        ``name`` is already a setting.
    """
    *groups, attr = name.split(".")
    owner = root
    for g in groups:
        sub = getattr(owner, g, None)
        if sub is None:
            sub = _Section()
            setattr(owner, g, sub)
        owner = sub
    if hasattr(owner, attr):
        raise AttributeError(f"This name is already taken: config.{name}")
    configparam.fullname = name
    configparam.doc = doc
    _install(owner, attr, configparam)
