"""Layers on the engine: the Module base, the basic layers, and how weights start.

Read module, then init, then layers."""

from .init import initial_weight
from .layers import ACTIVATIONS, GELU, Dropout, Embedding, FeedForward, LayerNorm, Linear, ReLU
from .module import Module, ModuleList, Parameter, Sequential, StateDictError

__all__ = ["Module", "ModuleList", "Sequential", "Parameter", "StateDictError", "initial_weight",
           "Linear", "Embedding", "LayerNorm", "Dropout", "GELU", "ReLU", "FeedForward", "ACTIVATIONS"]
