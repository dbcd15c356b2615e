"""Reading SQuAD: v1.1 and v2.0 files into examples, one clear line for every kind of malformed file,
and Hugging Face `datasets` rows of "squad" and "squad_v2" into the same examples."""

import copy
import json

import pytest

from extras import needs_datasets
from tinybert.squad.reader import SquadExample, examples_from_rows, read_squad, version_of

CONTEXT = "Ada Lovelace was born in London in 1815. She wrote the first program."
V2 = {"version": "v2.0", "data": [{"title": "Ada", "paragraphs": [{"context": CONTEXT, "qas": [
    {"id": "q1", "question": "Where was Ada born?", "is_impossible": False,
     "answers": [{"text": "London", "answer_start": 25}, {"text": "in London", "answer_start": 22}]},
    {"id": "q2", "question": "Where was Babbage born?", "is_impossible": True, "answers": [],
     "plausible_answers": [{"text": "London", "answer_start": 25}]}]}]}]}


def written(tmp_path, value, name="squad.json"):
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


def changed(edit):
    """A copy of V2 after edit(copy) has spoilt it."""
    value = copy.deepcopy(V2)
    edit(value)
    return value


def test_a_v2_file_gives_answerable_and_unanswerable_examples(tmp_path):
    examples = read_squad(written(tmp_path, V2))
    assert examples == [
        SquadExample("q1", "Where was Ada born?", CONTEXT, ("London", "in London"), (25, 22), False, "Ada"),
        SquadExample("q2", "Where was Babbage born?", CONTEXT, (), (), True, "Ada")]
    assert version_of(examples) == "v2.0"


def test_a_file_saved_with_a_byte_order_mark_reads_as_the_same_file_without(tmp_path):
    with_mark = tmp_path / "with-mark.json"
    with_mark.write_text(json.dumps(V2), encoding="utf-8-sig")  # as Windows editors save UTF-8
    assert with_mark.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_squad(with_mark) == read_squad(written(tmp_path, V2))


def test_a_v1_file_without_is_impossible_gives_answerable_examples(tmp_path):
    v1 = changed(lambda value: value.update(version="1.1"))
    questions = v1["data"][0]["paragraphs"][0]["qas"]
    del questions[1]
    del questions[0]["is_impossible"]
    examples = read_squad(written(tmp_path, v1))
    assert [example.answers for example in examples] == [("London", "in London")]
    assert version_of(examples) == "v1.1"


def test_dev_questions_keep_their_answers_as_texts_and_test_questions_need_none(tmp_path):
    misplaced = written(tmp_path, changed(put(*QUESTION_1, "answers", 0, "answer_start", to=0)), "misplaced.json")
    with pytest.raises(ValueError, match="answer 'London' is not at answer_start 0"):
        read_squad(misplaced)  # training labels each window with the answer's place, so it must be right
    q1, q2 = read_squad(misplaced, "dev")  # scored as texts only, as the official scripts do
    assert (q1.answers, q1.answer_starts, q2.is_impossible) == (("London", "in London"), (), True)
    no_answers = changed(drop(*QUESTION_1, "answers"))
    with pytest.raises(ValueError, match="question 'q1' has no \"answers\" to score against; to answer questions "
                                         "that have none, read them as test questions"):
        read_squad(written(tmp_path, no_answers), "dev")
    q1, q2 = read_squad(written(tmp_path, no_answers), "test")
    assert (q1.id, q1.question, q1.answers, q2.answers, q2.is_impossible) == ("q1", "Where was Ada born?", (), (), False)
    with pytest.raises(ValueError, match="unknown use 'eval' of SQuAD questions: use 'train', 'dev' or 'test'"):
        read_squad(written(tmp_path, V2), "eval")


def drop(*keys):
    """An edit that deletes value[keys[0]][keys[1]]...[keys[-1]]."""
    def edit(value):
        for key in keys[:-1]:
            value = value[key]
        del value[keys[-1]]
    return edit


def put(*keys, to):
    """An edit that sets value[keys[0]]...[keys[-1]] = to."""
    def edit(value):
        for key in keys[:-1]:
            value = value[key]
        value[keys[-1]] = to
    return edit


