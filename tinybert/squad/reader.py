"""Reading SQuAD (Rajpurkar et al. 2016, v1.1; 2018, v2.0) into SquadExamples: from the official JSON
files, or from rows as Hugging Face `datasets` gives "squad" and "squad_v2".

A SQuAD file is one JSON object:

    {"version": "v2.0",
     "data": [{"title": "Normans",
               "paragraphs": [{"context": "The Normans were ... in France ...",
                               "qas": [{"id": "56ddde6b9a695914005b9628",
                                        "question": "In what country is Normandy located?",
                                        "answers": [{"text": "France", "answer_start": 159}],
                                        "is_impossible": false}]}]}]}

v2.0 adds "is_impossible": an unanswerable question has no answers (and may have "plausible_answers",
which nothing scores). Every check below names the file, the article, the paragraph and the question,
says what is wrong and what is expected, in one line.

What is read depends on the questions' use (USES), as in run_squad.py and the official scripts: training
questions need each answer at its answer_start (the windows are labelled with its place); dev questions
keep their answers as texts to score against, answer_start unread; test questions need no answers at all.
"""

import json
from dataclasses import dataclass
from pathlib import Path

VERSIONS = ("v1.1", "v2.0")
USES = ("train", "dev", "test")


@dataclass(frozen=True)
class SquadExample:
    """One question about one context, with its gold answers (several annotators may give several)."""
    id: str
    question: str
    context: str
    answers: tuple = ()          # the gold answer texts; () for an unanswerable question (or a test question)
    answer_starts: tuple = ()    # the character in `context` where each answer begins; () unless read for training
    is_impossible: bool = False  # SQuAD v2.0: the context does not answer the question
    title: str = ""


def version_of(examples):
    """"v2.0" when some example is unanswerable (SQuAD v2.0's kind, scored as v2.0), else "v1.1"."""
    return "v2.0" if any(example.is_impossible for example in examples) else "v1.1"


def check_use(use):
    if use not in USES:
        raise ValueError(f"unknown use {use!r} of SQuAD questions: use 'train', 'dev' or 'test'")


def make_example(where, id, question, context, answers, answer_starts, is_impossible, title="", use="train"):
    """A SquadExample for `use` (USES) once its answers are checked: an unanswerable question has none, an
    answerable one at least one, each a non-empty text, and for training each is found at its answer_start
    in the context. A test question keeps no answers. `where` begins every error message, saying where the
    question is."""
    if use == "test":
        return SquadExample(id, question, context, title=title)
    if is_impossible and answers:
        raise ValueError(f"{where}: the question is marked \"is_impossible\" but has {len(answers)} answers; "
                         "an unanswerable question has \"answers\": [] (keep guesses in \"plausible_answers\")")
    if not is_impossible and not answers:
        raise ValueError(f"{where}: the question has no answers; give at least one {{\"text\", \"answer_start\"}}, "
                         "or mark it \"is_impossible\": true (SQuAD v2.0)")
    for text in answers:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: an answer's text is {text!r}; expected the answer as a non-empty string")
    if use == "dev":  # only scored: the official scripts compare texts, never places
        return SquadExample(id, question, context, tuple(answers), (), is_impossible, title)
    for text, start in zip(answers, answer_starts):
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"{where}: answer {text!r} has answer_start {start!r}; expected the character offset "
                             "(0 or more) where the answer begins in the context")
        found = context[start:start + len(text)]
        if found != text:
            raise ValueError(f"{where}: answer {text!r} is not at answer_start {start} in the context, which reads "
                             f"{found!r} there; answer_start must count characters from the context's first (0)")
    return SquadExample(id, question, context, tuple(answers), tuple(answer_starts), is_impossible, title)


def required(mapping, key, kind, where, expected):
    """mapping[key], checked to be a `kind`; otherwise a ValueError saying what `expected` looks like."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{where} is {type(mapping).__name__}, not an object; expected {expected}")
    if key not in mapping:
        raise ValueError(f"{where} has no \"{key}\"; expected {expected}")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):  # JSON's true is no number
        raise ValueError(f"{where} has \"{key}\" of type {type(mapping[key]).__name__}; expected {expected}")
    return value


def parse_json(path):
    """The JSON object in the file at `path` (a byte-order mark is skipped); a file that is missing, not UTF-8 or
    not JSON is one clear ValueError."""
    if not Path(path).is_file():
        raise ValueError(f"{path} does not exist, or is not a file: give the path of a SQuAD JSON file")
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text (byte {error.start} cannot be decoded); SQuAD files are "
                         "UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                         "a SQuAD file is one JSON object {\"version\": ..., \"data\": [...]}") from None


def declares_v1(top):
    """Whether the file's "version" says 1.x ("1.1", "v1.1"): such a file may hold no unanswerable question."""
    return str(top.get("version", "")).lstrip("v").startswith("1")


