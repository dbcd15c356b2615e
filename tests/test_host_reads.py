"""Where a training step waits for a GPU: every value read back to the host (an index check, a Python
`if` on an array) makes the host wait until the device has done all the work queued so far, so a step
keeps them few and known. Counted on the pretend GPU (device_double.py), whatever the run's device."""

import collections
import traceback
from pathlib import Path

import numpy as np

import device_double
import tinybert
from tinybert import autograd as ag
from tinybert.autograd import backend
from tinybert.models.bert import BertConfig, BertForPreTraining
from tinybert.optim import AdamW, clip_grad_norm


def pretraining_batch(xp, batch=3, length=12, vocab=40, masked=2, seed=0):
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(5, vocab, size=(batch, length))  # (B, T)
    segment_ids = (np.arange(length) >= length // 2).astype(np.int64)[None].repeat(batch, axis=0)  # (B, T)
    is_real = np.arange(length) < np.array([[length], [length - 3], [length - 5]])  # (B, T): two are padded
    masked_positions = np.tile(np.arange(1, masked + 1), (batch, 1))  # (B, P)
    masked_labels = rng.integers(5, vocab, size=(batch, masked))  # (B, P)
    next_sentence_labels = rng.integers(0, 2, size=batch)  # (B,)
    return [xp.asarray(array) for array in
            (input_ids, segment_ids, is_real, masked_positions, masked_labels, next_sentence_labels)]


def reads_of(step, monkeypatch):
    """{"file.py:function": how many reads back to the host it made} while step() ran: the innermost
    tinybert function outside backend.py that asked for each read."""
    reads = collections.Counter()
    read_back = device_double.DeviceArray.read_back
    package = Path(tinybert.__file__).resolve().parent

    def counted(array, convert):
        asking = [frame for frame in traceback.extract_stack() if Path(frame.filename).resolve().is_relative_to(package)
                  and Path(frame.filename).name != "backend.py"]
        reads[f"{Path(asking[-1].filename).name}:{asking[-1].name}"] += 1
        return read_back(array, convert)

    monkeypatch.setattr(device_double.DeviceArray, "read_back", counted)
    step()
    return reads


def test_a_bert_pretraining_step_reads_back_only_its_index_checks_and_its_padding_check(pretend_gpu, monkeypatch):
    ag.manual_seed(0)
    config = BertConfig(vocab_size=40, hidden_size=8, num_layers=1, num_heads=2, intermediate_size=16,
                        max_position_embeddings=16)
    model = BertForPreTraining(config).to("cuda")
    optimizer = AdamW(model.parameters(), lr=1e-3)
    xp = backend.module_for_device("cuda")
    input_ids, segment_ids, is_real, positions, labels, sentence_labels = pretraining_batch(xp)

    def step():
        mlm_logits, nsp_logits = model(input_ids, segment_ids, is_real, positions)
        loss = model.loss(mlm_logits, nsp_logits, labels, sentence_labels)[0]
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()

    assert reads_of(step, monkeypatch) == {
        "selection.py:embedding": 3,      # token, segment and position ids are in their tables (min and max: one read)
        "shapes.py:check_index": 1,       # the masked positions are in the sequence
        "losses.py:cross_entropy": 2,     # the masked-LM and next-sentence labels are classes
        "bert.py:forward": 1,             # is anything padded? (no padding: no mask to add)
    }  # and nothing else: the loss's mean, the clipping and AdamW stay on the device


def test_tinybert_pretrains_step_reads_back_its_checks_then_its_losses_and_guesses(pretend_gpu, monkeypatch):
    from tinybert.pretraining import PretrainSettings, start_run, train_step

    documents = [[f"the {animal} sleeps in the {place} .", f"a {animal} runs to the {place} ."]
                 for animal in ("cat", "dog", "fox", "owl") for place in ("barn", "yard", "wood")]
    monkeypatch.setenv("TINYBERT_DEVICE", "cuda")  # the pretend GPU's
    settings = PretrainSettings(vocab_size=60, max_seq_length=16, batch_size=4, steps=2, warmup_steps=1,
                                held_out_every=4, eval_batches=1)
    run = start_run(settings, documents)
    # the batch comes from the host, where its masked positions and its padding are checked without a wait
    assert reads_of(lambda: train_step(run), monkeypatch) == {
        "selection.py:embedding": 3, "losses.py:cross_entropy": 2,
        "tensor.py:item": 2,                  # the two losses, after the backward: a loss that is not finite
        "pretraining.py:correct_counts": 2,   # stops the run before any weight moves; the guesses (B, P) and (B,)
    }
