"""Fine-tuning a pretrained BERT to answer questions from a context (section 4.2, 4.3; run_squad.py).

The pretrained encoder's weights start a BertForQuestionAnswering; a new linear layer scores each token as
the answer's start and end. Every window of every training question (features.py) is one training input,
its loss the mean of the start and end cross-entropies. Training is as for the classifier
(finetuning.py): AdamW without decay on biases and LayerNorm, linear warmup then decay, clipping at norm
1.0. After each epoch the dev questions are answered (spans.py) and scored (scoring.py), and the epoch
with the best F1 is the model kept.

Whether the model may answer "" (no answer) is the model's own: a model trained on SQuAD v2.0 (whose
training questions include unanswerable ones) may, one trained on v1.1 always answers, as run_squad.py's
version_2_with_negative. Scoring follows the dev questions: SQuAD v2.0's when some are unanswerable,
v1.1's otherwise. Training on v1.1 and scoring on a v2.0 dev file works (each result names the scoring
used and the version trained on); such a model never abstains.
"""

from dataclasses import asdict, dataclass, field

import numpy as np

from .. import autograd as ag
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..finetuning import EpochsOfBatches, attach_optimizer, next_rows, record_epoch, take_step, train_epochs
from ..models.question_answering import PADDING_LOGIT, BertForQuestionAnswering
from ..optim import AdamW, LRScheduler
from .features import check_room, squad_features
from .reader import version_of
from .scoring import score_answers
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
        check_room(self.max_seq_length, self.max_query_length, self.doc_stride)


@dataclass
class SquadRun(EpochsOfBatches):
    """Everything a question-answering run holds, so that it can be stepped, evaluated and saved."""
    settings: SquadSettings
    tokenizer: object                  # the pretrained model's BertTokenizer
    model: BertForQuestionAnswering
    train_features: object             # SquadFeatures of the training questions' windows
    dev_examples: list                 # SquadExamples
    dev_features: object               # SquadFeatures of the dev questions' windows
    trained_on: str                    # "v2.0" when some training question is unanswerable, else "v1.1"
    scoring: str                       # the same, of the dev questions: how they are scored
    optimizer: AdamW = None            # both set by finetuning.attach_optimizer
    scheduler: LRScheduler = None
    step: int = 0
    epoch_losses: list = field(default_factory=list)  # the training losses of this epoch's steps so far
    history: list = field(default_factory=list)  # the dev results of every finished epoch
    best_state: dict = None            # the weights of the best epoch so far

    @property
    def training_size(self):
        return len(self.train_features.input_ids)  # windows, not questions: a long context gives several


def may_abstain(trained_on):
    """Whether a model trained on SQuAD `trained_on` may answer "" (no answer): only v2.0 teaches it when."""
    return trained_on == "v2.0"


def features_for(examples, tokenizer, settings):
    return squad_features(examples, tokenizer, settings.max_seq_length, settings.doc_stride, settings.max_query_length)


def start_squad(pretrained, tokenizer, train_examples, dev_examples, settings):
    """A run ready to train: a BertForQuestionAnswering whose encoder starts as `pretrained`'s (a
    BertForPreTraining), and the windows of every training and dev question."""
    if not any(not example.is_impossible for example in train_examples):
        raise ValueError("the training questions are all unanswerable: a model learns to find answers only from "
                         "questions that have them")
    unplaced = next((example.id for example in train_examples if not example.is_impossible and not example.answer_starts),
                    None)
    if unplaced is not None:
        raise ValueError(f"training question {unplaced!r} has no answer_start: read training questions for training "
                         "(read_squad(path, \"train\")), which keeps where each answer is")
    if settings.max_seq_length > pretrained.config.max_position_embeddings:
        raise ValueError(f"max_seq_length={settings.max_seq_length} exceeds the model's max_position_embeddings="
                         f"{pretrained.config.max_position_embeddings}: give a shorter max_seq_length")
    ag.manual_seed(settings.seed)
    model = BertForQuestionAnswering(pretrained.config)
    model.bert.load_state_dict(pretrained.bert.state_dict())
    return attach_optimizer(SquadRun(settings, tokenizer, model, features_for(train_examples, tokenizer, settings),
                                     dev_examples, features_for(dev_examples, tokenizer, settings),
                                     version_of(train_examples), version_of(dev_examples)))


