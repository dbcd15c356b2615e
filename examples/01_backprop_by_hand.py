"""Backprop by hand, then by the engine: a two-layer network, every gradient written out in NumPy.

    python examples/01_backprop_by_hand.py

The network: h = relu(x W1 + b1), y = h W2 + b2, loss = mean((y - t)^2). Walking the forward lines
backwards, each with the chain rule, gives the gradients; tinybert's backward() must give the same.
"""

import click
import numpy as np

from tinybert.autograd import Tensor, mse_loss, relu


@click.command()
@click.option("--seed", default=0, show_default=True)
@click.option("--fast", is_flag=True, help="Accepted for uniformity with the other examples: this one is fast.")
def main(seed, fast):
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))          # 5 examples, 3 features, 2 targets
    w1, b1 = rng.standard_normal((3, 4)), rng.standard_normal(4)             # 3 -> 4 hidden units
    w2, b2 = rng.standard_normal((4, 2)), rng.standard_normal(2)             # 4 -> 2 outputs

    # forward, by hand
    pre = x @ w1 + b1                  # (5, 4)
    h = np.maximum(pre, 0)             # (5, 4)
    y = h @ w2 + b2                    # (5, 2)
    loss = np.mean((y - t) ** 2)

    # backward, by hand: each line undoes one forward line
    dy = 2 * (y - t) / y.size          # d mean((y - t)^2) / dy
    dw2, db2 = h.T @ dy, dy.sum(axis=0)  # y = h W2 + b2
    dh = dy @ w2.T
    dpre = dh * (pre > 0)              # relu passes the gradient where its input was positive
    dw1, db1 = x.T @ dpre, dpre.sum(axis=0)

    # the same with the engine, on the CPU beside the NumPy above (whatever TINYBERT_DEVICE says)
    W1, B1, W2, B2 = (Tensor(array, requires_grad=True, dtype=np.float64, device="cpu") for array in (w1, b1, w2, b2))
    engine_loss = mse_loss(relu(Tensor(x, dtype=np.float64, device="cpu") @ W1 + B1) @ W2 + B2, t)
    engine_loss.backward()

    click.echo(f"loss: by hand {loss:.6f}, by the engine {engine_loss.item():.6f}")
    for name, by_hand, tensor in (("dW1", dw1, W1), ("db1", db1, B1), ("dW2", dw2, W2), ("db2", db2, B2)):
        click.echo(f"{name} {str(by_hand.shape):7}  max |by hand - by the engine| = "
                   f"{np.max(np.abs(by_hand - tensor.grad)):.1e}")


if __name__ == "__main__":
    main()
