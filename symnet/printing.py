"""Printing graphs: ``debugprint`` (a tree), ``pp`` (an infix formula) and
``pydotprint`` (a picture through Graphviz); ``viz`` (``symnet/viz.py``)
writes an interactive HTML page of every compiler stage.

Every walker here uses an explicit stack, never recursion, so a graph of
100,000 nodes prints as safely as one of ten.

Examples
--------
>>> import symnet.tensor as T
>>> x, y = T.scalars('x', 'y')
>>> print(pp(x + 2.0 * y))
(x + (2.0 * y))
>>> print(debugprint(x + 2.0 * y, file='str'), end='')
add [id 0]
 |x [id 1]
 |mul [id 2]
 | |2.0 [id 3]
 | |y [id 4]
"""

import shutil
import subprocess
import sys

from .compile import monitormode as _monitormode
from .graph.basic import Apply, Constant, Variable
from .tensor.ops.debug import Print  # noqa: F401  (re-exported: theano.printing.Print)
from .viz import viz  # noqa: F401  (re-exported: symnet.printing.viz)

__all__ = ["debugprint", "pp", "pprint", "pydotprint", "Print", "Printer", "viz"]


def _roots(obj):
    """The output variables of a variable, list, Apply, FunctionGraph or Function."""
    if isinstance(obj, Variable):
        return [obj]
    if isinstance(obj, Apply):
        return list(obj.outputs)
    if isinstance(obj, (list, tuple)):
        out = []
        for o in obj:
            out.extend(_roots(o))
        return out
    fgraph = getattr(obj, "fgraph", None)
    if fgraph is None and hasattr(obj, "outputs") and hasattr(obj, "apply_nodes"):
        fgraph = obj
    if fgraph is not None:
        return list(fgraph.outputs)
    raise TypeError(f"cannot print {type(obj).__name__} {obj!r}: expected a variable, "
                    f"a list of variables, an Apply node or a compiled function")


def _is_shared(v):
    from .compile.sharedvalue import SharedVariable
    return isinstance(v, SharedVariable)


class _Ids:
    """Stable short ids for the variables printed ('int', 'CHAR', 'id' or '')."""

    def __init__(self, style):
        if style not in ("int", "CHAR", "id", ""):
            raise ValueError(f"ids must be 'int', 'CHAR', 'id' or '', got {style!r}")
        self.style = style
        self.table = {}

    def __call__(self, v):
        if not self.style:
            return ""
        key = v.owner if v.owner is not None else v
        if key not in self.table:
            n = len(self.table)
            if self.style == "int":
                self.table[key] = str(n)
            elif self.style == "CHAR":
                self.table[key] = _letters(n)
            else:
                self.table[key] = str(id(key))
        return f" [id {self.table[key]}]"


def _letters(n):
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _label(v, print_type, ids):
    if v.owner is not None:
        op = v.owner.op
        text = str(op)
        if len(v.owner.outputs) > 1:
            text += f".{v.index}"
        text += ids(v)
        if v.name is not None:
            text += f" '{v.name}'"
    else:
        text = str(v) + ids(v)
        if _is_shared(v):
            text += " [shared]"
    if print_type:
        text += f" <{v.type}>"
    return text


_MAX_INDENT = 40


def _indent(d):
    """' |' per level; very deep levels show their depth instead, so the text
    of a long chain grows linearly, not quadratically."""
    if d <= _MAX_INDENT:
        return " |" * d
    return " |" * _MAX_INDENT + f" ({d} levels)"


