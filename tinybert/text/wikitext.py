"""WikiText's lines as tinybert pretrain's documents of sentences.

WikiText (Merity et al. 2016) comes as lines: an article's title (" = Title = "), its section headings
(" = = Section = = "), and paragraphs, with its tokenizer's escapes inside words and numbers (" @-@ ").
Sentences are cut where a '.', '!' or '?' is followed by a space and a capital, a heuristic: "U.S. Army"
and "Dr. Smith" are cut too, which for pretraining costs a few short sentences.
"""

import re

ARTICLE_TITLE = re.compile(r"^ = [^=].* = $")  # " = Valkyria Chronicles III = "; sections have "= =" or more
SENTENCE_END = re.compile(r"(?<=[.!?]) (?=[A-Z\"'(])")  # a space after . ! or ? before a capital: a heuristic
DETOKENIZE = [(" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", ".")]  # WikiText's escapes inside words and numbers


def wikitext_documents(lines):
    """WikiText lines -> documents (articles) of sentences. A line is a paragraph or a heading; a top
    heading starts an article, other headings and blank lines are dropped, and paragraphs are cut into
    sentences after '.', '!' or '?' before a capital."""
    documents = [[]]
    for line in lines:
        if ARTICLE_TITLE.match(line.rstrip("\n")):
            documents.append([])
            continue
        paragraph = line.strip()
        if not paragraph or paragraph.startswith("="):
            continue
        for escaped, plain in DETOKENIZE:
            paragraph = paragraph.replace(escaped, plain)
        documents[-1].extend(SENTENCE_END.split(paragraph))
    return [document for document in documents if document]
