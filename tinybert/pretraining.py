"""Pretraining BERT end to end: documents in, a trained checkpoint out.

The steps, in order (`start_run`, then `train`):
  1. hold out every k-th document for evaluation;
  2. train a WordPiece vocabulary on the other documents;
  3. tokenize; draw sentence pairs (or RoBERTa's packed full sentences) and masks, each pass afresh or
     once (tinybert.text.pretraining_data);
  4. build BertForPreTraining from a preset (ALBERT's factorised embeddings and shared layers if asked)
     and train it with AdamW, BERT's no-decay groups, linear warmup then linear decay, and gradient
     clipping at norm 1.0, as run_pretraining.py (but with RoBERTa's beta2 of 0.98, better suited to a
     run of minutes); a step may add up the gradients of several batches first (`accumulate`);
  5. evaluate masked-LM and next-sentence accuracy on the held-out documents, next to the accuracy of
     always predicting the most frequent token (a model that only learnt "the" would score that).

With objective "clm" the same steps train a left-to-right GPT instead (models/gpt.py) on windows of
the documents' token stream (text/clm_data.py), and step 5 measures its held-out perplexity, next to
that of a model that knows only how frequent each token is.
"""

import itertools
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import autograd as ag
from .autograd import backend
from .checkpoint import language_model, load_checkpoint, load_optimizer_state, save_checkpoint
from .models.bert import BertConfig, BertForPreTraining
from .models.gpt import GPT, GPTConfig
from .optim import AdamW, LRScheduler, linear_warmup_decay, parameter_groups
from .text import BertTokenizer, train_wordpiece_vocab
from .text.clm_data import consecutive_windows, random_windows, token_stream, unigram_perplexity
from .text.corpus import tokenize_documents
from .text.pretraining_data import IGNORE_INDEX, MASKINGS, SENTENCE_TASKS, PretrainingData, VocabularyIds


OBJECTIVES = ("mlm", "clm")  # BERT's masked LM and sentence task; GPT's causal (next-token) LM
TINY_RUN_STEPS = {"mlm": 1900, "clm": 1500}  # the same time, about 2.5 minutes on 2 CPU cores
BUILT_IN_CORPUS = "python-reference"  # how a run names the built-in corpus, the Python language reference
BERT_ONLY = {"sentence_task": "nsp", "masking": "dynamic", "whole_word_masking": False, "embedding_size": None,
             "share_layers": False}  # settings a GPT has no use for, with their defaults


