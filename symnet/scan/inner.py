"""Small helpers for building Scan inner graphs, shared by the op and its
gradient (scan/grad.py builds a Scan without importing scan/op.py, which
imports it back for ``Scan.L_op``)."""
from ..graph.basic import Variable

__all__ = ["placeholder"]


def _float(v):
    return v.type.dtype.startswith(("float", "complex"))


def placeholder(type_, name=None):
    """A fresh owner-less variable of ``type_``."""
    return type_.make_variable(name) if hasattr(type_, "make_variable") else \
        Variable(type_, name=name)


def _test_value(var):
    """``var``'s test value (a constant's data, a shared variable's value,
    ``tag.test_value``), or None."""
    if hasattr(var, "data") and var.owner is None:
        return var.data
    if "test_value" in var.tag:
        return var.tag["test_value"]
    if getattr(var, "owns_value", False):
        return var.get_value(borrow=True)
    return None


def with_test_value(var, like, index=None):
    """``var`` (an inner placeholder) given the test value of the outer
    ``like`` (its step ``index``) when test values are on, so that the step
    function is checked on real values as it is built (Theano's test values
    with scan)."""
    from ..configdefaults import config
    if config.compute_test_value != "off":
        value = _test_value(like)
        if value is not None:
            var.tag.test_value = value if index is None else value[index]
    return var


def run_build_hooks(outputs):
    """Run the build hooks (test values) on the nodes behind ``outputs``
    that a copy made without ``Op.__call__`` and so lack them."""
    from ..graph.op import BUILD_HOOKS
    from ..graph.traversal import io_toposort
    if not BUILD_HOOKS:
        return
    for node in io_toposort([], list(outputs)):
        if any("test_value" not in o.tag for o in node.outputs):
            for hook in BUILD_HOOKS:
                hook(node)
