"""Fine-tuning a pretrained BERT to label sentences or sentence pairs (section 4.1; run_classifier.py).

The pretrained encoder's weights start the classifier; a new linear layer on the pooled [CLS] vector
scores the labels; everything trains together with AdamW, linear warmup then decay, and clipping at
norm 1.0, for a few epochs. After each epoch every dev set is scored with its task's metrics (GLUE's:
tinybert/glue.py; accuracy and F1 for a file with no task named), and the best epoch's model, by the
first dev set's first metric, is the one kept. A regression task (STS-B) has one output, trained with
the squared error against its number.

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
from . import glue
from .autograd import backend
from .checkpoint import CheckpointError, load_checkpoint, load_optimizer_state, read_arrays, save_checkpoint
from .models.bert import BertForSequenceClassification
from .optim import AdamW, LRScheduler, linear_warmup_decay, parameter_groups
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
    glue_task: str | None = None      # a GLUE task's name (its metrics, or a regression), None for a labelled file
    pretrained_model: str | None = None  # the directory of the pretrained model the run started from

    @property
    def task(self):
        return glue.task_named(self.glue_task)


class EpochsOfBatches:
    """What a classifier's run and a question answerer's run (squad/training.py) share: `settings.epochs`
    passes over their `training_size` inputs, in batches of `settings.batch_size`, the last one smaller."""

    @property
    def steps_per_epoch(self):
        return math.ceil(self.training_size / self.settings.batch_size)

    @property
    def total_steps(self):
        return self.settings.epochs * self.steps_per_epoch


@dataclass
class FinetuneRun(EpochsOfBatches):
    """Everything a fine-tuning run holds, so that it can be stepped, evaluated, saved and resumed."""
    settings: FinetuneSettings
    tokenizer: object                 # the pretrained model's BertTokenizer
    model: BertForSequenceClassification
    labels: list                      # the label names, in the order of the model's outputs; None for a regression
    train_examples: object            # LabelledTexts
    dev_sets: dict                    # {name: LabelledTexts}: "dev", or MNLI's "matched" and "mismatched"
    optimizer: AdamW = None           # both set by attach_optimizer
    scheduler: LRScheduler = None
    step: int = 0
    epoch_losses: list = field(default_factory=list)  # the training losses of this epoch's steps so far
    history: list = field(default_factory=list)  # the dev results of every finished epoch
    best_state: dict = None           # the weights of the best epoch so far
    train_truth: np.ndarray = field(init=False)  # (N,) every training example's label number, or its number

    def __post_init__(self):
        self.train_truth = truth_of(self.train_examples, self.labels)

    @property
    def training_size(self):
        return len(self.train_examples.labels)


def truth_of(examples, labels):
    """(N,) the examples' label numbers (positions in `labels`; -1 for a label the model does not know, which
    it never predicts: only a file given to `tinybert predict` can hold one, as check_labels refuses them
    in training), or for a regression (labels None) their numbers: a label that is not one is a ValueError."""
    if labels is None:
        try:
            return np.array([float(label) for label in examples.labels])
        except ValueError as error:
            raise ValueError(f"a regression's labels are numbers (STS-B's: 0 to 5), and this is not: {error}") from None
    number = {label: position for position, label in enumerate(labels)}
    return np.array([number.get(label, -1) for label in examples.labels])


def encode_examples(tokenizer, examples, rows, max_seq_length):
    """(input_ids, segment_ids, is_real), each (len(rows), T): the examples numbered `rows`, padded."""
    pairs = None if examples.text_pairs is None else [examples.text_pairs[row] for row in rows]
    return tokenizer.encode_batch([examples.texts[row] for row in rows], pairs, max_seq_length)


def predict(model, tokenizer, examples, max_seq_length, batch_size=64):
    """The label number the model scores highest for each example; a regression's one output, as it is."""
    model.eval()
    predictions = []
    with ag.no_grad():
        for start in range(0, len(examples.texts), batch_size):
            rows = range(start, min(start + batch_size, len(examples.texts)))
            logits = model(*encode_examples(tokenizer, examples, rows, max_seq_length))  # (batch, labels)
            scores = logits.numpy()  # (batch, labels)
            predictions.append(scores[:, 0] if scores.shape[1] == 1 else scores.argmax(axis=-1))  # (batch,)
    return np.concatenate(predictions)


def check_labels(train_examples, dev_sets, task):
    """The label names, sorted; a training file with one label, or a dev label it lacks, is a ValueError.
    A regression has no label names (None); its labels must be numbers."""
    if task.regression:
        for examples in (train_examples, *dev_sets.values()):
            truth_of(examples, None)  # a label that is no number is a ValueError
        return None
    labels = sorted(set(train_examples.labels))
    if len(labels) < 2:
        raise ValueError(f"the training file has only the label {labels[0]!r}: a classifier needs examples of at "
                         "least two labels")
    unknown = sorted({label for examples in dev_sets.values() for label in examples.labels} - set(labels))
    if unknown:
        raise ValueError(f"the dev file has labels the training file never shows: {unknown}; the classifier can "
                         f"only predict {labels}")
    return labels


