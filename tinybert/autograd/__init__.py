"""tinybert's autograd engine: tensors on NumPy (or CuPy) arrays, ops that know their
derivatives, and reverse-mode differentiation over the graph they build.

It imports nothing else from tinybert; everything else in tinybert is built on it.
Read it in this order: backend, allocator, tensor, arithmetic, linear, elementwise, erf, gelu,
reductions, shapes, selection, parallel, softmax, layer_norm, dropout, attention, losses,
gradcheck.
"""

from .arithmetic import add, div, matmul, mul, neg, pow, sub
from .attention import attention
from .backend import DeviceError, default_device, manual_seed
from .dropout import dropout
from .elementwise import exp, log, relu, sigmoid, sqrt, tanh
from .gelu import gelu
from .gradcheck import GradcheckError, compare_gradients, gradcheck
from .graph import to_dot
from .layer_norm import layer_norm
from .linear import linear
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .reductions import max, mean, sum, var
from .selection import embedding, masked_fill, where
from .shapes import concatenate, getitem, permute, reshape, stack, transpose
from .softmax import log_softmax, softmax
from .tensor import DTypeError, GradientError, Tensor, is_grad_enabled, no_grad

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled", "manual_seed", "default_device",
    "GradientError", "DTypeError", "DeviceError", "GradcheckError", "gradcheck", "compare_gradients", "to_dot",
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "linear",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "gelu",
    "sum", "mean", "max", "var",
    "reshape", "transpose", "permute", "getitem", "concatenate", "stack",
    "embedding", "where", "masked_fill",
    "softmax", "log_softmax", "layer_norm", "dropout", "attention",
    "cross_entropy", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]
