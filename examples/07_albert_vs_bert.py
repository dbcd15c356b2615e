"""ALBERT's two ways to a smaller BERT, counted: factorised embeddings and one layer shared by every depth.

    python examples/07_albert_vs_bert.py

Lan et al. (2020, section 3.1) noted that BERT's word-embedding table is V x H, so every unit of width
H costs V more parameters; ALBERT makes the table V x E with E << H and projects E -> H. And its
layers share one set of weights, so depth costs no parameters. The counts below are tinybert's own
models, built and counted, pooler and pretraining heads included; the paper's Table 1 gives 108M for
BERT-base and 12M for ALBERT-base (vocabulary 30,000, E = 128).
"""

import click

from tinybert.models.bert import BertConfig, BertForPreTraining


def parameters(config):
    return sum(parameter.size for parameter in BertForPreTraining(config).parameters())


@click.command()
@click.option("--preset", default="base", show_default=True, type=click.Choice(["tiny", "mini", "small", "base"]))
@click.option("--vocab-size", default=30000, show_default=True)
@click.option("--fast", is_flag=True, help="Accepted for uniformity with the other examples: this one is fast.")
def main(preset, vocab_size, fast):
    variants = {"BERT": {}, "factorised embeddings (E = 128)": {"embedding_size": 128},
                "shared layers": {"share_layers": True},
                "ALBERT: both": {"embedding_size": 128, "share_layers": True}}
    bert = None
    for name, options in variants.items():
        count = parameters(BertConfig.preset(preset, vocab_size, **options))
        bert = bert or count
        click.echo(f"{name:34} {count:>12,} parameters   {count / bert:6.1%} of BERT's")


if __name__ == "__main__":
    main()
