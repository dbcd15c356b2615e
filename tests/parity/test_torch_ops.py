"""Cross-check: every op's value and gradient equal PyTorch's to 1e-6 in float64, on the same
hypothesis-drawn inputs as the finite-difference tests, with the same random cotangent."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from op_cases import CASES, CASES_BY_NAME
from devices import host
from tinybert.autograd import Tensor, backend, dropout

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")
F = torch.nn.functional


def dims(axis, x):
    """A NumPy axis argument as torch's dim: None means every axis."""
    return tuple(range(x.ndim)) if axis is None else axis


def torch_getitem(x, index):
    """x[index] with NumPy's indexing rules (torch has no negative-step slices): pick the same
    flat positions that NumPy picks from an array of positions."""
    positions = np.arange(x.numel()).reshape(tuple(x.shape))[index].copy()  # torch takes no negative strides
    return x.reshape(-1)[torch.as_tensor(positions)]


def torch_cross_entropy(logits, targets, reduction):
    flat_targets = torch.as_tensor(targets).reshape(-1)
    if reduction == "mean" and bool((flat_targets == -100).all()):
        return (logits * 0).sum()  # torch gives 0/0 = NaN here; tinybert gives 0 by design
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), flat_targets, ignore_index=-100, reduction=reduction)
    return losses.reshape(targets.shape) if reduction == "none" else losses


