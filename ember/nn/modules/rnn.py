# ruff: noqa: A001, A002, PLR0917 - PyTorch's signatures: `input` and long positional argument lists
"""Recurrent layers (RNN, LSTM, GRU) and their single-step cells, with PyTorch's parameter layout.

Each layer direction is one fused node (``ember.ops.rnn_ops``, see NOTE [ fused recurrence ]
there): the input projection of all steps (``x W_ih^T + b``, a single matrix product over the
time-major rows), then the recurrence. Plain and packed input share that path: a plain ``(T, B, *)``
batch is a packed one whose batch size is ``B`` at every step.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ... import creation as C
from ...ops.rnn_ops import GruCell, LstmCell, rnn_layer
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_NAMES = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters, checks and the layer loop.

    Parameters are registered as PyTorch registers them (``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}``, ``weight_hr_l{k}``, with ``_reverse`` for the backward
    direction), so state dicts interchange and seeded initialisation matches.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element "
                "being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        typed = (("bias", bias, bool), ("batch_first", batch_first, bool), ("input_size", input_size, int),
                 ("hidden_size", hidden_size, int))  # fmt: skip
        for name, value, kind in typed:
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(C.empty(shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in registration order."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op: there is no cuDNN weight buffer to compact."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- checks --------------------------------------------------------------------------------------
    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype is not w.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                f"input.to({w.dtype}), or convert model: model.to({input.dtype})"
            )
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.size(-1)}"
            )

    def _hidden_shape(self, batch: int, cell: bool = False) -> tuple[int, int, int]:
        size = self.proj_size if self.proj_size > 0 and not cell else self.hidden_size
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    @staticmethod
    def check_hidden_size(hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    # -- forward ---------------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        batched = True
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            self.check_input(data, batch_sizes)
            sizes = [int(s) for s in batch_sizes.tolist()]
        else:
            if input.dim() not in (2, 3):
                tail = " tensor instead" if self.mode.startswith("RNN") else " instead"
                raise ValueError(
                    f"{_NAMES[self.mode]}: Expected input to be 2D or 3D, got {input.dim()}D{tail}"
                )
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            hx = self._check_state_dims(hx, batched, lstm)
            self.check_input(input, None)
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            data = input.reshape(steps * batch, input.shape[2])
            sizes = [batch] * steps
            sorted_indices = unsorted_indices = None
        batch = sizes[0]
        states = self._initial_states(hx, data, batch, lstm, sorted_indices)

        out, finals = self._layers(data, sizes, states)

        hidden = tuple(stack(list(f)) for f in finals)  # h_n (and c_n), (layers * directions, B, *)
        if unsorted_indices is not None:
            hidden = tuple(h.index_select(1, unsorted_indices) for h in hidden)
        if packed:
            output = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = out.view(len(sizes), batch, out.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not batched:
                output = output.squeeze(0 if self.batch_first else 1)
                hidden = tuple(h.squeeze(1) for h in hidden)
        return output, (hidden if lstm else hidden[0])

    def _check_state_dims(self, hx, batched: bool, lstm: bool):
        """PyTorch's rank checks of a given state, and unbatched states made batched."""
        if hx is None:
            return None
        want = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if lstm:
            if hx[0].dim() != want or hx[1].dim() != want:
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {want}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                )
            return hx if batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        if hx.dim() != want:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor")
        return hx if batched else hx.unsqueeze(1)

    def _initial_states(self, hx, data: Tensor, batch: int, lstm: bool, sorted_indices) -> list:
        """One initial state per layer and direction: ``(h, c)`` for LSTM, ``(h,)`` otherwise."""
        n = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            kinds = (False, True) if lstm else (False,)  # h (and c)
            zeros = tuple(
                C.zeros(self._hidden_shape(batch, cell)[1:], dtype=data.dtype, device=data.device)
                for cell in kinds
            )
            return [zeros] * n
        given = tuple(hx) if lstm else (hx,)
        if sorted_indices is not None:
            given = tuple(h.index_select(1, sorted_indices) for h in given)
        if lstm:
            self.check_hidden_size(given[0], self._hidden_shape(batch), "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(
                given[1], self._hidden_shape(batch, cell=True), "Expected hidden[1] size {}, got {}"
            )
        else:
            self.check_hidden_size(given[0], self._hidden_shape(batch))
        return list(zip(*(h.unbind(0) for h in given), strict=True))

    def _layers(self, x: Tensor, sizes: list[int], states: list[tuple[Tensor, ...]]):
        """All layers over time-major rows ``x``; returns the last layer's rows and the final states
        per state kind (h, and c for LSTM), each a list over layers and directions."""
        directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d in range(directions):
                k = layer * directions + d
                ys, *final = self._direction(
                    x, sizes, d == 1, [getattr(self, n) for n in self._all_weights[k]], states[k]
                )
                outs.append(ys)
                finals.append(final)
            x = outs[0] if directions == 1 else cat(outs, 1)
        return x, list(zip(*finals, strict=True))

    def _direction(self, x: Tensor, sizes: list[int], reverse: bool, params: list[Tensor], state0):
        w_ih, w_hh = params[0], params[1]
        b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
        w_hr = params[-1] if self.proj_size > 0 else None
        c0 = state0[1] if self.mode == "LSTM" else None
        # the input projection of all steps is made inside the layer's node (see RnnLayer)
        return rnn_layer(self.mode, sizes, reverse, x, w_ih, b_ih, w_hh, b_hh, w_hr, state0[0], c0)


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked.

    Args:
        input_size, hidden_size (int): feature sizes of the input and the hidden state.
        num_layers (int): stacked layers. Default: 1.
        nonlinearity (str): ``'tanh'`` or ``'relu'``. Default: ``'tanh'``.
        bias (bool): learn ``b_ih`` and ``b_hh``. Default: ``True``.
        batch_first (bool): input and output are ``(B, T, *)``. Default: ``False``.
        dropout (float): dropout on the outputs of all but the last layer (training only). Default: 0.
        bidirectional (bool): also run each layer backwards in time. Default: ``False``.

    Shape:
        input ``(T, B, H_in)``, ``(B, T, H_in)`` or unbatched ``(T, H_in)``, or a ``PackedSequence``;
        h_0 ``(D * num_layers, B, H)``; output ``(T, B, D * H)``; h_n ``(D * num_layers, B, H)``.

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(torch.randn(5, 3, 10), torch.randn(2, 3, 20))
        >>> output.shape
        torch.Size([5, 3, 20])
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        return super().forward(input, hx)