def squad_step(run):
    """One optimizer step on the next batch of windows; returns its metrics (finetuning.take_step)."""
    epoch, rows = next_rows(run)
    input_ids, segment_ids, is_real, start_positions, end_positions = run.train_features.batch(rows)
    run.model.train()
    loss = run.model.loss(*run.model(input_ids, segment_ids, is_real), start_positions, end_positions)
    return take_step(run, loss, epoch)


SCORING_BATCH = 64  # windows scored at a time


def window_scores(model, features):
    """(start_logits, end_logits), each (N, T) NumPy arrays: the model's scores for every window. Columns past
    a batch's longest window are padding, and score as padding does."""
    model.eval()
    starts, ends = np.full(features.input_ids.shape, PADDING_LOGIT), np.full(features.input_ids.shape, PADDING_LOGIT)
    with ag.no_grad():
        for first in range(0, len(features.input_ids), SCORING_BATCH):
            rows = np.arange(first, min(first + SCORING_BATCH, len(features.input_ids)))
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


def predict_answers(model, tokenizer, examples, settings, trained_on):
    """{question id: answer text} for SquadExamples, from a model trained on SQuAD `trained_on` ("v2.0": it
    may answer "" for no answer)."""
    return answers_from_features(model, tokenizer, examples, features_for(examples, tokenizer, settings), settings,
                                 may_abstain(trained_on))


def end_epoch(run, train_loss):
    """Answer and score the dev questions after an epoch; keep the weights if their F1 is the best so far."""
    answers = answers_from_features(run.model, run.tokenizer, run.dev_examples, run.dev_features, run.settings,
                                    may_abstain(run.trained_on))
    scores = score_answers(run.dev_examples, answers, run.scoring)
    result = {"epoch": len(run.history) + 1, "exact_match": scores.pop("exact_match"), "f1": scores.pop("f1"),
              "train_loss": train_loss, "trained_on": run.trained_on, **scores}
    return record_epoch(run, result, lambda result: result["f1"])


def train_squad(run, on_step=None):
    """Train the question answerer to the end of its run (finetuning.train_epochs), answering and scoring the
    dev questions after each epoch."""
    return train_epochs(run, squad_step, end_epoch, on_step)


def save_squad(run, directory):
    """Write the run's model, its vocabulary and its settings ({"task": "squad", "trained_on": ..., ...})
    into `directory`."""
    settings = {"task": "squad", "trained_on": run.trained_on, "lowercase": run.tokenizer.basic_tokenizer.lowercase,
                **asdict(run.settings)}
    save_checkpoint(directory, run.model, run.tokenizer, settings, trainer_state={"history": run.history})


def question_answering_model(config, settings):
    """The BertForQuestionAnswering a save_squad checkpoint holds (for load_checkpoint)."""
    if settings.get("task") != "squad":
        raise CheckpointError("the checkpoint does not hold a question-answering model (its settings have no "
                              "\"task\": \"squad\"): fine-tune one on SQuAD first")
    return BertForQuestionAnswering(config)


def load_question_answerer(directory):
    """(BertForQuestionAnswering, tokenizer, SquadSettings, the SQuAD version it was trained on) from a
    directory save_squad wrote."""
    model, tokenizer, saved, trainer_state = load_checkpoint(directory, question_answering_model)
    settings = SquadSettings(**{name: saved["settings"][name] for name in asdict(SquadSettings()) if
                                name in saved["settings"]})
    history = trainer_state.get("history") or [{}]  # an older checkpoint says it only in each epoch's result
    trained_on = saved["settings"].get("trained_on", history[0].get("trained_on"))
    if trained_on not in ("v1.1", "v2.0"):
        raise CheckpointError(f"{directory} does not say which SQuAD version its model was trained on (no "
                              "\"trained_on\" in config.json's settings): fine-tune it again with this tinybert")
    return model, tokenizer, settings, trained_on
