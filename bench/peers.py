"""One adapter per system for the workloads in run.py.

Each adapter offers (any may be missing):
  mlp(params, x, y, lr, mom) -> step()   one Nesterov training step, returns loss
  cnn(params, x, y, lr, mom) -> step()
  elemwise(x, a, b)          -> call()   returns (loss, dloss/dx)
  deep_chain(n)              -> seconds to build, differentiate and compile
  overhead()                 -> call()   f(x) = x + 1 on a float32 scalar
"""
import time

import numpy as np


def _nesterov(p, v, g, lr, mom):
    """Lasagne's nesterov_momentum, in place."""
    v *= mom
    v -= lr * g
    p += mom * v - lr * g


# -- Theano-style graph libraries (symnet, PyTensor) --------------------------------

class _TheanoStyle:
    """The workloads symnet and PyTensor write alike.

    Subclasses set ``self.lib`` (the package: ``function``, ``grad``,
    ``shared``), ``self.T`` (its tensor module) and ``self.mode``.
    """

    def elemwise(self, x, a, b):
        lib, T = self.lib, self.T
        X = T.fvector("x")
        loss = T.sum(T.tanh(a * X + b) * T.exp(-X * X))
        f = lib.function([X], [loss, lib.grad(loss, X)], mode=self.mode)
        return lambda: f(x)

    def deep_chain(self, n):
        lib, T = self.lib, self.T
        t = time.perf_counter()
        rng = np.random.RandomState(0)
        y = T.fmatrix("y")
        h = y
        params = []
        for i in range(n // 2):
            w = lib.shared((rng.randn(64, 64) * 0.1).astype("float32"))
            b = lib.shared(np.zeros(64, "float32"))
            params += [w, b]
            h = T.tanh(T.dot(h, w) + b)
        grads = lib.grad(T.sum(h), params)
        f = lib.function([y], grads, mode=self.mode)
        compile_s = time.perf_counter() - t
        # the first call, timed apart: symnet loads kernels cached by an
        # earlier process on first use (numba's start-up included)
        t = time.perf_counter()
        f(np.zeros((64, 64), "float32"))
        self.first_call_s = time.perf_counter() - t
        self.first_call_tier = getattr(f, "tier", None)    # symnet: 'py' or 'numba'
        return compile_s


# -- symnet ------------------------------------------------------------------------

class Symnet(_TheanoStyle):
    def __init__(self, mode="numba"):
        import symnet
        import symnet.tensor
        self.symnet = self.lib = symnet
        self.T = symnet.tensor
        self.mode = mode

    def _train(self, params, x, y, lr, mom, forward):
        import symnet
        import symnet.tensor as T
        sh = [symnet.shared(p, name=f"p{i}") for i, p in enumerate(params)]
        vel = [symnet.shared(np.zeros_like(p)) for p in params]
        X = T.TensorType("float32", shape=(None,) + x.shape[1:])("x")
        Y = T.ivector("y")
        logits = forward(T, X, sh)
        loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), Y))
        grads = symnet.grad(loss, sh)
        updates = []
        for p, v, g in zip(sh, vel, grads):
            nv = mom * v - lr * g
            updates += [(v, nv), (p, p + mom * nv - lr * g)]
        f = symnet.function([X, Y], loss, updates=updates, mode=self.mode)
        return lambda: f(x, y)

    def mlp(self, params, x, y, lr, mom):
        def forward(T, X, sh):
            h = X
            n = len(sh) // 2
            for i in range(n):
                h = T.dot(h, sh[2 * i]) + sh[2 * i + 1]
                if i < n - 1:
                    h = T.nnet.relu(h)
            return h
        return self._train(params, x, y, lr, mom, forward)

    def cnn(self, params, x, y, lr, mom):
        def forward(T, X, sh):
            from symnet.tensor.ops.pool import pool_2d
            h = T.nnet.relu(T.nnet.conv2d(X, sh[0]) + sh[1].dimshuffle("x", 0, "x", "x"))
            h = pool_2d(h, (2, 2), ignore_border=True).flatten(2)
            h = T.nnet.relu(T.dot(h, sh[2]) + sh[3])
            return T.dot(h, sh[4]) + sh[5]
        return self._train(params, x, y, lr, mom, forward)

    def overhead(self):
        import symnet
        import symnet.tensor as T
        x = T.fscalar("x")
        f = symnet.function([x], x + 1, mode=self.mode)
        f.trust_input = True   # as the PyTensor adapter does
        v = np.array(1.0, dtype="float32")
        return lambda: f(v)


