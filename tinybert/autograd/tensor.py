"""The Tensor: an array that remembers how it was computed.

Every op makes its result with `make_result(data, op, parents, backward)`.
When gradients are wanted, the result keeps its parents and a `backward`
function that turns the gradient of the result into one gradient per parent.
`Tensor.backward()` then walks the graph from the result back to the leaves,
in reverse topological order, adding up every gradient that reaches a tensor.

Gradients accumulate, as in PyTorch: a tensor used twice gets the sum of both
gradients, and calling `backward()` twice adds the second gradient to the
first. Clear them with `zero_grad()` before the next step.
"""

import contextlib

import numpy as np

from . import backend

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Inside this block ops record no graph: no parents, no backward, no memory kept for them."""
    global _grad_enabled
    was_enabled, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = was_enabled


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled


class GradientError(RuntimeError):
    """backward() was asked for something it cannot do."""


class DTypeError(TypeError):
    """An op got arrays whose data types do not go together."""


def as_array(data, dtype=None, device=None):
    """`data` as an array of the right module: floating data becomes float32 unless `dtype` says
    otherwise; integer and boolean data (token ids, masks) keep their type."""
    if isinstance(data, Tensor):
        data = data.data
    if device is None:  # a GPU array stays on the GPU; anything else goes to the default device
        device = "cuda" if backend.device_of(data) == "cuda" else backend.default_device()
    xp = backend.module_for_device(device)
    array = xp.asarray(backend.to_device(data, device))
    if dtype is None and array.dtype.kind == "f":
        dtype = np.float32
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return array


class Tensor:
    """An n-dimensional array with an optional gradient.

    data            the array (numpy.ndarray on the CPU, cupy.ndarray on a GPU)
    requires_grad   whether backward() should compute a gradient for it
    grad            the accumulated gradient, an array of the same shape (None until backward)
    grad_buffer     None, or an array where a leaf's gradient is to be written: an optimizer that keeps
                    every gradient in one flat array gives each parameter its view of it (optim/flat.py);
                    each backward after zero_grad() writes over it, so copy a .grad to keep it
    op              the name of the op that made it ("matmul", "softmax", ...); "leaf" for inputs
    parents         the tensors the op read
    name            an optional label, such as a parameter's dotted name, for graphs and errors
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_buffer", "op", "parents", "backward_fn", "retains_grad", "name")
    __array_ufunc__ = None  # `numpy_array * tensor` calls Tensor.__rmul__ instead of looping over elements

    def __init__(self, data, requires_grad=False, dtype=None, device=None, name=None):
        self.data = as_array(data, dtype, device)
        if requires_grad and self.data.dtype.kind != "f":
            raise GradientError(f"only floating tensors can require gradients, not {self.data.dtype}: "
                                "write 1.0 rather than 1, or pass dtype=np.float32")
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_buffer = None
        self.op = "leaf"
        self.parents = ()
        self.backward_fn = None
        self.retains_grad = False
        self.name = name

    # ---- what it holds -------------------------------------------------------------------

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module of this tensor's data: numpy or cupy."""
        return backend.array_module(self.data)

    @property
    def is_leaf(self):
        return self.backward_fn is None

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The values as a NumPy array (a copy from the GPU if the tensor lives there)."""
        return backend.to_numpy(self.data)

    def detach(self):
        """The same values with no history: gradients stop here."""
        return Tensor(self.data, dtype=self.dtype, device=self.device)

    def to(self, target):
        """A copy on another device ('cpu', 'cuda') or with another dtype (np.float64); gradients flow
        back, except through a cast to an integer or boolean dtype, which has no gradient."""
        if not isinstance(target, str) and np.dtype(target).kind != "f":
            return Tensor(self.data.astype(target), device=self.device)
        if isinstance(target, str):
            data, back = backend.to_device(self.data, target), lambda grad: backend.to_device(grad, self.device)
        else:
            data, back = self.data.astype(target), lambda grad: grad.astype(self.dtype)
        return make_result(data, "to", (self,), lambda grad: (back(grad),))

    def __repr__(self):
        body = np.array2string(self.numpy(), precision=4, separator=", ", prefix="Tensor(")
        extras = [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device={self.device!r}")
        if self.requires_grad:
            extras.append("requires_grad=True")
        if self.op != "leaf":
            extras.append(f"op={self.op!r}")
        return f"Tensor({body}, {', '.join(extras)})"

    # ---- gradients -------------------------------------------------------------------------

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

    def retain_grad(self):
        """Keep this intermediate result's gradient in `.grad` after backward (leaves always keep theirs)."""
        self.retains_grad = True
        return self

    def backward(self, grad=None):
        """Compute d(self)/d(leaf) for every leaf that requires a gradient, adding it to `leaf.grad`.

        A scalar needs no `grad`; any other tensor needs one of its own shape (the gradient of
        some scalar loss with respect to it). Calling backward() again adds to `.grad`.
        """
        if not self.requires_grad:
            raise GradientError("backward() on a tensor that does not require a gradient: "
                                "create the inputs with requires_grad=True, outside no_grad()")
        if grad is None:
            if self.data.size != 1:
                raise GradientError(f"backward() on a tensor of shape {self.shape} needs a gradient of "
                                    "that shape: call out.backward(grad), or reduce to a scalar first (out.sum())")
            grad = self.xp.ones_like(self.data)
        else:
            grad = as_array(grad, self.dtype, self.device)
            if grad.shape != self.shape:
                raise GradientError(f"backward() got a gradient of shape {grad.shape} for a tensor of shape {self.shape}")

        pending = {self: grad}  # gradients that have reached a tensor but not yet gone past it
        for node in reversed(topological_order(self)):
            grad = pending.pop(node, None)
            if grad is None:
                continue
            if node.is_leaf or node.retains_grad:
                node.grad = accumulated(node, grad)
            if node.is_leaf:
                continue
            for parent, parent_grad in zip(node.parents, node.backward_fn(grad)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    raise GradientError(f"the backward of {node.op!r} gave a gradient of shape "
                                        f"{parent_grad.shape} for an input of shape {parent.shape}")
                pending[parent] = parent_grad if parent not in pending else pending[parent] + parent_grad

    # ---- operators: each one calls the op of the same name -----------------------------------

    def __add__(self, other):
        return arithmetic.add(self, other)

    def __radd__(self, other):
        return arithmetic.add(other, self)

    def __sub__(self, other):
        return arithmetic.sub(self, other)

    def __rsub__(self, other):
        return arithmetic.sub(other, self)

    def __mul__(self, other):
        return arithmetic.mul(self, other)

    def __rmul__(self, other):
        return arithmetic.mul(other, self)

    def __truediv__(self, other):
        return arithmetic.div(self, other)

    def __rtruediv__(self, other):
        return arithmetic.div(other, self)

    def __neg__(self):
        return arithmetic.neg(self)

    def __pow__(self, exponent):
        return arithmetic.pow(self, exponent)

    def __matmul__(self, other):
        return arithmetic.matmul(self, other)

    def __rmatmul__(self, other):
        return arithmetic.matmul(other, self)

    def __getitem__(self, index):
        return shapes.getitem(self, index)

    # ---- the most used ops as methods, for `x.sum(axis=-1)` style -----------------------------

    def sum(self, axis=None, keepdims=False):
        return reductions.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return reductions.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return reductions.max(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return reductions.var(self, axis, keepdims, ddof)

    def reshape(self, *shape):
        return shapes.reshape(self, one_sequence(shape))

    def transpose(self, axis1=-2, axis2=-1):
        return shapes.transpose(self, axis1, axis2)

    def permute(self, *axes):
        return shapes.permute(self, one_sequence(axes))

    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def tanh(self):
        return elementwise.tanh(self)

    def sigmoid(self):
        return elementwise.sigmoid(self)

    def relu(self):
        return elementwise.relu(self)


def one_sequence(arguments):
    """x.reshape(2, 3), x.reshape((2, 3)) and x.reshape([2, 3]) all mean the shape (2, 3)."""
    return tuple(arguments[0]) if len(arguments) == 1 and isinstance(arguments[0], (tuple, list)) else arguments


def make_result(data, op, parents, backward):
    """The tensor an op returns. It always records `op`; it records `parents` and `backward`
    (grad -> one grad per parent) only when grad mode is on and some parent requires a gradient."""
    result = Tensor.__new__(Tensor)
    # NumPy turns 0-d results into scalars (np.float64(3.0)); keep them 0-d arrays
    result.data = data if data.ndim else backend.array_module(data).asarray(data)
    result.grad = result.grad_buffer = None
    result.retains_grad = False
    result.name = None
    result.requires_grad = _grad_enabled and any(parent.requires_grad for parent in parents)
    if result.requires_grad:
        result.op, result.parents, result.backward_fn = op, tuple(parents), backward
    else:
        result.op, result.parents, result.backward_fn = op, (), None
    return result


def accumulated(tensor, grad):
    """tensor.grad + grad, where tensor.grad may still be None. The first gradient is copied (`grad` may be
    shared: add hands one array to both inputs; or a read-only view), into the tensor's grad_buffer when
    one fits it (a buffer of another dtype or device was left by an optimizer before the tensor was cast
    or moved); later ones are added there in place, so the gradient stays in its buffer."""
    buffer = tensor.grad_buffer
    if buffer is not None and (buffer.dtype != tensor.dtype or backend.device_of(buffer) != tensor.device):
        buffer = None
    if tensor.grad is None:
        if buffer is None:
            return grad.copy()
        buffer[...] = grad
        return buffer
    if tensor.grad is buffer:
        tensor.grad += grad
        return tensor.grad
    return tensor.grad + grad


def topological_order(root):
    """Every tensor `root` depends on (that requires a gradient), each after all of its parents.

    Iterative depth-first search with an explicit stack, so a chain of 100,000 ops does not
    reach Python's recursion limit."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        stack.extend((parent, False) for parent in node.parents if parent.requires_grad and parent not in visited)
    return order


def lift(value, like):
    """`value` (a number or an array) as a tensor on the device of `like`, in `like`'s floating
    dtype when it has one (so `float32_tensor * 0.5` and `float32_tensor * float64_array` stay float32)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=like.dtype if like.dtype.kind == "f" else None, device=like.device)


def check_compatible(op, *tensors):
    """Raise a clear error when `tensors` live on different devices or mix float32 with float64;
    return them with any integer or boolean one cast to the floating dtype."""
    devices = {tensor.device for tensor in tensors}
    if len(devices) > 1:
        raise backend.DeviceError(f"{op} got tensors on {' and '.join(sorted(devices))}: "
                                  "move them to one device with .to('cpu') or .to('cuda')")
    float_dtypes = {tensor.dtype for tensor in tensors if tensor.dtype.kind == "f"}
    if len(float_dtypes) > 1:
        names = " and ".join(sorted(str(dtype) for dtype in float_dtypes))
        raise DTypeError(f"{op} got {names} tensors: convert one with .to(np.float32) or .to(np.float64) so they match")
    if not float_dtypes:
        return tensors
    dtype = float_dtypes.pop()
    return tuple(tensor if tensor.dtype == dtype else Tensor(tensor.data, dtype=dtype, device=tensor.device)
                 for tensor in tensors)


# The op modules import Tensor from this module, so they are imported after it is defined.
from . import arithmetic, elementwise, reductions, shapes  # noqa: E402
