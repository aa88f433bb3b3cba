"""The deeplearning.net tutorial programs' patterns, written the Theano way
and run through ``symnet.compat`` (``import theano`` gives symnet).

Each test is a small program as the tutorials write it (shared datasets
sliced with ``givens`` by an ``lscalar`` index, updates as lists of pairs,
``scan`` with ``RandomStreams`` draws in the step, ``outputs_info`` with
None entries, ``softmax`` of a vector giving a row) and checks what it
computes against numpy, or that training does what training should."""
import numpy as np
import pytest

import symnet
from symnet import compat


@pytest.fixture
def theano():
    compat.install(lasagne=False)
    old = symnet.config.mode
    symnet.config.mode = "py"  # numba in the suite's forced-backend run
    import theano
    yield theano
    symnet.config.mode = old
    compat.uninstall()


def blobs(n, n_in, n_out, seed=0):
    """Gaussian blobs: an easy, separable classification data set."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-3, 3, (n_out, n_in))
    y = rng.randint(0, n_out, n)
    x = centers[y] + 0.5 * rng.randn(n, n_in)
    return x.astype("float32"), y


def shared_dataset(theano, x, y):
    # logistic_sgd.py: floatX storage, labels cast to int32 symbolically
    import theano.tensor as T
    shared_x = theano.shared(np.asarray(x, dtype=theano.config.floatX), borrow=True)
    shared_y = theano.shared(np.asarray(y, dtype=theano.config.floatX), borrow=True)
    return shared_x, T.cast(shared_y, "int32")


# -- logistic_sgd.py / mlp.py ------------------------------------------------------------

class LogisticRegression(object):
    def __init__(self, theano, input, n_in, n_out):
        import theano.tensor as T
        self.W = theano.shared(np.zeros((n_in, n_out), dtype=theano.config.floatX),
                               name="W", borrow=True)
        self.b = theano.shared(np.zeros((n_out,), dtype=theano.config.floatX),
                               name="b", borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        import theano.tensor as T
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        import theano.tensor as T
        return T.mean(T.neq(self.y_pred, y))


class HiddenLayer(object):
    def __init__(self, theano, rng, input, n_in, n_out):
        import theano.tensor as T
        bound = np.sqrt(6.0 / (n_in + n_out))
        W = np.asarray(rng.uniform(-bound, bound, (n_in, n_out)), dtype=theano.config.floatX)
        self.W = theano.shared(value=W, name="W", borrow=True)
        self.b = theano.shared(np.zeros((n_out,), dtype=theano.config.floatX), name="b")
        self.output = T.tanh(T.dot(input, self.W) + self.b)
        self.params = [self.W, self.b]


def sgd_program(theano, build, n_epochs, learning_rate, batch_size=20):
    """The tutorials' training loop: returns (valid error before, after,
    cost of the first and the last minibatch)."""
    import theano.tensor as T
    xs, ys = blobs(400, 5, 3)
    train_x, train_y = shared_dataset(theano, xs[:300], ys[:300])
    valid_x, valid_y = shared_dataset(theano, xs[300:], ys[300:])
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    classifier, cost = build(x, y)
    validate = theano.function(
        inputs=[index], outputs=classifier.errors(y),
        givens={x: valid_x[index * batch_size:(index + 1) * batch_size],
                y: valid_y[index * batch_size:(index + 1) * batch_size]})
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - learning_rate * gparam)
               for param, gparam in zip(classifier.params, gparams)]
    train = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_x[index * batch_size:(index + 1) * batch_size],
                y: train_y[index * batch_size:(index + 1) * batch_size]})
    before = np.mean([validate(i) for i in range(100 // batch_size)])
    costs = [float(train(i)) for _ in range(n_epochs) for i in range(300 // batch_size)]
    after = np.mean([validate(i) for i in range(100 // batch_size)])
    return before, after, costs[0], costs[-1]


def test_logistic_sgd(theano):
    def build(x, y):
        clf = LogisticRegression(theano, x, 5, 3)
        return clf, clf.negative_log_likelihood(y)
    before, after, first, last = sgd_program(theano, build, n_epochs=5, learning_rate=0.13)
    assert first == pytest.approx(np.log(3), rel=1e-5)  # zero weights: uniform softmax
    assert last < first / 3 and after < 0.05 < before


def test_mlp_with_l1_l2(theano):
    import theano.tensor as T
    rng = np.random.RandomState(1234)

    class MLP(object):
        def __init__(self, input):
            self.hidden = HiddenLayer(theano, rng, input, 5, 16)
            self.out = LogisticRegression(theano, self.hidden.output, 16, 3)
            self.L1 = abs(self.hidden.W).sum() + abs(self.out.W).sum()
            self.L2_sqr = (self.hidden.W ** 2).sum() + (self.out.W ** 2).sum()
            self.errors = self.out.errors
            self.params = self.hidden.params + self.out.params

    def build(x, y):
        clf = MLP(x)
        return clf, (clf.out.negative_log_likelihood(y) + 0.0001 * clf.L1 +
                     0.0001 * clf.L2_sqr)
    before, after, first, last = sgd_program(theano, build, n_epochs=5, learning_rate=0.1)
    assert last < first / 3 and after < 0.05


# -- dA.py: denoising autoencoder with tied weights ---------------------------------------

def test_denoising_autoencoder(theano):
    import theano.tensor as T
    from theano.tensor.shared_randomstreams import RandomStreams
    rng = np.random.RandomState(123)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    n_visible, n_hidden = 12, 6
    data = (rng.rand(60, n_visible) < 0.3).astype(theano.config.floatX)
    train_x = theano.shared(data, borrow=True)
    bound = 4 * np.sqrt(6.0 / (n_hidden + n_visible))
    W = theano.shared(np.asarray(rng.uniform(-bound, bound, (n_visible, n_hidden)),
                                 dtype=theano.config.floatX), name="W", borrow=True)
    bvis = theano.shared(np.zeros(n_visible, dtype=theano.config.floatX), borrow=True)
    bhid = theano.shared(np.zeros(n_hidden, dtype=theano.config.floatX), name="b")
    W_prime = W.T
    x = T.matrix("x")

    def get_corrupted_input(input, corruption_level):
        return theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                   dtype=theano.config.floatX) * input

    tilde_x = get_corrupted_input(x, 0.3)
    y = T.nnet.sigmoid(T.dot(tilde_x, W) + bhid)
    z = T.nnet.sigmoid(T.dot(y, W_prime) + bvis)
    L = -T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1)
    cost = T.mean(L)
    params = [W, bhid, bvis]
    gparams = T.grad(cost, params)
    updates = [(p, p - 0.1 * g) for p, g in zip(params, gparams)]
    index = T.lscalar()
    train_da = theano.function([index], cost, updates=updates,
                               givens={x: train_x[index * 10:(index + 1) * 10]})
    corrupt = theano.function([x], tilde_x)
    # the corruption zeroes entries (never sets them) at about the given rate
    ones = np.ones((200, n_visible), dtype=theano.config.floatX)
    kept = corrupt(ones)
    assert set(np.unique(kept)) <= {0.0, 1.0} and 0.6 < kept.mean() < 0.8
    assert not np.array_equal(kept, corrupt(ones))  # fresh noise every call
    costs = [np.mean([train_da(i) for i in range(6)]) for _ in range(15)]
    assert np.isfinite(costs).all() and costs[-1] < 0.9 * costs[0]


# -- rbm.py: Gibbs chain in scan with RandomStreams ---------------------------------------

def test_rbm_gibbs_chain_in_scan(theano):
    import theano.tensor as T
    from theano.tensor.shared_randomstreams import RandomStreams
    floatX = theano.config.floatX
    rng = np.random.RandomState(42)
    n_visible, n_hidden, k = 8, 4, 3
    W = theano.shared(np.asarray(rng.uniform(-0.5, 0.5, (n_visible, n_hidden)), dtype=floatX),
                      name="W", borrow=True)
    hbias = theano.shared(np.zeros(n_hidden, dtype=floatX), name="hbias", borrow=True)
    vbias = theano.shared(np.zeros(n_visible, dtype=floatX), name="vbias", borrow=True)
    params = [W, hbias, vbias]
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    data = (rng.rand(20, n_visible) < 0.5).astype(floatX)
    train_x = theano.shared(data, borrow=True)
    x = T.matrix("x")

    def free_energy(v_sample):
        wx_b = T.dot(v_sample, W) + hbias
        vbias_term = T.dot(v_sample, vbias)
        hidden_term = T.sum(T.log(1 + T.exp(wx_b)), axis=1)
        return -hidden_term - vbias_term

    def propagate(inp, weights, bias):
        pre = T.dot(inp, weights) + bias
        return [pre, T.nnet.sigmoid(pre)]

    def sample(pre_and_mean):
        pre, mean = pre_and_mean
        return [pre, mean, theano_rng.binomial(size=mean.shape, n=1, p=mean, dtype=floatX)]

    def sample_h_given_v(v0):
        return sample(propagate(v0, W, hbias))

    def sample_v_given_h(h0):
        return sample(propagate(h0, W.T, vbias))

    def gibbs_hvh(h0_sample):
        pre_v1, v1_mean, v1_sample = sample_v_given_h(h0_sample)
        pre_h1, h1_mean, h1_sample = sample_h_given_v(v1_sample)
        return [pre_v1, v1_mean, v1_sample, pre_h1, h1_mean, h1_sample]

    pre_ph, ph_mean, ph_sample = sample_h_given_v(x)
    ([pre_nv, nv_means, nv_samples, pre_nh, nh_means, nh_samples], updates) = theano.scan(
        gibbs_hvh, outputs_info=[None, None, None, None, None, ph_sample], n_steps=k,
        name="gibbs_hvh")
    chain_end = nv_samples[-1]
    cost = T.mean(free_energy(x)) - T.mean(free_energy(chain_end))
    gparams = T.grad(cost, params, consider_constant=[chain_end])
    for gparam, param in zip(gparams, params):
        updates[param] = param - gparam * T.cast(0.1, dtype=floatX)
    index = T.lscalar()
    train_rbm = theano.function([index], [cost, nv_samples, nh_means], updates=updates,
                                givens={x: train_x[index * 10:(index + 1) * 10]})
    states = [s for s in updates if s not in params]  # the draws' states, in scan
    counters = [int(s.get_value()[1]) for s in states]
    c, samples, means = train_rbm(0)
    assert samples.shape == (k, 10, n_visible) and means.shape == (k, 10, n_hidden)
    assert set(np.unique(samples)) <= {0.0, 1.0} and np.isfinite(c)
    # every draw inside the chain advanced its state once per step
    assert [int(s.get_value()[1]) for s in states] == [n + k for n in counters]
    assert not all(np.array_equal(samples[0], samples[t]) for t in range(1, k))
    w0 = W.get_value().copy()
    train_rbm(1)
    assert not np.allclose(W.get_value(), w0)


# -- lstm.py: LSTM over a padded, masked minibatch ----------------------------------------

def test_lstm_over_a_padded_mask(theano):
    import theano.tensor as T
    floatX = theano.config.floatX
    rng = np.random.RandomState(0)
    dim, n_words, n_out = 4, 10, 2
    Wemb = theano.shared((0.3 * rng.randn(n_words, dim)).astype(floatX), name="Wemb")
    W = theano.shared((0.3 * rng.randn(dim, 4 * dim)).astype(floatX), name="lstm_W")
    U = theano.shared((0.3 * rng.randn(dim, 4 * dim)).astype(floatX), name="lstm_U")
    b = theano.shared(np.zeros(4 * dim, dtype=floatX), name="lstm_b")
    Uout = theano.shared((0.3 * rng.randn(dim, n_out)).astype(floatX), name="U")
    bout = theano.shared(np.zeros(n_out, dtype=floatX), name="b")
    x = T.matrix("x", dtype="int64")
    mask = T.matrix("mask", dtype=floatX)
    y = T.vector("y", dtype="int64")
    n_timesteps, n_samples = x.shape[0], x.shape[1]
    emb = Wemb[x.flatten()].reshape([n_timesteps, n_samples, dim])

    def _slice(_x, n, d):
        return _x[:, n * d:(n + 1) * d]

    def _step(m_, x_, h_, c_):
        preact = T.dot(h_, U) + x_
        i = T.nnet.sigmoid(_slice(preact, 0, dim))
        f = T.nnet.sigmoid(_slice(preact, 1, dim))
        o = T.nnet.sigmoid(_slice(preact, 2, dim))
        c = T.tanh(_slice(preact, 3, dim))
        c = f * c_ + i * c
        c = m_[:, None] * c + (1. - m_)[:, None] * c_
        h = o * T.tanh(c)
        h = m_[:, None] * h + (1. - m_)[:, None] * h_
        return h, c

    state_below = T.dot(emb, W) + b
    rval, updates = theano.scan(
        _step, sequences=[mask, state_below],
        outputs_info=[T.alloc(np.asarray(0., dtype=floatX), n_samples, dim),
                      T.alloc(np.asarray(0., dtype=floatX), n_samples, dim)],
        name="lstm_layers", n_steps=n_timesteps)
    proj = (rval[0] * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
    pred = T.nnet.softmax(T.dot(proj, Uout) + bout)
    cost = -T.log(pred[T.arange(n_samples), y] + 1e-8).mean()
    params = [Wemb, W, U, b, Uout, bout]
    grads = T.grad(cost, wrt=params)
    f = theano.function([x, mask, y], [proj, cost] + grads)

    # two sequences of lengths 5 and 2, padded with zeros to 5 steps
    seqs = [rng.randint(1, n_words, 5), rng.randint(1, n_words, 2)]
    xv = np.zeros((5, 2), dtype="int64")
    mv = np.zeros((5, 2), dtype=floatX)
    for j, s in enumerate(seqs):
        xv[:len(s), j] = s
        mv[:len(s), j] = 1
    yv = np.array([0, 1])
    got_proj, got_cost, g_wemb = f(xv, mv, yv)[:3]
    # the padding word (0) is masked out: no gradient reaches its embedding
    assert np.all(g_wemb[0] == 0) and np.any(g_wemb[seqs[1][0]] != 0)

    def sig(a):
        return 1 / (1 + np.exp(-a))
    for j, s in enumerate(seqs):  # each sequence alone, unpadded, in numpy
        h, c, hs = np.zeros(dim), np.zeros(dim), []
        for w in s:
            pre = h @ U.get_value() + Wemb.get_value()[w] @ W.get_value() + b.get_value()
            i, fg, o = sig(pre[:dim]), sig(pre[dim:2 * dim]), sig(pre[2 * dim:3 * dim])
            c = fg * c + i * np.tanh(pre[3 * dim:])
            h = o * np.tanh(c)
            hs.append(h)
        np.testing.assert_allclose(got_proj[j], np.mean(hs, axis=0), rtol=1e-4, atol=1e-6)
    # the padding does not matter: other padded words give the same results
    xv2 = xv.copy()
    xv2[mv == 0] = 7
    out2 = f(xv2, mv, yv)
    np.testing.assert_allclose(out2[0], got_proj, rtol=1e-6)
    np.testing.assert_allclose(out2[1], got_cost, rtol=1e-6)
    assert all(np.isfinite(g).all() for g in out2[2:])


# -- rnnslu.py: softmax of a vector in scan, indexed [:, 0, :] ----------------------------

def test_elman_rnn_softmax_rows_in_scan(theano):
    import theano.tensor as T
    floatX = theano.config.floatX
    rng = np.random.RandomState(3)
    nh, nc, de = 5, 3, 4
    wx = theano.shared((0.2 * rng.uniform(-1, 1, (de, nh))).astype(floatX), name="wx")
    wh = theano.shared((0.2 * rng.uniform(-1, 1, (nh, nh))).astype(floatX), name="wh")
    w = theano.shared((0.2 * rng.uniform(-1, 1, (nh, nc))).astype(floatX), name="w")
    bh = theano.shared(np.zeros(nh, dtype=floatX), name="bh")
    b = theano.shared(np.zeros(nc, dtype=floatX), name="b")
    h0 = theano.shared(np.zeros(nh, dtype=floatX), name="h0")
    x = T.matrix("x")
    y_sentence = T.ivector("y_sentence")

    def recurrence(x_t, h_tm1):
        h_t = T.nnet.sigmoid(T.dot(x_t, wx) + T.dot(h_tm1, wh) + bh)
        s_t = T.nnet.softmax(T.dot(h_t, w) + b)  # a (1, nc) row
        return [h_t, s_t]

    [h, s], _ = theano.scan(fn=recurrence, sequences=x, outputs_info=[h0, None],
                            n_steps=x.shape[0])
    p_y_given_x_sentence = s[:, 0, :]
    y_pred = T.argmax(p_y_given_x_sentence, axis=1)
    lr = T.scalar("lr")
    sentence_nll = -T.mean(T.log(p_y_given_x_sentence)[T.arange(x.shape[0]), y_sentence])
    params = [wx, wh, w, bh, b]
    sentence_gradients = T.grad(sentence_nll, params)
    sentence_updates = [(p, p - lr * g) for p, g in zip(params, sentence_gradients)]
    classify = theano.function(inputs=[x], outputs=[y_pred, p_y_given_x_sentence])
    train = theano.function(inputs=[x, y_sentence, lr], outputs=sentence_nll,
                            updates=sentence_updates)

    xv = rng.uniform(-1, 1, (6, de)).astype(floatX)
    yv = np.array([0, 1, 2, 1, 0, 2], dtype="int32")
    pred, probs = classify(xv)
    hv, want = np.zeros(nh), []
    for t in range(6):
        hv = 1 / (1 + np.exp(-(xv[t] @ wx.get_value() + hv @ wh.get_value())))
        a = hv @ w.get_value()
        want.append(np.exp(a - a.max()) / np.exp(a - a.max()).sum())
    assert probs.shape == (6, nc)
    np.testing.assert_allclose(probs, want, rtol=1e-5)
    np.testing.assert_array_equal(pred, np.argmax(want, axis=1))
    nll = [float(train(xv, yv, 0.5)) for _ in range(30)]
    assert nll[-1] < nll[0]
