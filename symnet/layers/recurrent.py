"""Recurrent layers (Lasagne 0.2): vanilla RNN, LSTM and GRU over ``scan``.

Every layer here takes input of shape ``(batch_size, sequence_length,
features...)`` and returns the hidden state at every step,
``(batch_size, sequence_length, num_units)``, or only the last one with
``only_return_final=True``.  The options shared by all of them:

- ``hid_init`` (and ``cell_init`` for the LSTM): an initializer, array or
  shared variable of shape ``(1, num_units)`` (a learnable parameter when
  ``learn_init=True``), or a layer giving ``(batch_size, num_units)``;
- ``backwards``: process the sequence from last to first (the output is
  flipped back to the input's order);
- ``gradient_steps``: truncate backpropagation through time;
- ``grad_clipping``: clip the gradient flowing through the recurrence;
- ``unroll_scan``: build the loop as straight-line graph (needs a static
  sequence length);
- ``precompute_input``: apply the input weights to all steps at once;
- ``mask_input``: a layer giving a ``(batch_size, sequence_length)`` mask;
  where it is 0 the state is carried over unchanged.
"""
import numpy as np

from .. import init, nonlinearities
from .. import tensor as T
from ..gradient import grad_clip
from ..scan import scan
from .base import Layer, MergeLayer
from .dense import DenseLayer
from .input import InputLayer
from . import helper

__all__ = ["CustomRecurrentLayer", "RecurrentLayer", "Gate", "LSTMLayer", "GRULayer"]


def _unroll(step, sequences, outputs_info, non_sequences, n_steps, go_backwards):
    """``scan`` written out as a Python loop: one copy of the step per step.

    The outputs are stacked in the order computed, as ``scan`` does.
    """
    order = range(n_steps - 1, -1, -1) if go_backwards else range(n_steps)
    prev = list(outputs_info)
    results = [[] for _ in prev]
    for t in order:
        outs = step(*[s[t] for s in sequences], *prev, *non_sequences)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        for acc, o in zip(results, outs):
            acc.append(o)
        prev = outs
    return [T.stack(r, axis=0) for r in results]


