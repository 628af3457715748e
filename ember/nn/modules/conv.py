# ruff: noqa: A002, PLR0913, PLR0917 - PyTorch's argument names, and its positional signatures
"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d, and the sliding-block Fold and Unfold.

The arithmetic lives in ``ember/ops/conv.py``; these modules hold the parameters, draw their initial
values as PyTorch does, and turn padding modes into an explicit ``F.pad`` before a zero-padded conv.
"""

from __future__ import annotations

import collections.abc
import itertools
import math
from collections.abc import Sequence

from ... import creation as C
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Fold",
    "Unfold",
]


def _ntuple(n: int):
    """PyTorch's ``_ntuple``: a sequence as a tuple, anything else repeated ``n`` times."""

    def parse(x) -> tuple:
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    return parse


_single, _pair, _triple = _ntuple(1), _ntuple(2), _ntuple(3)


def _reverse_repeat_tuple(t: Sequence[int], n: int) -> tuple:
    """(1, 2) -> (2, 2, 1, 1) for n = 2: a conv's padding as ``F.pad`` wants it (last dim first)."""
    return tuple(x for x in reversed(t) for _ in range(n))


class _ConvNd(Module):
    """The shared state of convolutions: channels, geometry, ``weight`` and an optional ``bias``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple,
        stride: tuple,
        padding: str | tuple,
        dilation: tuple,
        transposed: bool,
        output_padding: tuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            valid = {"same", "valid"}  # a set, printed in the order PyTorch's message prints it
            if padding not in valid:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {valid}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # the F.pad argument for non-zero padding modes (an even 'same' kernel pads one more on the right)
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1), strict=True):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(C.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(C.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=sqrt(5)) for the weight, then U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
        bias: PyTorch's draws in PyTorch's order, so a seeded layer holds PyTorch's exact values."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):  # pickles from before padding_mode existed
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    _d = 0
    _fn = ""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding: str | int | tuple = 0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        nt = _ntuple(self._d)
        super().__init__(
            in_channels, out_channels, nt(kernel_size), nt(stride),
            padding if isinstance(padding, str) else nt(padding), nt(dilation), False, nt(0), groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        fn = getattr(F, self._fn)
        if self.padding_mode != "zeros":
            x = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(x, weight, bias, self.stride, (0,) * self._d, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)``.

    Args:
        in_channels (int), out_channels (int): channel counts.
        kernel_size (int or tuple): window size.
        stride, padding, dilation (int or tuple): geometry; ``padding`` may also be 'valid' or 'same'.
        groups (int): split channels into this many independent convolutions. Default: 1.
        bias (bool): learn an additive bias. Default: ``True``.
        padding_mode (str): 'zeros', 'reflect', 'replicate' or 'circular'. Default: 'zeros'.

    Shape:
        input ``(N, C_in, L_in)`` or ``(C_in, L_in)``, output ``(N, C_out, L_out)`` or ``(C_out, L_out)``.
    """

    _d = 1
    _fn = "conv1d"


class Conv2d(_Conv):
    """2-D convolution over ``(N, C_in, H, W)``; arguments as for :class:`Conv1d`, per spatial dim.

    Example::

        >>> m = nn.Conv2d(16, 33, 3, stride=2)
        >>> m(torch.randn(20, 16, 50, 100)).shape
        torch.Size([20, 33, 24, 49])
    """

    _d = 2
    _fn = "conv2d"


class Conv3d(_Conv):
    """3-D convolution over ``(N, C_in, D, H, W)``; arguments as for :class:`Conv1d`."""

    _d = 3
    _fn = "conv3d"


class _ConvTransposeNd(_ConvNd):
    _d = 0
    _fn = ""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {self.__class__.__name__}')
        nt = _ntuple(self._d)
        super().__init__(
            in_channels, out_channels, nt(kernel_size), nt(stride), nt(padding), nt(dilation), True,
            nt(output_padding), groups, bias, padding_mode, device, dtype,
        )  # fmt: skip

    def _output_padding(
        self, input: Tensor, output_size, stride, padding, kernel_size, num_spatial_dims: int, dilation=None
    ) -> list[int]:
        """The output_padding that yields ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return list(_single(self.output_padding))
        non_spatial = 2 if input.dim() == num_spatial_dims + 2 else 1
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, output_size must have "
                f"{num_spatial_dims} or {non_spatial + num_spatial_dims} elements (got {len(output_size)})"
            )
        min_sizes, max_sizes = [], []
        for d in range(num_spatial_dims):
            dl = dilation[d] if dilation is not None else 1
            n = input.size(d + non_spatial)
            size = (n - 1) * stride[d] - 2 * padding[d] + dl * (kernel_size[d] - 1) + 1
            min_sizes.append(size)
            max_sizes.append(size + stride[d] - 1)
        for size, lo, hi in zip(output_size, min_sizes, max_sizes, strict=True):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to "
                    f"{max_sizes} (for an input of {input.size()[2:]})"
                )
        return [output_size[d] - min_sizes[d] for d in range(num_spatial_dims)]

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for {self.__class__.__name__}")
        output_padding = self._output_padding(
            input, output_size, self.stride, self.padding, self.kernel_size, self._d, self.dilation
        )
        return getattr(F, self._fn)(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input).

    Args:
        in_channels (int), out_channels (int): channel counts.
        kernel_size, stride, padding, dilation (int or tuple): the geometry of the matching Conv1d.
        output_padding (int or tuple): extra size added to one side of the output. Default: 0.
        groups (int), bias (bool): as for :class:`Conv1d`.

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives that size.
    """

    _d = 1
    _fn = "conv_transpose1d"


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution"); arguments as for :class:`ConvTranspose1d`.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)
        >>> up(torch.randn(1, 16, 6, 6), output_size=[1, 8, 12, 12]).shape
        torch.Size([1, 8, 12, 12])
    """

    _d = 2
    _fn = "conv_transpose2d"


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution; arguments as for :class:`ConvTranspose1d`."""

    _d = 3
    _fn = "conv_transpose3d"


class Fold(Module):
    """Sum sliding blocks back into an image (col2im).

    Shape:
        input ``(N, C * prod(kernel_size), L)``, output ``(N, C, *output_size)``.
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            "output_size={output_size}, kernel_size={kernel_size}, "
            "dilation={dilation}, padding={padding}, stride={stride}".format(**self.__dict__)
        )


class Unfold(Module):
    """Extract sliding blocks as columns (im2col): ``(N, C, H, W) -> (N, C * prod(kernel_size), L)``.

    Example::

        >>> nn.Unfold(kernel_size=(2, 3))(torch.randn(2, 5, 3, 4)).shape
        torch.Size([2, 30, 4])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return "kernel_size={kernel_size}, dilation={dilation}, padding={padding}, stride={stride}".format(
            **self.__dict__
        )
