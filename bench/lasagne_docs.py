"""Run Lasagne's documentation examples and examples/mnist.py on symnet.

Driven by ``bench/lasagne_docs.sh``, which picks the mode; run in a process
where ``symnet.compat.install`` has not been called yet. Three parts:

``docstrings MODE LASAGNE_DIR``
    Every ``>>>`` example in the docstrings of Lasagne's modules (those of
    the GPU-only modules left out), run with :mod:`doctest` in the globals
    of the module the example documents: in mode B Lasagne's own module on
    symnet-as-theano, in mode A the module ``import lasagne.x`` gives
    (symnet's), so Lasagne's examples check symnet's layers directly.
``rst MODE LASAGNE_DIR``
    The code of ``docs/user/{tutorial,layers,custom_layers}.rst``: each page
    in one namespace, its ``.. code-block:: python`` / ``.. code:: python``
    blocks executed and its ``>>>`` groups run with doctest, in page order
    (see :func:`page_items` for how the tutorial's function bodies, split
    over several blocks, are put back together, and :data:`PAGE_PREAMBLE`
    for the names a page uses without defining).
``mnist MODE LASAGNE_DIR MODEL [EPOCHS]``
    ``examples/mnist.py``'s ``main`` with its ``load_dataset`` replaced by
    :func:`digits_like_mnist` (no download).
``recurrent MODE LASAGNE_DIR [EPOCHS]``
    ``examples/recurrent.py``'s ``main`` (its data is generated).
``compare LOG_A LOG_B``
    Two runs of an example (two backends, or two modes) printed the same
    numbers.

Each part prints one ``RESULT`` line (passed/total) and one line per failure.
"""
import ast
import contextlib
import doctest
import io
import importlib
import os
import re
import sys
import time
import traceback

import numpy as np

__all__ = ["digits_like_mnist", "iterate_minibatches", "page_items", "run_docstrings",
           "run_rst", "run_example", "compare"]

# The modules Lasagne's conftest.py keeps the doctest collector away from:
# they import GPU-only Theano modules.
GPU_MODULES = ("lasagne/layers/corrmm.py", "lasagne/layers/cuda_convnet.py",
               "lasagne/layers/dnn.py")

PAGES = ("tutorial", "layers", "custom_layers")

# Names each page uses but never defines (the pages are excerpts of larger
# programs); given before the page's first item runs.
PAGE_PREAMBLE = {
    # the tutorial's `main()` part calls load_dataset and iterate_minibatches,
    # whose blocks are sketches with `...` (skipped), and uses num_epochs
    # and time without defining them.
    "tutorial": (
        "import time\n"
        "from lasagne_docs import digits_like_mnist as load_dataset\n"
        "from lasagne_docs import iterate_minibatches\n"
        "num_epochs = 1\n"),
    # the page's last examples name a two-input and a two-output network.
    "layers": (
        "import lasagne, theano.tensor as T\n"
        "l_in1 = lasagne.layers.InputLayer((100, 50))\n"
        "l_in2 = lasagne.layers.InputLayer((100, 50))\n"
        "l_out1 = lasagne.layers.DenseLayer(l_in1, num_units=10)\n"
        "l_out2 = lasagne.layers.DenseLayer(l_in2, num_units=10)\n"),
    # the page writes classes against `lasagne`, `T`, `theano` and `Layer`
    # and feeds them a layer `l_in` of (batch, features) it never builds.
    "custom_layers": (
        "import lasagne, theano, theano.tensor as T\n"
        "from lasagne.layers import Layer\n"
        "l_in = lasagne.layers.InputLayer((100, 20))\n"),
}


