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
(x + (TensorConstant{2.0} * y))
>>> print(debugprint(x + 2.0 * y, file='str'), end='')  # doctest: +NORMALIZE_WHITESPACE
Elemwise{add,no_inplace} [id A] ''
 |x [id B]
 |Elemwise{mul,no_inplace} [id C] ''
   |TensorConstant{2.0} [id D]
   |y [id E]
"""

import functools
import importlib.util
import shutil
import subprocess
import sys

from .compile import monitormode as _monitormode
from .graph.basic import Apply, Constant, Variable
from .printnames import theano_name, theano_str, theano_type_str
from .scan.op import Scan
from .tensor.ops.blas import Dot
from .tensor.ops.indexing import IN as _IN, Subtensor
from .tensor.ops.debug import Print  # noqa: F401  (re-exported: theano.printing.Print)
from .viz import viz  # noqa: F401  (re-exported: symnet.printing.viz)

__all__ = ["debugprint", "pp", "pprint", "pydotprint", "Print", "Printer", "viz",
           "min_informative_str", "theano_name", "theano_str", "pydot_imported"]


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
        return f"[id {self.table[key]}]"


def _letters(n):
    """Theano's letter ids: A..Z, then BA, BB... (base 26 with A as 0)."""
    s = ""
    while True:
        n, r = divmod(n, 26)
        s = chr(65 + r) + s
        if not n:
            return s


def _label(v, print_type, ids, order=None, maps=(False, False), links=None, storage=None):
    """One line of debugprint, laid out as Theano's (trailing spaces included:
    Theano's tests and docs compare them)."""
    # Theano's type strings (its types held no static sizes), as in its printouts
    type_str = f" <{theano_type_str(v.type)}>" if print_type else ""
    data = f" {storage(v)}" if storage is not None else ""
    node = v.owner
    if node is None:
        link = f" -> {ids(links[v])}" if links and v in links else ""
        # a compiled function's constants (``order``) print as its rewrites left them
        return f"{theano_str(v, as_written=not order)} {ids(v)}{type_str}{data}{link}"
    text = theano_name(node.op, node)
    if len(node.outputs) > 1:
        text += f".{v.index}"
    destroy = f"d={node.op.destroy_map}" if maps[0] and node.op.destroy_map else ""
    view = f"v={node.op.view_map}" if maps[1] and node.op.view_map else ""
    pos = str(order[node]) if order and node in order else ""
    return f"{text} {ids(v)}{type_str} '{v.name or ''}' {destroy} {view} {pos}{data}"


_MAX_INDENT = 40


def _indent(pad, d):
    """The text before a line at depth ``d``: ``pad`` (its parent's
    children's margin: ' |' per level whose parent has later children,
    '  ' where it was the last, as Theano draws it) and ' |'.  Past
    _MAX_INDENT levels the margin stops growing and the line shows its depth
    instead, so the text of a long chain grows linearly, not quadratically."""
    if d == 0:
        return ""
    if d <= _MAX_INDENT:
        return pad + " |"
    return pad + f" | ({d} levels)"