def attach_optimizer(run):
    """Give `run` (an EpochsOfBatches with a model and settings) AdamW, with no decay on biases and LayerNorm
    weights, and BERT's schedule: the learning rate rises linearly over warmup_fraction of all the steps,
    then falls linearly to 0 at the last. Returns the run."""
    settings = run.settings
    run.optimizer = AdamW(parameter_groups(run.model, settings.weight_decay), lr=settings.learning_rate, eps=1e-6)
    warmup = int(settings.warmup_fraction * run.total_steps)
    run.scheduler = LRScheduler(run.optimizer, lambda number: linear_warmup_decay(number, warmup, run.total_steps))
    return run


def output_count(labels):
    return 1 if labels is None else len(labels)


def start_finetune(pretrained, tokenizer, train_examples, dev_sets, settings):
    """A run ready to train: a classifier whose encoder starts as `pretrained`'s (a BertForPreTraining).
    dev_sets: {name: LabelledTexts}, scored after every epoch."""
    labels = check_labels(train_examples, dev_sets, settings.task)
    ag.manual_seed(settings.seed)
    model = BertForSequenceClassification(pretrained.config, output_count(labels))
    model.bert.load_state_dict(pretrained.bert.state_dict())
    return attach_optimizer(FinetuneRun(settings, tokenizer, model, labels, train_examples, dev_sets))


@functools.lru_cache(maxsize=1)
def epoch_order(seed, epoch, count):
    """The order of the training examples in `epoch`: drawn from (seed, epoch) alone, so a resumed run
    draws the same orders as one never stopped."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def next_rows(run):
    """(epoch, rows) of the run's next step: its epoch (from 1), and which of its training inputs make its
    batch, in the epoch's order."""
    epoch, position = divmod(run.step, run.steps_per_epoch)
    size = run.settings.batch_size
    order = epoch_order(run.settings.seed, epoch + 1, run.training_size)
    return epoch + 1, order[position * size:(position + 1) * size]


def take_step(run, loss, epoch):
    """Backpropagate a batch's loss, clip the gradients at norm 1.0, and step the optimizer and its
    schedule; returns the step's metrics. A loss of NaN or infinity raises TrainingDiverged before any
    weight moves. (The classifier's and the question answerer's steps end alike.)"""
    loss_value = loss.item()  # read from the device once
    if not math.isfinite(loss_value):
        raise TrainingDiverged(f"the loss became {loss_value} at step {run.step + 1} (epoch {epoch}): "
                               "fine-tuning stopped there. Try a lower learning rate (--lr)")
    run.optimizer.zero_grad()
    loss.backward()
    run.optimizer.clip_grad_norm(1.0)
    learning_rate = run.optimizer.param_groups[0]["lr"]
    run.optimizer.step()
    run.scheduler.step()
    run.step += 1
    return {"step": run.step, "epoch": epoch, "loss": loss_value, "learning_rate": learning_rate}


def finetune_step(run):
    """One optimizer step on the next batch; returns its metrics (take_step)."""
    epoch, rows = next_rows(run)
    run.model.train()
    inputs = encode_examples(run.tokenizer, run.train_examples, rows, run.settings.max_seq_length)
    logits = run.model(*inputs)  # (B, labels)
    loss = (ag.mse_loss(logits.reshape(-1), run.train_truth[rows].astype(logits.dtype)) if run.labels is None
            else ag.cross_entropy(logits, run.train_truth[rows]))
    return take_step(run, loss, epoch)


def dev_scores(run):
    """{metric: value} on the one dev set, or {"matched accuracy": value, ...} where there are several."""
    scores = {}
    for name, examples in run.dev_sets.items():
        predicted = predict(run.model, run.tokenizer, examples, run.settings.max_seq_length)
        for metric, value in glue.score_predictions(run.settings.task, predicted, truth_of(examples, run.labels),
                                           run.labels).items():
            scores[metric if len(run.dev_sets) == 1 else f"{name} {metric}"] = value
    return scores


def deciding_score(result):
    """The score that picks the best epoch: the first dev set's first metric (NaN counts as the worst)."""
    value = next(iter(result["scores"].values()))
    return -math.inf if math.isnan(value) else value


def record_epoch(run, result, score_of):
    """Add an epoch's dev result to the run's history, marked "best" when score_of(result) beats every
    earlier epoch's, and then keep the model's weights as the best so far. Returns the result."""
    result["best"] = not run.history or score_of(result) > max(map(score_of, run.history))
    run.history.append(result)
    if result["best"]:
        run.best_state = run.model.state_dict()
    return result


def train_epochs(run, take_a_step, end_epoch, on_step=None):
    """Take the run's remaining steps, take_a_step(run) each; after an epoch's last step, end_epoch(run, the
    mean training loss of the epoch's steps) scores the dev set and returns the epoch's result.
    on_step(metrics) after each step (the metrics of an epoch's last step hold its result as "dev").
    Returns the history; the model is left holding the best epoch's weights."""
    while run.step < run.total_steps:
        metrics = take_a_step(run)
        run.epoch_losses.append(metrics["loss"])
        if run.step % run.steps_per_epoch == 0:
            metrics["dev"] = end_epoch(run, float(np.mean(run.epoch_losses)))
            run.epoch_losses = []
        if on_step:
            on_step(metrics)
    run.model.load_state_dict(run.best_state)
    return run.history