# Run after a page's last item, counted as one more: what the page built
# computes what the page says it does (the pages themselves print nothing).
PAGE_CHECK = {
    "tutorial": (
        "assert np.isfinite(train_err / train_batches), train_err\n"
        "assert 0 <= val_acc / val_batches <= 1, val_acc\n"),
    "layers": (
        "import numpy as np, theano\n"
        "xv = np.random.RandomState(0).rand(100, 50).astype(theano.config.floatX)\n"
        "p = f(xv)\n"
        "assert p.shape == (100, 10), p.shape\n"
        "assert np.allclose(p.sum(axis=1), 1, rtol=1e-5)\n"),
    "custom_layers": (
        "import numpy as np\n"
        "xv = np.random.RandomState(0).rand(100, 20).astype(theano.config.floatX)\n"
        "def run(layer, **kw):\n"
        "    out = lasagne.layers.get_output(layer, **kw)\n"
        "    return theano.function([l_in.input_var], out)(xv)\n"
        "assert np.allclose(run(DoubleLayer(l_in)), 2 * xv)\n"
        "s = SumLayer(l_in)\n"
        "assert s.output_shape == (100,), s.output_shape\n"
        "assert np.allclose(run(s), xv.sum(axis=-1), rtol=1e-5)\n"
        "d = DotLayer(l_in, num_units=50, name='my_dot_layer')\n"
        "assert d.output_shape == (100, 50) and d.name == 'my_dot_layer'\n"
        "assert np.allclose(run(d), xv @ d.W.get_value(), rtol=1e-4, atol=1e-6)\n"
        "assert np.all(run(l_dot) == 0)  # the page's last DotLayer: W=Constant(0.0)\n"
        "drop = DropoutLayer(l_in, p=0.5)\n"
        "assert np.allclose(run(drop, deterministic=True), xv)\n"
        "y = run(drop)\n"
        "kept = y != 0\n"
        "assert np.allclose(y[kept], 2 * xv[kept], rtol=1e-5), 'kept values not scaled by 2'\n"
        "assert 0.4 < kept.mean() < 0.6, kept.mean()\n"),
}


def start(part, mode):
    """Install the mode's import hook; a doctest runner, parser and tally."""
    import symnet.compat
    symnet.compat.install(lasagne=(mode == "A"))
    return doctest_runner(), doctest.DocTestParser(), Tally(part, mode)


def doctest_runner():
    # Lasagne's doctests were written for numpy 1's reprs (`True`, `1050`
    # where numpy 2 prints `np.True_`, `np.int64(1050)`); LASAGNE_DOCS_NUMPY2_REPR=1
    # keeps numpy 2's and lets those examples fail.
    if os.environ.get("LASAGNE_DOCS_NUMPY2_REPR", "0") != "1":
        np.set_printoptions(legacy="1.25")
    return FirstFailure(verbose=False)


class Tally:
    def __init__(self, part, mode):
        self.part, self.mode, self.passed, self.failures = part, mode, 0, []
        self.skipped = []

    def add(self, name, error=None):
        if error is SKIPPED:
            self.skipped.append(name)
        elif error is None:
            self.passed += 1
        else:
            self.failures.append((name, error))

    def report(self):
        total = self.passed + len(self.failures)
        print(f"RESULT {self.part} mode {self.mode}: {self.passed}/{total} passed"
              + (f", {len(self.skipped)} skipped" if self.skipped else ""))
        for name, error in self.failures:
            print(f"  FAILED {name}: {error}")
        return 0 if not self.failures else 1


SKIPPED = "skipped (every example is marked +SKIP)"


class FirstFailure(doctest.DocTestRunner):
    """A doctest runner that keeps the first failing example of each test,
    in one line: its source, then what was expected and what came."""

    def run(self, test, **kw):
        self.first = None
        result = super().run(test, out=lambda s: None, clear_globs=False)
        if result.attempted == 0:  # every example marked +SKIP
            self.first = SKIPPED
        return result

    def report_failure(self, out, test, example, got):
        if self.first is None:
            self.first = (f"{example.source.strip()!r}: expected {example.want.strip()!r}, "
                          f"got {got.strip()!r}")

    def report_unexpected_exception(self, out, test, example, exc_info):
        if self.first is None:
            exc = traceback.format_exception_only(*exc_info[:2])[-1].strip()
            self.first = f"{example.source.strip()!r} raised {exc}"


