"""Initial values for weights, drawn from the seeded generator (`tinybert.autograd.manual_seed`).

  "bert":   normal with mean 0 and std 0.02, biases 0 (Devlin et al. 2019; google-research/bert's
            `initializer_range`)
  "xavier": uniform in +-sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010), as The Annotated
            Transformer initialises every matrix of the Transformer

Numbers are drawn on the CPU, so a seed gives the same model on every device.
"""

import math

import numpy as np

from ..autograd import backend

SCHEMES = ("bert", "xavier")


def initial_weight(shape, scheme):
    """A float32 array of `shape` drawn by `scheme`; for xavier, shape is (fan_in, fan_out)."""
    generator = backend.generator("cpu")
    if scheme == "bert":
        values = generator.normal(0.0, 0.02, size=shape)
    elif scheme == "xavier":
        limit = math.sqrt(6.0 / (shape[0] + shape[-1]))
        values = generator.uniform(-limit, limit, size=shape)
    else:
        raise ValueError(f"unknown initialisation {scheme!r}: use one of {', '.join(SCHEMES)}")
    return values.astype(np.float32)
