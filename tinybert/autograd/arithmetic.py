"""Arithmetic: + - * / ** and matrix multiplication, with NumPy broadcasting.

When an op broadcasts an input (adds leading axes, or stretches a size-1 axis),
every output element that reused an input element sends it a gradient, so the
backward sums the gradient over those axes: `sum_to_shape`.
"""

import numpy as np

from .tensor import Tensor, check_compatible, lift, make_result


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum `grad` over the axes broadcasting added or stretched, giving `shape`."""
    if grad.shape == shape:
        return grad
    added = grad.ndim - len(shape)
    stretched = tuple(added + axis for axis, size in enumerate(shape) if size == 1 and grad.shape[added + axis] != 1)
    return grad.sum(axis=tuple(range(added)) + stretched, keepdims=True).reshape(shape)


def operands(op, a, b):
    """Both operands as tensors on one device with one floating dtype (a Python number takes the other's)."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else Tensor(a)
    return check_compatible(op, lift(a, like), lift(b, like))


def add(a, b):
    a, b = operands("add", a, b)

    def backward(grad):  # d(a + b): da = grad, db = grad
        return sum_to_shape(grad, a.shape), sum_to_shape(grad, b.shape)

    return make_result(a.data + b.data, "add", (a, b), backward)


def sub(a, b):
    a, b = operands("sub", a, b)

    def backward(grad):  # d(a - b): da = grad, db = -grad
        return sum_to_shape(grad, a.shape), sum_to_shape(-grad, b.shape)

    return make_result(a.data - b.data, "sub", (a, b), backward)


def mul(a, b):
    a, b = operands("mul", a, b)

    def backward(grad):  # d(a * b): da = grad * b, db = grad * a
        return sum_to_shape(grad * b.data, a.shape), sum_to_shape(grad * a.data, b.shape)

    return make_result(a.data * b.data, "mul", (a, b), backward)


def div(a, b):
    a, b = operands("div", a, b)
    if a.dtype.kind != "f":  # integer / integer: true division, in the default float32
        a, b = (Tensor(operand.data, dtype=np.float32, device=operand.device) for operand in (a, b))
    out = a.data / b.data

    def backward(grad):  # d(a / b): da = grad / b, db = -grad * a / b^2 = -grad * out / b
        grad_a = grad / b.data
        return sum_to_shape(grad_a, a.shape), sum_to_shape(-grad_a * out, b.shape)

    return make_result(out, "div", (a, b), backward)


def neg(a):
    def backward(grad):  # d(-a): da = -grad
        return (-grad,)

    return make_result(-a.data, "neg", (a,), backward)


def pow(base, exponent):
    """base ** exponent for a number `exponent`; a negative base works with an integer exponent."""
    if isinstance(exponent, Tensor):
        raise TypeError("pow takes a number as exponent; for a tensor exponent write exp(exponent * log(base))")
    if base.dtype.kind != "f":
        raise TypeError(f"pow of a {base.dtype} tensor: convert it first with .to(np.float32)")
    exponent = base.dtype.type(exponent)  # a float64 exponent would turn a float32 base into float64
    # x * x for the common square: NumPy's float32 power is many times slower than a multiply
    out = base.data * base.data if exponent == 2 else base.xp.power(base.data, exponent)

    def backward(grad):  # d(x^p): dx = grad * p * x^(p-1)  (and 0 for p = 0, where 0 * 0^-1 would be NaN)
        if exponent == 0:
            return (base.xp.zeros_like(grad),)
        return (grad * exponent * base.xp.power(base.data, exponent - 1),)

    return make_result(out, "pow", (base,), backward)


def matmul_arrays(a, b):
    """a @ b on arrays. A stack of matrices times one matrix, (B, T, H) @ (H, O), is computed as one
    (B*T, H) @ (H, O) product: NumPy would otherwise multiply the B matrices one by one, several
    times slower."""
    if a.ndim > 2 and b.ndim == 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))  # (B, T, O)
    return a @ b


def matmul(a, b):
    """a @ b with NumPy's rules: 1-D vectors, batched and broadcast leading axes.

    (B, T, H) @ (H, O) -> (B, T, O);  (B, T, H) @ (B, H, S) -> (B, T, S);  (H,) @ (H, O) -> (O,)."""
    a, b = operands("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs tensors with at least one axis; use * to scale by a number")

    def backward(grad):  # d(A @ B): dA = grad @ B^T, dB = A^T @ grad
        # View vectors as matrices, (H,) -> (1, H) on the left and (H, 1) on the right, so one rule serves.
        a_matrix = a.data[None, :] if a.ndim == 1 else a.data
        b_matrix = b.data[:, None] if b.ndim == 1 else b.data
        if b.ndim == 1:
            grad = grad[..., None]     # restore the (H, 1) column's axis first: (...,) -> (..., 1)
        if a.ndim == 1:
            grad = grad[..., None, :]  # then the (1, H) row's: (..., O) -> (..., 1, O)
        grad_a = matmul_arrays(grad, b_matrix.swapaxes(-1, -2))
        if b_matrix.ndim == 2 and grad.ndim > 2:
            # (B, T, H) @ (H, O): fold the batch into the rows, one (H, B*T) @ (B*T, O) product.
            grad_b = a_matrix.reshape(-1, a_matrix.shape[-1]).T @ grad.reshape(-1, grad.shape[-1])
        else:
            grad_b = a_matrix.swapaxes(-1, -2) @ grad
        return sum_to_shape(grad_a, a_matrix.shape).reshape(a.shape), sum_to_shape(grad_b, b_matrix.shape).reshape(b.shape)

    return make_result(matmul_arrays(a.data, b.data), "matmul", (a, b), backward)
