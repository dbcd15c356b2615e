"""Fine-tuning a pretrained BERT to label sentences or sentence pairs (section 4.1; run_classifier.py).

The pretrained encoder's weights start the classifier; a new linear layer on the pooled [CLS] vector
scores the labels; everything trains together with AdamW, linear warmup then decay, and clipping at
norm 1.0, for a few epochs. After each epoch the dev set gives accuracy and F1, and the best epoch's
model is the one kept.

A run is a FinetuneRun: `start_finetune` makes one, `finetune_step` takes one step, `train_classifier`
takes them all. Its directory holds the best epoch's classifier (what `tinybert predict` reads) and,
while the run is unfinished, an `in-progress/` checkpoint that `resume_finetune` goes on from.
"""

import functools
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import autograd as ag
from .autograd import backend
from .checkpoint import CheckpointError, load_checkpoint, load_optimizer_state, read_arrays, save_checkpoint
from .models.bert import BertForSequenceClassification
from .optim import AdamW, LRScheduler, clip_grad_norm, linear_warmup_decay, parameter_groups
from .pretraining import TrainingDiverged

IN_PROGRESS = "in-progress"  # the subdirectory of an unfinished run's latest state


@dataclass
class FinetuneSettings:
    epochs: int = 3
    learning_rate: float = 1e-4       # BERT's paper tries 2e-5 to 5e-5 for base; small models take more
    warmup_fraction: float = 0.1      # of all steps, as run_classifier.py's warmup_proportion
    batch_size: int = 32
    max_seq_length: int = 128
    weight_decay: float = 0.01
    seed: int = 0


@dataclass
class FinetuneRun:
    """Everything a fine-tuning run holds, so that it can be stepped, evaluated, saved and resumed."""
    settings: FinetuneSettings
    tokenizer: object                 # the pretrained model's BertTokenizer
    model: BertForSequenceClassification
    labels: list                      # the label names, in the order of the model's outputs
    optimizer: AdamW
    scheduler: LRScheduler
    train_examples: object            # LabelledTexts
    dev_examples: object
    step: int = 0
    history: list = field(default_factory=list)  # the dev results of every finished epoch
    best_state: dict = None           # the weights of the best epoch so far
    train_truth: np.ndarray = field(init=False)  # (N,) the label number of every training example
    dev_truth: np.ndarray = field(init=False)

    def __post_init__(self):
        number = {label: position for position, label in enumerate(self.labels)}
        self.train_truth = np.array([number[label] for label in self.train_examples.labels])
        self.dev_truth = np.array([number[label] for label in self.dev_examples.labels])

    @property
    def steps_per_epoch(self):
        return math.ceil(len(self.train_examples.labels) / self.settings.batch_size)

    @property
    def total_steps(self):
        return self.settings.epochs * self.steps_per_epoch


def scores(predicted, truth, positive):
    """(accuracy, F1 of the `positive` label) of two integer arrays of label numbers."""
    true_positive = int(((predicted == positive) & (truth == positive)).sum())
    predicted_positive, actual_positive = int((predicted == positive).sum()), int((truth == positive).sum())
    f1 = 2 * true_positive / (predicted_positive + actual_positive) if predicted_positive + actual_positive else 0.0
    return float((predicted == truth).mean()), f1


def positive_label(labels):
    """The label F1 is reported for: "1" where the labels are 0 and 1 (MRPC, QQP), else the first in order."""
    return "1" if "1" in labels else labels[0]


def encode_examples(tokenizer, examples, rows, max_seq_length):
    """(input_ids, segment_ids, is_real), each (len(rows), T): the examples numbered `rows`, padded."""
    pairs = None if examples.text_pairs is None else [examples.text_pairs[row] for row in rows]
    return tokenizer.encode_batch([examples.texts[row] for row in rows], pairs, max_seq_length)


