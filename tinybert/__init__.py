"""tinybert: attention, the Transformer and BERT, built explicitly on a small NumPy autograd engine."""

import os

# OpenBLAS, the library behind NumPy's matrix products, keeps its worker threads spinning on the
# cores for a long while (2^28 processor cycles) after every product. The elementwise work between
# products runs on those same cores (tinybert/autograd/parallel.py), so a spinning BLAS thread
# halves its speed, and that of any other library in the process. 2^14 cycles keep the threads
# awake through the back-to-back products of a batched matmul (attention's 64 per call at the tiny
# size; 2^4 made those 40% slower) and let them sleep during the elementwise work (OpenBLAS takes
# 4 to 30). It reads the setting once, when NumPy first loads it: so it is set here, the first thing
# importing tinybert does, and it does nothing in a program that imported NumPy before tinybert
# (import tinybert first, or set OPENBLAS_THREAD_TIMEOUT=14 in the environment). A value already in
# the environment is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "14")

__version__ = "0.1.0"
