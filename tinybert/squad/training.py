"""Fine-tuning a pretrained BERT to answer questions from a context (section 4.2, 4.3; run_squad.py).

The pretrained encoder's weights start a BertForQuestionAnswering; a new linear layer scores each token as
the answer's start and end. Every window of every training question (features.py) is one training input,
its loss the mean of the start and end cross-entropies. Training is as for the classifier
(finetuning.py): AdamW without decay on biases and LayerNorm, linear warmup then decay, clipping at norm
1.0. After each epoch the dev questions are answered (spans.py) and scored (scoring.py), and the epoch
with the best F1 is the model kept.

Scoring follows the dev questions: SQuAD v2.0's when some are unanswerable (the model may then answer
"" for "no answer"), v1.1's otherwise. Training on v1.1 and scoring on a v2.0 dev file works (each
result names the scoring used and the version trained on), though only v2.0 training shows the model
unanswerable questions.
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import autograd as ag
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..finetuning import next_rows, take_step
from ..models.question_answering import PADDING_LOGIT, BertForQuestionAnswering
from ..optim import AdamW, LRScheduler, linear_warmup_decay, parameter_groups
from .features import squad_features
from .reader import has_unanswerable
from .scoring import evaluate
from .spans import choose_answer


@dataclass
class SquadSettings:
    epochs: int = 2
    learning_rate: float = 1e-4        # run_squad.py uses 3e-5 for BERT-Base; small models take more
    warmup_fraction: float = 0.1       # of all steps, run_squad.py's warmup_proportion
    batch_size: int = 32
    max_seq_length: int = 384          # run_squad.py's defaults, from here to max_answer_length
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    null_score_threshold: float = 0.0  # v2.0: answer "" when null score - best span score exceeds this
    weight_decay: float = 0.01
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "batch_size", "max_seq_length", "doc_stride", "max_query_length", "max_answer_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_seq_length <= self.max_query_length + 3:
            raise ValueError(f"max_seq_length={self.max_seq_length} leaves no room for the context after a question "
                             f"of max_query_length={self.max_query_length} pieces and 3 special tokens: give "
                             "a max_seq_length above max_query_length + 3")


@dataclass
class SquadRun:
    """Everything a question-answering run holds, so that it can be stepped, evaluated and saved."""
    settings: SquadSettings
    tokenizer: object                  # the pretrained model's BertTokenizer
    model: BertForQuestionAnswering
    optimizer: AdamW
    scheduler: LRScheduler
    train_features: object             # SquadFeatures of the training questions' windows
    dev_examples: list                 # SquadExamples
    dev_features: object               # SquadFeatures of the dev questions' windows
    trained_on: str                    # "v2.0" when some training question is unanswerable, else "v1.1"
    scoring: str                       # the same, of the dev questions: how they are scored
    step: int = 0
    history: list = field(default_factory=list)  # the dev results of every finished epoch
    best_state: dict = None            # the weights of the best epoch so far

    @property
    def steps_per_epoch(self):
        return math.ceil(len(self.train_features.input_ids) / self.settings.batch_size)

    @property
    def total_steps(self):
        return self.settings.epochs * self.steps_per_epoch


def version_of(examples):
    return "v2.0" if has_unanswerable(examples) else "v1.1"


def features_for(examples, tokenizer, settings):
    return squad_features(examples, tokenizer, settings.max_seq_length, settings.doc_stride, settings.max_query_length)


def start_squad(pretrained, tokenizer, train_examples, dev_examples, settings):
    """A run ready to train: a BertForQuestionAnswering whose encoder starts as `pretrained`'s (a
    BertForPreTraining), and the windows of every training and dev question."""
    if not any(not example.is_impossible for example in train_examples):
        raise ValueError("the training questions are all unanswerable: a model learns to find answers only from "
                         "questions that have them")
    if settings.max_seq_length > pretrained.config.max_position_embeddings:
        raise ValueError(f"max_seq_length={settings.max_seq_length} exceeds the model's max_position_embeddings="
                         f"{pretrained.config.max_position_embeddings}: give a shorter max_seq_length")
    ag.manual_seed(settings.seed)
    model = BertForQuestionAnswering(pretrained.config)
    model.bert.load_state_dict(pretrained.bert.state_dict())
    optimizer = AdamW(parameter_groups(model, settings.weight_decay), lr=settings.learning_rate, eps=1e-6)
    run = SquadRun(settings, tokenizer, model, optimizer, None, features_for(train_examples, tokenizer, settings),
                   dev_examples, features_for(dev_examples, tokenizer, settings), version_of(train_examples),
                   version_of(dev_examples))
    warmup = int(settings.warmup_fraction * run.total_steps)
    run.scheduler = LRScheduler(optimizer, lambda number: linear_warmup_decay(number, warmup, run.total_steps))
    return run


def squad_step(run):
    """One optimizer step on the next batch of windows; returns its metrics (finetuning.take_step)."""
    epoch, rows = next_rows(run, len(run.train_features.input_ids))
    input_ids, segment_ids, is_real, start_positions, end_positions = run.train_features.batch(rows)
    run.model.train()
    loss = run.model.loss(*run.model(input_ids, segment_ids, is_real), start_positions, end_positions)
    return take_step(run, loss, epoch)


def window_scores(model, features, batch_size=64):
    """(start_logits, end_logits), each (N, T) NumPy arrays: the model's scores for every window. Columns past
    a batch's longest window are padding, and score as padding does."""
    model.eval()
    starts, ends = np.full(features.input_ids.shape, PADDING_LOGIT), np.full(features.input_ids.shape, PADDING_LOGIT)
    with ag.no_grad():
        for first in range(0, len(features.input_ids), batch_size):
            rows = np.arange(first, min(first + batch_size, len(features.input_ids)))
            input_ids, segment_ids, is_real, _, _ = features.batch(rows)
            start_logits, end_logits = model(input_ids, segment_ids, is_real)  # (batch, T') each
            starts[rows, :input_ids.shape[1]] = start_logits.numpy()
            ends[rows, :input_ids.shape[1]] = end_logits.numpy()
    return starts, ends