class LSTM(RNNBase):
    """A long short-term memory network, stacked; gates in PyTorch's order i, f, g, o.

    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (then h_t W_hr^T with ``proj_size > 0``).

    Args:
        as ``RNN`` (without ``nonlinearity``), plus
        proj_size (int): project h_t to this size with ``weight_hr``. Default: 0 (no projection).

    Shape:
        input as ``RNN``; (h_0, c_0) ``(D * num_layers, B, H_out)`` and ``(D * num_layers, B, H)``;
        output ``(T, B, D * H_out)``; (h_n, c_n) like (h_0, c_0). ``H_out`` is ``proj_size`` or ``H``.

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(torch.randn(5, 3, 10))
        >>> hn.shape
        torch.Size([2, 3, 20])
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx: tuple[Tensor, Tensor] | None = None):
        return super().forward(input, hx)


class GRU(RNNBase):
    """A gated recurrent unit network, stacked; gates in PyTorch's order r, z, n.

    r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.

    Args and shapes as ``RNN`` (without ``nonlinearity``).

    Example::

        >>> gru = nn.GRU(10, 20, batch_first=True)
        >>> gru(torch.randn(3, 5, 10))[0].shape
        torch.Size([3, 5, 20])
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        return super().forward(input, hx)


# -- cells ---------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The parameters of a single-step cell: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(C.empty((rows, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(C.empty((rows, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(C.empty(rows, device=device, dtype=dtype))
            self.bias_hh = Parameter(C.empty(rows, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batched(self, input: Tensor, hx, name: str, n_states: int):
        """Check ranks; make 1-d input and states batched; zeros for a missing state."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = None if hx is None else (tuple(hx) if n_states == 2 else (hx,))
        if states is not None:
            for k, s in enumerate(states):
                if s.dim() not in (1, 2):
                    what = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if states is None:
            zeros = C.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            states = (zeros,) * n_states
        elif not batched:
            states = tuple(s.unsqueeze(0) for s in states)
        return input, states, batched

    def _projections(self, input: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return F.linear(input, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Shape:
        input ``(B, H_in)`` or ``(H_in)``; hidden and output ``(B, H)`` or ``(H)``.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._batched(input, hx, "RNNCell", 1)
        xg, hg = self._projections(input, h)
        if self.nonlinearity == "tanh":
            out = (xg + hg).tanh()
        elif self.nonlinearity == "relu":
            out = (xg + hg).relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')`` from input and ``(h, c)`` (zeros when not given).

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(torch.randn(3, 10))
        >>> c.shape
        torch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        input, (h, c), batched = self._batched(input, hx, "LSTMCell", 2)
        xg, hg = self._projections(input, h)
        h, c = LstmCell.apply(xg + hg, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h (see ``GRU``).

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._batched(input, hx, "GRUCell", 1)
        xg, hg = self._projections(input, h)
        out = GruCell.apply(xg, hg, h)
        return out if batched else out.squeeze(0)
