"""Reading labelled TSV files: the MRPC, RTE, SST-2 and plain layouts, and a malformed row named by its line."""

import pytest

from tinybert.text.labelled_tsv import read_labelled_tsv

LAYOUTS = {
    "mrpc": ("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
             "1\t702876\t702977\tAmrozi accused his brother.\tReferring to him, Amrozi accused his brother.\n"
             "0\t2108705\t2108831\tYucaipa owned Dominick's.\tYucaipa bought Dominick's in 1995.\n",
             ["1", "0"], ["Amrozi accused his brother.", "Yucaipa owned Dominick's."],
             ["Referring to him, Amrozi accused his brother.", "Yucaipa bought Dominick's in 1995."]),
    "rte": ("index\tsentence1\tsentence2\tlabel\n"
            "0\tNo weapons were found.\tWeapons were found.\tnot_entailment\n"
            "1\tA cat sat.\tAn animal sat.\tentailment\n",
            ["not_entailment", "entailment"], ["No weapons were found.", "A cat sat."],
            ["Weapons were found.", "An animal sat."]),
    "sst-2": ("sentence\tlabel\nit is a charming film \t1\ndull and long \t0\n", ["1", "0"],
              ["it is a charming film ", "dull and long "], None),  # the header is no example: text first here
    "plain pairs": ("1\ta cat\ta kitten\n0\ta cat\ta car\n", ["1", "0"], ["a cat", "a cat"], ["a kitten", "a car"]),
    "plain single": ("pos\tgreat film\nneg\tdull\n", ["pos", "neg"], ["great film", "dull"], None),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_gives_its_labels_and_texts(tmp_path, layout):
    text, labels, texts, pairs = LAYOUTS[layout]
    path = tmp_path / "data.tsv"
    path.write_text(text)
    examples = read_labelled_tsv(path)
    assert (examples.labels, examples.texts, examples.text_pairs) == (labels, texts, pairs)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_byte_order_mark_at_the_start_is_no_part_of_the_first_field(tmp_path, layout):
    text, labels, texts, pairs = LAYOUTS[layout]
    path = tmp_path / "data.tsv"
    path.write_text(text, encoding="utf-8-sig")  # as Windows editors save UTF-8
    examples = read_labelled_tsv(path)
    assert (examples.labels, examples.texts, examples.text_pairs) == (labels, texts, pairs)


@pytest.mark.parametrize("text, message", [
    ("1\ta cat\ta kitten\n0\ta cat\n", "line 2: expected 3 tab-separated fields"),
    ("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tonly one sentence\n", "line 2: expected 5"),
    ("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\t \n", "line 3: expected 4"),
    ("", "is empty"),
    ("one field only\n", "data.tsv: its first line has 1 tab-separated field, which is no layout"),
])
def test_a_malformed_file_is_one_error_naming_the_line(tmp_path, text, message):
    path = tmp_path / "data.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_labelled_tsv(path)


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_bytes(b"1\t\xff\xfe caf\xe9\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_labelled_tsv(path)


UNLABELLED = {
    "mrpc test": ("index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1089874\t1089925\tA cat sat.\tThe cat sat.\n",
                  ["A cat sat."], ["The cat sat."]),
    "glue test pairs": ("index\tsentence1\tsentence2\n0\tA cat sat.\tAn animal sat.\n", ["A cat sat."], ["An animal sat."]),
    "glue test single": ("index\tsentence\n0\tgreat film\n1\tdull\n", ["great film", "dull"], None),
    "plain pairs": ("a cat\ta kitten\na cat\ta car\n", ["a cat", "a cat"], ["a kitten", "a car"]),
    "plain single": ("great film\ndull\n", ["great film", "dull"], None),
}


@pytest.mark.parametrize("layout", UNLABELLED)
def test_each_layout_without_labels_gives_its_texts(tmp_path, layout):
    text, texts, pairs = UNLABELLED[layout]
    path = tmp_path / "data.tsv"
    path.write_text(text)
    examples = read_labelled_tsv(path, labelled=False)
    assert (examples.labels, examples.texts, examples.text_pairs) == (None, texts, pairs)


def test_a_row_of_another_width_in_a_file_without_labels_is_named_by_its_line(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a cat\ta kitten\na cat\n")
    with pytest.raises(ValueError, match="line 2: expected 2 tab-separated fields \\(plain layout\\), found 1"):
        read_labelled_tsv(path, labelled=False)
