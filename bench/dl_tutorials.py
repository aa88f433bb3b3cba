"""Run the deeplearning.net tutorials (github.com/lisa-lab/DeepLearningTutorials,
the classic Theano programs) unchanged on symnet, through the compat shim.

    python bench/dl_tutorials.py TUTORIALS_DIR [PROGRAM ...]

TUTORIALS_DIR is a checkout of the tutorials (``code/logistic_sgd.py``
must exist); nothing is copied from it or into it, except what the programs
write themselves (rnnslu.py makes ``code/rnnslu/``). Not part of CI: CI
has no checkout, and the runs take minutes.

Each program runs in a fresh process per backend: ``py`` and ``numba``
(``SYMNET_TIERED=0``, so every function is compiled before its first call;
``SYMNET_STRICT=1`` by default, so a kernel that falls back fails the run).
The process installs the shim (``symnet.compat.install(lasagne=False)``)
before the tutorial imports ``theano``, puts ``code/`` first on sys.path,
works in a directory of its own holding the data (the programs look in the
working directory first), and calls the program's entry with small
sizes (few epochs, small batches, fewer hidden units where the function
takes them as arguments); the tutorial's code is never edited.

The data sets are stand-ins made here, since the machine has no network:

``mnist.pkl.gz``
    symnet's bundled 8x8 digits, each enlarged 3x and centred in 28x28, in
    the tutorials' format: a pickle of ((train_x, train_y), (valid_x,
    valid_y), (test_x, test_y)), float32 rows of 784 in [0, 1], int64 labels;
    2,000 / 800 / 794 images (two copies of each, moved a pixel apart).
``imdb.pkl``
    two pickles (train, test) of (list of word-index lists, list of 0/1
    labels); a review's label decides which half of the vocabulary most of
    its words come from, so it can be learnt.
``atis.fold3.pkl.gz``
    (train, valid, test, dicts) as rnnslu.py loads it: sentences of word
    indices, named-entity indices and BIO label indices, each label
    determined by its word.

Printed per program and backend: ran/failed, seconds, the last cost or
error the program printed and the first line of any error; then whether
the numba run printed the same numbers as the py run, and whether training
made the printed cost or error go down. PIL is stubbed when it is not
installed (the plots of dA, cA and rbm are out of scope; their
``tile_raster_images`` is plain numpy and runs).

Environment: BACKENDS (default "py numba"), STRICT (default 1), SIZES
(``small``, the default: the sizes of PROGRAMS; ``testpy``: the functions
of the tutorials' own code/test.py, at its sizes, with ``midi.utils``
stubbed so it imports; cA, which it does not test, and hmc as above), FLOATX
(float64 runs the programs as Theano's default floatX would; symnet's
default is float32), OUT (where the logs and data go; a temp dir), PYTHON
(default: this interpreter).
"""
import contextlib
import gzip
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import traceback
import types

import numpy as np

__all__ = ["mnist_standin", "imdb_standin", "atis_standin", "PROGRAMS", "printed_numbers",
           "same_numbers", "learns"]