class _RecurrentBase(MergeLayer):
    """The incoming/mask/initial-state bookkeeping every recurrent layer shares.

    ``init_names`` names the initial states (``'hid_init'``, ``'cell_init'``);
    each may be a layer (an extra incoming) or a parameter.
    """

    def __init__(self, incoming, mask_input, inits, backwards, learn_init,
                 gradient_steps, grad_clipping, unroll_scan, precompute_input,
                 only_return_final, **kwargs):
        incomings = [incoming]
        self.mask_incoming_index = -1
        if mask_input is not None:
            incomings.append(mask_input)
            self.mask_incoming_index = len(incomings) - 1
        self._init_index = {}
        for name, spec in inits:
            if isinstance(spec, Layer):
                incomings.append(spec)
                self._init_index[name] = len(incomings) - 1
        # Lasagne's names for the incoming positions
        self.hid_init_incoming_index = self._init_index.get("hid_init", -1)
        self.cell_init_incoming_index = self._init_index.get("cell_init", -1)
        super().__init__(incomings, **kwargs)
        self.backwards = backwards
        self.learn_init = learn_init
        self.gradient_steps = gradient_steps
        self.grad_clipping = grad_clipping
        self.unroll_scan = unroll_scan
        self.precompute_input = precompute_input
        self.only_return_final = only_return_final
        input_shape = self.input_shapes[0]
        if len(input_shape) < 3:
            raise ValueError(f"{type(self).__name__}: the input must have shape (batch_size, "
                             f"sequence_length, features...), got {input_shape}")
        if unroll_scan and input_shape[1] is None:
            raise ValueError(f"{type(self).__name__}: unroll_scan=True needs a known "
                             f"sequence length (input_shape[1]), got {input_shape}")
        if unroll_scan and gradient_steps != -1:
            raise ValueError(f"{type(self).__name__}: gradient_steps={gradient_steps} "
                             f"cannot be used with unroll_scan=True (an unrolled loop is "
                             f"not truncated); pass gradient_steps=-1")

    def _add_init(self, name, spec, shape):
        """The initial state as a parameter of ``(1,) + shape``, or None for a layer."""
        if isinstance(spec, Layer):
            return spec
        return self.add_param(spec, (1,) + tuple(shape), name=name,
                              trainable=self.learn_init, regularizable=False)

    def get_output_shape_for(self, input_shapes):
        shape = input_shapes[0]
        if self.only_return_final:
            return (shape[0],) + self._unit_shape
        return (shape[0], shape[1]) + self._unit_shape

    def _initial(self, name, inputs, num_batch):
        """The ``(batch, units...)`` initial state of ``name``."""
        if name in self._init_index:
            return inputs[self._init_index[name]]
        param = getattr(self, name)
        # repeat the (1, units...) parameter over the batch with a dot, so that
        # its gradient sums over the batch
        flat = param.reshape((1, -1))
        out = T.dot(T.ones((num_batch, 1), dtype=param.dtype), flat)
        return out.reshape((num_batch,) + self._unit_shape) if len(self._unit_shape) > 1 \
            else out

    def _loop(self, step, inputs, sequences, outputs_info, non_seqs):
        """Run ``step`` over time (scan or unrolled); outputs are time-major."""
        mask = inputs[self.mask_incoming_index] if self.mask_incoming_index > 0 else None
        if mask is not None:
            # (batch, time) -> (time, batch, 1): broadcast against the states
            sequences = sequences + [mask.dimshuffle(1, 0, "x")]
            n_out = len(outputs_info)

            def step_fun(*args):
                n_seq = len(sequences) - 1
                seq_args, mask_n = list(args[:n_seq]), args[n_seq]
                prev = list(args[n_seq + 1:n_seq + 1 + n_out])
                rest = list(args[n_seq + 1 + n_out:])
                new = step(*seq_args, *prev, *rest)
                new = list(new) if isinstance(new, (list, tuple)) else [new]
                kept = [T.switch(mask_n, n, p) for n, p in zip(new, prev)]
                return kept if len(kept) > 1 else kept[0]
        else:
            step_fun = step
        if self.unroll_scan:
            return _unroll(step_fun, sequences, outputs_info, non_seqs,
                           self.input_shapes[0][1], self.backwards)
        outs, _ = scan(step_fun, sequences=sequences, outputs_info=outputs_info,
                       non_sequences=non_seqs, go_backwards=self.backwards,
                       truncate_gradient=self.gradient_steps, return_list=True)
        return outs

    def _finish(self, out):
        """Time-major scan output -> the layer's output."""
        if self.only_return_final:
            return out[-1]
        out = out.dimshuffle(1, 0, *range(2, out.ndim))
        return out[:, ::-1] if self.backwards else out

    def _clip(self, x):
        if self.grad_clipping:
            return grad_clip(x, -self.grad_clipping, self.grad_clipping)
        return x


def _sole_input(layer, network, what):
    """The one InputLayer that the sub-network ``network`` starts from."""
    inputs = [l for l in helper.get_all_layers(network) if isinstance(l, InputLayer)]
    if len(inputs) != 1:
        raise ValueError(f"{type(layer).__name__}: {what} must have exactly one InputLayer "
                         f"(it is applied to one tensor per step), got {len(inputs)}")
    return inputs[0]