def run_doctest(runner, test):
    """Run one DocTest; None when it passed, else its first failure."""
    runner.run(test)
    return runner.first if runner.first in (None, SKIPPED) else runner.first[:500]


def docstrings(path):
    """(qualified name, docstring, line) of a source file's module, classes
    and functions (nested ones included), walked with a stack, not recursion."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = []
    stack = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        doc = ast.get_docstring(node, clean=False)
        if doc and ">>>" in doc:
            line = node.body[0].lineno if node.body else 0
            found.append((prefix, doc, line))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((f"{prefix}.{child.name}" if prefix else child.name, child))
    return sorted(found, key=lambda t: t[2])


def lasagne_imports(path, modname):
    """The names Lasagne's module imports at its top (``theano``, ``T``,
    ``floatX``...), imported here through the hook: its examples use them,
    and symnet's module of the same name need not import the same ones."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    package = modname if path.endswith("__init__.py") else modname.rpartition(".")[0]
    names = {"__name__": modname, "__package__": package}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module([node], []), path, "exec"), names)
    del names["__name__"], names["__package__"], names["__builtins__"]
    return names


def run_docstrings(mode, lasagne_dir):
    runner, parser, tally = start("docstrings", mode)
    root = os.path.join(lasagne_dir, "lasagne")
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames[:] = sorted(d for d in dirnames if d != "tests")
        for fn in sorted(filenames):
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, lasagne_dir)
            if not fn.endswith(".py") or rel in GPU_MODULES or fn == "conftest.py":
                continue
            found = docstrings(path)
            if not found:
                continue
            modname = rel[:-3].replace(os.sep, ".").removesuffix(".__init__")
            try:
                module = importlib.import_module(modname)
            except Exception as e:  # the module itself is missing: each example fails
                for qual, _, _ in found:
                    tally.add(f"{modname}.{qual}", f"import {modname}: {e!r}")
                continue
            globs = dict(vars(module))
            if mode == "A":
                globs.update(lasagne_imports(path, modname))
            for qual, doc, line in found:
                name = f"{modname}.{qual}" if qual else modname
                test = parser.get_doctest(doc, dict(globs), name, path, line)
                if not test.examples:
                    continue
                tally.add(name, run_doctest(runner, test))
    return tally.report()


BLOCK_RE = re.compile(r"^\.\. (code-block|code)::\s*(\S*)\s*$")


def page_items(text):
    """The page's runnable items, in order: ("code", source, line) for each
    python code block and ("doctest", text, line) for each run of ``>>>``
    lines with their continuations and expected output.

    The tutorial writes one function over several blocks: a block that
    starts with ``def`` and has no top-level ``return`` opens the function;
    the blocks after it are indented into its body up to and including
    the one that ends in a top-level ``return``. A block with a ``...``
    elision (``def load_dataset(): ...``, ``for ...:``) is a sketch and
    becomes ("sketch", source, line): not run, the preamble stands in.
    """
    lines = text.splitlines()
    items = []
    i = 0
    while i < len(lines):
        m = BLOCK_RE.match(lines[i])
        if m:
            lang, start = m.group(2), i + 1
            i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                body.append(lines[i])
                i += 1
            if lang == "python":
                items.append(("code", _dedent(body), start))
            continue
        if lines[i].lstrip().startswith(">>>"):
            start, group = i + 1, []
            while i < len(lines) and lines[i].strip():
                group.append(lines[i])
                i += 1
            items.append(("doctest", _dedent(group), start))
            continue
        i += 1
    return _stitch(items)


