"""Cross-check: tinybert's GRU against torch.nn.GRU on the same weights, one way and both, values and
the gradients of the inputs and of every weight."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import host
from test_attention import random_parameters, seeds
from tinybert import autograd as ag
from tinybert.models.rnn import GRU

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need the parity extra: pip install -e \".[parity]\"")


def torch_twin(gru, input_size, hidden_size, bidirectional):
    """torch.nn.GRU holding `gru`'s weights: torch keeps (3H, I) matrices, tinybert (I, 3H), gates in one order."""
    twin = torch.nn.GRU(input_size, hidden_size, batch_first=True, bidirectional=bidirectional, dtype=torch.float64)
    cells = [("", gru.forward_cell)] + ([("_reverse", gru.backward_cell)] if bidirectional else [])
    with torch.no_grad():
        for suffix, cell in cells:
            for side, linear in (("ih", cell.input_weights), ("hh", cell.hidden_weights)):
                getattr(twin, f"weight_{side}_l0{suffix}").copy_(torch.tensor(host(linear.weight.data).T))
                getattr(twin, f"bias_{side}_l0{suffix}").copy_(torch.tensor(host(linear.bias.data)))
    return twin, cells


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one way", "both ways"])
@given(batch=st.integers(1, 3), steps=st.integers(1, 5), input_size=st.integers(1, 4), hidden_size=st.integers(1, 4),
       seed=seeds)
def test_our_gru_equals_torch_nn_gru(bidirectional, batch, steps, input_size, hidden_size, seed):
    gru = random_parameters(GRU(input_size, hidden_size, bidirectional), seed)
    twin, cells = torch_twin(gru, input_size, hidden_size, bidirectional)
    x = np.random.default_rng(seed).standard_normal((batch, steps, input_size))
    ours = ag.Tensor(x, dtype=np.float64, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    outputs, final = gru(ours)
    expected_outputs, expected_final = twin(theirs)  # final: (directions, B, H)
    np.testing.assert_allclose(host(outputs.data), expected_outputs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(final.data), torch.cat(list(expected_final), dim=-1).detach().numpy(),
                               rtol=1e-10, atol=1e-12)

    cotangent = np.random.default_rng(seed + 1).standard_normal(outputs.shape)
    outputs.backward(cotangent)
    expected_outputs.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    for suffix, cell in cells:
        for side, linear in (("ih", cell.input_weights), ("hh", cell.hidden_weights)):
            np.testing.assert_allclose(host(linear.weight.grad), getattr(twin, f"weight_{side}_l0{suffix}").grad.numpy().T,
                                       rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(host(linear.bias.grad), getattr(twin, f"bias_{side}_l0{suffix}").grad.numpy(),
                                       rtol=1e-9, atol=1e-12)