def torch_attention(q, k, v, mask, p, seed):
    """Attention written out in torch ops, with the dropout mask tinybert's generator draws from `seed`
    (test_torch_attention.py compares with F.scaled_dot_product_attention itself)."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~torch.as_tensor(mask), -torch.inf)
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # torch: NaN for a query with every key masked
    generator = backend.module_for_device(backend.default_device()).random.default_rng(seed)  # the one tinybert used
    keep = torch.as_tensor(host(generator.random(tuple(weights.shape), dtype=np.float64)) >= p)
    return (weights * keep / (1 - p)) @ v


TORCH_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda x: -x,
    "pow": lambda x, exponent: x ** exponent,
    "matmul": torch.matmul,
    "linear": lambda x, weight, bias: F.linear(x, weight.T, bias),  # torch keeps W as (O, I)
    "linear[no bias]": lambda x, weight: F.linear(x, weight.T),
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "gelu[erf]": F.gelu,
    "gelu[tanh]": lambda x: F.gelu(x, approximate="tanh"),
    "sum": lambda x, axis, keepdims: torch.sum(x, dim=dims(axis, x), keepdim=keepdims),
    "mean": lambda x, axis, keepdims: torch.mean(x, dim=dims(axis, x), keepdim=keepdims),
    "max": lambda x, axis, keepdims: torch.amax(x, dim=dims(axis, x), keepdim=keepdims),
    "var": lambda x, axis, keepdims: torch.var(x, dim=dims(axis, x), keepdim=keepdims, correction=0),
    "var[ddof=1]": lambda x, axis, keepdims: torch.var(x, dim=dims(axis, x), keepdim=keepdims, correction=1),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, axis1, axis2: x.transpose(axis1, axis2),
    "permute": lambda x, axes: x.permute(axes),
    "getitem[slices]": torch_getitem,
    "getitem[integer array]": torch_getitem,
    "getitem[boolean mask]": torch_getitem,
    "concatenate": lambda *tensors, axis: torch.cat(tensors, dim=axis),
    "stack": lambda *tensors, axis: torch.stack(tensors, dim=axis),
    "embedding": lambda weight, ids: F.embedding(torch.as_tensor(ids), weight),
    "where": lambda a, b, condition: torch.where(torch.as_tensor(condition), a, b),
    "masked_fill": lambda x, mask, value: x.masked_fill(torch.as_tensor(mask), value),
    "softmax": lambda x, axis: torch.softmax(x, dim=axis),
    # torch gives NaN for a row left out entirely; tinybert gives 0 there by design
    "softmax[masked]": lambda x, axis, mask: torch.softmax(x.masked_fill(~torch.as_tensor(mask), -torch.inf),
                                                           dim=axis).nan_to_num(0.0),
    "log_softmax": lambda x, axis: torch.log_softmax(x, dim=axis),
    "attention": torch_attention,
    "layer_norm": lambda x, weight, bias: F.layer_norm(x, x.shape[-1:], weight, bias, eps=1e-5),
    "layer_norm[no affine]": lambda x: F.layer_norm(x, x.shape[-1:], eps=1e-5),
    **{f"cross_entropy[{reduction}]": (lambda reduction: lambda logits, targets, reduction=reduction:
                                       torch_cross_entropy(logits, targets, reduction))(reduction)
       for reduction in ("mean", "sum", "none")},
    **{f"mse_loss[{reduction}]": F.mse_loss for reduction in ("mean", "sum", "none")},
    **{f"binary_cross_entropy[{reduction}]": F.binary_cross_entropy for reduction in ("mean", "sum", "none")},
    **{f"binary_cross_entropy_with_logits[{reduction}]": F.binary_cross_entropy_with_logits
       for reduction in ("mean", "sum", "none")},
}

# inputs PyTorch cannot differentiate: torch's binary_cross_entropy has no gradient for its target
NO_TORCH_GRADIENT = {name: {1} for name in TORCH_OPS if name.startswith("binary_cross_entropy[")}

# dropout draws its own random mask in each library, so it has a test of its own below
CHECKED_ELSEWHERE = {"dropout"}


def test_every_case_has_a_pytorch_counterpart():
    assert set(TORCH_OPS) | CHECKED_ELSEWHERE == set(CASES_BY_NAME)


def assert_close(ours, theirs, what):
    np.testing.assert_allclose(host(ours), theirs, rtol=1e-6, atol=1e-6, err_msg=what)


@pytest.mark.parametrize("case", [case for case in CASES if case.name in TORCH_OPS], ids=lambda case: case.name)
@given(data=st.data())
def test_value_and_gradients_equal_pytorch(case, data):
    arrays, arguments = data.draw(case.draw, label="inputs")
    ours = [Tensor(array, requires_grad=True, dtype=np.float64) for array in arrays]
    theirs = [torch.tensor(array, dtype=torch.float64, requires_grad=number not in NO_TORCH_GRADIENT.get(case.name, ()))
              for number, array in enumerate(arrays)]
    out = case.call(*ours, **arguments)
    expected = TORCH_OPS[case.name](*theirs, **arguments)
    assert out.shape == tuple(expected.shape)
    assert_close(out.numpy(), expected.detach().numpy(), "value")

    cotangent = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(cotangent)
    expected.backward(torch.tensor(cotangent))
    for number, (mine, reference) in enumerate(zip(ours, theirs)):
        if reference.requires_grad:
            reference_grad = reference.grad.numpy() if reference.grad is not None else np.zeros(reference.shape)
            assert_close(mine.grad, reference_grad, f"gradient of input {number}")


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_scales_and_routes_gradients_as_pytorch(p):
    values = np.random.default_rng(1).uniform(0.5, 2.0, size=(64, 64))  # no zeros, so zero means dropped
    ours = Tensor(values, requires_grad=True, dtype=np.float64)
    theirs = torch.tensor(values, requires_grad=True)
    out, expected = dropout(ours, p), F.dropout(theirs, p, training=True)
    out.sum().backward()
    expected.sum().backward()
    for result, gradient in ((out.numpy(), ours.grad), (expected.detach().numpy(), theirs.grad.numpy())):
        kept = result != 0
        assert_close(result[kept], values[kept] / (1 - p), "kept values are scaled by 1 / (1 - p)")
        assert_close(gradient, kept / (1 - p), "gradient is the mask scaled by 1 / (1 - p)")
    assert_close(dropout(ours, p, training=False).numpy(), F.dropout(theirs, p, training=False).detach().numpy(), "eval")


def test_max_splits_the_gradient_among_ties_as_torch_amax():
    values = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0]])
    ours, theirs = Tensor(values, requires_grad=True, dtype=np.float64), torch.tensor(values, requires_grad=True)
    cotangent = np.array([0.3, -1.7])
    ours.max(axis=1).backward(cotangent)
    torch.amax(theirs, dim=1).backward(torch.tensor(cotangent))
    assert_close(ours.grad, theirs.grad.numpy(), "gradient with ties")
