"""Training the parameters: optimizers, learning-rate schedules and gradient clipping.

Read optimizers (SGD, Adam, AdamW and BERT's no-decay parameter groups), then schedules, then clipping."""

from .clipping import clip_grad_norm
from .optimizers import SGD, Adam, AdamW, Optimizer, parameter_groups
from .schedules import LRScheduler, inverse_square_root, linear_warmup_decay

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "parameter_groups",
           "LRScheduler", "linear_warmup_decay", "inverse_square_root", "clip_grad_norm"]