def predict(model, tokenizer, examples, max_seq_length, batch_size=64):
    """The label number the model scores highest for each example."""
    model.eval()
    predictions = []
    with ag.no_grad():
        for start in range(0, len(examples.texts), batch_size):
            rows = range(start, min(start + batch_size, len(examples.texts)))
            logits = model(*encode_examples(tokenizer, examples, rows, max_seq_length))  # (batch, labels)
            predictions.append(logits.numpy().argmax(axis=-1))  # (batch,)
    return np.concatenate(predictions)


def check_labels(train_examples, dev_examples):
    """The label names, sorted; a training file with one label, or a dev label it lacks, is a ValueError."""
    labels = sorted(set(train_examples.labels))
    if len(labels) < 2:
        raise ValueError(f"the training file has only the label {labels[0]!r}: a classifier needs examples of at "
                         "least two labels")
    unknown = sorted(set(dev_examples.labels) - set(labels))
    if unknown:
        raise ValueError(f"the dev file has labels the training file never shows: {unknown}; the classifier can "
                         f"only predict {labels}")
    return labels


def new_run(settings, tokenizer, model, labels, train_examples, dev_examples):
    optimizer = AdamW(parameter_groups(model, settings.weight_decay), lr=settings.learning_rate, eps=1e-6)
    run = FinetuneRun(settings, tokenizer, model, labels, optimizer, None, train_examples, dev_examples)
    warmup = int(settings.warmup_fraction * run.total_steps)
    run.scheduler = LRScheduler(optimizer, lambda number: linear_warmup_decay(number, warmup, run.total_steps))
    return run


def start_finetune(pretrained, tokenizer, train_examples, dev_examples, settings):
    """A run ready to train: a classifier whose encoder starts as `pretrained`'s (a BertForPreTraining)."""
    labels = check_labels(train_examples, dev_examples)
    ag.manual_seed(settings.seed)
    model = BertForSequenceClassification(pretrained.config, len(labels))
    model.bert.load_state_dict(pretrained.bert.state_dict())
    return new_run(settings, tokenizer, model, labels, train_examples, dev_examples)


@functools.lru_cache(maxsize=1)
def epoch_order(seed, epoch, count):
    """The order of the training examples in `epoch`: drawn from (seed, epoch) alone, so a resumed run
    draws the same orders as one never stopped."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def finetune_step(run):
    """One optimizer step on the next batch; returns its metrics. A loss of NaN or infinity raises
    TrainingDiverged before any weight moves."""
    epoch, position = divmod(run.step, run.steps_per_epoch)
    batch_size = run.settings.batch_size
    rows = epoch_order(run.settings.seed, epoch + 1, len(run.train_examples.labels))[
        position * batch_size:(position + 1) * batch_size]
    run.model.train()
    inputs = encode_examples(run.tokenizer, run.train_examples, rows, run.settings.max_seq_length)
    logits = run.model(*inputs)  # (B, labels)
    loss = ag.cross_entropy(logits, run.train_truth[rows])
    if not math.isfinite(loss.item()):
        raise TrainingDiverged(f"the loss became {loss.item()} at step {run.step + 1} (epoch {epoch + 1}): "
                               "fine-tuning stopped there. Try a lower learning rate (--lr)")
    run.optimizer.zero_grad()
    loss.backward()
    clip_grad_norm(run.model.parameters(), 1.0)
    learning_rate = run.optimizer.param_groups[0]["lr"]
    run.optimizer.step()
    run.scheduler.step()
    run.step += 1
    return {"step": run.step, "epoch": epoch + 1, "loss": loss.item(), "learning_rate": learning_rate}


def end_epoch(run, train_loss):
    """Score the dev set after an epoch; keep the weights if they are the best so far. Returns the result."""
    accuracy, f1 = scores(predict(run.model, run.tokenizer, run.dev_examples, run.settings.max_seq_length), run.dev_truth,
                          run.labels.index(positive_label(run.labels)))
    best = not run.history or accuracy > max(result["dev_accuracy"] for result in run.history)
    result = {"epoch": len(run.history) + 1, "dev_accuracy": accuracy, "dev_f1": f1, "train_loss": train_loss,
              "best": best}
    run.history.append(result)
    if best:
        run.best_state = run.model.state_dict()
    return result


def train_classifier(run, on_step=None):
    """Take the run's remaining steps, scoring the dev set after each epoch; on_step(metrics) after each
    step (the metrics of an epoch's last step hold the epoch's dev result as "dev"). Returns the history;
    the model is left holding the best epoch's weights."""
    while run.step < run.total_steps:
        metrics = finetune_step(run)
        if run.step % run.steps_per_epoch == 0:
            metrics["dev"] = end_epoch(run, metrics["loss"])
        if on_step:
            on_step(metrics)
    run.model.load_state_dict(run.best_state)
    return run.history


