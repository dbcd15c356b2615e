"""The `tinybert` command line. It parses, prints and exits; the work happens elsewhere.

base.py holds the command group and what every command shares; each other module adds its commands to
the group: pretrain.py (pretrain, fill-mask, generate, plot), finetune.py (finetune, predict; their
SQuAD side in squad.py), huggingface.py (import-hf, export-hf, embed) and explore.py (info, gradcheck,
explain, graph, attention).
"""

from . import explore, finetune, huggingface, pretrain  # noqa: F401  (importing them adds their commands)
from .base import main

__all__ = ["main"]