QUESTION_1 = ("data", 0, "paragraphs", 0, "qas", 0)
MALFORMED = {  # the spoilt file -> what the one line must say
    "no data": (lambda value: value.pop("data"), 'has no "data" list'),
    "no paragraphs": (drop("data", 0, "paragraphs"), 'article 1 has no "paragraphs"; expected {"title", "paragraphs"'),
    "no context": (drop("data", 0, "paragraphs", 0, "context"), "article 1 ('Ada'), paragraph 1 has no \"context\""),
    "context not text": (put("data", 0, "paragraphs", 0, "context", to=7),
                         "paragraph 1 has \"context\" of type int; expected"),
    "no id": (drop(*QUESTION_1, "id"), 'paragraph 1, question 1 has no "id"'),
    "no question": (drop(*QUESTION_1, "question"), "question 'q1' has no \"question\""),
    "no answers": (drop(*QUESTION_1, "answers"), "question 'q1' has no \"answers\""),
    "answer without start": (drop(*QUESTION_1, "answers", 1, "answer_start"),
                             "question 'q1', answer 2 has no \"answer_start\"; expected {\"text\""),
    "start not a number": (put(*QUESTION_1, "answers", 0, "answer_start", to="25"),
                           "answer 1 has \"answer_start\" of type str"),
    "answer not at its start": (put(*QUESTION_1, "answers", 0, "answer_start", to=24),
                                "question 'q1': answer 'London' is not at answer_start 24 in the context, which "
                                "reads ' Londo' there"),
    "answerable without answers": (put(*QUESTION_1, "answers", to=[]),
                                   "question 'q1': the question has no answers; give at least one"),
    "impossible with answers": (put("data", 0, "paragraphs", 0, "qas", 1, "answers",
                                    to=[{"text": "London", "answer_start": 25}]),
                                "question 'q2': the question is marked \"is_impossible\" but has 1 answers"),
    "is_impossible not a truth value": (put(*QUESTION_1, "is_impossible", to="no"),
                                        "\"is_impossible\" is 'no'; expected true or false"),
    "a v1.1 file with an impossible question": (put("version", to="1.1"),
                                                "question 'q2': the question is unanswerable, but the file says "
                                                "version '1.1'"),
    "an id used twice": (put("data", 0, "paragraphs", 0, "qas", 1, "id", to="q1"), "the id is used twice"),
    "no questions at all": (put("data", to=[]), "holds no questions"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_file_is_one_line_naming_the_file_the_place_and_the_fix(tmp_path, case):
    edit, message = MALFORMED[case]
    path = written(tmp_path, changed(edit))
    with pytest.raises(ValueError) as raised:
        read_squad(path)
    text = str(raised.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_a_file_that_is_missing_not_json_or_not_utf8_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"train-v1.1.json does not exist, or is not a file: give the path of a SQuAD"):
        read_squad(tmp_path / "train-v1.1.json")
    broken = written(tmp_path, '{"version": "v2.0", "data": [', "broken.json")
    with pytest.raises(ValueError, match=r"broken.json is not JSON \(Expecting value at line 1, column 30\)"):
        read_squad(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes(json.dumps(V2).replace("Ada", "Adà").encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.json is not UTF-8 text \(byte \d+ cannot be decoded\)"):
        read_squad(latin)


def hugging_face_rows():
    return {"id": ["q1", "q2"], "title": ["Ada", "Ada"], "context": [CONTEXT, CONTEXT],
            "question": ["Where was Ada born?", "Where was Babbage born?"],
            "answers": [{"text": ["London", "in London"], "answer_start": [25, 22]}, {"text": [], "answer_start": []}]}


def test_hugging_face_squad_v2_rows_give_the_examples_of_the_same_file(tmp_path):
    datasets = needs_datasets()
    rows = datasets.Dataset.from_dict(hugging_face_rows())
    assert examples_from_rows(rows, "v2.0") == read_squad(written(tmp_path, V2))


def test_rows_in_the_wrong_version_or_with_a_misplaced_answer_are_clear_errors():
    rows = hugging_face_rows()
    as_list = [dict(zip(rows, values)) for values in zip(*rows.values())]
    with pytest.raises(ValueError, match=r"row 2 \(id 'q2'\): the question has no answers, which SQuAD v1.1 never "
                                         r"has; for squad_v2 rows pass version='v2.0'"):
        examples_from_rows(as_list, "v1.1")
    as_list[0]["answers"] = {"text": ["London"], "answer_start": [0]}
    with pytest.raises(ValueError, match=r"row 1 \(id 'q1'\): answer 'London' is not at answer_start 0"):
        examples_from_rows(as_list, "v2.0")
    with pytest.raises(ValueError, match="unknown SQuAD version 'v3'"):
        examples_from_rows(as_list, "v3")


def test_rows_with_a_misplaced_answer_stop_the_reader_unless_asked_to_skip_them_as_run_squad_does():
    rows = [{"id": "good", "context": "Hugo was born in Oslo.", "question": "Where?",
             "answers": {"text": ["Oslo", "Oslo"], "answer_start": [17, 3]}},  # the second answer is misplaced
            {"id": "lost", "context": "Ada was born in Rome.", "question": "Where?",
             "answers": {"text": ["Rome"], "answer_start": [0]}}]  # its only answer is misplaced
    with pytest.raises(ValueError, match="answer 'Oslo' is not at answer_start 3"):
        examples_from_rows(rows, "v1.1")
    kept = examples_from_rows(rows, "v1.1", skip_misplaced=True)
    assert [(example.id, example.answers, example.answer_starts) for example in kept] == [("good", ("Oslo",), (17,))]
    dev = examples_from_rows(rows, "v1.1", use="dev")  # dev answers are only compared as texts
    assert [(example.id, example.answers) for example in dev] == [("good", ("Oslo", "Oslo")), ("lost", ("Rome",))]