def _check_maps(layer, input_to_hidden, hidden_to_hidden):
    """Check the two maps of a CustomRecurrentLayer; return the unit shape.

    Each map may be a network of any depth on one InputLayer; the state's
    shape (past the batch axis) must be what input_to_hidden gives, what
    hidden_to_hidden takes and what it gives back.
    """
    name = type(layer).__name__
    _sole_input(layer, input_to_hidden, "input_to_hidden")
    hh_in = tuple(_sole_input(layer, hidden_to_hidden, "hidden_to_hidden").output_shape)
    in_out = tuple(input_to_hidden.output_shape)
    hh_out = tuple(hidden_to_hidden.output_shape)
    if hh_in[1:] != hh_out[1:]:
        raise ValueError(f"{name}: hidden_to_hidden must map its input shape to itself "
                         f"(past the batch axis), got {hh_in} -> {hh_out}")
    if in_out[1:] != hh_out[1:]:
        raise ValueError(f"{name}: the output shapes of input_to_hidden {in_out} and "
                         f"hidden_to_hidden {hh_out} must match past the batch axis")
    batch, steps = layer.input_shapes[0][:2]
    if layer.precompute_input:
        # input_to_hidden then sees all steps of all sequences at once
        want = None if batch is None or steps is None else batch * steps
        what = "batch_size * sequence_length (precompute_input=True)"
    else:
        want, what = batch, "batch_size (precompute_input=False)"
    if in_out[0] is not None and want is not None and in_out[0] != want:
        raise ValueError(f"{name}: input_to_hidden's output shape {in_out} must have None or "
                         f"{want} = {what} as its first size")
    return hh_out[1:]


