"""tinybert: attention, the Transformer and BERT, built explicitly on a small NumPy autograd engine."""

import os

# OpenBLAS, the library behind NumPy's matrix products, keeps its worker threads spinning on the
# cores for a long while (2^28 cycles) after every product. The elementwise work between products
# runs on those same cores (tinybert/autograd/parallel.py), so a spinning BLAS thread halves its
# speed, and that of any other library in the process. A short spin (2^4) costs a product only a
# thread's wake-up. OpenBLAS reads the setting once, when NumPy first loads it: so it is set here,
# as the first thing importing tinybert does; a value already in the environment is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
