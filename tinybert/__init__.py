"""tinybert: attention, the Transformer and BERT, built explicitly on a small NumPy autograd engine."""

__version__ = "0.1.0"
