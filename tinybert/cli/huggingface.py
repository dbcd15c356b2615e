"""Hugging Face checkpoints both ways (`import-hf`, `export-hf`), and sentence embeddings (`embed`)."""

import json

import click

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..hf_checkpoint import HuggingFaceError, read_hf_bert, write_hf_bert
from ..nn import StateDictError
from ..safetensors_io import SafetensorsError
from ..sentence_embeddings import cosine_similarities, sentence_embeddings
from .base import main, make_room_for, reported_as_input_errors


@main.command("import-hf")
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The tinybert checkpoint directory to write.")
def import_hf(source, out):
    """Read a Hugging Face BERT directory (config.json, model.safetensors, vocab.txt) into a tinybert checkpoint."""
    with reported_as_input_errors(HuggingFaceError, SafetensorsError, StateDictError, OSError, ValueError):
        model, tokenizer, missing = read_hf_bert(source)
    save_checkpoint(out, model, tokenizer, {"lowercase": tokenizer.basic_tokenizer.lowercase},
                    trainer_state={"imported_from": source})
    parameters = sum(parameter.size for parameter in model.parameters())
    click.echo(f"imported {source}: BERT with {model.config.num_layers} layers, hidden size {model.config.hidden_size}, "
               f"{model.config.num_heads} heads, {parameters:,} parameters, vocabulary {tokenizer.vocab_size:,}")
    if missing:
        click.echo(f"note: the checkpoint has no {', '.join(sorted({name.split('.')[0] for name in missing}))} "
                   "weights (a bare encoder): those prediction heads start from fresh random weights (embed and attention "
                   "do not use them)", err=True)
    click.echo(f"saved the checkpoint to {out}/ (try: tinybert embed --model {out} --similarity \"a sentence\" "
               "\"another sentence\")")


@main.command("export-hf")
@click.argument("model_directory", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The Hugging Face directory to write (config.json, model.safetensors, vocab.txt).")
def export_hf(model_directory, out):
    """Write a tinybert checkpoint as a Hugging Face BERT directory, which
    transformers.BertForPreTraining.from_pretrained(OUT) loads: the road to PyTorch's tools."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    make_room_for(out, directory=True)
    with reported_as_input_errors(HuggingFaceError):
        write_hf_bert(model, tokenizer, out)
    click.echo(f"wrote {out}/ (config.json, model.safetensors, vocab.txt, tokenizer_config.json); in Python: "
               f"transformers.BertForPreTraining.from_pretrained({str(out)!r})")


@main.command()
@click.option("--model", "model_directory", required=True, type=click.Path(file_okay=False),
              help="A tinybert checkpoint directory (from tinybert pretrain or tinybert import-hf).")
@click.option("--similarity", is_flag=True, help="Print the cosine similarity of every pair instead of the vectors.")
@click.argument("sentences", nargs=-1, required=True)
def embed(model_directory, similarity, sentences):
    """Sentence embeddings: the mean of the final hidden states over each sentence's tokens, scaled to length 1
    (as sentence-transformers does for all-MiniLM-L6-v2). Prints one JSON line per sentence, or with
    --similarity the matrix of cosine similarities."""
    with reported_as_input_errors(CheckpointError, StateDictError, OSError):
        model, tokenizer, _, _ = load_checkpoint(model_directory)
    vectors = sentence_embeddings(model, tokenizer, list(sentences))
    if not similarity:
        for sentence, vector in zip(sentences, vectors):
            click.echo(json.dumps({"sentence": sentence, "embedding": [round(float(value), 6) for value in vector]}))
        return
    matrix = cosine_similarities(vectors)
    for number, sentence in enumerate(sentences, start=1):
        click.echo(f"{number}. {sentence}")
    click.echo("     " + "".join(f"{number:>7}" for number in range(1, len(sentences) + 1)))
    for number, row in enumerate(matrix, start=1):
        click.echo(f"{number:>4} " + "".join(f"{value:>7.3f}" for value in row))
