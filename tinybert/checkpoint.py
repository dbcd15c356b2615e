"""A pretraining checkpoint: one directory of plain files, none of which needs pickle to read.

    config.json          the model's BertConfig (or GPTConfig) and the run's settings (lowercase and
                         objective among them: "mlm" for BERT, "clm" for a left-to-right GPT)
    vocab.txt            the WordPiece vocabulary, one token per line (Hugging Face's format)
    model.npz            the parameters by dotted name (numpy.savez; read with allow_pickle=False)
    optimizer.npz        the optimizer's moving averages, to resume a run
    trainer_state.json   the step, and the random generators' states, to resume a run exactly
    metrics.jsonl        the training curve, one JSON object per line (written as the run goes)

Each file is written to a temporary name and renamed into place, so a crash never leaves a
half-written file; trainer_state.json, which names the step, is written last. (A crash between two
files can still leave newer weights beside an older step: resume then repeats a few steps.)
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .models.bert import BertConfig, BertForPreTraining
from .models.gpt import GPT, GPTConfig
from .text import BertTokenizer
from .text.vocab import save_vocab

CHECKPOINT_FILES = ("config.json", "vocab.txt", "model.npz", "trainer_state.json")


class CheckpointError(ValueError):
    """A directory that is not a complete, readable checkpoint."""


def write_atomically(path, write):
    """Call write(temporary_path), then rename the finished file to `path`."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes files only their owner can read
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json(path, value):
    write_atomically(path, lambda temporary: Path(temporary).write_text(json.dumps(value, indent=2) + "\n"))


def write_arrays(path, arrays):
    def write(temporary):
        with open(temporary, "wb") as file:  # a file object: savez would add ".npz" to a bare name
            np.savez(file, **arrays)

    write_atomically(path, write)


def save_checkpoint(directory, model, tokenizer, settings, optimizer=None, trainer_state=None):
    """Write the checkpoint files into `directory` (made if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "config.json", {"model": model.config.to_dict(), "settings": settings})
    write_atomically(directory / "vocab.txt", lambda temporary: save_vocab(tokenizer.tokens, temporary))
    write_arrays(directory / "model.npz", model.state_dict())
    if optimizer is not None:
        write_arrays(directory / "optimizer.npz", optimizer.state_dict())
    write_json(directory / "trainer_state.json", trainer_state or {})


def check_vocabulary_fits(tokenizer, config, vocab_path):
    """A vocabulary with more tokens than the model has embedding rows would give ids beyond the table."""
    if tokenizer.vocab_size > config.vocab_size:
        raise ValueError(f"{vocab_path} has {tokenizer.vocab_size} tokens, more than the model's vocab_size of "
                         f"{config.vocab_size}: the vocabulary and the weights come from different models")


def read_arrays(path):
    """{name: array} from an npz file; a damaged or truncated file is a CheckpointError naming it."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        raise CheckpointError(f"{path} is damaged and cannot be read ({error}): use another checkpoint, or "
                              "train again") from None


def saved_task(directory):
    """What the checkpoint in `directory` was fine-tuned for ("classification", "regression", "squad"),
    or None: a pretrained model, or no readable checkpoint (load_checkpoint then says what is wrong)."""
    try:
        return json.loads((Path(directory) / "config.json").read_text())["settings"].get("task")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def is_gpt(settings):
    return settings.get("objective") == "clm"


def pretraining_model(config, settings):
    """The pretrained BERT a checkpoint holds; a classifier or a GPT is a CheckpointError saying where it belongs."""
    if "task" in settings:  # classification, regression, squad: fine-tuned
        raise CheckpointError(f"the checkpoint holds a fine-tuned model ({settings['task']}), not a pretrained "
                              "model: give it to tinybert predict, or give this command the pretrained model it "
                              "came from")
    if is_gpt(settings):
        raise CheckpointError("the checkpoint holds a left-to-right GPT (pretrain --objective clm), which has no "
                              "masked LM: give it to tinybert generate, or give this command a BERT")
    return BertForPreTraining(config)


def language_model(config, settings):
    """What a pretraining checkpoint holds, BERT or GPT: for resuming a run of either objective."""
    return GPT(config) if is_gpt(settings) else pretraining_model(config, settings)


def gpt_model(config, settings):
    """The GPT a checkpoint holds; anything else is a CheckpointError."""
    if not is_gpt(settings):
        raise CheckpointError("the checkpoint holds a BERT, which fills in blanks but does not continue a text: "
                              "give tinybert generate a model from tinybert pretrain --objective clm")
    return GPT(config)


def load_checkpoint(directory, build_model=pretraining_model):
    """(model, tokenizer, config.json's contents, trainer_state) from a checkpoint directory. The model is
    build_model(config, settings): BertForPreTraining unless the caller builds another (a classifier)."""
    directory = Path(directory)
    missing = [name for name in CHECKPOINT_FILES if not (directory / name).is_file()]
    if missing:
        raise CheckpointError(f"{directory} is not a tinybert checkpoint: it has no {missing[0]} "
                              "(a checkpoint is the --out directory of tinybert pretrain, import-hf or finetune)")
    try:  # a file that is there but wrong: damaged JSON, a vocabulary without BERT's special tokens, ...
        saved = json.loads((directory / "config.json").read_text())
        lowercase = saved["settings"].get("lowercase", True)
        tokenizer = BertTokenizer.from_file(directory / "vocab.txt", lowercase=lowercase)
        config = (GPTConfig if is_gpt(saved["settings"]) else BertConfig).from_dict(saved["model"])
        check_vocabulary_fits(tokenizer, config, directory / "vocab.txt")
        trainer_state = json.loads((directory / "trainer_state.json").read_text())
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{directory} is a damaged checkpoint: {error}") from None
    model = build_model(config, saved["settings"])
    model.load_state_dict(read_arrays(directory / "model.npz"))
    return model, tokenizer, saved, trainer_state


def load_optimizer_state(directory, optimizer):
    """Restore the optimizer's moving averages saved beside the weights, if there are any."""
    path = Path(directory) / "optimizer.npz"
    if path.is_file():
        optimizer.load_state_dict(read_arrays(path))