def debugprint(obj, file=None, print_type=False, ids="CHAR", depth=-1, done=None,
               stop_on_name=False, prefix="", print_destroy_map=False, print_view_map=False,
               print_storage=False):
    """Print a graph as an indented tree, one variable per line.

    Parameters
    ----------
    obj : Variable, list of Variable, Apply, FunctionGraph or Function
        A compiled function prints its rewritten graph (``fn.fgraph``).
    file : None, 'str' or file-like
        None prints to stdout; 'str' returns the text (Theano's convention);
        a file object receives it.
    print_type : bool
        Append each variable's type as Theano printed it, by its
        broadcastable pattern (``vector``, ``row``...); static sizes, which
        Theano's types did not hold, show in ``v.type``.
    ids : {'int', 'CHAR', 'id', ''}
        How nodes are labelled; a node used twice is printed in full once,
        then only its label (so shared subtrees are not repeated).
    depth : int
        Maximum depth to print (-1: everything).
    stop_on_name : bool
        Do not descend below named variables.
    print_destroy_map, print_view_map : bool
        Show which inputs each node overwrites (``d={0: [0]}``) or returns
        a view of (``v={0: [0]}``).
    print_storage : bool
        For a compiled function, end each line with the variable's storage
        cell as Theano prints it: ``[value]`` for shared variables (their
        current value) and constants, ``[None]`` for the others (a call's
        inputs and intermediate values are not kept between calls, as
        Theano's with garbage collection on).  No effect on a graph.

    Each line is laid out as Theano's: ``op [id A] 'name' d= v= order``
    (the order: the node's position in a compiled function), with
    Theano's op names (:func:`theano_name`).  The step graph of each scan
    follows, under "Inner graphs of the scan ops:", its lines marked ``>``
    and each step input pointing (``-> [id E]``) at the outer variable it
    stands for.

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
    ... # doctest: +NORMALIZE_WHITESPACE
    Elemwise{exp,no_inplace} [id A] <TensorType(float64, vector)> ''
     |Elemwise{mul,no_inplace} [id B] <TensorType(float64, vector)> ''
       |x [id C] <TensorType(float64, vector)>
       |w [id D] <TensorType(float64, vector)>
    Elemwise{add,no_inplace} [id E] <TensorType(float64, vector)> ''
     |Elemwise{exp,no_inplace} [id A] <TensorType(float64, vector)> ''
     |InplaceDimShuffle{x} [id F] <TensorType(float64, (True,))> ''
       |TensorConstant{1} [id G] <TensorType(float64, scalar)>
    """
    ids_of = ids if isinstance(ids, _Ids) else _Ids(ids)
    done = set() if done is None else done
    label = functools.partial(_label, print_type=print_type, ids=ids_of, order=_order(obj),
                              maps=(print_destroy_map, print_view_map),
                              storage=_storage(obj) if print_storage else None)
    scans = []
    lines = _tree(_roots(obj), prefix, label, done, depth, stop_on_name, scans)
    if scans:
        # As Theano: each loop's step graph after the outer graph, its lines
        # marked '>', an input of the step pointing (->) at the outer
        # variable it stands for.  A loop inside a step joins the list.
        lines += ["", prefix + "Inner graphs of the scan ops:"]
        for node in scans:   # grows while it is walked (nested loops)
            links = _scan_links(node)
            for out in node.outputs:   # the step printed in full under the first
                lines += ["", prefix + label(out)]
                lines += _tree(node.op.inner_outputs, prefix + " >",
                               functools.partial(label, links=links), done, depth,
                               stop_on_name, scans)
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        return None
    file.write(text)
    return file


def _tree(roots, prefix, label, done, depth, stop_on_name, scans):
    """debugprint's lines for ``roots``; Scan nodes met are added to ``scans``."""
    lines = []
    # explicit stack: recursion would overflow on deep graphs
    for root in roots:
        stack = [(root, 0, "", False)]
        while stack:
            v, d, pad, more = stack.pop()
            lines.append(prefix + _indent(pad, d) + label(v))
            node = v.owner
            if node is None or node in done:
                continue
            done.add(node)
            if isinstance(node.op, Scan):
                scans.append(node)
            if depth >= 0 and d + 1 > depth:
                continue
            if stop_on_name and v.name is not None and d > 0:
                continue
            # the inputs' margin: this line's, continued by ' |' where this
            # variable has later siblings and '  ' where it is the last
            child_pad = pad + (" |" if more else "  ") if 0 < d < _MAX_INDENT else pad
            for k in range(len(node.inputs) - 1, -1, -1):
                stack.append((node.inputs[k], d + 1, child_pad, k < len(node.inputs) - 1))
    return lines


def _scan_links(node):
    """{inner input: the outer input it stands for} of a Scan node: a
    sequence's slice -> the sequence, a state's taps -> its initial value,
    a non-sequence -> itself outside."""
    op = node.op
    outer = node.inputs[1:]             # after n_steps
    inner = op.inner_inputs
    links = dict(zip(inner[:op.n_seqs], outer[:op.n_seqs]))
    k, s = op.n_seqs, op.n_seqs
    for taps in op.taps:
        if taps is None:
            continue
        for _ in taps:
            links[inner[k]] = outer[s]
            k += 1
        s += 1
    links.update(zip(inner[k:], outer[s:]))
    return links


def _storage(obj):
    """``v -> '[value]'`` for a compiled function's variables (debugprint's
    ``print_storage``), None for anything else."""
    if getattr(obj, "fgraph", None) is None:
        return None

    def cell(v):
        if _is_shared(v):
            return str([v.get_value(borrow=True)])
        if isinstance(v, Constant):
            return str([v.data])
        return "[None]"
    return cell


def _order(obj):
    """{node: position} in a compiled function's (or FunctionGraph's) order:
    Theano's debugprint of a function ends each node's line with it."""
    fgraph = getattr(obj, "fgraph", None)
    if fgraph is None and hasattr(obj, "apply_nodes") and hasattr(obj, "toposort"):
        fgraph = obj
    if fgraph is None:
        return None
    return {node: k for k, node in enumerate(fgraph.toposort())}