# -- numpy by hand -----------------------------------------------------------------

class Numpy:
    def mlp(self, params, x, y, lr, mom):
        vel = [np.zeros_like(p) for p in params]
        n = len(params) // 2
        onehot = np.zeros((len(y), params[-1].shape[0]), "float32")
        onehot[np.arange(len(y)), y] = 1

        def step():
            acts = [x]
            h = x
            for i in range(n):
                h = h @ params[2 * i] + params[2 * i + 1]
                if i < n - 1:
                    h = np.maximum(h, 0)
                    acts.append(h)
            z = h - h.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(p[np.arange(len(y)), y]))
            g = (p - onehot) / np.float32(len(y))
            for i in reversed(range(n)):
                gw = acts[i].T @ g
                gb = g.sum(axis=0)
                if i > 0:
                    g = (g @ params[2 * i].T) * (acts[i] > 0)
                _nesterov(params[2 * i], vel[2 * i], gw, lr, mom)
                _nesterov(params[2 * i + 1], vel[2 * i + 1], gb, lr, mom)
            return loss
        return step

    def elemwise(self, x, a, b):
        def call():
            t = np.tanh(a * x + b)
            e = np.exp(-x * x)
            loss = np.sum(t * e)
            g = (1 - t * t) * a * e - 2 * x * t * e
            return loss, g
        return call

    def overhead(self):
        v = np.float32(1.0)
        return lambda: v + np.float32(1)


# -- PyTensor ----------------------------------------------------------------------

class PyTensor(_TheanoStyle):
    def __init__(self, mode):
        import pytensor
        import pytensor.tensor
        self.lib = pytensor
        self.T = pytensor.tensor
        self.mode = mode

    def _train(self, params, x, y, lr, mom, forward):
        import pytensor
        import pytensor.tensor as pt
        sh = [pytensor.shared(p) for p in params]
        vel = [pytensor.shared(np.zeros_like(p)) for p in params]
        X = pt.tensor("x", dtype="float32", shape=(None,) + x.shape[1:])
        Y = pt.ivector("y")
        logits = forward(pt, X, sh)
        p = pt.special.softmax(logits, axis=-1)
        loss = -pt.mean(pt.log(p)[pt.arange(Y.shape[0]), Y])
        grads = pytensor.grad(loss, sh)
        updates = []
        for s, v, g in zip(sh, vel, grads):
            nv = mom * v - lr * g
            updates += [(v, nv.astype("float32")), (s, (s + mom * nv - lr * g).astype("float32"))]
        f = pytensor.function([X, Y], loss, updates=updates, mode=self.mode)
        return lambda: f(x, y)

    def mlp(self, params, x, y, lr, mom):
        def forward(pt, X, sh):
            h = X
            n = len(sh) // 2
            for i in range(n):
                h = pt.dot(h, sh[2 * i]) + sh[2 * i + 1]
                if i < n - 1:
                    h = pt.maximum(h, 0)
            return h
        return self._train(params, x, y, lr, mom, forward)

    def overhead(self):
        import pytensor
        import pytensor.tensor as pt
        x = pt.fscalar("x")
        f = pytensor.function([x], x + 1, mode=self.mode)
        f.trust_input = True
        v = np.array(1.0, dtype="float32")
        return lambda: f(v)


# -- JAX ----------------------------------------------------------------------------