# program -> (module, entry, keyword arguments, label of the series that
# should go down as it trains). Sizes: a few epochs over the 1,000 images.
PROGRAMS = {
    "logistic_sgd": ("logistic_sgd", "sgd_optimization_mnist",
                     dict(n_epochs=5, batch_size=100), "validation error"),
    "logistic_cg": ("logistic_cg", "cg_optimization_mnist", dict(n_epochs=5),
                    "validation error"),
    "mlp": ("mlp", "test_mlp", dict(n_epochs=3, batch_size=20, n_hidden=100),
            "validation error"),
    "convolutional_mlp": ("convolutional_mlp", "evaluate_lenet5",
                          dict(n_epochs=2, nkerns=[5, 5], batch_size=100),
                          "validation error"),
    "dA": ("dA", "test_dA", dict(training_epochs=2, batch_size=20, output_folder="dA_plots"),
           "cost"),
    # SdA and DBN: three layers of 1,000 units (fixed in their test_ functions)
    # learn too slowly to see in 2 epochs of 20 updates: 3 of 40 here
    "SdA": ("SdA", "test_SdA", dict(pretraining_epochs=1, training_epochs=3, batch_size=50),
            "validation error"),
    "cA": ("cA", "test_cA", dict(training_epochs=2, batch_size=20, output_folder="cA_plots"),
           "reconstruction cost"),
    "rbm": ("rbm", "test_rbm", dict(training_epochs=2, batch_size=20, n_chains=2, n_samples=2,
                                    n_hidden=50, output_folder="rbm_plots"), None),
    "DBN": ("DBN", "test_DBN", dict(pretraining_epochs=1, training_epochs=3, batch_size=50),
            "validation error"),
    "hmc": ("hmc.test_hmc", "test_hmc", {}, None),
    # lstm.py's minibatch lists are zip() iterators (Python 2 lists): a
    # validation pass in an epoch eats the rest of that epoch's batches, and
    # the validation and test lists are empty after their first pass. With
    # validFreq past the last update, only the final pass runs, on fresh lists.
    "lstm": ("lstm", "train_lstm", dict(dim_proj=16, max_epochs=8, n_words=200, batch_size=16,
                                        valid_batch_size=32, validFreq=10 ** 6, dispFreq=24,
                                        maxlen=40, saveto="", test_size=100), "Cost"),
    # rnnslu.py's reference labels are map() iterators (Python 2 lists):
    # only the first epoch's F1 scores are computed on real data
    "rnnslu": ("rnnslu", "main", None, None),  # its dict is made in run_program
}

# -- the stand-in data sets -----------------------------------------------------------

def mnist_standin(n_train=1000, n_valid=400, copies=2):
    """((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) in
    mnist.pkl.gz's format, from symnet's bundled 8x8 digits: the 1,797
    images split 1,000 / 400 / 397, then each split holds `copies` of its
    images, each copy moved by a pixel or two (logistic_cg.py's batches
    are 600 images, and it needs one in the validation and test sets)."""
    from symnet.datasets import load_digits
    X, y = load_digits()
    X = np.asarray(X, dtype=np.float32).reshape(-1, 8, 8)
    X = np.kron(X / X.max(), np.ones((3, 3), np.float32))  # 24x24
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], np.asarray(y, np.int64)[order]
    shifts = [(2, 2), (1, 3), (3, 1), (0, 4), (4, 0)][:copies]
    a, b = n_train, n_train + n_valid
    splits = []
    for part in (slice(0, a), slice(a, b), slice(b, None)):
        rows = np.zeros((copies, len(X[part]), 28, 28), np.float32)
        for k, (top, left) in enumerate(shifts):
            rows[k, :, top:top + 24, left:left + 24] = X[part]
        splits.append((rows.reshape(-1, 784), np.tile(y[part], copies)))
    return tuple(splits)


