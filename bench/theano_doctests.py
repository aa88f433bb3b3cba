"""Run the doctests of Theano's own documentation on symnet, through the shim.

    python bench/theano_doctests.py THEANO_DIR [--backends py,numba] [FILE...]

THEANO_DIR is a checkout of github.com/Theano/Theano; only its ``doc/``
folder is read (nothing is copied into this project). FILEs are paths
relative to ``doc/`` (default: every ``tutorial/*.txt`` plus
``library/tensor/basic.txt``, ``library/gradient.txt``,
``library/scan.txt`` and ``library/printing.txt``). Each (backend, file)
pair runs in its own process, in a scratch directory, with
``symnet.compat.install()`` done first, so ``import theano`` gives symnet.

Theano built these docs with ``sphinx-build -b doctest``; this file reads
the same reST without Sphinx, keeping its rules:

* examples are ``>>>`` paragraphs (not those in ``::`` literal blocks or
  ``code-block`` directives, which Sphinx never ran), ``.. doctest::``
  blocks, and ``.. testcode::`` blocks compared with the ``.. testoutput::``
  that follows them (code run as a script: a testcode with no testoutput
  must print nothing);
* examples are grouped by the directive's argument (plain ``>>>``
  paragraphs are group ``default``); each group runs in a fresh namespace
  (empty, as Sphinx's: ``__name__`` is not ``'__main__'`` there) after its
  ``.. testsetup::`` blocks (``testsetup:: *`` serves all groups);
* option flags are Sphinx's defaults (ELLIPSIS, IGNORE_EXCEPTION_DETAIL,
  DONT_ACCEPT_TRUE_FOR_1) plus NORMALIZE_WHITESPACE, and whatever
  ``:options:`` or ``# doctest:`` comments add; ``+SKIP`` stays skipped;
* numpy prints as the numpy of the docs (``legacy='1.13'``: ``array(5.0)``,
  ``[ 1.  2.]``, ``5.0`` not ``np.float64(5.0)``) unless ``--numpy-print
  modern``: those differences say nothing about symnet;
* ``time.clock`` (gone since Python 3.8) is ``time.perf_counter``, for the
  docs' timing examples;
* ``THEANO_FLAGS`` defaults to ``floatX=float64,device=cpu``, Theano's own
  defaults when the docs were written (set it to override).

Per file it prints examples run, passed, failed and skipped, each
failure's line and first line, and the backend's fallback warnings (an op
run through its Python ``perform``). Not part of CI (CI has no Theano checkout).
"""
import argparse
import doctest
import json
import os
import re
import subprocess
import sys
import tempfile
import time

__all__ = ["parse_rst", "run_file", "DEFAULT_FILES"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FILES = ("library/tensor/basic.txt", "library/gradient.txt",
                 "library/scan.txt", "library/printing.txt")
FLAGS = (doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL
         | doctest.DONT_ACCEPT_TRUE_FOR_1 | doctest.NORMALIZE_WHITESPACE)
TEST_DIRECTIVES = ("doctest", "testcode", "testoutput", "testsetup", "testcleanup")
# Directives whose content docutils keeps as literal text: a `>>>` in them
# is shown, never run.
LITERAL_DIRECTIVES = ("code-block", "code", "sourcecode", "literalinclude", "math",
                      "raw", "parsed-literal", "productionlist", "graphviz")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w-]+)::\s*(.*)$")
_COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")


def _indent(line):
    return len(line) - len(line.lstrip())


def _block(lines, i, indent):
    """Lines from i on that are blank or indented deeper than `indent`."""
    j = i
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > indent):
        j += 1
    return j


def _dedent(lines):
    body = [ln for ln in lines if ln.strip()]
    cut = min((_indent(ln) for ln in body), default=0)
    text = "\n".join(ln[cut:] for ln in lines).strip("\n")
    return text + "\n" if text else ""


def _options(spec):
    flags = {}
    for item in re.split(r"[,\s]+", spec.strip()):
        if item:
            flags[doctest.OPTIONFLAGS_BY_NAME[item[1:]]] = item[0] == "+"
    return flags