class Jax:
    def __init__(self):
        import os
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        import jax  # noqa: F401

    def _train(self, params, x, y, lr, mom, forward):
        import jax
        import jax.numpy as jnp
        ps = [jnp.asarray(p) for p in params]
        vs = [jnp.zeros_like(p) for p in ps]
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def loss_fn(ps):
            logits = forward(jnp, jax, xj, ps)
            logp = jax.nn.log_softmax(logits)
            return -jnp.mean(logp[jnp.arange(yj.shape[0]), yj])

        @jax.jit
        def step(ps, vs):
            loss, gs = jax.value_and_grad(loss_fn)(ps)
            nvs = [mom * v - lr * g for v, g in zip(vs, gs)]
            nps = [p + mom * nv - lr * g for p, nv, g in zip(ps, nvs, gs)]
            return loss, nps, nvs
        state = {"p": ps, "v": vs}

        def run():
            loss, state["p"], state["v"] = step(state["p"], state["v"])
            return float(loss.block_until_ready())
        return run

    def mlp(self, params, x, y, lr, mom):
        def forward(jnp, jax, X, ps):
            h = X
            n = len(ps) // 2
            for i in range(n):
                h = h @ ps[2 * i] + ps[2 * i + 1]
                if i < n - 1:
                    h = jnp.maximum(h, 0)
            return h
        return self._train(params, x, y, lr, mom, forward)

    def cnn(self, params, x, y, lr, mom):
        def forward(jnp, jax, X, ps):
            h = jax.lax.conv_general_dilated(X, ps[0][:, :, ::-1, ::-1], (1, 1), "VALID")
            h = jnp.maximum(h + ps[1][None, :, None, None], 0)
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            h = h.reshape(h.shape[0], -1)
            h = jnp.maximum(h @ ps[2] + ps[3], 0)
            return h @ ps[4] + ps[5]
        return self._train(params, x, y, lr, mom, forward)

    def elemwise(self, x, a, b):
        import jax
        import jax.numpy as jnp

        def loss(x):
            return jnp.sum(jnp.tanh(a * x + b) * jnp.exp(-x * x))
        f = jax.jit(jax.value_and_grad(loss))
        xj = jnp.asarray(x)

        def call():
            lv, g = f(xj)
            g.block_until_ready()
            return lv, g
        return call

    def deep_chain(self, n):
        import jax
        import jax.numpy as jnp
        t = time.perf_counter()
        rng = np.random.RandomState(0)
        params = []
        for i in range(n // 2):
            params += [jnp.asarray((rng.randn(64, 64) * 0.1).astype("float32")),
                       jnp.zeros(64, "float32")]

        def loss(ps, y):
            h = y
            for i in range(len(ps) // 2):
                h = jnp.tanh(h @ ps[2 * i] + ps[2 * i + 1])
            return jnp.sum(h)
        y = jnp.zeros((64, 64), "float32")
        jax.jit(jax.grad(loss)).lower(params, y).compile()
        return time.perf_counter() - t

    def overhead(self):
        import jax
        f = jax.jit(lambda x: x + 1)
        v = np.float32(1.0)
        f(v)
        return lambda: f(v).block_until_ready()


# -- PyTorch ------------------------------------------------------------------------

class Torch:
    def __init__(self, device="cpu"):
        import torch
        self.torch = torch
        self.device = device     # 'cuda' for the GPU rows (bench/gpu.py)

    def _train(self, params, x, y, lr, mom, forward):
        torch = self.torch
        ps = [torch.tensor(p, requires_grad=True, device=self.device) for p in params]
        opt = torch.optim.SGD(ps, lr=lr, momentum=mom, nesterov=True)
        xt = torch.from_numpy(x).to(self.device)
        yt = torch.from_numpy(y.astype("int64")).to(self.device)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(forward(torch, xt, ps), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step

    def mlp(self, params, x, y, lr, mom):
        def forward(torch, X, ps):
            h = X
            n = len(ps) // 2
            for i in range(n):
                h = h @ ps[2 * i] + ps[2 * i + 1]
                if i < n - 1:
                    h = torch.relu(h)
            return h
        return self._train(params, x, y, lr, mom, forward)

    def cnn(self, params, x, y, lr, mom):
        def forward(torch, X, ps):
            F = torch.nn.functional
            h = F.relu(F.conv2d(X, torch.flip(ps[0], (2, 3))) + ps[1][None, :, None, None])
            h = F.max_pool2d(h, 2).flatten(1)
            h = F.relu(h @ ps[2] + ps[3])
            return h @ ps[4] + ps[5]
        return self._train(params, x, y, lr, mom, forward)

    def elemwise(self, x, a, b):
        torch = self.torch
        xt = torch.from_numpy(x).to(self.device)

        def call():
            xv = xt.clone().requires_grad_(True)
            loss = torch.sum(torch.tanh(float(a) * xv + float(b)) * torch.exp(-xv * xv))
            loss.backward()
            return loss.item(), xv.grad
        return call

    def overhead(self):
        torch = self.torch
        v = torch.tensor(1.0)
        return lambda: v + 1


_MAKERS = {"symnet": lambda: Symnet("numba"), "numpy": Numpy,
           "pytensor_c": lambda: PyTensor("FAST_RUN"),
           "pytensor_numba": lambda: PyTensor("NUMBA"), "jax": Jax, "torch": Torch}


def adapter(name):
    """The adapter of one system (its library imported, and no other's)."""
    return _MAKERS[name]()


def available():
    """{name: adapter} for every system importable here, symnet first."""
    out = {}
    for name in _MAKERS:
        try:
            out[name] = adapter(name)
        except Exception:
            continue
    return out
