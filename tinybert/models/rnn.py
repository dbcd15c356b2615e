"""The gated recurrent unit (Cho et al. 2014), the RNN that attention was first built on.

One step reads an input x_t and the previous hidden state h and gives the next one:
    r  = sigmoid(x_t W_ir + b_ir + h W_hr + b_hr)        reset gate: how much of h the candidate sees
    z  = sigmoid(x_t W_iz + b_iz + h W_hz + b_hz)        update gate: how much of h to keep
    n  = tanh(x_t W_in + b_in + r * (h W_hn + b_hn))     the candidate state
    h' = (1 - z) * n + z * h
(PyTorch's torch.nn.GRU computes exactly this, so the two can be compared on the same weights; Cho et
al. put r inside the product, U (r * h), which differs only in where the reset acts.)

The input's three products, for every time step at once, are one matrix product before the loop; the
loop over time is the algorithm itself (step t needs step t - 1), as in every recurrent or
token-by-token computation (seq2seq.py's decoder, generation.py). The backward needs no code of its own: the engine differentiates the unrolled
steps, which is backpropagation through time.
"""

import numpy as np

from .. import autograd as ag
from ..nn import Linear, Module


class GRUCell(Module):
    """One GRU step. The weights of the three gates sit side by side, in PyTorch's order (r, z, n):
    input_weights (I, 3H) and hidden_weights (H, 3H), each Linear with its bias."""

    def __init__(self, input_size, hidden_size, init="xavier"):
        self.hidden_size = hidden_size
        self.input_weights = Linear(input_size, 3 * hidden_size, init=init)  # W_ir | W_iz | W_in, b_i*
        self.hidden_weights = Linear(hidden_size, 3 * hidden_size, init=init)  # W_hr | W_hz | W_hn, b_h*

    def step(self, projected_input, h):
        """The next state from x_t's three input products (B, 3H), already made, and h (B, H)."""
        H = self.hidden_size
        projected_hidden = self.hidden_weights(h)  # (B, 3H)
        r = ag.sigmoid(projected_input[:, :H] + projected_hidden[:, :H])  # (B, H)
        z = ag.sigmoid(projected_input[:, H:2 * H] + projected_hidden[:, H:2 * H])  # (B, H)
        n = ag.tanh(projected_input[:, 2 * H:] + r * projected_hidden[:, 2 * H:])  # (B, H)
        return (1 - z) * n + z * h  # (B, H)

    def forward(self, x, h):  # (B, I), (B, H) -> (B, H)
        return self.step(self.input_weights(x), h)


class GRU(Module):
    """A GRU over whole sequences, one direction or both (Schuster and Paliwal 1997; Bahdanau et al.'s
    encoder): the backward GRU reads the sequence from its end, and each position's output is the two
    directions' states side by side, so it summarises both what came before and what comes after."""

    def __init__(self, input_size, hidden_size, bidirectional=False, init="xavier"):
        self.hidden_size = hidden_size
        self.forward_cell = GRUCell(input_size, hidden_size, init)
        self.backward_cell = GRUCell(input_size, hidden_size, init) if bidirectional else None

    def run(self, cell, x, is_real, reverse):
        """Every state of one direction, (B, T, H), and the last real one, (B, H).

        is_real (B, T) marks real steps; at padding the state passes through unchanged, so the forward
        direction ends on each sequence's last real token and the backward one starts from its own."""
        B, T, _ = x.shape
        projected = cell.input_weights(x)  # (B, T, 3H): every step's input products in one product
        h = ag.Tensor(x.xp.zeros((B, self.hidden_size)), dtype=x.dtype)  # (B, H), h_0 = 0
        states = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h = ag.where(is_real[:, t:t + 1], cell.step(projected[:, t], h), h)  # (B, H)
            states[t] = h
        return ag.stack(states, axis=1), h  # (B, T, H), (B, H)

    def forward(self, x, is_real=None):
        """x (B, T, I); is_real (B, T) boolean, True at real steps (None: all real).
        Returns the outputs (B, T, H), or (B, T, 2H) both ways, and the final state (B, H) or (B, 2H):
        the forward direction's last real state, beside the backward direction's state at step 0."""
        if is_real is None:
            is_real = np.ones(x.shape[:2], dtype=bool)
        is_real = x.xp.asarray(is_real)
        outputs, final = self.run(self.forward_cell, x, is_real, reverse=False)
        if self.backward_cell is None:
            return outputs, final
        backward_outputs, backward_final = self.run(self.backward_cell, x, is_real, reverse=True)
        return ag.concatenate([outputs, backward_outputs], axis=-1), ag.concatenate([final, backward_final], axis=-1)

    def extra_repr(self):
        return f"hidden_size={self.hidden_size}, bidirectional={self.backward_cell is not None}"