def answers_from_features(model, tokenizer, examples, features, settings, allow_no_answer):
    """{question id: answer text} from the model's scores of the examples' windows."""
    starts, ends = window_scores(model, features)  # (N, T) each
    answers = {}
    for number, example in enumerate(examples):
        rows = np.flatnonzero(features.example_index == number)  # this example's windows
        answers[example.id] = choose_answer(starts[rows], ends[rows], features.token_to_piece[rows],
                                            features.is_max_context[rows], example.context, features.contexts[number],
                                            tokenizer.basic_tokenizer, settings.max_answer_length, allow_no_answer,
                                            settings.null_score_threshold)
    return answers


def predict_answers(model, tokenizer, examples, settings, allow_no_answer=None):
    """{question id: answer text} for SquadExamples. allow_no_answer: whether "" (no answer) may be
    predicted; None allows it when some example is unanswerable (SQuAD v2.0)."""
    if allow_no_answer is None:
        allow_no_answer = has_unanswerable(examples)
    return answers_from_features(model, tokenizer, examples, features_for(examples, tokenizer, settings), settings,
                                 allow_no_answer)


def end_epoch(run, train_loss):
    """Answer and score the dev questions after an epoch; keep the weights if their F1 is the best so far."""
    answers = answers_from_features(run.model, run.tokenizer, run.dev_examples, run.dev_features, run.settings,
                                    allow_no_answer=run.scoring == "v2.0")
    scores = evaluate(run.dev_examples, answers, run.scoring)
    best = not run.history or scores["f1"] > max(result["f1"] for result in run.history)
    result = {"epoch": len(run.history) + 1, "exact_match": scores.pop("exact_match"), "f1": scores.pop("f1"),
              "train_loss": train_loss, "best": best, "trained_on": run.trained_on, **scores}
    run.history.append(result)
    if best:
        run.best_state = run.model.state_dict()
    return result


def train_squad(run, on_step=None):
    """Take the run's remaining steps, scoring the dev questions after each epoch; on_step(metrics) after
    each step (the metrics of an epoch's last step hold the epoch's dev result as "dev"). Returns the
    history; the model is left holding the best epoch's weights."""
    epoch_losses = []
    while run.step < run.total_steps:
        metrics = squad_step(run)
        epoch_losses.append(metrics["loss"])
        if run.step % run.steps_per_epoch == 0:
            metrics["dev"] = end_epoch(run, float(np.mean(epoch_losses)))
            epoch_losses = []
        if on_step:
            on_step(metrics)
    run.model.load_state_dict(run.best_state)
    return run.history


def save_squad(run, directory):
    """Write the run's model, its vocabulary and its settings ({"task": "squad", ...}) into `directory`."""
    settings = {"task": "squad", "lowercase": run.tokenizer.basic_tokenizer.lowercase, **asdict(run.settings)}
    save_checkpoint(directory, run.model, run.tokenizer, settings, trainer_state={"history": run.history})


def question_answering_model(config, settings):
    """The BertForQuestionAnswering a save_squad checkpoint holds (for load_checkpoint)."""
    if settings.get("task") != "squad":
        raise CheckpointError("the checkpoint does not hold a question-answering model (its settings have no "
                              "\"task\": \"squad\"): fine-tune one on SQuAD first")
    return BertForQuestionAnswering(config)


def load_question_answerer(directory):
    """(BertForQuestionAnswering, tokenizer, SquadSettings) from a directory save_squad wrote."""
    model, tokenizer, saved, _ = load_checkpoint(directory, question_answering_model)
    settings = SquadSettings(**{name: saved["settings"][name] for name in asdict(SquadSettings()) if
                                name in saved["settings"]})
    return model, tokenizer, settings