_monitormode.PRINT_TREE[0] = debugprint


def min_informative_str(obj, indent_level=0, _prev_obs=None, _tag_generator=None):
    """A short tree of ``obj``: each variable gets a letter; a named variable
    prints its name and stops there; a variable seen before prints ``<its
    letter>``; otherwise its op, with its inputs one space further in.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> a, b, c = T.matrices('a', 'b', 'c')
    >>> ab = a + b
    >>> ab.name = 'ab'
    >>> print(min_informative_str(ab * c + ab))
    A. Elemwise{add,no_inplace}
     B. Elemwise{mul,no_inplace}
      C. ab
      D. c
     <C>
    """
    seen = {} if _prev_obs is None else _prev_obs
    count = [len(seen)] if _tag_generator is None else _tag_generator
    lines = []
    stack = [(obj, indent_level)]   # explicit stack: deep graphs must not recurse
    while stack:
        v, level = stack.pop()
        pad = " " * level
        if v in seen:
            lines.append(f"{pad}<{seen[v]}>")
            continue
        tag = seen[v] = _letters(count[0])
        count[0] += 1
        if v.name is not None or v.owner is None:
            lines.append(f"{pad}{tag}. {theano_str(v)}")
            continue
        lines.append(f"{pad}{tag}. {theano_name(v.owner.op, v.owner)}")
        stack.extend((i, level + 1) for i in reversed(v.owner.inputs))
    return "\n".join(lines)   # detect_nan's tree (compile/ cannot import us)


# -- pp: infix formulas --------------------------------------------------------------

# Theano's pprint writes these as operators; every other op (comparisons
# included: ``gt(x, y)``) as a function call.
_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//",
          "mod": "%", "pow": "**", "and_": "&", "or_": "|", "xor": "^"}


def _pp_subtensor(op, args):
    """``x[Constant{1}, i:]``: Theano's form, an index fixed in the graph
    printed as the constant Theano held it in."""
    rest = iter(args[1:])

    def part(p):
        if p is None:
            return [""]
        return [next(rest)] if p == _IN else [f"Constant{{{p}}}"]
    out = [args[0], "["]
    for k, e in enumerate(op.idx_list):
        if k:
            out.append(", ")
        if isinstance(e, slice):
            out += part(e.start) + [":"] + part(e.stop)
            if e.step is not None:
                out += [":"] + part(e.step)
        else:
            out += part(e)
    return out + ["]"]


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
    if isinstance(op, Dot):
        return ["(", args[0], " \\dot ", args[1], ")"]
    if isinstance(op, Subtensor):
        return _pp_subtensor(op, args)
    head = f"{scalar}(" if scalar is not None else None
    if name == "second":
        head = "fill("   # Theano's pprint name for it
    if scalar is None and type(op).__name__ == "DimShuffle":
        order = op.new_order
        kept = [d for d in order if d != "x"]
        if kept == list(range(len(kept))) and len(kept) == node.inputs[0].ndim:
            return [args[0]]  # only broadcastable axes added: implicit in a formula
        if list(order) == list(reversed(range(len(order)))) and "x" not in order:
            return [args[0], ".T"]
        return [args[0], f".dimshuffle{tuple(order)}"]
    if head is None:
        head = f"{theano_name(op, node)}("
    out = [head]
    for k, a in enumerate(args):
        if k:
            out.append(", ")
        out.append(a)
    out.append(")")
    return out


def pp(var):
    """An infix formula for ``var`` (``'(x + (TensorConstant{2.0} * y))'``),
    as Theano's ``pprint`` writes it.

    Elementwise arithmetic prints as operators with full parentheses,
    ``dot`` as ``\\dot``; other ops (comparisons included) print as
    function calls, constants as ``TensorConstant{...}``.  Named
    intermediate variables print by their name.

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.matrix('x')
    >>> pp(T.exp(-x).T)
    'exp((-x)).T'
    >>> pp(T.sum(x ** 2, axis=1))
    'Sum{axis=[1], acc_dtype=float64}((x ** TensorConstant{2}))'
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
            templates[v] = [theano_str(v)]
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


#: Theano's flag, read by scripts before they draw: whether
#: :func:`pydotprint` can make pictures here (the ``graphviz`` package or the
#: ``dot`` program is present; ``format='dot'`` needs neither).
pydot_imported = importlib.util.find_spec("graphviz") is not None or shutil.which("dot") is not None


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
      n0 [shape=ellipse, label="Elemwise{exp,no_inplace}"];
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



