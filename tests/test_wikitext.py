"""WikiText as a pretraining corpus: its lines become documents of sentences, and `tinybert pretrain
--corpus wikitext-2` trains on them through `datasets` (a local stand-in here, never a download)."""

import json
import sys

import numpy as np
from click.testing import CliRunner

from extras import needs_datasets
from tinybert.cli import main
from tinybert.text.wikitext import wikitext_documents

LINES = [  # as datasets gives wikitext-2-raw-v1's "text" column: paragraphs and headings, with blank lines
    "",
    " = Valkyria Chronicles III = \n",
    "",
    " Senjō no Valkyria 3 is a tactical role @-@ playing game . It was released in January 2011 in Japan . \n",
    " = = Gameplay = = \n",
    " The game has 1 @,@ 200 maps ! Players like it . \n",
    " = Tower Building of the Little Rock Arsenal = \n",
    " The building is 3 @.@ 5 storeys tall . \n",
]


def test_articles_become_documents_and_paragraphs_become_sentences():
    assert wikitext_documents(LINES) == [
        ["Senjō no Valkyria 3 is a tactical role-playing game .", "It was released in January 2011 in Japan .",
         "The game has 1,200 maps !", "Players like it ."],
        ["The building is 3.5 storeys tall ."],
    ]


def test_a_sentence_ends_before_a_capital_a_quotation_mark_or_a_parenthesis_and_nowhere_else():
    paragraph = (" It rained . \"Go ,\" she said . 'Yes ,' he said . (It ended .) It was 1 . 2 was next . the end !"
                 " Élan won ? \n")
    assert wikitext_documents([" = A = \n", paragraph]) == [[
        "It rained .", "\"Go ,\" she said .", "'Yes ,' he said .",
        "(It ended .) It was 1 . 2 was next . the end ! Élan won ?"]]  # after ')', or before 2, t, É: no cut


def test_text_before_the_first_title_is_a_document_of_its_own_and_empty_articles_are_dropped():
    assert wikitext_documents([" Lead text . \n", " = A = \n", "", " = B = \n", " Body . \n"]) == [
        ["Lead text ."], ["Body ."]]


def fake_wikitext(rng, articles=12, sentences=5):
    lines = []
    for article in range(articles):
        lines += ["", f" = Article {article} = \n", ""]
        lines.append(" " + " ".join(f"The {rng.choice(['cat', 'dog', 'owl'])} sleeps in the "
                                    f"{rng.choice(['barn', 'house', 'tree'])} ." for _ in range(sentences)) + " \n")
    return lines


def test_pretrain_reads_wikitext_through_datasets(tmp_path, monkeypatch):
    datasets = needs_datasets()
    local = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": fake_wikitext(np.random.default_rng(0))})})
    asked = []
    monkeypatch.setattr(datasets, "load_dataset", lambda path, name: asked.append((path, name)) or local)
    result = CliRunner().invoke(main, ["pretrain", "--corpus", "wikitext-2", "--out", str(tmp_path / "model"),
                                       "--steps", "3", "--vocab-size", "60", "--seq-length", "24", "--batch-size", "4",
                                       "--warmup", "1"])
    assert result.exit_code == 0, result.output
    assert asked == [("Salesforce/wikitext", "wikitext-2-raw-v1")]
    assert "corpus: wikitext-2, 12 documents" in result.stdout
    assert json.loads((tmp_path / "model" / "config.json").read_text())["settings"]["corpus"] == "wikitext-2"


def test_a_file_named_like_a_corpus_is_read_as_the_file(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # no datasets: the file must not need it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wikitext-2").write_text("\n\n".join("\n".join(f"Sentence {d} {s} is here." for s in range(5))
                                                     for d in range(12)))
    result = CliRunner().invoke(main, ["pretrain", "--corpus", "wikitext-2", "--out", "model", "--steps", "2",
                                       "--vocab-size", "60", "--seq-length", "24", "--batch-size", "4", "--warmup", "1"])
    assert result.exit_code == 0, result.output


def test_without_the_data_extra_wikitext_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    result = CliRunner().invoke(main, ["pretrain", "--corpus", "wikitext-103", "--out", str(tmp_path / "model")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "--corpus wikitext-103 needs Hugging Face datasets, which is not installed" in result.stderr
    assert not (tmp_path / "model").exists()