def run_settings(run):
    """What config.json's "settings" holds for a classifier: enough to rebuild it and its run."""
    return {"task": "classification", "labels": run.labels, "lowercase": run.tokenizer.basic_tokenizer.lowercase,
            **asdict(run.settings)}


def save_best(run, directory):
    """Write the run's current model (the best epoch's, just scored) as the classifier in `directory`."""
    save_checkpoint(directory, run.model, run.tokenizer, run_settings(run), trainer_state={"history": run.history})


def save_progress(run, directory):
    """Write what resume_finetune needs into `directory`/in-progress: weights, optimizer, step, history."""
    trainer_state = {"step": run.step, "history": run.history, "train_examples": len(run.train_examples.labels),
                     "engine_generator": backend.generator("cpu").bit_generator.state}
    save_checkpoint(Path(directory) / IN_PROGRESS, run.model, run.tokenizer, run_settings(run), run.optimizer,
                    trainer_state)


def finish(directory):
    """A run that has finished needs no in-progress state."""
    shutil.rmtree(Path(directory) / IN_PROGRESS, ignore_errors=True)


def resume_finetune(directory, train_examples, dev_examples):
    """The unfinished run saved in `directory` (by save_progress), ready to go on."""
    in_progress = Path(directory) / IN_PROGRESS
    if not Path(directory).is_dir():
        raise CheckpointError(f"{directory} does not exist: give --resume the --out directory of a stopped run")
    if not in_progress.is_dir():
        raise CheckpointError(f"{directory} holds no unfinished fine-tuning run (no {IN_PROGRESS}/ in it): "
                              "a run that finished needs no --resume")
    model, tokenizer, saved, trainer_state = load_checkpoint(in_progress, classifier_model)
    try:
        settings = FinetuneSettings(**{name: saved["settings"][name] for name in asdict(FinetuneSettings())})
        labels, step, history = saved["settings"]["labels"], trainer_state["step"], trainer_state["history"]
        started_with, generator_state = trainer_state["train_examples"], trainer_state["engine_generator"]
    except KeyError as error:
        raise CheckpointError(f"{in_progress} is a damaged checkpoint: it has no {error}") from None
    given = check_labels(train_examples, dev_examples)
    if given != labels or len(train_examples.labels) != started_with:
        raise ValueError(f"the run started on {started_with} training examples labelled {labels}; this training "
                         f"file has {len(train_examples.labels)} labelled {given}: resume with the run's own files")
    run = new_run(settings, tokenizer, model, labels, train_examples, dev_examples)
    for _ in range(step):  # replay the schedule; the optimizer's averages come from disk
        run.scheduler.step()
    run.step, run.history = step, history
    load_optimizer_state(in_progress, run.optimizer)
    if run.history:
        run.best_state = read_arrays(Path(directory) / "model.npz")
    backend.generator("cpu").bit_generator.state = generator_state
    return run


def classifier_model(config, settings):
    """The BertForSequenceClassification a `tinybert finetune` checkpoint holds (for load_checkpoint)."""
    if settings.get("task") != "classification":
        raise CheckpointError("the checkpoint holds a pretrained model, not a fine-tuned classifier: "
                              "run tinybert finetune on it first")
    return BertForSequenceClassification(config, len(settings["labels"]))


def load_classifier(directory):
    """(BertForSequenceClassification, tokenizer, label names, saved settings) from a `tinybert finetune` --out."""
    model, tokenizer, saved, _ = load_checkpoint(directory, classifier_model)
    return model, tokenizer, saved["settings"]["labels"], saved["settings"]