def end_epoch(run, train_loss):
    """Score the dev sets after an epoch; keep the weights if they are the best so far. Returns the result."""
    return record_epoch(run, {"epoch": len(run.history) + 1, "scores": dev_scores(run), "train_loss": train_loss},
                        deciding_score)


def train_classifier(run, on_step=None):
    """Train the classifier to the end of its run (train_epochs), scoring the dev sets after each epoch."""
    return train_epochs(run, finetune_step, end_epoch, on_step)


def run_settings(run):
    """What config.json's "settings" holds for a classifier: enough to rebuild it and its run."""
    return {"task": "regression" if run.labels is None else "classification", "labels": run.labels,
            "lowercase": run.tokenizer.basic_tokenizer.lowercase, **asdict(run.settings)}


def save_best(run, directory):
    """Write the run's current model (the best epoch's, just scored) as the classifier in `directory`."""
    save_checkpoint(directory, run.model, run.tokenizer, run_settings(run), trainer_state={"history": run.history})


def save_progress(run, directory):
    """Write what resume_finetune needs into `directory`/in-progress: weights, optimizer, step, history."""
    trainer_state = {"step": run.step, "epoch_losses": run.epoch_losses, "history": run.history,
                     "train_examples": run.training_size, "engine_generator": backend.generator("cpu").bit_generator.state}
    save_checkpoint(Path(directory) / IN_PROGRESS, run.model, run.tokenizer, run_settings(run), run.optimizer,
                    trainer_state)


def finish(directory):
    """A run that has finished needs no in-progress state."""
    shutil.rmtree(Path(directory) / IN_PROGRESS, ignore_errors=True)


def resume_finetune(directory, examples_for):
    """The unfinished run saved in `directory` (by save_progress), ready to go on. examples_for(settings)
    gives its (training examples, dev sets): the run's own files, or its GLUE task's data."""
    in_progress = Path(directory) / IN_PROGRESS
    if not Path(directory).is_dir():
        raise CheckpointError(f"{directory} does not exist: give --resume the --out directory of a stopped run")
    if not in_progress.is_dir():
        raise CheckpointError(f"{directory} holds no unfinished fine-tuning run (no {IN_PROGRESS}/ in it): "
                              "a run that finished needs no --resume")
    model, tokenizer, saved, trainer_state = load_checkpoint(in_progress, classifier_model)
    try:
        settings = FinetuneSettings(**{name: saved["settings"].get(name, default)  # glue_task is newer than some runs
                                       for name, default in asdict(FinetuneSettings()).items()})
        labels, step, history = saved["settings"]["labels"], trainer_state["step"], trainer_state["history"]
        epoch_losses = trainer_state.get("epoch_losses", [])  # newer than some runs: their mean starts at the resume
        started_with, generator_state = trainer_state["train_examples"], trainer_state["engine_generator"]
    except KeyError as error:
        raise CheckpointError(f"{in_progress} is a damaged checkpoint: it has no {error}") from None
    train_examples, dev_sets = examples_for(settings)
    given = check_labels(train_examples, dev_sets, settings.task)
    if given != labels or len(train_examples.labels) != started_with:
        raise ValueError(f"the run started on {started_with} training examples labelled {labels}; this training "
                         f"file has {len(train_examples.labels)} labelled {given}: resume with the run's own files")
    run = attach_optimizer(FinetuneRun(settings, tokenizer, model, labels, train_examples, dev_sets))
    for _ in range(step):  # replay the schedule; the optimizer's averages come from disk
        run.scheduler.step()
    run.step, run.epoch_losses, run.history = step, epoch_losses, history
    load_optimizer_state(in_progress, run.optimizer)
    if run.history:
        run.best_state = read_arrays(Path(directory) / "model.npz")
    backend.generator("cpu").bit_generator.state = generator_state
    return run


FINETUNED_TASKS = ("classification", "regression")


def classifier_model(config, settings):
    """The BertForSequenceClassification a `tinybert finetune` checkpoint holds (for load_checkpoint)."""
    if settings.get("task") not in FINETUNED_TASKS:
        if "task" in settings:
            raise CheckpointError(f"the checkpoint holds a model fine-tuned for {settings['task']}, not a classifier: "
                                  "give tinybert predict a model from tinybert finetune on a labelled file or a GLUE task")
        raise CheckpointError("the checkpoint holds a pretrained model, not a fine-tuned classifier: "
                              "run tinybert finetune on it first")
    return BertForSequenceClassification(config, output_count(settings["labels"]))


def load_classifier(directory):
    """(BertForSequenceClassification, tokenizer, label names (None for a regression), saved settings) from a
    `tinybert finetune` --out."""
    model, tokenizer, saved, _ = load_checkpoint(directory, classifier_model)
    return model, tokenizer, saved["settings"]["labels"], saved["settings"]
