"""The standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2, on arrays: BERT's GELU is x Phi(x).

NumPy has no erf, so:
  - float64 arrays (gradient checks, cross-checks) use the standard library's math.erf,
    accurate to about one unit in the last place; slow, but those arrays are small.
  - float32 arrays use formula 7.1.26 of Abramowitz and Stegun's Handbook of Mathematical
    Functions, 1 - erf(z) = (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-z^2) with
    t = 1 / (1 + p z) for z >= 0, whose error, below 1.5e-7 (2.5e-7 with float32's rounding), is
    about float32's own rounding step near 1.
    It gives the tail Phi(-|x|) = (1 - erf(|x| / sqrt 2)) / 2 directly, with no 1 - (a number
    near 1) that float32 would round away; Phi(x) is then the tail or 1 - the tail.
  - CuPy arrays use CuPy's erf kernel.
"""

import math

import numpy as np

from . import backend

INV_SQRT_2 = 1 / math.sqrt(2)
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_exact_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(x):
    """Phi(x) for every element of `x`, in `x`'s dtype."""
    xp = backend.array_module(x)
    if xp is not np:
        import cupyx.scipy.special

        return 0.5 * (1 + cupyx.scipy.special.erf(x * INV_SQRT_2))
    if x.dtype == np.float64:
        return 0.5 * (1 + np.asarray(_exact_erf(x * INV_SQRT_2), dtype=np.float64))
    z = np.abs(x) * INV_SQRT_2
    t = 1 / (1 + _P * z)
    polynomial = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))  # Horner's rule
    tail = 0.5 * polynomial * np.exp(-z * z)  # Phi(-|x|) = (1 - erf(z)) / 2
    return np.where(x >= 0, 1 - tail, tail)
