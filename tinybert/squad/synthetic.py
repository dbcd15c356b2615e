"""A small generated SQuAD data set, for tests and for trying the pipeline end to end without a download.

Each paragraph states where and when a few people were born:

    "Hugo was born in Buenos Aires in 1871. Mira was born in Oslo in 1902. ..."

and asks, of each person, "Where was Hugo born?" (answer "Buenos Aires") and "When was Hugo born?"
("1871"). Version v2.0 adds, to each paragraph, a question about someone the paragraph never mentions:
unanswerable, with the place of someone else as its plausible answer, as SQuAD v2.0's adversarial
questions. To answer, a model must find the asked name in the context and read what follows it.
"""

import json
from pathlib import Path

import numpy as np

from .reader import VERSIONS

NAMES = ("Ada", "Boris", "Chen", "Dara", "Emil", "Farah", "Greta", "Hugo", "Ines", "Jonas", "Kofi", "Lena",
         "Mira", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wim", "Yara")
CITIES = ("Oslo", "Lima", "Cairo", "Paris", "Tokyo", "Dublin", "Quito", "Madrid", "Vienna", "Nairobi",
          "Buenos Aires", "New York", "Hong Kong", "Cape Town", "Rio de Janeiro", "Kuala Lumpur")


def birth_paragraph(rng, number, people, unanswerable):
    """One paragraph {"context", "qas"} about `people` people, with an unanswerable question if asked."""
    names = rng.choice(NAMES, size=people + 1, replace=False)  # the last is never mentioned
    context, qas = "", []
    for name in names[:people]:
        city, year = rng.choice(CITIES), str(rng.integers(1800, 2000))
        sentence = f"{name} was born in {city} in {year}."
        where, when = len(context) + sentence.index(city), len(context) + sentence.rindex(year)
        context += sentence + " "
        qas.append({"id": f"{number}-{name}-where", "question": f"Where was {name} born?",
                    "answers": [{"text": city, "answer_start": int(where)}]})
        qas.append({"id": f"{number}-{name}-when", "question": f"When was {name} born?",
                    "answers": [{"text": year, "answer_start": int(when)}]})
    if unanswerable:
        for qa in qas:
            qa["is_impossible"] = False
        plausible = qas[0]["answers"]
        qas.append({"id": f"{number}-{names[-1]}-where", "question": f"Where was {names[-1]} born?", "answers": [],
                    "plausible_answers": plausible, "is_impossible": True})
    order = rng.permutation(len(qas))
    return {"context": context.strip(), "qas": [qas[position] for position in order]}


def synthetic_squad(seed=0, paragraphs=100, people=3, version="v1.1"):
    """The JSON object of a SQuAD file of `paragraphs` paragraphs of `people` births each, drawn from `seed`."""
    if version not in VERSIONS:
        raise ValueError(f"unknown SQuAD version {version!r}: use one of {', '.join(VERSIONS)}")
    if not 1 <= people < len(NAMES):
        raise ValueError(f"people={people} must lie in 1..{len(NAMES) - 1}: each paragraph names different people")
    rng = np.random.default_rng(seed)
    return {"version": version,
            "data": [{"title": f"Births {seed}-{number}",
                      "paragraphs": [birth_paragraph(rng, number, people, unanswerable=version == "v2.0")]}
                     for number in range(paragraphs)]}


def write_synthetic_squad(path, seed=0, paragraphs=100, people=3, version="v1.1"):
    """Write synthetic_squad(...) as a SQuAD JSON file at `path`; returns the path."""
    Path(path).write_text(json.dumps(synthetic_squad(seed, paragraphs, people, version), indent=1) + "\n",
                          encoding="utf-8")
    return path
