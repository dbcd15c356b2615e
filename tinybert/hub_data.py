"""Real data sets through Hugging Face's `datasets` (the optional `data` extra): GLUE, SQuAD and WikiText.

`datasets` downloads a data set once and keeps it in its cache (~/.cache/huggingface/datasets, or
HF_HOME), so a second run needs no network. This module is the only one that imports it, and only when
a named data set is asked for: without the extra, or offline with nothing cached, the error is one line
that says how to get the data, and the TSV and text-file routes need neither.
"""

import contextlib
import logging

from .glue import labelled_texts
from .squad import examples_from_rows
from .text.wikitext import wikitext_documents

GLUE = "nyu-mll/glue"
SQUAD = {"squad": ("rajpurkar/squad", "v1.1"), "squad_v2": ("rajpurkar/squad_v2", "v2.0")}
WIKITEXT = {"wikitext-2": "wikitext-2-raw-v1", "wikitext-103": "wikitext-103-raw-v1"}  # raw: no <unk> in the text


@contextlib.contextmanager
def hub_warnings_silenced():
    """Without a network, huggingface_hub warns at each of its retries (a dozen lines) before giving up;
    the one line that follows says it all."""
    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def load(path, config, purpose):
    """datasets.load_dataset(path, config), its failures as one ValueError each."""
    try:
        import datasets
    except ImportError:
        raise ValueError(f"{purpose} needs Hugging Face datasets, which is not installed: "
                         "pip install -e \".[data]\" (or pip install datasets)") from None
    try:
        with hub_warnings_silenced():
            return datasets.load_dataset(path, config)
    except (ConnectionError, OSError) as error:  # no network, and nothing in the cache
        name = f"{path} ({config})" if config else path
        raise ValueError(f"{purpose}: {name} could not be downloaded, and is not in the datasets cache ({error}); "
                         "run once with a network, or use local files (HF_HUB_OFFLINE=1 skips the network's "
                         "retries)") from None


def load_glue(task):
    """(training LabelledTexts, {dev set name: LabelledTexts}) of a GLUE Task."""
    splits = load(GLUE, task.name, f"--task {task.name}")
    names = splits["train"].features["label"].names if task.named_labels else None
    return (labelled_texts(task, splits["train"], names),
            {name: labelled_texts(task, splits[split], names) for split, name in task.dev_splits})


def load_squad(task):
    """(training SquadExamples, dev SquadExamples, how many training questions were left out) of SQuAD v1.1
    ("squad") or v2.0 ("squad_v2"). A training question none of whose answers is at its answer_start is
    left out, as run_squad.py leaves out what it cannot find, rather than the whole load stopped; the dev
    questions keep every answer, as texts to score against, as the official scripts do."""
    path, version = SQUAD[task]
    splits = load(path, None, f"--task {task}")
    train = examples_from_rows(splits["train"], version, use="train", skip_misplaced=True)
    return train, examples_from_rows(splits["validation"], version, use="dev"), len(splits["train"]) - len(train)


def load_wikitext(name):
    """WikiText's training articles as documents of sentences, the shape tinybert pretrain reads."""
    splits = load("Salesforce/wikitext", WIKITEXT[name], f"--corpus {name}")
    return wikitext_documents(splits["train"]["text"])
