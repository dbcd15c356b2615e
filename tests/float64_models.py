"""Modules made ready for gradient checks and cross-checks."""

import numpy as np

from devices import on_device


def float64_model(module, seed):
    """`module` in float64 and eval mode, with every parameter nudged off its start (LayerNorm's ones
    and zeros, zero biases), so a check exercises every term of the backward."""
    rng = np.random.default_rng(seed)
    module.to(np.float64).eval()
    for parameter in module.parameters():
        parameter.data += 0.1 * on_device(rng.standard_normal(parameter.shape))
    return module