def parse_rst(text):
    """The doctest pieces of one reST file, in order.

    Returns a list of dicts: ``kind`` (a TEST_DIRECTIVES name, or
    ``doctest`` for a plain ``>>>`` paragraph), ``groups``, ``code``,
    ``options`` (a doctest option-flag dict) and ``lineno`` (0-based line of
    the code's first line).
    """
    lines = text.splitlines()
    pieces = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _indent(line)
        m = _DIRECTIVE.match(line)
        if m:
            name, arg = m.group(2), m.group(3).strip()
            end = _block(lines, i + 1, indent)
            if name in TEST_DIRECTIVES:
                body = lines[i + 1:end]
                opts = {}
                k = 0
                while k < len(body) and (not body[k].strip() or _OPTION.match(body[k])):
                    om = _OPTION.match(body[k])
                    if om and om.group(1) == "options":
                        opts.update(_options(om.group(2)))
                    k += 1
                groups = [g.strip() for g in arg.split(",") if g.strip()] or ["default"]
                pieces.append(dict(kind=name, groups=groups, code=_dedent(body[k:]),
                                   options=opts, lineno=i + 1 + k))
                i = end
            elif name in LITERAL_DIRECTIVES:
                i = end
            else:  # note, warning, ...: their content is ordinary reST
                i += 1
            continue
        if _COMMENT.match(line):
            # `.. _label:` targets, `.. |x| replace::` and comments such as
            # a misspelt `.. note:`, whose indented body is a comment too.
            i = _block(lines, i + 1, indent)
            continue
        start = i
        while i < len(lines) and lines[i].strip():
            i += 1
        if line.lstrip().startswith(">>>"):
            pieces.append(dict(kind="doctest", groups=["default"],
                               code=_dedent(lines[start:i]), options={}, lineno=start))
        elif lines[i - 1].rstrip().endswith("::"):
            i = _block(lines, i, indent)  # a literal block: shown, not run
    return pieces


def _groups(pieces):
    """Sphinx's grouping: {group: {'setup': [...], 'tests': [[code, out]...],
    'cleanup': [...]}} in first-seen order; `*` setup goes to every group."""
    groups = {}
    star = [p for p in pieces if p["kind"] == "testsetup" and "*" in p["groups"]]
    for p in pieces:
        for g in p["groups"]:
            if g == "*":
                continue
            grp = groups.setdefault(g, dict(setup=list(star), tests=[], cleanup=[]))
            if p["kind"] == "testsetup":
                grp["setup"].append(p)
            elif p["kind"] == "testcleanup":
                grp["cleanup"].append(p)
            elif p["kind"] == "doctest":
                grp["tests"].append([p])
            elif p["kind"] == "testcode":
                grp["tests"].append([p, None])
            elif grp["tests"] and len(grp["tests"][-1]) == 2:  # testoutput
                grp["tests"][-1][1] = p
            else:
                grp["tests"].append([dict(p, kind="orphan")])
    return groups


class _Runner(doctest.DocTestRunner):
    """Records each example's outcome instead of printing a report."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ran = 0
        self.failures_seen = []

    def report_start(self, out, test, example):
        self.ran += 1

    def report_success(self, out, test, example, got):
        pass

    def _where(self, test, example):
        return test.lineno + example.lineno + 1

    def report_failure(self, out, test, example, got):
        got_lines = [ln for ln in got.splitlines() if ln.strip()]
        want = example.want.splitlines()
        self.failures_seen.append(dict(
            line=self._where(test, example), source=example.source.splitlines()[0],
            got=got_lines[0] if got_lines else "<nothing>",
            want=want[0] if want else "<nothing>", full_got=got, full_want=example.want))

    def report_unexpected_exception(self, out, test, example, exc_info):
        exc = exc_info[1]
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
        self.failures_seen.append(dict(
            line=self._where(test, example), source=example.source.splitlines()[0],
            got=msg, want=(example.want.splitlines() or ["<nothing>"])[0],
            full_got=_short_traceback(exc_info), full_want=example.want))


def _short_traceback(exc_info):
    # The frames inside symnet, and the exception line: doctest's own frames
    # and the example's line say nothing the report does not.
    import traceback
    frames = [f for f in traceback.extract_tb(exc_info[2]) if "symnet" in f.filename][-3:]
    lines = [f"  {f.filename.rsplit('symnet', 1)[-1]}:{f.lineno} in {f.name}\n" for f in frames]
    return "".join(lines + traceback.format_exception_only(exc_info[0], exc_info[1]))


_COMPILE_MODE = ["single"]
_builtin_compile = compile


def _compile(source, filename, mode, flags=0, dont_inherit=False):
    # doctest compiles every example in "single" mode (echoing expression
    # values); Sphinx runs testcode/testsetup blocks as scripts instead.
    return _builtin_compile(source, filename, _COMPILE_MODE[0], flags, dont_inherit)


def _examples(piece, out, parser):
    if piece["kind"] in ("doctest", "testsetup_doctest"):
        exs = parser.get_examples(piece["code"])
        for ex in exs:
            ex.options = {**piece["options"], **ex.options}
        return exs, "single"
    want = out["code"] if out else ""
    opts = dict(out["options"]) if out else {}
    opts.update(piece["options"])
    m = doctest.DocTestParser._EXCEPTION_RE.match(want)
    exc = m.group("msg") if m else None
    return [doctest.Example(piece["code"], want, exc_msg=exc, lineno=0,
                            options=opts)], "exec"


def run_file(path):
    """Run one reST file's doctests; returns counts and failures."""
    with open(path) as f:
        pieces = parse_rst(f.read())
    parser = doctest.DocTestParser()
    doctest.compile = _compile
    runner = _Runner(optionflags=FLAGS)
    total = 0
    for name, grp in _groups(pieces).items():
        # an empty namespace, as Sphinx's test_group gives: ``__name__`` is
        # then the builtins', so the docs' ``if __name__ == '__main__':``
        # blocks (unittest.main()) never ran under sphinx-build
        ns = {}
        steps = [(p, None, True) for p in grp["setup"]]
        steps += [(t[0], t[1] if len(t) == 2 else None, False) for t in grp["tests"]]
        steps += [(p, None, True) for p in grp["cleanup"]]
        for piece, out, hidden in steps:
            if piece["kind"] == "orphan":
                runner.failures_seen.append(dict(
                    setup=True, line=piece["lineno"] + 1, source="testoutput",
                    got="testoutput with no testcode before it in its group",
                    want="", full_got="", full_want=""))
                continue
            exs, mode = _examples(piece, out, parser)
            if not hidden:
                total += len(exs)
            test = doctest.DocTest(exs, ns, f"{os.path.basename(path)}[{name}]", path,
                                   piece["lineno"], piece["code"])
            test.globs = ns  # DocTest copied it; the group shares one namespace
            before_ran, before_fail = runner.ran, len(runner.failures_seen)
            _COMPILE_MODE[0] = mode
            runner.run(test, clear_globs=False)
            if hidden:  # setup is not an example of the docs: count only its failures
                runner.ran = before_ran
                for f in runner.failures_seen[before_fail:]:
                    f["source"] = "(testsetup) " + f["source"]
                    f["setup"] = True
    failed = sum(not f.get("setup") for f in runner.failures_seen)
    return dict(run=runner.ran, failed=failed, passed=runner.ran - failed,
                skipped=total - runner.ran, failures=runner.failures_seen)