class CustomRecurrentLayer(_RecurrentBase):
    """A recurrent layer whose input and recurrent maps are any layers.

    ``h_t = nonlinearity(f_in(x_t) + f_hid(h_{t-1}))`` where ``f_in`` is
    ``input_to_hidden`` and ``f_hid`` is ``hidden_to_hidden``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch_size, sequence_length, features...)``.
    input_to_hidden : Layer
        Maps one step ``(batch_size, features...)`` to ``(batch_size, units...)``.
    hidden_to_hidden : Layer
        Maps ``(batch_size, units...)`` to itself.
    nonlinearity : callable or None
    hid_init, backwards, learn_init, gradient_steps, grad_clipping,
    unroll_scan, precompute_input, mask_input, only_return_final :
        See the module docstring.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, CustomRecurrentLayer
    >>> l_in = InputLayer((None, 5, 3))
    >>> l_ih = DenseLayer(InputLayer((None, 3)), 4, nonlinearity=None)
    >>> l_hh = DenseLayer(InputLayer((None, 4)), 4, nonlinearity=None)
    >>> CustomRecurrentLayer(l_in, l_ih, l_hh).output_shape
    (None, 5, 4)
    """

    def __init__(self, incoming, input_to_hidden, hidden_to_hidden,
                 nonlinearity=nonlinearities.rectify, hid_init=init.Constant(0.),
                 backwards=False, learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        super().__init__(incoming, mask_input, [("hid_init", hid_init)], backwards,
                         learn_init, gradient_steps, grad_clipping, unroll_scan,
                         precompute_input, only_return_final, **kwargs)
        self.input_to_hidden = input_to_hidden
        self.hidden_to_hidden = hidden_to_hidden
        self.nonlinearity = nonlinearity if nonlinearity is not None else \
            nonlinearities.identity
        self._unit_shape = _check_maps(self, input_to_hidden, hidden_to_hidden)
        self.hid_init = self._add_init("hid_init", hid_init, self._unit_shape)

    def get_params(self, **tags):
        params = super().get_params(**tags)
        params += helper.get_all_params(self.input_to_hidden, **tags)
        params += helper.get_all_params(self.hidden_to_hidden, **tags)
        return params

    def get_output_for(self, inputs, **kwargs):
        inp = inputs[0]
        inp = inp.dimshuffle(1, 0, *range(2, inp.ndim))   # time-major
        seq_len, num_batch = inp.shape[0], inp.shape[1]
        if self.precompute_input:
            trailing = tuple(inp.shape[k] for k in range(2, inp.ndim))
            flat = T.reshape(inp, (seq_len * num_batch,) + trailing)
            pre = helper.get_output(self.input_to_hidden, flat, **kwargs)
            inp = T.reshape(pre, (seq_len, num_batch) + tuple(
                pre.shape[k] for k in range(1, pre.ndim)))

        def step(input_n, hid_previous, *args):
            hid_pre = helper.get_output(self.hidden_to_hidden, hid_previous, **kwargs)
            if not self.precompute_input:
                input_n = helper.get_output(self.input_to_hidden, input_n, **kwargs)
            hid_pre = self._clip(hid_pre + input_n)
            return self.nonlinearity(hid_pre)

        hid_init = self._initial("hid_init", inputs, num_batch)
        out, = self._loop(step, inputs, [inp], [hid_init], [])
        return self._finish(out)


class RecurrentLayer(CustomRecurrentLayer):
    """A vanilla recurrent layer: ``h_t = f(x_t W_in + h_{t-1} W_hid + b)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    W_in_to_hid, W_hid_to_hid, b : parameter specs
    nonlinearity : callable or None
    **kwargs : see :class:`CustomRecurrentLayer`.

    Examples
    --------
    >>> from symnet.layers import InputLayer, RecurrentLayer
    >>> l = RecurrentLayer(InputLayer((2, 5, 3)), 4, only_return_final=True)
    >>> l.output_shape, l.W_in_to_hid.get_value().shape
    ((2, 4), (3, 4))
    """

    def __init__(self, incoming, num_units, W_in_to_hid=init.Uniform(),
                 W_hid_to_hid=init.Uniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, hid_init=init.Constant(0.),
                 backwards=False, learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        shape = incoming if isinstance(incoming, tuple) else incoming.output_shape
        # Lasagne's parameter names: 'input_to_hidden.W', 'hidden_to_hidden.W'
        # (prefixed with the layer's name), so that the two W stay apart
        prefix = f"{kwargs['name']}." if kwargs.get("name") else ""
        in_to_hid = DenseLayer(InputLayer((None,) + tuple(shape[2:])), num_units,
                               W=W_in_to_hid, b=b, nonlinearity=None,
                               name=f"{prefix}input_to_hidden")
        hid_to_hid = DenseLayer(InputLayer((None, num_units)), num_units, W=W_hid_to_hid,
                                b=None, nonlinearity=None, name=f"{prefix}hidden_to_hidden")
        self.W_in_to_hid = in_to_hid.W
        self.W_hid_to_hid = hid_to_hid.W
        self.b = in_to_hid.b
        super().__init__(incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
                         hid_init=hid_init, backwards=backwards, learn_init=learn_init,
                         gradient_steps=gradient_steps, grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan, precompute_input=precompute_input,
                         mask_input=mask_input, only_return_final=only_return_final,
                         **kwargs)


class Gate:
    """The parameters of one gate of an LSTM or GRU layer.

    Parameters
    ----------
    W_in, W_hid : parameter specs
        Input-to-gate and hidden-to-gate weights.
    W_cell : parameter spec or None
        Peephole (cell-to-gate) weights; None for none.
    b : parameter spec
    nonlinearity : callable or None

    Examples
    --------
    >>> from symnet.layers import Gate
    >>> Gate(W_cell=None).W_cell is None
    True
    """

    def __init__(self, W_in=init.Normal(0.1), W_hid=init.Normal(0.1),
                 W_cell=init.Normal(0.1), b=init.Constant(0.),
                 nonlinearity=nonlinearities.sigmoid):
        self.W_in = W_in
        self.W_hid = W_hid
        if W_cell is not None:
            self.W_cell = W_cell
        else:
            self.W_cell = None
        self.b = b
        self.nonlinearity = nonlinearity if nonlinearity is not None else \
            nonlinearities.identity


class _GatedBase(_RecurrentBase):
    """Parameter creation for layers made of gates (LSTM, GRU)."""

    def _gate_params(self, gate, gate_name, num_inputs):
        n = self.num_units
        return (self.add_param(gate.W_in, (num_inputs, n), name=f"W_in_to_{gate_name}"),
                self.add_param(gate.W_hid, (n, n), name=f"W_hid_to_{gate_name}"),
                self.add_param(gate.b, (n,), name=f"b_{gate_name}", regularizable=False),
                gate.nonlinearity)

    def _time_major(self, inp):
        if inp.ndim > 3:
            inp = T.flatten(inp, 3)
        return inp.dimshuffle(1, 0, 2)

    def _slice(self, x, k):
        return x[:, k * self.num_units:(k + 1) * self.num_units]


class LSTMLayer(_GatedBase):
    """A long short-term memory layer (with peepholes by default).

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    ingate, forgetgate, cell, outgate : Gate
    nonlinearity : callable or None
        Applied to the cell before the output gate.
    cell_init, hid_init : parameter spec or Layer
    peepholes : bool
        Use the gates' ``W_cell`` (elementwise cell-to-gate weights).
    **kwargs : see the module docstring.

    Examples
    --------
    >>> from symnet.layers import InputLayer, LSTMLayer
    >>> l = LSTMLayer(InputLayer((None, 6, 3)), 5)
    >>> l.output_shape, l.W_in_to_ingate.get_value().shape
    ((None, 6, 5), (3, 5))
    """

    def __init__(self, incoming, num_units, ingate=Gate(), forgetgate=Gate(),
                 cell=Gate(W_cell=None, nonlinearity=nonlinearities.tanh), outgate=Gate(),
                 nonlinearity=nonlinearities.tanh, cell_init=init.Constant(0.),
                 hid_init=init.Constant(0.), backwards=False, learn_init=False,
                 peepholes=True, gradient_steps=-1, grad_clipping=0, unroll_scan=False,
                 precompute_input=True, mask_input=None, only_return_final=False, **kwargs):
        super().__init__(incoming, mask_input, [("hid_init", hid_init),
                                                ("cell_init", cell_init)],
                         backwards, learn_init, gradient_steps, grad_clipping, unroll_scan,
                         precompute_input, only_return_final, **kwargs)
        self.num_units = num_units
        self._unit_shape = (num_units,)
        self.peepholes = peepholes
        self.nonlinearity = nonlinearity if nonlinearity is not None else \
            nonlinearities.identity
        num_inputs = int(np.prod(self.input_shapes[0][2:]))
        for gate, gname in ((ingate, "ingate"), (forgetgate, "forgetgate"),
                            (cell, "cell"), (outgate, "outgate")):
            W_in, W_hid, b, nl = self._gate_params(gate, gname, num_inputs)
            setattr(self, f"W_in_to_{gname}", W_in)
            setattr(self, f"W_hid_to_{gname}", W_hid)
            setattr(self, f"b_{gname}", b)
            setattr(self, f"nonlinearity_{gname}", nl)
        if peepholes:
            for gate, gname in ((ingate, "ingate"), (forgetgate, "forgetgate"),
                                (outgate, "outgate")):
                if gate.W_cell is None:
                    raise ValueError(f"LSTMLayer: peepholes=True but the {gname} Gate has "
                                     f"W_cell=None; give it W_cell or pass peepholes=False")
                setattr(self, f"W_cell_to_{gname}", self.add_param(
                    gate.W_cell, (num_units,), name=f"W_cell_to_{gname}"))
        self.cell_init = self._add_init("cell_init", cell_init, (num_units,))
        self.hid_init = self._add_init("hid_init", hid_init, (num_units,))

    def get_output_for(self, inputs, **kwargs):
        inp = self._time_major(inputs[0])
        num_batch = inp.shape[1]
        gates = ("ingate", "forgetgate", "cell", "outgate")
        W_in = T.concatenate([getattr(self, f"W_in_to_{g}") for g in gates], axis=1)
        W_hid = T.concatenate([getattr(self, f"W_hid_to_{g}") for g in gates], axis=1)
        b = T.concatenate([getattr(self, f"b_{g}") for g in gates], axis=0)
        if self.precompute_input:
            inp = T.dot(inp, W_in) + b

        def step(input_n, cell_previous, hid_previous, *args):
            if not self.precompute_input:
                input_n = T.dot(input_n, W_in) + b
            act = self._clip(input_n + T.dot(hid_previous, W_hid))
            ingate, forgetgate = self._slice(act, 0), self._slice(act, 1)
            cell_input, outgate = self._slice(act, 2), self._slice(act, 3)
            if self.peepholes:
                ingate = ingate + cell_previous * self.W_cell_to_ingate
                forgetgate = forgetgate + cell_previous * self.W_cell_to_forgetgate
            ingate = self.nonlinearity_ingate(ingate)
            forgetgate = self.nonlinearity_forgetgate(forgetgate)
            cell_input = self.nonlinearity_cell(cell_input)
            cell = forgetgate * cell_previous + ingate * cell_input
            if self.peepholes:
                outgate = outgate + cell * self.W_cell_to_outgate
            outgate = self.nonlinearity_outgate(outgate)
            return [cell, outgate * self.nonlinearity(cell)]

        cell_init = self._initial("cell_init", inputs, num_batch)
        hid_init = self._initial("hid_init", inputs, num_batch)
        _, hid = self._loop(step, inputs, [inp], [cell_init, hid_init], [])
        return self._finish(hid)


class GRULayer(_GatedBase):
    """A gated recurrent unit layer.

    ``h_t = (1 - u_t) h_{t-1} + u_t c_t`` with update gate ``u_t``, reset
    gate ``r_t`` and candidate ``c_t = f(x_t W_xc + r_t * (h_{t-1} W_hc) + b_c)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    resetgate, updategate, hidden_update : Gate
    hid_init : parameter spec or Layer
    **kwargs : see the module docstring.

    Examples
    --------
    >>> from symnet.layers import InputLayer, GRULayer
    >>> GRULayer(InputLayer((None, 6, 3)), 5, only_return_final=True).output_shape
    (None, 5)
    """

    def __init__(self, incoming, num_units, resetgate=Gate(W_cell=None),
                 updategate=Gate(W_cell=None),
                 hidden_update=Gate(W_cell=None, nonlinearity=nonlinearities.tanh),
                 hid_init=init.Constant(0.), backwards=False, learn_init=False,
                 gradient_steps=-1, grad_clipping=0, unroll_scan=False,
                 precompute_input=True, mask_input=None, only_return_final=False,
                 **kwargs):
        super().__init__(incoming, mask_input, [("hid_init", hid_init)], backwards,
                         learn_init, gradient_steps, grad_clipping, unroll_scan,
                         precompute_input, only_return_final, **kwargs)
        self.num_units = num_units
        self._unit_shape = (num_units,)
        num_inputs = int(np.prod(self.input_shapes[0][2:]))
        for gate, gname in ((resetgate, "resetgate"), (updategate, "updategate"),
                            (hidden_update, "hidden_update")):
            W_in, W_hid, b, nl = self._gate_params(gate, gname, num_inputs)
            setattr(self, f"W_in_to_{gname}", W_in)
            setattr(self, f"W_hid_to_{gname}", W_hid)
            setattr(self, f"b_{gname}", b)
            setattr(self, f"nonlinearity_{gname}", nl)
        self.hid_init = self._add_init("hid_init", hid_init, (num_units,))

    def get_output_for(self, inputs, **kwargs):
        inp = self._time_major(inputs[0])
        num_batch = inp.shape[1]
        gates = ("resetgate", "updategate", "hidden_update")
        W_in = T.concatenate([getattr(self, f"W_in_to_{g}") for g in gates], axis=1)
        W_hid = T.concatenate([getattr(self, f"W_hid_to_{g}") for g in gates], axis=1)
        b = T.concatenate([getattr(self, f"b_{g}") for g in gates], axis=0)
        if self.precompute_input:
            inp = T.dot(inp, W_in) + b

        def step(input_n, hid_previous, *args):
            hid_input = T.dot(hid_previous, W_hid)
            input_n = self._clip(input_n)
            hid_input = self._clip(hid_input)
            if not self.precompute_input:
                input_n = T.dot(input_n, W_in) + b
            resetgate = self.nonlinearity_resetgate(
                self._slice(hid_input, 0) + self._slice(input_n, 0))
            updategate = self.nonlinearity_updategate(
                self._slice(hid_input, 1) + self._slice(input_n, 1))
            candidate = self._slice(input_n, 2) + resetgate * self._slice(hid_input, 2)
            candidate = self.nonlinearity_hidden_update(self._clip(candidate))
            return (1 - updategate) * hid_previous + updategate * candidate

        hid_init = self._initial("hid_init", inputs, num_batch)
        hid, = self._loop(step, inputs, [inp], [hid_init], [])
        return self._finish(hid)
