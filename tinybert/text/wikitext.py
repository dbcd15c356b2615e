"""WikiText's lines as tinybert pretrain's documents of sentences.

WikiText (Merity et al. 2016) comes as lines: an article's title (" = Title = "), its section headings
(" = = Section = = "), and paragraphs, with its tokenizer's escapes inside words and numbers (" @-@ ").
Sentences are cut at a space right after a '.', '!' or '?' (not after a closing quote or ')') and
before a capital letter (A to Z), a quotation mark (" or ') or an opening parenthesis. It is a
heuristic: "U.S. Army" and "Dr. Smith" are cut too, which for pretraining costs a few short sentences,
and a sentence that starts with a lowercase letter, a digit or an accented capital stays joined to the
one before.
"""

import re

ARTICLE_TITLE = re.compile(r"^ = [^=].* = $")  # " = Valkyria Chronicles III = "; sections have "= =" or more
SENTENCE_END = re.compile(r"(?<=[.!?]) (?=[A-Z\"'(])")  # a space after . ! or ? before A-Z, ", ' or (
DETOKENIZE = [(" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", ".")]  # WikiText's escapes inside words and numbers


def wikitext_documents(lines):
    """WikiText lines -> documents (articles) of sentences. A line is a paragraph or a heading; a top
    heading starts an article, other headings and blank lines are dropped, and paragraphs are cut into
    sentences at each space after '.', '!' or '?' that comes before a capital (A to Z), '"', "'" or '('."""
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
