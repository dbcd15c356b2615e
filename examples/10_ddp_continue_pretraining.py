"""Continue pretraining an exported tinybert model in PyTorch, on several processes at once, with
DistributedDataParallel (DDP): the road past one machine.

    tinybert pretrain --tiny --out tiny                 # or any tinybert BERT checkpoint
    tinybert export-hf tiny --out tiny-hf
    python -m torch.distributed.run --nproc_per_node 2 examples/10_ddp_continue_pretraining.py tiny-hf --out tiny-ddp
    tinybert import-hf tiny-ddp --out tiny-again        # back in tinybert: fill-mask, attention, embed
    python examples/10_ddp_continue_pretraining.py tiny-hf --out tiny-ddp     # one process works too

The hand-off. export-hf writes three things, and this script moves each one across:
- the weights, renamed and reshaped: tinybert's bert.encoder.layers.0.attention.q.weight is Hugging
  Face's bert.encoder.layer.0.attention.self.query.weight, and every Linear weight is transposed, since
  tinybert stores W as (in, out) and computes x W, torch as (out, in) and computes x W^T
  (tinybert/hf_checkpoint.py holds the whole table). The MLM decoder is the word-embedding matrix in both.
- the configuration: config.json under Hugging Face's names (num_hidden_layers for num_layers, ...).
- the vocabulary: vocab.txt, the same file in both, and the same tokenizer. The batches are tinybert's
  own (tinybert.pretraining.data_stream), so the data are exactly what `tinybert pretrain` would train on.
save_pretrained writes config.json and model.safetensors back in Hugging Face's form, and the script copies
the vocabulary beside them, so `tinybert import-hf` reads the result as it reads any BERT checkpoint.

What DDP adds to a training loop, each marked "# DDP n" in main below:
1. a process group: every process (a "rank") joins, and learns its number and how many there are;
2. the wrapping: DistributedDataParallel(model) copies rank 0's weights to every rank, so all start equal;
3. a shard of the data for each rank: here every world_size-th document, as DistributedSampler would deal them;
4. in backward, DDP averages the gradients over the ranks (an all-reduce, overlapped with the backward).
   Each rank's gradient is that of its own batch's mean loss, and the mean of those is the gradient of the
   mean loss over all the ranks' batches together (up to the masked-LM mean, which counts masked tokens, a
   few more on one rank than another): one step of a batch world_size times larger. Every rank
   then applies the same averaged gradient to the same weights, so the copies stay identical without the
   weights ever being sent again;
5. the logged loss is all-reduced too, so it is the loss of the whole step, not of rank 0's share;
6. rank 0 alone prints and saves: the copies are identical (each rank's fingerprint of its weights is
   gathered to show it), and two writers to one directory would race.
"""

import hashlib
import itertools
import json
import os
import shutil
import sys
from pathlib import Path

import click
import numpy as np

from tinybert.checkpoint import check_vocabulary_fits
from tinybert.optim import linear_warmup_decay
from tinybert.pretraining import PretrainSettings, data_stream
from tinybert.text import BertTokenizer
from tinybert.text.corpus import read_corpus_file, tokenize_documents
from tinybert.text.pretraining_data import IGNORE_INDEX
from tinybert.text.python_reference import python_reference_documents