def read_squad(path, use="train"):
    """The SquadExamples of a SQuAD v1.1 or v2.0 JSON file, in the file's order, read for `use` (USES)."""
    check_use(use)
    top = parse_json(path)
    if not isinstance(top, dict) or not isinstance(top.get("data"), list):
        raise ValueError(f"{path} has no \"data\" list; a SQuAD file is {{\"version\": ..., \"data\": [articles]}}")
    article_shape = '{"title", "paragraphs": [...]}'
    paragraph_shape = '{"context": "...", "qas": [...]}'
    question_shape = '{"id", "question", "answers": [{"text", "answer_start"}], "is_impossible" (v2.0)}'
    examples, seen = [], set()
    for article_number, article in enumerate(top["data"], 1):
        in_article = f"{path}, article {article_number}"
        paragraphs = required(article, "paragraphs", list, in_article, article_shape)
        title = article.get("title", "")
        for paragraph_number, paragraph in enumerate(paragraphs, 1):
            in_paragraph = f"{in_article} ({title!r}), paragraph {paragraph_number}"
            context = required(paragraph, "context", str, in_paragraph, paragraph_shape)
            for question_number, qa in enumerate(required(paragraph, "qas", list, in_paragraph, paragraph_shape), 1):
                at = f"{in_paragraph}, question {question_number}"
                id = required(qa, "id", str, at, question_shape)
                at = f"{in_paragraph}, question {id!r}"
                if id in seen:
                    raise ValueError(f"{at}: the id is used twice in the file; each question needs its own id")
                seen.add(id)
                question = required(qa, "question", str, at, question_shape)
                if use == "dev" and "answers" not in qa:
                    raise ValueError(f"{at} has no \"answers\" to score against; to answer questions that have "
                                     "none, read them as test questions (tinybert predict --unlabelled)")
                answers = [] if use == "test" else required(qa, "answers", list, at, question_shape)
                is_impossible = qa.get("is_impossible", False)
                if not isinstance(is_impossible, bool):
                    raise ValueError(f"{at}: \"is_impossible\" is {is_impossible!r}; expected true or false")
                if is_impossible and declares_v1(top):
                    raise ValueError(f"{at}: the question is unanswerable, but the file says version "
                                     f"{top['version']!r}; SQuAD v1.1 has none: is it a v2.0 file?")
                answer_shape = '{"text": "...", "answer_start": 0}'
                texts = [required(answer, "text", str, f"{at}, answer {number}", answer_shape)
                         for number, answer in enumerate(answers, 1)]
                starts = [required(answer, "answer_start", int, f"{at}, answer {number}", answer_shape)
                          for number, answer in enumerate(answers, 1)] if use == "train" else []
                examples.append(make_example(at, id, question, context, texts, starts, is_impossible, title, use))
    if not examples:
        raise ValueError(f"{path} holds no questions; expected articles with paragraphs with \"qas\"")
    return examples


def examples_from_rows(rows, version, *, use="train", skip_misplaced=False):
    """SquadExamples for `use` (USES) from rows as Hugging Face `datasets` gives "squad" (version "v1.1") or
    "squad_v2" ("v2.0"): {"id", "title", "context", "question", "answers": {"text": [...], "answer_start":
    [...]}}. In v2.0 a row with empty lists is an unanswerable question; v1.1 has none. skip_misplaced (for
    training): leave out an answer whose text is not at its answer_start, and a question left with none, as
    run_squad.py skips an answer it cannot find, where a file of one's own stops at it (len(rows) -
    len(examples) then says how many questions were left out)."""
    check_use(use)
    if version not in VERSIONS:
        raise ValueError(f"unknown SQuAD version {version!r}: use 'v1.1' (datasets' \"squad\") or 'v2.0' "
                         "(\"squad_v2\")")
    examples = []
    row_shape = '{"id", "title", "context", "question", "answers": {"text": [...], "answer_start": [...]}}'
    for row_number, row in enumerate(rows, 1):
        at = f"row {row_number}"
        id = required(row, "id", str, at, row_shape)
        at = f"row {row_number} (id {id!r})"
        answers = required(row, "answers", dict, at, row_shape)
        texts = list(required(answers, "text", list, f"{at}, answers", row_shape))
        starts = list(required(answers, "answer_start", list, f"{at}, answers", row_shape))
        if len(texts) != len(starts):
            raise ValueError(f"{at}: answers has {len(texts)} texts but {len(starts)} answer_starts; "
                             "expected one answer_start for each text")
        if not texts and version == "v1.1":
            raise ValueError(f"{at}: the question has no answers, which SQuAD v1.1 never has; "
                             "for squad_v2 rows pass version='v2.0'")
        context = required(row, "context", str, at, row_shape)
        answerable = bool(texts)
        if skip_misplaced and use == "train":
            placed = [(text, start) for text, start in zip(texts, starts) if context[start:start + len(text)] == text]
            texts, starts = [text for text, _ in placed], [start for _, start in placed]
            if answerable and not texts:
                continue
        examples.append(make_example(at, id, required(row, "question", str, at, row_shape), context, texts, starts,
                                     is_impossible=not answerable, title=row.get("title", ""), use=use))
    return examples