def debugprint(obj, file=None, print_type=False, ids="int", depth=-1, done=None,
               stop_on_name=False, prefix=""):
    """Print a graph as an indented tree, one variable per line.

    Parameters
    ----------
    obj : Variable, list of Variable, Apply, FunctionGraph or Function
        A compiled function prints its rewritten graph (``fn.fgraph``).
    file : None, 'str' or file-like
        None prints to stdout; 'str' returns the text (Theano's convention);
        a file object receives it.
    print_type : bool
        Append each variable's type.
    ids : {'int', 'CHAR', 'id', ''}
        How nodes are labelled; a node used twice is printed in full once,
        then only its label (so shared subtrees are not repeated).
    depth : int
        Maximum depth to print (-1: everything).
    stop_on_name : bool
        Do not descend below named variables.

    Returns
    -------
    str, the file or None
        The text when ``file='str'``, ``file`` when one is given, and None
        when printing to stdout (as Theano: ``debugprint(f)`` typed at a
        prompt shows the tree and nothing after it).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> w = symnet.shared(np.ones(2), name='w')
    >>> x = T.dvector('x')
    >>> y = T.exp(x * w)
    >>> print(debugprint([y, y + 1], file='str', print_type=True), end='')
    exp [id 0] <TensorType(float64, (2,))>
     |mul [id 1] <TensorType(float64, (2,))>
     | |x [id 2] <TensorType(float64, vector)>
     | |w [id 3] [shared] <TensorType(float64, (2,))>
    add [id 4] <TensorType(float64, (2,))>
     |exp [id 0] <TensorType(float64, (2,))>
     |DimShuffle{new_order=('x',)} [id 5] <TensorType(float64, (True,))>
     | |1.0 [id 6] <TensorType(float64, scalar)>
    """
    ids_of = ids if isinstance(ids, _Ids) else _Ids(ids)
    done = set() if done is None else done
    lines = []
    # explicit stack of (variable, depth): recursion would overflow on deep graphs
    for root in _roots(obj):
        stack = [(root, 0)]
        while stack:
            v, d = stack.pop()
            lines.append(prefix + _indent(d) + _label(v, print_type, ids_of))
            node = v.owner
            if node is None or node in done:
                continue
            done.add(node)
            if depth >= 0 and d + 1 > depth:
                continue
            if stop_on_name and v.name is not None and d > 0:
                continue
            for inp in reversed(node.inputs):
                stack.append((inp, d + 1))
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        return None
    file.write(text)
    return file


_monitormode.PRINT_TREE[0] = debugprint   # detect_nan's tree (compile/ cannot import us)


# -- pp: infix formulas --------------------------------------------------------------

_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//",
          "mod": "%", "pow": "**", "eq": "==", "neq": "!=", "lt": "<", "le": "<=",
          "gt": ">", "ge": ">=", "and_": "&", "or_": "|", "xor": "^"}


def _pp_node(node, args):
    """Template (list of strings and child variables) of one node's text."""
    args = [a.var for a in args]
    op = node.op
    scalar = getattr(op, "scalar_op", None)
    name = getattr(scalar, "name", None)
    if name in _INFIX and len(args) == 2:
        return ["(", args[0], f" {_INFIX[name]} ", args[1], ")"]
    if name == "neg":
        return ["(-", args[0], ")"]
    head = f"{scalar}(" if scalar is not None else None
    if scalar is None and type(op).__name__ == "DimShuffle":
        order = op.new_order
        kept = [d for d in order if d != "x"]
        if kept == list(range(len(kept))) and len(kept) == node.inputs[0].ndim:
            return [args[0]]  # only broadcastable axes added: implicit in a formula
        if list(order) == list(reversed(range(len(order)))) and "x" not in order:
            return [args[0], ".T"]
        return [args[0], f".dimshuffle{tuple(order)}"]
    if head is None:
        head = f"{op}("
    out = [head]
    for k, a in enumerate(args):
        if k:
            out.append(", ")
        out.append(a)
    out.append(")")
    return out


def pp(var):
    """An infix formula for ``var`` (``'(x + (2.0 * y))'``).

    Elementwise arithmetic and comparisons print as operators with full
    parentheses; other ops print as function calls.  Named intermediate
    variables print by their name.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.matrix('x')
    >>> pp(T.exp(-x).T)
    'exp((-x)).T'
    >>> pp(T.sum(x ** 2, axis=1))
    'Sum{axis=[1]}((x ** 2.0))'
    """
    if isinstance(var, (list, tuple)):
        return "\n".join(pp(v) for v in var)
    # Each variable's text is a template of strings and child variables,
    # expanded once at the end: storing full strings per node would cost
    # quadratic memory on a long chain.  Explicit stacks, no recursion.
    templates = {}
    stack = [(var, False)]
    while stack:
        v, expanded = stack.pop()
        if v in templates:
            continue
        node = v.owner
        if node is None or (v.name is not None and v is not var):
            templates[v] = [str(v)]
            continue
        if not expanded:
            stack.append((v, True))
            stack.extend((i, False) for i in reversed(node.inputs) if i not in templates)
            continue
        body = _pp_node(node, [_Slot(i) for i in node.inputs])
        if len(node.outputs) > 1:
            body.append(f"[{v.index}]")
        templates[v] = body
    out, todo = [], [var]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            todo.extend(reversed(templates[item]))
    return "".join(out)


