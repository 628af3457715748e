"""``torch.nn``: Module, Parameter, layers, losses, ``functional``, ``init`` and ``utils``."""

from . import functional, init, modules, utils
from .modules import *  # noqa: F403 - the layer namespace, as torch.nn re-exports it

# recurrent layers, attention and transformers
from .modules.attention import MultiheadAttention
from .modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .parameter import Buffer, Parameter

__all__ = ["Parameter", "Buffer", "functional", "init", "utils"]
__all__ += modules.__all__
__all__ += [
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
    "TransformerDecoderLayer",
]  # fmt: skip

# image layers: convolution, pooling, padding, resampling, instance norm
from .modules.conv import *  # noqa: E402, F403
from .modules.instancenorm import *  # noqa: E402, F403
from .modules.padding import *  # noqa: E402, F403
from .modules.pooling import *  # noqa: E402, F403
from .modules.upsampling import *  # noqa: E402, F403

__all__ += modules.conv.__all__ + modules.instancenorm.__all__ + modules.padding.__all__  # noqa: PLE0605
__all__ += modules.pooling.__all__ + modules.upsampling.__all__  # noqa: PLE0605
