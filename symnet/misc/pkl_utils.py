"""Save and load models as zip files: Theano's ``theano.misc.pkl_utils``.

:func:`dump` pickles any object (a list of shared parameters, a whole
model) into a zip file in which every numpy array is a separate ``.npy``
entry, named after the shared variable holding it (``W``, then ``W_2``
for a second ``W``) or ``array_<n>``, and the rest of the object is the
entry ``pkl``. The arrays can then be read without symnet
(``numpy.load('model.zip')['W']``); :func:`load` gives the object back.
:class:`StripPickler` pickles graphs without the build-site traces their
tags hold.

Examples
--------
>>> import io, numpy as np, symnet
>>> W = symnet.shared(np.eye(2), name='W')
>>> buf = io.BytesIO()
>>> dump([W, np.arange(3)], buf)
>>> sorted(np.load(io.BytesIO(buf.getvalue())).keys())
['W', 'array_0', 'pkl']
>>> W2, a = load(io.BytesIO(buf.getvalue()))
>>> W2.name, W2.get_value()
('W', array([[1., 0.],
       [0., 1.]]))
"""
import io
import pickle
import zipfile

import numpy as np

from ..compile.sharedvalue import SharedVariable
from ..graph.basic import Apply, Variable

__all__ = ["dump", "load", "StripPickler", "DEFAULT_PROTOCOL", "function_dump",
           "CompatUnpickler"]

#: Theano's default pickle protocol for :func:`dump`
DEFAULT_PROTOCOL = pickle.HIGHEST_PROTOCOL


class _ZipPickler(pickle.Pickler):
    """Writes each numpy array into the zip as ``<name>.npy`` and pickles a
    reference to it; names come from the shared variable seen just before
    its value (a SharedVariable pickles its value right after itself)."""

    def __init__(self, zf, file, protocol):
        super().__init__(file, protocol)
        self.zf = zf
        self.names = {}       # id(array) -> entry name, for arrays pickled once
        self.taken = set()
        self.pending = {}     # id(array of a named shared variable) -> its name
        self.unnamed = 0
        self.keep = []        # keeps the ids above valid while pickling

    def _fresh(self, base):
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def persistent_id(self, obj):
        if isinstance(obj, SharedVariable) and obj.name:
            value = obj.get_value(borrow=True)
            self.pending.setdefault(id(value), obj.name)
            self.keep.append(value)
            return None
        if type(obj) is not np.ndarray or obj.dtype.hasobject:
            return None
        key = id(obj)
        if key not in self.names:
            base = self.pending.pop(key, None)
            if base is None:
                base = f"array_{self.unnamed}"
                self.unnamed += 1
            name = self.names[key] = self._fresh(base)
            self.keep.append(obj)
            with self.zf.open(name + ".npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, obj, allow_pickle=False)
        return ("npy", self.names[key])


def dump(obj, file_handler, protocol=DEFAULT_PROTOCOL, persistent_id=None):
    """Pickle ``obj`` into the zip file ``file_handler`` (opened ``'wb'``),
    its numpy arrays as ``.npy`` entries (see the module docstring).

    Parameters
    ----------
    obj : object
        Anything picklable: shared variables, lists of them, a model.
    file_handler : file
        A binary file open for writing (or a BytesIO).
    protocol : int
        The pickle protocol of the ``pkl`` entry.
    persistent_id : callable, optional
        Replaces the array-to-entry rule: ``persistent_id(zipfile)`` gives
        an object with a ``persistent_id(obj)`` method (Theano's hook).
    """
    with zipfile.ZipFile(file_handler, "w", compression=zipfile.ZIP_DEFLATED,
                         allowZip64=True) as zf:
        buf = io.BytesIO()
        pickler = _ZipPickler(zf, buf, protocol)
        if persistent_id is not None:
            pickler.persistent_id = persistent_id(zf).persistent_id
        pickler.dump(obj)
        zf.writestr("pkl", buf.getvalue())


class _ZipUnpickler(pickle.Unpickler):
    def __init__(self, zf, file):
        super().__init__(file)
        self.zf = zf

    def persistent_load(self, pid):
        kind, name = pid
        if kind != "npy":
            raise pickle.UnpicklingError(f"load: unknown reference {pid!r} in the pickle")
        with self.zf.open(name + ".npy") as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)