def _dedent(body):
    rows = [ln for ln in body if ln.strip()]
    cut = min(len(ln) - len(ln.lstrip()) for ln in rows) if rows else 0
    return "\n".join(ln[cut:] for ln in body).strip("\n") + "\n"


def _is_sketch(src):
    return any(ln.strip() in ("...",) or re.search(r"\b(for|if|while) \.\.\.:", ln)
               for ln in src.splitlines())


def _top_level_return(src):
    last = [ln for ln in src.splitlines() if ln.strip() and not ln.startswith("#")][-1]
    return last.startswith("return")


def _stitch(items):
    out = []
    open_fn = None  # [source, line] of a function still being written
    for kind, src, line in items:
        if kind == "code" and _is_sketch(src):
            out.append(("sketch", src, line))
            continue
        if kind != "code":
            out.append((kind, src, line))
            continue
        if open_fn is not None:
            open_fn[0] += "".join("    " + ln + "\n" if ln.strip() else "\n"
                                  for ln in src.splitlines())
            if _top_level_return(src):
                out.append(("code", open_fn[0], open_fn[1]))
                open_fn = None
            continue
        starts_def = src.lstrip().startswith("def ")
        has_return = any(ln.startswith("    return") or ln.startswith("return")
                         for ln in src.splitlines())
        if starts_def and not has_return:
            open_fn = [src, line]
        else:
            out.append(("code", src, line))
    if open_fn is not None:
        out.append(("code", open_fn[0], open_fn[1]))
    return out


def exec_error(src, name, ns):
    """Execute ``src`` in ``ns``; None, or the exception in one line."""
    try:
        exec(compile(src, name, "exec"), ns)
    except Exception as e:
        return "".join(traceback.format_exception_only(type(e), e)).strip()[:400]
    return None


def run_rst(mode, lasagne_dir):
    runner, parser, tally = start("rst", mode)
    for page in PAGES:
        path = os.path.join(lasagne_dir, "docs", "user", page + ".rst")
        with open(path) as f:
            items = page_items(f.read())
        ns = {"__name__": f"rst_{page}"}
        exec(compile(PAGE_PREAMBLE[page], f"<{page} preamble>", "exec"), ns)
        for kind, src, line in items:
            name = f"{page}.rst:{line}"
            if kind == "sketch":
                print(f"  skipped {name} (a sketch with `...`; the preamble stands in)")
                continue
            if kind == "doctest":
                test = parser.get_doctest(src, ns, name, path, line - 1)
                tally.add(name, run_doctest(runner, test))
                ns.update(test.globs)  # DocTest ran in a copy of the page's names
                continue
            tally.add(name, exec_error(src, name, ns))
        tally.add(f"{page}.rst check", exec_error(PAGE_CHECK[page], f"<{page} check>", ns))
    return tally.report()


def digits_like_mnist(n_train=797, n_val=500, n_test=500):
    """symnet's bundled 8x8 digits in MNIST's layout, in place of mnist.py's
    download: each image enlarged 3x (24x24) and centred in 28x28, float32
    in [0, 1], shape (n, 1, 28, 28); labels uint8, as load_dataset returns.

    mnist.py iterates in batches of 500 and drops a last partial batch, so
    each split needs at least 500 images; 797 + 500 + 500 = the 1,797."""
    from symnet.datasets import load_digits
    X, y = load_digits()
    X = np.asarray(X, dtype=np.float32).reshape(-1, 8, 8)
    X = X / X.max()
    big = np.zeros((len(X), 1, 28, 28), np.float32)
    big[:, 0, 2:26, 2:26] = np.kron(X, np.ones((3, 3), np.float32))
    y = np.asarray(y).astype(np.uint8)
    order = np.random.RandomState(0).permutation(len(X))
    big, y = big[order], y[order]
    a, b = n_train, n_train + n_val
    return big[:a], y[:a], big[a:b], y[a:b], big[b:b + n_test], y[b:b + n_test]