@dataclass
class PretrainSettings:
    objective: str = "mlm"
    preset: str = "tiny"
    vocab_size: int = 2000           # small: the tiny run has minutes; frequent words stay whole (vocab_merge_score)
    vocab_merge_score: str = "count"  # see train_wordpiece_vocab: whole frequent words in a small vocabulary
    lowercase: bool = True
    max_seq_length: int = 64
    max_predictions_per_seq: int = 10
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    whole_word_masking: bool = False
    masking: str = "dynamic"         # a fresh mask each pass over the corpus (RoBERTa); "static": masked once (BERT)
    sentence_task: str = "nsp"       # "sop", ALBERT's sentence-order prediction; "none", RoBERTa's: no sentence
                                     # task, inputs packed with full sentences across documents
    embedding_size: int | None = None  # ALBERT's factorised embeddings: E < H (None: H)
    share_layers: bool = False       # ALBERT: one layer's weights at every depth
    dropout: float | None = None     # None: 0.0 for mlm (BERT's 0.1 is for long runs; a run of minutes underfits,
                                     # and dropout only slows it), 0.1 for clm (every token is a target, and a tiny
                                     # GPT memorises this corpus within 1,900 steps: held-out perplexity 143
                                     # without dropout, training perplexity 1.5; 52 with 0.1; README says how
                                     # those were measured)
    batch_size: int = 32
    accumulate: int = 1              # batches whose gradients add up into one optimizer step
    steps: int | None = None         # None: the tiny run's budget, about 2.5 minutes on 2 CPU cores: 1,900 steps
                                     # for mlm; 1,500 for clm, whose head scores every position, not 10 a sequence
    learning_rate: float = 2.5e-3    # high for BERT, right for a tiny model trained for minutes
    warmup_steps: int = 100
    weight_decay: float = 0.01
    adam_beta2: float = 0.98         # RoBERTa's (Liu et al. 2019, section 3.1): steadier at a high learning rate;
                                     # BERT's 0.999 averages over ~1000 steps, half of this run
    max_grad_norm: float = 1.0
    held_out_every: int = 10         # every 10th document is held out for evaluation
    eval_batches: int = 20
    seed: int = 0
    corpus: str | None = None        # what the run trains on, as tinybert pretrain names it: a file's absolute path,
                                     # wikitext-2 or wikitext-103, or BUILT_IN_CORPUS; a resumed run goes on with it.
                                     # None: not recorded (documents given from Python, or an older checkpoint)

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}: use mlm (BERT) or clm (a left-to-right GPT)")
        # None picks the objective's value here, once: dataclasses.replace on a settings object keeps what was picked
        if self.dropout is None:
            self.dropout = 0.1 if self.objective == "clm" else 0.0
        if self.steps is None:
            self.steps = TINY_RUN_STEPS[self.objective]
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup of {self.warmup_steps} steps does not fit in {self.steps} steps: "
                             "give fewer warmup steps (--warmup) or more steps (--steps)")
        for name in ("steps", "batch_size", "accumulate", "vocab_size", "max_seq_length", "max_predictions_per_seq",
                     "embedding_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.held_out_every < 2:
            raise ValueError(f"held_out_every={self.held_out_every} leaves nothing to train on: hold out every 2nd "
                             "document or fewer (the default, 10, holds out every 10th)")
        if self.sentence_task not in SENTENCE_TASKS:
            raise ValueError(f"unknown sentence_task {self.sentence_task!r}: use one of {', '.join(SENTENCE_TASKS)}")
        if self.masking not in MASKINGS:
            raise ValueError(f"unknown masking {self.masking!r}: use one of {', '.join(MASKINGS)}")
        changed = [name for name, default in BERT_ONLY.items() if getattr(self, name) != default]
        if self.objective == "clm" and changed:
            raise ValueError(f"{', '.join(changed)}: BERT's settings, which a left-to-right GPT (objective clm) has no "
                             "use for: leave them out")
        if self.max_seq_length < 8:
            raise ValueError(f"a sequence length of {self.max_seq_length} leaves no room for two sentences "
                             "between [CLS] and two [SEP]: use 16 or more")


@dataclass
class Run:
    """Everything a pretraining run holds, so that it can be stepped, evaluated, saved and resumed."""
    settings: PretrainSettings
    tokenizer: BertTokenizer
    model: object              # BertForPreTraining, or GPT for objective clm
    optimizer: AdamW
    scheduler: LRScheduler
    batches: object            # an endless iterator of training Batches (for clm: (B, T) arrays of ids), taken
                               # `accumulate` at a time
    held_out: list             # the evaluation Batches
    most_frequent_id: int      # the masked-LM baseline's one prediction
    unigram_perplexity: float  # the left-to-right baseline: a model of the training text's token frequencies
    step: int = 0


def split_documents(documents, every, at_least=1):
    """(training documents, held-out documents): every `every`-th document is held out. Each part needs
    `at_least` documents (next-sentence prediction takes sentence B from another document: 2)."""
    held_out = documents[::every]
    training = [document for number, document in enumerate(documents) if number % every]
    if len(held_out) < at_least or len(training) < at_least:
        count = f"{len(documents)} document" + ("" if len(documents) == 1 else "s")
        fewest = next(total for total in itertools.count(1)  # the fewest documents that give both parts enough
                      if min(len(range(0, total, every)), total - len(range(0, total, every))) >= at_least)
        why = "training and evaluation need" if at_least == 1 else "next-sentence prediction needs"
        raise ValueError(f"the corpus has {count}: holding out every {every}th for evaluation leaves "
                         f"{len(held_out)} held out and {len(training)} to train on, and {why} at least {at_least} "
                         f"in each: give at least {fewest} documents (separate documents with a blank line)")
    return training, held_out


def data_stream(documents, tokenizer, settings, seed, training=True):
    """Endless masked batches; the held-out ones always dynamically masked, so that runs with either masking
    are measured on the same held-out batches."""
    return iter(PretrainingData(documents, VocabularyIds.from_tokenizer(tokenizer), batch_size=settings.batch_size,
                                seed=seed, fill_a_batch_per_pass=training,
                                masking=settings.masking if training else "dynamic",
                                max_seq_length=settings.max_seq_length,
                                max_predictions_per_seq=settings.max_predictions_per_seq,
                                masked_lm_prob=settings.masked_lm_prob, short_seq_prob=settings.short_seq_prob,
                                task=settings.sentence_task, whole_word=settings.whole_word_masking))


def start_run(settings, documents, tokenizer=None, model=None, step=0):
    """A run ready to train: a new vocabulary and model, or (when resuming) the ones given."""
    at_least = 2 if settings.objective == "mlm" and settings.sentence_task == "nsp" else 1  # NSP: B from another
    training_documents, held_out_documents = split_documents(documents, settings.held_out_every, at_least)
    if tokenizer is None:
        tokenizer = BertTokenizer(train_wordpiece_vocab([" ".join(document) for document in training_documents],
                                                        settings.vocab_size, lowercase=settings.lowercase,
                                                        score=settings.vocab_merge_score),
                                  lowercase=settings.lowercase)
    training_ids = tokenize_documents(training_documents, tokenizer)
    held_out_ids = tokenize_documents(held_out_documents, tokenizer)
    if model is None:
        ag.manual_seed(settings.seed)
        model = new_model(settings, tokenizer.vocab_size)
    optimizer = AdamW(parameter_groups(model, settings.weight_decay), lr=settings.learning_rate,
                      betas=(0.9, settings.adam_beta2), eps=1e-6)
    scheduler = LRScheduler(optimizer, lambda number: linear_warmup_decay(number, settings.warmup_steps, settings.steps))
    counts = np.bincount([token for document in training_ids for sentence in document for token in sentence],
                         minlength=tokenizer.vocab_size)
    counts[list(tokenizer.special_ids)] = 0
    if settings.objective == "clm":
        training_tokens, held_out_tokens = (token_stream(ids, tokenizer.sep_id) for ids in (training_ids, held_out_ids))
        training_stream = random_windows(training_tokens, settings.max_seq_length, settings.batch_size, settings.seed)
        held_out = consecutive_windows(held_out_tokens, settings.max_seq_length, settings.batch_size,
                                       settings.eval_batches)
        baseline = unigram_perplexity(training_tokens, held_out, tokenizer.vocab_size)
    else:
        training_stream = data_stream(training_ids, tokenizer, settings, settings.seed)
        held_out_stream = data_stream(held_out_ids, tokenizer, settings, seed=settings.seed + 1, training=False)
        held_out = [next(held_out_stream) for _ in range(settings.eval_batches)]
        baseline = None
    first_batch = next(training_stream)  # drawn now, so a corpus too small for one batch is an error at once
    run = Run(settings, tokenizer, model, optimizer, scheduler, itertools.chain([first_batch], training_stream),
              held_out, int(counts.argmax()), baseline)
    # resuming: replay the data stream (`accumulate` batches a step) and the schedule (resume_run then restores
    # the optimizer's averages), so the run goes on exactly as it would have
    for _ in range(step * settings.accumulate):
        next(run.batches)
    for _ in range(step):
        run.scheduler.step()
    run.step = step
    return run


def new_model(settings, vocab_size):
    """A fresh BERT (objective mlm) or GPT (clm) of the settings' preset size."""
    positions = max(512, settings.max_seq_length)
    if settings.objective == "clm":
        return GPT(GPTConfig.preset(settings.preset, vocab_size, max_position_embeddings=positions,
                                    dropout=settings.dropout))
    return BertForPreTraining(BertConfig.preset(settings.preset, vocab_size, max_position_embeddings=positions,
                                                hidden_dropout=settings.dropout, attention_dropout=settings.dropout,
                                                embedding_size=settings.embedding_size,
                                                share_layers=settings.share_layers, sentence_task=settings.sentence_task))


def forward(model, batch, sentence_task):
    """The model's logits and losses on one batch: (mlm_logits, nsp_logits, mlm_loss, nsp_loss).

    With no sentence task (RoBERTa) nsp_loss is None: the pooler and the 2-way head still run, but no loss
    reads them, so they get no gradient and keep the weights they started with (AdamW skips a parameter
    that has no gradient, its weight decay too). Fine-tuning then trains the pooler from that start."""
    mlm_logits, nsp_logits = model(batch.input_ids, batch.segment_ids, batch.attention_mask, batch.masked_positions)
    if sentence_task == "none":
        mlm_loss = ag.cross_entropy(mlm_logits, batch.masked_labels, ignore_index=IGNORE_INDEX)  # (B, P, V) -> ()
        return mlm_logits, nsp_logits, mlm_loss, None
    _, mlm_loss, nsp_loss = model.loss(mlm_logits, nsp_logits, batch.masked_labels, batch.next_sentence_labels)
    return mlm_logits, nsp_logits, mlm_loss, nsp_loss


def correct_counts(mlm_logits, nsp_logits, batch, baseline_id):
    """Counts in one batch: right masked-LM guesses, right guesses of the baseline (always baseline_id),
    real masked positions (padded predictions left out), right sentence labels, and pairs. Each guess is
    taken where the logits are, so from a GPU only the guesses come back, not the (B, P, V) scores."""
    mlm_guesses = backend.to_numpy(mlm_logits.data.argmax(axis=-1))             # (B, P)
    nsp_guesses = backend.to_numpy(nsp_logits.data.argmax(axis=-1))             # (B,)
    real = batch.masked_labels != IGNORE_INDEX                                   # (B, P)
    mlm_correct = (mlm_guesses == batch.masked_labels) & real                    # (B, P)
    baseline_correct = (batch.masked_labels == baseline_id) & real
    nsp_correct = nsp_guesses == batch.next_sentence_labels                      # (B,)
    return np.array([mlm_correct.sum(), baseline_correct.sum(), real.sum(), nsp_correct.sum(), nsp_correct.size])


def backward_through(model, batches, sentence_task, baseline_id):
    """Back-propagate the loss of `batches` taken together as one batch, a batch at a time (gradient
    accumulation: the memory of one batch, the gradient of all); returns their metrics.

    Gradients add up over backward calls, so each batch's mean loss is weighted by its share of what the
    whole mean is over: the masked LM's by its share of the real masked positions, the sentence task's by
    its share of the pairs. Then 2 batches of 16 give exactly the gradient of one batch of their 32
    examples. (A plain 1/N would not: batches hold different numbers of masked positions.)"""
    masked = np.array([(batch.masked_labels != IGNORE_INDEX).sum() for batch in batches])  # (N,)
    pairs = np.array([len(batch.input_ids) for batch in batches])                          # (N,)
    counts, mlm_loss_sum, nsp_loss_sum = np.zeros(5, dtype=np.int64), 0.0, 0.0
    for batch, mlm_share, pair_share in zip(batches, (masked / masked.sum()).tolist(), (pairs / pairs.sum()).tolist()):
        mlm_logits, nsp_logits, mlm_loss, nsp_loss = forward(model, batch, sentence_task)
        loss = mlm_loss * mlm_share if nsp_loss is None else mlm_loss * mlm_share + nsp_loss * pair_share
        loss.backward()
        mlm_loss_sum += mlm_loss.item() * mlm_share
        nsp_loss_sum += 0.0 if nsp_loss is None else nsp_loss.item() * pair_share
        counts += correct_counts(mlm_logits, nsp_logits, batch, baseline_id)
    mlm_correct, _, real, nsp_correct, pairs_seen = counts.tolist()
    metrics = {"loss": mlm_loss_sum + nsp_loss_sum, "mlm_loss": mlm_loss_sum,
               "mlm_accuracy": mlm_correct / max(real, 1)}
    if sentence_task != "none":
        metrics.update(nsp_loss=nsp_loss_sum, nsp_accuracy=nsp_correct / pairs_seen)
    return {**metrics, "tokens": sum(int(batch.attention_mask.sum()) for batch in batches)}


def backward_through_windows(model, batches):
    """backward_through for a GPT: every window is full, so each batch holds as many next tokens and weighs 1/N."""
    loss_sum = 0.0
    for batch in batches:
        loss = model.loss(model(batch), batch) * (1 / len(batches))
        loss.backward()
        loss_sum += loss.item()
    return {"loss": loss_sum, "perplexity": math.exp(loss_sum), "tokens": sum(int(batch.size) for batch in batches)}


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number: the step that saw it changed nothing."""


def train_step(run):
    """One optimizer step, on the gradients of `accumulate` batches; returns the step's metrics. A loss of NaN
    or infinity raises TrainingDiverged before any weight moves, so the model (and any checkpoint) stays as
    the last good step left it."""
    batches = [next(run.batches) for _ in range(run.settings.accumulate)]
    run.model.train()
    run.optimizer.zero_grad()
    if run.settings.objective == "clm":
        metrics = backward_through_windows(run.model, batches)
    else:
        metrics = backward_through(run.model, batches, run.settings.sentence_task, run.most_frequent_id)
    if not math.isfinite(metrics["loss"]):
        raise TrainingDiverged(f"the loss became {metrics['loss']} at step {run.step + 1}: the run stopped there. "
                               "Try a lower learning rate (--lr) or more warmup (--warmup)")
    run.optimizer.clip_grad_norm(run.settings.max_grad_norm)
    learning_rate = run.optimizer.param_groups[0]["lr"]
    run.optimizer.step()
    run.scheduler.step()
    run.step += 1
    return {"step": run.step, **metrics, "learning_rate": learning_rate}


def evaluate(run):
    """Held-out masked-LM accuracy, next-sentence accuracy (when there is a sentence task) and loss, and the
    most-frequent-token baseline; for a GPT, the held-out loss and perplexity, and the unigram model's perplexity."""
    run.model.eval()
    if run.settings.objective == "clm":
        with ag.no_grad():  # each batch's mean loss weighted by its windows: the last batch may hold fewer
            losses = [run.model.loss(run.model(batch), batch).item() for batch in run.held_out]
            loss = float(np.average(losses, weights=[len(batch) for batch in run.held_out]))
        return {"step": run.step, "held_out_loss": loss, "held_out_perplexity": math.exp(loss),
                "unigram_perplexity": run.unigram_perplexity}
    counts, losses = np.zeros(5, dtype=np.int64), []
    with ag.no_grad():
        for batch in run.held_out:
            mlm_logits, nsp_logits, mlm_loss, nsp_loss = forward(run.model, batch, run.settings.sentence_task)
            counts += correct_counts(mlm_logits, nsp_logits, batch, run.most_frequent_id)
            losses.append(mlm_loss.item() + (0.0 if nsp_loss is None else nsp_loss.item()))
    mlm_correct, baseline_correct, masked, nsp_correct, pairs = counts.tolist()
    sentence_task = {} if run.settings.sentence_task == "none" else {"held_out_nsp_accuracy": nsp_correct / pairs}
    return {"step": run.step, "held_out_loss": float(np.mean(losses)), "held_out_mlm_accuracy": mlm_correct / masked,
            **sentence_task, "baseline_mlm_accuracy": baseline_correct / masked,
            "baseline_token": run.tokenizer.tokens[run.most_frequent_id]}


def train(run, steps, on_step=None):
    """Take `steps` more steps; on_step(metrics) after each (with tokens/s measured over the step)."""
    for _ in range(steps):
        started = time.perf_counter()
        metrics = train_step(run)
        metrics["tokens_per_second"] = metrics["tokens"] / (time.perf_counter() - started)
        if on_step:
            on_step(metrics)


def save_run(run, directory):
    trainer_state = {"step": run.step, "engine_generator": backend.generator("cpu").bit_generator.state}
    save_checkpoint(directory, run.model, run.tokenizer, asdict(run.settings), run.optimizer, trainer_state)


def corpus_is_gone(corpus):
    """Whether a recorded corpus is a file (recorded by its full path) that is no longer there."""
    return corpus is not None and Path(corpus).is_absolute() and not Path(corpus).exists()


def resume_run(directory, documents_of, steps=None, corpus=None):
    """(the run saved in `directory`, ready to go on, and its documents): to `steps` in all, if given, else
    its own total, on documents_of(name) of the corpus it recorded. `corpus`, if given, must be that one,
    or the new place of its file if the file has moved; a checkpoint that recorded none (one saved before
    runs recorded their corpus) needs it. A given corpus is recorded from then on."""
    model, tokenizer, saved, trainer_state = load_checkpoint(directory, language_model)
    settings = PretrainSettings(**saved["settings"])
    if settings.corpus is None and corpus is None:
        raise ValueError(f"{directory} does not record which corpus it was trained on (it was saved before runs "
                         f"recorded that): give it with --corpus (--corpus {BUILT_IN_CORPUS} for the built-in one)")
    if corpus is not None and settings.corpus not in (None, corpus) and not corpus_is_gone(settings.corpus):
        raise ValueError(f"--corpus {corpus} (the run's is {settings.corpus}): a resumed run goes on with its own "
                         "corpus: leave out --corpus")
    if corpus is None and corpus_is_gone(settings.corpus):
        raise ValueError(f"the run's corpus {settings.corpus} is no longer there: put it back, or give its new "
                         "place with --corpus")
    settings = replace(settings, corpus=corpus or settings.corpus)  # given: recorded from now on
    if steps is not None:
        settings = replace(settings, steps=steps)  # checked again: warmup must still fit
    if settings.steps <= trainer_state["step"]:
        raise ValueError(f"{directory} is at step {trainer_state['step']} already: give --steps a larger total "
                         "to train further")
    documents = documents_of(settings.corpus)
    run = start_run(settings, documents, tokenizer, model, step=trainer_state["step"])
    load_optimizer_state(directory, run.optimizer)
    backend.generator("cpu").bit_generator.state = trainer_state["engine_generator"]
    return run, documents


def initial_loss_expected(vocab_size, sentence_task="nsp"):
    """ln(V) + ln(2): what the loss starts near when every word and both sentence labels are equally likely
    (ln(V) alone with no sentence task)."""
    return math.log(vocab_size) + (0.0 if sentence_task == "none" else math.log(2))


def fill_mask(model, tokenizer, text, top_k=5):
    """For each [MASK] in `text`, the top_k (token, probability) pairs the model predicts there."""
    encoding = tokenizer.encode(text)
    ids = np.array([encoding.ids])
    positions = np.flatnonzero(ids[0] == tokenizer.mask_id)
    if positions.size == 0:
        hint = " (in capitals: [MASK], not [mask])" if "[mask]" in text.lower() else ""
        raise ValueError(f"{text!r} has no [MASK] to fill: write [MASK] where the model should guess a word{hint}")
    model.eval()
    with ag.no_grad():
        mlm_logits, _ = model(ids, np.array([encoding.segment_ids]), np.ones_like(ids, dtype=bool), positions[None, :])
        probabilities = ag.softmax(mlm_logits).numpy()[0]  # (P, V)
    best = np.argsort(-probabilities, axis=-1)[:, :top_k]  # (P, top_k)
    return [[(tokenizer.tokens[token], float(row[token])) for token in tokens] for tokens, row in zip(best, probabilities)]


def fill_mask_examples(tokenizer, documents, count=3):
    """(text with one [MASK], the word it hides) from the first sentences of `documents`: the masked
    word is the sentence's longest word that the vocabulary holds whole."""
    examples = []
    for document in documents:
        words = document[0].split()
        whole = [number for number, word in enumerate(words)
                 if word.isalpha() and tokenizer.tokenize(word) == [word.lower()]]
        if whole:
            hidden = max(whole, key=lambda number: len(words[number]))
            examples.append((" ".join(words[:hidden] + ["[MASK]"] + words[hidden + 1:]), words[hidden]))
        if len(examples) == count:
            break
    return examples
