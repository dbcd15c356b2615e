"""Fine-tuning a pretrained BERT to label sentences or sentence pairs (section 4.1; run_classifier.py).

The pretrained encoder's weights start the classifier; a new linear layer on the pooled [CLS] vector
scores the labels; everything trains together with AdamW, linear warmup then decay, and clipping at
norm 1.0, for a few epochs. After each epoch the dev set gives accuracy and F1, and the best epoch's
model is the one kept.
"""

import math
from dataclasses import dataclass

import numpy as np

from . import autograd as ag
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models.bert import BertForSequenceClassification
from .optim import AdamW, LRScheduler, clip_grad_norm, linear_warmup_decay, parameter_groups
from .pretraining import TrainingDiverged


@dataclass
class FinetuneSettings:
    epochs: int = 3
    learning_rate: float = 1e-4       # BERT's paper tries 2e-5 to 5e-5 for base; small models take more
    warmup_fraction: float = 0.1      # of all steps, as run_classifier.py's warmup_proportion
    batch_size: int = 32
    max_seq_length: int = 128
    weight_decay: float = 0.01
    seed: int = 0


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


def train_classifier(pretrained, tokenizer, train_examples, dev_examples, settings, on_epoch=None):
    """(the best epoch's classifier, the label names, the dev results of every epoch), starting from the
    encoder of `pretrained` (a BertForPreTraining). on_epoch(results) after each epoch."""
    labels = sorted(set(train_examples.labels))
    unknown = sorted(set(dev_examples.labels) - set(labels))
    if len(labels) < 2 or unknown:
        raise ValueError(f"the training file has the labels {labels}; a classifier needs at least two"
                         + (f", and the dev file's {unknown} must be among them" if unknown else ""))
    label_number = {label: number for number, label in enumerate(labels)}
    train_y = np.array([label_number[label] for label in train_examples.labels])
    dev_y = np.array([label_number[label] for label in dev_examples.labels])
    ag.manual_seed(settings.seed)
    model = BertForSequenceClassification(pretrained.config, len(labels))
    model.bert.load_state_dict(pretrained.bert.state_dict())
    steps_per_epoch = math.ceil(len(train_y) / settings.batch_size)
    total = settings.epochs * steps_per_epoch
    optimizer = AdamW(parameter_groups(model, settings.weight_decay), lr=settings.learning_rate, eps=1e-6)
    warmup = int(settings.warmup_fraction * total)
    scheduler = LRScheduler(optimizer, lambda number: linear_warmup_decay(number, warmup, total))
    rng = np.random.default_rng(settings.seed)
    best, history = None, []
    for epoch in range(1, settings.epochs + 1):
        model.train()
        order = rng.permutation(len(train_y))
        for start in range(0, len(order), settings.batch_size):  # one batch a step
            rows = order[start:start + settings.batch_size]
            logits = model(*encode_examples(tokenizer, train_examples, rows, settings.max_seq_length))  # (B, labels)
            loss = ag.cross_entropy(logits, train_y[rows])
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(f"the loss became {loss.item()} in epoch {epoch}: fine-tuning stopped, and "
                                       "nothing was saved. Try a lower learning rate (--lr)")
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
        accuracy, f1 = scores(predict(model, tokenizer, dev_examples, settings.max_seq_length), dev_y,
                              label_number[positive_label(labels)])
        history.append({"epoch": epoch, "dev_accuracy": accuracy, "dev_f1": f1, "train_loss": loss.item()})
        if best is None or accuracy > best[0]:
            best = (accuracy, model.state_dict())
        if on_epoch:
            on_epoch(history[-1])
    model.load_state_dict(best[1])
    return model, labels, history


def save_classifier(directory, model, tokenizer, labels, settings):
    save_checkpoint(directory, model, tokenizer, {"task": "classification", "labels": labels,
                                                  "lowercase": tokenizer.basic_tokenizer.lowercase, **settings},
                    trainer_state={})


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