def imdb_standin(n_train=800, n_test=200, n_words=200, seed=0):
    """(train, test) as imdb.pkl holds them: lists of word-index lists
    (indices from 2; 0 and 1 are lstm.py's padding and unknown word) and
    0/1 labels."""
    rng = np.random.RandomState(seed)

    def split(n):
        xs, ys = [], []
        for _ in range(n):
            label = int(rng.randint(2))
            length = int(rng.randint(5, 30))
            # 90% of a review's words come from its label's half of the vocabulary
            half = rng.randint(2, n_words // 2, length) + (n_words // 2 - 2) * label
            common = rng.randint(2, n_words, length)
            words = np.where(rng.rand(length) < 0.9, half, common)
            xs.append([int(w) for w in words])
            ys.append(label)
        return xs, ys
    return split(n_train), split(n_test)


def atis_standin(n_words=60, n_train=1000, n_valid=40, n_test=40, seed=0):
    """(train, valid, test, dicts) as rnnslu.py's atisfold loads them."""
    rng = np.random.RandomState(seed)
    labels = ["O", "B-city", "I-city", "B-date"]
    # words 0-39 are 'O', 40-49 start a city, 50-54 continue it, 55-59 are dates
    kind = np.array([0] * 40 + [1] * 10 + [2] * 5 + [3] * 5)

    def sentences(n):
        lex, ne, y = [], [], []
        for _ in range(n):
            words = []
            while len(words) < rng.randint(4, 12):
                r = rng.rand()
                if r < 0.2:
                    words += [rng.randint(40, 50), rng.randint(50, 55)]
                elif r < 0.3:
                    words.append(rng.randint(55, 60))
                else:
                    words.append(rng.randint(0, 40))
            w = np.array(words, np.int32)
            lex.append(w)
            ne.append(np.zeros(len(w), np.int32))
            y.append(kind[w].astype(np.int32))
        return lex, ne, y
    dicts = {"words2idx": {f"w{i}": i for i in range(n_words)},
             "labels2idx": {name: i for i, name in enumerate(labels)},
             "tables2idx": {}}
    return sentences(n_train), sentences(n_valid), sentences(n_test), dicts


def write_data(folder):
    os.makedirs(folder, exist_ok=True)
    with gzip.open(os.path.join(folder, "mnist.pkl.gz"), "wb") as f:
        pickle.dump(mnist_standin(), f, protocol=2)
    with open(os.path.join(folder, "imdb.pkl"), "wb") as f:
        train, test = imdb_standin()
        pickle.dump(train, f, protocol=2)
        pickle.dump(test, f, protocol=2)
    with gzip.open(os.path.join(folder, "atis.fold3.pkl.gz"), "wb") as f:
        pickle.dump(atis_standin(), f, protocol=2)


# -- one program in this process ------------------------------------------------------

def stub_pil():
    """A PIL.Image whose fromarray(...).save(path) writes nothing: the
    tutorials' plots are out of scope here. Returns True when stubbed."""
    try:
        import PIL.Image  # noqa: F401
        return False
    except ImportError:
        pass

    class _Image:
        def __init__(self, array):
            self.array = np.asarray(array)

        def save(self, *args, **kwargs):
            pass
    image = types.ModuleType("PIL.Image")
    image.fromarray = _Image
    pil = types.ModuleType("PIL")
    pil.Image = image
    sys.modules["PIL"], sys.modules["PIL.Image"] = pil, image
    return True


class Tee(io.TextIOBase):
    """Writes to the real stdout and keeps a copy (lstm prints progress
    the user should see while it runs)."""

    def __init__(self, out):
        self.out, self.buf = out, io.StringIO()

    def write(self, s):
        self.buf.write(s)
        return self.out.write(s)

    def flush(self):
        self.out.flush()


# The tutorials' own code/test.py (their CI) calls each program with its
# sizes; SIZES=testpy runs those functions instead of the calls above.
TESTPY = {"logistic_sgd": "test_logistic_sgd", "logistic_cg": "test_logistic_cg",
          "mlp": "test_mlp", "convolutional_mlp": "test_convolutional_mlp", "dA": "test_dA",
          "SdA": "test_SdA", "DBN": "test_dbn", "rbm": "test_rbm", "lstm": "test_lstm",
          "rnnslu": "test_rnnslu"}


def stub_midi():
    """test.py imports rnnrbm, which imports the `midi` package (not on
    PyPI's default path, and rnnrbm's Nottingham data is not made here):
    a stand-in `midi.utils` lets test.py import; rnnrbm is not run."""
    if "midi" in sys.modules:
        return
    midi, utils = types.ModuleType("midi"), types.ModuleType("midi.utils")
    utils.midiread = utils.midiwrite = None
    midi.utils = utils
    sys.modules["midi"], sys.modules["midi.utils"] = midi, utils


def run_program(name, code_dir, data_dir, work_dir, sizes="small"):
    """Run one program here; a dict of what happened (also printed)."""
    import importlib
    import shutil
    import symnet.compat
    symnet.compat.install(lasagne=False)
    stubbed = stub_pil()
    os.environ["ATISDATA"] = data_dir  # rnnslu.py reads it at import
    sys.path.insert(0, code_dir)
    os.makedirs(work_dir, exist_ok=True)
    os.chdir(work_dir)
    # load_data and imdb.py look in the working directory first
    for data in ("mnist.pkl.gz", "imdb.pkl"):
        shutil.copy(os.path.join(data_dir, data), data)
    module_name, entry, kwargs, _ = PROGRAMS[name]
    np.random.seed(1234)
    with open(os.path.join(code_dir, module_name.replace(".", os.sep) + ".py")) as f:
        uses_pil = "PIL" in f.read()
    result = {"program": name, "backend": os.environ.get("SYMNET_MODE", "default"),
              "stubbed": ["PIL.Image"] if stubbed and uses_pil else [], "error": None}
    if sizes == "testpy" and name in TESTPY:
        stub_midi()
        result["stubbed"].append("midi.utils")
        module_name, entry, kwargs = "test", TESTPY[name], {}
    tee = Tee(sys.stdout)
    t0 = time.time()
    with caught(result), contextlib.redirect_stdout(tee):
        module = importlib.import_module(module_name)
        if module_name == "rnnslu":
            module.main({"fold": 3, "data": "atis", "lr": 0.0970806646812754, "verbose": 1,
                         "decay": True, "win": 7, "nhidden": 20, "seed": 345,
                         "emb_dimension": 10, "nepochs": 1, "savemodel": False})
        else:
            getattr(module, entry)(**kwargs)
        if name == "logistic_sgd":
            predict_like_tutorial(data_dir)
    result["seconds"] = round(time.time() - t0, 1)
    result["numbers"] = printed_numbers(tee.buf.getvalue())
    return result


def failure(e):
    """The first line of the error that ended a program, its traceback
    printed; KeyboardInterrupt is raised again."""
    if isinstance(e, KeyboardInterrupt):
        raise e
    traceback.print_exc()
    return traceback.format_exception_only(type(e), e)[-1].strip().splitlines()[0][:300]


def predict_like_tutorial(data_dir):
    """logistic_sgd.py's predict(), step by step: it opens best_model.pkl in
    text mode (a Python 2 habit that fails on Python 3), so the runner takes
    its steps: unpickle the classifier sgd_optimization_mnist saved, compile
    its prediction from the unpickled graph, and predict ten test images."""
    import theano
    with open("best_model.pkl", "rb") as f:
        classifier = pickle.load(f)
    predict_model = theano.function(inputs=[classifier.input], outputs=classifier.y_pred)
    with gzip.open(os.path.join(data_dir, "mnist.pkl.gz"), "rb") as f:
        (_, _), (_, _), (test_x, test_y) = pickle.load(f)
    predicted = predict_model(test_x[:10])
    print("Predicted values for the first 10 examples in test set:", predicted)
    print(f"predict error {np.mean(predicted != test_y[:10]) * 100:f} %")


@contextlib.contextmanager
def caught(result):
    """Runs the block; an exception it raises (SystemExit too: a program's
    exit is a failure here) is printed and its first line becomes
    ``result["error"]`` (``failure``)."""
    try:
        yield
    except BaseException as e:
        result["error"] = failure(e)


def run_child(args, env, log, out_json, **empty):
    """Run a bench script's ``run`` command (``args``: the script and its
    arguments) in a fresh interpreter, output to ``log``; the result it
    wrote to ``out_json``, or a failure quoting the end of the log when it
    wrote none (a crash), with ``empty``'s keys added."""
    with open(log, "w") as f:
        subprocess.run([os.environ.get("PYTHON", sys.executable), "-W", "ignore", *args],
                       stdout=f, stderr=subprocess.STDOUT, env=env)
    if os.path.exists(out_json):
        with open(out_json) as f:
            return json.load(f)
    with open(log) as f:
        return dict({"error": "no result; log ends: " + f.read()[-300:].replace("\n", " | "),
                     "seconds": 0, "numbers": [], "stubbed": []}, **empty)


# -- reading what a program printed ---------------------------------------------------

NUMBER = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
# The tutorials print costs and errors in a handful of ways:
#   epoch 1, minibatch 10/10, validation error 12.500000 %
#   Training epoch 0, cost  63.2            (dA; rbm: "cost is  -71.3")
#   Pre-training layer 0, epoch 0, cost 60.1
#   Train  0.21 Valid  0.25 Test  0.26       (lstm; "Epoch  0 Update  10 Cost  0.69")
#   NEW BEST: epoch 0 valid F1 12.5 best test F1 10.0   (rnnslu)
#   final stepsize 0.2; final acceptance_rate 0.6     (hmc)
LABELS = (r"validation error|test error of best model|predict error|reconstruction cost|cost is|[Cc]ost"
          r"|Train|Valid|Test|valid F1|test F1|final stepsize|final acceptance_rate")
LINE_RE = re.compile(rf"(?<![A-Za-z])({LABELS})[\s:=,]+{NUMBER}")


def printed_numbers(text):
    """[(label, value)] of each cost, error or rate the program printed,
    in order; a label is prefixed by its line's 'layer N' when it has one,
    and by 'run N' from the second time a 'Training epoch 0' line comes
    (dA.py trains two autoencoders, one after the other)."""
    found = []
    runs = 0
    for line in text.replace("\r", "\n").splitlines():
        layer = re.search(r"layer (\d+)", line)
        if line.startswith("Training epoch 0,"):
            runs += 1
        for m in LINE_RE.finditer(line):
            label = m.group(1)
            if layer:
                label = f"layer {layer.group(1)} {label}"
            elif runs > 1 and line.startswith("Training epoch"):
                label = f"run {runs} {label}"
            found.append((label, float(m.group(2))))
    return found


def same_numbers(a, b, rtol=1e-4):
    """None when two runs printed the same numbers; else what differs."""
    if [la for la, _ in a] != [lb for lb, _ in b]:
        return f"printed {len(a)} and {len(b)} numbers, labels differ"
    bad = [f"{la}: {va:g} vs {vb:g}" for (la, va), (_, vb) in zip(a, b)
           if not np.isclose(va, vb, rtol=rtol, atol=1e-6, equal_nan=True)]
    return None if not bad else f"{len(bad)} of {len(a)} differ, first {bad[0]}"


def learns(numbers, label):
    """(first, last) of the series `label` (the last layer's, for layered
    pretraining), or None when it has fewer than two values."""
    series = [v for lab, v in numbers if lab == label or lab.endswith(" " + label)]
    layered = [lab for lab, _ in numbers if lab.endswith(" " + label)]
    if layered:
        series = [v for lab, v in numbers if lab == layered[-1]]
    return (series[0], series[-1]) if len(series) >= 2 else None


# -- the driver -----------------------------------------------------------------------

def compare_to_py(results, ran, indent):
    """Print, for each backend of `ran` but py, whether it printed py's
    numbers; 1 when one did not, else 0."""
    status = 0
    for b in ran:
        if b != "py" and "py" in ran:
            diff = same_numbers(results["py"]["numbers"], results[b]["numbers"])
            print(f"{'':{indent}s}{b} vs py: " + ("same numbers" if diff is None else diff),
                  flush=True)
            status |= diff is not None
    return status


def run_fresh(script, args, backend, log, out_json, floatx=None, **empty):
    """`python script run ARGS... out_json` in a fresh process on `backend`
    (compiled before the first call; SYMNET_STRICT from STRICT, default 1;
    FLOATX, else `floatx`, sets Theano's floatX flag), its output in `log`; the result
    dict it wrote, or one whose error quotes the log's end (with `empty`'s
    keys added) when it wrote none. bench/wild_programs.py and bench/recipes.py
    use it too."""
    # PYTHONHASHSEED: a program's output may follow the order of a set of
    # strings (Recipes' lstm_text_generation.py builds its vocabulary as
    # list(set(text))), which changes with str hashing between processes
    env = dict(os.environ, SYMNET_MODE=backend, SYMNET_TIERED="0",
               SYMNET_STRICT=os.environ.get("STRICT", "1"), PYTHONHASHSEED="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    floatx = os.environ.get("FLOATX") or floatx
    if floatx:
        # other flags of the caller's (device=cuda) stay
        flags = [f for f in env.get("THEANO_FLAGS", "").split(",")
                 if f and not f.startswith("floatX=")]
        env["THEANO_FLAGS"] = ",".join(flags + [f"floatX={floatx}"])
    return run_child([script, "run", *args, out_json], env, log, out_json, **empty)


def main(argv):
    if argv and argv[0] == "run":
        name, code_dir, data_dir, work_dir, out_json = argv[1:6]
        result = run_program(name, code_dir, data_dir, work_dir, os.environ.get("SIZES", "small"))
        with open(out_json, "w") as f:
            json.dump(result, f)
        return 0 if result["error"] is None else 1
    if not argv or not os.path.isfile(os.path.join(argv[0], "code", "logistic_sgd.py")):
        print(f"usage: {sys.argv[0]} TUTORIALS_DIR [PROGRAM ...]  "
              "(TUTORIALS_DIR/code/logistic_sgd.py must exist)", file=sys.stderr)
        return 2
    code_dir = os.path.abspath(os.path.join(argv[0], "code"))
    names = argv[1:] or list(PROGRAMS)
    unknown = [n for n in names if n not in PROGRAMS]
    if unknown:
        print(f"unknown program(s) {unknown}; known: {' '.join(PROGRAMS)}", file=sys.stderr)
        return 2
    out = os.environ.get("OUT") or tempfile.mkdtemp(prefix="dl_tutorials.")
    backends = os.environ.get("BACKENDS", "py numba").split()
    data_dir = os.path.join(out, "data")
    write_data(data_dir)
    status = 0
    rows = []
    for name in names:
        results = {}
        for backend in backends:
            log, out_json = (os.path.join(out, f"{name}.{backend}.{ext}") for ext in ("log", "json"))
            r = run_fresh(os.path.abspath(__file__), [name, code_dir, data_dir,
                                                      os.path.join(out, "work", f"{name}.{backend}")],
                          backend, log, out_json)
            results[backend] = r
            last = r["numbers"][-1] if r["numbers"] else None
            line = (f"{name:18s} {backend:6s} {'ran' if r['error'] is None else 'FAILED':6s} "
                    f"{r['seconds']:7.1f} s  last: "
                    + (f"{last[0]} {last[1]:g}" if last else "-"))
            if r["error"]:
                status = 1
                line += f"\n{'':26s}error: {r['error']}"
            if r["stubbed"]:
                line += f"  (stubbed: {', '.join(r['stubbed'])})"
            print(line, flush=True)
            rows.append(line)
        ran = [b for b in backends if results[b]["error"] is None]
        label = PROGRAMS[name][3]
        if label and ran:
            trend = learns(results[ran[0]]["numbers"], label)
            verdict = ("too few values to tell" if trend is None else
                       f"{trend[0]:g} -> {trend[1]:g}"
                       + (" (learns)" if trend[1] < trend[0] else " (DOES NOT GO DOWN)"))
            print(f"{'':26s}{label}: {verdict}")
        status |= compare_to_py(results, ran, 26)
    print(f"logs: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