def load(f, persistent_load=None):
    """The object :func:`dump` wrote into the zip file ``f`` (opened ``'rb'``).

    Parameters
    ----------
    f : file
        A binary file open for reading (or a BytesIO).
    persistent_load : callable, optional
        Replaces the entry-to-array rule: ``persistent_load(zipfile)`` gives
        a callable taking each reference (Theano's hook).

    Raises
    ------
    ValueError
        ``f`` is not a zip file written by :func:`dump` (no ``pkl`` entry).
    """
    with zipfile.ZipFile(f, "r") as zf:
        if "pkl" not in zf.namelist():
            raise ValueError(f"load: {getattr(f, 'name', f)!r} has no 'pkl' entry; it was not "
                             f"written by theano.misc.pkl_utils.dump (a plain pickle is "
                             f"read with pickle.load)")
        unpickler = _ZipUnpickler(zf, io.BytesIO(zf.read("pkl")))
        if persistent_load is not None:
            unpickler.persistent_load = persistent_load(zf)
        return unpickler.load()


class StripPickler(pickle.Pickler):
    """A pickler that drops the build-site traces (``tag.trace``) of the
    variables and nodes it pickles, and the tag entries named in
    ``extra_tag_to_remove``, so a pickled graph does not carry file names and
    line numbers of the program that built it (as Theano's, it removes them
    from the graph itself).

    Examples
    --------
    >>> import io, pickle, symnet.tensor as T
    >>> y = T.exp(T.matrix('x'))
    >>> buf = io.BytesIO()
    >>> StripPickler(buf, protocol=-1).dump(y)
    >>> 'trace' in pickle.loads(buf.getvalue()).owner.tag
    False
    """

    def __init__(self, file, protocol=0, extra_tag_to_remove=None):
        super().__init__(file, protocol)
        self.tag_to_remove = ("trace", "test_value") + tuple(extra_tag_to_remove or ())

    def persistent_id(self, obj):
        if isinstance(obj, (Variable, Apply)):
            for key in self.tag_to_remove:
                obj.tag.pop(key, None)
        return None


def function_dump(filename, inputs, outputs=None, mode=None, updates=None, givens=None,
                  no_default_updates=False, accept_inplace=False, name=None,
                  rebuild_strict=True, allow_input_downcast=None, profile=None,
                  on_unused_input="raise", extra_tag_to_remove=None):
    """``theano.function_dump``: pickle the arguments of a ``function()`` call
    (the graph, shared variables with their values, the mode...) into
    ``filename`` instead of compiling, so the compilation can be reproduced
    elsewhere::

        d = pickle.load(open(filename, 'rb'))
        f = symnet.function(**d)

    The graph is written by :class:`StripPickler`, without build-site traces
    (and without the tag entries named in ``extra_tag_to_remove``).
    """
    if not isinstance(filename, str):
        raise TypeError(f"function_dump needs a file name (str), got {type(filename).__name__}")
    call = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                name=name, rebuild_strict=rebuild_strict,
                allow_input_downcast=allow_input_downcast, profile=profile,
                on_unused_input=on_unused_input)
    with open(filename, "wb") as f:
        StripPickler(f, protocol=-1, extra_tag_to_remove=extra_tag_to_remove).dump(call)


class CompatUnpickler(pickle._Unpickler):
    """An unpickler for pickles written by Python 2 (Theano's name).

    Python 2's ``str`` comes back as ``str`` when read with
    ``encoding='latin1'``; a reconstructor that needs ``bytes`` there (a
    numpy array or scalar's raw data, in some numpy versions) then fails.
    This unpickler retries such a call with its ``str`` arguments encoded
    back to bytes in the pickle's encoding, which gives the original bytes.

        with open(fname, 'rb') as fp:
            obj = CompatUnpickler(fp, encoding='latin1').load()
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def _load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        try:
            self.stack[-1] = func(*args)
        except Exception:
            if not self.encoding or not any(isinstance(a, str) for a in args):
                raise
            # Python 2's str read back as text: give the reconstructor the bytes
            self.stack[-1] = func(*[a.encode(self.encoding) if isinstance(a, str) else a
                                    for a in args])

    dispatch[pickle.REDUCE[0]] = _load_reduce