#: Theano's name for the formula printer: ``theano.printing.pprint(var)``.
pprint = pp


class _Slot:
    """Placeholder for a child's text inside a template."""
    __slots__ = ("var",)

    def __init__(self, var):
        self.var = var


class Printer:
    """Theano-compatible holder: ``Printer().process(var)`` is ``pp(var)``."""

    def process(self, var, pstate=None):
        return pp(var)

    def __call__(self, var):
        return pp(var)


# -- pydotprint: Graphviz ------------------------------------------------------------

def _dot_source(obj):
    """DOT text: variables as boxes (shared ones green), ops as ellipses."""
    roots = _roots(obj)
    ids, lines = {}, ["digraph G {", "  rankdir=TB;"]

    def nid(x):
        if x not in ids:
            ids[x] = f"n{len(ids)}"
        return ids[x]

    def esc(s):
        return str(s).replace("\\", "\\\\").replace('"', '\\"')
    seen = set()
    stack = list(roots)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v.owner is None:
            color = ', style=filled, fillcolor="palegreen"' if _is_shared(v) else \
                (', style=filled, fillcolor="lightgrey"' if isinstance(v, Constant) else "")
            lines.append(f'  {nid(v)} [shape=box, label="{esc(v)}\\n{esc(v.type)}"{color}];')
            continue
        node = v.owner
        if node not in seen:
            seen.add(node)
            lines.append(f'  {nid(node)} [shape=ellipse, label="{esc(node.op)}"];')
            for k, inp in enumerate(node.inputs):
                stack.append(inp)
                src = nid(inp) if inp.owner is None else nid(inp.owner)
                lines.append(f'  {src} -> {nid(node)} [label="{k}"];')
    for k, r in enumerate(roots):
        lines.append(f'  out{k} [shape=box, style=filled, fillcolor="lightblue", '
                     f'label="output {k}\\n{esc(r.type)}"];')
        src = nid(r) if r.owner is None else nid(r.owner)
        lines.append(f"  {src} -> out{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(fct, outfile=None, format="png", return_source=False, **kwargs):
    """Draw a graph with Graphviz.

    Uses the ``graphviz`` Python package when installed, else the ``dot``
    program; ``format='dot'`` (or ``return_source=True``) needs neither and
    writes (returns) the DOT text.

    Parameters
    ----------
    fct : Variable, list of Variable or Function
    outfile : str, optional
        Default ``'symnet.pydotprint.<format>'``.
    format : str
        Any Graphviz output format ('png', 'svg', 'pdf'), or 'dot'.

    Raises
    ------
    ImportError
        Neither the ``graphviz`` package nor the ``dot`` program is available.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.vector('x')
    >>> print(pydotprint(T.exp(x), return_source=True).splitlines()[2])
      n0 [shape=ellipse, label="exp"];
    """
    src = _dot_source(fct)
    if return_source:
        return src
    outfile = outfile or f"symnet.pydotprint.{format}"
    if str(outfile).endswith((".dot", ".gv")):
        format = "dot"  # the file name asks for the DOT text itself
    if format == "dot":
        with open(outfile, "w") as fh:
            fh.write(src)
        return outfile
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        data = graphviz.Source(src).pipe(format=format)
    elif shutil.which("dot"):
        data = subprocess.run(["dot", f"-T{format}"], input=src.encode(),
                              stdout=subprocess.PIPE, check=True).stdout
    else:
        raise ImportError(
            "pydotprint needs Graphviz: install the 'graphviz' Python package "
            "(pip install graphviz) or the 'dot' program (apt-get install graphviz); "
            "format='dot' writes the graph description without either")
    with open(outfile, "wb") as fh:
        fh.write(data)
    return outfile