def iterate_minibatches(inputs, targets, batchsize, shuffle=False):
    """The tutorial's helper (its own block is a sketch): batches of
    `batchsize` in order or shuffled, a last partial batch dropped."""
    index = np.arange(len(inputs))
    if shuffle:
        np.random.shuffle(index)
    for first in range(0, len(inputs) - batchsize + 1, batchsize):
        part = index[first:first + batchsize]
        yield inputs[part], targets[part]


def run_example(mode, lasagne_dir, script, name, **kwargs):
    """``examples/<script>.py``'s ``main(**kwargs)``; passes when it ends and
    every loss, accuracy or cost it printed is finite."""
    _, _, tally = start(script if name == script else f"{script} {name}", mode)
    np.random.seed(42)  # the examples draw their data and weights from numpy
    sys.path.insert(0, os.path.join(lasagne_dir, "examples"))
    module = importlib.import_module(script)
    if script == "mnist":
        module.load_dataset = digits_like_mnist
    t0 = time.time()
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            module.main(**kwargs)
        numbers = printed_numbers(buf.getvalue())
        if not numbers or not all(np.isfinite(v) for _, v in numbers):
            raise AssertionError(f"printed numbers missing or not all finite: {numbers}")
    except Exception as e:
        print(buf.getvalue(), end="")
        traceback.print_exc()
        tally.add(name, traceback.format_exception_only(type(e), e)[-1].strip()[:400])
    else:
        print(buf.getvalue(), end="")
        tally.add(name)
    print(f"  {name}: {time.time() - t0:.1f} s")
    return tally.report()


def printed_numbers(text):
    """(label, value) of each loss and accuracy mnist.py printed
    (``  training loss:  2.3``) and each cost recurrent.py printed
    (``Epoch 0 validation cost = 0.11``)."""
    return [(m.group(1).strip(), float(m.group(2))) for m in re.finditer(
        r"^\s*([A-Za-z0-9 ]*(?:loss|accuracy|cost))(?::| =)\s+(\S+)", text, re.M)]


def compare(log_a, log_b):
    """Two runs of the same example printed the same numbers: losses
    and costs to 1e-4 relative, accuracies (% of 500 images) to one image."""
    a, b = [printed_numbers(open(log).read()) for log in (log_a, log_b)]
    bad = [f"{la}: {va} vs {vb}" for (la, va), (lb, vb) in zip(a, b)
           if la != lb or not (abs(va - vb) <= 0.2 + 1e-9 if "accuracy" in la
                               else np.isclose(va, vb, rtol=1e-4, atol=1e-6))]
    if len(a) != len(b) or not a:
        bad.append(f"{len(a)} numbers in {log_a}, {len(b)} in {log_b}")
    names = f"{os.path.basename(log_a)} and {os.path.basename(log_b)}"
    if bad:
        print(f"  FAILED {names} differ: " + "; ".join(bad[:4]))
        return 1
    print(f"  {names} printed the same {len(a)} numbers")
    return 0


def main(argv):
    if argv[0] == "compare":
        return compare(argv[1], argv[2])
    part, mode, lasagne_dir = argv[:3]
    if mode not in ("A", "B"):
        raise SystemExit(f"mode must be A or B, got {mode!r}")
    if part == "docstrings":
        return run_docstrings(mode, lasagne_dir)
    if part == "rst":
        return run_rst(mode, lasagne_dir)
    if part == "mnist":
        epochs = int(argv[4]) if len(argv) > 4 else 2
        return run_example(mode, lasagne_dir, "mnist", argv[3], model=argv[3],
                           num_epochs=epochs)
    if part == "recurrent":
        epochs = int(argv[3]) if len(argv) > 3 else 2
        return run_example(mode, lasagne_dir, "recurrent", "recurrent", num_epochs=epochs)
    raise SystemExit(f"unknown part {part!r} (docstrings, rst, mnist or recurrent)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
