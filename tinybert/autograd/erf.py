"""The error function erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt, on arrays.

NumPy has no erf, and BERT's GELU needs it: x * (1 + erf(x / sqrt(2))) / 2.
  - float64 arrays (gradient checks, cross-checks) use the standard library's math.erf,
    accurate to about one unit in the last place; slow, but those arrays are small.
  - float32 arrays use formula 7.1.26 of Abramowitz and Stegun's Handbook of Mathematical
    Functions, erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2) with
    t = 1 / (1 + p |x|), whose error, below 1.5e-7, is about float32's own rounding step.
    It is evaluated in float64: in float32, 1 - (a number near 1) would lose the small values.
  - CuPy arrays use CuPy's erf kernel.
"""

import math

import numpy as np

from . import backend

_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_exact_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """erf of every element of `x`, in `x`'s dtype."""
    xp = backend.array_module(x)
    if xp is not np:
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(x)
    if x.dtype == np.float64:
        return np.asarray(_exact_erf(x), dtype=np.float64)
    wide = x.astype(np.float64)
    t = 1 / (1 + _P * np.abs(wide))
    polynomial = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))  # Horner's rule
    return np.copysign(1 - polynomial * np.exp(-wide * wide), wide).astype(x.dtype)