def fail(message):
    """Say what is wrong in one line and exit with status 2, as the tinybert command does for bad input."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


try:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from transformers import BertForPreTraining
    from transformers.utils.logging import disable_progress_bar
except ImportError as missing:
    fail(f"this example needs PyTorch and transformers, and {missing.name} is not installed: "
         "pip install -e \".[parity]\"")


def join_process_group():
    """DDP: (rank, world size, device) of this process, once it has joined the group of all of them. Under
    torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, the ranks meet at that address;
    run with plain python, this process is a group of one, met through an in-memory store."""
    backend = "nccl" if torch.cuda.is_available() else "gloo"  # nccl moves GPU tensors; gloo CPU tensors
    if "RANK" in os.environ:
        dist.init_process_group(backend)  # reads the address, the rank and the world size from those variables
    else:
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))  # one GPU for each rank on a machine
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), device


def check_holds_an_export(directory):
    """Refuse a directory without the files export-hf writes (without config.json, transformers would
    quietly build a BERT-base and then fail to fit the weights into it)."""
    missing = [name for name in ("config.json", "model.safetensors", "vocab.txt") if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"{directory} has no {missing[0]}: give a directory that tinybert export-hf wrote")


def read_tokenizer(directory):
    """tinybert's tokenizer of a Hugging Face directory: its vocab.txt, uncased unless
    tokenizer_config.json says otherwise (as tinybert.hf_checkpoint.read_hf_bert reads it)."""
    settings_file = directory / "tokenizer_config.json"
    lowercase = json.loads(settings_file.read_text()).get("do_lower_case", True) if settings_file.is_file() else True
    return BertTokenizer.from_file(directory / "vocab.txt", lowercase=lowercase)


def hugging_face_inputs(batch, device):
    """A tinybert Batch as BertForPreTraining's arguments. tinybert names the masked positions, (B, P), and
    scores only those; Hugging Face scores every position and takes a label for each, (B, T), IGNORE_INDEX
    (-100) where there is nothing to predict. A padded prediction points at position 0, [CLS], which is
    never masked, with the label -100, so scattering it there changes nothing."""
    labels = np.full(batch.input_ids.shape, IGNORE_INDEX, dtype=np.int64)             # (B, T)
    np.put_along_axis(labels, batch.masked_positions, batch.masked_labels, axis=1)  # (B, P) into (B, T)
    arrays = {"input_ids": batch.input_ids, "token_type_ids": batch.segment_ids,
              "attention_mask": batch.attention_mask.astype(np.int64), "labels": labels,
              "next_sentence_label": batch.next_sentence_labels}
    return {name: torch.as_tensor(array, device=device) for name, array in arrays.items()}


def decay_groups(model, weight_decay):
    """AdamW's two parameter groups: biases and LayerNorm weights do not decay, as in BERT (the rule of
    tinybert.optim.parameter_groups, on a torch module)."""
    layer_norm_weights = {id(module.weight) for module in model.modules() if isinstance(module, torch.nn.LayerNorm)}
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        is_bias = name.split(".")[-1] == "bias"
        (no_decay if is_bias or id(parameter) in layer_norm_weights else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def mean_over_ranks(loss, world_size):
    """DDP: the mean of every rank's loss. all_reduce sums a tensor over the ranks, in place, and every
    rank receives the sum (gloo has no AVG), so every rank must call it, printing or not."""
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / world_size


def weights_fingerprint(model):
    """The first 16 hex digits of the SHA-256 of every weight's bytes: equal on two ranks only when their
    weights are equal bit for bit."""
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def save(model, source, out):
    """The trained model as a Hugging Face directory that `tinybert import-hf` reads."""
    model.save_pretrained(out)  # config.json and model.safetensors, under Hugging Face's names
    for name in ("vocab.txt", "tokenizer_config.json"):
        if (source / name).is_file():
            shutil.copy(source / name, out / name)


@click.command()
@click.argument("hf_directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The Hugging Face directory to write; tinybert import-hf reads it.")
@click.option("--corpus", type=click.Path(dir_okay=False), default=None,
              help="One sentence per line, a blank line between documents [default: the built-in corpus].")
@click.option("--steps", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=1),
              help="Pairs per process: a step sees this many times the number of processes.")
@click.option("--lr", "learning_rate", default=5e-4, show_default=True)
@click.option("--warmup", "warmup_steps", default=20, show_default=True)
@click.option("--log-every", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True)
def main(hf_directory, out, corpus, log_every, **options):
    """Continue pretraining the Hugging Face BERT in HF_DIRECTORY (from tinybert export-hf) with DDP."""
    disable_progress_bar()  # Hugging Face draws one as every rank loads and saves: the log is the losses
    try:
        settings = PretrainSettings(**options)  # tinybert pretrain's knobs: sequence length, masking, AdamW, clipping
        documents = read_corpus_file(corpus) if corpus else python_reference_documents()
        check_holds_an_export(hf_directory)
        tokenizer = read_tokenizer(hf_directory)
        model = BertForPreTraining.from_pretrained(hf_directory)
        check_vocabulary_fits(tokenizer, model.config, hf_directory / "vocab.txt")
        if model.config.max_position_embeddings < settings.max_seq_length:
            raise ValueError(f"the model reads at most {model.config.max_position_embeddings} positions, fewer than "
                             f"tinybert's sequences of {settings.max_seq_length} tokens: give a model with more")
    except (ValueError, OSError) as error:
        fail(error)
    rank, world_size, device = join_process_group()                           # DDP 1
    model.to(device)
    model.train()
    model = DistributedDataParallel(model)                                    # DDP 2: rank 0's weights everywhere
    my_documents = tokenize_documents(documents[rank::world_size], tokenizer)  # DDP 3: this rank's share
    batches = data_stream(my_documents, tokenizer, settings, seed=settings.seed + rank)
    try:
        batches = itertools.chain([next(batches)], batches)  # a shard too small for one batch fails here, in one line
    except ValueError as error:
        fail(f"rank {rank}'s share of the corpus: {error}")
    optimizer = torch.optim.AdamW(decay_groups(model.module, settings.weight_decay), lr=settings.learning_rate,
                                  betas=(0.9, settings.adam_beta2), eps=1e-6)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: linear_warmup_decay(step, settings.warmup_steps, settings.steps))
    if rank == 0:
        parameters = sum(parameter.numel() for parameter in model.parameters())
        print(f"world size {world_size} on {device.type} ({dist.get_backend()}): {parameters:,} parameters, "
              f"{world_size} x {settings.batch_size} pairs a step", flush=True)
    for step in range(1, settings.steps + 1):
        loss = model(**hugging_face_inputs(next(batches), device)).loss  # MLM + NSP, as tinybert's BERT loss
        optimizer.zero_grad()
        loss.backward()                                                       # DDP 4: gradients averaged here
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
        optimizer.step()
        schedule.step()
        if step == 1 or step % log_every == 0:
            step_loss = mean_over_ranks(loss, world_size)                     # DDP 5
            if rank == 0:
                print(f"step {step:5d}  loss {step_loss:.4f}", flush=True)
    fingerprints = [None] * world_size
    dist.all_gather_object(fingerprints, weights_fingerprint(model.module))   # every rank's, on every rank
    if rank == 0:                                                             # DDP 6
        print(f"weights sha256, rank by rank: {' '.join(fingerprints)}", flush=True)
        save(model.module, hf_directory, out)
        print(f"saved {out}/ (back to tinybert: tinybert import-hf {out} --out DIRECTORY)", flush=True)
    # The end, in an order that cannot deadlock. Gloo's worker threads free a finished collective's tensors,
    # which takes Python's lock (the GIL), while DDP's teardown holds that lock and waits for those threads
    # (PyTorch issue #56297). So this process keeps the last collective's handle until the group is gone,
    # and frees it itself, at the return: no worker is then left with Python tensors to free.
    everyone_here = dist.barrier(async_op=True)                               # rank 0 may still be saving
    everyone_here.wait()
    del model                                                                 # DDP holds the process group
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
