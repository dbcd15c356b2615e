"""Labelled sentences and sentence pairs from tab-separated files, in the layouts GLUE ships.

Four layouts, told apart by the first line:
  MRPC       a header "Quality  #1 ID  #2 ID  #1 String  #2 String": the label, two ids, then the pair
  RTE-like   a header "index  sentence1  sentence2  label" (also "index  sentence  label"): index first,
             label last, the text(s) between (RTE, QNLI, WNLI)
  SST-2      a header "sentence  label": the sentence, then its label
  plain      no header: "label  text" or "label  text  text_b" on every line
(CoLA, QQP, STS-B and MNLI ship wider rows: give their examples as plain lines, or use --task.)
and the same without labels, for examples to predict: GLUE's test files ("index  #1 ID  #2 ID  #1 String
 #2 String" for MRPC, "index  sentence1  sentence2" or "index  sentence" for the others), or plain
"text" or "text  text_b" lines.
Every row must have the same number of fields as the first; a row that does not is an error that names
its line, so nothing trains on a file that was cut or mangled.
"""

from dataclasses import dataclass
from pathlib import Path


@dataclass
class LabelledTexts:
    labels: list        # the label of each example, as written in the file; None in a file without labels
    texts: list         # sentence A of each example
    text_pairs: list    # sentence B of each example, or None for single sentences


def fields_in(count):
    return f"{count} tab-separated field" + ("" if count == 1 else "s")


def layout_of(first_line, labelled=True):
    """(layout name, number of fields, label column (None without labels), text columns, whether the first
    line is a header)."""
    fields = first_line.split("\t")
    if not labelled:
        return unlabelled_layout_of(fields)
    if fields[0] == "Quality" and len(fields) == 5:
        return "MRPC", 5, 0, (3, 4), True
    if fields[0] == "index" and fields[-1] == "label" and len(fields) in (3, 4):
        return "RTE", len(fields), len(fields) - 1, tuple(range(1, len(fields) - 1)), True
    if fields == ["sentence", "label"]:
        return "SST-2", 2, 1, (0,), True
    if len(fields) in (2, 3):
        return "plain", len(fields), 0, tuple(range(1, len(fields))), False
    raise ValueError(f"its first line has {fields_in(len(fields))}, which is no layout tinybert reads: "
                     "use label<TAB>text[<TAB>text_b], or GLUE's MRPC, RTE, QNLI, WNLI or SST-2 files as they come")


def unlabelled_layout_of(fields):
    if fields[0] == "index" and fields[1:3] == ["#1 ID", "#2 ID"] and len(fields) == 5:
        return "MRPC test", 5, None, (3, 4), True
    if fields[0] == "index" and len(fields) in (2, 3):
        return "GLUE test", len(fields), None, tuple(range(1, len(fields))), True
    if len(fields) in (1, 2):
        return "plain", len(fields), None, tuple(range(len(fields))), False
    raise ValueError(f"its first line has {fields_in(len(fields))}, which is no layout tinybert reads "
                     "without labels: use text[<TAB>text_b], or GLUE's test files as they come")


def read_labelled_tsv(path, labelled=True):
    """The LabelledTexts of a file in one of the layouts (those without labels when labelled=False)."""
    if not Path(path).is_file():
        raise ValueError(f"{path} does not exist, or is not a file: give the path of a tab-separated text file")
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()  # a byte-order mark is skipped
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text: give a tab-separated text file") from None
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ValueError(f"{path} is empty: give one example per line, "
                         + ("label<TAB>text[<TAB>text_b]" if labelled else "text[<TAB>text_b]"))
    try:
        layout, width, label_column, text_columns, has_header = layout_of(lines[0], labelled)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    examples = LabelledTexts([] if labelled else None, [], [] if len(text_columns) == 2 else None)
    for number, line in enumerate(lines[1:] if has_header else lines, start=2 if has_header else 1):
        fields = line.split("\t")
        if len(fields) != width or (labelled and not fields[label_column].strip()):
            raise ValueError(f"{path}, line {number}: expected {width} tab-separated fields"
                             f"{' with a label' if labelled else ''} ({layout} layout), found {len(fields)}")
        if labelled:
            examples.labels.append(fields[label_column].strip())
        examples.texts.append(fields[text_columns[0]])
        if examples.text_pairs is not None:
            examples.text_pairs.append(fields[text_columns[1]])
    if not examples.texts:
        raise ValueError(f"{path} has a header but no examples")
    return examples
