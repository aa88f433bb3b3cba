"""Placeholder until the numba backend lands: runs the py linker."""
from ..py.linker import PyLinker
from ..registry import register_linker

register_linker("numba", PyLinker)