def _child(path, numpy_print):
    if numpy_print == "legacy":
        import numpy
        numpy.set_printoptions(legacy="1.13")
    if not hasattr(time, "clock"):
        # the docs' Python had time.clock (removed in 3.8): their timing
        # examples call it, which says nothing about symnet
        time.clock = time.perf_counter
    import symnet.compat
    symnet.compat.install()
    t0 = time.time()
    res = run_file(path)
    res["seconds"] = round(time.time() - t0, 1)
    print("\n@@RESULT@@" + json.dumps(res))


def _run_one(theano_dir, rel, backend, timeout, numpy_print):
    env = dict(os.environ, SYMNET_MODE=backend)
    env.setdefault("THEANO_FLAGS", "floatX=float64,device=cpu")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory(prefix="theano_doctest.") as cwd:
        try:
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child", "--numpy-print", numpy_print,
                 os.path.join(theano_dir, "doc", rel)],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout} s"
    marker = proc.stdout.rfind("@@RESULT@@")
    if marker < 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return None, f"exit {proc.returncode}: " + " | ".join(tail)
    return json.loads(proc.stdout[marker + len("@@RESULT@@"):]), proc.stderr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("theano_dir")
    ap.add_argument("files", nargs="*", help="paths relative to THEANO_DIR/doc")
    ap.add_argument("--backends", default="py,numba")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per file")
    ap.add_argument("--numpy-print", choices=("legacy", "modern"), default="legacy")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--full", action="store_true",
                    help="print each failure's whole expected and actual output")
    args = ap.parse_intermixed_args(argv)
    if args.child:
        return _child(args.theano_dir, args.numpy_print)
    doc = os.path.join(args.theano_dir, "doc")
    if not os.path.isdir(os.path.join(doc, "tutorial")):
        ap.error(f"{doc}/tutorial does not exist: THEANO_DIR must be a Theano checkout")
    files = args.files or (sorted("tutorial/" + f for f in os.listdir(os.path.join(doc, "tutorial"))
                                  if f.endswith(".txt")) + list(DEFAULT_FILES))
    for backend in args.backends.split(","):
        totals = dict(run=0, passed=0, failed=0, skipped=0)
        print(f"== backend {backend}")
        for rel in files:
            with open(os.path.join(doc, rel)) as f:
                if not parse_rst(f.read()):
                    continue
            res, err = _run_one(args.theano_dir, rel, backend, args.timeout,
                                args.numpy_print)
            if res is None:
                print(f"{rel}: did not finish ({err})")
                continue
            for k in totals:
                totals[k] += res[k]
            print(f"{rel}: {res['run']} run, {res['passed']} passed, {res['failed']} failed, "
                  f"{res['skipped']} skipped ({res['seconds']} s)")
            # a backend that ran an op through its perform says so on stderr:
            # a silent fallback would hide in a pass count
            for line in sorted({ln.strip() for ln in err.splitlines() if "has no kernel" in ln}):
                print(f"  warning: {line[:150]}")
            for fl in res["failures"]:
                print(f"  line {fl['line']}: {fl['source'][:70]}\n      got: {fl['got'][:150]}")
                if args.full:
                    print("      want:\n" + fl["full_want"] + "      got:\n" + fl["full_got"])
        print(f"== backend {backend}: {totals['run']} run, {totals['passed']} passed, "
              f"{totals['failed']} failed, {totals['skipped']} skipped")


if __name__ == "__main__":
    sys.exit(main())
