"""The numba backend's two emitters in tests: a mode pinned to one of them,
and the kernels of a graph whichever emitter built them.

Every kernel's numba text is generated under both emitters (it is the
cache key and the exported listing); under the llvm emitter the
elementwise kernels named ``L<n>`` are compiled from LLVM IR instead
(symnet/backend/numba_cpu/llvm/).  A test of a general property (a budget,
one loop, one kernel per distinct text) runs under both and reads each
kernel through what its own emitter built: the numba text of ``k<n>``, the
``LoopKernel`` and IR of ``L<n>`` (``Source.llvm_kernels``)."""
import re
from typing import NamedTuple

import pytest

from symnet.compile.mode import Mode

EMITTERS = ("numba", "llvm")

#: ``@each_emitter`` runs a test once per emitter (argument ``emitter``)
each_emitter = pytest.mark.parametrize("emitter", EMITTERS)


def emitter_mode(emitter, *args, **kw):
    """``Mode('numba', *args, **kw)`` whose elementwise kernels ``emitter``
    builds (a mode's word wins over ``SYMNET_NUMBA_EMITTER``)."""
    mode = Mode("numba", *args, **kw)
    mode.emitter = emitter
    return mode


class Kernel(NamedTuple):
    """One kernel of a generated graph."""
    name: str          # k<n> (numba) or L<n> (llvm)
    emitter: str       # "numba" or "llvm"
    title: str         # the kernel's op, or "fused: op; op; ..."
    text: str          # what is compiled: numba source, or the LLVM IR module
    numba_text: str    # the numba source (for an llvm kernel: its numba equivalent)
    loop: object       # llvm: the llvm.kernel.LoopKernel; numba: None


def source_of(obj):
    """The codegen ``Source`` of a compiled function, a ``NumbaLinker`` or
    a ``Source``."""
    thunk = getattr(obj, "thunk", None)
    if thunk is not None:
        obj = thunk.linker
    return getattr(obj, "code", obj)


def _numba_title(text):
    for line in text.splitlines()[1:]:
        if line.strip().startswith("# "):
            return line.strip()[2:]
    return ""


def kernels(obj):
    """Every kernel of ``obj`` (see ``source_of``): the numba ones, then
    the llvm ones."""
    src = source_of(obj)
    out = [Kernel(kname, "numba", _numba_title(text), text, text, None)
           for text, kname in src.kernels.items()]
    numba_text = {kname: text for text, kname in src.llvm_names.items()}
    out += [Kernel(kname, "llvm", k.title, k.ir_text, numba_text[kname], k)
            for kname, k in src.llvm_kernels.items()]
    return out


def calls(driver):
    """The kernel names the driver source ``driver`` calls, in order."""
    return re.findall(r"= ([kL]\d+)\(", driver)


def built_by(obj, emitter):
    """The kernels of ``obj``, asserting that the elementwise ones are
    ``emitter``'s: under llvm at least one ``L<n>``, under numba none."""
    ks = kernels(obj)
    by_llvm = [k.name for k in ks if k.emitter == "llvm"]
    assert bool(by_llvm) == (emitter == "llvm"), (emitter, [k.name for k in ks])
    return ks


def ir_body(kernel):
    """An llvm kernel's IR with its own name taken out, so identical loops
    of two graphs (or two positions) compare equal."""
    return kernel.text.replace(kernel.name + "_", "K_").replace(f'"{kernel.name}"', '"K"')
