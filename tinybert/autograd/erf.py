"""The standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2, on arrays: BERT's GELU is x Phi(x).

NumPy has no erf, so:
  - float64 arrays (gradient checks, cross-checks) use the standard library's math.erf,
    accurate to about one unit in the last place; slow, but those arrays are small.
  - float32 arrays use formula 7.1.26 of Abramowitz and Stegun's Handbook of Mathematical
    Functions, 1 - erf(z) = (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-z^2) with
    t = 1 / (1 + p z) for z >= 0, whose absolute error, below 1.5e-7 (2.5e-7 with float32's
    rounding), is about float32's own rounding step near 1 (far out in the tail, where Phi itself
    is below 1e-6, that is a large relative error; GELU, x Phi(x), does not notice).
    It gives the tail Phi(-|x|) = (1 - erf(|x| / sqrt 2)) / 2 directly, with no 1 - (a number
    near 1) that float32 would round away; Phi(x) is then the tail or 1 - the tail.
  - CuPy arrays use CuPy's erf kernel.
"""

import math

import numpy as np

from . import backend

INV_SQRT_2 = 1 / math.sqrt(2)
# 7.1.26 in terms of a = |x| rather than z = a / sqrt 2, halved, so that the polynomial times
# exp(-a^2 / 2) is the tail Phi(-a) itself: t = 1 / (1 + P a), tail = t (A1 + t (A2 + ...)) exp(-a^2 / 2)
_P = np.float32(0.3275911 * INV_SQRT_2)
_A = tuple(np.float32(a / 2) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_exact_erf = np.frompyfunc(math.erf, 1, 1)


def float32_normal_tail(magnitude, exp_half_square):
    """Phi(-a) for a float32 array a = |x| >= 0, given exp(-a^2 / 2): a new array, in float32."""
    t = magnitude * _P
    t += 1
    np.reciprocal(t, out=t)  # t = 1 / (1 + P a)
    polynomial = t * _A[4]
    for coefficient in _A[3::-1]:  # Horner's rule, in place: ((A5 t + A4) t + A3) t ...
        polynomial += coefficient
        polynomial *= t
    polynomial *= exp_half_square
    return polynomial


def normal_cdf(x):
    """Phi(x) for every element of the array `x`: float64 for float64, float32 for any other dtype."""
    xp = backend.array_module(x)
    if xp is not np:
        import cupyx.scipy.special

        return 0.5 * (1 + cupyx.scipy.special.erf(x * INV_SQRT_2))
    if x.dtype == np.float64:
        return 0.5 * (1 + np.asarray(_exact_erf(x * INV_SQRT_2), dtype=np.float64))
    flat = np.asarray(x, dtype=np.float32).reshape(-1)  # 1-D: NumPy would turn 0-d results into scalars
    tail = float32_normal_tail(np.abs(flat), np.exp(np.float32(-0.5) * flat * flat))  # Phi(-|x|)
    return np.where(flat >= 0, 1 - tail, tail).reshape(np.shape(x))
