"""The nine GLUE tasks (Wang et al. 2018): what each one's examples hold, and how each is scored.

A task names the text columns of its examples in Hugging Face's copy of GLUE (one sentence, or a pair),
the metrics its leaderboard reports (the first also picks the best epoch of a fine-tuning run), the
dev splits it is scored on (MNLI has two: genres seen in training, "matched", and genres not seen,
"mismatched"), and whether it is a regression: STS-B scores how alike two sentences are from 0 to 5,
and its model has one output trained with the squared error.

Labels are kept as GLUE's own TSV files write them, numbers for most tasks and names ("entailment")
for RTE, QNLI and MNLI, so that a model fine-tuned through `datasets` labels the TSV files tinybert
reads (text/labelled_tsv.py: MRPC's, RTE's, QNLI's, WNLI's and SST-2's as they come), and the reverse.
"""

from dataclasses import dataclass

from . import metrics
from .text.labelled_tsv import LabelledTexts


@dataclass(frozen=True)
class Task:
    name: str
    columns: tuple = ()                       # sentence A's column, and sentence B's for a pair task
    metrics: tuple = ("accuracy",)            # the first picks the best epoch
    dev_splits: tuple = (("validation", "dev"),)  # (split in the data set, the name results give it)
    named_labels: bool = False                # labels as names (RTE, QNLI, MNLI), else as numbers
    regression: bool = False                  # one output, squared error (STS-B)


TASKS = {task.name: task for task in (
    Task("cola", ("sentence",), ("matthews",)),
    Task("sst2", ("sentence",)),
    Task("mrpc", ("sentence1", "sentence2"), ("f1", "accuracy")),
    Task("qqp", ("question1", "question2"), ("f1", "accuracy")),
    Task("stsb", ("sentence1", "sentence2"), ("pearson", "spearman"), regression=True),
    Task("mnli", ("premise", "hypothesis"), dev_splits=(("validation_matched", "matched"),
                                                        ("validation_mismatched", "mismatched")), named_labels=True),
    Task("qnli", ("question", "sentence"), named_labels=True),
    Task("rte", ("sentence1", "sentence2"), named_labels=True),
    Task("wnli", ("sentence1", "sentence2")),
)}
LABELLED_FILE = Task("labelled file", metrics=("accuracy", "f1"))  # --train/--dev without --task: any labels
METRIC_TITLES = {"accuracy": "accuracy", "f1": "F1", "matthews": "Matthews corr.", "pearson": "Pearson",
                 "spearman": "Spearman", "exact_match": "exact match"}  # the last: SQuAD's


def task_named(name):
    """The Task of a GLUE name, LABELLED_FILE for None; an unknown name is a ValueError listing the known."""
    if name is None:
        return LABELLED_FILE
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}: use one of {', '.join(TASKS)}")
    return TASKS[name]


def positive_label(labels):
    """The label F1 and Matthews count as positive: "1" whenever it is one of the labels (MRPC's, QQP's and
    CoLA's 0 and 1), else the first label in sorted order."""
    return "1" if "1" in labels else labels[0]


def score_predictions(task, predicted, truth, labels=None):
    """{metric: value} of one dev set: predicted and truth are label numbers (positions in `labels`), or
    numbers for a regression."""
    positive = None if task.regression else labels.index(positive_label(labels))
    return {metric: metrics.score(metric, predicted, truth, positive) for metric in task.metrics}


def describe(scores):
    """'F1 0.871  accuracy 0.812', or 'matched accuracy 0.700  mismatched accuracy 0.712' for MNLI."""
    return "  ".join(f"{title(name)} {value:.3f}" for name, value in scores.items())


def title(name):
    """'f1' -> 'F1'; 'matched accuracy' -> 'matched accuracy'."""
    *dev_set, metric = name.split(" ")
    return " ".join([*dev_set, METRIC_TITLES[metric]])


def results_line(data, scores, model, epoch, epochs):
    """One row of a Markdown table, the figures in percent as GLUE papers print them: | MRPC | F1/accuracy
    | 87.1/81.2 | tinybert-pretrained, dev, epoch 2 of 3 |"""
    names = "/".join(title(name) for name in scores)
    figures = "/".join(f"{100 * value:.1f}" for value in scores.values())
    return f"| {data} | {names} | {figures} | {model}, dev, epoch {epoch} of {epochs} |"


def labelled_texts(task, rows, label_names=None):
    """A LabelledTexts from rows as Hugging Face's `datasets` gives them (anything whose rows[column] is a
    list: a Dataset, or a dict of lists). label_names are the data set's names of the label numbers,
    for tasks whose labels are kept as names."""
    labels = list(rows["label"])
    if task.regression:
        labels = [str(float(label)) for label in labels]
    elif task.named_labels:
        labels = [label_names[label] for label in labels]
    else:
        labels = [str(label) for label in labels]
    texts = [list(rows[column]) for column in task.columns]
    return LabelledTexts(labels, texts[0], texts[1] if len(texts) == 2 else None)
